#!/usr/bin/env bats
# The merge driver's defects found by the differential harness
# tests/redteam/merge.py (random three-way merges against a model merge of
# the plaintext trees): each test is one defect, its input given here.

bats_require_minimum_version 1.5.0
load helpers
load merge_helpers

setup() { gs_setup_from rules_base; }
rules_base() {
	printf 'creation_rules:\n  - path_regex: secrets/.*\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	gitseal updatekeys -r -y . 2>/dev/null
	git add -A && git commit -qm rules
}
teardown() { gs_teardown; }

# merges_to FILE BASE OURS THEIRS MERGED: merge_three merges cleanly to
# MERGED (printf formats)
merges_to() {
	merge_three "$1" "$2" "$3" "$4"
	[ "$status" -eq 0 ]
	[ "$(cat "secrets/$1")" = "$(printf "$5")" ]
}

# merge_base FILE BRANCH START OTHER TEXT: BRANCH from START merges OTHER
# (a conflict, as a criss-cross history has it) and resolves it to TEXT.
# The merge runs the build under test; the checkout and the resolution's
# commit are the release build's (fixture): the criss-cross merge a test
# checks merges the same sides again (its virtual base) under the build
# under test, and a resolution added is the sanitized step of "a conflict
# resolved and added keeps the recipient" and of merge.bats.
merge_base() {
	fixture git checkout -qb "$2" "$3"
	run -1 git merge -q "$4"
	grep -q "^gitseal: error: conflict in 'secrets/$1': changed on both sides: " <<<"$output"
	printf "$5" > "secrets/$1"
	fixture git add -A
	fixture git commit -qm "$2"
}

# the merge conflicted on KEY (as the message names it) and FILE holds
# both LINES between markers
assert_conflict_shows() {
	local f=secrets/$1 key=$2 line
	shift 2
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in '$f': changed on both sides: $key" <<<"$output"
	grep -qx '<<<<<<< ours' "$f"
	for line in "$@"; do grep -qxF "$line" "$f"; done
	fixture git merge --abort
}

@test "a key added on both sides with other values: the markers hold both values (YAML, JSON, dotenv, INI)" {
	# the conflict's text took the base's side of the key from theirs (the
	# key, removed for the base, came back as a key only theirs has): no
	# markers, the work tree held ours' value only
	merge_three a.yaml 'a: 1\nb: 2\n' 'b: 2\na: 1\nnew: ours-value\n' 'a: 1\nb: 2\nnew: theirs-value\n'
	assert_conflict_shows a.yaml new 'new: ours-value' 'new: theirs-value'
	merge_three a.json '{\n  "a": "1",\n  "b": "2"\n}\n' '{\n  "b": "2",\n  "a": "1",\n  "new": "ours-value"\n}\n' \
		'{\n  "a": "1",\n  "b": "2",\n  "new": "theirs-value"\n}\n'
	assert_conflict_shows a.json new '  "new": "ours-value"' '  "new": "theirs-value"'
	merge_three a.env 'A=1\nB=2\n' 'B=2\nA=1\nNEW=ours-value\n' 'A=1\nB=2\nNEW=theirs-value\n'
	assert_conflict_shows a.env NEW 'NEW=ours-value' 'NEW=theirs-value'
	merge_three a.ini '[s]\na = 1\nb = 2\n' '[s]\nb = 2\na = 1\nnew = ours-value\n' '[s]\na = 1\nb = 2\nnew = theirs-value\n'
	assert_conflict_shows a.ini s.new 'new = ours-value' 'new = theirs-value'
}

@test "the merge harness (tests/redteam/merge.py), a short fixed-seed run: every flow agrees with the model" {
	python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"
	# one case per store, each through another flow, and one rule-2 case;
	# make redteam runs it long
	run python3 "$BATS_TEST_DIRNAME/../redteam/merge.py" --bin "$GITSEAL_BIN" --cases 1 --quick --seed 20261202
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx 'merge.py: 0 failure(s), [0-9]* s' <<<"$output"
	# it ran what it says: four stores, a merge each, and the rule-2 case
	[ "$(grep -c ':run  *1$' <<<"$output")" -ge 5 ]
}

