#!/usr/bin/env bats
# A sealed conflict through git's commands, in every store (YAML, JSON,
# dotenv, INI, binary): `git add` with the markers still in stages a sealed
# conflict that the hook refuses; that blob is stable (the clean filter
# gives it back for the text it opens to), so git status shows no phantom
# change and `git merge --abort`, `git cherry-pick --abort` and
# `git revert --abort` work; no plaintext reaches .git on the way.

bats_require_minimum_version 1.5.0
load helpers
load merge_helpers

FILES="secrets/app.env secrets/app.ini secrets/app.json secrets/app.yaml secrets/notes.txt"

setup() { gs_setup_from conflict_base; }
conflict_base() {
	printf 'creation_rules:\n  - path_regex: secrets/.*\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	gitseal updatekeys -r -y . 2>/dev/null
	git config rerere.enabled true
	printf 'keep: untouched-secret\nb: two\n' > secrets/app.yaml
	printf '{"keep": "untouched-secret", "b": "two"}\n' > secrets/app.json
	printf 'KEEP=untouched-secret\nB=two\n' > secrets/app.env
	printf '[s]\nkeep = untouched-secret\nb = two\n' > secrets/app.ini
	printf 'untouched-secret\ntwo\n' > secrets/notes.txt
	git add -A
	git commit -qm base
	git branch theirs
	sed -i 's/two/ours-two-secret/' $FILES
	git commit -qam ours
	git checkout -q theirs
	sed -i 's/two/theirs-two-secret/' $FILES
	git commit -qam theirs
	git checkout -q main
	mkdir "$T/before"
	cp $FILES "$T/before/"
}
teardown() { gs_teardown; }

# The work tree holds, for each file, what it held before the merge.
assert_pre_merge_plaintext() {
	for f in $FILES; do
		cmp "$T/before/${f#secrets/}" "$f" || { echo "$f is not as before the merge:"; cat "$f"; return 1; }
	done
}

# git status --porcelain, each file's line, is exactly $1 followed by it
assert_porcelain_each() {
	local want="" f
	for f in $FILES; do want+="$1 $f"$'\n'; done
	[ "$(git status --porcelain -- secrets)" = "${want%$'\n'}" ] ||
		{ echo "git status:"; git status --porcelain; return 1; }
}

# The conflict of every file (git "$@"), in the work tree with its markers, then
# added as it is: git sees the work tree as staged, even when each file
# is cleaned again (a later mtime makes git compare the contents)
conflict_and_add() {
	run git "$@"
	echo "$output"
	[ "$status" -eq 1 ]
	for f in $FILES; do grep -qx '<<<<<<< ours' "$f" || { echo "$f has no markers"; return 1; }; done
	assert_porcelain_each UU
	git add $FILES
	for f in $FILES; do git show ":$f" | grep -q '"gitseal_conflict": "ENC\['; done
	assert_porcelain_each 'M '
	touch -d '+1 minute' $FILES
	assert_porcelain_each 'M '
	git diff --quiet -- secrets
}

@test "a binary-store file still holding markers is staged as a sealed conflict and refused at commit; a lone marker line is data" {
	run git merge --no-edit theirs
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/notes.txt': changed on both sides: data" <<<"$output"
	assert_side_holds secrets/notes.txt ours ours-two-secret
	assert_side_holds secrets/notes.txt theirs theirs-two-secret
	git add $FILES
	run git commit -qm merged
	echo "$output"
	[ "$status" -eq 1 ]
	for f in $FILES; do
		grep -qxF "gitseal: error: '$f': it holds an unresolved merge conflict" <<<"$output"
	done
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/notes.txt': it holds an unresolved merge conflict" <<<"$output"
	assert_no_plaintext_in_git ours-two-secret theirs-two-secret untouched-secret
	# resolved, it is data again, and commits
	printf 'untouched-secret\nresolved-secret\n' > secrets/notes.txt
	git checkout -q HEAD -- secrets/app.env secrets/app.ini secrets/app.json secrets/app.yaml
	git add $FILES
	git commit -qm merged
	git show HEAD:secrets/notes.txt > "$T/notes.txt"
	[ "$("$GITSEAL_BIN" git textconv "$T/notes.txt")" = "$(printf 'untouched-secret\nresolved-secret')" ]
	assert_status_clean
	assert_no_plaintext_in_git ours-two-secret theirs-two-secret untouched-secret resolved-secret
	# a marker line without a whole conflict around it is data
	printf 'untouched-secret\n<<<<<<< not a conflict\n=======\n' > secrets/notes.txt
	git add secrets/notes.txt
	run ! grep -q gitseal_conflict <(git show :secrets/notes.txt)
	git commit -qm markers-as-data
	assert_status_clean
}

# `git $1 --abort` succeeds and gives back HEAD and the work tree as they
# were, and nothing of the conflict stays in .git in plaintext
assert_abort_restores() {
	local head
	head=$(git rev-parse HEAD)
	run git "$1" --abort
	echo "$output"
	[ "$status" -eq 0 ]
	assert_pre_merge_plaintext
	assert_status_clean
	[ "$(git rev-parse HEAD)" = "$head" ]
	assert_no_plaintext_in_git ours-two-secret theirs-two-secret untouched-secret
}

