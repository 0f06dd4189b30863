#!/usr/bin/env bats
# Red team 8 on the sops commands: how .sops.yaml's RE2 patterns read on
# glibc's regex engine (src/util/re2posix.c), where a pattern read
# otherwise than sops reads it leaves in clear a value sops encrypts.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# unencrypted_rule REGEX: a .sops.yaml whose one rule leaves REGEX in clear
unencrypted_rule() {
	printf 'creation_rules:\n  - unencrypted_regex: %s\n    age: %s\n' "'$1'" "$DEMO_RECIPIENT" >.sops.yaml
}

# R1: RE2 reads an escaped '<' or '>' as the character; glibc read "\>" as
# the end of a word, so "^(public|token\>)" (to a reader of RE2: public*
# and a key "token>") left the key "token" in clear; and RE2's '.' is no
# newline, so "^public.*$" left a key "public<newline>password" in clear.
@test "R1: an escaped '>' and a '.' read as RE2 reads them: no value sops encrypts is left in clear" {
	unencrypted_rule '^(public|token\>)'
	printf 'token: hunter2\npublic: hello\n"token>": x\n' >a.yaml
	gitseal encrypt a.yaml >a.enc.yaml
	grep -q '^token: ENC\[' a.enc.yaml
	grep -qx 'public: hello' a.enc.yaml
	grep -qx '"token>": x' a.enc.yaml
	unencrypted_rule '^public.*$'
	printf '"public\\npassword": hunter2\npublic_note: hello\n' >b.yaml
	gitseal encrypt b.yaml >b.enc.yaml
	grep -q '^"public\\npassword": ENC\[' b.enc.yaml
	grep -qx 'public_note: hello' b.enc.yaml
	[ -z "$(grep -l hunter2 a.enc.yaml b.enc.yaml)" ]
	# a POSIX collating symbol's spelling: RE2 reads the members '[', '.',
	# 't' and then a ']' (refused before; written as RE2 reads it since)
	printf 'token: hunter2\n"t]oken": x\n' >c.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" --unencrypted-regex '^[[.t.]]oken$' c.yaml >c.enc.yaml
	grep -q '^token: ENC\[' c.enc.yaml
	grep -qx '"t]oken": x' c.enc.yaml
}

# R2: sops reads .sops.yaml with yaml.v3, which applies a merge key ('<<');
# libyaml leaves it a key named '<<'. A rule '<<: {path_regex: ^nothing$}'
# (for sops: no path) was a rule for every path here, so encrypt sealed
# the file for its recipient alone where sops seals for the next rule's.
# Likewise a !!binary scalar: yaml.v3 decodes it into a string field.
# merged_rules: a first rule whose path_regex comes through a merge key
merged_rules() {
	printf 'creation_rules:\n  - <<: {path_regex: ^nothing$}\n    age: %s\n  - path_regex: ^secrets/\n    age: %s\n' \
		"$other" "$DEMO_RECIPIENT" >.sops.yaml
}

@test "R2: a YAML merge key or a !!binary value in .sops.yaml is refused, not read otherwise than sops reads it" {
	mkdir secrets
	printf 'password: hunter2\n' >secrets/a.yaml
	other=$(grep -o 'age1[a-z0-9]*' "$KEYS/test-age-key-2.txt" | head -1)
	merged_rules
	run -1 gitseal encrypt secrets/a.yaml
	[ "$output" = "gitseal: error: 'secrets/a.yaml': $TMP/.sops.yaml: '.sops.yaml': a YAML merge key ('<<') is not supported: sops reads it otherwise than gitseal would" ]
	# a !!binary value is its decoded bytes to sops (here ^secrets/), its base64 text to libyaml
	printf 'creation_rules:\n  - path_regex: !!binary XnNlY3JldHMv\n    age: %s\n  - age: %s\n' \
		"$DEMO_RECIPIENT" "$other" >.sops.yaml
	run -1 gitseal encrypt secrets/a.yaml
	[ "$output" = "gitseal: error: 'secrets/a.yaml': $TMP/.sops.yaml: '.sops.yaml': a !!binary value is not supported: sops reads it otherwise than gitseal would" ]
	# without them, the rules sops reads
	merged_rules
	sed -i 's/<<: {path_regex: \^nothing\$}/path_regex: ^nothing$/' .sops.yaml
	gitseal encrypt secrets/a.yaml | grep -qF "recipient: $DEMO_RECIPIENT"
}
