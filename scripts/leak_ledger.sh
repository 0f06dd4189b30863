#!/bin/sh
# leak_ledger.sh DIR: after an ASan suite run with GITSEAL_TEST_LEAK_LEDGER=DIR
# (Makefile, src/main.c): how many gitseal processes LeakSanitizer checked,
# and a failure if any process reported a leak or another sanitizer error,
# whether or not its test saw the exit status.
dir=$1
if [ -f "$dir/processes" ]; then
	awk '{ n++; if ($1 == "checked") c++ } END { printf "leak ledger: %d gitseal processes, %d leak-checked\n", n, c }' \
		"$dir/processes"
fi
if [ -s "$dir/reports" ]; then
	echo "leak ledger: sanitizer reports in $dir/reports:" >&2
	cat "$dir/reports" >&2
	exit 1
fi
