#!/usr/bin/env bats
# Red-team findings on rule 1 (exit 0 means decrypt gives back exactly what
# you gave; nothing lost, no plaintext left behind), one test per defect.

load ../helpers

setup() {
	setup_demo
}
teardown() { if [ -n "${TMP:-}" ]; then teardown_tmp; fi; }

@test "a file size limit (ulimit -f) fails the write cleanly: the original kept, no partial plaintext beside it" {
	head -c 600000 /dev/urandom | base64 -w0 | sed 's/^/token: /' >secret.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" -i secret.yaml
	cp secret.yaml sealed.yaml
	# SIGXFSZ used to kill the process mid-write, leaving a temporary file
	# with the first 100 KiB of the plaintext
	run bash -c "ulimit -f 100; exec \"\$GITSEAL_BIN\" decrypt -i secret.yaml"
	[ "$status" -eq 3 ]
	[ "$output" = "gitseal: error: cannot write 'secret.yaml': File too large" ]
	cmp secret.yaml sealed.yaml
	[ -z "$(ls -A | grep gitseal-tmp || true)" ]
}

@test "a huge stores indent in .sops.yaml is refused, not written out (a repository's .sops.yaml is attacker input)" {
	printf 'stores:\n  yaml:\n    indent: 200000000\ncreation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	printf 'a:\n  b: 1\n' >p.yaml
	# it took a minute and 3.5 GB of memory
	run timeout 10 "$GITSEAL_BIN" encrypt p.yaml
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'p.yaml': $TMP/.sops.yaml: '.sops.yaml': 'indent' must be at most 64" ]
	printf 'stores:\n  json:\n    indent: 65\ncreation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	run timeout 10 "$GITSEAL_BIN" encrypt p.yaml
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'p.yaml': $TMP/.sops.yaml: '.sops.yaml': 'indent' must be at most 64" ]
	run timeout 10 "$GITSEAL_BIN" --indent 200000000 encrypt --age "$DEMO_RECIPIENT" p.yaml
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: --indent must be at most 64" ]
	printf 'stores:\n  yaml:\n    indent: 64\ncreation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	gitseal encrypt -i p.yaml
	[ "$(gitseal decrypt p.yaml)" = "$(printf 'a:\n  b: 1')" ]
}
