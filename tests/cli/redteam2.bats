#!/usr/bin/env bats
# Defects found by the second red-team pass over the sops command line
# (rule 1: exit 0 means decrypt gives back exactly what was given), each
# reproduced from outside with the built binary.

load ../helpers

setup() {
	setup_tmp
	cd "$TMP"
	gitseal_fixture keygen >k1.txt 2>/dev/null
	gitseal_fixture keygen -y k1.txt >r1.txt
	gitseal_fixture keygen >k2.txt 2>/dev/null
	gitseal_fixture keygen -y k2.txt >r2.txt
	cat k1.txt k2.txt >k12.txt
}
teardown() { teardown_tmp; }

# Go sops flattens the metadata of dotenv and INI files (stores/flatten.go):
# an empty list such as a key group's `hc_vault: []` leaves no line, so it
# is absent when read back. The proof must not call that a difference.
@test "key groups in dotenv and INI files: encrypt and groups add write a file both keys open" {
	cat >.sops.yaml <<YAML
creation_rules:
  - key_groups:
      - age: [$(cat r1.txt)]
      - age: [$(cat r2.txt)]
YAML
	printf 'A=1\nB=two words\n' >x.env
	printf '[s]\na = 1\n' >x.ini
	for f in x.env x.ini; do
		run gitseal encrypt "$f"
		[ "$status" -eq 0 ] || { echo "$f: $output"; false; }
		printf '%s\n' "$output" >"enc.$f"
		grep -q 'key_groups__list_1__map_age__list_0__map_recipient' "enc.$f"
		run env SOPS_AGE_KEY_FILE=k12.txt "$GITSEAL_BIN" decrypt "enc.$f"
		[ "$status" -eq 0 ]
		[ "$output" = "$(cat "$f")" ]
	done
	rm .sops.yaml
	export SOPS_AGE_KEY_FILE=k12.txt
	gitseal encrypt --age "$(cat r1.txt)" x.env >one.env
	run gitseal groups add -f one.env -i --age "$(cat r2.txt)"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	grep -q 'key_groups__list_1__map_age__list_0__map_recipient' one.env
	run gitseal decrypt one.env
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat x.env)" ]
}