@test "a criss-cross merge whose merge bases conflict: the other changes merge, the conflict shows markers" {
	# git merges the two merge bases first (a virtual base), with the driver:
	# their conflict is sealed, and the driver refused that base whole ("the
	# base version holds an unresolved conflict"), leaving ours' text without
	# markers; theirs' change to b was gone from the work tree
	printf 'a: 1\nb: 1\nc: 1\n' > secrets/f.yaml
	fixture git add -A
	fixture git commit -qm base
	fixture git checkout -qb x
	sed -i 's/a: 1/a: x/' secrets/f.yaml
	fixture git commit -qam x
	fixture git checkout -q main
	sed -i 's/a: 1/a: m/' secrets/f.yaml
	fixture git commit -qam m
	# each merged into the other, the conflict on a resolved its own way
	fixture git checkout -qb m2 main
	run -1 git merge -q x
	grep -qxF "gitseal: error: conflict in 'secrets/f.yaml': changed on both sides: a" <<<"$output"
	# the resolutions and commits up to the merge checked: the release
	# build, as in merge_base (the merge below runs these sides again)
	printf 'a: m\nb: 1\nc: 1\n' > secrets/f.yaml
	fixture git add -A
	fixture git commit -qm m2
	fixture git checkout -qb x2 x
	run -1 git merge -q main
	grep -qxF "gitseal: error: conflict in 'secrets/f.yaml': changed on both sides: a" <<<"$output"
	printf 'a: x\nb: 1\nc: 1\n' > secrets/f.yaml
	fixture git add -A
	fixture git commit -qm x2
	sed -i 's/b: 1/b: x2/' secrets/f.yaml
	fixture git commit -qam x2b
	fixture git checkout -q m2
	sed -i 's/c: 1/c: m2/' secrets/f.yaml
	fixture git commit -qam m2c
	[ "$(git merge-base --all m2 x2 | wc -l)" -eq 2 ]
	run git merge --no-edit x2
	echo "$output"
	cat secrets/f.yaml
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/f.yaml': changed on both sides: a" <<<"$output"
	run ! grep -F "unresolved conflict" <<<"$output"
	grep -qx '<<<<<<< ours' secrets/f.yaml
	grep -qx 'a: m' secrets/f.yaml
	grep -qx 'a: x' secrets/f.yaml
	grep -qx 'b: x2' secrets/f.yaml
	grep -qx 'c: m2' secrets/f.yaml
	[ "$(grep -c '^<<<<<<< ' secrets/f.yaml)" -eq 1 ]
	assert_no_plaintext_in_git 'a: m' 'b: x2' 'c: m2'
}

@test "a commit that adds or removes only keys without a value (an empty list or map, a null) passes the hook" {
	# sops's MAC covers the values (non-null scalars and comments): such a
	# change keeps the MAC and lastmodified, and the hook took it for a part
	# of a change staged with git add -p ("only a part of a change is staged")
	printf 'a: x\n' > secrets/f.yaml
	fixture git add -A
	fixture git commit -qm base
	for text in 'a: x\nn: []\n' 'a: x\nn: []\nm: {}\n' 'a: x\nn: []\nm: {}\nz: null\n' 'a: x\nz:\n' 'a: x\n'; do
		printf "$text" > secrets/f.yaml
		run git commit -qam "$text"
		echo "$output"
		[ "$status" -eq 0 ]
		[ -z "$output" ]
		[ "$(git show HEAD:secrets/f.yaml | gitseal_textconv)" = "$(printf "$text")" ]
	done
	# a value changed with the committed MAC kept is still refused
	stage_value_with_committed_mac secrets/f.yaml a 'a: y\n'
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/f.yaml': only a part of a change is staged (git add -p?): its MAC cannot match; stage the whole file with 'git add secrets/f.yaml'" <<<"$output"
}

