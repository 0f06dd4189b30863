#!/usr/bin/env bats
# gitseal render: plain directories and kustomizations, all or nothing.

bats_require_minimum_version 1.5.0
load k8s_helpers

setup() {
	k8s_setup
	write_manifests_once "$APP"
}
teardown() { teardown_tmp; }

@test "render of a plain directory decrypts stringData and data, passes the rest through" {
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	grep -q 'username: admin' <<<"$output"
	grep -q 'port: "5432"' <<<"$output"
	grep -q 'token: aHVudGVyMg==' <<<"$output"
	grep -q 'image: nginx:1.27' <<<"$output"
	grep -q 'mode: production' <<<"$output"
	! grep -q 'ENC\[' <<<"$output" || false
	! grep -q '^sops:' <<<"$output" || false
	# sorted order: config, db, deploy, tls
	[ "$(grep '^kind:' <<<"$output" | tr '\n' ' ')" = "kind: ConfigMap kind: Secret kind: Deployment kind: Secret " ]
	# the output is a valid stream kubectl understands
	printf '%s\n' "$output" >"$TMP/out.yaml"
	stream_names "$TMP/out.yaml" >"$TMP/names"
	grep -qx 'secret/db' "$TMP/names"
	grep -qx 'deployment/web' "$TMP/names"
}

@test "render defaults to the current directory and skips hidden files" {
	printf 'creation_rules: []\n' >"$APP/.sops.yaml"
	cd "$APP"
	run --separate-stderr "$GITSEAL_BIN" render
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	! grep -q 'creation_rules' <<<"$output" || false
}

@test "render takes an Application's key (ARGOCD_ENV_SOPS_AGE_KEY); key files only when the sidecar allows them" {
	unset SOPS_AGE_KEY_FILE
	ARGOCD_ENV_SOPS_AGE_KEY="$(grep '^AGE-SECRET-KEY' "$KEYS/demo-age-key.txt")" run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	# a file name chooses among the sidecar's keys: ignored, said, unless allowed
	for v in ARGOCD_ENV_SOPS_AGE_KEY_FILE ARGOCD_ENV_SOPS_AGE_SSH_PRIVATE_KEY_FILE; do
		env "$v=$KEYS/demo-age-key.txt" "$GITSEAL_BIN" render "$APP" >"$TMP/out" 2>"$TMP/err" && false
		[ ! -s "$TMP/out" ]
		grep -qx "gitseal: warning: $v is ignored: the sidecar does not set GITSEAL_ALLOW_ARGOCD_KEY_FILE=1" "$TMP/err"
		grep -q "'db.enc.yaml' document 1: " "$TMP/err"
		env "$v=$KEYS/demo-age-key.txt" GITSEAL_ALLOW_ARGOCD_KEY_FILE=1 "$GITSEAL_BIN" render "$APP" >"$TMP/out"
		grep -q 'password: t0p-s3cr3t' "$TMP/out"
	done
	# a command: its own switch
	ARGOCD_ENV_SOPS_AGE_KEY_CMD="cat $KEYS/demo-age-key.txt" run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 1 ]
	grep -q "ARGOCD_ENV_SOPS_AGE_KEY_CMD is ignored: the sidecar does not set GITSEAL_ALLOW_ARGOCD_KEY_CMD=1" <<<"$stderr"
}

@test "render with the wrong key fails with nothing on stdout" {
	export SOPS_AGE_KEY_FILE="$KEYS/test-age-key-2.txt"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$(head -1 <<<"$stderr")" = "gitseal: error: 'db.enc.yaml' document 1: cannot recover the data key: no key opened it (tried 1 age key)" ]
	grep -q "'db.enc.yaml' document 1" <<<"$stderr"
	grep -q "'tls.enc.yaml' document 1" <<<"$stderr"
	[ "$(wc -l <<<"$stderr")" -eq 2 ]
	! grep -q 't0p-s3cr3t\|admin' <<<"$stderr" || false
}

@test "render of a tampered file fails with nothing on stdout and no value in the error" {
	# change a plaintext field covered by the MAC
	sed -i 's/name: db/name: dbx/' "$APP/db.enc.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'db.enc.yaml' document 1: MAC mismatch" ]
	grep -q "'db.enc.yaml' document 1" <<<"$stderr"
	! grep -q 't0p-s3cr3t' <<<"$stderr" || false
}

