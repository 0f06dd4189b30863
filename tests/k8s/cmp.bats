#!/usr/bin/env bats
# Issue 13 cases 1 and 2: the plugin as Argo CD 2.8+'s cmp-server runs it.
# Simulated here: the app repository copied under a fresh
# _cmp_server/<uuid>/ in an in-memory TMPDIR (a tmpfs, as the emptyDir), the key Secret written as
# the kubelet writes it from deploy/repo-server-patch.yaml (root-owned,
# defaultMode, group fsGroup), user 999 with the pod's groups, HOME=/, a
# read-only root file system (a read-only bind remount in a private mount
# namespace), and Argo CD's variables; the commands are the ones
# deploy/plugin.yaml declares, run in the app's directory.

bats_require_minimum_version 1.5.0
load k8s_helpers

DEPLOY="$BATS_TEST_DIRNAME/../../deploy"

setup() {
	k8s_setup
	[ "$(id -u)" -eq 0 ] || skip "the cmp-server simulation needs root (setpriv, mount namespaces)"
	command -v setpriv >/dev/null || skip "setpriv is absent"
	SIM="$TMP/sim"
	mkdir -p "$SIM/tmp" "$SIM/keys" "$TMP/repo"
	chmod 755 "$TMP" "$SIM"
	# the binary and kubectl must be reachable for user 999
	BIN_DIR="$TMP/bin"
	mkdir -p "$BIN_DIR"
	cp "$GITSEAL_BIN" "$BIN_DIR/gitseal"
	chmod 755 "$BIN_DIR" "$BIN_DIR/gitseal"
	make_repo "$TMP/repo"
}
teardown() {
	if [ -n "${TMP:-}" ]; then chmod -R u+w "$TMP" 2>/dev/null; fi
	teardown_tmp
}

# The repository an Argo CD user would have: an overlay whose secret lives
# in its base, an app whose only encrypted file is JSON, one whose only
# encrypted file is dotenv (a secretGenerator), a KSOPS app, a plain one.
make_repo() {
	local r=$1
	mkdir -p "$r/base" "$r/overlays/prod" "$r/json" "$r/dotenv" "$r/ksops" "$r/plain"
	write_manifests "$r/base"
	printf 'resources: [deploy.yaml, config.yaml, db.enc.yaml]\n' >"$r/base/kustomization.yaml"
	printf 'namePrefix: prod-\nresources: [../../base]\n' >"$r/overlays/prod/kustomization.yaml"
	printf '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api"}, "stringData": {"token": "j50n-s3cr3t"}}\n' >"$TMP/api.json"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" --encrypted-regex '^(data|stringData)$' "$TMP/api.json" >"$r/json/api.enc.json"
	printf 'API_KEY=d0tenv-s3cr3t\n' >"$TMP/app.env"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/app.env" >"$r/dotenv/app.enc.env"
	printf 'secretGenerator:\n- name: app\n  envs: [app.enc.env]\n' >"$r/dotenv/kustomization.yaml"
	cp "$r/base/db.enc.yaml" "$r/ksops/"
	printf 'apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: g\nfiles: [db.enc.yaml]\n' >"$r/ksops/gen.yaml"
	printf 'generators: [gen.yaml]\n' >"$r/ksops/kustomization.yaml"
	cp "$r/base/config.yaml" "$r/plain/"
}

# yaml_value FILE KEY: the value of the first "KEY: value" line
yaml_value() {
	sed -n "s/^ *- *{*name: *$2, *//; s/^ *$2: *\\(.*\\)\$/\\1/p" "$1" | head -n 1
}

# plugin_command FILE SECTION: the command list under generate: or find:
plugin_command() {
	awk -v s="$2:" '$1 == s {f = 1; next} f && $1 == "command:" {sub(/^ *command: *\[/, ""); sub(/\] *$/, ""); gsub(/, */, " "); print; exit}' "$1"
}

# kubelet: the key Secret's file as deploy/repo-server-patch.yaml asks for
mount_key() {
	local patch="$DEPLOY/repo-server-patch.yaml" mode group
	mode=$(sed -n 's/.*secretName: gitseal-age-key, defaultMode: \(0[0-7]*\).*/\1/p' "$patch")
	group=$(sed -n 's/^ *fsGroup: *\([0-9]*\)$/\1/p' "$patch")
	[ -n "$mode" ]
	cp "$KEYS/demo-age-key.txt" "$SIM/keys/keys.txt"
	chown "0:${group:-0}" "$SIM/keys/keys.txt"
	chmod "$mode" "$SIM/keys/keys.txt"
	FSGROUP=${group:-}
}

