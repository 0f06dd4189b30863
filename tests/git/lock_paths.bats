#!/usr/bin/env bats
# git lock and git unlock write files of the work tree (ciphertext back,
# plaintext out) by the index's paths. A directory on such a path that is
# a symbolic link (secrets/ made a link to a directory outside the
# repository, after the files were committed) would take those writes
# outside the repository: the plaintext to wherever the link points. Both
# refuse with one line and write nothing. src/git/setup.c
# (refuse_linked_dirs).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	gs_setup_from app_committed
	# the directory moved out, a link in its place
	mv secrets "$T/elsewhere/secrets"
	ln -s "$T/elsewhere/secrets" secrets
	cp "$T/elsewhere/secrets/app.yaml" "$T/app.before"
}
teardown() { gs_teardown; }

@test "git lock refuses a file behind a symbolic link to a directory outside the repository: one line, nothing written" {
	run --separate-stderr "$GITSEAL_BIN" git lock --force
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[ "$stderr" = "gitseal: error: 'secrets/app.yaml': a directory on its path is a symbolic link: not written through" ]
	cmp "$T/elsewhere/secrets/app.yaml" "$T/app.before"
	[ -L secrets ]
	# not locked: the state is as it was
	[ ! -e .git/gitseal/locked ]
}

@test "git unlock refuses a file behind a symbolic link to a directory outside the repository: no plaintext written there" {
	# the file outside holds the ciphertext (as a locked checkout leaves it)
	git show :secrets/app.yaml > "$T/elsewhere/secrets/app.yaml"
	cp "$T/elsewhere/secrets/app.yaml" "$T/app.before"
	grep -q 'ENC\[' "$T/app.before"
	# locked before (as `gitseal git lock` records it): a refused unlock
	# leaves it so
	printf 'locked\n' > .git/gitseal/locked
	run --separate-stderr "$GITSEAL_BIN" git unlock
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[ "$stderr" = "gitseal: error: 'secrets/app.yaml': a directory on its path is a symbolic link: not written through" ]
	cmp "$T/elsewhere/secrets/app.yaml" "$T/app.before"
	run grep -rl hunter2 "$T/elsewhere"
	[ "$status" -eq 1 ]
	[ "$(cat .git/gitseal/locked)" = locked ]
}
