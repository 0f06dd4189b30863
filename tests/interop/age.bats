#!/usr/bin/env bats
# Interop both ways with Debian's age/age-keygen and the npm package age-encryption.

load ../helpers

AGEJS="node $REPO_ROOT/tests/interop/age_js.mjs"

# agejs_batch LINE...: the lines (age_js.mjs commands, words split by tabs)
# in one node process
agejs_batch() {
	printf '%s\n' "$@" | $AGEJS batch
}

setup() {
	setup_tmp
	export NODE_PATH="$REPO_ROOT/node_modules"
	age-keygen -o "$TMP/age.key" 2>/dev/null
	AGE_RCPT=$(age-keygen -y "$TMP/age.key")
}
teardown() { teardown_tmp; }

SIZES="0 1 2047 2048 2049 65535 65536 65537 3145728"

@test "gitseal -> age, binary and armored, payload sizes around the chunk size" {
	for n in $SIZES; do
		random_file "$TMP/p" "$n"
		for a in "" "-a"; do
			gitseal age $a -r "$AGE_RCPT" -o "$TMP/p.age" "$TMP/p"
			# age opens -o lazily (no file for empty output): use stdout
			age -d -i "$TMP/age.key" "$TMP/p.age" >"$TMP/out"
			cmp "$TMP/p" "$TMP/out"
			rm -f "$TMP/out" "$TMP/p.age"
		done
	done
}

@test "age -> gitseal, binary and armored, payload sizes around the chunk size" {
	for n in $SIZES; do
		random_file "$TMP/p" "$n"
		for a in "" "-a"; do
			age $a -r "$AGE_RCPT" -o "$TMP/p.age" "$TMP/p"
			gitseal age -d -i "$TMP/age.key" -o "$TMP/out" "$TMP/p.age"
			cmp "$TMP/p" "$TMP/out"
			rm -f "$TMP/out" "$TMP/p.age"
		done
	done
}

@test "several recipients both ways" {
	random_file "$TMP/p" 1000
	gitseal age -r "$AGE_RCPT" -r "$(demo_recipient)" -o "$TMP/g.age" "$TMP/p"
	age -d -i "$TMP/age.key" "$TMP/g.age" | cmp - "$TMP/p"
	age -d -i "$KEYS/demo-age-key.txt" "$TMP/g.age" | cmp - "$TMP/p"
	age -r "$AGE_RCPT" -r "$(demo_recipient)" -o "$TMP/a.age" "$TMP/p"
	gitseal age -d -i "$KEYS/demo-age-key.txt" "$TMP/a.age" | cmp - "$TMP/p"
	gitseal age -d -i "$TMP/age.key" "$TMP/a.age" | cmp - "$TMP/p"
}

@test "keys: age-keygen identities work in gitseal and gitseal keygen identities in age" {
	gitseal keygen -o "$TMP/g.key" 2>/dev/null
	[ "$(gitseal keygen -y "$TMP/g.key")" = "$(age-keygen -y "$TMP/g.key")" ]
	[ "$(gitseal keygen -y "$TMP/age.key")" = "$AGE_RCPT" ]
	echo "x" | age -r "$(gitseal keygen -y "$TMP/g.key")" | gitseal age -d -i "$TMP/g.key" | grep -qx x
}

@test "ssh-ed25519 and ssh-rsa both ways with age" {
	for t in ed25519 rsa; do
		ssh-keygen -q -t "$t" -N "" -f "$TMP/id_$t"
		random_file "$TMP/p" 70000
		gitseal age -r "$(cat "$TMP/id_$t.pub")" -o "$TMP/g.age" "$TMP/p"
		age -d -i "$TMP/id_$t" "$TMP/g.age" | cmp - "$TMP/p"
		age -R "$TMP/id_$t.pub" -o "$TMP/a.age" "$TMP/p"
		gitseal age -d -i "$TMP/id_$t" "$TMP/a.age" | cmp - "$TMP/p"
	done
}

# a fresh ed25519 key as ssh-keygen makes it (aes256-ctr, bcrypt at 16
# rounds) and the committed rsa one; age asks on the terminal (a pty)
@test "passphrase-protected ssh keys both ways with age" {
	command -v script >/dev/null || skip "script(1) not installed"
	ssh-keygen -q -t ed25519 -N "pw interop" -f "$TMP/id_ed25519"
	cp "$KEYS/test-ssh-rsa-passphrase" "$TMP/id_rsa"
	chmod 600 "$TMP/id_rsa" # ssh-keygen refuses a key others can read (a clone makes it 0644)
	ssh-keygen -q -p -P "test passphrase" -N "pw interop" -f "$TMP/id_rsa" >/dev/null
	echo "ssh data" >"$TMP/p"
	for k in "$TMP/id_ed25519" "$TMP/id_rsa"; do
		ssh-keygen -y -P "pw interop" -f "$k" >"$k.pub"
		age -R "$k.pub" -o "$TMP/a.age" "$TMP/p"
		GITSEAL_SSH_PASSPHRASE="pw interop" gitseal age -d -i "$k" "$TMP/a.age" | cmp - "$TMP/p"
		gitseal age -R "$k.pub" -o "$TMP/g.age" "$TMP/p"
		rm -f "$TMP/out"
		(for _ in 1 2 3 4 5 6; do printf 'pw interop\n'; sleep 0.3; done) |
			script -qec "age -d -i '$k' -o '$TMP/out' '$TMP/g.age'" /dev/null >/dev/null
		cmp "$TMP/p" "$TMP/out"
	done
}

