#!/usr/bin/env bats
# git applies working-tree-encoding, ident and line ends to the sealed text
# after the clean and before the smudge, and a .gitattributes line (a pull
# request's, or a filter line init did not write and so did not pin) can
# set them. The filter refuses such a path in one line naming it and the
# attribute; status and check name it (rule 1: fail closed).

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_from teammate_filter_line; }
teardown() { gs_teardown; }

# committed_then LINES FILE...: FILEs committed, then LINES (printf
# format) appended to .gitattributes and the FILEs removed from the work tree
committed_then() {
	local lines=$1
	shift
	git add "$@"
	git commit -qm files
	printf "$lines" >> .gitattributes
	rm "$@"
}

# refused_add FILE MESSAGE: git add FILE fails saying MESSAGE; nothing staged
refused_add() {
	run git add "$1"
	[ "$status" -ne 0 ]
	[[ $output == *"$2"* ]]
	run git ls-files "$1"
	[ -z "$output" ]
}

@test "working-tree-encoding=UTF-16LE: git add refuses the path, naming it and the attribute; nothing staged" {
	printf 'secrets/** working-tree-encoding=UTF-16LE\n' >> .gitattributes
	printf 'A=a-s3cr3t\n' > secrets/a.env
	refused_add secrets/a.env "'secrets/a.env': the attribute working-tree-encoding=UTF-16LE (from gitattributes) changes what git stores after the filter: remove it for this path"
}

@test "working-tree-encoding set after a file is staged: status and check name it" {
	printf 'A=a-s3cr3t\n' > secrets/a.env
	git add secrets/a.env
	printf 'secrets/** working-tree-encoding=UTF-16LE\n' >> .gitattributes
	run "$GITSEAL_BIN" git status
	[[ $output == *"secrets/a.env: the attribute working-tree-encoding=UTF-16LE (from gitattributes) changes what git stores after the filter: remove it for this path"* ]]
	run ! "$GITSEAL_BIN" git check
	[[ $output == *"secrets/a.env"*"the attribute working-tree-encoding=UTF-16LE"* ]]
}

@test "ident with a \$Id\$ value in clear: git add refuses; without one it seals" {
	printf 'secrets/** ident\n' >> .gitattributes
	printf "rev: '\$Id: x\$'\ntoken: t-s3cr3t\n" > secrets/a.yaml
	refused_add secrets/a.yaml "'secrets/a.yaml': the attribute ident (from gitattributes) changes what git stores after the filter: remove it for this path"
	printf "rev: r1\ntoken: t-s3cr3t\n" > secrets/a.yaml
	git add secrets/a.yaml
	git show :secrets/a.yaml | grep -q 'ENC\['
}

@test "ident and working-tree-encoding set after a commit: the checkout fails naming them" {
	printf "rev: '\$Id\$'\ntoken: t-s3cr3t\n" > secrets/a.yaml
	printf 'A=a-s3cr3t\n' > secrets/b.env
	committed_then 'secrets/*.yaml ident\nsecrets/*.env working-tree-encoding=UTF-16LE\n' secrets/a.yaml secrets/b.env
	run git checkout -- secrets/a.yaml
	[ "$status" -ne 0 ]
	[[ $output == *"'secrets/a.yaml': the attribute ident (from gitattributes) changes what git hands the filter at checkout: remove it for this path"* ]]
	[ ! -e secrets/a.yaml ]
	run git checkout -- secrets/b.env
	[ "$status" -ne 0 ]
	[[ $output == *"'secrets/b.env': the attribute working-tree-encoding=UTF-16LE (from gitattributes)"* ]]
}

@test "eol=crlf: a committed dotenv and INI file fail to check out naming the attribute; git add refuses" {
	printf 'A=a-s3cr3t\nB=b\n' > config/a.env
	printf '[db]\npassword = p-s3cr3t\n' > config/a.ini
	committed_then 'config/** eol=crlf\n' config/a.env config/a.ini
	run git checkout -- config/a.env config/a.ini
	[ "$status" -ne 0 ]
	[[ $output == *"'config/a.env': the attribute eol=crlf (from gitattributes) makes git hand the filter CRLF line ends at checkout: set 'text eol=lf' for this path"* ]]
	[[ $output != *MAC* ]]
	# the INI file was given back with a blank line added
	[ ! -e config/a.ini ]
	run "$GITSEAL_BIN" git status
	[[ $output == *"config/a.ini: the attribute eol=crlf (from gitattributes)"* ]]
	printf 'C=c-s3cr3t\n' > config/c.env
	refused_add config/c.env "'config/c.env': the attribute eol=crlf (from gitattributes)"
}

