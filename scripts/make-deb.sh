#!/bin/sh
# make-deb.sh ROOT VERSION EPOCH OUTDIR SONAME...
#
# Turns ROOT (.../debian/gitseal), a `make install DESTDIR=ROOT PREFIX=/usr`
# tree, into
# OUTDIR/gitseal_<version>_<arch>.deb with dpkg-deb, offline:
#   - the binary stripped, man pages compressed (gzip -9n) and their alias
#     links pointed at the compressed pages;
#   - /usr/share/doc/gitseal: copyright (packaging/copyright, DEP-5) and a
#     changelog dated EPOCH;
#   - Depends from dpkg-shlibdeps (the libraries the binary links), and
#     Recommends on the packages holding each SONAME, the libraries gitseal
#     opens at run time (OpenSSL, libgit2, libcurl);
#   - files owned by root (--root-owner-group), directories 0755, files 0644.
# VERSION is the upstream version (scripts/version.sh); the package version
# is the same with '+' and '.' for '-' ("0.1.0-12-gabc" gives
# "0.1.0+12.gabc"), so dpkg orders builds after their tag, and "~rc1" for a
# "-rc1" tag, before its release.
set -eu
[ $# -ge 4 ] || { echo "usage: $0 ROOT VERSION EPOCH OUTDIR SONAME..." >&2; exit 2; }
root=$(cd "$1" && pwd) version=$2 epoch=$3 outdir=$4
shift 4
top=$(cd "$(dirname "$0")/.." && pwd)
: "${DEB_MAINTAINER:=gitseal maintainers <maintainers@users.noreply.r-seed-a5b2c396.example>}"

arch=$(dpkg --print-architecture)
debversion=$(printf '%s\n' "$version" |
	sed -E 's/-(rc|alpha|beta)/~\1/; s/-([0-9]+)-g/+\1.g/; s/-/./g')
case "$debversion" in
[0-9]*) ;;
*) echo "make-deb.sh: '$version' does not make a Debian version" >&2; exit 1 ;;
esac
doc=$root/usr/share/doc/gitseal

strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/gitseal"

for dir in "$root/usr/share/man/man1" "$root/usr/share/man/man5"; do
	[ -d "$dir" ] || continue
	for page in "$dir"/*; do
		if [ -L "$page" ]; then
			target=$(readlink "$page")
			rm "$page"
			ln -s "$target.gz" "$page.gz"
		else
			gzip -9n "$page"
		fi
	done
done

mkdir -p "$doc"
cp "$top/packaging/copyright" "$doc/copyright"
date=$(date -u -R -d "@$epoch")
{
	printf 'gitseal (%s) unstable; urgency=medium\n\n' "$debversion"
	printf '  * Build of upstream version %s.\n\n' "$version"
	printf ' -- %s  %s\n' "$DEB_MAINTAINER" "$date"
} | gzip -9n >"$doc/changelog.gz"

# dpkg-shlibdeps wants the tree at debian/gitseal in a source package.
case "$root" in
*/debian/gitseal) ;;
*) echo "make-deb.sh: ROOT must be a directory debian/gitseal" >&2; exit 2 ;;
esac
work=${root%/debian/gitseal}
mkdir -p "$root/DEBIAN"
printf 'Source: gitseal\n\nPackage: gitseal\nArchitecture: any\n' >"$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O debian/gitseal/usr/bin/gitseal)
depends=${depends#shlibs:Depends=}
case "$depends" in
*libsodium*) ;;
*) echo "make-deb.sh: dpkg-shlibdeps found no libsodium in '$depends'" >&2; exit 1 ;;
esac

# The package holding each run-time library, for this architecture.
recommends=
for soname in "$@"; do
	[ -n "$soname" ] || continue
	path=$(ldconfig -p | awk -v n="$soname" '$1 == n { print $NF; exit }')
	pkg=
	for p in "$path" "$(readlink -f "$path" 2>/dev/null)" "/usr$path"; do
		[ -n "$p" ] || continue
		pkg=$(dpkg-query -S "$p" 2>/dev/null | sed -n '1s/:.*//p') && [ -n "$pkg" ] && break
	done
	if [ -z "$pkg" ]; then
		echo "make-deb.sh: no package holds $soname" >&2
		exit 1
	fi
	recommends="${recommends:+$recommends, }$pkg"
done

(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: gitseal
Version: $debversion
Architecture: $arch
Maintainer: $DEB_MAINTAINER
Installed-Size: $size
Depends: $depends
Recommends: $recommends
Suggests: git, gnupg
Section: utils
Priority: optional
Description: sops-compatible secrets encryption, git filter and cluster decryptor
 gitseal encrypts the values of YAML, JSON, dotenv and INI files (binary
 files whole) and leaves their keys readable, in a format byte-compatible
 with sops 3.x; data keys are wrapped for age recipients (X25519,
 ssh-ed25519, ssh-rsa) and HashiCorp Vault transit keys.
 .
 It is also a git filter, diff and merge driver (plaintext in the working
 tree, ciphertext in every commit), an age v1 command line, and an
 in-cluster decryptor for Argo CD and kustomize (a KSOPS replacement).
EOF

find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
chmod 0755 "$root/usr/bin/gitseal"
# no file newer than the version: the same commit gives the same package
find "$root" -newermt "@$epoch" -exec touch -h -d "@$epoch" {} +

mkdir -p "$outdir"
deb=$outdir/gitseal_${debversion}_$arch.deb
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
