#!/usr/bin/env bats
# The work tree through everyday git commands: stable bytes, partial adds,
# blame, moves, clones without keys, Windows line ends, lock and unlock.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_from any_secret_rule; }
# a rule for every file under secrets/, accepted (once a file)
any_secret_rule() {
	printf 'creation_rules:\n  - path_regex: secrets/.*\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	gitseal updatekeys -r -y . 2>/dev/null
}
teardown() { gs_teardown; }

@test "case 6: git add -p cannot stage a part of a sealed file; check refuses a partial blob with or without a key" {
	printf 'a: one\nb: two\nc: three\nd: four\ne: five\nf: six\ng: seven\n' > secrets/app.yaml
	git add -A
	git commit -qm one
	sed -i 's/one/ONE/; s/seven/SEVEN/' secrets/app.yaml
	run git add -p <<<"$(printf 'y\nn\ny\ny\n')"
	[ -z "$(git diff --cached --name-only)" ]
	git add secrets/app.yaml
	[ "$(git diff --cached --name-only)" = "secrets/app.yaml" ]
	# a partial stage as `git add -p` made it before: one value, not the MAC
	git show :secrets/app.yaml > "$T/new.yaml"
	git show HEAD:secrets/app.yaml > "$T/old.yaml"
	{ grep '^a: ' "$T/new.yaml"; grep -v '^a: ' "$T/old.yaml"; } > "$T/partial.yaml"
	id=$(git hash-object -w --no-filters "$T/partial.yaml")
	git update-index --cacheinfo "100644,$id,secrets/app.yaml"
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/app.yaml': only a part of a change is staged (git add -p?): its MAC cannot match; stage the whole file with 'git add secrets/app.yaml'" <<<"$output"
	run env -u SOPS_AGE_KEY_FILE "$GITSEAL_BIN" git check
	[ "$status" -eq 1 ]
	grep -qF "only a part of a change is staged" <<<"$output"
	run git commit -qm partial
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/app.yaml': only a part of a change is staged (git add -p?): its MAC cannot match; stage the whole file with 'git add secrets/app.yaml'" <<<"$output"
}

