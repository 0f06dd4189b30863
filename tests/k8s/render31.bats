#!/usr/bin/env bats
# Render 31: a decrypted value shorter than 6 bytes is not followed by
# render's tracker (track.c), so what kustomize can do to a whole value or
# to the Secret holding it is checked before the build. Each attack went
# out in clear with exit 0 before; the generated Secret here holds one
# 5-byte PIN. Runs the real `kubectl kustomize`.

bats_require_minimum_version 1.5.0
load k8s_helpers

setup() {
	pin_repo_setup
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  note: public-x\n' >"$REPO/app/cm.yaml"
}
teardown() { teardown_tmp; }

@test "S1: a replacement copying a whole short value out of a Secret is refused, with or without target options" {
	into_cm='- source: {kind: Secret, name: gen, fieldPath: data.PIN}\n  targets:\n  - select: {kind: ConfigMap, name: cm}\n    fieldPaths: [data.note]\n'
	msg="replacement 1 copies what may be a Secret's value elsewhere than into a v1 Secret's data or stringData, and a value decrypted for the build is shorter than 6 bytes: render does not follow such a value, it would be published unseen"
	printf "resources: [cm.yaml]\n${GEN}replacements:\n${into_cm}" >"$REPO/app/kustomization.yaml"
	app_refused "'app/kustomization.yaml': $msg"
	no_pin
	# the target's options embed it in a longer value
	printf "resources: [cm.yaml]\n${GEN}replacements:\n${into_cm}    options: {delimiter: '-', index: 1}\n" >"$REPO/app/kustomization.yaml"
	app_refused "'app/kustomization.yaml': $msg"
	# in a replacement file, a source selecting any kind
	printf -- "${into_cm}" | sed 's/kind: Secret, //' >"$REPO/app/r.yaml"
	printf "resources: [cm.yaml]\n${GEN}replacements:\n- path: r.yaml\n" >"$REPO/app/kustomization.yaml"
	app_refused "'app/r.yaml': $msg"
	# into another Secret's values it renders
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: other\ndata:\n  copy: eA==\n' >"$REPO/app/other.yaml"
	printf "resources: [cm.yaml, other.yaml]\n${GEN}replacements:\n- source: {kind: Secret, name: gen, fieldPath: data.PIN}\n  targets:\n  - select: {kind: Secret, name: other}\n    fieldPaths: [data.copy]\n" \
		>"$REPO/app/kustomization.yaml"
	app_renders
	grep -qx '  copy: MzEzMzc=' <<<"$output"
	# where every decrypted value is followed (6 bytes or more), the
	# tracker decides: a public copy renders, as before
	printf 'PIN=313370\n' >"$TMP/p.env"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/p.env" >"$REPO/app/pin.enc.env"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  note: public-x\n  also: "313370"\n' >"$REPO/app/cm.yaml"
	printf "resources: [cm.yaml]\n${GEN}replacements:\n${into_cm}" >"$REPO/app/kustomization.yaml"
	app_renders
	grep -qx '  note: MzEzMzcw' <<<"$output"
}

@test "S2: a var reading a Secret's short value is refused (kustomize substitutes it into args)" {
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: busybox\n    args: ["x$(PIN)y"]\n' \
		>"$REPO/app/pod.yaml"
	printf "resources: [cm.yaml, pod.yaml]\n${GEN}vars:\n- name: PIN\n  objref: {kind: Secret, name: gen, apiVersion: v1}\n  fieldref: {fieldpath: data.PIN}\n" \
		>"$REPO/app/kustomization.yaml"
	app_refused "'app/kustomization.yaml': var 1 reads what may be a Secret's value, which kustomize substitutes outside Secrets, and a value decrypted for the build is shorter than 6 bytes: render does not follow such a value, it would be published unseen"
	no_pin
	# a var of a Secret's name renders
	printf "resources: [cm.yaml, pod.yaml]\n${GEN}vars:\n- name: PIN\n  objref: {kind: Secret, name: gen, apiVersion: v1}\n" >"$REPO/app/kustomization.yaml"
	app_renders
	grep -qF -- '- xgeny' <<<"$output"
}

@test "S3: a JSON patch changing a Secret's kind or apiVersion, or replacing it whole, is refused" {
	for op in 'replace|/kind|ConfigMap' 'add|/kind|ConfigMap' 'replace|x/apiVersion|x.io/v1' 'replace||{}' 'move|/kind|'; do
		IFS='|' read -r name path value <<<"$op"
		if [ "$name" = move ]; then
			body="- op: move\n      from: /metadata/labels/k\n      path: $path"
		else
			body="- op: $name\n      path: \"$path\"\n      value: $value"
		fi
		printf "resources: [cm.yaml]\n${GEN}patches:\n- target: {kind: Secret, name: gen}\n  patch: |-\n    $body\n" >"$REPO/app/kustomization.yaml"
		app_refused "'app/kustomization.yaml': patch 1 operation 1: a JSON patch changes the kind or apiVersion of what may be a Secret: $KIND_MSG"
	done
	# a patchesJson6902 file, a target kind given as a pattern
	printf -- '- op: replace\n  path: /kind\n  value: ConfigMap\n' >"$REPO/app/p.yaml"
	printf "resources: [cm.yaml]\n${GEN}patchesJson6902:\n- target: {version: v1, kind: 'Sec.*', name: gen}\n  path: p.yaml\n" >"$REPO/app/kustomization.yaml"
	app_refused "'app/p.yaml' operation 1: a JSON patch changes the kind or apiVersion of what may be a Secret: $KIND_MSG"
	# a Deployment's apiVersion changed by a patch aimed at it renders
	printf 'apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: nginx}]\n' \
		>"$REPO/app/web.yaml"
	printf "resources: [cm.yaml, web.yaml]\n${GEN}patches:\n- target: {kind: Deployment, name: web}\n  patch: |-\n    - {op: replace, path: /apiVersion, value: apps/v1}\n" \
		>"$REPO/app/kustomization.yaml"
	app_renders
	grep -qx 'apiVersion: apps/v1' <<<"$output"
}

