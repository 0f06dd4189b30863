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
	[ -n "${TMP:-}" ] && rm -rf "$TMP"
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
