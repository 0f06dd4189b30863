#!/usr/bin/env bats
# Red team 23 on the git side: what stop 47 added (git unlock asking for a
# passphrase-protected ssh key's passphrase on the terminal; git check
# naming the files it could not decrypt).

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

# on_tty ANSWER CMD: CMD run on a pty (script(1)), ANSWER typed on it until
# it ends (as tests/git/ssh_unlock.bats)
on_tty() {
	(for _ in 1 2 3 4 5 6 7 8; do printf '%s\n' "$1" || exit; sleep 0.3; done) |
		timeout 30 script -qec "$2" /dev/null
}

# protected_clone: secrets/a.yaml and b.yaml sealed for $RECIPIENT and the
# passphrase-protected ed25519 key (both accepted), committed and locked;
# then only the protected key is the user's, with no passphrase in the
# environment and a terminal allowed to ask
protected_clone() {
	ED="$BATS_TEST_DIRNAME/../../keys/test-ssh-ed25519-passphrase"
	read -r t k _ < "$ED.pub"
	printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: %s,%s %s\n' "$RECIPIENT" "$t" "$k" > .sops.yaml
	fixture gitseal updatekeys -y -r . >/dev/null 2>&1
	printf 'db: hunter2\nother: x\n' > secrets/a.yaml
	printf 'db: b\n' > secrets/b.yaml
	git add .sops.yaml secrets
	fixture git commit -qm two
	fixture gitseal git lock 2>/dev/null
	export SOPS_AGE_SSH_PRIVATE_KEY_FILE="$ED"
	unset SOPS_AGE_KEY_FILE GITSEAL_SSH_PASSPHRASE GIT_TERMINAL_PROMPT
}

# U1: git unlock decrypted the files with the key it asked the passphrase
# of, then wrote the index in the same second as the files: git takes such
# an entry for racily clean and cleans the file again to compare, and the
# filter it starts, which never asks, cannot open the committed version,
# so it sealed it afresh (a new data key): every file unlock decrypted
# showed as modified, `git commit -a` committed them all re-keyed, and a
# checkout of another branch refused to overwrite them.
# P1: GIT_TERMINAL_PROMPT was false to unlock only as 0, false, no or off;
# git reads it as a Boolean of its config (empty, 00, 0x0, 0k: false) and
# asks nothing there, where unlock asked (a job that set it so waited);
# a value git cannot read (maybe) stops git, and unlock asks nothing.
@test "U1, P1, L1: git unlock asks no passphrase where git's GIT_TERMINAL_PROMPT is false; after it asked, git sees the files it decrypted unchanged, and lock asks too" {
	command -v script >/dev/null || skip "script(1) not installed"
	protected_clone
	for v in '' 0x0; do
		run -0 on_tty "test passphrase" "GIT_TERMINAL_PROMPT='$v' \"$GITSEAL_BIN\" git unlock"
		[[ "$output" != *"Enter passphrase"* ]]
		[[ "$output" == *"GIT_TERMINAL_PROMPT is off"* ]]
	done
	# a value git refuses (it stops: "bad boolean environment value") asks nothing either
	run -0 on_tty "test passphrase" "GIT_TERMINAL_PROMPT=maybe \"$GITSEAL_BIN\" git unlock"
	[[ "$output" != *"Enter passphrase"* ]]
	[[ "$output" == *"GIT_TERMINAL_PROMPT is not a Boolean git reads"* ]]
	run -0 on_tty "test passphrase" "\"$GITSEAL_BIN\" git unlock"
	[[ "$output" == *"unlocked: 2 file(s) decrypted"* ]]
	grep -qx 'db: b' secrets/b.yaml
	run -0 git status --porcelain -uno
	[ -z "$output" ]
	# an edit is one: sealed afresh (no passphrase, no data key to re-use)
	printf 'db: b2\n' > secrets/b.yaml
	run -0 git status --porcelain -uno
	[ "$output" = " M secrets/b.yaml" ]
	# L1: lock asks as unlock does: a.yaml is unchanged (it said a.yaml had
	# changes, which only --force passed, losing b.yaml's), b.yaml's edit
	# refuses; without a terminal it says it cannot tell
	run -1 "$GITSEAL_BIN" git lock </dev/null
	[ "$output" = "gitseal: error: cannot tell whether 'secrets/a.yaml' has changes that are not committed: '$ED' is passphrase-protected: no terminal to ask for it; set GITSEAL_SSH_PASSPHRASE to its passphrase" ]
	run -1 on_tty "test passphrase" "\"$GITSEAL_BIN\" git lock"
	[ "$(grep -o "Enter passphrase for '$ED': " <<<"$output" | wc -l)" -eq 1 ]
	[[ "$output" == *"'secrets/b.yaml' has changes that are not committed"* ]]
}

# C1: the hook's check of a file only a passphrase-protected key of the
# user's opens (git asks for no passphrase) said "none of your keys opens
# them", which is not so: it names the key and the way to check them.
@test "C1: git check names the passphrase-protected key that would open the files it could not check" {
	protected_clone
	GITSEAL_SSH_PASSPHRASE="test passphrase" fixture gitseal git unlock 2>/dev/null
	printf 'db: a2\n' > secrets/a.yaml
	printf 'db: b2\n' > secrets/b.yaml
	git add secrets
	run -0 "$GITSEAL_BIN" git check
	[ "$output" = "gitseal: warning: 2 file(s) not checked: the passphrase-protected key '$ED' opens them, and git asks for no passphrase (set GITSEAL_SSH_PASSPHRASE to check them) ('secrets/a.yaml', 'secrets/b.yaml')" ]
	# and a file sealed for the age key alone, which no key of the user's opens
	printf 'db: c\n' > "$T/c.yaml"
	fixture gitseal encrypt --config /dev/null --age "$RECIPIENT" "$T/c.yaml" > "$T/c.sealed"
	git update-index --add --cacheinfo "100644,$(git hash-object -w --no-filters "$T/c.sealed"),secrets/c.yaml"
	run -0 "$GITSEAL_BIN" git check
	[ "$output" = "gitseal: warning: 3 file(s) not checked: none of your keys opens them, or for 2 of them only the passphrase-protected key '$ED', which git asks no passphrase for ('secrets/a.yaml', 'secrets/b.yaml', 'secrets/c.yaml')" ]
}

# A1: git archive runs the smudge filter on every file it exports, so a key
# holder's `git archive -o release.tar.gz v1` (make dist) held every secret
# in clear, exit 0. It exports them as committed now, with a warning;
# GITSEAL_ARCHIVE_PLAINTEXT=1 asks for the plaintext.
@test "A1: git archive exports the files under the filter as committed (ciphertext) unless asked for plaintext" {
	printf 'db: hunter2\n' > secrets/a.yaml
	git add secrets/a.yaml
	fixture git commit -qm a
	git cat-file blob HEAD:secrets/a.yaml > "$T/sealed"
	run -0 --separate-stderr sh -c 'git -c core.quotepath=off archive --format=tar HEAD secrets | tar -xO secrets/a.yaml'
	[ "$output" = "$(cat "$T/sealed")" ]
	[[ "$stderr" == *"git archive exports the files under the filter as committed (GITSEAL_ARCHIVE_PLAINTEXT=1 decrypts them)"* ]]
	run -0 sh -c 'GITSEAL_ARCHIVE_PLAINTEXT=1 git archive --format=tar HEAD secrets | tar -xO secrets/a.yaml'
	[ "$output" = "db: hunter2" ]
}