@test "passphrase: gitseal -> age (through a pty) and age -> gitseal" {
	command -v script >/dev/null || skip "script(1) not installed"
	echo "pass data" >"$TMP/p"
	GITSEAL_PASSPHRASE="pw-interop" gitseal age -p -o "$TMP/g.age" "$TMP/p"
	printf 'pw-interop\n' | script -qec "age -d -o '$TMP/out' '$TMP/g.age'" /dev/null >/dev/null
	cmp "$TMP/p" "$TMP/out"
	printf 'pw-interop\npw-interop\n' | script -qec "age -p -o '$TMP/a.age' '$TMP/p'" /dev/null >/dev/null
	[ -s "$TMP/a.age" ]
	GITSEAL_PASSPHRASE="pw-interop" gitseal age -d "$TMP/a.age" | cmp - "$TMP/p"
}

NPM_SIZES="0 1 65536 65537 2000000"

@test "npm age-encryption -> gitseal, binary and armored, several sizes" {
	local n lines=()
	for n in $NPM_SIZES; do
		random_file "$TMP/p$n" "$n"
		lines+=("encrypt	$(demo_recipient)	$AGE_RCPT	--	$TMP/p$n	$TMP/j$n.age"
			"encrypt	$(demo_recipient)	--	$TMP/p$n	$TMP/ja$n.age	--armor")
	done
	agejs_batch "${lines[@]}"
	for n in $NPM_SIZES; do
		gitseal age -d -i "$KEYS/demo-age-key.txt" -o "$TMP/out" "$TMP/j$n.age"
		cmp "$TMP/p$n" "$TMP/out"; rm -f "$TMP/out"
		gitseal age -d -i "$KEYS/demo-age-key.txt" -o "$TMP/out" "$TMP/ja$n.age"
		cmp "$TMP/p$n" "$TMP/out"; rm -f "$TMP/out"
	done
}

@test "gitseal -> npm age-encryption, binary and armored, several sizes" {
	local n lines=()
	for n in $NPM_SIZES; do
		random_file "$TMP/p$n" "$n"
		gitseal age -r "$(demo_recipient)" -r "$AGE_RCPT" -o "$TMP/g$n.age" "$TMP/p$n"
		gitseal age -a -r "$AGE_RCPT" -o "$TMP/ga$n.age" "$TMP/p$n"
		lines+=("decrypt	$KEYS/demo-age-key.txt	$TMP/g$n.age	$TMP/out$n"
			"decrypt	$TMP/age.key	$TMP/ga$n.age	$TMP/outa$n")
	done
	agejs_batch "${lines[@]}"
	for n in $NPM_SIZES; do
		cmp "$TMP/p$n" "$TMP/out$n"
		cmp "$TMP/p$n" "$TMP/outa$n"
	done
}

@test "passphrase with npm age-encryption both ways" {
	echo "scrypt interop" >"$TMP/p"
	$AGEJS encrypt-pass "pw-js" 12 "$TMP/p" "$TMP/j.age"
	GITSEAL_PASSPHRASE="pw-js" gitseal age -d "$TMP/j.age" | cmp - "$TMP/p"
	GITSEAL_PASSPHRASE="pw-js" gitseal age -p -o "$TMP/g.age" "$TMP/p"
	$AGEJS decrypt-pass "pw-js" "$TMP/g.age" "$TMP/out"
	cmp "$TMP/p" "$TMP/out"
}

# Large payloads change gear at chunk 32 (AGE_STREAM_LARGE_FROM_CHUNK:
# OpenSSL, two threads, batches of 4 chunks): sizes where the first batched
# chunk is 1 byte, where the last chunk is full and ends a batch, or ends
# one byte short of it.
LARGE_SIZES="2097152 2097153 2359296 2424831 3145729"

@test "large payloads both ways with age, from stdin and to stdout too" {
	for n in $LARGE_SIZES; do
		random_file "$TMP/p" "$n"
		gitseal age -r "$AGE_RCPT" <"$TMP/p" >"$TMP/g.age"
		age -d -i "$TMP/age.key" "$TMP/g.age" | cmp - "$TMP/p"
		age -a -r "$AGE_RCPT" -o "$TMP/a.age" "$TMP/p"
		gitseal age -d -i "$TMP/age.key" <"$TMP/a.age" | cmp - "$TMP/p"
		rm -f "$TMP/g.age" "$TMP/a.age"
	done
}

