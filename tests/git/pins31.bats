#!/usr/bin/env bats
# init's pins of a subdirectory's .gitattributes against real git: the
# differential harness tests/redteam/pins.py (a short fixed-seed run here,
# a long one under make redteam), and each disagreement it or a reading of
# git 2.39's attr.c found, its input given here.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

DRIVERS='filter=gitseal diff=gitseal merge=gitseal'
CANNOT="its pattern cannot be written there (a negative or empty pattern, or a line of 2048 bytes or more, which git ignores; or a '**' after a literal start below a directory named with a wildcard)"

# committed DIR TEXT: DIR/.gitattributes holding TEXT (printf's %b), committed
committed() {
	mkdir -p "$1"
	printf '%b' "$2" > "$1/.gitattributes"
	git add "$1/.gitattributes"
	fixture git commit -qm attrs
}

# answers_kept PATH...: git's filter for each PATH from init's pins alone
# answers what the subdirectories' .gitattributes answered; run after init
answers_kept() {
	local before
	before=$(printf '%s\n' "$@" | git check-attr --stdin filter)
	git ls-files -z -- '*/.gitattributes' | xargs -0 -r git update-index --force-remove --
	find . -path ./.git -prune -o -name .gitattributes ! -path ./.gitattributes -exec rm -f {} +
	[ "$(printf '%s\n' "$@" | git check-attr --stdin filter)" = "$before" ]
}

@test "the pins harness (tests/redteam/pins.py), a short fixed-seed run: git answers the same from the pins as from the files" {
	# make redteam runs it long
	run python3 "$BATS_TEST_DIRNAME/../redteam/pins.py" --bin "$GITSEAL_BIN" --cases 6 --seed 31
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx 'pins.py: 0 failure(s), [0-9]* s' <<<"$output"
	grep -qx 'pins.py: 6 case(s), [1-9][0-9]* line(s), [1-9][0-9]* path(s) checked' <<<"$output"
}

# git drops a UTF-8 byte order mark opening a .gitattributes it reads from
# a file: init kept the mark in the first line's pattern ('c/**/<BOM>a.yaml'),
# which matched no path, and a pull request removing the line had
# c/a.yaml committed in clear.
@test "a byte order mark opening a subdirectory's .gitattributes is not part of its first pattern" {
	committed c "\xef\xbb\xbfa.yaml $DRIVERS\n"
	run -0 "$GITSEAL_BIN" git init
	grep -qxF "gitseal: kept in .git/info/attributes: 'c/**/a.yaml' (c/.gitattributes: 'a.yaml')" <<<"$output"
	[ "$(git check-attr filter -- c/x/a.yaml)" = "c/x/a.yaml: filter: gitseal" ]
	answers_kept c/a.yaml c/x/a.yaml a.yaml
	[ "$(git check-attr filter -- c/x/a.yaml)" = "c/x/a.yaml: filter: gitseal" ]
}

# A quoted pattern (git 2.39 reads a pattern opening with '"' as a C string)
# was named and left out; a directory named with a blank or a quote too.
@test "a quoted pattern below the top and a directory named with a blank or a quote are kept, C-quoted" {
	mkdir -p q 'a b' 'd"q'
	printf '"secrets/a b.yaml" %s\n"t\\tab.env" %s\n' "$DRIVERS" "$DRIVERS" > q/.gitattributes
	printf '*.yaml %s\n' "$DRIVERS" > 'a b/.gitattributes'
	printf 'x %s\n' "$DRIVERS" > 'd"q/.gitattributes'
	git add -A
	fixture git commit -qm attrs
	run -0 "$GITSEAL_BIN" git init
	[[ $output != *"not kept"* ]]
	grep -qxF '"q/secrets/a b.yaml" text eol=lf conflict-marker-size=32 '"$DRIVERS" .git/info/attributes
	grep -qxF '"q/**/t\011ab.env" text eol=lf conflict-marker-size=32 '"$DRIVERS" .git/info/attributes
	grep -qxF '"a b/**/*.yaml" text eol=lf conflict-marker-size=32 '"$DRIVERS" .git/info/attributes
	grep -qxF 'd"q/**/x text eol=lf conflict-marker-size=32 '"$DRIVERS" .git/info/attributes
	answers_kept 'q/secrets/a b.yaml' "q/z/t$(printf '\t')ab.env" 'a b/c/d.yaml' 'd"q/x' 'd"q/y/x' 'a/c.yaml' 'q/a b.yaml'
	[ "$(git check-attr filter -- 'q/secrets/a b.yaml')" = "q/secrets/a b.yaml: filter: gitseal" ]
	# init again keeps nothing more; status finds every line kept
	run -0 "$GITSEAL_BIN" git init
	[[ $output != *"kept in"* ]]
}

