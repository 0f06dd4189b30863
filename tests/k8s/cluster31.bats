#!/usr/bin/env bats
# Cluster 31: what render31 did not reach, against a pull request, with
# the built binary and the real `kubectl kustomize`: crds and openapi
# files, generator sources, the KRM function's paths and limits, and the
# Argo CD plugin's environment. The generated Secret holds one 5-byte PIN,
# which render's tracker (track.c) does not follow.

bats_require_minimum_version 1.5.0
load k8s_helpers

setup() {
	k8s_repo_setup
	printf 'PIN=31337\n' >"$TMP/p.env"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/p.env" >"$REPO/app/pin.enc.env"
	GEN='secretGenerator:\n- name: gen\n  envs: [pin.enc.env]\n  options: {disableNameSuffixHash: true}\n'
	KIND_MSG="a value decrypted for the build must stay in a v1 Secret"
}
teardown() { teardown_tmp; }

# no_pin: the refusal's output holds neither the PIN nor its base64
no_pin() {
	! grep -qE '31337|MzEzMzc' <<<"$output$stderr" || false
}

# crd FILE TYPE PROPERTY EXTENSION: a crds file (kustomize's OpenAPI
# definitions) whose type TYPE, with kind, apiVersion and metadata, marks
# PROPERTY with EXTENSION
crd() {
	local p props=''
	for p in kind apiVersion metadata; do
		[ "$p" = "$3" ] || props+="      $p: {type: string}\n"
	done
	printf "%s:\n  Schema:\n    properties:\n${props}      %s: {type: string, %s: ''}\n" "$2" "$3" "$4" \
		>"$REPO/app/$1"
}

@test "C1: a crds definition marking kind for kustomize's name prefix is refused (it made the Secret an xSecret)" {
	crd crd.yaml x.v1.Secret kind x-kubernetes-identity
	printf "namePrefix: x\ncrds: [crd.yaml]\n${GEN}" >"$REPO/app/kustomization.yaml"
	app_refused "'app/crd.yaml': definition 'x.v1.Secret' marks its property 'kind' for kustomize's transformers (x-kubernetes-identity), which then write a resource's kind or apiVersion: a Secret could become another kind, and $KIND_MSG"
	no_pin
	# a type named with an empty kind is every kind's; JSON, apiVersion
	printf '{"x.v1.": {"schema": {"properties": {"kind": {}, "metadata": {}, "apiVersion": {"x-kubernetes-annotation": ""}}}}}\n' \
		>"$REPO/app/crd.yaml"
	app_refused "'app/crd.yaml': definition 'x.v1.' marks its property 'apiVersion' for kustomize's transformers (x-kubernetes-annotation), which then write a resource's kind or apiVersion: a Secret could become another kind, and $KIND_MSG"
	# a CRD's own fields render, its reference followed as before
	crd crd.yaml example.com.v1.Tool secretRef x-kubernetes-identity
	printf 'apiVersion: example.com/v1\nkind: Tool\nmetadata:\n  name: t\nsecretRef: gen\n' >"$REPO/app/tool.yaml"
	printf "namePrefix: x\ncrds: [crd.yaml]\nresources: [tool.yaml]\n${GEN}" >"$REPO/app/kustomization.yaml"
	app_renders
	grep -qx "kind: Secret" <<<"$output"
	grep -qx "secretRef: xgen" <<<"$output"
	# a build that decrypts nothing keeps kustomize's behaviour
	crd crd.yaml x.v1.ConfigMap kind x-kubernetes-identity
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n' >"$REPO/app/cm.yaml"
	printf 'namePrefix: x\ncrds: [crd.yaml]\nresources: [cm.yaml]\n' >"$REPO/app/kustomization.yaml"
	app_renders
	grep -qx 'kind: xConfigMap' <<<"$output"
}
