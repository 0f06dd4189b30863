#!/usr/bin/env bats
# Red team 29 on the cluster side: kustomize's builtin configs and
# manifests that name files or move values, against what render's walk
# sees. Runs the real `kubectl kustomize`.

bats_require_minimum_version 1.5.0
load k8s_helpers

setup() {
	k8s_repo_setup
	printf 'PIN=31337\nPASSWORD=t0p-s3cr3t\n' >"$TMP/p.env"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/p.env" >"$TMP/app.enc.env"
}
teardown() { teardown_tmp; }

# M1: a kustomization directory listed as generators or transformers is
# built by kustomize, its patches applied to the configs it holds after
# render read them, and the result's paths read from the listing
# kustomization's directory. Refused only in KSOPS builds (red team 2): a
# LabelTransformer there, patched into a ConfigMapGenerator reading the
# app's decrypted secretGenerator source, published it in a ConfigMap,
# exit 0 (5 bytes, under the tracker's floor; with kustomize's
# LoadRestrictionsNone such a config read any file of the sidecar).
@test "M1: a kustomization directory listed as generators or transformers is refused in every build" {
	mkdir "$REPO/app/gen"
	cp "$TMP/app.enc.env" "$REPO/app/gen/pin.enc.env"
	printf 'apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: c\nlabels: {a: b}\nfieldSpecs: [{path: metadata/labels, create: true}]\n' \
		>"$REPO/app/gen/c.yaml"
	printf 'resources: [c.yaml]\npatches:\n- target: {kind: LabelTransformer}\n  patch: |-\n    - op: replace\n      path: /kind\n      value: ConfigMapGenerator\n    - op: add\n      path: /envs\n      value: [gen/pin.enc.env]\n' \
		>"$REPO/app/gen/kustomization.yaml"
	printf 'secretGenerator:\n- name: real\n  envs: [gen/pin.enc.env]\ngenerators: [gen]\n' >"$REPO/app/kustomization.yaml"
	app_refused "'app/kustomization.yaml': 'gen' is a kustomization directory listed as generators, transformers or validators: its patches could change a config after gitseal read it; list the config files themselves"
	# as transformers, in a build that decrypts nothing, likewise
	printf 'transformers: [gen]\n' >"$REPO/app/kustomization.yaml"
	app_refused "'app/kustomization.yaml': 'gen' is a kustomization directory listed as generators, transformers or validators: its patches could change a config after gitseal read it; list the config files themselves"
	# the config listed as a file renders
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  note: public\n' >"$REPO/app/cm.yaml"
	printf 'resources: [cm.yaml]\nsecretGenerator:\n- name: real\n  envs: [gen/pin.enc.env]\ntransformers: [gen/c.yaml]\n' >"$REPO/app/kustomization.yaml"
	app_renders
	python3 -c '
import sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(sys.stdin)}
assert docs["ConfigMap"]["metadata"]["labels"] == {"a": "b"}, docs
assert docs["Secret"]["data"]["PIN"] == "MzEzMzc=", docs' <<<"$output"
}

