#!/usr/bin/env bats
# The private directory (src/cmd/private_dir.c) is watched by a sweeper
# process that removes it if gitseal dies of SIGKILL; when that sweeper
# cannot be started, edit and exec-file fail closed: one line, a non-zero
# exit, the file untouched, no editor or command run and no plaintext left
# anywhere. Only the test build honours GITSEAL_TEST_FAIL_AT=sweeper (the
# sweeper's fork fails with EAGAIN).

bats_require_minimum_version 1.5.0
load ../helpers

setup() {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make asan)"
	setup_demo
	export TMPDIR="$TMP/tmpdir" NOTE="$TMP/note"
	mkdir -p "$TMPDIR" "$NOTE"
	printf 'db: hunter2\n' >plain.yaml
	gitseal encrypt --age "$(demo_recipient)" plain.yaml >secret.yaml
	rm plain.yaml
	cp secret.yaml original.yaml
}
teardown() { if [ -n "${TMP:-}" ]; then teardown_tmp; fi; }

# run_failing HOOK RUN: RUN (edit, exec-file or exec-file --no-fifo) of
# secret.yaml with GITSEAL_TEST_FAIL_AT=HOOK, $TMP/editor.sh the editor,
# the command one that would copy the file and note that it ran
run_failing() {
	if [ "$2" = edit ]; then
		run --separate-stderr env GITSEAL_TEST_FAIL_AT="$1" EDITOR="$TMP/editor.sh" "$GITSEAL_BIN" edit secret.yaml
	else
		run --separate-stderr env GITSEAL_TEST_FAIL_AT="$1" "$GITSEAL_BIN" $2 secret.yaml \
			'cp {} "$NOTE/copy"; echo ran >"$NOTE/ran"'
	fi
}

# failed_closed WHY: the last run exited 3 (as for a private directory
# that cannot be made: GS_ERR_WRITE, sops's code for edit's temporary
# directory) with one line ending in WHY, the file as it was, nothing left
# in $TMPDIR, nothing run, and no plaintext anywhere under $TMP
failed_closed() {
	[ "$status" -eq 3 ] || return 1
	[ "$output" = "" ] || return 1
	[ "$stderr" = "gitseal: error: 'secret.yaml': cannot watch the private directory: $1" ] || return 1
	cmp secret.yaml original.yaml || return 1
	[ -z "$(ls -A "$TMPDIR")" ] || return 1
	[ -z "$(ls -A "$NOTE")" ] || return 1
	run grep -rl --exclude=editor.sh hunter2 "$TMP"
	[ "$status" -eq 1 ]
}

@test "edit and exec-file: a sweeper that cannot start fails the command closed, with one line and no plaintext left" {
	cat >"$TMP/editor.sh" <<-'SH'
	#!/bin/sh
	echo edited >"$NOTE/ran"
	sed -i 's/hunter2/correct-horse/' "$1"
	SH
	chmod +x "$TMP/editor.sh"
	for run in edit 'exec-file' 'exec-file --no-fifo'; do
		run_failing sweeper "$run"
		failed_closed 'Resource temporarily unavailable'
	done
	# the same commands without the injected failure do run (the check above can fail)
	EDITOR="$TMP/editor.sh" gitseal edit secret.yaml
	[ -s "$NOTE/ran" ]
	[ "$(gitseal decrypt --extract '["db"]' secret.yaml)" = "correct-horse" ]
	[ -z "$(ls -A "$TMPDIR")" ]
}

@test "edit and exec-file: a sweeper that cannot open its directory fails the command closed, with one line and nothing left" {
	cat >"$TMP/editor.sh" <<-'SH'
	#!/bin/sh
	echo edited >"$NOTE/ran"
	SH
	chmod +x "$TMP/editor.sh"
	for run in edit 'exec-file' 'exec-file --no-fifo'; do
		run_failing sweeper-open "$run"
		# the directory made before the open is removed too: nothing left
		failed_closed 'Permission denied'
	done
}
