#!/usr/bin/env bats
# Red team 19: git's own commands around the filter and the merge driver
# (rule 2: nothing in clear reaches .git).

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_with_mallory; }
teardown() { gs_teardown; }

# diverge FILE BASE THEIRS OURS: FILE (printf formats) committed as BASE
# with all else changed, then as THEIRS on a branch side and as OURS on main
# (by the release build: the state the merge under test starts from)
diverge() {
	printf "$2" > "$1"
	fixture git add -A
	fixture git commit -qm base
	fixture git checkout -qb side
	printf "$3" > "$1"
	fixture git commit -qam side
	fixture git checkout -q main
	printf "$4" > "$1"
	fixture git commit -qam main
}

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

# C2: `git mergetool` keeps the conflict as FILE.orig (mergetool.keepBackup,
# on by default): both sides' values between markers, in clear. Under a
# pattern such as `*.enc.yaml` it is outside the filter, and `git add -A`
# staged it; the hook let it through (its check of files moved out of the
# pattern looked only at sealed files gone from the index).
@test "C2: git mergetool's FILE.orig outside the pattern, staged by git add -A: the hook refuses it" {
	printf 'creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	"$GITSEAL_BIN" git init '*.enc.yaml' 2>/dev/null
	diverge db.enc.yaml 'password: base-s3cr3t\nport: 5432\n' 'password: theirs-s3cr3t\nport: 5432\n' \
		'password: ours-s3cr3t\nport: 5432\n'
	run -1 git merge side
	git -c mergetool.keep.cmd='cp "$REMOTE" "$MERGED"' -c mergetool.keep.trustExitCode=true mergetool -t keep >/dev/null
	grep -qx 'password: ours-s3cr3t' db.enc.yaml.orig
	# a file named alike that holds none of its values passes
	printf 'db tool\n' > db.go
	git add -A
	run -1 git commit -qm merged
	echo "$output"
	grep -qxF "gitseal: error: 'db.enc.yaml.orig': it holds secrets of 'db.enc.yaml', which is encrypted: remove this copy (git mergetool keeps FILE.orig unless mergetool.keepBackup is false), or keep it under the filter's pattern (see .gitattributes)" <<<"$output"
	[ "$(grep -c "gitseal: error: '" <<<"$output")" -eq 1 ]
	git rm -q --cached db.enc.yaml.orig
	git commit -qm merged
	git show --stat HEAD | grep -q db.go
}

# T1: textconv printed a sealed value as it is, and dotenv, INI and binary
# files hold control bytes so: a value a pull request sealed (its reviewers
# see only ENC[...]) reached the terminal of whoever ran `git log -p` or
# `git diff` with a key, raw (a title set by OSC, lines erased, the cursor
# moved up over the diff). Shown as \xNN now, as paths are.
@test "T1: git log -p and git diff show a sealed value's control bytes as \\xNN, line ends and tabs as they are" {
	printf 'creation_rules:\n  - path_regex: ^secrets/\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	printf 'A=1\nEVIL=a\033]0;pwned\007b\033[2K\033[1Ac\td\302\205\303\251\n' > secrets/evil.env
	git add secrets/evil.env
	git commit -qm evil
	run git log -p -1
	[[ $output == *$'\n+EVIL=a\\x1b]0;pwned\\x07b\\x1b[2K\\x1b[1Ac\td\\xc2\\x85\xc3\xa9'* ]]
	[[ $output != *$'\033'* ]]
	printf 'A=2\n' > secrets/evil.env
	run git diff
	[[ $output == *$'\n-EVIL=a\\x1b]0;pwned'* ]]
}

# T2: the merge driver named the conflicting keys as they are: a key of a
# pull request's holding control bytes reached the terminal of `git merge`.
@test "T2: a conflict names a key's control bytes as \\xNN" {
	diverge secrets/k.yaml '"k\\e]0;pwned\\a": base\n' '"k\\e]0;pwned\\a": theirs\n' '"k\\e]0;pwned\\a": ours\n'
	run -1 git merge side
	grep -qxF "gitseal: error: conflict in 'secrets/k.yaml': changed on both sides: k\\x1b]0;pwned\\x07" <<<"$output"
	[[ $output != *$'\033'* ]]
}

# C3: rerere records a conflict it finds in the work tree (both sides in
# clear) under .git/rr-cache, and its resolution at the commit. gitseal git
# init pins conflict-marker-size=32 so that it finds none in the driver's
# markers of 7; a .gitattributes line putting a path under the filter
# without it (a teammate's, a pull request's) left git's 7, and rerere
# recorded every secret of the conflict and of its resolution. The driver
# writes its markers bare there, which rerere does not take for markers.
@test "C3: a filter line without conflict-marker-size (not init's): rerere records nothing in clear" {
	git config rerere.enabled true
	printf 'creation_rules:\n  - path_regex: ^(secrets|cfg)/\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	mkdir cfg
	printf 'cfg/** filter=gitseal diff=gitseal merge=gitseal\n' >> .gitattributes
	diverge cfg/db.yaml 'pw: base-s3cr3t\nport: 1\n' 'pw: theirs-s3cr3t\nport: 1\n' 'pw: ours-s3cr3t\nport: 2\n'
	run -1 git merge side
	[ "$(cat cfg/db.yaml)" = $'<<<<<<<\npw: ours-s3cr3t\n=======\npw: theirs-s3cr3t\n>>>>>>>\nport: 2' ]
	# added with its markers in, it is a sealed conflict, which the hook refuses
	git add cfg/db.yaml
	run -1 git commit -qm unresolved
	grep -qxF "gitseal: error: 'cfg/db.yaml': it holds an unresolved merge conflict" <<<"$output"
	printf 'pw: resolved-s3cr3t\nport: 2\n' > cfg/db.yaml
	git add cfg/db.yaml
	git commit -qm merged
	run ! grep -rq s3cr3t .git/rr-cache
	# a line of init's form: the markers keep their labels (rerere looks for 32)
	"$GITSEAL_BIN" git init 'cfg/**' 2>/dev/null
	git checkout -qb side2 HEAD~1
	printf 'pw: theirs2-s3cr3t\nport: 2\n' > cfg/db.yaml
	git commit -qam side2
	git checkout -q main
	run -1 git merge side2
	grep -q '^<<<<<<< .' cfg/db.yaml
	run ! grep -rq s3cr3t .git/rr-cache
}

# R1 (held): git's rename detection merges a file under its new path. A
# pull request moving the prod file into dev (its metadata given a dev
# reader's stanza, a decoy) while the victim adds a prod secret to it on
# her branch: the merge driver runs for secrets/dev/db2.yaml and refuses to
# seal the prod data for the dev reader (HEAD's prod file holds its key).
@test "R1: a prod file moved into dev with a decoy stanza, merged with a prod edit: the driver refuses to seal it for her" {
	dev_prod_layout
	cd "$T/mallory"
	git show HEAD:secrets/dev/db.yaml | drop_stanza "$M" "$T/decoy" >/dev/null
	git show HEAD:secrets/prod/db.yaml | graft_stanza "$T/decoy" > secrets/dev/db2.yaml
	git rm -q --cached secrets/prod/db.yaml
	git update-index --add --cacheinfo "100644,$(git hash-object -w --no-filters secrets/dev/db2.yaml),secrets/dev/db2.yaml"
	as_person mallory git commit -qm "move prod db to dev"
	cd "$REPO"
	printf 'prod_password: PROD-ORIG\nnew_token: NEW-PROD-S3CR3T\n' > secrets/prod/db.yaml
	git commit -qam "prod token"
	run -1 git pull --no-rebase --no-edit "$T/mallory" main
	grep -qF "cannot merge 'secrets/dev/db2.yaml': 'secrets/dev/db2.yaml' holds the data key of 'secrets/prod/db.yaml' (its ciphertext copied), which is not sealed for $M" <<<"$output"
	run ! grep -qa NEW-PROD-S3CR3T <(git cat-file --batch-all-objects --batch)
}
