#!/usr/bin/env bats
# Red team 9 on the sops commands: RE2 patterns of .sops.yaml that glibc's
# engine read otherwise than sops (src/util/re2posix.c), and writes that
# would not decrypt to what was given.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# R1: RE2's \s is [\t\n\f\r ]: a key "public<VT>password" is no match for
# "^public\s" in sops, so sops encrypts it; glibc's [[:space:]] has \v
# and left it in clear.
@test "R1: \\s does not match a vertical tab, as RE2's: the value sops encrypts is encrypted" {
	printf '"public\\vpassword": hunter2\n"public note": hello\n' >a.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" --unencrypted-regex '^public\s' a.yaml >a.enc.yaml
	grep -q '^"public\\vpassword": ENC\[' a.enc.yaml
	grep -qx '"public note": hello' a.enc.yaml
	[ -z "$(grep -l hunter2 a.enc.yaml)" ]
}

# R2: with (?i), RE2 folds the Kelvin sign (U+212A) to 'k' and the long s
# (U+017F) to 's': "(?i)^token$" selects a key "to<KELVIN>en" in sops.
# Under encrypted_regex, gitseal left its value in clear. A (?i) pattern
# with non-ASCII letters, whose folds glibc does not know, is refused.
@test "R2: (?i) folds as RE2 does, or the pattern is refused" {
	printf 'creation_rules:\n  - encrypted_regex: %s\n    age: %s\n' "'(?i)^token$'" "$DEMO_RECIPIENT" >.sops.yaml
	printf '"to\\u212Aen": hunter2\nTOKEN: hunter3\nname: hello\n' >a.yaml
	gitseal encrypt a.yaml >a.enc.yaml
	grep -qx 'name: hello' a.enc.yaml
	[ -z "$(grep -l 'hunter[23]' a.enc.yaml)" ]
	[ "$(gitseal decrypt a.enc.yaml | grep -c hunter)" = 2 ]
	run -1 gitseal encrypt --age "$DEMO_RECIPIENT" --encrypted-regex '(?i)^şecret$' a.yaml
	[[ "$output" == *"'(?i)^şecret\$': (?i) is supported for ASCII patterns only (RE2 folds Unicode case)" ]]
}

# R3: a key may hold a NUL byte ("public\0password" in YAML, "\u0000" in
# JSON); RE2 matches the whole key, regexec stopped at the NUL, so
# unencrypted_regex '^public$' left that key's value in clear where sops
# encrypts it.
@test "R3: a selection regex matches a key with a NUL byte whole, as RE2 does" {
	printf '"public\\0password": hunter2\npublic: hello\n' >a.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" --unencrypted-regex '^public$' a.yaml >a.enc.yaml
	grep -q '^"public\\0password": ENC\[' a.enc.yaml
	grep -qx 'public: hello' a.enc.yaml
	printf '{"public\\u0000password": "hunter2", "public": "hello"}\n' >a.json
	gitseal encrypt --age "$DEMO_RECIPIENT" --unencrypted-regex '^public$' a.json >a.enc.json
	[ -z "$(grep -l hunter2 a.enc.yaml a.enc.json)" ]
	grep -q '"public": "hello"' a.enc.json
	gitseal decrypt a.enc.json | cmp - a.json
}

# R4: a .sops.yaml string may hold a NUL byte ("^tok\0x" in double quotes);
# yaml.v3 keeps it whole, so sops's unencrypted_regex matches keys starting
# "tok<NUL>x" only. Read as a C string it was "^tok", which left the value
# of "token" in clear. Such a string is refused, as other YAML sops reads
# otherwise than gitseal would.
@test "R4: a .sops.yaml string with a NUL byte is refused, not read up to the NUL" {
	printf 'creation_rules:\n  - unencrypted_regex: "^tok\\0x"\n    age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	printf 'token: hunter2\n' >a.yaml
	run -1 gitseal encrypt a.yaml
	[ "$output" = "gitseal: error: 'a.yaml': $TMP/.sops.yaml: '.sops.yaml': a string with a NUL byte is not supported: sops reads it otherwise than gitseal would" ]
}

# R5: the same in a file's metadata (outside the MAC): sops keeps
# unencrypted_suffix "_unencrypted\0x" whole, so `set` of a key
# "b_unencrypted" encrypts its value; read up to the NUL, the suffix was
# the default and gitseal wrote the value in clear.
@test "R5: a selection option with a NUL byte in a file's metadata is refused" {
	printf 'a: 1\n' >a.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" a.yaml >a.enc.yaml
	sed -i 's/^    unencrypted_suffix: _unencrypted$/    unencrypted_suffix: "_unencrypted\\0x"/' a.enc.yaml
	grep -qF 'unencrypted_suffix: "_unencrypted\0x"' a.enc.yaml
	run -1 gitseal set a.enc.yaml '["b_unencrypted"]' '"s3cret"'
	[ "$output" = "gitseal: error: 'a.enc.yaml': sops metadata: unencrypted_suffix holds a NUL byte" ]
	run -1 grep -q s3cret a.enc.yaml
}

# R6: RE2 matches UTF-8 runes, glibc in the C locale bytes: under
# encrypted_regex '^.{1,8}$' sops encrypts the value of "pässwörd" (8 runes,
# 10 bytes), which gitseal left in clear; "[^_]{8}" and a repeated
# non-ASCII letter ("ä+", whose '+' ERE put on the last byte) likewise.
# A path_regex counts runes too.
@test "R6: '.', negated classes and repeats take UTF-8 runes, as RE2's: the values sops encrypts are encrypted" {
	printf 'creation_rules:\n  - path_regex: %s\n    encrypted_regex: %s\n    age: %s\n' \
		"'^.{3}\\.yaml\$'" "'^(.{1,8}|[^_]{9}|xä+)\$'" "$DEMO_RECIPIENT" >.sops.yaml
	printf 'p\xc3\xa4ssw\xc3\xb6rd: hunter1\nsch\xc3\xbcssel1: hunter2\nx\xc3\xa4\xc3\xa4: hunter3\nlonger_key: hello\n' >äöü.yaml
	gitseal encrypt äöü.yaml >a.enc.yaml
	grep -qx 'longer_key: hello' a.enc.yaml
	[ -z "$(grep -l 'hunter' a.enc.yaml)" ]
	[ "$(gitseal decrypt a.enc.yaml | grep -c hunter)" = 3 ]
	gitseal decrypt a.enc.yaml | cmp - äöü.yaml
}