@test "a merge never brings back the data key a branch rotated away (updatekeys --rotate)" {
	# the driver kept ours' data key when ours and theirs named the same
	# recipients: merging a rotation into a branch that still had the old
	# key sealed the result with the old key, undoing the rotation silently
	# (whoever read the old key read the merge)
	printf 'a: 1\nb: 2\nc: keep-me\n' > secrets/f.yaml
	fixture git add -A
	fixture git commit -qm base
	fixture git checkout -qb rot
	run -0 "$GITSEAL_BIN" updatekeys --rotate -y secrets/f.yaml
	fixture git commit -qm rotate
	fixture git checkout -q main
	sed -i 's/a: 1/a: 10/' secrets/f.yaml
	fixture git commit -qam edit-a
	old_c=$(git show main:secrets/f.yaml | grep '^c:')
	rot_c=$(git show rot:secrets/f.yaml | grep '^c:')
	[ "$old_c" != "$rot_c" ]
	for how in "merge --no-edit rot" "cherry-pick rot"; do
		fixture git checkout -qf -B w main
		run git $how
		echo "$output"
		[ "$status" -eq 0 ]
		[ "$(cat secrets/f.yaml)" = "$(printf 'a: 10\nb: 2\nc: keep-me')" ]
		# not the old key: c's ciphertext is not the one it had under it
		[ "$(git show HEAD:secrets/f.yaml | grep '^c:')" != "$old_c" ]
		assert_status_clean
	done
	# the other way round the rotated key stays (this clone made it)
	fixture git checkout -qf -B w2 rot
	run -0 git merge --no-edit main
	[ "$(git show HEAD:secrets/f.yaml | grep '^c:')" = "$rot_c" ]
}

# the merge exited 0 with FILE empty, committed as it is
merged_empty() { [ "$status" -eq 0 ] && [ ! -s "secrets/$1" ] && [ -z "$(git show "HEAD:secrets/$1")" ]; }

@test "documents added, removed or emptied on one side merge with a side that changed no data; on both sides they conflict" {
	# the versions' numbers of documents differed, so the driver conflicted
	# over the whole file even when the other side had changed only its
	# layout or comments
	merge_three d.yaml 'a: 1\n---\nb: 2\n' '# a comment\na: 1\n---\nb: 2\n' 'a: 1\n---\nb: 2\n---\nc: 3\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/d.yaml)" = "$(printf '# a comment\na: 1\n---\nb: 2\n---\nc: 3')" ]
	assert_status_clean
	# emptied on one side, only reordered on the other (either way round)
	merge_three e.yaml 'a: 1\nb: 2\n' 'b: 2\na: 1\n' ''
	merged_empty e.yaml
	merge_three e2.yaml 'a: 1\nb: 2\n' '' 'b: 2\na: 1\n'
	merged_empty e2.yaml
	merge_three f.yaml 'a: 1\n---\nb: 2\n' 'a: 1\n' 'a: 10\n---\nb: 2\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/f.yaml': the file changed on both sides" <<<"$output"
	grep -qx '<<<<<<< ours' secrets/f.yaml
}

