#!/usr/bin/env bats
# PGP keys through the real GnuPG (Debian gnupg), as sops has them: files
# written by Go sops, a key made by gpg --quick-gen-key, an independent
# reader (tests/cli/pgp_check.mjs), every store, key groups with age, the
# git filter, and the cluster commands' private GnuPG home.

load ../helpers

SOPS_RES="$GITSEAL_SHARED/testdata/sops/getsops-sops/functional-tests/res"
SOPS_KEY="$GITSEAL_SHARED/testdata/sops/getsops-sops/pgp/sops_functional_tests_key.asc"

# One GnuPG home for the whole file: key generation happens once.
setup_file() {
	command -v gpg >/dev/null || return 0
	PGP_HOME=$(mktemp -d /tmp/gitseal-pgp-test.XXXXXX)
	chmod 700 "$PGP_HOME"
	export PGP_HOME
	GNUPGHOME=$PGP_HOME gpg --batch --passphrase '' \
		--quick-gen-key 'gitseal test key <pgp-test@gitseal.invalid>' future-default default never 2>/dev/null
	PGP_FP=$(GNUPGHOME=$PGP_HOME gpg --list-keys --with-colons | awk -F: '/^fpr/ { print $10; exit }')
	export PGP_FP
	if [ -f "$SOPS_KEY" ]; then
		GNUPGHOME=$PGP_HOME gpg --batch --import "$SOPS_KEY" 2>/dev/null
	fi
}

teardown_file() {
	[ -n "${PGP_HOME:-}" ] || return 0
	gpgconf --homedir "$PGP_HOME" --kill gpg-agent 2>/dev/null || true
	rm -rf "$PGP_HOME"
}

setup() {
	command -v gpg >/dev/null || skip "gpg (Debian gnupg) is needed"
	setup_tmp
	cd "$TMP"
	export GNUPGHOME=$PGP_HOME
	unset SOPS_PGP_FP SOPS_GPG_EXEC
	printf 'user: alice\npassword: hunter2\nnested:\n    port: 5432\n' >plain.yaml
}

teardown() {
	teardown_tmp
}

need_fixtures() {
	[ -f "$SOPS_KEY" ] || skip "../shared (the sops fixtures) is absent"
}

# An empty GnuPG home: no key at all.
empty_home() {
	mkdir -m 700 "$TMP/empty-gnupg"
	echo "$TMP/empty-gnupg"
}

@test "every PGP file written by Go sops decrypts with the committed test key" {
	need_fixtures
	[ "$(gitseal decrypt "$SOPS_RES/format.enc.yaml")" = "foo: bar" ]
	gitseal decrypt "$SOPS_RES/format.enc.json" >out.json
	printf '{\n\t"foo": "bar"\n}\n' | cmp - out.json
	gitseal decrypt "$SOPS_RES/format.enc.env" >out.env
	printf 'foo = bar\n' | cmp - out.env
	for f in format.enc.ini format-2.enc.ini; do
		gitseal decrypt "$SOPS_RES/$f" >out.ini
		printf '[foo]\nbar = baz\n' | cmp - out.ini
	done
	for f in comments.enc.yaml comments_unencrypted_comments.yaml; do
		gitseal decrypt "$SOPS_RES/$f" >out.yaml
		printf '# first comment in file\nlorem: ipsum\n# this-is-a-comment\ndolor: sit\n' | cmp - out.yaml
	done
	# two pgp entries (rsa2048 and rsa1024): either opens it
	[ "$(gitseal decrypt "$SOPS_RES/multiple_keys.yaml")" = "message: hello" ]
}

@test "no_mac.yaml fails without --ignore-mac and opens with it" {
	need_fixtures
	run gitseal decrypt "$SOPS_RES/no_mac.yaml"
	[ "$status" -eq 51 ]
	[[ "$output" == *"no_mac.yaml': no MAC"* ]]
	[ "$(gitseal decrypt --ignore-mac "$SOPS_RES/no_mac.yaml")" = "myapp1: t00m4nys3cr3tzupdated" ]
}

