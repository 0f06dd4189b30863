#!/usr/bin/env bats
# Issue 18, point 10: exec-env and exec-file as sops runs them: the
# command's own exit status, the plaintext file confined to its private
# directory, --user, --background, --same-process; and gitseal NEWFILE.

load ../helpers

setup() {
	setup_demo
	printf '{\n\t"a": "secret",\n\t"PATH_LIKE": "/x"\n}\n' >plain.json
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.json >enc.json
	export TMPDIR="$TMP/private"
	mkdir "$TMPDIR"
}
teardown() { teardown_tmp; }

# sops: cmd/sops/main.go:2306-2307 (an exec.ExitError keeps the command's
# exit code); exec_unix.go WritePipe runs beside the command, so a command
# that never opens the FIFO still gives its own status
@test "the command's own exit status, whether or not it reads the file" {
	run -7 gitseal exec-file enc.json 'exit 7'
	run -0 gitseal exec-file enc.json 'true'
	run -3 gitseal exec-file enc.json 'cat {} >/dev/null; exit 3'
	run -5 gitseal exec-env enc.json 'test "$a" = secret && exit 5'
	[ -z "$(ls -A "$TMPDIR")" ]
}

# sops: cmd/sops/subcommand/exec/exec.go:77-81 (a --filename that is not a
# local path is refused)
@test "--filename must name a file in the private directory" {
	run -1 gitseal exec-file --filename ../escaped enc.json 'cat {}'
	[[ $output == *"--filename '../escaped' is not a local path"* ]]
	run -1 gitseal exec-file --filename /tmp/abs enc.json 'cat {}'
	[[ $output == *"--filename '/tmp/abs' is not a local path"* ]]
	[ ! -e "$TMP/escaped" ]
	[ ! -e "$TMPDIR/escaped" ]
	gitseal exec-file --filename app.json enc.json 'case {} in */app.json) cmp {} plain.json;; *) exit 9;; esac'
	gitseal exec-file --no-fifo --filename app.json enc.json 'cmp {} plain.json'
}

# sops: cmd/sops/main.go:254-273 (the values go after os.Environ(): they
# win over a variable of the same name)
@test "exec-env: the file's values win over the inherited environment" {
	PATH_LIKE=inherited gitseal exec-env enc.json 'test "$PATH_LIKE" = /x'
	gitseal exec-env --pristine enc.json 'test -z "$HOME" && test "$a" = secret'
}

# sops: exec/exec_unix.go:45-102 (UserEnv, SwitchUser: HOME, USER, LOGNAME;
# groups, group, user)
@test "--user: the command runs as that user (root only)" {
	run -1 gitseal exec-env --user no-such-user-here enc.json true
	[[ $output == *"--user: unknown user 'no-such-user-here'"* ]]
	[ "$(id -u)" -eq 0 ] || skip "switching user needs root"
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	[ "$(gitseal exec-env --user nobody enc.json 'id -u; echo "$USER"')" = "$(id -u nobody)"$'\n'nobody ]
	chmod 711 "$TMP"
	chmod 1777 "$TMPDIR"
	gitseal exec-file --user nobody enc.json 'test "$(id -u)" = "$(id -u nobody)" && grep -q secret {}'
}

# sops: cmd/sops/main.go:241-246 (--background: deprecated; with
# --same-process: ErrorConflictingParameters, 8), exec.go:119, 173
# (Start without Wait)
@test "--background: gitseal does not wait; exec-file's plaintext stays until the command is done" {
	run -8 gitseal exec-env --same-process --background enc.json true
	[[ $output == *"the --same-process flag cannot be used with --background"* ]]
	start=$(date +%s)
	gitseal exec-env --background enc.json "sleep 2; echo \"\$a\" >'$TMP/env.out'" >/dev/null 2>warn </dev/null
	[ $(($(date +%s) - start)) -lt 2 ]
	grep -q -- "--background option is deprecated" warn
	gitseal exec-file --background enc.json "sleep 1; cat {} >'$TMP/file.out'" >/dev/null 2>&1 </dev/null &
	for _ in $(seq 50); do [ -s env.out ] && [ -s file.out ] && break; sleep 0.2; done
	[ "$(cat env.out)" = secret ]
	cmp file.out plain.json
	for _ in $(seq 25); do [ -z "$(ls -A "$TMPDIR")" ] && break; sleep 0.2; done
	[ -z "$(ls -A "$TMPDIR")" ]
}

# sops: exec/exec_unix.go:15-17 (ExecSyscall: /bin/sh replaces sops)
@test "--same-process: the command replaces gitseal" {
	[ "$(gitseal exec-env enc.json 'cat /proc/$PPID/comm')" = gitseal ]
	[ "$(gitseal exec-env --same-process enc.json 'cat /proc/$PPID/comm')" != gitseal ]
	run -3 gitseal exec-env --same-process enc.json 'test "$a" = secret && exit 3'
}

# exec_env_refused FILE MESSAGE: every way of running refuses FILE with
# MESSAGE, and the command does not run
exec_env_refused() {
	for mode in "" --same-process --pristine; do
		run -1 gitseal exec-env $mode "$1" 'echo ran >ran.out'
		[ "$output" = "gitseal: error: '$1': $2" ]
		[ ! -e ran.out ]
	done
}

# sops: Go's os/exec refuses an environment entry holding a NUL byte
# (EINVAL); execve would end the name or the value at it. Red team rt1 F1:
# the value was cut at the NUL (a password to one byte) and a key with one
# silently left out, exit 0.
@test "exec-env refuses a value or a key holding a NUL byte, naming the file and the key" {
	printf 'N: "x\\0secret-tail"\n' >n.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" n.yaml >n.enc.yaml
	exec_env_refused n.enc.yaml "cannot use values with a NUL byte in environment; offending key N"
	printf '{"HOME\\u0000x": "/evil"}' >k.json
	gitseal encrypt --age "$DEMO_RECIPIENT" k.json >k.enc.json
	exec_env_refused k.enc.json "cannot use keys with a NUL byte in environment: HOME\\x00x"
}

# sops: cmd/sops/main.go:2054-2071 (the legacy mode edits a missing file
# from the example and writes it when it was changed)
@test "gitseal NEWFILE creates a sops file" {
	printf '#!/bin/sh\nprintf "token: abc\\n" >"$1"\n' >editor.sh
	chmod +x editor.sh
	SOPS_EDITOR="$TMP/editor.sh" gitseal --age "$DEMO_RECIPIENT" new.yaml
	grep -q '^token: ENC\[AES256_GCM' new.yaml
	[ "$(gitseal decrypt --extract '["token"]' new.yaml)" = abc ]
}
