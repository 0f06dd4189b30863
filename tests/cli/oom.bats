#!/usr/bin/env bats
# Out of memory at every step: each secure allocation of a command is made
# to fail in turn (the test build's GITSEAL_TEST_FAIL_SECURE_ALLOC; in make
# check the first of each call site, _SITE), then each plain one
# (GITSEAL_TEST_FAIL_ALLOC: gitseal/alloc.h; the same); decrypt also
# with the data key in key groups with a Shamir threshold, for PGP (the
# shared sops test key in a private GnuPG home) and in Vault transit
# (tests/vault/transit_server.mjs): never a wrong key, a missing group or
# a key source's error in place of running out of memory.
# A run either succeeds with exactly the right result or exits by itself
# with one line of error: no crash, no sanitizer report, no partial
# plaintext on stdout, the file written in place left as it was, no
# temporary file left.

load ../helpers

SOPS_KEY="$GITSEAL_SHARED/testdata/sops/getsops-sops/pgp/sops_functional_tests_key.asc"
SOPS_FP=FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4

setup() {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make asan)"
	setup_demo
	printf 'db:\n  user: admin\n  password: hunter2-oom\nlist:\n  - one\n  - 2\n' >plain.yaml
	RCPT=$DEMO_RECIPIENT
}
teardown() {
	if [ -n "${VAULT_PID:-}" ]; then kill "$VAULT_PID" 2>/dev/null && wait "$VAULT_PID" 2>/dev/null; fi
	if [ -n "${GNUPGHOME:-}" ]; then gpgconf --homedir "$GNUPGHOME" --kill gpg-agent 2>/dev/null; fi
	if [ -n "${TMP:-}" ]; then teardown_tmp; fi
}

no_temp_left() {
	no_file_matching '*gitseal-tmp*'
}

encrypt_in_place() {
	cp plain.yaml s.yaml
	OOM_RC=0
	env "$1" "$GITSEAL_BIN" encrypt --age "$RCPT" -i s.yaml 2>err || OOM_RC=$?
	if [ "$OOM_RC" -eq 0 ]; then
		grep -q '^sops:' s.yaml
		gitseal_fixture decrypt s.yaml | cmp - plain.yaml
	else
		oom_refused err
		[[ $OOM_ERR != *hunter2* ]]
		cmp s.yaml plain.yaml
	fi
	no_temp_left
}

decrypt_to_stdout() {
	OOM_RC=0
	env "$1" "$GITSEAL_BIN" decrypt enc.yaml >out 2>err || OOM_RC=$?
	if [ "$OOM_RC" -eq 0 ]; then
		cmp out plain.yaml
	else
		oom_refused err
		[[ $OOM_ERR != *hunter2* ]]
		[ ! -s out ]
	fi
}

age_decrypt() {
	OOM_RC=0
	env "$1" "$GITSEAL_BIN" age -d -i "$KEYS/demo-age-key.txt" blob.age >out 2>err || OOM_RC=$?
	if [ "$OOM_RC" -eq 0 ]; then
		cmp out blob
	else
		oom_refused err
		[ ! -s out ]
	fi
}

age_encrypt() {
	rm -f blob.age
	OOM_RC=0
	env "$1" "$GITSEAL_BIN" age -r "$RCPT" -o blob.age blob >out 2>err || OOM_RC=$?
	[ ! -s out ]
	if [ "$OOM_RC" -eq 0 ]; then
		gitseal_fixture age -d -i "$KEYS/demo-age-key.txt" blob.age | cmp - blob
	else
		oom_refused err
		[ ! -e blob.age ]
	fi
	no_temp_left
}

@test "encrypt in place, out of secure memory at each allocation: the file stays as it was" {
	sweep_oom GITSEAL_TEST_FAIL_SECURE_ALLOC encrypt_in_place
}

@test "decrypt, out of secure memory at each allocation: all of the plaintext or none of it" {
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
	sweep_oom GITSEAL_TEST_FAIL_SECURE_ALLOC decrypt_to_stdout
}

@test "age -d, out of secure memory at each allocation: all of the payload or none of it" {
	head -c 200000 /dev/urandom >blob
	gitseal_fixture age -r "$DEMO_RECIPIENT" -o blob.age blob
	sweep_oom GITSEAL_TEST_FAIL_SECURE_ALLOC age_decrypt
}

@test "encrypt in place, out of memory at each plain allocation: the file stays as it was" {
	sweep_oom GITSEAL_TEST_FAIL_ALLOC encrypt_in_place
}

@test "decrypt, out of memory at each plain allocation: all of the plaintext or none of it" {
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
	sweep_oom GITSEAL_TEST_FAIL_ALLOC decrypt_to_stdout
}