@test "no text attribute and core.autocrlf=true (Git for Windows, or git -c): checkout and git add refuse; init's text eol=lf seals" {
	printf 'A=a-s3cr3t\n' > config/a.env
	committed_then '' config/a.env
	# given to git -c: libgit2 does not see it, the line ends tell
	run git -c core.autocrlf=true checkout -- config/a.env
	[ "$status" -ne 0 ]
	[[ $output == *"'config/a.env': core.autocrlf or core.eol (given to 'git -c'?) makes git hand the filter CRLF line ends at checkout"* ]]
	git config core.autocrlf true
	printf 'A=a-s3cr3t\n' > config/b.env
	refused_add config/b.env "'config/b.env': core.autocrlf=true (no text attribute) makes git hand the filter CRLF line ends at checkout"
	printf 'A=a-s3cr3t\n' > secrets/b.env
	git add secrets/b.env
	git show :secrets/b.env | grep -q '^A=ENC\['
}

# git reads a boolean as git_config_bool does: an integer not 0, or a
# bare key, is true; the filter once read only true, yes, on and 1
@test "core.autocrlf given as 2, On or a bare key is true, as git reads it: git add refuses" {
	for v in 2 On bare; do
		if [ "$v" = bare ]; then
			printf '[core]\n\tautocrlf\n' >> .git/config
		else
			git config core.autocrlf "$v"
		fi
		[ "$(git config --type=bool core.autocrlf)" = true ]
		printf 'A=a-s3cr3t\n' > "config/$v.env"
		refused_add "config/$v.env" "'config/$v.env': core.autocrlf=true (no text attribute) makes git hand the filter CRLF line ends at checkout"
		git config --unset-all core.autocrlf
	done
}

# A directory of more new files than the filter asks git about at once
# (src/git/readahead.c): from the third on, the attributes are read from
# git's own answer (check-attr, with the filter's), not libgit2's.
@test "git add of a large directory: the attributes git answers for all its files at once are refused (core.attributesFile, nested, text=unset)" {
	[ "$(nproc)" -ge 2 ] || skip "git is asked for many files at once by the read-ahead, which needs 2 CPUs"
	mkdir -p config/big
	for i in $(seq -w 1 260); do printf 'key: v%s\n' "$i" > "config/big/f$i.yaml"; done
	# given to git -c, which libgit2 does not read: git's answer tells
	printf 'config/big/f004.yaml working-tree-encoding=UTF-16LE\n' > "$T/attributes"
	run git -c core.attributesFile="$T/attributes" add -A
	[ "$status" -ne 0 ]
	[[ $output == *"'config/big/f004.yaml': the attribute working-tree-encoding=UTF-16LE (from gitattributes) changes what git stores after the filter: remove it for this path"* ]]
	printf 'f004.yaml eol=crlf\n' > config/big/.gitattributes
	run git add -A
	[ "$status" -ne 0 ]
	[[ $output == *"'config/big/f004.yaml': the attribute eol=crlf (from gitattributes) makes git hand the filter CRLF line ends at checkout"* ]]
	# git prints text=unset (a string: no text attribute) as it prints
	# -text: read both ways, they disagree, and libgit2 tells
	git config core.autocrlf true
	rm config/big/.gitattributes
	printf 'config/big/*.yaml text eol=lf\nconfig/big/f004.yaml text=unset !eol\n' >> .gitattributes
	run git add -A
	[ "$status" -ne 0 ]
	[[ $output == *"'config/big/f004.yaml': core.autocrlf=true (no text attribute) makes git hand the filter CRLF line ends at checkout"* ]]
	[ -z "$(git ls-files config/big)" ]
}

