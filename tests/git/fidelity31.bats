#!/usr/bin/env bats
# Fidelity 31 through the git filter and the merge driver: a file whose
# blocks sit at steps of their own comes back byte for byte.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

MIXED='a: |\n  x\nb: |\n    y\n    w\nl:\n  - |\n      z\nc: 1\n'

@test "a flat file's blocks at 2 and 4 come back so through clean, smudge, a clone and a merge" {
	printf -- "$MIXED" >secrets/app.yaml
	git add -A
	git commit -qm one
	assert_blob_encrypted secrets/app.yaml
	[ "$(git cat-file -p HEAD:secrets/app.yaml | sed -n 2p)" = "b: |-" ]
	rm secrets/app.yaml
	git checkout secrets/app.yaml
	printf -- "$MIXED" | cmp - secrets/app.yaml
	assert_status_clean
	git clone -q "$REPO" "$T/clone"
	cd "$T/clone"
	"$GITSEAL_BIN" git init >/dev/null
	printf -- "$MIXED" | cmp - secrets/app.yaml
	# a merge of two branches' edits keeps every block's column
	git checkout -qb side
	sed -i 's/^c: 1$/c: 2/' secrets/app.yaml
	git commit -qam side
	git checkout -q main
	printf 'd: 3\n' >>secrets/app.yaml
	git commit -qam main
	git merge -q --no-edit side
	printf -- "${MIXED%1\\n}2\nd: 3\n" | cmp - secrets/app.yaml
}
