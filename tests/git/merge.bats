#!/usr/bin/env bats
# The merge driver through git merge, rebase and revert.

bats_require_minimum_version 1.5.0
load helpers
load merge_helpers

setup() { gs_setup_from merge_base; }
merge_base() {
	printf 'a: one\nb: two\nc: three\nnested:\n    x: 1\n    y: 2\n' > secrets/app.yaml
	git add -A
	git commit -qm base
	git branch feature
}
teardown() { gs_teardown; }

@test "changes to different keys merge, unchanged values keep their ciphertext" {
	sides_edited 's/one/ONE/; s/x: 1/x: 10/' 's/two/TWO/; s/y: 2/y: 20/'
	run git merge -q --no-edit feature
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat secrets/app.yaml)" = "$(printf 'a: ONE\nb: TWO\nc: three\nnested:\n    x: 10\n    y: 20')" ]
	assert_blob_encrypted secrets/app.yaml
	# c never changed: same ciphertext as in the base commit
	base=$(git merge-base HEAD^1 HEAD^2)
	[ "$(git cat-file -p HEAD:secrets/app.yaml | grep '^c:')" = "$(git cat-file -p "$base:secrets/app.yaml" | grep '^c:')" ]
	[ "$(git cat-file -p HEAD:secrets/app.yaml | grep '^a:')" = "$(git cat-file -p HEAD^1:secrets/app.yaml | grep '^a:')" ]
	assert_status_clean
}

@test "merge driver on its own: a deleted key and an added key merge" {
	sed -i '/^a:/d' secrets/app.yaml
	fixture git commit -qam main-side
	fixture git checkout -q feature
	printf 'd: four\n' >> secrets/app.yaml
	fixture git commit -qam feature-side
	fixture git checkout -q main
	run git merge -q --no-edit feature
	[ "$status" -eq 0 ]
	! grep -q '^a:' secrets/app.yaml || false
	grep -q '^d: four$' secrets/app.yaml
	assert_status_clean
}

@test "deleted on one side and changed on the other is a conflict" {
	sides_edited '/^a:/d' 's/one/ONE/'
	run git merge -q --no-edit feature
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/app.yaml': changed on both sides: a" <<<"$output"
	grep -q '^<<<<<<< ' secrets/app.yaml
	grep -q '^a: ONE$' secrets/app.yaml
}

@test "the merge driver run by hand: exit codes and an encrypted result" {
	git show HEAD:secrets/app.yaml > "$T/base"
	sed -i 's/x: 1/x: 5/' secrets/app.yaml
	fixture git commit -qam ours
	git show HEAD:secrets/app.yaml > "$T/ours"
	fixture git checkout -q feature
	sed -i 's/y: 2/y: 6/' secrets/app.yaml
	fixture git commit -qam theirs
	git show HEAD:secrets/app.yaml > "$T/theirs"
	cp "$T/ours" "$T/result.yaml"
	run "$GITSEAL_BIN" git merge "$T/base" "$T/result.yaml" "$T/theirs" secrets/app.yaml
	[ "$status" -eq 0 ]
	grep -q '^sops:' "$T/result.yaml"
	run "$GITSEAL_BIN" git textconv "$T/result.yaml"
	grep -q '^    x: 5$' <<<"$output"
	grep -q '^    y: 6$' <<<"$output"
	# without a key the driver fails, says what to do, and leaves both
	# sides as git gave them (ciphertext) between markers: ours alone
	# would pass for a resolution
	cp "$T/ours" "$T/result.yaml"
	unset SOPS_AGE_KEY_FILE
	run "$GITSEAL_BIN" git merge "$T/base" "$T/result.yaml" "$T/theirs" secrets/app.yaml
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: cannot merge 'secrets/app.yaml': our version: cannot recover the data key: no key opened it (tried 1 age key; no age identity found: set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or put the key in \$XDG_CONFIG_HOME/sops/age/keys.txt); the file shows both sides sealed: take one with 'git checkout --ours secrets/app.yaml' (or --theirs), or merge where a key opens both" <<<"$output"
	[ "$(cat "$T/result.yaml")" = "$(printf '<<<<<<< ours\n%s\n=======\n%s\n>>>>>>> theirs' "$(cat "$T/ours")" "$(cat "$T/theirs")")" ]
}

@test "case 5: edits at different depths merge (flow maps too), and rebase keeps the commit" {
	fixture git checkout -q -b base5
	printf 'db: {u: 1}\nk: 1\n' > secrets/app.yaml
	fixture git commit -qam base5
	git branch side5
	sed -i 's/^k: 1/k: 2/' secrets/app.yaml
	fixture git commit -qam k2
	fixture git checkout -q side5
	sed -i 's/u: 1/u: 3/' secrets/app.yaml
	fixture git commit -qam u3
	git branch side5-copy
	run git merge -q --no-edit base5
	echo "$output"
	[ "$status" -eq 0 ]
	gitseal_textconv < <(git show HEAD:secrets/app.yaml)
	[ "$(gitseal_textconv < <(git show HEAD:secrets/app.yaml) | tr -d ' ')" = "$(printf 'db:{u:3}\nk:2')" ]
	assert_status_clean
	# the same two commits, rebased: the commit stays and both edits hold
	fixture git checkout -q side5-copy
	run git rebase -q base5
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(git log --format=%s -1)" = "u3" ]
	[ "$(git rev-parse HEAD~1)" = "$(git rev-parse base5)" ]
	gitseal_textconv < <(git show HEAD:secrets/app.yaml)
	[ "$(gitseal_textconv < <(git show HEAD:secrets/app.yaml) | tr -d ' ')" = "$(printf 'db:{u:3}\nk:2')" ]
}

@test "three-way at every depth: both sides' nested edits, an addition and a removal" {
	fixture git checkout -q -b deep
	printf 'a:\n    b:\n        c: 1\n        d: 2\n        e: 5\n    f: 3\ng: 4\n' > secrets/app.yaml
	fixture git commit -qam deep
	git branch deep2
	sed -i 's/c: 1/c: 10/; /e: 5/d' secrets/app.yaml
	fixture git commit -qam ours
	fixture git checkout -q deep2
	sed -i 's/d: 2/d: 20/; s/f: 3/f: 30/' secrets/app.yaml
	printf 'h: new\n' >> secrets/app.yaml
	fixture git commit -qam theirs
	run git merge -q --no-edit deep
	[ "$status" -eq 0 ]
	[ "$(cat secrets/app.yaml)" = "$(printf 'a:\n    b:\n        c: 10\n        d: 20\n    f: 30\ng: 4\nh: new')" ]
}

