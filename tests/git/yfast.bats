#!/usr/bin/env bats
# A checkout reads a sealed file's YAML with src/store/yaml_fast.c where it
# has the shape gitseal (or the Go sops) writes, and proves the plaintext it
# writes with libyaml (yaml_load_data): the test build logs which reader gave
# each load its events (GITSEAL_TEST_YFAST_LOG) and compares each list
# yaml_fast.c gives with libyaml's (GITSEAL_TEST_YFAST_CHECK, aborts on a
# difference).

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

@test "yaml_fast: a smudge of a file gitseal wrote reads it with yaml_fast.c, its proof with libyaml" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1 gitsuite)"
	printf 'user: svc1\npassword: p4ss-one\nlist:\n  - name: a\n    port: 5432\n' > secrets/a.yaml
	git add -A
	git commit -qm one
	git show HEAD:secrets/a.yaml | grep -q '^sops:'
	rm secrets/a.yaml
	export GITSEAL_TEST_YFAST_LOG="$T/log" GITSEAL_TEST_YFAST_CHECK=1
	git checkout -- secrets/a.yaml
	printf 'user: svc1\npassword: p4ss-one\nlist:\n  - name: a\n    port: 5432\n' | diff -u - secrets/a.yaml
	# the ciphertext's load; then the proven emit's reload, of a plaintext
	# yaml_fast.c would take too
	[ "$(head -1 "$T/log")" = fast ]
	[ "$(sed -n 2p "$T/log")" = libyaml ]
	assert_status_clean
}

@test "yaml_fast: a smudge of a file the Go sops wrote in that shape reads it with yaml_fast.c" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1 gitsuite)"
	local case="${GITSEAL_SHARED:-../shared}/testdata/sops-real/cases/sso-04-maconly"
	# readlink -f fails where ../shared itself is missing (a clone elsewhere)
	case=$(cd "$BATS_TEST_DIRNAME/../.." && readlink -f "$case") && [ -d "$case" ] ||
		skip "sops-real not present"
	cat "$case/key.txt" >> "$T/key.txt"
	cp "$case/04-test-secrets-mac-only.yaml" secrets/s.yaml
	GITSEAL_KEEP_FILE_RULE=1 git add -A
	git commit -qm sops
	cmp secrets/s.yaml <(git show HEAD:secrets/s.yaml)
	rm secrets/s.yaml
	export GITSEAL_TEST_YFAST_LOG="$T/log" GITSEAL_TEST_YFAST_CHECK=1
	git checkout -- secrets/s.yaml
	[ "$(cat secrets/s.yaml)" = "$(cat "$case/expected.plain")" ]
	[ "$(head -1 "$T/log")" = fast ]
}

# Only a sealed file: a plaintext's first load (the clean filter's) has no
# MAC or AES-GCM after it, only a proof against the tree that load built,
# so a plaintext in the very shape yaml_fast.c takes is read by libyaml.
@test "yaml_fast: a plaintext's first load, in the clean filter, is libyaml's" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1 gitsuite)"
	printf 'user: svc1\npassword: p4ss-one\n' > secrets/a.yaml
	export GITSEAL_TEST_YFAST_LOG="$T/log" GITSEAL_TEST_YFAST_CHECK=1
	git add -A
	unset GITSEAL_TEST_YFAST_LOG
	[ -s "$T/log" ]
	[ "$(grep -c -vx libyaml "$T/log")" = 0 ]
	git show :secrets/a.yaml | grep -q '^sops:'
}
