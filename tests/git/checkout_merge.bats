#!/usr/bin/env bats
# `git checkout -m BRANCH` with a local change to a sealed file: git
# (2.39, merge-recursive) merges the change into BRANCH's version, writes
# the result and at once cleans what it wrote, wanting the merged blob
# back byte for byte.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	gs_setup
	printf 'db_password: hunter2\nport: 5432\nuser: app\n' > secrets/app.yaml
	git add -A && git commit -qm base
	git checkout -qb other
	printf 'db_password: hunter2\nport: 6543\nuser: app\n' > secrets/app.yaml
	git commit -qam "other port"
	git checkout -q main
}
teardown() { gs_teardown; }

# every object, loose or packed, and every file under .git, searched
assert_no_plaintext_in_git() {
	local needle=$1 obj
	run ! grep -rqaF "$needle" .git
	for obj in $(git cat-file --batch-all-objects --batch-check='%(objectname)'); do
		run ! grep -qaF "$needle" <(git cat-file -p "$obj")
	done
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
	assert_no_plaintext_in_git 7777
}
