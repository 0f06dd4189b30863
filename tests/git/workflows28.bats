#!/usr/bin/env bats
# Branches whose .sops.yaml differ, stash conflicts and worktrees through
# the filter (workflows round 28).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	gs_setup_from tina_branch
	read -r TINA <"$T/tina.recipient"
}

teardown() {
	gs_teardown
}

# lock and unlock write only their own worktree's files, while the state
# they record is the repository's: a worktree added while another was
# locked keeps its ciphertext after that one's unlock. Status took the
# repository unlocked for a sign that no key opened the file, and said
# "none of your identities opens it" of a file this clone's key opens.
@test "a worktree added while another was locked: after that one's unlock, status says unlock decrypts it, and unlock there does" {
	fixture gitseal git lock 2>/dev/null
	git worktree add -q -b side "$T/side"
	fixture gitseal git unlock 2>/dev/null
	[ "$(cat secrets/app.yaml)" = "db_password: hunter2" ]
	cd "$T/side"
	assert_blob_encrypted secrets/app.yaml
	[[ $(<secrets/app.yaml) == *'ENC[AES256_GCM'* ]]
	run -0 "$GITSEAL_BIN" git status
	grep -qxF "secrets/app.yaml: locked (ciphertext in the work tree: 'gitseal git unlock' decrypts it)" <<<"$output"
	run -0 "$GITSEAL_BIN" git unlock
	[ "$(cat secrets/app.yaml)" = "db_password: hunter2" ]
	assert_status_clean
	run -0 "$GITSEAL_BIN" git status
	grep -qxF "secrets/app.yaml: decrypted" <<<"$output"
}

# The record of what this clone accepted is the clone's, not a branch's:
# a branch whose files name a reader not accepted checks out clean, and an
# edit there is refused (kept in the work tree, nothing in .git) until it
# is accepted (git status shows it changed), and the way out that
# docs/git.md gives works. Accepted there, the other branch's new files
# are still sealed for its own .sops.yaml.
@test "a branch whose .sops.yaml and files name a reader this clone did not accept: checkout clean, edit refused and kept, accepted with updatekeys there only" {
	run -0 git switch tina
	assert_status_clean
	[ "$(cat secrets/app.yaml)" = "db_password: hunter2" ]
	[ "$(cat secrets/tina.yaml)" = "t: tina-value" ]
	# an edit of the file's size: git compares the content
	printf 'db_password: s3cr3tz\n' >secrets/app.yaml
	touch_newer secrets/app.yaml
	run -128 git add secrets/app.yaml
	grep -qxF "gitseal: error: cannot encrypt 'secrets/app.yaml': recipients changed: +$TINA; run 'gitseal updatekeys' to accept" <<<"$output"
	# git compares it as changed (workflows29.bats)
	run -0 --separate-stderr git status --porcelain
	[ "$output" = " M secrets/app.yaml" ]
	[ "$(cat secrets/app.yaml)" = "db_password: s3cr3tz" ]
	run ! grep -rqaF s3cr3tz .git
	run ! grep -qaF s3cr3tz <(git cat-file --batch-all-objects --batch)
	# docs/git.md's way out: the edit dropped, the status clean
	rm secrets/app.yaml
	git checkout -- secrets/app.yaml
	assert_status_clean
	# accepted on this branch: the edit is sealed for both, as committed
	printf 'db_password: s3cret-edit\n' >secrets/app.yaml
	"$GITSEAL_BIN" updatekeys -y -r . 2>/dev/null
	git commit -qam edit
	assert_blob_encrypted secrets/app.yaml
	[[ $(git show HEAD:secrets/app.yaml) == *"recipient: $TINA"* ]]
	# main's new file: main's .sops.yaml, without her
	run -0 git switch main
	assert_status_clean
	printf 'n: new-value\n' >secrets/new.yaml
	git add secrets/new.yaml
	assert_blob_encrypted secrets/new.yaml :0
	[[ $(git show :secrets/new.yaml) != *"$TINA"* ]]
}

# git stash apply keeps the stash; with a conflict in a sealed file the
# merge driver writes it in the work tree only, and `git stash branch`
# gives the edit back where it applies.
@test "git stash apply with a conflict in a sealed file: markers only in the work tree, the stash kept, git stash branch applies it" {
	printf 'db_password: stash-s3cretX\n' >secrets/app.yaml
	git stash -q
	printf 'db_password: head-s3cretY\n' >secrets/app.yaml
	git commit -qam head
	run -1 git stash apply
	[ "$(git status --porcelain)" = "UU secrets/app.yaml" ]
	grep -qxF 'db_password: stash-s3cretX' secrets/app.yaml
	grep -qxF 'db_password: head-s3cretY' secrets/app.yaml
	run ! grep -rqa s3cret .git
	run ! grep -qa s3cret <(git cat-file --batch-all-objects --batch)
	git reset -q --hard
	assert_status_clean
	[ "$(git stash list | wc -l)" -eq 1 ]
	run -0 git stash branch stashed
	[ "$(git status --porcelain)" = " M secrets/app.yaml" ]
	[ "$(cat secrets/app.yaml)" = "db_password: stash-s3cretX" ]
	[ -z "$(git stash list)" ]
	git commit -qam stashed
	assert_blob_encrypted secrets/app.yaml
	run ! grep -qa s3cret <(git cat-file --batch-all-objects --batch)
}
