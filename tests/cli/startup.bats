#!/usr/bin/env bats
# What every gitseal process pays before and around main: a small file's
# time on this VM is mostly start-up (docs/development.md, the small file).

load ../helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

@test "thread-local storage is under a page: glibc zeroes it in every process and thread" {
	command -v readelf >/dev/null || skip "readelf is not installed"
	size=$(readelf -lW "$GITSEAL_BIN" | awk '$1 == "TLS" { print $6 }')
	[ -n "$size" ]
	[ $((size)) -lt 4096 ] || { echo "TLS memsz $size"; false; }
}
