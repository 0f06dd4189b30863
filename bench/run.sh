#!/usr/bin/env bash
# make bench: every benchmark, each side by side with its peer in one run;
# BENCH=age (or a space-separated list) runs only those.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-build/gitseal}")
export GITSEAL_BIN=$BIN
for b in bench/*_bench.sh; do
	name=$(basename "$b" _bench.sh)
	if [ -n "${BENCH:-}" ] && [[ " $BENCH " != *" $name "* ]]; then
		continue
	fi
	echo "=== $b"
	"$b" "$BIN"
	echo
done
