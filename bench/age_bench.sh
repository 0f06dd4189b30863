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

# Peak resident memory (KiB) of one run.
peak() {
	/usr/bin/time -f "%M" -o "$work/rss" "$@" >/dev/null 2>&1
	cat "$work/rss"
}

echo "age throughput on $SIZE_MIB MiB (hyperfine, 5 runs each, same run)"
age -r "$rcpt" -o "$work/ref.age" "$work/plain"
hyperfine -N --warmup 1 --runs 5 --export-json "$work/big.json" \
	--prepare "rm -f $work/g.age $work/a.age $work/g.out $work/a.out" \
	"$BIN age -r $rcpt -o $work/g.age $work/plain" \
	"age -r $rcpt -o $work/a.age $work/plain" \
	"$BIN age -d -i $work/key -o $work/g.out $work/ref.age" \
	"age -d -i $work/key -o $work/a.out $work/ref.age" >/dev/null
rm -f "$work/g.age" "$work/a.age" "$work/g.out" "$work/a.out"
rss_ge=$(peak "$BIN" age -r "$rcpt" -o "$work/g.age" "$work/plain")
rss_ae=$(peak age -r "$rcpt" -o "$work/a.age" "$work/plain")
rss_gd=$(peak "$BIN" age -d -i "$work/key" -o "$work/g.out" "$work/ref.age")
rss_ad=$(peak age -d -i "$work/key" -o "$work/a.out" "$work/ref.age")
# what was measured also has to be right
cmp "$work/plain" "$work/g.out"
age -d -i "$work/key" "$work/g.age" | cmp - "$work/plain"
node -e '
const r = require(process.argv[1]).results.map((x) => x.mean);
const mib = Number(process.argv[2]), rss = process.argv.slice(3).map(Number);
const names = ["gitseal age encrypt", "age encrypt", "gitseal age decrypt", "age decrypt"];
r.forEach((t, i) => console.log(`  ${names[i].padEnd(22)} ${t.toFixed(3)} s  ${(mib * 1.048576 / t).toFixed(0).padStart(6)} MB/s  peak ${(rss[i] / 1024).toFixed(1)} MiB`));
console.log(`  encrypt throughput ratio gitseal/age: ${(r[1] / r[0]).toFixed(2)}x`);
console.log(`  decrypt throughput ratio gitseal/age: ${(r[3] / r[2]).toFixed(2)}x`);
' "$work/big.json" "$SIZE_MIB" "$rss_ge" "$rss_ae" "$rss_gd" "$rss_ad"

echo "small file (100 bytes), 200 runs each"
head -c 100 /dev/urandom >"$work/small"
hyperfine -N --warmup 20 --runs 200 --export-json "$work/h.json" \
	--prepare "rm -f $work/s1.age $work/s2.age" \
	"$BIN age -r $rcpt -o $work/s1.age $work/small" \
	"age -r $rcpt -o $work/s2.age $work/small" >/dev/null
node -e '
const r = require(process.argv[1]).results;
const g = r[0].mean * 1000, a = r[1].mean * 1000;
console.log(`  gitseal age encrypt  ${g.toFixed(3)} ms`);
console.log(`  age encrypt          ${a.toFixed(3)} ms`);
console.log(`  small-file encrypt speed-up gitseal/age: ${(a / g).toFixed(1)}x`);
' "$work/h.json"
