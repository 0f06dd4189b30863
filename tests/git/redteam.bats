#!/usr/bin/env bats
# Red-team findings on rule 2 (repository content is attacker input): a
# hostile pull request edits what lies outside the MAC, the victim pulls and
# works as usual.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_from mallory_base; }
teardown() { gs_teardown; }


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
	[ "$status" -eq 128 ]
	grep -qxF "gitseal: error: cannot encrypt 'secrets/app.yaml': the value at 'api_token' would be in clear under the file's own rule (encrypted_regex '^(db_password|port)\$'), which .sops.yaml's rule seals: run 'gitseal updatekeys secrets/app.yaml' to apply .sops.yaml's rule, or add it with GITSEAL_KEEP_FILE_RULE=1 to keep the file's own" <<<"$output"
	run git commit -qam change
	[ "$status" -eq 128 ]
	grep -q "^gitseal: error: cannot encrypt 'secrets/app.yaml': the value at 'api_token' would be in clear" <<<"$output"
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
	[ "$status" -eq 1 ]
	grep -qF "the value at 'api_token' would be in clear under the file's own rule" <<<"$output"
	run ! grep -qa s3cr3t <(git cat-file --batch-all-objects --batch)
}

# Three key groups, all three needed: the victim, tina and mallory each
# hold one. The groups and the threshold are in the metadata, outside the MAC.
three_groups() {
	gs_person tina
	cat > .sops.yaml <<YAML
creation_rules:
  - path_regex: secrets/.*\.yaml$
    key_groups:
      - age: [$RECIPIENT]
      - age: [$(recipient_of tina)]
      - age: [$(recipient_of mallory)]
YAML
	rm -rf .git/gitseal
	"$GITSEAL_BIN" git init 2>/dev/null
	# the victim holds the keys of all three (as a release manager may)
	cat "$T/key.txt" "$T/tina.txt" "$T/mallory.txt" > "$T/all.txt"
	export SOPS_AGE_KEY_FILE="$T/all.txt"
	printf 'token: t0ken-old\n' > secrets/grouped.yaml
	git add -A
	git commit -qm "three groups"
	git show HEAD:secrets/grouped.yaml | grep -qx '    shamir_threshold: 3'
	as_person mallory git pull -q "$REPO" main
}

@test "a pull request lowering a file's shamir_threshold: a clone without keys does not seal the next value for fewer groups" {
	three_groups
	as_person mallory sed -i 's/^    shamir_threshold: 3$/    shamir_threshold: 2/' secrets/grouped.yaml
	as_person mallory git commit -qam "lower the threshold"
	pull_from mallory
	# a CI job that writes secrets it never reads
	unset SOPS_AGE_KEY_FILE
	git clone -q "$REPO" "$T/ci"
	cd "$T/ci"
	"$GITSEAL_BIN" git init 2>/dev/null
	printf 'token: t0ken-new\n' > secrets/grouped.yaml
	run git add secrets/grouped.yaml
	[ "$status" -eq 128 ]
	grep -qxF "gitseal: error: cannot encrypt 'secrets/grouped.yaml': key groups changed: 3 group(s), 2 needed, where .sops.yaml has 3, 3 needed; run 'gitseal updatekeys' to accept" <<<"$output"
	[ "$(git rev-parse :secrets/grouped.yaml)" = "$(git rev-parse HEAD:secrets/grouped.yaml)" ]
}

@test "a pull request lowering the shamir_threshold of .sops.yaml: new files wait for updatekeys" {
	three_groups
	as_person mallory sh -c 'printf "    shamir_threshold: 2\n" >> .sops.yaml'
	as_person mallory git commit -qam "lower the threshold"
	pull_from mallory
	printf 'token: t0ken-value\n' > secrets/new.yaml
	run git add secrets/new.yaml
	[ "$status" -eq 128 ]
	grep -qxF "gitseal: error: cannot encrypt 'secrets/new.yaml': key groups changed: 3 group(s), 2 needed, where .sops.yaml has 3, 3 needed; run 'gitseal updatekeys' to accept" <<<"$output"
	[ -z "$(git ls-files -s secrets/new.yaml)" ]
	# accepted, it applies
	run "$GITSEAL_BIN" updatekeys -y -r .
	[ "$status" -eq 0 ]
	# the change is shown
	grep -qxF "secrets/grouped.yaml:" <<<"$output"
	grep -qxF "    groups needed: 3 -> 2" <<<"$output"
	git add secrets/new.yaml
	git show :secrets/new.yaml | grep -qx '    shamir_threshold: 2'
}

# mallory takes the filter off for the secrets in .gitattributes
filter_off() {
	as_person mallory sh -c 'printf "secrets/** -filter -diff -merge\n" >> .gitattributes'
	as_person mallory git commit -qam "no more filter"
	pull_from mallory
}

@test "a pull request taking the filter off in .gitattributes: this clone still seals the secrets" {
	grep -qxF "secrets/** text eol=lf conflict-marker-size=32 filter=gitseal diff=gitseal merge=gitseal" .git/info/attributes
	filter_off
	printf 'db_password: hunter2-new\nport: 5432\n' > secrets/app.yaml
	git commit -qam change
	assert_blob_encrypted secrets/app.yaml
	run ! grep -qa hunter2-new <(git cat-file --batch-all-objects --batch)
	[ "$(git show HEAD:secrets/app.yaml | gitseal_textconv)" = "$(printf 'db_password: hunter2-new\nport: 5432')" ]
}

@test "the filter taken off in a clone set up before init kept its patterns: check and the hook refuse the secret in clear" {
	: > .git/info/attributes
	filter_off
	head=$(git rev-parse HEAD)
	printf 'db_password: hunter2-new\nport: 5432\n' > secrets/app.yaml
	run git commit -qam change
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/app.yaml': it is staged unencrypted, but HEAD holds it encrypted: the filter is off for it (see .gitattributes; 'gitseal git init' keeps its patterns)" <<<"$output"
	[ "$(git rev-parse HEAD)" = "$head" ]
	assert_blob_encrypted secrets/app.yaml
	git add secrets/app.yaml
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 1 ]
	grep -qF "'secrets/app.yaml': it is staged unencrypted, but HEAD holds it encrypted" <<<"$output"
	# init pins the patterns again
	"$GITSEAL_BIN" git init 2>/dev/null
	git add --renormalize secrets/app.yaml
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 0 ]
	git commit -qm change
	assert_blob_encrypted secrets/app.yaml
}

@test "the pre-commit hook checks what git commit -a and git commit FILE commit (their own index), not .git/index" {
	printf 'db_password: hunter2-new\nport: 5432\n' > secrets/app.yaml
	head=$(git rev-parse HEAD)
	# the filter bypassed for one command: plaintext reaches the commit's index only
	run git -c filter.gitseal.process= -c filter.gitseal.required=false commit -qam change
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/app.yaml': it is staged unencrypted" <<<"$output"
	run git -c filter.gitseal.process= -c filter.gitseal.required=false commit -qm change secrets/app.yaml
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/app.yaml': it is staged unencrypted" <<<"$output"
	[ "$(git rev-parse HEAD)" = "$head" ]
}
