#!/usr/bin/env bats
# git status and git diff of an edit the filter refuses (workflows round
# 29): a git command that only compares gets a line in the edit's place
# and goes on; every command that writes still fails.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	gs_setup_from tina_switched
	read -r TINA <"$T/tina.recipient"
	REFUSAL="cannot encrypt 'secrets/app.yaml': recipients changed: +$TINA; run 'gitseal updatekeys' to accept"
	STAND_IN="gitseal: in place of an edit that cannot be sealed: $REFUSAL"
	WARNING="gitseal: warning: $REFUSAL; until then git shows the file changed but cannot add or stash the edit"
}

# tina_branch (helpers.bash), switched to
tina_switched() {
	tina_branch
	git switch -q tina
}

teardown() {
	gs_teardown
}

# edited FILE TEXT: FILE holds TEXT, its mtime newer than the index's
# record, so that git cleans it to compare
edited() {
	printf '%s\n' "$2" >"$1"
	touch_newer "$1"
}

# Fails if the edit's plaintext reached .git, or anything was staged.
assert_edit_kept_out() {
	run ! grep -rqaF s3cr3t .git
	run ! grep -qaF s3cr3t <(git cat-file --batch-all-objects --batch)
	run ! grep -qaF 'in place of an edit' <(git cat-file --batch-all-objects --batch)
	[ "$(git ls-files -s secrets/app.yaml)" = "$BLOB" ]
	git diff --cached --quiet
}

# Before, these stopped with the filter's error (git stops at a failure of
# a required filter): the user could not see the edit. An edit of the
# file's size is the hard case: git cleans it to tell. The index is not
# refreshed with the line's hash (a second status still sees the edit),
# and no object is written for it. An alias of status in git's config
# (its git runs another) is read as status.
@test "an edit refused for a reader not accepted: status, diff, diff-files, diff-index and ls-files -m show it changed, with one line why" {
	BLOB=$(git ls-files -s secrets/app.yaml)
	edited secrets/app.yaml 'db_password: s3cr3tz'
	run -0 --separate-stderr git status --porcelain
	[ "$output" = " M secrets/app.yaml" ]
	[ "$stderr" = "$WARNING" ]
	run -0 --separate-stderr git status --porcelain=v2 -z -uall
	[[ $output == '1 .M '* ]]
	# git diff: textconv reads the work-tree file, so the edit shows
	run -0 --separate-stderr git diff
	[ "$stderr" = "$WARNING" ]
	grep -qxF -- '-db_password: hunter2' <<<"$output"
	grep -qxF -- '+db_password: s3cr3tz' <<<"$output"
	run -1 --separate-stderr git diff --quiet
	[ "$stderr" = "$WARNING" ]
	run -0 git diff-files -p
	grep -qxF 'Binary files a/secrets/app.yaml and b/secrets/app.yaml differ' <<<"$output"
	run -0 git diff-index -p HEAD
	grep -qxF 'Binary files a/secrets/app.yaml and b/secrets/app.yaml differ' <<<"$output"
	run -0 --separate-stderr git ls-files -m
	[ "$output" = secrets/app.yaml ]
	# an alias in git's config: its git process runs `git status` alone
	git config alias.st status
	run -0 --separate-stderr git st --porcelain
	[ "$output" = " M secrets/app.yaml" ]
	[ "$stderr" = "$WARNING" ]
	# the line's hash is what git compared: never stored
	line_blob=$(printf '%s\n' "$STAND_IN" | git hash-object --stdin)
	run -0 --separate-stderr git diff --full-index
	grep -qx "index [0-9a-f]*\.\.$line_blob 100644" <<<"$output"
	run ! git cat-file -e "$line_blob"
	run -0 --separate-stderr git status --porcelain
	[ "$output" = " M secrets/app.yaml" ]
	assert_edit_kept_out
	[ "$(cat secrets/app.yaml)" = "db_password: s3cr3tz" ]
}

