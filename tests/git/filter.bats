#!/usr/bin/env bats
# The clean/smudge filter through real git commands.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

@test "init writes the git config, the hook and .gitattributes once" {
	for key in filter.gitseal.process diff.gitseal.textconv merge.gitseal.driver; do
		value=$(git config --local "$key")
		# found on PATH, never by an absolute path that an upgrade breaks
		[[ "$value" == *"exec gitseal git "* ]]
		[[ "$value" != *"$GITSEAL_BIN"* ]]
	done
	[[ "$(git config --local merge.gitseal.driver)" == *"git merge %O %A %B %P" ]]
	[ "$(git config --local filter.gitseal.required)" = "true" ]
	[ "$(git config --local diff.gitseal.binary)" = "true" ]
	[ -n "$(git config --local merge.gitseal.name)" ]
	run git config --get diff.gitseal.cachetextconv
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	grep -q 'gitseal git check' .git/hooks/pre-commit
	[ -x .git/hooks/pre-commit ]
	"$GITSEAL_BIN" git init 'secrets/**' '*.enc.json'
	"$GITSEAL_BIN" git init 'secrets/**' '*.enc.json'
	attrs='filter=gitseal diff=gitseal merge=gitseal text eol=lf conflict-marker-size=32'
	[ "$(grep -cxF "secrets/** $attrs" .gitattributes)" -eq 1 ]
	[ "$(grep -cxF "*.enc.json $attrs" .gitattributes)" -eq 1 ]
	[ "$(wc -l < .gitattributes)" -eq 2 ]
	[ "$(git config --local --get-all filter.gitseal.process | wc -l)" -eq 1 ]
}

@test "init in a bare repository says what is missing: a pattern, a .sops.yaml" {
	git init -q "$T/fresh"
	cd "$T/fresh"
	run -0 "$GITSEAL_BIN" git init
	[ "${lines[0]}" = "gitseal: no line of .gitattributes puts files under the filter: name them, as in gitseal git init 'secrets/**'" ]
	[ "${lines[1]}" = "gitseal: no .sops.yaml at the repository root: 'git add' of a file under the filter fails until a creation rule there names its recipients (docs/git.md)" ]
	[ "${#lines[@]}" -eq 2 ]
	cp "$REPO/.sops.yaml" .
	run -0 "$GITSEAL_BIN" git init 'secrets/**'
	[ "$output" = "gitseal: added 1 line(s) to .gitattributes" ]
	# the clone's own copy in .git/info/attributes counts too
	rm .gitattributes
	run -0 "$GITSEAL_BIN" git init
	[ -z "$output" ]
}

@test "init brings a line written by an older gitseal up to date" {
	printf '# secrets\nsecrets/** filter=gitseal diff=gitseal merge=gitseal\n*.txt text\n' > .gitattributes
	run "$GITSEAL_BIN" git init 'secrets/**'
	[ "$status" -eq 0 ]
	[ "$(cat .gitattributes)" = "$(printf '# secrets\nsecrets/** filter=gitseal diff=gitseal merge=gitseal text eol=lf conflict-marker-size=32\n*.txt text')" ]
}

@test "init --no-hook leaves the hooks alone; an existing hook is not overwritten" {
	rm .git/hooks/pre-commit
	"$GITSEAL_BIN" git init --no-hook
	[ ! -e .git/hooks/pre-commit ]
	printf '#!/bin/sh\nexit 0\n' > .git/hooks/pre-commit
	run "$GITSEAL_BIN" git init
	[ "$status" -eq 0 ]
	[ "$output" = "gitseal: warning: '$REPO/.git/hooks/pre-commit' exists: add 'gitseal git check' to it yourself, or use --no-hook" ]
	[ "$(cat .git/hooks/pre-commit)" = "$(printf '#!/bin/sh\nexit 0')" ]
}

@test "gitseal not on PATH: git says how to fix it (case 17)" {
	printf 'token: s3cr3t\n' > secrets/app.yaml
	fixture git add -A
	fixture git commit -qm one
	touch secrets/app.yaml
	run env PATH=/usr/bin:/bin git status --porcelain
	[ "$status" -eq 128 ]
	echo "$output"
	grep -q "gitseal: command not found: install it or add its directory to PATH" <<<"$output"
	# the binary moved: init warns that git will not find it
	run env PATH=/usr/bin:/bin "$GITSEAL_BIN" git init
	[ "$status" -eq 0 ]
	grep -q "warning: 'gitseal' is not on PATH" <<<"$output"
}

@test "commit stores ciphertext, keeps plaintext in the work tree, status stays clean" {
	printf 'db:\n    user: admin\n    password: hunter2\napi_key: abc123\n' > secrets/app.yaml
	printf 'note: not secret\n' > plain.yaml
	git add -A
	git commit -qm one
	assert_blob_encrypted secrets/app.yaml
	! git cat-file -p HEAD:secrets/app.yaml | grep -q hunter2 || false
	grep -q 'password: hunter2' secrets/app.yaml
	[ "$(git cat-file -p HEAD:plain.yaml)" = "note: not secret" ]
	touch_newer secrets/app.yaml plain.yaml .sops.yaml .gitattributes
	assert_status_clean
	# re-adding unchanged content gives the identical blob (stable ciphertext)
	before=$(git rev-parse HEAD:secrets/app.yaml)
	git add --renormalize .
	[ "$(git rev-parse :secrets/app.yaml)" = "$before" ]
	assert_status_clean
}

# sops (yaml.v3) double-quotes a string YAML 1.1 reads as a boolean or a
# base-60 number; the smudge kept the plain style of the plain encrypted
# value (red team rt1 F2). The blob is the same, the work tree stays clean.
@test "checkout double-quotes a value YAML 1.1 reads as another type, status stays clean" {
	printf 'flag: yes\nt: 1:30\nplain: x\n' > secrets/app.yaml
	git add -A
	git commit -qm one
	git cat-file -p HEAD:secrets/app.yaml | grep -q '^flag: ENC\['
	blob=$(git rev-parse HEAD:secrets/app.yaml)
	rm secrets/app.yaml
	git checkout -- secrets/app.yaml
	[ "$(cat secrets/app.yaml)" = $'flag: "yes"\nt: "1:30"\nplain: x' ]
	touch_newer secrets/app.yaml
	assert_status_clean
	git add secrets/app.yaml
	[ "$(git rev-parse :secrets/app.yaml)" = "$blob" ]
}

@test "changing one value changes one value line plus mac and lastmodified" {
	printf 'a: one\nb: two\nc: three\nnested:\n    d: four\n' > secrets/app.yaml
	fixture git add -A
	fixture git commit -qm one
	next_second
	sed -i 's/two/TWO/' secrets/app.yaml
	git commit -qam two
	git cat-file -p HEAD~1:secrets/app.yaml > "$T/old"
	git cat-file -p HEAD:secrets/app.yaml > "$T/new"
	run diff "$T/old" "$T/new"
	[ "$status" -eq 1 ]
	changed=$(grep -E '^[<>]' <<<"$output")
	echo "$changed"
	[ "$(grep -c '^<' <<<"$changed")" -eq 3 ]
	[ "$(grep -c '^>' <<<"$changed")" -eq 3 ]
	[ "$(grep -c '^[<>] b: ENC\[' <<<"$changed")" -eq 2 ]
	[ "$(grep -c '^[<>]     mac: ENC\[' <<<"$changed")" -eq 2 ]
	[ "$(grep -c '^[<>]     lastmodified:' <<<"$changed")" -eq 2 ]
}

@test "git diff shows plaintext through textconv" {
	printf 'a: one\nb: two\n' > secrets/app.yaml
	fixture git add -A
	fixture git commit -qm one
	sed -i 's/two/TWO/' secrets/app.yaml
	fixture git commit -qam two
	run git diff HEAD~1 HEAD -- secrets/app.yaml
	[ "$status" -eq 0 ]
	echo "$output"
	grep -q '^-b: two$' <<<"$output"
	grep -q '^+b: TWO$' <<<"$output"
	! grep -q 'ENC\[' <<<"$output" || false
	run "$GITSEAL_BIN" git textconv secrets/app.yaml
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'a: one\nb: TWO')" ]
	run "$GITSEAL_BIN" git textconv .sops.yaml
	[ "$status" -eq 0 ]
	grep -q creation_rules <<<"$output"
}

@test "clone with the key: gitseal git init decrypts the checkout, status clean" {
	printf 'token: s3cr3t\n' > secrets/app.yaml
	fixture git add -A
	fixture git commit -qm one
	git clone -q "$REPO" "$T/clone"
	cd "$T/clone"
	grep -q 'ENC\[' secrets/app.yaml
	run "$GITSEAL_BIN" git init
	[ "$status" -eq 0 ]
	[ "$(cat secrets/app.yaml)" = "token: s3cr3t" ]
	assert_status_clean
	printf 'token: changed\n' > secrets/app.yaml
	git commit -qam two
	assert_blob_encrypted secrets/app.yaml
}

@test "clone without a key: ciphertext stays, no error, status clean" {
	printf 'token: s3cr3t\n' > secrets/app.yaml
	fixture git add -A
	fixture git commit -qm one
	unset SOPS_AGE_KEY_FILE
	git clone -q "$REPO" "$T/clone"
	cd "$T/clone"
	run "$GITSEAL_BIN" git init
	[ "$status" -eq 0 ]
	grep -q 'ENC\[' secrets/app.yaml
	assert_status_clean
	rm secrets/app.yaml
	run git checkout -- secrets/app.yaml
	[ "$status" -eq 0 ]
	grep -q 'ENC\[' secrets/app.yaml
	[ "$(grep -c 'warning' <<<"$output")" -eq 1 ]
	assert_status_clean
	# a diff shows ciphertext, with one warning: the filter's, which
	# smudged the version its textconv then found sealed
	run -0 git show --format= HEAD
	grep -q '^+token: ENC\[' <<<"$output"
	[ "$(grep -c 'warning' <<<"$output")" -eq 1 ]
	# textconv alone names git's temporary copy by the file's name
	run -0 git -c filter.gitseal.process= -c filter.gitseal.required=false show --format= HEAD
	grep -qxF "gitseal: warning: a committed version of 'app.yaml' shown encrypted (other versions may be too): no age identity found" <<<"$output"
	[[ "$output" != *git-blob-* ]]
	# git runs a textconv per version shown: one warning a command
	printf 'token: two\n' > "$REPO/secrets/app.yaml"
	SOPS_AGE_KEY_FILE="$T/key.txt" git -C "$REPO" commit -qam two
	printf 'token: 3\n' > "$REPO/secrets/app.yaml"
	SOPS_AGE_KEY_FILE="$T/key.txt" git -C "$REPO" commit -qam three
	git pull -q 2>/dev/null
	run -0 git log -p --format=%s
	[ "$(grep -c '^+token: ENC\[' <<<"$output")" -eq 3 ]
	[ "$(grep -c 'warning' <<<"$output")" -eq 1 ]
	run -0 git -c filter.gitseal.process= -c filter.gitseal.required=false log -p --format=%s
	[ "$(grep -c 'warning' <<<"$output")" -eq 1 ]
}

@test "sops commands on a work-tree file under the filter say it is plaintext there" {
	printf 'token: s3cr3t\n' > secrets/app.yaml
	run -1 "$GITSEAL_BIN" decrypt secrets/app.yaml
	[ "$output" = "gitseal: error: 'secrets/app.yaml': sops metadata not found (this clone uses gitseal's git filter: a file under it is plaintext in the work tree, edited as it is)" ]
	cd secrets
	run -1 "$GITSEAL_BIN" set app.yaml '["token"]' '"x"'
	[[ "$output" == *"'app.yaml': sops metadata not found (this clone uses gitseal's git filter"* ]]
	# elsewhere, sops's message alone
	printf 'a: 1\n' > "$T/plain.yaml"
	run -1 "$GITSEAL_BIN" decrypt "$T/plain.yaml"
	[ "$output" = "gitseal: error: '$T/plain.yaml': sops metadata not found" ]
}

@test "a clone before init (git-crypt's clone, then unlock): status says so, unlock refuses" {
	printf 'token: s3cr3t\n' > secrets/app.yaml
	fixture git add -A
	fixture git commit -qm one
	git clone -q "$REPO" "$T/clone"
	cd "$T/clone"
	run -0 "$GITSEAL_BIN" git status
	[ "$output" = ".: no gitseal filter in this clone: run 'gitseal git init' (until then files are checked out and committed as they are)" ]
	# no filter: plaintext here would go into the next commit -a as it is
	run -1 "$GITSEAL_BIN" git unlock
	[ "$output" = "gitseal: error: this clone has no gitseal filter: run 'gitseal git init', which sets it up and decrypts what your keys open" ]
	grep -q 'ENC\[' secrets/app.yaml
	assert_status_clean
	"$GITSEAL_BIN" git init 2>/dev/null
	grep -qx 'token: s3cr3t' secrets/app.yaml
}

@test "no matching rule: git add fails and no plaintext reaches the object store" {
	printf '{"password": "hunter2"}\n' > secrets/other.json
	plain_id=$(git hash-object --no-filters secrets/other.json)
	run git add secrets/other.json
	[ "$status" -eq 128 ]
	grep -q "^gitseal: error: cannot encrypt 'secrets/other.json': no matching creation rules found for" <<<"$output"
	echo "$output"
	grep -q "secrets/other.json" <<<"$output"
	[ -z "$(git ls-files -s secrets/other.json)" ]
	! git cat-file -e "$plain_id" 2>/dev/null || false
}

@test "a rule without recipients: git add fails closed" {
	printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n' > .sops.yaml
	printf 'password: hunter2\n' > secrets/app.yaml
	plain_id=$(git hash-object --no-filters secrets/app.yaml)
	run git add secrets/app.yaml
	[ "$status" -eq 128 ]
	grep -q "cannot encrypt 'secrets/app.yaml'" <<<"$output"
	[ -z "$(git ls-files -s secrets/app.yaml)" ]
	! git cat-file -e "$plain_id" 2>/dev/null || false
}

@test "no .sops.yaml: git add fails closed" {
	git rm -q --cached .sops.yaml 2>/dev/null || true
	rm .sops.yaml
	printf 'password: hunter2\n' > secrets/app.yaml
	plain_id=$(git hash-object --no-filters secrets/app.yaml)
	run git add secrets/app.yaml
	[ "$status" -eq 128 ]
	grep -q "^gitseal: error: cannot encrypt 'secrets/app.yaml': no .sops.yaml at the repository root" <<<"$output"
	[ -z "$(git ls-files -s secrets/app.yaml)" ]
	! git cat-file -e "$plain_id" 2>/dev/null || false
}

@test "one filter process serves 50 files" {
	cat > "$T/wrap.sh" <<SH
#!/bin/sh
echo start >> "$T/starts"
exec "$GITSEAL_BIN" git filter-process
SH
	chmod +x "$T/wrap.sh"
	git config filter.gitseal.process "$T/wrap.sh"
	for i in $(seq 1 50); do printf 'n: %d\nkey: value%d\n' "$i" "$i" > "secrets/f$i.yaml"; done
	git add -A
	[ "$(wc -l < "$T/starts")" -eq 1 ]
	fixture git commit -qm many
	assert_blobs_encrypted HEAD secrets/f{1..50}.yaml
	rm secrets/*.yaml
	: > "$T/starts"
	git checkout -- secrets
	[ "$(wc -l < "$T/starts")" -eq 1 ]
	[ "$(cat secrets/f42.yaml)" = "$(printf 'n: 42\nkey: value42')" ]
	assert_status_clean
}

# 40 new files in one directory, with an empty one, an ignored one, a
# hand-made sops file and a symbolic link to a file outside the
# repository among them; the work tree kept in $T/orig
many_new_files() {
	for i in $(seq -w 1 40); do printf 'n: v%s\nkey: value%s\n' "$i" "$i" > "secrets/f$i.yaml"; done
	: > secrets/f20a.yaml
	printf 'ignored: yes\n' > secrets/f30a.yaml
	echo secrets/f30a.yaml > .gitignore
	printf 'hand: made\n' > "$T/hand.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT" hand.yaml) > secrets/f25a.yaml
	printf 'outside: the repository\n' > "$T/outside.yaml"
	ln -s "$T/outside.yaml" secrets/f15a.yaml
	cp -r secrets "$T/orig"
	KEYS_BEFORE=$(cat .git/gitseal/data-keys 2>/dev/null | wc -l)
}

# Each file committed sealed (the empty one as it is, the ignored one not
# at all) and checked out again to its own bytes.
many_new_files_committed_right() {
	fixture git commit -qm many
	assert_blobs_encrypted HEAD secrets/f{01..40}.yaml
	[ -z "$(git cat-file -p HEAD:secrets/f20a.yaml)" ]
	cmp <(git cat-file -p HEAD:secrets/f25a.yaml) "$T/orig/f25a.yaml"
	run git cat-file -e HEAD:secrets/f30a.yaml
	[ "$status" -ne 0 ]
	# git stores the link, never what it points to
	[ "$(git cat-file -p HEAD:secrets/f15a.yaml)" = "$T/outside.yaml" ]
	rm -rf secrets
	git checkout -- secrets
	# a key holder's checkout opens the hand-made one too
	cp "$T/hand.yaml" "$T/orig/f25a.yaml"
	cp "$T/orig/f30a.yaml" secrets/
	diff -r "$T/orig" secrets
	assert_status_clean
}

# filter_process.c wakes a sleeping worker once a few delayed files wait,
# not for each one; those left when git asks which are ready must be
# smudged then, or git waits for ever (without the key cache: a file whose
# key it holds may be answered at once, src/git/filter.c)
@test "a checkout whose delayed files do not fill a worker's batch ends with each one opened" {
	for i in $(seq 1 21); do printf 'n: %d\nkey: value%d\n' "$i" "$i" > "secrets/d$i.yaml"; done
	fixture git add -A
	fixture git commit -qm files
	rm secrets/d*.yaml
	GITSEAL_KEY_CACHE=0 GIT_TRACE_PACKET="$T/trace" run -0 timeout 60 git checkout -- secrets
	grep -q 'git< status=delayed' "$T/trace"
	for i in $(seq 1 21); do grep -qxF "key: value$i" "secrets/d$i.yaml"; done
	assert_status_clean
}

@test "git add of many new files: each is sealed from its own bytes, those read ahead too, none twice" {
	many_new_files
	git add -A
	# one fresh data key per plaintext sealed: nothing sealed ahead was
	# thrown away, nothing read through the link
	[ "$(( $(wc -l < .git/gitseal/data-keys) - KEYS_BEFORE ))" -eq 40 ]
	many_new_files_committed_right
}

# A large directory's names are asked of git (check-attr, check-ignore: src/git/addset.c)
# to choose the files sealed ahead: a wrong answer seals a file git never sends, one
# data key more. The directory's own .gitattributes puts its files under the filter but
# some (secrets/ is pinned in .git/info/attributes; the rule's path_regex matches this
# one too); its .gitignore ignores some, and re-includes one; one name reads as
# pathspec magic; then the attributes are only in the index.
@test "git add of a large directory seals ahead exactly the files git sends: nested attributes and ignores" {
	d=more-secrets
	mkdir -p $d/sub
	printf 'key: deep\n' > $d/sub/deep.yaml
	for i in $(seq -w 1 300); do
		printf 'n: v%s\nkey: value%s\n' "$i" "$i" > "$d/f$i.yaml"
		case $i in
		*0) printf 'plain: %s\n' "$i" > "$d/f${i}n.yaml" ;;
		*5) printf 'ignored: %s\n' "$i" > "$d/f${i}i.yaml" ;;
		esac
	done
	printf 'kept: yes\n' > $d/f150k.yaml
	printf 'magic: yes\n' > "$d/:(exclude)f2.yaml"
	printf '*.yaml filter=gitseal diff=gitseal merge=gitseal\n*n.yaml -filter -diff -merge\n' > $d/.gitattributes
	printf '*i.yaml\n*k.yaml\n!f150k.yaml\n' > $d/.gitignore
	KEYS_BEFORE=$(cat .git/gitseal/data-keys 2>/dev/null | wc -l)
	git add -A
	# 300, deep, kept and magic, each sealed once, nothing else
	[ "$(( $(wc -l < .git/gitseal/data-keys) - KEYS_BEFORE ))" -eq 303 ]
	fixture git commit -qm large
	assert_blobs_encrypted HEAD $d/{f010,f150,f300,f150k,sub/deep,':(exclude)f2'}.yaml
	[ "$(git cat-file -p HEAD:$d/f010n.yaml)" = "plain: 010" ]
	run git cat-file -e HEAD:$d/f005i.yaml
	[ "$status" -ne 0 ]
	# the same directory again, its attributes now only in the index
	rm $d/.gitattributes
	for i in $(seq -w 1 300); do printf 'key: again%s\n' "$i" > "$d/g$i.yaml"; done
	for i in $(seq -w 10 10 300); do printf 'plain: %s\n' "$i" > "$d/g${i}n.yaml"; done
	KEYS_BEFORE=$(wc -l < .git/gitseal/data-keys)
	git add $d/g*.yaml
	[ "$(( $(wc -l < .git/gitseal/data-keys) - KEYS_BEFORE ))" -eq 300 ]
	[ "$(git cat-file -p :$d/g010n.yaml)" = "plain: 010" ]
	git cat-file -p :$d/g010.yaml | grep -q 'ENC\[AES256_GCM'
}

# src/util/random.c hands out libsodium's bytes drawn ahead on each thread
# (the main one and the read-ahead workers, the age header thread): no two
# files, values or stanzas may get the same ones
@test "git add of many new files: each file's data key, age ephemeral share and IVs are its own" {
	many_new_files
	git add -A
	# the blobs from one git cat-file, written out without a process each
	git_blobs :secrets/f{01..40}.yaml
	for i in "${!GS_BLOBS[@]}"; do printf '%s' "${GS_BLOBS[i]}" > "$T/f$i.sealed"; done
	# two values and the MAC a file
	[ "$(cat "$T"/f*.sealed | grep -o 'iv:[^,]*' | sort -u | wc -l)" -eq 120 ]
	# each file's one stanza (the armor's lines), decoded together: the
	# armor of each is whole base64, padded, so the headers follow one
	# another
	sed -n '/BEGIN AGE/,/END AGE/{/BEGIN AGE\|END AGE/d;s/^ *//;p}' "$T"/f*.sealed | base64 -d |
		grep -a '^-> X25519 ' > "$T/shares"
	[ "$(wc -l < "$T/shares")" -eq 40 ]
	[ "$(sort -u "$T/shares" | wc -l)" -eq 40 ]
	[ "$(tail -n 40 .git/gitseal/data-keys | cut -d' ' -f1 | sort -u | wc -l)" -eq 40 ]
}

