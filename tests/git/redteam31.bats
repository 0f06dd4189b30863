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

@test "S1: a directory named with wildcards is kept literally; a quoted pattern below the top is kept quoted" {
	mkdir -p 'c[1]' q
	printf '*.yaml %s\n' "$DRIVERS" > 'c[1]/.gitattributes'
	printf '"secrets/a.yaml" %s\n' "$DRIVERS" > q/.gitattributes
	git add -A
	fixture git commit -qm attrs
	run -0 "$GITSEAL_BIN" git init
	grep -qxF 'c\[1]/**/*.yaml '"$SUFFIX" .git/info/attributes
	# a quoted pattern is C-quoted there (tests/git/pins31.bats)
	grep -qxF 'q/secrets/a.yaml '"$SUFFIX" .git/info/attributes
	[[ $output != *"not kept"* ]]
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

# S1: the pins match what the subdirectory's lines matched: git's answers
# for a set of paths are the same with the file gone and only the pins.
@test "S1: what a subdirectory's lines put under the filter, its pins do, path for path" {
	local pat paths answers
	mkdir -p c
	for pat in '*.yaml' '/top.env' 'secrets/*.json' '**/deep.ini' 'd/**' 'x.y?ml' '[ab].env' '\*.cfg' 'e/' 'f/**/g.env'; do
		printf '%s %s\n' "$pat" "$DRIVERS"
	done > c/.gitattributes
	git add c/.gitattributes
	fixture git commit -qm attrs
	"$GITSEAL_BIN" git init 2>/dev/null
	paths='c/a.yaml c/q/a.yaml a.yaml c/top.env c/q/top.env c/secrets/a.json c/q/secrets/a.json c/deep.ini c/q/r/deep.ini c/d/x c/q/d/x c/x.yaml c/q/xzyml c/a.env c/q/b.env c/c.env c/*.cfg c/z.cfg c/e/x c/f/g.env c/f/q/r/g.env top.env d/x'
	answers=$(git check-attr --stdin filter <<<"${paths// /$'\n'}")
	git rm -q c/.gitattributes
	[ "$(git check-attr --stdin filter <<<"${paths// /$'\n'}")" = "$answers" ]
	[[ $answers == *"c/q/r/deep.ini: filter: gitseal"* ]]
	[[ $answers == *"a.yaml: filter: unspecified"* ]]
}

# S4: a filter line through a macro of the top-level .gitattributes
# (`[attr]sealed filter=gitseal ...`, `secrets/** sealed`) was neither kept
# nor named: a pull request redefining the macro (`[attr]sealed -filter`)
# took the filter off new files there.
@test "S4: a line naming a filter macro alone is kept as init's line; one naming it among others is named" {
	mkdir -p config/vault
	printf '[attr]sealed %s\nconfig/vault/** sealed\nconfig/other/** sealed text\n' "$DRIVERS" >> .gitattributes
	printf 'db/** sealed\n' > config/.gitattributes
	git add .gitattributes .sops.yaml config/.gitattributes
	fixture git commit -qm "the team's macro"
	run -0 "$GITSEAL_BIN" git init
	grep -qxF "config/vault/** $SUFFIX" .git/info/attributes
	grep -qxF "config/db/** $SUFFIX" .git/info/attributes
	grep -qxF "gitseal: warning: not kept in .git/info/attributes: 'config/other/** sealed text' in .gitattributes is not a line 'gitseal git init' writes (one pattern and the filter's attributes)" <<<"$output"
	# a pull request redefines the macro
	sed -i 's|^\[attr\]sealed .*|[attr]sealed -filter|' .gitattributes
	git add .gitattributes
	fixture git commit -qm "pull request: tidy"
	printf 'token: v4ult\n' > config/vault/new.yaml
	[ "$(git check-attr filter -- config/vault/new.yaml)" = "config/vault/new.yaml: filter: gitseal" ]
	[ "$(git check-attr filter -- config/db/new.yaml)" = "config/db/new.yaml: filter: gitseal" ]
}

# config/ under the filter by a teammate's line that this clone did not
# pin (it ran init before the line came), a .sops.yaml rule for it, and a
# bare remote holding main (the pre-push hook's baseline)
config_unpinned() {
	teammate_filter_line
	git init -q --bare "$T/remote.git"
	git remote add origin "$T/remote.git"
	fixture git push -q origin main
}

# C1: the commit checks (check --commits, the pre-push hook) took which
# files are under the filter from the work tree's attributes: a commit that
# itself takes a path off the filter in .gitattributes and adds a file
# there in clear (made where no hook ran) was pushed, exit 0.
@test "C1: a commit taking a path off the filter and adding a file there in clear: check --commits and the push refuse it, naming its parent" {
	config_unpinned
	git checkout -qb pr
	sed -i 's|^config/\*\* .*|config/** -filter|' .gitattributes
	printf 'token: pl41n-s3cr3t\n' > config/new.yaml
	git add .gitattributes config/new.yaml
	git commit -q --no-verify -m "pull request: config is public"
	[ "$(git show HEAD:config/new.yaml)" = "token: pl41n-s3cr3t" ]
	local want="'config/new.yaml' in commit $(git rev-parse --short=12 HEAD): it is staged unencrypted, but the .gitattributes of commit $(git rev-parse --short=12 HEAD^) put it under the filter, which is off for it now"
	run -1 "$GITSEAL_BIN" git check --commits main..pr
	[[ $output == *"gitseal: error: $want"* ]]
	run git push origin pr
	[ "$status" -ne 0 ]
	[[ $output == *"gitseal: error: $want"* ]]
	run git --git-dir="$T/remote.git" rev-parse -q --verify refs/heads/pr
	[ "$status" -ne 0 ]
	# the user's word in .git/info/attributes lets it through
	printf 'config/new.yaml -filter\n' >> .git/info/attributes
	run -0 "$GITSEAL_BIN" git check --commits main..pr
}

@test "C1: the same in the index: the pre-commit hook refuses a file HEAD's attributes seal, staged with the line that takes the filter off" {
	config_unpinned
	sed -i 's|^config/\*\* .*|config/** -filter|' .gitattributes
	printf 'token: pl41n-s3cr3t\n' > config/new.yaml
	git add .gitattributes config/new.yaml
	run git commit -qm "config is public"
	[ "$status" -ne 0 ]
	[[ $output == *"gitseal: error: 'config/new.yaml': it is staged unencrypted, but the .gitattributes of HEAD put it under the filter"* ]]
	[ -z "$(git ls-tree HEAD config/new.yaml)" ]
}

@test "C1: a branch pushed from a work tree on another branch is checked by its commits' attributes" {
	config_unpinned
	git checkout -qb pr
	printf 'token: pl41n-s3cr3t\n' > "$T/plain"
	# made with git's plumbing, as a clone without gitseal would
	blob=$(git hash-object -w "$T/plain")
	git update-index --add --cacheinfo "100644,$blob,config/new.yaml"
	git commit -q --no-verify -m "pull request"
	git checkout -q main
	sed -i '/^config/d' .gitattributes
	fixture git commit -qam "main: config is public"
	run -1 "$GITSEAL_BIN" git check --commits main..pr
	[[ $output == *"'config/new.yaml' in commit $(git rev-parse --short=12 pr): it is staged unencrypted, but the .gitattributes of commit $(git rev-parse --short=12 pr^) put it under the filter"* ]]
}

# E1: export-subst on a sealed path: git archive expands "$Format:...$"
# after the smudge, in a key, comment or value in clear of the committed
# text (the archived file's MAC then fails), and in a secret under
# GITSEAL_ARCHIVE_PLAINTEXT=1. Refused as merge=union is (red team 30).
@test "E1: export-subst on a path under the filter: git add fails naming it, status and check name it" {
	local want="the attribute export-subst (from gitattributes) makes git archive rewrite '\$Format:...\$' in the file it exports, which then does not open: remove it for this path" next
	printf 'db: hunter2\nbuilt_$Format:%%H$: 1\n' > secrets/app.yaml
	git add .gitattributes .sops.yaml secrets/app.yaml
	fixture git commit -qm app
	# a later version, sealed before the attribute came
	printf 'db: hunter3\nbuilt_$Format:%%H$: 1\n' > secrets/app.yaml
	git add secrets/app.yaml
	next=$(git rev-parse :secrets/app.yaml)
	git reset -q
	git checkout -q secrets/app.yaml
	backdate secrets/app.yaml
	git update-index -q --refresh
	printf 'secrets/** export-subst\n' >> .gitattributes
	git add .gitattributes
	fixture git commit -qm "pull request: stamp the archive"
	# what it did: the archived file no longer opens
	git archive HEAD secrets/app.yaml | tar -xO > "$T/archived.yaml"
	grep -q "^built_[0-9a-f]\\{40\\}: ENC" "$T/archived.yaml"
	run ! "$GITSEAL_BIN" decrypt "$T/archived.yaml"
	printf 'db: hunter3\nbuilt_$Format:%%H$: 1\n' > secrets/app.yaml
	run git add secrets/app.yaml
	[ "$status" -ne 0 ]
	[[ $output == *"'secrets/app.yaml': $want"* ]]
	[ "$(git rev-parse :secrets/app.yaml)" = "$(git rev-parse HEAD:secrets/app.yaml)" ]
	run -0 "$GITSEAL_BIN" git status
	grep -qxF "secrets/app.yaml: $want; decrypted" <<<"$output"
	git update-index --cacheinfo "100644,$next,secrets/app.yaml"
	run -1 "$GITSEAL_BIN" git check
	grep -qxF "gitseal: error: 'secrets/app.yaml': $want" <<<"$output"
}

# C2: a file copied out of the pattern was found only while its bytes were
# the sealed file's plaintext in the work tree: a copy of the committed
# version staged after an edit of the secret, or a commit pushed after a
# later one changed the secret, was committed (pushed) in clear, exit 0.
@test "C2: a copy of HEAD's plaintext of a secret edited since: the hook refuses it" {
	app_committed
	cp secrets/app.yaml app.bak
	printf 'db_password: n3w-hunter\n' > secrets/app.yaml
	git add -A
	run git commit -qm "rotate the password"
	[ "$status" -ne 0 ]
	[[ $output == *"gitseal: error: 'app.bak': it is a copy of the plaintext of 'secrets/app.yaml', which is encrypted"* ]]
	[ -z "$(git ls-tree HEAD app.bak)" ]
}

@test "C2: a commit copying a secret, pushed after a later commit changed it: check --commits refuses it" {
	app_committed
	git checkout -qb feat
	cp secrets/app.yaml db-copy.yaml
	git add db-copy.yaml
	git commit -q --no-verify -m "copy, made where no hook ran"
	printf 'db_password: n3w-hunter\n' > secrets/app.yaml
	git commit -qam "rotate the password"
	run -1 "$GITSEAL_BIN" git check --commits main..feat
	[[ $output == *"gitseal: error: 'db-copy.yaml' in commit $(git rev-parse --short=12 HEAD^): it is a copy of the plaintext of 'secrets/app.yaml', which is encrypted"* ]]
}
