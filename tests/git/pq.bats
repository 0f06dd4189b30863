#!/usr/bin/env bats
# The git filter with a post-quantum age recipient (age1pq1...).

bats_require_minimum_version 1.5.0
load helpers

# gs_setup's home and git config, and a fresh clone whose .sops.yaml names
# a hybrid recipient from the start (the clone seals for what it saw at init)
setup() {
	gs_setup
	"$GITSEAL_BIN" keygen -pq -o "$T/pq.key" 2>/dev/null
	export SOPS_AGE_KEY_FILE="$T/pq.key"
	rm -rf "$REPO/.git" "$REPO/.gitattributes"
	git init -q "$REPO"
	cat >.sops.yaml <<YAML
creation_rules:
  - path_regex: secrets/.*\.yaml$
    age: $("$GITSEAL_BIN" keygen -y "$T/pq.key")
YAML
	"$GITSEAL_BIN" git init 'secrets/**' 2>/dev/null
}
teardown() { gs_teardown; }

@test "commit stores ciphertext wrapped for the hybrid recipient; checkout decrypts; status stays clean" {
	printf 'db:\n    user: admin\n    password: hunter2\n' >secrets/app.yaml
	for i in 1 2 3; do printf 'token: t-%d\n' "$i" >"secrets/s$i.yaml"; done
	git add -A
	git commit -qm one
	assert_blob_encrypted secrets/app.yaml
	! git cat-file -p HEAD:secrets/app.yaml | grep -q hunter2 || false
	[ "$(git cat-file -p HEAD:secrets/app.yaml | grep -c 'recipient: age1pq1')" -eq 1 ]
	# the blob opens with the hybrid identity alone
	git cat-file -p HEAD:secrets/app.yaml >"$T/blob.yaml"
	"$GITSEAL_BIN" decrypt "$T/blob.yaml" | grep -q 'password: hunter2'
	rm -rf secrets
	git checkout -q -- secrets
	grep -q 'password: hunter2' secrets/app.yaml
	[ "$(cat secrets/s2.yaml)" = "token: t-2" ]
	assert_status_clean
	# unchanged content gives the identical blob (the data key is reused)
	before=$(git rev-parse HEAD:secrets/app.yaml)
	git add --renormalize .
	[ "$(git rev-parse :secrets/app.yaml)" = "$before" ]
}

@test "checkout with an identity file that also holds a plugin key: warned once, files decrypted" {
	printf 'a: 1\n' >secrets/a.yaml
	printf 'b: 2\n' >secrets/b.yaml
	git add -A
	git commit -qm one
	{ echo AGE-PLUGIN-YUBIKEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS8PPMRZ; cat "$T/pq.key"; } >"$T/mixed.key"
	rm -rf secrets
	run --separate-stderr env SOPS_AGE_KEY_FILE="$T/mixed.key" git checkout -q -- secrets
	[ "$status" -eq 0 ]
	[ "$stderr" = "gitseal: warning: '$T/mixed.key': line 1: skipped an identity of unsupported type AGE-PLUGIN-YUBIKEY-" ]
	[ "$(cat secrets/a.yaml)" = "a: 1" ]
	[ "$(cat secrets/b.yaml)" = "b: 2" ]
}
