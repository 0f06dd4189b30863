#!/usr/bin/env bats
# Issue 18, point 4, and issue 19 (one code for usage errors, another for
# input that cannot be read, as sops has them): each case exits with sops's
# code (cmd/sops/codes/codes.go) and says what is wrong in one line.

load ../helpers

setup() {
	setup_demo
	printf 'a: secret\nn: 1\n' >plain.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
	mkdir dir
}
teardown() { teardown_tmp; }

# sops: cmd/sops/main.go:843, 1034, 1211 (os.Stat: NoFileSpecified, 100)
@test "a missing file for decrypt, encrypt, rotate: 100" {
	for cmd in decrypt encrypt rotate; do
		run -100 gitseal "$cmd" missing.yaml
		[ "$output" = "gitseal: error: cannot operate on non-existent file 'missing.yaml'" ]
	done
	run -100 gitseal -d missing.yaml
	[ "$output" = "gitseal: error: cannot operate on non-existent file 'missing.yaml'" ]
}

# sops: cmd/sops/common/common.go:146 (CouldNotReadInputFile, 2): the file
# is there but cannot be read; a usage error is 1 (issue 19)
@test "input that cannot be read: 2; a usage error: 1" {
	run -2 gitseal decrypt dir
	[[ $output == *"'dir'"* ]]
	run -2 gitseal set missing.yaml '["a"]' 1
	[[ $output == *"missing.yaml"* ]]
	printf 'a: [unclosed\n' >bad.yaml
	run -2 gitseal encrypt --age "$DEMO_RECIPIENT" bad.yaml
	[[ $output == *"'bad.yaml'"* ]]
	run -1 gitseal decrypt --no-such-flag enc.yaml
	[ "$output" = "gitseal: error: flag provided but not defined: -no-such-flag" ]
}

# sops: cmd/sops/decrypt.go:76 (Truncate fails: a plain error, 1); 91 is
# for a path that does not parse (main.go:875)
@test "--extract of an absent path: 1; a malformed path: 91" {
	run -1 gitseal decrypt --extract '["zz"]' enc.yaml
	[ "$output" = "gitseal: error: 'enc.yaml': component [\"zz\"] not found" ]
	run -91 gitseal decrypt --extract 'zz' enc.yaml
	[[ $output == *"invalid tree path 'zz'"* ]]
}

# sops: cmd/sops/unset.go (sops.SopsKeyNotFound through toExitError, 1)
@test "unset of an absent path: 1, the file unchanged; --idempotent: 0" {
	cp enc.yaml before.yaml
	run -1 gitseal unset enc.yaml '["zz"]'
	[[ $output == *"component [\"zz\"] not found"* ]]
	cmp enc.yaml before.yaml
	gitseal unset --idempotent enc.yaml '["zz"]'
}

# sops: cmd/sops/main.go:2499 (no keys: a plain error, 1), age/keysource.go
# MasterKeysFromRecipients (a bad recipient: a plain error, 1)
@test "no keys, or a recipient that does not parse: 1" {
	run -1 gitseal encrypt plain.yaml
	[ "$output" = "gitseal: error: config file not found, or has no creation rules, and no keys provided" ]
	run -1 gitseal encrypt --age age1nope plain.yaml
	[[ $output == *"age recipient 'age1nope'"* ]]
	# sops reads the rules even when --age gives the keys: the way out is said
	printf 'creation_rules:\n  - path_regex: nomatch\n    age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	run -1 gitseal encrypt --age "$DEMO_RECIPIENT" plain.yaml
	[ "$output" = "gitseal: error: no matching creation rules found for 'plain.yaml' (key flags do not skip .sops.yaml, as in sops: --config /dev/null does)" ]
	run -1 gitseal encrypt plain.yaml
	[ "$output" = "gitseal: error: no matching creation rules found for 'plain.yaml'" ]
}

