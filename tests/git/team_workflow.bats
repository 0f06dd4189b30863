#!/usr/bin/env bats
# docs/git.md's "Team workflow", run as it is written: a teammate clones
# before she has a key (the clone recipe), makes one, is added, pulls and
# accepts; then a rotation, her revocation, and lock and unlock. The
# commands are the document's; only -y answers the prompts.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

# tina CMD...: CMD as Tina, in $T/tina once it exists: her own home, and
# the key the recipe makes at its default place
tina() {
	(
		unset SOPS_AGE_KEY_FILE
		export HOME="$T/tina-home" XDG_CONFIG_HOME="$T/tina-home/.config"
		if [ -d "$T/tina" ]; then cd "$T/tina"; else cd "$T"; fi
		"$@"
	)
}

@test "docs/git.md's team workflow as written: clone before a key, add a teammate, rotate, revoke, lock and unlock" {
	printf 'db_password: hunter2\n' > secrets/app.yaml
	git add -A
	git commit -qm base
	mkdir "$T/tina-home"
	# the clone recipe, before Tina has a key: ciphertext, nothing modified
	tina git clone -q --no-checkout "$REPO" tina
	tina gitseal git init 2>/dev/null
	tina git checkout -q main 2>/dev/null
	grep -q 'db_password: ENC\[' "$T/tina/secrets/app.yaml"
	[ -z "$(tina git status --porcelain)" ]
	# "Add a teammate": her key, as written
	run -0 tina sh -c 'mkdir -p ~/.config/sops/age && gitseal keygen -o ~/.config/sops/age/keys.txt'
	[[ $output =~ ^Public\ key:\ (age1[a-z0-9]+)$ ]]
	TR=${BASH_REMATCH[1]}
	sed -i "s/age: $RECIPIENT\$/age: $RECIPIENT,$TR/" .sops.yaml
	grep -qF "$TR" .sops.yaml
	run -0 gitseal updatekeys -y -r .
	grep -qF "+++ $TR" <<<"$output"
	git commit -qam "give Tina access"
	# she pulls: the file, changed, comes decrypted; status says what to
	# accept, and the same updatekeys accepts it
	tina git pull -q --no-rebase
	[ "$(cat "$T/tina/secrets/app.yaml")" = "db_password: hunter2" ]
	run -0 tina gitseal git status
	grep -qF ".sops.yaml: recipients changed: +$TR" <<<"$output"
	tina gitseal updatekeys -y -r . >/dev/null
	run -0 tina gitseal git status
	[ "$output" = "secrets/app.yaml: decrypted" ]
	[ -z "$(tina git status --porcelain)" ]
	# "Rotate": a new data key, so a new ciphertext for the same value
	before=$(git show HEAD:secrets/app.yaml | grep '^db_password:')
	gitseal updatekeys -y -r --rotate . >/dev/null
	git commit -qam rotate
	[ "$(git show HEAD:secrets/app.yaml | grep '^db_password:')" != "$before" ]
	# "Revoke": off .sops.yaml, rotated; the file no longer names her
	sed -i "s/,$TR\$//" .sops.yaml
	gitseal updatekeys -y -r --rotate . >/dev/null
	git commit -qam "revoke Tina"
	git show HEAD:secrets/app.yaml | grep -q 'recipient:'
	run ! grep -qF "$TR" <(git show HEAD:secrets/app.yaml)
	# "Lock and unlock"
	gitseal git lock 2>/dev/null
	grep -q 'db_password: ENC\[' secrets/app.yaml
	gitseal git unlock 2>/dev/null
	[ "$(cat secrets/app.yaml)" = "db_password: hunter2" ]
	assert_status_clean
}
