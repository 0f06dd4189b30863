#!/usr/bin/env bash
# Writes scripts/hot-functions.txt: the functions a 100-byte `gitseal age -e`
# and `gitseal age -d` (to a file and to standard output) run, found with callgrind, one name a line, first
# the ones every command runs (start-up), then by name; after them the
# variables (.data, .bss) those runs touch, found with valgrind's lackey.
# The Makefile hands the list to lld (--symbol-ordering-file), which lays
# those functions out next to each other at the start of .text, and those
# variables at the start of .data and .bss: on this VM every 64 KiB of
# code and every 4 KiB of variables a process touches costs a page fault
# (docs/development.md, the small file). Run it again after changing the
# age path's functions or variables.
#   usage: scripts/hot-functions.sh [GITSEAL_BIN]   (default build/gitseal)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-build/gitseal}")
command -v valgrind >/dev/null || { echo "hot-functions: valgrind is not installed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
key=keys/demo-age-key.txt
head -c 100 /dev/urandom >"$work/small"
"$BIN" age -r "$(cat keys/demo-age-recipient.txt)" -o "$work/small.age" "$work/small"

run() {
	valgrind --tool=callgrind --callgrind-out-file="$work/cg.$1" "${@:2}" >/dev/null 2>&1
	# "cost (pct)  file:function [object]" for each function of the binary;
	# assembly without debug information shows as an address: named from
	# the symbol table
	callgrind_annotate --threshold=100 "$work/cg.$1" | grep -F "[$BIN]" |
		sed -E 's/^.*:([^ :]+) \[[^]]*\]$/\1/'
}
{
	# over an existing file, as the benchmark's rounds write
	run e "$BIN" age -r "$(cat keys/demo-age-recipient.txt)" -o "$work/small.age" "$work/small"
	run d "$BIN" age -d -i "$key" -o "$work/out" "$work/small.age"
	run s "$BIN" age -d -i "$key" "$work/small.age"
} | sort -u >"$work/names"

# The variables: every load and store of the same three runs (lackey), an
# address within one of the binary's .data, .bss or .rodata symbols naming
# it (constants such as the option tables go first in .rodata, in the 64 KiB
# the loader's first read of the program headers maps).
# valgrind maps a position-independent executable at 0x108000.
# (thread-local ones and .data.rel.ro, which the loader writes whole, left out)
span=$(readelf -SW "$BIN" | sed 's/^ *\[ *[0-9]*\] *//' | awk '$1 == ".data" { lo = $3 } $1 == ".bss" { hi = $3 "+" $5 } END { print lo, hi }')
rodata=$(readelf -SW "$BIN" | sed 's/^ *\[ *[0-9]*\] *//' | awk '$1 == ".rodata" { print $3, $3 "+" $5 }')
nm -S "$BIN" | awk -v span="$span $rodata" '
	function hex(s,   i, n) { n = 0; s = tolower(s); for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return n }
	BEGIN { split(span, r, "[ +]"); lo = hex(r[1]); hi = hex(r[2]) + hex(r[3]); rlo = hex(r[4]); rhi = hex(r[5]) + hex(r[6]) }
	NF == 4 && $4 ~ /^[A-Za-z0-9_.]+$/ && (($3 ~ /^[dDbB]$/ && hex($1) >= lo && hex($1) < hi) ||
		($3 ~ /^[rR]$/ && hex($1) >= rlo && hex($1) < rhi)) { print $1, $2, $4 }' >"$work/data"
[ -s "$work/data" ] || { echo "hot-functions: no .data or .bss symbols in $BIN" >&2; exit 1; }
main=$(nm "$BIN" | awk '$3 == "main" { print $1 }')
touched() {
	valgrind --tool=lackey --trace-mem=yes --log-file="$work/mem" "$@" >/dev/null 2>&1
	awk -v main="$main" -v rodata="$rodata" -v data="$span" '
	function hex(s,   i, n) { n = 0; s = tolower(s); for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return n }
	NR == FNR { lo[NR] = hex($1); hi[NR] = lo[NR] + hex($2); name[NR] = $3; n = NR
		if (NR == 1 || lo[NR] < min) min = lo[NR]
		if (hi[NR] > max) max = hi[NR]
		next }
	# .text and the relro pages lie between .rodata and .data: skipped
	FNR == 1 { split(rodata, rr, "[ +]"); rend = hex(rr[2]) + hex(rr[3]); split(data, dd, " "); dstart = hex(dd[1]) }
	/^I / { if (!based) { split($2, a, ","); if (hex(a[1]) == base + hex(main)) based = 1 } next }
	/^ [LSM] / { split($2, a, ","); at = hex(a[1]) - base
		if (at < min || at >= max || (at >= rend && at < dstart)) next
		for (i = 1; i <= n; i++) if (at >= lo[i] && at < hi[i]) { seen[name[i]] = 1; break } }
	BEGIN { base = 1081344 }
	END { if (!based) { print "hot-functions: the binary is not at 0x108000 under valgrind" > "/dev/stderr"; exit 1 }
		for (v in seen) print v }' "$work/data" "$work/mem"
}
{
	touched "$BIN" age -r "$(cat keys/demo-age-recipient.txt)" -o "$work/small.age" "$work/small"
	touched "$BIN" age -d -i "$key" -o "$work/out" "$work/small.age"
	touched "$BIN" age -d -i "$key" "$work/small.age"
} | sort -u >"$work/touched"
# smallest first (nm's sizes: 16 hex digits), the large arrays of which a
# small run touches the start (read_stamps, the prepared headers' pool) last
awk 'NR == FNR { touched[$1] = 1; next } ($3 in touched) && !seen[$3]++ { print $2, $3 }' \
	"$work/touched" "$work/data" | sort | awk '{ print $2 }' >"$work/variables"
nm "$BIN" | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' >"$work/syms"
# OpenSSL's ChaCha20 and Poly1305, linked in for large files as one object
# (Makefile, LINKED_CHACHA), never run for a small one: a name they share
# with a function that does (libsodium's static poly1305_blocks) would move
# their 30 KiB of code in among the hot functions
linked=$(dirname "$BIN")/obj/openssl-chacha.o
if [ -f "$linked" ]; then nm "$linked" | awk '$2 ~ /^[tT]$/ { print $3 }' >"$work/skip"; else : >"$work/skip"; fi
{
	# start-up first, then main's own
	printf '%s\n' _start main
	while read -r name; do
		case $name in
		0x*) awk -v a="$(printf '%016x' "$name")" '$1 == a { print $2 }' "$work/syms" ;;
		_start | main) ;;
		*[!A-Za-z0-9_.]*) ;;
		*) grep -qxF "$name" "$work/skip" || echo "$name" ;;
		esac
	done <"$work/names" | sort -u
	cat "$work/variables"
} >scripts/hot-functions.txt
echo "hot-functions: $(wc -l <"$work/names") functions and $(wc -l <"$work/variables") variables in scripts/hot-functions.txt"
