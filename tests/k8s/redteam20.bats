#!/usr/bin/env bats
# Red team 20 (docs/threat-model.md) on the cluster side: the confinement
# of render attacked through another encoding of the same kustomization.

load k8s_helpers

setup() {
	k8s_setup
	other_checkout
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mine\n' >"$REPO/app/cm.yaml"
}
teardown() { teardown_tmp; }

# K1: kustomize reads YAML through go-yaml, which decodes a !!binary
# scalar into its bytes; gitseal's walk kept the base64 text, and its
# document keeps no tag of a key. "? !!binary cmVzb3VyY2Vz" (resources) was
# no field to the walk, and "- !!binary <base64 of ../../other/app>" a
# directory of that name the app held as a decoy: render built the other
# checkout's kustomization, exit 0. A !!binary value is refused, however
# its tag is spelled.
@test "K1: a !!binary path or field name in a kustomization is refused: kustomize decodes it, the walk saw base64" {
	local out key decoy
	out=$(printf '../../other/app' | base64)
	key=$(printf resources | base64)
	printf 'resources:\n- cm.yaml\n? !!binary %s\n: [../../other/app]\n' "$key" >"$REPO/app/kustomization.yaml"
	# what kustomize reads (the test's premise)
	kubectl kustomize "$REPO/app" | grep -q other-value
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'app/kustomization.yaml': a !!binary value is not allowed here: kustomize decodes it, gitseal would see its base64 text (line 3)" ]
	# a path, a decoy of its base64 name in the app; the tag as a %TAG handle or verbatim
	decoy="$REPO/app/$out"
	mkdir -p "$decoy"
	printf 'resources: []\n' >"$decoy/kustomization.yaml"
	for tag in '!!binary' '!<tag:yaml.org,2002:binary>'; do
		printf 'resources:\n- cm.yaml\n- %s %s\n' "$tag" "$out" >"$REPO/app/kustomization.yaml"
		kubectl kustomize "$REPO/app" | grep -q other-value
		run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
		[ "$status" -eq 1 ]
		grep -qF 'a !!binary value is not allowed here' <<<"$stderr"
	done
	printf '%%TAG !g! tag:yaml.org,2002:\n---\nresources:\n- !g!binary %s\n' "$out" >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	# the word in a path is no tag
	printf 'resources:\n- cm.yaml\n' >"$REPO/app/kustomization.yaml"
	mkdir "$REPO/app/binary"
	printf 'resources: []\n' >"$REPO/app/binary/kustomization.yaml"
	printf 'resources:\n- cm.yaml\n- binary\n' >"$REPO/app/kustomization.yaml"
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 0 ]
	grep -q 'name: mine' <<<"$output"
}

# K2: the walk read a path as a C string, to its first NUL; kustomize cleans
# the whole text by its words, and "cm.yaml\0/../../../other/app" lost the
# "cm.yaml\0" word to its "..": a file of the app here, another checkout's
# kustomization there, exit 0.
@test "K2: a path holding a NUL byte in a kustomization is refused: the walk stopped at the NUL, kustomize did not" {
	printf 'resources:\n- "cm.yaml\\0/../../../other/app"\n' >"$REPO/app/kustomization.yaml"
	kubectl kustomize "$REPO/app" | grep -q other-value
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'app/kustomization.yaml': a key or value holding a NUL byte is not allowed here: kustomize reads the whole text, gitseal would stop at the NUL" ]
}
