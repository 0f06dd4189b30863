#!/usr/bin/env bats
# `gitseal git unlock`, typed on a terminal, asks for a passphrase-protected
# ssh key's passphrase (as git-crypt's unlock, whose gpg-agent asks): once
# per key, as age. Only it: the filter git starts never asks, nor unlock
# without a terminal on its standard input (a hook's). Through a pty
# (script(1)), as tests/cli/cli_age_sources.bats; the answers typed one by
# one, as the question flushes what came before it.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	command -v script >/dev/null || skip "script(1) not installed"
	gs_setup
	ED="$BATS_TEST_DIRNAME/../../keys/test-ssh-ed25519-passphrase"
	export SOPS_AGE_SSH_PRIVATE_KEY_FILE="$ED"
	# a user's terminal: the suite's GIT_TERMINAL_PROMPT=0 (gs_env) would turn unlock's question off
	unset GITSEAL_SSH_PASSPHRASE GIT_TERMINAL_PROMPT
}
teardown() { gs_teardown; }

# on_tty ANSWER CMD: CMD run on a pty, ANSWER typed on it until it ends
on_tty() {
	(for _ in 1 2 3 4 5 6 7 8; do printf '%s\n' "$1" || exit; sleep 0.3; done) |
		timeout 30 script -qec "$2" /dev/null
}

@test "git unlock on a terminal asks once for a protected key; the filter, unlock without one or with GIT_TERMINAL_PROMPT off never ask" {
	printf 'db: hunter2\n' > "$T/plain"
	# two files only the protected key opens, committed as another clone
	# sealed them, and checked out by git's filter
	fixture gitseal encrypt --config /dev/null --age "$(cat "$ED.pub")" --input-type yaml \
		--output-type yaml "$T/plain" > "$T/sealed"
	for f in a b; do
		git update-index --add --cacheinfo "100644,$(git hash-object -w --no-filters "$T/sealed"),secrets/$f.yaml"
	done
	fixture git commit -qm "sealed for a protected key"
	run -0 on_tty "test passphrase" "git checkout -q -- secrets"
	[[ "$output" != *"Enter passphrase"* ]]
	cmp secrets/a.yaml "$T/sealed"
	# no terminal on its standard input: not asked, told how
	run -0 on_tty "test passphrase" "\"$GITSEAL_BIN\" git unlock </dev/null"
	[[ "$output" != *"Enter passphrase"* ]]
	[[ "$output" == *"2 file(s) left encrypted: '$ED' is passphrase-protected: no terminal to ask for it; set GITSEAL_SSH_PASSPHRASE to its passphrase"* ]]
	cmp secrets/b.yaml "$T/sealed"
	# git's terminal questions turned off (GIT_TERMINAL_PROMPT=0, as a CI job sets it): not asked
	run -0 on_tty "test passphrase" "GIT_TERMINAL_PROMPT=false \"$GITSEAL_BIN\" git unlock"
	[[ "$output" != *"Enter passphrase"* ]]
	[[ "$output" == *"'$ED' is passphrase-protected: GIT_TERMINAL_PROMPT is off; set GITSEAL_SSH_PASSPHRASE"* ]]
	cmp secrets/b.yaml "$T/sealed"
	# a wrong passphrase: asked once, not again for the second file
	run -0 on_tty wrong "\"$GITSEAL_BIN\" git unlock"
	[ "$(grep -o "Enter passphrase for '$ED': " <<<"$output" | wc -l)" -eq 1 ]
	[[ "$output" == *"2 file(s) left encrypted: '$ED': incorrect passphrase"* ]]
	cmp secrets/a.yaml "$T/sealed"
	run -0 on_tty "test passphrase" "\"$GITSEAL_BIN\" git unlock"
	[ "$(grep -o "Enter passphrase for '$ED': " <<<"$output" | wc -l)" -eq 1 ]
	[[ "$output" == *"unlocked: 2 file(s) decrypted"* ]]
	cmp secrets/a.yaml "$T/plain"
	cmp secrets/b.yaml "$T/plain"
}
