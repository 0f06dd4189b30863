#!/usr/bin/env bash
# render_bench.sh [GITSEAL] [COUNT]: renders COUNT (default 1000) encrypted
# Secrets from a plain directory and prints the total and per-Secret time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-build/gitseal}")
COUNT=${2:-1000}
KEYS=$PWD/keys
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/app"
export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
recipient=$(cat "$KEYS/demo-age-recipient.txt")

for i in $(seq -w 1 "$COUNT"); do
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s%s\ntype: Opaque\nstringData:\n  username: user%s\n  password: pass-%s-%s\n' \
		"$i" "$i" "$i" "$RANDOM" >"$TMP/plain.yaml"
	"$BIN" encrypt --age "$recipient" --encrypted-regex '^(data|stringData)$' "$TMP/plain.yaml" \
		>"$TMP/app/s$i.enc.yaml"
done

start=$(date +%s%N)
"$BIN" render "$TMP/app" >"$TMP/out.yaml"
end=$(date +%s%N)
n=$(grep -c '^kind: Secret' "$TMP/out.yaml")
[ "$n" -eq "$COUNT" ] || { echo "render_bench: expected $COUNT Secrets, got $n" >&2; exit 1; }
total_ms=$(( (end - start) / 1000000 ))
per_us=$(( (end - start) / 1000 / COUNT ))
echo "render: $COUNT Secrets in ${total_ms} ms total, ${per_us} us per Secret"
