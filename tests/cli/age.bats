#!/usr/bin/env bats
# gitseal age / gitseal keygen: the command line, exit codes, atomic output.

load ../helpers

setup() { setup_tmp; }
teardown() { teardown_tmp; }

@test "keygen writes a 0600 identity file, refuses to overwrite, prints the recipient" {
	run gitseal keygen -o "$TMP/key.txt"
	[ "$status" -eq 0 ]
	[[ "$output" == "Public key: age1"* ]]
	[ "$(stat -c %a "$TMP/key.txt")" = "600" ]
	grep -q '^# created: ' "$TMP/key.txt"
	grep -q '^# public key: age1' "$TMP/key.txt"
	grep -Eq '^AGE-SECRET-KEY-1[0-9A-Z]{58}$' "$TMP/key.txt"
	run gitseal keygen -o "$TMP/key.txt"
	[ "$status" -eq 1 ]
	[[ "$output" == "gitseal: error: cannot create '$TMP/key.txt': File exists" ]]
}

@test "keygen -y prints the recipient, as age-keygen -y does" {
	gitseal keygen -o "$TMP/key.txt" 2>/dev/null
	run gitseal keygen -y "$TMP/key.txt"
	[ "$status" -eq 0 ]
	[ "$output" = "$(age-keygen -y "$TMP/key.txt")" ]
	[ "$output" = "$(sed -n 's/^# public key: //p' "$TMP/key.txt")" ]
}

@test "keygen -y rejects a lower-case identity" {
	tr 'A-Z' 'a-z' <"$KEYS/demo-age-key.txt" | grep -v '^#' >"$TMP/lower.txt"
	run gitseal keygen -y "$TMP/lower.txt"
	[ "$status" -eq 15 ]
	[ "$output" = "gitseal: error: '$TMP/lower.txt': line 1: not a valid identity" ]
}

@test "binary and armored round trips with one and several recipients" {
	random_file "$TMP/plain" 100000
	gitseal age -r "$DEMO_RECIPIENT" -o "$TMP/one.age" "$TMP/plain"
	gitseal age -d -i "$KEYS/demo-age-key.txt" -o "$TMP/one.out" "$TMP/one.age"
	cmp "$TMP/plain" "$TMP/one.out"

	gitseal age -a -r "$DEMO_RECIPIENT" -r "$(age-keygen -y "$KEYS/test-age-key-2.txt")" \
		-o "$TMP/two.age" "$TMP/plain"
	head -1 "$TMP/two.age" | grep -qx -- '-----BEGIN AGE ENCRYPTED FILE-----'
	for k in demo-age-key.txt test-age-key-2.txt; do
		gitseal age -d -i "$KEYS/$k" "$TMP/two.age" >"$TMP/two.out"
		cmp "$TMP/plain" "$TMP/two.out"
	done
}

@test "recipients file and stdin/stdout" {
	printf '# team\n%s\n\n' "$DEMO_RECIPIENT" >"$TMP/recipients.txt"
	echo "hello" | gitseal age -R "$TMP/recipients.txt" >"$TMP/h.age"
	run bash -c "'$GITSEAL_BIN' age -d -i '$KEYS/demo-age-key.txt' <'$TMP/h.age'"
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
}

@test "passphrase from GITSEAL_PASSPHRASE round trips and is scrypt-only" {
	# the release build ignores the test build's lower work factor: it
	# derives at the default (18, 1.4 s of CPU), the test build at 10.
	# Which build runs is read from the binary, by another hook's name (the
	# release build has no GITSEAL_TEST_ string), not from
	# GITSEAL_TEST_HOOKS: a shell that runs the other build with that
	# variable left over, or without it, failed
	local work=18
	if grep -qa GITSEAL_TEST_FAIL_SECURE_ALLOC "$GITSEAL_BIN"; then work=10; fi
	echo "secret data" >"$TMP/p"
	GITSEAL_TEST_SCRYPT_LOG_N=10 GITSEAL_PASSPHRASE="correct horse" gitseal age -p -o "$TMP/p.age" "$TMP/p"
	grep -qa -- "^-> scrypt [^ ]* $work\$" "$TMP/p.age"
	run env GITSEAL_PASSPHRASE="correct horse" "$GITSEAL_BIN" age -d "$TMP/p.age"
	[ "$status" -eq 0 ]
	[ "$output" = "secret data" ]
	# one run (a derivation at the default work factor is 1.4 s of CPU)
	run --separate-stderr env GITSEAL_PASSPHRASE="wrong" "$GITSEAL_BIN" age -d "$TMP/p.age"
	[ "$status" -eq 12 ]
	[ "$stderr" = "gitseal: error: '$TMP/p.age': incorrect passphrase" ]
	[ -z "$output" ]
	# no terminal (setsid: none even under one) and no variable: one line
	run -1 setsid -w "$GITSEAL_BIN" age -d "$TMP/p.age"
	[ "$output" = "gitseal: error: no terminal to ask for a passphrase (set GITSEAL_PASSPHRASE for automation)" ]
	run -1 setsid -w "$GITSEAL_BIN" age -p -o "$TMP/q.age" "$TMP/p"
	[ "$output" = "gitseal: error: no terminal to ask for a passphrase (set GITSEAL_PASSPHRASE for automation)" ]
	[ ! -e "$TMP/q.age" ]
}

