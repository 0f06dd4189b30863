#!/usr/bin/env bats
# Shell completions: the bash one driven through COMP_WORDS/COMP_CWORD (with
# and without the bash-completion package), and all three (bash, zsh, fish)
# checked against `--help`: every command, subcommand and flag it lists is
# offered. A failure names the shell, the command and the flag.

load ship_helpers

BASH_COMPLETION=/usr/share/bash-completion/bash_completion

setup() {
	setup_tmp
}

teardown() {
	teardown_tmp
}

# bash_complete WORD...: what _gitseal offers for the last word, one a line.
# LINE is the command line when it is not the words joined by blanks.
bash_complete() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=${LINE:-$*}
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_gitseal gitseal "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}"
}

# The usage of command $1 and its line in `gitseal --help`.
help_of() {
	"$GITSEAL_BIN" "$1" --help 2>&1
	help_summary "$1"
}

# help_about CMD: the help lines about command CMD: those of its usage that
# name no other command, and those of other commands' usage that name it
# ("files under the filter: gitseal updatekeys [-y] ..." in git's is about
# updatekeys). The usages are read from $1's directory ($2).
help_about() {
	local cmd=$1 dir=$2 others
	others=$(help_commands | grep -vx -- "$cmd" | paste -sd'|')
	grep -vE "gitseal ($others)( |$)" "$dir/$cmd" || true
	(cd "$dir" && grep -hE "gitseal $cmd( |$)" $(ls | grep -vx -- "$cmd")) || true
}

# What check_offered compares, the same for every shell: made once a file
# (about 300 processes; each test made them again, 3 s of CPU), into
# $BATS_FILE_TMPDIR/about/: the commands of --help (commands), and per
# command its subcommands (CMD.subs) and flags (CMD.flags) in the help
# lines about it.
setup_file() {
	local cmd help dir=$BATS_FILE_TMPDIR/usage about=$BATS_FILE_TMPDIR/about
	mkdir "$dir" "$about"
	help_commands >"$about/commands"
	for cmd in $(help_commands); do help_of "$cmd" >"$dir/$cmd"; done
	for cmd in $(help_commands); do
		help=$(help_about "$cmd" "$dir")
		subcommands_in "$cmd" <<<"$help" >"$about/$cmd.subs"
		flags_in <<<"$help" >"$about/$cmd.flags"
	done
}

# in_list ITEM LIST: ITEM is one of the lines of LIST.
in_list() {
	[[ $'\n'$2$'\n' == *$'\n'"$1"$'\n'* ]]
}

