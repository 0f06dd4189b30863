#!/usr/bin/env bash
# Decrypt of a 10,000-value YAML file: gitseal vs the npm sops-age decryptor,
# and vs a bare libyaml parse + emit of the same file (the floor for any
# YAML tool), in one run with hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "$1")
KEYS=$(pwd)/keys
N=${SOPS_BENCH_VALUES:-10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
export NODE_PATH=$(pwd)/node_modules SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"

cc -O2 -o "$work/yaml_roundtrip" bench/yaml_roundtrip.c $(pkg-config --cflags --libs yaml-0.1)
awk -v n="$N" 'BEGIN {
	for (s = 0; s < n / 10; s++) {
		printf "service%d:\n", s
		for (k = 0; k < 10; k++) printf "    key%d: value-%d-%d-secret\n", k, s, k
	}
}' >"$work/plain.yaml"
"$BIN" encrypt --age "$(cat "$KEYS/demo-age-recipient.txt")" "$work/plain.yaml" >"$work/enc.yaml"
"$BIN" decrypt "$work/enc.yaml" | cmp - "$work/plain.yaml"
node bench/sops_decrypt.mjs "$work/enc.yaml" "$KEYS/demo-age-key.txt"

echo "decrypt of $N values ($(wc -c <"$work/enc.yaml") bytes encrypted)"
hyperfine -N --warmup 3 --runs 20 --export-json "$work/h.json" \
	"$BIN decrypt $work/enc.yaml" \
	"node bench/sops_decrypt.mjs $work/enc.yaml $KEYS/demo-age-key.txt" \
	"$work/yaml_roundtrip $work/enc.yaml" >/dev/null
node -e '
const r = require(process.argv[1]).results.map((x) => x.mean * 1000);
console.log(`  gitseal decrypt              ${r[0].toFixed(1)} ms`);
console.log(`  sops-age (npm) decrypt       ${r[1].toFixed(1)} ms`);
console.log(`  libyaml parse + emit         ${r[2].toFixed(1)} ms`);
console.log(`  gitseal vs sops-age: ${(r[1] / r[0]).toFixed(1)}x faster (target >= 20x)`);
console.log(`  gitseal / libyaml parse+emit: ${(r[0] / r[2]).toFixed(2)}x (target <= 2x)`);
' "$work/h.json"
