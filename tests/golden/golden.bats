#!/usr/bin/env bats
# The main behaviours of each command, as committed inputs and expected
# outputs (tests/golden/golden.bash says how a case is laid out).
load golden

setup() { setup_tmp; }
teardown() { teardown_tmp; }

@test "decrypt: YAML comes back byte for byte, comments and layout included" { golden decrypt-yaml; }
@test "decrypt: JSON" { golden decrypt-json; }
@test "decrypt: dotenv" { golden decrypt-dotenv; }
@test "decrypt: INI" { golden decrypt-ini; }
@test "decrypt: binary" { golden decrypt-binary; }
@test "decrypt --extract: one value, and a subtree in the file's format" { golden decrypt-extract; }
@test "decrypt --output-type: YAML written as JSON" { golden decrypt-output-type; }
@test "encrypt: YAML, every value encrypted but those whose key ends in _unencrypted" { golden encrypt-yaml; }
@test "encrypt: JSON, dotenv and INI layouts" { golden encrypt-formats; }
@test "encrypt -i: a binary file and a dotenv file replaced by their encryption, and back with decrypt -i" { golden encrypt-in-place; }
@test "encrypt --encrypted-regex: only the matching keys" { golden encrypt-encrypted-regex; }
@test "encrypt: a Kubernetes Secret encrypts data and stringData only" { golden encrypt-k8s-secret; }
@test "encrypt: a creation rule of .sops.yaml chooses the keys" { golden encrypt-creation-rule; }
@test "set: one value changed, the others keep their ciphertext" { golden set; }
@test "unset: one value removed" { golden unset; }
@test "rotate: a new data key, the same plaintext" { golden rotate; }
@test "rotate --add-age, --rm-age: the recipients change with the data key" { golden rotate-keys; }
@test "filestatus: encrypted or not" { golden filestatus; }
@test "edit: the editor's change saved, the other values keep their ciphertext" { golden edit; }
@test "updatekeys: the data key wrapped for the creation rule's keys" { golden updatekeys; }
@test "updatekeys -r -y: every sops file of a tree, one line each and a summary" { golden updatekeys-tree; }
@test "groups: a key group added, then deleted" { golden groups; }
@test "exec-file: the plaintext in a FIFO or a file, {} in the command" { golden exec-file; }
@test "legacy mode: sops's -d, -e, -i --set" { golden legacy-mode; }
@test "exec-env: the values in a command's environment" { golden exec-env; }
@test "keygen -y: the recipient of an identity" { golden keygen-recipient; }
@test "keygen: a new identity, 0600, and its recipient on stderr" { golden keygen-generate; }
@test "render: a directory of manifests, its Secret decrypted" { golden render; }
@test "render: a kustomization, built by kustomize with its Secret decrypted" { command -v kubectl >/dev/null || skip "kubectl is needed"; golden render-kustomization; }
@test "krm: a ResourceList in, its items and the generated Secrets out" { golden krm-resource-list; }
@test "krm --legacy: KSOPS's exec plugin, the generated manifests" { golden krm-legacy; }
@test "git: the filter stores ciphertext, the work tree and diffs show plaintext" { golden git; }
@test "git: the merge driver merges two branches' changes to one sealed file" { golden git-merge; }
@test "git lock, unlock and check: ciphertext in the work tree, plaintext staged past the filter refused" { golden git-lock-check; }
@test "age: decrypt a committed file, armored and binary" { golden age-decrypt; }
@test "age: encrypt and decrypt again" { golden age-round-trip; }
@test "error: a tampered value fails the MAC check, exit 51" { golden error-mac-mismatch; }
@test "error: no identity opens the data key, exit 128" { golden error-no-key; }
@test "error: encrypting an encrypted file, exit 203" { golden error-already-encrypted; }
@test "error: a malformed --extract path, exit 91" { golden error-extract-path; }
@test "error: usage 1, unreadable input 2, no file 100 (sops commands)" { golden error-usage; }
@test "error: krm reports in the ResourceList's results, exit 1" { golden error-krm; }
@test "error: age and keygen usage errors, exit 1 as age" { golden error-age-usage; }

@test "every case directory is run by a test above" {
	local listed=() dir
	mapfile -t listed < <(grep -o 'golden [a-z0-9-]*; }' "$BATS_TEST_FILENAME" | cut -d' ' -f2 | tr -d ';')
	for dir in "$GOLDEN"/cases/*/; do
		dir=$(basename "$dir")
		printf '%s\n' "${listed[@]}" | grep -qx "$dir" || { echo "case '$dir' is not run"; return 1; }
	done
}