# cmp APP_PATH COMMAND...: runs COMMAND as the cmp-server runs a plugin
# command, in _cmp_server/<uuid>/APP_PATH. Sets output/stderr/status.
cmp() {
	local app=$1 uuid groups
	shift
	uuid=$(cat /proc/sys/kernel/random/uuid)
	groups=999${FSGROUP:+,$FSGROUP}
	local envs=(HOME=/ PATH="$BIN_DIR:/usr/local/bin:/usr/bin:/bin" TMPDIR="$SIM/tmp"
		SOPS_AGE_KEY_FILE="$SIM/keys/keys.txt"
		ARGOCD_APP_NAME=payments ARGOCD_APP_NAMESPACE=payments ARGOCD_APP_PROJECT_NAME=default
		ARGOCD_APP_REVISION=0123456789abcdef ARGOCD_APP_SOURCE_PATH="$app"
		ARGOCD_APP_SOURCE_REPO_URL=https://git.example.com/apps.git
		ARGOCD_APP_SOURCE_TARGET_REVISION=HEAD ARGOCD_ENV_TEAM=payments
		KUBE_VERSION=1.32.4 KUBE_API_VERSIONS=v1)
	# an in-memory /tmp (the emptyDir), the checkout in it, then the rest
	# of the file system read-only; what is left in /tmp afterwards is
	# reported on the last line of stderr
	local script='
		work="$1/_cmp_server/$2"
		mount --make-rprivate / && mount -t tmpfs -o mode=1777 cmp-tmp "$1" &&
		mkdir -p "$work" && cp -r "$3/." "$work/" &&
		if [ -n "$7" ]; then mkdir -p "$1/_cmp_server/$7" && cp "$8" "$1/_cmp_server/$7/"; fi &&
		chown -R 999:999 "$1" && mount -o remount,bind,ro / || exit 99
		cd "$work/$4" || exit 99
		setpriv --reuid 999 --regid 999 --groups "$5" --inh-caps=-all env -i "${@:9}" sh -c "$6"
		rc=$?
		echo "cmp-tmp: $(ls -A "$1" | tr "\n" " ")" >&2
		exit $rc'
	run --separate-stderr unshare -m bash -c "$script" cmp "$SIM/tmp" "$uuid" "$TMP/repo" "$app" \
		"$groups" "$*" "${NEIGHBOUR:-}" "${NEIGHBOUR_FILE:-}" "${envs[@]}"
	[ "$status" -ne 99 ]
	LEFT=$(tail -n 1 <<<"$stderr")
	stderr=$(sed '$d' <<<"$stderr")
}

@test "1: the key Secret mount of deploy/ is readable by the sidecar's user 999" {
	mount_key
	[ "$FSGROUP" = 999 ]
	cmp overlays/prod cat "$SIM/keys/keys.txt"
	[ "$status" -eq 0 ]
	grep -q '^AGE-SECRET-KEY-1' <<<"$output"
	# the shipped mode before the fix (0400, no fsGroup): Permission denied
	chmod 0400 "$SIM/keys/keys.txt"
	chown 0:0 "$SIM/keys/keys.txt"
	cmp overlays/prod "$(plugin_command "$DEPLOY/plugin.yaml" generate)"
	[ "$status" -ne 0 ]
	grep -q 'Permission denied' <<<"$stderr"
}

@test "1: the simulated sidecar has a read-only root file system and HOME=/" {
	mount_key
	cmp plain 'touch /gitseal-ro-test; echo "home=$HOME"'
	grep -q 'Read-only file system' <<<"$stderr"
	grep -qx 'home=/' <<<"$output"
	[ ! -e /gitseal-ro-test ]
}

@test "1: generate renders an overlay whose secret lives in its base, as user 999" {
	mount_key
	cmp overlays/prod "$(plugin_command "$DEPLOY/plugin.yaml" generate)"
	[ "$status" -eq 0 ]
	grep -q 'name: prod-db' <<<"$output"
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	! grep -q 'ENC\[' <<<"$output" || false
	# nothing left in the cmp-server's temporary directory but the checkout
	[ "$LEFT" = "cmp-tmp: _cmp_server" ]
}

@test "1: generate renders KSOPS generators and dotenv secretGenerators in the sidecar" {
	mount_key
	cmp ksops "$(plugin_command "$DEPLOY/plugin.yaml" generate)"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	cmp dotenv "$(plugin_command "$DEPLOY/plugin.yaml" generate)"
	[ "$status" -eq 0 ]
	grep -q "API_KEY: $(printf d0tenv-s3cr3t | base64)" <<<"$output"
	[ "$LEFT" = "cmp-tmp: _cmp_server" ]
}

