#!/usr/bin/env bats
# render and krm with manifests encrypted for a post-quantum age recipient
# (age1pq1...) and the hybrid identity in the cluster's key file.

bats_require_minimum_version 1.5.0
load k8s_helpers

# write_manifests seals with this: the hybrid recipient instead of the demo key
seal() {
	"$FIXTURE_BIN" encrypt --age "$PQ_RECIPIENT" --encrypted-regex '^(data|stringData)$' "$1" >"$2"
}

setup() {
	k8s_setup
	"$FIXTURE_BIN" keygen -pq -o "$TMP/pq.key" 2>/dev/null
	PQ_RECIPIENT=$("$FIXTURE_BIN" keygen -y "$TMP/pq.key")
	export SOPS_AGE_KEY_FILE="$TMP/pq.key"
	write_manifests "$APP"
}
teardown() { teardown_tmp; }

@test "render decrypts hybrid-encrypted Secrets with the hybrid identity, and only with it" {
	grep -q 'recipient: age1pq1' "$APP/db.enc.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	grep -q 'token: aHVudGVyMg==' <<<"$output"
	! grep -q 'ENC\[' <<<"$output" || false
	# Argo CD's plugin environment (a key file, where the sidecar allows
	# one), the X25519 demo key beside it
	unset SOPS_AGE_KEY_FILE
	cat "$KEYS/demo-age-key.txt" "$TMP/pq.key" >"$TMP/keys.txt"
	GITSEAL_ALLOW_ARGOCD_KEY_FILE=1 ARGOCD_ENV_SOPS_AGE_KEY_FILE="$TMP/keys.txt" run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	# the demo key alone cannot: nothing on stdout
	SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt" run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == "gitseal: error: 'db.enc.yaml' document 1: cannot recover the data key: no key opened it"* ]]
}

@test "krm generates Secrets from hybrid-encrypted files (KSOPS config)" {
	cd "$APP"
	cat >generator.yaml <<'YAML'
apiVersion: viaduct.ai/v1
kind: ksops
metadata:
  name: secret-generator
files:
- ./db.enc.yaml
secretFrom:
- metadata:
    name: app-files
  type: Opaque
  files:
  - db.yaml=./db.enc.yaml
YAML
	{
		printf 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n'
		sed 's/^/  /' generator.yaml
	} >"$TMP/rl.yaml"
	run --separate-stderr "$GITSEAL_BIN" krm <"$TMP/rl.yaml"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	grep -q 'name: app-files' <<<"$output"
	! grep -q '^results:' <<<"$output" || false
}
