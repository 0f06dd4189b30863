#!/usr/bin/env bats
# Issue 18, point 9: age identities come from every source sops reads; one
# that fails does not stop the others, 128 only when no key opens the file,
# and the key commands are given the recipient they are asked for.

load ../helpers

setup() {
	setup_tmp
	cd "$TMP"
	printf 'a: secret\n' >plain.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
}
teardown() { teardown_tmp; }

# sops: age/keysource.go:425-429 (a key file that cannot be opened is an
# error of its own; the other readers are still used)
@test "a missing SOPS_AGE_KEY_FILE does not stop SOPS_AGE_KEY" {
	SOPS_AGE_KEY="$(cat "$KEYS/demo-age-key.txt")" SOPS_AGE_KEY_FILE=/nonexistent/keys.txt \
		gitseal decrypt enc.yaml | cmp - plain.yaml
}

# sops: age/keysource.go:473-478 (each reader parsed on its own; a parse
# error is noted and the identities of the others kept)
@test "a malformed SOPS_AGE_KEY does not stop SOPS_AGE_KEY_FILE" {
	SOPS_AGE_KEY=AGE-SECRET-KEY-1GARBAGE SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt" \
		gitseal decrypt enc.yaml | cmp - plain.yaml
}

# sops: age/keysource.go:251 (no identity: "failed to load age identities"
# with the errors), cmd/sops/common/common.go:88 (CouldNotRetrieveKey, 128)
@test "when no source opens the file: 128, and the message names what failed" {
	run -128 env SOPS_AGE_KEY=AGE-SECRET-KEY-1GARBAGE SOPS_AGE_KEY_FILE=/nonexistent/keys.txt \
		"$GITSEAL_BIN" decrypt enc.yaml
	[[ $output == *"cannot recover the data key"* ]]
	[[ $output == *"SOPS_AGE_KEY_FILE '/nonexistent/keys.txt'"* ]]
	[[ $output == *"SOPS_AGE_KEY"*"line 1"* ]]
	[[ $output != *GARBAGE* ]]
}

# sops: age/keysource.go:441 (SOPS_AGE_KEY_CMD runs with
# SOPS_AGE_RECIPIENT=<the key's recipient>)
@test "SOPS_AGE_KEY_CMD is given SOPS_AGE_RECIPIENT, the recipient of the entry it opens" {
	cat >keycmd <<EOF
#!/bin/sh
echo "\$SOPS_AGE_RECIPIENT" >>"$TMP/asked"
cat "$KEYS/demo-age-key.txt"
EOF
	chmod +x keycmd
	SOPS_AGE_KEY_CMD="$TMP/keycmd" gitseal decrypt enc.yaml | cmp - plain.yaml
	[ "$(cat asked)" = "$DEMO_RECIPIENT" ]
}

# sops: age/keysource.go:442-444 (a failing command is an error among
# others), common.go:88 (128 when nothing opens the key)
@test "a failing SOPS_AGE_KEY_CMD: 128 with its status; another source still works" {
	run -128 env SOPS_AGE_KEY_CMD=false "$GITSEAL_BIN" decrypt enc.yaml
	[[ $output == *"SOPS_AGE_KEY_CMD 'false' failed (exit status 1)"* ]]
	SOPS_AGE_KEY_CMD=false SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt" gitseal decrypt enc.yaml | cmp - plain.yaml
}

# sops: age/keysource.go (the command split by shlex.Split, google/shlex:
# a '#' that starts a word ends the line; inside "..." a backslash takes
# the next character literally)
@test "SOPS_AGE_KEY_CMD is split into words as sops splits it" {
	cp "$KEYS/demo-age-key.txt" 'key file'
	SOPS_AGE_KEY_CMD='cat "key\ file" # a comment' gitseal decrypt enc.yaml | cmp - plain.yaml
	run -128 env SOPS_AGE_KEY_CMD='cat "key file' "$GITSEAL_BIN" decrypt enc.yaml
	[[ $output == *"SOPS_AGE_KEY_CMD: unterminated quote"* ]]
}

