# age on a payload past chunk 32, where two threads take over in batches
# (src/age/stream_pipeline.c): a round trip, armored, and a payload failure
# late in the file; sourced by tests/memcheck.sh (BIN, KEYS, work, vg).
rcpt=$(cat "$KEYS/demo-age-recipient.txt")
head -c $((3 * 1024 * 1024 + 1000)) /dev/urandom >"$work/large"
vg "$BIN" age -a -r "$rcpt" -o "$work/large.age" "$work/large"
vg "$BIN" age -d -i "$KEYS/demo-age-key.txt" -o "$work/large.out" "$work/large.age"
cmp "$work/large" "$work/large.out"
"$BIN" age -r "$rcpt" -o "$work/large.bin" "$work/large"
size=$(stat -c %s "$work/large.bin")
off=$((size - 200000))
b=$(od -An -tu1 -j "$off" -N1 "$work/large.bin" | tr -d ' ')
printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$work/large.bin" bs=1 seek="$off" conv=notrunc status=none
vg "$BIN" age -d -i "$KEYS/demo-age-key.txt" "$work/large.bin" >/dev/null 2>&1 && exit 1 || [ $? -eq 14 ]
