#!/usr/bin/env bash
# make bench: every benchmark, each side by side with its peer in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-build/gitseal}")
export GITSEAL_BIN=$BIN
for b in bench/*_bench.sh; do
	echo "=== $b"
	"$b" "$BIN"
	echo
done
