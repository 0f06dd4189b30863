#!/bin/sh
# lint_negations.sh [FILES...]: find bats checks that cannot fail.
# A bats test runs under set -e, but bash never exits on a command negated
# with `!` (bash(1), "set -e"), nor on the left side of `a || ! b`: such a
# line in the middle of a test or a helper asserts nothing. Write
# `! cmd || false` (or `|| return 1` in a helper), or `run ! cmd` where the
# test does not read $output and $status afterwards.
# Default FILES: every .bats and .bash file under tests/. Exit 1 on a finding.
[ $# -gt 0 ] || set -- $(find tests -name '*.bats' -o -name '*.bash' | sort)
awk '
	function report(line, text) {
		printf "%s:%d: a negated check that cannot fail (end it with || false): %s\n", FILENAME, line, text
		bad = 1
	}
	FNR == 1 { heredoc = ""; joined = "" }
	# the body of a here-document is data, not commands
	heredoc != "" { t = $0; sub(/^[ \t]+/, "", t); if (t == heredoc) heredoc = ""; next }
	{
		# a command continued with a trailing backslash is read as one line
		if (joined == "") start = FNR
		joined = joined $0
		if (joined ~ /\\$/) { sub(/\\$/, " ", joined); next }
		line = joined; joined = ""
		# not a run of "<" (a quoted conflict marker, <<<<<<< ours)
		if (match(line, /(^|[^<])<<-?[ \t]*["\047]?[A-Za-z_][A-Za-z0-9_]*/)) {
			heredoc = substr(line, RSTART, RLENGTH)
			sub(/^[^<]?<<-?[ \t]*["\047]?/, "", heredoc)
		}
		t = line
		sub(/^[ \t]+/, "", t); sub(/[ \t]+$/, "", t)
		if (t ~ /^#/) next
		ok = t ~ /\|\|[ \t]*(false|return 1)$/ || t ~ /\|\|[ \t]*\{.*;[ \t]*(false|return 1);?[ \t]*\}$/
		if (t ~ /^![ \t]/) { if (!ok) report(start, t); next }
		# a negation after a list or pipe operator: `a || ! b`, `a | ! b`
		if (t ~ /^(if|elif|while|until)[ \t]/) next
		s = t
		gsub(/\047[^\047]*\047/, "\047\047", s)
		gsub(/"[^"]*"/, "\"\"", s)
		gsub(/\[\[[^]]*\]\]/, "[[ ]]", s)
		gsub(/\(\([^)]*\)\)/, "(( ))", s)
		if (s ~ /(\||&|;|\{|\(|[ \t](then|do|else))[ \t]*![ \t]/ && !ok) report(start, t)
	}
	END { exit bad }
' "$@"
