#!/usr/bin/env bats
# Plaintext that render hands kustomize (generator sources, decrypted
# patches, KSOPS output) moved by kustomize's own features out of a Secret's
# values: a JSON patch changing a generated Secret's kind or copying a value
# into its annotations or labels, replacements, vars. Repository content is
# the attacker's; every such build must be refused whole, naming the app,
# the resource and the field, never the value. Each case runs the real
# `kubectl kustomize`.

load k8s_helpers

SECRET=tok-SECRET-999
SECRET_B64=dG9rLVNFQ1JFVC05OTk=

setup() {
	k8s_setup
	export GITSEAL_KUSTOMIZE="kubectl kustomize"
	REPO="$TMP/repo"
	mkdir -p "$REPO/app"
	git init -q "$REPO"
	encrypt_to "TOKEN=$SECRET\n" a.enc.env
	cat >"$REPO/app/web.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx
        args: [--token, "$(TOK)"]
        env:
        - name: BANNER
          value: public
YAML
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pub\ndata:\n  x: public\n' >"$REPO/app/cm.yaml"
}
teardown() { teardown_tmp; }

# kustomization HEAD BODY...: a secretGenerator of a.enc.env (Secret s, no
# hash suffix) with the resources and the lines given
kustomization() {
	{
		printf 'resources: [%s]\n' "$1"
		printf 'secretGenerator:\n- name: s\n  envs: [a.enc.env]\n  options: {disableNameSuffixHash: true}\n'
		shift
		printf '%s\n' "$@"
	} >"$REPO/app/kustomization.yaml"
}

# refused LINE: render fails, nothing on stdout, LINE alone on stderr,
# and neither the value nor its base64 anywhere
refused() {
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ] || { echo "status $status: $output $stderr"; false; }
	[ -z "$output" ]
	! grep -qE "SECRET|$SECRET_B64|${SECRET_B64%=}" <<<"$stderr" || false
	[ "$stderr" = "$(expected_line "$1")" ] || { echo "$stderr"; false; }
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
}

# the build kustomize makes of the same kustomization, decrypted by hand:
# proof that the value really lands where the test says
kustomize_puts() {
	local d="$TMP/plain-app"
	rm -rf "$d"
	cp -r "$REPO/app" "$d"
	printf 'TOKEN=%s\n' "$SECRET" >"$d/a.enc.env"
	kubectl kustomize "$d" | grep -qF -- "$1"
}

# Refused before the build since render 31 (a value under 6 bytes would
# have gone with the Secret unseen): the patch is named, not the value.
@test "a JSON patch turning a generated Secret into a ConfigMap is refused (env and files sources)" {
	kustomization web.yaml 'patches:' '- target: {kind: Secret, name: s}' '  patch: |' \
		'    - {op: replace, path: /kind, value: ConfigMap}'
	kustomize_puts "TOKEN: $SECRET_B64"
	refused "'app/kustomization.yaml': patch 1 operation 1: a JSON patch changes the kind or apiVersion of what may be a Secret: a value decrypted for the build must stay in a v1 Secret"
	# a whole file, its base64 wrapped over lines by kustomize
	encrypt_to "$(printf 'line-%s ' $(seq 40))SECRET\n" big.enc.txt
	cat >"$REPO/app/kustomization.yaml" <<'YAML'
secretGenerator:
- name: f
  files: [big.enc.txt]
  options: {disableNameSuffixHash: true}
patches:
- target: {kind: Secret}
  patch: |
    - {op: replace, path: /kind, value: ConfigMap}
YAML
	run kubectl kustomize "$REPO/app"
	grep -q '^  big.enc.txt: |$' <<<"$output"
	refused "'app/kustomization.yaml': patch 1 operation 1: a JSON patch changes the kind or apiVersion of what may be a Secret: a value decrypted for the build must stay in a v1 Secret"
}

