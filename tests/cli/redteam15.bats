#!/usr/bin/env bats
# Red team 15 (docs/threat-model.md): what a file's comments, which no MAC
# covers, can make the sops commands leave in clear.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# noenc_file: f.yaml sealed under .sops.yaml's unencrypted_comment_regex
# (a comment matching it leaves the value after it in clear, as in sops):
# region in clear by its marker, db.user sealed, db.password a null
# placeholder (never sealed nor hashed); then a pull request's two
# comments, each a line in clear outside the MAC: a marker above the
# placeholder and one at the end of the file.
noenc_file() {
	printf 'creation_rules:\n  - unencrypted_comment_regex: sops:noenc\n    age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	printf '# sops:noenc\nregion: eu\ndb:\n  user: app\n  password:\n' >f.yaml
	gitseal_fixture encrypt -i f.yaml
	sed -i -e 's/^  password:$/  # sops:noenc\n  password:/' -e 's/^sops:$/# sops:noenc\nsops:/' f.yaml
	cp f.yaml f.before
}

# sops's comment markers are outside the MAC: a pull request put
# `# sops:noenc` above a placeholder, or at the end of the file, and the
# secret the victim then set there was written in clear, exit 0. A value a
# marker leaves in clear is now that very value of the version opened.
@test "unencrypted_comment_regex: a marker a pull request put in the comments leaves no value set in clear" {
	noenc_file
	# the file opens: comments are in no MAC
	run -0 gitseal decrypt f.yaml
	run -1 gitseal set f.yaml '["db"]["password"]' '"real-s3cret"'
	[ "$output" = "gitseal: error: 'f.yaml': 'db:password' would be in clear by a comment before it (the rule's unencrypted_comment_regex; comments are outside the MAC): --keep-file-rule to write it so" ]
	cmp f.yaml f.before
	run -1 gitseal set f.yaml '["api_token"]' '"t0ken"'
	[[ $output == *"'api_token' would be in clear by a comment before it"* ]]
	cmp f.yaml f.before
	# edit: the same check
	EDITOR="sed -i s/^\ \ password:.*/\ \ password:\ real-s3cret/" run -1 gitseal edit f.yaml
	[[ $output == *"'db:password' would be in clear by a comment before it"* ]]
	cmp f.yaml f.before
	# a value no marker covers is sealed; one held in clear, unchanged, stays
	gitseal set f.yaml '["db"]["user"]' '"admin"'
	run ! grep -q admin f.yaml
	grep -qx 'region: eu' f.yaml
	# the user's word
	gitseal set --keep-file-rule f.yaml '["db"]["password"]' '"real-s3cret"'
	grep -qx '  password: real-s3cret' f.yaml
}

# The same marker stays when its key is removed, and then stands before
# the next key: `unset` of a key in clear by its marker wrote the sealed
# value after it in clear, exit 0 (as sops does).
@test "unencrypted_comment_regex: unset of a marked key leaves the value after it sealed" {
	printf 'creation_rules:\n  - unencrypted_comment_regex: sops:noenc\n    age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	printf '# sops:noenc\nregion: eu\ndb_password: hunter2\n' >f.yaml
	gitseal_fixture encrypt -i f.yaml
	cp f.yaml f.before
	run -1 gitseal unset f.yaml '["region"]'
	[ "$output" = "gitseal: error: 'f.yaml': 'db_password' would be in clear by the comment before the key removed (the rule's unencrypted_comment_regex): remove both with 'gitseal edit'" ]
	cmp f.yaml f.before
	EDITOR="sed -i -e /^#/d -e /^region/d" gitseal edit f.yaml
	grep -q '^db_password: ENC\[' f.yaml
	run ! grep -q region f.yaml
}

# shamir_threshold is outside the MAC. With three groups that all must
# open the file, a pull request wrote 2: decrypt still opens it for a
# holder of all three (every share opened is used, as in sops), and
# `groups add` (and rotate with no .sops.yaml to compare with) split the
# data key again for the 2 the metadata said: any two holders, the new
# group's among them, then opened it. The shares opened tell how many
# are needed; a lower threshold in the metadata is not taken.
@test "shamir_threshold lowered in a file's metadata: groups add and rotate split the data key for as many groups as its shares need" {
	age_keys 4
	cat k1.txt k2.txt k3.txt >kall.txt
	cat k1.txt k4.txt >k14.txt
	export SOPS_AGE_KEY_FILE="$TMP/kall.txt"
	printf 'creation_rules:\n  - shamir_threshold: 3\n    key_groups:\n' >rules.yaml
	for i in 1 2 3; do printf '      - age: [%s]\n' "$(cat r$i.txt)" >>rules.yaml; done
	printf 'password: hunter2\n' >plain.yaml
	gitseal_fixture --config rules.yaml encrypt plain.yaml >enc.yaml
	sed -i 's/^    shamir_threshold: 3$/    shamir_threshold: 2/' enc.yaml
	run -0 gitseal decrypt enc.yaml
	[ "$output" = "password: hunter2" ]
	cp enc.yaml g.yaml
	gitseal groups add -i --file g.yaml --age "$(cat r4.txt)"
	grep -qx '    shamir_threshold: 3' g.yaml
	run ! env SOPS_AGE_KEY_FILE=k14.txt "$GITSEAL_BIN" decrypt g.yaml
	cp enc.yaml r.yaml
	gitseal rotate -i r.yaml
	grep -qx '    shamir_threshold: 3' r.yaml
	# the user's own threshold
	gitseal groups add -i --file enc.yaml --age "$(cat r4.txt)" --shamir-secret-sharing-threshold 2
	[ "$(SOPS_AGE_KEY_FILE=k14.txt gitseal decrypt enc.yaml)" = "password: hunter2" ]
}

