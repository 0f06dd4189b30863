#!/usr/bin/env bats
# The man pages: they render without warnings, and they say everything that
# `--help` lists (commands, flags, subcommands, environment variables), every
# variable the source reads, every .sops.yaml key the parser reads, and the
# exit codes of docs/exit-codes.md. A failure names what is missing where.

load ship_helpers

setup() {
	setup_tmp
	[ -d "$MAN_BUILT" ] || skip "no built pages in $MAN_BUILT (run make man)"
}

teardown() {
	teardown_tmp
}

@test "man: every page renders with no groff warning and no mandoc warning" {
	local page out bad=
	for page in "$MAN_BUILT"/*.[1-9]; do
		out=$(groff -man -ww -z "$page" 2>&1)
		[ -z "$out" ] || bad+="$(basename "$page") (groff -ww): $out"$'\n'
		if command -v mandoc >/dev/null; then
			out=$(mandoc -Tlint -Wwarning "$page" 2>&1)
			[ -z "$out" ] || bad+="$(basename "$page") (mandoc -Tlint): $out"$'\n'
		fi
	done
	[ -z "$bad" ] || { printf '%s' "$bad"; false; }
}

@test "man: whatis reads every page's NAME line, and the pages carry this build's version" {
	local page version bad=
	version=$("$GITSEAL_BIN" --version | awk '{ print $2 }')
	[ -n "$version" ]
	for page in "$MAN_BUILT"/*.[1-9]; do
		lexgrog "$page" >/dev/null 2>&1 || bad+="$(basename "$page"): lexgrog cannot parse the NAME section"$'\n'
		grep -q "^\.TH .* \"gitseal $version\"" "$page" ||
			bad+="$(basename "$page"): .TH does not name version $version"$'\n'
		if grep -q '@[A-Z_]*@' "$page"; then bad+="$(basename "$page"): a placeholder is left"$'\n'; fi
	done
	[ -z "$bad" ] || { printf '%s' "$bad"; false; }
}

@test "man: every command of 'gitseal --help' has a page naming it, and gitseal(1) lists it" {
	local cmd page bad=
	page_text gitseal.1 >"$TMP/gitseal.txt"
	for cmd in $(help_commands); do
		page=$(page_of "$cmd") ||
			bad+="no page names 'gitseal-$cmd' in its NAME line: add man/gitseal-$cmd.1, or the name to a family page"$'\n'
		present "$cmd" "$TMP/gitseal.txt" || bad+="gitseal(1) does not list the command '$cmd'"$'\n'
	done
	[ -n "$(help_commands)" ] || bad+="found no commands in 'gitseal --help'"$'\n'
	[ -z "$bad" ] || { printf '%s' "$bad"; false; }
}

# check_help WHAT PAGE TEXT: every flag, variable and subcommand of the help
# text TEXT (from WHAT) is in PAGE; appends what is missing to $bad.
check_help() {
	local what=$1 page=$2 text=$3 cmd=$4 item txt=$TMP/$2.txt
	[ -s "$txt" ] || page_text "$page" >"$txt"
	[ -s "$txt" ] || { bad+="$page: renders empty"$'\n'; return; }
	local content
	content=$(<"$txt")
	for item in $(printf '%s\n' "$text" | flags_in); do
		present_in "$item" "$content" ||
			bad+="man/$page lacks the flag $item (listed by '$what')"$'\n'
	done
	for item in $(printf '%s\n' "$text" | env_in); do
		present_in "$item" "$content" ||
			bad+="man/$page lacks the environment variable $item (listed by '$what')"$'\n'
	done
	[ -z "$cmd" ] && return
	for item in $(printf '%s\n' "$text" | subcommands_in "$cmd"); do
		present_in "$item" "$content" ||
			bad+="man/$page lacks the subcommand '$cmd $item' (listed by '$what')"$'\n'
	done
}

@test "man: every flag, subcommand and variable of each command's --help is in its page" {
	local cmd page text bad=
	for cmd in $(help_commands); do
		page=$(page_of "$cmd") || continue # reported by the test above
		if ! text=$("$GITSEAL_BIN" "$cmd" --help 2>&1); then
			bad+="'gitseal $cmd --help' exits non-zero"$'\n'
			continue
		fi
		check_help "gitseal $cmd --help" "$page" "$text" "$cmd"
		check_help "gitseal --help, line of $cmd" "$page" "$(help_summary "$cmd")" ""
	done
	check_help "gitseal --help" gitseal.1 "$(help_top_rest)" ""
	[ -z "$bad" ] || { printf '%s' "$bad"; false; }
}

@test "gitseal --help: the line of git names every subcommand of 'gitseal git --help'" {
	local sub line bad=
	line=$(help_summary git)
	for sub in $("$GITSEAL_BIN" git --help | subcommands_in git); do
		present_in "$sub" "$line" || bad+="$sub "
	done
	[ -z "$bad" ] || { echo "the line of git in gitseal --help lacks: $bad"; false; }
}

@test "man: gitseal(1) documents every environment variable the source reads" {
	local var bad= vars
	# getenv("NAME"), and names in tables ("SOPS_..." string literals)
	vars=$({
		grep -rhoE 'getenv\("[A-Za-z_][A-Za-z0-9_]*"\)' "$REPO_ROOT/src" | sed -E 's/.*\("([^"]*)"\)/\1/'
		grep -rhoE '"(SOPS|GITSEAL|VAULT|ARGOCD)_[A-Z0-9_]*[A-Z0-9]"' "$REPO_ROOT/src" | tr -d '"'
	} | grep -v '^GITSEAL_TEST_' | sort -u)
	[ -n "$vars" ] || { echo "found no getenv(\"...\") in src/: update this test"; false; }
	page_text gitseal.1 | sed -n '/^ENVIRONMENT/,/^[A-Z]/p' >"$TMP/env.txt"
	for var in $vars; do
		present "$var" "$TMP/env.txt" ||
			bad+="the ENVIRONMENT section of man/gitseal.1 lacks $var (read by src/)"$'\n'
	done
	[ -z "$bad" ] || { printf '%s' "$bad"; false; }
}

@test "man: gitseal-sops.yaml(5) documents every .sops.yaml key the parser reads" {
	local key bad= keys
	# map_get(parser, node, "key") and the *_fields[] tables in src/config;
	# the selection keys come from the metadata table of src/sops.
	keys=$({
		grep -rhoE 'map_get\([^;]*"[A-Za-z_]+"' "$REPO_ROOT/src/config" | grep -oE '"[A-Za-z_]+"'
		grep -rhE '_fields\[\] = \{' "$REPO_ROOT/src/config" | grep -oE '"[A-Za-z_]+"'
		grep -hoE '"(un)?encrypted_[a-z_]+"' "$REPO_ROOT/src/sops/metadata.c"
	} | tr -d '"' | sort -u)
	[ -n "$keys" ] || { echo "found no keys in src/config: update this test"; false; }
	page_text gitseal-sops.yaml.5 >"$TMP/config.txt"
	for key in $keys; do
		present "$key" "$TMP/config.txt" ||
			bad+="man/gitseal-sops.yaml.5 lacks the key '$key' (read by src/config)"$'\n'
	done
	[ -z "$bad" ] || { printf '%s' "$bad"; false; }
}

@test "man: the EXIT STATUS of gitseal(1) has every code of docs/exit-codes.md" {
	local code bad=
	page_text gitseal.1 | sed -n '/^EXIT STATUS/,/^EXAMPLES/p' >"$TMP/exit.txt"
	for code in $(grep -oE '^\| *[0-9]+ *\|' "$REPO_ROOT/docs/exit-codes.md" | tr -dc '0-9\n' | sort -un); do
		grep -qE "^ +$code( |$)" "$TMP/exit.txt" || bad+="man/gitseal.1 EXIT STATUS lacks the code $code"$'\n'
	done
	# one line of the table, converted: `--extract` in bold, minus signs
	grep -qE '^ +91 +bad --extract path' "$TMP/exit.txt" || bad+="the code 91 row is not rendered as expected"$'\n'
	[ -z "$bad" ] || { printf '%s' "$bad"; false; }
}

@test "man: the drift check fails, naming the flag and the page, when a page lacks a flag" {
	# the test above must be able to fail: drop --extract from a copy
	local bad=
	sed 's/\\-\\-extract/--gone/g' "$MAN_BUILT/gitseal-decrypt.1" >"$TMP/gitseal-decrypt.1"
	MAN_BUILT=$TMP check_help "gitseal decrypt --help" gitseal-decrypt.1 \
		"$("$GITSEAL_BIN" decrypt --help)" decrypt
	[ "$bad" = "man/gitseal-decrypt.1 lacks the flag --extract (listed by 'gitseal decrypt --help')"$'\n' ]
}