# One filter process serves one git command, which reads its config once;
# a command of many steps (a rebase) writes the index between them, and
# core.autocrlf is read again then (src/git/attrs.c, line_end_config).
@test "one filter process, core.autocrlf set and the index rewritten between two cleans: the second is refused" {
	printf 'A=a-s3cr3t\n' > config/a.env
	printf 'B=b-s3cr3t\n' > config/b.env
	start_filter_process 2> "$T/err"
	# clean FILE N: one clean request, waited for until N answers came
	clean() {
		{ pkt_text command=clean; pkt_text "pathname=$1"; printf 0000; pkt_file "$1"; printf 0000; } >&5
		for _ in $(seq 200); do
			[ "$(grep -acE 'status=(success|error)' "$T/out")" -lt "$2" ] || break
			sleep 0.05
		done
	}
	clean config/a.env 1
	[ "$(grep -ac 'status=success' "$T/out")" -eq 1 ]
	git config core.autocrlf true
	printf 'x\n' > other.txt
	git update-index --add other.txt
	clean config/b.env 2
	exec 5>&-
	run wait "$filter_pid"
	[ "$(grep -ac 'status=success' "$T/out")" -eq 1 ]
	[ "$(grep -ac 'status=error' "$T/out")" -eq 1 ]
	grep -q "'config/b.env': core.autocrlf=true (no text attribute) makes git hand the filter CRLF" "$T/err"
}

# check-attr prints -text and text=unset (a string: no text attribute,
# the line ends left to core.autocrlf) both as "unset"; where the two
# readings disagree git's own tells (src/git/attrs.c: ls-files --eol),
# for a file asked alone and for a large directory's.
@test "-text seals and text=unset is refused under core.autocrlf=true, alone and in a large directory" {
	git config core.autocrlf true
	printf 'config/a.env text=unset\nconfig/[bz]*.env -text\nconfig/big/** -text\n' >> .gitattributes
	printf 'A=a-s3cr3t\n' > config/a.env
	printf 'B=b-s3cr3t\n' > config/b.env
	refused_add config/a.env "'config/a.env': core.autocrlf=true (no text attribute) makes git hand the filter CRLF line ends at checkout"
	git add config/b.env
	git show :config/b.env | grep -q '^B=ENC\['
	mkdir -p config/big
	for i in $(seq -w 1 260); do printf 'K=v%s\n' "$i" > "config/big/f$i.env"; done
	# after the directory's, a file asked alone of the same check-attr
	printf 'Z=z-s3cr3t\n' > config/zz.env
	GIT_TRACE2_EVENT="$T/trace" git add config/big config/zz.env
	[ "$(git ls-files config/big | wc -l)" -eq 260 ]
	git show :config/big/f260.env | grep -q '^K=ENC\['
	git show :config/zz.env | grep -q '^Z=ENC\['
	# ls-files --eol for the first file alone, then for the directory (a
	# racily clean config/b.env may be cleaned again as git writes the index)
	[ "$(grep -c '"event":"start".*"ls-files","-z","--eol".*config/big/' "$T/trace")" -eq 2 ]
	# one check-attr: the first files' and the read-ahead's many at once
	[ "$(grep -c '"event":"start".*"check-attr"' "$T/trace")" -eq 1 ]
}

# From a directory's second file on, git's ls-files --eol answer for all
# its files is kept (src/git/attrs.c, git_line_ends): each file is read
# from its own line of it, -text and text=unset alike in one directory.
@test "-text and text=unset files in one directory under core.autocrlf=true: each read from git's answer for the directory" {
	git config core.autocrlf true
	mkdir -p config/mix
	printf 'config/mix/* -text\nconfig/mix/f4.env text=unset\nconfig/mix/f7.env text=unset\n' >> .gitattributes
	for i in 1 2 3 4 5 6 7; do printf 'K=v%s\n' "$i" > "config/mix/f$i.env"; done
	GIT_TRACE2_EVENT="$T/trace" run git add config/mix
	[ "$status" -ne 0 ]
	[[ $output == *"'config/mix/f4.env': core.autocrlf=true (no text attribute) makes git hand the filter CRLF"* ]]
	[ "$(grep -c '"event":"start".*"ls-files","-z","--eol".*config/mix/' "$T/trace")" -eq 2 ]
	# f5 and f6 (-text) after a text=unset one, then f7
	rm config/mix/f4.env
	run git add config/mix
	[ "$status" -ne 0 ]
	[[ $output == *"'config/mix/f7.env': core.autocrlf=true (no text attribute) makes git hand the filter CRLF"* ]]
	[[ $output != *f5.env* ]]
	rm config/mix/f7.env
	git add config/mix
	[ "$(git ls-files config/mix | wc -l)" -eq 5 ]
}

# git gives CRLF line ends for eol=crlf over crlf=input (convert_attrs)
@test "crlf=input with eol=crlf: git add refuses" {
	printf 'config/a.env crlf=input eol=crlf\n' >> .gitattributes
	printf 'A=a-s3cr3t\n' > config/a.env
	refused_add config/a.env "'config/a.env': the attribute eol=crlf (from gitattributes) makes git hand the filter CRLF line ends at checkout"
}