# M2: a ReplacementTransformer config (in transformers:) reads the files
# its replacements name by path, as a kustomization's replacements do:
# render's walk followed those but not the config's, so such a file was
# neither confined beneath the root nor staged (a build that decrypted a
# source failed for want of it, and a build that decrypted nothing let
# kustomize read it where its own loader allows: anywhere under
# LoadRestrictionsNone), nor checked against the files decrypted for the
# build.
@test "M2: a ReplacementTransformer config's replacement files are walked: confined, staged, not a decrypted file" {
	cp "$TMP/app.enc.env" "$REPO/app/app.enc.env"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: other\nstringData:\n  note: public\n' >"$REPO/app/other.yaml"
	printf -- '- source: {kind: Secret, name: gen, fieldPath: data.PASSWORD}\n  targets:\n  - select: {kind: Secret, name: other}\n    fieldPaths: [stringData.note]\n' \
		>"$REPO/app/r.yaml"
	printf 'apiVersion: builtin\nkind: ReplacementTransformer\nmetadata:\n  name: rt\nreplacements:\n- path: r.yaml\n' >"$REPO/app/rt.yaml"
	printf 'resources: [other.yaml]\nsecretGenerator:\n- name: gen\n  envs: [app.enc.env]\n  options: {disableNameSuffixHash: true}\ntransformers: [rt.yaml]\n' \
		>"$REPO/app/kustomization.yaml"
	# staged with the build, into another Secret's values: renders
	app_renders
	python3 -c '
import sys, yaml
docs = {d["metadata"]["name"]: d for d in yaml.safe_load_all(sys.stdin)}
assert docs["other"]["stringData"]["note"] == "dDBwLXMzY3IzdA==", docs' <<<"$output"
	# out of the root, by '..' or a link
	printf 'apiVersion: builtin\nkind: ReplacementTransformer\nmetadata:\n  name: rt\nreplacements:\n- path: ../../outside.yaml\n' >"$REPO/app/rt.yaml"
	app_refused "'app/rt.yaml': '../../outside.yaml' leads outside the root"
	printf 'x: y\n' >"$TMP/outside.yaml"
	ln -s "$TMP/outside.yaml" "$REPO/app/link.yaml"
	printf 'apiVersion: builtin\nkind: ReplacementTransformer\nmetadata:\n  name: rt\nreplacements:\n- path: link.yaml\n' >"$REPO/app/rt.yaml"
	app_refused "'app/rt.yaml': 'app/link.yaml' leads outside the root '$REPO'"
	# a file the build reads decrypted
	printf 'apiVersion: builtin\nkind: ReplacementTransformer\nmetadata:\n  name: rt\nreplacements:\n- path: app.enc.env\n' >"$REPO/app/rt.yaml"
	app_refused "'app/app.enc.env' is encrypted and decrypted for the build as a patch or secretGenerator source: kustomize would read that plaintext where the kustomization names it as another file too"
}

# M3: render refuses helmCharts in a kustomization, but the same Helm
# chart given as a builtin HelmChartInflationGenerator config in
# generators: went to kustomize, which (where the admin's kustomize
# command enables Helm) ran helm on a chartHome and values files that
# nothing confines, absolute paths too.
@test "M3: a builtin HelmChartInflationGenerator config is refused as helmCharts are; helm does not run" {
	mkdir -p "$TMP/bin"
	printf '#!/bin/sh\ntouch "%s/helm-ran"\n[ "$1" = version ] && echo v3.14.0\nexit 0\n' "$TMP" >"$TMP/bin/helm"
	chmod +x "$TMP/bin/helm"
	export GITSEAL_KUSTOMIZE="kubectl kustomize --enable-helm --helm-command $TMP/bin/helm"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  note: public\n' >"$REPO/app/cm.yaml"
	printf 'apiVersion: builtin\nkind: HelmChartInflationGenerator\nmetadata:\n  name: h\nname: age\nchartHome: /keys\nreleaseName: x\nvaluesFile: /keys/age/keys.txt\n' \
		>"$REPO/app/helm.yaml"
	printf 'resources: [cm.yaml]\ngenerators: [helm.yaml]\n' >"$REPO/app/kustomization.yaml"
	app_refused "'app/helm.yaml': builtin/HelmChartInflationGenerator: Helm charts in a kustomization are not rendered; use Argo CD's Helm source"
	[ ! -e "$TMP/helm-ran" ]
	# inline likewise
	printf 'resources: [cm.yaml]\ngenerators:\n- |-\n  apiVersion: builtin\n  kind: HelmChartInflationGenerator\n  metadata:\n    name: h\n  name: age\n  chartHome: /keys\n' \
		>"$REPO/app/kustomization.yaml"
	app_refused "'app/kustomization.yaml' (inline config): builtin/HelmChartInflationGenerator: Helm charts in a kustomization are not rendered; use Argo CD's Helm source"
	[ ! -e "$TMP/helm-ran" ]
}

