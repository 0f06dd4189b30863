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
	"$GITSEAL_BIN" encrypt --age "$(demo_recipient)" "$TMP/p.env" >"$REPO/base/app.enc.env"
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