# Every command that writes what it cleans fails with the line it gave
# before: add, commit -a, stash, update-index, hash-object (-w or not:
# its hash could be staged), add -p (its diff-files is run by add), a
# diff whose output holds the cleaned text (--binary, -a: a patch git
# apply --cached would store), the command of an alias the filter cannot
# read (`git -c`) or that writes, and any command where /proc is missing.
@test "an edit refused for a reader not accepted: add, commit -a, stash, add -p, update-index, hash-object, merge, rebase, checkout -m, diff --binary and an alias fail as before" {
	git switch -q -c side main
	printf 'x\n' >x.txt
	git add x.txt
	fixture git commit -qm x
	git switch -q tina
	BLOB=$(git ls-files -s secrets/app.yaml)
	edited secrets/app.yaml 'db_password: s3cr3tz'
	local failed="fatal: secrets/app.yaml: clean filter 'gitseal' failed"
	run -128 git add secrets/app.yaml
	grep -qxF "gitseal: error: $REFUSAL" <<<"$output"
	grep -qxF "$failed" <<<"$output"
	run -128 git commit -qam edit
	grep -qxF "gitseal: error: $REFUSAL" <<<"$output"
	run ! git stash -q
	grep -qxF "gitseal: error: $REFUSAL" <<<"$output"
	[ -z "$(git stash list)" ]
	run ! git add -p <<<y
	grep -qxF "gitseal: error: $REFUSAL" <<<"$output"
	run -128 git update-index secrets/app.yaml
	grep -qxF "gitseal: error: $REFUSAL" <<<"$output"
	for c in 'merge -q --no-edit side' 'rebase -q side' 'checkout -q -m side'; do
		run -128 git $c
		grep -qxF "gitseal: error: $REFUSAL" <<<"$output"
	done
	for w in -w ''; do
		run -128 git hash-object $w secrets/app.yaml
		grep -qxF "gitseal: error: $REFUSAL" <<<"$output"
	done
	for flags in --binary -a --text -pa; do
		run -128 git diff --no-textconv "$flags"
		grep -qxF "gitseal: error: $REFUSAL" <<<"$output"
	done
	run -128 git diff-files --binary
	grep -qxF "gitseal: error: $REFUSAL" <<<"$output"
	# an alias not in git's config files, or of a command that writes
	run -128 git -c alias.st=status st --porcelain
	grep -qxF "gitseal: error: $REFUSAL" <<<"$output"
	git config alias.ad add
	run -128 git ad secrets/app.yaml
	grep -qxF "gitseal: error: $REFUSAL" <<<"$output"
	# no /proc: git's command line unknown (a mount namespace of its own
	# where unshare may make one)
	if unshare -rm true 2>/dev/null; then
		run -128 unshare -rm sh -c 'mount -t tmpfs none /proc && exec git status --porcelain'
		grep -qxF "gitseal: error: $REFUSAL" <<<"$output"
	fi
	assert_edit_kept_out
	[ "$(cat secrets/app.yaml)" = "db_password: s3cr3tz" ]
	[[ $(git log -1 --format=%s) == "tina reads secrets" ]]
}

# The way out docs/git.md gives: accepted, git compares and stores the
# edit as before, sealed for both readers, with no warning.
@test "an edit refused for a reader not accepted: after gitseal updatekeys FILE, status, diff, add and commit work as before" {
	edited secrets/app.yaml 'db_password: s3cr3tz'
	run -0 --separate-stderr git status --porcelain
	[ "$stderr" = "$WARNING" ]
	"$GITSEAL_BIN" updatekeys -y secrets/app.yaml 2>/dev/null
	run -0 --separate-stderr git status --porcelain
	[ "$output" = " M secrets/app.yaml" ]
	[ -z "$stderr" ]
	run -0 --separate-stderr git diff
	[ -z "$stderr" ]
	grep -qxF -- '+db_password: s3cr3tz' <<<"$output"
	git commit -qam edit
	assert_blob_encrypted secrets/app.yaml
	[[ $(git show HEAD:secrets/app.yaml) == *"recipient: $TINA"* ]]
	assert_status_clean
	run ! grep -qaF 'in place of an edit' <(git cat-file --batch-all-objects --batch)
}

# A diff that shows the line (diff.gitseal.binary turned off) can be
# applied to the index (git apply --cached), which runs no filter: git
# commit refuses the edit still in the work tree, and once that is gone
# the pre-commit hook names the line staged and refuses it.
@test "the line in a refused edit's place, staged by git apply --cached from a diff, is refused by the pre-commit hook" {
	edited secrets/app.yaml 'db_password: s3cr3tz'
	git -c diff.gitseal.binary=false diff-files -p >"$T/edit.diff" 2>/dev/null
	grep -qxF "+$STAND_IN" "$T/edit.diff"
	run ! grep -qF s3cr3t "$T/edit.diff"
	git apply --cached "$T/edit.diff"
	run -128 git commit -qm edit
	grep -qxF "gitseal: error: $REFUSAL" <<<"$output"
	rm secrets/app.yaml
	run -1 git commit -qm edit
	grep -qxF "gitseal: error: 'secrets/app.yaml': it holds the line git status and git diff get in place of an edit that cannot be sealed, not the file: 'git restore --staged' unstages it" <<<"$output"
	[[ $(git log -1 --format=%s) == "tina reads secrets" ]]
	git restore --staged secrets/app.yaml
	git checkout -- secrets/app.yaml
	assert_status_clean
}

# A commit of another file: a hook that runs git diff (git commit, then a
# shell, then git diff) is a command that only compares; the commit's own
# clean of the file, were it asked, still fails (the first test).
@test "a pre-commit hook that runs git diff while an edit is refused: the hook's diff goes on, the commit holds the other file only" {
	edited secrets/app.yaml 'db_password: s3cr3tzzz'
	printf '#!/bin/sh\ngit diff --stat >"%s" || exit 1\nexec gitseal git check\n' "$T/hook.out" >.git/hooks/pre-commit
	chmod +x .git/hooks/pre-commit
	printf 'other\n' >other.txt
	git add other.txt
	run -0 git commit -qm other
	grep -qF 'secrets/app.yaml' "$T/hook.out"
	[ "$(git diff-tree --no-commit-id --name-only -r HEAD)" = other.txt ]
	[ "$(git status --porcelain 2>/dev/null)" = " M secrets/app.yaml" ]
}

