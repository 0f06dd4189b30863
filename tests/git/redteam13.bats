#!/usr/bin/env bats
# Red team 13 on the git side: submodules under the filter's pattern.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

SUBMODULE_PROBLEM="a submodule under the filter's pattern: git runs no filter in it, so its files are committed in clear in its own repository; move it out of the pattern, or add 'secrets/prod -filter' and 'secrets/prod/** -filter' to .git/info/attributes if it holds no secret"

# mallory's repository, made a submodule at secrets/prod (under the
# pattern secrets/**) and committed, as a merged pull request leaves it
submodule_pulled() {
	git init -q "$T/mallory-secrets"
	mkdir "$T/mallory-secrets/db"
	printf 'password: CHANGEME\n' > "$T/mallory-secrets/db/app.yaml"
	git -C "$T/mallory-secrets" add db/app.yaml
	git -C "$T/mallory-secrets" commit -qm placeholders
	git -c protocol.file.allow=always submodule add -q "$T/mallory-secrets" secrets/prod
	git commit -qm "prod secrets as a submodule" --no-verify
}

# git runs no filter in a submodule: its files are another repository's,
# with its own attributes and config, and are committed there in clear. A
# pull request turned a directory under the filter's pattern into a
# submodule of its author's; the victim's secret typed into it was
# committed in clear (and pushed where the submodule points), and gitseal
# said nothing: status listed nothing, check and the hook passed the new
# submodule commit. Now status says it, and check refuses a submodule
# commit staged under the pattern.
@test "a submodule under the filter's pattern: status says its files are not sealed, check and the hook refuse a new commit of it" {
	submodule_pulled
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	grep -qxF "secrets/prod: $SUBMODULE_PROBLEM" <<<"$output"
	# the victim's real password, committed in the submodule: in clear there
	printf 'password: real-s3cret\n' > secrets/prod/db/app.yaml
	git -C secrets/prod commit -qam "the password"
	git -C secrets/prod cat-file -p HEAD:db/app.yaml | grep -q real-s3cret
	git add secrets/prod
	run -1 "$GITSEAL_BIN" git check
	# its line says what to do, and nothing else follows ('git add' seals
	# none of a submodule's files)
	[ "$output" = "gitseal: error: 'secrets/prod': $SUBMODULE_PROBLEM" ]
	run -1 git commit -qm "prod pointer"
	grep -qF "'secrets/prod': a submodule under the filter's pattern" <<<"$output"
	# the user's word that it holds no secret
	printf 'secrets/prod -filter\nsecrets/prod/** -filter\n' >> .git/info/attributes
	"$GITSEAL_BIN" git check
	git commit -qm "prod pointer"
	run "$GITSEAL_BIN" git status
	run ! grep -q "secrets/prod" <<<"$output"
}

# a submodule of no secrets at vendor/lib, committed (check passing)
lib_submodule() {
	git init -q "$T/lib"
	printf 'x\n' > "$T/lib/README"
	git -C "$T/lib" add README
	git -C "$T/lib" commit -qm lib
	git -c protocol.file.allow=always submodule add -q "$T/lib" vendor/lib
	"$GITSEAL_BIN" git check
	git commit -qm lib
}

@test "a submodule outside the filter's pattern, and one under it left as HEAD has it: check passes" {
	lib_submodule
	submodule_pulled
	printf 'other\n' > notes.txt
	git add notes.txt
	"$GITSEAL_BIN" git check
}