# age (cmd/age/age.go): a usage error is 1, as every error; gitseal reads
# the flags from one table (src/cmd/age.c), before INPUT as Go's flag does
@test "usage errors exit 1 with a one-line message" {
	run -1 gitseal age -d -a -i "$KEYS/demo-age-key.txt" /dev/null
	[ "${lines[0]}" = "gitseal: error: -a/--armor can't be used with -d/--decrypt (armor is detected automatically)" ]
	run -1 gitseal age -o "$TMP/x" /dev/null
	[ "${lines[0]}" = "gitseal: error: missing recipients (-r, -R or -p)" ]
	run -1 gitseal age --bogus
	[ "${lines[0]}" = "gitseal: error: flag provided but not defined: -bogus" ]
	[ "${lines[1]}" = "run 'gitseal age --help' for usage" ]
	run -1 gitseal age -p -r "$DEMO_RECIPIENT" /dev/null
	[ "${lines[0]}" = "gitseal: error: -p/--passphrase can't be combined with -r, -R or -i" ]
	run -1 gitseal age -r "$DEMO_RECIPIENT" "$TMP/a" "$TMP/b"
	[[ "${lines[0]}" == "gitseal: error: too many INPUT arguments: \"$TMP/b\" (flags must come before INPUT)" ]]
	# a flag after INPUT is a second INPUT, as age reads it
	run -1 gitseal age -r "$DEMO_RECIPIENT" /dev/null -a
	[[ "${lines[0]}" == *'too many INPUT arguments: "-a"'* ]]
	run -1 gitseal age -r
	[ "${lines[0]}" = "gitseal: error: flag needs an argument: -r" ]
	run -1 gitseal age
	[ "${lines[0]}" = "usage: gitseal age [-e] (-r RECIPIENT | -R PATH)... [--allow-mixed] [-a] [-o OUTPUT] [INPUT]" ]
	run -1 gitseal keygen -bogus
	[ "$output" = "gitseal: error: flag provided but not defined: -bogus" ]
	run -1 gitseal keygen extra
	[ "$output" = "gitseal: error: too many arguments" ]
}

# age's flag syntax (Go's flag package): --flag=value, -flag value, repeated
# -r, '-' as a word, '--' ends the flags; --help lists every flag of the table
@test "age and keygen flags: Go's syntax, and --help from the option table" {
	echo "data" >"$TMP/p"
	gitseal age --recipient="$DEMO_RECIPIENT" -r "$DEMO_RECIPIENT" --armor=true -o "$TMP/p.age" -- "$TMP/p"
	head -1 "$TMP/p.age" | grep -q -- '-----BEGIN AGE ENCRYPTED FILE-----'
	gitseal age --decrypt --identity="$KEYS/demo-age-key.txt" - <"$TMP/p.age" | cmp - "$TMP/p"
	run -0 gitseal age --help
	for f in -e --encrypt -d --decrypt -o --output -a --armor -p --passphrase -r --recipient \
		-R --recipients-file -i --identity --allow-mixed; do
		[[ $output == *" $f"* ]]
	done
	run -0 gitseal keygen -h
	[[ $output == *"  -pq "* && $output == *"  -y "* && $output == *"-o, --output OUTPUT"* ]]
	gitseal keygen --pq=false -o "$TMP/k" 2>/dev/null
	grep -q '^AGE-SECRET-KEY-1' "$TMP/k"
}

@test "an invalid recipient is a key error" {
	run gitseal age -r age1notvalid -o "$TMP/x" /dev/null
	[ "$status" -eq 15 ]
	[ "$output" = "gitseal: error: recipient 'age1notvalid': malformed age1 recipient" ]
	[ ! -e "$TMP/x" ]
	# named, as age names it, so that one of several -r can be found
	run gitseal age -r "$DEMO_RECIPIENT" -r nope -o "$TMP/x" /dev/null
	[ "$status" -eq 15 ]
	[ "$output" = "gitseal: error: recipient 'nope': unknown recipient type" ]
}

