#!/usr/bin/env bats
# Rule 2 on edit, exec-env and exec-file: where the plaintext goes when the
# process is stopped, and what a file's unauthenticated parts can do to the
# command exec-env runs. Issue 12: a command exec-env or exec-file starts
# never outlives gitseal with the plaintext: it runs in a process group of
# its own, a signal goes to the whole group, and whatever the command left
# running when it exits (its group, or what left it and was orphaned) is
# ended before the private directory is removed and gitseal exits.

load ../helpers

setup() {
	setup_demo
	printf 'db: hunter2\nname: app\n' >plain.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >secret.yaml
	cp secret.yaml original.yaml
	export TMPDIR="$TMP/tmpdir" NOTE="$TMP/note"
	mkdir -p "$TMPDIR" "$NOTE"
}
# what the old code left running must not outlive the test
teardown() {
	local pid
	for pid in "$NOTE"/pid*; do
		if [ -s "$pid" ]; then kill -9 "$(cat "$pid")" 2>/dev/null; fi
	done
	teardown_tmp
}

# wait_for FILE: up to 10 s
wait_for() {
	for _ in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1"
	return 1
}

# An editor that leaves a copy beside the file (as vim's swap file does),
# says it is ready and waits.
swap_editor() {
	cat >"$TMP/editor.sh" <<-'SH'
	#!/bin/sh
	cp "$1" "$(dirname "$1")/.$(basename "$1").swp"
	echo $$ >"$NOTE/pid"
	exec sleep 30
	SH
	chmod +x "$TMP/editor.sh"
}

# stop_during SIGNAL CMD...: runs CMD in the background, sends SIGNAL to it
# once the editor or command wrote its pid; sets status
stop_during() {
	local sig=$1 pid
	shift
	"$@" >"$NOTE/out" 2>&1 3>&- &
	pid=$!
	wait_for "$NOTE/pid"
	kill -"$sig" "$pid"
	status=0
	wait "$pid" || status=$?
	output=$(cat "$NOTE/out")
}

@test "edit stopped by SIGTERM or SIGHUP while the editor runs: the editor is stopped, nothing written, nothing left beside it" {
	swap_editor
	for sig in TERM HUP; do
		rm -f "$NOTE/pid"
		EDITOR="$TMP/editor.sh" stop_during "$sig" "$GITSEAL_BIN" edit secret.yaml
		[ "$status" -eq $((128 + $(kill -l "$sig"))) ]
		[ -z "$output" ]
		cmp secret.yaml original.yaml
		# the editor got the signal too (it would keep the plaintext open)
		! kill -0 "$(cat "$NOTE/pid")" 2>/dev/null || false
		[ -z "$(ls -A "$TMPDIR")" ] || { ls -laR "$TMPDIR"; false; }
	done
}

@test "edit: SIGINT (Ctrl-C) belongs to the editor, as in git: gitseal waits for it and saves what it saved" {
	cat >"$TMP/editor.sh" <<-'SH'
	#!/bin/sh
	trap '' INT
	echo $$ >"$NOTE/pid"
	while [ ! -e "$NOTE/go" ]; do sleep 0.1; done
	sed -i 's/hunter2/correct-horse/' "$1"
	SH
	chmod +x "$TMP/editor.sh"
	EDITOR="$TMP/editor.sh" "$GITSEAL_BIN" edit secret.yaml >"$NOTE/out" 2>&1 3>&- &
	pid=$!
	wait_for "$NOTE/pid"
	kill -INT "$pid"
	sleep 0.2
	touch "$NOTE/go"
	wait "$pid"
	[ -z "$(cat "$NOTE/out")" ]
	[ "$(gitseal decrypt --extract '["db"]' secret.yaml)" = "correct-horse" ]
	[ -z "$(ls -A "$TMPDIR")" ]
}

@test "exec-file stopped by SIGTERM or SIGINT while the command runs: the command is stopped, nothing left beside the plaintext" {
	for sig in TERM INT; do
		rm -f "$NOTE/pid"
		stop_during "$sig" "$GITSEAL_BIN" exec-file --no-fifo secret.yaml \
			'cp {} {}.bak; echo $$ >"$NOTE/pid"; exec sleep 30'
		[ "$status" -eq $((128 + $(kill -l "$sig"))) ]
		[ -z "$output" ]
		! kill -0 "$(cat "$NOTE/pid")" 2>/dev/null || false
		[ -z "$(ls -A "$TMPDIR")" ] || { ls -laR "$TMPDIR"; false; }
	done
}

