#!/usr/bin/env bats
# set and unset patch the file's own text where they used to write the
# whole file in the fresh layout: a JSON list that grows (or loses an
# element), and INI's DEFAULT section (the keys before the first header)
# emptied. Every write is still loaded back and compared before it is
# written (a mismatch would warn and write the fresh layout, or write
# nothing): no warning here, and the bytes outside what changed are the
# file's own. src/store/json.c patch_tail, src/store/ini.c patch_section.

bats_require_minimum_version 1.5.0
load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# kept_but REGEX BEFORE AFTER: the lines not matching REGEX are the same bytes
kept_but() {
	diff -u <(grep -Ev "$1" "$2") <(grep -Ev "$1" "$3")
}

# kept_from_blank BEFORE AFTER: from the first blank line on, the same
# bytes (the metadata's mac and lastmodified aside)
kept_from_blank() {
	diff -u <(sed -n '/^$/,$p' "$1" | grep -Ev '^(mac|lastmodified) ') \
		<(sed -n '/^$/,$p' "$2" | grep -Ev '^(mac|lastmodified) ')
}

# set_quietly ARGS...: gitseal ARGS exits 0 and says nothing (no fallback warning)
set_quietly() {
	run --separate-stderr gitseal "$@"
	[ "$status" -eq 0 ] || return 1
	[ -z "$stderr" ] || return 1
}

json_fixture() {
	# three-space steps, a one-line list, two blanks after a colon: none of
	# it is the fresh layout (tabs, one element a line, one blank)
	printf '{\n   "ports": [80, 443],\n   "hosts": [\n      "a",\n      "b"\n   ],\n   "empty": [],\n   "x":  1\n}\n' >s.json
	gitseal encrypt --age "$(demo_recipient)" s.json >before.json
	grep -q '^   "x":  "ENC' before.json
}

@test "set that grows a JSON list keeps the file's layout: one-line, multi-line and empty lists" {
	json_fixture
	# a one-line list stays on its line
	cp before.json e.json
	set_quietly set e.json '["ports"][2]' 8080
	kept_but '^   "ports"|"(mac|lastmodified)"' before.json e.json
	grep -Eq '^   "ports": \["ENC[^"]*", "ENC[^"]*", "ENC[^"]*"\],$' e.json
	[ "$(gitseal decrypt --extract '["ports"]' e.json | tr -d ' \t\n')" = '[80,443,8080]' ]
	# a multi-line list: the new element on a line of its own, at the others' indentation
	cp before.json e.json
	set_quietly set e.json '["hosts"][2]' '"c"'
	kept_but '^      "ENC|"(mac|lastmodified)"' before.json e.json
	[ "$(grep -Ec '^      "ENC\[[^"]*type:str\]",?$' e.json)" = 3 ]
	[ "$(grep -A4 '^   "hosts": \[$' e.json | tail -1)" = '   ],' ]
	[ "$(gitseal decrypt --extract '["hosts"]' e.json | tr -d ' \t\n')" = '["a","b","c"]' ]
	# an empty list: the element one step (the file's three blanks) deeper
	cp before.json e.json
	set_quietly set e.json '["empty"][0]' '"v"'
	kept_but '^   ("empty"|\],)|^      "ENC|"(mac|lastmodified)"' before.json e.json
	grep -A2 '^   "empty": \[$' e.json | sed 's/"ENC[^"]*"/E/' >got
	printf '   "empty": [\n      E\n   ],\n' | diff -u - got
	# a list replaced by a longer one
	cp before.json e.json
	set_quietly set e.json '["ports"]' '[1, 2, 3]'
	kept_but '^   "ports"|"(mac|lastmodified)"' before.json e.json
	[ "$(gitseal decrypt --extract '["ports"]' e.json | tr -d ' \t\n')" = '[1,2,3]' ]
	[ "$(gitseal decrypt e.json | tr -d ' \n')" = '{"ports":[1,2,3],"hosts":["a","b"],"empty":[],"x":1}' ]
}

@test "unset of a JSON list element keeps the file's layout" {
	json_fixture
	cp before.json e.json
	set_quietly unset e.json '["ports"][0]'
	kept_but '^   "ports"|"(mac|lastmodified)"' before.json e.json
	grep -Eq '^   "ports": \["ENC[^"]*"\],$' e.json
	cp before.json e.json
	set_quietly unset e.json '["hosts"][0]'
	kept_but '^      "ENC|"(mac|lastmodified)"' before.json e.json
	[ "$(gitseal decrypt e.json | tr -d ' \n')" = '{"ports":[80,443],"hosts":["b"],"empty":[],"x":1}' ]
}

@test "set and unset that empty INI's DEFAULT section keep the file's layout: a [DEFAULT] header keeps it" {
	printf '; defaults\ntop   = 1\nk2 = v\n\n; the app\n[app]\nport   = 80 ; web\n' >s.ini
	gitseal encrypt --age "$(demo_recipient)" s.ini >before.ini
	cp before.ini e.ini
	# the comment above the keys is the section's: it goes with them
	set_quietly set e.ini '["DEFAULT"]' '{}'
	# before the blank line, the header alone
	kept_from_blank before.ini e.ini
	[ "$(sed -n '1,/^$/p' e.ini)" = "$(printf '[DEFAULT]\n')" ]
	[ "$(gitseal decrypt e.ini)" = "$(printf '[DEFAULT]\n\n; the app\n[app]\nport   = 80 ; web')" ]
	# set of other keys in it: the rest of the file as it was
	cp before.ini e.ini
	set_quietly set e.ini '["DEFAULT"]' '{"z": "1"}'
	kept_from_blank before.ini e.ini
	[ "$(sed -n '1,/^$/p' e.ini | sed 's/ENC\[[^]]*\]/E/')" = "$(printf 'z = E\n')" ]
	[ "$(gitseal decrypt e.ini)" = "$(printf 'z = 1\n\n; the app\n[app]\nport   = 80 ; web')" ]
	# unset of its last key
	printf 'top   = 1\n\n; the app\n[app]\nport   = 80 ; web\n' >s.ini
	gitseal encrypt --age "$(demo_recipient)" s.ini >before.ini
	cp before.ini e.ini
	set_quietly unset e.ini '["DEFAULT"]["top"]'
	kept_from_blank before.ini e.ini
	[ "$(sed -n '1,/^$/p' e.ini)" = "$(printf '[DEFAULT]\n')" ]
	[ "$(gitseal decrypt e.ini)" = "$(printf '[DEFAULT]\n\n; the app\n[app]\nport   = 80 ; web')" ]
}
