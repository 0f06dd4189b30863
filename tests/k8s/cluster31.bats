#!/usr/bin/env bats
# Cluster 31: what render31 did not reach, against a pull request, with
# the built binary and the real `kubectl kustomize`: crds and openapi
# files, generator sources, the KRM function's paths and limits, and the
# Argo CD plugin's environment. The generated Secret holds one 5-byte PIN,
# which render's tracker (track.c) does not follow.

bats_require_minimum_version 1.5.0
load k8s_helpers

setup() {
	pin_repo_setup
}
teardown() { teardown_tmp; }

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

# hash_msg NAME [DOC]: render's line refusing the hash-named Secret NAME
# (its name without the hash), document DOC (1) of the build
hash_msg() {
	printf "'app': Secret '%s' (document %s) is named by kustomize with a hash of its values, and it holds a value decrypted for the build shorter than 6 bytes with no value of 6 bytes or more of the same file: the name, which Argo CD and its referrers show, would let it be guessed offline (turn the hash off: disableNameSuffixHash, or drop the needs-hash annotation)" "$1" "${2:-1}"
}

# hashed_name DIR: the name kustomize gives the Secret gen of the
# kustomization in DIR (its hash suffix: a function of the values alone)
hashed_name() {
	kubectl kustomize "$1" | awk '/^  name: gen-/{print $2}'
}

@test "N1: a Secret kustomize names by a hash of a short decrypted value is refused (its name let the PIN be guessed offline)" {
	msg=$(hash_msg gen)
	printf 'secretGenerator:\n- name: gen\n  envs: [pin.enc.env]\n' >"$REPO/app/kustomization.yaml"
	app_refused "$msg"
	no_pin
	# what the name gave away: a guess built in clear names it the same
	mkdir "$TMP/guess"
	printf 'PIN=31337\n' >"$TMP/guess/g.env"
	printf 'secretGenerator:\n- name: gen\n  envs: [g.env]\n' >"$TMP/guess/kustomization.yaml"
	[ -n "$(hashed_name "$TMP/guess")" ]
	! grep -qF "$(hashed_name "$TMP/guess")" <<<"$output$stderr" || false
	# a Secret of known literals, named by their hash, with the PIN
	# copied in by a replacement (into a Secret's values, which renders)
	printf "${GEN}- name: probe\n  literals: [v=x]\nreplacements:\n- source: {kind: Secret, name: gen, fieldPath: data.PIN}\n  targets:\n  - select: {kind: Secret, name: probe}\n    fieldPaths: [data.v]\n" \
		>"$REPO/app/kustomization.yaml"
	app_refused "$(hash_msg probe 2)"
	# a builtin SecretGenerator config
	printf 'apiVersion: builtin\nkind: SecretGenerator\nmetadata:\n  name: gen\nenvs: [pin.enc.env]\n' >"$REPO/app/sg.yaml"
	printf 'generators: [sg.yaml]\n' >"$REPO/app/kustomization.yaml"
	app_refused "$msg"
	# a KSOPS Secret annotated for the hash
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: k\nsecretFrom:\n- metadata:\n    name: gen\n    annotations:\n      kustomize.config.k8s.io/needs-hash: "true"\n  envs: [pin.enc.env]\n' \
		>"$REPO/app/ksops.yaml"
	printf 'generators: [ksops.yaml]\n' >"$REPO/app/kustomization.yaml"
	app_refused "$msg"
	no_pin
	sed -i 's/"true"/"false"/' "$REPO/app/ksops.yaml"
	app_renders
	grep -qx '  name: gen' <<<"$output"
	# the hash turned off, by the entry or the kustomization, renders
	printf 'secretGenerator:\n- name: gen\n  envs: [pin.enc.env]\ngeneratorOptions: {disableNameSuffixHash: true}\n' >"$REPO/app/kustomization.yaml"
	app_renders
	grep -qx '  name: gen' <<<"$output"
	printf "${GEN}" >"$REPO/app/kustomization.yaml"
	app_renders
	# values of 6 bytes or more keep kustomize's hash
	printf 'PIN=313370\n' >"$TMP/p.env"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/p.env" >"$REPO/app/pin.enc.env"
	printf 'secretGenerator:\n- name: gen\n  envs: [pin.enc.env]\n' >"$REPO/app/kustomization.yaml"
	app_renders
	grep -qx '  name: gen-[a-z0-9]\{10\}' <<<"$output"
}

# enc NAME LINES: $REPO/app/NAME, a dotenv file of LINES ('\n'-separated)
# encrypted for the demo key
enc() {
	printf "$2" >"$TMP/plain.env"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/plain.env" >"$REPO/app/$1"
}

