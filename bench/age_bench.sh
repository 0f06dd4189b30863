#!/usr/bin/env bash
# gitseal age against the machine's ChaCha20-Poly1305 speed (openssl speed)
# and against Go age (Debian's age), in one run: throughput on a large file
# (default 256 MiB) kept on tmpfs, peak memory, and a 100-byte file.
# Each round also times the I/O alone (dd, the same reads and writes with
# no cipher, of either direction's input): with the cipher at the limit it
# gives the best wall time two cores can reach, the ceiling for any
# implementation on this machine; and
# two openssl speed at once, what each core keeps of its speed while the
# other works too (a VM's cores can slow each other down).
#
# The machine may be shared: each round runs openssl speed and every
# command once, in turn, so each round's ratios compare runs made under
# the same load; the report gives the median over rounds and the range.
#
# More than one binary (a change and the binary before it, say) are all
# timed in each round, in an order that rotates from round to round, and
# each is reported against the limit, age, and the first one.
# usage: bench/age_bench.sh [GITSEAL_BIN...]   (AGE_BENCH_MIB, AGE_BENCH_ROUNDS)
set -euo pipefail
export LC_ALL=C
[ $# -gt 0 ] || set -- build/gitseal
[ $# -le 3 ] || { echo "age_bench: at most 3 binaries" >&2; exit 1; }
labels=("$@")
bins=()
for b in "$@"; do bins+=("$(realpath "$b")"); done
n=${#bins[@]}
SIZE_MIB=${AGE_BENCH_MIB:-256}
ROUNDS=${AGE_BENCH_ROUNDS:-7}
for tool in age age-keygen openssl node cc dd; do
	command -v "$tool" >/dev/null || { echo "age_bench: $tool is not installed" >&2; exit 1; }
done

# tmpfs keeps the disk out of what is measured
if work=$(mktemp -d -p /dev/shm 2>/dev/null); then
	where="tmpfs (/dev/shm)"
else
	work=$(mktemp -d)
	where="$(df --output=fstype "$work" | tail -1) (no /dev/shm: disk speed is part of it)"
fi
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
age-keygen -o "$work/key" 2>/dev/null
rcpt=$(age-keygen -y "$work/key")
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$work/plain.0"
age -r "$rcpt" -o "$work/ref.age.0" "$work/plain.0"
# Reading a tmpfs file costs the kernel more the less its pages follow
# each other in physical memory (this VM's page walks: 256 MiB in
# ascending order read for 24 ms of CPU, in descending order 45), and
# that order comes from how the file was written: head's 8 KiB writes
# left plain more scattered than age's 64 KiB ones left ref.age, in each
# of 4 tries, and encryption paid 5-10 ms more for its input than decryption
# did (docs/development.md, "The age payload"). Rewritten side by side, 256
# KiB of each in turn, both inputs have the same layout.
node -e '
const fs = require("fs");
const [a, b] = process.argv.slice(1).map((f) => [fs.openSync(f, "r"), fs.openSync(f.slice(0, -2), "w")]);
const buf = Buffer.alloc(256 * 1024);
for (let more = true; more; ) {
	more = false;
	for (const [r, w] of [a, b]) {
		const got = fs.readSync(r, buf, 0, buf.length, null);
		if (got > 0) {
			fs.writeSync(w, buf, 0, got);
			more = true;
		}
	}
}
' "$work/plain.0" "$work/ref.age.0"
rm -f "$work/plain.0" "$work/ref.age.0"

# The CPU time (user + system) of a shell's children, in ms, from what its
# builtin times wrote to file $1 (run in that shell: a command
# substitution's subshell has other children).
cpu_ms_of() {
	tail -1 "$1" | awk '{ split($0, f, /[ms]+/); printf "%d\n", (f[1] * 60 + f[2] + f[3] * 60 + f[4]) * 1000 + 0.5 }'
}

# Memory the guest freed a few seconds ago may have gone back to the host
# (a VM's free page reporting: virtio-balloon's REPORTING feature), and
# touching it again costs a fault in the host, 5-6 us a page: writing a
# new 256 MiB file then took 0.4 s instead of 0.07 s, for dd, age and
# gitseal alike, by when the run fell. Writing and removing a file twice
# the size just before each timed run gives every command recently freed,
# still mapped pages to write into.
fresh_pages() {
	head -c $((2 * SIZE_MIB))M /dev/zero >"$work/fresh"
	rm -f "$work/fresh"
}

# Microseconds of wall-clock time and milliseconds of CPU time for one run;
# the output is removed before and after, so each run creates its file as
# in real use.
measure() {
	local out=$1 t0 t1 c0 c1
	shift
	rm -f "$out"
	fresh_pages
	times >"$work/times"
	c0=$(cpu_ms_of "$work/times")
	t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 || { echo "age_bench: failed: $*" >&2; exit 1; }
	t1=$EPOCHREALTIME
	times >"$work/times"
	c1=$(cpu_ms_of "$work/times")
	rm -f "$out"
	echo $((${t1/./} - ${t0/./})) $((c1 - c0))
}

# bytes per second of openssl speed on 64 KiB blocks (its "k" is 1000 B/s)
openssl_speed() {
	openssl speed -evp chacha20-poly1305 -bytes 65536 -seconds 1 "$@" 2>/dev/null |
		awk '/^ChaCha20-Poly1305/ { v = $NF; sub(/k$/, "", v); printf "%.0f\n", v * 1000 }'
}

# The sum of two openssl speed run at once, each by its CPU time (-multi
# reports by the wall clock, which other sessions' load bends).
openssl_pair() {
	local other
	openssl_speed >"$work/pair" &
	other=$(openssl_speed)
	wait
	echo $(($(cat "$work/pair") + other))
}

# what is measured also has to be right
for bin in "${bins[@]}"; do
	"$bin" age -r "$rcpt" -o "$work/check.age" "$work/plain"
	age -d -i "$work/key" "$work/check.age" | cmp - "$work/plain"
	"$bin" age -d -i "$work/key" -o "$work/check.out" "$work/ref.age"
	cmp "$work/check.out" "$work/plain"
	rm -f "$work/check.age" "$work/check.out"
done

# A round's line: the limit, the limit by the wall clock, then wall and CPU
# of each binary's encryption, age's, each binary's decryption, age's, dd
# copying each input (encryption's, then decryption's).
# The binaries run in a rotating order; each line is numbered by its slot
# and sorted back. measure runs in this shell, not in a command
# substitution, as its CPU time is taken from this shell's children.
one_round() {
	local r=$1 k i
	echo "0 $(openssl_speed)"
	echo "1 $(openssl_speed -elapsed)"
	for ((k = 0; k < n; k++)); do
		i=$(((k + r) % n))
		printf "%d " $((2 + i))
		measure "$work/o" "${bins[i]}" age -r "$rcpt" -o "$work/o" "$work/plain"
	done
	printf "%d " $((2 + n))
	measure "$work/o" age -r "$rcpt" -o "$work/o" "$work/plain"
	for ((k = 0; k < n; k++)); do
		i=$(((k + r) % n))
		printf "%d " $((3 + n + i))
		measure "$work/o" "${bins[i]}" age -d -i "$work/key" -o "$work/o" "$work/ref.age"
	done
	printf "%d " $((3 + 2 * n))
	measure "$work/o" age -d -i "$work/key" -o "$work/o" "$work/ref.age"
	printf "%d " $((4 + 2 * n))
	measure "$work/o" dd if="$work/plain" of="$work/o" bs=256K
	printf "%d " $((5 + 2 * n))
	measure "$work/o" dd if="$work/ref.age" of="$work/o" bs=256K
	printf "%d " $((6 + 2 * n))
	openssl_pair
}

load_before=$(cut -d' ' -f1 /proc/loadavg)
: >"$work/rounds"
for ((r = 1; r <= ROUNDS; r++)); do
	one_round "$r" | sort -n | cut -d' ' -f2- | paste -sd' ' >>"$work/rounds"
done
load_after=$(cut -d' ' -f1 /proc/loadavg)

# Peak resident memory (KiB) of one run.
peak() {
	/usr/bin/time -f "%M" -o "$work/rss" "$@" >/dev/null 2>&1
	rm -f "$work/o"
	cat "$work/rss"
}
rss=""
for bin in "${bins[@]}"; do rss="$rss $(peak "$bin" age -r "$rcpt" -o "$work/o" "$work/plain")"; done
rss="$rss $(peak age -r "$rcpt" -o "$work/o" "$work/plain")"
for bin in "${bins[@]}"; do rss="$rss $(peak "$bin" age -d -i "$work/key" -o "$work/o" "$work/ref.age")"; done
rss="$rss $(peak age -d -i "$work/key" -o "$work/o" "$work/ref.age")"

echo "age: $SIZE_MIB MiB on $where; $ROUNDS rounds, each running openssl speed and every command once, in turn"
echo "  load average $load_before at the start, $load_after at the end (2 cores: above 2, others compete)"
node -e '
const fs = require("fs");
const [file, mibArg, rssArg, ...labels] = process.argv.slice(1);
const n = labels.length, bytes = Number(mibArg) * 1048576;
const rounds = fs.readFileSync(file, "utf8").trim().split("\n").map((l) => l.split(" ").map(Number));
const med = (a) => { const s = [...a].sort((x, y) => x - y), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const range = (a, f) => `${f(Math.min(...a))}-${f(Math.max(...a))}`;
const mbs = (v) => (v / 1e6).toFixed(0);
const pct = (v) => (v * 100).toFixed(0) + "%";
const x = (v) => v.toFixed(2) + "x";
const limit = rounds.map((r) => r[0]), loaded = rounds.map((r) => r[1]);
console.log(`  ChaCha20-Poly1305 limit, openssl speed -evp on 64 KiB (CPU time): ${mbs(med(limit))} MB/s (range ${range(limit, mbs)})`);
console.log(`  the same timed by the wall clock, under this run\x27s load (-elapsed): ${mbs(med(loaded))} MB/s (range ${range(loaded, mbs)})`);
const rss = rssArg.trim().split(/ +/).map(Number);
/* the commands in a round line\x27s order (after the two limits): each
 * binary encrypting, age, each binary decrypting, age, dd */
const name = (i) => (n == 1 ? "gitseal" : labels[i]);
const cmds = [...labels.map((l, i) => `${name(i)} encrypt`), "age encrypt", ...labels.map((l, i) => `${name(i)} decrypt`), "age decrypt"];
const enc = (i) => i, ageEnc = n, dec = (i) => n + 1 + i, ageDec = 2 * n + 1, dd = 2 * n + 2, ddDec = 2 * n + 3;
/* each round: limit, loaded limit, (wall us, cpu ms) per command, then
 * two openssl speed at once (their sum) */
const wall = (r, i) => r[2 + 2 * i] / 1e6, cpu = (r, i) => r[3 + 2 * i] / 1e3;
const width = Math.max(17, ...cmds.map((c) => c.length));
console.log(`  ${"".padEnd(width)}   wall time (median, range)    MB/s   CPU time (user+sys)   peak RSS`);
cmds.forEach((c, i) => {
	const t = rounds.map((r) => wall(r, i)), u = rounds.map((r) => cpu(r, i));
	console.log(`  ${c.padEnd(width)} ${med(t).toFixed(3)} s (${range(t, (v) => v.toFixed(3))})  ${mbs(bytes / med(t)).padStart(6)}   ${med(u).toFixed(3)} s (${range(u, (v) => v.toFixed(2))})   ${(rss[i] / 1024).toFixed(1)} MiB`);
});
for (let b = 0; b < n; b++) {
	for (const [op, g, a] of [["encrypt", enc(b), ageEnc], ["decrypt", dec(b), ageDec]]) {
		const frac = rounds.map((r) => bytes / wall(r, g) / r[0]);
		const fracLoaded = rounds.map((r) => bytes / wall(r, g) / r[1]);
		const vsAge = rounds.map((r) => wall(r, a) / wall(r, g));
		console.log(`  ${name(b)} ${op}: ${pct(med(frac))} of the limit (range ${range(frac, pct)}; ${pct(med(fracLoaded))} of the wall-clock one), ${x(med(vsAge))} age (range ${range(vsAge, x)})`);
	}
}
/* the I/O alone (dd) plus the cipher at the limit, spread over 2 cores,
 * each keeping the share of its speed two openssl speed at once kept */
const io = rounds.map((r) => cpu(r, dd)), floor = rounds.map((r) => cpu(r, dd) + bytes / r[0]);
const ceiling = rounds.map((r, i) => (2 * bytes) / floor[i] / r[0]);
const share = rounds.map((r) => r[r.length - 1] / (2 * r[0]));
const shared = rounds.map((r, i) => ceiling[i] * share[i]);
/* each direction against the I/O of its own input: dd copying the
 * ciphertext is its floor for decryption */
const floorDec = rounds.map((r) => cpu(r, ddDec) + bytes / r[0]);
const ioDec = rounds.map((r) => cpu(r, ddDec));
console.log(`  I/O alone (dd, 256 KiB blocks): ${med(io).toFixed(3)} s CPU (range ${range(io, (v) => v.toFixed(2))}); of the ciphertext ${med(ioDec).toFixed(3)} s (range ${range(ioDec, (v) => v.toFixed(2))});`);
console.log(`  the plaintext\x27s plus the cipher at the limit:`);
console.log(`    ${med(floor).toFixed(3)} s CPU, so 2 cores reach at best ${pct(med(ceiling))} of the limit (range ${range(ceiling, pct)})`);
console.log(`  two openssl speed at once: each core keeps ${pct(med(share))} of its speed (range ${range(share, pct)});`);
console.log(`    with that, 2 cores reach at best ${pct(med(shared))} of the limit (range ${range(shared, pct)})`);
for (let b = 0; b < n; b++) {
	for (const [op, g, f] of [["encrypt", enc(b), floor], ["decrypt", dec(b), floorDec]]) {
		const over = rounds.map((r, i) => cpu(r, g) / f[i]);
		console.log(`  ${name(b)} ${op} CPU time: ${x(med(over))} its input\x27s dd + cipher (range ${range(over, x)})`);
	}
}
/* each binary against the first, round by round */
for (let b = 1; b < n; b++) {
	for (const [op, g, f] of [["encrypt", enc(b), enc(0)], ["decrypt", dec(b), dec(0)]]) {
		const w = rounds.map((r) => wall(r, g) / wall(r, f)), c = rounds.map((r) => cpu(r, g) / cpu(r, f));
		console.log(`  ${labels[b]} ${op} / ${labels[0]}: wall ${x(med(w))} (range ${range(w, x)}), CPU ${x(med(c))} (range ${range(c, x)})`);
	}
}
console.log("  (ratios are taken within each round, then the median; targets: >= 65% of the limit, >= 2.5x age, peak RSS < 8 MiB;");
console.log("   CPU time is what a run cost the machine, less sensitive to load than the wall time the targets use)");
' "$work/rounds" "$SIZE_MIB" "$rss" "${labels[@]}"

# The small file: the commands timed in turn (bench/alternate.c), not one
# after the other, so that the load falls on every command alike. An empty
# C program (main returns 0, linked as gitseal is, against glibc) runs
# among them: the start-up that every C command pays on this machine, the
# floor under gitseal's time (docs/development.md, "The small file").
echo "small file (100 bytes), 200 runs of each, in turn; load $(cut -d' ' -f1 /proc/loadavg)"
head -c 100 /dev/urandom >"$work/small"
age -r "$rcpt" -o "$work/small.age" "$work/small"
cc -O2 -o "$work/alternate" "$(dirname "$0")/alternate.c"
echo 'int main(void) { return 0; }' >"$work/empty.c"
cc -O2 -pie -fPIE -Wl,-z,relro,-z,now -o "$work/empty" "$work/empty.c"
small=()
for bin in "${bins[@]}"; do small+=(-- "$bin" age -r "$rcpt" -o "$work/s1.age" "$work/small"); done
small+=(-- age -r "$rcpt" -o "$work/s2.age" "$work/small")
for bin in "${bins[@]}"; do small+=(-- "$bin" age -d -i "$work/key" "$work/small.age"); done
small+=(-- age -d -i "$work/key" "$work/small.age")
small+=(-- "$work/empty")
"$work/alternate" 200 "${small[@]}" >"$work/small.txt"
node -e '
const [file, ...labels] = process.argv.slice(1);
const n = labels.length;
const r = require("fs").readFileSync(file, "utf8").trim().split("\n").map((l) => l.split(" ").map(Number));
/* each line: mean wall, median wall, mean CPU (ms); in the order of the
 * commands above, the empty program last */
const empty = r[2 * n + 2][1];
for (let b = 0; b < n; b++)
	for (const [op, g, a] of [["encrypt", b, n], ["decrypt", n + 1 + b, 2 * n + 1]])
		console.log(`  ${op}: ${n == 1 ? "gitseal" : labels[b]} ${r[g][1].toFixed(2)} ms, age ${r[a][1].toFixed(2)} ms (medians): ${(r[a][1] / r[g][1]).toFixed(1)}x (target >= 3x); CPU ${r[g][2].toFixed(2)} / ${r[a][2].toFixed(2)} ms: ${(r[a][2] / r[g][2]).toFixed(1)}x; ${((r[g][1] - empty) * 1000).toFixed(0)} us above the floor`);
console.log(`  floor: an empty C program ${empty.toFixed(2)} ms (median): 3x age needs ${(r[n][1] / 3).toFixed(2)} ms to encrypt, ${(r[2 * n + 1][1] / 3).toFixed(2)} ms to decrypt`);
' "$work/small.txt" "${labels[@]}"
