#!/usr/bin/env bats
# Red team 19: git's own commands around the filter and the merge driver
# (rule 2: nothing in clear reaches .git).

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_from app_committed; }
teardown() { gs_teardown; }

# C1: `git commit -v` (or commit.verbose=true, and so `git revert --edit`
# and a reword in `git rebase -i`) shows the diff of what it commits below
# the message and writes it, textconv's output included, to
# .git/COMMIT_EDITMSG, which stays there after the commit, and after one
# aborted for an empty message: every secret changed was in clear under .git.
@test "C1: git commit -v writes no plaintext into .git/COMMIT_EDITMSG; git diff still shows it" {
	printf 'db_password: hunter2\napi_token: tok-s3cr3t\n' > secrets/app.yaml
	printf 'new_password: new-s3cr3t\n' > secrets/new.yaml
	git add secrets
	# -v -v shows the work tree's change too
	printf 'db_password: hunter2\napi_token: tok-later-s3cr3t\n' > secrets/app.yaml
	run -1 git -c commit.verbose=true -c core.editor=true commit
	[[ $output == *'Aborting commit due to empty commit message'* ]]
	run ! grep -e s3cr3t -e hunter2 .git/COMMIT_EDITMSG
	GIT_EDITOR='sed -i 1imsg' git commit -q -v -v
	run ! grep -e s3cr3t -e hunter2 .git/COMMIT_EDITMSG
	# the new file's diff says why it shows nothing
	grep -qxF "+(gitseal: a sealed file's plaintext is not shown here: git keeps this text in .git/COMMIT_EDITMSG; 'git diff --cached' shows it)" .git/COMMIT_EDITMSG
	run git diff HEAD~ HEAD
	[[ $output == *'+api_token: tok-s3cr3t'* ]]
	[[ $output == *'+new_password: new-s3cr3t'* ]]
}
