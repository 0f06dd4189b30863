#!/usr/bin/env bats
# Red team 24 on the cluster side: render's output must be exactly the
# decrypted values. Runs the real `kubectl kustomize`.

bats_require_minimum_version 1.5.0
load k8s_helpers

setup() { k8s_repo_setup; }
teardown() { teardown_tmp; }

# refused_nel FILE: render of the app fails, nothing out, one line naming
# FILE and the Secret's value k
refused_nel() {
	app_refused "'$1': 'stringData:k' holds U+0085 (NEL), which kustomize writes back as a space: the built value would differ (give it base64 in data, or as a KSOPS binaryFiles source)"
}

# N1: kustomize's YAML writer (kyaml) writes U+0085 (NEL) in a string as
# a space. A value kustomize reads as YAML and writes again (a KSOPS
# Secret's stringData, a decrypted patch's) left the build as "x y", exit
# 0; values kustomize encodes itself (files, envs: base64 in data) keep it.
@test "N1: a decrypted value holding U+0085 that kustomize would write back as a space is refused, not changed" {
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  k: "pw\\Nword"\n' >"$TMP/s.yaml"
	seal "$TMP/s.yaml" "$REPO/app/s.enc.yaml"
	# a KSOPS generator's Secret
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: g\nfiles: [s.enc.yaml]\n' \
		>"$REPO/app/gen.yaml"
	printf 'generators: [gen.yaml]\n' >"$REPO/app/kustomization.yaml"
	refused_nel app/gen.yaml
	# gitseal as KSOPS's legacy plugin under kubectl kustomize itself
	mkdir -p "$XDG_CONFIG_HOME/kustomize/plugin/viaduct.ai/v1/ksops"
	ln -s "$GITSEAL_BIN" "$XDG_CONFIG_HOME/kustomize/plugin/viaduct.ai/v1/ksops/ksops"
	run --separate-stderr kubectl kustomize --enable-alpha-plugins "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ $stderr == *"'stringData:k' holds U+0085 (NEL), which kustomize writes back as a space"* ]]
	# a decrypted patch of a Secret
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n' >"$REPO/app/base.yaml"
	printf 'resources: [base.yaml]\npatches:\n- path: s.enc.yaml\n' >"$REPO/app/kustomization.yaml"
	refused_nel app/s.enc.yaml
	# a secretGenerator's files: kustomize encodes it, the value is kept
	printf 'pw\xc2\x85word' >"$TMP/n.raw"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" --input-type binary "$TMP/n.raw" >"$REPO/app/n.enc"
	printf 'secretGenerator:\n- name: g\n  files: [n.enc]\n  options: {disableNameSuffixHash: true}\n' \
		>"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ]
	[[ "$output" == *"n.enc: $(base64 -w0 "$TMP/n.raw")"* ]]
}

# B1: a plain directory's document goes out as its file writes it, and
# Argo CD's YAML reader (go-yaml through sigs.k8s.io/yaml) decodes a
# !!binary scalar, a key too, where libyaml keeps its base64 text: an
# annotation moved up and its key renamed "!!binary bmFtZXNwYWNl" (the
# values in the same order: the MAC intact) was the Secret's second
# namespace there, the last one, tenant-b, while --bind-namespace saw
# tenant-a alone (kustomize refuses such a key: the kustomize path fails).
@test "B1: under --bind-namespace a plain directory's !!binary tag is refused: Kubernetes decodes it, a key into 'namespace'" {
	mkdir "$TMP/plain"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: tenant-a\n  annotations:\n    owner: tenant-b\nstringData:\n  password: s3cr3t-value\n' >"$TMP/s.yaml"
	seal "$TMP/s.yaml" "$TMP/s.enc.yaml"
	sed -e '/^  annotations:$/d' -e 's/^    owner: tenant-b$/  !!binary bmFtZXNwYWNl: tenant-b/' "$TMP/s.enc.yaml" \
		>"$TMP/plain/s.enc.yaml"
	run "$GITSEAL_BIN" render "$TMP/plain"
	[ "$status" -eq 0 ]
	for policy in --bind-namespace=tenant-a --bind-namespace; do
		run --separate-stderr "$GITSEAL_BIN" render "$policy" "$TMP/plain"
		[ "$status" -eq 1 ]
		[ -z "$output" ]
		[ "$stderr" = "gitseal: error: 's.enc.yaml' document 1: a !!binary tag (line 6) is not allowed under --bind-namespace: Kubernetes decodes it, gitseal would read its base64 text (a key 'bmFtZXNwYWNl' is the namespace there)" ]
	done
}
