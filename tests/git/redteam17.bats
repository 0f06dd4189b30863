#!/usr/bin/env bats
# Red team 17 on the git side (rule 2: repository content is attacker input).

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_with_mallory; }
teardown() { gs_teardown; }

# S1: `set` (and `edit`) of a sops file committed as ciphertext (outside
# the filter's pattern, as Flux reads it) refuse a new value in clear by
# the file's own rule (in its metadata, outside the MAC) unless encrypting
# the file afresh would leave it in clear too (red team 5). "Afresh" was
# the rule of the .sops.yaml found from the current directory, which is
# repository content as well: a pull request narrowing both (a
# deploy/.sops.yaml and the file's metadata) had the token set in deploy/
# written in clear, exit 0, in a clone whose accepted rule seals it.
@test "S1: set in a clone: a found .sops.yaml encrypting less than the accepted rule is no reference for what may be in clear" {
	mkdir -p deploy
	printf 'password: pw-s3cr3t\n' > "$T/db.yaml"
	(cd "$T" && "$GITSEAL_BIN" encrypt --age "$RECIPIENT" --encrypted-regex '^password$' db.yaml) > deploy/db.enc.yaml
	printf 'creation_rules:\n  - encrypted_regex: ^password$\n    age: %s\n' "$RECIPIENT" > deploy/.sops.yaml
	cp deploy/db.enc.yaml "$T/db.before"
	cd deploy
	run -1 "$GITSEAL_BIN" set db.enc.yaml '["api_token"]' '"tok-s3cr3t"'
	[ "$output" = "gitseal: error: 'db.enc.yaml': 'api_token' would be in clear by the file's own rule (in its metadata, outside the MAC), but encrypting the file afresh (the rule of '$REPO/deploy/.sops.yaml' encrypts less than the one this clone accepted) encrypts it (--keep-file-rule to write it so)" ]
	cmp db.enc.yaml "$T/db.before"
	# the user's own word, as before
	"$GITSEAL_BIN" set --keep-file-rule db.enc.yaml '["api_token"]' '"tok-s3cr3t"'
	grep -qx 'api_token: tok-s3cr3t' db.enc.yaml
	# a .sops.yaml named by the user is the user's reference
	cp "$T/db.before" db.enc.yaml
	"$GITSEAL_BIN" set --config .sops.yaml db.enc.yaml '["api_token"]' '"tok-s3cr3t"'
	grep -qx 'api_token: tok-s3cr3t' db.enc.yaml
}