# sops: cmd/sops/main.go:213, 327 (exec-* needs exactly two words: 1)
@test "exec-env and exec-file without a command: 1" {
	run -1 gitseal exec-env enc.yaml
	[ "$output" = "gitseal: error: missing command to run: gitseal exec-env FILE COMMAND" ]
	run -1 gitseal exec-file enc.yaml
	[ "$output" = "gitseal: error: missing command to run: gitseal exec-file FILE COMMAND" ]
	run -1 gitseal exec-env
	[ "$output" = "gitseal: error: missing file to decrypt: gitseal exec-env FILE COMMAND" ]
	# sops takes the command as one word: a newcomer's 'exec-env F echo hi'
	run -1 gitseal exec-env enc.yaml echo hi
	[ "$output" = "gitseal: error: the command is one argument: gitseal exec-env FILE 'COMMAND ARGS...'" ]
	# and --help says so
	run -0 gitseal exec-env --help
	[ "${lines[1]}" = "run a command (one argument, run by sh) with the top-level values in its environment" ]
	run -0 gitseal exec-file --help
	[ "${lines[1]}" = "run a command (one argument, run by sh) with the plaintext in a FIFO ({} in the command)" ]
}

# sops: cmd/sops/main.go:524 (no file: 100), filestatus.go:26 (any other
# failure is wrapped: "cannot check file status", 1)
@test "filestatus: no file 100, a file it cannot load 1, a plain file false" {
	run -100 gitseal filestatus
	[ "$output" = "gitseal: error: no file specified" ]
	run -1 gitseal filestatus missing.yaml
	[ "$output" = "gitseal: error: cannot open 'missing.yaml': No such file or directory" ]
	printf 'a: [unclosed\n' >bad.yaml
	run -1 gitseal filestatus bad.yaml
	[[ $output == "gitseal: error: 'bad.yaml': invalid YAML at line 2: "* ]]
	[ "$(gitseal filestatus plain.yaml)" = '{"encrypted":false}' ]
	[ "$(gitseal filestatus enc.yaml)" = '{"encrypted":true}' ]
}

# sops: cmd/sops/main.go:1212-1214 (CannotChangeKeysFromNonExistentFile, 49)
@test "rotate --add-age on a missing file: 49" {
	run -49 gitseal rotate --add-age "$DEMO_RECIPIENT" missing.yaml
	[[ $output == *"cannot add or remove keys on non-existent file 'missing.yaml'"* ]]
}

# sops: cmd/sops/decrypt.go:65-70 (EmitPlainFile fails: ErrorDumpingTree, 4)
@test "--output-type binary of a structured file: 4" {
	run -4 gitseal decrypt --output-type binary enc.yaml
	[[ $output == *"'enc.yaml'"* ]]
}

# sops: cmd/sops/main.go:1020, 830, 834 (ErrorConflictingParameters, 8)
@test "conflicting parameters: 8" {
	run -8 gitseal decrypt -i --output x.yaml enc.yaml
	[[ $output == *"cannot operate on both --output and --in-place"* ]]
	run -8 gitseal encrypt <plain.yaml
	[[ $output == *"must specify --filename-override when reading from stdin"* ]]
	run -8 gitseal decrypt -i <enc.yaml
	[ "$output" = "gitseal: error: cannot use --in-place when reading from stdin" ]
}

# sops: cmd/sops/main.go:1517, 2561 (ErrorInvalidSetFormat, 7);
# main.go:1493, 1497 (the words of set: NoFileSpecified, 100)
@test "set: a bad path or value 7, missing words 100" {
	run -7 gitseal set enc.yaml 'a' '1'
	[ "$output" = "gitseal: error: invalid tree path 'a' (expected e.g. '[\"key\"][0]')" ]
	run -7 gitseal set enc.yaml '["a"]' '{bad'
	[ "$output" = "gitseal: error: the value is not valid JSON (a string takes its quotes: '\"text\"')" ]
	run -100 gitseal set enc.yaml '["a"]'
	[[ $output == "gitseal: error: usage: gitseal set FILE '[\"key\"]' VALUE-JSON"* ]]
	run -100 gitseal unset enc.yaml
	[ "$output" = "gitseal: error: usage: gitseal unset FILE '[\"key\"]'" ]
}

# A value's IV is the file's: one longer than OpenSSL's GCM takes (128
# bytes) is a value that does not authenticate (exit 25, as a changed tag
# is), not an allocation that failed.
@test "a value whose IV is longer than GCM takes: authentication failed, 25, not out of memory" {
	iv=$(head -c 200 /dev/zero | tr '\0' '\1' | base64 -w0)
	sed -E "s/^(a: ENC\[AES256_GCM,data:[^,]*,iv:)[^,]*,/\1$iv,/" enc.yaml >long_iv.yaml
	grep -qF "iv:$iv," long_iv.yaml
	run -25 gitseal decrypt long_iv.yaml
	[ "$output" = "gitseal: error: 'long_iv.yaml': value at 'a:': cannot decrypt value: authentication failed" ]
}