@test "lists merge as atoms: one side's change wins, changes on both sides conflict" {
	fixture git checkout -q -b lists
	printf 'l:\n    - 1\n    - 2\nm: x\n' > secrets/app.yaml
	fixture git commit -qam lists
	git branch lists2
	printf 'l:\n    - 1\n    - 2\n    - 3\nm: x\n' > secrets/app.yaml
	fixture git commit -qam ours
	fixture git checkout -q lists2
	sed -i 's/m: x/m: y/' secrets/app.yaml
	fixture git commit -qam theirs
	run git merge -q --no-edit lists
	[ "$status" -eq 0 ]
	# the data; the layout is the YAML store's
	[ "$(tr -d '"' < secrets/app.yaml)" = "$(printf 'l:\n    - 1\n    - 2\n    - 3\nm: y')" ]
	fixture git checkout -q -b lists3 lists2~1
	printf 'l:\n    - 0\nm: x\n' > secrets/app.yaml
	fixture git commit -qam other-list
	run git merge -q --no-edit lists
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/app.yaml': changed on both sides: l" <<<"$output"
}

@test "case 12: dotenv and INI merge key by key; the message names the key" {
	printf 'creation_rules:\n  - path_regex: secrets/.*\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	fixture gitseal updatekeys -r -y . 2>/dev/null
	printf 'A=1\nB=2\nC=3\n' > secrets/app.env
	printf '[db]\nuser = u\npass = p\n[api]\nkey = k\n' > secrets/app.ini
	fixture git add -A
	fixture git commit -qm formats
	fixture git branch f2
	sed -i 's/A=1/A=10/' secrets/app.env
	sed -i 's/user = u/user = uu/' secrets/app.ini
	fixture git commit -qam ours
	fixture git checkout -q f2
	sed -i 's/C=3/C=30/' secrets/app.env
	sed -i 's/pass = p/pass = pp/; s/key = k/key = kk/' secrets/app.ini
	fixture git commit -qam theirs
	run git merge -q --no-edit main
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat secrets/app.env)" = "$(printf 'A=10\nB=2\nC=30')" ]
	[ "$(cat secrets/app.ini)" = "$(printf '[db]\nuser = uu\npass = pp\n[api]\nkey = kk')" ]
	assert_status_clean
	sed -i 's/B=2/B=from-f2/' secrets/app.env
	fixture git commit -qam f2-b
	fixture git checkout -q main
	sed -i 's/B=2/B=from-main/' secrets/app.env
	fixture git commit -qam main-b
	run git merge -q --no-edit f2
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/app.env': changed on both sides: B" <<<"$output"
	grep -qx '<<<<<<< ours' secrets/app.env
	grep -qx 'B=from-main' secrets/app.env
	grep -qx 'B=from-f2' secrets/app.env
}

@test "case 7: a conflict leaves no plaintext in .git (objects, AUTO_MERGE, rr-cache), through its resolution" {
	git config rerere.enabled true
	printf 'untouched: untouched-secret-value\n' >> secrets/app.yaml
	fixture git commit -qam untouched
	git branch -f feature
	sides_edited 's/two/main-two-secret/' 's/two/feature-two-secret/; s/three/feature-three-secret/'
	run git merge --no-edit feature
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/app.yaml': changed on both sides: b" <<<"$output"
	grep -qx '<<<<<<< ours' secrets/app.yaml
	grep -qx 'b: main-two-secret' secrets/app.yaml
	grep -qx 'b: feature-two-secret' secrets/app.yaml
	grep -qx 'c: feature-three-secret' secrets/app.yaml
	git rev-parse -q --verify AUTO_MERGE
	# the conflict as git stored it is sealed; textconv shows it
	git show AUTO_MERGE:secrets/app.yaml | grep -q '"gitseal_conflict": "ENC\['
	git diff AUTO_MERGE -- secrets/app.yaml
	assert_no_plaintext_in_git main-two-secret feature-two-secret feature-three-secret untouched-secret-value
	run "$GITSEAL_BIN" git status
	grep -qx "secrets/app.yaml: unmerged" <<<"$output"
	# the resolution
	printf 'a: one\nb: resolved-secret\nc: feature-three-secret\nnested:\n    x: 1\n    y: 2\nuntouched: untouched-secret-value\n' > secrets/app.yaml
	git add secrets/app.yaml
	git commit -qm merged
	assert_blob_encrypted secrets/app.yaml
	assert_no_plaintext_in_git main-two-secret feature-two-secret feature-three-secret resolved-secret untouched-secret-value
	assert_status_clean
	# and a revert that conflicts
	sed -i 's/resolved-secret/later-secret/' secrets/app.yaml
	fixture git commit -qam later
	run git revert --no-edit -m 1 HEAD~1
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/app.yaml': changed on both sides: b" <<<"$output"
	grep -qx "<<<<<<< ours" secrets/app.yaml
	assert_no_plaintext_in_git later-secret resolved-secret main-two-secret
	git revert --abort
}

@test "changes to the same key conflict with markers in the work tree; the conflict is staged sealed, and the hook refuses to commit it" {
	sed -i 's/two/main-two/' secrets/app.yaml
	fixture git commit -qam main-side
	fixture git checkout -q feature
	sed -i 's/two/feature-two/' secrets/app.yaml
	sed -i 's/three/THREE/' secrets/app.yaml
	fixture git commit -qam feature-side
	fixture git checkout -q main
	run git merge --no-edit feature
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/app.yaml': changed on both sides: b" <<<"$output"
	cat secrets/app.yaml
	grep -q '^<<<<<<< ' secrets/app.yaml
	grep -q '^b: main-two$' secrets/app.yaml
	grep -q '^=======$' secrets/app.yaml
	grep -q '^b: feature-two$' secrets/app.yaml
	grep -q '^>>>>>>> ' secrets/app.yaml
	# the non-conflicting change is merged outside the markers
	grep -q '^c: THREE$' secrets/app.yaml
	[ "$(grep -c '^<<<<<<< ' secrets/app.yaml)" -eq 1 ]
	git diff --stat
	git add secrets/app.yaml
	git show :secrets/app.yaml | grep -q '"gitseal_conflict": "ENC\['
	run ! grep -q 'main-two' <(git cat-file --batch-all-objects --batch)
	run "$GITSEAL_BIN" git status
	grep -qx "secrets/app.yaml: unresolved merge conflict" <<<"$output"
	run git commit -qm merged
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/app.yaml': it holds an unresolved merge conflict" <<<"$output"
	# a clone without the filter sees ciphertext only
	[ "$(git show :secrets/app.yaml | gitseal_textconv | grep -c '^<<<<<<< ')" -eq 1 ]
}

# Comments are entries of their map in sops's model: the driver merges
# them per place. In each case ours changes the line next to theirs'
# comment, so that a line merge of the plaintexts does not apply.
@test "a comment theirs adds is kept where they put it" {
	merge_three c.yaml 'a: one\nb: two\nc: three\n' 'a: one\nb: TWO\nc: three\n' \
		'a: one\n# about b\nb: two\nc: three\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/c.yaml)" = "$(printf 'a: one\n# about b\nb: TWO\nc: three')" ]
	assert_blob_encrypted secrets/c.yaml
	assert_status_clean
}

@test "a comment theirs changes takes their text, at any depth" {
	merge_three c.yaml 'a: one\n# about b\nb: two\nd:\n  # about x\n  x: 1\n' \
		'a: one\n# about b\nb: TWO\nd:\n  # about x\n  x: 10\n' \
		'a: one\n# all about b\nb: two\nd:\n  # all about x\n  x: 1\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/c.yaml)" = "$(printf 'a: one\n# all about b\nb: TWO\nd:\n  # all about x\n  x: 10')" ]
	assert_status_clean
}

@test "a comment theirs removes is gone" {
	merge_three c.yaml 'a: one\n# about b\nb: two\nc: three\n' 'a: one\n# about b\nb: TWO\nc: three\n' \
		'a: one\nb: two\nc: three\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/c.yaml)" = "$(printf 'a: one\nb: TWO\nc: three')" ]
	assert_status_clean
}

# The patch writer puts a new end-of-line comment at the end of its key's
# line, and cuts a removed one without the rest of ours' layout (before:
# above the key, and the map written afresh)
@test "an end-of-line comment theirs adds ends its key's line; one theirs removes leaves the line" {
	merge_three c.yaml 'user: admin\npassword: x\nc: three\n' 'user: root\npassword: x\nc: three\n' \
		'user: admin\npassword: x # rotated monthly\nc: three\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/c.yaml)" = "$(printf 'user: root\npassword: x # rotated monthly\nc: three')" ]
	git cat-file -p HEAD:secrets/c.yaml | grep -q '^password: ENC\[.*\] #ENC\['
	assert_blob_encrypted secrets/c.yaml
	assert_status_clean
	merge_three d.yaml 'user:   admin\npassword: x # rotated monthly\n' \
		'user:   root\npassword: x # rotated monthly\n' 'user:   admin\npassword: x\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/d.yaml)" = "$(printf 'user:   root\npassword: x')" ]
	assert_status_clean
}