@test "a recipient given as an identity is said to be one" {
	gitseal keygen -y "$KEYS/demo-age-key.txt" >"$TMP/pub.txt"
	gitseal age -r "$DEMO_RECIPIENT" -o "$TMP/x.age" /dev/null
	run -15 gitseal age -d -i "$TMP/pub.txt" "$TMP/x.age"
	[ "$output" = "gitseal: error: '$TMP/pub.txt': line 1: this is a recipient (public key), not an identity" ]
	# where sops finds it: the key file named by SOPS_AGE_KEY_FILE
	printf 'a: 1\n' >"$TMP/p.yaml"
	gitseal encrypt --age "$DEMO_RECIPIENT" "$TMP/p.yaml" >"$TMP/e.yaml"
	run -128 env SOPS_AGE_KEY_FILE="$TMP/pub.txt" "$GITSEAL_BIN" decrypt "$TMP/e.yaml"
	[[ "$output" == *"key sources: SOPS_AGE_KEY_FILE '$TMP/pub.txt': '$TMP/pub.txt': line 1: this is a recipient (public key), not an identity)" ]]
}

@test "a secret key given as a recipient is never repeated in the message" {
	local key
	key=$(grep '^AGE-SECRET-KEY-' "$KEYS/demo-age-key.txt")
	run gitseal age -r "$key" -o "$TMP/x" /dev/null
	[ "$status" -eq 15 ]
	[ "$output" = "gitseal: error: this is an identity (secret key), not a recipient" ]
	# lower case (bech32 is case-blind) and a plugin identity too
	run gitseal age -r "${key,,}" -o "$TMP/x" /dev/null
	[ "$status" -eq 15 ]
	[ "$output" = "gitseal: error: this is an identity (secret key), not a recipient" ]
	run gitseal age -r AGE-PLUGIN-YUBIKEY-1QQQQQQ -o "$TMP/x" /dev/null
	[ "$status" -eq 15 ]
	[ "$output" = "gitseal: error: this is an identity (secret key), not a recipient" ]
	printf 'a: 1\n' >"$TMP/p.yaml"
	run gitseal encrypt --age "$DEMO_RECIPIENT,${key,,}" "$TMP/p.yaml"
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: '$TMP/p.yaml': age recipient 2: this is an identity (secret key), not a recipient" ]
	run env SOPS_AGE_RECIPIENTS="$key" "$GITSEAL_BIN" encrypt "$TMP/p.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" != *"${key#AGE-SECRET-KEY-}"* ]]
	[[ "$output" == *"age recipient 1: this is an identity (secret key), not a recipient" ]]
	# where a file name belongs: keygen -y, age -i, SOPS_AGE_KEY_FILE
	run -1 gitseal keygen -y "$key"
	[ "$output" = "gitseal: error: cannot open '(a secret key given as a file name: not shown)': No such file or directory" ]
	run -1 gitseal age -d -i "$key" /dev/null
	[ "$output" = "gitseal: error: cannot open '(a secret key given as a file name: not shown)': No such file or directory" ]
	gitseal encrypt --age "$DEMO_RECIPIENT" "$TMP/p.yaml" >"$TMP/e.yaml"
	run -128 env SOPS_AGE_KEY_FILE="$key" "$GITSEAL_BIN" decrypt "$TMP/e.yaml"
	[[ "$output" != *"${key#AGE-SECRET-KEY-}"* ]]
	[[ "$output" == *"SOPS_AGE_KEY_FILE '(a secret key given as a file name: not shown)'"* ]]
	# in .sops.yaml, refused as it is read: git init would list it as a recipient
	printf 'creation_rules:\n  - age: %s\n' "$key" >"$TMP/.sops.yaml"
	run gitseal --config "$TMP/.sops.yaml" encrypt "$TMP/p.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" != *"${key#AGE-SECRET-KEY-}"* ]]
	[[ "$output" == *"an 'age' entry is an identity (secret key), not a recipient: put its recipient there ('gitseal keygen -y KEYFILE'), and make a new key if this one was committed" ]]
}

@test "wrong key: exit 12, nothing released, no output file" {
	echo "top secret" >"$TMP/p"
	gitseal age -r "$DEMO_RECIPIENT" -o "$TMP/p.age" "$TMP/p"
	run gitseal age -d -i "$KEYS/test-age-key-2.txt" -o "$TMP/out" "$TMP/p.age"
	[ "$status" -eq 12 ]
	[[ "$output" == *"'$TMP/p.age'"* ]]
	[ ! -e "$TMP/out" ]
	[ -z "$(ls -A "$TMP" | grep gitseal-tmp || true)" ]
}

