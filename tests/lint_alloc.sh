#!/bin/sh
# lint_alloc.sh: gitseal's code allocates plain memory only through
# gitseal/alloc.h (gs_malloc, gs_strdup, gs_asprintf, ...), the one place
# where the test build's GITSEAL_TEST_FAIL_ALLOC makes an allocation fail:
# a direct malloc would be an out-of-memory path no sweep walks
# (tests/*/oom.bats). The test build's hooks for the libraries' own
# allocations (libyaml, OpenSSL, libgit2) call the C library after asking
# *_alloc_refused(): those lines are the one other place. Exit 1 on a finding.
grep -rnE '(^|[^_[:alnum:].>])(malloc|calloc|realloc|reallocarray|strdup|strndup|v?asprintf)[[:space:]]*\(' \
	--include='*.c' --include='*.h' src include |
	grep -v '^src/util/alloc\.c:' | grep -v '_alloc_refused(' | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)' |
	sed 's/$/ (use gitseal\/alloc.h)/' | grep . && exit 1
exit 0
