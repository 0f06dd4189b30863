#!/usr/bin/env bats
# Issue 13's cases, one or more tests each (the case number leads the
# name): wrong output with exit 0, kustomize generators, KSOPS through
# render, Helm, copied ciphertext, and a hostile tenant of a shared
# repo-server. Cases 1 and 2 (the plugin in Argo CD) are in cmp.bats.

bats_require_minimum_version 1.5.0
load k8s_helpers

setup() {
	k8s_setup
	REPO="$TMP/repo"
	mkdir -p "$REPO/.git"
}
teardown() { teardown_tmp; }

# seal_ns PLAIN ENC NS: a Secret encrypted for the demo key in namespace NS
secret_in() {
	local name=$1 ns=$2 value=$3 out=$4
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n%s\ntype: Opaque\nstringData:\n  password: %s\n' \
		"$name" "${ns:+  namespace: $ns}" "$value" | sed '/^$/d' >"$TMP/plain.yaml"
	seal "$TMP/plain.yaml" "$out"
}

@test "3: secretGenerator envs and files that are sops files are decrypted before the build, MAC checked" {
	mkdir -p "$REPO/app"
	printf 'API_KEY=abc123\nREGION=eu-west-1\n' >"$TMP/app.env"
	printf 'username: admin\npassword: t0p-s3cr3t\n' >"$TMP/config.yaml"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/app.env" >"$REPO/app/app.enc.env"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/config.yaml" >"$REPO/app/config.enc.yaml"
	printf 'plain-value\n' >"$REPO/app/plain.txt"
	cat >"$REPO/app/kustomization.yaml" <<'YAML'
secretGenerator:
- name: app
  envs: [app.enc.env]
  files: [config.yaml=config.enc.yaml, plain.txt]
YAML
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ]
	grep -q "API_KEY: $(printf abc123 | base64)" <<<"$output"
	grep -q "REGION: $(printf eu-west-1 | base64)" <<<"$output"
	grep -q "config.yaml: $(base64 -w0 "$TMP/config.yaml")" <<<"$output"
	grep -q "plain.txt: $(printf 'plain-value\n' | base64)" <<<"$output"
	! grep -q 'sops_mac\|sops_version\|ENC\[' <<<"$output" || false
	grep -Eq 'name: app-[a-z0-9]{10}$' <<<"$output"
	# nothing decrypted is left behind, nothing written into the repository
	[ -z "$(ls -A "$TMP/home" 2>/dev/null | grep -v '^\.config$')" ]
	! grep -rq 'abc123' "$REPO" || false
	# a tampered source (its MAC) fails the render
	sed -i 's/^sops_mac=ENC\[AES256_GCM,data:./&x/' "$REPO/app/app.enc.env"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "^gitseal: error: 'app/app.enc.env': " <<<"$stderr"
}

@test "3: an encrypted generator source that cannot be decrypted fails the render" {
	mkdir -p "$REPO/app"
	printf 'API_KEY=abc123\n' >"$TMP/app.env"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/app.env" >"$REPO/app/app.enc.env"
	printf 'secretGenerator:\n- name: app\n  envs: [app.enc.env]\n' >"$REPO/app/kustomization.yaml"
	export SOPS_AGE_KEY_FILE="$KEYS/test-age-key-2.txt"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "^gitseal: error: 'app/app.enc.env': " <<<"$stderr"
	# a configMapGenerator would publish it: refused even with the key
	export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
	printf 'configMapGenerator:\n- name: app\n  envs: [app.enc.env]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "'app/app.enc.env' is encrypted: a configMapGenerator would publish it" <<<"$stderr"
}

