#!/usr/bin/env bats
# Issue 18, point 7: decrypt --extract prints what sops prints: a string
# raw, a map as a document, any other value as the output store's
# EmitValue writes it (cmd/sops/decrypt.go:75-97).

load ../helpers

setup() {
	setup_demo
	printf 's: text\nn: 42\nb: true\nlist:\n  - x\n  - z\nm:\n  k: v\nmaps:\n  - k: 1\n    j: 2\n' >plain.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
}
teardown() { teardown_tmp; }

# sops: cmd/sops/decrypt.go:90-92 (a string: its bytes, no newline)
@test "a string: raw, without a newline" {
	gitseal decrypt --extract '["s"]' enc.yaml | cmp - <(printf 'text')
	gitseal decrypt --extract '["list"][1]' enc.yaml | cmp - <(printf 'z')
}

# sops: decrypt.go:93 (EmitValue), stores/yaml/store.go:405 (yaml.Marshal:
# a value with a final newline), stores/json/store.go:370 (json.Marshal,
# no newline), stores/dotenv/store.go:114 (strings only: ErrorDumpingTree)
@test "a number or a boolean: with a final newline in YAML, none in JSON; dotenv cannot" {
	gitseal decrypt --extract '["n"]' enc.yaml | cmp - <(printf '42\n')
	gitseal decrypt --extract '["b"]' enc.yaml | cmp - <(printf 'true\n')
	gitseal decrypt --extract '["n"]' --output-type json enc.yaml | cmp - <(printf '42')
	run -4 gitseal decrypt --extract '["n"]' --output-type dotenv enc.yaml
	[[ $output == *"the dotenv store cannot write a single non-string value"* ]]
}

# sops: decrypt.go:93 with yaml.Marshal of a sequence: a YAML document of
# its own (the issue: it came out as '"": x')
@test "a list: a YAML sequence that loads back, or a JSON array" {
	gitseal decrypt --extract '["list"]' enc.yaml | cmp - <(printf -- '- x\n- z\n')
	gitseal decrypt --extract '["maps"]' enc.yaml | cmp - <(printf -- '- k: 1\n  j: 2\n')
	gitseal decrypt --extract '["list"]' --output-type json enc.yaml | cmp - <(printf '[\n\t"x",\n\t"z"\n]')
}

# sops: decrypt.go:80-89 (a branch: EmitPlainFile of it, a whole document)
@test "a map: a document of the output format" {
	gitseal decrypt --extract '["m"]' enc.yaml | cmp - <(printf 'k: v\n')
	gitseal decrypt --extract '["m"]' --output-type json enc.yaml | cmp - <(printf '{\n\t"k": "v"\n}\n')
}