@test "a key made by gpg --quick-gen-key round-trips, with the pgp entry as sops writes it" {
	gitseal encrypt --pgp "$PGP_FP" plain.yaml >enc.yaml
	grep -q '^    pgp:$' enc.yaml
	grep -Eq '^        - created_at: "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"$' enc.yaml
	grep -q '^          enc: |-$' enc.yaml
	grep -q '^            -----BEGIN PGP MESSAGE-----$' enc.yaml
	grep -q '^            -----END PGP MESSAGE-----$' enc.yaml
	grep -q "^          fp: $PGP_FP\$" enc.yaml
	! grep -q hunter2 enc.yaml || false
	gitseal decrypt enc.yaml | cmp - plain.yaml
}

@test "a file gitseal writes opens with gpg --decrypt of enc and AES-GCM written apart from gitseal" {
	command -v node >/dev/null || skip "node is needed for the independent reader"
	printf '{"user": "alice", "db": {"password": "hunter2", "port": 5432, "tls": true}}\n' >plain.json
	gitseal encrypt --pgp "$PGP_FP" plain.json >enc.json
	node "$REPO_ROOT/tests/cli/pgp_check.mjs" enc.json >opened.json
	[ "$(cat opened.json)" = '{"user":"alice","db":{"password":"hunter2","port":5432,"tls":true}}' ]
	# a value tampered with fails there too: the reader is no rubber stamp
	sed 's/"user": "ENC\[AES256_GCM,data:./"user": "ENC[AES256_GCM,data:A/' enc.json >bad.json
	if cmp -s enc.json bad.json; then sed 's/"user": "ENC\[AES256_GCM,data:./"user": "ENC[AES256_GCM,data:B/' enc.json >bad.json; fi
	run node "$REPO_ROOT/tests/cli/pgp_check.mjs" bad.json
	[ "$status" -eq 1 ]
	[[ "$output" == *"unable to authenticate data"* ]]
}

@test "every store: the pgp entry in YAML, JSON, dotenv and INI forms round-trips" {
	printf 'USER=alice\nPASSWORD=hunter2\n' >plain.env
	printf '[db]\nuser = alice\npassword = hunter2\n' >plain.ini
	printf '{"user": "alice"}\n' >plain.json
	for f in plain.yaml plain.json plain.env plain.ini; do
		gitseal encrypt --pgp "$PGP_FP" "$f" >"enc.${f#plain.}"
		gitseal decrypt "enc.${f#plain.}" | cmp - "$f"
	done
	# sops's flattened names (stores/flatten.go): the armored message on one line
	grep -q "^sops_pgp__list_0__map_fp=$PGP_FP\$" enc.env
	grep -q '^sops_pgp__list_0__map_enc=-----BEGIN PGP MESSAGE-----\\n\\n' enc.env
	grep -Eq "^pgp__list_0__map_fp += $PGP_FP\$" enc.ini
	grep -Eq '^pgp__list_0__map_enc += -----BEGIN PGP MESSAGE-----\\n\\n' enc.ini
	grep -q '"pgp": \[' enc.json
}

@test "SOPS_PGP_FP, several fingerprints, spaces removed as sops does" {
	spaced=$(sed 's/..../& /g' <<<"$PGP_FP")
	SOPS_PGP_FP="$spaced" gitseal encrypt plain.yaml >enc.yaml
	grep -q "^          fp: $PGP_FP\$" enc.yaml
	if [ -f "$SOPS_KEY" ]; then
		gitseal encrypt --pgp "$PGP_FP,FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4" plain.yaml >two.yaml
		[ "$(grep -c '^          fp: ' two.yaml)" -eq 2 ]
		gitseal decrypt two.yaml | cmp - plain.yaml
	fi
	run gitseal encrypt --pgp 'not-a-fingerprint' plain.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid PGP fingerprint 'not-a-fingerprint'"* ]]
}

