#!/usr/bin/env bats
# Memory hygiene visible from outside: commands that hold keys turn core
# dumps off, which their children inherit as RLIMIT_CORE 0.

load ../helpers

setup() {
	setup_demo
	printf 'a: b\n' >plain.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
}
teardown() { teardown_tmp; }

@test "exec-env, exec-file and edit run their child with core dumps off" {
	ulimit -c unlimited 2>/dev/null || ulimit -c 1024 || skip "cannot raise RLIMIT_CORE"
	[ "$(ulimit -c)" != 0 ]
	run gitseal exec-env enc.yaml 'ulimit -c'
	[ "$status" -eq 0 ]
	[ "$output" = 0 ]
	run gitseal exec-file enc.yaml 'sh -c "ulimit -c; cat \"\$1\" >/dev/null" sh {}'
	[ "$status" -eq 0 ]
	[ "$output" = 0 ]
	printf '#!/bin/sh\nulimit -c >"%s/editor-core"\n' "$TMP" >editor.sh
	chmod +x editor.sh
	EDITOR="$TMP/editor.sh" run gitseal edit enc.yaml
	[ "$(cat "$TMP/editor-core")" = 0 ]
}
