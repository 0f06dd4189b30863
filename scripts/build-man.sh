#!/bin/sh
# Man pages from their sources in man/.
#
#   build-man.sh page VERSION DATE SOURCE   the page with @VERSION@ and @DATE@
#       filled in, and each line "@EXIT_CODES@" (every table) or
#       "@EXIT_CODES words@" (the section whose heading contains the words)
#       replaced by docs/exit-codes.md in roff: one source for the codes.
#   build-man.sh aliases SOURCE...          "ALIAS PAGE" for each extra name in
#       a page's NAME line ("gitseal-set, gitseal-unset \- ..." gives
#       "gitseal-unset.1 gitseal-set.1"), for the links `make install` makes.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

case "${1:-}" in
page)
	[ $# -eq 4 ] || { echo "usage: $0 page VERSION DATE SOURCE" >&2; exit 2; }
	awk -v version="$2" -v date="$3" -v codes="$top/docs/exit-codes.md" '
	# Markdown inline text to roff: `code` in bold with real minus signs,
	# backslashes escaped, a leading dot or quote protected.
	function inline(s,    out, parts, n, i, c) {
		gsub(/\\/, "\\e", s)
		n = split(s, parts, "`")
		out = ""
		for (i = 1; i <= n; i++) {
			c = parts[i]
			if (i % 2 == 0) {
				gsub(/-/, "\\-", c)
				c = "\\fB" c "\\fR"
			}
			out = out c
		}
		if (out ~ /^[.\047]/)
			out = "\\&" out
		return out
	}
	function cells(line, arr,    n, i) {
		sub(/^[ \t]*\|/, "", line)
		sub(/\|[ \t]*$/, "", line)
		n = split(line, arr, "|")
		for (i = 1; i <= n; i++)
			gsub(/^[ \t]+|[ \t]+$/, "", arr[i])
		return n
	}
	# Prints the sections of docs/exit-codes.md whose heading contains
	# want ("" for all, with .SS headings).
	function exit_codes(want,    line, on, heading, row, in_table, pending, body, printed) {
		on = 0
		printed = 0
		while ((getline line < codes) > 0) {
			if (line ~ /^# /)
				continue
			if (line ~ /^## /) {
				heading = substr(line, 4)
				gsub(/`/, "", heading)
				on = want == "" || index(heading, want) > 0
				if (on && want == "")
					print ".SS \"" heading "\""
				pending = on && printed && want != ""
				body = 0
				if (on)
					printed = 1
				in_table = 0
				continue
			}
			if (!on)
				continue
			if (line ~ /^[ \t]*\|/) {
				cells(line, row)
				if (row[1] ~ /^:?-+:?$/ || !in_table) {
					in_table = 1
					continue
				}
				print ".TP"
				print ".B " row[1]
				print inline(row[2])
				pending = 0
				body = 1
				continue
			}
			in_table = 0
			if (line ~ /^[ \t]*$/) {
				pending = pending || body
				continue
			}
			if (pending)
				print ".PP"
			pending = 0
			body = 1
			print inline(line)
		}
		close(codes)
		if (!printed) {
			print "build-man.sh: no section of " codes " matches \"" want "\"" > "/dev/stderr"
			exit 1
		}
	}
	/^@EXIT_CODES( .*)?@$/ {
		want = $0
		sub(/^@EXIT_CODES ?/, "", want)
		sub(/@$/, "", want)
		exit_codes(want)
		next
	}
	{
		gsub(/@VERSION@/, version)
		gsub(/@DATE@/, date)
		print
	}
	' "$4"
	;;
aliases)
	shift
	for src in "$@"; do
		awk '
		FNR == 1 {
			page = FILENAME
			sub(/.*\//, "", page)
			section = page
			sub(/.*\./, "", section)
		}
		/^\.SH NAME/ { getline; names = $0; sub(/ *\\- .*/, "", names)
			n = split(names, list, /, */)
			for (i = 1; i <= n; i++)
				if ((list[i] "." section) != page)
					print list[i] "." section, page
			exit }
		' "$src"
	done
	;;
*)
	echo "usage: $0 page VERSION DATE SOURCE | aliases SOURCE..." >&2
	exit 2
	;;
esac
