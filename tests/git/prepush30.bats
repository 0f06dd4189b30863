#!/usr/bin/env bats
# Commits the pre-commit hook does not see (red team 30, docs/git.md): git
# runs pre-commit for `git commit` only. A merge without conflicts, and the
# commits git rebase, cherry-pick and revert make (also after --continue)
# ran no check, so what was staged while one of them stopped (a secret
# copied out of the pattern to compare) was committed in clear, exit 0, and
# pushed. Now `gitseal git check --commits` checks commits against their
# first parent, init installs a pre-push hook that refuses a push of such a
# commit, and a pre-merge-commit hook that checks a clean merge.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_from pushed_base; }
teardown() { gs_teardown; }

# pushed_base: secrets/app.yaml and notes.txt committed on main, pushed to
# the bare repository $T/remote.git (origin); branch feat changes notes.txt
# one way, main (not pushed) another: a rebase of feat on main stops there
pushed_base() {
	app_committed
	printf 'a\n' > notes.txt
	git add notes.txt
	fixture git commit -qm notes
	git init -q --bare "$T/remote.git"
	git remote add origin "$T/remote.git"
	fixture git push -q origin main
	git checkout -qb feat
	printf 'feat\n' > notes.txt
	fixture git commit -qam feat
	git checkout -q main
	printf 'main\n' > notes.txt
	fixture git commit -qam main
	git checkout -q feat
}

# the file's changes pass, the notes conflict: resolve them as the user does
resolve_notes() {
	printf 'both\n' > notes.txt
	git add notes.txt
}

COPY="'db-copy.yaml' in commit"
COPIED="it is a copy of the plaintext of 'secrets/app.yaml', which is encrypted"

@test "a plaintext copy staged while a rebase stopped: committed without a hook, the push is refused naming it; check --commits names it" {
	[ -x .git/hooks/pre-push ]
	run git rebase -q main
	[ "$status" -ne 0 ]
	cp secrets/app.yaml db-copy.yaml
	git add db-copy.yaml
	resolve_notes
	GIT_EDITOR=true git rebase --continue >/dev/null 2>&1
	# committed in clear, as red team 30 found
	[ "$(git show HEAD:db-copy.yaml)" = "db_password: hunter2" ]
	run "$GITSEAL_BIN" git check --commits main..feat
	[ "$status" -eq 1 ]
	[[ ${lines[0]} == "gitseal: error: $COPY $(git rev-parse --short=12 HEAD): $COPIED"* ]]
	run git push origin feat
	[ "$status" -ne 0 ]
	[[ $output == *"gitseal: error: $COPY $(git rev-parse --short=12 HEAD): $COPIED"* ]]
	[[ $output == *"hint: those commits were made without the pre-commit hook"* ]]
	run git --git-dir="$T/remote.git" rev-parse -q --verify refs/heads/feat
	[ "$status" -ne 0 ]
	# rewritten without the copy, the push passes
	git rm -q --cached db-copy.yaml
	git commit -q --amend -m feat
	run git push -q origin feat
	[ "$status" -eq 0 ]
	[ "$(git --git-dir="$T/remote.git" rev-parse refs/heads/feat)" = "$(git rev-parse HEAD)" ]
}

@test "a commit cherry-picked without a conflict that moves a file out of the pattern and edits it: committed without a hook, the push is refused" {
	# a commit made where no hook ran (a teammate's clone without gitseal)
	git checkout -q -b side main
	git mv secrets/app.yaml app.yaml
	printf 'extra: 1\n' >> app.yaml
	git add app.yaml
	git commit -q --no-verify -m "moved and edited"
	git checkout -q main
	git cherry-pick side >/dev/null
	[ "$(git show HEAD:app.yaml)" = "$(printf 'db_password: hunter2\nextra: 1')" ]
	run git push origin main
	[ "$status" -ne 0 ]
	[[ $output == *"gitseal: error: 'app.yaml' in commit $(git rev-parse --short=12 HEAD): it holds secrets of 'secrets/app.yaml', which is encrypted"* ]]
	# the commit before it (main's own) passes
	[ "$(grep -c "gitseal: error:" <<<"$output")" -eq 1 ]
	[ "$(git --git-dir="$T/remote.git" rev-parse refs/heads/main)" = "$(git rev-parse HEAD~2)" ]
}

@test "a clean merge: the pre-merge-commit hook refuses what it brings in; merged without it, the push refuses the merge commit" {
	local head
	# a teammate's branch, pushed without any hook, holding a plaintext copy
	git checkout -q -b side main~1
	cp secrets/app.yaml db-copy.yaml
	git add db-copy.yaml
	git commit -q --no-verify -m "side"
	git push -q --no-verify origin side
	git checkout -q main
	head=$(git rev-parse HEAD)
	run git merge -q --no-edit side
	[ "$status" -ne 0 ]
	[[ $output == *"gitseal: error: 'db-copy.yaml': $COPIED"* ]]
	[ "$(git rev-parse HEAD)" = "$head" ]
	git merge --abort
	git merge -q --no-verify --no-edit side
	[ "$(git rev-parse HEAD^2)" = "$(git rev-parse side)" ]
	# the side commit is on the remote already: the merge commit is named,
	# checked against its first parent (what the merge brought in)
	run git push origin main
	[ "$status" -ne 0 ]
	[[ $output == *"gitseal: error: $COPY $(git rev-parse --short=12 HEAD): $COPIED"* ]]
	[ "$(grep -c "gitseal: error:" <<<"$output")" -eq 1 ]
}

