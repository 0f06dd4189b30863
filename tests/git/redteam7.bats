#!/usr/bin/env bats
# Red team round 7: the git side against rule 1 (merges, checkouts).

bats_require_minimum_version 1.5.0
load helpers
load merge_helpers

setup() { gs_setup_from init_base; }
init_base() { git add -A && git commit -qm init; }
teardown() { gs_teardown; }

# The merge's result as committed, decrypted (by the release build where
# make gave one: what is checked is what the merge under test wrote).
committed_plain() {
	git show "HEAD:secrets/$1" | "${GITSEAL_CHECK_BIN:-$GITSEAL_BIN}" decrypt --input-type yaml --output-type yaml /dev/stdin
}

@test "F1: a tag theirs changes on a map ours edits is kept (a tag is data)" {
	merge_three t1.yaml 'd: !custom\n  k: v\ne: 1\n' 'd: !custom\n  k: w\ne: 1\n' 'd: !other\n  k: v\ne: 1\n'
	[ "$status" -eq 0 ]
	run committed_plain t1.yaml
	grep -q '^d: !other *$' <<<"$output"
	grep -q '^ *k: w$' <<<"$output"
}

@test "F1: a tag theirs adds or removes on a map, and a document's tag, are kept" {
	merge_three t2.yaml 'd:\n  k: v\ne: 1\n' 'd:\n  k: w\ne: 1\n' 'd: !!omap\n  k: v\ne: 1\n'
	[ "$status" -eq 0 ]
	run committed_plain t2.yaml
	# in place, on the key's line (it was the map written afresh, or the
	# tag on a line of its own)
	[ "$output" = "$(printf 'd: !!omap\n  k: w\ne: 1')" ]
	merge_three t3.yaml 'd: !x\n  k: v\ne: 1\n' 'd: !x\n  k: w\ne: 1\n' 'd:\n  k: v\ne: 1\n'
	[ "$status" -eq 0 ]
	run committed_plain t3.yaml
	[ "$output" = "$(printf 'd:\n  k: w\ne: 1')" ]
	merge_three t4.yaml '# c\n--- !t\nk: v\ne: 1\n' '# c\n--- !t\nk: w\ne: 1\n' '# c\n--- !u\nk: v\ne: 1\n'
	[ "$status" -eq 0 ]
	run committed_plain t4.yaml
	grep -q '!u' <<<"$output"
	! grep -q '!t' <<<"$output" || false
}

@test "F1: a map's tag changed differently on both sides conflicts, the markers around the tag's line only" {
	merge_three t5.yaml 'd:\n  k: v\ne: 1\n' 'd: !a\n  k: w\ne: 1\n' 'd: !b\n  k: v\ne: 1\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/t5.yaml': changed on both sides: the tag of d" <<<"$output"
	# theirs' side was the map written afresh ("d: !b " and its keys at
	# another indentation): now each side is its version of that line
	[ "$(cat secrets/t5.yaml)" = "$(printf '<<<<<<< ours\nd: !a\n=======\nd: !b\n>>>>>>> theirs\n  k: w\ne: 1')" ]
	assert_markers_refused_at_commit secrets/t5.yaml
}

@test "F1: a document's tag changed differently on both sides: the markers around its two versions of the line, the rest kept" {
	merge_three t6.yaml '# c\n--- !a\nx: 1\n"y": 2\n---\nz: 3\n' '# c\n--- !b\nx: 1\n"y": 2\n---\nz: 3\n' \
		'# c\n--- !c\nx: 1\n"y": 5\n---\nz: 4\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/t6.yaml': changed on both sides: the document's tag" <<<"$output"
	[ "$(cat secrets/t6.yaml)" = "$(printf '# c\n<<<<<<< ours\n--- !b\n=======\n--- !c\n>>>>>>> theirs\nx: 1\n"y": 5\n---\nz: 4')" ]
	assert_markers_refused_at_commit secrets/t6.yaml
	# a list (an atom) whose tag both changed: its line only
	fixture git merge --abort
	merge_three t7.yaml 'l: !a [1, 2]\nk: 1\n' 'l: !b [1, 2]\nk: 1\n' 'l: !c [1, 2]\nk: 2\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/t7.yaml': changed on both sides: l" <<<"$output"
	[ "$(cat secrets/t7.yaml)" = "$(printf '<<<<<<< ours\nl: !b [1, 2]\n=======\nl: !c [1, 2]\n>>>>>>> theirs\nk: 2')" ]
}

