#!/usr/bin/env bats
# sops compatibility: files written by the real sops decrypt with gitseal;
# files written by gitseal decrypt with the npm sops-age decryptor, whose
# MAC is re-checked by an independent implementation in sops_age.mjs.

load ../helpers

SOPS_DATA="$GITSEAL_SHARED/testdata/sops"

setup() {
	setup_tmp
	export NODE_PATH="$REPO_ROOT/node_modules"
	cd "$TMP"
}
teardown() { teardown_tmp; }

same_data() { node "$REPO_ROOT/tests/interop/same_data.mjs" "$@"; }
# the files the real sops wrote live in ../shared, absent from a clone made elsewhere
need_sops_data() { [ -d "$SOPS_DATA" ] || skip "../shared (the sops fixtures) is absent"; }

@test "sops 3.11/3.12 age files (kaweezle) decrypt to their plaintext" {
	need_sops_data
	export SOPS_AGE_KEY_FILE="$SOPS_DATA/kaweezle-iknite/age-key.txt"
	for f in data_with_key_complete data_with_key_invalid; do
		gitseal decrypt "$SOPS_DATA/kaweezle-iknite/${f}_encrypted.yaml" >"$TMP/$f.yaml"
		same_data "$TMP/$f.yaml" "$SOPS_DATA/kaweezle-iknite/${f}_plain.yaml"
	done
	gitseal decrypt --extract '["apk_signing_key"]["name"]' "$SOPS_DATA/kaweezle-iknite/signing-key.sops.yaml" >"$TMP/name"
	[ "$(cat "$TMP/name")" = "test-signing-key" ]
	gitseal decrypt --extract '["apk_signing_key"]["private_key"]' "$SOPS_DATA/kaweezle-iknite/signing-key.sops.yaml" | grep -q -- '-----BEGIN'
	run gitseal decrypt "$SOPS_DATA/kaweezle-iknite/empty_data_encrypted.yaml"
	[ "$status" -eq 0 ]
	run gitseal decrypt "$SOPS_DATA/kaweezle-iknite/empty_encrypted.yaml"
	[ "$status" -eq 0 ]
}

@test "the reconstructed 3.13 Kubernetes Secret decrypts" {
	need_sops_data
	export SOPS_AGE_KEY_FILE="$SOPS_DATA/reconstructed/example-age-key.txt"
	gitseal decrypt "$SOPS_DATA/reconstructed/k8s-secret.enc.yaml" >"$TMP/out.yaml"
	same_data "$TMP/out.yaml" "$SOPS_DATA/reconstructed/k8s-secret.plain.yaml"
}

@test "a sops file with a wrong key fails with 128 and prints nothing" {
	need_sops_data
	export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
	run --separate-stderr gitseal decrypt "$SOPS_DATA/reconstructed/k8s-secret.enc.yaml"
	[ "$status" -eq 128 ]
	[ -z "$output" ]
	[[ "$stderr" == "gitseal: error: '$SOPS_DATA/reconstructed/k8s-secret.enc.yaml': cannot recover the data key: no key opened it"* ]]
}

@test "gitseal YAML -> sops-age, MAC re-checked independently" {
	cp "$REPO_ROOT/tests/interop/data/mixed.yaml" "$TMP/mixed.yaml"
	gitseal encrypt --age "$(demo_recipient)" "$TMP/mixed.yaml" >"$TMP/mixed.enc.yaml"
	node "$REPO_ROOT/tests/interop/sops_age.mjs" "$TMP/mixed.enc.yaml" yaml "$KEYS/demo-age-key.txt" "$TMP/mixed.yaml"
}

# A block at a step other than the file's is sealed as a block at its
# column ("|-" and the ENC[...] line): the same string to a YAML reader
# (fidelity31).
@test "gitseal YAML with blocks at steps of their own (sealed as blocks) -> sops-age" {
	printf 'a: |\n  x\nb: |\n    y\n    w\nl:\n  - |\n      z\n' >"$TMP/steps.yaml"
	gitseal encrypt --age "$(demo_recipient)" "$TMP/steps.yaml" >"$TMP/steps.enc.yaml"
	[ "$(sed -n 2p "$TMP/steps.enc.yaml")" = "b: |-" ]
	node "$REPO_ROOT/tests/interop/sops_age.mjs" "$TMP/steps.enc.yaml" yaml "$KEYS/demo-age-key.txt" "$TMP/steps.yaml"
}

