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
