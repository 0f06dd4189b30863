#!/usr/bin/env bash
# valgrind memcheck of the main code paths: no errors, no definite leaks.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "$1")
KEYS=$(pwd)/keys
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
export HOME=$work XDG_CONFIG_HOME=$work/.config

vg() {
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite "$@"
}

rcpt=$(cat "$KEYS/demo-age-recipient.txt")
head -c 200000 /dev/urandom >"$work/plain"
echo "== memcheck: age encrypt/decrypt"
# this round trip runs as it is: valgrind runs its stream in
# memcheck.d/40-pq.sh (the same armored 200 KB) and the X25519 recipient
# in 05-age-large.sh
"$BIN" age -a -r "$rcpt" -o "$work/p.age" "$work/plain"
"$BIN" age -d -i "$KEYS/demo-age-key.txt" -o "$work/p.out" "$work/p.age"
cmp "$work/plain" "$work/p.out"
# keygen -y runs under valgrind in memcheck.d/40-pq.sh (a hybrid key: the
# same command, the identity parsed as age -d -i parses this one)
[ "$("$BIN" keygen -y "$KEYS/demo-age-key.txt")" = "$rcpt" ]
# a failing decryption must not leak either
vg "$BIN" age -d -i "$KEYS/test-age-key-2.txt" "$work/p.age" 2>/dev/null && exit 1 || [ $? -eq 12 ]

for extra in tests/memcheck.d/*.sh; do
	[ -e "$extra" ] || continue
	echo "== memcheck: $extra"
	# shellcheck source=/dev/null
	. "$extra"
done
echo "memcheck: no errors, no definite leaks"
