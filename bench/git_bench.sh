#!/usr/bin/env bash
# git add -A and checkout of N small secret files (default 10,000) through
# the gitseal filter, through git-crypt, and through plain git with no
# filter, in the same run; and through a process filter that does nothing
# (bench/noop_filter.c: git's long-running filter protocol, every file
# handed back as it came), the floor of any process filter: what git
# itself spends on one (the pipe, a request and an answer per file).
# gitseal, the no-op filter and plain git run in alternating rounds
# (GIT_BENCH_ROUNDS, default 3) and the best time of each is kept: on a
# shared machine the best round is the one least disturbed. git-crypt starts
# one process per file, so its cost per file is the same at any count: it
# runs once on N/PEER_DIV files (default 10) and its time is scaled to N.
# GIT_BENCH_BASE=OTHER_BIN adds a second gitseal (an earlier build) to the
# same alternating rounds and prints gitseal / base for each operation: the
# way to tell a regression from a change in the machine's load.
# GIT_BENCH_PEER=0 skips git-crypt. GIT_BENCH_FLOOR=1 adds two variants of
# the no-op filter to the rounds: one that polls git's pipe inside a
# request, yielding its CPU between polls (--spin-within=30 --yield, as
# gitseal's filter does) and one that also answers every smudge "delayed"
# (--delay, as gitseal does in a checkout), and prints what each costs
# beside plain git (docs/development.md).
# GIT_BENCH_STREAM=RUNS times the filter alone, without git: every file's
# smudge request, recorded from a repository's index (no delay capability:
# each file is smudged on the main thread as it comes), fed to gitseal (and
# the base) RUNS times in turn (bench/alternate.c). Its CPU time is the
# filter's own, free of git's round trips, which a loaded machine makes
# long: what a change to the smudge costs shows there first.
# GIT_BENCH_UPDATEKEYS=N (default 2,000; 0 skips it): once, after the
# rounds, `gitseal updatekeys -r -y .` of N committed files once .sops.yaml
# names a second recipient (each file re-sealed, proven and staged; the
# index written once), beside the `git add -A` that sealed them and plain
# git's add of the same files; the base's too under GIT_BENCH_BASE.
# usage: bench/git_bench.sh [GITSEAL_BIN] [N]   (PEER_DIV=1 runs git-crypt on all N)
set -euo pipefail
BIN=$(readlink -f "${1:-build/gitseal}")
BASE=${GIT_BENCH_BASE:+$(readlink -f "$GIT_BENCH_BASE")}
PEER=${GIT_BENCH_PEER:-1}
FLOOR=${GIT_BENCH_FLOOR:-0}
N=${2:-10000}
ROUNDS=${GIT_BENCH_ROUNDS:-3}
PEER_DIV=${PEER_DIV:-10}
PEER_N=$(( (N + PEER_DIV - 1) / PEER_DIV ))
UPD_N=${GIT_BENCH_UPDATEKEYS:-2000}
[ "$PEER" = 0 ] || command -v git-crypt >/dev/null || { echo "git_bench: git-crypt is not installed" >&2; exit 1; }
command -v age-keygen >/dev/null || { echo "git_bench: age-keygen is not installed" >&2; exit 1; }

# tmpfs when there is one: on a busy ext4 disk, inode allocation for the
# loose objects (find_inode_bit, recently_deleted) swamps what is measured
T=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$T"' EXIT
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" GIT_CONFIG_NOSYSTEM=1
# git runs the filter as `gitseal` from PATH: a directory of our own, first
# on PATH, names the binary under test whatever its file is called (another
# gitseal on PATH, or a BIN not named gitseal, would be measured instead)
mkdir -p "$T/bin" "$T/bin-base"
ln -s "$BIN" "$T/bin/gitseal"
[ -z "$BASE" ] || ln -s "$BASE" "$T/bin-base/gitseal"
OUTER_PATH=$PATH
export PATH="$T/bin:$OUTER_PATH"
[ "$(command -v gitseal)" = "$T/bin/gitseal" ] || { echo "git_bench: gitseal on PATH is not $BIN" >&2; exit 1; }
unset SOPS_AGE_KEY SOPS_AGE_KEY_CMD
mkdir -p "$HOME"
git config --global user.name bench
git config --global user.email bench@example.invalid
git config --global init.defaultBranch main
git config --global gc.auto 0
age-keygen -o "$T/key.txt" 2>/dev/null
export SOPS_AGE_KEY_FILE="$T/key.txt"
cc -O2 -o "$T/bin/noop_filter" "$(dirname "$0")/noop_filter.c"
[ "${GIT_BENCH_STREAM:-0}" = 0 ] || cc -O2 -o "$T/bin/alternate" "$(dirname "$0")/alternate.c"
# only a repository whose attributes name it runs it
git config --global filter.noop.process "$T/bin/noop_filter"
git config --global filter.noop.required true
git config --global filter.nooppoll.process "$T/bin/noop_filter --spin-within=30 --yield"
git config --global filter.nooppoll.required true
git config --global filter.noopdelay.process "$T/bin/noop_filter --delay --spin-within=30 --yield"
git config --global filter.noopdelay.required true

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }
min() { echo "if ($1 < $2) $1 else $2" | bc; }
ratio() { echo "if ($2 == 0) 0 else $1 / $2" | bc -l; }

