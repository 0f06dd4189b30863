#!/usr/bin/env bats
# render's and krm's command lines (issue 18): flags from their option
# tables (src/cmd/options.h), Go's flag syntax and messages, a usage error
# exits 1 as the sops commands do (docs/exit-codes.md), --help anywhere.

bats_require_minimum_version 1.5.0
load k8s_helpers

setup() {
	k8s_setup
	write_manifests_once "$APP"
}
teardown() { teardown_tmp; }

# usage_error MESSAGE CMD...: exit 1, the one line MESSAGE, nothing on stdout
usage_error() {
	local msg=$1
	shift
	run --separate-stderr "$GITSEAL_BIN" "$@"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: $msg" ]
}

@test "render: a usage error exits 1 with one line naming it" {
	usage_error "flag provided but not defined: -bogus" render --bogus "$APP"
	usage_error "flag provided but not defined: -legacy" render --legacy x "$APP"
	usage_error "flag needs an argument: -root" render "$APP" --root
	usage_error "more than one directory: '$APP' and 'b'" render "$APP" b
	usage_error "--bind-namespace= needs at least one namespace" render --bind-namespace= "$APP"
	usage_error 'invalid boolean value "maybe" for -allow-empty: parse error' render --allow-empty=maybe "$APP"
}

@test "render: flags after the directory, one dash or two, values after '=' or as the next word" {
	run --separate-stderr "$GITSEAL_BIN" render "$APP" -root "$TMP"
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	run --separate-stderr "$GITSEAL_BIN" render --root="$TMP/elsewhere" "$APP"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: root '$TMP/elsewhere': No such file or directory" ]
	# --bind-namespace alone never takes the next word: the directory stays a directory
	run --separate-stderr "$GITSEAL_BIN" render --bind-namespace "$APP"
	[ "$status" -eq 1 ]
	grep -q "its source names no namespace (--bind-namespace)" <<<"$stderr"
	ARGOCD_APP_NAMESPACE=apps run --separate-stderr "$GITSEAL_BIN" render "$APP" --bind-namespace=apps,other
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
	# '--' ends the flags
	mkdir "$TMP/-d"
	cp "$APP"/*.yaml "$TMP/-d/"
	cd "$TMP"
	run --separate-stderr "$GITSEAL_BIN" render -- -d
	[ "$status" -eq 0 ]
	grep -q 'password: t0p-s3cr3t' <<<"$output"
}

@test "render --help: on stdout, exit 0, every flag of the table, also after other words" {
	for args in "--help" "-h" "$APP --help" "--allow-empty -h"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$GITSEAL_BIN" render $args
		[ "$status" -eq 0 ]
		[ -z "$stderr" ]
		grep -qx 'usage: gitseal render \[flags\] \[DIR\]' <<<"$output"
		for flag in '--root DIR' '--bind-namespace\[=NS,...\]' '--allow-empty' '--discover'; do
			grep -q "^      $flag  " <<<"$output"
		done
	done
	run --separate-stderr "$GITSEAL_BIN" help render
	[ "$status" -eq 0 ]
	grep -qx 'usage: gitseal render \[flags\] \[DIR\]' <<<"$output"
}

@test "krm: usage errors exit 1 with one line; --help lists the table" {
	usage_error "flag provided but not defined: -discover" krm --discover
	usage_error "flag needs an argument: -legacy" krm --legacy
	usage_error "unexpected argument 'x.yaml' (the config of the legacy mode is given with --legacy)" krm x.yaml
	run --separate-stderr "$GITSEAL_BIN" krm --help
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	grep -q '^usage: gitseal krm \[flags\]' <<<"$output"
	grep -q '^      --root DIR  ' <<<"$output"
	grep -q '^      --legacy CONFIG  ' <<<"$output"
	# the ksops name: its own usage, exit 1 for a wrong call, 0 for --help
	ln -s "$GITSEAL_BIN" "$TMP/ksops"
	run --separate-stderr "$TMP/ksops" a b
	[ "$status" -eq 1 ]
	[ "$stderr" = "usage: ksops [CONFIG]   (gitseal's KSOPS-compatible generator)" ]
	run --separate-stderr "$TMP/ksops" --help
	[ "$status" -eq 0 ]
	[ "$output" = "usage: ksops [CONFIG]   (gitseal's KSOPS-compatible generator)" ]
}
