#!/usr/bin/env bats
# The filter and the merge driver out of memory at every step (the test
# build's GITSEAL_TEST_FAIL_SECURE_ALLOC and GITSEAL_TEST_FAIL_ALLOC, as
# tests/cli/oom.bats; the filter process inherits them from git): `git add`
# either stages every file sealed or fails, and no object in .git ever
# holds a value in clear; a checkout either writes the plaintext exactly
# or fails; the merge driver either merges or leaves no plaintext.

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
	env "$1" git add secrets 2>"$T/err" || OOM_RC=$?
	! grep -q 'died of signal\|Sanitizer' "$T/err" || false
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
	env "$1" git checkout -- secrets 2>"$T/err" || OOM_RC=$?
	# the filter never dies, not even once git has its files
	! grep -q 'died of signal\|Sanitizer' "$T/err" || false
	if [ "$OOM_RC" -eq 0 ]; then
		for i in 1 2 3; do cmp "secrets/s$i.yaml" "$T/want/s$i.yaml"; done
	else
		grep -q '^gitseal: error: .*out of \(secure \)\?memory$' "$T/err"
		! grep -q 'ENC\[' secrets/*.yaml 2>/dev/null || false
	fi
}

# The merge driver as git runs it: OURS is replaced by the merged file,
# sealed. A refusal is one line saying it ran out of memory (with what to
# do next); OURS is left as given or, memory allowing, shows both sides
# as given between markers: sealed text only, no value in clear.
merge_driver() {
	cp "$T/ours" "$T/result.yaml"
	OOM_RC=0
	env "$1" "$GITSEAL_BIN" git merge "$T/base" "$T/result.yaml" "$T/theirs" secrets/s1.yaml 2>"$T/err" || OOM_RC=$?
	! grep -q 'oom-pw-\|merged-' "$T/result.yaml" || false
	if [ "$OOM_RC" -eq 0 ]; then
		"$GITSEAL_BIN" decrypt --input-type yaml --output-type yaml "$T/result.yaml" | cmp - "$T/want/merged.yaml"
	else
		[ "$OOM_RC" -eq 1 ]
		[ "$(wc -l <"$T/err")" -eq 1 ]
		grep -q "^gitseal: error: .*out of \(secure \)\?memory\(;\|$\)" "$T/err"
		cmp -s "$T/result.yaml" "$T/ours" ||
			[ "$(cat "$T/result.yaml")" = "$(printf '<<<<<<< ours\n%s\n=======\n%s\n>>>>>>> theirs' "$(cat "$T/ours")" "$(cat "$T/theirs")")" ]
	fi
}

# base, ours and theirs of secrets/s1.yaml, sealed by the filter
commit_merge_sides() {
	git add secrets
	git commit -qm base
	git show HEAD:secrets/s1.yaml >"$T/base"
	printf 'user: merged-u1\npassword: oom-pw-1-clear\n' >secrets/s1.yaml
	git commit -qam ours
	git show HEAD:secrets/s1.yaml >"$T/ours"
	printf 'user: u1\npassword: merged-pw\n' >secrets/s1.yaml
	git commit -qam theirs
	git show HEAD:secrets/s1.yaml >"$T/theirs"
	printf 'user: merged-u1\npassword: merged-pw\n' >"$T/want/merged.yaml"
}

@test "git add, the filter out of secure memory at each allocation: sealed or refused, never an object in clear" {
	sweep_oom GITSEAL_TEST_FAIL_SECURE_ALLOC add_secrets 16
}

@test "checkout, the filter out of secure memory at each allocation: the plaintext exactly or an error" {
	git add secrets
	git commit -qm secrets
	sweep_oom GITSEAL_TEST_FAIL_SECURE_ALLOC checkout_secrets
}

@test "the merge driver out of secure memory at each allocation: merged, or no value in clear" {
	commit_merge_sides
	sweep_oom GITSEAL_TEST_FAIL_SECURE_ALLOC merge_driver
}

@test "git add, the filter out of memory at each plain allocation: sealed or refused, never an object in clear" {
	sweep_oom GITSEAL_TEST_FAIL_ALLOC add_secrets 16
}

@test "checkout, the filter out of memory at each plain allocation: the plaintext exactly or an error" {
	# a refusal while loading what this clone accepted (gittrust_load, on
	# the main thread first) once left it half loaded, and the delay
	# workers loaded it again, several at once: a SEGV, a double free
	git add secrets
	git commit -qm secrets
	sweep_oom GITSEAL_TEST_FAIL_ALLOC checkout_secrets
}

@test "the merge driver out of memory at each plain allocation: merged, or no value in clear" {
	commit_merge_sides
	sweep_oom GITSEAL_TEST_FAIL_ALLOC merge_driver
}