# M4: render follows each whole value it decrypted for the build to where
# kustomize puts it; a replacement whose source options cut the value at
# a delimiter copies one part, which nothing recognised: a generated
# Secret's token went into a ConfigMap piece by piece, exit 0 (the
# documented limit of red team 3). Refused in a build that decrypts,
# wherever the replacement is given; into a Secret's values it renders.
@test "M4: a replacement copying a part of a Secret's value out of Secrets is refused in a build that decrypts" {
	cp "$TMP/app.enc.env" "$REPO/app/app.enc.env"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  note: public\n' >"$REPO/app/cm.yaml"
	cut='- source: {name: gen, fieldPath: data.PASSWORD, options: {delimiter: "z", index: 0}}\n  targets:\n  - select: {kind: ConfigMap, name: cm}\n    fieldPaths: [data.note]\n'
	gen='resources: [cm.yaml]\nsecretGenerator:\n- name: gen\n  envs: [app.enc.env]\n  options: {disableNameSuffixHash: true}\n'
	printf "${gen}replacements:\n$cut" >"$REPO/app/kustomization.yaml"
	msg="replacement 1 copies a part of a value (source options delimiter) from what may be a Secret's values elsewhere than into a v1 Secret's data or stringData: render follows only whole values decrypted for the build, a part would be published unseen"
	app_refused "'app/kustomization.yaml': $msg"
	# in a replacement file, in a ReplacementTransformer config
	printf -- "$cut" >"$REPO/app/r.yaml"
	printf "${gen}replacements:\n- path: r.yaml\n" >"$REPO/app/kustomization.yaml"
	app_refused "'app/r.yaml': $msg"
	printf 'apiVersion: builtin\nkind: ReplacementTransformer\nmetadata:\n  name: rt\nreplacements:\n' >"$REPO/app/rt.yaml"
	printf -- "$cut" >>"$REPO/app/rt.yaml"
	printf "${gen}transformers: [rt.yaml]\n" >"$REPO/app/kustomization.yaml"
	app_refused "'app/rt.yaml': $msg"
	# into another Secret value it renders
	sed -i 's/kind: ConfigMap, name: cm/kind: Secret, name: gen/; s/data.note/data.PIN/' "$REPO/app/rt.yaml"
	app_renders
	grep -qx '  PIN: dDBwLXM' <<<"$output"
	grep -qx '  note: public' <<<"$output"
}

# M4 (JSON patches, leads 30): a JSON patch's copy or move takes a whole
# value, which render follows to where it goes only from 6 bytes: a
# 5-byte PIN copied out of a generated Secret's data into its
# annotations, or moved into a ConfigMap's, went out unseen, exit 0.
# Refused in a build that decrypts, inline or in a file, in patches,
# patchesJson6902 and patch transformer configs, and so is a patch that
# may target a Secret but does not load here; within a Secret's values it
# renders.
@test "M4: a JSON patch copying or moving a Secret's value out of Secrets' values is refused in a build that decrypts" {
	cp "$TMP/app.enc.env" "$REPO/app/app.enc.env"
	gen='secretGenerator:\n- name: gen\n  envs: [app.enc.env]\n  options: {disableNameSuffixHash: true}\n'
	copy='- op: copy\n  from: /data/PIN\n  path: /metadata/annotations/pin\n'
	printf "${gen}patches:\n- target: {kind: Secret, name: gen}\n  patch: |-\n    - op: copy\n      from: /data/PIN\n      path: /metadata/annotations/pin\n" \
		>"$REPO/app/kustomization.yaml"
	app_refused "'app/kustomization.yaml': patch 1 operation 1: a JSON patch copies what may be a Secret's data or stringData elsewhere than into a v1 Secret's data or stringData: render follows only decrypted values of 6 bytes or more, a shorter one would be published unseen"
	# in a file, of patchesJson6902, the pointer's first segment dropped
	# as kustomize's patcher does
	printf -- '- op: move\n  from: x/data/PIN\n  path: /metadata/labels/pin\n' >"$REPO/app/p.yaml"
	printf "${gen}patchesJson6902:\n- target: {version: v1, kind: Secret, name: gen}\n  path: p.yaml\n" >"$REPO/app/kustomization.yaml"
	app_refused "'app/p.yaml' operation 1: a JSON patch moves what may be a Secret's data or stringData elsewhere than into a v1 Secret's data or stringData: render follows only decrypted values of 6 bytes or more, a shorter one would be published unseen"
	# a PatchJson6902Transformer's jsonOp, its target any kind
	printf 'apiVersion: builtin\nkind: PatchJson6902Transformer\nmetadata:\n  name: p\ntarget: {kind: "Sec.*", name: gen}\njsonOp: |-\n' >"$REPO/app/pt.yaml"
	printf -- "$copy" | sed 's/^/  /' >>"$REPO/app/pt.yaml"
	printf "${gen}transformers: [pt.yaml]\n" >"$REPO/app/kustomization.yaml"
	app_refused "'app/pt.yaml': jsonOp operation 1: a JSON patch copies what may be a Secret's data or stringData elsewhere than into a v1 Secret's data or stringData: render follows only decrypted values of 6 bytes or more, a shorter one would be published unseen"
	# what kustomize reads and this walk would not: a merge key, !!binary
	printf -- '- <<: {op: copy, from: /data/PIN}\n  path: /metadata/labels/pin\n' >"$REPO/app/p.yaml"
	printf "${gen}patchesJson6902:\n- target: {version: v1, kind: Secret, name: gen}\n  path: p.yaml\n" >"$REPO/app/kustomization.yaml"
	app_refused "'app/p.yaml': a patch that may copy or move what may be a Secret's data or stringData does not load here (YAML merge keys ('<<') are not allowed here: kustomize applies them, gitseal would not see the paths they add): render could not tell where its values go"
	printf -- '- op: copy\n  from: !!binary L2RhdGEvUElO\n  path: /metadata/labels/pin\n' >"$REPO/app/p.yaml"
	app_refused "'app/p.yaml': a patch that may copy or move what may be a Secret's data or stringData does not load here (a !!binary value is not allowed here: kustomize decodes it, gitseal would see its base64 text (line 2)): render could not tell where its values go"
	# within the Secret's values it renders
	printf -- '- op: copy\n  from: /data/PIN\n  path: /data/PIN2\n' >"$REPO/app/p.yaml"
	printf "${gen}patchesJson6902:\n- target: {version: v1, kind: Secret, name: gen}\n  path: p.yaml\n" >"$REPO/app/kustomization.yaml"
	app_renders
	grep -qx '  PIN2: MzEzMzc=' <<<"$output"
	# out of a ConfigMap's data, in a build that decrypts, it renders
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  note: public\n' >"$REPO/app/cm.yaml"
	printf "resources: [cm.yaml]\n${gen}patches:\n- target: {kind: ConfigMap}\n  patch: |-\n    - op: copy\n      from: /data/note\n      path: /metadata/annotations/note\n" \
		>"$REPO/app/kustomization.yaml"
	app_renders
	grep -qx '    note: public' <<<"$output"
}

