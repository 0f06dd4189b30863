#!/usr/bin/env bash
# Post-quantum age recipients (mlkem768x25519), side by side in one run:
# 1. keygen, encapsulate and decapsulate per second, gitseal (C, bench/pq_kem.c
#    on build/libgitseal.a) vs npm age-encryption (bench/pq_kem.mjs);
# 2. git add and checkout of N small secret files (default 1000) through the
#    gitseal filter with a hybrid recipient vs the same with an X25519 one.
# usage: bench/pq_bench.sh [GITSEAL_BIN] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(readlink -f "${1:-build/gitseal}")
N=${2:-1000}
SECONDS_PER_OP=${PQ_BENCH_SECONDS:-2}
LIB="$(dirname "$BIN")/libgitseal.a"
[ -f "$LIB" ] || { echo "pq_bench: $LIB not found (make all first)" >&2; exit 1; }
export NODE_PATH="$PWD/node_modules"
# git runs the filter as `gitseal` from PATH
export PATH="$(dirname "$BIN"):$PATH"

T=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$T"' EXIT
chmod 700 "$T"

cc -O2 -D_GNU_SOURCE -Iinclude -o "$T/pq_kem" bench/pq_kem.c "$LIB" \
	$(pkg-config --libs libsodium yaml-0.1) -lpthread -ldl
"$T/pq_kem" "$SECONDS_PER_OP" >"$T/c.txt"
node bench/pq_kem.mjs "$SECONDS_PER_OP" >"$T/js.txt"
echo "hybrid KEM operations per second (${SECONDS_PER_OP}s each, same run)"
printf '  %-20s %12s %12s %9s\n' operation gitseal age-encryption speed-up
for op in keygen encapsulate decapsulate; do
	g=$(awk -v op=$op '$1 == op {print $2}' "$T/c.txt")
	j=$(awk -v op=$op '$1 == op {print $2}' "$T/js.txt")
	printf '  %-20s %12s %12s %8.1fx\n' "$op" "$g" "$j" "$(echo "$g / $j" | bc -l)"
done
g=$(awk '$1 == "decapsulate+expand" {print $2}' "$T/c.txt")
j=$(awk '$1 == "decapsulate" {print $2}' "$T/js.txt")
printf '  %-20s %12s %12s %8.1fx\n' "decapsulate+expand" "$g" "$j" "$(echo "$g / $j" | bc -l)"
echo "  (gitseal expands an identity's seed once when it loads it; age-encryption"
echo "   expands it in every decapsulation: decapsulate+expand is the like-for-like row)"

# --- git checkout: hybrid vs X25519 recipient -------------------------------
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" GIT_CONFIG_NOSYSTEM=1
unset SOPS_AGE_KEY SOPS_AGE_KEY_CMD SOPS_AGE_KEY_FILE
mkdir -p "$HOME"
git config --global user.name bench
git config --global user.email bench@example.invalid
git config --global init.defaultBranch main

now() { date +%s.%N; }
ROUNDS=${PQ_BENCH_ROUNDS:-3}

# setup KEYGEN_FLAGS: a repository with N secret files committed through
# the filter, for an X25519 ("") or a hybrid ("-pq") recipient; sets ADD
repo_setup() {
	local dir="$T/repo$1" t0 t1
	"$BIN" keygen $1 -o "$T/key$1.txt" 2>/dev/null
	export SOPS_AGE_KEY_FILE="$T/key$1.txt"
	git init -q "$dir"
	cd "$dir"
	printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: %s\n' "$("$BIN" keygen -y "$T/key$1.txt")" >.sops.yaml
	"$BIN" git init 'secrets/**' 2>/dev/null
	git add -A && git commit -qm setup
	mkdir secrets
	for i in $(seq 1 "$N"); do
		printf 'user: svc%d\npassword: p4ss-%d-%s\nport: %d\n' "$i" "$i" "$RANDOM$RANDOM" $((1000 + i)) \
			>"secrets/s$i.yaml"
	done
	t0=$(now); git add -A; t1=$(now)
	ADD=$(echo "$t1 - $t0" | bc)
	git commit -qm files
	cd - >/dev/null
}

# checkout KEYGEN_FLAGS: prints "WALL CPU" seconds of one checkout of every
# file, CPU being user + system time of git and the filter process
checkout() {
	local dir="$T/repo$1"
	export SOPS_AGE_KEY_FILE="$T/key$1.txt"
	cd "$dir"
	rm -rf secrets
	/usr/bin/time -f "%e %U %S" -o "$T/time" git checkout -q -- secrets
	grep -q 'password: p4ss-7-' secrets/s7.yaml || { echo "pq_bench: checkout is not plaintext" >&2; exit 1; }
	[ -z "$(git status --porcelain)" ] || { echo "pq_bench: status not clean" >&2; exit 1; }
	cd - >/dev/null
	awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$T/time"
}

min() { printf '%s\n' "$@" | sort -g | head -1; }

repo_setup ""
X_ADD=$ADD
repo_setup "-pq"
PQ_ADD=$ADD
grep -q 'recipient: age1pq1' <(git -C "$T/repo-pq" cat-file -p HEAD:secrets/s1.yaml) ||
	{ echo "pq_bench: the hybrid repository's blobs are not for age1pq1" >&2; exit 1; }
# alternate the two so that load from elsewhere falls on both; keep the best
xw=() xc=() pw=() pc=()
for _ in $(seq 1 "$ROUNDS"); do
	read -r w c < <(checkout "")
	xw+=("$w") xc+=("$c")
	read -r w c < <(checkout "-pq")
	pw+=("$w") pc+=("$c")
done
X_CO=$(min "${xw[@]}") PQ_CO=$(min "${pw[@]}") X_CPU=$(min "${xc[@]}") PQ_CPU=$(min "${pc[@]}")

echo "git filter, $N files, same run (checkout: best of $ROUNDS, alternating)"
printf '  %-14s %9s %9s %12s\n' "" X25519 hybrid "hybrid/X25519"
printf '  %-14s %8.2fs %8.2fs %11.2fx\n' "git add" "$X_ADD" "$PQ_ADD" "$(echo "$PQ_ADD / $X_ADD" | bc -l)"
printf '  %-14s %8.2fs %8.2fs %11.2fx  (target: at most 2x)\n' "git checkout" "$X_CO" "$PQ_CO" \
	"$(echo "$PQ_CO / $X_CO" | bc -l)"
printf '  %-14s %8.2fs %8.2fs %11.2fx  (user + system, git and filter)\n' "checkout CPU" "$X_CPU" "$PQ_CPU" \
	"$(echo "$PQ_CPU / $X_CPU" | bc -l)"