# sops: age/keysource.go:342-354 (SOPS_AGE_SSH_PRIVATE_KEY_CMD, with
# SOPS_AGE_RECIPIENT, its output an unencrypted SSH private key)
@test "SOPS_AGE_SSH_PRIVATE_KEY_CMD gives an ssh-ed25519 identity" {
	command -v ssh-keygen >/dev/null || skip "no ssh-keygen"
	ssh-keygen -q -t ed25519 -N '' -C test-key -f "$TMP/id" >/dev/null
	gitseal encrypt --age "$(cat "$TMP/id.pub")" plain.yaml >ssh.enc.yaml
	run -128 "$GITSEAL_BIN" decrypt ssh.enc.yaml
	# no identity anywhere: the message says where sops looks for one
	[ "$output" = "gitseal: error: 'ssh.enc.yaml': cannot recover the data key: no key opened it (tried 1 age key; no age identity found: set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or put the key in \$XDG_CONFIG_HOME/sops/age/keys.txt)" ]
	run -128 env -u XDG_CONFIG_HOME "$GITSEAL_BIN" decrypt ssh.enc.yaml
	[[ "$output" == *"; no age identity found: set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or put the key in ~/.config/sops/age/keys.txt)" ]]
	SOPS_AGE_SSH_PRIVATE_KEY_CMD="cat $TMP/id" gitseal decrypt ssh.enc.yaml | cmp - plain.yaml
	run -128 env SOPS_AGE_SSH_PRIVATE_KEY_CMD="cat /nonexistent" "$GITSEAL_BIN" decrypt ssh.enc.yaml
	[[ $output == *"SOPS_AGE_SSH_PRIVATE_KEY_CMD 'cat' failed"* ]]
}

# keys/test-ssh-ed25519-passphrase: passphrase "test passphrase". sops reads
# such a key and asks on the terminal; gitseal takes GITSEAL_SSH_PASSPHRASE
# first, and render, krm and the git filter never ask.
@test "a passphrase-protected ssh key from SOPS_AGE_SSH_PRIVATE_KEY_FILE or ~/.ssh: GITSEAL_SSH_PASSPHRASE, else one line" {
	local ed="$KEYS/test-ssh-ed25519-passphrase"
	gitseal encrypt --age "$(cat "$ed.pub")" plain.yaml >ssh.enc.yaml
	SOPS_AGE_SSH_PRIVATE_KEY_FILE="$ed" GITSEAL_SSH_PASSPHRASE="test passphrase" gitseal decrypt ssh.enc.yaml |
		cmp - plain.yaml
	run -128 env SOPS_AGE_SSH_PRIVATE_KEY_FILE="$ed" setsid -w "$GITSEAL_BIN" decrypt ssh.enc.yaml
	[ "$output" = "gitseal: error: 'ssh.enc.yaml': cannot recover the data key: no key opened it (tried 1 age key: '$ed' is passphrase-protected: no terminal to ask for it; set GITSEAL_SSH_PASSPHRASE to its passphrase)" ]
	# the default key, which sops reads too
	mkdir -p "$TMP/home/.ssh"
	cp "$ed" "$TMP/home/.ssh/id_ed25519"
	HOME="$TMP/home" GITSEAL_SSH_PASSPHRASE="test passphrase" gitseal decrypt ssh.enc.yaml | cmp - plain.yaml
	# a file for another key: the protected one is never asked about
	HOME="$TMP/home" SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt" setsid -w "$GITSEAL_BIN" decrypt enc.yaml |
		cmp - plain.yaml
	# the git filter's side (textconv) does not ask: shown encrypted, the warning says why
	git init -q .
	run -0 --separate-stderr env SOPS_AGE_SSH_PRIVATE_KEY_FILE="$ed" "$GITSEAL_BIN" git textconv ssh.enc.yaml
	[ "$stderr" = "gitseal: warning: 'ssh.enc.yaml' shown encrypted (other versions may be too): '$ed' is passphrase-protected: this command does not ask for it; set GITSEAL_SSH_PASSPHRASE to its passphrase" ]
	# render does not ask, even on a terminal
	printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: secret\n' >secret.yaml
	mkdir app
	gitseal encrypt --age "$(cat "$ed.pub")" secret.yaml >app/secret.enc.yaml
	run -1 --separate-stderr env SOPS_AGE_SSH_PRIVATE_KEY_FILE="$ed" "$GITSEAL_BIN" render app
	[ -z "$output" ]
	[[ "$stderr" == *"'$ed' is passphrase-protected: this command does not ask for it; set GITSEAL_SSH_PASSPHRASE to its passphrase)" ]]
	SOPS_AGE_SSH_PRIVATE_KEY_FILE="$ed" GITSEAL_SSH_PASSPHRASE="test passphrase" gitseal render app | grep -qx '  a: secret'
}

