#!/usr/bin/env bats
# Crash-safe writes: a failure injected at each step of an in-place write
# (temp file, fsync, rename, directory fsync) leaves the original intact and
# no temporary file behind. Only the test build (make SAN=1) honours
# GITSEAL_TEST_FAIL_AT; the Makefile sets GITSEAL_TEST_HOOKS=1 for it.

load ../helpers

setup() {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make asan)"
	setup_demo
	printf 'password: hunter2\n' >secret.yaml
	cp secret.yaml original.yaml
}
teardown() { if [ -n "${TMP:-}" ]; then teardown_tmp; fi; }

@test "a failure before the rename keeps the original and removes the temporary file" {
	for step in write fsync rename; do
		run env GITSEAL_TEST_FAIL_AT=$step "$GITSEAL_BIN" encrypt --age "$DEMO_RECIPIENT" -i secret.yaml
		[ "$status" -eq 3 ]
		# the injected failure leaves errno as it was: only the start is checked
		case $step in
		write) [[ "$output" == "gitseal: error: cannot write 'secret.yaml': "* ]] ;;
		fsync) [[ "$output" == "gitseal: error: cannot fsync 'secret.yaml': "* ]] ;;
		rename) [[ "$output" == "gitseal: error: cannot replace 'secret.yaml': "* ]] ;;
		esac
		cmp secret.yaml original.yaml
		[ -z "$(ls -A | grep gitseal-tmp || true)" ]
	done
}

@test "a failure syncing the directory is reported; the new content is in place" {
	run env GITSEAL_TEST_FAIL_AT=dirsync "$GITSEAL_BIN" encrypt --age "$DEMO_RECIPIENT" -i secret.yaml
	[ "$status" -eq 3 ]
	[ "$output" = "gitseal: error: cannot sync the directory of 'secret.yaml'" ]
	grep -q '^sops:' secret.yaml
	[ -z "$(ls -A | grep gitseal-tmp || true)" ]
}

@test "age -o over an existing file: an injected failure keeps the old file" {
	echo data >p
	echo "old content" >out.age
	for step in write fsync rename; do
		run env GITSEAL_TEST_FAIL_AT=$step "$GITSEAL_BIN" age -r "$DEMO_RECIPIENT" -o out.age p
		[ "$status" -eq 1 ]
		# the injected failure leaves errno as it was: only the start is checked
		case $step in
		write) [[ "$output" == "gitseal: error: cannot write 'out.age': "* ]] ;;
		fsync) [[ "$output" == "gitseal: error: cannot fsync 'out.age': "* ]] ;;
		rename) [[ "$output" == "gitseal: error: cannot replace 'out.age': "* ]] ;;
		esac
		[ "$(cat out.age)" = "old content" ]
		[ -z "$(ls -A | grep gitseal-tmp || true)" ]
	done
}

@test "age -o to a new file: a failed write leaves nothing" {
	echo data >p
	run env GITSEAL_TEST_FAIL_AT=write "$GITSEAL_BIN" age -r "$DEMO_RECIPIENT" -o new.age p
	[ "$status" -eq 1 ]
	[[ "$output" == "gitseal: error: cannot write 'new.age': "* ]]
	[ ! -e new.age ]
	[ -z "$(ls -A | grep gitseal-tmp || true)" ]
}

@test "through a symbolic link: a failure at any step keeps the target and the link" {
	mkdir dir
	mv secret.yaml dir/target.yaml
	ln -s dir/target.yaml secret.yaml
	for step in write fsync rename; do
		run env GITSEAL_TEST_FAIL_AT=$step "$GITSEAL_BIN" encrypt --age "$DEMO_RECIPIENT" -i secret.yaml
		[ "$status" -eq 3 ]
		[[ "$output" == "gitseal: error: 'secret.yaml': cannot "*"dir/target.yaml"* ]]
		[ -L secret.yaml ]
		cmp dir/target.yaml original.yaml
		[ -z "$(ls -A . dir | grep gitseal-tmp || true)" ]
	done
	"$GITSEAL_BIN" encrypt --age "$DEMO_RECIPIENT" -i secret.yaml
	[ -L secret.yaml ]
	grep -q '^password: ENC\[' dir/target.yaml
}

@test "a failed write to a FIFO or device is reported (exit 3)" {
	mkfifo fifo
	cat fifo >/dev/null &
	run env GITSEAL_TEST_FAIL_AT=write "$GITSEAL_BIN" encrypt --age "$DEMO_RECIPIENT" --output fifo secret.yaml
	wait
	[ "$status" -eq 3 ]
	[[ "$output" == "gitseal: error: 'secret.yaml': cannot write 'fifo': injected" ]]
	[ -p fifo ]
}

@test "an edit that lost the race and cannot be kept beside the file says so: 3, nothing written, nothing left" {
	gitseal encrypt --age "$DEMO_RECIPIENT" secret.yaml >enc.yaml
	printf '#!/bin/sh\n"$GITSEAL_BIN" set enc.yaml %s %s || exit 9\nsed -i s/hunter2/mine/ "$1"\n' \
		"'[\"other\"]'" "'\"x\"'" >ed.sh
	chmod +x ed.sh
	cp enc.yaml before.yaml
	run --separate-stderr env GITSEAL_TEST_FAIL_AT=beside SOPS_EDITOR="$TMP/ed.sh" "$GITSEAL_BIN" edit enc.yaml
	[ "$status" -eq 3 ]
	[ "$stderr" = "gitseal: error: cannot replace 'enc.yaml': it changed since it was read; nothing written, and the edit could not be kept beside it (cannot write beside 'enc.yaml': Input/output error)" ]
	# the other writer's change stays; no kept or temporary file is left
	[ "$(gitseal decrypt enc.yaml)" = "$(printf 'password: hunter2\nother: x')" ]
	[ -z "$(ls -A | grep -E 'gitseal-(edit|tmp)')" ]
}