@test "a file read ahead that changed before git sent it is sealed from the bytes git sent" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1 gitsuite)"
	many_new_files
	# the worker seals the file with a line more than git then sends
	GITSEAL_TEST_READAHEAD=stale git add -A
	# files were sealed ahead (and thrown away: their bytes were not git's)
	[ "$(( $(wc -l < .git/gitseal/data-keys) - KEYS_BEFORE ))" -gt 40 ]
	many_new_files_committed_right
	! grep -r stale secrets || false
}

@test "git add of many files git holds: unchanged ones keep their blobs, edited ones are sealed from their bytes with their data keys" {
	for i in $(seq -w 1 40); do printf 'n: v%s\nkey: value%s\n' "$i" "$i" > "secrets/f$i.yaml"; done
	fixture git add -A
	fixture git commit -qm many
	git ls-files -s secrets > "$T/before"
	keys=$(wc -l < .git/gitseal/data-keys)
	printf 'n: edited\nkey: new07\n' > secrets/f07.yaml
	printf 'n: edited\nkey: new33\n' > secrets/f33.yaml
	# every file cleaned again, in index order
	git add --renormalize .
	git ls-files -s secrets > "$T/after"
	[ "$(diff "$T/before" "$T/after" | grep -c '^>')" -eq 2 ]
	diff "$T/before" "$T/after" | grep '^>' | grep -q 'secrets/f07.yaml$'
	diff "$T/before" "$T/after" | grep '^>' | grep -q 'secrets/f33.yaml$'
	# both made here: their data keys stay
	[ "$(wc -l < .git/gitseal/data-keys)" -eq "$keys" ]
	fixture git commit -qm edited
	assert_blob_encrypted secrets/f07.yaml
	assert_blob_encrypted secrets/f33.yaml
	rm -rf secrets
	git checkout -- secrets
	[ "$(cat secrets/f33.yaml)" = "$(printf 'n: edited\nkey: new33')" ]
	[ "$(cat secrets/f12.yaml)" = "$(printf 'n: v12\nkey: value12')" ]
	assert_status_clean
}

