#!/usr/bin/env bats
# Red-team findings on rule 1 (exit 0 means decrypt gives back exactly what
# you gave; nothing lost, no plaintext left behind), one test per defect.

load ../helpers

setup() {
	setup_tmp
	cd "$TMP"
	export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
}
teardown() { if [ -n "${TMP:-}" ]; then teardown_tmp; fi; }

@test "a file size limit (ulimit -f) fails the write cleanly: the original kept, no partial plaintext beside it" {
	head -c 600000 /dev/urandom | base64 -w0 | sed 's/^/token: /' >secret.yaml
	gitseal encrypt --age "$(demo_recipient)" -i secret.yaml
	cp secret.yaml sealed.yaml
	# SIGXFSZ used to kill the process mid-write, leaving a temporary file
	# with the first 100 KiB of the plaintext
	run bash -c "ulimit -f 100; exec \"\$GITSEAL_BIN\" decrypt -i secret.yaml"
	[ "$status" -eq 3 ]
	[ "$output" = "gitseal: error: cannot write 'secret.yaml': File too large" ]
	cmp secret.yaml sealed.yaml
	[ -z "$(ls -A | grep gitseal-tmp || true)" ]
}