# the files, made once and copied into each repository
make_files() {
	mkdir -p "$1"
	for i in $(seq 1 "$2"); do
		printf 'user: svc%d\npassword: p4ss-%d-%s\nport: %d\n' "$i" "$i" "$RANDOM$RANDOM" $((1000 + i)) \
			> "$1/s$i.yaml"
	done
}
make_files "$T/files" "$N"
make_files "$T/peer-files" "$PEER_N"

# timed VAR CMD...: runs CMD; VAR = its wall clock seconds, VAR_CPU = the
# user + system seconds of git and its children (the filter): CPU time
# depends less on the machine's load than the wall clock does
timed() {
	local t0 t1 var=$1
	shift
	t0=$(now)
	/usr/bin/time -f '%U %S' -o "$T/cpu" "$@"
	t1=$(now)
	printf -v "$var" '%s' "$(elapsed "$t0" "$t1")"
	printf -v "${var}_CPU" '%s' "$(awk '{ print $1 + $2 }' "$T/cpu")"
}

# $1 = repo dir, $2 = files dir; sets ADD, CHECKOUT and CLONE (seconds,
# and *_CPU): git add -A, a checkout of the removed files, a fresh clone's
# first checkout; and TEAM: git add -A of every file edited in a teammate's
# clone (another HOME: its own key cache; none of its data keys made there,
# so each file is checked for a copied key, src/git/holders.c)
measure() {
	cd "$1"
	cp -r "$2" secrets
	timed ADD git add -A
	git commit -qm files --no-verify
	rm -rf secrets
	timed CHECKOUT git checkout -q -- secrets
	grep -q 'password: p4ss-7-' secrets/s7.yaml || { echo "git_bench: $1: checkout is not plaintext" >&2; exit 1; }
	[ -z "$(git status --porcelain)" ] || { echo "git_bench: $1: status not clean" >&2; exit 1; }
	git clone -q --no-checkout "$1" "$1-clone"
	cd "$1-clone"
	if [ -e "$1/.sops.yaml" ]; then gitseal git init --no-hook 2>/dev/null; fi
	timed CLONE git checkout -q main
	grep -q 'password: p4ss-7-' secrets/s7.yaml || { echo "git_bench: $1: clone is not plaintext" >&2; exit 1; }
	git clone -q --no-checkout "$1" "$1-mate"
	cd "$1-mate"
	(
		export HOME="$T/mate" XDG_CONFIG_HOME="$T/mate/.config"
		rm -rf "$HOME"
		mkdir -p "$HOME"
		cp "$T/home/.gitconfig" "$HOME/"
		if [ -e "$1/.sops.yaml" ]; then gitseal git init --no-hook 2>/dev/null; fi
		git checkout -q main
		for f in secrets/*.yaml; do printf 'edited: 1\n' >>"$f"; done
		timed TEAM git add -A
		[ "$(git diff --cached --name-only | wc -l)" = "$N" ] || { echo "git_bench: $1: the teammate's add missed files" >&2; exit 1; }
		printf '%s %s\n' "$TEAM" "$TEAM_CPU" >"$T/team"
	)
	read -r TEAM TEAM_CPU <"$T/team"
	cd "$1"
	rm -rf "$1-mate"
}

gitseal_repo() {
	git init -q "$1"
	cd "$1"
	printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: %s\n' "$(age-keygen -y "$T/key.txt")" > .sops.yaml
	gitseal git init --no-hook 'secrets/**' 2>/dev/null
	git add -A && git commit -qm setup
}

# the bench shares the machine: its load says how far to trust the numbers
load() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_BEFORE=$(load)

# best_of PREFIX: keeps the better of PREFIX_* and the round just measured
best_of() {
	local v
	for v in ADD CHECKOUT CLONE TEAM ADD_CPU CHECKOUT_CPU CLONE_CPU TEAM_CPU; do
		local best="${1}_$v" now="$v"
		printf -v "$best" '%s' "$(min "${!best:-999999}" "${!now}")"
	done
}

# noop_repo DIR [FILTER]: the no-op filter, or one of its variants
noop_repo() {
	git init -q "$1"
	cd "$1"
	printf 'secrets/** filter=%s\n' "${2:-noop}" > .gitattributes
	git add -A && git commit -qm setup
}

for r in $(seq 1 "$ROUNDS"); do
	gitseal_repo "$T/gitseal$r"
	measure "$T/gitseal$r" "$T/files"
	best_of GS
	if [ -n "$BASE" ]; then
		# the earlier build: the gitseal git finds on PATH for this side only
		PATH="$T/bin-base:$OUTER_PATH"
		gitseal_repo "$T/base$r"
		measure "$T/base$r" "$T/files"
		PATH="$T/bin:$OUTER_PATH"
		best_of BA
	fi
	noop_repo "$T/noop$r"
	measure "$T/noop$r" "$T/files"
	best_of NO
	if [ "$FLOOR" != 0 ]; then
		noop_repo "$T/nooppoll$r" nooppoll
		measure "$T/nooppoll$r" "$T/files"
		best_of NP
		noop_repo "$T/noopdelay$r" noopdelay
		measure "$T/noopdelay$r" "$T/files"
		best_of ND
		rm -rf "$T/nooppoll$r" "$T/nooppoll$r-clone" "$T/noopdelay$r" "$T/noopdelay$r-clone"
	fi
	# the floor: git itself with no filter on the same files
	git init -q "$T/plain$r"
	git -C "$T/plain$r" commit -q --allow-empty -m setup
	measure "$T/plain$r" "$T/files"
	best_of PL
	rm -rf "$T/gitseal$r" "$T/gitseal$r-clone" "$T/base$r" "$T/base$r-clone" "$T/noop$r" "$T/noop$r-clone" "$T/plain$r" "$T/plain$r-clone"
done

# pkt TEXT: one pkt-line (gitprotocol-common(5)) of TEXT's bytes
pkt() { printf '%04x%s' $((${#1} + 4)) "$1"; }

# smudge_stream: what git would send a filter process to smudge every file
# of the index under secrets/, in a repository, with no delay capability
smudge_stream() {
	local id size path
	pkt $'git-filter-client\n'
	pkt $'version=2\n'
	printf 0000
	pkt $'capability=clean\n'
	pkt $'capability=smudge\n'
	printf 0000
	git ls-files -s secrets | while read -r _ id _ path; do
		size=$(git cat-file -s "$id")
		[ "$size" -le 65516 ] || { echo "git_bench: $path is larger than one packet" >&2; exit 1; }
		pkt $'command=smudge\n'
		pkt "pathname=$path"$'\n'
		printf 0000
		[ "$size" = 0 ] || { printf '%04x' $((size + 4)); git cat-file blob "$id"; }
		printf 0000
	done
}

STREAM=${GIT_BENCH_STREAM:-0}
if [ "$STREAM" != 0 ]; then
	gitseal_repo "$T/stream"
	cp -r "$T/files" secrets
	git add -A
	git commit -qm files --no-verify
	LC_ALL=C smudge_stream >"$T/stream.pkt"
	# every file answered, none refused: the stream is what git sends
	ok=$(gitseal git filter-process <"$T/stream.pkt" | grep -ao 'status=[a-z]*' | grep -c '=success$' || true)
	[ "$ok" = "$N" ] || { echo "git_bench: the recorded stream smudged $ok of $N files" >&2; exit 1; }
	cmds=(-- sh -c 'exec "$0" git filter-process <"$1"' "$BIN" "$T/stream.pkt")
	[ -z "$BASE" ] || cmds+=(-- sh -c 'exec "$0" git filter-process <"$1"' "$BASE" "$T/stream.pkt")
	"$T/bin/alternate" "$STREAM" "${cmds[@]}" >"$T/stream.txt"
	read -r _ STREAM_MEDIAN STREAM_CPU < <(sed -n 1p "$T/stream.txt")
	printf 'the filter alone, %d smudges from a recorded stream, %d runs in turn: gitseal CPU %.1f ms (median wall %.1f ms)' \
		"$N" "$STREAM" "$STREAM_CPU" "$STREAM_MEDIAN"
	if [ -n "$BASE" ]; then
		read -r _ BASE_MEDIAN BASE_CPU < <(sed -n 2p "$T/stream.txt")
		printf ', base %.1f ms (%.1f ms): %.3fx' "$BASE_CPU" "$BASE_MEDIAN" "$(ratio "$STREAM_CPU" "$BASE_CPU")"
	fi
	echo
	cd "$T"
	rm -rf "$T/stream"
fi

measure_crypt() {
	local t0 t1
	cp -r "$T/peer-files" secrets
	t0=$(now); git add -A; t1=$(now)
	GC_ADD=$(echo "($t1 - $t0) * $N / $PEER_N" | bc -l)
	git commit -qm files
	rm -rf secrets
	t0=$(now); git checkout -q -- secrets; t1=$(now)
	GC_CO=$(echo "($t1 - $t0) * $N / $PEER_N" | bc -l)
}
GC_ADD=0 GC_CO=0
if [ "$PEER" != 0 ]; then
	git init -q "$T/gitcrypt"
	cd "$T/gitcrypt"
	git-crypt init >/dev/null
	printf 'secrets/** filter=git-crypt diff=git-crypt\n' > .gitattributes
	git add -A && git commit -qm setup
	measure_crypt
fi

# updatekeys_run PREFIX: PREFIX_ADD (gitseal's git add -A of UPD_N files)
# and PREFIX_UPD (updatekeys -r once a recipient is added), with *_CPU
updatekeys_run() {
	local add add_CPU upd upd_CPU
	gitseal_repo "$T/upd-$1"
	cp -r "$T/upd-files" secrets
	timed add git add -A
	git commit -qm files --no-verify
	printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: %s,%s\n' \
		"$(age-keygen -y "$T/key.txt")" "$(age-keygen -y "$T/key2.txt")" > .sops.yaml
	timed upd gitseal updatekeys -r -y . 2>/dev/null
	[ "$(git diff --cached --name-only -- secrets | wc -l)" = "$UPD_N" ] ||
		{ echo "git_bench: updatekeys did not stage every file" >&2; exit 1; }
	printf -v "$1_ADD" '%s' "$add"
	printf -v "$1_ADD_CPU" '%s' "$add_CPU"
	printf -v "$1_UPD" '%s' "$upd"
	printf -v "$1_UPD_CPU" '%s' "$upd_CPU"
	cd "$T"
	rm -rf "$T/upd-$1"
}
if [ "$UPD_N" != 0 ]; then
	make_files "$T/upd-files" "$UPD_N"
	age-keygen -o "$T/key2.txt" 2>/dev/null
	updatekeys_run UG
	if [ -n "$BASE" ]; then
		PATH="$T/bin-base:$OUTER_PATH"
		updatekeys_run UB
		PATH="$T/bin:$OUTER_PATH"
	fi
	git init -q "$T/upd-plain"
	cd "$T/upd-plain"
	git commit -q --allow-empty -m setup
	cp -r "$T/upd-files" secrets
	timed UP_ADD git add -A
	cd "$T"
	rm -rf "$T/upd-plain"
fi

# row LABEL OP: gitseal, the no-op filter, plain git and their ratios
for kind in wall CPU; do
	if [ "$kind" = wall ]; then
		printf '%-24s %8s %9s %9s %9s %8s %8s %8s\n' "$N files, wall" gitseal git-crypt "no-op flt" \
			"no filter" "x no-op" "x plain" "vs g-c"
	else
		printf '%-24s %8s %9s %9s %9s %8s %8s\n' "CPU (user + system)" gitseal "" "no-op flt" \
			"no filter" "x no-op" "x plain"
	fi
	for op in ADD CHECKOUT CLONE TEAM; do
		case $op in
		ADD) label="git add -A" gc=$GC_ADD ;;
		CHECKOUT) label="git checkout" gc=$GC_CO ;;
		CLONE) label="a clone's first checkout" gc=$GC_CO ;;
		TEAM) label="a teammate's add -A" gc=$GC_ADD ;;
		esac
		suffix=$op
		[ "$kind" = CPU ] && suffix=${op}_CPU
		gs=GS_$suffix no=NO_$suffix pl=PL_$suffix
		if [ "$kind" = wall ] && [ "$PEER" = 0 ]; then
			printf '%-24s %7.2fs %9s %8.2fs %8.2fs %7.2fx %7.2fx %8s\n' "$label" "${!gs}" "-" \
				"${!no}" "${!pl}" "$(ratio "${!gs}" "${!no}")" "$(ratio "${!gs}" "${!pl}")" "-"
		elif [ "$kind" = wall ]; then
			printf '%-24s %7.2fs %8.2fs %8.2fs %8.2fs %7.2fx %7.2fx %7.1fx\n' "$label" "${!gs}" "$gc" \
				"${!no}" "${!pl}" "$(ratio "${!gs}" "${!no}")" "$(ratio "${!gs}" "${!pl}")" \
				"$(ratio "$gc" "${!gs}")"
		else
			printf '%-24s %7.2fs %9s %8.2fs %8.2fs %7.2fx %7.2fx\n' "$label" "${!gs}" "" \
				"${!no}" "${!pl}" "$(ratio "${!gs}" "${!no}")" "$(ratio "${!gs}" "${!pl}")"
		fi
	done
done
if [ -n "$BASE" ]; then
	printf '%-24s %8s %8s %8s %9s %9s %8s\n' "gitseal / base" "wall" "base" "x base" "CPU" "base" "x base"
	for op in ADD CHECKOUT CLONE TEAM; do
		gs=GS_$op ba=BA_$op gc=GS_${op}_CPU bc=BA_${op}_CPU
		printf '%-24s %7.2fs %7.2fs %7.2fx %8.2fs %8.2fs %7.2fx\n' "$op" "${!gs}" "${!ba}" \
			"$(ratio "${!gs}" "${!ba}")" "${!gc}" "${!bc}" "$(ratio "${!gc}" "${!bc}")"
	done
	echo "(base: $BASE, in the same rounds; x base above 1 is slower than the base)"
fi
if [ "$FLOOR" != 0 ]; then
	printf '%-24s %9s %9s %9s %9s %9s\n' "the floor, wall (CPU)" "no filter" "no-op" "polling" "delayed" gitseal
	for op in ADD CHECKOUT CLONE TEAM; do
		row=""
		for side in PL NO NP ND GS; do
			w=${side}_$op c=${side}_${op}_CPU
			row+=$(printf ' %4.2f(%4.2f)' "${!w}" "${!c}")
		done
		printf '%-24s%s\n' "$op" "$row"
	done
	echo "(no-op: blocks for each of git's writes; polling: polls the pipe for 30 us inside a request,"
	echo " yielding its CPU between polls; delayed: polls too, and answers each smudge 'delayed' and"
	echo " hands it back when git asks: both as gitseal does)"
fi
echo "any process filter (the no-op filter) / no filter: add $(printf '%.2f' "$(ratio "$NO_ADD" "$PL_ADD")")x," \
	"checkout $(printf '%.2f' "$(ratio "$NO_CHECKOUT" "$PL_CHECKOUT")")x," \
	"clone $(printf '%.2f' "$(ratio "$NO_CLONE" "$PL_CLONE")")x (wall)"
if [ "$UPD_N" != 0 ]; then
	printf 'updatekeys -r, %d files, a recipient added: CPU %.2fs (wall %.2fs), %.2f ms a file; x its add -A %.2f (CPU %.2fs); plain git add -A CPU %.2fs\n' \
		"$UPD_N" "$UG_UPD_CPU" "$UG_UPD" "$(echo "$UG_UPD_CPU * 1000 / $UPD_N" | bc -l)" \
		"$(ratio "$UG_UPD_CPU" "$UG_ADD_CPU")" "$UG_ADD_CPU" "$UP_ADD_CPU"
	[ -z "$BASE" ] || printf '  base: CPU %.2fs (wall %.2fs): gitseal / base %.2fx\n' "$UB_UPD_CPU" "$UB_UPD" \
		"$(ratio "$UG_UPD_CPU" "$UB_UPD_CPU")"
fi
echo "load average (1, 5, 15 min) on $(nproc) CPUs: $LOAD_BEFORE before, $(load) after"
echo "(best of $ROUNDS alternating rounds for gitseal, the no-op filter and plain git; git-crypt once"
echo " on $PEER_N files, scaled to $N; x plain = gitseal / plain git, target <= 2; x no-op = gitseal /"
echo " the no-op process filter; vs g-c = git-crypt / gitseal, target >= 20; a clone's first"
echo " checkout finds every data key in the user's key cache, which the add filled: the warm case;"
echo " a teammate's add -A: every file edited in a clone made under another HOME, none of its data"
echo " keys made there, so each file is checked for a copied key)"
