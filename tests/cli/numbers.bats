#!/usr/bin/env bats
# Numbers through encrypt and decrypt: an int comes back as the file
# spelled it where sops's decrypt (Go strconv.Atoi) reads the spelling as
# the number yaml.v3 reads; any other spelling comes back in sops's form
# (docs/sops-parity.md, rows "numbers" in tests/unit/test_store_table.c).

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

@test "YAML ints +5, 007, -0, 01 come back byte for byte, through stdout and -i" {
	printf 'plus: +5\npadded: 007\nzero: -0\nlead: 01\nneg: -07\nlist: [+1, -0]\nblock:\n  - +0\n' >ints.yaml
	cp ints.yaml orig.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" ints.yaml >enc.yaml
	[ "$(grep -o 'type:int' enc.yaml | wc -l)" -eq 8 ]
	gitseal decrypt enc.yaml >dec.yaml
	cmp orig.yaml dec.yaml
	gitseal encrypt -i --age "$DEMO_RECIPIENT" ints.yaml
	gitseal decrypt -i ints.yaml
	cmp orig.yaml ints.yaml
}

@test "YAML ints that Atoi reads otherwise (010, 0x1F, 0o17, 1_000) come back in sops's form" {
	printf 'octal: 010\nhex: 0x1F\nnew_octal: 0o17\nunderscore: 1_000\nbinary: -0b101\n' >ints.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" ints.yaml >enc.yaml
	gitseal decrypt enc.yaml >dec.yaml
	[ "$(cat dec.yaml)" = "$(printf 'octal: 8\nhex: 31\nnew_octal: 15\nunderscore: 1000\nbinary: -5')" ]
}

@test "JSON -0 comes back as -0; converted, ints are written as sops writes them" {
	printf '{"zero": -0, "list": [-0, 7]}' >ints.json
	gitseal encrypt --age "$DEMO_RECIPIENT" ints.json >enc.json
	gitseal decrypt enc.json >dec.json
	[ "$(cat dec.json)" = '{"zero": -0, "list": [-0, 7]}' ]
	printf 'plus: +5\npadded: 007\nzero: -0\n' >ints.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" ints.yaml >enc.yaml
	gitseal decrypt --output-type json enc.yaml >out.json
	[ "$(cat out.json)" = "$(printf '{\n\t"plus": 5,\n\t"padded": 7,\n\t"zero": 0\n}')" ]
	gitseal decrypt --output-type dotenv enc.yaml >out.env
	[ "$(cat out.env)" = "$(printf 'plus=5\npadded=7\nzero=0')" ]
}

@test "an unchanged int spelling keeps its ciphertext when the file is encrypted again" {
	printf 'plus: +5\nother: x\n' >f.yaml
	gitseal encrypt -i --age "$DEMO_RECIPIENT" f.yaml
	plus_before=$(grep '^plus:' f.yaml)
	gitseal set f.yaml '["other"]' '"z"'
	[ "$(grep '^plus:' f.yaml)" = "$plus_before" ]
	[ "$(gitseal decrypt f.yaml)" = "$(printf 'plus: +5\nother: z')" ]
}

# forge TYPE TEXT OUT: TEXT (a printf format) encrypted to OUT, each str
# value given type TYPE (the type field is not under the tag)
forge() {
	printf -- "$2" >forged-plain.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" forged-plain.yaml | sed "s/type:str\\]/type:$1]/" >"$3"
}

# A type:int value is not authenticated by its type field; the MAC is. A
# value whose plaintext is "010" reads as 10 to sops (Atoi), so it must
# not be written back as 010, which YAML readers take for 8.
@test "a type:int value 010 decrypts as sops reads it (10), and its MAC is the one of 10" {
	forge int 'a: "010"\nb: "0x1F"\n' forged.yaml
	run --separate-stderr gitseal decrypt --ignore-mac forged.yaml
	[ "$status" -eq 25 ]
	[ "$stderr" = "gitseal: error: 'forged.yaml': value at 'b:': decrypted value is not a valid int" ]
	forge int 'a: "010"\n' forged.yaml
	run --separate-stderr gitseal decrypt forged.yaml
	[ "$status" -eq 51 ]
	[ "$stderr" = "gitseal: error: 'forged.yaml': MAC mismatch" ]
	[ -z "$output" ]
	run --separate-stderr gitseal decrypt --ignore-mac forged.yaml
	[ "$status" -eq 0 ]
	[ "$output" = "a: 10" ]
}

# sops reads a type:time value with Go's Time.UnmarshalText and fails on
# one it cannot read; it hashes Time.MarshalText and writes a time as a
# YAML timestamp (plain) or a JSON string. The type field is not under the
# tag, so a str value becomes a time by its name alone; the MAC stays good
# where the text is already as Go writes it. Red team rt1 F3: gitseal took
# any text, quoted it, and sealed it again as type:str.
@test "type:time: an invalid time is refused; a valid one is written as sops writes it and stays a time" {
	forge time 'a: "not-a-time"\n' forged.yaml
	run --separate-stderr gitseal decrypt forged.yaml
	[ "$status" -eq 25 ]
	[ "$stderr" = "gitseal: error: 'forged.yaml': value at 'a:': decrypted value is not a valid time (RFC 3339)" ]
	[ -z "$output" ]
	run -25 gitseal set forged.yaml '["b"]' 1
	forge time 'a: "2024-01-02T03:04:05.5+01:00"\nb: 1\n' t.yaml
	[ "$(gitseal decrypt t.yaml)" = $'a: 2024-01-02T03:04:05.5+01:00\nb: 1' ]
	[ "$(gitseal decrypt --output-type json t.yaml)" = $'{\n\t"a": "2024-01-02T03:04:05.5+01:00",\n\t"b": 1\n}' ]
	[ "$(gitseal decrypt --extract '["a"]' --output-type json t.yaml)" = '"2024-01-02T03:04:05.5+01:00"' ]
	gitseal set t.yaml '["b"]' 2
	grep -q '^a: .*,type:time]' t.yaml
	gitseal rotate -i t.yaml
	grep -q '^a: .*,type:time]' t.yaml
	SOPS_EDITOR='sed -i s/^b:.*/b:\ 3/' gitseal edit t.yaml
	grep -q '^a: .*,type:time]' t.yaml
	[ "$(gitseal decrypt t.yaml)" = $'a: 2024-01-02T03:04:05.5+01:00\nb: 3' ]
}

@test "exec-env gives an int spelled +5 or 007 as sops does (5, 7)" {
	printf 'PLUS: +5\nPADDED: 007\nZERO: -0\n' >env.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" env.yaml >enc.yaml
	run --separate-stderr gitseal exec-env enc.yaml 'printf "%s %s %s" "$PLUS" "$PADDED" "$ZERO"'
	[ "$status" -eq 0 ]
	[ "$output" = "5 7 0" ]
}
