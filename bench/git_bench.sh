#!/usr/bin/env bash
# git add and checkout of N small secret files (default 1000) through the
# gitseal filter and through git-crypt, in the same run.
# usage: bench/git_bench.sh [GITSEAL_BIN] [N]
set -euo pipefail
BIN=$(readlink -f "${1:-build/gitseal}")
N=${2:-1000}
command -v git-crypt >/dev/null || { echo "git_bench: git-crypt is not installed" >&2; exit 1; }
command -v age-keygen >/dev/null || { echo "git_bench: age-keygen is not installed" >&2; exit 1; }

# tmpfs when there is one: on a busy ext4 disk, inode allocation for the
# loose objects (find_inode_bit, recently_deleted) swamps what is measured
T=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$T"' EXIT
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" GIT_CONFIG_NOSYSTEM=1
unset SOPS_AGE_KEY SOPS_AGE_KEY_CMD
mkdir -p "$HOME"
git config --global user.name bench
git config --global user.email bench@example.invalid
git config --global init.defaultBranch main
age-keygen -o "$T/key.txt" 2>/dev/null
export SOPS_AGE_KEY_FILE="$T/key.txt"

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }

make_files() {
	mkdir -p secrets
	for i in $(seq 1 "$N"); do
		printf 'user: svc%d\npassword: p4ss-%d-%s\nport: %d\n' "$i" "$i" "$RANDOM$RANDOM" $((1000 + i)) \
			> "secrets/s$i.yaml"
	done
}

# $1 = repo dir; sets ADD and CHECKOUT (seconds)
measure() {
	local t0 t1
	cd "$1"
	make_files
	t0=$(now); git add -A; t1=$(now)
	ADD=$(elapsed "$t0" "$t1")
	git commit -qm files
	rm -rf secrets
	t0=$(now); git checkout -q -- secrets; t1=$(now)
	CHECKOUT=$(elapsed "$t0" "$t1")
	grep -q 'password: p4ss-7-' secrets/s7.yaml || { echo "git_bench: $1: checkout is not plaintext" >&2; exit 1; }
	[ -z "$(git status --porcelain)" ] || { echo "git_bench: $1: status not clean" >&2; exit 1; }
}

git init -q "$T/gitseal"
cd "$T/gitseal"
printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: %s\n' "$(age-keygen -y "$T/key.txt")" > .sops.yaml
"$BIN" git init 'secrets/**' 2>/dev/null
git add -A && git commit -qm setup
measure "$T/gitseal"
GS_ADD=$ADD GS_CO=$CHECKOUT

git init -q "$T/gitcrypt"
cd "$T/gitcrypt"
git-crypt init >/dev/null
printf 'secrets/** filter=git-crypt diff=git-crypt\n' > .gitattributes
git add -A && git commit -qm setup
measure "$T/gitcrypt"
GC_ADD=$ADD GC_CO=$CHECKOUT

# The floor: git itself with no filter on the same files.
git init -q "$T/plain"
cd "$T/plain"
git commit -q --allow-empty -m setup
measure "$T/plain"
PL_ADD=$ADD PL_CO=$CHECKOUT

ratio() { echo "$1 / $2" | bc -l; }
printf '%-14s %9s %9s %9s %10s %13s\n' "$N files" gitseal git-crypt "no filter" "speed-up" "filter cost"
for op in add checkout; do
	if [ $op = add ]; then gs=$GS_ADD gc=$GC_ADD pl=$PL_ADD; else gs=$GS_CO gc=$GC_CO pl=$PL_CO; fi
	printf '%-14s %8.2fs %8.2fs %8.2fs %9.1fx %9.0f us/file\n' "git $op" "$gs" "$gc" "$pl" \
		"$(ratio "$gc" "$gs")" "$(echo "($gs - $pl) * 1000000 / $N" | bc -l)"
done
echo "(speed-up = git-crypt time / gitseal time; filter cost = gitseal time over plain git, per file)"