@test "a clean push passes the hook; a new branch is checked from the remote-tracking refs; a deletion passes" {
	[ -x .git/hooks/pre-push ]
	# main's commit not pushed yet is clean
	run git push -q origin main
	[ "$status" -eq 0 ]
	# a bad commit already on the remote (pushed without the hook) is not
	# checked again for a new branch on top of it
	cp secrets/app.yaml db-copy.yaml
	git add db-copy.yaml
	git commit -q --no-verify -m bad
	git push -q --no-verify origin feat
	git fetch -q origin
	printf 'more\n' >> notes.txt
	git commit -qam more
	run git push -q origin feat:newbranch
	[ "$status" -eq 0 ]
	# a deletion of a branch holding it passes
	run git push -q origin :feat
	[ "$status" -eq 0 ]
	run git --git-dir="$T/remote.git" rev-parse -q --verify refs/heads/feat
	[ "$status" -ne 0 ]
	# the hook's input for a deletion, as git writes it
	run "$GITSEAL_BIN" git check --pre-push origin "$T/remote.git" <<<"(delete) 0000000000000000000000000000000000000000 refs/heads/feat $(git rev-parse HEAD)"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# the same commit as a new branch the remote-tracking refs lack
	git update-ref -d refs/remotes/origin/newbranch
	run "$GITSEAL_BIN" git check --pre-push origin "$T/remote.git" <<<"refs/heads/feat $(git rev-parse HEAD) refs/heads/x 0000000000000000000000000000000000000000"
	[ "$status" -eq 1 ]
	[[ $output == *"gitseal: error: $COPY $(git rev-parse --short=12 HEAD~1): $COPIED"* ]]
}

@test "check --commits and --pre-push: bad words are usage errors" {
	run "$GITSEAL_BIN" git check --commits --pre-push
	[ "$status" -eq 2 ]
	[[ ${lines[0]} == "gitseal: error: git check: --commits and --pre-push exclude each other" ]]
	run "$GITSEAL_BIN" git check main
	[ "$status" -eq 2 ]
	run "$GITSEAL_BIN" git check --commits main...feat
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "gitseal: error: 'main...feat': A...B is not taken; name A..B and B..A" ]
	run "$GITSEAL_BIN" git check --commits nosuchrev
	[ "$status" -eq 1 ]
	[[ ${lines[0]} == "gitseal: error: 'nosuchrev' is not a commit"* ]]
	run "$GITSEAL_BIN" git check --pre-push origin <<<"refs/heads/feat notanid refs/heads/feat 0000000000000000000000000000000000000000"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "gitseal: error: pre-push: a line of git's input is not '<local ref> <local id> <remote ref> <remote id>'" ]
}

@test "init leaves an existing pre-push hook alone and says what to add; --no-hook installs none; status names one an older init left out" {
	rm .git/hooks/pre-push .git/hooks/pre-merge-commit
	printf '#!/bin/sh\ngit lfs pre-push "$@"\n' > .git/hooks/pre-push
	run "$GITSEAL_BIN" git init
	[ "$status" -eq 0 ]
	[ "$output" = "gitseal: warning: '$REPO/.git/hooks/pre-push' exists: add 'gitseal git check --pre-push \"\$@\"' to it yourself, or use --no-hook" ]
	[ "$(cat .git/hooks/pre-push)" = "$(printf '#!/bin/sh\ngit lfs pre-push "$@"')" ]
	grep -qxF 'command -v gitseal >/dev/null 2>&1 || { echo '"'"'gitseal: command not found: install it or add its directory to PATH (git config filter.gitseal.process)'"'"' >&2; exit 127; }; exec gitseal git check' .git/hooks/pre-merge-commit
	rm .git/hooks/pre-push .git/hooks/pre-merge-commit .git/hooks/pre-commit
	"$GITSEAL_BIN" git init --no-hook
	[ ! -e .git/hooks/pre-push ]
	[ ! -e .git/hooks/pre-merge-commit ]
	[ ! -e .git/hooks/pre-commit ]
	# an older init: the pre-commit hook alone
	"$GITSEAL_BIN" git init
	rm .git/hooks/pre-push
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	grep -qxF ".: no pre-push hook: the commits a rebase, cherry-pick or revert makes are not checked before a push; run 'gitseal git init' again" <<<"$output"
}

@test "core.hooksPath elsewhere: status and init say the pre-push hook does not run, until the hook there checks" {
	mkdir hooks
	printf '#!/bin/sh\ngitseal git check\n' > hooks/pre-commit
	chmod +x hooks/pre-commit
	git config core.hooksPath hooks
	local want="the pre-push hook 'gitseal git init' installed does not run: git runs hooks from core.hooksPath 'hooks', whose pre-push does not run 'gitseal git check --pre-push \"\$@\"'; add that line to the pre-push it runs"
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	grep -qxF ".: $want" <<<"$output"
	run "$GITSEAL_BIN" git init
	[ "$status" -eq 0 ]
	grep -qxF "gitseal: warning: $want" <<<"$output"
	printf '#!/bin/sh\ngitseal git check --pre-push "$@"\n' > hooks/pre-push
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	run ! grep -qF "core.hooksPath" <<<"$output"
}
