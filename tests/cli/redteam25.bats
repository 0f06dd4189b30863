#!/usr/bin/env bats
# Rule 1, red team 25: a differential campaign against the peers (npm
# sops-age, age, the Go sops files); each test is one hole it found, with
# the input bytes given here.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# D1: a flat file's blocks come back at the step of its sops metadata
# (encrypt writes it at their step, fidelity.bats). rotate, updatekeys,
# set and unset wrote the metadata afresh at 4, so a 2-space block
# decrypted at 4 after them: the same data, other bytes, exit 0. A block
# with an indentation indicator ("|2" and a line led by a space) was
# measured at its first line's column, 3, and came back as "|3", then
# one column further in at each rotate.
@test "D1: a flat file's blocks decrypt to the same bytes after encrypt, rotate, updatekeys, set and unset" {
	printf 'creation_rules:\n  - age: %s,%s\n' "$DEMO_RECIPIENT" "$(gitseal_fixture keygen -y "$KEYS/test-age-key-2.txt")" >.sops.yaml
	for input in 'k: |\n  a\n  b\nl:\n- x\n' 'k: |2\n   lead\n  x\n'; do
		printf -- "$input" >in.yaml
		gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
		gitseal_fixture decrypt enc.yaml | cmp - in.yaml
		gitseal rotate -i enc.yaml
		gitseal_fixture decrypt enc.yaml | cmp - in.yaml
		gitseal updatekeys -y enc.yaml
		gitseal_fixture decrypt enc.yaml | cmp - in.yaml
		gitseal set enc.yaml '["n"]' '1'
		gitseal unset enc.yaml '["n"]'
		gitseal_fixture decrypt enc.yaml | cmp - in.yaml
		grep -qx '  age:' enc.yaml
	done
}
