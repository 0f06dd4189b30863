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
load oom_helpers

setup() {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make asan)"
	# the commits a sweep starts from: the release build (fixture, as
	# gs_setup_from runs oom_init); the sanitized runs are the sweeps' own
	gs_setup_from oom_init
	oom_secrets oom-pw- 3
}
oom_init() {
	git add .sops.yaml .gitattributes
	git commit -qm init
}
teardown() { gs_teardown; }

@test "git add, the filter out of secure memory at each allocation: sealed or refused, never an object in clear" {
	sweep_oom GITSEAL_TEST_FAIL_SECURE_ALLOC oom_add_secrets 16
}

@test "checkout, the filter out of secure memory at each allocation: the plaintext exactly or an error" {
	fixture git add secrets
	fixture git commit -qm secrets
	sweep_oom GITSEAL_TEST_FAIL_SECURE_ALLOC oom_checkout_secrets
}

@test "the merge driver out of secure memory at each allocation: merged, or no value in clear" {
	oom_commit_merge_sides
	sweep_oom GITSEAL_TEST_FAIL_SECURE_ALLOC oom_merge_driver
}

@test "git add, the filter out of memory at each plain allocation: sealed or refused, never an object in clear" {
	sweep_oom GITSEAL_TEST_FAIL_ALLOC oom_add_secrets 16
}

@test "checkout, the filter out of memory at each plain allocation: the plaintext exactly or an error" {
	# a refusal while loading what this clone accepted (gittrust_load, on
	# the main thread first) once left it half loaded, and the delay
	# workers loaded it again, several at once: a SEGV, a double free
	fixture git add secrets
	fixture git commit -qm secrets
	sweep_oom GITSEAL_TEST_FAIL_ALLOC oom_checkout_secrets
}

@test "git archive, the filter out of memory at each plain allocation: the ciphertext as committed or an error" {
	# the parent's command line, not read whole for want of memory, once
	# left the subcommand unknown and the archive went out in plaintext;
	# now the smudges fail (and a checkout's too: test 5)
	fixture git add secrets
	fixture git commit -qm secrets
	sweep_oom GITSEAL_TEST_FAIL_ALLOC oom_archive_secrets
}

@test "the merge driver out of memory at each plain allocation: merged, or no value in clear" {
	oom_commit_merge_sides
	sweep_oom GITSEAL_TEST_FAIL_ALLOC oom_merge_driver
}
