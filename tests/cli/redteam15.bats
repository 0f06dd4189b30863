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
