#!/usr/bin/env bats
# An in-place write that cannot go ahead loses nothing: an edit that lost
# the race to another writer is kept sealed beside the file, and a file
# with other hard links is refused before anything is written.

load ../helpers

setup() {
	setup_tmp
	cd "$TMP"
	export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
	printf 'a: secret\nb: 2\n' >plain.yaml
	gitseal encrypt --age "$(demo_recipient)" plain.yaml >enc.yaml
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
	[ "${#kept[@]}" -eq 1 ] && [ -f "${kept[0]}" ]
	[ "$stderr" = "gitseal: error: cannot replace 'enc.yaml': it changed since it was read; your edit is kept sealed in '${kept[0]}'" ]
	# the other writer's value is in the file, the user's edit is not
	[ "$(gitseal decrypt enc.yaml)" = "$(printf 'a: secret\nb: other')" ]
	# the kept file is sealed (no plaintext on disk), has the target's mode
	# and decrypts to the user's edit
	! grep -q mine "${kept[0]}"
	[ "$(stat -c %a "${kept[0]}")" = 640 ]
	[ "$(gitseal decrypt --input-type yaml "${kept[0]}")" = "$(printf 'a: mine\nb: 2')" ]
	[ -z "$(ls -A | grep gitseal-tmp)" ]
}