# src/age/keys.c takes an X25519 identity's own point from its "# public
# key:" line instead of computing it; x25519.c checks it once a stanza does
# not open with it, and what is encrypted to the identity never uses it.
@test "an identity file's '# public key:' line naming another key: files still open, -e -i encrypts to the key" {
	echo "top secret" >"$TMP/p"
	other=$(age-keygen -y "$KEYS/test-age-key-2.txt")
	sed "s|^# public key: .*|# public key: $other|" "$KEYS/demo-age-key.txt" >"$TMP/wrong.txt"
	gitseal age -r "$DEMO_RECIPIENT" -o "$TMP/p.age" "$TMP/p"
	gitseal age -d -i "$TMP/wrong.txt" "$TMP/p.age" | cmp - "$TMP/p"
	# the other recipient's stanza first: tried with the line, then the key's own point
	gitseal age -r "$other" -r "$DEMO_RECIPIENT" -o "$TMP/two.age" "$TMP/p"
	gitseal age -d -i "$TMP/wrong.txt" "$TMP/two.age" | cmp - "$TMP/p"
	gitseal age -d -i "$KEYS/demo-age-key.txt" "$TMP/two.age" | cmp - "$TMP/p"
	gitseal age -e -i "$TMP/wrong.txt" -o "$TMP/self.age" "$TMP/p"
	age -d -i "$KEYS/demo-age-key.txt" "$TMP/self.age" | cmp - "$TMP/p"
	[ "$(gitseal keygen -y "$TMP/wrong.txt")" = "$DEMO_RECIPIENT" ]
	# a line that is no recipient is passed over
	sed 's|^# public key: .*|# public key: age1notarecipient|' "$KEYS/demo-age-key.txt" >"$TMP/bad.txt"
	gitseal age -d -i "$TMP/bad.txt" "$TMP/p.age" | cmp - "$TMP/p"
}

@test "flipped header byte: header or MAC failure, nothing released" {
	echo "top secret" >"$TMP/p"
	gitseal age -r "$DEMO_RECIPIENT" -o "$TMP/p.age" "$TMP/p"
	# a byte inside the MAC line's base64
	off=$(grep -abo -- '--- ' "$TMP/p.age" | cut -d: -f1)
	flip_byte "$TMP/p.age" $((off + 10))
	run gitseal age -d -i "$KEYS/demo-age-key.txt" "$TMP/p.age"
	[ "$status" -eq 13 ] || [ "$status" -eq 11 ]
	[[ "$output" != *"top secret"* ]]
}

@test "flipped payload byte: payload failure, nothing on stdout, no -o file" {
	random_file "$TMP/p" 200000
	gitseal age -r "$DEMO_RECIPIENT" -o "$TMP/p.age" "$TMP/p"
	size=$(stat -c %s "$TMP/p.age")
	flip_byte "$TMP/p.age" $((size - 100))
	run bash -c "'$GITSEAL_BIN' age -d -i '$KEYS/demo-age-key.txt' '$TMP/p.age' | wc -c"
	[ "${lines[-1]}" -eq 0 ]
	run gitseal age -d -i "$KEYS/demo-age-key.txt" -o "$TMP/out" "$TMP/p.age"
	[ "$status" -eq 14 ]
	[ "$output" = "gitseal: error: '$TMP/p.age': payload chunk failed to authenticate" ]
	[ ! -e "$TMP/out" ]
}

@test "truncated file: payload failure at every cut, never partial plaintext" {
	random_file "$TMP/p" 140000
	gitseal age -r "$DEMO_RECIPIENT" -o "$TMP/p.age" "$TMP/p"
	size=$(stat -c %s "$TMP/p.age")
	for cut in 250 $((size - 70000)) $((size - 1)); do
		head -c "$cut" "$TMP/p.age" >"$TMP/cut.age"
		run gitseal age -d -i "$KEYS/demo-age-key.txt" -o "$TMP/out" "$TMP/cut.age"
		[ "$status" -eq 14 ]
		[ "$output" = "gitseal: error: '$TMP/cut.age': payload chunk failed to authenticate" ]
		[ ! -e "$TMP/out" ]
		[ "$(gitseal age -d -i "$KEYS/demo-age-key.txt" "$TMP/cut.age" 2>/dev/null | wc -c)" -eq 0 ]
	done
}

@test "garbage armor: armor failure (exit 10)" {
	printf -- '-----BEGIN AGE ENCRYPTED FILE-----\nnot base64 at all!\n-----END AGE ENCRYPTED FILE-----\n' >"$TMP/g.age"
	run gitseal age -d -i "$KEYS/demo-age-key.txt" "$TMP/g.age"
	[ "$status" -eq 10 ]
	[[ "$output" == "gitseal: error: '$TMP/g.age': "* ]]
}

@test "not an age file: header failure (exit 11)" {
	echo "hello world" >"$TMP/x"
	run gitseal age -d -i "$KEYS/demo-age-key.txt" "$TMP/x"
	[ "$status" -eq 11 ]
	[ "$output" = "gitseal: error: '$TMP/x': invalid header: unsupported version line" ]
}

@test "-o keeps the existing file when decryption fails" {
	echo "precious" >"$TMP/out"
	echo "garbage" >"$TMP/bad.age"
	run gitseal age -d -i "$KEYS/demo-age-key.txt" -o "$TMP/out" "$TMP/bad.age"
	[ "$status" -eq 11 ]
	[ "$output" = "gitseal: error: '$TMP/bad.age': invalid header: unsupported version line" ]
	[ "$(cat "$TMP/out")" = "precious" ]
}