# A file whose values in clear the MAC leaves open: mac_only_encrypted
# (values in clear are outside it), and a key of a value in clear (the MAC
# covers values, not keys). Whoever edits the file picks those variables.
@test "exec-env: a variable whose name the MAC does not bind (a value in clear) is refused; --allow-unencrypted-env exports it" {
	printf 'echo RAN-FROM-THE-REPOSITORY >&2\n' >evil.sh
	printf 'PASSWORD: hunter2\n' >env.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" --mac-only-encrypted env.yaml >macless.yaml
	# added by whoever edits the file, with a rule (metadata) leaving it in
	# clear: both outside the MAC
	{ printf 'BASH_ENV: %s/evil.sh\n' "$TMP"
	  sed 's/^    unencrypted_suffix: _unencrypted$/    encrypted_regex: ^PASSWORD$/' macless.yaml; } >planted.yaml
	gitseal decrypt planted.yaml >/dev/null
	run gitseal exec-env planted.yaml 'bash -c "echo \$PASSWORD"'
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'planted.yaml': 'BASH_ENV' is a value in clear, and the MAC does not cover its name: whoever can edit the file chooses that variable (--allow-unencrypted-env to export it)" ]
	# a key in clear renamed under the full MAC: its value stays, its name does not
	printf 'PASSWORD: hunter2\nmode: %s/evil.sh\n' "$TMP" >env2.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" --encrypted-regex '^PASSWORD$' env2.yaml | sed 's/^mode:/BASH_ENV:/' >renamed.yaml
	gitseal decrypt renamed.yaml >/dev/null
	run gitseal exec-env renamed.yaml 'bash -c "echo \$PASSWORD"'
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'renamed.yaml': 'BASH_ENV' is a value in clear, and the MAC does not cover its name: whoever can edit the file chooses that variable (--allow-unencrypted-env to export it)" ]
	# a null value is outside the MAC too (sops hashes no null)
	{ printf 'PATH:\n'; cat secret.yaml; } >null.yaml
	gitseal decrypt null.yaml >/dev/null
	run gitseal exec-env null.yaml 'echo $db'
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'null.yaml': 'PATH' is a value in clear, and the MAC does not cover its name: whoever can edit the file chooses that variable (--allow-unencrypted-env to export it)" ]
	# the user's explicit choice
	run --separate-stderr gitseal exec-env --allow-unencrypted-env planted.yaml 'bash -c "echo \$PASSWORD"'
	[ "$status" -eq 0 ]
	[ "$output" = "hunter2" ]
	[ "$stderr" = "RAN-FROM-THE-REPOSITORY" ]
	# every value encrypted: as before
	run gitseal exec-env secret.yaml 'echo $db'
	[ "$status" -eq 0 ]
	[ "$output" = "hunter2" ]
}

# sops looks for .sops.yaml from the current directory up to the root: one
# in a shared directory above (/tmp, a home made by someone else) decides
# whom files are encrypted for. Like git's safe.directory: refused unless
# it is the user's own or root's.
@test ".sops.yaml found above the current directory but owned by another user is refused; --config takes it" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to make a file owned by another user"
	gitseal keygen -o mallory.txt 2>/dev/null
	mkdir -p shared/me
	chmod 1777 shared
	printf 'creation_rules:\n  - age: %s\n' "$(gitseal keygen -y mallory.txt)" >shared/.sops.yaml
	chown 65534 shared/.sops.yaml
	cd shared/me
	printf 'a: 1\n' >p.yaml
	run gitseal encrypt p.yaml
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'p.yaml': '$TMP/shared/.sops.yaml' is owned by someone else (uid 65534), not by you or root: a .sops.yaml above the current directory decides whom files are encrypted for (--config or SOPS_CONFIG to use it)" ]
	run gitseal encrypt --config ../.sops.yaml p.yaml
	[ "$status" -eq 0 ]
	chown 0 ../.sops.yaml
	run gitseal encrypt p.yaml
	[ "$status" -eq 0 ]
}

