#!/usr/bin/env bats
# Key sources as attack surface: a file's key entries (outside the MAC) come
# from whoever opens a pull request. No network: gpg is a stand-in
# (SOPS_GPG_EXEC) that logs each run.

load ../helpers

setup() {
	setup_tmp
	cd "$TMP"
	gitseal_fixture keygen -o key.txt 2>/dev/null
	gitseal_fixture keygen -o other.txt 2>/dev/null
	printf 'a: secret\n' >plain.yaml
	gitseal_fixture encrypt --age "$(gitseal_fixture keygen -y key.txt)" plain.yaml >enc.yaml
	cat >fakegpg <<-'SH'
	#!/bin/sh
	echo run >>"$(dirname "$0")/gpg.log"
	cat >/dev/null
	echo 'gpg: decryption failed: No secret key' >&2
	exit 2
	SH
	chmod +x fakegpg
}

teardown() {
	teardown_tmp
}

# add_pgp_decoys IN OUT N: IN with N pgp entries, each a well-formed armored
# message that opens with no key
add_pgp_decoys() {
	python3 - "$1" "$2" "$3" <<-'PY'
	import sys
	src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
	arm = ["-----BEGIN PGP MESSAGE-----", "", "hQEMA" + "0" * 60, "=AAAA", "-----END PGP MESSAGE-----"]
	enc = "".join("            %s\n" % l if l else "\n" for l in arm)
	ents = "".join('        - created_at: "2026-01-01T00:00:00Z"\n          enc: |\n%s'
	               "          fp: %040X\n" % (enc, i) for i in range(n))
	s = open(src).read().replace("    lastmodified:", "    pgp:\n" + ents + "    lastmodified:", 1)
	open(dst, "w").write(s)
	PY
}

@test "a file with thousands of pgp entries does not run gpg thousands of times" {
	add_pgp_decoys enc.yaml bad.yaml 2000
	run env SOPS_AGE_KEY_FILE="$TMP/other.txt" SOPS_GPG_EXEC="$TMP/fakegpg" "$GITSEAL_BIN" decrypt bad.yaml
	[ "$status" -eq 2 ]
	[[ "$output" == *"error: 'bad.yaml': 2000 pgp and vault keys, more than 64"* ]]
	[ ! -e gpg.log ]
	# a handful of entries is tried as sops tries them
	add_pgp_decoys enc.yaml few.yaml 3
	run env SOPS_AGE_KEY_FILE="$TMP/other.txt" SOPS_GPG_EXEC="$TMP/fakegpg" "$GITSEAL_BIN" decrypt few.yaml
	[ "$status" -eq 128 ]
	[[ "$output" == *"3 pgp keys: cannot decrypt: gpg: decryption failed: No secret key"* ]]
	[ "$(wc -l <gpg.log)" -eq 3 ]
	# and the file's own key still opens a file with a few decoys
	SOPS_AGE_KEY_FILE="$TMP/key.txt" SOPS_GPG_EXEC="$TMP/fakegpg" gitseal decrypt few.yaml | grep -qx 'a: secret'
}

# add_age_decoys IN OUT RECIPIENTS: IN with an age entry before its own for
# each line of the file RECIPIENTS, each enc a truncated age file
add_age_decoys() {
	python3 - "$@" <<-'PY'
	import json, sys
	src, dst, names = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().splitlines()
	s = open(src).read()
	i = s.index("    age:\n") + len("    age:\n")
	ents = "".join("        - enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            YWdl\n"
	               "            -----END AGE ENCRYPTED FILE-----\n          recipient: %s\n"
	               % json.dumps(r) for r in names)
	open(dst, "w").write(s[:i] + ents + s[i:])
	PY
}

@test "SOPS_AGE_KEY_CMD runs only for recipients that are age recipients, never for text a file chose" {
	printf '#!/bin/sh\nprintf "%%s\\n" "$SOPS_AGE_RECIPIENT" >>"%s/cmd.log"\n' "$TMP" >keycmd
	chmod +x keycmd
	printf '%s\n' '$(touch pwned)' 'x y' 'age1 --help' >names
	add_age_decoys enc.yaml bad.yaml names
	run env SOPS_AGE_KEY_FILE="$TMP/other.txt" SOPS_AGE_KEY_CMD="$TMP/keycmd" "$GITSEAL_BIN" decrypt bad.yaml
	[ "$status" -eq 128 ]
	[[ "$output" == *"error: 'bad.yaml': cannot recover the data key: no key opened it (tried 4 age keys"* ]]
	# the file's own recipient was asked for, nothing else
	[ "$(cat cmd.log)" = "$(gitseal keygen -y key.txt)" ]
}

