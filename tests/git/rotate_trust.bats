#!/usr/bin/env bats
# rotate and a recipient planted in a file's metadata (outside the MAC):
# the new data key goes to recipients no reference names only when the
# user says so (-y, or y on a terminal). References: this clone's accepted
# recipients under `gitseal git init`, else .sops.yaml's creation rule;
# with neither, rotate does as sops does. Likewise a key-group count or a
# Shamir threshold planted in the metadata (not asked with an explicit
# --shamir-secret-sharing-threshold).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	gs_setup_from rotate_base
	M=$(recipient_of mallory)
	W="$T/work"
	cd "$W"
}
rotate_base() {
	gs_person mallory
	# outside any repository: a directory with its own .sops.yaml
	mkdir -p "$T/work"
	cd "$T/work"
	printf 'creation_rules:\n  - path_regex: \\.yaml$\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	printf 'db_password: hunter2\nport: 5432\n' > plain.yaml
	fixture gitseal encrypt plain.yaml > app.yaml
}
teardown() { gs_teardown; }

# A sops file on stdin with mallory's recipient and a stanza she made for
# another key grafted into its metadata: it still verifies.
plant_mallory() {
	printf 'x: 1\n' > "$T/x.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$M" x.yaml) > "$T/mx.yaml"
	drop_stanza "$M" "$T/stanza" < "$T/mx.yaml" > /dev/null
	graft_stanza "$T/stanza"
}

mallory_reads() { SOPS_AGE_KEY_FILE="$T/mallory.txt" fixture gitseal decrypt "$1"; }

@test "a planted recipient: rotate refuses without -y (1, one line naming the file), nothing written; -y shows the change and rotates for it; a file whose recipients the rule names rotates as before, without a word" {
	plant_mallory < app.yaml > planted.yaml
	fixture gitseal decrypt planted.yaml | cmp - plain.yaml
	cp planted.yaml before.yaml
	run -1 "$GITSEAL_BIN" rotate -i planted.yaml < /dev/null
	[ "$output" = "gitseal: error: 'planted.yaml': recipients only in its metadata, not in .sops.yaml's creation rule for it: +$M; the new data key would be readable by them (rotate -y to confirm)" ]
	cmp planted.yaml before.yaml
	# the bulk form refuses it the same way, file by file
	run -1 "$GITSEAL_BIN" rotate -r . < /dev/null
	grep -qF "./planted.yaml: error: './planted.yaml': recipients only in its metadata, not in .sops.yaml's creation rule for it: +$M; the new data key would be readable by them (rotate -y to confirm)" <<<"$output"
	grep -qxF "./app.yaml: rotated" <<<"$output"
	cmp planted.yaml before.yaml
	# -y shows the change and rotates for it
	plant_mallory < app.yaml > planted.yaml
	run -0 "$GITSEAL_BIN" rotate -y -i planted.yaml < /dev/null
	grep -qF "gitseal: 'planted.yaml': recipients only in its metadata, not in .sops.yaml's creation rule for it: +$M; the new data key would be readable by them" <<<"$output"
	fixture gitseal decrypt planted.yaml | cmp - plain.yaml
	# confirmed: the new data key is wrapped for mallory too
	mallory_reads planted.yaml | cmp - plain.yaml
	# a file whose recipients the rule names rotates as before, without a word
	old=$(grep '^db_password:' app.yaml)
	run -0 "$GITSEAL_BIN" rotate -i app.yaml < /dev/null
	[ -z "$output" ]
	# a new data key: the value is sealed afresh
	[ "$(grep '^db_password:' app.yaml)" != "$old" ]
	fixture gitseal decrypt app.yaml | cmp - plain.yaml
}

@test "--add-age is the user's own choice; once in the metadata, the next rotate asks" {
	run -0 "$GITSEAL_BIN" rotate -i --add-age "$M" app.yaml < /dev/null
	[ -z "$output" ]
	mallory_reads app.yaml | cmp - plain.yaml
	# once in the metadata, the next rotate asks: the rule does not name it
	run -1 "$GITSEAL_BIN" rotate -i app.yaml < /dev/null
	grep -qF "+$M; the new data key" <<<"$output"
	# --rm-age takes it out: nothing left to ask
	run -0 "$GITSEAL_BIN" rotate -i --rm-age "$M" app.yaml < /dev/null
	run -128 mallory_reads app.yaml
	[[ "$output" == "gitseal: error: 'app.yaml': cannot recover the data key: no key opened it"* ]]
}

