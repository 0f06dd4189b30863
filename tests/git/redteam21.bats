#!/usr/bin/env bats
# Red team 21 on the git side: what stop 45 added (the refused
# gitattributes, updatekeys -r's caches, textconv's note, .sops.yaml).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	gs_setup_from teammate_filter_line
	cp .gitattributes "$T/attrs"
}
teardown() { gs_teardown; }

# attrs_then LINES: .gitattributes as committed, then LINES (printf format)
attrs_then() {
	cp "$T/attrs" .gitattributes
	printf "$1" >> .gitattributes
}

# A1: the filter asked libgit2 for a path's attributes, and libgit2 reads
# .gitattributes otherwise than git: git unquotes a C-quoted pattern,
# matches without case under core.ignorecase, and drops a line with an
# invalid attribute name, a negative pattern or over 2,048 bytes, and an
# in-tree .gitattributes that is a symbolic link. Each had git apply ident
# after the clean while libgit2 saw none: git add exited 0 and staged a
# blob whose MAC fails (only the hook refused the commit).
@test "A1: ident set by a line libgit2 reads otherwise than git (quoted, ignorecase, a line git drops, a linked file): git add refuses" {
	local long want="the attribute ident (from gitattributes) changes what git stores after the filter"
	long=$(printf '%2100s' x)
	printf "rev: '\$Id: x\$'\ntoken: t-s3cr3t\n" > config/a.yaml
	for lines in '"config/a.yaml" ident\n' '"config/\\141.yaml" ident\n' \
		'config/** ident\nconfig/** -ident b^d\n' 'config/** ident\n!config/b.yaml -ident\n' \
		"config/** ident\nconfig/** -ident ${long// /x}\n"; do
		attrs_then "$lines"
		run git add config/a.yaml
		[ "$status" -ne 0 ]
		[[ $output == *"'config/a.yaml': $want"* ]]
		[ -z "$(git ls-files config/a.yaml)" ]
	done
	attrs_then 'config/** ident\n'
	printf '* -ident\n' > "$T/other"
	ln -s "$T/other" config/.gitattributes
	run git add config/a.yaml
	[[ $output == *"'config/a.yaml': $want"* ]]
	rm config/.gitattributes
	git config core.ignorecase true
	attrs_then 'CONFIG/A.YAML ident\n'
	run git add config/a.yaml
	[[ $output == *"'config/a.yaml': $want"* ]]
	[ -z "$(git ls-files config/a.yaml)" ]
}

# A2: working-tree-encoding given by a quoted pattern: git stored the
# sealed text read as UTF-16 (of an even length; else git failed to
# convert it) and checked a committed file out as UTF-16 ciphertext, exit 0.
@test "A2: working-tree-encoding set by a quoted pattern: git add and the checkout refuse naming it" {
	printf 'A=a-s3cr3t\n' > config/a.env
	git add config/a.env
	git commit -qm env
	attrs_then '"config/a.env" working-tree-encoding=UTF-16LE\n"config/b.env" working-tree-encoding=UTF-16LE\n'
	cp config/a.env config/b.env
	run git add config/b.env
	[ "$status" -ne 0 ]
	[[ $output == *"'config/b.env': the attribute working-tree-encoding=UTF-16LE (from gitattributes) changes what git stores"* ]]
	rm config/a.env
	run git checkout -- config/a.env
	[ "$status" -ne 0 ]
	[[ $output == *"'config/a.env': the attribute working-tree-encoding=UTF-16LE (from gitattributes) changes what git hands the filter at checkout"* ]]
	[ ! -e config/a.env ]
}

# no_plaintext_in_git: no object or file under .git holds a value of
# secrets/a.yaml (s3cr3t)
no_plaintext_in_git() {
	local o
	run ! grep -rl s3cr3t .git
	for o in $(git rev-list --objects --all | cut -d' ' -f1); do
		run git cat-file -p "$o"
		[[ $output != *s3cr3t* ]]
	done
}

# T1: diff.gitseal.cachetextconv (a teammate's speed-up for git log -p)
# has git keep textconv's output as notes (refs/notes/textconv/gitseal):
# every version's plaintext in .git's objects, and pushed with the notes.
@test "T1: diff.gitseal.cachetextconv: textconv prints a note, no plaintext kept in .git's notes" {
	printf 'token: t-s3cr3tA\n' > secrets/a.yaml
	git add secrets/a.yaml
	git commit -qm a
	printf 'token: t-s3cr3tB\n' > secrets/a.yaml
	git commit -qam b
	git config diff.gitseal.cachetextconv true
	run git log -p
	[[ $output == *"(gitseal: a sealed file's plaintext is not shown here: diff.gitseal.cachetextconv keeps it in .git (refs/notes/textconv/gitseal); unset it)"* ]]
	git config --unset diff.gitseal.cachetextconv
	run git -c diff.gitseal.cachetextconv=yes log -p
	[[ $output != *t-s3cr3t* ]]
	git update-ref -d refs/notes/textconv/gitseal
	run git log -p
	[[ $output == *'+token: t-s3cr3tB'* ]]
	no_plaintext_in_git
}

# T2: textconv told `git commit -v` by its parent's name, "git": the
# dashed form (git-commit from git's exec path, as old scripts put it in
# PATH) wrote the plaintext into .git/COMMIT_EDITMSG.
@test "T2: git-commit -v (the dashed form) writes no plaintext into .git/COMMIT_EDITMSG" {
	printf 'token: t-s3cr3tA\n' > secrets/a.yaml
	git add secrets/a.yaml
	GIT_EDITOR='sed -i 1imsg' "$(git --exec-path)/git-commit" -q -v
	run ! grep s3cr3t .git/COMMIT_EDITMSG
	grep -qF "+(gitseal: a sealed file's plaintext is not shown here" .git/COMMIT_EDITMSG
}

# A3: git check-attr reads each .gitattributes once and keeps it; a
# checkout that cleaned a file first (to see whether it changed) had the
# process read the old .gitattributes, and a branch whose .gitattributes
# sets working-tree-encoding by a quoted pattern was checked out as UTF-16
# ciphertext, exit 0. A smudge asks a git started after it.
@test "A3: a branch's .gitattributes read after git wrote it, though the checkout cleaned a file before" {
	local id
	printf 'A=a-s3cr3t\n' > config/a.env
	git add config/a.env
	git commit -qm a
	git checkout -q -b B
	printf 'A=b-s3cr3t\n' > config/a.env
	git add config/a.env
	git commit -qm b
	# committed without being checked out here (git add would refuse it)
	cp "$T/attrs" "$T/attrs.B"
	printf '"config/a.env" working-tree-encoding=UTF-16LE\n' >> "$T/attrs.B"
	id=$(git hash-object -w "$T/attrs.B")
	git update-index --cacheinfo "100644,$id,.gitattributes"
	git commit --no-verify -qm attrs
	git checkout -q -f main
	# changed in stat only: git cleans it to compare before it writes
	touch -d '+2 seconds' config/a.env
	run git checkout B
	[ "$status" -ne 0 ]
	[[ $output == *"'config/a.env': the attribute working-tree-encoding=UTF-16LE (from gitattributes) changes what git hands the filter at checkout"* ]]
}
