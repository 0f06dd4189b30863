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
# log on a terminal and "\n" forged a second error line.
@test "K1: render names the path a decrypted value was moved to with its control bytes escaped" {
	encrypt_to 'TOKEN=tok-SECRET-999\n' a.enc.env
	cat >"$REPO/app/kustomization.yaml" <<'YAML'
secretGenerator:
- name: s
  envs: [a.enc.env]
  options: {disableNameSuffixHash: true}
patches:
- target: {kind: Secret, name: s}
  patch: |
    - {op: add, path: /metadata/annotations, value: {}}
    - {op: copy, from: /data/TOKEN, path: "/metadata/annotations/a\e[2K\n\e[1Ab"}
YAML
	run --separate-stderr "$GITSEAL_BIN" render "$REPO/app"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "$(expected_line "'app': resource Secret/s (document 1): 'metadata:annotations:a\\x1b[2K\\x0a\\x1b[1Ab' holds a value decrypted for the build: only a v1 Secret's data and stringData may")" ]
}