# An ssh-rsa public key is text anyone can write: with a public exponent
# of 1, RSA-OAEP's ciphertext is its encoded message, which gives back the
# file key without any private key (an even modulus is another such key).
# gitseal wrapped data keys for such a recipient, in a .sops.yaml of a
# pull request's (shown by updatekeys as any other ssh-rsa key), on the
# command line and in `gitseal age`; age refuses it (x/crypto/ssh: an
# exponent must be odd, 3 or more, at most 24 bits).
@test "an ssh-rsa recipient any reader could open for (exponent 1 or even, even modulus) is refused" {
	local e1=AAAAB3NzaC1yc2EAAAABAQAAAQEAxuIuxme0qUhzWcBTpUQoQLGrrFbuIrm1UK4BRJHSVcBwdiATXCahV8yN0/KQj6C7dgsZRhQ2rRp9V9OSa3zzDNc2neV0ng93k8ASqjs8GqFro752gukkGboD/G/swjOYTj5S1jkwKpBQORGSzDCPwFrsSYnf4V54NNR0wNubNkLvXn16OoYqrFgmqZdDaJA9ZGwtZEfUM5hbEbs3tUw5UHdhY2RWjEOWHfw4jD1d+XJeBuIt//P07LHc7EDbespYJbIRaq5s/1XODD8I4SZW8Q4RFgAEUkp8PSvTcfyAvhPpu0ZqKHOFgglC3Aa8afJlhXUGIQL7zU81f7xa9xob/Q==
	local even_n=AAAAB3NzaC1yc2EAAAADAQABAAABAQDG4i7GZ7SpSHNZwFOlRChAsausVu4iubVQrgFEkdJVwHB2IBNcJqFXzI3T8pCPoLt2CxlGFDatGn1X05JrfPMM1zad5XSeD3eTwBKqOzwaoWujvnaC6SQZugP8b+zCM5hOPlLWOTAqkFA5EZLMMI/AWuxJid/hXng01HTA25s2Qu9efXo6hiqsWCapl0NokD1kbC1kR9QzmFsRuze1TDlQd2FjZFaMQ5Yd/DiMPV35cl4G4i3/8/TssdzsQNt6ylglshFqrmz/Vc4MPwjhJlbxDhEWAARSSnw9K9Nx/IC+E+m7Rmooc4WCCULcBrxp8mWFdQYhAvvNTzV/vFr3Ghv8
	local even_e=AAAAB3NzaC1yc2EAAAADAQAAAAABAQDG4i7GZ7SpSHNZwFOlRChAsausVu4iubVQrgFEkdJVwHB2IBNcJqFXzI3T8pCPoLt2CxlGFDatGn1X05JrfPMM1zad5XSeD3eTwBKqOzwaoWujvnaC6SQZugP8b+zCM5hOPlLWOTAqkFA5EZLMMI/AWuxJid/hXng01HTA25s2Qu9efXo6hiqsWCapl0NokD1kbC1kR9QzmFsRuze1TDlQd2FjZFaMQ5Yd/DiMPV35cl4G4i3/8/TssdzsQNt6ylglshFqrmz/Vc4MPwjhJlbxDhEWAARSSnw9K9Nx/IC+E+m7Rmooc4WCCULcBrxp8mWFdQYhAvvNTzV/vFr3Ghv9
	printf 'a: secret\n' >plain.yaml
	run -15 gitseal age -r "ssh-rsa $e1 mallory" plain.yaml
	[ "$output" = "gitseal: error: recipient 'ssh-rsa $e1 mallory': ssh-rsa key with public exponent 1: it must be odd, 3 or more and at most 24 bits" ]
	printf 'creation_rules:\n  - age: ssh-rsa %s mallory\n' "$e1" >.sops.yaml
	run -1 gitseal encrypt plain.yaml
	[[ $output == *"ssh-rsa key with public exponent 1: it must be odd"* ]]
	[ "${#lines[@]}" -eq 1 ]
	run -1 gitseal encrypt --age "ssh-rsa $even_e" plain.yaml
	[[ $output == *"ssh-rsa key with public exponent 65536: it must be odd"* ]]
	run -1 gitseal encrypt --age "ssh-rsa $even_n" plain.yaml
	[[ $output == *"ssh-rsa key with an even modulus"* ]]
}
