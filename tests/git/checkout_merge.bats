#!/usr/bin/env bats
# `git checkout -m BRANCH` with a local change to a sealed file: git
# (2.39, merge-recursive) merges the change into BRANCH's version, writes
# the result and at once cleans what it wrote, wanting the merged blob
# back byte for byte. `git checkout -m FILE` and its kin recreate a
# merge's conflict, which git 2.39 survives only when the file is not
# delayed.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_from checkout_base; }
checkout_base() {
	printf 'db_password: hunter2\nport: 5432\nuser: app\n' > secrets/app.yaml
	git add -A
	git commit -qm base
	git checkout -qb other
	printf 'db_password: hunter2\nport: 6543\nuser: app\n' > secrets/app.yaml
	git commit -qam "other port"
	git checkout -q main
}
teardown() { gs_teardown; }

# every object, loose or packed, and every file under .git, searched (the
# objects read with one git cat-file, not one each)
assert_no_plaintext_in_git() {
	local needle=$1
	run ! grep -rqaF "$needle" .git
	run ! grep -qaF "$needle" <(git cat-file --batch-all-objects --batch)
}

@test "git checkout -m carries a local change to a sealed file over to the branch" {
	printf 'db_password: s3cret-local\nport: 5432\nuser: app\n' > secrets/app.yaml
	run -0 git checkout -m other
	[ "$(git rev-parse --abbrev-ref HEAD)" = other ]
	# the local edit and the branch's change, both
	[ "$(cat secrets/app.yaml)" = "$(printf 'db_password: s3cret-local\nport: 6543\nuser: app')" ]
	# the edit stays a local change of the new branch
	[ "$(git status --porcelain)" = " M secrets/app.yaml" ]
	git add secrets/app.yaml
	assert_blob_encrypted secrets/app.yaml :0
	assert_no_plaintext_in_git s3cret-local
}

@test "git checkout -m with a conflicting local change leaves the conflict sealed in .git" {
	printf 'db_password: hunter2\nport: 7777\nuser: app\n' > secrets/app.yaml
	run -0 git checkout -m other
	grep -qxF "gitseal: error: conflict in 'secrets/app.yaml': changed on both sides: port" <<<"$output"
	[ "$(git rev-parse --abbrev-ref HEAD)" = other ]
	[ "$(git status --porcelain)" = "UU secrets/app.yaml" ]
	# both values are in the work tree, between markers
	grep -qxF 'port: 7777' secrets/app.yaml
	grep -qxF 'port: 6543' secrets/app.yaml
	grep -q '^<<<<<<< ' secrets/app.yaml
	assert_no_plaintext_in_git "port: 7777"
}

# A merge of `other` into main that conflicts on the sealed file.
conflicted_merge() {
	printf 'db_password: hunter2\nport: 7777\nuser: app\n' > secrets/app.yaml
	git commit -qam "main port"
	run -1 git merge other
	[ "$(git status --porcelain)" = "UU secrets/app.yaml" ]
	rm secrets/app.yaml
}

# `git <args> secrets/app.yaml` recreates the conflict as git does without
# a filter: exit 0, markers in the work tree, the index still conflicted.
# git 2.39 crashes on these when the filter delays the file (docs/git.md).
assert_conflict_recreated() {
	conflicted_merge
	GIT_TRACE_PACKET="$T/trace" run -0 git "$@" secrets/app.yaml
	[ ! -e .git/index.lock ]
	[ "$(git status --porcelain)" = "UU secrets/app.yaml" ]
	grep -q '^<<<<<<< ' secrets/app.yaml
	grep -qxF 'port: 7777' secrets/app.yaml
	grep -qxF 'port: 6543' secrets/app.yaml
	# the filter did not take the delay capability in this session
	grep -q 'git> capability=delay' "$T/trace"
	run ! grep -q 'git< capability=delay' "$T/trace"
	assert_no_plaintext_in_git "port: 7777"
}

@test "git checkout -m FILE recreates a sealed file's conflict" {
	assert_conflict_recreated checkout -m
}

@test "git checkout --conflict=diff3 -- FILE recreates a sealed file's conflict" {
	assert_conflict_recreated checkout --conflict=diff3 --
}

@test "git restore --merge FILE recreates a sealed file's conflict" {
	assert_conflict_recreated restore --merge
}

@test "git -c ... checkout -q --conflict merge FILE recreates a sealed file's conflict" {
	assert_conflict_recreated -c core.quotepath=false checkout -q --conflict merge
}

# (without the key cache: with it, a checkout of a branch gets a file whose
# key it holds at once, src/git/filter.c)
@test "a plain checkout still lets the filter delay sealed files" {
	GITSEAL_KEY_CACHE=0 GIT_TRACE_PACKET="$T/trace" run -0 git checkout other
	grep -q 'git< capability=delay' "$T/trace"
	grep -q 'git< status=delayed' "$T/trace"
	grep -qxF 'port: 6543' secrets/app.yaml
}