# What held: a pull request's branch that changes the file's metadata
# (outside the MAC) and is merged, rebased or cherry-picked.
@test "a merged branch that names another recipient in a file's metadata is refused, one that narrows its rule merges as lines, with the reason" {
	printf 'a: base-a\nb: base-b\n' > secrets/f.yaml
	fixture git add -A
	fixture git commit -qm base
	gs_person mallory
	M=$(recipient_of mallory)
	# mallory's clone has no filter: she commits the bytes she made
	printf 'a: base-a\nb: base-b\nc: from-mallory\n' > "$T/p.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT,$M" p.yaml) > "$T/both.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT" --encrypted-regex '^a$' p.yaml) > "$T/narrow.yaml"
	for kind in both narrow; do
		as_person mallory git checkout -qB "$kind" main
		cp "$T/$kind.yaml" "$T/mallory/secrets/f.yaml"
		as_person mallory git commit -qam "$kind"
	done
	git fetch -q "$T/mallory" both:both narrow:narrow
	sed -i 's/base-a/ours-a/' secrets/f.yaml
	printf 'd: ours-new-secret\n' >> secrets/f.yaml
	fixture git commit -qam ours
	for how in merge cherry-pick; do
		fixture git checkout -qf -B w main
		run git $how both
		echo "$output"
		[ "$status" -eq 1 ]
		grep -qxF "gitseal: error: cannot merge 'secrets/f.yaml': recipients changed: +$M; run 'gitseal updatekeys' to accept; the file shows both sides sealed: once they are accepted ('gitseal updatekeys -r .'), 'git checkout -m secrets/f.yaml' merges it again" <<<"$output"
		# nothing sealed for her; the work tree holds both sides sealed
		# between markers, not ours' text that would pass for a resolution
		run ! grep -qF "$M" <(git show :2:secrets/f.yaml; git show HEAD:secrets/f.yaml)
		grep -qx '<<<<<<< ours' secrets/f.yaml
		run ! grep -q 'ours-new-secret' secrets/f.yaml
		# added as it is, it is a conflict sealed for ours' keys, not hers,
		# which the hook refuses
		run -0 git add secrets/f.yaml
		run ! grep -qF "$M" <(git show :secrets/f.yaml)
		run "$GITSEAL_BIN" git check
		grep -qxF "gitseal: error: 'secrets/f.yaml': it holds an unresolved merge conflict" <<<"$output"
		# a staged sealed conflict cleans to the same blob: --abort works
		git $how --abort
	done
	fixture git checkout -qf -B w main
	run git merge --no-edit narrow
	echo "$output"
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/f.yaml': the value at 'd' would be in clear under the file's own rule (encrypted_regex '^a\$'), which .sops.yaml's rule seals: run 'gitseal updatekeys secrets/f.yaml' to apply .sops.yaml's rule, or add it with GITSEAL_KEEP_FILE_RULE=1 to keep the file's own; merged as lines" <<<"$output"
	# both sides opened: a conflict, sealed whole, with ours' new value
	assert_side_holds secrets/f.yaml ours 'd: ours-new-secret'
	assert_side_holds secrets/f.yaml theirs 'c: from-mallory'
	assert_no_plaintext_in_git ours-new-secret
}

@test "a criss-cross merge whose merged bases do not load without their markers: theirs' deletion is not undone" {
	# the bases' conflict is on the last key of a JSON file: outside the
	# markers the text ended in a comma and did not load; the driver took
	# no base at all then, and a key theirs deleted came back from ours
	# (a merge with no base keeps what one side has). The base is now what
	# both sides of the bases' markers agree on.
	printf '{\n  "b": "2",\n  "a": "1"\n}\n' > secrets/c.json
	fixture git add -A
	fixture git commit -qm base
	fixture git checkout -qb x
	sed -i 's/"a": "1"/"a": "x"/' secrets/c.json
	fixture git commit -qam x
	fixture git checkout -q main
	sed -i 's/"a": "1"/"a": "m"/' secrets/c.json
	fixture git commit -qam m
	merge_base c.json m2 main x '{\n  "b": "2",\n  "a": "m"\n}\n'
	merge_base c.json x2 x main '{\n  "b": "2",\n  "a": "x"\n}\n'
	printf '{\n  "a": "x"\n}\n' > secrets/c.json
	fixture git commit -qam "x3: no b"
	fixture git checkout -q m2
	printf '{\n  "b": "2",\n  "a": "m",\n  "c": "3"\n}\n' > secrets/c.json
	fixture git commit -qam "m3: c"
	run git merge --no-edit x2
	echo "$output"
	cat secrets/c.json
	[ "$status" -eq 1 ]
	# the bases' merge, then ours and theirs: each conflicts on a alone
	[ "$(grep -cxF "gitseal: error: conflict in 'secrets/c.json': changed on both sides: a" <<<"$output")" -eq 2 ]
	grep -q '^<<<<<<< ' secrets/c.json
	# b deleted by theirs, c added by ours, a between markers
	run ! grep -q '"b"' secrets/c.json
	grep -qxF '  "c": "3"' secrets/c.json
}