# -o /dev/stdout, /dev/fd/N, a FIFO: nothing to replace, written as standard
# output is (as age writes them, and the sops commands' --output), a failed
# decryption releasing nothing
@test "-o to /dev/stdout in a pipe, /dev/fd/3, a FIFO or /dev/null: written directly, all or nothing" {
	random_file "$TMP/p" 70000
	gitseal age -r "$DEMO_RECIPIENT" -o /dev/stdout "$TMP/p" | cat >"$TMP/p.age"
	age -d -i "$KEYS/demo-age-key.txt" "$TMP/p.age" | cmp - "$TMP/p"
	gitseal age -d -i "$KEYS/demo-age-key.txt" -o /dev/stdout "$TMP/p.age" | cmp - "$TMP/p"
	gitseal age -d -i "$KEYS/demo-age-key.txt" -o /dev/fd/3 "$TMP/p.age" 3>"$TMP/fd3"
	cmp "$TMP/fd3" "$TMP/p"
	gitseal age -d -i "$KEYS/demo-age-key.txt" -o /dev/null "$TMP/p.age"
	mkfifo "$TMP/fifo"
	cat "$TMP/fifo" >"$TMP/from-fifo" &
	gitseal age -a -r "$DEMO_RECIPIENT" -o "$TMP/fifo" "$TMP/p"
	wait
	[ -p "$TMP/fifo" ]
	age -d -i "$KEYS/demo-age-key.txt" "$TMP/from-fifo" | cmp - "$TMP/p"
	head -c 30000 "$TMP/p.age" >"$TMP/cut.age"
	run bash -c 'gitseal age -d -i "$1" -o /dev/stdout "$2" 2>/dev/null | wc -c' _ "$KEYS/demo-age-key.txt" "$TMP/cut.age"
	[ "$output" = 0 ]
	run gitseal age -d -i "$KEYS/demo-age-key.txt" -o /dev/full "$TMP/p.age"
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: '/dev/full': write error: No space left on device" ]
}

@test "ssh-ed25519 and ssh-rsa keys from ssh-keygen" {
	for t in ed25519 rsa; do
		ssh-keygen -q -t "$t" -N "" -C "test@gitseal" -f "$TMP/id_$t"
		random_file "$TMP/p" 70000
		gitseal age -r "$(cat "$TMP/id_$t.pub")" -o "$TMP/p.age" "$TMP/p"
		grep -qa -- "-> ssh-$t " "$TMP/p.age"
		gitseal age -d -i "$TMP/id_$t" -o "$TMP/out" "$TMP/p.age"
		cmp "$TMP/p" "$TMP/out"
		rm -f "$TMP/out"
	done
}

# keys/test-ssh-*-passphrase: ssh-keygen's default cipher (aes256-ctr) and
# bcrypt_pbkdf at 4 rounds, passphrase "test passphrase"
@test "a passphrase-protected ssh key: GITSEAL_SSH_PASSPHRASE or the terminal, asked only for its stanza" {
	local ed="$KEYS/test-ssh-ed25519-passphrase" rsa="$KEYS/test-ssh-rsa-passphrase"
	echo "secret data" >"$TMP/p"
	gitseal age -R "$ed.pub" -R "$rsa.pub" -o "$TMP/p.age" "$TMP/p"
	for k in "$ed" "$rsa"; do
		GITSEAL_SSH_PASSPHRASE="test passphrase" gitseal age -d -i "$k" -o "$TMP/out" "$TMP/p.age"
		cmp "$TMP/p" "$TMP/out"
		rm "$TMP/out"
	done
	# on a terminal (a pty): asked once; script drops what is typed before
	# the prompt, so the line comes a few times
	(for _ in 1 2 3 4 5 6; do printf 'test passphrase\n'; sleep 0.3; done) |
		script -qec "'$GITSEAL_BIN' age -d -i '$ed' -o '$TMP/out' '$TMP/p.age'" /dev/null >"$TMP/tty"
	grep -q "Enter passphrase for '$ed': " "$TMP/tty"
	cmp "$TMP/p" "$TMP/out"
	# wrong: one line, the key error code
	run -15 env GITSEAL_SSH_PASSPHRASE="wrong" "$GITSEAL_BIN" age -d -i "$ed" "$TMP/p.age"
	[ "$output" = "gitseal: error: '$ed': incorrect passphrase" ]
	# no terminal (setsid) and no variable; GITSEAL_PASSPHRASE is age -p's only
	run -15 env GITSEAL_PASSPHRASE="test passphrase" setsid -w "$GITSEAL_BIN" age -d -i "$ed" "$TMP/p.age"
	[ "$output" = "gitseal: error: '$ed' is passphrase-protected: no terminal to ask for it; set GITSEAL_SSH_PASSPHRASE to its passphrase" ]
	# a file for another key never asks
	echo hi | gitseal age -r "$DEMO_RECIPIENT" >"$TMP/other.age"
	run -12 setsid -w "$GITSEAL_BIN" age -d -i "$ed" "$TMP/other.age"
	[ "$output" = "gitseal: error: '$TMP/other.age': no identity matched any of the recipients" ]
	# another identity that opens it is tried first
	run -0 setsid -w "$GITSEAL_BIN" age -d -i "$ed" -i "$KEYS/demo-age-key.txt" "$TMP/other.age"
	[ "$output" = "hi" ]
}

