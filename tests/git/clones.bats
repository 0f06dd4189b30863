#!/usr/bin/env bats
# Clones without an age identity: one whose key is only in gpg (PGP-only),
# and one that only seals for others (recipient-only, as a CI job that
# writes secrets it never reads). Each can git add, commit, check and see a
# clean git status.

bats_require_minimum_version 1.5.0
load helpers

SOPS_KEY="${GITSEAL_SHARED:-../shared}/testdata/sops/getsops-sops/pgp/sops_functional_tests_key.asc"
PGP_FP=FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4

setup() {
	gs_setup
	unset SOPS_AGE_KEY_FILE
}

teardown() {
	if [ -n "${GNUPGHOME:-}" ]; then gpgconf --homedir "$GNUPGHOME" --kill gpg-agent 2>/dev/null; fi
	gs_teardown
}

# A fresh repository whose rule for secrets/ names $1 (a .sops.yaml line).
fresh_repo() {
	cd "$T"
	rm -rf "$REPO"
	git init -q "$REPO"
	cd "$REPO"
	printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    %s\n' "$1" >.sops.yaml
	"$GITSEAL_BIN" git init 'secrets/**' 2>/dev/null
	mkdir secrets
}

pgp_home() {
	command -v gpg >/dev/null || skip "gpg (Debian gnupg) is needed"
	[ -f "$SOPS_KEY" ] || skip "../shared (the sops PGP test key) is absent"
	export GNUPGHOME="$T/gnupg"
	mkdir -m 700 "$GNUPGHOME"
	gpg --batch --import "$SOPS_KEY" 2>/dev/null
}

# Changes the first value's ciphertext and the MAC of a staged YAML blob,
# as a forger without the data key would: the MAC no longer matches.
stage_forged() {
	git show ":$1" | sed -e 's/^\([a-z_]*\): ENC\[AES256_GCM,data:[^,]*/\1: ENC[AES256_GCM,data:AA==/' \
		-e 's/^    mac: ENC\[AES256_GCM,data:../    mac: ENC[AES256_GCM,data:AB/' >"$T/forged.yaml"
	git update-index --cacheinfo "100644,$(git hash-object -w --no-filters "$T/forged.yaml"),$1"
}

@test "a PGP-only clone adds, commits, keeps its data key, stays clean, and check verifies the MAC through gpg" {
	pgp_home
	fresh_repo "pgp: $PGP_FP"
	printf 'user: admin\npassword: hunter2\n' >secrets/app.yaml
	git add -A
	git commit -qm one
	assert_blob_encrypted secrets/app.yaml
	git show HEAD:secrets/app.yaml | grep -q "fp: $PGP_FP"
	touch_newer secrets/app.yaml
	assert_status_clean
	before=$(git rev-parse :secrets/app.yaml)
	git add --renormalize .
	[ "$(git rev-parse :secrets/app.yaml)" = "$before" ]
	sed -i 's/admin/root/' secrets/app.yaml
	git commit -qam two
	# the key this clone made is re-used: the other value keeps its ciphertext
	[ "$(git show HEAD~1:secrets/app.yaml | grep '^password:')" = "$(git show HEAD:secrets/app.yaml | grep '^password:')" ]
	rm secrets/app.yaml
	git checkout -- secrets/app.yaml
	[ "$(cat secrets/app.yaml)" = "$(printf 'user: root\npassword: hunter2')" ]
	run "$GITSEAL_BIN" git status
	[ "$output" = "secrets/app.yaml: decrypted" ]
	# a forged blob (values and MAC changed) is refused: gpg opens the key
	stage_forged secrets/app.yaml
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 1 ]
	grep -qF "gitseal: error: 'secrets/app.yaml': it does not decrypt: value at 'user:': cannot decrypt value: authentication failed" <<<"$output"
}

@test "a PGP-only teammate opens a file sealed for age and PGP in another clone, and commits a change" {
	pgp_home
	fresh_repo "age: $RECIPIENT
    pgp: $PGP_FP"
	printf 'token: t0ken\nport: 1\n' >secrets/app.yaml
	SOPS_AGE_KEY_FILE="$T/key.txt" git add -A
	git commit -qm one
	git clone -q --no-checkout "$REPO" "$T/pgp-clone"
	cd "$T/pgp-clone"
	"$GITSEAL_BIN" git init 2>/dev/null
	git checkout -q main
	[ "$(cat secrets/app.yaml)" = "$(printf 'token: t0ken\nport: 1')" ]
	touch_newer secrets/app.yaml
	assert_status_clean
	sed -i 's/port: 1/port: 2/' secrets/app.yaml
	git commit -qam two
	# sealed for both again (a fresh data key: this clone did not make the first)
	git show HEAD:secrets/app.yaml | grep -q "recipient: $RECIPIENT"
	git show HEAD:secrets/app.yaml | grep -q "fp: $PGP_FP"
	[ "$(git show HEAD:secrets/app.yaml | SOPS_AGE_KEY_FILE="$T/key.txt" gitseal_textconv)" = "$(printf 'token: t0ken\nport: 2')" ]
}

@test "a recipient-only clone seals for others: git status stays clean after commit, touch and renormalize" {
	age-keygen -o "$T/owner.txt" 2>/dev/null
	fresh_repo "age: $(age-keygen -y "$T/owner.txt")"
	printf 'db:\n    password: hunter2\n' >secrets/app.yaml
	printf 'token: abc' >secrets/open-end.yaml
	git add -A
	git commit -qm one
	assert_blob_encrypted secrets/app.yaml
	assert_status_clean
	touch_newer secrets/*.yaml
	assert_status_clean
	before=$(git rev-parse :secrets/app.yaml)
	git add --renormalize .
	[ "$(git rev-parse :secrets/app.yaml)" = "$before" ]
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 0 ]
	# a change is sealed anew (this clone cannot open the old version)
	sed -i 's/hunter2/hunter3/' secrets/app.yaml
	run git status --porcelain
	[ "$output" = " M secrets/app.yaml" ]
	git commit -qam two
	assert_status_clean
	[ "$(git show HEAD:secrets/app.yaml | SOPS_AGE_KEY_FILE="$T/owner.txt" gitseal_textconv)" = "$(printf 'db:\n    password: hunter3')" ]
	[ "$(git show HEAD:secrets/open-end.yaml | SOPS_AGE_KEY_FILE="$T/owner.txt" gitseal_textconv)" = "token: abc" ]
	# the record holds keyed hashes only: no plaintext under .git
	run ! grep -rq hunter .git
}
