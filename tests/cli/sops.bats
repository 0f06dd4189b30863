#!/usr/bin/env bats
# gitseal encrypt / decrypt: sops's command line, rules, exit codes, tampering.

load ../helpers

setup() {
	setup_demo
	cat >"$TMP/app.yaml" <<'YAML'
# database settings
db:
  user: admin
  password: hunter2   # rotate monthly
  port: 5432
  tls: true
api_token_unencrypted: visible
list:
  - one
  - "two"
YAML
}
teardown() { teardown_tmp; }

@test "encrypt writes the sops 3.13 layout and leaves keys readable" {
	gitseal encrypt --age "$DEMO_RECIPIENT" app.yaml >enc.yaml
	grep -q '^  user: ENC\[AES256_GCM,data:.*,iv:.*,tag:.*,type:str\]$' enc.yaml
	grep -q '^  port: ENC\[AES256_GCM,.*,type:int\]$' enc.yaml
	grep -q '^  tls: ENC\[AES256_GCM,.*,type:bool\]$' enc.yaml
	grep -q '^api_token_unencrypted: visible$' enc.yaml
	grep -q '^#ENC\[AES256_GCM,.*type:comment\]$' enc.yaml
	! grep -q hunter2 enc.yaml || false
	grep -q '^sops:$' enc.yaml
	grep -q '^        - enc: |$' enc.yaml
	grep -q "^          recipient: $DEMO_RECIPIENT\$" enc.yaml
	grep -Eq '^    lastmodified: "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"$' enc.yaml
	grep -q '^    unencrypted_suffix: _unencrypted$' enc.yaml
	grep -q '^    version: 3.13.2$' enc.yaml
}

@test "decrypt(encrypt(x)) is byte-identical, comments and quotes included" {
	gitseal encrypt --age "$DEMO_RECIPIENT" app.yaml >enc.yaml
	gitseal decrypt enc.yaml >dec.yaml
	cmp app.yaml dec.yaml
}

# JSON is the exception: sops's JSON reader refuses a leading mark, so the
# encrypted file would be unreadable to sops (tests/cli/fidelity.bats, row 10b).
@test "files that start with a UTF-8 byte-order mark (Windows editors) round-trip byte for byte" {
	printf '\xef\xbb\xbfa: secret\nb: two\n' >bom.yaml
	printf '\xef\xbb\xbfA=secret\nB=two\n' >bom.env
	for f in bom.yaml bom.env; do
		gitseal encrypt --age "$DEMO_RECIPIENT" "$f" >"enc.$f"
		! grep -q secret "enc.$f" || false
		gitseal decrypt "enc.$f" | cmp - "$f"
	done
}

@test "the legacy forms -e and -d work" {
	gitseal -e --age "$DEMO_RECIPIENT" app.yaml >enc.yaml
	gitseal -d enc.yaml | cmp - app.yaml
}

@test "in place: atomic, keeps the mode, refuses an already encrypted file (203)" {
	chmod 640 app.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" -i app.yaml
	[ "$(stat -c %a app.yaml)" = "640" ]
	grep -q '^sops:' app.yaml
	run gitseal encrypt --age "$DEMO_RECIPIENT" app.yaml
	[ "$status" -eq 203 ]
	[ "$output" = "gitseal: error: 'app.yaml': file is already encrypted" ]
	gitseal decrypt -i app.yaml
	! grep -q '^sops:' app.yaml || false
	[ -z "$(ls -A | grep gitseal-tmp || true)" ]
}

@test "stdin needs --filename-override (exit 8); with it the format comes from the name" {
	run gitseal encrypt --age "$DEMO_RECIPIENT" <app.yaml
	[ "$status" -eq 8 ]
	[ "$output" = "gitseal: error: must specify --filename-override when reading from stdin" ]
	gitseal encrypt --age "$DEMO_RECIPIENT" --filename-override x.json <<<'{"a": "b"}' >enc.json
	grep -q '"a": "ENC\[AES256_GCM' enc.json
}

