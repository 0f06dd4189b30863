# sops engine: encrypt, decrypt, set, edit (EDITOR=true), and a refused
# tampered file; sourced by tests/memcheck.sh (BIN, KEYS, work, vg).
rcpt=$(cat "$KEYS/demo-age-recipient.txt")
mkdir -p "$work/sops"
cat >"$work/sops/app.yaml" <<'YAML'
# database
db:
  user: admin
  password: hunter2 # inline
  port: 5432
  ratio: 1.5
  tls: true
list: [one, "two", 3]
anchors:
  base: &b {a: 1}
  copy: *b
YAML
printf '{"a": {"b": [1, "x", null, true]}, "c": "d"}\n' >"$work/sops/app.json"
export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
# JSON under valgrind where its store's code runs (load, emit, set, an
# edit that writes: it decrypts and emits as decrypt does, cmd_plain_emit);
# what YAML ran of the rest (decrypt, extract, an edit that changes
# nothing, filestatus) runs as it is: each valgrind run costs a second of
# CPU to start
for f in app.yaml app.json; do
	once=vg
	[ "$f" = app.yaml ] || once=
	vg "$BIN" encrypt --age "$rcpt" "$work/sops/$f" >"$work/sops/enc.$f"
	$once "$BIN" decrypt "$work/sops/enc.$f" >"$work/sops/dec.$f"
	vg "$BIN" set "$work/sops/enc.$f" '["new"]' '"value"'
	$once "$BIN" decrypt --extract '["new"]' "$work/sops/enc.$f" >/dev/null
	# an editor that changes nothing: sops's exit status 200
	rc=0
	EDITOR=true $once "$BIN" edit "$work/sops/enc.$f" 2>/dev/null || rc=$?
	[ "$rc" -eq 200 ] || { echo "edit without a change: exit $rc"; exit 1; }
	EDITOR="sed -i s/value/changed/" vg "$BIN" edit "$work/sops/enc.$f"
	[ "$("$BIN" decrypt --extract '["new"]' "$work/sops/enc.$f")" = changed ] ||
		{ echo "edit did not change the value"; exit 1; }
	$once "$BIN" filestatus "$work/sops/enc.$f" >/dev/null
done
cmp "$work/sops/app.json" "$work/sops/dec.app.json" || { echo "json round trip differs"; exit 1; }
# the pipeline's other paths: rotate, a value past 64 KiB (its ciphertext
# handed over, decrypted in place) decrypted to a proven plaintext file
vg "$BIN" rotate -i "$work/sops/enc.app.yaml"
printf 'big: %s\n' "$(head -c 100000 /dev/zero | tr '\0' x)" >"$work/sops/big.plain"
cp "$work/sops/big.plain" "$work/sops/big.yaml"
vg "$BIN" encrypt --age "$rcpt" -i "$work/sops/big.yaml"
vg "$BIN" decrypt --output "$work/sops/big.out" "$work/sops/big.yaml"
cmp "$work/sops/big.plain" "$work/sops/big.out" || { echo "big value round trip differs"; exit 1; }
# a tampered value: the MAC check refuses it, without leaking
perl -pe 's/^( +user: ENC\[AES256_GCM,data:)(.)/$1.($2 eq "A" ? "B" : "A")/e' "$work/sops/enc.app.yaml" \
	>"$work/sops/bad.yaml"
! cmp -s "$work/sops/enc.app.yaml" "$work/sops/bad.yaml" || { echo "tampering failed"; exit 1; }
if vg "$BIN" decrypt "$work/sops/bad.yaml" >/dev/null 2>&1; then
	echo "tampered file decrypted"; exit 1
elif [ $? -eq 99 ]; then
	echo "valgrind errors on the tampered file"; exit 1
fi
unset SOPS_AGE_KEY_FILE