# In a clone set up by `gitseal git init`, `encrypt` takes the recipients
# of a .sops.yaml it finds only when this clone accepted them. In a
# submodule the repository found was the submodule's (no filter set up
# there), and the check was skipped: a submodule a pull request made,
# with a .sops.yaml naming its author, had `gitseal encrypt -i` run there
# seal the victim's new file for mallory alone. The clone it is a
# submodule of now decides, as for any directory of its work tree.
@test "encrypt in a submodule of a clone under gitseal git init: a .sops.yaml the submodule brings is checked against what this clone accepted" {
	gs_person mallory
	M=$(recipient_of mallory)
	submodule_pulled
	printf 'creation_rules:\n  - age: %s\n' "$M" > secrets/prod/.sops.yaml
	printf 'token: t0ken-value\n' > secrets/prod/db/new.yaml
	cp secrets/prod/db/new.yaml "$T/new.before"
	cd secrets/prod/db
	run -1 "$GITSEAL_BIN" encrypt -i new.yaml
	grep -qF "names recipients this clone has not accepted: +$M;" <<<"$output"
	cmp new.yaml "$T/new.before"
	# named by the user, the rule is the user's own
	"$GITSEAL_BIN" encrypt -i --config ../.sops.yaml new.yaml
	grep -qF "recipient: $M" new.yaml
}

# The pattern `*.enc.yaml` covers vendor/lib/config/db.enc.yaml by name,
# but git runs no filter in the submodule vendor/lib: the file is
# committed there in clear. check names it when a commit of the
# submodule holding it is staged (by this repository's attributes only: a
# .gitattributes in the submodule, its author's, does not hide it).
@test "a submodule whose commit holds a file the filter's pattern covers: check refuses its new commit" {
	"$GITSEAL_BIN" git init 'secrets/**' '*.enc.yaml' 2>/dev/null
	git add .gitattributes
	git commit -qm "enc.yaml files sealed"
	lib_submodule
	mkdir vendor/lib/config
	printf 'password: real-s3cret\n' > vendor/lib/config/db.enc.yaml
	printf '* -filter\n' > vendor/lib/.gitattributes
	git -C vendor/lib add config/db.enc.yaml .gitattributes
	git -C vendor/lib commit -qm config
	git add vendor/lib
	run -1 "$GITSEAL_BIN" git check
	[ "${#lines[@]}" -eq 1 ]
	grep -qxF "gitseal: error: 'vendor/lib': a submodule holding 'vendor/lib/config/db.enc.yaml', which the filter's pattern covers: git runs no filter in it, so the file is committed in clear in its own repository; keep it out of the submodule, or add 'vendor/lib/** -filter' to .git/info/attributes if the submodule holds no secret" <<<"$output"
	printf 'vendor/lib/** -filter\n' >> .git/info/attributes
	"$GITSEAL_BIN" git check
}

# A submodule with no filter of its own and a .sops.yaml of its own: the
# refusal said "'gitseal updatekeys' shows and accepts them", which reads
# no .sops.yaml of a submodule and accepted nothing, so --config was the
# only way. It names the submodule and the two ways that work; the second,
# `gitseal git init` in the submodule, shows the recipients and records
# them in the submodule's own record, and encrypt then takes its rule.
@test "encrypt in a plain submodule with a .sops.yaml of its own: the refusal names the submodule and what works, and init there does" {
	age-keygen -o "$T/tina.txt" 2>/dev/null
	R=$(age-keygen -y "$T/tina.txt")
	git init -q "$T/lib"
	printf 'creation_rules:\n  - age: %s\n' "$R" > "$T/lib/.sops.yaml"
	git -C "$T/lib" add .sops.yaml
	git -C "$T/lib" commit -qm lib
	fixture git -c protocol.file.allow=always submodule add -q "$T/lib" vendor/lib
	fixture git commit -qm lib
	cd vendor/lib
	printf 'token: t0ken-value\n' > new.yaml
	run -1 "$GITSEAL_BIN" encrypt -i new.yaml
	[ "$output" = "gitseal: error: 'new.yaml': the creation rule of '$REPO/vendor/lib/.sops.yaml' names recipients this clone has not accepted: +$R; the file would be readable by them ('vendor/lib' is a submodule this clone's record does not cover: --config names its .sops.yaml, or 'gitseal git init' in it shows them and records them there)" ]
	run -0 "$GITSEAL_BIN" git init
	grep -qF "$R (.sops.yaml)" <<<"$output"
	"$GITSEAL_BIN" encrypt -i new.yaml
	grep -qF "recipient: $R" new.yaml
}
