#!/usr/bin/env bats
# Red team 11 (docs/threat-model.md): the developer side. set's refusals
# name set; what updatekeys shows before it asks.

load ../helpers

setup() {
	setup_tmp
	cd "$TMP"
	export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
}
teardown() { teardown_tmp; }

@test "set of a dotenv key beginning with sops_ is refused by name (set, not decrypt), nothing written" {
	printf 'A=x\n' >s.env
	gitseal encrypt --age "$(demo_recipient)" s.env >e.env
	cp e.env before.env
	for key in sops_x sops_mac sops_; do
		run -4 --separate-stderr gitseal set e.env "[\"$key\"]" '"v"'
		[ "$stderr" = "gitseal: error: 'e.env': set: a dotenv key may not begin with 'sops_' (sops keeps its metadata there); nothing written" ]
		cmp e.env before.env
	done
	# other keys, and SOPS_ in capitals, are data
	gitseal set e.env '["SOPS_X"]' '"v"'
	[ "$(gitseal decrypt e.env)" = "$(printf 'A=x\nSOPS_X=v')" ]
}
