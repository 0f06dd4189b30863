#!/usr/bin/env bats
# Third red-team pass over render (findings F1-F4, docs/threat-model.md): repository
# content is the attacker's. A pull request controls kustomizations, patches
# and the metadata of what it adds; it must not get a decrypted value out
# through kustomize's messages, into a resource Argo CD does not mask, to
# another consumer of a resource, or left on disk by a signal.

load k8s_helpers

setup() {
	k8s_setup
	export GITSEAL_KUSTOMIZE="kubectl kustomize"
	REPO="$TMP/repo"
	mkdir -p "$REPO/app"
	git init -q "$REPO"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2-SECRET\n' >"$TMP/s.yaml"
	seal "$TMP/s.yaml" "$REPO/app/s.enc.yaml"
}
teardown() { teardown_tmp; }

# render_refused MESSAGE: render of the app fails, nothing on stdout, the
# message on stderr and no decrypted value anywhere
render_refused() {
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ] || { echo "status $status: $output"; false; }
	[ -z "$output" ]
	! grep -q 'SECRET' <<<"$stderr" || false
	grep -qxF "$(expected_line "$1")" <<<"$stderr" || { echo "$stderr"; false; }
}

# F1: kustomize prints the node it failed on; with a decrypted patch that
# node is plaintext, and Argo CD shows the plugin's stderr to anyone who can
# see the Application.
@test "F1: a failed build that read decrypted files shows a fixed line, never kustomize's messages" {
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData: []\n' >"$REPO/app/decoy.yaml"
	printf 'resources: [decoy.yaml]\npatches:\n- path: s.enc.yaml\n' >"$REPO/app/kustomization.yaml"
	render_refused "'app': kustomize build: 'kubectl' failed (exit status 1); its messages are withheld, as they can quote the decrypted files: build the app with kustomize itself (it reads them encrypted) to see them"
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
	# a decrypted generator source: the same
	encrypt_to 'TOKEN=tok-SECRET-999\n' a.enc.env
	printf 'kind: [\n' >"$REPO/app/bad.yaml"
	printf 'secretGenerator:\n- name: s\n  envs: [a.enc.env]\nresources: [bad.yaml]\n' >"$REPO/app/kustomization.yaml"
	render_refused "'app': kustomize build: 'kubectl' failed (exit status 1); its messages are withheld, as they can quote the decrypted files: build the app with kustomize itself (it reads them encrypted) to see them"
	# kustomize on ciphertext alone says what it says
	printf 'resources: [s.enc.yaml, bad.yaml]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ "$(tail -1 <<<"$stderr")" = "gitseal: error: 'app': kustomize build: 'kubectl' failed (exit status 1)" ]
	[ "$(wc -l <<<"$stderr")" -gt 1 ]
}

