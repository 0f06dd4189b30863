#!/usr/bin/env bats
# Review 26: a second reading of stops 47-48's changes to the filter.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

# R1: the filter knows `git archive` by its parent's command line, read one
# page at a time: git's options before the subcommand past the first page
# (a long `-c` value) hid it, and the archive held the plaintext, exit 0.
@test "R1: git archive behind a command line longer than a page still exports the ciphertext" {
	committed_secret
	long=$(printf '%05000d' 0)
	run -0 --separate-stderr sh -c "git -c review26.long=$long archive --format=tar HEAD secrets | tar -xO secrets/a.yaml"
	[ "$output" = "$(cat "$T/sealed")" ]
}

# R2: an alias (alias.ar=archive) is no blind spot: git runs the builtin an
# alias names as a git process of its own, whose command line the filter
# reads.
@test "R2: git archive through an alias exports the ciphertext" {
	committed_secret
	git config alias.ar archive
	run -0 --separate-stderr sh -c 'git ar --format=tar HEAD secrets | tar -xO secrets/a.yaml'
	[ "$output" = "$(cat "$T/sealed")" ]
}

# R3: git's options that take the next argument (git.c): --shallow-file and
# --attr-source (gits after 2.39) were missing, so their value was taken for the
# subcommand and `git --shallow-file F archive` exported the plaintext.
@test "R3: git archive after --shallow-file's value exports the ciphertext" {
	committed_secret
	run -0 --separate-stderr sh -c 'git --shallow-file "$1/none" archive --format=tar HEAD secrets | tar -xO secrets/a.yaml' sh "$T"
	[ "$output" = "$(cat "$T/sealed")" ]
}

# R4: the same for --attr-source, which this git does not know: the parent
# is a shell named git, its command line "git -c SCRIPT --attr-source HEAD
# commit ...", as git commit's would read; textconv then shows the note.
@test "R4: --attr-source's value is not taken for the subcommand (textconv under commit)" {
	printf 'token: t-s3cr3tA\n' > secrets/a.yaml
	git add secrets/a.yaml
	fixture git commit -qm a
	git cat-file blob HEAD:secrets/a.yaml > "$T/sealed"
	run -0 bash -c 'exec -a git sh -c "\"\$3\" git textconv \"\$4\"; exit \$?" --attr-source HEAD commit "$0" "$1"' \
		"$GITSEAL_BIN" "$T/sealed"
	[[ "$output" == *"gitseal: a sealed file's plaintext is not shown here"* ]]
	[[ "$output" != *s3cr3t* ]]
}