@test "a criss-cross merge: a section the merged bases conflicted in, deleted on one side and kept on the other, conflicts" {
	# outside the markers the bases' merge lost the section's header too, so
	# the section looked added by theirs and ours' deletion was undone; and
	# host, which the bases conflicted on (m deleted it), came back whole
	printf '[db]\nname = n0\n\n[sec1]\nuser = u0\nhost = h0\n\n[sec2]\nurl = base-url\n' > secrets/s.ini
	fixture git add -A
	fixture git commit -qm base
	fixture git checkout -qb x
	printf '[db]\nname = n-x\n\n[sec1]\nuser = u0\nhost = h-x\n\n[sec2]\nurl = x-url\n' > secrets/s.ini
	fixture git commit -qam x
	fixture git checkout -q main
	printf '[db]\nname = n0\n\n[sec1]\nuser = u0\n\n[sec2]\nurl = m-url\n' > secrets/s.ini
	fixture git commit -qam m
	merge_base s.ini m2 main x '[db]\nname = n-x\n\n[sec1]\nuser = u0\n\n[sec2]\nurl = m-url\n'
	merge_base s.ini x2 x main '[db]\nname = n-x\n\n[sec1]\nuser = u0\nhost = h-x\n\n[sec2]\nurl = x-url\n'
	printf '[db]\nname = n-x\n\n[sec1]\nuser = \nhost = h-x\n\n[sec2]\nurl = x-url\n' > secrets/s.ini
	fixture git commit -qam "x3: user emptied"
	fixture git checkout -q m2
	printf '[db]\nname = n-x\n\n[sec1]\nuser = u0\n' > secrets/s.ini
	fixture git commit -qam "m3: no sec2"
	run git merge --no-edit x2
	echo "$output"
	cat secrets/s.ini
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/s.ini': changed on both sides: sec1.host, sec2" <<<"$output"
	grep -q '^<<<<<<< ' secrets/s.ini
	grep -qx 'url = x-url' secrets/s.ini
}

@test "a conflict resolved and added keeps the recipient the other branch added (updatekeys), as a clean merge does" {
	# a clean merge seals for the side that changed the keys; a resolved
	# conflict was sealed by git add for HEAD's keys: the teammate that
	# theirs had added (gitseal updatekeys, accepted here) lost the file
	printf 'a: 1\nb: 2\n' > secrets/f.yaml
	fixture git add -A
	fixture git commit -qm base
	age-keygen -o "$T/tina.txt" 2>/dev/null
	TINA=$(age-keygen -y "$T/tina.txt")
	fixture git checkout -qb t
	printf 'creation_rules:\n  - path_regex: secrets/.*\n    age: %s,%s\n' "$RECIPIENT" "$TINA" > .sops.yaml
	run -0 "$GITSEAL_BIN" updatekeys -y -r .
	sed -i 's/a: 1/a: theirs/' secrets/f.yaml
	fixture git add -A
	fixture git commit -qm "give Tina access; a"
	fixture git checkout -q main
	sed -i 's/a: 1/a: ours/' secrets/f.yaml
	fixture git commit -qam ours
	run git merge --no-edit t
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/f.yaml': changed on both sides: a" <<<"$output"
	printf 'a: resolved\nb: 2\n' > secrets/f.yaml
	git add secrets/f.yaml
	run -0 git commit -qm merged
	git show HEAD:secrets/f.yaml | grep -qF "recipient: $TINA"
	git show HEAD:secrets/f.yaml > "$T/m.yaml"
	[ "$(SOPS_AGE_KEY_FILE="$T/tina.txt" "$GITSEAL_BIN" decrypt "$T/m.yaml")" = "$(printf 'a: resolved\nb: 2')" ]
	assert_status_clean
}