@test "edit of a new file and the legacy -e form take --pgp" {
	printf '#!/bin/sh\nprintf "token: s3cret\\n" >"$1"\n' >editor.sh
	chmod +x editor.sh
	EDITOR=$TMP/editor.sh gitseal edit --pgp "$PGP_FP" new.yaml
	grep -q "^          fp: $PGP_FP\$" new.yaml
	[ "$(gitseal decrypt new.yaml)" = "token: s3cret" ]
	gitseal -e --pgp "$PGP_FP" plain.yaml >legacy.yaml
	grep -q "^          fp: $PGP_FP\$" legacy.yaml
	gitseal -d legacy.yaml | cmp - plain.yaml
}

@test "a file holding age and PGP entries opens with either key alone" {
	gitseal keygen >age.txt 2>/dev/null
	gitseal encrypt --age "$(gitseal keygen -y age.txt)" --pgp "$PGP_FP" plain.yaml >enc.yaml
	grep -q '^    age:$' enc.yaml
	grep -q '^    pgp:$' enc.yaml
	# PGP alone (no age identity anywhere)
	gitseal decrypt enc.yaml | cmp - plain.yaml
	# age alone (a GnuPG home without keys)
	SOPS_AGE_KEY_FILE=age.txt GNUPGHOME=$(empty_home) gitseal decrypt enc.yaml | cmp - plain.yaml
}

@test "key groups mixing age and PGP with Shamir need both" {
	gitseal keygen >age.txt 2>/dev/null
	cat >.sops.yaml <<YAML
creation_rules:
  - key_groups:
      - pgp:
          - $PGP_FP
      - age:
          - $(gitseal keygen -y age.txt)
YAML
	gitseal encrypt plain.yaml >enc.yaml
	grep -q '^    shamir_threshold: 2$' enc.yaml
	grep -q '^          pgp:$' enc.yaml
	SOPS_AGE_KEY_FILE=age.txt gitseal decrypt enc.yaml | cmp - plain.yaml
	run gitseal decrypt enc.yaml
	[ "$status" -eq 128 ]
	[[ "$output" == *"1 of 2 key groups opened, 2 needed"* ]]
	run env SOPS_AGE_KEY_FILE=age.txt GNUPGHOME="$(empty_home)" "$GITSEAL_BIN" decrypt enc.yaml
	[ "$status" -eq 128 ]
	[[ "$output" == *"1 of 2 key groups opened"*"1 pgp key: cannot decrypt: gpg: decryption failed: No secret key"* ]]
}

@test ".sops.yaml pgp in a creation rule: a comma-separated string or a list" {
	need_fixtures
	cat >.sops.yaml <<YAML
creation_rules:
  - path_regex: list\.yaml\$
    pgp:
      - $PGP_FP
      - FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4
  - path_regex: csv\.yaml\$
    pgp: "$PGP_FP, FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"
YAML
	for f in list csv; do
		cp plain.yaml $f.yaml
		gitseal encrypt -i $f.yaml
		[ "$(grep -c '^          fp: ' $f.yaml)" -eq 2 ]
		grep -q '^          fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4$' $f.yaml
		gitseal decrypt $f.yaml | cmp - plain.yaml
	done
}

@test "rotate --add-pgp/--rm-pgp, groups add --pgp, updatekeys with a PGP key" {
	need_fixtures
	gitseal keygen >age.txt 2>/dev/null
	R=$(gitseal keygen -y age.txt)
	export SOPS_AGE_KEY_FILE=age.txt
	gitseal encrypt --age "$R" plain.yaml >enc.yaml
	gitseal rotate -i --add-pgp "$PGP_FP" enc.yaml
	grep -q "^          fp: $PGP_FP\$" enc.yaml
	env -u SOPS_AGE_KEY_FILE "$GITSEAL_BIN" decrypt enc.yaml | cmp - plain.yaml
	gitseal rotate -i --rm-pgp "$PGP_FP" enc.yaml
	! grep -q 'pgp:' enc.yaml || false
	run env -u SOPS_AGE_KEY_FILE "$GITSEAL_BIN" decrypt enc.yaml
	[ "$status" -eq 128 ]
	[[ $output == "gitseal: error: 'enc.yaml': cannot recover the data key: "* ]]
	# groups add --pgp: a second group, the data key split anew
	gitseal groups add --file enc.yaml --pgp FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4 -i
	grep -q '^    key_groups:$' enc.yaml
	grep -q '^              fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4$' enc.yaml
	gitseal decrypt enc.yaml | cmp - plain.yaml
	# updatekeys: the rule's PGP key is added, the data key kept
	gitseal encrypt --age "$R" plain.yaml >upd.yaml
	before=$(grep '^user:' upd.yaml)
	printf 'creation_rules:\n  - age: %s\n    pgp: %s\n' "$R" "$PGP_FP" >.sops.yaml
	gitseal updatekeys -y upd.yaml 2>err.txt
	grep -q "^+++ $PGP_FP\$" err.txt
	[ "$(grep '^user:' upd.yaml)" = "$before" ]
	env -u SOPS_AGE_KEY_FILE "$GITSEAL_BIN" decrypt upd.yaml | cmp - plain.yaml
	gitseal updatekeys -y upd.yaml 2>err.txt
	grep -q "already up to date" err.txt
}

