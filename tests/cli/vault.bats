#!/usr/bin/env bats
# HashiCorp Vault transit as a key source, against tests/vault/transit_server.mjs
# (a stand-in implementing the transit encrypt/decrypt endpoints over
# plain HTTP on 127.0.0.1; see docs/vault.md for what it does not cover).

load ../helpers

# One stand-in and one age key for the file (node costs 0.32 s of CPU to
# start, a keygen under ASan 0.1 s): every test gets the stand-in's log
# emptied, as vault.log in its own directory, and a copy of the key.
setup_file() {
	command -v node >/dev/null || return 0
	TMP=$BATS_FILE_TMPDIR
	# fd 3 closed: bats waits for what holds it open
	vault_standin 3>&-
	export PORT VAULT_PID VAULT_LOG="$TMP/vault.log"
	"$FIXTURE_BIN" keygen >"$TMP/k1.txt" 2>/dev/null
	"$FIXTURE_BIN" keygen -y "$TMP/k1.txt" >"$TMP/r1.txt"
}

teardown_file() {
	[ -z "${VAULT_PID:-}" ] || { kill "$VAULT_PID" 2>/dev/null && wait "$VAULT_PID" 2>/dev/null; } || true
}

setup() {
	command -v node >/dev/null || skip "node is needed for the Vault stand-in"
	setup_tmp
	cd "$TMP"
	: >"$VAULT_LOG"
	ln -s "$VAULT_LOG" vault.log
	URI="$VAULT_ADDR/v1/transit/keys/app"
	printf 'user: alice\npassword: hunter2\n' >plain.yaml
	cp "$BATS_FILE_TMPDIR/k1.txt" "$BATS_FILE_TMPDIR/r1.txt" .
}

teardown() {
	if [ -n "${TLS_PID:-}" ]; then kill "$TLS_PID" 2>/dev/null && wait "$TLS_PID" 2>/dev/null; fi
	teardown_tmp
}

@test "--hc-vault-transit: the hc_vault entry as sops writes it, and decryption through Vault" {
	gitseal encrypt --hc-vault-transit "$URI" plain.yaml >enc.yaml
	grep -q '^    hc_vault:$' enc.yaml
	grep -Eq '^        - created_at: "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"$' enc.yaml
	grep -q '^          enc: vault:v1:' enc.yaml
	grep -q '^          engine_path: transit$' enc.yaml
	grep -q '^          key_name: app$' enc.yaml
	grep -q "^          vault_address: http://127.0.0.1:$PORT\$" enc.yaml
	! grep -q hunter2 enc.yaml || false
	[ "$(gitseal decrypt enc.yaml)" = "$(cat plain.yaml)" ]
	grep -q "POST /v1/transit/encrypt/app" vault.log
	grep -q "POST /v1/transit/decrypt/app" vault.log
}

@test "the token comes from VAULT_TOKEN, else ~/.vault-token; a wrong one fails with 128" {
	gitseal encrypt --hc-vault-transit "$URI" plain.yaml >enc.yaml
	run env VAULT_TOKEN=wrong "$GITSEAL_BIN" decrypt enc.yaml
	[ "$status" -eq 128 ]
	[[ "$output" == *"HTTP 403: permission denied"* ]]
	[[ "$output" != *wrong* ]]
	unset VAULT_TOKEN
	run gitseal decrypt enc.yaml
	[ "$status" -eq 128 ]
	[[ "$output" == *"no vault token"* ]]
	printf 's3cret-token\n' >"$HOME/.vault-token"
	[ "$(gitseal decrypt enc.yaml)" = "$(cat plain.yaml)" ]
}