# F2a: a decrypted patch goes where its target (or its own kind) says.
@test "F2: a decrypted patch applies only to v1 Secrets: by its target, its own kind, and the Secrets built" {
	local msg="'app/s.enc.yaml' is encrypted: a patch target that can select another kind would publish it (target kind: Secret, version v1 or none, no group)"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pub\n' >"$REPO/app/cm.yaml"
	for target in '{kind: ConfigMap, name: pub}' '{name: pub}' '{kind: "Secret|ConfigMap"}' \
		'{kind: Secret, group: exfil.example.com}' '{kind: Secret, version: v2}' '{kind: ".*"}' '{}'; do
		printf 'resources: [cm.yaml]\npatches:\n- path: s.enc.yaml\n  target: %s\n' "$target" >"$REPO/app/kustomization.yaml"
		render_refused "$msg"
	done
	# the same file named by a second patch entry with a wide target
	printf 'resources: [cm.yaml]\npatches:\n- path: s.enc.yaml\n  target: {kind: Secret}\n- path: s.enc.yaml\n  target: {kind: ConfigMap}\n' >"$REPO/app/kustomization.yaml"
	render_refused "$msg"
	# a patch of another kind (no target: it applies to its own kind)
	printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    metadata:\n      annotations:\n        dsn: SECRET-dsn\n' >"$TMP/p.yaml"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" --encrypted-regex '^annotations$' "$TMP/p.yaml" >"$REPO/app/p.enc.yaml"
	printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec: {}\n' >"$REPO/app/web.yaml"
	printf 'resources: [web.yaml]\npatchesStrategicMerge: [p.enc.yaml]\n' >"$REPO/app/kustomization.yaml"
	render_refused "'app/p.enc.yaml' is encrypted: as a patch it must be a v1 Secret, and document 1 is not (another kind would publish it)"
	# a target cannot name the core group: a Secret of another group is
	# refused after the build (its values are no v1 Secret's, and, were
	# they too short to be followed, its apiVersion is refused)
	printf 'apiVersion: exfil.example.com/v1\nkind: Secret\nmetadata:\n  name: db\n' >"$REPO/app/cr.yaml"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n' >"$REPO/app/db.yaml"
	printf 'resources: [cr.yaml, db.yaml]\npatches:\n- path: s.enc.yaml\n  target: {kind: Secret, name: db}\n' >"$REPO/app/kustomization.yaml"
	render_refused "'app': resource Secret/db (document 1): 'stringData:password' holds a value decrypted for the build: only a v1 Secret's data and stringData may"
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  pin: "1234"\n' >"$TMP/pin.yaml"
	seal "$TMP/pin.yaml" "$REPO/app/pin.enc.yaml"
	printf 'resources: [cr.yaml, db.yaml]\npatches:\n- path: pin.enc.yaml\n  target: {kind: Secret, name: db}\n' >"$REPO/app/kustomization.yaml"
	render_refused "resource Secret/db (document 1): a Secret of apiVersion 'exfil.example.com/v1' in a build that decrypted generator sources or patches, or ran KSOPS: only a v1 Secret may hold their plaintext"
	# the v1 Secret alone: rendered, with the target or without one
	for target in '  target: {kind: Secret, name: db}\n' '  target: {kind: Secret, version: v1}\n' ''; do
		printf "resources: [db.yaml]\npatches:\n- path: s.enc.yaml\n$target" >"$REPO/app/kustomization.yaml"
		run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
		[ "$status" -eq 0 ] || { echo "$stderr"; false; }
		grep -qx '  password: hunter2-SECRET' <<<"$output"
	done
}

# F2b: kustomize reads every line of an envs file as KEY=VALUE, so a YAML,
# JSON or INI file's lines would become key names, which nothing masks.
@test "F2: an encrypted envs/env source must be a dotenv file; a file's every role is checked" {
	encrypt_to 'db_password: hunter2-SECRET\n' cfg.enc.yaml
	encrypt_to '{"db_password": "hunter2-SECRET"}\n' cfg.enc.json
	encrypt_to '[db]\npassword = hunter2-SECRET\n' cfg.enc.ini
	for f in cfg.enc.yaml cfg.enc.json cfg.enc.ini; do
		for field in "envs: [$f]" "env: $f"; do
			printf 'secretGenerator:\n- name: s\n  %s\n' "$field" >"$REPO/app/kustomization.yaml"
			render_refused "'app/$f' is encrypted and not a dotenv file: a secretGenerator's envs would publish its lines as key names (use files:, or a dotenv file)"
		done
	done
	# as files: it is one value of the Secret
	printf 'secretGenerator:\n- name: s\n  files: [cfg.enc.yaml]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ]
	grep -q '^  cfg.enc.yaml: ' <<<"$output"
	! grep -q 'SECRET' <<<"$output" || false
	# a dotenv file renders; named by a configMapGenerator too, it is refused
	# (its plaintext was staged once for both)
	encrypt_to 'TOKEN=tok-SECRET-999\n' a.enc.env
	printf 'secretGenerator:\n- name: s\n  envs: [a.enc.env]\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ]
	grep -qx "  TOKEN: $(printf tok-SECRET-999 | base64)" <<<"$output"
	printf 'secretGenerator:\n- name: s\n  files: [a.enc.env]\nconfigMapGenerator:\n- name: c\n  files: [a.enc.env]\n' >"$REPO/app/kustomization.yaml"
	render_refused "'app/a.enc.env' is encrypted: a configMapGenerator would publish it (use a secretGenerator)"
	# a generated Secret turned into a custom resource by a patch
	printf 'secretGenerator:\n- name: s\n  envs: [a.enc.env]\n  options: {disableNameSuffixHash: true}\npatches:\n- target: {kind: Secret, name: s}\n  patch: |\n    - op: replace\n      path: /apiVersion\n      value: exfil.example.com/v1\n' >"$REPO/app/kustomization.yaml"
	render_refused "'app/kustomization.yaml': patch 1 operation 1: a JSON patch changes the kind or apiVersion of what may be a Secret: a value decrypted for the build must stay in a v1 Secret"
}

