#!/usr/bin/env bats
# Red team 30: what a pull request can do through the files git itself
# reads from the work tree and the commits (.gitattributes, .gitmodules,
# history), against paths under the filter.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_from teammate_filter_line; }
teardown() { gs_teardown; }

# commit_files NAME TEXT... MESSAGE: each NAME written with TEXT (printf
# format), backdated (not racily clean: git cleans it no more), staged,
# then committed as MESSAGE without the hook
commit_files() {
	while [ $# -gt 1 ]; do
		printf "$2" > "$1"
		backdate "$1"
		git add "$1"
		shift 2
	done
	fixture git commit -qm "$1"
}

# M1: init pins merge=gitseal for its own patterns only (info/attributes);
# on a path a teammate's line put under the filter, a pull request's
# `merge=union` had git join both sides' sealed lines where each changed:
# `git merge` of two edits exited 0 and committed a file with each key and
# the MAC twice, which no longer loads (both edits lost to every reader),
# in every store.
@test "M1: merge=union on a path under the filter: a merge of edits on both sides fails, nothing committed; git add, status and check name it" {
	local want="the attribute merge=union (from gitattributes) makes a merge join both sides' sealed lines" head
	commit_files config/app.yaml 'a: 1\nb: 2\n' config/app.env 'a=1\nb=2\n' \
		config/app.json '{"a": 1, "b": 2}\n' config/app.ini '[s]\na = 1\nb = 2\n' base
	git checkout -qb feat
	commit_files config/app.yaml 'a: 1\nb: 3\n' config/app.env 'a=1\nb=3\n' \
		config/app.json '{"a": 1, "b": 3}\n' config/app.ini '[s]\na = 1\nb = 3\n' feat
	git checkout -q main
	commit_files config/app.yaml 'a: 5\nb: 2\n' config/app.env 'a=5\nb=2\n' \
		config/app.json '{"a": 5, "b": 2}\n' config/app.ini '[s]\na = 5\nb = 2\n' mine
	commit_files .gitattributes "$(cat .gitattributes)\nconfig/app.* merge=union\n" union
	head=$(git rev-parse HEAD)
	run git merge -q feat -m merged
	[ "$status" -ne 0 ]
	[[ $output == *"'config/app."*"': $want"* ]]
	[ "$(git rev-parse HEAD)" = "$head" ]
	# the checkout stopped at the first file it wrote: no merge in progress
	[ ! -e .git/MERGE_HEAD ]
	git reset -q --hard "$head"
	run "$GITSEAL_BIN" git status
	[[ $output == *"config/app.yaml: $want"* ]]
	[[ $output == *"config/app.env: $want"* ]]
	printf 'a: 5\nb: 4\n' > config/app.yaml
	run git add config/app.yaml
	[ "$status" -ne 0 ]
	[[ $output == *"'config/app.yaml': $want"* ]]
	[ "$(git rev-parse :config/app.yaml)" = "$(git rev-parse HEAD:config/app.yaml)" ]
}

@test "M1: merge=union set after a file under the filter is staged: the hook refuses the commit naming it" {
	printf 'c: 6\n' > config/new.yaml
	git add config/new.yaml
	printf 'config/new.yaml merge=union\n' >> .gitattributes
	run "$GITSEAL_BIN" git check
	[ "$status" -ne 0 ]
	[[ $output == *"config/new.yaml"*"the attribute merge=union (from gitattributes) makes a merge join"* ]]
	run git commit -qm new
	[ "$status" -ne 0 ]
	[ -z "$(git ls-tree HEAD config/new.yaml)" ]
}

# P1: init pins the filter's lines of .gitattributes in .git/info/attributes,
# where no pull request changes them, but only lines of the form it writes
# now: a line an older gitseal's init wrote (the drivers alone, as
# `config/**` here) was neither kept nor named, so in a clone set up since,
# a pull request's `config/** -filter` had a new secret there committed in
# clear, exit 0 (the hook refuses only files HEAD holds sealed).
@test "P1: a filter line an older gitseal wrote is kept by init in a new clone; a pulled '-filter' leaves a new file sealed" {
	git clone -q "$REPO" "$T/clone"
	cd "$T/clone"
	printf 'config/*.json filter=gitseal diff=gitseal\n' >> .gitattributes
	fixture git commit -qam "a line of another form"
	run "$GITSEAL_BIN" git init
	[ "$status" -eq 0 ]
	printf 'config/** -filter\n' >> .gitattributes
	fixture git commit -qam "pull request: tidy the attributes"
	mkdir -p config
	printf 'token: n3w-s3cr3t\n' > config/new.yaml
	git add config/new.yaml
	git commit -qm new
	assert_blob_encrypted config/new.yaml
	grep -qxF 'config/** text eol=lf conflict-marker-size=32 filter=gitseal diff=gitseal merge=gitseal' .git/info/attributes
	# a filter line of another form is named, as one that unsets it after
	grep -qxF "gitseal: warning: not kept in .git/info/attributes: 'config/*.json filter=gitseal diff=gitseal' in .gitattributes is not a line 'gitseal git init' writes (one pattern and the filter's attributes)" <<<"$output"
}

# P2: a teammate's filter line pulled after this clone ran init is not kept
# until init runs again, and nothing said so: a pull request's later
# `-filter` took the filter off new files there (P1).
@test "P2: a filter line pulled since init: status and the hook name it until init keeps it" {
	local want="'config/** filter=gitseal diff=gitseal merge=gitseal' is not kept in .git/info/attributes yet"
	run -0 "$GITSEAL_BIN" git status
	grep -qF ".gitattributes: $want" <<<"$output"
	run -0 "$GITSEAL_BIN" git check
	grep -qxF "gitseal: warning: .gitattributes: $want: a later line (a pull request's) can take the filter off new files there; run 'gitseal git init' again" <<<"$output"
	"$GITSEAL_BIN" git init 2>/dev/null
	run -0 "$GITSEAL_BIN" git status
	[[ $output != *"not kept"* ]]
	run -0 "$GITSEAL_BIN" git check
	[ -z "$output" ]
}
