#!/usr/bin/env bats
# What every gitseal process pays before and around main: a small file's
# time on this VM is mostly start-up (docs/development.md, the small file).

load ../helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

@test "thread-local storage is under a page: glibc zeroes it in every process and thread" {
	command -v readelf >/dev/null || skip "readelf is not installed"
	size=$(readelf -lW "$GITSEAL_BIN" | awk '$1 == "TLS" { print $6 }')
	[ -n "$size" ]
	[ $((size)) -lt 4096 ] || { echo "TLS memsz $size"; false; }
}

# A small age file never needs libcrypto: the payload's first 2 MiB are
# sealed with libsodium (docs/development.md, the age payload).
libcrypto_opened() {
	LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -c 'file=libcrypto' || true
}

@test "a small age file is encrypted and decrypted without libcrypto" {
	random_file "$TMP/small" 100
	[ "$(libcrypto_opened gitseal age -r "$(demo_recipient)" -o "$TMP/small.age" "$TMP/small")" = 0 ]
	[ "$(libcrypto_opened gitseal age -d -i "$KEYS/demo-age-key.txt" -o "$TMP/out" "$TMP/small.age")" = 0 ]
	cmp "$TMP/small" "$TMP/out"
}

@test "OpenSSL reads no configuration file: a large sops file decrypts under one that asks for FIPS" {
	# sops values go through OpenSSL's AES-GCM, the MAC through its SHA-512
	random_file "$TMP/bytes" 60000
	base64 -w 76 "$TMP/bytes" | awk '{ print "k" NR ": " $0 }' >"$TMP/large.yaml"
	gitseal encrypt --age "$(demo_recipient)" "$TMP/large.yaml" >"$TMP/large.enc.yaml"
	printf '%s\n' 'openssl_conf = openssl_init' '[openssl_init]' 'alg_section = evp_properties' \
		'[evp_properties]' 'default_properties = fips=yes' >"$TMP/fips.cnf"
	export SOPS_AGE_KEY_FILE=$KEYS/demo-age-key.txt
	OPENSSL_CONF=$TMP/fips.cnf gitseal decrypt "$TMP/large.enc.yaml" >"$TMP/out"
	cmp "$TMP/large.yaml" "$TMP/out"
}
