#!/usr/bin/env bash
# make demo: the main job on the demo keys in keys/: encrypt the example
# Kubernetes Secret for the demo recipient, decrypt it, change one value,
# and render it as Argo CD would.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-build/gitseal}")
KEYS=$(pwd)/keys
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
rcpt=$(cat "$KEYS/demo-age-recipient.txt")
export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cp examples/k8s-secret.yaml "$work/secret.yaml"
# in the scratch directory: the commands name the files as the steps do
cd "$work"
step "plaintext: examples/k8s-secret.yaml"
cat secret.yaml

step "gitseal encrypt --age $rcpt secret.yaml"
"$BIN" encrypt --age "$rcpt" secret.yaml >secret.enc.yaml
cat secret.enc.yaml

step "gitseal decrypt secret.enc.yaml (SOPS_AGE_KEY_FILE=keys/demo-age-key.txt)"
"$BIN" decrypt secret.enc.yaml | tee secret.dec.yaml
cmp -s secret.yaml secret.dec.yaml && echo "(byte-identical to the original, comments included)"

step "gitseal set: change one value; only that line and the MAC change"
cp secret.enc.yaml before.yaml
"$BIN" set secret.enc.yaml '["stringData"]["password"]' '"n3w-s3cr3t"'
diff before.yaml secret.enc.yaml | grep '^[<>]' | cut -c1-90 || true

step "gitseal render: what an Argo CD sync would apply"
mkdir app
cp secret.enc.yaml app/
"$BIN" render app

step "age layer: gitseal age round trip"
echo "the launch code is 0000" | "$BIN" age -a -r "$rcpt" | tee msg.age
"$BIN" age -d -i "$KEYS/demo-age-key.txt" msg.age
