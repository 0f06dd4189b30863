#!/usr/bin/env bats
# Out of secure memory at every step: each secure allocation of a command
# is made to fail in turn (the test build's GITSEAL_TEST_FAIL_SECURE_ALLOC).
# A run either succeeds with exactly the right result or exits by itself
# with one line of error: no crash, no sanitizer report, no partial
# plaintext on stdout, the file written in place left as it was, no
# temporary file left.

load ../helpers

setup() {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make asan)"
	setup_tmp
	cd "$TMP"
	export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
	printf 'db:\n  user: admin\n  password: hunter2-oom\nlist:\n  - one\n  - 2\n' >plain.yaml
}
teardown() { if [ -n "${TMP:-}" ]; then teardown_tmp; fi; }

no_temp_left() {
	[ -z "$(ls -A | grep gitseal-tmp || true)" ]
}

encrypt_in_place() {
	cp plain.yaml s.yaml
	OOM_RC=0
	env GITSEAL_TEST_FAIL_SECURE_ALLOC="$1" "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" -i s.yaml 2>err || OOM_RC=$?
	if [ "$OOM_RC" -eq 0 ]; then
		grep -q '^sops:' s.yaml
		"$GITSEAL_BIN" decrypt s.yaml | cmp - plain.yaml
	else
		oom_refusal_ok err
		! grep -q hunter2 err || false
		cmp s.yaml plain.yaml
	fi
	no_temp_left
}

decrypt_to_stdout() {
	OOM_RC=0
	env GITSEAL_TEST_FAIL_SECURE_ALLOC="$1" "$GITSEAL_BIN" decrypt enc.yaml >out 2>err || OOM_RC=$?
	if [ "$OOM_RC" -eq 0 ]; then
		cmp out plain.yaml
	else
		oom_refusal_ok err
		! grep -q hunter2 err || false
		[ ! -s out ]
	fi
}

age_decrypt() {
	OOM_RC=0
	env GITSEAL_TEST_FAIL_SECURE_ALLOC="$1" "$GITSEAL_BIN" age -d -i "$KEYS/demo-age-key.txt" blob.age >out 2>err || OOM_RC=$?
	if [ "$OOM_RC" -eq 0 ]; then
		cmp out blob
	else
		oom_refusal_ok err
		[ ! -s out ]
	fi
}

@test "encrypt in place, out of secure memory at each allocation: the file stays as it was" {
	sweep_secure_oom encrypt_in_place
}

@test "decrypt, out of secure memory at each allocation: all of the plaintext or none of it" {
	"$GITSEAL_BIN" encrypt --age "$(demo_recipient)" plain.yaml >enc.yaml
	sweep_secure_oom decrypt_to_stdout
}

@test "age -d, out of secure memory at each allocation: all of the payload or none of it" {
	head -c 200000 /dev/urandom >blob
	"$GITSEAL_BIN" age -r "$(demo_recipient)" -o blob.age blob
	sweep_secure_oom age_decrypt
}
