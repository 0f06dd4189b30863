#!/usr/bin/env bats
# Red team 8 on the git side (rule 2: repository content is attacker input):
# what `gitseal git init` keeps of a pulled .gitattributes.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_with_mallory; }
teardown() { gs_teardown; }

# G1: init copies the filter's lines of .gitattributes to .git/info/attributes
# (which git reads last, which no commit changes), and the docs say to
# re-run it to keep a pattern a teammate added. It copied any line holding
# the filter's attributes, so a pulled line that unsets the filter after
# them was pinned where nothing overrides it: new files there were committed
# in clear, and check passed them.
@test "G1: re-running git init does not pin a pulled line that takes the filter off after its attributes" {
	suffix="filter=gitseal diff=gitseal merge=gitseal text eol=lf conflict-marker-size=32"
	as_person mallory sh -c "printf 'secrets/prod/** $suffix -filter\nsecrets/ops/** $suffix filter=none\nsecrets/new/** $suffix\n' >> .gitattributes"
	as_person mallory git commit -qam "more patterns"
	pull_from mallory
	run "$GITSEAL_BIN" git init
	[ "$status" -eq 0 ]
	grep -qxF "gitseal: warning: not kept in .git/info/attributes: 'secrets/prod/** $suffix -filter' in .gitattributes is not a line 'gitseal git init' writes (one pattern and the filter's attributes)" <<<"$output"
	grep -qF "not kept in .git/info/attributes: 'secrets/ops/** $suffix filter=none'" <<<"$output"
	# the line of init's own form is kept
	grep -qxF "secrets/new/** text eol=lf conflict-marker-size=32 filter=gitseal diff=gitseal merge=gitseal" .git/info/attributes
	run ! grep -q -- '-filter\|filter=none' .git/info/attributes
	mkdir -p secrets/prod secrets/ops secrets/new
	for d in prod ops new; do
		printf 'db_password: %s-s3cret\n' "$d" > secrets/$d/db.yaml
	done
	git add -A
	git commit -qm "new secrets"
	for d in prod ops new; do
		assert_blob_encrypted secrets/$d/db.yaml
	done
	run ! grep -qa s3cret <(git cat-file --batch-all-objects --batch)
}

# G2: encrypt in a clone under `gitseal git init` took a found .sops.yaml's
# recipients only when this clone accepted them (red team 5), but not its
# selection or its key groups: a pull request's secrets/.sops.yaml naming
# the accepted recipient with 'unencrypted_regex: ^token$' made
# `gitseal encrypt -i secrets/new.yaml` leave the token in clear, and the
# file, handed to git add as a hand-made sops file, was committed so.
@test "G2: encrypt in a clone: a found .sops.yaml leaving values in clear the accepted rule seals is refused" {
	token_rule_pulled
	run -1 "$GITSEAL_BIN" encrypt -i new.yaml
	[ "$output" = "gitseal: error: 'new.yaml': the creation rule of '$REPO/secrets/.sops.yaml': it encrypts less than the rule this clone accepted (unencrypted_regex '^token\$') (--config, or a selection or threshold flag, to choose)" ]
	cmp new.yaml "$T/new.before"
	# the user's own choices
	"$GITSEAL_BIN" encrypt --unencrypted-regex '^token$' new.yaml | grep -qx 'token: t0ken-value'
	"$GITSEAL_BIN" encrypt --config .sops.yaml new.yaml | grep -qx 'token: t0ken-value'
	# the accepted rules, and a found rule selecting as they do: as before
	"$GITSEAL_BIN" encrypt --config ../.sops.yaml new.yaml | grep -q '^token: ENC\['
	printf 'creation_rules:\n  - age: %s\n' "$RECIPIENT" > .sops.yaml
	"$GITSEAL_BIN" encrypt new.yaml | grep -q '^token: ENC\['
	run ! grep -qa t0ken-value <(git cat-file --batch-all-objects --batch)
}

@test "G2: encrypt in a clone: a found .sops.yaml needing fewer of the accepted key groups is refused" {
	gs_person tina
	cat > .sops.yaml <<YAML
creation_rules:
  - path_regex: secrets/.*\.yaml$
    key_groups:
      - age: [$RECIPIENT]
      - age: [$(recipient_of tina)]
      - age: [$(recipient_of mallory)]
YAML
	git commit -qam "three groups"
	"$GITSEAL_BIN" updatekeys -y -r . >/dev/null 2>&1
	# the same groups, 2 of 3 needed: any two holders read
	sed -e 's/^  - path_regex: .*/  - shamir_threshold: 2/' .sops.yaml > secrets/.sops.yaml
	cd secrets
	printf 'token: t0ken-value\n' > new.yaml
	cp new.yaml "$T/new.before"
	run -1 "$GITSEAL_BIN" encrypt -i new.yaml
	[ "$output" = "gitseal: error: 'new.yaml': the creation rule of '$REPO/secrets/.sops.yaml': key groups changed: 3 group(s), 2 needed, where .sops.yaml has 3, 3 needed; run 'gitseal updatekeys' to accept (--config, or a selection or threshold flag, to choose)" ]
	cmp new.yaml "$T/new.before"
	# a threshold the user gives is the user's own
	"$GITSEAL_BIN" encrypt --shamir-secret-sharing-threshold 2 new.yaml | grep -qx "    shamir_threshold: 2"
	cd ..
	rm secrets/.sops.yaml
	"$GITSEAL_BIN" encrypt secrets/new.yaml | grep -qx '    shamir_threshold: 3'
}