@test "both sides changing one comment differently conflict at that comment" {
	merge_three c.yaml 'a: one\n# about b\nb: two\nc: three\n' 'a: one\n# ours on b\nb: two\nc: three\n' \
		'a: one\n# theirs on b\nb: two\nc: THREE\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/c.yaml': changed on both sides: the comment above b" <<<"$output"
	[ "$(grep -c '^<<<<<<< ' secrets/c.yaml)" -eq 1 ]
	grep -qx '# ours on b' secrets/c.yaml
	grep -qx '# theirs on b' secrets/c.yaml
	# theirs' change elsewhere is merged outside the markers
	grep -qx 'c: THREE' secrets/c.yaml
	git checkout --theirs secrets/c.yaml
	[ "$(cat secrets/c.yaml)" = "$(printf 'a: one\n# theirs on b\nb: two\nc: THREE')" ]
}

@test "a comment above a key the other side deleted: unchanged it goes with the key, changed it conflicts" {
	merge_three c.yaml 'a: one\n# about b\nb: two\nc: three\n' 'a: one\nc: three\n' \
		'a: one\n# about b\nb: two\nc: THREE\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/c.yaml)" = "$(printf 'a: one\nc: THREE')" ]
	merge_three d.yaml 'a: one\n# about b\nb: two\nc: three\n' 'a: one\nc: three\n' \
		'a: one\n# still about b\nb: two\nc: three\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/d.yaml': changed on both sides: the comment above b" <<<"$output"
	grep -q '^<<<<<<< ' secrets/d.yaml
	grep -qx '# still about b' secrets/d.yaml
}

@test "dotenv and INI: a comment theirs changes next to a value ours changes is kept" {
	printf 'creation_rules:\n  - path_regex: secrets/.*\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	fixture git add .sops.yaml
	fixture git commit -qm rules
	merge_three c.env 'A=1\n# about B\nB=2\n' 'A=1\n# about B\nB=20\n' 'A=1\n# all about B\nB=2\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/c.env)" = "$(printf 'A=1\n# all about B\nB=20')" ]
	merge_three c.ini '[db]\n; about user\nuser = u\npass = p\n' '[db]\n; about user\nuser = U\npass = p\n' \
		'[db]\n; all about user\nuser = u\npass = p\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/c.ini)" = "$(printf '[db]\n; all about user\nuser = U\npass = p')" ]
	assert_status_clean
}

@test "INI: a comment theirs adds between two kept lines next to a value ours changes is kept there" {
	printf 'creation_rules:\n  - path_regex: secrets/.*\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	fixture git add .sops.yaml
	fixture git commit -qm rules
	# the INI writer put new entries at the end of their section: refused,
	# "the merged comments would not come back at their places"
	merge_three c.ini '[db]\n# k\nuser = x\npass = y\n' '[db]\n# k\nuser = x2\npass = y\n' \
		'[db]\n# k\nuser = x\n# new\npass = y\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/c.ini)" = "$(printf '[db]\n# k\nuser = x2\n# new\npass = y')" ]
	assert_status_clean
}

# fuzz_git_merge: the section's entries rewritten with theirs' comment
# above k claimed room for one more than they had; the comment at the end,
# put back after them, overwrote the node allocated next (that comment).
@test "INI: theirs' comments above a key and at the end of the section, ours' change to its value: all merged" {
	commit_age_rule
	merge_three c.ini '[s]\nk = v\n' '[s]\nk = v2\n' '[s]\n# a\nk = v\n# b\n'
	[ "$status" -eq 0 ]
	# ours has no comment: the writer's lead ';'
	[ "$(cat secrets/c.ini)" = "$(printf '[s]\n; a\nk = v2\n; b')" ]
	assert_status_clean
}

# A tree merge the driver refuses while both sides open merges as lines:
# a conflict with markers, sealed like every conflict, the reason on
# stderr. Before, the driver exited 1 and left ours' text without markers:
# `git add` took it for a resolution and dropped theirs' edits.

# An end-of-line comment theirs added to a key whose value ours made one of
# several lines, the comment holding both quotes that close such a value
# (` and """): no style keeps it at the end of the key's line, the writer
# puts it on a line of its own, and the reader would give it to the next
# key. (It was a comment theirs added under the header of an empty last
# section, after which ours added a section, from merge.py seed 11, ini,
# merge, case 57: such a comment is the end of the file now, and merges.)
@test "a merge whose comments the writer cannot place merges as lines: markers, nothing in .git, the hook refuses the markers" {
	commit_age_rule
	git config rerere.enabled true
	merge_three c.ini '[db]\nuser = base-user-secret\n[e]\nk = base-k-secret\nm = base-m-secret\n' \
		'[db]\nuser = base-user-secret\n[e]\nk = """ours-k-secret\nline2"""\nm = base-m-secret\n' \
		'[db]\nuser = theirs-user-secret\n[e]\nk = base-k-secret ; theirs-note-secret ` """\nm = base-m-secret\n'
	assert_merge_conflict secrets/c.ini "the merged comments would not come back at their places; merged as lines"
	assert_side_holds secrets/c.ini ours 'k = """ours-k-secret' 'line2"""'
	assert_side_holds secrets/c.ini theirs 'k = base-k-secret ; theirs-note-secret ` """'
	# theirs' clean change is merged outside the markers
	grep -qx 'user = theirs-user-secret' <(sed '/^<<<<<<< /,/^>>>>>>> /d' secrets/c.ini)
	git show AUTO_MERGE:secrets/c.ini | grep -q '"gitseal_conflict": "ENC\['
	assert_no_plaintext_in_git base-user-secret ours-k-secret theirs-note-secret theirs-user-secret base-k-secret
	assert_markers_refused_at_commit secrets/c.ini
	# resolved, it is sealed
	printf '[db]\nuser = theirs-user-secret\n[e]\nk = """ours-k-secret\nline2"""\n; theirs-note-secret\nm = base-m-secret\n' > secrets/c.ini
	git add secrets/c.ini
	git commit -qm merged
	git show HEAD:secrets/c.ini | grep -q '^user = ENC\[AES256_GCM'
	assert_no_plaintext_in_git base-user-secret ours-k-secret theirs-note-secret theirs-user-secret base-k-secret
	assert_status_clean
}

# merge.py seed 11 case 57 and seed 77 case 49 (ini, merge; issue 12): the
# INI writer now puts a new comment above a section header (the section's
# comment), so these merge; before, they merged as lines, a conflict
@test "a comment one side added above an INI section header merges cleanly" {
	commit_age_rule
	merge_three c.ini '[db]\nuser = base-user-secret\n[sec1]\nkey = base-key-secret\n' \
		'[db]\nuser = base-user-secret\n[sec1]\nkey = base-key-secret\n[name]\nurl = ours-url-secret\n' \
		'[db]\nuser = base-user-secret\n; theirs-note-secret\n[sec1]\nkey = base-key-secret\nuser = theirs-user-secret\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/c.ini)" = "$(printf '[db]\nuser = base-user-secret\n; theirs-note-secret\n[sec1]\nkey = base-key-secret\nuser = theirs-user-secret\n[name]\nurl = ours-url-secret')" ]
	merge_three d.ini '[db]\npass = p\n\n[sec1]\nport = base-port\n' \
		'[db]\npass = p\n\n[sec1]\nport = new-port\n\n[url]\nurl1 = ours-url\n' \
		'[db]\npass = p\n\n; theirs-about-sec1\n[sec1]\nport = new-port\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/d.ini)" = "$(printf '[db]\npass = p\n\n; theirs-about-sec1\n[sec1]\nport = new-port\n\n[url]\nurl1 = ours-url')" ]
	git show HEAD:secrets/d.ini | grep -q '^port = ENC\[AES256_GCM'
	assert_no_plaintext_in_git base-user-secret ours-url-secret theirs-note-secret theirs-user-secret theirs-about-sec1
	assert_status_clean
}

