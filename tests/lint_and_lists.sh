#!/bin/sh
# lint_and_lists.sh [FILES...]: find `a && b` lines that hide a failure of a.
# A bats test (and every function it calls) runs under set -e, but bash does
# not exit when a command of an && list other than the last one fails
# (bash(1), "set -e"): a line `check1 && check2` in the middle of a test or
# a helper asserts check2 only. Write the two commands on lines of their
# own. Not reported, as they cannot hide a failure or are conditions on
# purpose:
#  - && inside quotes (over several lines too: an awk program), $(...),
#    [[ ]] or (( )) (`run sh -c 'a && b'`);
#  - a list with || (`a && b || c`: the || decides);
#  - a list that ends in break, continue, return or exit (a condition), or
#    in false (`cmd && false`: cmd must fail);
#  - if/elif/while/until conditions;
#  - the last command of a test or a function (its status is the test's or
#    the function's: bats fails the test, a caller under set -e stops);
#  - the last list of a subshell that is a whole line, redirections after
#    it or not (its status is the subshell's: `(cd d && cmd) >out`).
# A line that ends in &&, || or |, or in an open subshell, goes on on the
# next line, as in bash.
# Default FILES: every .bats and .bash file under tests/. Exit 1 on a finding.
[ $# -gt 0 ] || set -- $(find tests -name '*.bats' -o -name '*.bash' | sort)
awk '
	function report(line, text) {
		printf "%s:%d: a && list that hides a failure of its first command (one command a line): %s\n", FILENAME, line, text
		bad = 1
	}
	function flush_pending() {
		if (pending != "") report(pending_line, pending)
		pending = ""
	}
	# The line with what is quoted left out (a quote open at its end stays
	# open on the next line: sq, dq) and the comment at its end cut.
	function unquote(line,    out, i, c, n) {
		out = ""
		n = length(line)
		for (i = 1; i <= n; i++) {
			c = substr(line, i, 1)
			if (sq) { if (c == "\047") { sq = 0; out = out "Q" } continue }
			if (dq) {
				if (c == "\\") i++
				else if (c == "\"") { dq = 0; out = out "Q" }
				continue
			}
			if (c == "\\") { i++; out = out "_"; continue }
			if (c == "\047") { sq = 1; continue }
			if (c == "\"") { dq = 1; continue }
			if (c == "#" && (i == 1 || substr(line, i - 1, 1) ~ /[ \t;]/)) break
			# a here-document: where its operator stands outside quotes
			if (c == "<" && !here_at && substr(line, i, 2) == "<<" && substr(line, i + 2, 1) != "<" &&
			    (i == 1 || substr(line, i - 1, 1) != "<"))
				here_at = i
			out = out c
		}
		return out
	}
	# Whether a logical line (quotes left out) has an && list that can
	# hide a failure.
	function hides(s,    n, parts, i, p, inner, r) {
		while (match(s, /\$\([^()]*\)/)) s = substr(s, 1, RSTART - 1) "$" substr(s, RSTART + RLENGTH)
		gsub(/\[\[[^]]*\]\]/, "[[ ]]", s)
		gsub(/\(\([^)]*\)\)/, "(( ))", s)
		sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s)
		if (s !~ /&&/) return 0
		if (s ~ /^(if|elif|while|until|!)[ \t]/) return 0
		# a whole-line subshell, redirections after it or not: its last
		# list is its status
		inner = 0
		r = s
		while (r !~ /\)$/ && sub(/[ \t]*[0-9&]*[<>]+&?[ \t]*[^ \t<>()]+$/, "", r))
			;
		if (r ~ /^\(.*\)$/) {
			s = substr(r, 2, length(r) - 2)
			inner = 1
		}
		n = split(s, parts, /;|(^|[ \t])(then|do|else)[ \t]|&[ \t]*$/)
		# the last list is the last part with a command
		while (n > 1 && parts[n] ~ /^[ \t]*$/)
			n--
		for (i = 1; i <= n; i++) {
			p = parts[i]
			sub(/^[ \t]+/, "", p); sub(/[ \t]+$/, "", p)
			if (p !~ /&&/ || p ~ /\|\|/) continue
			if (p ~ /&&[ \t]*(break|continue|return|exit|false)([ \t][^&|]*)?$/) continue
			if (inner && i == n) continue
			return 1
		}
		return 0
	}
	FNR == 1 { flush_pending(); heredoc = ""; joined = ""; body = 0; sq = 0; dq = 0 }
	heredoc != "" { t = $0; sub(/^[ \t]+/, "", t); if (t == heredoc) heredoc = ""; next }
	{
		if (joined == "") { start = FNR; text = "" }
		text = text (text == "" ? "" : " ") $0
		here_at = 0
		u = unquote($0)
		if (here_at && match(substr($0, here_at), /^<<-?[ \t]*["\047]?[A-Za-z_][A-Za-z0-9_]*/)) {
			heredoc = substr($0, here_at, RLENGTH)
			sub(/^<<-?[ \t]*["\047]?/, "", heredoc)
		}
		joined = joined u
		# the command goes on: in a quote, after a backslash, &&, || or |
		if (sq || dq) { joined = joined " "; next }
		if ($0 ~ /\\$/) { sub(/_$/, " ", joined); next }
		if (joined ~ /(&&|\|\||\|)[ \t]*$/) { joined = joined " "; next }
		# a subshell open over several lines
		opened = joined
		if (gsub(/\(/, "(", opened) > gsub(/\)/, ")", opened)) { joined = joined "; "; next }
		line = joined; joined = ""
		t = line
		sub(/^[ \t]+/, "", t); sub(/[ \t]+$/, "", t)
		if (t == "") next
		# a test or a function body, closed by a "}" in the first column
		if (line ~ /^@test[ \t]/ || line ~ /^(function[ \t]+)?[A-Za-z_][A-Za-z0-9_]*[ \t]*\(\)[ \t]*\{[ \t]*$/) {
			flush_pending(); body = 1; next
		}
		if (line ~ /^}/) { pending = ""; body = 0; next }
		if (!body) next
		flush_pending()
		if (hides(t)) { pending = text; sub(/^[ \t]+/, "", pending); pending_line = start }
	}
	END { flush_pending(); exit bad }
' "$@"
