#!/usr/bin/env bats
# The user's key cache (<XDG_CACHE_HOME or ~/.cache>/gitseal/key-cache) is
# used only in a directory of the user's alone (gitseal/userdir.h, the
# check the private directory's base goes through too): one the group may
# write, or one that another user owns, gets no record, and its file is
# never read.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

# add_one: a sealed file added (the filter records its data key)
add_one() {
	printf 'user: svc%s\npassword: p4ss-%s\n' "$1" "$1" > "secrets/$1.yaml"
	git add "secrets/$1.yaml"
}

@test "key cache: a group-writable or foreign-owned user cache directory is not used" {
	local dir="$HOME/.cache/gitseal"
	mkdir -p "$HOME/.cache"
	# the user's own: the record is written there
	mkdir -m 0700 "$dir"
	add_one a
	[ -s "$dir/key-cache" ]
	rm -rf "$dir"
	# group-writable (0770 and 0720): nothing is written
	for mode in 0770 0720; do
		mkdir -m "$mode" "$dir"
		add_one "b$mode"
		[ ! -e "$dir/key-cache" ]
		rm -rf "$dir"
	done
	# another user's, mode 0700
	[ "$(id -u)" = 0 ] || skip "only root can give a directory away"
	mkdir -m 0700 "$dir"
	chown 65534:65534 "$dir"
	add_one c
	[ ! -e "$dir/key-cache" ]
	[ "$(git show :secrets/c.yaml | grep -c '^sops:')" = 1 ]
}