@test "3: inline generator configs: their sops sources are decrypted too, a KRM function inline is refused, discovery sees them" {
	mkdir -p "$REPO/app"
	printf 'API_KEY=abc123\n' >"$TMP/app.env"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/app.env" >"$REPO/app/app.enc.env"
	cat >"$REPO/app/kustomization.yaml" <<'YAML'
generators:
- |-
  apiVersion: builtin
  kind: SecretGenerator
  metadata:
    name: inline
  envs: [app.enc.env]
YAML
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ]
	grep -q "API_KEY: $(printf abc123 | base64)" <<<"$output"
	! grep -q 'sops_mac\|sops_version' <<<"$output" || false
	run --separate-stderr "$GITSEAL_BIN" render --discover "$REPO/app"
	[ "$output" = "$REPO/app" ]
	# an inline KSOPS config runs gitseal as its plugin
	write_manifests "$REPO/app"
	printf 'generators:\n- |-\n  apiVersion: viaduct.ai/v1\n  kind: ksops\n  metadata:\n    name: g\n  files: [db.enc.yaml]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	# an inline exec or container function is refused, not run
	printf 'generators:\n- |-\n  apiVersion: example.com/v1\n  kind: Gen\n  metadata:\n    name: x\n    annotations:\n      config.kubernetes.io/function: |\n        container:\n          image: example.com/evil\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -qx "gitseal: error: 'app/kustomization.yaml' (inline config): example.com/v1/Gen is a KRM function: exec and container functions from the repository are not run" <<<"$stderr"
}

@test "3: a generator source still encrypted after all (a sops file under a name of another format) fails the render" {
	mkdir -p "$REPO/app"
	printf 'user: admin\npassword: t0p-s3cr3t\n' >"$TMP/creds.yaml"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/creds.yaml" >"$REPO/app/creds.txt"
	printf 'secretGenerator:\n- name: x\n  files: [creds.txt]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -Eqx "gitseal: error: resource Secret/x-[a-z0-9]{10} \(document 1\): 'creds.txt' holds encrypted text: a generator source gitseal did not read as a sops file" <<<"$stderr"
}

@test "4: zero documents is an error unless --allow-empty" {
	mkdir -p "$REPO/empty"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/empty"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "renders no manifests (--allow-empty to accept)" <<<"$stderr"
	run --separate-stderr "$GITSEAL_BIN" render --allow-empty "$REPO/empty"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# a kustomization whose only generator kubectl skips (a KRM function
	# without --enable-exec) builds to nothing under a bare kubectl
	mkdir -p "$REPO/krm"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ./fn.sh\n' >"$REPO/krm/gen.yaml"
	printf 'generators: [gen.yaml]\n' >"$REPO/krm/kustomization.yaml"
	run kubectl kustomize --enable-alpha-plugins "$REPO/krm"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	printf 'resources: []\n' >"$REPO/krm/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/krm"
	[ "$status" -eq 1 ]
	grep -q "renders no manifests" <<<"$stderr"
}

@test "5: a KSOPS-configured kustomization builds through render; v2 configs, gitseal.dev/v1 SecretGenerator; no exec or container function from the repository" {
	mkdir -p "$REPO/app"
	write_manifests "$REPO/app"
	for v in "viaduct.ai/v1 ksops" "viaduct.ai/v2 ksops" "gitseal.dev/v1 SecretGenerator"; do
		cat >"$REPO/app/gen.yaml" <<YAML
apiVersion: ${v% *}
kind: ${v#* }
metadata:
  name: gen
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ksops
files: [db.enc.yaml]
YAML
		printf 'generators: [gen.yaml]\nresources: [config.yaml]\n' >"$REPO/app/kustomization.yaml"
		run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
		[ "$status" -eq 0 ]
		grep -q 'password: t0p-s3cr3t' <<<"$output"
		grep -q 'mode: production' <<<"$output"
	done
	# secretFrom in a SecretGenerator, through kustomize's hash suffix
	cat >"$REPO/app/gen.yaml" <<'YAML'
apiVersion: gitseal.dev/v1
kind: SecretGenerator
metadata:
  name: gen
secretFrom:
- metadata:
    name: from-files
    annotations: {kustomize.config.k8s.io/needs-hash: "true"}
  files: [db.yaml=db.enc.yaml]
YAML
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ]
	grep -Eq 'name: from-files-[a-z0-9]{10}$' <<<"$output"
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	! grep -q 'ENC\[\|needs-hash' <<<"$output" || false
	# an exec function of the repository's own is refused, not run
	printf '#!/bin/sh\ntouch "%s/ran"\n' "$TMP" >"$REPO/app/fn.sh"
	chmod +x "$REPO/app/fn.sh"
	printf 'apiVersion: example.com/v1\nkind: Gen\nmetadata:\n  name: x\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ./fn.sh\n' >"$REPO/app/evil.yaml"
	printf 'generators: [gen.yaml, evil.yaml]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "'app/evil.yaml': example.com/v1/Gen is a KRM function: exec and container functions from the repository are not run" <<<"$stderr"
	[ ! -e "$TMP/ran" ]
	# a container function likewise
	sed -i 's|exec:|container:|; s|path: ./fn.sh|image: example.com/evil|' "$REPO/app/evil.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	grep -q "is a KRM function" <<<"$stderr"
	# and a legacy plugin that is not ksops is refused before kustomize runs
	printf 'apiVersion: example.com/v1\nkind: Gen\nmetadata:\n  name: x\n' >"$REPO/app/evil.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -qx "gitseal: error: 'app/evil.yaml': example.com/v1/Gen is an external plugin: only KSOPS generators and kustomize's builtin ones are run" <<<"$stderr"
}