@test "no reference (no .sops.yaml, no repository, or no creation rule that matches the file): rotate does as sops, the planted recipient gets the key" {
	plant_mallory < app.yaml > planted.yaml
	rm .sops.yaml
	run -0 "$GITSEAL_BIN" rotate -i planted.yaml < /dev/null
	[ -z "$output" ]
	mallory_reads planted.yaml | cmp - plain.yaml
	# no creation rule matches the file: no reference, as sops
	plant_mallory < app.yaml > planted.json.yaml
	printf 'creation_rules:\n  - path_regex: \\.json$\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	run -0 "$GITSEAL_BIN" rotate -i planted.json.yaml < /dev/null
	mallory_reads planted.json.yaml | cmp - plain.yaml
}

@test "in a repository under gitseal git init: the clone's accepted recipients, not the work tree's .sops.yaml" {
	cd "$REPO"
	mkdir -p plain
	plant_mallory < "$W/app.yaml" > plain/planted.yaml
	# a pull request may change .sops.yaml together with the metadata
	printf 'creation_rules:\n  - path_regex: \\.yaml$\n    age: %s,%s\n' "$RECIPIENT" "$M" > .sops.yaml
	run -1 "$GITSEAL_BIN" rotate -i plain/planted.yaml < /dev/null
	[ "$output" = "gitseal: error: 'plain/planted.yaml': recipients only in its metadata, not in this clone's accepted recipients: +$M; the new data key would be readable by them (rotate -y to confirm)" ]
	# her stanza holds another file's key: the values do not open
	run -25 mallory_reads plain/planted.yaml
	[ "$output" = "gitseal: error: 'plain/planted.yaml': value at 'db_password:': cannot decrypt value: authentication failed" ]
	# the file's accepted recipients alone: as before
	cp "$W/app.yaml" plain/app.yaml
	run -0 "$GITSEAL_BIN" rotate -i plain/app.yaml < /dev/null
	fixture gitseal decrypt plain/app.yaml | cmp - "$W/plain.yaml"
}

@test "on a terminal rotate asks: n leaves the file, y rotates" {
	command -v script > /dev/null || skip "no script(1) for a terminal"
	plant_mallory < app.yaml > planted.yaml
	cp planted.yaml before.yaml
	run -1 script -qec "'$GITSEAL_BIN' rotate -i planted.yaml" /dev/null <<<"n"
	grep -qF "Rotate 'planted.yaml' for them too? (y/n)" <<<"$output"
	cmp planted.yaml before.yaml
	run -0 script -qec "'$GITSEAL_BIN' rotate -i planted.yaml" /dev/null <<<"y"
	mallory_reads planted.yaml | cmp - plain.yaml
}

# ---- key groups and the Shamir threshold (outside the MAC too) ----

# Three age keys, one per group of a rule needing all three; this user
# holds all of them. Works in $W/g.
groups_setup() {
	for i in 1 2 3; do age-keygen -o "$T/g$i.txt" 2>/dev/null; done
	cat "$T"/g[123].txt > "$T/gall.txt"
	export SOPS_AGE_KEY_FILE="$T/gall.txt"
	mkdir -p "$W/g"
	cd "$W/g"
	groups_rule 3 3 > .sops.yaml
	cp "$W/plain.yaml" plain.yaml
}

# groups_rule N THRESHOLD: a rule with the first N keys, one a group
groups_rule() {
	printf 'creation_rules:\n  - path_regex: \\.yaml$\n    shamir_threshold: %s\n    key_groups:\n' "$2"
	for i in $(seq 1 "$1"); do printf '      - age: [%s]\n' "$(age-keygen -y "$T/g$i.txt")"; done
}

one_group_reads() { SOPS_AGE_KEY_FILE="$T/g1.txt" fixture gitseal decrypt "$1"; }

