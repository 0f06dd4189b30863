#!/usr/bin/env bats
# Fidelity 31: exit 0 means decrypt gives back the bytes given, through
# every writing command, for layouts the sops format can carry.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# A file's blocks came back at one step: the file's (a nested map's, else
# the first block's, which its metadata takes). A block at a step of its
# own is sealed as a block at its column ("|-" and the ENC[...] line, which
# sops and sops-age read as the same string) and decrypted there.
MIXED='a: |\n  x\nb: |\n    y\n    w\nl:\n  - |\n      z\n  - |\n    v\nm:\n  k: |\n      deep\nc: 1\n'

@test "blocks at steps of their own come back at their own columns" {
	for input in "$MIXED" 'b: |\n    y\na: |\n  x\n' 'm:\n  k: v\nb: |\n    x\n' 'm:\n    k: v\nb: |\n  x\n' \
		'l:\n- |\n  x\n- |\n    y\n' 'a: |2\n    x\nb: |\n   y\n' 'a: |\r\n  x\r\nb: |\r\n    y\r\n' \
		'a: |+\n    x\n\nb: |\n  y\n' 'a: |-\n      x\n      y\nb: |\n  z\n' 'a: >\n    x\n\n    y\nb: |\n  z\n'; do
		printf -- "$input" >in.yaml
		gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
		gitseal decrypt enc.yaml >dec.yaml
		if [[ $input == *'>'* ]]; then
			# a folded block comes back literal, as sops writes it
			printf 'a: |\n    x\n    y\nb: |\n  z\n' | cmp - dec.yaml
			continue
		fi
		cmp in.yaml dec.yaml
		gitseal decrypt --output out.yaml enc.yaml
		cmp in.yaml out.yaml
		gitseal decrypt -i enc.yaml
		cmp in.yaml enc.yaml
	done
	printf -- "$MIXED" >in.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
	# sealed at their columns: a block of a step of its own only
	grep -q '^a: ENC\[AES256_GCM,.*,type:str\]$' enc.yaml
	[ "$(sed -n 2p enc.yaml)" = "b: |-" ]
	sed -n 3p enc.yaml | grep -q '^    ENC\[AES256_GCM,.*,type:str\]$'
	[ "$(sed -n 5,6p enc.yaml | cut -c1-12)" = "$(printf '  - |-\n      ENC[AE')" ]
	sed -n 7p enc.yaml | grep -q '^  - ENC\['
	gitseal encrypt -i --age "$DEMO_RECIPIENT" in.yaml
	gitseal decrypt in.yaml | cmp - <(printf -- "$MIXED")
}

@test "blocks at steps of their own keep them through set, unset, rotate, updatekeys, groups and edit" {
	local r2
	r2=$(sed -n 's/^# public key: //p' "$KEYS/test-age-key-2.txt")
	cat "$KEYS/demo-age-key.txt" "$KEYS/test-age-key-2.txt" >both.txt
	export SOPS_AGE_KEY_FILE=$PWD/both.txt
	printf -- "$MIXED" >in.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
	cp enc.yaml enc0.yaml
	EDITOR=true run -200 gitseal edit enc.yaml
	cmp enc0.yaml enc.yaml
	gitseal set enc.yaml '["c"]' 2
	gitseal decrypt enc.yaml | cmp - <(printf -- "${MIXED%1\\n}2\n")
	# a new value for a block keeps its column
	gitseal set enc.yaml '["b"]' '"p\nq\n"'
	gitseal decrypt enc.yaml | cmp - <(printf -- "${MIXED/y\\n    w/p\\n    q}" | sed 's/^c: 1$/c: 2/')
	gitseal set enc.yaml '["b"]' '"y\nw\n"'
	gitseal unset enc.yaml '["c"]'
	gitseal decrypt enc.yaml | cmp - <(printf -- "${MIXED%c: 1\\n}")
	gitseal set enc.yaml '["c"]' 1
	gitseal decrypt enc.yaml | cmp - in.yaml
	gitseal rotate -i enc.yaml
	gitseal decrypt enc.yaml | cmp - in.yaml
	gitseal rotate -i --add-age "$r2" enc.yaml
	gitseal decrypt enc.yaml | cmp - in.yaml
	gitseal groups add --file enc.yaml -i -y --age "$r2"
	gitseal decrypt enc.yaml | cmp - in.yaml
	gitseal groups delete --file enc.yaml -i 1
	gitseal decrypt enc.yaml | cmp - in.yaml
	printf 'creation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	gitseal updatekeys -y enc.yaml
	gitseal decrypt enc.yaml | cmp - in.yaml
	# an edit that changes one value changes that value's bytes only
	cp enc.yaml enc0.yaml
	printf '#!/bin/sh\nsed -i "s/^c: 1$/c: 3/" "$1"\n' >ed.sh
	chmod +x ed.sh
	EDITOR=./ed.sh gitseal edit enc.yaml
	gitseal decrypt enc.yaml | cmp - <(sed 's/^c: 1$/c: 3/' in.yaml)
	diff enc0.yaml enc.yaml | grep '^>' >changed || true
	grep -q '^> c: ENC' changed
	[ "$(grep -cv -e '^> c: ENC' -e '^> *lastmodified: ' -e '^> *mac: ENC' changed)" -eq 0 ]
}

