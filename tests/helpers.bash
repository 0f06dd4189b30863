bats_require_minimum_version 1.5.0

# Shared bats helpers. GITSEAL_BIN and GITSEAL_SHARED come from the Makefile.
: "${GITSEAL_BIN:?GITSEAL_BIN must point at the gitseal binary}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KEYS="$REPO_ROOT/keys"

setup_tmp() {
	TMP="$(mktemp -d)"
	chmod 700 "$TMP"
	export HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config"
	mkdir -p "$HOME"
	unset SOPS_AGE_KEY SOPS_AGE_KEY_FILE SOPS_AGE_KEY_CMD SOPS_AGE_RECIPIENTS SOPS_AGE_SSH_PRIVATE_KEY_FILE
	unset GITSEAL_PASSPHRASE
}

teardown_tmp() {
	[ -z "${TMP:-}" ] || rm -rf "$TMP"
}

gitseal() {
	"$GITSEAL_BIN" "$@"
}

# random_file PATH SIZE: SIZE random bytes
random_file() {
	head -c "$2" /dev/urandom >"$1"
}

demo_recipient() {
	cat "$KEYS/demo-age-recipient.txt"
}

# Flip one byte of FILE at OFFSET (xor 0x01).
flip_byte() {
	local file=$1 off=$2 b
	b=$(od -An -tu1 -j "$off" -N1 "$file" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$file" bs=1 seek="$off" conv=notrunc status=none
}

# sweep_secure_oom FUNC [STREAK]: runs FUNC N for N = 1, 2, ..., until
# STREAK (8) runs in a row get past every allocation (more where threads
# share the count, so that a later refusal is not missed). FUNC runs the
# command under test with its Nth secure allocation failing (`env
# GITSEAL_TEST_FAIL_SECURE_ALLOC=N`, the test build's hook), checks its
# outcome either way and sets OOM_RC to its exit code. At least one run
# must have been refused, or the sweep tested nothing.
sweep_secure_oom() {
	local n streak=0 refused=0
	for ((n = 1; streak < ${2:-8}; n++)); do
		[ "$n" -le 3000 ]
		"$1" "$n"
		if [ "$OOM_RC" -eq 0 ]; then
			streak=$((streak + 1))
		else
			streak=0 refused=$((refused + 1))
		fi
	done
	echo "# sweep: $((n - 1)) runs, $refused refused" >&3
	[ "$refused" -gt 0 ]
}

# oom_refusal_ok ERRFILE: a refused run ended by itself with one line of
# error that says so (a signal or a sanitizer's report prints other lines
# or none; a refusal must not pass for a wrong key or a tampered file).
oom_refusal_ok() {
	[ "$OOM_RC" -ne 0 ]
	[ "$(wc -l <"$1")" -eq 1 ]
	grep -q '^gitseal: error: .*out of \(secure \)\?memory$' "$1"
}