@test "no usable key exits 128 as sops; a missing gpg is one line" {
	gitseal encrypt --pgp "$PGP_FP" plain.yaml >enc.yaml
	run env GNUPGHOME="$(empty_home)" "$GITSEAL_BIN" decrypt enc.yaml
	[ "$status" -eq 128 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"cannot recover the data key: no key opened it (tried 1 pgp key: cannot decrypt: gpg: decryption failed: No secret key"* ]]
	run env SOPS_GPG_EXEC=/nonexistent/gpg "$GITSEAL_BIN" decrypt enc.yaml
	[ "$status" -eq 128 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"/nonexistent/gpg not found: install GnuPG or set SOPS_GPG_EXEC"* ]]
	run env SOPS_GPG_EXEC=/nonexistent/gpg "$GITSEAL_BIN" encrypt --pgp "$PGP_FP" plain.yaml
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"/nonexistent/gpg not found"* ]]
	# a key gpg does not have: gpg's own reason
	run gitseal encrypt --pgp 0123456789ABCDEF0123456789ABCDEF01234567 plain.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"PGP key '0123456789ABCDEF0123456789ABCDEF01234567': cannot encrypt for PGP key: gpg: "*"No public key"* ]]
}

@test "SOPS_GPG_EXEC chooses the binary; gpg gets the key on a pipe, never in a file or argument" {
	cat >fakegpg <<SH
#!/bin/sh
printf '%s\n' "\$*" >>"$TMP/gpg-args"
ls -l /proc/self/fd/0 >>"$TMP/gpg-stdin"
exec gpg "\$@"
SH
	chmod +x fakegpg
	SOPS_GPG_EXEC=$TMP/fakegpg gitseal encrypt --pgp "$PGP_FP" plain.yaml >enc.yaml
	SOPS_GPG_EXEC=$TMP/fakegpg gitseal decrypt enc.yaml | cmp - plain.yaml
	# sops's arguments (pgp/keysource.go encryptWithGnuPG, decryptWithGnuPG), and the
	# user's auto-key-retrieve off for decryption (tests/cli/redteam13.bats)
	short=${PGP_FP: -16}
	[ "$(sed -n 1p gpg-args)" = "--no-default-recipient --yes --encrypt -a -r $PGP_FP --trusted-key $short --no-encrypt-to" ]
	[ "$(sed -n 2p gpg-args)" = "--no-auto-key-retrieve -d" ]
	[ "$(grep -c 'socket:' gpg-stdin)" -eq 2 ]
}

