#!/usr/bin/env bats
# Issue 18, point 1: sops's global flags come before the command
# (`sops --config X decrypt F`), the legacy mode applies only when the first
# word after them is not a command, each command takes the flags of its
# option table and refuses others (exit 1, as sops), and no editor is ever
# started where nobody can use it.

load ../helpers

setup() {
	setup_demo
	unset EDITOR SOPS_EDITOR SOPS_CONFIG
	mkdir conf
	printf 'creation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >conf/c.yaml
	printf 'a: secret\n' >plain.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
}
teardown() { teardown_tmp; }

# sops: cmd/sops/main.go:1845 (--config is an application flag; urfave/cli
# parses those before the command's name)
@test "--config before the command: sops's documented form, no editor, no legacy mode" {
	EDITOR=/bin/false gitseal --config conf/c.yaml decrypt enc.yaml | cmp - plain.yaml
	EDITOR=/bin/false gitseal --config conf/c.yaml encrypt plain.yaml >out.yaml
	[ ! -e encrypt ]
	grep -q "recipient: $DEMO_RECIPIENT" out.yaml
	gitseal decrypt out.yaml | cmp - plain.yaml
	# gitseal also takes it after the command
	gitseal encrypt --config conf/c.yaml plain.yaml >/dev/null
}

# sops: cmd/sops/main.go:2119 (mac-only-encrypted: c.GlobalBool),
# main.go:2391 (indent: c.GlobalIsSet), main.go:2117 (the comment regexes
# are read through the lineage: encrypt does not declare them)
@test "--verbose, --indent, --mac-only-encrypted and the comment regexes before the command" {
	run -0 gitseal --verbose --config conf/c.yaml --mac-only-encrypted --unencrypted-comment-regex keep \
		encrypt plain.yaml
	[[ $output == *"gitseal: config 'conf/c.yaml'"* ]]
	[[ $output == *"mac_only_encrypted: true"* ]]
	[[ $output == *"unencrypted_comment_regex: keep"* ]]
	printf '{"a": {"b": 1}}\n' >p.json
	gitseal encrypt --age "$DEMO_RECIPIENT" p.json >e.json
	[ "$(gitseal --indent 2 decrypt e.json)" = "$(printf '{\n  "a": {\n    "b": 1\n  }\n}')" ]
}

# sops: urfave/cli context.go lookupFlagSet (a flag the command declares is
# looked up in the command's own set: the global value is not seen)
@test "a command's own flag given before it is ignored, as sops ignores it, and said" {
	run -0 gitseal --output out.yaml decrypt enc.yaml
	[ ! -e out.yaml ]
	[[ $output == *" --output before 'decrypt' is ignored, as sops ignores it: put it after 'decrypt'"* ]]
}

@test "a command's near-miss, or a git-crypt habit, is said, not edited as a new file" {
	run -1 gitseal decryt enc.yaml
	[ "$output" = "gitseal: error: 'decryt' is not a command: did you mean 'gitseal decrypt'? (to edit a new file of that name: gitseal edit decryt)" ]
	run -1 gitseal unlock
	[ "$output" = "gitseal: error: 'unlock' is not a command: did you mean 'gitseal git unlock'? (to edit a new file of that name: gitseal edit unlock)" ]
	run -1 gitseal age-keygen
	[[ "$output" == *"did you mean 'gitseal keygen'?"* ]]
	[ ! -e decryt ]
	# a file of that name is edited, as in sops
	echo hi >decryt
	gitseal encrypt --age "$DEMO_RECIPIENT" -i decryt
	run -200 env SOPS_EDITOR=true "$GITSEAL_BIN" decryt
}

# sops: cmd/sops/main.go:1885 (app.Action: the legacy mode runs when no
# command matched the first word)
@test "legacy mode only when the first word is not a command, even if a file has its name" {
	cp plain.yaml encrypt
	gitseal encrypt --age "$DEMO_RECIPIENT" --filename-override x.yaml <plain.yaml | grep -q "^sops:$"
	cmp encrypt plain.yaml
	gitseal -d enc.yaml | cmp - plain.yaml
	gitseal --decrypt --config conf/c.yaml enc.yaml | cmp - plain.yaml
	gitseal --set '["a"] "changed"' enc.yaml
	[ "$(gitseal -d --extract '["a"]' enc.yaml)" = changed ]
	run -8 gitseal -d -e enc.yaml
	[[ $output == *"only one of --encrypt, --decrypt, --rotate and --set may be given"* ]]
	run -7 gitseal --set 'a 1' enc.yaml
	[[ $output == *"invalid --set format"* ]]
}

