#!/usr/bin/env bash
# make demo: the main job on the demo keys in keys/.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-build/gitseal}")
KEYS=$(pwd)/keys
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
rcpt=$(cat "$KEYS/demo-age-recipient.txt")

echo "# age round trip with the demo key ($rcpt)"
echo "the launch code is 0000" >"$work/message.txt"
"$BIN" age -a -r "$rcpt" -o "$work/message.txt.age" "$work/message.txt"
cat "$work/message.txt.age"
echo "# decrypted:"
"$BIN" age -d -i "$KEYS/demo-age-key.txt" "$work/message.txt.age"
