#!/usr/bin/env bats
# Red team 17 (docs/threat-model.md): the cluster side as a pull request's
# author sees it, who controls every file of the app but not the key.

load k8s_helpers

setup() {
	k8s_setup
	other_checkout
}
teardown() { teardown_tmp; }

# kustomization TEXT (printf %b): the app's kustomization
kustomization() { printf '%b' "$1" >"$REPO/app/kustomization.yaml"; }

# refused_with LINE: render of the app fails with LINE (the whole of
# stderr) or, for a LINE starting with '~', a line holding the rest
refused_with() {
	if [[ $1 != '~'* ]]; then
		app_refused "$1"
		return
	fi
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -qF -- "${1#'~'}" <<<"$stderr"
}

# ksops_app: a sealed Secret in the app and a KSOPS generator for it
ksops_app() {
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: b-s3cr3t\n' >"$TMP/s.yaml"
	seal "$TMP/s.yaml" "$REPO/app/secret.enc.yaml"
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata: {name: k}\nfiles: [secret.enc.yaml]\n' >"$REPO/app/ksops.yaml"
}

# kustomize takes a resource it cannot clone as a local path, joined and
# cleaned by its words: 'a://b/../../x' is '../x' and a base may lie
# anywhere. gitseal took every text with '://' (or git::, gh:, ...) for a
# remote base and never checked it: the other checkout's ConfigMap came
# out, exit 0.
@test "R1: a base that looks remote but that kustomize reads as a local path out of the root is refused" {
	local base
	for base in 'a://b/../../../../other/app' 'git::../../../../other/app' 'gh:../../../../other/app' \
		'github.com/../../../../other/app'; do
		kustomization "resources:\n- \"$base\"\n"
		# kustomize reads it (the test's premise), for the first two at least
		if [[ $base == a://* || $base == git::* ]]; then
			kubectl kustomize "$REPO/app" | grep -q other-value
		fi
		refused_with "'app/kustomization.yaml': '$base' leads outside the root"
		run --separate-stderr "$GITSEAL_BIN" render --discover "$REPO/app"
		[ "$status" -eq 1 ]
	done
	# as generators too
	kustomization 'generators:\n- "a://b/../../../../other/app"\n'
	refused_with "~leads outside the root"
	# inside the root it is walked as the local base it is
	mkdir -p "$REPO/base"
	cp "$TMP/other/app/"* "$REPO/base/"
	kustomization 'resources:\n- "a://b/../../../base"\n'
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ]
	grep -q other-value <<<"$output"
	# and still counts as remote, which kustomize may clone instead: a
	# KSOPS build refuses it (a local decoy must not hide the remote's plugins)
	ksops_app
	kustomization 'generators: [ksops.yaml]\nresources:\n- "a://b/../../../base"\n'
	refused_with "'app': a KSOPS build cannot use remote resources: kustomize would run the plugins their generators name"
	# a real remote base is still left to kustomize (no clone here: it fails)
	kustomization 'resources:\n- "https://example.invalid/org/repo//app?ref=v1"\n'
	run --separate-stderr "$GITSEAL_BIN" render --discover "$REPO/app"
	[ "$status" -eq 0 ]
}

# kustomize reads a kustomization as JSON does, its field names in any case
# (Go's encoding/json: 'Resources', 'TRANSFORMERS', 'reſources' with the
# long s): gitseal read them as written and walked past them. A base out of
# the root was built, and in a KSOPS build (kustomize's plugins on) a
# config staged as a resource and listed under 'Transformers' was run as an
# exec plugin: its kind walked out of the plugin home to /bin/sh, which ran
# the config's lines in the sidecar, keys at hand.
@test "R2: a kustomization field written in another case (kustomize reads it) is refused" {
	kustomization 'Resources:\n- ../../other/app\n'
	kubectl kustomize "$REPO/app" | grep -q other-value
	refused_with "'app/kustomization.yaml': kustomize reads 'Resources' as 'resources' (field names match in any case): write it 'resources'"
	kustomization 're\0305\0277ources:\n- ../../other/app\n'
	refused_with "~as 'resources' (field names match in any case)"
	# the exec plugin in a KSOPS build
	ksops_app
	printf 'apiVersion: a/v1\nkind: ../../../../../../../../../../../../../../bin/sh\nmetadata: {name: x}\nz: x;touch %s/PWNED\n' \
		"$TMP" >"$REPO/app/gen.yaml"
	kustomization 'generators: [ksops.yaml]\nresources: [gen.yaml]\nTransformers: [gen.yaml]\n'
	refused_with "'app/kustomization.yaml': kustomize reads 'Transformers' as 'transformers' (field names match in any case): write it 'transformers'"
	[ ! -e "$TMP/PWNED" ]
	# in the maps a kustomization lists too: a patch, its target, a generator's sources
	kustomization 'resources: [secret.enc.yaml]\npatches:\n- Path: p.yaml\n'
	refused_with "~kustomize reads 'Path' as 'path'"
	kustomization 'resources: [secret.enc.yaml]\npatches:\n- path: p.yaml\n  target: {KIND: ConfigMap}\n'
	refused_with "~kustomize reads 'KIND' as 'kind'"
	kustomization 'secretGenerator:\n- name: s\n  Envs: [a.env]\n'
	refused_with "~kustomize reads 'Envs' as 'envs'"
	# a label or an annotation of any case is no field
	kustomization 'resources: [secret.enc.yaml]\ncommonLabels:\n  Resources: x\n'
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ]
	grep -q 'Resources: x' <<<"$output"
}

# libyaml keeps a "\0" of a double-quoted name; the path ended there, so
# the file read was another than the one the config names (one inside the
# root still). Since red team 20 a config (or kustomization) holding a NUL
# anywhere is refused when it is read (tests/k8s/redteam20.bats K2).
@test "a NUL byte in a KSOPS file name is refused" {
	ksops_app
	cp "$REPO/app/secret.enc.yaml" "$REPO/app/secret.enc.yaml.x"
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata: {name: k}\nfiles: ["secret.enc.yaml\\0.x"]\n' \
		>"$REPO/app/ksops.yaml"
	kustomization 'generators:\n- ksops.yaml\n'
	refused_with "~'app/ksops.yaml': a key or value holding a NUL byte is not allowed here"
}
