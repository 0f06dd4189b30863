#!/usr/bin/env bats
# Red team 14 on the git side.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

# A pull request vendors mallory's repository as the submodule vendor/lib,
# its config/db.enc.yaml holding a placeholder in clear. The pattern
# `*.enc.yaml` covers that path by name, but git runs no filter in a
# submodule: whatever the victim types there is committed in clear in
# mallory's repository. check refused the superproject's commit of it
# (red team 13), after the fact; status, where the user looks first, said
# nothing of it (only of a submodule under the pattern). Now status names
# it, from the commit the index records, before anything is typed.
@test "status names a submodule holding a file the filter's pattern covers, before the victim types a secret there" {
	"$GITSEAL_BIN" git init 'secrets/**' '*.enc.yaml' 2>/dev/null
	git add .gitattributes
	git commit -qm "enc.yaml files sealed"
	git init -q "$T/mallory-lib"
	mkdir "$T/mallory-lib/config"
	printf 'password: CHANGEME\n' > "$T/mallory-lib/config/db.enc.yaml"
	printf '* -filter\n' > "$T/mallory-lib/.gitattributes"
	git -C "$T/mallory-lib" add config/db.enc.yaml .gitattributes
	git -C "$T/mallory-lib" commit -qm lib
	git -c protocol.file.allow=always submodule add -q "$T/mallory-lib" vendor/lib
	git commit -qm "vendor lib" --no-verify
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	grep -qxF "vendor/lib: a submodule holding 'vendor/lib/config/db.enc.yaml', which the filter's pattern covers: git runs no filter in it, so the file is committed in clear in its own repository; keep it out of the submodule, or add 'vendor/lib/** -filter' to .git/info/attributes if the submodule holds no secret" <<<"$output"
	# the user's word that it holds no secret
	printf 'vendor/lib/** -filter\n' >> .git/info/attributes
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	run ! grep -q "vendor/lib" <<<"$output"
}
