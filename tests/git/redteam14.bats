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

HOOK_ELSEWHERE="the pre-commit hook 'gitseal git init' installed does not run: git runs hooks from core.hooksPath '.husky', whose pre-commit does not run 'gitseal git check'; add that line to the pre-commit it runs"

# husky (`npm install` runs the repository's "prepare" script) and tools
# like it set core.hooksPath to a directory of the repository: git then
# runs no hook of .git/hooks, gitseal's included, and nothing said so. A
# secret file moved out of the pattern was committed in clear, as if
# gitseal check had passed it. Now status (and init) say the hook does not
# run, until the hooks git runs call gitseal git check.
@test "core.hooksPath set by a repository's tooling: status and init say gitseal's pre-commit hook does not run" {
	printf 'db_password: real-s3cret\n' > secrets/db.yaml
	git add secrets/db.yaml
	git commit -qm db
	# what husky's prepare script does; its hook's npx is a stub that does
	# nothing (the real one started npm and node, 3.5 s of CPU, to look for
	# lint-staged, which is not what is checked: that gitseal's hook runs)
	mkdir .husky "$T/bin"
	printf '#!/bin/sh\nexit 0\n' > "$T/bin/npx"
	chmod +x "$T/bin/npx"
	PATH="$T/bin:$PATH"
	printf '#!/bin/sh\nnpx lint-staged 2>/dev/null || true\n' > .husky/pre-commit
	chmod +x .husky/pre-commit
	git config core.hooksPath .husky
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	grep -qxF ".: $HOOK_ELSEWHERE" <<<"$output"
	run "$GITSEAL_BIN" git init
	[ "$status" -eq 0 ]
	grep -qxF "gitseal: warning: $HOOK_ELSEWHERE" <<<"$output"
	# the hooks git runs call the check: nothing to say
	printf 'gitseal git check\n' >> .husky/pre-commit
	printf '#!/bin/sh\ngitseal git check --pre-push "$@"\n' > .husky/pre-push
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	run ! grep -qF "core.hooksPath" <<<"$output"
	# and the check they run refuses the secret moved out of the pattern
	git mv secrets/db.yaml config.yaml
	run -1 git commit -qm "moved"
	grep -qF "'config.yaml': it holds secrets of 'secrets/db.yaml'" <<<"$output"
	# husky 9: core.hooksPath .husky/_, whose generated pre-commit runs .husky/pre-commit
	mkdir .husky/_
	printf '#!/bin/sh\nexec "$(dirname "$0")/../pre-commit"\n' > .husky/_/pre-commit
	chmod +x .husky/_/pre-commit
	git config core.hooksPath .husky/_
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	run ! grep -qF "core.hooksPath" <<<"$output"
	run -1 git commit -qm "moved"
}

# git stores a symbolic link's text and runs no filter on it, nor on the
# file it leads to outside the pattern. A pull request added the new
# service's secrets file as a link to a plaintext template outside the
# pattern; the victim filled the token into secrets/payments.yaml, and
# `git commit -a` committed it in clear in config/payments-template.yaml:
# status listed nothing, check passed (a new value is no sealed file's).
# Now status names such a link, and check refuses the file it leads to.
@test "a pull request's link under the pattern to a file outside it: status names it, check refuses the secret written through it" {
	mkdir -p config/billing
	printf 'api_token: CHANGEME\n' > config/payments-template.yaml
	printf 'key: CHANGEME\n' > config/billing/db.yaml
	ln -s ../config/payments-template.yaml secrets/payments.yaml
	ln -s ../config/billing secrets/billing
	ln -s /tmp/shared-drop/payments.yaml secrets/dropped.yaml
	git add -A
	git commit -qm "payments service" --no-verify
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	grep -qxF "secrets/payments.yaml: a symbolic link under the filter's pattern to 'config/payments-template.yaml', which the pattern does not cover: what is written through it is stored there, never sealed; remove the link, point it at a file under the pattern, or add 'secrets/payments.yaml -filter' to .git/info/attributes if nothing secret is written through it" <<<"$output"
	grep -qxF "secrets/dropped.yaml: a symbolic link under the filter's pattern to '/tmp/shared-drop/payments.yaml', outside the repository: what is written through it is stored there, never sealed; remove the link, point it at a file under the pattern, or add 'secrets/dropped.yaml -filter' to .git/info/attributes if nothing secret is written through it" <<<"$output"
	printf 'api_token: tok-real-s3cret\n' > secrets/payments.yaml
	run -1 git commit -qam "payments token"
	grep -qF "gitseal: error: 'config/payments-template.yaml': it is written through 'secrets/payments.yaml', a symbolic link under the filter's pattern: what is typed there is committed in clear here" <<<"$output"
	run ! git grep -q tok-real-s3cret HEAD
	# a link to a directory: the files below it
	git checkout -q -- config/payments-template.yaml
	printf 'key: billing-s3cret\n' > secrets/billing/db.yaml
	git add -A
	run -1 "$GITSEAL_BIN" git check
	grep -qF "gitseal: error: 'config/billing/db.yaml': it is written through 'secrets/billing', a symbolic link" <<<"$output"
	# the user's word that nothing secret goes through it
	printf 'secrets/billing -filter\n' >> .git/info/attributes
	"$GITSEAL_BIN" git check
}

# The walk of a link's text took its words as plain directories: a second
# link of the pull request, outside the pattern, made the kernel write
# elsewhere than the words say. secrets/payments.yaml ->
# ../lib/up/../../secrets/payments.yaml reads as itself, a file under the
# pattern, but lib/up -> ../a/b/c, so the kernel writes
# a/secrets/payments.yaml: status said nothing, check passed, and the token
# was committed in clear. A link met on the way is now followed.
@test "a link under the pattern that leads out of it through another link: status names where it writes, check refuses it" {
	mkdir -p lib a/b/c a/secrets
	: > a/b/c/.keep
	printf 'api_token: CHANGEME\n' > a/secrets/payments.yaml
	ln -s ../a/b/c lib/up
	ln -s ../lib/up/../../secrets/payments.yaml secrets/payments.yaml
	git add -A
	git commit -qm "payments service" --no-verify
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	grep -qF "secrets/payments.yaml: a symbolic link under the filter's pattern to 'a/secrets/payments.yaml', which the pattern does not cover" <<<"$output"
	printf 'api_token: tok-real-s3cret\n' > secrets/payments.yaml
	run -1 git commit -qam "payments token"
	grep -qF "gitseal: error: 'a/secrets/payments.yaml': it is written through 'secrets/payments.yaml', a symbolic link" <<<"$output"
	run ! git grep -q tok-real-s3cret HEAD
}
