#!/usr/bin/env bats
# Never drop a key entry (issue 18, item 2): entries of key types gitseal
# cannot wrap for (kms, gcp_kms, azure_kv, hckms, and types it does not
# know) stay verbatim while the data key stays; whatever would lose them, or
# asks for such a key, fails in one line naming the type and the way out.

load ../helpers

KMS_ARN=arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab

# The two keys, made once for the file: each test copies them.
setup_file() {
	chmod 700 "$BATS_FILE_TMPDIR"
	"$FIXTURE_BIN" keygen >"$BATS_FILE_TMPDIR/k1.txt" 2>/dev/null
	"$FIXTURE_BIN" keygen >"$BATS_FILE_TMPDIR/k2.txt" 2>/dev/null
	R1=$("$FIXTURE_BIN" keygen -y "$BATS_FILE_TMPDIR/k1.txt")
	R2=$("$FIXTURE_BIN" keygen -y "$BATS_FILE_TMPDIR/k2.txt")
	export R1 R2
}

setup() {
	setup_tmp
	cd "$TMP"
	unset SOPS_KMS_ARN SOPS_GCP_KMS_IDS SOPS_AZURE_KEYVAULT_URLS SOPS_HUAWEICLOUD_KMS_IDS
	printf 'user: alice\npassword: hunter2\n' >plain.yaml
	cp -p "$BATS_FILE_TMPDIR/k1.txt" "$BATS_FILE_TMPDIR/k2.txt" .
	export SOPS_AGE_KEY_FILE=$TMP/k1.txt
}

teardown() {
	teardown_tmp
}

# The key lists another sops user's keys would add (the metadata is not
# covered by the MAC, so they can be written in as sops would).
FOREIGN='    kms:
        - arn: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
          aws_profile: ""
          created_at: "2026-01-01T00:00:00Z"
          enc: AQICAHhKmsWrappedDataKeyForTheTestOnly==
    future_kms:
        - created_at: "2026-01-01T00:00:00Z"
          enc: opaque-entry-of-a-later-sops
          key_id: k-1'

# enc.yaml: encrypted for R1, with the foreign lists after `sops:`.
make_mixed() {
	gitseal encrypt --age "$R1" plain.yaml >base.yaml
	awk -v block="$FOREIGN" '{ print } /^sops:$/ { print block }' base.yaml >"${1:-enc.yaml}"
}

# The kms and future_kms lists of FILE, in that order wherever they are
# (a rewrite sorts the metadata keys, as sops 3.13 does).
foreign_block() {
	for name in kms future_kms; do
		awk -v n="    $name:" '$0 == n { on = 1; print; next } /^    [a-z_]+:/ { on = 0 } on' "$1"
	done
}

@test "set, unset and edit keep kms and unknown key entries verbatim" {
	make_mixed
	gitseal decrypt enc.yaml | cmp - plain.yaml
	want=$(foreign_block enc.yaml)
	[ -n "$want" ]
	gitseal set enc.yaml '["user"]' '"bob"'
	[ "$(foreign_block enc.yaml)" = "$want" ]
	gitseal unset enc.yaml '["password"]'
	[ "$(foreign_block enc.yaml)" = "$want" ]
	printf '#!/bin/sh\nsed -i "s/bob/carol/" "$1"\n' >editor.sh
	chmod +x editor.sh
	EDITOR=$TMP/editor.sh gitseal edit enc.yaml
	[ "$(foreign_block enc.yaml)" = "$want" ]
	[ "$(gitseal_fixture decrypt enc.yaml)" = "user: carol" ]
}

@test "updatekeys keeps them: a new age key is added, the kms and unknown entries stay" {
	make_mixed
	want=$(foreign_block enc.yaml)
	printf 'creation_rules:\n  - age: %s\n' "$R1" >.sops.yaml
	gitseal updatekeys -y enc.yaml 2>err.txt
	grep -q "already up to date" err.txt
	printf 'creation_rules:\n  - age: %s,%s\n' "$R1" "$R2" >.sops.yaml
	gitseal updatekeys -y enc.yaml 2>err.txt
	grep -q "^+++ $R2\$" err.txt
	grep -q "^    kms $KMS_ARN (kept: gitseal cannot wrap for it)\$" err.txt
	[ "$(foreign_block enc.yaml)" = "$want" ]
	SOPS_AGE_KEY_FILE=k2.txt gitseal decrypt enc.yaml | cmp - plain.yaml
	# a rule that names the same kms key: nothing to add
	printf 'creation_rules:\n  - age: %s,%s\n    kms: %s\n' "$R1" "$R2" "$KMS_ARN" >.sops.yaml
	gitseal updatekeys -y enc.yaml 2>err.txt
	grep -q "already up to date" err.txt
}

