#!/usr/bin/env bats
# rotate and a recipient planted in a file's metadata (outside the MAC):
# the new data key goes to recipients no reference names only when the
# user says so (-y, or y on a terminal). References: this clone's accepted
# recipients under `gitseal git init`, else .sops.yaml's creation rule;
# with neither, rotate does as sops does.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	gs_setup
	gs_person mallory
	M=$(recipient_of mallory)
	# outside any repository: a directory with its own .sops.yaml
	W="$T/work"
	mkdir -p "$W"
	cd "$W"
	printf 'creation_rules:\n  - path_regex: \\.yaml$\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	printf 'db_password: hunter2\nport: 5432\n' > plain.yaml
	"$GITSEAL_BIN" encrypt plain.yaml > app.yaml
}
teardown() { gs_teardown; }

# A sops file on stdin with mallory's recipient and a stanza she made for
# another key grafted into its metadata: it still verifies.
plant_mallory() {
	printf 'x: 1\n' > "$T/x.yaml"
	(cd "$T" && "$GITSEAL_BIN" encrypt --age "$M" x.yaml) > "$T/mx.yaml"
	drop_stanza "$M" "$T/stanza" < "$T/mx.yaml" > /dev/null
	graft_stanza "$T/stanza"
}

mallory_reads() { SOPS_AGE_KEY_FILE="$T/mallory.txt" "$GITSEAL_BIN" decrypt "$1"; }

@test "a planted recipient: rotate refuses without -y (1, one line naming the file), nothing written" {
	plant_mallory < app.yaml > planted.yaml
	"$GITSEAL_BIN" decrypt planted.yaml | cmp - plain.yaml
	cp planted.yaml before.yaml
	run -1 "$GITSEAL_BIN" rotate -i planted.yaml < /dev/null
	[ "$output" = "gitseal: error: 'planted.yaml': recipients only in its metadata, not in .sops.yaml's creation rule for it: +$M; the new data key would be readable by them (rotate -y to confirm)" ]
	cmp planted.yaml before.yaml
	# the bulk form refuses it the same way, file by file
	run -1 "$GITSEAL_BIN" rotate -r . < /dev/null
	grep -qF "./planted.yaml: error: './planted.yaml': recipients only in its metadata, not in .sops.yaml's creation rule for it: +$M; the new data key would be readable by them (rotate -y to confirm)" <<<"$output"
	grep -qxF "./app.yaml: rotated" <<<"$output"
	cmp planted.yaml before.yaml
}

@test "a planted recipient: -y shows the change and rotates for it" {
	plant_mallory < app.yaml > planted.yaml
	run -0 "$GITSEAL_BIN" rotate -y -i planted.yaml < /dev/null
	grep -qF "gitseal: 'planted.yaml': recipients only in its metadata, not in .sops.yaml's creation rule for it: +$M; the new data key would be readable by them" <<<"$output"
	"$GITSEAL_BIN" decrypt planted.yaml | cmp - plain.yaml
	# confirmed: the new data key is wrapped for mallory too
	mallory_reads planted.yaml | cmp - plain.yaml
}

@test "a file whose recipients the rule names rotates as before, without a word" {
	old=$(grep '^db_password:' app.yaml)
	run -0 "$GITSEAL_BIN" rotate -i app.yaml < /dev/null
	[ -z "$output" ]
	# a new data key: the value is sealed afresh
	[ "$(grep '^db_password:' app.yaml)" != "$old" ]
	"$GITSEAL_BIN" decrypt app.yaml | cmp - plain.yaml
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
}

@test "no reference (no .sops.yaml, no repository): rotate does as sops, the planted recipient gets the key" {
	plant_mallory < app.yaml > planted.yaml
	rm .sops.yaml
	run -0 "$GITSEAL_BIN" rotate -i planted.yaml < /dev/null
	[ -z "$output" ]
	mallory_reads planted.yaml | cmp - plain.yaml
}

@test "no creation rule matches the file: no reference, as sops" {
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
	# the file's accepted recipients alone: as before
	cp "$W/app.yaml" plain/app.yaml
	run -0 "$GITSEAL_BIN" rotate -i plain/app.yaml < /dev/null
	"$GITSEAL_BIN" decrypt plain/app.yaml | cmp - "$W/plain.yaml"
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
