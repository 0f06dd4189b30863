#!/usr/bin/env bats
# Rule 1, red team 25: a differential campaign against the peers (npm
# sops-age, age, the Go sops files); each test is one hole it found, with
# the input bytes given here.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# D1: a flat file's blocks come back at the step of its sops metadata
# (encrypt writes it at their step, fidelity.bats). rotate, updatekeys,
# set, unset and groups wrote the metadata afresh at 4, so a 2-space block
# decrypted at 4 after them: the same data, other bytes, exit 0.
@test "D1: a flat file's 2-space blocks decrypt to the same bytes after rotate, updatekeys, set and unset" {
	printf 'k: |\n  a\n  b\nl:\n- x\n' >in.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
	gitseal rotate -i enc.yaml
	gitseal_fixture decrypt enc.yaml | cmp - in.yaml
	printf 'creation_rules:\n  - age: %s,%s\n' "$DEMO_RECIPIENT" "$(gitseal_fixture keygen -y "$KEYS/test-age-key-2.txt")" >.sops.yaml
	gitseal updatekeys -y enc.yaml
	gitseal_fixture decrypt enc.yaml | cmp - in.yaml
	gitseal set enc.yaml '["n"]' '1'
	gitseal unset enc.yaml '["n"]'
	gitseal_fixture decrypt enc.yaml | cmp - in.yaml
	grep -qx '  age:' enc.yaml
}
