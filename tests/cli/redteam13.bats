#!/usr/bin/env bats
# Red team 13 (docs/threat-model.md): what a file's metadata can make
# gitseal's helpers do on the user's machine.

load ../helpers

# Two GnuPG homes made once: the victim's key, and mallory's, who has the
# victim's public key. Short names: gpg-agent's socket path is bounded.
setup_file() {
	command -v gpg >/dev/null || return 0
	RT13_GPG=$(mktemp -d /tmp/gitseal-rt13.XXXXXX)
	export RT13_GPG
	mkdir -m 700 "$RT13_GPG/v" "$RT13_GPG/m"
	GNUPGHOME=$RT13_GPG/v gpg --batch --passphrase '' \
		--quick-gen-key 'victim <victim@gitseal.invalid>' future-default default never 2>/dev/null
	GNUPGHOME=$RT13_GPG/m gpg --batch --passphrase '' \
		--quick-gen-key 'mallory <mallory@gitseal.invalid>' future-default default never 2>/dev/null
	RT13_FP=$(GNUPGHOME=$RT13_GPG/v gpg --list-keys --with-colons | awk -F: '/^fpr/ { print $10; exit }')
	export RT13_FP
	GNUPGHOME=$RT13_GPG/v gpg --export -a "$RT13_FP" | GNUPGHOME=$RT13_GPG/m gpg --batch --import 2>/dev/null
}

teardown_file() {
	[ -n "${RT13_GPG:-}" ] || return 0
	local h
	for h in v m; do gpgconf --homedir "$RT13_GPG/$h" --kill all 2>/dev/null || true; done
	rm -rf "$RT13_GPG"
}

setup() { setup_demo; }
teardown() { teardown_tmp; }

# A PGP entry's enc is outside the MAC: anyone who can change the file can
# put there a message for the victim's key that mallory signed. sops runs
# `gpg -d`, and gitseal did too, under the user's own gpg.conf: with
# auto-key-retrieve set there (for mail), gpg asked a keyserver for the
# signer's key, or a server of mallory's domain (WKD, with --sender): a
# sign of life with the victim's address, at each decrypt, render or git
# checkout. A data key needs no signature checked: gpg -d runs with
# --no-auto-key-retrieve.
@test "a signed PGP enc planted in a file's metadata makes gpg ask no keyserver for the signer's key" {
	command -v gpg >/dev/null || skip "gpg (Debian gnupg) is needed"
	export GNUPGHOME=$RT13_GPG/v
	unset SOPS_AGE_KEY_FILE
	printf 'password: hunter2\n' >plain.yaml
	gitseal encrypt --pgp "$RT13_FP" plain.yaml >enc.yaml
	head -c 32 /dev/urandom |
		GNUPGHOME=$RT13_GPG/m gpg --batch --trust-model always -a --sign --encrypt -r "$RT13_FP" >planted.asc 2>/dev/null
	python3 - enc.yaml planted.asc >tampered.yaml <<'PY'
import sys
src = open(sys.argv[1]).read()
msg = open(sys.argv[2]).read().strip().split('\n')
a = src.index('-----BEGIN PGP MESSAGE-----')
b = src.index('-----END PGP MESSAGE-----') + len('-----END PGP MESSAGE-----')
indent = src[src.rindex('\n', 0, a) + 1:a]
sys.stdout.write(src[:a] + msg[0] + '\n' + '\n'.join(indent + l if l else '' for l in msg[1:]) + src[b:])
PY
	# the user's gpg.conf: keys fetched for signatures, from a port where nothing listens
	printf 'auto-key-retrieve\nkeyserver hkp://127.0.0.1:9\n' >"$GNUPGHOME/gpg.conf"
	cat >gpg-wrap <<SH
#!/bin/sh
exec gpg "\$@" 2>>"$TMP/gpg-err"
SH
	chmod +x gpg-wrap
	run env SOPS_GPG_EXEC="$TMP/gpg-wrap" "$GITSEAL_BIN" decrypt tampered.yaml
	rm -f "$GNUPGHOME/gpg.conf"
	[ "$status" -ne 0 ]
	[ -z "$(grep -v '^gitseal: error: ' <<<"$output")" ]
	# gpg opened it and saw mallory's signature, and asked no one for her key
	grep -q "Can't check signature" gpg-err
	run ! grep -q 'requesting key' gpg-err
	# the file itself still opens
	[ "$(gitseal decrypt enc.yaml)" = "password: hunter2" ]
}

# age plugins (age-plugin-NAME on PATH) run for a recipient or identity of
# their type. A recipient in .sops.yaml, on the command line or in a file's
# metadata, and an identity in the key file, may all come from a
# repository: gitseal runs no plugin for any of them (held; guards it).
@test "age plugin recipients and identities run no age-plugin-* program" {
	mkdir bin
	printf '#!/bin/sh\necho "$0 $*" >>"%s/ran"\nexit 1\n' "$TMP" >bin/age-plugin-evil
	chmod +x bin/age-plugin-evil
	export PATH="$TMP/bin:$PATH"
	plugin=age1evil1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0scfcyv3
	printf 'a: 1\n' >p.yaml
	run gitseal encrypt --age "$plugin" p.yaml
	[ "$status" -ne 0 ]
	printf 'creation_rules:\n  - age: %s\n' "$plugin" >.sops.yaml
	run gitseal encrypt p.yaml
	[ "$status" -ne 0 ]
	rm .sops.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" p.yaml >e.yaml
	sed "s/recipient: $DEMO_RECIPIENT/recipient: $plugin/" e.yaml >planted.yaml
	grep -q "recipient: $plugin" planted.yaml
	[ "$(gitseal decrypt planted.yaml)" = "a: 1" ]
	run gitseal rotate -y -i planted.yaml
	[ "$status" -ne 0 ]
	{ cat "$KEYS/demo-age-key.txt"; echo AGE-PLUGIN-EVIL-1QQQSYQCYQ5RQWZQFPG9SCRGWPUGPZYSNZS23V9CCRYDPK8QARC0SZ4R6JT; } >keys.txt
	[ "$(SOPS_AGE_KEY_FILE=keys.txt gitseal decrypt e.yaml 2>/dev/null)" = "a: 1" ]
	[ ! -e ran ]
}
