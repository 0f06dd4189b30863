# Fixtures for the cluster tests: manifests encrypted at test time with the
# gitseal CLI for the committed demo key.
load ../helpers

k8s_setup() {
	setup_tmp
	export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
	unset GITSEAL_KUSTOMIZE ARGOCD_ENV_SOPS_AGE_KEY_FILE
	APP="$TMP/app"
	mkdir -p "$APP"
}

# k8s_repo_setup: k8s_setup, the real kustomize, and $REPO, a git
# repository with an empty app/ (a checkout render finds the root of)
k8s_repo_setup() {
	k8s_setup
	export GITSEAL_KUSTOMIZE="kubectl kustomize"
	REPO="$TMP/repo"
	mkdir -p "$REPO/app"
	git init -q "$REPO"
}

# pin_repo_setup: k8s_repo_setup and $REPO/app/pin.enc.env, a dotenv file
# of one 5-byte PIN (render's tracker follows values of 6 bytes or more);
# $GEN a secretGenerator of it, its name unhashed; $KIND_MSG the end of
# render's line refusing what may change a Secret's kind
pin_repo_setup() {
	k8s_repo_setup
	printf 'PIN=31337\n' >"$TMP/p.env"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$TMP/p.env" >"$REPO/app/pin.enc.env"
	GEN='secretGenerator:\n- name: gen\n  envs: [pin.enc.env]\n  options: {disableNameSuffixHash: true}\n'
	KIND_MSG="a value decrypted for the build must stay in a v1 Secret"
}

# no_pin: the refusal's output holds neither the PIN nor its base64
no_pin() {
	! grep -qE '31337|MzEzMzc' <<<"$output$stderr" || false
}

# seal PLAIN ENC: encrypts data/stringData of a manifest for the demo key
# (a fixture: gitseal_fixture's build)
seal() {
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" --encrypted-regex '^(data|stringData)$' \
		"$1" >"$2"
}

# app_refused LINE: render of $REPO/app fails, nothing on stdout, and
# stderr is the one line "gitseal: error: LINE"
app_refused() {
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: $1" ]
}

# app_renders: render of $REPO/app succeeds (its stderr shown otherwise)
app_renders() {
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
}

# the end of render's line refusing a moved value: what to do when the
# value is no secret
MOVED_HINT=' (a value also meant to be public: keep it in clear in the sops file)'

# expected_line MESSAGE: gitseal's error line for MESSAGE, the refusal of a
# moved value with its hint
expected_line() {
	if [[ $1 == *"only a v1 Secret's data and stringData may" ]]; then
		printf 'gitseal: error: %s%s' "$1" "$MOVED_HINT"
	else
		printf 'gitseal: error: %s' "$1"
	fi
}

# encrypt_to PLAINTEXT FILE [encrypt flags]: PLAINTEXT (printf %b) as the
# whole file $REPO/app/FILE, encrypted for the demo key (a fixture)
encrypt_to() {
	local text=$1 file=$2
	shift 2
	printf '%b' "$text" >"$TMP/plain.${file##*.}"
	"$FIXTURE_BIN" encrypt --age "$DEMO_RECIPIENT" "$@" "$TMP/plain.${file##*.}" >"$REPO/app/$file"
}

write_manifests() {
	local dir=$1
	cat >"$TMP/db.plain.yaml" <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
stringData:
  username: admin
  password: t0p-s3cr3t
  port: "5432"
YAML
	cat >"$TMP/tls.plain.yaml" <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: tls
type: Opaque
data:
  token: aHVudGVyMg==
YAML
	seal "$TMP/db.plain.yaml" "$dir/db.enc.yaml"
	seal "$TMP/tls.plain.yaml" "$dir/tls.enc.yaml"
	cat >"$dir/deploy.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
YAML
	cat >"$dir/config.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: production
YAML
}

# write_manifests_once DIR: write_manifests' files in DIR (and the two
# plaintexts in $TMP), sealed by the first test of a file and copied by
# the others: two encrypt processes a test less, where the tests need the
# same manifests and never the randomness of their own encryption.
write_manifests_once() {
	local made="$BATS_FILE_TMPDIR/manifests"
	if [ -d "$made" ]; then
		cp -a "$made/app/." "$1/"
		cp "$made/db.plain.yaml" "$made/tls.plain.yaml" "$TMP/"
		return
	fi
	write_manifests "$1"
	mkdir -p "$made.tmp/app"
	cp -a "$1/." "$made.tmp/app/"
	cp "$TMP/db.plain.yaml" "$TMP/tls.plain.yaml" "$made.tmp/"
	mv "$made.tmp" "$made"
}

# stream_names FILE: parses a manifest stream with kustomize (no cluster
# needed) and prints kind/name of every resource.
stream_names() {
	local d
	d=$(mktemp -d "$TMP/stream.XXXXXX")
	cp "$1" "$d/out.yaml"
	printf 'resources:\n- out.yaml\n' >"$d/kustomization.yaml"
	kubectl kustomize "$d" | awk '/^kind:/{k=$2} /^  name:/{print tolower(k) "/" $2}'
}

# other_checkout: $REPO, a repository with an app/, and beside it
# $TMP/other/app, another checkout's kustomization of a ConfigMap holding
# other-value, which no app of $REPO may reach
other_checkout() {
	REPO="$TMP/repo"
	mkdir -p "$REPO/app" "$TMP/other/app"
	git init -q "$REPO"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other-tenant\ndata:\n  k: other-value\n' \
		>"$TMP/other/app/cm.yaml"
	printf 'resources: [cm.yaml]\n' >"$TMP/other/app/kustomization.yaml"
}