# git ignores a line of 2048 bytes or more (attr.c): a pin that long, made
# from a shorter line deep in the tree, was written and ignored, the file's
# protection gone without a word; and a line git ignores was pinned.
@test "a pin git would ignore for its length is named, not written; a line git ignores is not pinned" {
	local deep long
	deep=$(printf 'd%.0s' {1..200})/$(printf 'e%.0s' {1..200})/$(printf 'f%.0s' {1..200})
	deep=$deep/$deep/$deep/$deep
	mkdir -p "$deep" g
	printf 'a.yaml %s\n' "$DRIVERS" > "$deep/.gitattributes"
	long=$(printf 'x%.0s' {1..2010})
	printf '%s.yaml %s\n' "$long" "$DRIVERS" > g/.gitattributes
	git add -A
	fixture git commit -qm attrs
	run -0 "$GITSEAL_BIN" git init
	# the message is cut past gs_warn's length, the path in it
	grep -qF "gitseal: warning: not kept in .git/info/attributes: 'a.yaml $DRIVERS' in ${deep:0:100}" <<<"$output"
	! grep -qF "$long" .git/info/attributes || false
	[ "$(git check-attr filter -- "g/$long.yaml")" = "g/$long.yaml: filter: unspecified" ]
	! grep -qF "a.yaml text" .git/info/attributes || false
}

# git reads a .gitattributes from the index (none in the work tree) up to
# its first NUL byte: a line after it does nothing, and init pinned it.
@test "a subdirectory's .gitattributes read from the index ends at its first NUL byte, as git reads it" {
	committed c "a.yaml $DRIVERS\n\0\nb.yaml $DRIVERS\n"
	rm c/.gitattributes
	[ "$(git check-attr filter -- c/b.yaml)" = "c/b.yaml: filter: unspecified" ]
	run -0 "$GITSEAL_BIN" git init
	grep -qxF "c/**/a.yaml text eol=lf conflict-marker-size=32 $DRIVERS" .git/info/attributes
	! grep -qF "b.yaml" .git/info/attributes || false
}

# git ignores a negative pattern in attributes, quoted too ("!x"): init
# named it as one it cannot write where it had rewritten it to match x.
@test "a quoted negative pattern below the top is named, not kept" {
	committed c "\"!x.yaml\" $DRIVERS\n"
	run -0 "$GITSEAL_BIN" git init
	grep -qxF "gitseal: warning: not kept in .git/info/attributes: '\"!x.yaml\" $DRIVERS' in c/.gitattributes: $CANNOT" <<<"$output"
	! grep -qF 'x.yaml' .git/info/attributes || false
}

# The same mark opening the top-level .gitattributes: init pinned
# '<BOM>vault/**', which in info/attributes matched nothing.
@test "a byte order mark opening the top-level .gitattributes is not part of its first pattern" {
	{
		printf '\xef\xbb\xbfvault/** %s text eol=lf conflict-marker-size=32\n' "$DRIVERS"
		cat .gitattributes
	} > attrs.new
	mv attrs.new .gitattributes
	git add .gitattributes
	fixture git commit -qm attrs
	[ "$(git check-attr filter -- vault/a.yaml)" = "vault/a.yaml: filter: gitseal" ]
	run -0 "$GITSEAL_BIN" git init
	grep -qxF "vault/** text eol=lf conflict-marker-size=32 $DRIVERS" .git/info/attributes
	sed -i 1d .gitattributes
	[ "$(git check-attr filter -- vault/a.yaml)" = "vault/a.yaml: filter: gitseal" ]
}

# git matches a pattern with a slash by its literal start, then the rest by
# wildmatch, where a "**" opening the rest crosses directories: 'x/ab**/y'
# in c[1]/ matched c[1]/x/abz/q/y, and its pin 'c\[1]/x/ab**/y', whose
# literal start ends at the escape, did not (its "**" a '*' there).
@test "a '**' after a literal start below a directory named with a wildcard is named, not pinned as something git reads otherwise" {
	mkdir -p 'c[1]' c2
	printf 'x/ab**/y %s\n/top**/z %s\nx/*/**/y %s\n' "$DRIVERS" "$DRIVERS" "$DRIVERS" > 'c[1]/.gitattributes'
	printf 'x/ab**/y %s\n' "$DRIVERS" > c2/.gitattributes
	git add -A
	fixture git commit -qm attrs
	[ "$(git check-attr filter -- 'c[1]/x/abz/q/y')" = "c[1]/x/abz/q/y: filter: gitseal" ]
	run -0 "$GITSEAL_BIN" git init
	grep -qxF "gitseal: warning: not kept in .git/info/attributes: 'x/ab**/y $DRIVERS' in c[1]/.gitattributes: $CANNOT" <<<"$output"
	grep -qxF "gitseal: warning: not kept in .git/info/attributes: '/top**/z $DRIVERS' in c[1]/.gitattributes: $CANNOT" <<<"$output"
	grep -qxF "gitseal: kept in .git/info/attributes: 'c\\[1]/x/*/**/y' (c[1]/.gitattributes: 'x/*/**/y')" <<<"$output"
	grep -qxF "gitseal: kept in .git/info/attributes: 'c2/x/ab**/y' (c2/.gitattributes: 'x/ab**/y')" <<<"$output"
	answers_kept 'c2/x/abz/q/y' 'c2/x/aby' 'c[1]/x/a/b/y' 'c[1]/x/y'
}