@test "the token goes only to VAULT_ADDR or GITSEAL_VAULT_ADDRS, never to an address a file names" {
	gitseal encrypt --hc-vault-transit "$URI" plain.yaml >enc.yaml
	# a tampered file sends the request elsewhere (here: the same server
	# under another name, which would otherwise receive the token)
	sed "s|vault_address: http://127.0.0.1:$PORT|vault_address: http://localhost:$PORT|" enc.yaml >tampered.yaml
	grep -q "vault_address: http://localhost:$PORT" tampered.yaml
	run gitseal decrypt tampered.yaml
	[ "$status" -eq 128 ]
	[[ "$output" == *"vault address 'http://localhost:$PORT' is not trusted: it is not in VAULT_ADDR"* ]]
	! grep -q "POST /v1/transit/decrypt" vault.log || false
	run env -u VAULT_ADDR "$GITSEAL_BIN" decrypt enc.yaml
	[ "$status" -eq 128 ]
	[[ "$output" == *"is not trusted: set VAULT_ADDR"* ]]
	! grep -q "POST /v1/transit/decrypt" vault.log || false
	# an explicit list; the default port and case do not matter
	GITSEAL_VAULT_ADDRS="https://vault.example.org,HTTP://LOCALHOST:$PORT/" gitseal decrypt tampered.yaml | cmp - plain.yaml
	grep -q "POST /v1/transit/decrypt" vault.log
}

@test "hc_vault_transit_uri in .sops.yaml, and vault + age in key groups" {
	cat >.sops.yaml <<YAML
creation_rules:
  - path_regex: flat\.yaml\$
    hc_vault_transit_uri: $URI
  - path_regex: groups\.yaml\$
    key_groups:
      - hc_vault: [$URI]
      - age: [$(cat r1.txt)]
        hc_vault: ["http://127.0.0.1:$PORT/v1/transit/keys/second"]
YAML
	cp plain.yaml flat.yaml
	cp plain.yaml groups.yaml
	gitseal encrypt -i flat.yaml
	grep -q '^          key_name: app$' flat.yaml
	[ "$(gitseal decrypt flat.yaml)" = "$(cat plain.yaml)" ]
	gitseal encrypt -i groups.yaml
	grep -q '^    key_groups:$' groups.yaml
	grep -q '^    shamir_threshold: 2$' groups.yaml
	grep -q '^              key_name: second$' groups.yaml
	# both groups open through Vault alone
	[ "$(gitseal decrypt groups.yaml)" = "$(cat plain.yaml)" ]
	# without Vault, the age key opens one group of two: not enough
	run env -u VAULT_TOKEN SOPS_AGE_KEY_FILE=k1.txt "$GITSEAL_BIN" decrypt groups.yaml
	[ "$status" -eq 128 ]
	[[ "$output" == *"1 of 2 key groups opened"* ]]
}

@test "edit-like changes keep the vault entries; rotate asks Vault again" {
	gitseal encrypt --hc-vault-transit "$URI" plain.yaml >enc.yaml
	before=$(grep 'enc: vault' enc.yaml)
	gitseal set enc.yaml '["user"]' '"bob"'
	[ "$(grep 'enc: vault' enc.yaml)" = "$before" ]
	[ "$(gitseal decrypt --extract '["user"]' enc.yaml)" = "bob" ]
	gitseal rotate -i enc.yaml
	[ "$(grep 'enc: vault' enc.yaml)" != "$before" ]
	[ "$(gitseal decrypt --extract '["user"]' enc.yaml)" = "bob" ]
}

@test "plain http is refused for non-loopback addresses; bad URIs are rejected" {
	run gitseal encrypt --hc-vault-transit "http://vault.example.org:8200/v1/transit/keys/app" plain.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"plain http is only allowed for loopback"* ]]
	run gitseal encrypt --hc-vault-transit "https://vault.example.org:8200/transit/app" plain.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"expected https://HOST/v1/ENGINE/keys/NAME"* ]]
}

@test "an unreachable Vault fails within the timeout" {
	# a port of 127.0.0.1 nothing listens on (the file's stand-in stays up)
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	export VAULT_ADDR="http://127.0.0.1:$PORT"
	# a key that cannot be used, as sops says it (1), not an input that cannot be read (2)
	run env GITSEAL_VAULT_TIMEOUT=2 "$GITSEAL_BIN" encrypt --hc-vault-transit "$VAULT_ADDR/v1/transit/keys/app" plain.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"vault 'http://127.0.0.1:$PORT'"* ]]
}