@test "F2: ours empties the file, theirs changes a comment: the conflict shows theirs' lines between markers" {
	merge_three z4.yaml 'a: 1 # c\n' '' 'a: 1 # d\n'
	[ "$status" -eq 1 ]
	assert_side_holds secrets/z4.yaml theirs 'a: 1 # d'
	assert_markers_refused_at_commit secrets/z4.yaml
}

@test "F2: theirs empties the file, ours changes a comment: the conflict shows ours' lines between markers" {
	merge_three z6.yaml 'a: 1 # c\n' 'a: 1 # d\n' ''
	[ "$status" -eq 1 ]
	assert_side_holds secrets/z6.yaml ours 'a: 1 # d'
	assert_markers_refused_at_commit secrets/z6.yaml
}

@test "F4: a commit that adds or removes a document without a value passes the hook; a partial stage is still refused" {
	# the MAC covers the values of all documents, not where one ends: such
	# a change keeps it, and the hook took it for a part of a change staged
	# with git add -p
	printf 'a: x\nz: 0\n' > secrets/f.yaml
	fixture git add -A
	fixture git commit -qm base
	for text in 'a: x\nz: 0\n---\n{}\n' 'a: x\nz: 0\n---\n{}\n---\nn: []\n' '{}\n---\na: x\nz: 0\n' 'a: x\nz: 0\n'; do
		printf "$text" > secrets/f.yaml
		run git commit -qam "$text"
		echo "$output"
		[ "$status" -eq 0 ]
		[ "$(git show HEAD:secrets/f.yaml | gitseal_textconv)" = "$(printf "$text")" ]
	done
	# a value changed in another document with the committed MAC kept
	printf 'a: x\n---\nb: 1\n' > secrets/f.yaml
	fixture git add -A
	fixture git commit -qm two
	stage_value_with_committed_mac secrets/f.yaml b 'a: x\n---\nb: 2\n'
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/f.yaml': only a part of a change is staged (git add -p?): its MAC cannot match; stage the whole file with 'git add secrets/f.yaml'" <<<"$output"
}

@test "F1: a tag theirs adds or removes on a value the rule leaves in clear is kept" {
	cat > .sops.yaml <<YAML
creation_rules:
  - path_regex: secrets/.*\.yaml$
    encrypted_regex: ^pass
    age: $RECIPIENT
YAML
	fixture gitseal updatekeys -y -r . </dev/null
	fixture git add -A
	fixture git commit -qm rule
	merge_three u1.yaml 'name: !local v\nother: 1\npass: x\n' 'name: !local v\nother: 2\npass: x\n' 'name: v\nother: 1\npass: x\n'
	[ "$status" -eq 0 ]
	git show HEAD:secrets/u1.yaml | grep -qx 'name: v'
	git show HEAD:secrets/u1.yaml | grep -qx 'other: 2'
	merge_three u2.yaml 'name: v\nother: 1\npass: x\n' 'name: v\nother: 2\npass: x\n' 'name: !local v\nother: 1\npass: x\n'
	[ "$status" -eq 0 ]
	git show HEAD:secrets/u2.yaml | grep -qx 'name: !local v'
	git show HEAD:secrets/u2.yaml | grep -qx 'other: 2'
}

@test "F5: a 2-space block in a flat file that holds a list comes back at 2 after a checkout" {
	printf 'a: |\n  x\nl:\n- 1\n' > secrets/s1.yaml
	printf 'a: |\n  x\nl:\n  - 1\n' > secrets/s2.yaml
	printf 'l:\n  - 1\nb: |-\n  y\n  z\n' > secrets/s3.yaml
	mkdir -p "$T/f5"
	cp secrets/s1.yaml secrets/s2.yaml secrets/s3.yaml "$T/f5/"
	git add secrets
	git commit -qm f5
	rm secrets/s1.yaml secrets/s2.yaml secrets/s3.yaml
	git checkout -- secrets
	for f in s1 s2 s3; do cmp "secrets/$f.yaml" "$T/f5/$f.yaml"; done
	assert_status_clean
}

