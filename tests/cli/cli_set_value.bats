#!/usr/bin/env bats
# Issue 18, point 6: set's --value-file and --value-stdin as sops has them:
# two bool flags; with --value-file the third word is a file holding the
# JSON value, with --value-stdin there is no third word.

load ../helpers

setup() {
	setup_demo
	printf 'a: secret\nn: 1\n' >plain.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
	printf '{"user": "bob", "port": 5432}\n' >value.json
}
teardown() { teardown_tmp; }

# sops: cmd/sops/main.go:1458-1461 (value-file is a BoolFlag),
# main.go:1527-1533 (the third positional word is the file)
@test "set --value-file FILE PATH VALUEFILE: sops's form" {
	gitseal set --value-file enc.yaml '["a"]' value.json
	[ "$(gitseal_fixture decrypt --extract '["a"]["user"]' enc.yaml)" = bob ]
	[ "$(gitseal_fixture decrypt --extract '["a"]["port"]' enc.yaml)" = 5432 ]
	# the flag may also follow the words (urfave moves known flags forward)
	printf '"again"\n' >v2.json
	gitseal set enc.yaml '["n"]' v2.json --value-file
	[ "$(gitseal_fixture decrypt --extract '["n"]' enc.yaml)" = again ]
	# nothing of the value on the command line: no secret in a process listing
	# bob as a word: base64 ciphertext holds the letters by chance (about one file in 250)
	! grep -qE '(^|[^A-Za-z0-9+/])bob([^A-Za-z0-9+/=]|$)' enc.yaml || false
}

# sops: cmd/sops/main.go:1491-1494 (exactly two words with --value-stdin),
# main.go:1521-1526 (the value read from standard input)
@test "set --value-stdin FILE PATH: the value on standard input" {
	printf '"from stdin"' | gitseal set --value-stdin enc.yaml '["a"]'
	[ "$(gitseal_fixture decrypt --extract '["a"]' enc.yaml)" = "from stdin" ]
	run -100 gitseal set --value-stdin enc.yaml '["a"]' '"extra"'
	[[ $output == *"usage: gitseal set --value-stdin FILE"* ]]
}

# sops: cmd/sops/main.go:1488-1490 (both: ErrorGeneric, 1), 1496 (three
# words without --value-stdin: 100), 1530 (a value file that cannot be
# read: toExitError, 1), 2561 (a value that is not JSON: 7)
@test "set: both flags 1, a missing value file 1, a value file that is not JSON 7" {
	cp enc.yaml before.yaml
	run -1 gitseal set --value-file --value-stdin enc.yaml '["a"]' value.json
	[[ $output == *"cannot use both --value-file and --value-stdin"* ]]
	run -100 gitseal set --value-file enc.yaml '["a"]'
	[[ $output == "gitseal: error: usage: gitseal set FILE"* ]]
	run -1 gitseal set --value-file enc.yaml '["a"]' missing.json
	[[ $output == *"missing.json"* ]]
	printf 'not json\n' >bad.json
	run -7 gitseal set --value-file enc.yaml '["a"]' bad.json
	[[ $output == *"the value is not valid JSON"* ]]
	cmp enc.yaml before.yaml
}

# sops: cmd/sops/main.go:1535 (the third word itself is the JSON value); a
# negative number is a word, not a flag (Go's flag stops at the first word)
@test "set FILE PATH VALUE, with a negative number" {
	gitseal set enc.yaml '["n"]' -1
	[ "$(gitseal_fixture decrypt --extract '["n"]' enc.yaml)" = -1 ]
}

