#!/usr/bin/env bash
# Writes scripts/hot-functions.txt: the functions a 100-byte `gitseal age -e`
# and `gitseal age -d` (to a file and to standard output) run, found with callgrind, one name a line, first
# the ones every command runs (start-up), then by name. The Makefile hands
# the list to lld (--symbol-ordering-file), which lays those functions out
# next to each other at the start of .text: on this VM every 64 KiB of
# code a process touches costs a page fault (docs/development.md, the
# small file). Run it again after changing the age path's functions.
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
} >scripts/hot-functions.txt
echo "hot-functions: $(wc -l <scripts/hot-functions.txt) functions in scripts/hot-functions.txt"
