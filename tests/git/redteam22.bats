#!/usr/bin/env bats
# Red team 22 on the git side: names and keys a pull request controls in
# the messages and prompts of the filter's commands; the keys git lock
# holds kept out of core dumps.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

# pulled_file NAME LINES: NAME committed as another clone sealed it (for
# $RECIPIENT, its data key not made here, no filter), LINES (sed's
# escapes) put in its sops metadata, and checked out
pulled_file() {
	printf 'db: hunter2\n' > p.yaml
	fixture gitseal encrypt --config /dev/null --age "$RECIPIENT" p.yaml |
		sed "s/^    lastmodified:/$2\n&/" > "$T/sealed"
	rm p.yaml
	git update-index --add --cacheinfo "100644,$(git hash-object -w --no-filters "$T/sealed"),$1"
	fixture git commit -qm "a pulled file"
	fixture git checkout -q -- "$1"
}

# T1: gitseal git trust shows whom a pulled file is sealed for before it
# asks to re-use its data key, and wrote the file's name and its keys as
# the repository spells them: a kept kms entry (metadata, outside the
# MAC) whose arn is "\e[2A\e[J" erased the lines above the question on a
# terminal, the file's name holding "\e[2K" its own line.
@test "T1: git trust shows a pulled file's name and keys with their control bytes escaped" {
	name=$'secrets/a\e[2Kb.yaml'
	pulled_file "$name" '    kms:\n        - arn: "\\e[2A\\e[J"\n          enc: AAAA\n          created_at: "2026-01-01T00:00:00Z"'
	run -1 "$GITSEAL_BIN" git trust "$name" <<<n
	grep -qxF 'secrets/a\x1b[2Kb.yaml: sealed for' <<<"$output"
	grep -qxF '    kms \x1b[2A\x1b[J (kept only while the data key stays: gitseal cannot wrap for it)' <<<"$output"
	[[ "$output" != *$'\e'* ]]
}

# H1: the commands that hold keys turn core dumps off (RLIMIT_CORE 0,
# not dumpable), and a key command they run inherits it; `gitseal git
# lock` decrypts each committed version to compare it with the work tree
# (the identities, a passphrase-protected ssh key's decrypted key among
# them, and the plaintext in its memory) and did not: a crash left them
# in a core file.
@test "H1: git lock holds keys with core dumps off (its key command inherits RLIMIT_CORE 0)" {
	ulimit -c unlimited 2>/dev/null || ulimit -c 1024 || skip "cannot raise RLIMIT_CORE"
	printf 'db: hunter2\n' > secrets/a.yaml
	git add secrets/a.yaml
	git commit -qm a
	unset SOPS_AGE_KEY_FILE
	rm -rf .git/gitseal/key-cache "$HOME/.cache/gitseal"
	export SOPS_AGE_KEY_CMD="sh -c 'ulimit -c >>\"$T/core\"; cat \"$T/key.txt\"'"
	run -0 "$GITSEAL_BIN" git lock
	grep -q 'locked: 1 file' <<<"$output"
	[ "$(sort -u "$T/core")" = 0 ]
}

# C1: check names a file staged in part (git add -p: the committed MAC
# kept) and the command that stages it whole, and wrote the name in that
# command as the repository spells it: a pulled file named with
# "\e[1A\e[2K" erased the line above the refusal on a terminal.
@test "C1: check's hint to stage a partly staged file whole shows its name with its control bytes escaped" {
	name=$'secrets/a\e[1A\e[2Kb.yaml'
	printf 'a: x\nb: 1\n' > "$name"
	git add -A
	git commit -qm two
	stage_value_with_committed_mac "$name" b 'a: x\nb: 2\n'
	run -1 "$GITSEAL_BIN" git check
	grep -qxF "gitseal: error: 'secrets/a\\x1b[1A\\x1b[2Kb.yaml': only a part of a change is staged (git add -p?): its MAC cannot match; stage the whole file with 'git add secrets/a\\x1b[1A\\x1b[2Kb.yaml'" <<<"$output"
	[[ "$output" != *$'\e'* ]]
}

# F1: git add of a pulled file holding a key list gitseal cannot wrap
# for says the list is kept only with the file's data key, named by its
# type, which is the list's name in the metadata: written raw.
@test "F1: git add names a pulled file's unknown key list by its type with its control bytes escaped" {
	pulled_file secrets/a.yaml '    "x\\e[2Ky":\n        - enc: AAAA'
	printf 'db: hunter3\n' > secrets/a.yaml
	run -128 git add secrets/a.yaml
	grep -qF "its x\\x1b[2Ky key '#1' is kept only with the file's data key" <<<"$output"
	[[ "$output" != *$'\e'* ]]
}

# side_commit BRANCH NAME: BRANCH made from HEAD with NAME's blob the bytes
# of $T/sealed, by plumbing (no filter, no work tree: another clone's)
side_commit() {
	local idx="$T/side-index"
	GIT_INDEX_FILE="$idx" git read-tree HEAD
	GIT_INDEX_FILE="$idx" git update-index --add --cacheinfo "100644,$(git hash-object -w --no-filters "$T/sealed"),$2"
	git update-ref "refs/heads/$1" "$(git commit-tree "$(GIT_INDEX_FILE="$idx" git write-tree)" -p HEAD -m "$1")"
}

# M1: the merge driver refuses a side sealed for a recipient this clone
# has not accepted, leaves both sides sealed between markers and says how
# to merge again ('git checkout -m NAME'), the name written raw there
# after the escaped one at the start of the line.
@test "M1: the merge driver's refusal names the file in its hint with its control bytes escaped" {
	other=$(age-keygen 2>/dev/null | grep -o 'age1[a-z0-9]*')
	name=$'secrets/a\e[1Ab.yaml'
	printf 'a: 1\nb: 2\n' > "$name"
	fixture git add -A
	fixture git commit -qm base
	printf 'a: 1\nb: 3\n' > p.yaml
	fixture gitseal encrypt --config /dev/null --age "$RECIPIENT,$other" p.yaml > "$T/sealed"
	rm p.yaml
	side_commit side "$name"
	printf 'a: 2\nb: 2\n' > "$name"
	fixture git commit -qam ours
	run -1 git merge --no-edit side
	grep -qF "'git checkout -m secrets/a\\x1b[1Ab.yaml' merges it again" <<<"$output"
	run ! grep -q $'gitseal: .*\e' <<<"$output"
}

# E1: encrypt in a clone refuses a found .sops.yaml rule naming
# recipients this clone has not accepted, and listed them as the file
# spells them: a pull request's secrets/.sops.yaml with a pgp entry
# "\e[2A\e[J" erased the lines above the refusal.
@test "E1: encrypt names a found rule's recipients this clone has not accepted with their control bytes escaped" {
	printf 'creation_rules:\n  - age: %s\n    pgp: "\\e[2A\\e[J"\n' "$RECIPIENT" > secrets/.sops.yaml
	printf 'db: hunter2\n' > secrets/n.yaml
	cd secrets
	run -1 "$GITSEAL_BIN" encrypt n.yaml
	grep -qF "names recipients this clone has not accepted: +\\x1b[2A\\x1b[J;" <<<"$output"
	[[ "$output" != *$'\e'* ]]
}
