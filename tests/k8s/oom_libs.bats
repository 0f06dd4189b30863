#!/usr/bin/env bats
# render with libyaml and OpenSSL out of memory at each of their
# allocations in turn (the test build's GITSEAL_TEST_FAIL_LIB_ALLOC, as
# tests/cli/oom_libs.bats): the whole stream, exactly as rendered with
# memory to spare, or one line saying it ran out of memory and nothing on
# stdout for the sync to apply.

bats_require_minimum_version 1.5.0
load k8s_helpers

setup() {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make asan)"
	k8s_setup
	# OpenSSL's own leaks once it ran out of memory (tests/oom_libs.supp)
	export LSAN_OPTIONS="suppressions=$REPO_ROOT/tests/oom_libs.supp:print_suppressions=0"
	write_manifests "$APP"
	"$GITSEAL_BIN" render "$APP" >"$TMP/want"
	grep -q 'password: t0p-s3cr3t' "$TMP/want"
}
teardown() { teardown_tmp; }

render_stream() {
	OOM_RC=0
	env "$1" "$GITSEAL_BIN" render "$APP" >"$TMP/out" 2>"$TMP/err" || OOM_RC=$?
	if [ "$OOM_RC" -eq 0 ]; then
		cmp "$TMP/out" "$TMP/want"
	else
		oom_refused "$TMP/err"
		[ ! -s "$TMP/out" ]
	fi
}

@test "render, libyaml or OpenSSL out of memory at each allocation: the whole stream or nothing" {
	sweep_oom GITSEAL_TEST_FAIL_LIB_ALLOC render_stream
}