@test "age -e and -d, out of memory at each plain allocation: the whole file or none of it" {
	head -c 200000 /dev/urandom >blob
	sweep_oom GITSEAL_TEST_FAIL_ALLOC age_encrypt
	sweep_oom GITSEAL_TEST_FAIL_ALLOC age_decrypt
}

@test "2 of 3 key groups, out of memory at each allocation: all of the plaintext or none of it" {
	for i in 1 2 3; do
		gitseal_fixture keygen >"k$i.txt" 2>/dev/null
		gitseal_fixture keygen -y "k$i.txt" >"r$i.txt"
	done
	cat >.sops.yaml <<YAML
creation_rules:
  - shamir_threshold: 2
    key_groups:
      - age: [$(cat r1.txt)]
      - age: [$(cat r2.txt)]
      - age: [$(cat r3.txt)]
YAML
	gitseal_fixture encrypt plain.yaml >enc.yaml
	# group 2 does not open: its failure is noted and the sweep goes on
	cat k1.txt k3.txt >"$TMP/keys.txt"
	export SOPS_AGE_KEY_FILE="$TMP/keys.txt"
	sweep_oom GITSEAL_TEST_FAIL_SECURE_ALLOC decrypt_to_stdout
	sweep_oom GITSEAL_TEST_FAIL_ALLOC decrypt_to_stdout
}

@test "PGP, out of memory at each allocation: all of the plaintext or none of it" {
	command -v gpg >/dev/null || skip "gpg (Debian gnupg) is needed"
	[ -f "$SOPS_KEY" ] || skip "../shared (the sops fixtures) is absent"
	export GNUPGHOME="$TMP/gnupg"
	mkdir -m 700 "$GNUPGHOME"
	gpg --batch --import "$SOPS_KEY" 2>/dev/null
	unset SOPS_PGP_FP SOPS_GPG_EXEC
	gitseal_fixture encrypt --pgp "$SOPS_FP" plain.yaml >enc.yaml
	sweep_oom GITSEAL_TEST_FAIL_SECURE_ALLOC decrypt_to_stdout
	sweep_oom GITSEAL_TEST_FAIL_ALLOC decrypt_to_stdout
}

@test "Vault transit, out of memory at each allocation: all of the plaintext or none of it" {
	command -v node >/dev/null || skip "node is needed for the Vault stand-in"
	vault_standin
	gitseal_fixture encrypt --hc-vault-transit "$VAULT_ADDR/v1/transit/keys/app" plain.yaml >enc.yaml
	sweep_oom GITSEAL_TEST_FAIL_SECURE_ALLOC decrypt_to_stdout
	sweep_oom GITSEAL_TEST_FAIL_ALLOC decrypt_to_stdout
}

# The ledger of sites failed (sweep_oom) skipped a run when every process's
# Nth site of the counting run had been failed; where threads reach new
# sites in another order from run to run, the run would have failed
# another site, never failed. A run is skipped only where the Nth site was
# made before its process ran a second thread (the site log's count), and
# a counting run of a command that starts threads says where that was.
@test "the sweeps' ledger skips a run only where the site it would fail is certain" {
	local -a OOM_SITES=("3 3 a b c" "4 2 a b d e")
	local -A OOM_COVERED=(["f plain a"]=1 ["f plain b"]=1 ["f plain c"]=1 ["f plain d"]=1 ["f plain e"]=1)
	oom_ledger_covered "f plain" 2
	# the second process made its third site after it ran a thread
	run ! oom_ledger_covered "f plain" 3
	run ! oom_ledger_covered "f plain" 4
	OOM_SITES=("3 3 a b c" "4 4 a b d e")
	oom_ledger_covered "f plain" 3
	oom_ledger_covered "f plain" 4
	unset 'OOM_COVERED[f plain e]'
	run ! oom_ledger_covered "f plain" 4
	# age -d of a payload past the pipeline's start runs a thread: its
	# secure sites after it are not in a fixed order; a small one none
	head -c 3000000 /dev/zero >big
	head -c 1000 /dev/zero >small
	for f in big small; do
		gitseal_fixture age -r "$DEMO_RECIPIENT" -o "$f.age" "$f"
		GITSEAL_TEST_SITE_LOG="$TMP/$f.log" GITSEAL_TEST_COUNT_SECURE_ALLOC="$TMP/$f.count" \
			"$GITSEAL_BIN" age -d -i "$SOPS_AGE_KEY_FILE" -o "$f.out" "$f.age"
		cmp "$f" "$f.out"
		read -r kind nsites what ordered _ <"$TMP/$f.log"
		[ "$kind $what" = "secure sites" ]
		echo "# $f: $ordered of $nsites secure sites in a fixed order" >&3
		if [ "$f" = big ]; then [ "$ordered" -lt "$nsites" ]; else [ "$ordered" -eq "$nsites" ]; fi
	done
}
