#!/usr/bin/env bats
# Red team round 4 (F2, F4, F5): what a file name chosen by a pull request
# can do to the records of .git/gitseal/accepted and to the terminal.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_with_mallory; }
teardown() { gs_teardown; }

# mallory's pull request adds "secrets/prod/db.yaml " (a trailing blank),
# hand-made for the victim and mallory; no rule matches it
add_trailing_blank_file() {
	printf 'note: harmless\n' > "$T/n.yaml"
	(cd "$T" && fixture gitseal encrypt --input-type binary --output-type binary --age "$RECIPIENT,$M" n.yaml) \
		> "$T/mallory/secrets/prod/db.yaml "
	as_person mallory git add "secrets/prod/db.yaml "
	as_person mallory git commit -qm "notes"
}

@test "F2: updatekeys -r refuses a path with a trailing blank; no record reads back for the real prod file" {
	dev_prod_layout '^secrets/prod/.*\.yaml$' '^secrets/dev/.*\.yaml$'
	add_trailing_blank_file
	pull_from mallory
	run "$GITSEAL_BIN" updatekeys -y -r . </dev/null
	grep -qxF "gitseal: 'secrets/prod/db.yaml ': a path with a leading or trailing blank or a control byte: its recipients cannot be accepted" <<<"$output"
	run ! grep -qF "$M	secrets/prod/db.yaml" .git/gitseal/accepted
	run "$GITSEAL_BIN" git status
	grep -qxF "secrets/prod/db.yaml: decrypted" <<<"$output"
}

@test "F2: git init in a fresh clone names a path with a trailing blank and records nothing for it" {
	dev_prod_layout '^secrets/prod/.*\.yaml$' '^secrets/dev/.*\.yaml$'
	add_trailing_blank_file
	git -c filter.gitseal.process= -c filter.gitseal.required=false pull -q --no-rebase --no-edit "$T/mallory" main
	git clone -q "$REPO" "$T/fresh"
	cd "$T/fresh"
	run -0 "$GITSEAL_BIN" git init 'secrets/**'
	grep -qxF "gitseal: 'secrets/prod/db.yaml ': a path with a leading or trailing blank or a control byte: its recipients cannot be accepted" <<<"$output"
	run ! grep -qF "secrets/prod/db.yaml" .git/gitseal/accepted
}

@test "F2: records round-trip byte for byte: a record for a path with a trailing blank (written by hand) grants nothing to the path without it" {
	dev_prod_layout '^secrets/prod/.*\.yaml$' '^secrets/dev/.*\.yaml$'
	printf '%s\tsecrets/prod/db.yaml \n' "$M" >> .git/gitseal/accepted
	(cd "$T/mallory" && drop_stanza "$M" "$T/stanza" < secrets/dev/db.yaml > /dev/null &&
		graft_stanza "$T/stanza" < secrets/prod/db.yaml > "$T/planted" && cp "$T/planted" secrets/prod/db.yaml)
	as_person mallory git commit -qam "chore"
	pull_from mallory
	run "$GITSEAL_BIN" git status
	grep -qF "secrets/prod/db.yaml: decrypted; recipients changed: +$M" <<<"$output"
	printf 'prod_password: PROD-NEW-SECRET\n' > secrets/prod/db.yaml
	run git add secrets/prod/db.yaml
	[ "$status" -eq 128 ]
}

hand_made_for_mallory() {
	printf 'k: v\n' > "$T/hand.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT,$M" hand.yaml) > "$1"
}

# secrets/x.yaml, accepted for mallory too; her pull request runs "$@" in
# her clone in its place and commits
x_for_mallory_then_replaced() {
	hand_made_for_mallory secrets/x.yaml
	fixture gitseal updatekeys -y secrets/x.yaml 2>/dev/null
	grep -qxF "$M	secrets/x.yaml" .git/gitseal/accepted
	fixture git add secrets/x.yaml
	fixture git commit -qm "x for mallory"
	as_person mallory git pull -q --no-rebase --no-edit
	as_person mallory git rm -q secrets/x.yaml
	(cd "$T/mallory" && "$@")
	as_person mallory git add -A
	as_person mallory git commit -qm "x replaced"
	pull_from mallory
}