# From chunk 32 (AGE_STREAM_LARGE_FROM_CHUNK) on, large payloads go through
# two threads in batches of 4 chunks (src/age/stream_pipeline.c), with
# OpenSSL loaded ahead for a regular file that large; the same guarantees
# hold there.
@test "large file: a flipped byte or a cut late in the payload is exit 14, nothing released" {
	random_file "$TMP/p" $((3 * 1024 * 1024 + 12345))
	gitseal age -r "$DEMO_RECIPIENT" -o "$TMP/p.age" "$TMP/p"
	gitseal age -d -i "$KEYS/demo-age-key.txt" -o "$TMP/out" "$TMP/p.age"
	cmp "$TMP/p" "$TMP/out"
	rm "$TMP/out"
	size=$(stat -c %s "$TMP/p.age")
	payload=$((size - (3 * 1024 * 1024 + 12345) - 49 * 16))
	cp "$TMP/p.age" "$TMP/flip.age"
	flip_byte "$TMP/flip.age" $((payload + 42 * 65552 + 100))
	# cut after chunk 36, the first of a batch: "missing final chunk"
	head -c $((payload + 37 * 65552)) "$TMP/p.age" >"$TMP/cut.age"
	for f in flip cut; do
		run gitseal age -d -i "$KEYS/demo-age-key.txt" -o "$TMP/out" "$TMP/$f.age"
		[ "$status" -eq 14 ]
		[[ $output == "gitseal: error: '$TMP/$f.age': "*" chunk"* ]]
		[ ! -e "$TMP/out" ]
		run bash -c "'$GITSEAL_BIN' age -d -i '$KEYS/demo-age-key.txt' '$TMP/$f.age' 2>&1 >'$TMP/stdout'"
		[ "$status" -eq 14 ]
		[ ! -s "$TMP/stdout" ]
		if [ $f = flip ]; then
			[ "$output" = "gitseal: error: '$TMP/flip.age': payload chunk failed to authenticate" ]
		else
			[ "$output" = "gitseal: error: '$TMP/cut.age': truncated payload: missing final chunk" ]
		fi
	done
}

@test "large file: a full output device is exit 1 with the write error naming standard output, both ways" {
	[ -w /dev/full ] || skip "no /dev/full"
	# past the 16 MiB that decryption holds back for stdout: the write fails
	# in the pipeline, on whichever of its two threads has the write turn
	random_file "$TMP/p" $((17 * 1024 * 1024))
	gitseal age -r "$DEMO_RECIPIENT" -o "$TMP/p.age" "$TMP/p"
	run bash -c "'$GITSEAL_BIN' age -r '$DEMO_RECIPIENT' '$TMP/p' >/dev/full"
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: standard output: write error: No space left on device" ]
	run bash -c "'$GITSEAL_BIN' age -d -i '$KEYS/demo-age-key.txt' '$TMP/p.age' >/dev/full"
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: standard output: write error: No space left on device" ]
}

# Splits each test-kit vector of $1 into $2: NAME.age (inflated when the
# vector is compressed), NAME.ids (its identities), NAME.pass (its
# passphrase), NAME.expect and NAME.payload.
split_testkit() {
	python3 - "$1" "$2" <<'PY'
import os, sys, zlib
kit, out = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(kit)):
    if name == "README.md":
        continue
    raw = open(os.path.join(kit, name), "rb").read()
    head, body = raw.split(b"\n\n", 1)
    meta = {"identity": []}
    for line in head.decode().split("\n"):
        key, value = line.split(": ", 1)
        if key == "identity":
            meta["identity"].append(value)
        else:
            meta[key] = value
    if meta.get("compressed") == "zlib":
        body = zlib.decompress(body)
    base = os.path.join(out, name)
    open(base + ".age", "wb").write(body)
    open(base + ".expect", "w").write(meta["expect"])
    open(base + ".payload", "w").write(meta.get("payload", ""))
    if meta["identity"]:
        open(base + ".ids", "w").write("\n".join(meta["identity"]) + "\n")
    if "passphrase" in meta:
        open(base + ".pass", "w").write(meta["passphrase"])
PY
}

