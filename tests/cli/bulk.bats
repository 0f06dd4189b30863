#!/usr/bin/env bats
# updatekeys -r / rotate -r over a tree: every sops file under the matching
# rule, in parallel, one line per file, a bad file does not stop the rest.

load ../helpers

# The keys and the tree, made once for the file (24 processes): each test
# works on a copy.
setup_file() {
	local fix="$BATS_FILE_TMPDIR/fix" i d
	mkdir -m 700 "$fix"
	cd "$fix"
	gitseal_fixture keygen >k1.txt 2>/dev/null; gitseal_fixture keygen -y k1.txt >r1.txt
	gitseal_fixture keygen >k2.txt 2>/dev/null; gitseal_fixture keygen -y k2.txt >r2.txt
	cat k1.txt k2.txt >k12.txt
	mkdir -p tree/a/b tree/c tree/.git
	for i in $(seq 1 20); do
		case $((i % 3)) in
		0) d=tree ;; 1) d=tree/a/b ;; 2) d=tree/c ;;
		esac
		printf 'name: file%d\nsecret: s%d\n' "$i" "$i" >"$d/f$i.yaml"
		gitseal_fixture encrypt -i --age "$(cat r1.txt)" "$d/f$i.yaml"
	done
	printf '{"k": "v"}\n' >tree/c/plain.json         # not a sops file: skipped
	printf 'just text\n' >tree/notes.txt               # skipped
	cp tree/f3.yaml tree/.git/ignored.yaml              # .git is never entered
	# a corrupt sops file: one value's ciphertext damaged
	sed -i 's/^secret: ENC\[AES256_GCM,data:.../secret: ENC[AES256_GCM,data:AAA/' tree/c/f5.yaml
	cat >.sops.yaml <<YAML
creation_rules:
  - path_regex: \.yaml\$
    age: $(cat r1.txt),$(cat r2.txt)
YAML
}

setup() {
	setup_tmp
	cd "$TMP"
	cp -a "$BATS_FILE_TMPDIR/fix/." .
	export SOPS_AGE_KEY_FILE="$TMP/k12.txt"
}
teardown() { teardown_tmp; }

@test "updatekeys -r -y: 19 files updated, the corrupt one reported, exit 1" {
	cp tree/.git/ignored.yaml git-before.yaml
	run --separate-stderr gitseal updatekeys -r -y tree
	[ "$status" -eq 1 ]
	[ "$(printf '%s\n' "$output" | grep -c ': updated$')" -eq 19 ]
	[ "$(printf '%s\n' "$output" | grep -c ': error: ')" -eq 1 ]
	printf '%s\n' "$output" | grep -q '^tree/c/f5.yaml: error: .*MAC\|^tree/c/f5.yaml: error: '
	! printf '%s\n' "$output" | grep -q 'plain.json\|notes.txt\|\.git' || false
	[[ "$stderr" == *"19 files updated, 0 up to date, 1 failed"* ]]
	# no progress bar when stderr is not a terminal
	[[ "$stderr" != *"["*"]"* ]]
	cmp tree/.git/ignored.yaml git-before.yaml
	for f in tree/f3.yaml tree/a/b/f1.yaml tree/c/f20.yaml; do
		grep -q "$(cat r2.txt)" "$f"
		[ "$(SOPS_AGE_KEY_FILE=k2.txt gitseal decrypt --extract '["name"]' "$f")" = "file$(basename "$f" .yaml | tr -d f)" ]
	done
	# a second run finds everything up to date
	run --separate-stderr gitseal updatekeys -r -y tree
	[ "$status" -eq 1 ]
	[ "$(printf '%s\n' "$output" | grep -c ': up to date$')" -eq 19 ]
	printf '%s\n' "$output" | grep -q '^tree/c/f5.yaml: error: '
	[[ "$stderr" == *"0 files updated, 19 up to date, 1 failed"* ]]
}

@test "updatekeys -r without -y is refused" {
	run gitseal updatekeys -r tree
	# 2 here, 1 once the exit codes of issue 18 land
	[ "$status" -eq 2 ] || [ "$status" -eq 1 ]
	[[ "$output" == *"needs -y"* ]]
}

@test "rotate -r: every file gets a new data key, values stay readable" {
	rm tree/c/f5.yaml
	before=$(grep '^secret:' tree/f3.yaml)
	GITSEAL_JOBS=3 run --separate-stderr gitseal rotate -r tree
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c ': rotated$')" -eq 19 ]
	[ "$(grep '^secret:' tree/f3.yaml)" != "$before" ]
	for i in 1 2 3 10 20; do
		f=$(find tree -name "f$i.yaml" -not -path '*/.git/*')
		[ "$(SOPS_AGE_KEY_FILE=k1.txt gitseal decrypt --extract '["secret"]' "$f")" = "s$i" ]
	done
}
