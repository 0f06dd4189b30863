#!/usr/bin/env bats
# Issue 18, point 5: --decryption-order and SOPS_DECRYPTION_ORDER choose
# which key types are tried first (sops.go sortKeyGroupIndices); a type
# named twice is an error of its own (112).

load ../helpers

SOPS_KEY="$GITSEAL_SHARED/testdata/sops/getsops-sops/pgp/sops_functional_tests_key.asc"
SOPS_FP=FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4

setup() {
	setup_demo
	printf 'a: secret\n' >plain.yaml
}
teardown() {
	if [ -n "${GNUPGHOME:-}" ]; then gpgconf --homedir "$GNUPGHOME" --kill gpg-agent 2>/dev/null; fi
	teardown_tmp
}

# sops: cmd/sops/main.go:2607-2618 (DuplicateDecryptionKeyType, 112),
# and the flag's variable (main.go:819-822, EnvVar SOPS_DECRYPTION_ORDER)
@test "a key type named twice: 112, from the flag or the variable, before the file is read" {
	gitseal encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
	run -112 gitseal decrypt --decryption-order age,pgp,age enc.yaml
	[ "$output" = "gitseal: error: duplicate decryption key type: age" ]
	SOPS_DECRYPTION_ORDER=pgp,pgp run -112 "$GITSEAL_BIN" decrypt missing-file.yaml
	[ "$output" = "gitseal: error: duplicate decryption key type: pgp" ]
	for cmd in exec-env exec-file set unset rotate edit; do
		run -112 gitseal "$cmd" --decryption-order hc_vault,hc_vault enc.yaml
		[ "$output" = "gitseal: error: duplicate decryption key type: hc_vault" ]
	done
	# before the command it is decrypt's own flag: ignored, as sops ignores it
	run -0 gitseal --decryption-order age,age decrypt enc.yaml
	[[ $output == *"-decryption-order before 'decrypt' is ignored"* ]]
	# a type sops does not know is ignored, as sops ignores it
	gitseal decrypt --decryption-order kms,age enc.yaml | cmp - plain.yaml
}

# sops: sops.go:880-933 (decryptKeyGroup tries the group's keys sorted by
# the order: the named types first; DefaultDecryptionOrder is age, pgp)
@test "the order decides which key type is tried first" {
	command -v gpg >/dev/null || skip "gpg (Debian gnupg) is needed"
	[ -f "$SOPS_KEY" ] || skip "../shared (the sops PGP test key) is absent"
	export GNUPGHOME="$TMP/gnupg"
	mkdir -m 700 "$GNUPGHOME"
	gpg --batch --import "$SOPS_KEY" 2>/dev/null
	printf '#!/bin/sh\necho called >>"%s/gpg.log"\nexec gpg "$@"\n' "$TMP" >gpg-logged
	chmod +x gpg-logged
	gitseal encrypt --age "$DEMO_RECIPIENT" --pgp "$SOPS_FP" plain.yaml >enc.yaml
	export SOPS_GPG_EXEC="$TMP/gpg-logged"

	# the default: age opens the file, gpg is not run
	gitseal decrypt enc.yaml | cmp - plain.yaml
	[ ! -e gpg.log ]
	# pgp first: gpg is run
	gitseal decrypt --decryption-order pgp,age enc.yaml | cmp - plain.yaml
	[ -s gpg.log ]
	rm gpg.log
	SOPS_DECRYPTION_ORDER=pgp gitseal decrypt enc.yaml | cmp - plain.yaml
	[ -s gpg.log ]
	rm gpg.log
	# the flag beats the variable
	SOPS_DECRYPTION_ORDER=pgp gitseal decrypt --decryption-order age enc.yaml | cmp - plain.yaml
	[ ! -e gpg.log ]
}
