#!/usr/bin/env bats
# `gitseal git check` (and the pre-commit hook it is) applies to a sops file
# new to the repository the rule `git add` applies: its own rule, which is
# in its metadata, may not leave in clear what the accepted .sops.yaml rule
# for its path seals (a file sops made under a planted .sops.yaml, staged
# past the filter). A file the user kept on purpose with
# GITSEAL_KEEP_FILE_RULE=1 passes the check as it passed the add: that
# very blob, before its commit and after it, without the variable.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

# A sops file at $1 that leaves its token in clear, as sops writes it under
# a rule 'unencrypted_regex: ^token$' for the accepted recipient.
own_rule_file() {
	printf 'creation_rules:\n  - unencrypted_regex: ^token$\n    age: %s\n' "$RECIPIENT" > "$T/own.sops.yaml"
	printf 'token: t0ken-value\npassword: hunter3\n' > "$T/plain.yaml"
	"$GITSEAL_BIN" encrypt --config "$T/own.sops.yaml" "$T/plain.yaml" > "$1"
	grep -qx 'token: t0ken-value' "$1"
}

# Stages the bytes of $1 as they are, past the filter.
stage_past_filter() {
	git update-index --add --cacheinfo "100644,$(git hash-object -w --no-filters "$1"),$1"
}

refusal() {
	printf "gitseal: error: '%s': the value at 'token' is in clear under the file's own rule (unencrypted_regex '^token\$'), which the accepted .sops.yaml rule seals: decrypt it and add it again to seal it under that rule, or add it with GITSEAL_KEEP_FILE_RULE=1 to keep its own" "$1"
}

@test "git check and the hook refuse a new sops file staged past the filter whose own rule leaves in clear what the accepted rule seals" {
	git commit -qm base --allow-empty
	own_rule_file secrets/new.yaml
	stage_past_filter secrets/new.yaml
	git show :secrets/new.yaml | grep -qx 'token: t0ken-value'
	run -1 "$GITSEAL_BIN" git check
	grep -qxF "$(refusal secrets/new.yaml)" <<<"$output"
	head=$(git rev-parse HEAD)
	run git commit -qm new
	[ "$status" -eq 1 ]
	[ "$(git rev-parse HEAD)" = "$head" ]
	# the user's own choice at the check passes it
	GITSEAL_KEEP_FILE_RULE=1 run -0 "$GITSEAL_BIN" git check
	# as the message says: decrypted and added again (unstaged first: a
	# staged version decides an existing file's rule), sealed by the accepted rule
	git rm -q --cached secrets/new.yaml
	"$GITSEAL_BIN" decrypt -i secrets/new.yaml
	git add secrets/new.yaml
	git show :secrets/new.yaml | grep -q '^token: ENC\['
	run -0 "$GITSEAL_BIN" git check
}

@test "a new sops file added with GITSEAL_KEEP_FILE_RULE=1 passes git check and the hook, before and after its commit; its bytes at another path do not" {
	own_rule_file secrets/own.yaml
	run -128 git add secrets/own.yaml
	GITSEAL_KEEP_FILE_RULE=1 git add secrets/own.yaml
	git show :secrets/own.yaml | grep -qx 'token: t0ken-value'
	run -0 "$GITSEAL_BIN" git check
	git commit -qm own
	git show HEAD:secrets/own.yaml | grep -qx 'token: t0ken-value'
	run -0 "$GITSEAL_BIN" git check
	# the same bytes at another path were not kept: checked
	cp secrets/own.yaml secrets/copy.yaml
	stage_past_filter secrets/copy.yaml
	run -1 "$GITSEAL_BIN" git check
	grep -qxF "$(refusal secrets/copy.yaml)" <<<"$output"
	run -1 grep -F "'secrets/own.yaml'" <<<"$output"
}
