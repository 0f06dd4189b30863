#!/usr/bin/env bats
# A file name or a key in a message (gitseal/shown.h): a control byte in it
# is shown as \xNN, so a name cannot forge a second line or steer the
# terminal; a plain name reads as it is.

bats_require_minimum_version 1.5.0
load ../helpers

setup() {
	setup_demo
	printf 'a: secret\n' >plain.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
}
teardown() { teardown_tmp; }

@test "a file name with a newline or ESC is shown escaped on the message's one line" {
	run -100 --separate-stderr gitseal decrypt $'no\ngitseal: error: forged\e[2J.yaml'
	[ "$stderr" = "gitseal: error: cannot operate on non-existent file 'no\x0agitseal: error: forged\x1b[2J.yaml'" ]
	# a file that is there: its name in the error of what it holds
	sed 's/a: ENC/b: ENC/' enc.yaml >$'tampered\e]0;owned\a.yaml'
	run ! --separate-stderr gitseal decrypt $'tampered\e]0;owned\a.yaml'
	[ "$stderr" = "gitseal: error: 'tampered\x1b]0;owned\x07.yaml': value at 'b:': cannot decrypt value: authentication failed" ]
}

@test "a secret key given where a file name belongs is not shown" {
	key=$(grep '^AGE-SECRET-KEY-' "$KEYS/demo-age-key.txt")
	run -100 --separate-stderr gitseal decrypt "$key"
	[ "$stderr" = "gitseal: error: cannot operate on non-existent file '(a secret key given as a file name: not shown)'" ]
}
