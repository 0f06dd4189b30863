#!/usr/bin/env bats
# unset of an INI key with a comment at the end of its line: the comment
# stays in the data (a comment is an item of the section, as in sops), and
# the file's own text is patched: the key and its value are cut, the
# comment keeps its line from its comment character on. It used to fall
# back to the fresh layout with a warning (the whole file rewritten,
# every comment after a key moved to a line of its own). The write is
# still loaded back and compared before it is written.
# src/store/ini.c cut_key_before_comment.

bats_require_minimum_version 1.5.0
load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# unset_quietly FILE PATH: gitseal unset exits 0 and says nothing (no
# fallback warning)
unset_quietly() {
	run --separate-stderr gitseal unset "$1" "$2"
	[ "$status" -eq 0 ] || return 1
	[ -z "$stderr" ] || return 1
}

# same_bytes_but_mac EXPECTED GOT: the same bytes, the metadata's mac and
# lastmodified lines aside (they change with every write)
same_bytes_but_mac() {
	cmp <(grep -Ev '^(mac|lastmodified) ' "$1") <(grep -Ev '^(mac|lastmodified) ' "$2")
}

encrypt_fixture() {
	gitseal encrypt --age "$(demo_recipient)" s.ini >before.ini
	cp before.ini e.ini
}

# unset_patched PATH SED WANT: unset of PATH in a copy of before.ini says
# nothing; the file is before.ini as the sed -E script SED changes it
# (every other byte, the comment's ciphertext too, as it was; the mac
# aside) and decrypts to WANT
unset_patched() {
	cp before.ini e.ini
	unset_quietly e.ini "$1" || return 1
	sed -E "$2" before.ini >want.ini
	! cmp -s want.ini before.ini || return 1
	same_bytes_but_mac want.ini e.ini || return 1
	[ "$(gitseal decrypt e.ini)" = "$3" ]
}

@test "unset of an INI key with an end-of-line comment keeps the file's layout: ';' and '#', any section" {
	printf '; top\n[app]\nport   = 80 ; web\nhost = h # note\nz    = 1\n\n[db]\nuser = u ; who\n' >s.ini
	encrypt_fixture
	# the key line from its start to the comment character cut
	unset_patched '["app"]["port"]' '3s/^port +=[^;]*; /; /' \
		"$(printf '; top\n[app]\n; web\nhost = h # note\nz    = 1\n\n[db]\nuser = u ; who')"
	# a '#' comment, the next key's alignment kept
	unset_patched '["app"]["host"]' '4s/^host =[^#]*# /# /' \
		"$(printf '; top\n[app]\nport   = 80 ; web\n# note\nz    = 1\n\n[db]\nuser = u ; who')"
	# the last key of a section, before the metadata
	unset_patched '["db"]["user"]' '8s/^user =[^;]*; /; /' \
		"$(printf '; top\n[app]\nport   = 80 ; web\nhost = h # note\nz    = 1\n\n[db]\n; who')"
}

@test "unset of an INI key with an end-of-line comment between comment lines: a blank line each side keeps the comments apart" {
	printf '[app]\n; about\nport = 80 ; web\n; next\nz = 1\n' >s.ini
	encrypt_fixture
	unset_quietly e.ini '["app"]["port"]'
	# without the blank lines the three comments would read back as one
	sed -E '3s/^port =[^;]*(; .*)$/\n\1\n/' before.ini >want.ini
	[ "$(wc -l <want.ini)" -eq "$(($(wc -l <before.ini) + 2))" ]
	same_bytes_but_mac want.ini e.ini
	[ "$(gitseal decrypt e.ini)" = "$(printf '[app]\n; about\n\n; web\n\n; next\nz = 1')" ]
	# three comments in the data, as before the unset
	[ "$(gitseal decrypt --output-type yaml e.ini)" = "$(printf 'app:\n    #about\n    #web\n    #next\n    z: "1"')" ]
}
