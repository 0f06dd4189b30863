# Helpers of tests/ship: what `--help` lists, which page documents which
# command, and the pages as plain text.
load ../helpers

# The build directory with the pages (build/man); the Makefile passes it.
SHIP_BUILD=${GITSEAL_BUILD:-$REPO_ROOT/build}
MAN_BUILT=$SHIP_BUILD/man

TOP_HELP=$("$GITSEAL_BIN" --help)

# The commands `gitseal --help` lists: indented lowercase words followed by
# two blanks and their summary.
help_commands() {
	sed -nE 's/^[[:space:]]+([a-z][a-z0-9-]*)[[:space:]]{2,}.*/\1/p' <<<"$TOP_HELP"
}

# The summary line of command $1 in `gitseal --help`.
help_summary() {
	grep -E "^[[:space:]]+$1[[:space:]]{2,}" <<<"$TOP_HELP"
}

# `gitseal --help` without the command lines (for gitseal(1) itself).
help_top_rest() {
	grep -vE '^[[:space:]]+[a-z][a-z0-9-]*[[:space:]]{2,}' <<<"$TOP_HELP"
}

# Flags in text on stdin: one or two dashes and a letter, not inside a word
# ("ssh-rsa", "0-based" and a lone "-" are not flags).
flags_in() {
	grep -oE '(^|[^A-Za-z0-9_-])--?[A-Za-z][A-Za-z0-9-]*' | sed -E 's/^[^-]*//; s/-+$//' | sort -u
}

# Environment variables in text on stdin: upper-case words with an
# underscore (SOPS_AGE_KEY_FILE, ARGOCD_ENV_SOPS_AGE_* as a prefix ending in
# '_'), or any upper-case word after '$' ($EDITOR).
env_in() {
	grep -oE '\$?[A-Z][A-Z0-9]*(_[A-Z0-9]+)+_?\*?|\$[A-Z][A-Z0-9]+' | sed -E 's/^\$//; s/\*$//' | sort -u
}

# Subcommands in the usage lines of command $1 on stdin ("gitseal git init").
subcommands_in() {
	grep -oE "gitseal $1 [a-z][a-z0-9-]*" | awk '{ print $3 }' | sort -u
}

# PAGE_NAMES: "PAGE NAMES" a line, the names each man page source's NAME
# line gives ("gitseal-set, gitseal-unset"), read by one awk (two seds a
# page for each command took 3 s of CPU a test).
PAGE_NAMES=$(awk 'FNR == 1 { on = 0; f = FILENAME; sub(/.*\//, "", f) }
	on { sub(/ *\\-.*/, ""); print f " " $0; on = 0; nextfile }
	/^\.SH NAME/ { on = 1 }' "$REPO_ROOT"/man/*.[1-9])

# The man page source whose NAME line names gitseal-$1 (a family page may
# name several commands: "gitseal-set, gitseal-unset \- ...").
page_of() {
	local line
	while IFS= read -r line; do
		case ", ${line#* }," in
		*", gitseal-$1,"*)
			printf '%s\n' "${line%% *}"
			return 0
			;;
		esac
	done <<<"$PAGE_NAMES"
	return 1
}

# A built page as plain text: no fonts, no hyphenation, long lines.
page_text() {
	groff -man -Tascii -P-cbou -rLL=1000n -rHY=0 "$MAN_BUILT/$1" 2>/dev/null
}

# present WORD TEXT-FILE: WORD appears in the text, not as part of a longer
# word or flag. A WORD ending in '_' is a prefix (ARGOCD_ENV_SOPS_AGE_).
present() {
	present_in "$1" "$(cat "$2")"
}

# present_in WORD TEXT: the same, with the text in a variable (no process
# per word: the drift checks test hundreds of words).
present_in() {
	local word=$1 text=$'\n'$2$'\n' re
	[[ $word =~ ^[A-Za-z0-9_-]+$ ]] || { [[ $text == *"$word"* ]]; return; }
	case $word in
	*_) re="[^A-Za-z0-9_-]$word" ;;
	*) re="[^A-Za-z0-9_-]$word([^A-Za-z0-9_-])" ;;
	esac
	[[ $text =~ $re ]]
}
