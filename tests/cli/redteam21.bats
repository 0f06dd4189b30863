#!/usr/bin/env bats
# Red team 21 on the command side: what stop 45 added (.sops.yaml read as
# sops's yaml.v3 reads it).

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# S1: yaml.v3 decodes a bool field from YAML 1.2's true and false and YAML
# 1.1's yes/no, on/off, y/n (plain only), and refuses a quoted or tagged
# one; gitseal read only true/True/TRUE, so `mac_only_encrypted: "true"`
# (a .sops.yaml sops refuses) sealed files whose values in clear the MAC
# left out, and `mac_only_encrypted: yes` (true to sops) was false.
@test "S1: mac_only_encrypted is read as yaml.v3 reads a bool: yes and on are true, a quoted or tagged value is refused" {
	printf 'db: x\nport_unencrypted: 5432\n' >p.yaml
	for v in yes On TRUE; do
		printf 'creation_rules:\n  - age: %s\n    mac_only_encrypted: %s\n' "$DEMO_RECIPIENT" "$v" >.sops.yaml
		gitseal encrypt p.yaml | grep -qx '    mac_only_encrypted: true'
	done
	for v in '"true"' "'yes'" '!!str true' 1; do
		printf 'creation_rules:\n  - age: %s\n    mac_only_encrypted: %s\n' "$DEMO_RECIPIENT" "$v" >.sops.yaml
		run -1 gitseal encrypt p.yaml
		[ "$output" = "gitseal: error: 'p.yaml': $TMP/.sops.yaml: '.sops.yaml': 'mac_only_encrypted' must be true or false" ]
	done
	printf 'creation_rules:\n  - age: %s\n    mac_only_encrypted: off\n' "$DEMO_RECIPIENT" >.sops.yaml
	run gitseal encrypt p.yaml
	[ "$status" -eq 0 ]
	[[ $output != *mac_only_encrypted* ]]
}

# S2: yaml.v3 refuses a quoted int for an int field; gitseal read
# `shamir_threshold: "1"` as 1, a rule sops refuses (any one group opens).
# A tagged one is refused too, and a leading 0, octal to yaml.v3 (010 is
# 8 to sops, was 10 here).
@test "S2: a quoted, tagged or 0-led shamir_threshold or indent is refused (yaml.v3 refuses a quoted one, reads 010 as 8)" {
	printf 'db: x\n' >p.yaml
	for v in '"1"' "'2'" '!!int 2' 010 +02; do
		printf 'creation_rules:\n  - key_groups:\n    - age: [%s]\n    - age: [%s]\n    shamir_threshold: %s\n' \
			"$DEMO_RECIPIENT" "$DEMO_RECIPIENT" "$v" >.sops.yaml
		run -1 gitseal encrypt p.yaml
		[ "$output" = "gitseal: error: 'p.yaml': $TMP/.sops.yaml: '.sops.yaml': 'shamir_threshold' must be an integer" ]
	done
	printf 'stores:\n  yaml:\n    indent: "4"\ncreation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	run -1 gitseal encrypt p.yaml
	[ "$output" = "gitseal: error: 'p.yaml': $TMP/.sops.yaml: '.sops.yaml': 'indent' must be an integer" ]
	sed -i 's/"4"/4/' .sops.yaml
	gitseal encrypt p.yaml | grep -q '^db: ENC\['
}