@test "S4: a patch allowed to change kinds is refused, in patches and in a PatchTransformer config" {
	smp='apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: gen\n'
	printf "resources: [cm.yaml]\n${GEN}patches:\n- target: {kind: Secret, name: gen}\n  options: {allowKindChange: true}\n  patch: |-\n    $smp" >"$REPO/app/kustomization.yaml"
	app_refused "'app/kustomization.yaml': patch 1: a patch that may change a kind (options allowKindChange) could make a Secret another kind: $KIND_MSG"
	no_pin
	printf 'apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\ntarget: {kind: Secret, name: gen}\noptions: {allowKindChange: true}\npatch: |-\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: gen\n' \
		>"$REPO/app/pt.yaml"
	printf "resources: [cm.yaml]\n${GEN}transformers: [pt.yaml]\n" >"$REPO/app/kustomization.yaml"
	app_refused "'app/pt.yaml': a patch that may change a kind (options allowKindChange) could make a Secret another kind: $KIND_MSG"
	# allowNameChange alone renders
	printf "resources: [cm.yaml]\n${GEN}patches:\n- target: {kind: Secret, name: gen}\n  options: {allowNameChange: true, allowKindChange: false}\n  patch: |-\n    apiVersion: v1\n    kind: Secret\n    metadata:\n      name: renamed\n" \
		>"$REPO/app/kustomization.yaml"
	app_renders
	grep -qx '  name: renamed' <<<"$output"
}

@test "S5: field specs writing kind (configurations, builtin transformers, labels fields) and replacements into kind are refused" {
	# kustomize's images transformer over 'path: kind' renames the kind
	printf 'images:\n- path: kind\n' >"$REPO/app/conf.yaml"
	printf "resources: [cm.yaml]\n${GEN}configurations: [conf.yaml]\nimages:\n- name: Secret\n  newName: ConfigMap\n" >"$REPO/app/kustomization.yaml"
	app_refused "'app/conf.yaml': a field spec with path 'kind' writes a resource's kind or apiVersion: a Secret could become another kind, and $KIND_MSG"
	no_pin
	printf 'namespace:\n- Path: /apiVersion\n  create: true\n' >"$REPO/app/conf.yaml"
	printf "resources: [cm.yaml]\n${GEN}configurations: [conf.yaml]\nnamespace: x\n" >"$REPO/app/kustomization.yaml"
	app_refused "'app/conf.yaml': a field spec with path '/apiVersion' writes a resource's kind or apiVersion: a Secret could become another kind, and $KIND_MSG"
	printf 'apiVersion: builtin\nkind: ImageTagTransformer\nmetadata:\n  name: p\nimageTag: {name: Secret, newName: ConfigMap}\nfieldSpecs:\n- path: kind\n' >"$REPO/app/it.yaml"
	printf "resources: [cm.yaml]\n${GEN}transformers: [it.yaml]\n" >"$REPO/app/kustomization.yaml"
	app_refused "'app/it.yaml': a field spec with path 'kind' writes a resource's kind or apiVersion: a Secret could become another kind, and $KIND_MSG"
	printf "resources: [cm.yaml]\n${GEN}labels:\n- pairs: {a: b}\n  fields:\n  - path: kind\n" >"$REPO/app/kustomization.yaml"
	app_refused "'app/kustomization.yaml': a field spec with path 'kind' writes a resource's kind or apiVersion: a Secret could become another kind, and $KIND_MSG"
	printf "resources: [cm.yaml]\n${GEN}replacements:\n- source: {kind: ConfigMap, name: cm, fieldPath: kind}\n  targets:\n  - select: {name: gen}\n    fieldPaths: [kind]\n" >"$REPO/app/kustomization.yaml"
	app_refused "'app/kustomization.yaml': replacement 1 writes the kind or apiVersion of what may be a Secret: $KIND_MSG"
	# field specs elsewhere render
	printf 'images:\n- path: spec/tool/image\n  kind: Tool\n' >"$REPO/app/conf.yaml"
	printf "resources: [cm.yaml]\n${GEN}configurations: [conf.yaml]\nlabels:\n- pairs: {a: b}\n  fields:\n  - path: metadata/annotations\n    create: true\n" >"$REPO/app/kustomization.yaml"
	app_renders
	grep -qx '    a: b' <<<"$output"
}

@test "S6: a build that decrypts nothing keeps kustomize's kind changes" {
	printf 'resources: [cm.yaml]\npatches:\n- target: {kind: ConfigMap, name: cm}\n  patch: |-\n    - {op: replace, path: /kind, value: Secret}\n' >"$REPO/app/kustomization.yaml"
	app_renders
	grep -qx 'kind: Secret' <<<"$output"
}