@test "a lowered threshold: rotate refuses without -y (1, one line naming the file), nothing written; -y shows the change and rotates as the metadata says; an explicit --shamir-secret-sharing-threshold is the user's choice: not asked" {
	groups_setup
	# as a pull request can: the same groups and recipients, 2 needed
	# (a file of its own: lowering the threshold of a file leaves its
	# shares unable to make the data key)
	fixture gitseal encrypt --shamir-secret-sharing-threshold 2 plain.yaml > low.yaml
	grep -qx '    shamir_threshold: 2' low.yaml
	cp low.yaml before.yaml
	run -1 "$GITSEAL_BIN" rotate -i low.yaml < /dev/null
	[ "$output" = "gitseal: error: 'low.yaml': key groups in its metadata differ from .sops.yaml's creation rule for it: groups needed: 3 -> 2; the new data key would be split as the metadata says (rotate -y to confirm)" ]
	cmp low.yaml before.yaml
	# in bulk too, file by file
	run -1 "$GITSEAL_BIN" rotate -r . < /dev/null
	grep -qF "./low.yaml: error: './low.yaml': key groups in its metadata differ from .sops.yaml's creation rule for it: groups needed: 3 -> 2;" <<<"$output"
	cmp low.yaml before.yaml
	# -y shows the change and rotates as the metadata says
	fixture gitseal encrypt --shamir-secret-sharing-threshold 2 plain.yaml > low.yaml
	old=$(grep '^db_password:' low.yaml)
	run -0 "$GITSEAL_BIN" rotate -y -i low.yaml < /dev/null
	[ "$output" = "gitseal: 'low.yaml': key groups in its metadata differ from .sops.yaml's creation rule for it: groups needed: 3 -> 2; the new data key would be split as the metadata says" ]
	[ "$(grep '^db_password:' low.yaml)" != "$old" ]
	grep -qx '    shamir_threshold: 2' low.yaml
	# confirmed: two groups of three read the new data key
	SOPS_AGE_KEY_FILE=<(cat "$T/g1.txt" "$T/g3.txt") fixture gitseal decrypt low.yaml | cmp - plain.yaml
	# an explicit --shamir-secret-sharing-threshold is the user's choice: not asked
	fixture gitseal encrypt --shamir-secret-sharing-threshold 2 plain.yaml > low.yaml
	run -0 "$GITSEAL_BIN" rotate -i --shamir-secret-sharing-threshold 2 low.yaml < /dev/null
	[ -z "$output" ]
	grep -qx '    shamir_threshold: 2' low.yaml
	run -128 one_group_reads low.yaml
	[[ "$output" == *"1 of 3 key groups opened, 2 needed"* ]]
	SOPS_AGE_KEY_FILE=<(cat "$T/g2.txt" "$T/g3.txt") fixture gitseal decrypt low.yaml | cmp - plain.yaml
}

@test "a threshold as the rule's rotates without a word, a higher one too; fewer key groups than the rule's: rotate shows both counts and refuses" {
	groups_setup
	fixture gitseal encrypt plain.yaml > app.yaml
	old=$(grep '^db_password:' app.yaml)
	run -0 "$GITSEAL_BIN" rotate -i app.yaml < /dev/null
	[ -z "$output" ]
	[ "$(grep '^db_password:' app.yaml)" != "$old" ]
	grep -qx '    shamir_threshold: 3' app.yaml
	fixture gitseal decrypt app.yaml | cmp - plain.yaml
	# the rule asks for 2 now: a file needing 3 is not weaker
	groups_rule 3 2 > .sops.yaml
	run -0 "$GITSEAL_BIN" rotate -i app.yaml < /dev/null
	[ -z "$output" ]
	grep -qx '    shamir_threshold: 3' app.yaml
	# fewer key groups than the rule's: rotate shows both counts and refuses
	groups_rule 2 2 > .sops.yaml
	fixture gitseal encrypt plain.yaml > two.yaml
	groups_rule 3 3 > .sops.yaml
	cp two.yaml before.yaml
	run -1 "$GITSEAL_BIN" rotate -i two.yaml < /dev/null
	[ "$output" = "gitseal: error: 'two.yaml': key groups in its metadata differ from .sops.yaml's creation rule for it: key groups: 3 -> 2, groups needed: 3 -> 2; the new data key would be split as the metadata says (rotate -y to confirm)" ]
	cmp two.yaml before.yaml
}

@test "in a repository under gitseal git init: the accepted .sops.yaml's groups, not the work tree's" {
	groups_setup
	cd "$REPO"
	cp "$W/g/.sops.yaml" .sops.yaml
	"$GITSEAL_BIN" updatekeys -y -r . < /dev/null
	# a pull request lowers the threshold and the work tree's .sops.yaml with it
	sed -i 's/shamir_threshold: 3/shamir_threshold: 2/' .sops.yaml
	mkdir -p plain
	(cd "$W/g" && fixture gitseal encrypt --shamir-secret-sharing-threshold 2 plain.yaml) > plain/low.yaml
	cp plain/low.yaml before.yaml
	run -1 "$GITSEAL_BIN" rotate -i plain/low.yaml < /dev/null
	[ "$output" = "gitseal: error: 'plain/low.yaml': key groups in its metadata differ from this clone's accepted .sops.yaml: groups needed: 3 -> 2; the new data key would be split as the metadata says (rotate -y to confirm)" ]
	cmp plain/low.yaml before.yaml
}

@test "on a terminal rotate asks about the groups: n leaves the file" {
	command -v script > /dev/null || skip "no script(1) for a terminal"
	groups_setup
	fixture gitseal encrypt --shamir-secret-sharing-threshold 2 plain.yaml > low.yaml
	cp low.yaml before.yaml
	run -1 script -qec "'$GITSEAL_BIN' rotate -i low.yaml" /dev/null <<<"n"
	grep -qF "groups needed: 3 -> 2" <<<"$output"
	grep -qF "Rotate 'low.yaml' so? (y/n)" <<<"$output"
	cmp low.yaml before.yaml
}