# merge.py seed 11 (ini, merge, case 57; issue 12): a comment at the end of
# the last section is the end of the file (the reader gives a comment
# above a header to that section). Where the other side added a section
# after it, it stays at the end of the file, as a YAML or dotenv comment
# there does after the keys the other side added; before, the writer could
# not put it at the end of a section another follows, and the versions
# merged as lines, a conflict.
@test "a comment at the end of the last INI section stays at the end of the file when the other side adds a section" {
	local sec1='[sec1]\nkey = base-key-secret\n'
	commit_age_rule
	merge_three c.ini "[db]\nuser = base-user-secret\n$sec1" "[db]\nuser = base-user-secret\n$sec1[name]\nurl = ours-url-secret\n" \
		"[db]\nuser = theirs-user-secret\n$sec1; theirs-note-secret\n"
	[ "$status" -eq 0 ]
	git show HEAD:secrets/c.ini | grep -q '^user = ENC\[AES256_GCM'
	[ "$(cat secrets/c.ini)" = "$(printf "[db]\nuser = theirs-user-secret\n$sec1[name]\nurl = ours-url-secret\n; theirs-note-secret")" ]
	assert_status_clean
	# ours' comment at the end, theirs' new section: the same
	merge_three d.ini '[db]\nk = base-k-secret\n' '[db]\nk = base-k-secret\n# ours-end-secret\n' \
		'[db]\nk = base-k-secret\n\n[b]\nx = theirs-x-secret\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/d.ini)" = "$(printf '[db]\nk = base-k-secret\n\n[b]\nx = theirs-x-secret\n# ours-end-secret')" ]
	assert_status_clean
	# in a conflict, each side keeps it at the end of its file
	merge_three e.ini '[db]\nk = base-k-secret\n' '[db]\nk = ours-k-secret\n[b]\nx = ours-x-secret\n' \
		'[db]\nk = theirs-k-secret\n# theirs-end-secret\n'
	assert_merge_conflict secrets/e.ini 'changed on both sides: db.k'
	assert_conflict_sides secrets/e.ini \
		'[db]\nk = ours-k-secret\n[b]\nx = ours-x-secret\n; theirs-end-secret' \
		'[db]\nk = theirs-k-secret\n[b]\nx = ours-x-secret\n; theirs-end-secret'
	assert_no_plaintext_in_git base-user-secret base-key-secret ours-url-secret theirs-note-secret theirs-user-secret \
		base-k-secret ours-end-secret theirs-x-secret ours-k-secret ours-x-secret theirs-k-secret theirs-end-secret
}

# merge.py seed 2 (ini, merge, case 27): both sides added the same comment
# at the end of the file, ours after a key of the last section, theirs
# under its header with no key. Only ours' was taken for the end of the
# file (the merge lifts such comments out of the last section), theirs'
# stayed the section's: two places, each added on one side, and the file
# held the comment twice.
@test "the same comment at the end of an INI file, after a key on one side and under a header alone on the other, merges once" {
	commit_age_rule
	merge_three c.ini '' '[db]\npass = ours-pass-secret\n# end-note-secret\n' '[db]\n# end-note-secret\n'
	assert_merged_clean c.ini \
		'[db]\npass = ours-pass-secret\n# end-note-secret'
	git show HEAD:secrets/c.ini | grep -q '^pass = ENC\[AES256_GCM'
	merge_three d.ini '[x]\nk = base-k-secret\n[db]\n' '[x]\nk = base-k-secret\n[db]\n# end-note-secret\n' \
		'[x]\nk = base-k-secret\n[db]\npass = theirs-pass-secret\n# end-note-secret\n'
	assert_merged_clean d.ini \
		'[x]\nk = base-k-secret\n[db]\npass = theirs-pass-secret\n# end-note-secret'
	assert_no_plaintext_in_git ours-pass-secret end-note-secret base-k-secret theirs-pass-secret
}

# The comments at the end of the file where the last section has no key, or
# after an end-of-line comment or the comments above its header, are the
# end of the file as well: where the other side added a section after it
# they stay at the end. Before, they stayed in their section, which the
# writer cannot end in a comment when another follows: merged as lines.
@test "a comment at the end of an INI file after a section without keys or an end-of-line comment stays at the end" {
	commit_age_rule
	merge_three c.ini '[a]\nk = base-k-secret\n[db]\n' '[a]\nk = base-k-secret\n[db]\n# ours-end-secret\n' \
		'[a]\nk = base-k-secret\n[db]\n[z]\nx = theirs-x-secret\n'
	assert_merged_clean c.ini \
		'[a]\nk = base-k-secret\n[db]\n\n[z]\nx = theirs-x-secret\n# ours-end-secret'
	merge_three d.ini '[a]\nk = base-k-secret\n; above-db\n[db]\n' '[a]\nk = base-k-secret\n; above-db\n[db]\n# ours-end-secret\n' \
		'[a]\nk = base-k-secret\n; above-db\n[db]\n[z]\nx = theirs-x-secret\n'
	assert_merged_clean d.ini \
		'[a]\nk = base-k-secret\n; above-db\n[db]\n\n[z]\nx = theirs-x-secret\n; ours-end-secret'
	merge_three e.ini '[db]\nk = base-k-secret ; eol\n' '[db]\nk = base-k-secret ; eol\n# ours-end-secret\n' \
		'[db]\nk = base-k-secret ; eol\n[z]\nx = theirs-x-secret\n'
	assert_merged_clean e.ini \
		'[db]\nk = base-k-secret ; eol\n\n[z]\nx = theirs-x-secret\n; ours-end-secret'
	git show HEAD:secrets/e.ini | grep -q '^x = ENC\[AES256_GCM'
	# merge.py seed 2 (ini, merge, case 55): ours removed the last key of
	# its last section and added a comment there, theirs changed that key
	# and added a section: theirs' side of the conflict lost the comment
	merge_three f.ini '[db]\npass = base-pass-secret\n' '[db]\n# ours-end-secret\n' \
		'[db]\npass = theirs-pass-secret\n\n[url]\nx = theirs-x-secret\n'
	assert_merge_conflict secrets/f.ini 'changed on both sides: db.pass'
	assert_conflict_sides secrets/f.ini \
		'[db]\n\n[url]\nx = theirs-x-secret\n# ours-end-secret' \
		'[db]\npass = theirs-pass-secret\n\n[url]\nx = theirs-x-secret\n# ours-end-secret'
	assert_no_plaintext_in_git base-k-secret ours-end-secret theirs-x-secret base-pass-secret theirs-pass-secret
}

