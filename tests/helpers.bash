bats_require_minimum_version 1.5.0

# Shared bats helpers. GITSEAL_BIN and GITSEAL_SHARED come from the Makefile.
: "${GITSEAL_BIN:?GITSEAL_BIN must point at the gitseal binary}"
# the top of the tree, found without $(...): every test loads this file,
# and a command substitution is a fork of the test's shell (about 10 ms of
# CPU); the working directory is put back as it was
_helpers_dir=.
[[ ${BASH_SOURCE[0]} != */* ]] || _helpers_dir=${BASH_SOURCE[0]%/*}
_helpers_cwd=$PWD _helpers_oldpwd=${OLDPWD:-}
cd "$_helpers_dir/.."
REPO_ROOT=$PWD
cd "$_helpers_cwd"
OLDPWD=$_helpers_oldpwd
unset _helpers_dir _helpers_cwd _helpers_oldpwd
KEYS="$REPO_ROOT/keys"

source "$REPO_ROOT/tests/python.bash"

# trace_test_only: bats runs a DEBUG trap (bats_debug_trap: the stack of
# the command about to run, about 0.2 ms of CPU) before every command of a
# test and, under its `set -T`, of every function the test calls: each
# step of a helper's loop. Only the test's own commands keep it (the trace
# attribute of its function), which is where bats reports a failure: one
# inside a helper is reported at the test's line that called it, the
# helper named as the command that failed; one in teardown (which bats
# calls from a function of its own, untraced) at the test's last line.
# Called by the set-ups every test goes through (setup_tmp; gs_env in
# tests/git/helpers.bash does the same). 1,800-3,800 traps a file before,
# 800-1,100 after (keep_keys, cli_exit_codes, git/redteam7, k8s/krm).
trace_test_only() {
	set +T
	[ -z "${BATS_TEST_NAME:-}" ] || declare -ft "$BATS_TEST_NAME"
}

# setup_tmp: TMP, a private (0700) directory of the test's own, with HOME
# and XDG_CONFIG_HOME under it. Named without mktemp, made 0700 without
# chmod, HOME (0700 too) by the same mkdir: every test starts here, and
# each command the test's shell starts is a fork of it, about 10 ms of CPU.
# Where the name is taken, the mkdir of HOME fails too (every such
# directory has one) and the next name is tried.
setup_tmp() {
	local try
	trace_test_only
	for try in 1 2 3 4; do
		TMP=${TMPDIR:-/tmp}/gitseal-test.$BASHPID.$RANDOM$RANDOM
		mkdir -m 700 "$TMP" "$TMP/home" 2>/dev/null && break
		[ "$try" -lt 4 ] || { echo "setup_tmp: cannot make $TMP" >&2; return 1; }
	done
	export HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config"
	unset SOPS_AGE_KEY SOPS_AGE_KEY_FILE SOPS_AGE_KEY_CMD SOPS_AGE_RECIPIENTS SOPS_AGE_SSH_PRIVATE_KEY_FILE
	unset GITSEAL_PASSPHRASE
}

# setup_demo: setup_tmp, the private directory as the current one and the
# demo key as sops's key file (the set-up of many command-line files)
setup_demo() {
	setup_tmp
	cd "$TMP"
	export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
}

teardown_tmp() {
	[ -z "${TMP:-}" ] || rm -rf "$TMP"
}

gitseal() {
	"$GITSEAL_BIN" "$@"
}

# gitseal_fixture: gitseal for a test's set-up (keys, encrypted fixtures)
# and for reading back what the command under test wrote. Under ASan
# (make SAN=1, bt-san) that is the release build, GITSEAL_CHECK_BIN: a
# process without ASan's start-up costs about 0.01 s of CPU instead of
# 0.07. The command under test stays "$GITSEAL_BIN" (gitseal).
FIXTURE_BIN=${GITSEAL_CHECK_BIN:-$GITSEAL_BIN}
gitseal_fixture() {
	"$FIXTURE_BIN" "$@"
}

# random_file PATH SIZE: SIZE random bytes
random_file() {
	head -c "$2" /dev/urandom >"$1"
}

# DEMO_RECIPIENT: the demo key's recipient, read without a process
# ("$(demo_recipient)" is two: a fork and cat)
read -r DEMO_RECIPIENT <"$KEYS/demo-age-recipient.txt"
demo_recipient() {
	printf '%s\n' "$DEMO_RECIPIENT"
}

# age_keys N: k1.txt ... kN.txt, age identities of gitseal keygen's in the
# current directory, and r1.txt ... rN.txt, their recipients
age_keys() {
	local i
	for ((i = 1; i <= $1; i++)); do
		gitseal_fixture keygen -o "k$i.txt" 2>/dev/null
		gitseal_fixture keygen -y "k$i.txt" >"r$i.txt"
	done
}

# Flip one byte of FILE at OFFSET (xor 0x01).
flip_byte() {
	local file=$1 off=$2 b
	b=$(od -An -tu1 -j "$off" -N1 "$file" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$file" bs=1 seek="$off" conv=notrunc status=none
}

# vault_standin: tests/vault/transit_server.mjs on a free port of
# 127.0.0.1 (VAULT_PID; token s3cret-token, log $TMP/vault.log), and
# VAULT_ADDR and VAULT_TOKEN pointing at it.
vault_standin() {
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	node "$REPO_ROOT/tests/vault/transit_server.mjs" "$PORT" s3cret-token "$TMP/vault.log" &
	VAULT_PID=$!
	for _ in $(seq 50); do
		grep -q listening "$TMP/vault.log" 2>/dev/null && break
		sleep 0.1
	done
	grep -q listening "$TMP/vault.log"
	export VAULT_TOKEN=s3cret-token
	export VAULT_ADDR="http://127.0.0.1:$PORT"
}

# sweep_oom HOOK FUNC [STREAK]: runs FUNC HOOK=N for N = 1, 2, ..., past
# the allocations a first run counts, until a run gets past every
# allocation (STREAK in a row where threads share the count, so that a
# later refusal is not missed; a full secure sweep also stops at STREAK
# (8) in a row, where that comes first). HOOK is one of
# the test build's hooks: GITSEAL_TEST_FAIL_SECURE_ALLOC (the process's
# Nth secure allocation fails), GITSEAL_TEST_FAIL_ALLOC (a plain one) or
# GITSEAL_TEST_FAIL_LIB_ALLOC (one made inside libyaml, OpenSSL, libgit2).
# FUNC runs the command under test with `env "$1"`, checks its outcome
# either way and sets OOM_RC to its exit code. At least one run must have
# been refused, or the sweep tested nothing. A sweep fails the first
# allocation of each call site in turn (GITSEAL_TEST_FAIL_ALLOC_SITE or
# _LIB_ALLOC_SITE, GITSEAL_TEST_FAIL_SECURE_ALLOC_SITE: one run per line of
# code that allocates), or, with
# GITSEAL_OOM_SWEEP=full (make oom), every allocation in turn; either goes
# on at least as far as a first run counts (GITSEAL_TEST_COUNT_ALLOC;
# GITSEAL_TEST_COUNT_SECURE_ALLOC for secure allocations): a refusal that
# is handled and retried later makes a streak of runs that get through
# before the end.
# Per call site, gitseal's own plain and secure sites keep a ledger
# (oom_ledger_*): each site has an identity, the path from main to its
# first allocation (GITSEAL_TEST_SITE_LOG, src/util/alloc.c), and a site
# whose path an earlier sweep of the same bats file failed with the same
# FUNC checking the outcome (the command and every caller the same, its
# error path the same, the same checks) is not run again: decrypt's sites
# before and after the key sources are common to the decrypts of key
# groups, PGP and Vault. Past the count, the sweep ends at the first run
# that failed nothing (no process reached that many sites): there is no
# site left to fail.
sweep_oom() {
	local hook=$1 n streak=0 refused=0 made=0 counted= column=2 limit=3000 count=GITSEAL_TEST_COUNT_SECURE_ALLOC
	local kind=secure skipped=0 OOM_FAILED
	local -a OOM_SITES=()
	local -A OOM_COVERED=()
	# the count files' columns: secure allocations, sites; plain
	# allocations, sites, library ones, sites
	if [ "$hook" = GITSEAL_TEST_FAIL_ALLOC ] || [ "$hook" = GITSEAL_TEST_FAIL_LIB_ALLOC ]; then
		count=GITSEAL_TEST_COUNT_ALLOC kind=plain
		[ "$hook" = GITSEAL_TEST_FAIL_ALLOC ] || column=4 limit=100000 kind=
	fi
	if [ "${GITSEAL_OOM_SWEEP:-sites}" = full ]; then
		column=$((column - 1)) kind=
	else
		hook=${hook}_SITE
	fi
	[ -z "$kind" ] || oom_ledger_start
	"$2" "$count=$BATS_TEST_TMPDIR/alloc-count"
	[ "$OOM_RC" -eq 0 ]
	made=$(cut -d' ' -f$column "$BATS_TEST_TMPDIR/alloc-count" | sort -n | tail -1)
	[ "$made" -gt 0 ]
	rm "$BATS_TEST_TMPDIR/alloc-count"
	counted=", $made counted"
	[ -z "$kind" ] || oom_ledger_sites "$kind"
	for ((n = 1; ; n++)); do
		# past the count, a run that gets through ends the sweep (STREAK
		# in a row where given); a secure sweep ends as it did before it
		# was counted, at 8 (STREAK) in a row, where that comes first:
		# its count is the most any one process made (a git command
		# starts several)
		if [ -z "$kind" ] && [ "$n" -gt $((made + 1)) ] && [ "$streak" -ge "${3:-1}" ]; then break; fi
		if [ "$hook" = GITSEAL_TEST_FAIL_SECURE_ALLOC ] && [ "$streak" -ge "${3:-8}" ]; then break; fi
		[ "$n" -le "$limit" ]
		if [ -n "$kind" ] && [ "$n" -le "$made" ] && oom_ledger_covered "$2 $kind" "$n"; then
			skipped=$((skipped + 1))
			continue
		fi
		"$2" "$hook=$n"
		if [ "$OOM_RC" -eq 0 ]; then
			streak=$((streak + 1))
		else
			streak=0 refused=$((refused + 1))
		fi
		if [ -n "$kind" ]; then
			oom_ledger_add "$2" "$kind"
			if [ "$n" -gt "$made" ] && [ "$OOM_FAILED" -eq 0 ]; then break; fi
		fi
	done
	[ -z "$kind" ] || unset GITSEAL_TEST_SITE_LOG
	echo "# sweep ($hook): $((n - 1 - skipped)) runs, $refused refused, $skipped sites failed before$counted" >&3
	[ "$((refused + skipped))" -gt 0 ]
}

# The ledger of sweep_oom: $BATS_FILE_TMPDIR/oom-ledger, a line "FUNC KIND
# ID" for each site a sweep of the file failed and FUNC checked.
oom_ledger_start() {
	local id
	export GITSEAL_TEST_SITE_LOG=$BATS_TEST_TMPDIR/site-log
	rm -f "$GITSEAL_TEST_SITE_LOG"
	[ -f "$BATS_FILE_TMPDIR/oom-ledger" ] || return 0
	while read -r id; do OOM_COVERED[$id]=1; done <"$BATS_FILE_TMPDIR/oom-ledger"
}

# oom_ledger_sites KIND: OOM_SITES, a word list for each process of the
# counting run: how many sites it made, how many of them before it ran a
# second thread (their order is fixed: another run makes them in the same
# order), and their identities in the order first used.
oom_ledger_sites() {
	local k nsites what ids
	while read -r k nsites what ids; do
		if [ "$k" = "$1" ] && [ "$what" = sites ]; then OOM_SITES+=("$nsites $ids"); fi
	done <"$GITSEAL_TEST_SITE_LOG"
	rm "$GITSEAL_TEST_SITE_LOG"
	[ "${#OOM_SITES[@]}" -gt 0 ]
}

# oom_ledger_covered "FUNC KIND" N: every process's Nth site (where it has
# one) is known, made before the process ran a second thread (after that,
# threads can reach their sites in another order, and a run would fail
# another site), and in the ledger for FUNC.
oom_ledger_covered() {
	local p
	local -a ids
	for p in "${OOM_SITES[@]}"; do
		read -ra ids <<<"$p"
		[ "${ids[0]}" -ge "$2" ] || continue
		[ "${ids[1]}" -ge "$2" ] || return 1
		[ -n "${OOM_COVERED[$1 ${ids[$2 + 1]}]:-}" ] || return 1
	done
}

# oom_ledger_add FUNC KIND: the sites the last run failed, into the ledger
# (FUNC has checked the run's outcome); OOM_FAILED, how many.
oom_ledger_add() {
	local k nsites what id
	OOM_FAILED=0
	[ -f "$GITSEAL_TEST_SITE_LOG" ] || return 0
	while read -r k nsites what id; do
		if [ "$k" = "$2" ] && [ "$what" = refused ]; then
			echo "$1 $k $id" >>"$BATS_FILE_TMPDIR/oom-ledger"
			OOM_COVERED[$1 $k $id]=1
			OOM_FAILED=$((OOM_FAILED + 1))
		fi
	done <"$GITSEAL_TEST_SITE_LOG"
	rm "$GITSEAL_TEST_SITE_LOG"
}

# oom_refusal_ok ERRFILE: a refused run ended by itself with one line of
# error that says so (a signal or a sanitizer's report prints other lines
# or none; a refusal must not pass for a wrong key or a tampered file).
oom_refusal_ok() {
	[ "$OOM_RC" -ne 0 ]
	[ "$(wc -l <"$1")" -eq 1 ]
	grep -q '^gitseal: error: .*out of \(secure \)\?memory$' "$1"
}

# oom_refused ERRFILE: oom_refusal_ok's check without a process (a sweep
# runs it hundreds of times; wc and grep cost about 6 ms of CPU each), a
# little stricter: the one line must end the file. Leaves the error text
# in OOM_ERR for the caller's own checks ([[ $OOM_ERR != *secret* ]]).
oom_refused() {
	[ "$OOM_RC" -ne 0 ]
	OOM_ERR=
	IFS= read -r -d '' OOM_ERR <"$1" || true
	[[ $OOM_ERR == *$'\n' ]]
	[[ ${OOM_ERR%$'\n'} != *$'\n'* ]]
	[[ ${OOM_ERR%$'\n'} =~ ^gitseal:\ error:\ .*out\ of\ (secure\ )?memory$ ]]
}

# no_file_matching GLOB: no entry of the current directory, dot files
# included, has a name matching GLOB (ls -A | grep without a process)
no_file_matching() {
	local f
	for f in * .*; do
		[[ $f != $1 ]] || { echo "left: $f"; return 1; }
	done
}
