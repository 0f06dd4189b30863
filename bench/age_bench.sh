#!/usr/bin/env bash
# gitseal age vs age (Debian) on the same 256 MiB file and on a small file:
# throughput, ratio, and peak memory (GNU time's maximum resident set).
set -euo pipefail
BIN=$(realpath "$1")
SIZE_MIB=${AGE_BENCH_MIB:-256}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
age-keygen -o "$work/key" 2>/dev/null
rcpt=$(age-keygen -y "$work/key")
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$work/plain"

# run LABEL CMD...: best of 3 wall-clock seconds and the peak RSS in KiB
measure() {
	local best="" rss=0 t r
	for _ in 1 2 3; do
		/usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1
		read -r t r <"$work/time"
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
		[ "$r" -gt "$rss" ] && rss=$r
	done
	echo "$best $rss"
}

row() { # name seconds rss
	awk -v n="$1" -v s="$2" -v r="$3" -v m="$SIZE_MIB" \
		'BEGIN { printf "  %-28s %7.3f s  %8.1f MB/s  peak %6.1f MiB\n", n, s, (s > 0 ? m * 1.048576 / s : 0), r / 1024 }'
}

echo "age throughput on $SIZE_MIB MiB (best of 3)"
read -r ge gr < <(measure "$BIN" age -r "$rcpt" -o "$work/g.age" "$work/plain")
read -r ae ar < <(measure age -r "$rcpt" -o "$work/a.age" "$work/plain")
read -r gd gdr < <(measure "$BIN" age -d -i "$work/key" -o "$work/g.out" "$work/a.age")
read -r ad adr < <(measure age -d -i "$work/key" -o "$work/a.out" "$work/g.age")
cmp "$work/plain" "$work/g.out" && cmp "$work/plain" "$work/a.out"
row "gitseal age encrypt" "$ge" "$gr"
row "age encrypt" "$ae" "$ar"
row "gitseal age decrypt" "$gd" "$gdr"
row "age decrypt" "$ad" "$adr"
awk -v g="$ge" -v a="$ae" 'BEGIN { printf "  encrypt throughput ratio gitseal/age: %.2fx\n", a / g }'
awk -v g="$gd" -v a="$ad" 'BEGIN { printf "  decrypt throughput ratio gitseal/age: %.2fx\n", a / g }'

echo "small file (100 bytes), 200 runs each"
head -c 100 /dev/urandom >"$work/small"
hyperfine -N --warmup 20 --runs 200 --export-json "$work/h.json" \
	"$BIN age -r $rcpt -o $work/s1.age $work/small" \
	"age -r $rcpt -o $work/s2.age $work/small" >/dev/null
node -e '
const r = require(process.argv[1]).results;
const g = r[0].mean * 1000, a = r[1].mean * 1000;
console.log(`  gitseal age encrypt  ${g.toFixed(3)} ms`);
console.log(`  age encrypt          ${a.toFixed(3)} ms`);
console.log(`  small-file encrypt speed-up gitseal/age: ${(a / g).toFixed(1)}x`);
' "$work/h.json"