# A file new to the repository takes .sops.yaml's rule: one that names a
# reader not accepted, or that encrypts less than the accepted rule,
# refuses it too, and `git add -N` then `git diff` compare it as well.
@test "a new file under a rule not accepted (git add -N): git diff and status show it with one line why, git add refuses it" {
	printf 'n: n3w-s3cr3t\n' >secrets/new.yaml
	git add -N secrets/new.yaml
	local refusal="cannot encrypt 'secrets/new.yaml': recipients changed: +$TINA; run 'gitseal updatekeys' to accept"
	run -0 --separate-stderr git diff
	[ "$stderr" = "gitseal: warning: $refusal; until then git shows the file changed but cannot add or stash the edit" ]
	grep -qxF -- '+n: n3w-s3cr3t' <<<"$output"
	run -0 --separate-stderr git status --porcelain
	[ "$output" = " A secrets/new.yaml" ]
	run -128 git add secrets/new.yaml
	grep -qxF "gitseal: error: $refusal" <<<"$output"
	git rm -q --cached secrets/new.yaml
	# main's rule, accepted, narrowed in the work tree
	git switch -q main
	sed -i 's|^    age:|    encrypted_regex: ^x$\n&|' .sops.yaml
	git add -N secrets/new.yaml
	refusal="cannot encrypt 'secrets/new.yaml': the creation rule for 'secrets/new.yaml' changed what is encrypted (encrypted_regex '^x$'); run 'gitseal updatekeys' to accept"
	run -0 --separate-stderr git diff secrets/new.yaml
	[ "$stderr" = "gitseal: warning: $refusal; until then git shows the file changed but cannot add or stash the edit" ]
	run -128 git add secrets/new.yaml
	grep -qxF "gitseal: error: $refusal" <<<"$output"
	run ! grep -qaF n3w-s3cr3t <(git cat-file --batch-all-objects --batch)
}

# An edit that does not load in its format (a YAML syntax error being
# fixed) made git diff stop with the filter's error, where the user most
# needs to see the edit: it is compared as a refused one is, the parse
# error said once; what writes still fails.
@test "an edit that does not load (a YAML syntax error): status and diff show it with the error once; add and stash fail; fixed, it adds" {
	git switch -q main
	BLOB=$(git ls-files -s secrets/app.yaml)
	edited secrets/app.yaml 'db_password: [s3cr3t'
	warning="gitseal: warning: cannot encrypt 'secrets/app.yaml': invalid YAML at line 2: did not find expected ',' or ']'; git shows the file changed but cannot add or stash the edit until it loads"
	run -0 --separate-stderr git status --porcelain
	[ "$output" = " M secrets/app.yaml" ]
	[ "$stderr" = "$warning" ]
	run -0 --separate-stderr git diff
	[ "$stderr" = "$warning" ]
	grep -qxF -- '+db_password: [s3cr3t' <<<"$output"
	run -128 git add secrets/app.yaml
	[[ $output == *"gitseal: error: cannot encrypt 'secrets/app.yaml': invalid YAML at line 2: did not find expected ',' or ']'"* ]]
	run ! git stash
	[ -z "$(git stash list)" ]
	assert_edit_kept_out
	edited secrets/app.yaml 'db_password: s3cr3t'
	run -0 --separate-stderr git diff
	[ -z "$stderr" ]
	git add secrets/app.yaml
	[ "$(git show :secrets/app.yaml | grep -c '^db_password: ENC\[')" -eq 1 ]
}

# A refusal was told from other errors by the tail of its message, which
# the message's 1 KiB cut off when the recipients not accepted made a long
# list: git diff and status then failed. The refusal is marked where it is
# decided (gs_error_mark).
@test "a new file under a rule naming many readers not accepted: git diff and status show it, git add refuses it" {
	local many='' i
	for i in $(seq 24); do
		age-keygen 2>/dev/null | grep -o 'age1[0-9a-z]*' >"$T/r$i"
		many+=",$(cat "$T/r$i")"
	done
	sed -i "s|age: .*|&$many|" .sops.yaml
	printf 'n: n3w-s3cr3t\n' >secrets/new.yaml
	git add -N secrets/new.yaml
	local refusal="cannot encrypt 'secrets/new.yaml': recipients changed: +$TINA, +$(cat "$T/r1"), +"
	run -0 --separate-stderr git diff secrets/new.yaml
	[[ $stderr == "gitseal: warning: $refusal"* ]]
	[ "${#stderr}" -gt 1000 ]
	grep -qxF -- '+n: n3w-s3cr3t' <<<"$output"
	run -0 --separate-stderr git status --porcelain secrets
	[ "$output" = " A secrets/new.yaml" ]
	run -128 git add secrets/new.yaml
	grep -qF "gitseal: error: $refusal" <<<"$output"
	run ! grep -qaF n3w-s3cr3t <(git cat-file --batch-all-objects --batch)
}