@test "N2: a hash-named Secret holding a short value beside a longer one of its file renders; a longer value of another file does not save it" {
	enc db.enc.env 'PORT=5432\nPASSWORD=s3cret-pw\n'
	printf 'secretGenerator:\n- name: db\n  envs: [db.enc.env]\n' >"$REPO/app/kustomization.yaml"
	app_renders
	grep -qx '  name: db-[2456789bcdfghkmt]\{10\}' <<<"$output"
	# KSOPS, the Secret annotated for the hash
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: k\nsecretFrom:\n- metadata:\n    name: db\n    annotations:\n      kustomize.config.k8s.io/needs-hash: "true"\n  envs: [db.enc.env]\n' \
		>"$REPO/app/ksops.yaml"
	printf 'generators: [ksops.yaml]\n' >"$REPO/app/kustomization.yaml"
	app_renders
	grep -qx '  name: db-[2456789bcdfghkmt]\{10\}' <<<"$output"
	# the port alone, copied into a Secret of known literals, is refused
	printf 'secretGenerator:\n- name: db\n  envs: [db.enc.env]\n- name: probe\n  literals: [v=x]\nreplacements:\n- source: {kind: Secret, name: db, fieldPath: data.PORT}\n  targets:\n  - select: {kind: Secret, name: probe}\n    fieldPaths: [data.v]\n' \
		>"$REPO/app/kustomization.yaml"
	app_refused "$(hash_msg probe 2)"
	# a value of 6 bytes or more the pull request encrypted itself is
	# known to its author: beside the PIN it hides nothing
	enc mine.enc.env 'K=known-to-me\n'
	printf 'secretGenerator:\n- name: gen\n  envs: [pin.enc.env]\n  options: {disableNameSuffixHash: true}\n- name: probe\n  envs: [mine.enc.env]\nreplacements:\n- source: {kind: Secret, name: gen, fieldPath: data.PIN}\n  targets:\n  - select: {kind: Secret, name: probe}\n    fieldPaths: [data.v]\n    options: {create: true}\n' \
		>"$REPO/app/kustomization.yaml"
	app_refused "$(hash_msg probe 2)"
	no_pin
	# without the hash both render
	sed -i 's/  envs: \[mine.enc.env\]/&\n  options: {disableNameSuffixHash: true}/' "$REPO/app/kustomization.yaml"
	app_renders
	grep -qx '  name: probe' <<<"$output"
}

# krm_with_path PATH: a ResourceList whose KSOPS functionConfig (files:
# [pin.enc.env], as a secretFrom env) carries config.kubernetes.io/path
# PATH, run by krm in $REPO/app
krm_with_path() {
	{
		printf 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n'
		printf '  apiVersion: viaduct.ai/v1\n  kind: ksops\n  metadata:\n    name: g\n    annotations:\n'
		printf '      config.kubernetes.io/path: "%s"\n' "$1"
		printf '  secretFrom:\n  - metadata: {name: s}\n    envs: [pin.enc.env]\n'
	} >"$TMP/rl.yaml"
	cd "$REPO/app"
	run --separate-stderr "$GITSEAL_BIN" krm <"$TMP/rl.yaml"
}

@test "K1: krm places a functionConfig by its path annotation only beneath the root (held)" {
	mkdir -p "$REPO/other"
	cp "$REPO/app/pin.enc.env" "$REPO/other/"
	krm_with_path /etc/fn.yaml
	[ "$status" -eq 1 ]
	[ "$stderr" = "gitseal: error: '/etc': absolute paths are not allowed" ]
	grep -qxF -- "- message: '''/etc'': absolute paths are not allowed'" <<<"$output"
	no_pin
	krm_with_path 'a/../../../../fn.yaml'
	[ "$status" -eq 1 ]
	[ "$stderr" = "gitseal: error: 'a/../../../..' leads outside the root" ]
	no_pin
	# a line break in it is shown escaped, on one line
	krm_with_path 'x\n/fn.yaml'
	[ "$status" -eq 1 ]
	[ "$stderr" = "gitseal: error: 'pin.enc.env': 'app/x\x0a/pin.enc.env' not found" ]
	# beneath the root it decides where the files are, as kpt and KSOPS
	# read it: a sibling's file opens with the key that opens it anyway
	krm_with_path ../other/fn.yaml
	[ "$status" -eq 0 ]
	grep -qx '    PIN: "31337"' <<<"$output"
}

@test "K2: krm refuses input nested too deeply or aliases expanding too far with one line (held)" {
	python3 -c 'import sys; d=100000; sys.stdout.write("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- data: " + "["*d + "]"*d + "\n")' \
		>"$TMP/rl.yaml"
	cd "$REPO/app"
	run --separate-stderr "$GITSEAL_BIN" krm <"$TMP/rl.yaml"
	[ "$status" -eq 1 ]
	[ "$stderr" = "gitseal: error: YAML nested deeper than 256 levels" ]
	python3 -c 'import sys
sys.stdout.write("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n")
for i in range(1, 8): sys.stdout.write("  a%d: &a%d [%s]\n" % (i, i, ",".join(["*a%d" % (i - 1)] * 10)))' >"$TMP/rl.yaml"
	run --separate-stderr "$GITSEAL_BIN" krm <"$TMP/rl.yaml"
	[ "$status" -eq 1 ]
	[ "$stderr" = "gitseal: error: YAML aliases expand to too many nodes" ]
	grep -qx '  severity: error' <<<"$output"
}