# The same for KSOPS's secretFrom envs (krm, and render's KSOPS builds):
# its env parser takes what precedes '=' on a line as the key, so a line of
# a YAML block scalar became a key name.
@test "F2: krm: a secretFrom envs source must be a dotenv file" {
	encrypt_to 'cert: |\n  MIIBSECRETabcDEF0123456789xyz==\nuser: bob\n' pem.enc.yaml
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata: {name: k}\nsecretFrom:\n- metadata: {name: s}\n  envs: [pem.enc.yaml]\n' >"$REPO/app/gen.yaml"
	cd "$REPO/app"
	run --separate-stderr "$GITSEAL_BIN" krm --legacy gen.yaml
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'pem.enc.yaml': not a dotenv file: secretFrom envs would publish its lines as key names (use files:, or a dotenv file)" ]
	printf 'generators: [gen.yaml]\n' >"$REPO/app/kustomization.yaml"
	# render decrypts what KSOPS will, to follow its values through the build
	render_refused "'app/gen.yaml': 'pem.enc.yaml': not a dotenv file: secretFrom envs would publish its lines as key names (use files:, or a dotenv file)"
	# a dotenv file is read as before
	encrypt_to 'TOKEN=tok-SECRET-999\n' a.enc.env
	sed -i 's/pem.enc.yaml/a.enc.env/' "$REPO/app/gen.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ]
	grep -qx '  TOKEN: tok-SECRET-999' <<<"$output"
}

write_deployment() {
	cat >"$TMP/dep.yaml" <<'YAML'
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
        args: [--token, SECRET-arg, --verbose]
        env:
        - name: DB_PASSWORD
          value: hunter2-SECRET
        - name: LOG_BANNER
          value: public-banner
YAML
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" --encrypted-regex '^(value|args)$' "$TMP/dep.yaml" >"$REPO/app/dep.enc.yaml"
}

# json_patch OP...: a kustomization of dep.enc.yaml with one JSON patch
json_patch() {
	printf 'resources: [dep.enc.yaml]\npatches:\n- target: {kind: Deployment, name: web}\n  patch: |\n' >"$REPO/app/kustomization.yaml"
	printf '    %s\n' "$@" >>"$REPO/app/kustomization.yaml"
}

# F3a: sops's AAD leaves list positions out; the MAC fixes them. A list
# element is bound by its name (kustomize inserts and merges by it), else
# by its position.
@test "F3: a ciphertext moved to another list element (env var, container, position) is refused" {
	write_deployment
	json_patch '- op: copy' '  from: /spec/template/spec/containers/0/env/0/value' \
		'  path: /spec/template/spec/containers/0/env/1/value'
	render_refused "resource Deployment/web (document 1): 'app/dep.enc.yaml' document 1: encrypted value at 'spec:template:spec:containers:[name=web]:env:[name=LOG_BANNER]:value' is not the verified source's"
	# an env var of a new container
	json_patch '- op: copy' '  from: /spec/template/spec/containers/0/env' '  path: /spec/template/spec/containers/0/x' \
		'- op: add' '  path: /spec/template/spec/containers/-' \
		'  value: {name: exfil, image: attacker.example/exfil}' \
		'- op: move' '  from: /spec/template/spec/containers/0/x' '  path: /spec/template/spec/containers/1/env'
	render_refused "resource Deployment/web (document 1): 'app/dep.enc.yaml' document 1: encrypted value at 'spec:template:spec:containers:[name=exfil]:env:[name=DB_PASSWORD]:value' is not the verified source's"
	# the env var holding it renamed
	json_patch '- op: replace' '  path: /spec/template/spec/containers/0/env/0/name' '  value: LOG_BANNER2'
	render_refused "resource Deployment/web (document 1): 'app/dep.enc.yaml' document 1: encrypted value at 'spec:template:spec:containers:[name=web]:env:[name=LOG_BANNER2]:value' is not the verified source's"
	# elements without a name: by position
	json_patch '- op: move' '  from: /spec/template/spec/containers/0/args/1' '  path: /spec/template/spec/containers/0/args/2'
	render_refused "resource Deployment/web (document 1): 'app/dep.enc.yaml' document 1: encrypted value at 'spec:template:spec:containers:[name=web]:args:[1]' is not the verified source's"
}