@test "tampered engine_path and key_name never steer a request: only POST /v1/<engine>/decrypt/<key> reaches Vault" {
	gitseal encrypt --hc-vault-transit "$URI" plain.yaml >enc.yaml
	: >vault.log
	# each: the field, the tampered value (as YAML), what the message shows
	while IFS='|' read -r field value shown; do
		F=$field V=$value awk '$0 ~ "^          " ENVIRON["F"] ": " { print "          " ENVIRON["F"] ": " ENVIRON["V"]; next } { print }' \
			enc.yaml >tampered.yaml
		! cmp -s enc.yaml tampered.yaml || false
		run gitseal decrypt tampered.yaml
		[ "$status" -eq 128 ]
		[[ "$output" == *"vault key: invalid $field '$shown'"* ]]
	done <<'CASES'
engine_path|"sys/seal?"|sys/seal?
engine_path|"auth/token/revoke-self#"|auth/token/revoke-self#
engine_path|transit/../auth/token|transit/../auth/token
engine_path|../sys|../sys
engine_path|"transit%2F..%2Fsys"|transit%2F..%2Fsys
engine_path|/transit|/transit
engine_path|transit/|transit/
engine_path|transit//x|transit//x
engine_path|./transit|./transit
engine_path|"trans it"|trans it
engine_path|"transit\nx"|transit\x0ax
key_name|app/../../auth/token/revoke-self|app/../../auth/token/revoke-self
key_name|"app?x=1"|app?x=1
key_name|"app#x"|app#x
key_name|"a%2Fb"|a%2Fb
key_name|..|..
key_name|a/b|a/b
CASES
	# not one request went out for them
	[ ! -s vault.log ]
	# the untampered file: exactly one request, to the decrypt endpoint
	gitseal decrypt enc.yaml | cmp - plain.yaml
	[ "$(cat vault.log)" = "POST /v1/transit/decrypt/app" ]
	# and a nested engine path with dots and dashes is fine both ways
	: >vault.log
	gitseal encrypt --hc-vault-transit "$VAULT_ADDR/v1/team-a/transit.v2/keys/app_1" plain.yaml >nested.yaml
	gitseal decrypt nested.yaml | cmp - plain.yaml
	[ "$(cat vault.log)" = "$(printf 'POST /v1/team-a/transit.v2/encrypt/app_1\nPOST /v1/team-a/transit.v2/decrypt/app_1')" ]
}

@test "bad names in a URI are refused before any request, on encrypt" {
	: >vault.log
	for uri in "$VAULT_ADDR/v1/sys/../keys/app" "$VAULT_ADDR/v1/tr%61nsit/keys/app" "$VAULT_ADDR/v1/transit/keys/a%2Fb" \
		"$VAULT_ADDR/v1//transit/keys/app" "$VAULT_ADDR/v1/transit/keys/.."; do
		run gitseal encrypt --hc-vault-transit "$uri" plain.yaml
		[ "$status" -eq 1 ]
		[[ "$output" == *"vault key: invalid "* ]]
	done
	[ ! -s vault.log ]
}

@test "over HTTPS: VAULT_CACERT's certificate is trusted and the default store is not; both ways through TLS" {
	command -v openssl >/dev/null || skip "openssl is needed for a test certificate"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.pem -days 2 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	TPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	node "$REPO_ROOT/tests/vault/transit_server.mjs" "$TPORT" s3cret-token "$TMP/tls.log" tls.pem tls.key &
	TLS_PID=$!
	for _ in $(seq 50); do
		grep -q listening tls.log 2>/dev/null && break
		sleep 0.1
	done
	export VAULT_ADDR="https://127.0.0.1:$TPORT"
	# a certificate no CA vouches for: refused before any request
	run gitseal encrypt --hc-vault-transit "$VAULT_ADDR/v1/transit/keys/app" plain.yaml
	[ "$status" -ne 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"$VAULT_ADDR"* ]]
	[ "$(grep -c POST tls.log)" -eq 0 ]
	# with it trusted: sealed and opened through TLS
	VAULT_CACERT=tls.pem gitseal encrypt --hc-vault-transit "$VAULT_ADDR/v1/transit/keys/app" plain.yaml >enc.yaml
	grep -q "^          vault_address: https://127.0.0.1:$TPORT\$" enc.yaml
	VAULT_CACERT=tls.pem gitseal decrypt enc.yaml | cmp - plain.yaml
	[ "$(grep POST tls.log)" = "$(printf 'POST /v1/transit/encrypt/app\nPOST /v1/transit/decrypt/app')" ]
}