assert_x_records_gone() {
	run -0 "$GITSEAL_BIN" git status
	grep -qxF ".: recipients still accepted for 1 file gone (secrets/x.yaml); run 'gitseal updatekeys -r .' to see and drop them" <<<"$output"
	run -0 "$GITSEAL_BIN" updatekeys -y -r .
	grep -qxF "forget secrets/x.yaml: $M (file gone)" <<<"$output"
	run ! grep -qF "$M" .git/gitseal/accepted
}

@test "F4: a symbolic link in a gone file's place holds no file: status hints and updatekeys -r forgets its records" {
	x_for_mallory_then_replaced ln -s app.yaml secrets/x.yaml
	[ -L secrets/x.yaml ]
	assert_x_records_gone
}

@test "F4: a directory in a gone file's place holds no file: status hints and updatekeys -r forgets its records" {
	x_for_mallory_then_replaced sh -c 'mkdir secrets/x.yaml && echo a > secrets/x.yaml/README'
	[ -d secrets/x.yaml ]
	assert_x_records_gone
}

@test "F5: a file name with terminal escapes is shown escaped by status and the updatekeys prompt, which keeps its +++ lines" {
	cat > .sops.yaml <<YAML
creation_rules:
  - path_regex: ^secrets/prod/
    age: $RECIPIENT
  - path_regex: ^secrets/
    age: $RECIPIENT,$M
YAML
	mkdir -p secrets/prod
	printf 'prod_password: PROD-ORIG\n' > secrets/prod/db.yaml
	"$GITSEAL_BIN" updatekeys -y -r . </dev/null 2>/dev/null
	git add -A
	git commit -qm "prod"
	as_person mallory git pull -q --no-rebase --no-edit
	# the prod rule widened to mallory, and a file whose name moves the
	# cursor up, clears the screen below it and hides what follows
	as_person mallory sed -i "0,/    age: $RECIPIENT\$/s//    age: $RECIPIENT,$M/" .sops.yaml
	name=$(printf 'secrets/zz\r\033[4A\033[J\033[2J\033[8m\177')
	printf 'a: 1\n' > "$T/z.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT,$M" z.yaml) > "$T/mallory/$name"
	# U+009B, the C1 form of ESC [
	name2=$(printf 'secrets/prod/yy\302\2332J')
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT" z.yaml) > "$T/mallory/$name2"
	as_person mallory git add -A
	as_person mallory git commit -qm "chore: tidy prod"
	pull_from mallory
	shown='secrets/zz\x0d\x1b[4A\x1b[J\x1b[2J\x1b[8m\x7f'
	out=$("$GITSEAL_BIN" git status)
	run ! grep -q $'[\001-\010\013-\037\177]' <<<"$out"
	grep -qF "$shown: " <<<"$out"
	grep -qF ".sops.yaml: recipients changed: +$M" <<<"$out"
	out=$("$GITSEAL_BIN" updatekeys -r . </dev/null 2>&1) || true
	run ! grep -q $'[\001-\010\013-\037\177]' <<<"$out"
	grep -qxF "gitseal: '$shown': a path with a leading or trailing blank or a control byte: its recipients cannot be accepted" <<<"$out"
	grep -qxF "secrets/prod/db.yaml:" <<<"$out"
	grep -qxF "+++ $M" <<<"$out"
	grep -qxF 'secrets/prod/yy\xc2\x9b2J:' <<<"$out"
	out=$("$GITSEAL_BIN" updatekeys "$name2" </dev/null 2>&1) || true
	grep -qF "Is this okay for 'secrets/prod/yy\xc2\x9b2J'? (y/n)" <<<"$out"
	run ! grep -q $'\302\233' <<<"$out"
}

