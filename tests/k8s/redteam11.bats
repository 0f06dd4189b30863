#!/usr/bin/env bats
# Red team 11 (docs/threat-model.md): what --bind-namespace does with a
# Secret made by a generator from encrypted sources, which name no
# namespace of their own.

load k8s_helpers

setup() {
	k8s_setup
	REPO="$TMP/repo"
	mkdir -p "$REPO/tenant-a" "$REPO/base"
	git init -q "$REPO"
	printf 'PASSWORD=b-s3cr3t\n' >"$TMP/p.env"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/p.env" >"$REPO/base/app.enc.env"
}
teardown() { teardown_tmp; }

# refused_alone DIR: --bind-namespace alone refuses the build, --bind-namespace=LIST
# takes it when the namespace is in the list
refused_alone() {
	run --separate-stderr "$GITSEAL_BIN" render --bind-namespace "$REPO/$1"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: '$1': encrypted generator sources and patches name no namespace of their own: --bind-namespace needs a list of namespaces here" ]
	run --separate-stderr "$GITSEAL_BIN" render --bind-namespace=tenant-b "$REPO/$1"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "namespace 'tenant-a' is not allowed (--bind-namespace)" <<<"$stderr"
	run --separate-stderr "$GITSEAL_BIN" render --bind-namespace=tenant-a "$REPO/$1"
	[ "$status" -eq 0 ]
	grep -qx '  namespace: tenant-a' <<<"$output"
	grep -Eq "PASSWORD: ($(printf b-s3cr3t | base64)|b-s3cr3t)$" <<<"$output"
}

@test "--bind-namespace alone: a secretGenerator from an encrypted source is refused (the kustomization's namespace is the tenant's word), a list binds it" {
	printf 'namespace: tenant-a\nsecretGenerator:\n- name: app\n  envs: [app.enc.env]\n' >"$REPO/base/kustomization.yaml"
	refused_alone base
	# the generator in a base the app names
	printf 'namespace: tenant-a\nresources: [../base]\n' >"$REPO/tenant-a/kustomization.yaml"
	refused_alone tenant-a
	# a KSOPS generator's Secret, whatever namespace the encrypted source names
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  namespace: tenant-a\nstringData:\n  PASSWORD: b-s3cr3t\n' >"$TMP/s.yaml"
	seal "$TMP/s.yaml" "$REPO/tenant-a/s.enc.yaml"
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: g\nfiles: [s.enc.yaml]\n' >"$REPO/tenant-a/gen.yaml"
	printf 'namespace: tenant-a\ngenerators: [gen.yaml]\n' >"$REPO/tenant-a/kustomization.yaml"
	refused_alone tenant-a
}

# KSOPS (v4) opens a generator's files as named, anywhere; gitseal takes
# another app's file of the same repository (its ciphertext is readable
# there anyway: one key per team is what keeps it from another team's
# build) and nothing past the repository root, under the real kubectl.
@test "KSOPS files under kubectl kustomize: another app of the repository is taken; absolute paths, ../ past the root and links out of it are not" {
	local dir="$XDG_CONFIG_HOME/kustomize/plugin/viaduct.ai/v1/ksops"
	mkdir -p "$dir" "$REPO/other" "$TMP/outside"
	ln -s "$GITSEAL_BIN" "$dir/ksops"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: o-s3cr3t\n' >"$TMP/s.yaml"
	seal "$TMP/s.yaml" "$REPO/other/secret.enc.yaml"
	seal "$TMP/s.yaml" "$TMP/outside/secret.enc.yaml"
	ln -s ../../outside/secret.enc.yaml "$REPO/tenant-a/link.enc.yaml"
	printf 'generators: [gen.yaml]\n' >"$REPO/tenant-a/kustomization.yaml"
	gen() { printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: g\nfiles: [%s]\n' "$1" >"$REPO/tenant-a/gen.yaml"; }
	gen ../other/secret.enc.yaml
	run --separate-stderr kubectl kustomize --enable-alpha-plugins "$REPO/tenant-a"
	[ "$status" -eq 0 ]
	grep -q 'password: o-s3cr3t' <<<"$output"
	for p in "$TMP/outside/secret.enc.yaml" ../../outside/secret.enc.yaml ../other/../../outside/secret.enc.yaml link.enc.yaml; do
		gen "$p"
		run --separate-stderr kubectl kustomize --enable-alpha-plugins "$REPO/tenant-a"
		[ "$status" -eq 1 ]
		[ -z "$output" ]
		grep -Eq "absolute paths are not allowed|leads outside the root" <<<"$stderr"
		! grep -q 'o-s3cr3t' <<<"$stderr" || false
		run --separate-stderr "$GITSEAL_BIN" render "$REPO/tenant-a"
		[ "$status" -eq 1 ]
		grep -Eq "absolute paths are not allowed|leads outside the root" <<<"$stderr"
	done
}
