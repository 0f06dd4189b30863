#!/usr/bin/env bats
# Rule 1 ("exit 0 means decrypt gives back exactly what you gave"), from the
# differential harness tests/redteam/rule1.py: each test is one defect it
# found, with the input bytes given here.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

@test "decrypt --extract of an empty list or a null prints a value that reads back as it (YAML and JSON)" {
	printf 'e: []\nn: null\nt: ~\nb:\n' >in.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
	# an empty output reads as null (YAML) or not at all (JSON): sops prints
	# yaml.Marshal's '[]' and 'null', json.Marshal's 'null'
	run -0 gitseal decrypt --extract '["e"]' enc.yaml
	[ "$output" = "[]" ]
	gitseal decrypt --extract '["e"]' enc.yaml | cmp - <(printf '[]\n')
	for k in n t b; do
		gitseal decrypt --extract "[\"$k\"]" enc.yaml | cmp - <(printf 'null\n')
		gitseal decrypt --extract "[\"$k\"]" --output-type json enc.yaml | cmp - <(printf 'null')
	done
	gitseal decrypt --extract '["e"]' --output-type json enc.yaml | cmp - <(printf '[]')
	printf '{"n": null, "e": []}' >in.json
	gitseal encrypt --age "$DEMO_RECIPIENT" in.json >enc.json
	gitseal decrypt --extract '["n"]' enc.json | cmp - <(printf 'null')
	gitseal decrypt --extract '["e"]' enc.json | cmp - <(printf '[]')
}

# set_both N: two `gitseal set` of two keys of enc.yaml at once, N times;
# every set that exits 0 must have its value in the file afterwards, and a
# set that lost the race exits 3 with one line saying so
set_both() {
	local i a b
	for i in $(seq 1 "$1"); do
		cp enc.orig enc.yaml
		"$GITSEAL_BIN" set enc.yaml '["x1"]' '"one"' 2>err1 &
		a=$!
		"$GITSEAL_BIN" set enc.yaml '["x2"]' '"two"' 2>err2 &
		b=$!
		wait "$a" && ra=0 || ra=$?
		wait "$b" && rb=0 || rb=$?
		gitseal_fixture decrypt enc.yaml >dec.yaml
		if [ "$ra" -eq 0 ]; then grep -qx 'x1: one' dec.yaml; else lost "$ra" err1; fi
		if [ "$rb" -eq 0 ]; then grep -qx 'x2: two' dec.yaml; else lost "$rb" err2; fi
		[ "$ra" -eq 0 ] || [ "$rb" -eq 0 ]
	done
}

lost() {
	[ "$1" -eq 3 ]
	[ "$(wc -l <"$2")" -eq 1 ]
	grep -qx "gitseal: error: cannot replace '.*enc.yaml': it changed since it was read; nothing written" "$2"
}

@test "two gitseal set of one file at once: no set exits 0 and loses its value" {
	# large enough that both read the file before either replaces it
	python3 -c "print('a: 1'); [print('k%d: %s' % (i, 'x' * 100)) for i in range(2000)]" >big.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" big.yaml >enc.orig
	# 3 rounds, not 10: every round of 10 collided (one set exited 3, ASan
	# and release builds), and without the check every round lost a value
	set_both 3
}

@test "encrypt: a JSON string with an unpaired surrogate escape is refused (it has no UTF-8 form to give back)" {
	# Go's encoding/json reads \ud800 alone as U+FFFD; sealing that would
	# exit 0 and decrypt to another string
	for s in '\ud800' 'a\udfaax' '\udd1e\ud834' '\ud800\u0041'; do
		printf '{"k": "%s", "o": 1}\n' "$s" >in.json
		cp in.json in.orig
		run --separate-stderr gitseal encrypt --age "$DEMO_RECIPIENT" -i in.json
		[ "$status" -eq 2 ]
		[ "$stderr" = "gitseal: error: 'in.json': invalid JSON at line 1: an unpaired surrogate (\\u escape) has no UTF-8 form" ]
		cmp in.json in.orig
	done
	# a key too
	printf '{"\\udc00": 1}' >key.json
	run --separate-stderr gitseal encrypt --age "$DEMO_RECIPIENT" key.json
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'key.json': invalid JSON at line 1: an unpaired surrogate (\\u escape) has no UTF-8 form" ]
	# a pair is one character and comes back
	printf '{"k": "\\ud834\\udd1e"}' >pair.json
	gitseal encrypt --age "$DEMO_RECIPIENT" pair.json >enc.json
	[ "$(gitseal decrypt --extract '["k"]' enc.json)" = "$(printf '\xf0\x9d\x84\x9e')" ]
}

@test "filestatus: a full standard output is a failure (1, one line), not exit 0 with no answer" {
	printf 'a: 1\n' >in.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
	[ -w /dev/full ] || skip "no /dev/full"
	run --separate-stderr gitseal filestatus enc.yaml
	[ "$status" -eq 0 ]
	[ "$output" = '{"encrypted":true}' ]
	run --separate-stderr bash -c '"$0" filestatus enc.yaml >/dev/full' "$GITSEAL_BIN"
	[ "$status" -eq 1 ]
	[ "$stderr" = "gitseal: error: 'enc.yaml': cannot write to standard output: No space left on device" ]
}

# as_user CMD...: runs CMD where a read-only directory stops it (root
# ignores the mode: it runs as nobody)
as_user() {
	if [ "$(id -u)" -ne 0 ]; then
		"$@"
	elif command -v setpriv >/dev/null; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$TMP" "$@"
	else
		skip "root without setpriv: a read-only directory does not stop root"
	fi
}

@test "a read-only directory: -i writes nothing, exit 3, and the message names the file (it read freed memory)" {
	mkdir ro
	printf 'a: 1\nb: secret\n' >ro/s.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" -i ro/s.yaml
	cp ro/s.yaml enc.orig
	chmod 755 "$TMP"
	chmod 555 ro
	chmod 644 ro/s.yaml
	run --separate-stderr as_user "$GITSEAL_BIN" decrypt -i ro/s.yaml
	[ "$status" -eq 3 ]
	[ "$stderr" = "gitseal: error: cannot create a temporary file beside 'ro/s.yaml': Permission denied" ]
	cmp ro/s.yaml enc.orig
	run --separate-stderr as_user "$GITSEAL_BIN" set ro/s.yaml '["a"]' '2'
	[ "$status" -eq 3 ]
	[ "$stderr" = "gitseal: error: cannot create a temporary file beside 'ro/s.yaml': Permission denied" ]
	cmp ro/s.yaml enc.orig
}
