#!/usr/bin/env bats
# Red team 24 on the command side: the sops commands against a
# .sops.yaml and metadata a pull request changed.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# E1: outside a clone under `gitseal git init` the nearest .sops.yaml
# decides (as in sops), and a rule a pull request changed so that it
# encrypts none of a file's values (a Secret's `^(data|stringData)$` on
# a plain config, `unencrypted_suffix: word` for `password`) had
# `encrypt` write every value in clear, exit 0, nothing said. A selection
# flag is the user's own choice.
@test "E1: encrypt refuses a found rule that would encrypt none of the file's values" {
	printf 'password: hunter2\napi_token: t0k\n' >p.yaml
	printf 'creation_rules:\n  - age: %s\n    encrypted_regex: ^(data|stringData)$\n' "$DEMO_RECIPIENT" >.sops.yaml
	run -1 gitseal encrypt -i p.yaml
	[ "$output" = "gitseal: error: 'p.yaml': the creation rule of '$TMP/.sops.yaml' (encrypted_regex '^(data|stringData)$') encrypts none of the file's 2 values: each would be written in clear; nothing written (a selection flag such as --encrypted-regex, or --config, to choose)" ]
	grep -qx 'password: hunter2' p.yaml
	# one value sealed: the rule is the user's to read
	printf 'creation_rules:\n  - age: %s\n    encrypted_regex: ^password$\n' "$DEMO_RECIPIENT" >.sops.yaml
	run gitseal encrypt p.yaml
	[ "$status" -eq 0 ]
	[[ $output == *'password: ENC['* ]]
	# the user's own choices: written as asked
	run gitseal encrypt --encrypted-regex '^nothing$' p.yaml
	[ "$status" -eq 0 ]
	[[ $output == *'password: hunter2'* ]]
	printf 'creation_rules:\n  - age: %s\n    encrypted_regex: ^nothing$\n' "$DEMO_RECIPIENT" >.sops.yaml
	run gitseal encrypt --config .sops.yaml p.yaml
	[ "$status" -eq 0 ]
	[[ $output == *'password: hunter2'* ]]
}