@test "a JSON patch copying a decrypted value into a Secret's annotations or labels is refused" {
	kustomization web.yaml 'patches:' '- target: {kind: Secret, name: s}' '  patch: |' \
		'    - {op: add, path: /metadata/annotations, value: {}}' \
		'    - {op: copy, from: /data/TOKEN, path: /metadata/annotations/leak}'
	kustomize_puts "leak: $SECRET_B64"
	# refused before the build since leads 30 (a value under 6 bytes is
	# not followed through it; redteam29.bats M4)
	refused "'app/kustomization.yaml': patch 1 operation 2: a JSON patch copies what may be a Secret's data or stringData elsewhere than into a v1 Secret's data or stringData: render follows only decrypted values of 6 bytes or more, a shorter one would be published unseen"
	kustomization web.yaml 'patches:' '- target: {kind: Secret, name: s}' '  patch: |' \
		'    - {op: add, path: /metadata/labels, value: {}}' \
		'    - {op: copy, from: /data/TOKEN, path: /metadata/labels/leak}'
	refused "'app/kustomization.yaml': patch 1 operation 2: a JSON patch copies what may be a Secret's data or stringData elsewhere than into a v1 Secret's data or stringData: render follows only decrypted values of 6 bytes or more, a shorter one would be published unseen"
	# the Secret's type
	kustomization web.yaml 'patches:' '- target: {kind: Secret, name: s}' '  patch: |' \
		'    - {op: copy, from: /data/TOKEN, path: /type}'
	refused "'app/kustomization.yaml': patch 1 operation 1: a JSON patch copies what may be a Secret's data or stringData elsewhere than into a v1 Secret's data or stringData: render follows only decrypted values of 6 bytes or more, a shorter one would be published unseen"
	# a replacement of the whole value is followed by the build
	kustomization web.yaml 'replacements:' '- source: {kind: Secret, name: s, fieldPath: data.TOKEN}' \
		'  targets:' '  - select: {kind: Secret, name: s}' '    fieldPaths: [metadata.annotations.leak]' \
		'    options: {create: true}'
	kustomize_puts "leak: $SECRET_B64"
	refused "'app': resource Secret/s (document 1): 'metadata:annotations:leak' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
}

@test "replacements from a generated Secret into a ConfigMap, an env value, args or a name are refused" {
	local src='- source: {kind: Secret, name: s, fieldPath: data.TOKEN}'
	kustomization 'web.yaml, cm.yaml' 'replacements:' "$src" '  targets:' \
		'  - select: {kind: ConfigMap, name: pub}' '    fieldPaths: [data.x]'
	kustomize_puts "x: $SECRET_B64"
	refused "'app': resource ConfigMap/pub (document 1): 'data:x' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
	kustomization web.yaml 'replacements:' "$src" '  targets:' \
		'  - select: {kind: Deployment}' '    fieldPaths: [spec.template.spec.containers.0.env.0.value]'
	kustomize_puts "value: $SECRET_B64"
	refused "'app': resource Deployment/web (document 2): 'spec:template:spec:containers:[0]:env:[0]:value' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
	kustomization web.yaml 'replacements:' "$src" '  targets:' \
		'  - select: {kind: Deployment}' '    fieldPaths: [spec.template.spec.containers.0.args.1]'
	refused "'app': resource Deployment/web (document 2): 'spec:template:spec:containers:[0]:args:[1]' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
	# the name itself: withheld from the message
	kustomization 'web.yaml, cm.yaml' 'replacements:' "$src" '  targets:' \
		'  - select: {kind: ConfigMap, name: pub}' '    fieldPaths: [metadata.name]'
	kustomize_puts "name: $SECRET_B64"
	refused "'app': resource ConfigMap/(withheld) (document 1): 'metadata:name' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
}

@test "vars from a generated Secret into container args or a ConfigMap are refused" {
	kustomization web.yaml 'vars:' '- name: TOK' '  objref: {kind: Secret, name: s, apiVersion: v1}' \
		'  fieldref: {fieldpath: data.TOKEN}'
	kustomize_puts "- $SECRET_B64"
	refused "'app': resource Deployment/web (document 2): 'spec:template:spec:containers:[0]:args:[1]' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
	printf 'varReference:\n- path: data\n  kind: ConfigMap\n' >"$REPO/app/vars.yaml"
	sed -i 's/x: public/x: $(TOK)/' "$REPO/app/cm.yaml"
	sed -i 's/"$(TOK)"/public/' "$REPO/app/web.yaml"
	kustomization 'web.yaml, cm.yaml' 'configurations: [vars.yaml]' 'vars:' '- name: TOK' \
		'  objref: {kind: Secret, name: s, apiVersion: v1}' '  fieldref: {fieldpath: data.TOKEN}'
	kustomize_puts "x: $SECRET_B64"
	refused "'app': resource ConfigMap/pub (document 1): 'data:x' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
}

@test "a decrypted patch's value carried out of its Secret by replacements is refused" {
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2-SECRET\n' >"$TMP/p.yaml"
	seal "$TMP/p.yaml" "$REPO/app/p.enc.yaml"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n' >"$REPO/app/db.yaml"
	cat >"$REPO/app/kustomization.yaml" <<'YAML'
resources: [db.yaml, cm.yaml]
patches:
- path: p.enc.yaml
replacements:
- source: {kind: Secret, name: db, fieldPath: stringData.password}
  targets:
  - select: {kind: ConfigMap, name: pub}
    fieldPaths: [data.x]
YAML
	refused "'app': resource ConfigMap/pub (document 1): 'data:x' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
}