@test "rotate fails naming the key type and --drop-unsupported-keys; confirmed, it drops them" {
	make_mixed
	cp enc.yaml before.yaml
	run gitseal rotate -i enc.yaml
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"the file's kms, future_kms keys would be lost: gitseal cannot wrap for them and a new data key is needed (--drop-unsupported-keys removes them, after a confirmation)"* ]]
	cmp enc.yaml before.yaml
	# asked on a terminal only: without one (and without -y) nothing changes
	run gitseal rotate -i --drop-unsupported-keys enc.yaml </dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"Drop them?"* ]]
	cmp enc.yaml before.yaml
	gitseal rotate -i --drop-unsupported-keys -y enc.yaml 2>err.txt
	grep -q "going on without them" err.txt
	[ -z "$(foreign_block enc.yaml)" ]
	! grep -q 'AQICAHhKms' enc.yaml || false
	gitseal decrypt enc.yaml | cmp - plain.yaml
}

@test "groups add would re-split the key: refused while kms entries are there" {
	make_mixed
	run gitseal groups add --file enc.yaml --age "$R2"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the file's kms, future_kms keys would be lost: gitseal cannot wrap for them and the key groups change"* ]]
}

@test "a creation rule that names a kms key fails in one line; --drop-unsupported-keys -y encrypts for the rest" {
	printf 'creation_rules:\n  - age: %s\n    kms: %s\n' "$R1" "$KMS_ARN" >.sops.yaml
	run gitseal encrypt plain.yaml
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"cannot encrypt for the kms key '$KMS_ARN': gitseal cannot wrap for kms keys (--drop-unsupported-keys leaves it out, after a confirmation)"* ]]
	gitseal encrypt --drop-unsupported-keys -y plain.yaml >enc.yaml
	# kms as a word: base64 ciphertext holds the letters by chance (about one file in 250)
	! grep -qE '(^|[^A-Za-z0-9+/])kms([^A-Za-z0-9+/=]|$)' enc.yaml || false
	gitseal decrypt enc.yaml | cmp - plain.yaml
	# the same in a key group, and the other types
	cat >.sops.yaml <<YAML
creation_rules:
  - path_regex: gcp
    key_groups:
      - age: [$R1]
        gcp_kms:
          - resource_id: projects/p/locations/global/keyRings/r/cryptoKeys/k
  - path_regex: azure
    age: $R1
    azure_keyvault: https://v.vault.azure.net/keys/k/0123
  - path_regex: hckms
    key_groups:
      - age: [$R1]
        hckms:
          - key_id: tr-west-1:0000
YAML
	for t in gcp azure hckms; do
		cp plain.yaml $t.yaml
		run gitseal encrypt $t.yaml
		[ "$status" -eq 1 ]
		echo "$output"
		[[ "$output" == *"gitseal cannot wrap for"* ]]
	done
	[[ "$output" == *"hckms key 'tr-west-1:0000'"* ]]
}

@test "SOPS_KMS_ARN and the other key variables, or --kms, with age recipients: one line, not ignored" {
	for v in SOPS_KMS_ARN SOPS_GCP_KMS_IDS SOPS_AZURE_KEYVAULT_URLS SOPS_HUAWEICLOUD_KMS_IDS; do
		run env "$v=some-key" "$GITSEAL_BIN" encrypt --age "$R1" plain.yaml
		[ "$status" -eq 1 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == *"$v is set: gitseal cannot encrypt for "*" keys (unset it, or --drop-unsupported-keys goes on without them)"* ]]
	done
	run gitseal encrypt --age "$R1" --kms "$KMS_ARN" plain.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"--kms: gitseal cannot encrypt for kms keys"* ]]
	run gitseal rotate --add-gcp-kms projects/p plain.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"--add-gcp-kms: gitseal cannot encrypt for gcp_kms keys"* ]]
	SOPS_KMS_ARN=$KMS_ARN gitseal encrypt --age "$R1" --drop-unsupported-keys -y plain.yaml >enc.yaml 2>/dev/null
	gitseal decrypt enc.yaml | cmp - plain.yaml
}

