#!/usr/bin/env bats
# Review 29: a second reading of stops 49-50's changes (the filter's
# reading of git's command line, clean memos, partial clones).

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

needs_hooks() {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make asan)"
}

# V1: git's command line longer than the filter reads (PARENT_ARGS_MAX,
# lowered by the test build's hook): whether git archive runs is not
# known, so the smudge fails, naming the file; neither the plaintext nor
# the ciphertext goes out. GITSEAL_ARCHIVE_PLAINTEXT=1 asked for the
# plaintext either way.
@test "V1: git archive whose command line is past what the filter reads: the smudge fails, nothing in clear" {
	needs_hooks
	committed_secret
	run --separate-stderr sh -c 'GITSEAL_TEST_PARENT_ARGS_MAX=16 git archive --format=tar HEAD secrets | tar -xO secrets/a.yaml'
	[[ $output != *hunter2* ]]
	[[ $stderr == *"cannot decrypt 'secrets/a.yaml': git's command line could not be read whole: Argument list too long"* ]]
	run -0 sh -c 'GITSEAL_TEST_PARENT_ARGS_MAX=16 GITSEAL_ARCHIVE_PLAINTEXT=1 git archive --format=tar HEAD secrets | tar -xO secrets/a.yaml'
	[ "$output" = "db: hunter2" ]
}

# V2: the same for a read error of /proc/PID/cmdline (injected): a
# checkout fails rather than leave the work tree's file unknown.
@test "V2: a checkout whose command line cannot be read: the smudge fails with the read's error" {
	needs_hooks
	committed_secret
	rm secrets/a.yaml
	run --separate-stderr env GITSEAL_TEST_PARENT_ARGS_ERRNO=5 git checkout -- secrets/a.yaml
	[ "$status" -ne 0 ]
	[[ $stderr == *"cannot decrypt 'secrets/a.yaml': git's command line could not be read whole: Input/output error"* ]]
	[ ! -e secrets/a.yaml ]
	# read whole, the same checkout decrypts
	run -0 git checkout -- secrets/a.yaml
	[ "$(cat secrets/a.yaml)" = "db: hunter2" ]
}

# V3: /proc/PID/cmdline that cannot be opened for another reason than
# its absence (no file descriptor left, no memory): whether git archive
# runs was taken as not known at all, as without /proc, and the archive
# went out in plaintext. Now the line is unread and the smudge fails;
# without /proc (ENOENT) or not allowed to read it, the defaults hold.
@test "V3: git's command line that cannot be opened (no descriptor left): the smudge fails; without /proc a checkout decrypts" {
	needs_hooks
	committed_secret
	run --separate-stderr sh -c 'GITSEAL_TEST_PARENT_ARGS_OPEN_ERRNO=24 git archive --format=tar HEAD secrets | tar -xO secrets/a.yaml'
	[[ $output != *hunter2* ]]
	[[ $stderr == *"cannot decrypt 'secrets/a.yaml': git's command line could not be read whole: Too many open files"* ]]
	for errno in 2 13; do
		rm secrets/a.yaml
		GITSEAL_TEST_PARENT_ARGS_OPEN_ERRNO=$errno git checkout -- secrets/a.yaml
		[ "$(cat secrets/a.yaml)" = "db: hunter2" ]
	done
}

# V4: textconv learns of `git commit -v` (which keeps its output in
# .git/COMMIT_EDITMSG) from the same command line. Not read whole in the
# textconv's process alone (out of memory there, not in the filter's), it
# took git for another command and gave the plaintext. The parent here is
# a shell named git whose command line reads as git commit's (review26 R4).
@test "V4: textconv under git commit whose command line cannot be read whole: an error, no plaintext" {
	needs_hooks
	committed_secret
	for hook in GITSEAL_TEST_PARENT_ARGS_MAX=16 GITSEAL_TEST_PARENT_ARGS_ERRNO=5 GITSEAL_TEST_PARENT_ARGS_OPEN_ERRNO=24; do
		run --separate-stderr env "$hook" bash -c 'exec -a git sh -c "\"\$2\" git textconv \"\$3\"; exit \$?" -v commit "$0" "$1"' \
			"$GITSEAL_BIN" "$T/sealed"
		[ "$status" -eq 1 ]
		[[ $output != *hunter2* ]]
		[[ $stderr == "gitseal: error: cannot show '$T/sealed': git's command line could not be read whole: "* ]]
	done
	# read whole, the note
	run -0 bash -c 'exec -a git sh -c "\"\$2\" git textconv \"\$3\"; exit \$?" -v commit "$0" "$1"' \
		"$GITSEAL_BIN" "$T/sealed"
	[[ $output == *"gitseal: a sealed file's plaintext is not shown here"* ]]
}

# V5: init in a clone made with --no-checkout reads HEAD's .gitattributes
# (workflows27): without the limit the work tree's file has
# (ATTRIBUTES_MAX), a blob of any size was copied whole.
@test "V5: init after clone --no-checkout: HEAD's .gitattributes past the limit is refused, as the work tree's" {
	{ cat .gitattributes; head -c 1100000 /dev/zero | tr '\0' '#'; printf '\n'; } > "$T/big"
	cp "$T/big" .gitattributes
	fixture git add .gitattributes .sops.yaml
	fixture git commit -qm big
	git clone -q --no-checkout "$REPO" "$T/clone"
	cd "$T/clone"
	run -1 "$GITSEAL_BIN" git init
	[ "$output" = "gitseal: error: HEAD's '.gitattributes' is larger than 1048576 bytes" ]
	# the work tree's, as before
	cd "$REPO"
	run -1 "$GITSEAL_BIN" git init
	[ "$output" = "gitseal: error: '$REPO/.gitattributes' is larger than 1048576 bytes" ]
}

# V5b: HEAD's .gitattributes a symbolic link: its blob holds the target's
# path, which init read as the attributes; git follows no such link (the
# work tree's is refused: read_attributes). Refused alike.
@test "V5: init after clone --no-checkout: HEAD's .gitattributes that is a symbolic link is refused, as the work tree's" {
	cp .gitattributes attrs
	ln -sf attrs .gitattributes
	fixture git add .gitattributes attrs .sops.yaml
	fixture git commit -qm link
	[ "$(git ls-tree HEAD .gitattributes | cut -c1-6)" = 120000 ]
	git clone -q --no-checkout "$REPO" "$T/clone"
	cd "$T/clone"
	run -1 "$GITSEAL_BIN" git init
	[ "$output" = "gitseal: error: HEAD's '.gitattributes' is not a regular file (a symbolic link): git does not follow it, and gitseal writes nothing outside the repository" ]
	[ ! -e .git/info/attributes ]
}
