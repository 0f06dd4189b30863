#!/usr/bin/env bats
# Red team 15 on the git side: what a pulled file's comments, which no MAC
# covers, can make the filter leave in clear.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

# Under an accepted rule with unencrypted_comment_regex, a comment matching
# it leaves the value after it in clear (as in sops). Comments are outside
# the MAC: mallory, with no key, adds `# sops:noenc` above a placeholder of
# a committed file. The victim fills it in; the filter sealed it under the
# file's own rule, the accepted one, and committed the secret in clear.
# noenc_rule_marked: an accepted rule with unencrypted_comment_regex,
# secrets/app.yaml committed under it (region in clear by its marker, a
# null placeholder db_password, port), and mallory's commit of one line in
# clear above the placeholder, made with no key (not pulled yet)
noenc_rule_marked() {
	cat > .sops.yaml <<YAML
creation_rules:
  - path_regex: secrets/.*\.yaml$
    unencrypted_comment_regex: sops:noenc
    age: $RECIPIENT
YAML
	fixture gitseal updatekeys -y -r . </dev/null 2>/dev/null
	printf '# sops:noenc\nregion: eu\ndb_password:\n' > secrets/app.yaml
	git add -A
	git commit -qm base
	gs_person mallory
	sed -i 's/^db_password:$/# sops:noenc\ndb_password:/' "$T/mallory/secrets/app.yaml"
	as_person mallory git commit -qam "a comment"
}

@test "unencrypted_comment_regex: a marker a pull request put above a placeholder does not take the victim's secret in clear" {
	noenc_rule_marked
	pull_from mallory
	grep -qx '# sops:noenc' secrets/app.yaml
	sed -i 's/^db_password:$/db_password: real-s3cret/' secrets/app.yaml
	run -128 git add secrets/app.yaml
	grep -qxF "gitseal: error: cannot encrypt 'secrets/app.yaml': the value at 'db_password' would be in clear by a comment before it (the rule's unencrypted_comment_regex; comments are outside the MAC): add it with GITSEAL_KEEP_FILE_RULE=1 to keep it so" <<<"$output"
	run -128 git commit -qam "the password"
	run ! grep -qa real-s3cret <(git cat-file --batch-all-objects --batch)
	# a value held in clear, unchanged, stays; one no marker covers is sealed
	printf '# sops:noenc\nregion: eu\n# sops:noenc\ndb_password:\nport: 5432\n' > secrets/app.yaml
	git commit -qam port
	git show HEAD:secrets/app.yaml | grep -qx 'region: eu'
	git show HEAD:secrets/app.yaml | grep -q '^port: ENC\['
	# the user's word
	sed -i 's/^db_password:$/db_password: public-value/' secrets/app.yaml
	GITSEAL_KEEP_FILE_RULE=1 git commit -qam "in clear, on purpose"
	git show HEAD:secrets/app.yaml | grep -qx 'db_password: public-value'
}

# The same marker merged into a branch where the victim had filled the
# placeholder (sealed then): the merge driver took the marker from theirs
# and the value from ours, and wrote the value in clear.
@test "unencrypted_comment_regex: a merge does not put a pull request's marker above a value sealed on our side" {
	noenc_rule_marked
	sed -i 's/^db_password:$/db_password: real-s3cret/' secrets/app.yaml
	git commit -qam "the password"
	run -1 git pull -q --no-rebase --no-edit "$T/mallory" main
	grep -qF "conflict in 'secrets/app.yaml': the value at 'db_password' would be in clear by a comment before it" <<<"$output"
	run ! grep -qa real-s3cret <(git cat-file --batch-all-objects --batch)
}
