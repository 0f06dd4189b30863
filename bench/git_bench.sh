#!/usr/bin/env bash
# git add -A and checkout of N small secret files (default 10,000) through
# the gitseal filter, through git-crypt, and through plain git with no
# filter, in the same run. git-crypt starts one process per file, so its
# cost per file is the same at any count: it runs on N/PEER_DIV files
# (default 10) and its time is scaled to N, to keep this bench short.
# usage: bench/git_bench.sh [GITSEAL_BIN] [N]   (PEER_DIV=1 runs git-crypt on all N)
set -euo pipefail
BIN=$(readlink -f "${1:-build/gitseal}")
N=${2:-10000}
PEER_DIV=${PEER_DIV:-10}
PEER_N=$(( (N + PEER_DIV - 1) / PEER_DIV ))
command -v git-crypt >/dev/null || { echo "git_bench: git-crypt is not installed" >&2; exit 1; }
command -v age-keygen >/dev/null || { echo "git_bench: age-keygen is not installed" >&2; exit 1; }

# tmpfs when there is one: on a busy ext4 disk, inode allocation for the
# loose objects (find_inode_bit, recently_deleted) swamps what is measured
T=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$T"' EXIT
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" GIT_CONFIG_NOSYSTEM=1
# git runs the filter as `gitseal` from PATH
export PATH="$(dirname "$BIN"):$PATH"
unset SOPS_AGE_KEY SOPS_AGE_KEY_CMD
mkdir -p "$HOME"
git config --global user.name bench
git config --global user.email bench@example.invalid
git config --global init.defaultBranch main
git config --global gc.auto 0
age-keygen -o "$T/key.txt" 2>/dev/null
export SOPS_AGE_KEY_FILE="$T/key.txt"

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }

make_files() {
	mkdir -p secrets
	for i in $(seq 1 "$1"); do
		printf 'user: svc%d\npassword: p4ss-%d-%s\nport: %d\n' "$i" "$i" "$RANDOM$RANDOM" $((1000 + i)) \
			> "secrets/s$i.yaml"
	done
}

# $1 = repo dir, $2 = files; sets ADD and CHECKOUT (seconds)
measure() {
	local t0 t1
	cd "$1"
	make_files "$2"
	t0=$(now); git add -A; t1=$(now)
	ADD=$(elapsed "$t0" "$t1")
	git commit -qm files --no-verify
	rm -rf secrets
	t0=$(now); git checkout -q -- secrets; t1=$(now)
	CHECKOUT=$(elapsed "$t0" "$t1")
	grep -q 'password: p4ss-7-' secrets/s7.yaml || { echo "git_bench: $1: checkout is not plaintext" >&2; exit 1; }
	[ -z "$(git status --porcelain)" ] || { echo "git_bench: $1: status not clean" >&2; exit 1; }
}

git init -q "$T/gitseal"
cd "$T/gitseal"
printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: %s\n' "$(age-keygen -y "$T/key.txt")" > .sops.yaml
"$BIN" git init --no-hook 'secrets/**' 2>/dev/null
git add -A && git commit -qm setup
measure "$T/gitseal" "$N"
GS_ADD=$ADD GS_CO=$CHECKOUT
# a first checkout in a fresh clone: every data key unwrapped with the identity
git clone -q --no-checkout "$T/gitseal" "$T/clone"
cd "$T/clone"
"$BIN" git init --no-hook 2>/dev/null
t0=$(now); git checkout -q main; t1=$(now)
GS_CLONE=$(elapsed "$t0" "$t1")
grep -q 'password: p4ss-7-' secrets/s7.yaml || { echo "git_bench: clone: checkout is not plaintext" >&2; exit 1; }

git init -q "$T/gitcrypt"
cd "$T/gitcrypt"
git-crypt init >/dev/null
printf 'secrets/** filter=git-crypt diff=git-crypt\n' > .gitattributes
git add -A && git commit -qm setup
measure "$T/gitcrypt" "$PEER_N"
GC_ADD=$(echo "$ADD * $N / $PEER_N" | bc -l) GC_CO=$(echo "$CHECKOUT * $N / $PEER_N" | bc -l)

# The floor: git itself with no filter on the same files.
git init -q "$T/plain"
cd "$T/plain"
git commit -q --allow-empty -m setup
measure "$T/plain" "$N"
PL_ADD=$ADD PL_CO=$CHECKOUT
git clone -q --no-checkout "$T/plain" "$T/plain-clone"
cd "$T/plain-clone"
t0=$(now); git checkout -q main; t1=$(now)
PL_CLONE=$(elapsed "$t0" "$t1")

ratio() { echo "$1 / $2" | bc -l; }
printf '%-22s %9s %10s %9s %12s %10s\n' "$N files" gitseal git-crypt "no filter" "x no filter" "vs git-crypt"
for op in add checkout clone; do
	case $op in
	add) gs=$GS_ADD gc=$GC_ADD pl=$PL_ADD label="git add -A" ;;
	checkout) gs=$GS_CO gc=$GC_CO pl=$PL_CO label="git checkout" ;;
	clone) gs=$GS_CLONE gc=$GC_CO pl=$PL_CLONE label="first checkout, clone" ;;
	esac
	printf '%-22s %8.2fs %9.2fs %8.2fs %11.2fx %9.1fx\n' "$label" "$gs" "$gc" "$pl" \
		"$(ratio "$gs" "$pl")" "$(ratio "$gc" "$gs")"
done
echo "(git-crypt timed on $PEER_N files and scaled to $N; x no filter = gitseal / plain git, target <= 2;"
echo " vs git-crypt = git-crypt / gitseal, target >= 20)"