# A repository with the filter on secrets/** whose secrets/app.yaml is the
# mixed file (mixed.enc.yaml), committed as it is: this clone did not make
# its data key.
mixed_repo() {
	# git runs the filter as `gitseal` from PATH
	PATH="$(dirname "$(readlink -f "$GITSEAL_BIN")"):$PATH"
	export GIT_CONFIG_NOSYSTEM=1
	git config --global user.name "gitseal test"
	git config --global user.email "test@example.invalid"
	git init -q repo
	make_mixed mixed.enc.yaml
	cd repo
	printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: %s\n' "$R1" >.sops.yaml
	gitseal git init 'secrets/**'
	mkdir secrets
	# an encrypted file goes in as it is; the work tree gets the plaintext
	cp ../mixed.enc.yaml secrets/app.yaml
	git add -A && git commit -qm one
}

@test "the git filter never drops a kms entry: a key this clone did not make is re-used only once 'gitseal git trust' vouched for it" {
	mixed_repo
	rm secrets/app.yaml
	git checkout -- secrets/app.yaml
	cmp secrets/app.yaml ../plain.yaml
	sed -i 's/alice/bob/' secrets/app.yaml
	# this clone did not make the file's data key, so it may not re-use it
	# (a planted key, issue 12): a fresh key cannot carry the kms entry,
	# and the commit fails naming it and the way out rather than dropping it
	run git commit -qam two
	[ "$status" -eq 128 ] # git's code when the clean filter fails
	[[ "$output" == *"cannot encrypt 'secrets/app.yaml': its kms key '$KMS_ARN' is kept only with the file's data key, which this clone did not make: 'gitseal git trust secrets/app.yaml' shows the file's keys and accepts it"* ]]
	git cat-file -p HEAD:secrets/app.yaml | cmp - ../mixed.enc.yaml
	# trust shows the keys and asks; without a terminal or -y nothing changes
	run gitseal git trust secrets/app.yaml </dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"    $R1"* ]]
	[[ "$output" == *"    kms $KMS_ARN (kept only while the data key stays: gitseal cannot wrap for it)"* ]]
	[[ "$output" == *"whoever made it can read every value sealed with it"* ]]
	[[ "$output" == *"gitseal: error: 'secrets/app.yaml': not trusted (use -y)"* ]]
	run git commit -qam two
	[ "$status" -eq 128 ]
	[[ "$output" == *"gitseal: error: cannot encrypt 'secrets/app.yaml': its kms key '"*"' is kept only with the file's data key, which this clone did not make"* ]]
	run gitseal git trust -y secrets/app.yaml
	[ "$status" -eq 0 ]
	[[ "$output" == *"gitseal: 'secrets/app.yaml': data key trusted; 'git add' re-uses it"* ]]
	git commit -qam two
	# the kms entry and the age stanza stay; only the changed value is new
	git cat-file -p HEAD:secrets/app.yaml >../two.yaml
	[ "$(foreign_block ../two.yaml)" = "$(foreign_block ../mixed.enc.yaml)" ]
	[ "$(grep '^password:' ../two.yaml)" = "$(grep '^password:' ../mixed.enc.yaml)" ]
	[ "$(gitseal decrypt ../two.yaml)" = "$(printf 'user: bob\npassword: hunter2')" ]
	run gitseal git trust -y secrets/app.yaml
	[ "$status" -eq 0 ]
	[[ "$output" == *"made or trusted in this clone already"* ]]
}

