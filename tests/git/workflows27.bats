#!/usr/bin/env bats
# A git-crypt or sops user's everyday git through the filter (workflows
# round 27): what their commands leave in .git and in the work tree.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	gs_setup_from app_committed
}

teardown() {
	gs_teardown
}

# `git clone --no-checkout --filter=blob:none` (a partial clone) holds no
# blob of HEAD: git fetches one from the promisor remote when it needs
# it, libgit2 never does. init reads HEAD's .gitattributes and files, so
# it failed ("cannot read a blob: object not found") and left the clone
# without the copy in .git/info/attributes or the recorded recipients.
@test "init in a partial clone made with --no-checkout fetches HEAD's blobs as git does, then the checkout decrypts" {
	git config uploadpack.allowFilter true
	# libgit2 1.5's leak when it opens a format-1 repository (the .supp)
	export LSAN_OPTIONS="suppressions=$BATS_TEST_DIRNAME/libgit2_format1.supp:print_suppressions=0"
	git clone -q --no-checkout --filter=blob:none "file://$REPO" "$T/partial"
	cd "$T/partial"
	[ -n "$(git rev-list --objects --missing=print HEAD | grep '^?')" ]
	run gitseal git init
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ $output == *"$RECIPIENT (.sops.yaml)"* ]]
	grep -qxF 'secrets/** text eol=lf conflict-marker-size=32 filter=gitseal diff=gitseal merge=gitseal' .git/info/attributes
	git checkout -q main
	[ "$(cat secrets/app.yaml)" = "db_password: hunter2" ]
	assert_status_clean
	printf 'db_password: hunter3\n' > secrets/app.yaml
	git commit -qam change
	assert_blob_encrypted secrets/app.yaml
	assert_status_clean
}

# git cleans a changed file twice in `git diff --no-textconv --binary`:
# once to name its blob on the index line, once for the delta. Fresh IVs
# each time made a patch whose delta did not give the blob it named.
@test "git diff --no-textconv --binary of a changed sealed file gives a patch git apply applies (ciphertext only)" {
	printf 'db_password: hunter3\n' > secrets/app.yaml
	git diff --no-textconv --binary > "$T/change.patch"
	[[ $(<"$T/change.patch") == *'GIT binary patch'* ]]
	[[ $(<"$T/change.patch") != *hunter3* ]]
	git checkout -q -- secrets/app.yaml
	git apply --index "$T/change.patch"
	[ "$(cat secrets/app.yaml)" = "db_password: hunter3" ]
	[ "$(git diff --name-only)" = "" ]
	assert_blobs_encrypted '' secrets/app.yaml
	# the blob the patch names is the one staged
	[[ $(<"$T/change.patch") == *"..$(git rev-parse :secrets/app.yaml)"* ]]
}

# `git sparse-checkout` sets extensions.worktreeConfig; in a repository of
# format version 1 (a partial clone's) libgit2 1.5 refused to open it
# ("unsupported extension name extensions.worktreeconfig"), so every
# checkout failed: the usual monorepo clone, `--filter=blob:none --sparse`.
@test "a partial clone with a sparse checkout: init, checkout, status and commit work" {
	mkdir -p secrets/other
	printf 'o: other\n' > secrets/other/o.yaml
	fixture git add -A
	fixture git commit -qm other
	git config uploadpack.allowFilter true
	export LSAN_OPTIONS="suppressions=$BATS_TEST_DIRNAME/libgit2_format1.supp:print_suppressions=0"
	git clone -q --no-checkout --filter=blob:none "file://$REPO" "$T/sparse"
	cd "$T/sparse"
	gitseal git init 2>/dev/null
	git sparse-checkout set --no-cone '/*' '!/secrets/other/'
	[ "$(git config --get extensions.worktreeConfig)" = true ]
	git checkout -q main
	[ "$(cat secrets/app.yaml)" = "db_password: hunter2" ]
	[ ! -e secrets/other/o.yaml ]
	assert_status_clean
	run gitseal git status
	[ "$status" -eq 0 ]
	grep -qx "secrets/other/o.yaml: not checked out (sparse checkout)" <<<"$output"
	printf 'db_password: hunter3\n' > secrets/app.yaml
	git commit -qam change
	assert_blob_encrypted secrets/app.yaml
	assert_status_clean
}

# git reads config.worktree after the repository's config under
# extensions.worktreeConfig: a core.autocrlf set there (`git config
# --worktree`) counts for a path under a filter line without `text
# eol=lf`, as it does set in .git/config.
@test "core.autocrlf set with git config --worktree is read as git reads it" {
	teammate_filter_line
	git sparse-checkout set --no-cone '/*'
	git config --worktree core.autocrlf true
	[ -z "$(git config --local --get core.autocrlf)" ]
	printf 'key: value\n' > config/a.yaml
	run git add config/a.yaml
	[ "$status" -ne 0 ]
	[[ $output == *"'config/a.yaml': core.autocrlf=true (no text attribute) makes git hand the filter CRLF line ends at checkout"* ]]
	[ -z "$(git ls-files config)" ]
}