# A flat file's metadata takes its first block's step, and set, unset and
# the other writers measured it again from the plaintext: with that block
# set to one line or unset, the next block's step was taken, written into
# the metadata, and the blocks sealed at the old one came back at the new.
@test "set or unset of a flat file's first block keeps the other blocks where they were" {
	local input='k0: |-\n    u s\n    c\nk1: |-\n   zd\n   mk v\nk2: |+\n    ce oz\n    q\n\n'
	printf -- "$input" >in.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc0.yaml
	cp enc0.yaml enc.yaml
	gitseal set enc.yaml '["k0"]' '"s3t"'
	gitseal decrypt enc.yaml | cmp - <(printf 'k0: s3t\n'; printf -- "$input" | tail -n +4)
	cp enc0.yaml enc.yaml
	gitseal unset enc.yaml '["k0"]'
	gitseal decrypt enc.yaml | cmp - <(printf -- "$input" | tail -n +4)
	gitseal set enc.yaml '["k0"]' '"u s\nc"'
	gitseal decrypt enc.yaml | cmp - <(printf -- "$input" | tail -n +4; printf 'k0: |-\n    u s\n    c\n')
}

# The first nested map of a sealed file sets the step its blocks decrypt at.
# A map set in place of a list took the list's column (2 in a file whose
# blocks, and metadata, sit at 4), so the blocks came back at 2.
@test "a map set in place of an indented list takes the file's step, and the blocks keep theirs" {
	printf 'k0:\n  - x\nk1: |-\n    a\n    b\n' >in.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
	gitseal set enc.yaml '["k0"]' '{"n": "v", "m": [1]}'
	gitseal decrypt enc.yaml | cmp - <(printf 'k0:\n    "n": v\n    m:\n        - 1\nk1: |-\n    a\n    b\n')
}

# A map set in a list (a list item's map sets no step for the reader) made
# the plaintext look nested to the measure of a flat file's step, so the
# metadata went back to 4 and blocks at 2 came back at 4; and a list
# item's block replaced by a map sent the whole file to the fresh layout.
@test "a map set in a list or over a list item's block leaves the blocks at their step" {
	printf 'a: |\n  x\n  y\nl: 1\n' >in.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
	gitseal set enc.yaml '["l"]' '[{"k": "v", "j": "w"}]'
	gitseal decrypt enc.yaml | cmp - <(printf 'a: |\n  x\n  y\nl:\n  - k: v\n    j: w\n')
	printf 'l:\n  - |\n    x\n    y\n  - z\nk: |\n  b\n  c\n' >in.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
	gitseal set enc.yaml '["l"][0]' '{"a": "b", "e": [1]}'
	gitseal decrypt enc.yaml | cmp - <(printf 'l:\n  - a: b\n    e:\n      - 1\n  - z\nk: |\n  b\n  c\n')
}
