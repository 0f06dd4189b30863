#!/usr/bin/env bats
# render out of memory at every step (the test build's
# GITSEAL_TEST_FAIL_SECURE_ALLOC and GITSEAL_TEST_FAIL_ALLOC, as
# tests/cli/oom.bats): either the whole
# stream, exactly as rendered with memory to spare, or one line of error
# and nothing on stdout for the sync to apply.

bats_require_minimum_version 1.5.0
load k8s_helpers

setup() {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make asan)"
	k8s_setup
	write_manifests_once "$APP"
	"$FIXTURE_BIN" render "$APP" >"$TMP/want"
	grep -q 'password: t0p-s3cr3t' "$TMP/want"
}
teardown() { teardown_tmp; }

render_app() {
	OOM_RC=0
	env "$1" "$GITSEAL_BIN" render "$APP" >"$TMP/out" 2>"$TMP/err" || OOM_RC=$?
	if [ "$OOM_RC" -eq 0 ]; then
		cmp "$TMP/out" "$TMP/want"
	else
		oom_refused "$TMP/err"
		[[ $OOM_ERR != *t0p-s3cr3t* ]]
		[ ! -s "$TMP/out" ]
	fi
}

@test "render, out of secure memory at each allocation: the whole stream or nothing" {
	sweep_oom GITSEAL_TEST_FAIL_SECURE_ALLOC render_app
}

@test "render, out of memory at each plain allocation: the whole stream or nothing" {
	sweep_oom GITSEAL_TEST_FAIL_ALLOC render_app
}