@test "after a conflicted merge, cherry-pick or revert: UU, and no MM once added with the markers in; git merge, cherry-pick and revert --abort restore the plaintext from before" {
	conflict_and_add merge --no-edit theirs
	git show AUTO_MERGE:secrets/notes.txt | grep -q '"gitseal_conflict": "ENC\['
	assert_abort_restores merge
	# git cherry-pick --abort after git add with the markers in restores the pre-pick plaintext
	conflict_and_add cherry-pick theirs
	assert_abort_restores cherry-pick
	# git revert --abort likewise
	sed -i 's/ours-two-secret/later-two-secret/' $FILES
	fixture git commit -qam later
	cp $FILES "$T/before/"
	conflict_and_add revert --no-edit HEAD~1
	assert_abort_restores revert
	assert_no_plaintext_in_git later-two-secret
}

@test "without a key: the refused merge staged as it is is stable, refused at commit, and git merge --abort works" {
	unset SOPS_AGE_KEY_FILE
	git clone -q --no-checkout "$REPO" "$T/nokey"
	cd "$T/nokey"
	"$GITSEAL_BIN" git init 2>/dev/null
	git checkout -q main 2>/dev/null
	git branch -q theirs origin/theirs
	git config rerere.enabled true
	for f in $FILES; do cmp <(git show "HEAD:$f") "$f"; done
	conflict_and_add merge --no-edit theirs
	grep -qxF "gitseal: error: cannot merge 'secrets/notes.txt': our version: cannot recover the data key: no key opened it (tried 1 age key; no age identity found: set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or put the key in \$XDG_CONFIG_HOME/sops/age/keys.txt); the file shows both sides sealed: take one with 'git checkout --ours secrets/notes.txt' (or --theirs), or merge where a key opens both" <<<"$output"
	run git commit -qm merged
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/notes.txt': it holds an unresolved merge conflict" <<<"$output"
	run git merge --abort
	echo "$output"
	[ "$status" -eq 0 ]
	for f in $FILES; do cmp <(git show "HEAD:$f") "$f"; done
	assert_status_clean
}

@test "a resolution added over a staged conflict keeps the file's own rule and the unchanged values' ciphertext" {
	printf 'user: admin\npass: two\npass_kept: kept-secret\n' > "$T/rule.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT" --encrypted-regex '^pass' rule.yaml) > secrets/rule.yaml
	# a sops file new to the repository keeps a rule of its own that leaves
	# in clear what the accepted one seals only when asked to
	run git add secrets/rule.yaml
	[ "$status" -eq 128 ]
	GITSEAL_KEEP_FILE_RULE=1 git add secrets/rule.yaml
	git commit -qm rule
	rm secrets/rule.yaml
	git checkout -q secrets/rule.yaml
	git checkout -q -b rule-theirs
	sed -i 's/^pass: two/pass: theirs-pass/' secrets/rule.yaml
	git commit -qam theirs
	git checkout -q main
	sed -i 's/^pass: two/pass: ours-pass/' secrets/rule.yaml
	git commit -qam ours
	run git merge --no-edit rule-theirs
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/rule.yaml': changed on both sides: pass" <<<"$output"
	git add secrets/rule.yaml
	git show :secrets/rule.yaml | grep -q '"gitseal_conflict": "ENC\['
	printf 'user: admin\npass: resolved-pass\npass_kept: kept-secret\n' > secrets/rule.yaml
	git add secrets/rule.yaml
	git commit -qm merged
	git show HEAD:secrets/rule.yaml | grep -qx 'user: admin'
	git show HEAD:secrets/rule.yaml | grep -qx "    encrypted_regex: ^pass"
	[ "$(git show HEAD:secrets/rule.yaml | grep '^pass_kept:')" = "$(git show HEAD^1:secrets/rule.yaml | grep '^pass_kept:')" ]
	[ "$(cat secrets/rule.yaml)" = "$(printf 'user: admin\npass: resolved-pass\npass_kept: kept-secret')" ]
	assert_status_clean
}

@test "a binary-store blob holding markers sealed as its data (as an earlier gitseal staged it) is refused at commit" {
	printf 'untouched-secret\n<<<<<<< ours\nours-two-secret\n=======\ntheirs-two-secret\n>>>>>>> theirs\n' > "$T/notes.txt"
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT" notes.txt) > "$T/sealed.txt"
	git update-index --cacheinfo "100644,$(git hash-object -w --no-filters "$T/sealed.txt"),secrets/notes.txt"
	run ! grep -q gitseal_conflict <(git show :secrets/notes.txt)
	run git commit -qm as-data
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/notes.txt': it holds an unresolved merge conflict (markers sealed as its data)" <<<"$output"
	[ "$(git rev-parse HEAD)" = "$(git rev-parse main)" ]
}
