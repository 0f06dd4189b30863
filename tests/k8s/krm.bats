#!/usr/bin/env bats
# gitseal krm: the KRM function under kpt, and KSOPS's legacy exec plugin
# under kubectl kustomize --enable-alpha-plugins.

bats_require_minimum_version 1.5.0
load k8s_helpers

setup() {
	k8s_setup
	write_manifests_once "$APP"
	printf 'API_KEY=abc123\nexport REGION="eu-west-1"\n' >"$TMP/app.env"
	# the dotenv store may not exist yet: the envs part is then left out
	HAVE_ENV=1
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/app.env" >"$APP/app.enc.env" 2>/dev/null ||
		HAVE_ENV=0
	cat >"$APP/generator.yaml" <<'YAML'
apiVersion: viaduct.ai/v1
kind: ksops
metadata:
  name: secret-generator
files:
- ./db.enc.yaml
- tls.enc.yaml
secretFrom:
- metadata:
    name: app-env
    annotations:
      kustomize.config.k8s.io/needs-hash: "true"
  type: Opaque
  files:
  - db.yaml=./db.enc.yaml
YAML
	if [ "$HAVE_ENV" = 1 ]; then
		printf '  envs:\n  - ./app.enc.env\n' >>"$APP/generator.yaml"
	fi
}

# env_ok: the dotenv values are in $output (when dotenv files can be made)
env_ok() {
	[ "$HAVE_ENV" = 0 ] || { grep -q 'API_KEY: abc123' <<<"$output" && grep -q 'REGION: eu-west-1' <<<"$output"; }
}
teardown() { teardown_tmp; }

