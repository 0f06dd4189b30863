#!/usr/bin/env bats
# Red team 22: what stop 46 added (passphrase-protected ssh identities)
# and the oldest surfaces again; each test is one hole.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# U1: updatekeys -r and rotate -r print a line per file they walked to,
# and wrote its name as the directory spells it: a pull request's sops
# file named "a\n<line>" forged a second report line ("prod.yaml: up to
# date" under a failure), "\e[1A\e[2K" erased the line above it, U+202E
# (right-to-left override) reversed the rest of the line in a browser.
@test "U1: updatekeys -r and rotate -r show the names they walked to with their control bytes escaped" {
	mkdir d
	printf 'db: hunter2\n' >p.yaml
	name=$'d/a\nprod.yaml: up to date\e[1A\e[2K\xe2\x80\xae.yaml'
	gitseal_fixture encrypt --config /dev/null --age "$DEMO_RECIPIENT" p.yaml >"$name"
	printf 'creation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	run --separate-stderr gitseal updatekeys -r -y d
	[ "$status" -eq 0 ]
	[ "$output" = 'd/a\x0aprod.yaml: up to date\x1b[1A\x1b[2K\xe2\x80\xae.yaml: up to date' ]
	run --separate-stderr gitseal rotate -r d
	[ "$status" -eq 0 ]
	[ "$output" = 'd/a\x0aprod.yaml: up to date\x1b[1A\x1b[2K\xe2\x80\xae.yaml: rotated' ]
}