# merge.py seed 77 (ini, merge, case 92, issue 12): ours removed [sec1],
# theirs changed db.key and added a comment in [sec1]. The comment
# conflicts. Its side once could not be written in INI (the comment with no
# section left): the versions merged as lines, and ours' half of the hunk
# held ours' db.key, dropping theirs' clean change from ours' side; then
# each side was its merge or its version whole. Now theirs' side puts the
# comment at the end of the file (where a comment the merge leaves in no
# section goes), and the markers are around it alone.
@test "a conflict over a comment in a section the other side removed keeps each side's changes" {
	commit_age_rule
	merge_three k.ini '[db]\n# note\nkey = base-key-secret\n\n[sec1]\npass = base-pass-secret\nurl = base-url-secret\n' \
		'[db]\n# note\nkey = base-key-secret\n' \
		'[db]\n# note\nkey = theirs-key-secret\n\n[sec1]\n# theirs-note-secret\npass = base-pass-secret\nurl = base-url-secret\n'
	assert_merge_conflict secrets/k.ini 'changed on both sides: the comment above sec1.pass'
	# ours' side: ours' removal of [sec1] with theirs' clean change; theirs'
	# side: the same, and theirs' comment
	assert_conflict_sides secrets/k.ini \
		'[db]\n# note\nkey = theirs-key-secret' \
		'[db]\n# note\nkey = theirs-key-secret\n# theirs-note-secret'
	git show AUTO_MERGE:secrets/k.ini | grep -q '"gitseal_conflict": "ENC\['
	assert_no_plaintext_in_git base-key-secret theirs-key-secret base-pass-secret theirs-note-secret
	assert_markers_refused_at_commit secrets/k.ini
}

@test "keys changed on both sides: the versions merge as lines, and the resolution is sealed for HEAD's keys" {
	age-keygen -o "$T/b.txt" 2>/dev/null
	age-keygen -o "$T/c.txt" 2>/dev/null
	B=$(age-keygen -y "$T/b.txt") C=$(age-keygen -y "$T/c.txt")
	printf 'a: base-a-secret\nb: base-b-secret\n' > secrets/k.yaml
	fixture git add -A
	fixture git commit -qm base
	fixture git checkout -qb theirs
	printf 'creation_rules:\n  - path_regex: secrets/.*\n    age: %s,%s\n' "$RECIPIENT" "$C" > .sops.yaml
	fixture gitseal updatekeys -y secrets/k.yaml 2>/dev/null
	sed -i 's/base-b-secret/theirs-b-secret/' secrets/k.yaml
	fixture git commit -qam theirs
	fixture git checkout -q main
	printf 'creation_rules:\n  - path_regex: secrets/.*\n    age: %s,%s\n' "$RECIPIENT" "$B" > .sops.yaml
	fixture gitseal updatekeys -y secrets/k.yaml 2>/dev/null
	sed -i 's/base-a-secret/ours-a-secret/' secrets/k.yaml
	fixture git commit -qam ours
	run git merge --no-edit theirs
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/k.yaml': the keys or the selection rule changed on both sides (once resolved, run 'gitseal updatekeys secrets/k.yaml'); merged as lines" <<<"$output"
	[ "$(git status --porcelain secrets/k.yaml)" = "UU secrets/k.yaml" ]
	git diff secrets/k.yaml | grep -qx '++<<<<<<< ours'
	assert_side_holds secrets/k.yaml ours 'a: ours-a-secret' 'b: base-b-secret'
	assert_side_holds secrets/k.yaml theirs 'a: base-a-secret' 'b: theirs-b-secret'
	assert_no_plaintext_in_git ours-a-secret theirs-b-secret base-a-secret
	# the conflict is sealed for ours' keys, not the recipient theirs added
	git show AUTO_MERGE:secrets/k.yaml | grep -qF "$B"
	run ! grep -qF "$C" <(git show AUTO_MERGE:secrets/k.yaml)
	printf 'creation_rules:\n  - path_regex: secrets/.*\n    age: %s,%s,%s\n' "$RECIPIENT" "$B" "$C" > .sops.yaml
	git add .sops.yaml
	assert_markers_refused_at_commit secrets/k.yaml
	printf 'a: ours-a-secret\nb: theirs-b-secret\n' > secrets/k.yaml
	git add -A
	git commit -qm merged
	[ "$(gitseal_textconv < <(git show HEAD:secrets/k.yaml))" = "$(printf 'a: ours-a-secret\nb: theirs-b-secret')" ]
	git show HEAD:secrets/k.yaml | grep -qF "$B"
	run ! grep -qF "$C" <(git show HEAD:secrets/k.yaml)
	assert_no_plaintext_in_git ours-a-secret theirs-b-secret
}

@test "their version sealed for a key this clone does not hold: refused, both sides sealed between markers, the hook refuses them" {
	gs_person mallory
	M=$(recipient_of mallory)
	printf 'a: base-a-secret\nb: base-b-secret\n' > secrets/k.yaml
	fixture git add -A
	fixture git commit -qm base
	fixture git checkout -qb theirs
	printf 'a: base-a-secret\nb: theirs-b-secret\n' > "$T/p.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$M" p.yaml) > secrets/k.yaml
	# as a clone without the filter commits it
	git -c filter.gitseal.process= -c filter.gitseal.required=false add secrets/k.yaml
	git commit -qm theirs --no-verify
	fixture git checkout -qf main
	sed -i 's/base-a-secret/ours-a-secret/' secrets/k.yaml
	fixture git commit -qam ours
	run git merge --no-edit theirs
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: cannot merge 'secrets/k.yaml': their version: cannot recover the data key: no key opened it (tried 1 age key); the file shows both sides sealed: take one with 'git checkout --ours secrets/k.yaml' (or --theirs), or merge where a key opens both" <<<"$output"
	[ "$(git status --porcelain secrets/k.yaml)" = "UU secrets/k.yaml" ]
	# the work tree shows a conflict, of the two ciphertexts as committed,
	# and so does git diff
	[ "$(cat secrets/k.yaml)" = "$(printf '<<<<<<< ours\n%s\n=======\n%s\n>>>>>>> theirs' "$(git show HEAD:secrets/k.yaml)" "$(git show theirs:secrets/k.yaml)")" ]
	git diff secrets/k.yaml | grep -qx '++<<<<<<< ours'
	git diff secrets/k.yaml | grep -qx '++>>>>>>> theirs'
	assert_no_plaintext_in_git ours-a-secret
	assert_markers_refused_at_commit secrets/k.yaml
	# the conflict again (the driver refuses again), then a side taken
	run -0 git checkout -m secrets/k.yaml
	grep -qF "gitseal: error: cannot merge 'secrets/k.yaml': their version: cannot recover the data key" <<<"$output"
	[ "$(git status --porcelain secrets/k.yaml)" = "UU secrets/k.yaml" ]
	git checkout -q --ours secrets/k.yaml
	[ "$(cat secrets/k.yaml)" = "$(printf 'a: ours-a-secret\nb: base-b-secret')" ]
	git add secrets/k.yaml
	git commit -qm "merged: ours"
	assert_no_plaintext_in_git ours-a-secret
}

