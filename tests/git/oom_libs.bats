#!/usr/bin/env bats
# The filter and the merge driver with libyaml, OpenSSL and libgit2 out of
# memory at each of their allocations in turn (the test build's
# GITSEAL_TEST_FAIL_LIB_ALLOC, as tests/cli/oom_libs.bats; the filter
# process inherits it from git): `git add` either stages every file sealed
# or fails saying it ran out of memory, and no object in .git holds a
# value in clear; a checkout writes the plaintext exactly or fails, never
# ciphertext in the work tree; the merge driver merges or leaves no
# plaintext. tests/git/oom.bats does the same for gitseal's own
# allocations.

bats_require_minimum_version 1.5.0
load ../helpers
load helpers

setup() {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make asan)"
	gs_setup
	# OpenSSL's own leaks once it ran out of memory (the file says why)
	export LSAN_OPTIONS="suppressions=$REPO_ROOT/tests/oom_libs.supp:print_suppressions=0"
	git add .sops.yaml .gitattributes
	git commit -qm init
	for i in 1 2; do printf 'user: u%s\npassword: liboom-pw-%s-clear\n' "$i" "$i" >"secrets/s$i.yaml"; done
	mkdir -p "$T/want"
	cp secrets/*.yaml "$T/want/"
}
teardown() { gs_teardown; }

# the run said it ran out of memory, and nothing else went wrong
refused_for_memory() {
	! grep -q 'died of signal\|Sanitizer\|runtime error' "$T/err" || false
	grep -q '^gitseal: error: .*out of \(secure \)\?memory\(;.*\)\?$' "$T/err"
	! grep '^gitseal: ' "$T/err" | grep -vq 'out of \(secure \)\?memory\(;.*\)\?$' || false
}

stage_secrets() {
	git rm -q -r --cached --ignore-unmatch secrets
	OOM_RC=0
	env "$1" git add secrets 2>"$T/err" || OOM_RC=$?
	! git cat-file --batch-all-objects --batch | grep -q 'liboom-pw-' || false
	if [ "$OOM_RC" -eq 0 ]; then
		[ ! -s "$T/err" ]
		for i in 1 2; do
			git cat-file -p ":secrets/s$i.yaml" >"$T/blob.yaml"
			"$GITSEAL_BIN" decrypt --input-type yaml --output-type yaml "$T/blob.yaml" | cmp - "$T/want/s$i.yaml"
		done
	else
		[ -z "$(git ls-files secrets)" ]
		refused_for_memory
	fi
}

smudge_secrets() {
	rm -f secrets/*.yaml
	OOM_RC=0
	env "$1" git checkout -- secrets 2>"$T/err" || OOM_RC=$?
	if [ "$OOM_RC" -eq 0 ]; then
		[ ! -s "$T/err" ]
		for i in 1 2; do cmp "secrets/s$i.yaml" "$T/want/s$i.yaml"; done
	else
		refused_for_memory
		! grep -q 'ENC\[' secrets/*.yaml 2>/dev/null || false
	fi
}

# OURS is replaced by the merged file, sealed; a refusal leaves it as given
# or with both sides as given between markers: sealed text only
merge_sides() {
	cp "$T/ours" "$T/result.yaml"
	OOM_RC=0
	env "$1" "$GITSEAL_BIN" git merge "$T/base" "$T/result.yaml" "$T/theirs" secrets/s1.yaml 2>"$T/err" || OOM_RC=$?
	! grep -q 'liboom-pw-\|merged-' "$T/result.yaml" || false
	if [ "$OOM_RC" -eq 0 ]; then
		"$GITSEAL_BIN" decrypt --input-type yaml --output-type yaml "$T/result.yaml" | cmp - "$T/want/merged.yaml"
	else
		[ "$OOM_RC" -eq 1 ]
		[ "$(wc -l <"$T/err")" -eq 1 ]
		refused_for_memory
		cmp -s "$T/result.yaml" "$T/ours" ||
			[ "$(cat "$T/result.yaml")" = "$(printf '<<<<<<< ours\n%s\n=======\n%s\n>>>>>>> theirs' "$(cat "$T/ours")" "$(cat "$T/theirs")")" ]
	fi
}

@test "git add, the libraries out of memory at each allocation: sealed or refused, never an object in clear" {
	sweep_oom GITSEAL_TEST_FAIL_LIB_ALLOC stage_secrets 16
}

@test "checkout, the libraries out of memory at each allocation: the plaintext exactly or an error" {
	git add secrets
	git commit -qm secrets
	sweep_oom GITSEAL_TEST_FAIL_LIB_ALLOC smudge_secrets
}

@test "the merge driver, the libraries out of memory at each allocation: merged, or no value in clear" {
	git add secrets
	git commit -qm base
	git show HEAD:secrets/s1.yaml >"$T/base"
	printf 'user: merged-u1\npassword: liboom-pw-1-clear\n' >secrets/s1.yaml
	git commit -qam ours
	git show HEAD:secrets/s1.yaml >"$T/ours"
	printf 'user: u1\npassword: merged-pw\n' >secrets/s1.yaml
	git commit -qam theirs
	git show HEAD:secrets/s1.yaml >"$T/theirs"
	printf 'user: merged-u1\npassword: merged-pw\n' >"$T/want/merged.yaml"
	sweep_oom GITSEAL_TEST_FAIL_LIB_ALLOC merge_sides
}