# M5: a plain directory's documents went out as they were, one object
# given twice too: Argo CD applies the last one only (a
# RepeatedResourceWarning beside it), kubectl apply each in turn, so a
# Secret sealed in one file and given again in clear in a file sorted
# after it was replaced unseen, exit 0. kustomize refuses an object
# given twice; render does now, with a line for each repetition.
@test "M5: an object given twice in a plain directory is refused, the files named" {
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: t0p-s3cr3t\n' >"$TMP/s.yaml"
	seal "$TMP/s.yaml" "$REPO/app/a.enc.yaml"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: chosen\n' >"$REPO/app/z.yaml"
	app_refused "'z.yaml' document 1: Secret/db (no namespace) is given again, first in 'a.enc.yaml' document 1: Argo CD and kubectl apply only the last"
	# a namespace left out is where the resource lands
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\n' \
		>"$REPO/app/z.yaml"
	app_renders
	[ "$(grep -c '^kind: ' <<<"$output")" -eq 3 ]
	ARGOCD_APP_NAMESPACE=prod app_refused "'z.yaml' document 1: Secret/db (namespace 'prod') is given again, first in 'a.enc.yaml' document 1: Argo CD and kubectl apply only the last"
}

# M5 (leads 30): the items of a list object are applied each as an
# object, and the check did not look inside: a Secret sealed in one file
# and given again in clear as an item of a List in a later one went out.
@test "M5: an object given again as an item of a list object in a plain directory is refused" {
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: t0p-s3cr3t\n' >"$TMP/s.yaml"
	seal "$TMP/s.yaml" "$REPO/app/a.enc.yaml"
	printf 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: db\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: db\n  stringData:\n    password: chosen\n' \
		>"$REPO/app/z.yaml"
	app_refused "'z.yaml' document 1 item 2: Secret/db (no namespace) is given again, first in 'a.enc.yaml' document 1: Argo CD and kubectl apply only the last"
	# nested, and two lists of the same name holding other objects
	printf 'apiVersion: v1\nkind: List\nmetadata:\n  name: l\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  - apiVersion: v1\n    kind: Secret\n    metadata:\n      name: db\n' \
		>"$REPO/app/z.yaml"
	app_refused "'z.yaml' document 1 item 1: Secret/db (no namespace) is given again, first in 'a.enc.yaml' document 1: Argo CD and kubectl apply only the last"
	printf 'apiVersion: v1\nkind: List\nmetadata:\n  name: l\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: one\n---\napiVersion: v1\nkind: List\nmetadata:\n  name: l\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: two\n' \
		>"$REPO/app/z.yaml"
	app_renders
}
