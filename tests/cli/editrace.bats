#!/usr/bin/env bats
# An in-place write that cannot go ahead loses nothing: an edit that lost
# the race to another writer is kept sealed beside the file, and a file
# with other hard links is refused before anything is written.

load ../helpers

setup() {
	setup_demo
	printf 'a: secret\nb: 2\n' >plain.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
}
teardown() { teardown_tmp; }

@test "edit that loses the race to another writer: 3, the other's value stays, the edit is kept sealed beside" {
	chmod 640 enc.yaml
	# the other writer goes while the editor is open
	printf '#!/bin/sh\n"$GITSEAL_BIN" set enc.yaml %s %s || exit 9\nsed -i s/secret/mine/ "$1"\n' \
		"'[\"b\"]'" "'\"other\"'" >ed.sh
	chmod +x ed.sh
	run --separate-stderr env SOPS_EDITOR="$TMP/ed.sh" "$GITSEAL_BIN" edit enc.yaml
	[ "$status" -eq 3 ]
	kept=(enc.yaml.gitseal-edit-*)
	[ "${#kept[@]}" -eq 1 ]
	[ -f "${kept[0]}" ]
	[ "$stderr" = "gitseal: error: cannot replace 'enc.yaml': it changed since it was read; your edit is kept sealed in '${kept[0]}'" ]
	# the other writer's value is in the file, the user's edit is not
	[ "$(gitseal decrypt enc.yaml)" = "$(printf 'a: secret\nb: other')" ]
	# the kept file is sealed (no plaintext on disk), has the target's mode
	# and decrypts to the user's edit
	# mine as a word: base64 ciphertext may hold the letters by chance
	! grep -qE '(^|[^A-Za-z0-9+/])mine([^A-Za-z0-9+/=]|$)' "${kept[0]}" || false
	[ "$(stat -c %a "${kept[0]}")" = 640 ]
	[ "$(gitseal decrypt --input-type yaml "${kept[0]}")" = "$(printf 'a: mine\nb: 2')" ]
	[ -z "$(ls -A | grep gitseal-tmp)" ]
}

# a replacement by rename leaves another hard link with the old bytes
# (after encrypt -i: the plaintext), so such a file is refused untouched
hard_linked() { # hard_linked STATUS STDERR FILE COUNT
	[ "$1" -eq 3 ]
	[ "$2" = "gitseal: error: cannot replace '$3': it has $4 hard links, and the others would keep the old content (to break the link: cp '$3' tmp && mv tmp '$3')" ]
}

@test "encrypt -i of a file with another hard link: 3, one line, both names keep their bytes" {
	ln plain.yaml other.yaml
	run --separate-stderr gitseal encrypt -i --age "$DEMO_RECIPIENT" plain.yaml
	hard_linked "$status" "$stderr" plain.yaml 2
	[ "$(cat plain.yaml)" = "$(printf 'a: secret\nb: 2')" ]
	[ "$(stat -c %h other.yaml)" = 2 ]
	[ -z "$(ls -A | grep gitseal-tmp)" ]
	# through a symbolic link the target's count is what counts
	ln -s plain.yaml link.yaml
	ln plain.yaml third.yaml
	run --separate-stderr gitseal encrypt -i --age "$DEMO_RECIPIENT" link.yaml
	hard_linked "$status" "$stderr" link.yaml 3
	[ "$(cat plain.yaml)" = "$(printf 'a: secret\nb: 2')" ]
	# the link broken as the message says, it goes ahead
	rm other.yaml third.yaml
	run -0 gitseal encrypt -i --age "$DEMO_RECIPIENT" plain.yaml
	[ "$(gitseal decrypt plain.yaml)" = "$(printf 'a: secret\nb: 2')" ]
}

@test "set, decrypt -i and edit of a file with another hard link: 3, nothing written, the editor never runs" {
	ln enc.yaml other.yaml
	cp enc.yaml enc.orig
	run --separate-stderr gitseal set enc.yaml '["b"]' '3'
	hard_linked "$status" "$stderr" enc.yaml 2
	cmp enc.yaml enc.orig
	run --separate-stderr gitseal decrypt -i enc.yaml
	hard_linked "$status" "$stderr" enc.yaml 2
	cmp enc.yaml enc.orig
	printf '#!/bin/sh\ntouch "%s/ran"\nsed -i s/secret/mine/ "$1"\n' "$TMP" >ed.sh
	chmod +x ed.sh
	run --separate-stderr env SOPS_EDITOR="$TMP/ed.sh" "$GITSEAL_BIN" edit enc.yaml
	hard_linked "$status" "$stderr" enc.yaml 2
	[ ! -e ran ]
	cmp enc.yaml enc.orig
}
