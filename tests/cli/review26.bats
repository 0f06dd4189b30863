#!/usr/bin/env bats
# Review 26: a second reading of stops 47-48's changes on the command side.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# B1: a flat file's blocks come back at the step encrypt measures
# (store_yaml_flat_block_step). A plain value ending in " |2" ("k: a |2",
# its next line continuing it) was taken for a block with indicator 2: m's
# 4-space block decrypted at 2, the same data, other bytes, exit 0. A tag
# or an anchor before the "|" still opens a block.
@test "B1: a plain value ending in ' |2' is no block: the file's blocks keep their step" {
	printf 'k: a |2\n   b\nm: |\n    c\n' >in.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
	gitseal_fixture decrypt enc.yaml >out.yaml
	grep -qx '    c' out.yaml
	for input in 'k: &a |2\n    a\n  b\n' 'k: x\nm: &x |\n   c\n'; do
		printf -- "$input" >in.yaml
		gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
		gitseal_fixture decrypt enc.yaml | cmp - in.yaml
	done
}