@test "case 8: a binary-store file keeps its ciphertext while unchanged; a fresh clone is clean; commit -a makes no commit" {
	head -c 300 /dev/urandom > secrets/cert.p12
	printf 'PEM text\n' > secrets/key.pem
	git add -A
	git commit -qm one
	before=$(git rev-parse HEAD:secrets/cert.p12)
	touch_newer secrets/*
	assert_status_clean
	git add --renormalize .
	[ "$(git rev-parse :secrets/cert.p12)" = "$before" ]
	run git commit -qam noise
	[ "$status" -eq 1 ]
	grep -q '^nothing to commit, working tree clean$' <<<"$output"
	git clone -q "$REPO" "$T/clone"
	cd "$T/clone"
	"$GITSEAL_BIN" git init 2>/dev/null
	cmp secrets/cert.p12 "$REPO/secrets/cert.p12"
	assert_status_clean
}

@test "case 9: an empty file under the pattern passes through" {
	: > secrets/.gitkeep
	printf 'a: one\n' > secrets/app.yaml
	git add -A
	[ "$(git cat-file -s :secrets/.gitkeep)" -eq 0 ]
	git commit -qm one
	assert_status_clean
	"$GITSEAL_BIN" git check
	run "$GITSEAL_BIN" git status
	grep -qx "secrets/.gitkeep: empty" <<<"$output"
}

@test "case 10: teammates get the bytes the author committed (no final newline, block scalars with their indentation, in flat files too); the merge driver writes a block back as it was" {
	printf 'a: no-final-newline' > secrets/nonl.yaml
	printf 'A=1\nB=no-final-newline' > secrets/nonl.env
	printf '[s]\na = no-final-newline' > secrets/nonl.ini
	printf '{"a": "no-final-newline"}' > secrets/nonl.json
	printf 'kind: Secret\napiVersion: v1\nstringData:\n  config.yaml: |\n    user: admin\n    pass: hunter2\n  other: |-\n    two\n    lines\n' > secrets/k8s.yaml
	printf 'key:\n  inner: |\n    a block\n    of two lines\n  after: x\n' > secrets/block.yaml
	# 2-space blocks in a file with no nested map: the sops metadata was the
	# only thing to take a step from (4)
	printf 'a: |-\n  line1\n  line2\nb: 1\n' > secrets/flat.yaml
	printf 'a: |+\n  kept\n\nb: 1\n' > secrets/keep.yaml
	printf 'a: |\n   three\n   spaces\nb: no-final-newline' > secrets/three.yaml
	printf '# top\ncert: | # pem\n  -----BEGIN-----\n  abc\n' > secrets/comment.yaml
	printf 'db:\n    cert: |\n        line1\n    k: v\n' > secrets/four.yaml
	printf 'l:\n- |\n  x\n  y\n- z\n' > secrets/list.yaml
	git add -A
	git commit -qm one
	git clone -q "$REPO" "$T/clone"
	cd "$T/clone"
	"$GITSEAL_BIN" git init 2>/dev/null
	for f in nonl.yaml nonl.env nonl.ini nonl.json k8s.yaml block.yaml flat.yaml keep.yaml three.yaml comment.yaml four.yaml list.yaml; do
		cmp "secrets/$f" "$REPO/secrets/$f"
	done
	assert_status_clean
	# a merge that changes other keys writes the block back as it was
	git checkout -qb side
	sed -i 's/^b: 1$/b: 2/' secrets/flat.yaml
	git commit -qam side
	git checkout -q main
	printf 'a: |-\n  line1\n  line2\nb: 1\nc: 3\n' > secrets/flat.yaml
	git commit -qam main
	git merge -q --no-edit side
	[ "$(cat secrets/flat.yaml)" = "$(printf 'a: |-\n  line1\n  line2\nb: 2\nc: 3')" ]
	rm secrets/flat.yaml
	git checkout -- secrets/flat.yaml
	[ "$(cat secrets/flat.yaml)" = "$(printf 'a: |-\n  line1\n  line2\nb: 2\nc: 3')" ]
	assert_status_clean
}

@test "case 10: dotenv and YAML files with CRLF line ends (block scalars too) are stored as git stores text (LF), values without CR; checkouts give those bytes, LF on every line" {
	printf 'A=1\r\nB="two words"\r\n# note\r\nC=3\r\n' > secrets/win.env
	printf 'A=1\nB=2' > secrets/unix.env
	# no final line break: the blob ends open too, without a CR left alone
	printf 'A=1\r\nB=open' > secrets/winopen.env
	printf 'a: 1\r\nb: open' > secrets/winopen.yaml
	printf 'a: |\r\n  line1\r\n  line2\r\nb: |-\r\n  x\r\n\r\n  y\r\n# note\r\nc: plain\r\n' > secrets/win.yaml
	git add -A
	git commit -qm one
	assert_status_clean
	run ! grep -q $'\r' <(git show HEAD:secrets/win.env)
	run ! grep -q $'\r' <(git show HEAD:secrets/win.yaml)
	run ! grep -q $'\r' <(git show HEAD:secrets/winopen.env)
	run ! grep -q $'\r' <(git show HEAD:secrets/winopen.yaml)
	git show HEAD:secrets/win.env > "$T/win.enc.env"
	[ "$("$GITSEAL_BIN" decrypt --output-type json "$T/win.enc.env" | tr -d '\n\t ')" = '{"A":"1","B":"\"twowords\"","C":"3"}' ]
	rm secrets/*.env secrets/win.yaml secrets/winopen.yaml
	git checkout -- secrets
	printf 'A=1\nB="two words"\n# note\nC=3\n' | cmp - secrets/win.env
	printf 'A=1\nB=2' | cmp - secrets/unix.env
	printf 'A=1\nB=open' | cmp - secrets/winopen.env
	printf 'a: 1\nb: open' | cmp - secrets/winopen.yaml
	printf 'a: |\n  line1\n  line2\nb: |-\n  x\n\n  y\n# note\nc: plain\n' | cmp - secrets/win.yaml
	assert_status_clean
	# the CRLF files again, unchanged: the committed blobs, not new ones
	before=$(git rev-parse HEAD:secrets/win.env)
	before_yaml=$(git rev-parse HEAD:secrets/win.yaml)
	printf 'A=1\r\nB="two words"\r\n# note\r\nC=3\r\n' > secrets/win.env
	printf 'a: |\r\n  line1\r\n  line2\r\nb: |-\r\n  x\r\n\r\n  y\r\n# note\r\nc: plain\r\n' > secrets/win.yaml
	git add secrets/win.env secrets/win.yaml
	[ "$(git rev-parse :secrets/win.env)" = "$before" ]
	[ "$(git rev-parse :secrets/win.yaml)" = "$before_yaml" ]
	# a changed value in it changes the blob, which checks out with LF only
	printf 'a: |\r\n  line1\r\n  line3\r\nb: |-\r\n  x\r\n\r\n  y\r\n# note\r\nc: plain\r\n' > secrets/win.yaml
	git commit -qam two
	run ! grep -q $'\r' <(git show HEAD:secrets/win.yaml)
	rm secrets/win.yaml
	git checkout -- secrets
	printf 'a: |\n  line1\n  line3\nb: |-\n  x\n\n  y\n# note\nc: plain\n' | cmp - secrets/win.yaml
	assert_status_clean
}

@test "case 11: core.autocrlf=true: init decrypts, line ends stay LF for the filter, status is clean" {
	printf 'A=1\nB=2\n' > secrets/app.env
	printf 'a: one\nb: two\n' > secrets/app.yaml
	git add -A
	git commit -qm one
	git -c core.autocrlf=true clone -q "$REPO" "$T/win"
	cd "$T/win"
	git config core.autocrlf true
	run "$GITSEAL_BIN" git init
	[ "$status" -eq 0 ]
	[ "$(cat secrets/app.env)" = "$(printf 'A=1\nB=2')" ]
	[ "$(cat secrets/app.yaml)" = "$(printf 'a: one\nb: two')" ]
	assert_status_clean
	# an editor that writes CRLF: the blob stays LF
	printf 'a: one\r\nb: three\r\n' > secrets/app.yaml
	git commit -qam crlf
	run ! grep -q $'\r' <(git show HEAD:secrets/app.yaml)
	[ "$(git show HEAD:secrets/app.yaml | gitseal_textconv | tr -d '\r')" = "$(printf 'a: one\nb: three')" ]
}

@test "case 13: without the key: checked out encrypted, never modified, commit -a commits nothing" {
	printf 'a: one\n' > secrets/app.yaml
	printf 'A=1\n' > secrets/app.env
	printf 'bytes' > secrets/blob.bin
	git add -A
	git commit -qm one
	unset SOPS_AGE_KEY_FILE
	git clone -q "$REPO" "$T/nokey"
	cd "$T/nokey"
	run "$GITSEAL_BIN" git init
	[ "$status" -eq 0 ]
	grep -qF "warning: 3 file(s) left encrypted in the work tree: none of your identities opens them" <<<"$output"
	touch_newer secrets/*
	assert_status_clean
	run git commit -qam nothing
	[ "$status" -eq 1 ]
	grep -q '^nothing to commit, working tree clean$' <<<"$output"
	[ "$(git rev-parse HEAD)" = "$(git -C "$REPO" rev-parse HEAD)" ]
	rm secrets/app.yaml
	run git checkout -- secrets/app.yaml
	[ "$status" -eq 0 ]
	grep -qF "warning: 'secrets/app.yaml' is checked out encrypted" <<<"$output"
	run "$GITSEAL_BIN" git status
	grep -qx "secrets/app.yaml: locked (ciphertext in the work tree: no identity found)" <<<"$output"
}

@test "case 14: git blame FILE shows plaintext, each line from its own commit" {
	printf 'a: one\nb: two\n' > secrets/app.yaml
	git add -A
	git commit -qm first
	first=$(git rev-parse --short HEAD)
	sed -i 's/two/TWO/' secrets/app.yaml
	git commit -qam second
	second=$(git rev-parse --short HEAD)
	run git blame -s secrets/app.yaml
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(grep -c . <<<"$output")" -eq 2 ]
	grep -q "^\\^\\?$first.* 1) a: one$" <<<"$output"
	grep -q "^$second.* 2) b: TWO$" <<<"$output"
	printf 'c: three\n' >> secrets/app.yaml
	run git blame -s secrets/app.yaml
	grep -q "^00000000.* 3) c: three$" <<<"$output"
	grep -q "^$second.* 2) b: TWO$" <<<"$output"
	# nothing of it was stored
	run ! grep -qa three <(git cat-file --batch-all-objects --batch)
}

@test "case 16: a file moved out of the pattern with its plaintext is refused by check and the hook" {
	printf 'password: hunter2-secret\nuser: admin\n' > secrets/a.yaml
	git add -A
	git commit -qm one
	git mv secrets/a.yaml a.yaml
	run git commit -qam moved
	[ "$status" -eq 1 ]
	grep -qF "gitseal: error: 'a.yaml': it holds secrets of 'secrets/a.yaml', which is encrypted; keep it under the filter's pattern (see .gitattributes)" <<<"$output"
	run ! grep -qa hunter2-secret <(git rev-list --all --objects | git cat-file --batch-check='%(objectname)' | git cat-file --batch)
	# edited on the way out: still refused
	sed -i 's/user: admin/user: root/' a.yaml
	git add a.yaml
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 1 ]
	grep -qF "'a.yaml': it holds secrets of 'secrets/a.yaml'" <<<"$output"
	# moved within the pattern: fine
	git mv -f a.yaml secrets/b.yaml
	git add secrets/b.yaml
	"$GITSEAL_BIN" git check
}

@test "lock leaves ciphertext, checkouts stay encrypted, unlock decrypts; lock refuses uncommitted changes" {
	printf 'a: one\n' > secrets/app.yaml
	git add -A
	git commit -qm one
	run "$GITSEAL_BIN" git lock
	[ "$status" -eq 0 ]
	grep -q 'ENC\[' secrets/app.yaml
	assert_status_clean
	rm secrets/app.yaml
	git checkout -- secrets/app.yaml
	grep -q 'ENC\[' secrets/app.yaml
	run "$GITSEAL_BIN" git status
	grep -qx ".: locked: checkouts leave ciphertext ('gitseal git unlock')" <<<"$output"
	run "$GITSEAL_BIN" git unlock
	[ "$status" -eq 0 ]
	[ "$(cat secrets/app.yaml)" = "a: one" ]
	assert_status_clean
	printf 'a: changed\n' > secrets/app.yaml
	run "$GITSEAL_BIN" git lock
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'secrets/app.yaml' has changes that are not committed: commit or stash them first (--force locks it anyway, and they are lost)" ]
	[ "$(cat secrets/app.yaml)" = "a: changed" ]
	"$GITSEAL_BIN" git lock --force
	grep -q 'ENC\[' secrets/app.yaml
}

@test "gitseal git status names each file's state" {
	printf 'a: one\n' > secrets/app.yaml
	git add -A
	git commit -qm one
	printf 'leak: x\n' > "$T/leak.yaml"
	id=$(git hash-object -w --no-filters "$T/leak.yaml")
	git update-index --add --cacheinfo "100644,$id,secrets/leak.yaml"
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf "secrets/app.yaml: decrypted\nsecrets/leak.yaml: plaintext staged (the filter did not seal it: 'git add' it again)")" ]
	rm secrets/app.yaml
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	grep -qx "secrets/app.yaml: deleted in the work tree" <<<"$output"
}