# sops: urfave/cli command.go parseFlags error, then main.go:2108 log.Fatal
# (exit 1); cmd/sops/main.go:789 (decrypt's flags: no --age)
@test "an unknown flag, or one the command does not take: exit 1 and Go's message" {
	run -1 gitseal decrypt --bogus enc.yaml
	[ "${lines[0]}" = "gitseal: error: flag provided but not defined: -bogus" ]
	run -1 gitseal decrypt --age "$DEMO_RECIPIENT" enc.yaml
	[[ $output == *"flag provided but not defined: -age"* ]]
	# after the file too: a mistyped flag is never taken for a file name
	run -1 gitseal decrypt enc.yaml --in-plase
	[[ $output == *"flag provided but not defined: -in-plase"* ]]
	run -1 gitseal --bogus decrypt enc.yaml
	[[ $output == *"flag provided but not defined: -bogus"* ]]
	run -1 gitseal decrypt --indent four enc.yaml
	[[ $output == *'invalid value "four" for flag -indent: parse error'* ]]
}

# sops: cmd/sops/main.go:62 (more than one positional argument: a warning,
# the first one is used)
# docs/exit-codes.md: each command family's usage code (age, keygen, render,
# krm: 1; gitseal git: 2)
@test "sops's global flags before a command that takes none: its own usage code and one line" {
	for cmd in age keygen render krm; do
		run -1 gitseal --config c.yaml "$cmd" </dev/null
		[ "$output" = "gitseal: error: '$cmd' takes no global flags: put its flags after it" ]
	done
	run -2 gitseal --config c.yaml git status
	[ "$output" = "gitseal: error: 'git' takes no global flags: put its flags after it" ]
}

@test "more than one file: warned about, the first one is used" {
	run -0 gitseal decrypt enc.yaml plain.yaml
	[[ $output == *"more than one positional argument: only the first one, 'enc.yaml', is used"* ]]
}

# The usage text is generated from the option table: every flag a command
# takes is listed, sops's cloud KMS flags are taken (to be refused) but not
# listed. sops: cmd/sops/main.go:935 (encrypt's --kms)
@test "usage from the option table; refused KMS flags are not advertised" {
	run -0 gitseal encrypt --help
	for flag in --in-place --output --age --pgp --hc-vault-transit --input-type --output-type \
		--unencrypted-suffix --encrypted-suffix --unencrypted-regex --encrypted-regex \
		--shamir-secret-sharing-threshold --filename-override --config --verbose --indent \
		--unencrypted-comment-regex --encrypted-comment-regex --mac-only-encrypted; do
		[[ $output == *" $flag "* ]] || { echo "missing $flag"; false; }
	done
	[[ $output != *--kms* ]]
	run -1 gitseal encrypt --kms arn:aws:kms:eu-west-1:1:key/x plain.yaml
	[[ $output == *"--kms: gitseal cannot encrypt for kms keys"* ]]
	run -0 gitseal help decrypt
	[[ $output == *"--extract PATH"* ]]
	run -0 gitseal -v
	[[ $output == "gitseal "*"(sops 3.13.2 format, age v1)" ]]
}

# sops: cmd/sops/edit.go:323 (vim, nano or vi when no editor is set). A CI
# job has no terminal: gitseal does not start them there (201 at once).
@test "no editor is started without a terminal: 201 at once, for edit and the legacy mode" {
	run -201 timeout 10 "$GITSEAL_BIN" edit enc.yaml </dev/null
	[[ $output == *"no editor: set SOPS_EDITOR or EDITOR (vim, nano and vi are started only on a terminal)"* ]]
	run -201 timeout 10 "$GITSEAL_BIN" enc.yaml </dev/null
	[[ $output == "gitseal: error: 'enc.yaml': no editor: set SOPS_EDITOR or EDITOR"* ]]
	run -201 timeout 10 "$GITSEAL_BIN" --config conf/c.yaml new.yaml </dev/null
	[[ $output == "gitseal: error: 'new.yaml': no editor: set SOPS_EDITOR or EDITOR"* ]]
	[ ! -e new.yaml ]
}

# sops: cmd/sops/main.go:383, 475, 165 (publish, keyservice, completion);
# gitseal leaves them out (docs/sops-parity.md) and says so in one line
@test "publish, keyservice and completion: not supported, one line, exit 1" {
	for cmd in publish keyservice completion; do
		run -1 gitseal "$cmd" enc.yaml
		[ "${#lines[@]}" -eq 1 ]
		[[ ${lines[0]} == "gitseal: error: $cmd is not supported: "* ]]
	done
	run -1 gitseal decrypt --keyservice tcp://127.0.0.1:5000 enc.yaml
	[[ $output == *"gitseal has no remote key service"* ]]
	SOPS_KEYSERVICE=tcp://127.0.0.1:5000 run -1 "$GITSEAL_BIN" decrypt enc.yaml
	[ "$output" = "gitseal: error: 'enc.yaml': SOPS_KEYSERVICE: gitseal has no remote key service; its keys are local only" ]
}

# sops: cmd/sops/main.go:1895 (no arguments: no file specified, 100)
@test "no arguments at all: 100, the usage on stderr" {
	run -100 gitseal
	[[ $output == *"usage: gitseal [global flags] COMMAND"* ]]
}
