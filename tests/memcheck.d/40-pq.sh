# Post-quantum age recipients (mlkem768x25519): keygen -pq, age and sops
# through a hybrid recipient, a wrong hybrid key, a skipped plugin line;
# sourced by tests/memcheck.sh (BIN, KEYS, work, vg).
mkdir -p "$work/pq"
vg "$BIN" keygen -pq -o "$work/pq/key.txt" 2>/dev/null
"$BIN" keygen -pq -o "$work/pq/other.txt" 2>/dev/null
pq_rcpt=$(vg "$BIN" keygen -y "$work/pq/key.txt")
vg "$BIN" age -a -r "$pq_rcpt" -o "$work/pq/p.age" "$work/plain"
{ echo AGE-PLUGIN-YUBIKEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS8PPMRZ; cat "$work/pq/key.txt"; } >"$work/pq/ids.txt"
vg "$BIN" age -d -i "$work/pq/ids.txt" -o "$work/pq/p.out" "$work/pq/p.age" 2>/dev/null
cmp "$work/plain" "$work/pq/p.out"
vg "$BIN" age -d -i "$work/pq/other.txt" "$work/pq/p.age" 2>/dev/null && exit 1 || [ $? -eq 12 ]
printf 'user: admin\npassword: hunter2\n' >"$work/pq/app.yaml"
vg "$BIN" encrypt --age "$pq_rcpt" "$work/pq/app.yaml" >"$work/pq/enc.yaml"
SOPS_AGE_KEY_FILE="$work/pq/key.txt" vg "$BIN" decrypt "$work/pq/enc.yaml" | cmp - "$work/pq/app.yaml"