@test "F2: status and git add give a path no record can name a hint to rename it, not one to run updatekeys" {
	dev_prod_layout '^secrets/prod/.*\.yaml$' '^secrets/dev/.*\.yaml$'
	add_trailing_blank_file
	pull_from mallory
	hint="a name with a leading or trailing blank or a control byte cannot be accepted: rename the file ('git mv'), then run 'gitseal updatekeys' on its new name"
	run "$GITSEAL_BIN" git status
	echo "$output"
	grep -qxF "secrets/prod/db.yaml : decrypted; recipients changed: +$M; $hint" <<<"$output"
	run ! grep -qF "secrets/prod/db.yaml : decrypted; recipients changed: +$M; run 'gitseal updatekeys'" <<<"$output"
	printf 'note: edited\n' > "secrets/prod/db.yaml "
	run git add "secrets/prod/db.yaml "
	echo "$output"
	[ "$status" -eq 128 ]
	grep -qF "recipients changed: +$M; $hint" <<<"$output"
	# the hint works: the renamed file can be accepted
	git mv "secrets/prod/db.yaml " secrets/prod/notes.yaml
	run "$GITSEAL_BIN" updatekeys -y secrets/prod/notes.yaml </dev/null
	echo "$output"
	[ "$status" -eq 0 ]
	run -0 "$GITSEAL_BIN" git status
	echo "$output"
	run ! grep -qF "recipients changed" <<<"$output"
	git add secrets/prod/notes.yaml
}

# Red team 6: a sealed conflict ({"gitseal_conflict": ..., "sops": ...},
# conflict.c) is what the merge driver stages; a pull request can commit
# one by hand in a file's place. Smudge shows its one value as the file,
# and the clean of an edit starts from it (filter.c, "its resolution
# keeps the file's rule"). These passed from the start; no test planted
# such a blob before.

# conflict_form_from_mallory ARGS...: mallory commits secrets/app.yaml as
# a sealed conflict whose text is a plain YAML file, sealed with ARGS
# (encrypt options); the victim pulls it
conflict_form_from_mallory() {
	printf '{"gitseal_conflict": "db_password: hunter2-old\\nport: 5432\\n"}' > "$T/c.json"
	(cd "$T" && fixture gitseal encrypt --input-type json --output-type json "$@" c.json) > "$T/conflict.json"
	cp "$T/conflict.json" "$T/mallory/secrets/app.yaml"
	as_person mallory git commit -qam "conflict form"
	pull_from mallory
	[ "$(cat secrets/app.yaml)" = "$(printf 'db_password: hunter2-old\nport: 5432')" ]
}

# data_key FILE: the data key of a sealed file, opened with the victim's key
data_key() {
	python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]).read().replace("\t", " "))["sops"]["age"][0]["enc"])' "$1" |
		age -d -i "$T/key.txt" | od -An -tx1 | tr -d ' \n'
}

@test "RT6: a sealed conflict planted for the victim and mallory: the next edit is refused for her recipient" {
	conflict_form_from_mallory --age "$RECIPIENT,$M"
	printf 'new_secret: s3cret\n' >> secrets/app.yaml
	run git add secrets/app.yaml
	[ "$status" -eq 128 ]
	grep -qF "recipients changed: +$M; run 'gitseal updatekeys' to accept" <<<"$output"
}

@test "RT6: a sealed conflict planted for the victim alone (mallory made its key): the next edit gets a fresh data key" {
	conflict_form_from_mallory --age "$RECIPIENT"
	printf 'new_secret: s3cret\n' >> secrets/app.yaml
	git add secrets/app.yaml
	git commit -qm mine
	git show HEAD:secrets/app.yaml > "$T/new.yaml"
	grep -q '^new_secret: ENC\[' "$T/new.yaml"
	[ -n "$(data_key "$T/conflict.json")" ]
	[ -n "$(data_key "$T/new.yaml")" ]
	[ "$(data_key "$T/new.yaml")" != "$(data_key "$T/conflict.json")" ]
}

@test "RT6: a sealed conflict whose rule leaves values in clear: the next edit is refused" {
	conflict_form_from_mallory --unencrypted-regex '^(new_secret|db_password)$' --age "$RECIPIENT"
	printf 'new_secret: s3cret\n' >> secrets/app.yaml
	run git add secrets/app.yaml
	[ "$status" -eq 128 ]
	grep -qF "would be in clear under the file's own rule (unencrypted_regex '^(new_secret|db_password)\$')" <<<"$output"
	run ! git grep -q s3cret $(git rev-list --all) || false
}
