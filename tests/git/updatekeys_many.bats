#!/usr/bin/env bats
# updatekeys over many files: each re-sealed file is proven as before, and
# all are staged in one write of the index, their recipients accepted in
# one write of the records. A file that fails stops the run: the files
# before it are staged and accepted, it and the files after it are left
# as they were, and one error line names it.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	gs_setup_from many_base
	read -r M <"$T/mallory.recipient"
}
many_base() {
	age-keygen -o "$T/mallory.txt" 2>/dev/null
	age-keygen -y "$T/mallory.txt" >"$T/mallory.recipient"
	for i in $(seq 1 12); do printf 'v: %s\n' "$i" > "secrets/f$i.yaml"; done
	git add -A
	git commit -qm base
}
teardown() { gs_teardown; }

add_mallory() {
	printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: %s,%s\n' "$RECIPIENT" "$M" > .sops.yaml
}

# A write of the index per file re-staged rewrote the whole index each
# time: 2,000 files took 3-4 s of CPU, 4,000 files 8.7 s.
@test "updatekeys -r (and --rotate) of 12 files writes the index once, not once per file" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1 gitsuite)"
	add_mallory
	GITSEAL_TEST_INDEX_LOG="$T/writes" "$GITSEAL_BIN" updatekeys -y -r . 2>/dev/null
	[ "$(git diff --cached --name-only -- secrets | wc -l)" -eq 12 ]
	[ "$(grep -c "^$M	secrets/f" .git/gitseal/accepted)" -eq 12 ]
	[ "$(wc -l < "$T/writes")" -eq 1 ]
	GITSEAL_TEST_INDEX_LOG="$T/writes" "$GITSEAL_BIN" updatekeys -y -r --rotate . 2>/dev/null
	[ "$(wc -l < "$T/writes")" -eq 2 ]
	git show :secrets/f12.yaml > "$T/f12.yaml"
	SOPS_AGE_KEY_FILE="$T/mallory.txt" fixture gitseal decrypt "$T/f12.yaml" | grep -qx 'v: 12'
}

# Locked, so that the work tree holds ciphertext and updatekeys rewrites
# it: the index never holds a blob its work tree file does not.
@test "the 3rd of 5 files fails (a damaged MAC): the 1st and 2nd staged and accepted, the 3rd to 5th untouched" {
	git rm -q --cached secrets/f{6..12}.yaml
	rm secrets/f{6..12}.yaml
	git commit -qm five
	"$GITSEAL_BIN" git lock 2>/dev/null
	damaged=$(git show :secrets/f3.yaml | sed -E 's/^(    mac: ENC\[AES256_GCM,data:)(.)/\1\2\2/' | git hash-object -w --stdin)
	git update-index --cacheinfo "100644,$damaged,secrets/f3.yaml"
	for i in 1 2 3 4 5; do cp "secrets/f$i.yaml" "$T/f$i.before"; done
	add_mallory
	run -1 "$GITSEAL_BIN" updatekeys -y -r .
	[ "$(grep -c 'error' <<<"$output")" -eq 1 ]
	grep -qx "gitseal: error: 'secrets/f3.yaml': MAC mismatch: stored MAC cannot be decrypted" <<<"$output"
	[ "$(grep -c 'keys updated and staged' <<<"$output")" -eq 2 ]
	for i in 1 2; do
		grep -qxF "gitseal: 'secrets/f$i.yaml': keys updated and staged; commit to share the change" <<<"$output"
		# staged, for both readers, and the locked work tree file is the blob
		[ "$(git rev-parse ":secrets/f$i.yaml")" != "$(git rev-parse "HEAD:secrets/f$i.yaml")" ]
		cmp "secrets/f$i.yaml" <(git show ":secrets/f$i.yaml")
		SOPS_AGE_KEY_FILE="$T/mallory.txt" fixture gitseal decrypt "secrets/f$i.yaml" | grep -qx "v: $i"
		grep -qxF "$M	secrets/f$i.yaml" .git/gitseal/accepted
	done
	[ "$(git rev-parse :secrets/f3.yaml)" = "$damaged" ]
	for i in 3 4 5; do
		cmp "secrets/f$i.yaml" "$T/f$i.before"
		run ! grep -qF "secrets/f$i.yaml" .git/gitseal/accepted
	done
	for i in 4 5; do [ "$(git rev-parse ":secrets/f$i.yaml")" = "$(git rev-parse "HEAD:secrets/f$i.yaml")" ]; done
	# .sops.yaml is not accepted: the run did not finish
	run ! cmp -s .sops.yaml .git/gitseal/sops.yaml
}