@test "recipients this clone has not accepted: refused; accepted with updatekeys -r, 'git checkout -m' merges again" {
	age-keygen -o "$T/c.txt" 2>/dev/null
	C=$(age-keygen -y "$T/c.txt")
	printf 'a: base-a-secret\nb: base-b-secret\n' > secrets/k.yaml
	fixture git add -A
	fixture git commit -qm base
	cp .git/gitseal/accepted "$T/accepted"
	cp .git/gitseal/sops.yaml "$T/sops.yaml"
	fixture git checkout -qb theirs
	printf 'creation_rules:\n  - path_regex: secrets/.*\n    age: %s,%s\n' "$RECIPIENT" "$C" > .sops.yaml
	fixture gitseal updatekeys -y secrets/k.yaml 2>/dev/null
	sed -i 's/base-b-secret/theirs-b-secret/' secrets/k.yaml
	fixture git commit -qam "theirs: a teammate added"
	# this clone has not seen that teammate yet
	cp "$T/accepted" .git/gitseal/accepted
	cp "$T/sops.yaml" .git/gitseal/sops.yaml
	fixture git checkout -q main
	sed -i 's/base-a-secret/ours-a-secret/' secrets/k.yaml
	fixture git commit -qam ours
	run git merge --no-edit theirs
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: cannot merge 'secrets/k.yaml': recipients changed: +$C; run 'gitseal updatekeys' to accept; the file shows both sides sealed: once they are accepted ('gitseal updatekeys -r .'), 'git checkout -m secrets/k.yaml' merges it again" <<<"$output"
	grep -qx '<<<<<<< ours' secrets/k.yaml
	run ! grep -q 'ours-a-secret' secrets/k.yaml
	# updatekeys stages nothing for the unmerged file (git could then
	# neither commit nor resolve it), and accepts the merged .sops.yaml
	run "$GITSEAL_BIN" updatekeys -y secrets/k.yaml
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/k.yaml': it is unmerged: 'gitseal updatekeys -r .' accepts the recipients without it, then 'git checkout -m secrets/k.yaml' merges it again" <<<"$output"
	run -0 "$GITSEAL_BIN" updatekeys -y -r .
	[ "$(git ls-files -s secrets/k.yaml | cut -f1 | cut -d' ' -f3 | tr '\n' ' ')" = "1 2 3 " ]
	git checkout -m secrets/k.yaml
	[ "$(cat secrets/k.yaml)" = "$(printf 'a: ours-a-secret\nb: theirs-b-secret')" ]
	git add secrets/k.yaml
	git commit -qm merged
	git show HEAD:secrets/k.yaml | grep -qF "$C"
	assert_no_plaintext_in_git ours-a-secret theirs-b-secret
	assert_status_clean
}

@test "a side that holds a committed conflict merges as lines" {
	sed -i 's/two/main-two/' secrets/app.yaml
	fixture git commit -qam main-side
	fixture git checkout -q feature
	sed -i 's/two/feature-two/' secrets/app.yaml
	fixture git commit -qam feature-side
	fixture git checkout -qb committed-conflict
	run -1 git merge --no-edit main
	# committed past the hook
	fixture git add secrets/app.yaml
	fixture git commit -qm "conflict committed" --no-verify
	# (its clean is not stable: git takes the file for changed)
	fixture git checkout -qf main
	sed -i 's/three/main-three/' secrets/app.yaml
	fixture git commit -qam "main: c"
	run git merge --no-edit committed-conflict
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/app.yaml': their version holds an unresolved conflict; merged as lines" <<<"$output"
	grep -q '^<<<<<<< ' secrets/app.yaml
	grep -qx 'b: feature-two' secrets/app.yaml
	grep -qx 'c: main-three' secrets/app.yaml
	assert_no_plaintext_in_git main-two feature-two main-three
}

@test "the merge driver run by hand: a base this clone has no key for merges as lines" {
	gs_person mallory
	M=$(recipient_of mallory)
	printf 'a: base\nb: base\n' > "$T/b.yaml"
	printf 'a: ours\nb: base\n' > "$T/o.yaml"
	printf 'a: base\nb: theirs\n' > "$T/t.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$M" b.yaml) > "$T/base"
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT" o.yaml) > "$T/result.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT" t.yaml) > "$T/theirs"
	run "$GITSEAL_BIN" git merge "$T/base" "$T/result.yaml" "$T/theirs" secrets/app.yaml
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/app.yaml': this clone has no key for the base version; merged as lines" <<<"$output"
	grep -q '"gitseal_conflict": "ENC\[' "$T/result.yaml"
	run "$GITSEAL_BIN" git textconv "$T/result.yaml"
	[ "$output" = "$(printf '<<<<<<< ours\na: ours\nb: base\n=======\na: base\nb: theirs\n>>>>>>> theirs')" ]
}

@test "their version fails its MAC: refused, both sides sealed between markers" {
	printf 'a: base-a-secret\nb: base-b-secret\n' > secrets/k.yaml
	fixture git add -A
	fixture git commit -qm base
	git show HEAD:secrets/k.yaml > "$T/base.yaml"
	fixture git checkout -qb theirs
	# a value from another version, under the base's MAC (same data key)
	sed -i 's/base-a-secret/theirs-a-secret/' secrets/k.yaml
	fixture git add secrets/k.yaml
	git show :secrets/k.yaml | grep '^a: ' > "$T/a-line"
	sed "s/^a: .*/$(sed 's/[\/&]/\\&/g' "$T/a-line")/" "$T/base.yaml" > "$T/forged.yaml"
	git update-index --cacheinfo "100644,$(git hash-object -w "$T/forged.yaml"),secrets/k.yaml"
	fixture git commit -qm theirs --no-verify
	fixture git checkout -qf main
	sed -i 's/base-b-secret/ours-b-secret/' secrets/k.yaml
	fixture git commit -qam ours
	run git merge --no-edit theirs
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: cannot merge 'secrets/k.yaml': their version: MAC mismatch; the file shows both sides sealed: take one with 'git checkout --ours secrets/k.yaml' (or --theirs), or merge where a key opens both" <<<"$output"
	[ "$(git status --porcelain secrets/k.yaml)" = "UU secrets/k.yaml" ]
	[ "$(cat secrets/k.yaml)" = "$(printf '<<<<<<< ours\n%s\n=======\n%s\n>>>>>>> theirs' "$(git show HEAD:secrets/k.yaml)" "$(cat "$T/forged.yaml")")" ]
	assert_no_plaintext_in_git ours-b-secret theirs-a-secret
	assert_markers_refused_at_commit secrets/k.yaml
}

# merge.py seed 5 case 36 (yaml, issue 12): theirs replaced a map holding
# a comment with a scalar; ours' text could not take that in place, and
# theirs' side of the conflict was written afresh: indented by 4 in a
# 2-space file, the key y quoted ("y"), a flow list made a block one, so
# the markers went around the whole file. A document written afresh keeps
# the file's step and the text of what did not change.
@test "a side written afresh keeps the file's indentation, its keys' spelling and flow lists" {
	merge_three i.yaml 'y: [a1]\nk: v\nt:\n  m:\n    # c\n    x: 1\n    z: 2\n  n: 3\n' \
		'y: [a1]\nk: v\nt:\n  m:\n    # c\n    x: 1\n  n: 3\n' \
		'y: [a1]\nk: v\nt:\n  m: gone\n  n: 3\n'
	assert_merge_conflict secrets/i.yaml 'changed on both sides: t.m'
	[ "$(cat secrets/i.yaml)" = "$(printf 'y: [a1]\nk: v\nt:\n<<<<<<< ours\n  m:\n    # c\n    x: 1\n=======\n  m: gone\n>>>>>>> theirs\n  n: 3')" ]
	assert_sides_are_checkouts secrets/i.yaml
}