@test "the 143 age test-kit vectors through the CLI: exit code by category, released bytes by hash" {
	local kit="$GITSEAL_SHARED/testdata/age-testkit" v name expect want code ran=0 pq all=0 pass got
	local subset= seen=' ' kind payload hashed=0
	local -a err released=()
	[ -d "$kit" ] || skip "no ../shared: $kit is absent"
	# all 143 on the release build (release-bats); the test build, under
	# ASan 0.12 s of CPU a vector, runs the first of each kind (name up to
	# its first '_', and outcome) and every fifth: the kit's parsing is
	# ASan's in test_age_testkit, all 143 in one process
	if grep -qa GITSEAL_TEST_FAIL_SECURE_ALLOC "$GITSEAL_BIN"; then subset=1; fi
	mkdir "$TMP/kit"
	split_testkit "$kit" "$TMP/kit"
	# no process a vector but gitseal's (each one took about 10 ms of CPU,
	# five a vector were most of this test's time): the hybrid identities
	# counted by one grep, the released bytes hashed by one sha256sum
	pq=$(grep -l "AGE-SECRET-KEY-PQ-1" "$TMP"/kit/*.ids | wc -l)
	for v in "$TMP"/kit/*.age; do
		name=${v%.age}
		read -r expect <"$name.expect" || true
		all=$((all + 1))
		kind=${name##*/}
		kind="${kind%%_*}/$expect"
		if [ -n "$subset" ] && [[ $seen == *" $kind "* ]] && ((all % 5)); then continue; fi
		seen+="$kind "
		case $expect in
		success) want=0 ;; "armor failure") want=10 ;; "header failure") want=11 ;;
		"no match") want=12 ;; "HMAC failure") want=13 ;; "payload failure") want=14 ;;
		*) echo "unknown expect '$expect'"; return 1 ;;
		esac
		# a passphrase is given alone (the file's stanzas decide), as age does
		code=0
		if [ -f "$name.pass" ]; then
			IFS= read -r -d '' pass <"$name.pass" || true
			GITSEAL_PASSPHRASE=$pass gitseal age -d "$v" >"$name.out" 2>"$TMP/err" || code=$?
		elif [ -f "$name.ids" ]; then
			gitseal age -d -i "$name.ids" "$v" >"$name.out" 2>"$TMP/err" || code=$?
		else
			gitseal age -d "$v" >"$name.out" 2>"$TMP/err" || code=$?
		fi
		if [ "$code" -ne "$want" ]; then
			echo "$(basename "$name"): expected $expect ($want), got exit $code: $(cat "$TMP/err")"
			return 1
		fi
		if [ "$want" -eq 0 ]; then
			released+=("$name.out")
		else
			# nothing released on failure, and one line saying why
			[ ! -s "$name.out" ] || { echo "$(basename "$name"): released bytes on $expect"; return 1; }
			mapfile -t err <"$TMP/err"
			[ "${#err[@]}" -eq 1 ] || { echo "$(basename "$name"): $(cat "$TMP/err")"; return 1; }
		fi
		ran=$((ran + 1))
	done
	sha256sum "${released[@]}" >"$TMP/hashes"
	while read -r got v; do
		name=${v%.out}
		read -r payload <"$name.payload" || true
		[ "$got" = "$payload" ] || { echo "$(basename "$name"): wrong plaintext"; return 1; }
		hashed=$((hashed + 1))
	done <"$TMP/hashes"
	[ "$hashed" -eq "${#released[@]}" ]
	[ "$hashed" -gt 0 ]
	echo "# $ran of $all vectors run" >&3
	[ "$all" -eq 143 ]
	[ "$pq" -eq 19 ]
	[ -n "$subset" ] || [ "$ran" -eq 143 ]
}

@test "keygen -pq: a 0600 hybrid identity whose public key line keygen -y reproduces" {
	run gitseal keygen -pq -o "$TMP/pq.key"
	[ "$status" -eq 0 ]
	[[ "$output" == "Public key: age1pq1"* ]]
	[ "$(stat -c %a "$TMP/pq.key")" = 600 ]
	[ "$(wc -l <"$TMP/pq.key")" -eq 3 ]
	grep -q '^# created: ' "$TMP/pq.key"
	secret=$(grep -v '^#' "$TMP/pq.key")
	[[ "$secret" == AGE-SECRET-KEY-PQ-1* ]]
	[ "${#secret}" -eq 77 ]
	rcpt=$(gitseal keygen -y "$TMP/pq.key")
	[ "${#rcpt}" -eq 1959 ]
	[ "# public key: $rcpt" = "$(sed -n 2p "$TMP/pq.key")" ]
	[ "Public key: $rcpt" = "$output" ]
	run -1 gitseal keygen -pq -y "$TMP/pq.key"
	[ "${lines[0]}" = "gitseal: error: -pq can't be used with -y" ]
}

