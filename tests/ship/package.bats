#!/usr/bin/env bats
# Installing gitseal: make install/uninstall into a DESTDIR, the release
# tarball of make dist (it builds, and knows its version), and the Debian
# package of make deb (its fields and files, then dpkg -i, gitseal
# --version, man -w and dpkg -r on this machine when run as root).

load ship_helpers

DEB_LOCK=/tmp/gitseal-deb-test.lock

setup() {
	setup_tmp
	VERSION=$("$GITSEAL_BIN" --version | awk '{ print $2 }')
}

teardown() {
	# a failed dpkg test must not leave the package installed
	if [ -e "$TMP/installed" ]; then
		dpkg_retry --no-triggers -r gitseal >/dev/null 2>&1 || true
		dpkg --triggers-only man-db >/dev/null 2>&1 || true
	fi
	teardown_tmp
}

# make in the tree, without the outer make's job server.
tree_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$REPO_ROOT" "$@"
}

# made_deb: make deb, once a run of this file (both deb tests check the
# same package; the second make cost 7 s of CPU); $deb its path.
made_deb() {
	if [ ! -f "$BATS_FILE_TMPDIR/deb" ]; then
		run tree_make deb
		[ "$status" -eq 0 ] || { echo "$output"; return 1; }
		printf '%s\n' "$REPO_ROOT/${lines[-1]}" >"$BATS_FILE_TMPDIR/deb"
	fi
	read -r deb <"$BATS_FILE_TMPDIR/deb"
	[ -f "$deb" ]
}

# dpkg, waiting for its lock while another dpkg or apt runs (up to a minute).
dpkg_retry() {
	local i out
	for i in $(seq 60); do
		if out=$(dpkg "$@" 2>&1); then
			printf '%s\n' "$out"
			return 0
		fi
		case $out in
		*"lock"*) sleep 1 ;;
		*) printf '%s\n' "$out" >&2; return 1 ;;
		esac
	done
	printf '%s\n' "$out" >&2
	return 1
}

