#!/bin/sh
# Prints gitseal's version. In a git checkout: `git describe` of the last
# release tag vX.Y.Z (the 'v' dropped; "-N-gHASH" after it, "-dirty" for
# uncommitted changes). Before the first tag, the same form counted from the
# root commit on UNTAGGED_BASE. Outside git (a tarball made by `make dist`):
# the VERSION file. `make VERSION=...` overrides all of this.
#   version.sh --epoch   the time of that version, in seconds since 1970:
#   SOURCE_DATE_EPOCH, else the commit's time, else the VERSION file's
#   (the man pages' date and the Debian changelog's, so builds repeat).
UNTAGGED_BASE=0.1.0
cd "$(dirname "$0")/.." || exit 1
if [ "${1:-}" = --epoch ]; then
	if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
		echo "$SOURCE_DATE_EPOCH"
	elif [ -e .git ] && t=$(git log -1 --format=%ct 2>/dev/null) && [ -n "$t" ]; then
		echo "$t"
	elif [ -e VERSION ]; then
		stat -c %Y VERSION
	else
		stat -c %Y Makefile
	fi
	exit 0
fi
# .git at the top of this tree only: a tarball unpacked inside another
# repository must not take that repository's version.
if [ -e .git ] && command -v git >/dev/null 2>&1; then
	if v=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
		echo "${v#v}"
		exit 0
	fi
	if h=$(git describe --always --dirty 2>/dev/null) && n=$(git rev-list --count HEAD 2>/dev/null); then
		echo "$UNTAGGED_BASE-$n-g$h"
		exit 0
	fi
fi
if [ -s VERSION ]; then
	head -n 1 VERSION
	exit 0
fi
echo "$UNTAGGED_BASE-unknown"