@test "F3: kustomize's own list changes still render (sidecars and env vars merged in before, entries inserted)" {
	write_deployment
	mkdir -p "$REPO/overlay"
	mv "$REPO/app/dep.enc.yaml" "$REPO/overlay/"
	printf 'resources: [dep.enc.yaml]\n' >"$REPO/overlay/kustomization.yaml"
	cat >"$REPO/app/kustomization.yaml" <<'YAML'
resources: [../overlay]
namePrefix: prod-
patches:
- patch: |
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      template:
        spec:
          initContainers:
          - name: init
            image: busybox
          containers:
          - name: sidecar
            image: envoy
          - name: web
            env:
            - name: EXTRA
              value: x
- target: {kind: Deployment}
  patch: |
    - op: add
      path: /spec/template/spec/containers/1/env/0
      value: {name: FIRST, value: one}
YAML
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	# the merge put the sidecar and EXTRA first: positions moved, names held
	[ "$(grep -E '^ *(- )?name: ' <<<"$output" | tr -d ' -' | tr '\n' ' ')" = "name:prodweb name:sidecar name:FIRST name:EXTRA name:DB_PASSWORD name:LOG_BANNER name:web name:init " ]
	grep -A1 'name: DB_PASSWORD' <<<"$output" | grep -qx '          value: hunter2-SECRET'
	grep -qx '        - SECRET-arg' <<<"$output"
}

# F3b: the same kind in another group is another resource: Argo CD does
# not mask it and etcd keeps it as no Secret.
@test "F3: an encrypted Secret whose apiVersion a patch changed is refused" {
	printf 'resources: [s.enc.yaml]\npatches:\n- target: {kind: Secret, name: db}\n  patch: |\n    - op: replace\n      path: /apiVersion\n      value: exfil.example.com/v1\n' >"$REPO/app/kustomization.yaml"
	render_refused "resource Secret/db (document 1): holds the encrypted values of v1 Secret/db in 'app/s.enc.yaml' document 1"
}

# F4: Argo CD's cmp-server sends SIGTERM to the plugin's process group when
# it times out (SIGKILL 5 s later); a user stops render with SIGINT, a
# closed terminal sends SIGHUP.
@test "F4: SIGTERM, SIGINT or SIGHUP stops kustomize and removes the staged plaintext; render dies of the signal" {
	encrypt_to 'TOKEN=tok-SECRET-999\n' a.enc.env
	printf 'secretGenerator:\n- name: s\n  envs: [a.enc.env]\n' >"$REPO/app/kustomization.yaml"
	# a slow kustomize, one process (exec: no shell left holding the pipe)
	printf '#!/bin/sh\necho $$ >"%s/kpid"\nexec sleep 60\n' "$TMP" >"$TMP/slow"
	chmod +x "$TMP/slow"
	mkdir "$TMP/t"
	for how in TERM:render INT:render HUP:render TERM:group; do
		local sig=${how%%:*} pid status=0
		rm -f "$TMP/kpid"
		TMPDIR="$TMP/t" GITSEAL_KUSTOMIZE="$TMP/slow" setsid "$GITSEAL_BIN" render "$REPO/app" >"$TMP/out" 2>"$TMP/err" &
		pid=$!
		for _ in $(seq 100); do [ -s "$TMP/kpid" ] && break; sleep 0.1; done
		grep -rqs 'tok-SECRET-999' "$TMP/t" # staged while kustomize runs
		if [ "${how#*:}" = group ]; then kill -"$sig" -- -"$pid"; else kill -"$sig" "$pid"; fi
		wait "$pid" || status=$?
		[ "$status" -eq $((128 + $(kill -l "$sig"))) ] || { echo "$how: status $status"; false; }
		[ -z "$(ls -A "$TMP/t")" ] || { echo "$how: left $(find "$TMP/t")"; false; }
		! kill -0 "$(cat "$TMP/kpid")" 2>/dev/null || false
		[ ! -s "$TMP/out" ]
	done
}