@test "git trust refuses a file whose committed version does not verify, and one that no identity opens" {
	mixed_repo
	# a value changed by hand: the MAC fails, nothing is trusted
	git cat-file -p HEAD:secrets/app.yaml | sed 's/^user: ENC\[AES256_GCM,data:[^,]*/user: ENC[AES256_GCM,data:AAAA/' >../bad.yaml
	id=$(git hash-object -w --no-filters ../bad.yaml)
	git update-index --cacheinfo "100644,$id,secrets/app.yaml"
	run gitseal git trust -y secrets/app.yaml
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "gitseal: error: cannot trust 'secrets/app.yaml': "* ]]
	[ ! -s ../repo/.git/gitseal/data-keys ]
	git reset -q
	run env SOPS_AGE_KEY_FILE="$TMP/k2.txt" "$GITSEAL_BIN" git trust -y secrets/app.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == "gitseal: error: cannot trust 'secrets/app.yaml': "* ]]
	run gitseal git trust -y .sops.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"'.sops.yaml' is not under the gitseal filter"* ]]
}

# An age entry whose recipient line is missing (a hand edit, a merge) still
# opens with its identity: sops decrypts with any identity that opens its
# enc, and its set and edit write the entry back as it was (recipient "").
# gitseal does the same: the same data key, the same readers. Once set
# dropped it (exit 0, and with no other key nothing opened the file again:
# fuzz_sops_open), then refused the file. rotate (a new data key) cannot
# carry it, and updatekeys cannot compare it with .sops.yaml: they refuse
# in one line, the file unchanged.
@test "an age entry with no recipient stays through set and edit, as sops keeps it; rotate refuses it; a PGP entry with no fingerprint is never dropped" {
	make_mixed mixed.yaml
	grep -v '^          recipient: ' mixed.yaml >enc.yaml
	gitseal decrypt enc.yaml | cmp - plain.yaml
	run -0 gitseal set enc.yaml '["user"]' '"bob"'
	[ "$(grep -c '^          recipient: ""$' enc.yaml)" -eq 1 ]
	[ "$(gitseal decrypt --extract '["user"]' enc.yaml)" = bob ]
	printf '#!/bin/sh\nsed -i "s/bob/carol/" "$1"\n' >editor.sh
	chmod +x editor.sh
	EDITOR=$TMP/editor.sh gitseal edit enc.yaml
	[ "$(grep -c '^          recipient: ""$' enc.yaml)" -eq 1 ]
	[ "$(gitseal decrypt --extract '["user"]' enc.yaml)" = carol ]
	# beside a named one: k2's entry reads after set as before it
	gitseal encrypt --age "$R1,$R2" plain.yaml | grep -v "^          recipient: $R2\$" >two.yaml
	run -0 gitseal set two.yaml '["user"]' '"bob"'
	[ "$(SOPS_AGE_KEY_FILE=$TMP/k2.txt gitseal decrypt --extract '["user"]' two.yaml)" = bob ]
	cp two.yaml before.yaml
	why="the file's age key entry 2 of group 1 names no recipient: it would be lost (--drop-unsupported-keys leaves it out, after a confirmation)"
	run -1 gitseal rotate -i two.yaml
	[ "$output" = "gitseal: error: 'two.yaml': $why" ]
	printf 'creation_rules:\n  - age: %s\n' "$R1" >.sops.yaml
	run -1 gitseal updatekeys -y two.yaml
	[ "${lines[-1]}" = "gitseal: error: 'two.yaml': $why" ]
	cmp two.yaml before.yaml
	rm .sops.yaml
	# alone in its group
	grep -v '^          recipient: ' base.yaml >alone.yaml
	run -0 gitseal set alone.yaml '["user"]' '"bob"'
	[ "$(gitseal decrypt --extract '["user"]' alone.yaml)" = bob ]
	# a PGP entry without its fingerprint, beside the age key that opens the file
	awk '{ print } /^sops:$/ { print "    pgp:\n        - created_at: \"2026-01-01T00:00:00Z\"\n          enc: x" }' base.yaml >pgp.yaml
	run -1 gitseal set pgp.yaml '["user"]' '"bob"'
	[ "$output" = "gitseal: error: 'pgp.yaml': the file's pgp key entry 1 of group 1 names no fingerprint: it would be lost (--drop-unsupported-keys leaves it out, after a confirmation)" ]
}