@test "a passphrase-protected key is unlocked by gpg's own configuration, never asked by gitseal" {
	home=$(mktemp -d /tmp/gitseal-pgp-prot.XXXXXX)
	chmod 700 "$home"
	GNUPGHOME=$home gpg --batch --pinentry-mode loopback --passphrase 's3cret' \
		--quick-gen-key 'protected <prot@gitseal.invalid>' future-default default never 2>/dev/null
	fp=$(GNUPGHOME=$home gpg --list-keys --with-colons | awk -F: '/^fpr/ { print $10; exit }')
	GNUPGHOME=$home gitseal encrypt --pgp "$fp" plain.yaml >enc.yaml
	# no pinentry can run here: gpg's reason, exit 128, and nothing read from stdin
	run env GNUPGHOME="$home" "$GITSEAL_BIN" decrypt enc.yaml </dev/null
	[ "$status" -eq 128 ]
	[[ "$output" == *"1 pgp key: cannot decrypt: gpg: "* ]]
	# gpg's configuration gives it the passphrase (as a pinentry would)
	printf 's3cret\n' >"$home/pass"
	printf 'pinentry-mode loopback\npassphrase-file %s\n' "$home/pass" >"$home/gpg.conf"
	GNUPGHOME=$home gitseal decrypt enc.yaml </dev/null | cmp - plain.yaml
	gpgconf --homedir "$home" --kill gpg-agent 2>/dev/null || true
	rm -rf "$home"
}

@test "the git filter with PGP recipients" {
	# git runs the filter as `gitseal` from PATH
	PATH="$(dirname "$(readlink -f "$GITSEAL_BIN")"):$PATH"
	export GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
	git config --global user.name "gitseal test"
	git config --global user.email "test@example.invalid"
	git init -q repo
	cd repo
	printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    pgp: %s\n' "$PGP_FP" >.sops.yaml
	gitseal git init 'secrets/**'
	mkdir secrets
	cp ../plain.yaml secrets/app.yaml
	git add -A
	git commit -qm one
	git cat-file -p HEAD:secrets/app.yaml >blob.yaml
	grep -q "^          fp: $PGP_FP\$" blob.yaml
	! grep -q hunter2 blob.yaml || false
	# unchanged content gives the identical blob (the data key reused through gpg)
	before=$(git rev-parse HEAD:secrets/app.yaml)
	# a newer mtime than the index recorded, so that git cleans the file again
	touch -d "@$(($(date +%s) + 2))" secrets/app.yaml
	git add --renormalize .
	[ "$(git rev-parse :secrets/app.yaml)" = "$before" ]
	# a fresh checkout decrypts through gpg
	rm secrets/app.yaml
	git checkout -- secrets/app.yaml
	cmp secrets/app.yaml ../plain.yaml
}

@test "render and krm import *.asc keys from GITSEAL_PGP_KEY_DIR into a private GnuPG home, removed after" {
	mkdir keys manifests
	GNUPGHOME=$PGP_HOME gpg --batch --armor --export-secret-keys "$PGP_FP" >keys/sops.asc 2>/dev/null
	printf 'not a key\n' >keys/README
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n    name: db\nstringData:\n    password: hunter2\n' >secret.yaml
	gitseal encrypt --pgp "$PGP_FP" secret.yaml >manifests/secret.yaml 2>/dev/null
	export TMPDIR=$TMP/tmpdir
	mkdir -m 700 "$TMPDIR"
	# no key in the default GnuPG home: the files are the only source
	export GNUPGHOME=$(empty_home)
	GITSEAL_PGP_KEY_DIR=$TMP/keys gitseal render manifests >out.yaml
	grep -q 'password: hunter2' out.yaml
	[ -z "$(ls -A "$TMPDIR")" ]
	# a KRM function run
	printf 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: viaduct.ai/v1\n  kind: ksops\n  metadata:\n    name: g\n  files:\n    - manifests/secret.yaml\n' >rl.yaml
	GITSEAL_PGP_KEY_DIR=$TMP/keys gitseal krm <rl.yaml >rl-out.yaml
	grep -q 'password: hunter2' rl-out.yaml
	[ -z "$(ls -A "$TMPDIR")" ]
	# without the directory, nothing opens it
	run gitseal render manifests
	[ "$status" -eq 1 ]
	[[ "$output" == *"'secret.yaml' document 1: cannot recover the data key: no key opened it"* ]]
	# a directory without keys is one clear line
	mkdir nokeys
	run env GITSEAL_PGP_KEY_DIR=$TMP/nokeys "$GITSEAL_BIN" render manifests
	[ "$status" -eq 1 ]
	[[ "$output" == *"no *.asc key files in the PGP key directory"* ]]
}