@test "6: a JSON 6902 patch that replaces the annotations still verifies" {
	mkdir -p "$REPO/app"
	write_manifests "$REPO/app"
	cat >"$REPO/app/kustomization.yaml" <<'YAML'
buildMetadata: [originAnnotations]
resources: [db.enc.yaml, config.yaml]
patches:
- target: {kind: Secret, name: db}
  patch: |
    - op: add
      path: /metadata/annotations
      value: {team: payments}
YAML
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	grep -q 'team: payments' <<<"$output"
	! grep -q 'ENC\[\|^sops:' <<<"$output" || false
}

@test "7: a Helm chart directory is refused with guidance" {
	mkdir -p "$REPO/chart/templates"
	printf 'apiVersion: v2\nname: web\nversion: 1.0.0\n' >"$REPO/chart/Chart.yaml"
	printf 'replicas: 2\n' >"$REPO/chart/values.yaml"
	printf 'kind: Deployment\nspec:\n  replicas: {{ .Values.replicas }}\n' >"$REPO/chart/templates/d.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/chart"
	[ "$status" -eq 2 ] || [ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "is a Helm chart: use Argo CD's Helm source, with a values file decrypted by gitseal" <<<"$stderr"
	run --separate-stderr "$GITSEAL_BIN" render --discover "$REPO/chart"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "8: copied ciphertext without sops metadata fails, in a plain directory and a kustomization" {
	mkdir -p "$REPO/app"
	write_manifests "$REPO/app"
	enc=$(sed -n 's/^ *password: \(ENC\[.*\]\)$/\1/p' "$REPO/app/db.enc.yaml")
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: copy\nstringData:\n  password: %s\n' "$enc" >"$REPO/app/copy.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -qx "gitseal: error: 'copy.yaml' document 1: encrypted values without sops metadata" <<<"$stderr"
	printf 'resources: [copy.yaml, config.yaml]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "resource Secret/copy (document 2): holds encrypted values that are not from a verified source" <<<"$stderr"
	# ciphertext inside a longer string is no way around it
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: copy\ndata:\n  f: "x %s"\n' "$enc" >"$REPO/app/copy.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	grep -q "holds encrypted text that is not a sops value" <<<"$stderr"
}

@test "9: docs/flux.md says Flux decrypts after the build with the MAC off, generator sources and patches before" {
	local doc="$BATS_TEST_DIRNAME/../../docs/flux.md"
	grep -qi 'after the kustomize build' "$doc"
	grep -qi 'before the kustomize build' "$doc"
	grep -q 'MAC check off' "$doc"
	grep -qi 'MAC' "$doc"
	grep -q 'secretGenerator' "$doc"
	grep -qi 'patches' "$doc"
	! grep -q 'Flux decrypts each file before its kustomize build' "$doc" || false
}

# Two tenants' apps in one repository on one repo-server.
tenants() {
	mkdir -p "$REPO/tenant-a" "$REPO/tenant-b"
	secret_in db tenant-b b-s3cr3t "$REPO/tenant-b/secret.enc.yaml"
	printf 'resources: [secret.enc.yaml]\n' >"$REPO/tenant-b/kustomization.yaml"
}

@test "10: an origin annotation set by a patch is never followed to another tenant's file" {
	tenants
	mkdir -p "$TMP/other/tenantB"
	cp "$REPO/tenant-b/secret.enc.yaml" "$TMP/other/tenantB/secret.enc.yaml"
	# tenant A copies B's ciphertext (no sops block) and points the
	# origin annotation at B's file outside A's repository
	enc=$(sed -n 's/^ *password: \(ENC\[.*\]\)$/\1/p' "$REPO/tenant-b/secret.enc.yaml")
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: %s\n' "$enc" >"$REPO/tenant-a/secret.yaml"
	cat >"$REPO/tenant-a/kustomization.yaml" <<YAML
resources: [secret.yaml]
patches:
- target: {kind: Secret}
  patch: |
    - op: add
      path: /metadata/annotations
      value: {config.kubernetes.io/origin: "path: /proc/self/cwd/../../other/tenantB/secret.enc.yaml"}
YAML
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/tenant-a"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "resource Secret/db (document 1): holds encrypted values that are not from a verified source" <<<"$stderr"
	! grep -q 'b-s3cr3t' <<<"$stderr" || false
}

@test "10: resources from another tenant's directory with namespace: tenant-a fail under --bind-namespace" {
	tenants
	printf 'namespace: tenant-a\nresources: [../tenant-b]\n' >"$REPO/tenant-a/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render --bind-namespace "$REPO/tenant-a"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -qx "gitseal: error: resource Secret/db (document 1): namespace 'tenant-a' is not its source's 'tenant-b' (--bind-namespace)" <<<"$stderr"
	ARGOCD_APP_NAMESPACE=tenant-a run --separate-stderr "$GITSEAL_BIN" render --bind-namespace=tenant-a "$REPO/tenant-a"
	[ "$status" -eq 0 ]
	# the allow-list is about where it lands: B's own app into tenant-b is refused for A's list
	run --separate-stderr "$GITSEAL_BIN" render --bind-namespace=tenant-a "$REPO/tenant-b"
	[ "$status" -eq 1 ]
	grep -q "namespace 'tenant-b' is not allowed (--bind-namespace)" <<<"$stderr"
	# B's own app renders into B's namespace
	run --separate-stderr "$GITSEAL_BIN" render --bind-namespace "$REPO/tenant-b"
	[ "$status" -eq 0 ]
	grep -q 'password: b-s3cr3t' <<<"$output"
	# a source that names no namespace cannot be bound to one
	secret_in nons "" x "$REPO/tenant-b/nons.enc.yaml"
	printf 'resources: [nons.enc.yaml]\n' >"$REPO/tenant-b/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render --bind-namespace "$REPO/tenant-b"
	[ "$status" -eq 1 ]
	grep -q "its source names no namespace (--bind-namespace)" <<<"$stderr"
}

@test "10: under --bind-namespace=LIST every resource of a build with decrypted generators or patches is checked, not only Secrets" {
	tenants
	# a KSOPS generator decrypting a ConfigMap that names another namespace
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: tenant-b\ndata:\n  dsn: postgres://b:pw@db\n' >"$TMP/cm.yaml"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/cm.yaml" >"$REPO/tenant-a/cm.enc.yaml"
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: g\nfiles: [cm.enc.yaml]\n' >"$REPO/tenant-a/gen.yaml"
	printf 'generators: [gen.yaml]\n' >"$REPO/tenant-a/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render --bind-namespace=tenant-a "$REPO/tenant-a"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -qx "gitseal: error: resource ConfigMap/cm (document 1): namespace 'tenant-b' is not allowed (--bind-namespace)" <<<"$stderr"
	# a decrypted patch file carrying plaintext into a Secret elsewhere
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: web\n  namespace: tenant-b\n' >"$REPO/tenant-a/web.yaml"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: web\n  namespace: tenant-b\nstringData:\n  dsn: postgres://b:pw@db\n' >"$TMP/patch.yaml"
	seal "$TMP/patch.yaml" "$REPO/tenant-a/patch.enc.yaml"
	printf 'resources: [web.yaml]\npatches:\n- path: patch.enc.yaml\n' >"$REPO/tenant-a/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render --bind-namespace=tenant-a "$REPO/tenant-a"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -qx "gitseal: error: resource Secret/web (document 1): namespace 'tenant-b' is not allowed (--bind-namespace)" <<<"$stderr"
	# (a decrypted patch of another kind is refused whatever the policy: redteam3.bats)
	# into an allowed namespace it renders
	sed -i 's/tenant-b/tenant-a/' "$REPO/tenant-a/web.yaml" "$TMP/patch.yaml"
	seal "$TMP/patch.yaml" "$REPO/tenant-a/patch.enc.yaml"
	run --separate-stderr "$GITSEAL_BIN" render --bind-namespace=tenant-a "$REPO/tenant-a"
	[ "$status" -eq 0 ]
	grep -q 'dsn: postgres://b:pw@db' <<<"$output"
}

@test "10: the items of a list object (kind: List, SecretList) pass --bind-namespace one by one" {
	mkdir -p "$REPO/plain"
	list() { # KIND LIST_NAMESPACE ITEM_NAMESPACE
		printf 'apiVersion: v1\nkind: %s\n%bitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: db\n    namespace: %s\n  stringData:\n    password: l1st-s3cr3t\n' \
			"$1" "${2:+metadata:\n  namespace: $2\n}" "$3"
	}
	list List "" tenant-b >"$TMP/list.yaml"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/list.yaml" >"$REPO/plain/list.enc.yaml"
	ARGOCD_APP_NAMESPACE=tenant-a run --separate-stderr "$GITSEAL_BIN" render --bind-namespace=tenant-a "$REPO/plain"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'list.enc.yaml' document 1: List/?: item 1 (Secret/db): namespace 'tenant-b' is not allowed (--bind-namespace)" ]
	# the list's own namespace is its items' source namespace
	list List tenant-a tenant-b >"$TMP/list.yaml"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/list.yaml" >"$REPO/plain/list.enc.yaml"
	run --separate-stderr "$GITSEAL_BIN" render --bind-namespace "$REPO/plain"
	[ "$status" -eq 1 ]
	[ "$stderr" = "gitseal: error: 'list.enc.yaml' document 1: List/?: item 1 (Secret/db): namespace 'tenant-b' is not its source's 'tenant-a' (--bind-namespace)" ]
	# a plain SecretList: its Secrets too
	rm "$REPO/plain/list.enc.yaml"
	list SecretList "" tenant-b >"$REPO/plain/list.yaml"
	ARGOCD_APP_NAMESPACE=tenant-a run --separate-stderr "$GITSEAL_BIN" render --bind-namespace=tenant-a "$REPO/plain"
	[ "$status" -eq 1 ]
	grep -qx "gitseal: error: 'list.yaml' document 1: item 1 (Secret/db): namespace 'tenant-b' is not allowed (--bind-namespace)" <<<"$stderr"
	# items in the allowed namespace render
	list List tenant-a tenant-a >"$TMP/list.yaml"
	rm "$REPO/plain/list.yaml"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/list.yaml" >"$REPO/plain/list.enc.yaml"
	for policy in --bind-namespace --bind-namespace=tenant-a; do
		run --separate-stderr "$GITSEAL_BIN" render "$policy" "$REPO/plain"
		[ "$status" -eq 0 ]
		grep -q 'password: l1st-s3cr3t' <<<"$output"
	done
}

@test "10: one key per tenant: tenant A's key does not open tenant B's files" {
	tenants
	printf 'namespace: tenant-a\nresources: [../tenant-b]\n' >"$REPO/tenant-a/kustomization.yaml"
	export SOPS_AGE_KEY_FILE="$KEYS/test-age-key-2.txt"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/tenant-a"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "^gitseal: error: 'tenant-b/secret.enc.yaml' document 1: " <<<"$stderr"
}

@test "11: generator paths outside the root (absolute, ../) fail in krm, ksops and render" {
	tenants
	mkdir -p "$TMP/outside"
	secret_in leak "" outside-s3cr3t "$TMP/outside/secret.enc.yaml"
	for p in "$TMP/outside/secret.enc.yaml" ../../outside/secret.enc.yaml; do
		for field in "files: [$p]" "secretFrom: [{metadata: {name: x}, files: [$p]}]" \
			"secretFrom: [{metadata: {name: x}, binaryFiles: [$p]}]" \
			"secretFrom: [{metadata: {name: x}, envs: [$p]}]"; do
			printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: g\n%s\n' "$field" >"$REPO/tenant-a/gen.yaml"
			(cd "$REPO/tenant-a" && "$GITSEAL_BIN" krm --legacy gen.yaml >"$TMP/out" 2>"$TMP/err") && false
			[ ! -s "$TMP/out" ]
			grep -Eq "absolute paths are not allowed|leads outside the root" "$TMP/err"
			! grep -q 'outside-s3cr3t' "$TMP/out" "$TMP/err" || false
			printf 'generators: [gen.yaml]\n' >"$REPO/tenant-a/kustomization.yaml"
			run --separate-stderr "$GITSEAL_BIN" render "$REPO/tenant-a"
			[ "$status" -eq 1 ]
			[ -z "$output" ]
			grep -Eq "absolute paths are not allowed|leads outside the root" <<<"$stderr"
		done
	done
	# kustomize's own generator sources too
	printf 'secretGenerator:\n- name: x\n  envs: [../../outside/secret.enc.yaml]\n' >"$REPO/tenant-a/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/tenant-a"
	[ "$status" -eq 1 ]
	grep -q "leads outside the root" <<<"$stderr"
}

@test "11: symbolic links out of the app directory or the root are not followed" {
	tenants
	mkdir -p "$REPO/plain" "$TMP/outside"
	secret_in leak "" outside-s3cr3t "$TMP/outside/secret.enc.yaml"
	write_manifests "$REPO/plain"
	# plain directory: a link to another tenant's file, in the same repository
	ln -s ../tenant-b/secret.enc.yaml "$REPO/plain/link.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/plain"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -qx "gitseal: error: 'link.yaml' leads outside the root '$REPO/plain'" <<<"$stderr"
	rm "$REPO/plain/link.yaml"
	ln -s "$TMP/outside" "$REPO/plain/dir"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/plain"
	[ "$status" -eq 1 ]
	grep -q "'dir' leads outside the root" <<<"$stderr"
	rm "$REPO/plain/dir"
	# kustomization: a resource linked outside the repository
	ln -s "$TMP/outside/secret.enc.yaml" "$REPO/tenant-a/secret.enc.yaml"
	printf 'resources: [secret.enc.yaml]\n' >"$REPO/tenant-a/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/tenant-a"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "'tenant-a/secret.enc.yaml' leads outside the root '$REPO'" <<<"$stderr"
	! grep -q 'outside-s3cr3t' <<<"$stderr" || false
}

@test "11: an app directory that is a symbolic link into another checkout never makes that checkout the root" {
	# tenant B's repository beside tenant A's (two checkouts on one repo-server)
	mkdir -p "$TMP/b-repo/.git" "$TMP/b-repo/app"
	secret_in db "" b-s3cr3t "$TMP/b-repo/app/secret.enc.yaml"
	ln -s "$TMP/b-repo/app" "$REPO/app"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: '$REPO/app' leads outside the root '$REPO' through a symbolic link" ]
	# through a link higher up, and named relative to the working directory
	ln -s "$TMP/b-repo" "$REPO/apps"
	cd "$REPO"
	run --separate-stderr "$GITSEAL_BIN" render apps/./app/
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'apps/./app/' leads outside the root '$REPO' through a symbolic link" ]
	# a link inside the repository is followed as before; B's own checkout renders
	mkdir -p "$REPO/real"
	cp "$TMP/b-repo/app/secret.enc.yaml" "$REPO/real/"
	ln -s real "$REPO/alias"
	run --separate-stderr "$GITSEAL_BIN" render alias
	[ "$status" -eq 0 ]
	grep -q 'password: b-s3cr3t' <<<"$output"
	run --separate-stderr "$GITSEAL_BIN" render "$TMP/b-repo/app"
	[ "$status" -eq 0 ]
	grep -q 'password: b-s3cr3t' <<<"$output"
}

@test "11: a YAML merge key or a file:// base never takes kustomize outside the root" {
	mkdir -p "$REPO/app" "$TMP/other/app"
	secret_in db "" a-s3cr3t "$REPO/app/secret.enc.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other-tenant\ndata:\n  k: other-value\n' \
		>"$TMP/other/app/cm.yaml"
	printf 'resources: [cm.yaml]\n' >"$TMP/other/app/kustomization.yaml"
	# kustomize applies a merge key in a kustomization (yaml.v2): the walker
	# never saw '../../other/app' (kubectl reads it: the test's premise)
	printf '<<: {resources: [../../other/app]}\n' >"$REPO/app/kustomization.yaml"
	kubectl kustomize "$REPO/app" | grep -q 'other-value'
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'app/kustomization.yaml': YAML merge keys ('<<') are not allowed here: kustomize applies them, gitseal would not see the paths they add" ]
	# in a patch entry too
	printf 'resources: [secret.enc.yaml]\npatches:\n- <<: {path: p.yaml}\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	grep -q "YAML merge keys ('<<') are not allowed here" <<<"$stderr"
	# in a generator config written inline in the kustomization
	printf 'generators:\n- |\n  apiVersion: builtin\n  kind: SecretGenerator\n  <<: {files: [../../other/app/cm.yaml]}\n' \
		>"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'app/kustomization.yaml' (inline config): YAML merge keys ('<<') are not allowed here: kustomize applies them, gitseal would not see the paths they add" ]
	# a local git repository named as a remote base
	git -C "$TMP/other" init -q
	git -C "$TMP/other" add .
	git -C "$TMP/other" -c user.email=t@example.com -c user.name=t commit -qm other
	for base in "file://$TMP/other//app" "git::FILE://$TMP/other//app"; do
		printf 'resources:\n- secret.enc.yaml\n- %s\n' "$base" >"$REPO/app/kustomization.yaml"
		kubectl kustomize "$REPO/app" | grep -q 'other-value'
		run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
		[ "$status" -eq 1 ]
		[ -z "$output" ]
		[ "$stderr" = "gitseal: error: 'app/kustomization.yaml': '$base' is a local repository: file:// bases read outside the root" ]
	done
}

@test "11: --root confines reads; a directory outside it is refused" {
	tenants
	printf 'resources: [../tenant-b]\n' >"$REPO/tenant-a/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render --root "$REPO/tenant-a" "$REPO/tenant-a"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "'app/kustomization.yaml': '../tenant-b' leads outside the root\|leads outside the root" <<<"$stderr"
	run --separate-stderr "$GITSEAL_BIN" render --root "$REPO/tenant-a" "$REPO/tenant-b"
	[ "$status" -eq 1 ]
	[ "$stderr" = "gitseal: error: '$REPO/tenant-b' is outside the root '$REPO/tenant-a'" ]
	run --separate-stderr "$GITSEAL_BIN" render --root "$REPO" "$REPO/tenant-a"
	[ "$status" -eq 0 ]
	grep -q 'password: b-s3cr3t' <<<"$output"
}
