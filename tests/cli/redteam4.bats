#!/usr/bin/env bats
# Rule 1 ("exit 0 means decrypt gives back exactly what you gave"), from the
# differential harness tests/redteam/rule1.py: each test is one defect it
# found, with the input bytes given here.

load ../helpers

setup() {
	setup_tmp
	cd "$TMP"
	export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
}
teardown() { teardown_tmp; }

@test "decrypt --extract of an empty list or a null prints a value that reads back as it (YAML and JSON)" {
	printf 'e: []\nn: null\nt: ~\nb:\n' >in.yaml
	gitseal encrypt --age "$(demo_recipient)" in.yaml >enc.yaml
	# an empty output reads as null (YAML) or not at all (JSON): sops prints
	# yaml.Marshal's '[]' and 'null', json.Marshal's 'null'
	run -0 gitseal decrypt --extract '["e"]' enc.yaml
	[ "$output" = "[]" ]
	gitseal decrypt --extract '["e"]' enc.yaml | cmp - <(printf '[]\n')
	for k in n t b; do
		gitseal decrypt --extract "[\"$k\"]" enc.yaml | cmp - <(printf 'null\n')
		gitseal decrypt --extract "[\"$k\"]" --output-type json enc.yaml | cmp - <(printf 'null')
	done
	gitseal decrypt --extract '["e"]' --output-type json enc.yaml | cmp - <(printf '[]')
	printf '{"n": null, "e": []}' >in.json
	gitseal encrypt --age "$(demo_recipient)" in.json >enc.json
	gitseal decrypt --extract '["n"]' enc.json | cmp - <(printf 'null')
	gitseal decrypt --extract '["e"]' enc.json | cmp - <(printf '[]')
}