# F3: the order of keys is data (doc_equal counts it); a merge may not drop
# a reordering one side made.
# FILE with each conflict resolved to SIDE (ours|theirs): what taking that side by hand gives.
conflict_side_text() {
	awk -v side="$2" '/^<<<<<<< /{m=1; next} /^=======$/{m=2; next} /^>>>>>>> /{m=0; next}
		!m || (m==1 && side=="ours") || (m==2 && side=="theirs")' "$1"
}
any_file_rule() { printf 'creation_rules:\n  - path_regex: secrets/.*\n    age: %s\n' "$RECIPIENT" > .sops.yaml; }
committed_as() { git show "HEAD:secrets/$2" | "$GITSEAL_BIN" decrypt --input-type "$1" --output-type "$1" /dev/stdin; }

@test "F3: a dotenv reorder theirs made is kept when ours edits the next line" {
	any_file_rule
	merge_three o1.env 'A=1\nB=${A}x\nC=3\n' 'A=1\nB=${A}x\nC=4\n' 'B=${A}x\nA=1\nC=3\n'
	[ "$status" -eq 0 ]
	run committed_as dotenv o1.env
	[ "$output" = "$(printf 'B=${A}x\nA=1\nC=4')" ]
	# and the other way round: ours reordered, theirs edited
	merge_three o2.env 'A=1\nB=${A}x\nC=3\n' 'B=${A}x\nA=1\nC=3\n' 'A=1\nB=${A}x\nC=4\n'
	[ "$status" -eq 0 ]
	run committed_as dotenv o2.env
	[ "$output" = "$(printf 'B=${A}x\nA=1\nC=4')" ]
	# INI: sections and their keys
	merge_three o6.ini '[a]\nx = 1\n[b]\ny = 2\nw = 5\n[c]\nz = 3\n' '[a]\nx = 1\n[b]\ny = 2\nw = 5\n[c]\nz = 4\n' \
		'[b]\nw = 5\ny = 2\n[a]\nx = 1\n[c]\nz = 3\n'
	[ "$status" -eq 0 ]
	run committed_as ini o6.ini
	echo "$output"
	[ "$output" = "$(printf '[b]\nw = 5\ny = 2\n[a]\nx = 1\n[c]\nz = 4')" ]
}

@test "F3: a YAML map reorder theirs made is kept when ours edits the next line, nested too" {
	merge_three o3.yaml 'a: 1\nb: 2\nc: 3\n' 'a: 1\nb: 2\nc: 4\n' 'b: 2\na: 1\nc: 3\n'
	[ "$status" -eq 0 ]
	run committed_plain o3.yaml
	[ "$output" = "$(printf 'b: 2\na: 1\nc: 4')" ]
	merge_three o4.yaml 'm:\n  a: 1\n  b: 2\n  c: 3\n' 'm:\n  a: 1\n  b: 2\n  c: 4\n' 'm:\n  b: 2\n  a: 1\n  c: 3\n'
	[ "$status" -eq 0 ]
	run committed_plain o4.yaml
	# in the file's own step (2), not yaml.v3's 4 (mergefix: merged_step)
	[ "$output" = "$(printf 'm:\n  b: 2\n  a: 1\n  c: 4')" ]
}

@test "F3: keys both sides reordered differently conflict, each side's order kept between markers" {
	merge_three o6.yaml 'm:\n  a: 1\n  b: 2\n  c: 3\n' 'm:\n  b: 2\n  a: 1\n  c: 3\n' 'm:\n  a: 1\n  c: 3\n  b: 2\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/o6.yaml': changed on both sides: the order of keys in m" <<<"$output"
	fixture git merge --abort
	any_file_rule
	merge_three o5.env 'A=1\nB=2\nC=3\n' 'B=2\nA=1\nC=3\n' 'A=1\nC=3\nB=2\n'
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in 'secrets/o5.env': changed on both sides: the order of the top-level keys" <<<"$output"
	grep -q '^<<<<<<< ' secrets/o5.env
	run conflict_side_text secrets/o5.env ours
	[ "$output" = "$(printf 'B=2\nA=1\nC=3')" ]
	run conflict_side_text secrets/o5.env theirs
	[ "$output" = "$(printf 'A=1\nC=3\nB=2')" ]
	assert_markers_refused_at_commit secrets/o5.env
}
