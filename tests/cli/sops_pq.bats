#!/usr/bin/env bats
# Post-quantum age recipients (age1pq1..., mlkem768x25519) in the sops
# commands: --age, SOPS_AGE_RECIPIENTS, .sops.yaml rules, updatekeys,
# rotate --add-age, identity loading, and a file written by the Go sops.

load ../helpers

setup() {
	setup_tmp
	cd "$TMP"
	gitseal_fixture keygen -pq -o pq1.key 2>/dev/null
	gitseal_fixture keygen -pq -o pq2.key 2>/dev/null
	PQ1=$(gitseal_fixture keygen -y pq1.key)
	PQ2=$(gitseal_fixture keygen -y pq2.key)
	export SOPS_AGE_KEY_FILE="$TMP/pq1.key"
	printf 'db:\n  user: admin\n  password: hunter2  # monthly\nport: 5432\n' >app.yaml
}
teardown() { teardown_tmp; }


@test "--age age1pq1...: the data key is wrapped in an mlkem768x25519 stanza; decrypt gives back the file" {
	gitseal encrypt --age "$PQ1" app.yaml >enc.yaml
	[ "$(grep -c "recipient: $PQ1" enc.yaml)" -eq 1 ]
	# the armored age file in the metadata holds one hybrid stanza
	python3 - enc.yaml <<'PY'
import base64, re, sys
text = open(sys.argv[1]).read()
block = re.search(r"-----BEGIN AGE ENCRYPTED FILE-----\n(.*?)-----END", text, re.S).group(1)
header = base64.b64decode("".join(l.strip() for l in block.splitlines())).split(b"\n---")[0]
assert header.count(b"\n-> mlkem768x25519 ") == 1, header[:200]
assert b"X25519 " not in header
PY
	gitseal decrypt enc.yaml | cmp - app.yaml
	run env SOPS_AGE_KEY_FILE="$TMP/pq2.key" "$GITSEAL_BIN" decrypt enc.yaml
	[ "$status" -eq 128 ]
	[ -z "$(grep -v '^gitseal: error' <<<"$output")" ]
}

@test "SOPS_AGE_RECIPIENTS and a .sops.yaml rule with hybrid recipients (a folded list of two)" {
	SOPS_AGE_RECIPIENTS="$PQ2" gitseal encrypt app.yaml >enc.yaml
	SOPS_AGE_KEY_FILE=pq2.key gitseal decrypt enc.yaml | cmp - app.yaml
	cat >.sops.yaml <<RULES
creation_rules:
  - path_regex: .*
    age: >-
      $PQ1,
      $PQ2
RULES
	gitseal encrypt app.yaml >rule.enc.yaml
	[ "$(grep -c 'recipient: age1pq1' rule.enc.yaml)" -eq 2 ]
	gitseal decrypt rule.enc.yaml | cmp - app.yaml
	SOPS_AGE_KEY_FILE=pq2.key gitseal decrypt rule.enc.yaml | cmp - app.yaml
}

@test "updatekeys adds a hybrid recipient from the rule; rotate --add-age / --rm-age with hybrid recipients" {
	gitseal encrypt --age "$PQ1" app.yaml >enc.yaml
	printf 'creation_rules:\n  - age: %s,%s\n' "$PQ1" "$PQ2" >.sops.yaml
	gitseal updatekeys -y enc.yaml
	[ "$(grep -c 'recipient: age1pq1' enc.yaml)" -eq 2 ]
	SOPS_AGE_KEY_FILE=pq2.key gitseal decrypt enc.yaml | cmp - app.yaml
	rm .sops.yaml
	gitseal encrypt --age "$PQ1" app.yaml >rot.yaml
	gitseal rotate -i --add-age "$PQ2" rot.yaml
	SOPS_AGE_KEY_FILE=pq2.key gitseal decrypt rot.yaml | cmp - app.yaml
	gitseal rotate -i --rm-age "$PQ1" rot.yaml
	run gitseal decrypt rot.yaml
	[ "$status" -eq 128 ]
	[[ $output == "gitseal: error: 'rot.yaml': cannot recover the data key: no key opened it"* ]]
	SOPS_AGE_KEY_FILE=pq2.key gitseal decrypt rot.yaml | cmp - app.yaml
}

