#!/usr/bin/env bats
# The passphrase question on a terminal and the signals that stop or end the
# process while its echo is off: the terminal gets its echo back first.

load ../helpers

setup() {
	setup_tmp
	command -v script >/dev/null || skip "script(1) not installed"
	command -v pgrep >/dev/null || skip "pgrep not installed"
	ED="$KEYS/test-ssh-ed25519-passphrase"
	echo "secret data" >"$TMP/p"
	gitseal age -R "$ED.pub" -o "$TMP/p.age" "$TMP/p"
}
teardown() { teardown_tmp; }

# the terminal's echo flag as stty shows it: echo or -echo
ECHO_FLAG="stty -a | grep -oE '(^| )-?echo( |\$)' | tr -d ' '"
# until the question turned the echo off (however loaded the machine)
QUESTION_ASKED="until [ \"\$($ECHO_FLAG)\" = -echo ]; do sleep 0.05; done"

# typed_after_fg SCRIPT: SCRIPT run by bash on a terminal (script(1), its
# output in $TMP/tty), the passphrase typed a few times from 2 s on (the
# question flushes what came before it); then the job SCRIPT brought to
# the foreground exited 0, the passphrase never shown, the file decrypted
typed_after_fg() {
	(sleep 2; for _ in 1 2 3; do printf 'test passphrase\n'; sleep 0.4; done) |
		timeout 30 script -qec "bash '$1'" /dev/null >"$TMP/tty"
	grep -q "^status 0" "$TMP/tty"
	! grep -q "test passphrase" "$TMP/tty" || false
	cmp "$TMP/p" "$TMP/out"
}

@test "^Z at the passphrase question: stopped with echo on, asked again with echo off after fg" {
	# job control (set -m): gitseal in the foreground in a process group of
	# its own, stopped by a sidecar as ^Z would; the shell, like an
	# interactive one without its saved modes, then reads the terminal
	cat >"$TMP/job.sh" <<-EOF
		set -m
		($QUESTION_ASKED; kill -TSTP \$(pgrep -P \$\$ -x gitseal)) &
		"$GITSEAL_BIN" age -d -i "$ED" -o "$TMP/out" "$TMP/p.age"
		echo "stopped: \$($ECHO_FLAG)"
		fg >/dev/null
		echo "status \$?"
	EOF
	# typed after fg with echo off again: never shown
	typed_after_fg "$TMP/job.sh"
	grep -q "^stopped: echo" "$TMP/tty"
	[ "$(grep -o "Enter passphrase for '$ED': " "$TMP/tty" | wc -l)" -eq 2 ]
}

@test "a signal that ends the process at the passphrase question leaves the terminal's echo on" {
	cat >"$TMP/term.sh" <<-EOF
		"$GITSEAL_BIN" age -d -i "$ED" -o "$TMP/out" "$TMP/p.age" & p=\$!
		$QUESTION_ASKED
		kill -TERM \$p
		wait \$p
		echo "status \$?: \$($ECHO_FLAG)"
	EOF
	timeout 30 script -qec "sh '$TMP/term.sh'" /dev/null </dev/null >"$TMP/tty"
	grep -q "^status 143: echo" "$TMP/tty"
	[ ! -e "$TMP/out" ]
}

# A background job's question on a terminal with tostop: the write of the
# question raises SIGTTOU, which the question's own handler caught, and
# the write failed ("cannot write to the terminal", exit 1) where the job
# should stop, as without the handler, and ask once brought to the
# foreground.
@test "a background job's question under stty tostop: stopped, then asked after fg" {
	cat >"$TMP/bg.sh" <<-EOF
		set -m
		stty tostop
		"$GITSEAL_BIN" age -d -i "$ED" -o "$TMP/out" "$TMP/p.age" &
		until jobs %1 2>&1 | grep -qE 'Stopped|Done|Exit|no such job'; do sleep 0.05; done
		echo "job: \$(jobs %1 2>&1)"
		fg >/dev/null
		echo "status \$?"
	EOF
	typed_after_fg "$TMP/bg.sh"
	grep -q "^job: .*Stopped" "$TMP/tty"
}
