#!/usr/bin/env bats
# Red team 17 (docs/threat-model.md): the cluster side as a pull request's
# author sees it, who controls every file of the app but not the key.

load k8s_helpers

setup() {
	k8s_setup
	REPO="$TMP/repo"
	mkdir -p "$REPO/app" "$TMP/other/app"
	git init -q "$REPO"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other-tenant\ndata:\n  k: other-value\n' \
		>"$TMP/other/app/cm.yaml"
	printf 'resources: [cm.yaml]\n' >"$TMP/other/app/kustomization.yaml"
}
teardown() { teardown_tmp; }

# kustomize takes a resource it cannot clone as a local path, joined and
# cleaned by its words: 'a://b/../../x' is '../x' and a base may lie
# anywhere. gitseal took every text with '://' (or git::, gh:, ...) for a
# remote base and never checked it: the other checkout's ConfigMap came
# out, exit 0.
@test "R1: a base that looks remote but that kustomize reads as a local path out of the root is refused" {
	local base
	for base in 'a://b/../../../../other/app' 'git::../../../../other/app' 'gh:../../../../other/app' \
		'github.com/../../../../other/app'; do
		printf 'resources:\n- "%s"\n' "$base" >"$REPO/app/kustomization.yaml"
		# kustomize reads it (the test's premise), for the first two at least
		if [[ $base == a://* || $base == git::* ]]; then
			kubectl kustomize "$REPO/app" | grep -q other-value
		fi
		run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
		[ "$status" -eq 1 ]
		[ -z "$output" ]
		[ "$stderr" = "gitseal: error: 'app/kustomization.yaml': '$base' leads outside the root" ]
		run --separate-stderr "$GITSEAL_BIN" render --discover "$REPO/app"
		[ "$status" -eq 1 ]
	done
	# as generators too
	printf 'generators:\n- "a://b/../../../../other/app"\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	grep -q "leads outside the root" <<<"$stderr"
	# inside the root it is walked as the local base it is
	mkdir -p "$REPO/base"
	cp "$TMP/other/app/"* "$REPO/base/"
	printf 'resources:\n- "a://b/../../../base"\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ]
	grep -q other-value <<<"$output"
	# a real remote base is still left to kustomize (no clone here: it fails)
	printf 'resources:\n- "https://example.invalid/org/repo//app?ref=v1"\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render --discover "$REPO/app"
	[ "$status" -eq 0 ]
}
