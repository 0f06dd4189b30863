#!/usr/bin/env bats
# Out of memory inside the libraries: each allocation libyaml, OpenSSL
# and libgit2 make is failed in turn (the test build's
# GITSEAL_TEST_FAIL_LIB_ALLOC: the first of each of their call sites in
# make check, every one in make oom), as tests/cli/oom.bats does for
# gitseal's own. A run either succeeds with exactly the right result or
# exits by itself with one line saying it ran out of memory: never a
# parse error, a wrong key or a MAC mismatch in its place, no crash, no
# sanitizer report, no partial plaintext, the file written in place left
# as it was, no temporary file left.

load ../helpers

setup() {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make asan)"
	setup_tmp
	# OpenSSL's own leaks once it ran out of memory (the file says why)
	export LSAN_OPTIONS="suppressions=$REPO_ROOT/tests/oom_libs.supp:print_suppressions=0"
	cd "$TMP"
	export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
	printf 'db:\n  user: admin\n  password: hunter2-oom\nlist:\n  - one\n  - 2\n' >plain.yaml
	printf 'creation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
}
teardown() {
	if [ -n "${TMP:-}" ]; then teardown_tmp; fi
}

no_temp_left() {
	no_file_matching '*gitseal-tmp*'
}

encrypt_in_place() {
	cp plain.yaml s.yaml
	OOM_RC=0
	env "$1" "$GITSEAL_BIN" encrypt -i s.yaml 2>err || OOM_RC=$?
	if [ "$OOM_RC" -eq 0 ]; then
		grep -q '^sops:' s.yaml
		"$GITSEAL_BIN" decrypt s.yaml | cmp - plain.yaml
	else
		oom_refused err
		[[ $OOM_ERR != *hunter2* ]]
		cmp s.yaml plain.yaml
	fi
	no_temp_left
}

decrypt_to_stdout() {
	OOM_RC=0
	env "$1" "$GITSEAL_BIN" decrypt enc.yaml >out 2>err || OOM_RC=$?
	if [ "$OOM_RC" -eq 0 ]; then
		cmp out plain.yaml
	else
		oom_refused err
		[[ $OOM_ERR != *hunter2* ]]
		[ ! -s out ]
	fi
}

@test "encrypt in place, libyaml or OpenSSL out of memory at each allocation: the file stays as it was" {
	sweep_oom GITSEAL_TEST_FAIL_LIB_ALLOC encrypt_in_place
}

@test "decrypt, libyaml or OpenSSL out of memory at each allocation: all of the plaintext or none of it" {
	"$GITSEAL_BIN" encrypt plain.yaml >enc.yaml
	sweep_oom GITSEAL_TEST_FAIL_LIB_ALLOC decrypt_to_stdout
}
