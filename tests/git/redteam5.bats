#!/usr/bin/env bats
# Rule 2 on the git side: what `gitseal git init` trusts in a fresh clone,
# and what the merge driver leaves in .git under conflict.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	gs_setup
	printf 'db_password: hunter2\nport: 5432\n' > secrets/app.yaml
	git add -A && git commit -qm base
	gs_person mallory
	M=$(recipient_of mallory)
}
teardown() { gs_teardown; }

# mallory's clone commits secrets/app.yaml with a stanza of hers grafted
# into its metadata (outside the MAC): a stanza for another data key, so
# she reads nothing yet; what counts is whom clones now seal for
plant_in_metadata() {
	printf 'x: 1\n' > "$T/x.yaml"
	(cd "$T" && "$GITSEAL_BIN" encrypt --age "$M" x.yaml) > "$T/mx.yaml"
	drop_stanza "$M" "$T/stanza" < "$T/mx.yaml" > /dev/null
	as_person mallory sh -c "graft_stanza() { sed \"/^    age:\\\$/r $T/stanza\"; }; git show HEAD:secrets/app.yaml | graft_stanza > secrets/app.yaml"
	as_person mallory git commit -qam "a recipient in the metadata"
}

@test "git init in a fresh clone names every recipient it accepts, and where each comes from" {
	plant_in_metadata
	git clone -q "$T/mallory" "$T/fresh"
	cd "$T/fresh"
	run -0 "$GITSEAL_BIN" git init 'secrets/**'
	grep -qxF "gitseal: this clone seals files for 2 recipient(s), those of .sops.yaml and the committed files; 'gitseal updatekeys' shows and accepts changes:" <<<"$output"
	grep -qxF "gitseal:     $RECIPIENT (.sops.yaml)" <<<"$output"
	grep -qxF "gitseal:     $M (only in the metadata of 'secrets/app.yaml', which the MAC does not cover)" <<<"$output"
	# what it said is what it recorded
	[ "$(grep -c '^age1' .git/gitseal/accepted)" -eq 2 ]
}