@test "render shows a manifest path with a newline or ESC escaped on its one line" {
	# a file name is repository content: a newline in it would forge a
	# second error line, an ESC sequence would repaint the terminal
	forged=$'db\n\e[2Jgitseal: error: forged.enc.yaml'
	sed 's/name: db/name: dbx/' "$APP/db.enc.yaml" >"$APP/$forged"
	rm "$APP/db.enc.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'db\x0a\x1b[2Jgitseal: error: forged.enc.yaml' document 1: MAC mismatch" ]
}

@test "render of many files keeps their order, and reports every failure in file order with nothing on stdout" {
	# files are opened ahead on other threads: the output and the failures
	# must still come in file order
	for i in $(seq -w 1 24); do
		sed "s/name: db/name: db$i/; s/t0p-s3cr3t/pw-$i/" "$TMP/db.plain.yaml" >"$TMP/p.yaml"
		seal "$TMP/p.yaml" "$APP/s$i.enc.yaml"
	done
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	[ "$(grep -o 'password: pw-[0-9]*' <<<"$output" | tr '\n' ' ')" = "$(for i in $(seq -w 1 24); do printf 'password: pw-%s ' "$i"; done)" ]
	[ "$(grep -c '^kind:' <<<"$output")" -eq 28 ]
	# a wrong MAC in s05, a file that does not parse in s17, a wrong MAC in s20
	sed -i 's/name: db05/name: dbx/' "$APP/s05.enc.yaml"
	printf 'a: [\n' >>"$APP/s17.enc.yaml"
	sed -i 's/name: db20/name: dby/' "$APP/s20.enc.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -n "error: " <<<"$stderr" >"$TMP/errors"
	[ "$(grep -c . "$TMP/errors")" -eq 3 ]
	grep -q "^1:gitseal: error: 's05.enc.yaml' document 1: MAC mismatch$" "$TMP/errors"
	grep -q "^2:gitseal: error: 's17.enc.yaml' document 1: invalid YAML at line " "$TMP/errors"
	grep -q "^3:gitseal: error: 's20.enc.yaml' document 1: MAC mismatch$" "$TMP/errors"
	! grep -q 'pw-' <<<"$stderr" || false
}

@test "render of a missing directory fails" {
	run --separate-stderr "$GITSEAL_BIN" render "$TMP/nope"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: '$TMP/nope': No such file or directory" ]
}

@test "render keeps multi-document files and names the failing document" {
	# the two files made one (each object given once)
	{ cat "$APP/config.yaml"; echo '---'; cat "$APP/db.enc.yaml"; } >"$APP/multi.yaml"
	rm "$APP/config.yaml" "$APP/db.enc.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'password: t0p-s3cr3t' <<<"$output")" -eq 1 ]
	grep -q 'mode: production' <<<"$output"
	# change the first ciphertext character of document 2 (to one it is not)
	perl -0pi -e 's/(username: ENC\[AES256_GCM,data:)(.)/$1 . ($2 eq "A" ? "B" : "A")/e' "$APP/multi.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "'multi.yaml' document 2" <<<"$stderr"
}

kustomize_app() {
	cat >"$APP/kustomization.yaml" <<'YAML'
namePrefix: prod-
commonLabels:
  team: payments
resources:
- deploy.yaml
- config.yaml
- db.enc.yaml
- tls.enc.yaml
YAML
}

@test "render builds a kustomization with namePrefix and commonLabels and verifies every secret" {
	kustomize_app
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	grep -q 'name: prod-db' <<<"$output"
	grep -q 'name: prod-tls' <<<"$output"
	grep -q 'team: payments' <<<"$output"
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	grep -q 'port: "5432"' <<<"$output"
	grep -q 'token: aHVudGVyMg==' <<<"$output"
	! grep -q 'ENC\[' <<<"$output" || false
	! grep -q 'sops' <<<"$output" || false
	! grep -q 'config.kubernetes.io/origin' <<<"$output" || false
	printf '%s\n' "$output" >"$TMP/out.yaml"
	stream_names "$TMP/out.yaml" | grep -qx 'secret/prod-db'
}

