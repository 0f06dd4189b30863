#!/usr/bin/env bats
# A symbolic link under the filter's pattern: git stores the link's text
# and runs no filter on it, so it is not a sealed file, and gitseal
# neither reports it as one nor reads or writes through it.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	gs_setup
	printf 'db_password: hunter2\n' > secrets/app.yaml
	git add -A && git commit -qm base
	mkdir -p "$T/elsewhere"
}
teardown() { gs_teardown; }

@test "git status and git check agree on a tracked symbolic link: not a sealed file" {
	ln -s app.yaml secrets/alias.yaml
	ln -s "$T/elsewhere/app.yaml" secrets/out.yaml
	git add secrets
	[ "$(git ls-files -s secrets/alias.yaml | cut -c1-6)" = 120000 ]
	# staged, not yet committed: what check examines
	run -0 "$GITSEAL_BIN" git check
	[ -z "$output" ]
	run -0 "$GITSEAL_BIN" git status
	[ "$output" = "secrets/app.yaml: decrypted" ]
	git commit -qm links
	run -0 "$GITSEAL_BIN" git status
	[ "$output" = "secrets/app.yaml: decrypted" ]
}
