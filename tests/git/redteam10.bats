#!/usr/bin/env bats
# Red team 10 on the git side (rule 2: repository content is attacker input).

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_with_mallory; }
teardown() { gs_teardown; }

# H1: with recipients named by the user (--age, SOPS_AGE_RECIPIENTS, the
# other key flags), encrypt and edit of a new file in a clone skipped the
# whole check of a found .sops.yaml (red team 8, G2), but the rule still
# chose what is left in clear (as in sops, key flags replace only the
# keys): a planted secrets/.sops.yaml with unencrypted_regex: ^token$ or
# mac_only_encrypted left the token in clear, exit 0, for a user who keeps
# SOPS_AGE_RECIPIENTS in their shell.
@test "H1: encrypt and edit with --age or SOPS_AGE_RECIPIENTS in a clone: a found rule leaving values in clear is refused" {
	token_rule_pulled
	local refused="gitseal: error: 'new.yaml': the creation rule of '$REPO/secrets/.sops.yaml': it encrypts less than the rule this clone accepted (unencrypted_regex '^token\$') (--config, or a selection or threshold flag, to choose)"
	run -1 "$GITSEAL_BIN" encrypt --age "$RECIPIENT" -i new.yaml
	[ "$output" = "$refused" ]
	cmp new.yaml "$T/new.before"
	run -1 env SOPS_AGE_RECIPIENTS="$RECIPIENT" "$GITSEAL_BIN" encrypt -i new.yaml
	[ "$output" = "$refused" ]
	cmp new.yaml "$T/new.before"
	# edit of a new file seals through the same path
	printf '#!/bin/sh\nprintf "token: t0ken-value\\n" > "$1"\n' > "$T/editor.sh"
	chmod +x "$T/editor.sh"
	run -1 env EDITOR="$T/editor.sh" "$GITSEAL_BIN" edit --age "$RECIPIENT" other.yaml
	[ "$output" = "gitseal: error: 'other.yaml': the creation rule of '$REPO/secrets/.sops.yaml': it encrypts less than the rule this clone accepted (unencrypted_regex '^token\$') (--config, or a selection or threshold flag, to choose)" ]
	[ ! -e other.yaml ]
	# mac_only_encrypted likewise (values in clear outside the MAC)
	printf 'creation_rules:\n  - mac_only_encrypted: true\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	run -1 "$GITSEAL_BIN" encrypt --age "$RECIPIENT" new.yaml
	[[ $output == *"it encrypts less than the rule this clone accepted (mac_only_encrypted)"* ]]
	# the user's own selection, or the accepted rule's: as before
	"$GITSEAL_BIN" encrypt --age "$RECIPIENT" --unencrypted-regex '^token$' new.yaml | grep -qx 'token: t0ken-value'
	rm .sops.yaml
	"$GITSEAL_BIN" encrypt --age "$RECIPIENT" new.yaml | grep -q '^token: ENC\['
	SOPS_AGE_RECIPIENTS="$RECIPIENT" "$GITSEAL_BIN" encrypt new.yaml | grep -q '^token: ENC\['
}

# H2: the check of a found .sops.yaml (red team 5, 8) opened the clone at
# the file's directory; a file outside the clone (one being moved in from
# /tmp or ~/Downloads, or /dev/stdin) skipped it, though the rule came from
# the clone (sops searches from the current directory up): run in
# secrets/, `gitseal encrypt /tmp/creds.yaml > creds.yaml` sealed it for
# the recipients of a planted secrets/.sops.yaml alone, exit 0.
@test "H2: encrypt of a file outside the clone, run in it: a found rule is checked as for the clone's own files" {
	M=$(recipient_of mallory)
	printf 'creation_rules:\n  - age: %s\n' "$M" > "$T/mallory/secrets/.sops.yaml"
	as_person mallory git add secrets/.sops.yaml
	as_person mallory git commit -qm "rules for secrets/"
	pull_from mallory
	printf 'token: t0ken-value\n' > "$T/creds.yaml"
	cp "$T/creds.yaml" "$T/creds.before"
	cd secrets
	run -1 "$GITSEAL_BIN" encrypt -i "$T/creds.yaml"
	[ "$output" = "gitseal: error: '$T/creds.yaml': the creation rule of '$REPO/secrets/.sops.yaml' names recipients this clone has not accepted: +$M; the file would be readable by them ('gitseal updatekeys' shows and accepts them; --config or --age to choose)" ]
	cmp "$T/creds.yaml" "$T/creds.before"
	run -1 "$GITSEAL_BIN" encrypt --input-type yaml --output-type yaml /dev/stdin < "$T/creds.yaml"
	[ "$output" = "gitseal: error: '/dev/stdin': the creation rule of '$REPO/secrets/.sops.yaml' names recipients this clone has not accepted: +$M; the file would be readable by them ('gitseal updatekeys' shows and accepts them; --config or --age to choose)" ]
	# what it leaves in clear likewise
	printf 'creation_rules:\n  - unencrypted_regex: ^token$\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	run -1 "$GITSEAL_BIN" encrypt "$T/creds.yaml"
	[ "$output" = "gitseal: error: '$T/creds.yaml': the creation rule of '$REPO/secrets/.sops.yaml': it encrypts less than the rule this clone accepted (unencrypted_regex '^token\$') (--config, or a selection or threshold flag, to choose)" ]
	# the accepted rules, the user's own keys, and outside any clone: as before
	printf 'creation_rules:\n  - age: %s\n' "$RECIPIENT" > .sops.yaml
	"$GITSEAL_BIN" encrypt "$T/creds.yaml" | grep -q '^token: ENC\['
	"$GITSEAL_BIN" encrypt --age "$M" "$T/creds.yaml" | grep -q '^token: ENC\['
	cp .sops.yaml "$T/.sops.yaml"
	cd "$T"
	"$GITSEAL_BIN" encrypt creds.yaml | grep -q '^token: ENC\['
}