# SIGKILL or a crash leaves the private directory: without TMPDIR it goes
# to the user's runtime directory (a per-user tmpfs, removed at logout),
# not a disk-backed /tmp.
@test "edit without TMPDIR puts the plaintext in XDG_RUNTIME_DIR when that is the user's own private directory, else /tmp" {
	cat >"$TMP/editor.sh" <<-'SH'
	#!/bin/sh
	dirname "$(dirname "$1")" >"$NOTE/where"
	sed -i 's/hunter2/correct-horse/' "$1"
	SH
	chmod +x "$TMP/editor.sh"
	unset TMPDIR
	mkdir -m 700 run
	XDG_RUNTIME_DIR="$TMP/run" EDITOR="$TMP/editor.sh" gitseal edit secret.yaml
	[ "$(cat "$NOTE/where")" = "$TMP/run" ]
	[ -z "$(ls -A run)" ]
	# a runtime directory others can enter is not private: /tmp as before
	chmod 755 run
	cp original.yaml secret.yaml
	XDG_RUNTIME_DIR="$TMP/run" EDITOR="$TMP/editor.sh" gitseal edit secret.yaml
	[ "$(cat "$NOTE/where")" = "/tmp" ]
	# TMPDIR, when set, is the user's choice
	cp original.yaml secret.yaml
	mkdir tmp2
	TMPDIR="$TMP/tmp2" XDG_RUNTIME_DIR="$TMP/run" EDITOR="$TMP/editor.sh" gitseal edit secret.yaml
	[ "$(cat "$NOTE/where")" = "$TMP/tmp2" ]
	[ "$(gitseal decrypt --extract '["db"]' secret.yaml)" = "correct-horse" ]
}