# Red-team finding (2026-12-03): set exited 0 and decrypt then refused the
# file (exit 4). dotenv and INI hold text: a number or boolean set there is
# its text; a value those stores cannot give back is refused before
# anything is written.
@test "set in dotenv and INI: numbers and booleans as text; a value the store cannot give back refused, nothing written" {
	printf 'A=x\n' >s.env
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" s.env >e.env
	gitseal set e.env '["A"]' 5
	gitseal set e.env '["B"]' true
	[ "$(gitseal_fixture decrypt e.env)" = "$(printf 'A=5\nB=true')" ]
	cp e.env before.env
	run -4 gitseal set e.env '["A"]' '"C:\\new"'
	[[ $output == "gitseal: error: 'e.env': set: the file's format cannot give this value back as given ("*'["A"] differs; nothing written)' ]]
	[[ $output != *new* ]]
	cmp e.env before.env
	[ "$(gitseal_fixture decrypt e.env)" = "$(printf 'A=5\nB=true')" ]

	printf '[s]\nk = v\n' >s.ini
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" s.ini >e.ini
	gitseal set e.ini '["s"]["k"]' 1.5
	[ "$(gitseal_fixture decrypt e.ini)" = "$(printf '[s]\nk = 1.5')" ]
	cp e.ini before.ini
	run -4 gitseal set e.ini '["s"]["k"]' null
	cmp e.ini before.ini
}

# kept_but PATTERN BEFORE AFTER: the two files are the same once the lines
# matching PATTERN (the values set, the mac and lastmodified) are left out
kept_but() {
	diff -u <(grep -Ev "$1" "$2") <(grep -Ev "$1" "$3")
}

# Red team 11: set of an INI section wrote a second [db] beside the old
# one, which read back merged (MAC mismatch): the fresh layout was written
# with a warning and the file's comments and spacing were lost. unset of
# the section before [sops] left the metadata twice (the same fallback).
@test "set and unset keep the file's layout in INI, dotenv, YAML and JSON: no warning, only the values set change" {
	printf '[app]\n; the port\nport = 80\n\n[db]\nuser = alice\npass = hunter2 ; old\n\n[end]\nk = v\n' >s.ini
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" s.ini >e.ini
	cp e.ini before.ini
	run --separate-stderr gitseal set e.ini '["db"]' '{"user": "bob", "token": "t"}'
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	kept_but '^(user|pass|token|mac|lastmodified) ' before.ini e.ini
	[ "$(gitseal_fixture decrypt e.ini)" = "$(printf '[app]\n; the port\nport = 80\n\n[db]\nuser = bob\ntoken = t\n\n[end]\nk = v')" ]
	cp e.ini before.ini
	run --separate-stderr gitseal unset e.ini '["end"]'
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	kept_but '^(\[end\]$|(k|mac|lastmodified) )' before.ini e.ini
	[ "$(grep -c '^\[sops\]' e.ini)" = 1 ]
	[ "$(gitseal_fixture decrypt e.ini)" = "$(printf '[app]\n; the port\nport = 80\n\n[db]\nuser = bob\ntoken = t\n')" ]

	printf '# top\nA=1\n\n# b\nB=2\nC=3\n' >s.env
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" s.env >e.env
	cp e.env before.env
	run --separate-stderr gitseal set e.env '["B"]' '"x"'
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	kept_but '^(B|sops_mac|sops_lastmodified)=' before.env e.env
	[ "$(gitseal_fixture decrypt e.env)" = "$(printf '# top\nA=1\n\n# b\nB=x\nC=3')" ]

	printf '# top\ndb:\n  user: alice  # who\n  pass: hunter2\nport: 80 # keep\n' >s.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" s.yaml >e.yaml
	cp e.yaml before.yaml
	run --separate-stderr gitseal set e.yaml '["db"]' '{"user": "bob", "token": "t"}'
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	kept_but '^ *(user|pass|token|mac|lastmodified):' before.yaml e.yaml
	[ "$(gitseal_fixture decrypt e.yaml)" = "$(printf '# top\ndb:\n  user: bob\n  token: t\nport: 80 # keep')" ]

	printf '{\n  "db": {"user": "alice", "pass": "hunter2"},\n  "port": 80\n}\n' >s.json
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" s.json >e.json
	cp e.json before.json
	run --separate-stderr gitseal set e.json '["db"]' '{"user": "bob", "token": "t"}'
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	kept_but '^ *("db"|"mac"|"lastmodified"):' before.json e.json
	[ "$(gitseal_fixture decrypt e.json)" = "$(printf '{\n  "db": {"user": "bob", "token": "t"},\n  "port": 80\n}')" ]
}
