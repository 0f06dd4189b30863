#!/usr/bin/env bats
# Branches whose .sops.yaml differ, stash conflicts and worktrees through
# the filter (workflows round 28).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	gs_setup_from app_committed
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