# Issue 12: where the data conflicts because one side removed a key or made
# a map a scalar, that side's text has no comment there; the merge took it
# for a removal of the comments, and the other side of the markers lost
# those it had unchanged (`git checkout --ours` has them). The comments of
# a value a side of the markers shows are that side's.
@test "a side of a conflict keeps the comments its value had where the other side removed or replaced it" {
	commit_age_rule
	# theirs made a map a scalar: ours' side keeps the comments at the top,
	# inside and at the end of the map, and above the key
	merge_three m.yaml 'a: 1\n# about m\nm:\n  # top of m\n  x: base-x-secret\n  # about y\n  y: 2\n  # end of m\nz: 3\n' \
		'a: 1\n# about m\nm:\n  # top of m\n  x: ours-x-secret\n  # about y\n  y: 2\n  # end of m\nz: 3\n' \
		'a: 1\n# about m\nm: theirs-scalar-secret\nz: 3\n'
	assert_merge_conflict secrets/m.yaml 'changed on both sides: m'
	assert_side_holds secrets/m.yaml ours '  # top of m' '  x: ours-x-secret' '  # about y' '  # end of m'
	assert_sides_are_checkouts secrets/m.yaml
	fixture git merge --abort
	# the other way round: theirs' side keeps them
	merge_three r.yaml 'a: 1\nm:\n    # top of m\n    x: base-x-secret\n    # end of m\nz: 3\n' \
		'a: 1\nm: ours-scalar-secret\nz: 3\n' \
		'a: 1\nm:\n    # top of m\n    x: theirs-x-secret\n    # end of m\nz: 3\n'
	assert_merge_conflict secrets/r.yaml 'changed on both sides: m'
	assert_side_holds secrets/r.yaml theirs '    # top of m' '    x: theirs-x-secret' '    # end of m'
	assert_sides_are_checkouts secrets/r.yaml
	fixture git merge --abort
	# a key one side removed and the other changed: the comment above it
	# is on the side that has the key, at the top of the file too
	merge_three k.yaml '# top\nk: base-k-secret\nz: 2\n' '# top\nk: ours-k-secret\nz: 2\n' 'z: 2\n'
	assert_merge_conflict secrets/k.yaml 'changed on both sides: k'
	assert_side_holds secrets/k.yaml ours '# top' 'k: ours-k-secret'
	assert_sides_are_checkouts secrets/k.yaml
	fixture git merge --abort
	merge_three d.env 'A=1\n# about B\nB=base-b-secret\n' 'A=1\n' 'A=1\n# about B\nB=theirs-b-secret\n'
	assert_merge_conflict secrets/d.env 'changed on both sides: B'
	assert_side_holds secrets/d.env theirs '# about B' 'B=theirs-b-secret'
	assert_sides_are_checkouts secrets/d.env
	fixture git merge --abort
	# theirs removed an INI section ours changed: ours' side keeps its comments
	merge_three s.ini '[db]\n# top of db\nuser = base-u-secret\n# about pass\npass = p\n\n; above s2\n[s2]\nk = v\n' \
		'[db]\n# top of db\nuser = ours-u-secret\n# about pass\npass = p\n\n; above s2\n[s2]\nk = v\n' \
		'; above s2\n[s2]\nk = v\n'
	assert_merge_conflict secrets/s.ini 'changed on both sides: db'
	assert_side_holds secrets/s.ini ours '# top of db' 'user = ours-u-secret' '# about pass'
	assert_sides_are_checkouts secrets/s.ini
	assert_no_plaintext_in_git base-x-secret ours-x-secret theirs-scalar-secret ours-scalar-secret theirs-x-secret base-k-secret ours-k-secret theirs-b-secret base-u-secret ours-u-secret
}

# A file with no nested map sets no step: a side written afresh took
# yaml.v3's 4 where theirs' text had 2 (teammates saw other bytes than
# `git checkout --theirs` gives)
@test "a side written afresh into a file with no nesting takes the step of the side it comes from, or of the file's blocks; theirs' flow lists stay flow" {
	commit_age_rule
	merge_three f.yaml 'a: 1\nb: 2\n' 'a: 1\nb: ours\n' 'a: 1\nb:\n  c: theirs\n  d: 2\n'
	assert_merge_conflict secrets/f.yaml 'changed on both sides: b'
	[ "$(cat secrets/f.yaml)" = "$(printf 'a: 1\n<<<<<<< ours\nb: ours\n=======\nb:\n  c: theirs\n  d: 2\n>>>>>>> theirs')" ]
	assert_sides_are_checkouts secrets/f.yaml
	fixture git merge --abort
	# nothing nested anywhere: a block scalar's 2 is the file's step
	merge_three h.yaml 'k: |\n  line\nb:\n  x: 1\n' 'k: |\n  line\nb: ours\n' 'k: |\n  line\nb:\n  x: 2\n'
	assert_merge_conflict secrets/h.yaml 'changed on both sides: b'
	[ "$(cat secrets/h.yaml)" = "$(printf 'k: |\n  line\n<<<<<<< ours\nb: ours\n=======\nb:\n  x: 2\n>>>>>>> theirs')" ]
	fixture git merge --abort
	# theirs' flow list stays one (it came back in block style)
	merge_three l.yaml 'a: 1\nb:\n  c: 1\n' 'a: 1\nb:\n  c: ours\n' 'a: 1\nb: [theirs]\n'
	assert_merge_conflict secrets/l.yaml 'changed on both sides: b'
	assert_side_holds secrets/l.yaml theirs 'b: [theirs]'
	assert_sides_are_checkouts secrets/l.yaml
}

# A key ours removed and theirs changed: theirs' side of the markers (and
# the base's, which places the markers) brought it back at the end of its
# map, so the markers stood there, away from where the key stood
@test "a key or section brought back by a conflict's side stands where it stood" {
	commit_age_rule
	merge_three k.yaml 'a: 1\nb: 2\nc: 3\nd: 4\n' 'a: 1\nc: 3\nd: ours\n' 'a: 1\nb: theirs\nc: 3\nd: 4\n'
	assert_merge_conflict secrets/k.yaml 'changed on both sides: b'
	[ "$(cat secrets/k.yaml)" = "$(printf 'a: 1\n<<<<<<< ours\n=======\nb: theirs\n>>>>>>> theirs\nc: 3\nd: ours')" ]
	fixture git merge --abort
	merge_three k.env 'A=1\nB=2\nC=3\n' 'A=1\nC=ours\n' 'A=1\nB=theirs\nC=3\n'
	assert_merge_conflict secrets/k.env 'changed on both sides: B'
	[ "$(cat secrets/k.env)" = "$(printf 'A=1\n<<<<<<< ours\n=======\nB=theirs\n>>>>>>> theirs\nC=ours')" ]
	fixture git merge --abort
	# INI: a key, and a section before another one of the file
	merge_three k.ini '[s]\na = 1 ; eol\nb = 2\nc = 3\n\n[t]\nx = 1\n\n; about u\n[u]\ny = 1\n' \
		'[s]\na = 1 ; eol\nc = 3\n\n; about u\n[u]\ny = 1\n' \
		'[s]\na = 1 ; eol\nb = theirs\nc = 3\n\n[t]\nx = theirs\n\n; about u\n[u]\ny = 1\n'
	assert_merge_conflict secrets/k.ini 'changed on both sides: s.b, t'
	assert_sides_are_checkouts secrets/k.ini
	grep -qx 'a = 1 ; eol' secrets/k.ini
}

# A comment the INI writer put in anew (added by theirs next to a conflict,
# or a new key's end-of-line comment) was written after ';' in a file that
# uses '#', and a new key's end-of-line comment went on a line of its own
@test "INI: a comment written anew takes the file's comment character and stays at the end of its key's line" {
	commit_age_rule
	merge_three c.ini '[s]\n# top\na = 1\nb = 2\n' '[s]\n# top\na = ours\nb = 2\n' \
		'[s]\n# top\na = theirs\n# about b\nb = 2\nc = 3 # eol\n'
	assert_merge_conflict secrets/c.ini 'changed on both sides: s.a'
	[ "$(cat secrets/c.ini)" = "$(printf '[s]\n# top\n<<<<<<< ours\na = ours\n=======\na = theirs\n>>>>>>> theirs\n# about b\nb = 2\nc = 3 # eol')" ]
	fixture git merge --abort
	# a file that uses ';' keeps it
	merge_three d.ini '[s]\n; top\na = 1\nb = 2\n' '[s]\n; top\na = ours\nb = 2\n' \
		'[s]\n; top\na = theirs\n# about b\nb = 2\n'
	assert_merge_conflict secrets/d.ini 'changed on both sides: s.a'
	grep -qx '; about b' secrets/d.ini
}