@test "a file with hundreds of recipients does not run SOPS_AGE_KEY_CMD hundreds of times" {
	printf '#!/bin/sh\necho run >>"%s/cmd.log"\n' "$TMP" >keycmd
	chmod +x keycmd
	# 300 recipients of gitseal keygen, made once (a keygen each per run
	# cost 900 processes, half a minute of CPU under ASan)
	add_age_decoys enc.yaml bad.yaml "$REPO_ROOT/tests/cli/data/300-age-recipients.txt"
	run env SOPS_AGE_KEY_FILE="$TMP/other.txt" SOPS_AGE_KEY_CMD="$TMP/keycmd" "$GITSEAL_BIN" decrypt bad.yaml
	[ "$status" -eq 2 ]
	[[ "$output" == *"error: 'bad.yaml': 301 age keys with SOPS_AGE_KEY_CMD set, more than 64"* ]]
	[ ! -e cmd.log ]
	# without a key command, the identities in hand are tried on every entry
	run env SOPS_AGE_KEY_FILE="$TMP/other.txt" "$GITSEAL_BIN" decrypt bad.yaml
	[ "$status" -eq 128 ]
	[ "$output" = "gitseal: error: 'bad.yaml': cannot recover the data key: no key opened it (tried 301 age keys)" ]
	SOPS_AGE_KEY_FILE="$TMP/key.txt" gitseal decrypt bad.yaml | grep -qx 'a: secret'
}

@test "gpg that writes without end (a compression bomb in enc) is stopped at 1 MiB" {
	printf '#!/bin/sh\ncat >/dev/null\nexec yes\n' >bombgpg
	chmod +x bombgpg
	add_pgp_decoys enc.yaml bad.yaml 1
	run timeout 60 env SOPS_AGE_KEY_FILE="$TMP/other.txt" SOPS_GPG_EXEC="$TMP/bombgpg" "$GITSEAL_BIN" decrypt bad.yaml
	[ "$status" -eq 128 ]
	[[ "$output" == *"error: 'bad.yaml': cannot recover the data key: no key opened it (tried 1 age key, 1 pgp key: $TMP/bombgpg: output too large"* ]]
}

@test "a file with thousands of age entries is refused before any is tried" {
	# each decoy is a real X25519 stanza for another key: tried in full (about
	# 0.1 ms each, 100,000 took 10 s; ssh-rsa identities cost ten times more)
	gitseal encrypt --age "$(gitseal keygen -y other.txt)" plain.yaml >other.yaml
	python3 - <<-'PY'
	o = open("other.yaml").read()
	ent = o[o.index("        - enc: |"):o.index("    lastmodified:")]
	s = open("enc.yaml").read()
	k = s.index("    age:\n") + len("    age:\n")
	open("bad.yaml", "w").write(s[:k] + ent * 1100 + s[k:])
	open("ok.yaml", "w").write(s[:k] + ent * 1000 + s[k:])
	PY
	run env SOPS_AGE_KEY_FILE="$TMP/key.txt" "$GITSEAL_BIN" decrypt bad.yaml
	[ "$status" -eq 2 ]
	[[ "$output" == *"error: 'bad.yaml': 1101 age keys, more than 1024"* ]]
	SOPS_AGE_KEY_FILE="$TMP/key.txt" gitseal decrypt ok.yaml | grep -qx 'a: secret'
}

@test "encrypt refuses more keys than decrypt would try: it could not read the file back" {
	# 1025 distinct age recipients (random X25519 public keys, bech32 "age")
	python3 - "$(gitseal keygen -y key.txt)" <<-'PY' >many.txt
	import os, sys
	C = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	def polymod(v):
	    g = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
	    c = 1
	    for x in v:
	        b = c >> 25
	        c = (c & 0x1ffffff) << 5 ^ x
	        for i in range(5):
	            c ^= g[i] if (b >> i) & 1 else 0
	    return c
	def enc(data):
	    acc = bits = 0
	    out = []
	    for b in data:
	        acc = acc << 8 | b
	        bits += 8
	        while bits >= 5:
	            bits -= 5
	            out.append(acc >> bits & 31)
	    if bits:
	        out.append(acc << (5 - bits) & 31)
	    hrp = [ord(x) >> 5 for x in "age"] + [0] + [ord(x) & 31 for x in "age"]
	    pm = polymod(hrp + out + [0] * 6) ^ 1
	    return "age1" + "".join(C[d] for d in out + [pm >> 5 * (5 - i) & 31 for i in range(6)])
	keys = [sys.argv[1]] + [enc(os.urandom(32)) for _ in range(1024)]
	print(",".join(keys))
	PY
	run "$GITSEAL_BIN" encrypt --age "$(cat many.txt)" plain.yaml
	[ "$status" -eq 2 ]
	[[ "$output" == *"error: 'plain.yaml': 1025 age keys, more than 1024"* ]]
	# 1024 are written and read back
	cut -d, -f1-1024 many.txt >some.txt
	gitseal encrypt --age "$(cat some.txt)" plain.yaml >some.yaml
	SOPS_AGE_KEY_FILE="$TMP/key.txt" gitseal decrypt some.yaml | grep -qx 'a: secret'
}

@test "encrypt refuses more pgp and vault keys than decrypt would try, before gpg runs" {
	fps=$(python3 -c "import os; print(','.join(os.urandom(20).hex().upper() for _ in range(65)))")
	run env SOPS_GPG_EXEC="$TMP/fakegpg" "$GITSEAL_BIN" encrypt --pgp "$fps" plain.yaml
	[ "$status" -eq 2 ]
	[[ "$output" == *"error: 'plain.yaml': 65 pgp and vault keys, more than 64"* ]]
	[ ! -e gpg.log ]
}