@test "install: PREFIX, DESTDIR, BINDIR and MANDIR place every file; uninstall removes them all" {
	local dest=$TMP/dest
	run tree_make install DESTDIR="$dest" PREFIX=/opt/gs BINDIR=/opt/bin MANDIR=/opt/man
	[ "$status" -eq 0 ] || { echo "$output"; false; }

	[ "$(stat -c %a "$dest/opt/bin/gitseal")" = 755 ]
	[ "$("$dest/opt/bin/gitseal" --version)" = "$("$GITSEAL_BIN" --version)" ]
	local page
	for page in "$REPO_ROOT"/man/*.[1-9]; do
		page=$(basename "$page")
		[ "$(stat -c %a "$dest/opt/man/man${page##*.}/$page")" = 644 ] || { echo "missing $page"; false; }
	done
	# every name of a family page finds it, through a link
	[ "$(readlink "$dest/opt/man/man1/gitseal-unset.1")" = gitseal-set.1 ]
	[ "$(man -M "$dest/opt/man" -w gitseal-unset)" = "$dest/opt/man/man1/gitseal-set.1" ]
	[ "$(man -M "$dest/opt/man" -w 5 gitseal-sops.yaml)" = "$dest/opt/man/man5/gitseal-sops.yaml.5" ]
	MANWIDTH=80 man -M "$dest/opt/man" gitseal-updatekeys 2>/dev/null | grep -q 'gitseal updatekeys'
	[ -f "$dest/opt/gs/share/bash-completion/completions/gitseal" ]
	[ -f "$dest/opt/gs/share/zsh/site-functions/_gitseal" ]
	[ -f "$dest/opt/gs/share/fish/vendor_completions.d/gitseal.fish" ]
	# the installed bash completion registers itself
	bash -c "source '$dest/opt/gs/share/bash-completion/completions/gitseal' && complete -p gitseal" |
		grep -q -- '-F _gitseal gitseal'

	run tree_make uninstall DESTDIR="$dest" PREFIX=/opt/gs BINDIR=/opt/bin MANDIR=/opt/man
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run find "$dest" ! -type d
	[ "$status" -eq 0 ] && [ -z "$output" ] || { echo "left behind: $output"; false; }
}

@test "install: the default PREFIX is /usr/local" {
	run tree_make install DESTDIR="$TMP/dest"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ -x "$TMP/dest/usr/local/bin/gitseal" ]
	[ -f "$TMP/dest/usr/local/share/man/man1/gitseal.1" ]
	[ -f "$TMP/dest/usr/local/share/man/man5/gitseal-sops.yaml.5" ]
	[ -f "$TMP/dest/usr/local/share/bash-completion/completions/gitseal" ]
	[ -f "$TMP/dest/usr/local/share/zsh/site-functions/_gitseal" ]
	[ -f "$TMP/dest/usr/local/share/fish/vendor_completions.d/gitseal.fish" ]
}

@test "dist: the tarball holds HEAD's files and a VERSION file, and a build from it takes that version" {
	command -v git >/dev/null && git -C "$REPO_ROOT" rev-parse HEAD >/dev/null 2>&1 ||
		skip "not a git checkout"
	run tree_make dist
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	local tarball=$REPO_ROOT/${lines[-1]} want=${VERSION%-dirty}
	[ "$tarball" = "$REPO_ROOT/build/gitseal-$want.tar.gz" ]
	tar -tzf "$tarball" >"$TMP/list"
	grep -qx "gitseal-$want/VERSION" "$TMP/list"
	grep -qx "gitseal-$want/man/gitseal.1" "$TMP/list"
	! grep -q '/\.git/' "$TMP/list" || false

	mkdir "$TMP/src"
	tar -xzf "$tarball" -C "$TMP/src"
	[ "$(cat "$TMP/src/gitseal-$want/VERSION")" = "$want" ]
	# the tarball is HEAD's tree, which every build from a clone (CI's
	# among them) compiles, and VERSION: the same list of files
	git -C "$REPO_ROOT" ls-tree -r --name-only HEAD | sed "s|^|gitseal-$want/|" >"$TMP/want"
	echo "gitseal-$want/VERSION" >>"$TMP/want"
	grep -v '/$' "$TMP/list" | sort >"$TMP/got"
	sort -o "$TMP/want" "$TMP/want"
	diff -u "$TMP/want" "$TMP/got"
	# outside git, the version comes from VERSION: the header gitseal's
	# --version prints and the man pages' title
	run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$TMP/src/gitseal-$want" build/gen/version.h build/man/gitseal.1
	[ "$status" -eq 0 ] || { echo "$output" | tail -20; false; }
	grep -qx "#define GITSEAL_VERSION \"$want\"" "$TMP/src/gitseal-$want/build/gen/version.h"
	grep -q "\"gitseal $want\"" "$TMP/src/gitseal-$want/build/man/gitseal.1"
}

@test "deb: the package's fields and files" {
	command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed"
	local deb arch debversion
	made_deb
	arch=$(dpkg --print-architecture)
	debversion=$(dpkg-deb -f "$deb" Version)
	[ "$deb" = "$REPO_ROOT/build/gitseal_${debversion}_$arch.deb" ]
	# the upstream version with '-' as '+' and '.'
	[ "$debversion" = "$(sed -E 's/-([0-9]+)-g/+\1.g/; s/-/./g' <<<"$VERSION")" ]
	dpkg --compare-versions "$debversion" gt 0
	[ "$(dpkg-deb -f "$deb" Package)" = gitseal ]
	[ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ]

	# Depends: the linked libraries; Recommends: those opened at run time
	local depends recommends pkg lib
	depends=$(dpkg-deb -f "$deb" Depends)
	[[ $depends == *libsodium* && $depends == *libyaml* && $depends == *libc6* ]] || { echo "$depends"; false; }
	recommends=$(dpkg-deb -f "$deb" Recommends)
	for lib in libcrypto.so libgit2.so libcurl.so; do
		for pkg in ${recommends//,/ }; do
			dpkg -L "$pkg" 2>/dev/null | grep -q "/$lib\." && continue 2
		done
		echo "no package in Recommends ($recommends) holds $lib"
		false
	done

	dpkg-deb -c "$deb" >"$TMP/contents"
	# owned by root, directories 0755, files 0644 but the binary
	! awk '$2 != "root/root"' "$TMP/contents" | grep . || false
	! awk '$1 ~ /^d/ && $1 != "drwxr-xr-x"' "$TMP/contents" | grep . || false
	! awk '$1 ~ /^-/ && $1 != "-rw-r--r--" && $6 != "./usr/bin/gitseal"' "$TMP/contents" | grep . || false
	grep -qE '^-rwxr-xr-x .* \./usr/bin/gitseal$' "$TMP/contents"
	local path
	for path in usr/share/man/man1/gitseal.1.gz usr/share/man/man5/gitseal-sops.yaml.5.gz \
		usr/share/bash-completion/completions/gitseal usr/share/zsh/vendor-completions/_gitseal \
		usr/share/fish/vendor_completions.d/gitseal.fish usr/share/doc/gitseal/copyright \
		usr/share/doc/gitseal/changelog.gz; do
		grep -q " \./$path\$" "$TMP/contents" || { echo "missing /$path"; false; }
	done
	grep -q ' \./usr/share/man/man1/gitseal-unset.1.gz -> gitseal-set.1.gz$' "$TMP/contents"

	mkdir "$TMP/x"
	dpkg-deb -x "$deb" "$TMP/x"
	# stripped; DEP-5 copyright; a changelog of this version
	! readelf -S "$TMP/x/usr/bin/gitseal" | grep -q '\.symtab' || false
	head -n 1 "$TMP/x/usr/share/doc/gitseal/copyright" |
		grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/'
	zcat "$TMP/x/usr/share/doc/gitseal/changelog.gz" >"$TMP/changelog"
	[ "$(dpkg-parsechangelog -l "$TMP/changelog" -S Version)" = "$debversion" ]
}

@test "deb: dpkg -i installs it, gitseal --version and man -w work, dpkg -r leaves nothing" {
	command -v dpkg-deb >/dev/null || skip "dpkg is not installed"
	[ "$(id -u)" -eq 0 ] || skip "installing a package needs root"
	command -v man >/dev/null || skip "man-db is not installed"
	local deb
	made_deb

	exec 9>"$DEB_LOCK"
	flock -w 120 9
	if dpkg-query -W -f='${Status}' gitseal 2>/dev/null | grep -q installed; then
		skip "a gitseal package is installed already: not touching it"
	fi
	# man-db's trigger (a whole mandb run) once at the end, not twice
	dpkg_retry --no-triggers -i "$deb"
	touch "$TMP/installed"
	dpkg -L gitseal >"$TMP/files"

	run /usr/bin/gitseal --version
	[ "$status" -eq 0 ]
	[ "$output" = "$("$GITSEAL_BIN" --version)" ]
	[ "$(man -w gitseal)" = /usr/share/man/man1/gitseal.1.gz ]
	[ "$(man -w gitseal-updatekeys)" = /usr/share/man/man1/gitseal-rotate.1.gz ]
	[ "$(man -w 5 gitseal-sops.yaml)" = /usr/share/man/man5/gitseal-sops.yaml.5.gz ]

	dpkg_retry --no-triggers -r gitseal
	rm "$TMP/installed"
	dpkg_retry --triggers-only man-db >/dev/null
	run dpkg-query -W -f='${Status}' gitseal
	[[ $status -ne 0 || $output == *not-installed* ]]
	local f left=
	while read -r f; do
		[ -d "$f" ] && continue # shared directories such as /usr/share/man
		[ -e "$f" ] || [ -L "$f" ] && left+="$f "
	done <"$TMP/files"
	[ -z "$left" ] || { echo "left behind: $left"; false; }
	[ ! -e /usr/share/doc/gitseal ]
}

@test "release: the shipped build carries no test hook (no GITSEAL_TEST_ name, no leak ledger)" {
	# the test build's hooks are compiled out of the release build, names included
	run grep -ac GITSEAL_TEST_ "$GITSEAL_BIN"
	[ "$output" = "0" ]
	run nm "$GITSEAL_BIN"
	[ "$status" -eq 0 ]
	[[ "$output" != *__lsan_is_turned_off* ]]
	[[ "$output" != *gs_leak_ledger* ]]
}