# check_offered SHELL [COMMAND...]: every command, subcommand and flag of
# --help (of every command, or of those given) is in the lists that
# offered_commands, offered_subs CMD and offered_flags CMD SUB (defined by
# the caller for SHELL) print. Appends to $bad.
check_offered() {
	local shell=$1 about=$BATS_FILE_TMPDIR/about cmd sub item offered
	local -a cmds subs flags
	shift
	mapfile -t cmds <"$about/commands"
	[ "${#cmds[@]}" -gt 0 ] || { bad+="found no commands in 'gitseal --help'"$'\n'; return; }
	offered=$(offered_commands)
	for cmd in "${cmds[@]}"; do
		in_list "$cmd" "$offered" || bad+="$shell: 'gitseal <TAB>' does not offer the command $cmd"$'\n'
	done
	[ $# -eq 0 ] || cmds=("$@")
	for cmd in "${cmds[@]}"; do
		mapfile -t subs <"$about/$cmd.subs"
		mapfile -t flags <"$about/$cmd.flags"
		offered=$(offered_subs "$cmd")
		for sub in "${subs[@]}"; do
			in_list "$sub" "$offered" ||
				bad+="$shell: 'gitseal $cmd <TAB>' does not offer the subcommand $sub"$'\n'
		done
		offered=$(
			offered_flags "$cmd" ""
			for sub in "${subs[@]}"; do offered_flags "$cmd" "$sub"; done
		)
		for item in "${flags[@]}"; do
			in_list "$item" "$offered" ||
				bad+="$shell: 'gitseal $cmd -<TAB>' does not offer the flag $item (listed by 'gitseal $cmd --help')"$'\n'
		done
	done
}

@test "completion: bash offers commands, flags, format names, subcommands and files" {
	source "$REPO_ROOT/completions/gitseal.bash"
	mkdir -p "$TMP/work/dir"
	touch "$TMP/work/secret.enc.yaml" "$TMP/work/secret.txt"
	cd "$TMP/work"

	[ "$(bash_complete gitseal en)" = encrypt ]
	[ "$(bash_complete gitseal encrypt --in | sort | tr '\n' ' ')" = "--in-place --indent --input-type " ]
	[ "$(bash_complete gitseal encrypt --input-type '' | tr '\n' ' ')" = "yaml json dotenv ini binary " ]
	[ "$(bash_complete gitseal decrypt --output-type j)" = json ]
	# "--input-type=y": readline splits at '='
	[ "$(LINE="gitseal encrypt --input-type=y" bash_complete gitseal encrypt --input-type = y)" = yaml ]
	[ "$(bash_complete gitseal git '' | tr '\n' ' ')" = "init status lock unlock check trust filter-process textconv merge " ]
	[ "$(bash_complete gitseal git init --no)" = --no-hook ]
	[ "$(bash_complete gitseal groups add --f)" = --file ]
	[ "$(bash_complete gitseal age -R '' | sort | tr '\n' ' ')" = "dir secret.enc.yaml secret.txt " ]
	[ "$(bash_complete gitseal decrypt secret.e)" = secret.enc.yaml ]
	[ "$(bash_complete gitseal render '' | tr '\n' ' ')" = "dir " ]
	# a value that is free text gets no file names
	[ -z "$(bash_complete gitseal encrypt --age '')" ]
	# sops's top-level form: gitseal -e FILE
	[ "$(bash_complete gitseal -e --input-t)" = --input-type ]
}

@test "completion: bash with the bash-completion package loaded" {
	[ -r "$BASH_COMPLETION" ] || skip "bash-completion is not installed"
	source "$BASH_COMPLETION"
	source "$REPO_ROOT/completions/gitseal.bash"
	touch "$TMP/a.enc.yaml"
	cd "$TMP"

	[ "$(bash_complete gitseal upd)" = updatekeys ]
	[ "$(bash_complete gitseal rotate --rm | tr '\n' ' ')" = "--rm-age --rm-pgp --rm-hc-vault-transit " ]
	[ "$(bash_complete gitseal decrypt --output-type '' | tr '\n' ' ')" = "yaml json dotenv ini binary " ]
	[ "$(LINE="gitseal decrypt --output-type=d" bash_complete gitseal decrypt --output-type = d)" = dotenv ]
	[ "$(bash_complete gitseal edit a.)" = a.enc.yaml ]
}

@test "completion: bash offers every command, subcommand and flag of --help" {
	source "$REPO_ROOT/completions/gitseal.bash"
	offered_commands() { bash_complete gitseal ''; }
	offered_subs() { bash_complete gitseal "$1" ''; }
	offered_flags() { bash_complete gitseal "$1" ${2:+"$2"} -; }
	local bad=
	check_offered bash
	[ -z "$bad" ] || { printf '%s' "$bad"; false; }
}

@test "completion: zsh parses the script and offers every command, subcommand and flag of --help" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	run zsh -n "$REPO_ROOT/completions/_gitseal"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# zsh itself expands the specs; _arguments and friends print them
	cat >"$TMP/specs.zsh" <<'EOF'
_arguments() { print -rl -- "$@" }
_values() { shift; print -rl -- "$@" }
_describe() { print -rl -- ${(P)${@[-1]}} }
_files() { }
words=(gitseal) CURRENT=1
source $1 >/dev/null
words=(${=2}) CURRENT=$#words
_gitseal_${words[1]//-/_}
EOF
	zspecs() { zsh -f "$TMP/specs.zsh" "$REPO_ROOT/completions/_gitseal" "$1"; }
	# a spec: "(excluded)*--age=[help]:message", "-a+[help]", "init[help]"
	offered_commands() {
		zsh -f -c '_arguments() { state=command }; _describe() { print -rl -- ${(P)${@[-1]}} }; source $1' \
			_ "$REPO_ROOT/completions/_gitseal" | cut -d: -f1
	}
	offered_subs() { zspecs "$1 x" | sed -nE 's/^([a-z][a-z0-9-]*)\[.*/\1/p'; }
	offered_flags() {
		zspecs "$1 ${2:+$2 }x" | sed -E 's/^\([^)]*\)//; s/^\*//' |
			sed -nE 's/^(--?[A-Za-z][A-Za-z0-9-]*).*/\1/p'
	}
	[ "$(offered_flags encrypt '' | grep -c -- '-')" -gt 20 ]
	local bad=
	check_offered zsh
	[ -z "$bad" ] || { printf '%s' "$bad"; false; }
}

@test "completion: fish parses the script and offers every command, subcommand and flag of --help" {
	command -v fish >/dev/null || skip "fish is not installed"
	run fish -n "$REPO_ROOT/completions/gitseal.fish"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	fcomplete() {
		fish -N -c "source '$REPO_ROOT/completions/gitseal.fish'; complete -C '$1'" | cut -f1
	}
	[ "$(fcomplete 'gitseal encrypt --input-type ' | tr '\n' ' ')" = "binary dotenv ini json yaml " ]
	offered_commands() { fcomplete 'gitseal '; }
	offered_subs() { fcomplete "gitseal $1 "; }
	offered_flags() { fcomplete "gitseal $1 ${2:+$2 }-"; }
	local bad=
	check_offered fish
	[ -z "$bad" ] || { printf '%s' "$bad"; false; }
}

@test "completion: the check fails, naming the shell, the command and the flag, when a flag is not offered" {
	source "$REPO_ROOT/completions/gitseal.bash"
	offered_commands() { bash_complete gitseal ''; }
	offered_subs() { bash_complete gitseal "$1" ''; }
	offered_flags() { bash_complete gitseal "$1" ${2:+"$2"} - | grep -vx -- --ignore-mac; }
	local bad=
	check_offered bash decrypt
	[ "$bad" = "bash: 'gitseal decrypt -<TAB>' does not offer the flag --ignore-mac (listed by 'gitseal decrypt --help')"$'\n' ]
}
