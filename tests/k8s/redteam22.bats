#!/usr/bin/env bats
# Red team 22 on the cluster side: names a pull request controls in
# render's messages. Runs the real `kubectl kustomize`.

bats_require_minimum_version 1.5.0
load k8s_helpers

setup() { k8s_repo_setup; }
teardown() { teardown_tmp; }

# K1: render refuses a build that moved a decrypted value out of a
# Secret's values, naming where it landed: the keys of that path, which
# the kustomization chooses, were written as they are ('%.400s'), so an
# annotation named "a\e[2K\e[1Ab" moved the cursor of whoever reads the
# log on a terminal and "\n" forged a second error line. (Moved by a
# replacement: a JSON patch copy out of a Secret's data is refused
# before the build since leads 30, redteam29.bats M4.)
@test "K1: render names the path a decrypted value was moved to with its control bytes escaped" {
	encrypt_to 'TOKEN=tok-SECRET-999\n' a.enc.env
	cat >"$REPO/app/kustomization.yaml" <<'YAML'
secretGenerator:
- name: s
  envs: [a.enc.env]
  options: {disableNameSuffixHash: true}
replacements:
- source: {kind: Secret, name: s, fieldPath: data.TOKEN}
  targets:
  - select: {kind: Secret, name: s}
    fieldPaths: ["metadata.annotations.a\e2K\n\eAb"]
    options: {create: true}
YAML
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "$(expected_line "'app': resource Secret/s (document 1): 'metadata:annotations:a\\x1b2K\\x0a\\x1bAb' holds a value decrypted for the build: only a v1 Secret's data and stringData may")" ]
}