# a protected PEM key keeps its public key only in KEY.pub beside the file:
# a key given by a command has no such file, and a file named after the
# variable (in the repository one works in) is not read for it
@test "a passphrase-protected PEM key from SOPS_AGE_SSH_PRIVATE_KEY_CMD: one line, no .pub read by the variable's name" {
	command -v ssh-keygen >/dev/null || skip "no ssh-keygen"
	# the committed RSA key (2048 bits) as PEM under another passphrase:
	# ssh-keygen -p, not a new key (0.3 to over 1 s of CPU)
	cp "$KEYS/test-ssh-rsa-passphrase" "$TMP/pem"
	cp "$KEYS/test-ssh-rsa-passphrase.pub" "$TMP/pem.pub"
	chmod 600 "$TMP/pem"
	ssh-keygen -q -p -m PEM -P 'test passphrase' -N 'pem pass' -f "$TMP/pem" >/dev/null
	grep -qx 'Proc-Type: 4,ENCRYPTED' "$TMP/pem"
	gitseal encrypt --age "$(cat "$TMP/pem.pub")" plain.yaml >pem.enc.yaml
	SOPS_AGE_SSH_PRIVATE_KEY_FILE="$TMP/pem" GITSEAL_SSH_PASSPHRASE="pem pass" gitseal decrypt pem.enc.yaml |
		cmp - plain.yaml
	cp "$TMP/pem.pub" SOPS_AGE_SSH_PRIVATE_KEY_CMD.pub
	run -128 env SOPS_AGE_SSH_PRIVATE_KEY_CMD="cat $TMP/pem" GITSEAL_SSH_PASSPHRASE="pem pass" "$GITSEAL_BIN" decrypt pem.enc.yaml
	[[ "$output" == *"'SOPS_AGE_SSH_PRIVATE_KEY_CMD' is a passphrase-protected PEM key given as no file, so it has no .pub file beside it"* ]]
}

@test "an empty GITSEAL_SSH_PASSPHRASE is refused for a protected key, not tried as a passphrase" {
	local ed="$KEYS/test-ssh-ed25519-passphrase"
	gitseal encrypt --age "$(cat "$ed.pub")" plain.yaml >ssh.enc.yaml
	run -128 env SOPS_AGE_SSH_PRIVATE_KEY_FILE="$ed" GITSEAL_SSH_PASSPHRASE= "$GITSEAL_BIN" decrypt ssh.enc.yaml
	[[ "$output" == *"GITSEAL_SSH_PASSPHRASE is empty"* ]]
}