write_ksops() {
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata: {name: k}\n%b' "$1" >"$REPO/app/gen.yaml"
}

@test "KSOPS: a generated Secret turned into a ConfigMap, or its value copied into an annotation, is refused" {
	write_ksops 'secretFrom:\n- metadata: {name: s}\n  envs: [a.enc.env]\n'
	printf 'generators: [gen.yaml]\npatches:\n- target: {kind: Secret, name: s}\n  patch: |\n    - {op: replace, path: /kind, value: ConfigMap}\n' >"$REPO/app/kustomization.yaml"
	refused "'app/kustomization.yaml': patch 1 operation 1: a JSON patch changes the kind or apiVersion of what may be a Secret: a value decrypted for the build must stay in a v1 Secret"
	# a manifest KSOPS decrypts (files:), its base64 data copied out
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: m\ndata:\n  token: %s\n' "$SECRET_B64" >"$TMP/m.yaml"
	seal "$TMP/m.yaml" "$REPO/app/m.enc.yaml"
	write_ksops 'files: [m.enc.yaml]\n'
	printf 'generators: [gen.yaml]\npatches:\n- target: {kind: Secret, name: m}\n  patch: |\n    - {op: add, path: /metadata/annotations, value: {}}\n    - {op: copy, from: /data/token, path: /metadata/annotations/leak}\n' >"$REPO/app/kustomization.yaml"
	refused "'app/kustomization.yaml': patch 1 operation 2: a JSON patch copies what may be a Secret's data or stringData elsewhere than into a v1 Secret's data or stringData: render follows only decrypted values of 6 bytes or more, a shorter one would be published unseen"
	# by a replacement, followed through the build
	printf 'generators: [gen.yaml]\nreplacements:\n- source: {kind: Secret, name: m, fieldPath: data.token}\n  targets:\n  - select: {kind: Secret, name: m}\n    fieldPaths: [metadata.annotations.leak]\n    options: {create: true}\n' >"$REPO/app/kustomization.yaml"
	refused "'app': resource Secret/m (document 1): 'metadata:annotations:leak' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
}

# secretFrom files and binaryFiles hand kustomize a whole decrypted file
# (binaryFiles as its base64): followed as the generator decrypts them
@test "KSOPS: a secretFrom files or binaryFiles value copied into a ConfigMap is refused" {
	encrypt_to "$SECRET\n" tok.enc.txt
	write_ksops 'secretFrom:\n- metadata: {name: s}\n  files: [token=tok.enc.txt]\n'
	printf 'resources: [cm.yaml]\ngenerators: [gen.yaml]\nreplacements:\n%s\n' \
		"$(copy_to_cm Secret s stringData.token)" >"$REPO/app/kustomization.yaml"
	refused "'app': resource ConfigMap/pub (document 1): 'data:x' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
	write_ksops 'secretFrom:\n- metadata: {name: s}\n  binaryFiles: [bin=tok.enc.txt]\n'
	printf 'resources: [cm.yaml]\ngenerators: [gen.yaml]\nreplacements:\n%s\n' \
		"$(copy_to_cm Secret s data.bin)" >"$REPO/app/kustomization.yaml"
	refused "'app': resource ConfigMap/pub (document 1): 'data:x' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
}

@test "values staying in v1 Secrets still render: copied between Secrets, with the generated ones" {
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: other\ndata:\n  copy: x\n' >"$REPO/app/other.yaml"
	kustomization 'web.yaml, other.yaml' 'replacements:' \
		'- source: {kind: Secret, name: s, fieldPath: data.TOKEN}' '  targets:' \
		'  - select: {kind: Secret, name: other}' '    fieldPaths: [data.copy]'
	sed -i 's/"$(TOK)"/public/' "$REPO/app/web.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(grep -c "^  [a-zA-Z]*: $SECRET_B64\$" <<<"$output")" -eq 2 ]
	# KSOPS output beside a plain Deployment
	write_ksops 'secretFrom:\n- metadata: {name: k}\n  envs: [a.enc.env]\n'
	printf 'resources: [web.yaml]\ngenerators: [gen.yaml]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	grep -qx "  TOKEN: $SECRET" <<<"$output"
}