# A file's encrypted_regex is outside the MAC and runs on glibc's regex
# engine, which is not linear as sops's RE2 is: nested counted repeats
# multiply ((a{1,100}){100}: 10,000 states, ~50 ms per 1,000-character
# key), so a crafted file of many long keys kept decrypt or render busy
# for minutes. Counted repeats are bounded as a product through groups.
@test "a file's encrypted_regex with nested counted repeats is refused before it runs" {
	python3 -c "
for i in range(20): print('a' * 1000 + str(i) + ': v')
print('z: secret')" >keys.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" --encrypted-regex '^z$' keys.yaml >keys.enc.yaml
	sed "s/^    encrypted_regex: .*/    encrypted_regex: '(a{1,100}){100}b'/" keys.enc.yaml >nested.yaml
	run gitseal decrypt nested.yaml
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'nested.yaml': unsupported regular expression syntax in '(a{1,100}){100}b'" ]
	# the same in .sops.yaml
	printf 'creation_rules:\n  - encrypted_regex: "(?:(?:x{2}){20}){10}"\n    age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	run gitseal encrypt plain.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"unsupported regular expression syntax in '(?:(?:x{2}){20}){10}'" ]]
	# repeats side by side, or nested within the bound, as before
	printf 'creation_rules:\n  - encrypted_regex: "^(?:d{1}b){2}(?:x{2}){3}$|^db$"\n    age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	gitseal encrypt plain.yaml | grep -q '^db: ENC\['
}

# A file's own rule (encrypted_regex, ...) is in its metadata, outside the
# MAC: a pull request can narrow it to the values already encrypted and
# the file still verifies. edit and set then wrote a new secret in clear.
@test "edit and set: a new value the file's narrowed rule leaves in clear, but .sops.yaml's rule seals, is refused; --keep-file-rule writes it" {
	printf 'creation_rules:\n  - path_regex: \\.yaml$\n    age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	gitseal encrypt plain.yaml >app.yaml
	sed 's/^    unencrypted_suffix: _unencrypted$/    encrypted_regex: ^(db|name)$/' app.yaml >narrowed.yaml
	gitseal decrypt narrowed.yaml | cmp - plain.yaml
	cp narrowed.yaml before.yaml
	EDITOR="sh -c 'echo api_token: new-secret-token >>\"\$1\"' sh" run gitseal edit narrowed.yaml
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'narrowed.yaml': 'api_token' would be in clear by the file's own rule (in its metadata, outside the MAC), but .sops.yaml's creation rule for it encrypts it (--keep-file-rule to write it so)" ]
	cmp narrowed.yaml before.yaml
	run gitseal set narrowed.yaml '["api_token"]' '"set-secret"'
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'narrowed.yaml': 'api_token' would be in clear by the file's own rule (in its metadata, outside the MAC), but .sops.yaml's creation rule for it encrypts it (--keep-file-rule to write it so)" ]
	cmp narrowed.yaml before.yaml
	# without .sops.yaml: what encrypting the file afresh would do
	mv .sops.yaml rules.yaml
	run gitseal set narrowed.yaml '["api_token"]' '"set-secret"'
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'narrowed.yaml': 'api_token' would be in clear by the file's own rule (in its metadata, outside the MAC), but encrypting the file afresh encrypts it (--keep-file-rule to write it so)" ]
	# values the rule seals, and values already in clear, change as before
	gitseal set narrowed.yaml '["db"]' '"hunter3"'
	# the user's word
	gitseal set --keep-file-rule narrowed.yaml '["api_token"]' '"set-secret"'
	grep -qx 'api_token: set-secret' narrowed.yaml
	# a value in clear changed is a new value (red team 12: a file of a
	# pull request's making, 'api_token: CHANGEME' in clear, took the real
	# token in clear); unchanged, it stays
	cp narrowed.yaml before.yaml
	run gitseal set narrowed.yaml '["api_token"]' '"changed-again"'
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'narrowed.yaml': 'api_token' would be in clear by the file's own rule (in its metadata, outside the MAC), but encrypting the file afresh encrypts it (--keep-file-rule to write it so)" ]
	cmp narrowed.yaml before.yaml
	gitseal set narrowed.yaml '["db"]' '"hunter4"'
	grep -qx 'api_token: set-secret' narrowed.yaml
	gitseal set --keep-file-rule narrowed.yaml '["api_token"]' '"changed-again"'
	grep -qx 'api_token: changed-again' narrowed.yaml
}

# gone PIDFILE: the process it names is gone within 5 s
gone() {
	local pid
	pid=$(cat "$1")
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "process $pid (from $1) is still running"
	ps -o pid,ppid,pgid,sid,args -p "$pid" || true
	return 1
}

# A grandchild the shell started and waits for: the shell dies of the
# signal, the grandchild (SIGINT ignored, as in any background job of a
# script) would live on with the plaintext. Its output goes nowhere: a
# survivor (the old code) must not hold bats's pipes open.
GRANDCHILD='sleep 60 >/dev/null 2>&1 & echo $! >"$NOTE/pid"; wait'

@test "exec-file stopped by SIGTERM, SIGHUP or SIGINT: the command's grandchild is gone and the private directory removed" {
	for sig in TERM HUP INT; do
		for fifo in --no-fifo ""; do
			rm -f "$NOTE/pid"
			# shellcheck disable=SC2086
			stop_during "$sig" "$GITSEAL_BIN" exec-file $fifo secret.yaml "cat {} >/dev/null; $GRANDCHILD"
			[ "$status" -eq $((128 + $(kill -l "$sig"))) ]
			gone "$NOTE/pid"
			[ -z "$(ls -A "$TMPDIR")" ] || { ls -laR "$TMPDIR"; false; }
		done
	done
}

@test "exec-env stopped by SIGTERM, SIGHUP, SIGINT or SIGQUIT: the command's grandchild is gone" {
	for sig in TERM HUP INT QUIT; do
		rm -f "$NOTE/pid"
		stop_during "$sig" "$GITSEAL_BIN" exec-env secret.yaml "$GRANDCHILD"
		[ "$status" -eq $((128 + $(kill -l "$sig"))) ]
		gone "$NOTE/pid"
	done
}

@test "what the command leaves running when it exits is ended; its exit status passes through" {
	run -3 gitseal exec-env secret.yaml 'sleep 60 >/dev/null 2>&1 & echo $! >"$NOTE/pid"; exit 3'
	gone "$NOTE/pid"
	run -0 gitseal exec-file --no-fifo secret.yaml 'sleep 60 <{} >/dev/null 2>&1 & echo $! >"$NOTE/pid2"'
	gone "$NOTE/pid2"
	[ -z "$(ls -A "$TMPDIR")" ]
	# a process that ignores SIGTERM gets SIGKILL after a short wait
	run -0 gitseal exec-env secret.yaml \
		'sh -c "trap \"\" TERM; echo \$\$ >\"$NOTE/pid3\"; exec sleep 60" >/dev/null 2>&1 &
		while [ ! -s "$NOTE/pid3" ]; do sleep 0.1; done'
	gone "$NOTE/pid3"
}

@test "what leaves the group (setsid, a double fork) is ended too: gitseal is its subreaper" {
	run -0 gitseal exec-env secret.yaml '(setsid sleep 60 >/dev/null 2>&1 & echo $! >"$NOTE/pid"); exit 0'
	gone "$NOTE/pid"
	run -0 gitseal exec-file secret.yaml \
		'cat {} >/dev/null; (setsid sh -c "echo \$\$ >\"$NOTE/pid2\"; exec sleep 60" >/dev/null 2>&1 &)
		while [ ! -s "$NOTE/pid2" ]; do sleep 0.1; done'
	gone "$NOTE/pid2"
}

@test "exit status: the command's own, 128 plus the signal number when a signal ended it" {
	run -0 gitseal exec-env secret.yaml 'test "$db" = hunter2'
	run -7 gitseal exec-env secret.yaml 'exit 7'
	run -138 gitseal exec-env secret.yaml 'kill -USR1 $$'
	run -143 gitseal exec-file secret.yaml 'cat {} >/dev/null; kill -TERM $$'
	run -137 gitseal exec-file --no-fifo secret.yaml 'kill -KILL $$'
	[ -z "$(ls -A "$TMPDIR")" ]
}

# script(1) gives the commands a terminal; its shell is not interactive, so
# all runs in the session leader's group, the terminal's foreground one.
@test "on a terminal: the command has it (reads it, gets Ctrl-C), gitseal takes it back after" {
	printf 'hello\nworld\n' >"$NOTE/typed"
	run script -qec "$GITSEAL_BIN exec-env secret.yaml 'read x; echo \"got \$x\"'; read y; echo \"then \$y\"" \
		/dev/null <"$NOTE/typed"
	[[ $output == *"got hello"* ]]
	[[ $output == *"then world"* ]]
	# Ctrl-C reaches the command (its shell dies of it) and ends what it left
	# running; gitseal ends of SIGINT too, as the command did
	run script -qec "$GITSEAL_BIN exec-env secret.yaml '$GRANDCHILD'; echo \"status \$?\"" /dev/null \
		< <(while [ ! -s "$NOTE/pid" ]; do sleep 0.1; done; printf '\003'; sleep 1)
	[[ $output == *"status 130"* ]]
	gone "$NOTE/pid"
}

@test "edit stopped by SIGTERM: what the editor started is gone too; the file is untouched" {
	cat >"$TMP/editor.sh" <<-'SH'
	#!/bin/sh
	sleep 60 >/dev/null 2>&1 &
	echo $! >"$NOTE/pid"
	wait
	SH
	chmod +x "$TMP/editor.sh"
	EDITOR="$TMP/editor.sh" stop_during TERM "$GITSEAL_BIN" edit secret.yaml
	[ "$status" -eq 143 ]
	gone "$NOTE/pid"
	cmp secret.yaml original.yaml
	[ -z "$(ls -A "$TMPDIR")" ]
}

# stopped PIDFILE: waits (10 s) until the process it names is stopped
stopped() {
	wait_for "$1"
	for _ in $(seq 100); do
		[[ $(ps -o stat= -p "$(cat "$1")") == T* ]] && return 0
		sleep 0.1
	done
	return 1
}

# unstuck PIDFILE: kills the process it names and its parent (gitseal)
unstuck() {
	local pid
	pid=$(cat "$1")
	kill -KILL "$(ps -o ppid= -p "$pid")" "$pid"
}

@test "job control in an interactive shell: Ctrl-Z and fg; started with & and brought back with fg, it reads the terminal" {
	local cmd="\"\$GITSEAL_BIN\" exec-env secret.yaml 'echo \$\$ >\"\$NOTE/pid\"; read x; echo \"got \$x \$db\"'"
	run script -qec "bash --norc --noprofile -i" /dev/null < <(
		echo "$cmd"
		wait_for "$NOTE/pid"
		printf '\032'
		stopped "$NOTE/pid"
		echo fg
		sleep 0.5
		echo one
		gone "$NOTE/pid" >/dev/null || unstuck "$NOTE/pid"
		rm -f "$NOTE/pid"
		# in the background it stops on its read (SIGTTIN), and so does gitseal's job
		echo "$cmd &"
		stopped "$NOTE/pid"
		echo fg
		sleep 0.5
		echo two
		gone "$NOTE/pid" >/dev/null || unstuck "$NOTE/pid"
		echo exit
		echo exit
	)
	[[ $output == *"got one hunter2"* ]]
	[[ $output == *"got two hunter2"* ]]
	[[ $output == *Stopped* ]]
}
