#!/usr/bin/env bats
# Red team 11 (docs/threat-model.md): the developer side. set's refusals
# name set; what updatekeys shows before it asks.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

@test "set of a dotenv key beginning with sops_ is refused by name (set, not decrypt), nothing written" {
	printf 'A=x\n' >s.env
	gitseal encrypt --age "$DEMO_RECIPIENT" s.env >e.env
	cp e.env before.env
	for key in sops_x sops_mac sops_; do
		run -4 --separate-stderr gitseal set e.env "[\"$key\"]" '"v"'
		[ "$stderr" = "gitseal: error: 'e.env': set: a dotenv key may not begin with 'sops_' (sops keeps its metadata there); nothing written" ]
		cmp e.env before.env
	done
	# other keys, and SOPS_ in capitals, are data
	gitseal set e.env '["SOPS_X"]' '"v"'
	[ "$(gitseal decrypt e.env)" = "$(printf 'A=x\nSOPS_X=v')" ]
	# the top-level key sops of the other stores (was: 'file is already encrypted', 203)
	printf 'a: 1\n' >s.yaml
	printf '{"a": 1}\n' >s.json
	printf '[s]\na = 1\n' >s.ini
	for ext in yaml json ini; do
		gitseal encrypt --age "$DEMO_RECIPIENT" "s.$ext" >"e.$ext"
		cp "e.$ext" before
		run -4 --separate-stderr gitseal set "e.$ext" '["sops"]' '{"x": "1"}'
		[ "$stderr" = "gitseal: error: 'e.$ext': set: the top-level key 'sops' is where sops keeps its metadata; nothing written" ]
		cmp "e.$ext" before
	done
	# below the top it is data
	gitseal set e.yaml '["b"]' '{"sops": "1"}'
	[ "$(gitseal decrypt e.yaml)" = "$(printf 'a: 1\nb:\n    sops: "1"')" ]
}

# gone DIR: DIR empty within 5 s
gone() {
	for _ in $(seq 50); do
		[ -z "$(ls -A "$1")" ] && return 0
		sleep 0.1
	done
	ls -laR "$1"
	return 1
}

# SIGKILL gives gitseal no chance to remove its private directory: a
# sweeper of its own (a shell in a session of its own, reading a pipe only
# gitseal holds) removes it when gitseal is gone, however it ended.
@test "exec-file and edit killed by SIGKILL: the private directory with the plaintext (and what the editor left beside it) is removed" {
	printf 'db: hunter2\n' >plain.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" plain.yaml >secret.yaml
	export TMPDIR="$TMP/tmpdir" NOTE="$TMP/note"
	mkdir -p "$TMPDIR" "$NOTE"
	cat >"$TMP/editor.sh" <<-'SH'
	#!/bin/sh
	cp "$1" "$(dirname "$1")/.$(basename "$1").swp"
	echo $$ >"$NOTE/ready"
	exec sleep 5
	SH
	chmod +x "$TMP/editor.sh"
	for run in 'exec-file --no-fifo' 'exec-file' 'edit'; do
		rm -f "$NOTE/ready"
		if [ "$run" = edit ]; then
			EDITOR="$TMP/editor.sh" "$GITSEAL_BIN" edit secret.yaml 3>&- &
		else
			"$GITSEAL_BIN" $run secret.yaml 'cat {} >/dev/null; echo $$ >"$NOTE/ready"; exec sleep 5' 3>&- &
		fi
		pid=$!
		for _ in $(seq 100); do [ -s "$NOTE/ready" ] && break; sleep 0.1; done
		[ -n "$(ls -A "$TMPDIR")" ]
		kill -KILL "$pid"
		wait "$pid" || true
		gone "$TMPDIR"
		kill -9 "$(cat "$NOTE/ready")" 2>/dev/null || true
	done
	# an orderly end leaves no sweeper behind, and the command holds no end of its pipe
	run -0 gitseal exec-file --no-fifo secret.yaml 'ls -l /proc/self/fd/ | grep -c "pipe:" || true'
	fds=$output
	run -0 gitseal exec-env secret.yaml 'ls -l /proc/self/fd/ | grep -c "pipe:" || true'
	[ "$output" = "$fds" ]
	gone "$TMPDIR"
	no_sweeper_for "$(realpath "$TMPDIR")"
}

# no_sweeper_for DIR: within 5 s no sweeper watches a directory under DIR
# (only this test's own: other tests and suites run beside this one)
no_sweeper_for() {
	local c cmd args
	for _ in $(seq 50); do
		cmd=
		for c in /proc/[0-9]*/cmdline; do
			{ mapfile -d '' -t args <"$c"; } 2>/dev/null || continue
			cmd="${args[*]}"
			[[ $cmd == *'while read -r _; do :; done'*" $1/"* ]] && break
			cmd=
		done
		[ -z "$cmd" ] && return 0
		sleep 0.1
	done
	echo "sweeper left: $cmd"
	return 1
}