# The history check's verdicts (.git/gitseal/history) are kept under a
# digest of whom the path is accepted for. It covered every path's
# records: accepting a reader for one file made every other file's
# history be walked again, and each file hashed every record (quadratic
# once updatekeys recorded a reader per file).
@test "a reader accepted for another file keeps a file's history verdict: its next clean reads no version again" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1 gitsuite)"
	printf 'v: 1a\n' > secrets/f1.yaml
	git add secrets/f1.yaml
	printf 'v: 1b\n' > secrets/f1.yaml
	GITSEAL_TEST_BLOB_LOG="$T/kept" git add secrets/f1.yaml
	printf 'creation_rules:\n  - path_regex: secrets/f2\\.yaml$\n    age: %s,%s\n  - path_regex: secrets/.*\\.yaml$\n    age: %s\n' \
		"$RECIPIENT" "$M" "$RECIPIENT" > .sops.yaml
	"$GITSEAL_BIN" updatekeys -y secrets/f2.yaml 2>/dev/null
	grep -qxF "$M	secrets/f2.yaml" .git/gitseal/accepted
	printf 'v: 1c\n' > secrets/f1.yaml
	GITSEAL_TEST_BLOB_LOG="$T/after" git add secrets/f1.yaml
	[ "$(wc -l < "$T/after")" -eq "$(wc -l < "$T/kept")" ]
}

# updatekeys asks the history check about each file twice, when it plans
# and when it seals: the process kept the last 16 answers, so that past 16
# files every file's history was walked twice (the verdicts kept across
# commands, .git/gitseal/history, saved the second walk up to 512 files;
# a directory in its place keeps none here).
@test "updatekeys -r of 20 files walks each file's history once, not once to plan and once to seal" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1 gitsuite)"
	for i in $(seq 13 20); do printf 'v: %s\n' "$i" > "secrets/f$i.yaml"; done
	fixture git add -A
	fixture git commit -qm more
	rm -f .git/gitseal/history
	mkdir .git/gitseal/history
	add_mallory
	GITSEAL_TEST_BLOB_LOG="$T/blobs" "$GITSEAL_BIN" updatekeys -y -r . 2>/dev/null
	[ "$(git diff --cached --name-only -- secrets | wc -l)" -eq 20 ]
	# each file's committed version read by the copy check, the plan, the
	# history walk and the seal: 4 a file (a second walk made it 5)
	[ "$(wc -l < "$T/blobs")" -le 80 ]
}

# libgit2 kept no tree over 4 KiB in its cache: the history check read and
# parsed the directory's tree again for each file of it (quadratic in its
# size: 1.29 G of 7.58 G instructions for 500 files). Long names make a
# tree of 40 files larger than that; the cache then holds it.
@test "a directory's tree over 4 KiB stays in libgit2's cache while updatekeys walks each file's history" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1 gitsuite)"
	long=$(printf 'n%.0s' $(seq 1 120))
	for i in $(seq 1 40); do printf 'v: %s\n' "$i" > "secrets/$long-$i.yaml"; done
	fixture git add -A
	fixture git commit -qm long
	tree=$(git cat-file -s HEAD:secrets)
	[ "$tree" -gt 4096 ]
	add_mallory
	GITSEAL_TEST_CACHE_LOG="$T/cached" "$GITSEAL_BIN" updatekeys -y -r . 2>/dev/null
	[ "$(tail -n 1 "$T/cached")" -ge "$tree" ]
}