@test "krm as a kpt exec function generates the KSOPS secrets and keeps the package" {
	mkdir -p "$TMP/pkg"
	cp "$APP"/*.enc.* "$APP/config.yaml" "$TMP/pkg/"
	cp "$APP/generator.yaml" "$TMP/fn-config.yaml"
	cd "$TMP/pkg"
	run --separate-stderr kpt fn eval --exec "$GITSEAL_BIN krm" --fn-config "$TMP/fn-config.yaml" \
		-o stdout .
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	grep -q 'token: aHVudGVyMg==' <<<"$output"
	env_ok
	grep -q 'db.yaml: |' <<<"$output"
	grep -q 'name: app-env' <<<"$output"
	grep -q 'mode: production' <<<"$output"
	# the package on disk is untouched (-o stdout) and holds no plaintext
	! grep -rq 't0p-s3cr3t' "$TMP/pkg" || false
}

@test "krm speaks the ResourceList protocol on stdin and stdout (v1 and v1alpha1)" {
	cd "$APP"
	for v in v1 v1alpha1; do
		{
			printf 'apiVersion: config.kubernetes.io/%s\nkind: ResourceList\nitems: []\nfunctionConfig:\n' "$v"
			sed 's/^/  /' generator.yaml
		} >"$TMP/rl.yaml"
		run --separate-stderr "$GITSEAL_BIN" krm <"$TMP/rl.yaml"
		[ "$status" -eq 0 ]
		grep -q "^apiVersion: config.kubernetes.io/$v\$" <<<"$output"
		grep -q '^kind: ResourceList$' <<<"$output"
		grep -q 'password: t0p-s3cr3t' <<<"$output"
		! grep -q '^results:' <<<"$output" || false
	done
}

@test "krm accepts gitseal.dev/v1 SecretGenerator with key=file entries" {
	cd "$APP"
	{
		printf 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n'
		printf '  apiVersion: gitseal.dev/v1\n  kind: SecretGenerator\n  metadata: {name: g}\n'
		printf '  secretFrom:\n  - metadata: {name: notes}\n    files:\n    - db.yaml=db.enc.yaml\n'
	} >"$TMP/rl.yaml"
	run --separate-stderr "$GITSEAL_BIN" krm <"$TMP/rl.yaml"
	[ "$status" -eq 0 ]
	grep -q 'name: notes' <<<"$output"
	grep -q 'db.yaml: |' <<<"$output"
	grep -q 'password: t0p-s3cr3t' <<<"$output"
}

@test "krm reports a failure in results, exits non-zero and releases no plaintext" {
	cd "$APP"
	export SOPS_AGE_KEY_FILE="$KEYS/test-age-key-2.txt"
	{
		printf 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n'
		sed 's/^/  /' generator.yaml
	} >"$TMP/rl.yaml"
	run --separate-stderr "$GITSEAL_BIN" krm <"$TMP/rl.yaml"
	[ "$status" -eq 1 ]
	grep -q '^results:' <<<"$output"
	grep -q 'severity: error' <<<"$output"
	grep -q 'db.enc.yaml' <<<"$output"
	! grep -q 't0p-s3cr3t\|abc123' <<<"$output$stderr" || false
}

@test "krm shows a file entry with a newline or ESC escaped, in its results and on stderr" {
	cd "$APP"
	sed 's/name: db/name: dbx/' db.enc.yaml >$'db\n\e[2Jgitseal: error: forged.enc.yaml'
	{
		printf 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n'
		printf '  apiVersion: gitseal.dev/v1\n  kind: SecretGenerator\n  metadata: {name: g}\n'
		printf '  secretFrom:\n  - metadata: {name: notes}\n    files:\n'
		printf '    - "db.yaml=db\\n\\e[2Jgitseal: error: forged.enc.yaml"\n'
	} >"$TMP/rl.yaml"
	run --separate-stderr "$GITSEAL_BIN" krm <"$TMP/rl.yaml"
	[ "$status" -eq 1 ]
	[ "$stderr" = "gitseal: error: 'db\x0a\x1b[2Jgitseal: error: forged.enc.yaml': MAC mismatch" ]
	grep -qF "message: '''db\x0a\x1b[2Jgitseal: error: forged.enc.yaml'': MAC mismatch'" <<<"$output"
}

@test "krm refuses a functionConfig of another kind" {
	printf 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n' >"$TMP/rl.yaml"
	run --separate-stderr "$GITSEAL_BIN" krm <"$TMP/rl.yaml"
	[ "$status" -eq 1 ]
	grep -q 'severity: error' <<<"$output"
	grep -q 'message: functionConfig must be viaduct.ai/v1 ksops or gitseal.dev/v1 SecretGenerator' <<<"$output"
	[ "$stderr" = "gitseal: error: functionConfig must be viaduct.ai/v1 ksops or gitseal.dev/v1 SecretGenerator" ]
}

install_legacy_plugin() {
	local dir="$XDG_CONFIG_HOME/kustomize/plugin/viaduct.ai/v1/ksops"
	mkdir -p "$dir"
	ln -s "$GITSEAL_BIN" "$dir/ksops"
}

@test "kubectl kustomize --enable-alpha-plugins runs gitseal as the legacy ksops plugin" {
	install_legacy_plugin
	printf 'generators:\n- generator.yaml\nresources:\n- config.yaml\n' >"$APP/kustomization.yaml"
	run --separate-stderr kubectl kustomize --enable-alpha-plugins "$APP"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	grep -q 'token: aHVudGVyMg==' <<<"$output"
	env_ok
	# needs-hash honoured by kustomize: the generated name carries a hash
	grep -Eq 'name: app-env-[a-z0-9]{10}$' <<<"$output"
	grep -q 'name: db$' <<<"$output"
}

# The KSOPS plugin reads the keys as sops does: SOPS_AGE_KEY_FILE and the
# default keys.txt ($XDG_CONFIG_HOME/sops/age, else ~/.config/sops/age)
# both. render once ran kustomize with XDG_CONFIG_HOME set to its stage, and
# a KSOPS app failed to render on a laptop whose key is at the default place.
@test "render runs a KSOPS generator with the key at its default place, SOPS_AGE_KEY_FILE unset or naming another key" {
	export HOME="$TMP/home"
	unset SOPS_AGE_KEY_FILE XDG_CONFIG_HOME
	mkdir -p "$HOME/.config/sops/age"
	cp "$KEYS/demo-age-key.txt" "$HOME/.config/sops/age/keys.txt"
	printf 'generators:\n- generator.yaml\n' >"$APP/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	# the needs-hash Secret keeps its hash (its short port sits beside
	# longer values of its file)
	grep -qx '  name: app-env-[2456789bcdfghkmt]\{10\}' <<<"$output"
	export SOPS_AGE_KEY_FILE="$KEYS/test-age-key-2.txt"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
}

# The plugin home render gives kustomize holds only gitseal: a ksops the
# user installed where kustomize looks by default is not run.
@test "render runs gitseal as KSOPS, not a ksops in the user's plugin directory" {
	local dir="$XDG_CONFIG_HOME/kustomize/plugin/viaduct.ai/v1/ksops"
	mkdir -p "$dir"
	printf '#!/bin/sh\ntouch "%s/ran"\n' "$TMP" >"$dir/ksops"
	chmod +x "$dir/ksops"
	printf 'generators:\n- generator.yaml\n' >"$APP/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$APP"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	[ ! -e "$TMP/ran" ]
}

@test "gitseal krm --legacy CONFIG prints the generated YAML; failures print nothing" {
	cd "$TMP"
	run --separate-stderr "$GITSEAL_BIN" krm --legacy "$APP/generator.yaml"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	grep -q 'kustomize.config.k8s.io/needs-hash: "true"' <<<"$output"
	export SOPS_AGE_KEY_FILE="$KEYS/test-age-key-2.txt"
	run --separate-stderr "$GITSEAL_BIN" krm --legacy "$APP/generator.yaml"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q 'db.enc.yaml' <<<"$stderr"
}
