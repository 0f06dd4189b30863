#!/usr/bin/env bats
# Key groups and Shamir: .sops.yaml key_groups, the threshold flag,
# groups add/delete, updatekeys and rotate on a file with groups.

load ../helpers

# The four keys, the key files made of them and .sops.yaml, made once for
# the file (under ASan a second of CPU a test): each test copies them.
setup_file() {
	local fix="$BATS_FILE_TMPDIR/fix" i
	mkdir -m 700 "$fix"
	for i in 1 2 3 4; do
		"$FIXTURE_BIN" keygen >"$fix/k$i.txt" 2>/dev/null
		"$FIXTURE_BIN" keygen -y "$fix/k$i.txt" >"$fix/r$i.txt"
	done
	cd "$fix"
	cat k1.txt k2.txt >k12.txt
	cat k1.txt k3.txt >k13.txt
	cat k1.txt k2.txt k3.txt k4.txt >kall.txt
	cat >.sops.yaml <<YAML
creation_rules:
  - path_regex: \.yaml\$
    shamir_threshold: 2
    key_groups:
      - age: [$(cat r1.txt)]
      - age: [$(cat r2.txt)]
      - age: [$(cat r3.txt)]
YAML
}

setup() {
	setup_tmp
	cd "$TMP"
	cp -a "$BATS_FILE_TMPDIR/fix/." .
	printf 'user: alice\npassword: hunter2\n' >plain.yaml
}
teardown() { teardown_tmp; }

decrypt_with() { SOPS_AGE_KEY_FILE="$1" gitseal decrypt "$2"; }

@test ".sops.yaml key_groups: 2 of 3 groups decrypt, 1 does not" {
	gitseal encrypt plain.yaml >enc.yaml
	grep -q '^    key_groups:$' enc.yaml
	[ "$(grep -c '^          hc_vault: \[\]$' enc.yaml)" -eq 3 ]
	grep -q '^    shamir_threshold: 2$' enc.yaml
	! grep -q '^    age:' enc.yaml || false
	run decrypt_with k12.txt enc.yaml
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat plain.yaml)" ]
	run decrypt_with k13.txt enc.yaml
	[ "$status" -eq 0 ]
	for k in k1 k2 k3; do
		run decrypt_with "$k.txt" enc.yaml
		[ "$status" -eq 128 ]
		[[ "$output" == *"1 of 3 key groups opened, 2 needed"* ]]
	done
}

@test "--shamir-secret-sharing-threshold beats the rule" {
	gitseal encrypt --shamir-secret-sharing-threshold 3 plain.yaml >enc.yaml
	grep -q '^    shamir_threshold: 3$' enc.yaml
	run decrypt_with k12.txt enc.yaml
	[ "$status" -eq 128 ]
	[[ "$output" == "gitseal: error: 'enc.yaml': cannot recover the data key: 2 of 3 key groups opened, 3 needed"* ]]
	run decrypt_with kall.txt enc.yaml
	[ "$status" -eq 0 ]
	run gitseal encrypt --shamir-secret-sharing-threshold 4 plain.yaml
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'plain.yaml': shamir threshold 4 is invalid for 3 key groups (2 to 3)" ]
}

@test "set keeps the shares of an unchanged group file" {
	gitseal encrypt plain.yaml >enc.yaml
	cp enc.yaml before.yaml
	SOPS_AGE_KEY_FILE=k12.txt gitseal set enc.yaml '["extra"]' '"v"'
	diff <(sed -n '/^sops:/,/shamir/p' before.yaml | grep -v lastmodified | grep -v mac:) \
		<(sed -n '/^sops:/,/shamir/p' enc.yaml | grep -v lastmodified | grep -v mac:)
	[ "$(decrypt_with k13.txt enc.yaml | grep extra)" = "extra: v" ]
}

