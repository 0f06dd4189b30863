#!/bin/sh
# long-functions.sh [N] [FILES...]: the N (default 15) longest functions
# of src/ (or of FILES), longest first, as "lines file:line name".
# A function is what runs from a line starting with a name and '(' at
# column 0, through the next line that is a lone '}' (the kernel and
# wireguard-tools layout gitseal follows).
n=${1:-15}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- $(find src -name '*.c' | sort)
awk '
	/^[a-z_][a-zA-Z0-9_ \*]*[ \*][a-z_][a-zA-Z0-9_]*\(/ && !/;[ \t]*$/ {
		name = $0; sub(/\(.*/, "", name); sub(/.*[ \*]/, "", name)
		start = FNR; file = FILENAME; infn = 1; next
	}
	infn && /^}/ { printf "%d %s:%d %s\n", FNR - start + 1, file, start, name; infn = 0 }
' "$@" | sort -rn | head -n "$n"