@test "gitseal YAML of a file that does not end its last line (sealed so too) -> sops-age" {
	printf 'a: 1\nb: two' >"$TMP/open.yaml"
	gitseal encrypt --age "$(demo_recipient)" "$TMP/open.yaml" >"$TMP/open.enc.yaml"
	[ "$(tail -c 1 "$TMP/open.enc.yaml")" != "" ]
	node "$REPO_ROOT/tests/interop/sops_age.mjs" "$TMP/open.enc.yaml" yaml "$KEYS/demo-age-key.txt" "$TMP/open.yaml"
}

@test "gitseal JSON -> sops-age, MAC re-checked independently" {
	cp "$REPO_ROOT/tests/interop/data/mixed.json" "$TMP/mixed.json"
	gitseal encrypt --age "$(demo_recipient)" "$TMP/mixed.json" >"$TMP/mixed.enc.json"
	node "$REPO_ROOT/tests/interop/sops_age.mjs" "$TMP/mixed.enc.json" json "$KEYS/demo-age-key.txt" "$TMP/mixed.json"
}

@test "gitseal JSON floats as spelled (1.0, -2.5e3, 0e-3) -> sops-age reads the numbers, MAC as sops computes it" {
	cp "$REPO_ROOT/tests/interop/data/floats.json" "$TMP/floats.json"
	gitseal encrypt --age "$(demo_recipient)" "$TMP/floats.json" >"$TMP/floats.enc.json"
	node "$REPO_ROOT/tests/interop/sops_age.mjs" "$TMP/floats.enc.json" json "$KEYS/demo-age-key.txt" "$TMP/floats.json"
}

@test "gitseal YAML numbers as spelled (08, 1.50, 1e3, .5) -> sops-age reads the numbers, MAC as sops computes it" {
	cp "$REPO_ROOT/tests/interop/data/numbers.yaml" "$TMP/numbers.yaml"
	gitseal encrypt --age "$(demo_recipient)" "$TMP/numbers.yaml" >"$TMP/numbers.enc.yaml"
	grep -q 'type:float' "$TMP/numbers.enc.yaml"
	node "$REPO_ROOT/tests/interop/sops_age.mjs" "$TMP/numbers.enc.yaml" yaml "$KEYS/demo-age-key.txt" "$TMP/numbers.yaml"
}

@test "gitseal YAML and JSON ints as spelled (+5, 007, -0) -> sops-age reads the numbers, MAC as sops computes it" {
	for f in ints.yaml ints.json; do
		cp "$REPO_ROOT/tests/interop/data/$f" "$TMP/$f"
		gitseal encrypt --age "$(demo_recipient)" "$TMP/$f" >"$TMP/enc.$f"
		grep -q 'type:int' "$TMP/enc.$f"
		node "$REPO_ROOT/tests/interop/sops_age.mjs" "$TMP/enc.$f" "${f##*.}" "$KEYS/demo-age-key.txt" "$TMP/$f"
	done
	# the spelling is what was encrypted: two bytes ("+5"), not one ("5")
	grep -Eq '^plus: ENC\[AES256_GCM,data:[A-Za-z0-9+/]{3}=,' "$TMP/enc.ints.yaml"
	grep -Eq '"negative_zero": "ENC\[AES256_GCM,data:[A-Za-z0-9+/]{3}=,' "$TMP/enc.ints.json"
}

@test "decrypt(encrypt(file)) is byte-identical for YAML and JSON" {
	export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
	for f in mixed.yaml mixed.json floats.json numbers.yaml ints.yaml ints.json; do
		cp "$REPO_ROOT/tests/interop/data/$f" "$TMP/$f"
		gitseal encrypt --age "$(demo_recipient)" "$TMP/$f" >"$TMP/enc.$f"
		gitseal decrypt "$TMP/enc.$f" >"$TMP/dec.$f"
		cmp "$TMP/$f" "$TMP/dec.$f"
	done
}