# The documented limit (docs/argocd.md): values shorter than 6 bytes are
# too likely to occur by chance to be looked for; what could copy one
# whole out of a Secret is refused instead (render 31: this rendered the
# PIN in the ConfigMap, exit 0).
@test "limits: a value shorter than 6 bytes is not followed: a replacement that could copy it is refused" {
	encrypt_to 'PIN=ab12\n' a.enc.env
	kustomization 'web.yaml, cm.yaml' 'replacements:' \
		'- source: {kind: Secret, name: s, fieldPath: data.PIN}' '  targets:' \
		'  - select: {kind: ConfigMap, name: pub}' '    fieldPaths: [data.x]'
	sed -i 's/"$(TOK)"/public/' "$REPO/app/web.yaml"
	refused "'app/kustomization.yaml': replacement 1 copies what may be a Secret's value elsewhere than into a v1 Secret's data or stringData, and a value decrypted for the build is shorter than 6 bytes: render does not follow such a value, it would be published unseen"
}

# copy_to_cm SOURCE-KIND NAME FIELD: a replacement of FIELD of that
# resource into ConfigMap pub's data.x
copy_to_cm() {
	printf -- '- source: {kind: %s, name: %s, fieldPath: %s}\n  targets:\n  - select: {kind: ConfigMap, name: pub}\n    fieldPaths: [data.x]\n' "$@"
}

# renders [LINE]: render succeeds, LINE (if given) a line of its output
renders() {
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ -z "${1:-}" ] || grep -qxF -- "$1" <<<"$output"
}

# A value the repository holds in clear is no secret (a host or user name
# a Secret holds and a Deployment or ConfigMap names too): it is not
# followed. The attacks above stay refused: who moves a value does not
# know it, so cannot put it in clear in the repository.
@test "a decrypted value the app also holds in clear, here or in its base, renders" {
	encrypt_to 'DB_HOST=postgres.prod.svc.cluster.local\nDB_USER=app_production\nTOKEN=tok-SECRET-999\n' a.enc.env
	mkdir -p "$REPO/base"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\ndata:\n  host: postgres.prod.svc.cluster.local\n' >"$REPO/base/db.yaml"
	printf 'resources: [db.yaml]\n' >"$REPO/base/kustomization.yaml"
	sed -i 's/value: public/value: app_production/; s/"$(TOK)"/public/' "$REPO/app/web.yaml"
	kustomization 'web.yaml, cm.yaml, ../base'
	renders '  host: postgres.prod.svc.cluster.local'
	grep -qx '          value: app_production' <<<"$output"
	# a copy of such a value renders too; one of the secret does not
	kustomization 'web.yaml, cm.yaml, ../base' 'replacements:' "$(copy_to_cm Secret s data.DB_HOST)"
	renders
	kustomization 'web.yaml, cm.yaml, ../base' 'replacements:' "$(copy_to_cm Secret s data.TOKEN)"
	refused "'app': resource ConfigMap/pub (document 2): 'data:x' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
}

# What a sops file keeps in clear by its own rules is no secret either.
@test "values a sops file keeps in clear (its regexes, suffixes) are not followed" {
	# a decrypted patch: only its password encrypted
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  host: db-primary.internal\n  password: hunter2-SECRET\n' >"$TMP/p.yaml"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" --encrypted-regex '^password$' "$TMP/p.yaml" >"$REPO/app/p.enc.yaml"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n' >"$REPO/app/db.yaml"
	printf 'resources: [db.yaml, cm.yaml]\npatches:\n- path: p.enc.yaml\nreplacements:\n%s\n' \
		"$(copy_to_cm Secret db stringData.host)" >"$REPO/app/kustomization.yaml"
	renders '  x: db-primary.internal'
	printf 'resources: [db.yaml, cm.yaml]\npatches:\n- path: p.enc.yaml\nreplacements:\n%s\n' \
		"$(copy_to_cm Secret db stringData.password)" >"$REPO/app/kustomization.yaml"
	refused "'app': resource ConfigMap/pub (document 1): 'data:x' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
	# a KSOPS env source: the lines its unencrypted suffix keeps in clear
	encrypt_to 'HOST_PUBLIC=cache.internal.example\nTOKEN=tok-SECRET-999\n' a.enc.env --unencrypted-suffix _PUBLIC
	write_ksops 'secretFrom:\n- metadata: {name: s}\n  envs: [a.enc.env]\n'
	printf 'resources: [cm.yaml]\ngenerators: [gen.yaml]\nreplacements:\n%s\n' \
		"$(copy_to_cm Secret s stringData.HOST_PUBLIC)" >"$REPO/app/kustomization.yaml"
	renders '  x: cache.internal.example'
	printf 'resources: [cm.yaml]\ngenerators: [gen.yaml]\nreplacements:\n%s\n' \
		"$(copy_to_cm Secret s stringData.TOKEN)" >"$REPO/app/kustomization.yaml"
	refused "'app': resource ConfigMap/pub (document 1): 'data:x' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
}