# The filter reads the index again only when its file was replaced (git
# writes a lock file and renames it over the index; src/git/filter.c,
# index_refresh): one filter process, the index rewritten between its
# requests, and each clean goes by the index as it is then.
@test "one filter process, the index rewritten between two cleans: each goes by the index as it is then" {
	printf 'a: one\n' > secrets/a.yaml
	git add secrets/a.yaml
	staged=$(git rev-parse :secrets/a.yaml)
	mac=$(git cat-file -p "$staged" | grep '^    mac:')
	start_filter_process
	# one clean of a.yaml, its answer waited for; then how many answers
	# hold the staged blob's MAC
	clean_a() {
		local n=$1
		{ pkt_text command=clean; pkt_text pathname=secrets/a.yaml; printf 0000
		  pkt_file secrets/a.yaml; printf 0000; } >&5
		for _ in $(seq 200); do
			[ "$(grep -ac 'status=success' "$T/out")" -lt "$n" ] || [ "$(tail -c 8 "$T/out")" != 00000000 ] || break
			sleep 0.05
		done
		[ "$(grep -ac 'status=success' "$T/out")" -eq "$n" ]
		macs=$(grep -acxF "$mac" "$T/out" || true)
	}
	# staged and unchanged: its blob
	clean_a 1
	[ "$macs" -eq 1 ]
	# the index rewritten without it: a new file, sealed afresh
	git rm -q --cached secrets/a.yaml
	clean_a 2
	[ "$macs" -eq 1 ]
	# and with it again
	git update-index --add --cacheinfo "100644,$staged,secrets/a.yaml"
	clean_a 3
	[ "$macs" -eq 2 ]
	exec 5>&-
	wait "$filter_pid"
}