# git's filter, init and status never ask for a passphrase: a file only the protected key opens is
# left encrypted, and gitseal git init, unlock and status name that key and
# how to give its passphrase, not "none of your identities opens it"
@test "gitseal git init, unlock and status name the passphrase-protected key that alone opens a file" {
	local ed="$KEYS/test-ssh-ed25519-passphrase"
	git init -q .
	mkdir secrets
	gitseal encrypt --age "$(cat "$ed.pub")" plain.yaml >secrets/app.yaml
	cp enc.yaml secrets/other.yaml # for a key not here
	printf 'creation_rules:\n  - path_regex: secrets/\n    age: %s\n' "$(cat "$ed.pub")" >.sops.yaml
	git add -A
	export SOPS_AGE_SSH_PRIVATE_KEY_FILE="$ed"
	run -0 "$GITSEAL_BIN" git init 'secrets/**'
	grep -qxF "gitseal: warning: 1 file(s) left encrypted in the work tree: '$ed' is passphrase-protected: this command does not ask for it; set GITSEAL_SSH_PASSPHRASE to its passphrase (then 'gitseal git unlock')" <<<"$output"
	grep -qxF "gitseal: warning: 1 file(s) left encrypted in the work tree: none of your identities opens them" <<<"$output"
	run -0 "$GITSEAL_BIN" git status
	[[ "${lines[1]}" == "secrets/other.yaml: locked (ciphertext in the work tree: none of your identities opens it);"* ]]
	[ "${lines[0]}" = "secrets/app.yaml: locked (ciphertext in the work tree: the passphrase-protected key '$ed' opens it, and git asks for no passphrase: run 'gitseal git unlock' on a terminal, which asks, or set GITSEAL_SSH_PASSPHRASE)" ]
	run -0 env GITSEAL_SSH_PASSPHRASE=wrong "$GITSEAL_BIN" git unlock
	[ "${lines[1]}" = "gitseal: warning: 1 file(s) left encrypted: '$ed': incorrect passphrase" ]
	GITSEAL_SSH_PASSPHRASE="test passphrase" gitseal git unlock
	cmp secrets/app.yaml plain.yaml
}