@test "post-quantum recipients: -r, -R, and -i files mixing hybrid and X25519 identities" {
	gitseal keygen -pq -o "$TMP/pq1.key" 2>/dev/null
	gitseal keygen -pq -o "$TMP/pq2.key" 2>/dev/null
	gitseal keygen -o "$TMP/x.key" 2>/dev/null
	gitseal keygen -y "$TMP/pq2.key" >"$TMP/rcpts"
	random_file "$TMP/p" 70000
	for a in "" "-a"; do
		gitseal age $a -r "$(gitseal keygen -y "$TMP/pq1.key")" -R "$TMP/rcpts" -o "$TMP/p.age" "$TMP/p"
		[ "$(grep -ac -- '-> mlkem768x25519 ' "$TMP/p.age")" -eq "$([ -z "$a" ] && echo 2 || echo 0)" ]
		for k in pq1 pq2; do
			gitseal age -d -i "$TMP/$k.key" -o "$TMP/out" "$TMP/p.age"
			cmp "$TMP/p" "$TMP/out"
			rm "$TMP/out"
		done
		# an identity file with an X25519 key first and the hybrid one after
		cat "$TMP/x.key" "$TMP/pq2.key" >"$TMP/both.key"
		gitseal age -d -i "$TMP/both.key" "$TMP/p.age" | cmp - "$TMP/p"
		run gitseal age -d -i "$TMP/x.key" "$TMP/p.age"
		[ "$status" -eq 12 ]
		[ "$output" = "gitseal: error: '$TMP/p.age': no identity matched any of the recipients" ]
	done
}

@test "post-quantum and classic recipients are refused together (as age 1.3) unless --allow-mixed" {
	gitseal keygen -pq -o "$TMP/pq.key" 2>/dev/null
	gitseal keygen -o "$TMP/x.key" 2>/dev/null
	echo secret >"$TMP/p"
	run gitseal age -r "$(gitseal keygen -y "$TMP/pq.key")" -r "$(gitseal keygen -y "$TMP/x.key")" -o "$TMP/p.age" "$TMP/p"
	[ "$status" -eq 15 ]
	[ "$output" = "gitseal: error: incompatible recipients: can't mix post-quantum and classic recipients, or the file would be vulnerable to quantum computers" ]
	[ ! -e "$TMP/p.age" ]
	cat "$TMP/pq.key" "$TMP/x.key" >"$TMP/both.key"
	run gitseal age -e -i "$TMP/both.key" -o "$TMP/p.age" "$TMP/p"
	[ "$status" -eq 15 ]
	[[ $output == "gitseal: error: incompatible recipients: can't mix post-quantum and classic recipients"* ]]
	[ ! -e "$TMP/p.age" ]
	gitseal age --allow-mixed -e -i "$TMP/both.key" -o "$TMP/p.age" "$TMP/p"
	[ "$(gitseal age -d -i "$TMP/pq.key" "$TMP/p.age")" = secret ]
	[ "$(gitseal age -d -i "$TMP/x.key" "$TMP/p.age")" = secret ]
	run -1 gitseal age -d --allow-mixed -i "$TMP/x.key" "$TMP/p.age"
	[ "${lines[0]}" = "gitseal: error: --allow-mixed can't be used with -d/--decrypt" ]
}

@test "identity lines of unknown types are skipped with a warning naming type and line" {
	gitseal keygen -pq -o "$TMP/pq.key" 2>/dev/null
	echo secret | gitseal age -r "$(gitseal keygen -y "$TMP/pq.key")" -o "$TMP/p.age"
	{ echo "# a YubiKey"; echo "AGE-PLUGIN-YUBIKEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS8PPMRZ"; cat "$TMP/pq.key"; } >"$TMP/ids"
	run gitseal age -d -i "$TMP/ids" "$TMP/p.age"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "gitseal: warning: '$TMP/ids': line 2: skipped an identity of unsupported type AGE-PLUGIN-YUBIKEY-" ]
	[ "${lines[1]}" = secret ]
	run gitseal keygen -y "$TMP/ids"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == age1pq1* ]]
	# nothing usable left: the file finds no match (exit 12), after the warning
	sed -n 1,2p "$TMP/ids" >"$TMP/plugin-only"
	run gitseal age -d -i "$TMP/plugin-only" "$TMP/p.age"
	[ "$status" -eq 12 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "gitseal: warning: '$TMP/plugin-only': line 2: skipped an identity of unsupported type AGE-PLUGIN-YUBIKEY-" ]]
	[ "${lines[1]}" = "gitseal: error: '$TMP/p.age': no identity matched any of the recipients" ]
	# a line that is no key at all is still an error
	printf 'AGE-SECRET-KEY-PQ-1NOTAKEY\n' >"$TMP/bad"
	run gitseal age -d -i "$TMP/bad" "$TMP/p.age"
	[ "$status" -eq 15 ]
	[ "$output" = "gitseal: error: '$TMP/bad': line 1: not a valid identity" ]
}