@test "-i with --output conflicts (exit 8)" {
	run gitseal encrypt --age "$DEMO_RECIPIENT" -i --output x app.yaml
	[ "$status" -eq 8 ]
	[ "$output" = "gitseal: error: cannot operate on both --output and --in-place" ]
}

@test "SOPS_AGE_RECIPIENTS supplies recipients" {
	SOPS_AGE_RECIPIENTS="$DEMO_RECIPIENT" gitseal encrypt app.yaml >enc.yaml
	gitseal decrypt enc.yaml | cmp - app.yaml
}

@test ".sops.yaml creation rules: looked up from the CWD upwards, first match wins" {
	mkdir -p sub/deeper
	cat >.sops.yaml <<RULES
creation_rules:
  - path_regex: \.dev\.yaml\$
    age: $(age-keygen -y "$KEYS/test-age-key-2.txt")
    encrypted_regex: ^password\$
  - path_regex: .*
    age: >-
      $DEMO_RECIPIENT,
      $(age-keygen -y "$KEYS/test-age-key-2.txt")
RULES
	cp app.yaml sub/deeper/app.dev.yaml
	cp app.yaml sub/deeper/app.yaml
	cd sub/deeper
	gitseal encrypt app.dev.yaml >dev.enc.yaml
	grep -q '^  user: admin$' dev.enc.yaml
	grep -q '^  password: ENC\[' dev.enc.yaml
	grep -q '^    encrypted_regex: \^password\$$' dev.enc.yaml
	[ "$(grep -c 'recipient:' dev.enc.yaml)" -eq 1 ]
	gitseal encrypt app.yaml >all.enc.yaml
	[ "$(grep -c 'recipient:' all.enc.yaml)" -eq 2 ]
	SOPS_AGE_KEY_FILE="$KEYS/test-age-key-2.txt" gitseal decrypt all.enc.yaml | cmp - app.yaml
}

@test "no matching creation rule is an error" {
	printf 'creation_rules:\n  - path_regex: \\.prod\\.yaml$\n    age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	run gitseal encrypt app.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"no matching creation rules"* ]]
}

@test "a Kubernetes Secret gets encrypted_regex ^(data|stringData)\$ by default" {
	cat >secret.yaml <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
stringData:
  password: t0p-s3cr3t
data:
  token: c2VjcmV0
YAML
	run --separate-stderr gitseal encrypt --age "$DEMO_RECIPIENT" secret.yaml
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"encrypted_regex"* ]]
	echo "$output" >enc.yaml
	grep -q '^kind: Secret$' enc.yaml
	grep -q '^  name: db$' enc.yaml
	grep -q '^  password: ENC\[' enc.yaml
	grep -q '^  token: ENC\[' enc.yaml
	grep -q '^    encrypted_regex: \^(data|stringData)\$$' enc.yaml
	gitseal decrypt enc.yaml | cmp - secret.yaml
}

@test "--extract prints one value" {
	gitseal encrypt --age "$DEMO_RECIPIENT" app.yaml >enc.yaml
	[ "$(gitseal decrypt --extract '["db"]["password"]' enc.yaml)" = "hunter2" ]
	[ "$(gitseal decrypt --extract '["list"][1]' enc.yaml)" = "two" ]
	run gitseal decrypt --extract '["db"' enc.yaml
	[ "$status" -eq 91 ]
	[ "$output" = "gitseal: error: 'enc.yaml': invalid tree path '[\"db\"' (expected e.g. '[\"key\"][0]')" ]
}

