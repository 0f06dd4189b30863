# PGP key source: encrypt, decrypt, rotate --add-pgp through gpg, a key gpg
# does not have, and render with GITSEAL_PGP_KEY_DIR (private GnuPG home);
# sourced by tests/memcheck.sh (BIN, KEYS, work, vg). Skipped without gpg.
if command -v gpg >/dev/null; then
	mkdir -m 700 "$work/gnupg" "$work/pgp"
	export GNUPGHOME=$work/gnupg
	gpg --batch --passphrase '' --quick-gen-key 'memcheck <memcheck@gitseal.invalid>' \
		future-default default never 2>/dev/null
	fpr=$(gpg --list-keys --with-colons 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }')
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n    name: s\nstringData:\n    pw: hunter2\n' \
		>"$work/pgp/plain.yaml"
	vg "$BIN" encrypt --pgp "$fpr" "$work/pgp/plain.yaml" >"$work/pgp/enc.yaml" 2>/dev/null
	vg "$BIN" decrypt "$work/pgp/enc.yaml" | cmp - "$work/pgp/plain.yaml"
	vg "$BIN" rotate -i --add-age "$(cat "$KEYS/demo-age-recipient.txt")" "$work/pgp/enc.yaml"
	rc=0
	vg "$BIN" encrypt --pgp 0123456789ABCDEF0123456789ABCDEF01234567 "$work/pgp/plain.yaml" \
		>/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || { echo "encrypt for an unknown PGP key: exit $rc"; exit 1; }
	mkdir "$work/pgp/keys" "$work/pgp/manifests"
	gpg --batch --armor --export-secret-keys "$fpr" >"$work/pgp/keys/k.asc" 2>/dev/null
	mv "$work/pgp/enc.yaml" "$work/pgp/manifests/"
	mkdir -m 700 "$work/empty-gnupg"
	GNUPGHOME=$work/empty-gnupg GITSEAL_PGP_KEY_DIR=$work/pgp/keys vg "$BIN" render "$work/pgp/manifests" |
		grep -q 'pw: hunter2' || { echo "render with GITSEAL_PGP_KEY_DIR"; exit 1; }
	gpgconf --homedir "$work/gnupg" --kill gpg-agent 2>/dev/null || true
	unset GNUPGHOME
fi
