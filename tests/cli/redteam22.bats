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

# U2: a key list of a type gitseal does not know, in a file's metadata
# (outside the MAC), is kept and named by its type, which is the list's
# name in the file: rotate, groups and a new data key wrote it raw ("the
# file's x\e[2Ky keys would be lost"), an ESC that erased the line.
@test "U2: a metadata key list's type, named by rotate and groups, is shown with its control bytes escaped" {
	printf 'db: hunter2\n' >p.yaml
	gitseal_fixture encrypt --config /dev/null --age "$DEMO_RECIPIENT" p.yaml >app.yaml
	sed -i 's/^    lastmodified:/    "x\\e[2Ky":\n        - enc: AAAA\n&/' app.yaml
	cp app.yaml before.yaml
	printf 'creation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	run -1 gitseal rotate -i app.yaml
	[ "$output" = "gitseal: error: 'app.yaml': the file's x\\x1b[2Ky keys would be lost: gitseal cannot wrap for them and a new data key is needed (--drop-unsupported-keys removes them, after a confirmation)" ]
	run -1 gitseal groups add --file app.yaml --age "$DEMO_RECIPIENT"
	[[ "$output" == *"the file's x\\x1b[2Ky keys would be lost"* ]]
	[[ "$output" != *$'\e'* ]]
	cmp app.yaml before.yaml
}