tamper_setup() {
	printf 'a: one\n' > secrets/good.yaml
	printf 'b: two\n' > secrets/bad.yaml
	fixture git add -A
	fixture git commit -qm one
	# graft good's MAC into bad: the blob is still a sops file (clean
	# passes it through) but its MAC no longer verifies
	git cat-file -p HEAD:secrets/bad.yaml > "$T/bad"
	mac=$(git cat-file -p HEAD:secrets/good.yaml | grep '^    mac:')
	sed -i "s|^    mac:.*|$mac|" "$T/bad"
	git cat-file -p HEAD:secrets/good.yaml > "$T/good"
	# the filter refuses it (MAC): staged past it, as another tool could
	id=$(git hash-object -w --no-filters "$T/bad")
	git update-index --cacheinfo "100644,$id,secrets/bad.yaml"
	fixture git commit -qm tamper --no-verify
}

@test "a file that fails decryption gets status=error, the process goes on" {
	tamper_setup
	{
		pkt_text git-filter-client; pkt_text version=2; printf 0000
		pkt_text capability=clean; pkt_text capability=smudge; printf 0000
		pkt_text command=smudge; pkt_text pathname=secrets/bad.yaml; printf 0000
		pkt_file "$T/bad"; printf 0000
		pkt_text command=smudge; pkt_text pathname=secrets/good.yaml; printf 0000
		pkt_file "$T/good"; printf 0000
	} > "$T/session"
	run --separate-stderr "$GITSEAL_BIN" git filter-process < "$T/session"
	[ "$status" -eq 0 ]
	echo "$output" | od -c | head -20
	expect="$(pkt_text git-filter-server; pkt_text version=2; printf 0000
		pkt_text capability=clean; pkt_text capability=smudge; printf 0000
		pkt_text status=error; printf 0000
		pkt_text status=success; printf 0000; pkt $'a: one\n'; printf 0000; printf 0000)"
	[ "$output" = "$expect" ]
	grep -q "secrets/bad.yaml" <<<"$stderr"
	grep -q "MAC" <<<"$stderr"
}