# G3: rotate in a repository under `gitseal git init` compared a file's
# recipients with the accepted ones in any key group, and only the count of
# groups and the threshold: metadata (outside the MAC) naming one accepted
# holder in every group of a rule needing all three had the new data key
# split so that this holder alone opens it. Outside a repository rotate
# compared group by group already.
@test "G3: rotate in a clone: a recipient moved into another key group is shown and refused without -y" {
	gs_person tina
	groups_yaml() {
		printf 'creation_rules:\n  - path_regex: \\.yaml$\n    key_groups:\n'
		for r in "$@"; do printf '      - age: [%s]\n' "$r"; done
	}
	groups_yaml "$RECIPIENT" "$(recipient_of tina)" "$(recipient_of mallory)" > .sops.yaml
	git commit -qam "three groups"
	"$GITSEAL_BIN" updatekeys -y -r . >/dev/null 2>&1
	# a file whose three groups all name mallory (any file can say so)
	mkdir -p plain "$T/w"
	groups_yaml "$(recipient_of mallory)" "$(recipient_of mallory)" "$(recipient_of mallory)" > "$T/w/.sops.yaml"
	printf 'token: t0ken-value\n' > "$T/w/p.yaml"
	(cd "$T/w" && SOPS_AGE_KEY_FILE="$T/mallory.txt" fixture gitseal encrypt p.yaml) > plain/one.yaml
	cp plain/one.yaml "$T/before"
	cat "$T/key.txt" "$T/tina.txt" "$T/mallory.txt" > "$T/all.txt"
	export SOPS_AGE_KEY_FILE="$T/all.txt"
	M=$(recipient_of mallory)
	run -1 "$GITSEAL_BIN" rotate -i plain/one.yaml < /dev/null
	[ "$output" = "gitseal: error: 'plain/one.yaml': recipients only in its metadata, not in this clone's accepted recipients: +$M (in key group 1), +$M (in key group 2); the new data key would be readable by them (rotate -y to confirm)" ]
	cmp plain/one.yaml "$T/before"
	# the file as the accepted rule splits it: as before, without a word
	groups_yaml "$RECIPIENT" "$(recipient_of tina)" "$M" > "$T/w/.sops.yaml"
	(cd "$T/w" && fixture gitseal encrypt p.yaml) > plain/three.yaml
	run -0 "$GITSEAL_BIN" rotate -i plain/three.yaml < /dev/null
	[ -z "$output" ]
}

# G4: check refuses a file moved out of the filter's pattern that holds
# the plaintext of a sealed file's values; it looked for each value whole,
# and a value of several lines is never whole in a file: a PEM key in a
# YAML block scalar is indented, in a JSON string its lines are joined by
# '\n'. `git mv` out of secrets/ and `git add` committed the key in clear.
@test "G4: check finds a moved file's multi-line secret (a YAML block, a JSON string), not only whole values" {
	cat > secrets/tls.yaml <<'YAML'
tls_key: |
  -----BEGIN PRIVATE KEY-----
  MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7
  -----END PRIVATE KEY-----
port: 5432
YAML
	printf '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQD8\\n-----END PRIVATE KEY-----\\n", "port": 5432}\n' > secrets/sa.yaml
	git add -A
	git commit -qm keys
	fixture gitseal decrypt --extract '["tls_key"]' <(git show HEAD:secrets/tls.yaml) --input-type yaml | grep -qx 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7'
	head=$(git rev-parse HEAD)
	git mv secrets/tls.yaml tls.yaml
	git mv secrets/sa.yaml sa.yaml
	git add tls.yaml sa.yaml
	run -1 "$GITSEAL_BIN" git check
	grep -qxF "gitseal: error: 'tls.yaml': it holds secrets of 'secrets/tls.yaml', which is encrypted; keep it under the filter's pattern (see .gitattributes)" <<<"$output"
	grep -qxF "gitseal: error: 'sa.yaml': it holds secrets of 'secrets/sa.yaml', which is encrypted; keep it under the filter's pattern (see .gitattributes)" <<<"$output"
	run git commit -qm moved
	[ "$status" -eq 1 ]
	[ "$(git rev-parse HEAD)" = "$head" ]
	# the markers alone are no secret of the file
	git rm -q --cached tls.yaml sa.yaml
	printf '%s\n' '-----BEGIN PRIVATE KEY-----' '-----END PRIVATE KEY-----' > notes.txt
	git add notes.txt
	run -0 "$GITSEAL_BIN" git check
}

# G5: git applies a line's attributes from the last back, each only when
# not yet set, and a set attribute that is a macro expands there. The
# pinned line named `text` after the filter, so a pulled top-level
# .gitattributes defining "[attr]text -filter" unset the filter in this
# clone's info/attributes too: git add stored the plaintext in .git's
# objects (check, reading attributes through libgit2, refused the commit).
@test "G5: a pulled macro named like an attribute of the pinned line does not take the filter off" {
	git check-attr filter secrets/new.yaml | grep -qx 'secrets/new.yaml: filter: gitseal'
	as_person mallory sh -c "printf '[attr]text -filter -diff -merge\n' >> .gitattributes"
	as_person mallory git commit -qam "a macro"
	pull_from mallory
	git check-attr filter diff merge secrets/new.yaml | grep -qx 'secrets/new.yaml: filter: gitseal'
	printf 'db_password: n3w-s3cret\n' > secrets/new.yaml
	git add secrets/new.yaml
	git commit -qm new
	assert_blob_encrypted secrets/new.yaml
	run ! grep -qa n3w-s3cret <(git cat-file --batch-all-objects --batch)
}
