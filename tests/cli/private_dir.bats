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

@test "edit and exec-file: a sweeper that cannot start fails the command closed, with one line and no plaintext left" {
	cat >"$TMP/editor.sh" <<-'SH'
	#!/bin/sh
	echo edited >"$NOTE/ran"
	sed -i 's/hunter2/correct-horse/' "$1"
	SH
	chmod +x "$TMP/editor.sh"
	for run in edit 'exec-file' 'exec-file --no-fifo'; do
		if [ "$run" = edit ]; then
			run --separate-stderr env GITSEAL_TEST_FAIL_AT=sweeper EDITOR="$TMP/editor.sh" \
				"$GITSEAL_BIN" edit secret.yaml
		else
			run --separate-stderr env GITSEAL_TEST_FAIL_AT=sweeper "$GITSEAL_BIN" $run secret.yaml \
				'cp {} "$NOTE/copy"; echo ran >"$NOTE/ran"'
		fi
		# 3 as for a private directory that cannot be made (GS_ERR_WRITE;
		# sops's code for edit's temporary directory)
		[ "$status" -eq 3 ]
		[ "$output" = "" ]
		[ "$stderr" = "gitseal: error: 'secret.yaml': cannot watch the private directory: Resource temporarily unavailable" ]
		cmp secret.yaml original.yaml
		[ -z "$(ls -A "$TMPDIR")" ]
		[ -z "$(ls -A "$NOTE")" ]
		run grep -rl --exclude=editor.sh hunter2 "$TMP"
		[ "$status" -eq 1 ]
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
		if [ "$run" = edit ]; then
			run --separate-stderr env GITSEAL_TEST_FAIL_AT=sweeper-open EDITOR="$TMP/editor.sh" \
				"$GITSEAL_BIN" edit secret.yaml
		else
			run --separate-stderr env GITSEAL_TEST_FAIL_AT=sweeper-open "$GITSEAL_BIN" $run secret.yaml \
				'cp {} "$NOTE/copy"; echo ran >"$NOTE/ran"'
		fi
		[ "$status" -eq 3 ]
		[ "$output" = "" ]
		[ "$stderr" = "gitseal: error: 'secret.yaml': cannot watch the private directory: Permission denied" ]
		cmp secret.yaml original.yaml
		# the directory made before the open is removed: nothing left
		[ -z "$(ls -A "$TMPDIR")" ]
		[ -z "$(ls -A "$NOTE")" ]
		run grep -rl hunter2 "$TMP"
		[ "$status" -eq 1 ]
	done
}
