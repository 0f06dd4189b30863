#!/usr/bin/env bats
# Encrypt reads the tree by length: a large value stays in the input text
# (doc.share_source) and is not followed by a NUL, and a value holding a
# NUL is that whole value. Each test is a reader that went by the NUL.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

@test "encrypt: a kind that only starts with Secret (a NUL after it) is no Kubernetes Secret: every value encrypted" {
	printf '{"apiVersion": "v1", "kind": "Secret\\u0000", "data": {"a": "b"}, "other": "c"}' >s.json
	run --separate-stderr gitseal encrypt --age "$DEMO_RECIPIENT" --output enc.json s.json
	[ "$status" -eq 0 ]
	[[ "$stderr" != *"Kubernetes Secret"* ]]
	grep -q '"other": "ENC\[AES256_GCM' enc.json
	grep -q '"kind": "ENC\[AES256_GCM' enc.json
	gitseal decrypt enc.json | cmp - s.json
	# the Secret itself still is one
	printf '{"apiVersion": "v1", "kind": "Secret", "data": {"a": "b"}, "other": "c"}' >k.json
	run --separate-stderr gitseal encrypt --age "$DEMO_RECIPIENT" k.json
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"'k.json' is a Kubernetes Secret"* ]]
	[[ "$output" == *'"other": "c"'* ]]
}
