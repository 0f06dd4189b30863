#!/usr/bin/env bats
# The key-by-key merge driver through git merge.

load helpers

setup() {
	gs_setup
	printf 'a: one\nb: two\nc: three\nnested:\n    x: 1\n    y: 2\n' > secrets/app.yaml
	git add -A && git commit -qm base
	git branch feature
}
teardown() { gs_teardown; }

@test "changes to different keys merge, unchanged values keep their ciphertext" {
	sed -i 's/one/ONE/; s/x: 1/x: 10/' secrets/app.yaml
	git commit -qam main-side
	git checkout -q feature
	sed -i 's/two/TWO/; s/y: 2/y: 20/' secrets/app.yaml
	git commit -qam feature-side
	git checkout -q main
	run git merge -q --no-edit feature
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat secrets/app.yaml)" = "$(printf 'a: ONE\nb: TWO\nc: three\nnested:\n    x: 10\n    y: 20')" ]
	assert_blob_encrypted secrets/app.yaml
	# c never changed: same ciphertext as in the base commit
	base=$(git merge-base HEAD^1 HEAD^2)
	[ "$(git cat-file -p HEAD:secrets/app.yaml | grep '^c:')" = "$(git cat-file -p "$base:secrets/app.yaml" | grep '^c:')" ]
	[ "$(git cat-file -p HEAD:secrets/app.yaml | grep '^a:')" = "$(git cat-file -p HEAD^1:secrets/app.yaml | grep '^a:')" ]
	assert_status_clean
}

@test "changes to the same key conflict with markers in the work tree" {
	sed -i 's/two/main-two/' secrets/app.yaml
	git commit -qam main-side
	git checkout -q feature
	sed -i 's/two/feature-two/' secrets/app.yaml
	sed -i 's/three/THREE/' secrets/app.yaml
	git commit -qam feature-side
	git checkout -q main
	run git merge -q --no-edit feature
	echo "$output"
	[ "$status" -ne 0 ]
	cat secrets/app.yaml
	grep -q '^<<<<<<< ' secrets/app.yaml
	grep -q '^b: main-two$' secrets/app.yaml
	grep -q '^=======$' secrets/app.yaml
	grep -q '^b: feature-two$' secrets/app.yaml
	grep -q '^>>>>>>> ' secrets/app.yaml
	# the non-conflicting change is merged outside the markers
	grep -q '^c: THREE$' secrets/app.yaml
	[ "$(grep -c '^<<<<<<< ' secrets/app.yaml)" -eq 1 ]
}

@test "merge driver on its own: a deleted key and an added key merge" {
	sed -i '/^a:/d' secrets/app.yaml
	git commit -qam main-side
	git checkout -q feature
	printf 'd: four\n' >> secrets/app.yaml
	git commit -qam feature-side
	git checkout -q main
	run git merge -q --no-edit feature
	[ "$status" -eq 0 ]
	! grep -q '^a:' secrets/app.yaml
	grep -q '^d: four$' secrets/app.yaml
	assert_status_clean
}

@test "deleted on one side and changed on the other is a conflict" {
	sed -i '/^a:/d' secrets/app.yaml
	git commit -qam main-side
	git checkout -q feature
	sed -i 's/one/ONE/' secrets/app.yaml
	git commit -qam feature-side
	git checkout -q main
	run git merge -q --no-edit feature
	[ "$status" -ne 0 ]
	grep -q '^<<<<<<< ' secrets/app.yaml
	grep -q '^a: ONE$' secrets/app.yaml
}

@test "the merge driver run by hand: exit codes and an encrypted result" {
	git show HEAD:secrets/app.yaml > "$T/base"
	sed -i 's/x: 1/x: 5/' secrets/app.yaml
	git commit -qam ours
	git show HEAD:secrets/app.yaml > "$T/ours"
	git checkout -q feature
	sed -i 's/y: 2/y: 6/' secrets/app.yaml
	git commit -qam theirs
	git show HEAD:secrets/app.yaml > "$T/theirs"
	cp "$T/ours" "$T/result.yaml"
	run "$GITSEAL_BIN" git merge "$T/base" "$T/result.yaml" "$T/theirs" secrets/app.yaml
	[ "$status" -eq 0 ]
	grep -q '^sops:' "$T/result.yaml"
	run "$GITSEAL_BIN" git textconv "$T/result.yaml"
	grep -q '^    x: 5$' <<<"$output"
	grep -q '^    y: 6$' <<<"$output"
	# without a key the driver fails and leaves ours untouched
	cp "$T/ours" "$T/result.yaml"
	unset SOPS_AGE_KEY_FILE
	run "$GITSEAL_BIN" git merge "$T/base" "$T/result.yaml" "$T/theirs" secrets/app.yaml
	[ "$status" -eq 1 ]
	cmp "$T/ours" "$T/result.yaml"
}