# git writes each packet of a request with a write of its own; a filter
# that slept between them was woken for each (docs/development.md, the
# process-filter floor). It polls for the rest of a request, yielding its CPU
# between polls (git may be waiting for that very CPU): by default, never
# with GITSEAL_FILTER_SPIN_US=0, and the answer is the same bytes.
@test "a request whose packets come apart: the filter polls for the rest, yielding its CPU; the same answer" {
	command -v strace >/dev/null || skip "strace is not installed"
	strace -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
	[ "$(nproc)" -gt 1 ] || skip "the filter never polls with one CPU"
	printf 'a: one\n' > secrets/app.yaml
	fixture git add -A
	fixture git commit -qm one
	git cat-file -p HEAD:secrets/app.yaml > "$T/enc"
	mkdir "$T/pkts"
	{ pkt_text git-filter-client; pkt_text version=2; printf 0000; } > "$T/pkts/1"
	{ pkt_text capability=clean; pkt_text capability=smudge; printf 0000; } > "$T/pkts/2"
	pkt_text command=smudge > "$T/pkts/3"
	pkt_text pathname=secrets/app.yaml > "$T/pkts/4"
	printf 0000 > "$T/pkts/5"
	pkt_file "$T/enc" > "$T/pkts/6"
	printf 0000 > "$T/pkts/7"
	# one packet at a time, 20 ms apart
	apart() { for i in 1 2 3 4 5 6 7; do cat "$T/pkts/$i"; sleep 0.02; done; }
	cat "$T"/pkts/[1-7] | "$GITSEAL_BIN" git filter-process > "$T/at_once"
	expect="$(pkt_text git-filter-server; pkt_text version=2; printf 0000
		pkt_text capability=clean; pkt_text capability=smudge; printf 0000
		pkt_text status=success; printf 0000; pkt $'a: one\n'; printf 0000; printf 0000)"
	[ "$(cat "$T/at_once")" = "$expect" ]
	# LeakSanitizer cannot run under ptrace (the SAN=1 build): off for the traced runs only
	local asan="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	apart | ASAN_OPTIONS="$asan" strace -f -qq -e trace=sched_yield -o "$T/trace" "$GITSEAL_BIN" git filter-process > "$T/apart"
	cmp "$T/at_once" "$T/apart"
	grep -q 'sched_yield()' "$T/trace"
	apart | ASAN_OPTIONS="$asan" GITSEAL_FILTER_SPIN_US=0 strace -f -qq -e trace=sched_yield -o "$T/trace0" \
		"$GITSEAL_BIN" git filter-process > "$T/apart0"
	cmp "$T/at_once" "$T/apart0"
	! grep -q 'sched_yield()' "$T/trace0" || false
}

