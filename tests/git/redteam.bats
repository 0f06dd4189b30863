#!/usr/bin/env bats
# Red-team findings on rule 2 (repository content is attacker input): a
# hostile pull request edits what lies outside the MAC, the victim pulls and
# works as usual.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	gs_setup
	printf 'db_password: hunter2-old\nport: 5432\n' > secrets/app.yaml
	git add -A && git commit -qm base
	gs_person mallory
}
teardown() { gs_teardown; }

pull_from() { git pull -q --no-rebase --no-edit "$T/$1" main; }

# mallory narrows the file's own rule to the keys it holds: every value
# still decrypts and the MAC (over values only) still verifies
narrow_rule() {
	as_person mallory sed -i "s#^    unencrypted_suffix: _unencrypted\$#    encrypted_regex: ^(db_password|port)\$#" "$1"
	as_person mallory git commit -qam "narrow what is encrypted"
}

@test "a pull request narrowing an existing file's own encrypted_regex puts no new value in clear" {
	narrow_rule secrets/app.yaml
	pull_from mallory
	[ "$(cat secrets/app.yaml)" = "$(printf 'db_password: hunter2-old\nport: 5432')" ]
	printf 'db_password: hunter2-new\nport: 5432\napi_token: s3cr3t-token\n' > secrets/app.yaml
	run git add secrets/app.yaml
	[ "$status" -ne 0 ]
	grep -qxF "gitseal: error: cannot encrypt 'secrets/app.yaml': the value at 'api_token' would be in clear under the file's own rule (encrypted_regex '^(db_password|port)\$'), which .sops.yaml's rule seals: run 'gitseal updatekeys secrets/app.yaml' to apply .sops.yaml's rule" <<<"$output"
	run git commit -qam change
	[ "$status" -ne 0 ]
	run ! grep -qa s3cr3t <(git cat-file --batch-all-objects --batch)
	# a value the committed version holds in clear may change
	git checkout -q secrets/app.yaml
	# the way out that the message names
	printf 'db_password: hunter2-new\nport: 5432\napi_token: s3cr3t-token\n' > secrets/app.yaml
	run "$GITSEAL_BIN" updatekeys -y secrets/app.yaml
	[ "$status" -eq 0 ]
	git commit -qam change
	run ! grep -q s3cr3t <(git show HEAD:secrets/app.yaml)
	run ! grep -q encrypted_regex <(git show HEAD:secrets/app.yaml)
	[ "$(git show HEAD:secrets/app.yaml | gitseal_textconv)" = "$(printf 'db_password: hunter2-new\nport: 5432\napi_token: s3cr3t-token')" ]
}

@test "merging a pull request that narrows a file's own rule leaves no value in clear" {
	narrow_rule secrets/app.yaml
	# meanwhile the victim adds a secret on main
	printf 'db_password: hunter2-old\nport: 5432\napi_token: s3cr3t-token\n' > secrets/app.yaml
	git commit -qam "add a token"
	run pull_from mallory
	[ "$status" -ne 0 ]
	grep -qF "the value at 'api_token' would be in clear under the file's own rule" <<<"$output"
	run ! grep -qa s3cr3t <(git cat-file --batch-all-objects --batch)
}