@test "render uses GITSEAL_KUSTOMIZE" {
	kustomize_app
	GITSEAL_KUSTOMIZE="kubectl kustomize" run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	grep -q 'name: prod-db' <<<"$output"
	GITSEAL_KUSTOMIZE="false" run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: '.': kustomize build: 'false' failed (exit status 1)" ]
}

@test "render refuses a ciphertext that a patch moved to another key" {
	kustomize_app
	enc=$(sed -n 's/^ *password: \(ENC\[.*\]\)$/\1/p' "$APP/db.enc.yaml")
	cat >>"$APP/kustomization.yaml" <<YAML
patches:
- target: {kind: Secret, name: db}
  patch: |
    - op: add
      path: /stringData/leaked
      value: "$enc"
YAML
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "stringData:leaked" <<<"$stderr"
	! grep -q 't0p-s3cr3t' <<<"$stderr" || false
}

@test "render of a kustomization with a tampered or missing source fails" {
	kustomize_app
	cp "$APP/db.enc.yaml" "$TMP/db.orig"
	sed -i 's/name: db/name: dbx/' "$APP/db.enc.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "db.enc.yaml" <<<"$stderr"
	cp "$TMP/db.orig" "$APP/db.enc.yaml"
	rm "$APP/tls.enc.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'kustomization.yaml': 'tls.enc.yaml' not found" ]
}

@test "render of a kustomization with the wrong key fails with nothing on stdout" {
	kustomize_app
	export SOPS_AGE_KEY_FILE="$KEYS/test-age-key-2.txt"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "db.enc.yaml" <<<"$stderr"
}

@test "render leaves no temporary directory behind" {
	kustomize_app
	export TMPDIR="$TMP/t"
	mkdir -p "$TMPDIR"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$TMPDIR")" ]
}

@test "render keeps the YAML tags of plaintext and refuses a ciphertext carrying one" {
	cat >"$TMP/tagged.plain.yaml" <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: tagged
  annotations:
    note: !note hello
    blob: !!binary aGVsbG8=
stringData:
  password: t0p-s3cr3t
YAML
	seal "$TMP/tagged.plain.yaml" "$APP/tagged.enc.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain-tags\ndata:\n  x: !custom y\n' >"$APP/tags.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	grep -qx '    note: !note hello' <<<"$output"
	grep -qx '    blob: !!binary aGVsbG8=' <<<"$output"
	grep -qx '  x: !custom y' <<<"$output"
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	# a tag is outside the MAC, and readers go by it
	sed -i 's/^\(  password: \)ENC/\1!!binary ENC/' "$APP/tagged.enc.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -qx "gitseal: error: 'tagged.enc.yaml' document 1: value at 'stringData:password:' carries a YAML tag, which the MAC does not cover" <<<"$stderr"
}

@test "render writes a decrypted document in its file's own layout, and JSON as YAML" {
	cat >"$TMP/laid.plain.yaml" <<'YAML'
# the database
apiVersion: v1
kind: Secret
metadata:
    name: laid
    labels: {tier: db}
stringData:
    password: "t0p s3cr3t"  # rotated monthly
    script: |
        line one
        line two
YAML
	seal "$TMP/laid.plain.yaml" "$TMP/laid.enc.yaml"
	rm "$APP"/*
	cp "$TMP/laid.enc.yaml" "$APP/"
	printf '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api"}, "stringData": {"token": "j50n", "n": 5}}\n' >"$TMP/api.json"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" --encrypted-regex '^(data|stringData)$' "$TMP/api.json" >"$APP/api.enc.json"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	# the YAML document is its plaintext file byte for byte; JSON is written as YAML
	{ printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\nstringData:\n  token: j50n\n  "n": 5\n---\n'
	  cat "$TMP/laid.plain.yaml"; } >"$TMP/want.yaml"
	diff -u "$TMP/want.yaml" - <<<"$output"
}

@test "render keeps a block scalar that ends a file without a line break (no line break added to it)" {
	rm "$APP"/*
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  script: |\n    echo hi' >"$APP/a.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n' >"$APP/b.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	# "echo hi", as the file says: not "echo hi\n" (a "|" block then a line break)
	grep -qx '  script: echo hi' <<<"$output"
	[ "$(grep -c '^kind: ConfigMap$' <<<"$output")" -eq 2 ]
}
