#!/usr/bin/env bash
# Decrypt of a 10,000-value YAML file: gitseal vs the npm sops-age decryptor,
# and vs a bare libyaml parse + emit of the same file (the floor for any
# YAML tool), in one run with hyperfine; then what the proof of every
# write costs, encrypt and decrypt with and without it.
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

# What proving every write costs: the same source built without the proof
# (GITSEAL_BENCH_UNVERIFIED, only ever defined here), encrypt and decrypt
# of the same file side by side. Decrypt to standard output is not read
# back, so it should cost nothing; CPU time (user + system) is printed too,
# as wall time on a loaded machine says little.
echo
echo "encrypt with and without the proof ($N values)"
CPPFLAGS=-DGITSEAL_BENCH_UNVERIFIED make -s BUILD=build/bench-unverified build/bench-unverified/gitseal >/dev/null
UNV=$(realpath build/bench-unverified/gitseal)
R=$(cat "$KEYS/demo-age-recipient.txt")
"$UNV" decrypt "$work/enc.yaml" | cmp - "$work/plain.yaml"
hyperfine -N --warmup 3 --runs 20 --export-json "$work/v.json" \
	"$BIN encrypt --age $R $work/plain.yaml" \
	"$UNV encrypt --age $R $work/plain.yaml" \
	"$BIN decrypt $work/enc.yaml" \
	"$UNV decrypt $work/enc.yaml" >/dev/null
node -e '
const r = require(process.argv[1]).results;
const wall = r.map((x) => x.mean * 1000), cpu = r.map((x) => (x.user + x.system) * 1000);
const pct = (a, b) => ((a / b - 1) * 100).toFixed(0);
console.log(`  encrypt, proven             ${wall[0].toFixed(1)} ms (cpu ${cpu[0].toFixed(1)} ms)`);
console.log(`  encrypt, not proven         ${wall[1].toFixed(1)} ms (cpu ${cpu[1].toFixed(1)} ms)`);
console.log(`  decrypt to stdout           ${wall[2].toFixed(1)} ms (cpu ${cpu[2].toFixed(1)} ms)`);
console.log(`  decrypt, proof compiled out ${wall[3].toFixed(1)} ms (cpu ${cpu[3].toFixed(1)} ms)`);
console.log(`  the proof costs ${pct(wall[0], wall[1])}% on encrypt (cpu ${pct(cpu[0], cpu[1])}%; target <= 60%), ` +
	    `${pct(wall[2], wall[3])}% on decrypt to stdout (cpu ${pct(cpu[2], cpu[3])}%; target: nothing)`);
' "$work/v.json"