@test "tampering: a changed ciphertext fails with 25 and prints nothing" {
	gitseal encrypt --age "$DEMO_RECIPIENT" app.yaml >enc.yaml
	# replace the first base64 character of user's data with a different one
	awk '/^  user: ENC/ { c = substr($0, 28, 1); $0 = substr($0, 1, 27) (c == "A" ? "B" : "A") substr($0, 29) } {print}' enc.yaml >bad.yaml
	! cmp -s enc.yaml bad.yaml || false
	run --separate-stderr gitseal decrypt bad.yaml
	[ "$status" -eq 25 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'bad.yaml': value at 'db:user:': value does not match sops' data format" ]
}

@test "tampering: swapped values fail (the path is authenticated)" {
	gitseal encrypt --age "$DEMO_RECIPIENT" app.yaml >enc.yaml
	user=$(grep '^  user:' enc.yaml | sed 's/^  user: //')
	pass=$(grep '^  password:' enc.yaml | sed 's/^  password: //; s/ *#.*//')
	awk -v u="$user" -v p="$pass" '/^  user:/ {print "  user: " p; next} /^  password:/ {print "  password: " u; next} {print}' enc.yaml >swapped.yaml
	run --separate-stderr gitseal decrypt swapped.yaml
	[ "$status" -eq 25 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'swapped.yaml': value at 'db:user:': cannot decrypt value: authentication failed" ]
}

@test "tampering: a removed key fails the MAC (51); --ignore-mac skips the check" {
	gitseal encrypt --age "$DEMO_RECIPIENT" app.yaml >enc.yaml
	grep -v '^  port:' enc.yaml >removed.yaml
	run --separate-stderr gitseal decrypt removed.yaml
	[ "$status" -eq 51 ]
	[ -z "$output" ]
	[[ "$stderr" == *"MAC"* ]]
	gitseal decrypt --ignore-mac removed.yaml | grep -q 'password: hunter2'
}

@test "tampering: edited metadata (lastmodified) fails the MAC (51)" {
	gitseal encrypt --age "$DEMO_RECIPIENT" app.yaml >enc.yaml
	sed -i -E 's/lastmodified: "([0-9]{3})[0-9]/lastmodified: "\19/' enc.yaml
	grep -q 'lastmodified: "[0-9]\{3\}9' enc.yaml
	run --separate-stderr gitseal decrypt enc.yaml
	[ "$status" -eq 51 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'enc.yaml': MAC mismatch: stored MAC cannot be decrypted" ]
}

@test "wrong key: 128, nothing printed" {
	gitseal encrypt --age "$DEMO_RECIPIENT" app.yaml >enc.yaml
	run --separate-stderr env SOPS_AGE_KEY_FILE="$KEYS/test-age-key-2.txt" "$GITSEAL_BIN" decrypt enc.yaml
	[ "$status" -eq 128 ]
	[ -z "$output" ]
	[[ "$stderr" == "gitseal: error: 'enc.yaml': cannot recover the data key: no key opened it"* ]]
}

@test "identities from SOPS_AGE_KEY, SOPS_AGE_KEY_CMD and the default keys.txt" {
	gitseal encrypt --age "$DEMO_RECIPIENT" app.yaml >enc.yaml
	unset SOPS_AGE_KEY_FILE
	SOPS_AGE_KEY="$(grep AGE-SECRET "$KEYS/demo-age-key.txt")" gitseal decrypt enc.yaml | cmp - app.yaml
	SOPS_AGE_KEY_CMD="cat $KEYS/demo-age-key.txt" gitseal decrypt enc.yaml | cmp - app.yaml
	mkdir -p "$XDG_CONFIG_HOME/sops/age"
	cp "$KEYS/demo-age-key.txt" "$XDG_CONFIG_HOME/sops/age/keys.txt"
	gitseal decrypt enc.yaml | cmp - app.yaml
}

@test "not a sops file: decrypt fails with a one-line error naming the file" {
	run gitseal decrypt app.yaml
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"'app.yaml'"* ]]
	[[ "$output" != *"hunter2"* ]]
}

@test "empty input: 92" {
	: >empty.yaml
	run gitseal encrypt --age "$DEMO_RECIPIENT" empty.yaml
	[ "$status" -eq 92 ]
	[ "$output" = "gitseal: error: 'empty.yaml': file has no document to encrypt" ]
}

@test "--output-type: a YAML file encrypted to a JSON sops file, and back" {
	gitseal encrypt --age "$DEMO_RECIPIENT" --output-type json app.yaml >enc.json
	head -c1 enc.json | grep -q '{'
	grep -q '"sops": {' enc.json
	gitseal decrypt --output-type yaml enc.json >dec.yaml
	node "$REPO_ROOT/tests/interop/same_data.mjs" dec.yaml app.yaml
}