@test "a dotenv file that gives a key twice, or a key with a NUL byte: a change to it is not lost in a merge" {
	# the tree merge found a key's first entry only: theirs changed the
	# second B (the one a dotenv reader keeps) and the merge exited 0
	# without it (found by tests/fuzz/fuzz_git_merge)
	merge_three d.env 'A=1\nB=1\nB=2\n' 'A=10\nB=1\nB=2\n' 'A=1\nB=1\nB=3\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/d.env': the file changed on both sides" <<<"$output"
	# a line merge of the whole file: both changes
	[ "$(cat secrets/d.env)" = "$(printf 'A=10\nB=1\nB=3')" ]
	fixture git merge --abort
	# a key with a NUL byte was found as the key before it: theirs' new key
	# "B<NUL>x" was taken for ours' B, and dropped. Now the whole file
	# conflicts; xdiff takes it for binary, so ours' text stays, as git
	# keeps ours for a binary file
	merge_three n.env 'A=1\nB=1\n' 'A=10\nB=1\n' 'A=1\nB=1\nB\0x=3\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/n.env': the file changed on both sides" <<<"$output"
	cmp secrets/n.env <(printf 'A=10\nB=1\n')
}

@test "a binary file changed on both sides: the conflict leaves ours in the work tree, not an empty file" {
	# xdiff gives no text for binary input, and the sealed conflict held
	# nothing: the work tree file was empty (git add would commit that)
	merge_three k.bin 'bin\0base\n' 'bin\0ours\n' 'bin\0theirs\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/k.bin': changed on both sides: data" <<<"$output"
	cmp secrets/k.bin <(printf 'bin\0ours\n')
	git checkout --theirs secrets/k.bin
	cmp secrets/k.bin <(printf 'bin\0theirs\n')
}

# merge.py seed 2 (yaml, stash, case 18), while the merge of comments was
# written: theirs commented a key inside a map that ours made a list. The
# conflict's base side, a comment no version holds, overran its buffer and
# the driver aborted: no markers
@test "a comment added inside a map the other side replaced conflicts, with markers around that comment" {
	merge_three c.yaml 'a: 1\nb:\n  y: 1\n' 'a: 1\nb: [1]\n' 'a: 1\nb:\n  # about y\n  y: 1\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/c.yaml': changed on both sides: the comment above b.y" <<<"$output"
	[ "$(grep -c '^<<<<<<< ' secrets/c.yaml)" -eq 1 ]
	[ "$(sed -n '/^=======$/,/^>>>>>>> /p' secrets/c.yaml | grep -c '# about y')" -eq 1 ]
	grep -qx 'b: \[1\]' secrets/c.yaml
	run ! grep -q 'gitseal-unknown' secrets/c.yaml
}

# merge.py seed 4 (ini, revert, case 0): theirs commented the only key of
# a section ours emptied. The base side's comment began with a space, which
# the INI writer does not keep: its proof refused it and the whole file
# was marked, theirs' deleted key with it
@test "INI: a comment above a key the other side deleted conflicts at the comment only" {
	merge_three c.ini '; the db\n[db]\nuser = u\n' '; the db\n[db]\n' '; the db\n[db]\n# about user\nuser = u\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/c.ini': changed on both sides: the comment above db.user" <<<"$output"
	[ "$(sed -n '/^=======$/,/^>>>>>>> /p' secrets/c.ini | grep -c '[;#] about user')" -eq 1 ]
	run ! grep -q '^user' secrets/c.ini
	run ! grep -q 'gitseal-unknown' secrets/c.ini
}

# merge.py seed 4 (dotenv, merge, case 16): ours commented a key theirs
# deleted, and changed the next one. The base's side of the conflict stood
# at the end of the file, ours' comment above the next key: their line
# merge was clean, and the conflict showed no markers
@test "a comment added above a key the other side deleted shows markers where it stands" {
	merge_three c.env 'DB_USER=u\nD=d\n' '# about the user\nDB_USER=u\nD=d2\n' 'D=d\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/c.env': changed on both sides: the comment above DB_USER" <<<"$output"
	[ "$(sed -n '/^<<<<<<< /,/^=======$/p' secrets/c.env | grep -c '^# about the user$')" -eq 1 ]
	grep -qx 'D=d2' secrets/c.env
	run ! grep -q '^DB_USER' secrets/c.env
}

