#!/usr/bin/env bats
# The filter out of secure memory at every step (the test build's
# GITSEAL_TEST_FAIL_SECURE_ALLOC, as tests/cli/oom.bats; the filter
# process inherits it from git): `git add` either stages every file
# sealed or fails, and no object in .git ever holds a value in clear; a
# checkout either writes the plaintext exactly or fails.

bats_require_minimum_version 1.5.0
load ../helpers
load helpers

setup() {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make asan)"
	gs_setup
	git add .sops.yaml .gitattributes
	git commit -qm init
	for i in 1 2 3; do printf 'user: u%s\npassword: oom-pw-%s-clear\n' "$i" "$i" >"secrets/s$i.yaml"; done
	mkdir -p "$T/want"
	cp secrets/*.yaml "$T/want/"
}
teardown() { gs_teardown; }

# no loose or packed object holds a value in clear
no_plaintext_object() {
	! git cat-file --batch-all-objects --batch | grep -q 'oom-pw-' || false
}

add_secrets() {
	git rm -q -r --cached --ignore-unmatch secrets
	OOM_RC=0
	env GITSEAL_TEST_FAIL_SECURE_ALLOC="$1" git add secrets 2>"$T/err" || OOM_RC=$?
	no_plaintext_object
	if [ "$OOM_RC" -eq 0 ]; then
		[ "$(git ls-files secrets | wc -l)" -eq 3 ]
		for i in 1 2 3; do
			git cat-file -p ":secrets/s$i.yaml" >"$T/blob.yaml"
			grep -q '^sops:' "$T/blob.yaml"
			"$GITSEAL_BIN" decrypt --input-type yaml --output-type yaml "$T/blob.yaml" | cmp - "$T/want/s$i.yaml"
		done
	else
		[ -z "$(git ls-files secrets)" ]
		grep -q '^gitseal: error: .*out of \(secure \)\?memory$' "$T/err"
	fi
}

checkout_secrets() {
	rm -f secrets/*.yaml
	OOM_RC=0
	env GITSEAL_TEST_FAIL_SECURE_ALLOC="$1" git checkout -- secrets 2>"$T/err" || OOM_RC=$?
	if [ "$OOM_RC" -eq 0 ]; then
		for i in 1 2 3; do cmp "secrets/s$i.yaml" "$T/want/s$i.yaml"; done
	else
		grep -q '^gitseal: error: .*out of \(secure \)\?memory$' "$T/err"
		! grep -q 'ENC\[' secrets/*.yaml 2>/dev/null || false
	fi
}

@test "git add, the filter out of secure memory at each allocation: sealed or refused, never an object in clear" {
	sweep_secure_oom add_secrets 16
}

@test "checkout, the filter out of secure memory at each allocation: the plaintext exactly or an error" {
	git add secrets
	git commit -qm secrets
	sweep_secure_oom checkout_secrets
}
