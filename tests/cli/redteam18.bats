#!/usr/bin/env bats
# Rule 1, red team 18: every writer hunted for a file it cannot give back
# (the differential hunt over the shared corpora, with sops-age and age as
# peers); each test is one defect it found, with the input bytes given here.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# refused N FILE ARGS...: gitseal encrypt ARGS exits N, prints nothing on
# standard output, one line naming FILE; -i leaves FILE as it was and
# --output writes nothing
refused() {
	local code=$1 file=$2
	shift 2
	cp "$file" before
	run --separate-stderr -"$code" gitseal encrypt --age "$DEMO_RECIPIENT" "$@" "$file"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "gitseal: error: '$file': "* ]]
	run --separate-stderr -"$code" gitseal encrypt --age "$DEMO_RECIPIENT" "$@" -i "$file"
	cmp "$file" before
	run --separate-stderr -"$code" gitseal encrypt --age "$DEMO_RECIPIENT" "$@" --output out "$file"
	[ ! -e out ]
}

# converts TYPE EXT EXPECTED: ok.yaml sealed as TYPE decrypts to EXPECTED
converts() {
	gitseal encrypt --age "$DEMO_RECIPIENT" --output-type "$1" ok.yaml >"ok.$2"
	gitseal decrypt "ok.$2" | cmp - <(printf '%b' "$3")
}

@test "encrypt --output-type into a store that cannot write the plaintext back is refused: the file sealed would not decrypt (a YAML .inf or .nan as JSON; a backslash and an n as dotenv, read back as a line break)" {
	printf 'a: 1\nb: .inf\nc: [x, -.inf]\nd: .nan\n' >in.yaml
	refused 4 in.yaml --output-type json
	[[ "$stderr" == *'doc 0: ["b"] is a number JSON cannot hold'*"; nothing written" ]]
	printf 'a: "x\\\\ny"\nb: plain\n' >in.yaml
	refused 4 in.yaml --output-type dotenv
	[[ "$stderr" == *'doc 0: ["a"] differs; nothing written' ]]
	# a finite float and a line break still convert, and decrypt in the new store
	printf 'a: 1\nb: 1.5\n' >ok.yaml
	converts json json '{\n\t"a": 1,\n\t"b": 1.5\n}\n'
	printf 'a: "x\\ny"\n' >ok.yaml
	converts dotenv env 'a=x\\ny\n'
}

@test "several YAML documents written as JSON (encrypt or decrypt --output-type json): exit 4, one line naming the file" {
	printf 'a: 1\n---\nb: 2\n' >two.yaml
	refused 4 two.yaml --output-type json
	[[ "$stderr" == *"JSON holds one document"*"; nothing written" ]]
	gitseal encrypt --age "$DEMO_RECIPIENT" two.yaml >enc.yaml
	run --separate-stderr -4 gitseal decrypt --output-type json enc.yaml
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'enc.yaml': the output would not give back the data given: JSON holds one document, not 2; nothing written" ]
}

@test "rotate, set, unset, groups and edit with --output-type naming another format: refused, not ignored (rotate --output-type json wrote YAML, exit 0)" {
	printf 'a: 1\nb: x\n' >in.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
	cp enc.yaml before
	export EDITOR=true
	for cmd in "rotate" "rotate -i" "set" "unset" "groups add --age $DEMO_RECIPIENT" "edit"; do
		case $cmd in
		set) args=(enc.yaml '["a"]' 2) ;;
		unset) args=(enc.yaml '["a"]') ;;
		groups*) args=(--file enc.yaml) ;;
		*) args=(enc.yaml) ;;
		esac
		# shellcheck disable=SC2086 # the command's words
		run --separate-stderr -1 gitseal $cmd --output-type json "${args[@]}"
		[ -z "$output" ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == "gitseal: error: ${cmd%% -*} writes the file in its own format, not '--output-type json': "* ]]
		cmp enc.yaml before
	done
	# the file's own format is no conversion
	gitseal rotate --output-type yaml enc.yaml >rotated.yaml
	gitseal decrypt rotated.yaml | cmp - in.yaml
}

@test "a refusal naming a key that holds a line break or a control character stays one line (the break was printed raw)" {
	printf '"k\\ney\\x01":\n  - x # c\n  - y\n"a\\tb": .inf\n' >in.yaml
	refused 4 in.yaml --output-type json
	[[ "$stderr" == *'doc 0: ["k\x0aey\x01"][0] differs; nothing written' ]]
	printf '"a\\tb\\nc": .inf\n' >inf.yaml
	refused 4 inf.yaml --output-type json
	[[ "$stderr" == *'doc 0: ["a\x09b\x0ac"] is a number JSON cannot hold'* ]]
}
