#!/usr/bin/env bats
# Red team 31: which files are under the filter, decided by what a pull
# request controls: a subdirectory's .gitattributes, the attributes of the
# commits the pre-push hook checks, export-subst on a sealed path.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

SUFFIX='text eol=lf conflict-marker-size=32 filter=gitseal diff=gitseal merge=gitseal'
DRIVERS='filter=gitseal diff=gitseal merge=gitseal'

# S1: init pinned the filter's lines of the top-level .gitattributes only:
# a team's config/.gitattributes line (`secrets/*.yaml` there) was not
# kept, so a pull request changing it to `-filter` (or deleting the file)
# had a new secret under it committed in clear, exit 0 (the hook refuses
# only a file HEAD holds sealed).
@test "S1: a filter line of a subdirectory's .gitattributes is kept by init as that file means it; a pulled '-filter' leaves a new file sealed" {
	mkdir -p config/secrets deploy
	printf 'secrets/*.yaml %s\n' "$DRIVERS" > config/.gitattributes
	printf '*.yaml %s\n/top.yaml %s\n' "$DRIVERS" "$DRIVERS" > deploy/.gitattributes
	git add config/.gitattributes deploy/.gitattributes
	fixture git commit -qm "the team's attributes"
	run -0 "$GITSEAL_BIN" git init
	grep -qxF "gitseal: kept in .git/info/attributes: 'config/secrets/*.yaml' (config/.gitattributes: 'secrets/*.yaml')" <<<"$output"
	grep -qxF "gitseal: kept in .git/info/attributes: 'deploy/**/*.yaml' (deploy/.gitattributes: '*.yaml')" <<<"$output"
	grep -qxF "gitseal: kept in .git/info/attributes: 'deploy/top.yaml' (deploy/.gitattributes: '/top.yaml')" <<<"$output"
	grep -qxF "config/secrets/*.yaml $SUFFIX" .git/info/attributes
	# run again, it keeps nothing more and says nothing of it
	run -0 "$GITSEAL_BIN" git init
	[[ $output != *"kept in"* ]]
	# a pull request takes the filter off both, one line changed, one file gone
	printf 'secrets/*.yaml -filter\n' > config/.gitattributes
	git rm -q deploy/.gitattributes
	git add config/.gitattributes
	fixture git commit -qm "pull request: tidy the attributes"
	mkdir -p deploy/x/secrets
	printf 'token: n3w-s3cr3t\n' > config/secrets/new.yaml
	printf 'token: d3pl0y\n' > deploy/x/secrets/db.yaml
	git add config/secrets/new.yaml deploy/x/secrets/db.yaml
	git commit -qm new
	assert_blob_encrypted config/secrets/new.yaml
	assert_blob_encrypted deploy/x/secrets/db.yaml
	# the pins match what the files matched, no more
	[ "$(git check-attr filter -- other/secrets/a.yaml)" = "other/secrets/a.yaml: filter: unspecified" ]
	[ "$(git check-attr filter -- config/a/secrets/a.yaml)" = "config/a/secrets/a.yaml: filter: unspecified" ]
}

@test "S1: a directory named with wildcards is kept literally; a quoted pattern below the top is named, not kept" {
	mkdir -p 'c[1]' q
	printf '*.yaml %s\n' "$DRIVERS" > 'c[1]/.gitattributes'
	printf '"secrets/a.yaml" %s\n' "$DRIVERS" > q/.gitattributes
	git add -A
	fixture git commit -qm attrs
	run -0 "$GITSEAL_BIN" git init
	grep -qxF 'c\[1]/**/*.yaml '"$SUFFIX" .git/info/attributes
	grep -qxF "gitseal: warning: not kept in .git/info/attributes: '\"secrets/a.yaml\" $DRIVERS' in q/.gitattributes: its pattern cannot be written there (a quoted pattern below the top, or a blank or a quote in the directory's name)" <<<"$output"
	[ "$(git check-attr filter -- 'c[1]/a/b.yaml')" = "c[1]/a/b.yaml: filter: gitseal" ]
	[ "$(git check-attr filter -- 'c1/b.yaml')" = "c1/b.yaml: filter: unspecified" ]
}

# S2: status and the hook named a filter line pulled since init in the
# top-level .gitattributes only.
@test "S2: a subdirectory's filter line pulled since init: status and the hook name its file until init keeps it" {
	local want="'secrets/*.yaml $DRIVERS' is not kept in .git/info/attributes yet"
	mkdir -p config
	printf 'secrets/*.yaml %s\n' "$DRIVERS" > config/.gitattributes
	git add config/.gitattributes
	fixture git commit -qm "pulled: the team's attributes"
	run -0 "$GITSEAL_BIN" git status
	grep -qxF "config/.gitattributes: $want: a later line (a pull request's) can take the filter off new files there; run 'gitseal git init' again" <<<"$output"
	run -0 "$GITSEAL_BIN" git check
	grep -qxF "gitseal: warning: config/.gitattributes: $want: a later line (a pull request's) can take the filter off new files there; run 'gitseal git init' again" <<<"$output"
	"$GITSEAL_BIN" git init 2>/dev/null
	run -0 "$GITSEAL_BIN" git check
	[ -z "$output" ]
}

# S3: git 2.39 reads a .gitattributes committed as a symbolic link from the
# index (its blob, the link's target text) when it cannot open the link:
# gitseal reads it so too.
@test "S3: a subdirectory's .gitattributes committed as a symbolic link is read as git reads it, its target's text" {
	mkdir -p config
	ln -s "secrets/*.yaml $DRIVERS" config/.gitattributes
	git add config/.gitattributes
	fixture git commit -qm "a linked attributes file"
	[ "$(git check-attr filter -- config/secrets/a.yaml 2>/dev/null)" = "config/secrets/a.yaml: filter: gitseal" ]
	run -0 "$GITSEAL_BIN" git init
	grep -qxF "config/secrets/*.yaml $SUFFIX" .git/info/attributes
}