@test "large payloads both ways with npm age-encryption" {
	local n lines=()
	for n in 2097153 2359296; do
		random_file "$TMP/p$n" "$n"
		lines+=("encrypt	$(demo_recipient)	--	$TMP/p$n	$TMP/j$n.age")
	done
	agejs_batch "${lines[@]}"
	lines=()
	for n in 2097153 2359296; do
		gitseal age -d -i "$KEYS/demo-age-key.txt" -o "$TMP/out" "$TMP/j$n.age"
		cmp "$TMP/p$n" "$TMP/out"; rm -f "$TMP/out"
		gitseal age -a -r "$(demo_recipient)" -o "$TMP/g$n.age" "$TMP/p$n"
		lines+=("decrypt	$KEYS/demo-age-key.txt	$TMP/g$n.age	$TMP/out$n")
	done
	agejs_batch "${lines[@]}"
	for n in 2097153 2359296; do
		cmp "$TMP/p$n" "$TMP/out$n"
	done
}

PQ_SIZES="0 1 65536 1048576"

@test "post-quantum: npm age-encryption -> gitseal, binary and armored; its hybrid identities work in gitseal" {
	local n a lines=()
	rcpt=$(agejs_batch "keygen-pq	$TMP/js-pq.key" "recipient	$TMP/js-pq.key")
	[[ "$rcpt" == age1pq1* ]]
	[ "$(gitseal keygen -y "$TMP/js-pq.key")" = "$rcpt" ]
	for n in $PQ_SIZES; do
		random_file "$TMP/p$n" "$n"
		lines+=("encrypt	$rcpt	--	$TMP/p$n	$TMP/j$n.age" "encrypt	$rcpt	--	$TMP/p$n	$TMP/j$n--armor.age	--armor")
	done
	agejs_batch "${lines[@]}"
	for n in $PQ_SIZES; do
		for a in "" "--armor"; do
			grep -qa -- "$([ -z "$a" ] && echo '-> mlkem768x25519 ' || echo 'BEGIN AGE ENCRYPTED FILE')" "$TMP/j$n$a.age"
			gitseal age -d -i "$TMP/js-pq.key" -o "$TMP/out" "$TMP/j$n$a.age"
			cmp "$TMP/p$n" "$TMP/out"
			rm -f "$TMP/out"
		done
	done
}

@test "post-quantum: gitseal -> npm age-encryption, binary and armored; gitseal keygen -pq identities work in it" {
	gitseal keygen -pq -o "$TMP/g-pq.key" 2>/dev/null
	gitseal keygen -pq -o "$TMP/g-pq2.key" 2>/dev/null
	rcpt=$(gitseal keygen -y "$TMP/g-pq.key")
	local n a k got lines=("recipient	$TMP/g-pq.key")
	for n in $PQ_SIZES; do
		random_file "$TMP/p$n" "$n"
		for a in "" "-a"; do
			gitseal age $a -r "$rcpt" -r "$(gitseal keygen -y "$TMP/g-pq2.key")" -o "$TMP/g$n$a.age" "$TMP/p$n"
			for k in g-pq g-pq2; do
				lines+=("decrypt	$TMP/$k.key	$TMP/g$n$a.age	$TMP/out$n$a$k")
			done
		done
	done
	got=$(agejs_batch "${lines[@]}")
	[ "$got" = "$rcpt" ]
	for n in $PQ_SIZES; do
		for a in "" "-a"; do
			for k in g-pq g-pq2; do
				cmp "$TMP/p$n" "$TMP/out$n$a$k"
			done
		done
	done
}

@test "post-quantum: a wrong hybrid identity fails on both sides" {
	gitseal keygen -pq -o "$TMP/g-pq.key" 2>/dev/null
	echo x >"$TMP/p"
	rcpt=$(agejs_batch "keygen-pq	$TMP/js-pq.key" "recipient	$TMP/js-pq.key")
	$AGEJS encrypt "$rcpt" -- "$TMP/p" "$TMP/j.age"
	run gitseal age -d -i "$TMP/g-pq.key" "$TMP/j.age"
	[ "$status" -eq 12 ]
	[ "$output" = "gitseal: error: '$TMP/j.age': no identity matched any of the recipients" ]
	gitseal age -r "$(gitseal keygen -y "$TMP/g-pq.key")" -o "$TMP/g.age" "$TMP/p"
	run $AGEJS decrypt "$TMP/js-pq.key" "$TMP/g.age" "$TMP/out"
	[ "$status" -eq 1 ]
	[[ "$output" == "age_js: no identity matched"* ]]
}
