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
load oom_helpers

setup() {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make asan)"
	gs_setup
	# OpenSSL's own leaks once it ran out of memory (the file says why)
	export LSAN_OPTIONS="suppressions=$REPO_ROOT/tests/oom_libs.supp:print_suppressions=0"
	git add .sops.yaml .gitattributes
	git commit -qm init
	oom_secrets liboom-pw- 2
}
teardown() { gs_teardown; }

@test "git add, the libraries out of memory at each allocation: sealed or refused, never an object in clear" {
	sweep_oom GITSEAL_TEST_FAIL_LIB_ALLOC oom_add_secrets 16
}

@test "checkout, the libraries out of memory at each allocation: the plaintext exactly or an error" {
	git add secrets
	git commit -qm secrets
	sweep_oom GITSEAL_TEST_FAIL_LIB_ALLOC oom_checkout_secrets
}

@test "the merge driver, the libraries out of memory at each allocation: merged, or no value in clear" {
	oom_commit_merge_sides
	sweep_oom GITSEAL_TEST_FAIL_LIB_ALLOC oom_merge_driver
}
