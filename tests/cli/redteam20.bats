#!/usr/bin/env bats
# Red team 20: the threat model's rows attacked by variants their tests did
# not try (another store, entry point or encoding); each test is one hole.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# R1: sops reads .sops.yaml with yaml.v3, which refuses a mapping giving a
# key twice; libyaml keeps both and gitseal read the first, where PyYAML
# (and so many a reviewer's tool) reads the last. A rule whose first
# 'unencrypted_regex' left the token in clear was a rule sops refuses.
@test "R1: a .sops.yaml giving a key twice in one mapping is refused, as sops refuses it (gitseal read the first)" {
	printf 'db: x\ntoken: t0ken-value\n' >p.yaml
	printf 'creation_rules:\n  - age: %s\n    unencrypted_regex: ^token$\n    "unencrypted_regex": ^nothing$\n' \
		"$DEMO_RECIPIENT" >.sops.yaml
	run -1 gitseal encrypt p.yaml
	[ "$output" = "gitseal: error: 'p.yaml': $TMP/.sops.yaml: '.sops.yaml': the key 'unencrypted_regex' is given twice in one mapping (line 4), which sops refuses" ]
	# one of them: the rule as sops reads it
	sed -i '3d' .sops.yaml
	gitseal encrypt p.yaml | grep -q '^token: ENC\['
}

# R2: a plain null given a string's tag ('path_regex: !!str null') is the
# string "null" to yaml.v3, so sops's rule is for paths holding "null";
# gitseal read no value, a rule for every path: encrypt sealed the file
# for that rule's recipient alone where sops seals it for the next rule's.
@test "R2: a .sops.yaml null given another tag ('!!str null', '! ~') is refused, not read as no value" {
	printf 'token: t0ken-value\n' >p.yaml
	other=$(grep -o 'age1[a-z0-9]*' "$KEYS/test-age-key-2.txt" | head -1)
	printf 'creation_rules:\n  - path_regex: !!str null\n    age: %s\n  - age: %s\n' "$other" "$DEMO_RECIPIENT" >.sops.yaml
	run -1 gitseal encrypt p.yaml
	[ "$output" = "gitseal: error: 'p.yaml': $TMP/.sops.yaml: '.sops.yaml': a null given another tag ('!!str null') is not supported: sops reads it otherwise than gitseal would" ]
	sed -i 's/!!str null/! ~/' .sops.yaml
	run -1 gitseal encrypt p.yaml
	# the string, quoted: the path holds no "null", the next rule's recipient
	sed -i 's/! ~/"null"/' .sops.yaml
	gitseal encrypt p.yaml | grep -qxF "          recipient: $DEMO_RECIPIENT"
}

# R3: rotate shows the recipients only a file's metadata names before it
# asks, and showed each as the metadata spells it: a control byte there
# (outside the MAC) could rewrite the line the user answers y or n to, as
# git init already prevents. Shown as \xNN now.
@test "R3: rotate shows a recipient from the metadata with its control bytes escaped, not sent to the terminal" {
	printf 'db: hunter2\n' >p.yaml
	printf 'creation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	gitseal_fixture encrypt p.yaml >app.yaml
	python3 - <<-'PY'
	s = open("app.yaml").read()
	start = s.index("        - enc: |")
	end = s.index("\n", s.index("          recipient:", start)) + 1
	s = s[:end] + s[start:s.index("          recipient:", start)] + '          recipient: "x\\e[1A\\e[2K\\rok"\n' + s[end:]
	open("planted.yaml", "w").write(s)
	PY
	gitseal decrypt planted.yaml | cmp - p.yaml
	run -1 gitseal rotate -i planted.yaml </dev/null
	[ "$output" = "gitseal: error: 'planted.yaml': recipients only in its metadata, not in .sops.yaml's creation rule for it: +x\\x1b[1A\\x1b[2K\\x0dok; the new data key would be readable by them (rotate -y to confirm)" ]
	# confirmed, the entry cannot be wrapped: named by its place, not its text
	run -1 gitseal rotate -y -i planted.yaml </dev/null
	[ "${lines[1]}" = "gitseal: error: 'planted.yaml': age recipient 2: unknown recipient type" ]
	[[ "$output" != *$'\e'* ]]
}

# R4: updatekeys shows the change before it asks, and wrote each key as
# the metadata or .sops.yaml spells it. A kms entry (kept, as gitseal
# cannot wrap for it, so the update goes through) whose arn is
# "\e[1A\e[2K" moved the cursor up and erased the "+++" line of a
# recipient a pull request added to .sops.yaml: on a terminal the user
# answered y to a change never shown. The git side showed them escaped.
@test "R4: updatekeys shows every key with its control bytes escaped: a kept kms entry cannot erase the +++ line" {
	other=$(grep -o 'age1[a-z0-9]*' "$KEYS/test-age-key-2.txt" | head -1)
	printf 'db: hunter2\n' >p.yaml
	printf 'creation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	gitseal_fixture encrypt p.yaml >app.yaml
	sed -i 's/^    lastmodified:/    kms:\n        - arn: "\\e[1A\\e[2K"\n          enc: AAAA\n          created_at: "2026-01-01T00:00:00Z"\n&/' app.yaml
	gitseal decrypt app.yaml | cmp - p.yaml
	printf 'creation_rules:\n  - age: %s,%s\n' "$DEMO_RECIPIENT" "$other" >.sops.yaml
	cp app.yaml before.yaml
	run -0 gitseal updatekeys app.yaml <<<n
	[ "${lines[0]}" = "    $DEMO_RECIPIENT" ]
	[ "${lines[1]}" = "+++ $other" ]
	[ "${lines[2]}" = '    kms \x1b[1A\x1b[2K (kept: gitseal cannot wrap for it)' ]
	[[ "$output" != *$'\e'* ]]
	cmp app.yaml before.yaml
}
