#!/usr/bin/env bash
# The one list of what gitseal needs to build and test. Installs, only when
# missing, Debian packages (apt-get) and the npm packages of the interop
# tests (into ./node_modules, git-ignored). Safe to run again and again.
# --system: only the Debian packages (what the build needs); --npm: only
# the npm packages, which make check installs beside the build (a fresh
# clone's npm install is seconds of waiting on the registry, the cores
# otherwise idle).
set -euo pipefail
cd "$(dirname "$0")/.."
part=${1:-all}
case $part in
all | --system | --npm) ;;
*) echo "usage: $0 [--system | --npm]" >&2; exit 2 ;;
esac

DEBIAN_PACKAGES=(
	build-essential pkg-config clang libclang-rt-14-dev
	libsodium-dev libssl-dev libyaml-dev libgit2-dev libcurl4-openssl-dev zlib1g-dev
	libcmocka-dev bats valgrind time hyperfine bsdutils bc binutils lld strace
	age git-crypt openssh-client openssl git gnupg
	groff-base mandoc man-db dpkg-dev bash-completion zsh fish
)
NPM_PACKAGES=(age-encryption@0.3.1 sops-age@4.0.2)

missing=()
[ "$part" != --npm ] || DEBIAN_PACKAGES=()
for p in "${DEBIAN_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere than Debian (it then brings its own npm);
# so may python3 (the tests use it to generate inputs). With --npm, the
# --system run before has installed them.
if [ "$part" != --npm ]; then
	command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
	command -v python3 >/dev/null 2>&1 || missing+=(python3)
	# make redteam's oracle reads YAML with PyYAML
	if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import yaml' 2>/dev/null; then
		missing+=(python3-yaml)
	fi
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}" >&2
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	# A dpkg run cut short (a killed install, a trigger left pending) makes
	# every apt-get install fail until it is finished: finish it first.
	if [ -n "$(dpkg --audit 2>/dev/null)" ]; then
		echo "install-deps: finishing an interrupted dpkg run (dpkg --configure -a)" >&2
		$SUDO dpkg --configure -a >/dev/null
	fi
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

need_npm=0
[ "$part" != --system ] || NPM_PACKAGES=()
for p in "${NPM_PACKAGES[@]}"; do
	name=${p%@*}
	[ -d "node_modules/$name" ] || need_npm=1
done
if [ $need_npm -eq 1 ]; then
	echo "install-deps: installing npm packages ${NPM_PACKAGES[*]}" >&2
	npm install --no-save --no-audit --no-fund --silent "${NPM_PACKAGES[@]}" >/dev/null
fi

# kubectl (with its kustomize) and kpt come with this machine image, not from
# Debian: tests/k8s needs them.
for tool in kubectl kpt; do
	command -v "$tool" >/dev/null 2>&1 ||
		echo "install-deps: warning: $tool not found; tests/k8s will fail" >&2
done