@test "git checkout: a file that fails decryption does not stop the others" {
	tamper_setup
	cat > "$T/wrap.sh" <<SH
#!/bin/sh
echo start >> "$T/starts"
exec "$GITSEAL_BIN" git filter-process
SH
	chmod +x "$T/wrap.sh"
	git config filter.gitseal.process "$T/wrap.sh"
	rm secrets/*.yaml
	# required=true makes git itself stop at the first failure; without it
	# git goes on, and the one filter process serves the rest
	run git -c filter.gitseal.required=false checkout -- secrets
	echo "$output"
	grep -q "bad.yaml" <<<"$output"
	[ "$(cat secrets/good.yaml)" = "a: one" ]
	! grep -q 'b: two' secrets/bad.yaml || false
	[ "$(wc -l < "$T/starts")" -eq 1 ]
	# with required=true the failure is fatal for git, and no plaintext of bad.yaml is written
	rm secrets/*.yaml
	run git checkout -- secrets
	[ "$status" -eq 128 ]
	grep -q "^gitseal: error: cannot decrypt 'secrets/bad.yaml': MAC mismatch" <<<"$output"
	[ ! -e secrets/bad.yaml ] || ! grep -q 'b: two' secrets/bad.yaml || false
}

@test "git check and the pre-commit hook refuse plaintext staged past the filter" {
	printf 'a: one\n' > secrets/good.yaml
	fixture git add -A
	fixture git commit -qm one
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 0 ]
	printf 'password: hunter2\n' > "$T/leak.yaml"
	id=$(git hash-object -w --no-filters "$T/leak.yaml")
	git update-index --add --cacheinfo "100644,$id,secrets/leak.yaml"
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 1 ]
	grep -q "secrets/leak.yaml" <<<"$output"
	! grep -q "good.yaml" <<<"$output" || false
	[ -x .git/hooks/pre-commit ]
	run git commit -qm leak
	[ "$status" -eq 1 ]
	grep -q "^gitseal: error: 'secrets/leak.yaml': it is staged unencrypted" <<<"$output"
	git rm -q --cached secrets/leak.yaml
	printf 'a: two\n' > secrets/good.yaml
	git commit -qam fine
}

@test "textconv works outside a repository; a non-sops file prints as is" {
	printf 'a: one\n' > secrets/app.yaml
	fixture git add -A
	fixture git commit -qm one
	git cat-file -p HEAD:secrets/app.yaml > "$T/enc.yaml"
	cd "$T"
	run "$GITSEAL_BIN" git textconv "$T/enc.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "a: one" ]
	printf 'plain: text\n' > "$T/plain.yaml"
	run "$GITSEAL_BIN" git textconv "$T/plain.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "plain: text" ]
	run "$GITSEAL_BIN" git textconv "$T/missing.yaml"
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: cannot open '$T/missing.yaml': No such file or directory" ]
}

@test "smudge with a key that does not open the file passes ciphertext through with one warning" {
	printf 'a: one\n' > secrets/one.yaml
	printf 'b: two\n' > secrets/two.yaml
	fixture git add -A
	fixture git commit -qm one
	age-keygen -o "$T/other.txt" 2>/dev/null
	export SOPS_AGE_KEY_FILE="$T/other.txt"
	rm secrets/*.yaml
	run git checkout -- secrets
	[ "$status" -eq 0 ]
	grep -q 'ENC\[' secrets/one.yaml
	grep -q 'ENC\[' secrets/two.yaml
	[ "$(grep -c 'warning' <<<"$output")" -eq 1 ]
	assert_status_clean
}

@test "usage errors and a directory outside any repository" {
	run "$GITSEAL_BIN" git
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "usage: gitseal git init [--no-hook] [PATTERN...]" ]
	run "$GITSEAL_BIN" git frobnicate
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "gitseal: error: git: bad subcommand or arguments" ]
	run "$GITSEAL_BIN" git merge a b c
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "gitseal: error: git: bad subcommand or arguments" ]
	run "$GITSEAL_BIN" git init --bogus
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "gitseal: error: git init: flag provided but not defined: -bogus" ]
	run -0 "$GITSEAL_BIN" git status --help
	[ "${lines[0]}" = "usage: gitseal git init [--no-hook] [PATTERN...]" ]
	run -0 "$GITSEAL_BIN" git trust -h
	[ "${lines[-1]}" = "  -y, --yes                       do not ask for confirmation" ]
	run -2 "$GITSEAL_BIN" git lock now
	[ "${lines[0]}" = "gitseal: error: git lock: unexpected argument" ]
	# updatekeys asks the filter's parser, quietly, whether it applies:
	# every spelling of -h (Go's -help, =VALUE) prints the help of -h alone
	run -0 "$GITSEAL_BIN" updatekeys -h secrets/a.yaml
	help=$output
	for h in -help --help=true -h=1; do
		run -0 "$GITSEAL_BIN" updatekeys "$h" secrets/a.yaml
		[ "$output" = "$help" ]
	done
	run "$GITSEAL_BIN" git init 'two words'
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'two words': not a single gitattributes pattern" ]
	mkdir "$T/norepo"
	cd "$T/norepo"
	run "$GITSEAL_BIN" git init 'x/**'
	[ "$status" -eq 1 ]
	grep -q "repository" <<<"$output"
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: cannot open the git repository: could not find repository from '.'" ]
}

@test "clone recipe: --no-checkout, gitseal git init, then the first checkout decrypts" {
	printf 'token: s3cr3t\n' > secrets/app.yaml
	fixture git add -A
	fixture git commit -qm one
	git clone -q --no-checkout "$REPO" "$T/clone"
	cd "$T/clone"
	run "$GITSEAL_BIN" git init
	[ "$status" -eq 0 ]
	grep -q "this clone seals files for 1 recipient(s)" <<<"$output"
	git checkout -q main
	[ "$(cat secrets/app.yaml)" = "token: s3cr3t" ]
	assert_status_clean
	printf 'token: new\n' > secrets/new.yaml
	git add secrets/new.yaml
	git commit -qm new
	assert_blob_encrypted secrets/new.yaml
}

# libgit2 built with mbedTLS parses the system's CA bundle in its start-up,
# three quarters of the filter's, for TLS the filter never uses
# (src/git/libgit2.c); the filter still opens the repository with it.
@test "the filter process opens the repository without reading the CA bundle" {
	command -v strace >/dev/null || skip "strace is not installed"
	# LSan does not run under ptrace
	ASAN_OPTIONS=detect_leaks=0 strace -f -o "$T/trace" -e trace=openat,open \
		"$GITSEAL_BIN" git filter-process </dev/null 2>/dev/null || true
	grep -q 'libgit2\.so' "$T/trace"
	grep -q "$REPO/.git/config" "$T/trace"
	run grep -E 'ca-certificates|/etc/ssl/certs' "$T/trace"
	[ "$status" -eq 1 ]
}