@test "groups add and delete keep the data key and values" {
	gitseal encrypt plain.yaml >enc.yaml
	values() { grep -E '^(user|password):' "$1"; }
	values enc.yaml >values.before
	SOPS_AGE_KEY_FILE=k12.txt gitseal groups add --file enc.yaml --age "$(cat r4.txt)" >added.yaml
	# without -i the file is unchanged and the result goes to stdout
	cmp enc.yaml <(cat enc.yaml)
	! grep -q "$(cat r4.txt)" enc.yaml || false
	grep -q "$(cat r4.txt)" added.yaml
	[ "$(grep -c 'hc_vault: \[\]' added.yaml)" -eq 4 ]
	diff values.before <(values added.yaml)
	cat k1.txt k4.txt >k14.txt
	[ "$(decrypt_with k14.txt added.yaml)" = "$(cat plain.yaml)" ]

	SOPS_AGE_KEY_FILE=k12.txt gitseal groups add --file enc.yaml -i --age "$(cat r4.txt)" \
		--shamir-secret-sharing-threshold 3
	grep -q '^    shamir_threshold: 3$' enc.yaml
	run decrypt_with k14.txt enc.yaml
	[ "$status" -eq 128 ]
	[[ "$output" == "gitseal: error: 'enc.yaml': cannot recover the data key: 2 of 4 key groups opened, 3 needed"* ]]

	SOPS_AGE_KEY_FILE=kall.txt gitseal groups delete --file enc.yaml -i 0
	! grep -q "$(cat r1.txt)" enc.yaml || false
	grep -q '^    shamir_threshold: 3$' enc.yaml
	diff values.before <(values enc.yaml)
	[ "$(SOPS_AGE_KEY_FILE=kall.txt gitseal decrypt enc.yaml)" = "$(cat plain.yaml)" ]
	run decrypt_with k1.txt enc.yaml
	[ "$status" -eq 128 ]
	[[ "$output" == "gitseal: error: 'enc.yaml': cannot recover the data key: 0 of 3 key groups opened, 3 needed"* ]]

	# down to one group: the flat layout, no Shamir
	SOPS_AGE_KEY_FILE=kall.txt gitseal groups delete --file enc.yaml -i 2
	SOPS_AGE_KEY_FILE=kall.txt gitseal groups delete --file enc.yaml -i 1
	! grep -q key_groups enc.yaml || false
	grep -q '^    age:$' enc.yaml
	[ "$(decrypt_with k2.txt enc.yaml)" = "$(cat plain.yaml)" ]
	diff values.before <(values enc.yaml)
}

@test "groups: usage errors" {
	gitseal encrypt plain.yaml >enc.yaml
	export SOPS_AGE_KEY_FILE=kall.txt
	run gitseal groups delete --file enc.yaml 7
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: the file has 3 key groups: no group 7" ]
	run gitseal groups delete --file enc.yaml
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: groups delete needs a group index" ]
	run gitseal groups add --file enc.yaml
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: groups add needs keys (--age, --pgp, --hc-vault-transit)" ]
	# a usage error is 1 in the sops commands, as in sops
	run gitseal groups frobnicate
	[ "$status" -eq 1 ]
	[[ "$output" == *"groups needs a subcommand: add or delete"* ]]
	run gitseal groups add --age "$(cat r4.txt)"
	[ "$status" -eq 100 ]
	[ "$output" = "gitseal: error: groups add needs --file" ]
}

@test "updatekeys moves a file to the rule's groups, keeping the data key" {
	gitseal encrypt --age "$(cat r1.txt)" plain.yaml >enc.yaml
	! grep -q key_groups enc.yaml || false
	grep -E '^(user|password):' enc.yaml >values.before
	SOPS_AGE_KEY_FILE=k1.txt gitseal updatekeys -y enc.yaml
	grep -q '^    key_groups:$' enc.yaml
	grep -q '^    shamir_threshold: 2$' enc.yaml
	diff values.before <(grep -E '^(user|password):' enc.yaml)
	[ "$(decrypt_with k13.txt enc.yaml)" = "$(cat plain.yaml)" ]
	run env SOPS_AGE_KEY_FILE=k12.txt "$GITSEAL_BIN" updatekeys -y enc.yaml
	[ "$status" -eq 0 ]
	[[ "$output" == *"already up to date"* ]]
}

@test "rotate on a group file: new data key, same groups, --add-age into group 0" {
	gitseal encrypt plain.yaml >enc.yaml
	SOPS_AGE_KEY_FILE=k12.txt gitseal rotate -i --add-age "$(cat r4.txt)" enc.yaml
	! diff <(grep '^user:' plain.yaml) <(grep '^user:' enc.yaml) || false
	[ "$(grep -c 'recipient:' enc.yaml)" -eq 4 ]
	cat k4.txt k2.txt >k42.txt
	[ "$(decrypt_with k42.txt enc.yaml)" = "$(cat plain.yaml)" ]
	# r4 is in the metadata now, not in .sops.yaml's rule: rotate asks (-y)
	run -1 env SOPS_AGE_KEY_FILE=k12.txt "$GITSEAL_BIN" rotate -i --rm-age "$(cat r1.txt)" enc.yaml </dev/null
	[[ $output == *"recipients only in its metadata, not in .sops.yaml's creation rule for it: +$(cat r4.txt);"* ]]
	SOPS_AGE_KEY_FILE=k12.txt gitseal rotate -y -i --rm-age "$(cat r1.txt)" enc.yaml
	[ "$(grep -c 'recipient:' enc.yaml)" -eq 3 ]
	run decrypt_with k12.txt enc.yaml
	[ "$status" -eq 128 ]
	[[ "$output" == "gitseal: error: 'enc.yaml': cannot recover the data key: 1 of 3 key groups opened, 2 needed"* ]]
	[ "$(decrypt_with k42.txt enc.yaml)" = "$(cat plain.yaml)" ]
}