# files left encrypted for several protected keys: a line for each of the
# first three keys, its files counted, then the files of the others; not
# only the last key's reason
@test "gitseal git init and unlock name each passphrase-protected key that alone opens files left encrypted" {
	command -v ssh-keygen >/dev/null || skip "no ssh-keygen"
	local ed="$KEYS/test-ssh-ed25519-passphrase" rsa="$TMP/home/.ssh/id_rsa" k
	mkdir -p "$TMP/home/.ssh" secrets
	cp "$KEYS/test-ssh-rsa-passphrase" "$rsa"
	cp "$KEYS/test-ssh-rsa-passphrase.pub" "$rsa.pub"
	ssh-keygen -q -t ed25519 -N pw -C home -f "$TMP/home/.ssh/id_ed25519" >/dev/null
	ssh-keygen -q -t ed25519 -N pw -C kf -f "$TMP/kf" >/dev/null
	# in the index's order: two files for rsa, one for each of the others
	for k in "a:$rsa" "b:$rsa" "c:$ed" "d:$TMP/home/.ssh/id_ed25519" "e:$TMP/kf"; do
		gitseal encrypt --age "$(cat "${k#*:}.pub")" plain.yaml >"secrets/${k%%:*}.yaml"
	done
	git init -q .
	printf 'creation_rules:\n  - path_regex: secrets/\n    age: %s\n' "$(cat "$ed.pub")" >.sops.yaml
	git add -A
	export SOPS_AGE_SSH_PRIVATE_KEY_FILE="$ed" HOME="$TMP/home" SOPS_AGE_KEY_FILE="$TMP/kf"
	run -0 "$GITSEAL_BIN" git init 'secrets/**'
	grep -qxF "gitseal: warning: 2 file(s) left encrypted in the work tree: '$rsa' is passphrase-protected: this command does not ask for it; set GITSEAL_SSH_PASSPHRASE to its passphrase (then 'gitseal git unlock')" <<<"$output"
	grep -qxF "gitseal: warning: 1 file(s) left encrypted in the work tree: '$ed' is passphrase-protected: this command does not ask for it; set GITSEAL_SSH_PASSPHRASE to its passphrase (then 'gitseal git unlock')" <<<"$output"
	grep -qxF "gitseal: warning: 1 file(s) left encrypted in the work tree: '$TMP/home/.ssh/id_ed25519' is passphrase-protected: this command does not ask for it; set GITSEAL_SSH_PASSPHRASE to its passphrase (then 'gitseal git unlock')" <<<"$output"
	grep -qxF "gitseal: warning: and 1 more file(s) left encrypted in the work tree for other passphrase-protected keys" <<<"$output"
	[ "$(grep -c "left encrypted" <<<"$output")" -eq 4 ]
	run -0 env GITSEAL_SSH_PASSPHRASE=wrong "$GITSEAL_BIN" git unlock
	grep -qxF "gitseal: warning: 2 file(s) left encrypted: '$rsa': incorrect passphrase" <<<"$output"
	grep -qxF "gitseal: warning: 1 file(s) left encrypted: '$ed': incorrect passphrase" <<<"$output"
	grep -qxF "gitseal: warning: and 1 more file(s) left encrypted for other passphrase-protected keys" <<<"$output"
	[ "$(grep -c "left encrypted" <<<"$output")" -eq 4 ]
}

# git check cannot make its decrypt check of a file none of the user's keys
# opens: it says so in one line (the first files named), exit status as
# before
@test "gitseal git check names the files it could not decrypt to check, in one line" {
	git init -q .
	mkdir secrets
	for f in a b c d; do cp enc.yaml "secrets/$f.yaml"; done
	printf 'creation_rules:\n  - path_regex: secrets/\n    age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	git add .sops.yaml secrets
	SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt" gitseal git init --no-hook 'secrets/**' 2>/dev/null
	run -0 env SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt" "$GITSEAL_BIN" git check
	[ -z "$output" ]
	run -0 env -u SOPS_AGE_KEY_FILE "$GITSEAL_BIN" git check
	[ "$output" = "gitseal: warning: 4 file(s) not checked: none of your keys opens them ('secrets/a.yaml', 'secrets/b.yaml', 'secrets/c.yaml' and 1 more)" ]
	# another key than the files': the same
	gitseal keygen -o other.txt 2>/dev/null
	run -0 env SOPS_AGE_KEY_FILE=other.txt "$GITSEAL_BIN" git check
	[ "$output" = "gitseal: warning: 4 file(s) not checked: none of your keys opens them ('secrets/a.yaml', 'secrets/b.yaml', 'secrets/c.yaml' and 1 more)" ]
}

# age (agessh.EncryptedSSHIdentity, cmd/age's prompt) asks once and fails on
# a wrong passphrase; ssh asks up to three times, age does not: neither does
# gitseal. Through a pty; the answers typed one by one, as the question
# flushes what came before it.
@test "a passphrase-protected key on a terminal: asked once, a wrong passphrase not asked again" {
	command -v script >/dev/null || skip "script(1) not installed"
	local ed="$KEYS/test-ssh-ed25519-passphrase"
	gitseal encrypt --age "$(cat "$ed.pub")" plain.yaml >ssh.enc.yaml
	export SOPS_AGE_SSH_PRIVATE_KEY_FILE="$ed"
	run -128 bash -c "(for _ in 1 2 3 4 5 6 7 8; do printf 'wrong\n' || exit; sleep 0.3; done) |
		timeout 30 script -qec '\"$GITSEAL_BIN\" decrypt ssh.enc.yaml' /dev/null"
	[ "$(grep -o "Enter passphrase for '$ed': " <<<"$output" | wc -l)" -eq 1 ]
	[[ "$output" == *"no key opened it (tried 1 age key: '$ed': incorrect passphrase)"* ]]
	run -0 bash -c "(for _ in 1 2 3 4 5 6 7 8; do printf 'test passphrase\n' || exit; sleep 0.3; done) |
		timeout 30 script -qec '\"$GITSEAL_BIN\" decrypt ssh.enc.yaml' /dev/null"
	[ "$(grep -o "Enter passphrase for '$ed': " <<<"$output" | wc -l)" -eq 1 ]
	[[ "$output" == *"a: secret"* ]]
}