# The binary store's one value (`data`) is the file's text: changed on both
# sides it was an atom and every such merge conflicted over the whole file
# (markers around both texts), where git merges a text file's lines
@test "a binary-store text file changed on both sides merges its lines as git does; lines both changed conflict" {
	commit_age_rule
	merge_three app.conf 'l1\nl2\nl3\nl4\nl5\n' 'L1\nl2\nl3\nl4\nl5\n' 'l1\nl2\nl3\nl4\nL5\n'
	assert_merged_clean app.conf 'L1\nl2\nl3\nl4\nL5\n'
	git show HEAD:secrets/app.conf > "$T/app.conf"
	grep -q '^	"data": "ENC\[AES256_GCM,' "$T/app.conf"
	[ "$("$GITSEAL_BIN" git textconv "$T/app.conf")" = "$(printf 'L1\nl2\nl3\nl4\nL5')" ]
	# the same line changed on both sides: markers around it only, ours'
	# other change outside them (they went around both whole texts)
	merge_three b.conf 'l1\nl2\nl3\nl4\n' 'L1o\nl2\nl3\nl4\nl5o\n' 'L1t\nl2\nl3\nl4\n'
	assert_merge_conflict secrets/b.conf 'changed on both sides: data'
	[ "$(cat secrets/b.conf)" = "$(printf '<<<<<<< ours\nL1o\n=======\nL1t\n>>>>>>> theirs\nl2\nl3\nl4\nl5o')" ]
}

# git hands -X ours / -X theirs to xdiff only, never to a merge driver: a
# sealed file that conflicts stays a conflict (no side taken silently, and
# none refused), and the message said nothing of the option, so that a user
# could think it applied, or take `git checkout --theirs` for it
@test "git merge -X theirs: a conflicting key stays a conflict, and the message says -X reaches no merge driver" {
	sides_edited 's/one/ONE/' 's/one/uno/; s/three/THREE/'
	run git merge --no-edit -X theirs feature
	assert_merge_conflict secrets/app.yaml "changed on both sides: a; -X ours and -X theirs reach no merge driver: edit the markers ('git checkout --ours' takes ours whole, dropping their other changes)"
	assert_side_holds secrets/app.yaml ours 'a: ONE'
	assert_side_holds secrets/app.yaml theirs 'a: uno'
	grep -qx 'c: THREE' secrets/app.yaml
	fixture git merge --abort
	# given as --strategy-option to a rebase; without a conflict the merge is clean
	fixture git checkout -q feature
	run git rebase --strategy-option=ours main
	# (after git's progress line, on the same line)
	grep -qF "gitseal: error: conflict in 'secrets/app.yaml': changed on both sides: a; -X ours and -X theirs reach no merge driver: edit the markers ('git checkout --ours' takes ours whole, dropping their other changes)" <<<"$output"
	fixture git rebase --abort
	fixture git checkout -q main
	fixture git reset -q --hard HEAD~
	sed -i 's/two/TWO/' secrets/app.yaml
	fixture git commit -qam other-key
	run git merge --no-edit -X ours feature
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx 'a: uno' secrets/app.yaml
	grep -qx 'b: TWO' secrets/app.yaml
	assert_status_clean
}

# Each key of a map was looked for from the start of the other versions'
# maps (and of ours' first entries): a merge took time quadratic in the
# number of keys, 9 s of CPU for a map of 20,000 (release build). Now each
# is looked for where the key before it was found. The test build counts
# the entries compared (GITSEAL_TEST_MERGE_LOOKUP_LOG): 13 a key for a map
# of 1,000, where the lookups from the start compared about 4,000 (a
# count, not a CPU-time limit over 20,000 keys: 5 s of make check).
@test "a map of 1,000 keys merges with a linear number of key comparisons" {
	commit_age_rule
	python3 -c 'import sys; sys.stdout.write("".join("k%05d: v%05d\n" % (i, i) for i in range(1000)))' > secrets/big.yaml
	fixture git add secrets/big.yaml
	git show :secrets/big.yaml > "$T/base"
	sed -i 's/^k00010: .*/k00010: ours/; s/^k00700: .*/k00700: ours/' secrets/big.yaml
	fixture git add secrets/big.yaml
	git show :secrets/big.yaml > "$T/result.yaml"
	sed -i 's/^k00010: .*/k00010: v00010/; s/^k00700: .*/k00700: v00700/; s/^k00990: .*/k00990: theirs/; 1i new: theirs' secrets/big.yaml
	fixture git add secrets/big.yaml
	git show :secrets/big.yaml > "$T/theirs"
	GITSEAL_TEST_MERGE_LOOKUP_LOG="$T/lookups" "$GITSEAL_BIN" git merge "$T/base" "$T/result.yaml" "$T/theirs" secrets/big.yaml
	"$GITSEAL_BIN" git textconv "$T/result.yaml" > "$T/merged"
	[ "$(head -2 "$T/merged")" = "$(printf 'new: theirs\nk00000: v00000')" ]
	[ "$(grep -c ': ours$\|: theirs$' "$T/merged")" -eq 4 ]
	[ "$(wc -l < "$T/merged")" -eq 1001 ]
	[ -n "${GITSEAL_TEST_HOOKS:-}" ] || return 0 # the count: the test build
	read -r what compared < "$T/lookups"
	[ "$what" = compared ]
	echo "entries compared: $compared"
	[ "$compared" -le 20000 ]
}

# A version the driver cannot read (past MERGE_MAX_FILE, lowered by the
# test build's hook; or gone) was left as ours in the work tree, without
# markers: `git add` then staged ours as the resolution, theirs' edit
# dropped, and the hook passed it. Now a note between markers, which the
# hook refuses, and one line naming the file and why.
@test "a version past the size the driver reads: refused, a note between markers, the hook refuses it" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make asan)"
	sides_edited 's/^a: one/a: ours-secret/' 's/^b: two/b: theirs-secret/'
	run env GITSEAL_TEST_MERGE_MAX_FILE=64 git merge --no-edit feature
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: cannot merge 'secrets/app.yaml': the base version is larger than 64 bytes; the file shows a note between markers: take one side with 'git checkout --ours secrets/app.yaml' (or --theirs)" <<<"$output"
	[ "$(git status --porcelain secrets/app.yaml)" = "UU secrets/app.yaml" ]
	[ "$(cat secrets/app.yaml)" = "$(printf '<<<<<<< ours\ngitseal: not merged: the base version is too large\n=======\ngitseal: not merged: the base version is too large\n>>>>>>> theirs')" ]
	assert_no_plaintext_in_git ours-secret theirs-secret
	assert_markers_refused_at_commit secrets/app.yaml
	# within the limit, the same merge again: both edits
	git checkout -q -m secrets/app.yaml
	grep -qx 'a: ours-secret' secrets/app.yaml
	grep -qx 'b: theirs-secret' secrets/app.yaml
}

# The same for a version gone before the driver reads it (run by hand).
@test "the merge driver run by hand: a version it cannot read leaves a note between markers" {
	git show HEAD:secrets/app.yaml > "$T/ours.yaml"
	cp "$T/ours.yaml" "$T/base.yaml"
	run "$GITSEAL_BIN" git merge "$T/base.yaml" "$T/ours.yaml" "$T/gone.yaml" secrets/app.yaml
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: cannot merge 'secrets/app.yaml': their version: cannot open '$T/gone.yaml': No such file or directory; the file shows a note between markers: take one side with 'git checkout --ours secrets/app.yaml' (or --theirs)" ]
	grep -qx '<<<<<<< ours' "$T/ours.yaml"
	grep -qx 'gitseal: not merged: their version cannot be read' "$T/ours.yaml"
}