@test "1: the checkout root is _cmp_server/<uuid>: nothing beside it is read" {
	mount_key
	# another request's checkout beside this one
	NEIGHBOUR=other-app NEIGHBOUR_FILE="$TMP/repo/base/db.enc.yaml"
	printf 'resources: [../../../other-app/db.enc.yaml]\n' >"$TMP/repo/overlays/prod/kustomization.yaml"
	cmp overlays/prod "$(plugin_command "$DEPLOY/plugin.yaml" generate)"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "leads outside the root" <<<"$stderr"
}

@test "2: discovery finds overlays with secrets in a base, JSON-only and dotenv-only apps, KSOPS; not plain apps" {
	mount_key
	local find
	find=$(plugin_command "$DEPLOY/plugin.yaml" find)
	[ -n "$find" ]
	for app in overlays/prod json dotenv ksops; do
		cmp "$app" "$find"
		[ "$status" -eq 0 ]
		[ -n "$output" ] || { echo "$app not discovered"; false; }
	done
	cmp plain "$find"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# the old find command missed the overlay and the JSON and dotenv apps
	for app in overlays/prod dotenv; do
		cmp "$app" "grep -rlE '^sops:' --include='*.yaml' --include='*.yml' --include='*.json' . | head -n 1"
		[ -z "$output" ]
	done
	# and the JSON-only app renders
	cmp json "$(plugin_command "$DEPLOY/plugin.yaml" generate)"
	[ "$status" -eq 0 ]
	grep -q 'token: j50n-s3cr3t' <<<"$output"
}

@test "2: the name-only plugin has no discovery (Argo CD then accepts it whenever it is named)" {
	! grep -q 'discover:' "$DEPLOY/plugin-named.yaml" || false
	[ "$(plugin_command "$DEPLOY/plugin-named.yaml" generate)" = "$(plugin_command "$DEPLOY/plugin.yaml" generate)" ]
	grep -q 'name: gitseal$' "$DEPLOY/plugin-named.yaml"
	grep -q 'version: v1$' "$DEPLOY/plugin-named.yaml"
}

@test "10: the shared repo-server plugin picks the key by Argo CD project (an Application cannot name another key file) and binds namespaces" {
	mount_key
	local cmd
	cmd=$(sed -n 's/^    - \(exec env .*\)$/\1/p' "$DEPLOY/plugin-tenants.yaml" | sed "s|/keys/age/|$SIM/keys/|")
	[ -n "$cmd" ]
	cp "$KEYS/demo-age-key.txt" "$SIM/keys/payments.txt"
	cp "$KEYS/test-age-key-2.txt" "$SIM/keys/other.txt"
	chown 0:999 "$SIM/keys/payments.txt" "$SIM/keys/other.txt"
	chmod 0440 "$SIM/keys/payments.txt" "$SIM/keys/other.txt"
	secret_ns() {
		printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: payments\nstringData:\n  password: t0p-s3cr3t\n' >"$TMP/p.yaml"
		seal "$TMP/p.yaml" "$TMP/repo/base/db.enc.yaml"
	}
	secret_ns
	cmp overlays/prod "ARGOCD_APP_PROJECT_NAME=payments; $cmd"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	cmp overlays/prod "ARGOCD_APP_PROJECT_NAME=other; $cmd"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	# an Application of project "other" names payments' key file in its
	# plugin env (Argo CD passes it as ARGOCD_ENV_...): not followed
	cmp overlays/prod "export ARGOCD_ENV_SOPS_AGE_SSH_PRIVATE_KEY_FILE=$SIM/keys/payments.txt ARGOCD_ENV_SOPS_AGE_KEY_FILE=$SIM/keys/payments.txt; ARGOCD_APP_PROJECT_NAME=other; $cmd"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q "ARGOCD_ENV_SOPS_AGE_SSH_PRIVATE_KEY_FILE is ignored: the sidecar does not set GITSEAL_ALLOW_ARGOCD_KEY_FILE=1" <<<"$stderr"
	printf 'namespace: elsewhere\nresources: [../../base]\n' >"$TMP/repo/overlays/prod/kustomization.yaml"
	cmp overlays/prod "ARGOCD_APP_PROJECT_NAME=payments; $cmd"
	[ "$status" -eq 1 ]
	grep -q "namespace 'elsewhere' is not its source's 'payments'" <<<"$stderr"
}