# merge.py seed 5 (ini, criss-cross, case 6): a section one merge base
# deleted and the other changed stood in the virtual base as a scalar; the
# base's side of the conflict could not be written as INI and the file
# merged as lines, without markers. Which base is which side follows the
# commits' dates, so they are set
@test "INI criss-cross: a section the merge bases conflicted on, changed again on one side, conflicts with markers" {
	at() { export GIT_COMMITTER_DATE="2026-01-01T00:00:$1" GIT_AUTHOR_DATE="2026-01-01T00:00:$1"; }
	at 10
	printf '[db]\nk = 1\n\n[sec2]\nuser = u\nport = 1\n' > secrets/s.ini
	fixture git add -A
	fixture git commit -qm base
	at 11
	fixture git checkout -qb m
	printf '[db]\nk = 1\n' > secrets/s.ini
	fixture git commit -qam "m: no sec2"
	at 12
	fixture git checkout -qb x main
	printf '[db]\nk = 1\n\n[sec2]\nuser = u-x\nport = 1\n' > secrets/s.ini
	fixture git commit -qam "x: user"
	at 13
	merge_base s.ini m2 m x '[db]\nk = 1\n'
	at 14
	merge_base s.ini x2 x m '[db]\nk = 1\n\n[sec2]\nuser = u-x\nport = 1\n'
	at 15
	printf '[db]\nk = 1\n\n[sec2]\nuser = u-x\nport = 2\n\n[name]\nuser1 = n\n' > secrets/s.ini
	fixture git commit -qam x3
	at 16
	fixture git checkout -q m2
	printf '; about db\n[db]\nk = 1\n' > secrets/s.ini
	fixture git commit -qam m3
	run git merge --no-edit x2
	echo "$output"
	cat secrets/s.ini
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/s.ini': changed on both sides: sec2" <<<"$output"
	[ "$(grep -c '^<<<<<<< ' secrets/s.ini)" -eq 1 ]
	[ "$(sed -n '/^=======$/,/^>>>>>>> /p' secrets/s.ini | grep -c '^\[sec2\]$')" -eq 1 ]
	grep -qx '; about db' secrets/s.ini
}

@test "ours removes a map or keys that theirs only reordered: the removal, as the other way round" {
	# a side that only moved keys loses no edit to a removal; the driver
	# saw that only for theirs' removal and conflicted over ours' (the
	# file emptied: above, with the documents)
	merge_three r1.yaml 'm:\n  x: 1\n  y: 2\nk: 1\n' 'k: 1\n' 'm:\n  y: 2\n  x: 1\nk: 1\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/r1.yaml)" = "k: 1" ]
	assert_status_clean
	merge_three r3.env 'A=1\nB=2\nC=3\n' 'A=1\n' 'C=3\nA=1\nB=2\n'
	[ "$status" -eq 0 ]
	[ "$(cat secrets/r3.env)" = "A=1" ]
}