@test "hybrid and X25519 recipients in one sops file: each wraps the data key on its own; both decrypt" {
	gitseal encrypt --age "$PQ1,$DEMO_RECIPIENT" app.yaml >enc.yaml
	[ "$(grep -c 'recipient: age1pq1' enc.yaml)" -eq 1 ]
	[ "$(grep -c 'recipient: age1' enc.yaml)" -eq 2 ]
	gitseal decrypt enc.yaml | cmp - app.yaml
	SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt" gitseal decrypt enc.yaml | cmp - app.yaml
}

@test "identities: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE and keys.txt mixing hybrid, X25519 and unknown types" {
	gitseal encrypt --age "$PQ1" app.yaml >enc.yaml
	unset SOPS_AGE_KEY_FILE
	plugin=AGE-PLUGIN-YUBIKEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS8PPMRZ
	run --separate-stderr env SOPS_AGE_KEY="$(printf '# keys\n%s\n' "$plugin"; grep -h AGE-SECRET "$KEYS/demo-age-key.txt" pq1.key)" \
		"$GITSEAL_BIN" decrypt enc.yaml
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat app.yaml)" ]
	[ "$stderr" = "gitseal: warning: 'SOPS_AGE_KEY': line 2: skipped an identity of unsupported type AGE-PLUGIN-YUBIKEY-" ]
	# several keys on one line (sops wants one a line; gitseal takes words)
	SOPS_AGE_KEY="$(grep -h AGE-SECRET "$KEYS/demo-age-key.txt" pq1.key | tr '\n' ' ')" gitseal decrypt enc.yaml | cmp - app.yaml
	{ echo "# yubikey"; echo "$plugin"; cat "$KEYS/demo-age-key.txt" pq1.key; } >mixed.txt
	run --separate-stderr env SOPS_AGE_KEY_FILE=mixed.txt "$GITSEAL_BIN" decrypt enc.yaml
	[ "$status" -eq 0 ]
	[ "$stderr" = "gitseal: warning: 'mixed.txt': line 2: skipped an identity of unsupported type AGE-PLUGIN-YUBIKEY-" ]
	mkdir -p "$XDG_CONFIG_HOME/sops/age"
	cp mixed.txt "$XDG_CONFIG_HOME/sops/age/keys.txt"
	gitseal decrypt enc.yaml 2>/dev/null | cmp - app.yaml
	# only keys of unknown types: no key can decrypt (128), after the warning
	printf '%s\n' "$plugin" >"$XDG_CONFIG_HOME/sops/age/keys.txt"
	run --separate-stderr gitseal decrypt enc.yaml
	[ "$status" -eq 128 ]
	[ -z "$output" ]
	[ "$(wc -l <<<"$stderr")" -eq 2 ]
	[[ "${stderr_lines[0]}" == "gitseal: warning: '$XDG_CONFIG_HOME/sops/age/keys.txt': line 1: skipped an identity of unsupported type AGE-PLUGIN-YUBIKEY-" ]]
}

@test "a sops 3.12 file with a post-quantum recipient (Flux kustomize-controller test data) decrypts to its expected tree" {
	local case_dir="$GITSEAL_SHARED/testdata/sops-real/cases/kc-algo-age-pq"
	[ -d "$case_dir" ] || skip "no ../shared: $case_dir is absent"
	[ "$(cat "$case_dir/expect")" = pq ]
	grep -q 'recipient: age1pq1' "$case_dir/$(cat "$case_dir/file")"
	SOPS_AGE_KEY_FILE="$case_dir/key.txt" gitseal decrypt --output-type json "$case_dir/$(cat "$case_dir/file")" >out.json
	python3 - out.json "$case_dir/expected.json" <<'PY'
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:])
assert [got] == want or got == want, (got, want)
PY
	# and with the wrong key it is refused without output
	run --separate-stderr gitseal decrypt "$case_dir/$(cat "$case_dir/file")"
	[ "$status" -eq 128 ]
	[ -z "$output" ]
	[[ "$stderr" == "gitseal: error: '$case_dir/$(cat "$case_dir/file")': cannot recover the data key: no key opened it"* ]]
}