@test "a criss-cross merge whose merge bases ordered the keys differently: each side keeping its order conflicts, both whole between markers" {
	# the virtual base took one merge base's order (whichever git put
	# first): the side that kept the other's order won in silence, and
	# which side that was depended on git
	printf 'A=1\nB=2\nC=3\n' > secrets/f.env
	fixture git add -A
	fixture git commit -qm base
	fixture git checkout -qb x
	printf 'B=2\nA=1\nC=3\n' > secrets/f.env
	fixture git commit -qam x
	fixture git checkout -q main
	printf 'A=1\nC=3\nB=2\n' > secrets/f.env
	fixture git commit -qam m
	merge_base f.env m2 main x 'A=1\nC=3\nB=2\n'
	merge_base f.env x2 x main 'B=2\nA=1\nC=3\n'
	grep -qxF "gitseal: error: conflict in 'secrets/f.env': changed on both sides: the order of the top-level keys" <<<"$output"
	printf 'B=2\nA=1\nC=30\n' > secrets/f.env
	fixture git commit -qam x3
	fixture git checkout -q m2
	printf 'A=10\nC=3\nB=2\n' > secrets/f.env
	fixture git commit -qam m3
	[ "$(git merge-base --all m2 x2 | wc -l)" -eq 2 ]
	run git merge --no-edit x2
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/f.env': changed on both sides: the order of the top-level keys" <<<"$output"
	[ "$(cat secrets/f.env)" = "$(printf '<<<<<<< ours\nA=10\nC=30\nB=2\n=======\nB=2\nA=10\nC=30\n>>>>>>> theirs')" ]
	assert_markers_refused_at_commit secrets/f.env
}

# merge.py seed 5150 (yaml, case 104): theirs added a document and made a
# map a list; ours added a comment inside that map. The documents merge as
# one atom (theirs'), and ours' comment had no document left to stand in:
# both tree merges gave the same text, and the markers came from a line
# merge of the versions, whose ours' side held ours' map, not the list
@test "a document added on one side, a comment added inside a value it replaced on the other: theirs' data on both sides, the comment on ours'" {
	merge_three c.yaml 'nest:\n  a: 1\n  x:\n    user: null\nz: 1\n' \
		'nest:\n  a: 1\n  x:\n    # about user\n    user: null\nz: 1\n' \
		'nest:\n  a: 1\n  x: [val]\nz: 1\n---\nu: 2\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/c.yaml': changed on both sides: the comment above nest.x.user" <<<"$output"
	for side in ours theirs; do
		text=$(conflict_side_text secrets/c.yaml "$side")
		run ! grep -q 'user:' <<<"$text"
		grep -qE '^  x: \[val\]$|^    - val$' <<<"$text"
		grep -qx 'u: 2' <<<"$text"
		grep -qx -- '---' <<<"$text"
	done
	assert_side_holds secrets/c.yaml ours '# about user'
	run ! grep -q 'about user' <(conflict_side_text secrets/c.yaml theirs)
	assert_markers_refused_at_commit secrets/c.yaml
}

# merge.py seed 4242 (dotenv, criss-cross, case 9): a key theirs added went
# to the end of the map, so merging m into x and x into m gave two orders;
# git merged the merge bases one way round and the model the other, and
# the result conflicted over an order neither side changed. A key theirs
# adds now stands after the key it follows there, either way round.
@test "a key theirs adds stands where they put it, so that the merge's order does not depend on which side is ours" {
	merges_to a.env 'A=1\nC=3\n' 'A=1\nC=30\n' 'A=1\nB=2\nC=3\n' 'A=1\nB=2\nC=30'
	merges_to a.yaml 'a: 1\nd: 4\n' 'a: 1\nd: 4\ne: 5\n' 'a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n' 'a: 1\nb: 2\nc: 3\nd: 4\ne: 5'
	assert_status_clean
}

# Keys the two sides added after the same key stood theirs' first, so
# their order depended on which side was ours; git merges a criss-cross
# history's merge bases in the order of their dates, so the base of the
# real merge changed with the clock, and the same merge conflicted on the
# order of the keys or not (red team 19, seed 19190519 dotenv criss-cross
# case 5). They stand in the byte order of their names now.
@test "keys both sides added after the same key stand in the order of their names, whichever side is ours" {
	merges_to a.env 'A=1\n' 'A=1\nM=2\n' 'A=1\nC=3\n' 'A=1\nC=3\nM=2'
	merges_to b.env 'A=1\n' 'A=1\nC=3\n' 'A=1\nM=2\n' 'A=1\nC=3\nM=2'
	merges_to c.yaml 'a: 1\n' 'a: 1\n# zed\nz: 26\n' 'a: 1\nb: 2\n' 'a: 1\nb: 2\n# zed\nz: 26'
	assert_status_clean
}
