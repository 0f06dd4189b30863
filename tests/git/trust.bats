#!/usr/bin/env bats
# Repository content is attacker input: what a pull request can do to who
# reads a secret, done as a hostile pull request would do it (another
# person's clone commits; the victim pulls and works as usual).

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_with_mallory; }
teardown() { gs_teardown; }

@test "case 1: a pull request adding a recipient to .sops.yaml reaches no existing file, and new files wait for updatekeys" {
	as_person mallory sed -i "s|age: .*|&,$M|" .sops.yaml
	as_person mallory git commit -qam "add a recipient"
	pull_from mallory
	# the victim changes the secret as usual
	printf 'db_password: hunter2-new\nport: 5432\n' > secrets/app.yaml
	git commit -qam "rotate the password"
	assert_blob_encrypted secrets/app.yaml
	run ! grep -q "$M" <(git show HEAD:secrets/app.yaml)
	SOPS_AGE_KEY_FILE="$T/mallory.txt" run fixture gitseal decrypt --input-type yaml /dev/stdin <<<"$(git show HEAD:secrets/app.yaml)"
	[ "$status" -eq 128 ]
	[[ "$output" == "gitseal: error: '/dev/stdin': cannot recover the data key: no key opened it"* ]]
	run ! grep -q hunter2 <<<"$output"
	# a new file is not sealed for the new recipient silently
	printf 'token: t0ken-value\n' > secrets/new.yaml
	run git add secrets/new.yaml
	[ "$status" -eq 128 ]
	grep -qF "cannot encrypt 'secrets/new.yaml': recipients changed: +$M; run 'gitseal updatekeys' to accept" <<<"$output"
	[ -z "$(git ls-files -s secrets/new.yaml)" ]
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	grep -qxF ".sops.yaml: recipients changed: +$M; run 'gitseal updatekeys' to accept" <<<"$output"
	grep -qx "secrets/app.yaml: decrypted; needs updatekeys (.sops.yaml names other keys)" <<<"$output"
}

@test "case 2: a pull request setting encrypted_regex: ^no_such_key\$ puts no value in clear" {
	as_person mallory sh -c 'printf "    encrypted_regex: ^no_such_key\$\n" >> .sops.yaml'
	as_person mallory git commit -qam "narrow what is encrypted"
	pull_from mallory
	printf 'db_password: hunter2-new\nport: 5433\n' > secrets/app.yaml
	git commit -qam change
	run ! grep -q hunter2 <(git show HEAD:secrets/app.yaml)
	run ! grep -q encrypted_regex <(git show HEAD:secrets/app.yaml)
	printf 'token: t0ken-value\n' > secrets/new.yaml
	run git add secrets/new.yaml
	[ "$status" -eq 128 ]
	grep -qF "the creation rule for 'secrets/new.yaml' changed what is encrypted (encrypted_regex '^no_such_key\$'); run 'gitseal updatekeys' to accept" <<<"$output"
	# the same downgrade staged past the filter: check and the hook refuse it
	printf 'db_password: hunter2-newer\nport: 5433\n' > "$T/p.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT" --encrypted-regex '^no_such_key$' p.yaml) > "$T/weak.yaml"
	id=$(git hash-object -w --no-filters "$T/weak.yaml")
	git update-index --cacheinfo "100644,$id,secrets/app.yaml"
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/app.yaml': the value at 'db_password' is in clear, but the committed version encrypts it" <<<"$output"
	# the work tree file another value: the filter refuses it under the
	# staged rule (red team 12); the same value: the hook refuses the blob
	run -128 git commit -qm weak
	grep -qF "cannot encrypt 'secrets/app.yaml': the value at 'db_password' would be in clear under the file's own rule (encrypted_regex '^no_such_key\$')" <<<"$output"
	cp "$T/p.yaml" secrets/app.yaml
	run git commit -qm weak
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/app.yaml': the value at 'db_password' is in clear, but the committed version encrypts it" <<<"$output"
	[ "$(git rev-parse HEAD:secrets/app.yaml)" != "$id" ]
}

@test "case 3: a planted data key is never re-used for the victim's secret" {
	# mallory seals a placeholder for the victim and for herself, then
	# deletes her own stanza: the file still verifies (metadata is outside the MAC)
	printf 'token: placeholder\n' > "$T/planted.yaml"
	(cd "$T" && HOME="$T/mallory-home" fixture gitseal encrypt --age "$RECIPIENT,$M" planted.yaml) > "$T/both.yaml"
	drop_stanza "$M" "$T/stanza" < "$T/both.yaml" > "$T/mallory/secrets/planted.yaml"
	grep -q "$M" "$T/stanza"
	as_person mallory git add secrets/planted.yaml
	as_person mallory git commit -qm "add a placeholder"
	pull_from mallory
	[ "$(cat secrets/planted.yaml)" = "token: placeholder" ]
	# the victim writes the real secret into it
	printf 'token: the-real-secret\n' > secrets/planted.yaml
	git commit -qam "the real token"
	assert_blob_encrypted secrets/planted.yaml
	# mallory grafts her stanza back: it opens the placeholder, not the secret
	git show HEAD~1:secrets/planted.yaml | graft_stanza "$T/stanza" > "$T/old.yaml"
	SOPS_AGE_KEY_FILE="$T/mallory.txt" run fixture gitseal decrypt "$T/old.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "token: placeholder" ]
	git show HEAD:secrets/planted.yaml | graft_stanza "$T/stanza" > "$T/new.yaml"
	SOPS_AGE_KEY_FILE="$T/mallory.txt" run fixture gitseal decrypt "$T/new.yaml"
	[ "$status" -eq 25 ]
	[ "$output" = "gitseal: error: '$T/new.yaml': value at 'token:': cannot decrypt value: authentication failed" ]
	run ! grep -q the-real-secret <<<"$output"
	# a data key this clone made is re-used: small diffs stay
	printf 'token: the-real-secret-2\n' > secrets/planted.yaml
	git commit -qam again
	[ "$(git show HEAD:secrets/planted.yaml | grep -c 'BEGIN AGE')" -eq 1 ]
	[ "$(git show HEAD~1:secrets/planted.yaml | sed -n '/enc: |/,/END AGE/p')" = "$(git show HEAD:secrets/planted.yaml | sed -n '/enc: |/,/END AGE/p')" ]
}

@test "case 3: a recipient added to an existing file's metadata is refused" {
	# mallory cannot wrap the data key for herself, but she can name herself
	git show HEAD:secrets/app.yaml > "$T/app.yaml"
	printf 'x: 1\n' > "$T/x.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$M" x.yaml) > "$T/mx.yaml"
	drop_stanza "$M" "$T/stanza" < "$T/mx.yaml" > /dev/null
	graft_stanza "$T/stanza" < "$T/app.yaml" > "$T/mallory/secrets/app.yaml"
	as_person mallory git commit -qam "read access"
	pull_from mallory
	printf 'db_password: hunter2-new\nport: 5432\n' > secrets/app.yaml
	run git add secrets/app.yaml
	[ "$status" -eq 128 ]
	grep -qF "cannot encrypt 'secrets/app.yaml': recipients changed: +$M; run 'gitseal updatekeys' to accept" <<<"$output"
	run "$GITSEAL_BIN" git status
	grep -qF "secrets/app.yaml: decrypted; recipients changed: +$M" <<<"$output"
}

@test "case 4: a clone without the key cannot commit a line added in clear to a sops file" {
	unset SOPS_AGE_KEY_FILE
	git clone -q "$REPO" "$T/locked"
	cd "$T/locked"
	"$GITSEAL_BIN" git init 2>/dev/null
	grep -q 'ENC\[' secrets/app.yaml
	assert_status_clean
	printf 'api_token: plain-text-token\n' >> secrets/app.yaml
	run git add secrets/app.yaml
	[ "$status" -eq 128 ]
	grep -qF "cannot encrypt 'secrets/app.yaml': the value at 'api_token' is not encrypted" <<<"$output"
	run git commit -qam "add a token"
	[ "$status" -eq 128 ]
	grep -qF "gitseal: error: cannot encrypt 'secrets/app.yaml': the value at 'api_token' is not encrypted" <<<"$output"
	# staged past the filter: check and the hook refuse it
	id=$(git hash-object -w --no-filters secrets/app.yaml)
	git update-index --cacheinfo "100644,$id,secrets/app.yaml"
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/app.yaml': the value at 'api_token' is not encrypted" <<<"$output"
	run git commit -qm "add a token"
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: 'secrets/app.yaml': the value at 'api_token' is not encrypted" <<<"$output"
	[ "$(git rev-parse HEAD:secrets/app.yaml)" = "$(git -C "$REPO" rev-parse HEAD:secrets/app.yaml)" ]
}

@test "case 15: a hand-made sops file added with GITSEAL_KEEP_FILE_RULE=1 keeps its own rules in a key holder's clone" {
	printf 'user: admin\npassword: hunter2\n' > "$T/hand.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT" --encrypted-regex '^password$' hand.yaml) > secrets/hand.yaml
	# its rule leaves in clear what .sops.yaml's seals: the user says so
	run -128 git add secrets/hand.yaml
	grep -qF "the value at 'user' is in clear under the file's own rule (encrypted_regex '^password\$')" <<<"$output"
	GITSEAL_KEEP_FILE_RULE=1 git add secrets/hand.yaml
	git commit -qm "hand-made"
	git clone -q "$REPO" "$T/other"
	cd "$T/other"
	"$GITSEAL_BIN" git init 2>/dev/null
	[ "$(cat secrets/hand.yaml)" = "$(printf 'user: admin\npassword: hunter2')" ]
	touch_newer secrets/hand.yaml
	assert_status_clean
	# a value it holds in clear, changed, goes in clear as the user says
	sed -i 's/admin/root/' secrets/hand.yaml
	run -128 git commit -qam "another user"
	grep -qF "the value at 'user' would be in clear under the file's own rule" <<<"$output"
	GITSEAL_KEEP_FILE_RULE=1 git commit -qam "another user"
	git show HEAD:secrets/hand.yaml | grep -qx 'user: root'
	git show HEAD:secrets/hand.yaml | grep -q "encrypted_regex: \^password\\$"
	run ! grep -q hunter2 <(git show HEAD:secrets/hand.yaml)
	run "$GITSEAL_BIN" git status
	grep -qx "secrets/hand.yaml: decrypted; hand-made (its own rule is kept; 'gitseal updatekeys' applies .sops.yaml's)" <<<"$output"
}

@test "case 18: a recipient added by a teammate shows in gitseal git status; updatekeys on the work tree file asks, adds, and keeps the data key" {
	gs_person tina
	TI=$(recipient_of tina)
	sed -i "s|age: .*|&,$TI|" .sops.yaml
	fixture git commit -qm "tina joins" .sops.yaml
	run "$GITSEAL_BIN" git status
	grep -qxF ".sops.yaml: recipients changed: +$TI; run 'gitseal updatekeys' to accept" <<<"$output"
	grep -qx "secrets/app.yaml: decrypted; needs updatekeys (.sops.yaml names other keys)" <<<"$output"
	# without a terminal or -y nothing changes
	run "$GITSEAL_BIN" updatekeys secrets/app.yaml </dev/null
	[ "$status" -eq 1 ]
	grep -qxF "+++ $TI" <<<"$output"
	grep -qF "the added recipients can read every earlier version of 'secrets/app.yaml' too: its data key stays (--rotate gives it a new one)" <<<"$output"
	grep -qx "gitseal: error: changes not confirmed: no terminal to answer on (use -y)" <<<"$output"
	assert_status_clean
	run "$GITSEAL_BIN" updatekeys -y secrets/app.yaml
	[ "$status" -eq 0 ]
	grep -qx "gitseal: 'secrets/app.yaml': keys updated and staged; commit to share the change" <<<"$output"
	[ "$(git status --porcelain)" = "M  secrets/app.yaml" ]
	git commit -qm "updatekeys"
	# tina reads it; the data key stayed, so she reads the earlier version too
	SOPS_AGE_KEY_FILE="$T/tina.txt" run fixture gitseal decrypt --input-type yaml /dev/stdin <<<"$(git show HEAD:secrets/app.yaml)"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'db_password: hunter2-old\nport: 5432')" ]
	[ "$(git show HEAD~2:secrets/app.yaml | grep '^db_password')" = "$(git show HEAD:secrets/app.yaml | grep '^db_password')" ]
	run "$GITSEAL_BIN" git status
	[ "$output" = "secrets/app.yaml: decrypted" ]
	# new files are sealed for both now
	printf 'token: t0ken-value\n' > secrets/new.yaml
	git add secrets/new.yaml
	[ "$(git show :secrets/new.yaml | grep -c 'recipient: ')" -eq 2 ]
	# --rotate: a new data key, every value sealed anew
	run "$GITSEAL_BIN" updatekeys -y --rotate secrets/app.yaml
	[ "$status" -eq 0 ]
	[ "$(git show :secrets/app.yaml | grep '^port')" != "$(git show HEAD:secrets/app.yaml | grep '^port')" ]
	[ "$(git show :secrets/app.yaml | gitseal_textconv)" = "$(printf 'db_password: hunter2-old\nport: 5432')" ]
}

@test "an age entry of .sops.yaml that is no recipient: status, updatekeys and a clone's init name it in one line, never as a recipient to accept" {
	sed -i "s|age: .*|&,age1notarecipient|" .sops.yaml
	fixture git commit -qm "a typo" .sops.yaml
	why="creation rule 1: age recipient 'age1notarecipient': malformed age1 recipient"
	run -0 "$GITSEAL_BIN" git status
	grep -qxF ".sops.yaml: $why" <<<"$output"
	[ "$(grep -c 'age1notarecipient' <<<"$output")" -eq 1 ]
	run -1 "$GITSEAL_BIN" updatekeys -y secrets/app.yaml
	[ "$output" = "gitseal: error: '.sops.yaml': $why" ]
	git clone -q "$REPO" "$T/clone"
	cd "$T/clone"
	run -1 "$GITSEAL_BIN" git init
	[ "$output" = "gitseal: error: '.sops.yaml': $why" ]
	# the entry is shown with its control bytes as \xNN: a .sops.yaml from a
	# pull request does not steer the terminal of whoever runs init
	cd "$REPO"
	sed -i 's|age: \(.*\),age1notarecipient$|age: "\1,age1\\e]0;title\\a"|' .sops.yaml
	git commit -qm "an escape" .sops.yaml
	run -0 "$GITSEAL_BIN" git status
	grep -qxF ".sops.yaml: creation rule 1: age recipient 'age1\x1b]0;title\x07': malformed age1 recipient" <<<"$output"
	run -1 "$GITSEAL_BIN" updatekeys -y secrets/app.yaml
	[ "$output" = "gitseal: error: '.sops.yaml': creation rule 1: age recipient 'age1\x1b]0;title\x07': malformed age1 recipient" ]
}

@test "a committed file with an age entry that names no recipient: updatekeys shows it going, never calls the file up to date" {
	printf 'db_password: hunter2-old\nport: 5432\n' >"$T/plain.yaml"
	"$GITSEAL_BIN" --config /dev/null encrypt --age "$RECIPIENT,$M" "$T/plain.yaml" | grep -v "recipient: $M\$" >"$T/unnamed.yaml"
	oid=$(git hash-object -w --no-filters "$T/unnamed.yaml")
	git update-index --cacheinfo "100644,$oid,secrets/app.yaml"
	git commit -qm "an entry with no recipient" --no-verify
	run -0 "$GITSEAL_BIN" updatekeys -y secrets/app.yaml
	grep -qxF -- "--- 1 age entry that names no recipient" <<<"$output"
	[ "$(git show :secrets/app.yaml | grep -c 'enc: |')" -eq 1 ]
	SOPS_AGE_KEY_FILE="$T/mallory.txt" run -128 fixture gitseal decrypt --input-type yaml /dev/stdin <<<"$(git show :secrets/app.yaml)"
}

@test "updatekeys -r over the tree asks once; a file outside the filter is refused" {
	gs_person tina
	TI=$(recipient_of tina)
	printf 'k: v1\n' > secrets/b.yaml
	fixture git add secrets/b.yaml
	fixture git commit -qm b
	sed -i "s|age: .*|&,$TI|" .sops.yaml
	run "$GITSEAL_BIN" updatekeys -r </dev/null
	[ "$status" -eq 1 ]
	grep -qx "secrets/app.yaml:" <<<"$output"
	grep -qx "secrets/b.yaml:" <<<"$output"
	grep -qx "gitseal: error: changes not confirmed: no terminal to answer on (use -y)" <<<"$output"
	run "$GITSEAL_BIN" updatekeys -r -y .
	[ "$status" -eq 0 ]
	[ "$(git status --porcelain | sort)" = "$(printf ' M .sops.yaml\nM  secrets/app.yaml\nM  secrets/b.yaml')" ]
	run "$GITSEAL_BIN" updatekeys -y .sops.yaml
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: no matching creation rules found for '.sops.yaml'" ]
}

@test "a repository with no sealed file yet: updatekeys -y -r (with or without a directory) accepts a changed .sops.yaml; status ends its line" {
	gs_person tina
	TI=$(recipient_of tina)
	rm -rf .git .gitattributes secrets/app.yaml
	git init -q .
	"$GITSEAL_BIN" git init 'secrets/**' 2>/dev/null
	sed -i "s|age: .*|&,$TI|" .sops.yaml
	"$GITSEAL_BIN" git status >"$T/status.txt"
	[ "$(cat "$T/status.txt")" = ".sops.yaml: recipients changed: +$TI; run 'gitseal updatekeys' to accept" ]
	[ "$(tail -c 1 "$T/status.txt" | od -An -c | tr -d ' ')" = '\n' ]
	printf 'token: t0ken\n' >secrets/new.yaml
	run git add secrets/new.yaml
	[ "$status" -eq 128 ]
	grep -qF "gitseal: error: cannot encrypt 'secrets/new.yaml': recipients changed: +" <<<"$output"
	run "$GITSEAL_BIN" updatekeys -y -r
	[ "$status" -eq 0 ]
	grep -qxF "    new files are sealed for: +$TI" <<<"$output"
	[ -z "$("$GITSEAL_BIN" git status)" ]
	git add secrets/new.yaml
	[ "$(git show :secrets/new.yaml | grep -c 'recipient: ')" -eq 2 ]
	# the same with a directory
	M=$(recipient_of mallory)
	sed -i "s|age: .*|&,$M|" .sops.yaml
	run "$GITSEAL_BIN" updatekeys -y -r .
	[ "$status" -eq 0 ]
	grep -qF "+$M" <<<"$output"
	[ "$("$GITSEAL_BIN" git status)" = "secrets/new.yaml: decrypted" ]
	[ "$(git show :secrets/new.yaml | grep -c 'recipient: ')" -eq 3 ]
}

@test "updatekeys -r with files outside every creation rule: a hand-made sops file new to the repository is shown and accepted, a plaintext one is named" {
	printf 'k: v\n' >"$T/hand.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$M" hand.yaml) >secrets/hand.yaml
	printf '{"k": "v"}' >secrets/norule.json
	# no rule matches a .json file; the hand-made file names mallory only
	sed -i 's|secrets/\.\*\\\.yaml\$|secrets/app.*|' .sops.yaml
	run git add secrets/hand.yaml
	[ "$status" -eq 128 ]
	grep -qF "cannot encrypt 'secrets/hand.yaml': recipients changed: +$M; run 'gitseal updatekeys' to accept" <<<"$output"
	run "$GITSEAL_BIN" updatekeys -r </dev/null
	[ "$status" -eq 1 ]
	grep -qxF "    new sops file, added as it is; accept its recipients: +$M" <<<"$output"
	grep -qxF "gitseal: 'secrets/norule.json': no creation rule of .sops.yaml matches it: 'git add' refuses it until one does" <<<"$output"
	grep -qxF "gitseal: 'secrets/app.yaml': already up to date" <<<"$output"
	run "$GITSEAL_BIN" updatekeys -y secrets/hand.yaml
	[ "$status" -eq 0 ]
	grep -qxF "gitseal: 'secrets/hand.yaml': recipients accepted" <<<"$output"
	git add secrets/hand.yaml
	git show :secrets/hand.yaml | cmp - secrets/hand.yaml
	"$GITSEAL_BIN" git check
	run git add secrets/norule.json
	[ "$status" -eq 128 ]
	grep -qF "gitseal: error: cannot encrypt 'secrets/norule.json': no matching creation rules found for '" <<<"$output"
}

@test "updatekeys finds a Kubernetes Secret sealed with sops's default selection up to date, and a look-alike too" {
	printf 'apiVersion: v1\nkind: Secret\nstringData:\n  p: x\n' > secrets/s1.yaml
	printf 'apiVersion: example.com/v2\nkind: Secret\nspec:\n  p: x\n' > secrets/s2.yaml
	git add -A
	git commit -qm secrets
	git show HEAD:secrets/s1.yaml | grep -qxF '    encrypted_regex: ^(data|stringData)$'
	git show HEAD:secrets/s2.yaml | grep -qxF '    unencrypted_suffix: _unencrypted'
	run "$GITSEAL_BIN" updatekeys secrets/s1.yaml secrets/s2.yaml </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf "gitseal: 'secrets/s1.yaml': already up to date\ngitseal: 'secrets/s2.yaml': already up to date")" ]
}

# The data key of a blob's stanza for recipient $1, opened with key file $2.
data_key_of() {
	drop_stanza "$1" "$T/dk-stanza" > /dev/null
	sed -n '/BEGIN AGE/,/END AGE/s/^ *//p' "$T/dk-stanza" | age -d -i "$2" | base64
	rm -f "$T/dk-stanza"
}

@test "red team F2: a data key made here for a file others read is not re-used for a file only we read (its ciphertext copied over it)" {
	dev_prod_layout
	# mallory reads the dev file: she copies its ciphertext (this clone made
	# its key) over the prod file and drops her stanza, so it names only the victim
	drop_stanza "$M" "$T/stanza" < "$T/mallory/secrets/dev/db.yaml" > "$T/mallory/secrets/prod/db.yaml"
	grep -q "$M" "$T/stanza"
	as_person mallory git commit -qam "prod: sync"
	pull_from mallory
	[ "$(cat secrets/prod/db.yaml)" = "dev_password: dev-orig" ]
	# the victim writes the prod secret into it
	printf 'prod_password: PROD-NEW-SECRET\n' > secrets/prod/db.yaml
	git commit -qam "the prod password"
	assert_blob_encrypted secrets/prod/db.yaml
	run ! grep -q "$M" <(git show HEAD:secrets/prod/db.yaml)
	# a fresh data key, not the dev file's
	dev_key=$(git show HEAD:secrets/dev/db.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")
	prod_key=$(git show HEAD:secrets/prod/db.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")
	[ -n "$dev_key" ]
	[ -n "$prod_key" ]
	[ "$dev_key" != "$prod_key" ]
	# mallory grafts her dev stanza back: it opens the copy, not the secret
	git show HEAD~1:secrets/prod/db.yaml | graft_stanza "$T/stanza" > "$T/old.yaml"
	SOPS_AGE_KEY_FILE="$T/mallory.txt" run fixture gitseal decrypt "$T/old.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "dev_password: dev-orig" ]
	git show HEAD:secrets/prod/db.yaml | graft_stanza "$T/stanza" > "$T/new.yaml"
	SOPS_AGE_KEY_FILE="$T/mallory.txt" run fixture gitseal decrypt "$T/new.yaml"
	[ "$status" -eq 25 ]
	[ "$output" = "gitseal: error: '$T/new.yaml': value at 'prod_password:': cannot decrypt value: authentication failed" ]
	# the key made here for the prod file is re-used for it: small diffs stay
	printf 'prod_password: PROD-NEW-SECRET\nprod_user: admin\n' > secrets/prod/db.yaml
	git commit -qam "a user"
	[ "$(git show HEAD~1:secrets/prod/db.yaml | grep '^prod_password')" = "$(git show HEAD:secrets/prod/db.yaml | grep '^prod_password')" ]
	# and the dev file's for the dev file
	printf 'dev_password: dev-orig\ndev_user: dev\n' > secrets/dev/db.yaml
	git commit -qam "a dev user"
	[ "$(git show HEAD~1:secrets/dev/db.yaml | grep '^dev_password')" = "$(git show HEAD:secrets/dev/db.yaml | grep '^dev_password')" ]
}

@test "a data key vouched for with gitseal git trust is re-used for that file only; an id of the key alone (older versions) matches nothing" {
	printf 'k: v\n' > secrets/other.yaml
	fixture git add secrets/other.yaml
	fixture git commit -qm other
	# data-keys as an older version wrote it: the ids of the keys alone
	for f in app other; do
		git show "HEAD:secrets/$f.yaml" | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE" |
			python3 -c 'import sys, base64, hashlib
print(hashlib.blake2b(base64.b64decode(sys.stdin.read()), digest_size=32, key=b"gitseal: the id of a sops data key").hexdigest())'
	done > .git/gitseal/data-keys
	[ "$(wc -l < .git/gitseal/data-keys)" -eq 2 ]
	printf 'db_password: hunter2-old\nport: 5433\n' > secrets/app.yaml
	git commit -qam "app: fresh key"
	[ "$(git show HEAD~1:secrets/app.yaml | grep '^db_password')" != "$(git show HEAD:secrets/app.yaml | grep '^db_password')" ]
	run "$GITSEAL_BIN" git trust -y secrets/other.yaml
	[ "$status" -eq 0 ]
	grep -qF "gitseal: 'secrets/other.yaml': data key trusted; 'git add' re-uses it" <<<"$output"
	run "$GITSEAL_BIN" git trust -y secrets/other.yaml
	grep -qF "gitseal: 'secrets/other.yaml': its data key was made or trusted in this clone already" <<<"$output"
	# other.yaml's ciphertext copied over app.yaml: its key is not re-used there
	git show HEAD:secrets/other.yaml > secrets/app.yaml
	git add secrets/app.yaml
	git commit -qm "copy"
	printf 'k: v2\n' > secrets/app.yaml
	git commit -qam "app changed"
	[ "$(git show HEAD~1:secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" != \
	  "$(git show HEAD:secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" ]
	# other.yaml keeps its vouched-for key
	printf 'k: v3\n' > secrets/other.yaml
	git commit -qam "other changed"
	[ "$(git show HEAD~1:secrets/other.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" = \
	  "$(git show HEAD:secrets/other.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" ]
}

@test "F4: updatekeys shows the creation rules it accepts with a new recipient: a new rule that keeps values in clear, each recipient once" {
	# the pull request "gives mallory access", and adds an earlier rule
	# that leaves password and token in clear in new files
	as_person mallory sh -c "cat > .sops.yaml" <<YAML
creation_rules:
  - path_regex: ^secrets/new
    age: $RECIPIENT,$M
    unencrypted_regex: "^(password|token)\$"
  - path_regex: secrets/.*\.yaml\$
    age: $RECIPIENT,$M
YAML
	as_person mallory git commit -qam "give mallory access"
	pull_from mallory
	# the prompt shows it, asked or not
	run "$GITSEAL_BIN" updatekeys -r . </dev/null
	[ "$status" -eq 1 ]
	grep -qxF "    rule ^secrets/new: keeps in clear: unencrypted_regex '^(password|token)\$'" <<<"$output"
	run "$GITSEAL_BIN" updatekeys -y -r .
	[ "$status" -eq 0 ]
	# the summary is per rule: a new rule's every recipient is new to it
	[ "$(sed -n '/^\.sops\.yaml:$/,$p' <<<"$output")" = ".sops.yaml:
    new files are sealed for: +$RECIPIENT, +$M
    rule ^secrets/new: new rule (rule 1 of 2)
    rule ^secrets/new: sealed for: +$RECIPIENT, +$M
    rule ^secrets/new: keeps in clear: unencrypted_regex '^(password|token)\$'
    rule secrets/.*\.yaml\$: recipients: +$M
gitseal: 'secrets/app.yaml': keys updated and staged; commit to share the change" ]
	# accepted once shown: nothing more to show
	run "$GITSEAL_BIN" updatekeys -y -r .
	[ "$status" -eq 0 ]
	[ "$output" = "gitseal: 'secrets/app.yaml': already up to date" ]
}

@test "F4: updatekeys names a kept rule's selection, key groups and order changes, and a removed rule" {
	# a clone whose accepted .sops.yaml has three rules
	rm -rf .git .gitattributes secrets/app.yaml
	git init -q .
	cat > .sops.yaml <<YAML
creation_rules:
  - path_regex: ^secrets/app
    age: $RECIPIENT
  - path_regex: ^secrets/db
    age: $RECIPIENT
    encrypted_regex: "^password\$"
  - path_regex: ^secrets/old
    age: $RECIPIENT
YAML
	"$GITSEAL_BIN" git init 'secrets/**' 2>/dev/null
	cat > .sops.yaml <<YAML
creation_rules:
  - path_regex: ^secrets/db
    age: $RECIPIENT
    unencrypted_suffix: _plain
    mac_only_encrypted: true
  - path_regex: ^secrets/app
    key_groups:
      - age: [$RECIPIENT]
      - age: [$M]
YAML
	run "$GITSEAL_BIN" updatekeys -r . </dev/null
	[ "$status" -eq 1 ]
	[ "$(sed -n '/^\.sops\.yaml:$/,/removed (was/p' <<<"$output")" = ".sops.yaml:
    new files are sealed for: +$M, the rule for '^secrets/old' removed
    rule ^secrets/db: moved from rule 2 to rule 1 (the first rule that matches a path applies)
    rule ^secrets/db: keeps in clear: unencrypted_suffix '_plain', mac_only_encrypted (was: keeps in clear: encrypted_regex '^password\$')
    rule ^secrets/app: moved from rule 1 to rule 2 (the first rule that matches a path applies)
    rule ^secrets/app: recipients: group 2: +$M
    rule ^secrets/app: key groups 1 -> 2, groups needed 1 -> 2
    rule ^secrets/old: removed (was rule 3)" ]
	grep -qx "gitseal: error: changes not confirmed: no terminal to answer on (use -y)" <<<"$output"
}

# mallory copies their stanza from the dev file into the prod file's
# metadata (outside the MAC), values untouched; the victim pulls.
plant_dev_stanza_in_prod() {
	(cd "$T/mallory" && drop_stanza "$M" "$T/stanza" < secrets/dev/db.yaml > /dev/null &&
		graft_stanza "$T/stanza" < secrets/prod/db.yaml > "$T/planted" && cp "$T/planted" secrets/prod/db.yaml)
	grep -qF "$M" "$T/mallory/secrets/prod/db.yaml"
	as_person mallory git commit -qam "chore"
	pull_from mallory
}

# Whether mallory's key opens the committed blob of $1.
mallory_reads() {
	git show "HEAD:$1" > "$T/blob.yaml"
	SOPS_AGE_KEY_FILE="$T/mallory.txt" fixture gitseal decrypt "$T/blob.yaml" >/dev/null 2>&1
}

@test "dev/prod: edits and new files on both sides go through with no prompt; mallory reads dev, not prod" {
	dev_prod_layout
	printf 'prod_password: PROD-2\n' > secrets/prod/db.yaml
	printf 'dev_password: dev-2\n' > secrets/dev/db.yaml
	printf 'prod_api: PROD-API\n' > secrets/prod/api.yaml
	printf 'dev_api: dev-api\n' > secrets/dev/api.yaml
	run git add -A </dev/null
	[ "$status" -eq 0 ]
	run "$GITSEAL_BIN" git check
	[ "$status" -eq 0 ]
	git commit -qm "edits and new files"
	mallory_reads secrets/dev/db.yaml
	mallory_reads secrets/dev/api.yaml
	run ! mallory_reads secrets/prod/db.yaml
	run ! mallory_reads secrets/prod/api.yaml
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	run ! grep -q 'recipients changed' <<<"$output"
}

@test "F1: a dev recipient planted in a prod file's metadata is refused for it until updatekeys shows it" {
	dev_prod_layout
	plant_dev_stanza_in_prod
	printf 'prod_password: PROD-NEW-SECRET\n' > secrets/prod/db.yaml
	run git add secrets/prod/db.yaml
	[ "$status" -eq 128 ]
	grep -qxF "gitseal: error: cannot encrypt 'secrets/prod/db.yaml': recipients changed: +$M; run 'gitseal updatekeys' to accept" <<<"$output"
	run git commit -qam "rotate the prod password"
	[ "$status" -ne 0 ]
	run ! mallory_reads secrets/prod/db.yaml
	run ! grep -q PROD-NEW-SECRET <(git show HEAD:secrets/prod/db.yaml)
	# the merged blob names mallory: status shows it (check looks at staged changes only)
	run "$GITSEAL_BIN" git status
	grep -qF "secrets/prod/db.yaml: decrypted; recipients changed: +$M; run 'gitseal updatekeys' to accept" <<<"$output"
	# the explicit way: updatekeys shows the change (.sops.yaml drops mallory)
	run "$GITSEAL_BIN" updatekeys -y secrets/prod/db.yaml
	[ "$status" -eq 0 ]
	grep -qxF -- "--- $M" <<<"$output"
	git add secrets/prod/db.yaml
	git commit -qm "rotate the prod password"
	grep -q PROD-NEW-SECRET <(git show HEAD:secrets/prod/db.yaml | gitseal_textconv)
	run ! mallory_reads secrets/prod/db.yaml
}

@test "F3: .sops.yaml widening the prod rule to a dev recipient: a new prod file waits for updatekeys" {
	dev_prod_layout
	as_person mallory sed -i "0,/    age: $RECIPIENT\$/s//    age: $RECIPIENT,$M/" .sops.yaml
	as_person mallory git commit -qam "cleanup rules"
	pull_from mallory
	grep -qF "age: $RECIPIENT,$M" <(sed -n 3p .sops.yaml)
	printf 'prod_api_key: PROD-NEW-FILE-SECRET\n' > secrets/prod/api.yaml
	run git add secrets/prod/api.yaml
	[ "$status" -eq 128 ]
	grep -qxF "gitseal: error: cannot encrypt 'secrets/prod/api.yaml': recipients changed: +$M; run 'gitseal updatekeys' to accept" <<<"$output"
	[ -z "$(git ls-files -s secrets/prod/api.yaml)" ]
	run git commit -qm x
	[ "$status" -ne 0 ]
	run "$GITSEAL_BIN" git status
	grep -qxF ".sops.yaml: recipients changed: +$M; run 'gitseal updatekeys' to accept" <<<"$output"
	# a dev file is still sealed as before
	printf 'dev_api: dev-api\n' > secrets/dev/api.yaml
	git add secrets/dev/api.yaml
	# accepting shows whom the new file is sealed for
	run "$GITSEAL_BIN" updatekeys -y secrets/prod/api.yaml
	[ "$status" -eq 0 ]
	grep -qF "new file, sealed on 'git add' for: +$M" <<<"$output"
	git add secrets/prod/api.yaml
	git commit -qm "prod api key"
	mallory_reads secrets/prod/api.yaml
}

@test "F3: .sops.yaml dropping the prod rule (prod paths fall to the dev rule): refused and shown" {
	dev_prod_layout
	as_person mallory sed -i '2,3d' .sops.yaml
	as_person mallory git commit -qam "simplify rules"
	pull_from mallory
	run ! grep -q prod .sops.yaml
	printf 'prod_api_key: PROD-NEW-FILE-SECRET\n' > secrets/prod/api.yaml
	run git add secrets/prod/api.yaml
	[ "$status" -eq 128 ]
	grep -qxF "gitseal: error: cannot encrypt 'secrets/prod/api.yaml': recipients changed: +$M; run 'gitseal updatekeys' to accept" <<<"$output"
	[ -z "$(git ls-files -s secrets/prod/api.yaml)" ]
	run "$GITSEAL_BIN" git status
	grep -qxF ".sops.yaml: recipients changed: the rule for '^secrets/prod/' removed; run 'gitseal updatekeys' to accept" <<<"$output"
	# the existing prod file's next edit keeps its keys
	printf 'prod_password: PROD-3\n' > secrets/prod/db.yaml
	git commit -qam "prod edit"
	run ! mallory_reads secrets/prod/db.yaml
}

@test "F3: a rule without path_regex (every path) dropped is named so" {
	printf 'creation_rules:\n  - path_regex: ^secrets/prod/\n    age: %s\n  - age: %s\n' "$RECIPIENT" "$RECIPIENT" > .sops.yaml
	fixture gitseal updatekeys -y -r . </dev/null 2>/dev/null
	fixture git commit -qam "a rule for the rest"
	as_person mallory git pull -q --no-rebase --no-edit
	as_person mallory sed -i '$d' .sops.yaml
	as_person mallory git commit -qam "no rule for the rest"
	pull_from mallory
	run "$GITSEAL_BIN" git status
	grep -qxF ".sops.yaml: recipients changed: the rule for '(every path)' removed; run 'gitseal updatekeys' to accept" <<<"$output"
}

@test "an accepted file from before per-path records (bare lines) grants nothing beyond the accepted .sops.yaml" {
	dev_prod_layout
	# the old, flat form of the record: mallory for the whole clone
	printf '%s\n%s\n' "$RECIPIENT" "$M" > .git/gitseal/accepted
	plant_dev_stanza_in_prod
	printf 'prod_password: PROD-NEW\n' > secrets/prod/db.yaml
	run git add secrets/prod/db.yaml
	[ "$status" -eq 128 ]
	grep -qF "recipients changed: +$M" <<<"$output"
	# dev files stay sealed for mallory with no prompt (the accepted rule names them)
	printf 'dev_password: dev-3\n' > secrets/dev/db.yaml
	git add secrets/dev/db.yaml
}

# secrets/db.yaml sealed here for the victim and mallory, committed (the
# release build under fixture: the state the tests start from).
mallory_reads_db() {
	cat > .sops.yaml <<YAML
creation_rules:
  - path_regex: ^secrets/
    age: $RECIPIENT,$M
YAML
	printf 'db_password: hunter2\n' > secrets/db.yaml
	fixture gitseal updatekeys -y -r . 2>/dev/null
	fixture git add -A
	fixture git commit -qm "mallory reads"
}

# mallory's pull request: $1 as it was in commit $2, her stanza removed
# (outside the MAC: it still verifies; kept in $T/stanza); the victim
# merges it.
mallory_restores() {
	as_person mallory git pull -q --no-rebase --no-edit "$REPO" main
	git show "$2:$1" | drop_stanza "$M" "$T/stanza" > "$T/mallory/$1"
	grep -qF "$M" "$T/stanza"
	as_person mallory git commit -qam "tidy"
	pull_from mallory
}

# The victim writes $2 (printf format, a NEW-SECRET in it) into $1 and
# commits: mallory's stanza grafted onto the commit does not open it.
assert_new_secret_closed_to_mallory() {
	printf '%b' "$2" > "$1"
	git commit -qam "the new password"
	assert_blob_encrypted "$1"
	git show "HEAD:$1" | graft_stanza "$T/stanza" > "$T/new.yaml"
	SOPS_AGE_KEY_FILE="$T/mallory.txt" run fixture gitseal decrypt "$T/new.yaml"
	[ "$status" -eq 25 ]
	[[ $output != *NEW-SECRET* ]]
}

@test "red team R1: a revoked reader's pre-rotation version brought back, their stanza removed: the victim's next secret gets a fresh data key" {
	# mallory reads the file, then is revoked as docs/git.md says
	mallory_reads_db
	old=$(git rev-parse HEAD)
	cat > .sops.yaml <<YAML
creation_rules:
  - path_regex: ^secrets/
    age: $RECIPIENT
YAML
	"$GITSEAL_BIN" updatekeys -y -r --rotate . 2>/dev/null
	printf 'db_password: rotated\n' > secrets/db.yaml
	git add -A
	git commit -qm "revoke mallory"
	# the pull request: the version from before the rotation
	mallory_restores secrets/db.yaml "$old"
	[ "$(cat secrets/db.yaml)" = "db_password: hunter2" ]
	assert_new_secret_closed_to_mallory secrets/db.yaml 'db_password: NEW-SECRET\n'
	# a key made here and never wrapped for a revoked reader is re-used
	printf 'db_password: NEW-SECRET\nuser: app\n' > secrets/db.yaml
	git commit -qam "a user"
	[ "$(git show HEAD~1:secrets/db.yaml | grep '^db_password')" = "$(git show HEAD:secrets/db.yaml | grep '^db_password')" ]
}

# tina's clone (red team B) revokes mallory with a rotation
teammate_revokes() {
	(cd "$T/tina" && gitseal git init 2>/dev/null && gitseal updatekeys -y -r . 2>/dev/null &&
	 git checkout -q -- . && printf 'creation_rules:\n  - path_regex: ^secrets/\n    age: %s\n' "$RECIPIENT" > .sops.yaml &&
	 gitseal updatekeys -y -r --rotate . 2>/dev/null && printf 'db_password: rotated\n' > secrets/db.yaml &&
	 git add -A && git commit -qm "revoke mallory")
}

@test "red team B: a revocation pulled from a teammate shows in status and updatekeys -r accepts it; the revoked reader's old key is then not re-used" {
	mallory_reads_db
	old=$(git rev-parse HEAD)
	# a teammate's clone (the victim's own key, another clone) revokes
	# mallory (the release build under fixture: what the victim's clone
	# does next is checked)
	git clone -q "$REPO" "$T/tina"
	fixture teammate_revokes
	pull_from tina
	run "$GITSEAL_BIN" git status
	[[ $output == *".sops.yaml: rules changed (a recipient removed, a selection); run 'gitseal updatekeys -r .' to see and accept them"* ]]
	run "$GITSEAL_BIN" updatekeys -y -r .
	[ "$status" -eq 0 ]
	[[ $output == *"rule ^secrets/: recipients: -$M"* ]]
	! grep -q "$M" .git/gitseal/sops.yaml || false
	# mallory's pull request: the version from before the rotation
	mallory_restores secrets/db.yaml "$old"
	assert_new_secret_closed_to_mallory secrets/db.yaml 'db_password: NEW-SECRET\n'
}

# A sops file at $1 sealed by hand for the victim and mallory.
hand_made_for_mallory() {
	printf 'k: v\n' > "$T/hand.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT,$M" hand.yaml) > "$1"
}

# mallory's pull request writing stdin to $1 over the victim's latest
# commit; the victim pulls it.
mallory_writes() {
	as_person mallory git pull -q --no-rebase --no-edit "$REPO" main
	cat > "$T/mallory/$1"
	as_person mallory git add "$1"
	as_person mallory git commit -qm "$1"
	pull_from mallory
}

@test "a deleted file's accepted recipients: status hints, updatekeys -r shows and drops them; a pull request re-creating the file for mallory is refused" {
	hand_made_for_mallory secrets/x.yaml
	fixture gitseal updatekeys -y secrets/x.yaml 2>/dev/null
	grep -qxF "$M	secrets/x.yaml" .git/gitseal/accepted
	fixture git add secrets/x.yaml
	fixture git commit -qm "x for mallory"
	fixture git rm -q secrets/x.yaml
	fixture git commit -qm "x gone"
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	grep -qxF ".: recipients still accepted for 1 file gone (secrets/x.yaml); run 'gitseal updatekeys -r .' to see and drop them" <<<"$output"
	# shown, asked, and kept when not confirmed
	run "$GITSEAL_BIN" updatekeys -r . </dev/null
	[ "$status" -eq 1 ]
	grep -qxF "forget secrets/x.yaml: $M (file gone)" <<<"$output"
	grep -qx "gitseal: error: changes not confirmed: no terminal to answer on (use -y)" <<<"$output"
	grep -qxF "$M	secrets/x.yaml" .git/gitseal/accepted
	run "$GITSEAL_BIN" updatekeys -r . -y
	[ "$status" -eq 0 ]
	[ "$output" = "gitseal: 'secrets/app.yaml': already up to date
forget secrets/x.yaml: $M (file gone)
gitseal: 'secrets/x.yaml': accepted recipients forgotten (file gone)" ]
	run ! grep -qF "$M" .git/gitseal/accepted
	[ "$("$GITSEAL_BIN" git status)" = "secrets/app.yaml: decrypted" ]
	# the pull request re-creates the file, its metadata naming mallory
	hand_made_for_mallory "$T/x.yaml"
	mallory_writes secrets/x.yaml < "$T/x.yaml"
	printf 'k: the-victims-secret\n' > secrets/x.yaml
	run git add secrets/x.yaml
	[ "$status" -eq 128 ]
	grep -qxF "gitseal: error: cannot encrypt 'secrets/x.yaml': recipients changed: +$M; run 'gitseal updatekeys' to accept" <<<"$output"
	[ "$(git rev-parse :secrets/x.yaml)" = "$(git rev-parse HEAD:secrets/x.yaml)" ]
	run ! grep -q the-victims-secret <(git show :secrets/x.yaml | SOPS_AGE_KEY_FILE="$T/mallory.txt" gitseal_textconv)
}

@test "a deleted file's data key: re-created from its old version, mallory's stanza removed, the victim's next secret gets a fresh key once updatekeys -r dropped the records" {
	# a file for the victim and mallory whose data key this clone made (an edit here)
	hand_made_for_mallory secrets/x.yaml
	fixture gitseal updatekeys -y secrets/x.yaml 2>/dev/null
	fixture git add secrets/x.yaml
	fixture git commit -qm "x for mallory"
	printf 'k: v2\n' > secrets/x.yaml
	fixture git commit -qam "x edited here"
	old=$(git rev-parse HEAD)
	git rm -q secrets/x.yaml
	git commit -qm "x gone"
	"$GITSEAL_BIN" updatekeys -y -r . 2>/dev/null
	# the pull request: the old version, mallory's stanza removed (outside the MAC)
	git show "$old:secrets/x.yaml" | drop_stanza "$M" "$T/stanza" | mallory_writes secrets/x.yaml
	grep -q "$M" "$T/stanza"
	[ "$(cat secrets/x.yaml)" = "k: v2" ]
	assert_new_secret_closed_to_mallory secrets/x.yaml 'k: NEW-SECRET\n'
}

@test "updatekeys -r keeps the records of a path in the work tree, the index, HEAD or another worktree, and those outside its directory" {
	# .yml: no creation rule matches, so updatekeys keeps their own keys
	mkdir -p secrets/a secrets/b
	for f in a/wt a/idx a/head a/other a/gone b/out; do hand_made_for_mallory "secrets/$f.yml"; done
	"$GITSEAL_BIN" updatekeys -y -r . 2>/dev/null
	[ "$(grep -c "^$M	" .git/gitseal/accepted)" -eq 6 ]
	fixture git add -A
	fixture git commit -qm "files for mallory"
	fixture git rm -q secrets/a/gone.yml secrets/b/out.yml
	fixture git commit -qm "two gone"
	# another worktree holds the rest
	fixture git worktree add -q -b side "$T/side"
	fixture git rm -q secrets/a/wt.yml secrets/a/idx.yml secrets/a/other.yml
	fixture git commit -qm "three more gone"
	git show HEAD~1:secrets/a/wt.yml > secrets/a/wt.yml
	fixture git checkout HEAD~1 -- secrets/a/idx.yml
	rm secrets/a/idx.yml
	fixture git rm -q secrets/a/head.yml
	run "$GITSEAL_BIN" git status
	grep -qxF ".: recipients still accepted for 2 files gone (secrets/a/gone.yml and 1 more); run 'gitseal updatekeys -r .' to see and drop them" <<<"$output"
	run "$GITSEAL_BIN" updatekeys -y -r secrets/a
	[ "$status" -eq 0 ]
	[ "$(grep '^forget ' <<<"$output")" = "forget secrets/a/gone.yml: $M (file gone)" ]
	[ "$(grep -c "^$M	" .git/gitseal/accepted)" -eq 5 ]
	# from the other worktree, its files deleted there too: those the main one holds stay
	cd "$T/side"
	git rm -q secrets/a/wt.yml secrets/a/idx.yml secrets/a/head.yml secrets/a/other.yml
	git commit -qm "gone here"
	run "$GITSEAL_BIN" updatekeys -y -r .
	[ "$status" -eq 0 ]
	[ "$(grep '^forget ' <<<"$output")" = "$(printf 'forget secrets/a/other.yml: %s (file gone)\nforget secrets/b/out.yml: %s (file gone)' "$M" "$M")" ]
	[ "$(grep "^$M	" "$REPO/.git/gitseal/accepted" | cut -f2 | sort | tr '\n' ' ')" = "secrets/a/head.yml secrets/a/idx.yml secrets/a/wt.yml " ]
}

# tina's commits (teammate_adds_then_revokes_mallory) with the gitseal on
# PATH: under fixture, the release build, as for any step that only
# prepares what a test checks (a dozen gitseal processes; what the victim's
# clone does next runs the build under test)
teammate_commits() {
	(cd "$T/tina" && gitseal git init 2>/dev/null && gitseal updatekeys -y -r . 2>/dev/null &&
	 git checkout -q -- . && gitseal git trust -y secrets/app.yaml 2>/dev/null &&
	 sed -i "s|age: .*|&,$M|" .sops.yaml &&
	 gitseal updatekeys -y -r . 2>/dev/null && git add -A && git commit -qm "mallory joins" &&
	 sed -i "s|,$M||" .sops.yaml && gitseal updatekeys -y -r $1 . 2>/dev/null &&
	 { [ -z "$1" ] || printf 'db_password: rotated\nport: 5432\n' > secrets/app.yaml; } &&
	 git add -A && git commit -qm "revoke mallory")
}

# A teammate's clone (the victim's key, a clone of its own) adds mallory to
# secrets/app.yaml keeping its data key (updatekeys without --rotate; the
# key, made by the victim's clone, vouched for there first), then
# revokes her: with a new data key and a new password when $1 is --rotate,
# else keeping the key (a teammate's clone gives a key it did not make to
# no new value). MID is the commit in which mallory read the file.
teammate_adds_then_revokes_mallory() {
	git clone -q "$REPO" "$T/tina"
	fixture teammate_commits "$1"
	MID=$(git -C "$T/tina" rev-parse HEAD~1)
	grep -qF "$M" <(git -C "$T/tina" show "$MID:secrets/app.yaml")
	[ "$(git show HEAD:secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" = \
	  "$(git -C "$T/tina" show "$MID:secrets/app.yaml" | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" ]
	run ! grep -qF "$M" <(git -C "$T/tina" show HEAD:secrets/app.yaml)
}

# The victim's new secret is closed to mallory, and its data key is not
# the one of the version she read (MID).
assert_mid_key_not_reused() {
	assert_new_secret_closed_to_mallory secrets/app.yaml 'db_password: NEW-SECRET\nport: 5432\n'
	[ "$(git show "$MID:secrets/app.yaml" | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" != \
	  "$(git show HEAD:secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" ]
}

# The same, asked twice: the first `git add` reads the history and keeps
# its verdict in .git/gitseal/history; the commit after it, a filter
# process of its own, is served from there (the file unchanged: a walk
# would have added a line) and refuses too.
assert_mid_key_not_reused_twice() {
	local mid_key kept
	mid_key=$(git show "$MID:secrets/app.yaml" | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")
	printf 'db_password: NEW-SECRET\nport: 5432\n' > secrets/app.yaml
	git add secrets/app.yaml
	[ "$(git show :secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" != "$mid_key" ]
	[ "$(stat -c %a .git/gitseal/history)" = 600 ]
	grep -qxE "r [0-9a-f]{64} $(git rev-parse HEAD)=0 [0-9a-f]{64}" .git/gitseal/history
	git reset -q
	kept=$(cat .git/gitseal/history)
	assert_mid_key_not_reused
	[ "$(cat .git/gitseal/history)" = "$kept" ]
}

@test "red team A: a reader a teammate added keeping the key, revoked with a rotation, and the pre-rotation version brought back: the victim's next secret gets a fresh data key" {
	teammate_adds_then_revokes_mallory --rotate
	# both commits at once: this clone never saw the version naming mallory
	pull_from tina
	mallory_restores secrets/app.yaml "$MID"
	[ "$(cat secrets/app.yaml)" = "$(printf 'db_password: hunter2-old\nport: 5432')" ]
	assert_mid_key_not_reused_twice
}

@test "red team A: the same while the revocation is not accepted here yet (mallory still accepted): a key rotated away is not re-used" {
	teammate_adds_then_revokes_mallory --rotate
	# the victim takes mallory's arrival and accepts it, the file unchanged
	git pull -q --no-rebase --no-edit "$T/tina" "$MID"
	"$GITSEAL_BIN" updatekeys -y -r . 2>/dev/null
	run "$GITSEAL_BIN" git status
	[ "$output" = "secrets/app.yaml: decrypted" ]
	pull_from tina
	mallory_restores secrets/app.yaml "$MID"
	[ "$(cat secrets/app.yaml)" = "$(printf 'db_password: hunter2-old\nport: 5432')" ]
	assert_mid_key_not_reused_twice
}

@test "red team A: a reader a teammate added keeping the key and removed keeping it too: the victim's next secret gets a fresh data key" {
	teammate_adds_then_revokes_mallory ""
	pull_from tina
	[ "$(git show "$MID:secrets/app.yaml" | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" = \
	  "$(git show HEAD:secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" ]
	git show "$MID:secrets/app.yaml" | drop_stanza "$M" "$T/stanza" > /dev/null
	assert_mid_key_not_reused_twice
}

@test "red team A: a verdict kept for other tips, edited by hand to name the current ones, is not trusted" {
	teammate_adds_then_revokes_mallory --rotate
	# an edit before the pull: the key made here is current at these tips
	old=$(git rev-parse HEAD)
	printf 'db_password: hunter2-edit\nport: 5432\n' > secrets/app.yaml
	git add secrets/app.yaml
	grep -qxE "c [0-9a-f]{64} $old=1 [0-9a-f]{64}" .git/gitseal/history
	git reset -q
	git checkout -q -- secrets/app.yaml
	pull_from tina
	mallory_restores secrets/app.yaml "$MID"
	# the same key at new tips: the "current" verdict made to name them
	sed -i "s/^c \([0-9a-f]*\) $old=1 /c \1 $(git rev-parse HEAD)=1 /" .git/gitseal/history
	grep -qxE "c [0-9a-f]{64} $(git rev-parse HEAD)=1 [0-9a-f]{64}" .git/gitseal/history
	assert_mid_key_not_reused_twice
}

@test "a verdict kept shortens the next walk, not its answer: the file removed after its tips and brought back with the key gets a fresh one" {
	printf 'db_password: hunter2-new\nport: 5432\n' > secrets/app.yaml
	git commit -qam "edit"
	printf 'db_password: hunter2-newer\nport: 5432\n' > secrets/app.yaml
	git add secrets/app.yaml
	# current at HEAD, the key had up to it (the walk from the commit before)
	grep -qxE "c [0-9a-f]{64} $(git rev-parse HEAD)=1 [0-9a-f]{64}" .git/gitseal/history
	git reset -q
	git checkout -q -- secrets/app.yaml
	as_person mallory git pull -q --no-rebase --no-edit
	as_person mallory git rm -q secrets/app.yaml
	as_person mallory git commit -qm "gone"
	mkdir -p "$T/mallory/secrets"
	git show HEAD:secrets/app.yaml > "$T/mallory/secrets/app.yaml"
	as_person mallory git add secrets/app.yaml
	as_person mallory git commit -qm "back"
	pull_from mallory
	back_key=$(git show HEAD:secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")
	printf 'db_password: NEW-SECRET\nport: 5432\n' > secrets/app.yaml
	git commit -qam "the new password"
	grep -qxE "r [0-9a-f]{64} $(git rev-parse HEAD~1)=0 [0-9a-f]{64}" .git/gitseal/history
	[ "$(git show HEAD:secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" != "$back_key" ]
}

# The filter process of this repository as on a full disk: a write to a
# file fails (EFBIG), reads and pipes work.
full_disk() {
	git config filter.gitseal.process "sh -c \"trap '' XFSZ; ulimit -f 0; exec '$GITSEAL_BIN' git filter-process\""
}

# Each password hunter2-V committed (a process each) in silence, the data
# key $key kept.
commits_keep_key() {
	local v
	for v in "$@"; do
		printf 'db_password: hunter2-%s\nport: 5432\n' "$v" > secrets/app.yaml
		run git commit -qam "edit $v"
		[ "$status" -eq 0 ]
		[ -z "$output" ]
		[ "$(git show HEAD:secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" = "$key" ]
	done
}

@test "a verdict that cannot be kept (a full disk; a directory where .git/gitseal/history goes): each command walks again, gives the same verdicts and says nothing" {
	# a key made here stays current through edits, each commit a process
	# of its own: with a directory where the verdicts go (not read, not
	# written), then on a full disk, where the first verdict is kept and
	# the later ones cannot be
	key=$(git show HEAD:secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")
	rm -f .git/gitseal/history
	mkdir .git/gitseal/history
	commits_keep_key a b
	[ -z "$(ls -A .git/gitseal/history)" ]
	rmdir .git/gitseal/history
	printf 'db_password: hunter2-0\nport: 5432\n' > secrets/app.yaml
	git commit -qam "edit 0"
	kept=$(cat .git/gitseal/history)
	full_disk
	commits_keep_key 1 2
	# nothing kept, nothing half-written left
	[ "$(cat .git/gitseal/history)" = "$kept" ]
	[ "$(ls -A .git/gitseal | tr '\n' ' ')" = "accepted data-keys history key-cache sops.yaml " ]
	# a new file's data key cannot be recorded: refused, saying why
	printf 'token: t0ken-value\n' > secrets/new.yaml
	run git add secrets/new.yaml
	[ "$status" -eq 128 ]
	grep -qF "gitseal: error: cannot encrypt 'secrets/new.yaml': cannot write '$REPO/.git/gitseal/data-keys': File too large" <<<"$output"
	[ -z "$(git ls-files -s secrets/new.yaml)" ]
	rm secrets/new.yaml
	git config --unset filter.gitseal.process
	"$GITSEAL_BIN" git init 2>/dev/null
	rm .git/gitseal/history
	mkdir .git/gitseal/history
	# a key rotated away and brought back: a fresh one, every time
	teammate_adds_then_revokes_mallory --rotate
	pull_from tina
	mallory_restores secrets/app.yaml "$MID"
	mid_key=$(git show "$MID:secrets/app.yaml" | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")
	for i in 1 2; do
		printf 'db_password: NEW-SECRET\nport: 5432\n' > secrets/app.yaml
		run git add secrets/app.yaml
		[ "$status" -eq 0 ]
		[ -z "$output" ]
		[ "$(git show :secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" != "$mid_key" ]
		git reset -q
	done
	[ -z "$(ls -A .git/gitseal/history)" ]
	run "$GITSEAL_BIN" git status
	[ "$status" -eq 0 ]
	[ "$output" = "secrets/app.yaml: decrypted" ]
	# a file where .git/gitseal goes: what this clone accepted cannot be
	# read either, so the filter refuses (fails closed), naming why
	rm -rf .git/gitseal
	: > .git/gitseal
	staged=$(git rev-parse :secrets/app.yaml)
	run git add secrets/app.yaml
	[ "$status" -eq 128 ]
	grep -qF "gitseal: error: cannot encrypt 'secrets/app.yaml': cannot open '$REPO/.git/gitseal/accepted': Not a directory" <<<"$output"
	[ "$(git rev-parse :secrets/app.yaml)" = "$staged" ]
}

@test "a key made here stays through edits in a row and a merged branch that forked before the file existed" {
	git checkout -q -b side HEAD
	printf 'side: work\n' > notes.txt
	git add notes.txt
	git commit -qm "side work"
	git checkout -q main
	printf 'a: 1\nb: 2\n' > secrets/db.yaml
	git add secrets/db.yaml
	git commit -qm "db"
	for v in 3 4 5; do
		printf 'a: 1\nb: %s\n' "$v" > secrets/db.yaml
		git commit -qam "b=$v"
	done
	git merge -q --no-edit side
	printf 'a: 1\nb: 6\n' > secrets/db.yaml
	git commit -qam "b=6"
	[ "$(git log --format=%H -- secrets/db.yaml | while read -r c; do git show "$c:secrets/db.yaml" | grep '^a:'; done | sort -u | wc -l)" -eq 1 ]
}

# data-keys (one record per data key made here, up to 64 MiB, about 1.2 s to load
# near it) is read when a clean first needs it, never by a checkout's smudges; a
# record it holds still keeps the key, and one it cannot read refuses the clean.
@test "data-keys is read by the first clean that needs it: a checkout decrypts past one it cannot read, an add fails closed" {
	printf 'db_password: hunter2\n' > secrets/app.yaml
	git add secrets/app.yaml
	git commit -qm app
	key=$(git show HEAD:secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")
	# an edit keeps the data key: its record was read
	printf 'db_password: hunter3\n' > secrets/app.yaml
	git commit -qam edit
	[ "$(git show HEAD:secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" = "$key" ]
	# past the limit, as another process could leave it
	cp .git/gitseal/data-keys "$T/data-keys"
	truncate -s 65M .git/gitseal/data-keys
	rm secrets/app.yaml
	run -0 git checkout -- secrets
	grep -qx 'db_password: hunter3' secrets/app.yaml
	printf 'db_password: hunter4\n' > secrets/app.yaml
	run git add secrets/app.yaml
	[ "$status" -eq 128 ]
	grep -qF "gitseal: error: cannot encrypt 'secrets/app.yaml'" <<<"$output"
	grep -qF "data-keys" <<<"$output"
	[ "$(git rev-parse :secrets/app.yaml)" = "$(git rev-parse HEAD:secrets/app.yaml)" ]
	# read back: the key is kept again
	cp "$T/data-keys" .git/gitseal/data-keys
	git add secrets/app.yaml
	[ "$(git show :secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" = "$key" ]
}

@test "a shallow clone re-uses a data key it made: its oldest commits are taken for roots" {
	for v in 1 2 3; do
		printf 'db_password: hunter2-old\nport: 543%s\n' "$v" > secrets/app.yaml
		git commit -qam "port $v"
	done
	git clone -q --depth 2 "file://$REPO" "$T/shallow"
	cd "$T/shallow"
	[ -f .git/shallow ]
	"$GITSEAL_BIN" git init 2>/dev/null
	git checkout -q -- .
	for v in 4 5; do
		printf 'db_password: hunter2-old\nport: 543%s\n' "$v" > secrets/app.yaml
		git commit -qam "port $v"
	done
	# the first change here made a key of this clone; the second re-used it
	[ "$(git show HEAD~1:secrets/app.yaml | grep '^db_password')" = "$(git show HEAD:secrets/app.yaml | grep '^db_password')" ]
}

# mallory's pull request copies the prod file's ciphertext (she cannot
# read it) to a dev path, which the dev rule seals for her too.
mallory_copies_prod_to_dev() {
	dev_prod_layout
	cp "$T/mallory/secrets/prod/db.yaml" "$T/mallory/secrets/dev/settings.yaml"
	as_person mallory git add secrets/dev/settings.yaml
	as_person mallory git commit -qm "dev: settings"
	pull_from mallory
}

@test "red team rt4 F1: updatekeys refuses to add recipients to a file holding another file's data key (a copied ciphertext); mallory reads neither the prod value nor the next prod secret" {
	mallory_copies_prod_to_dev
	local refused="gitseal: error: 'secrets/dev/settings.yaml' holds the data key of 'secrets/prod/db.yaml' (its ciphertext copied): adding recipients would give them that key; remove the file, or run 'gitseal git trust secrets/dev/settings.yaml' if the copy is intended"
	run "$GITSEAL_BIN" updatekeys -y -r .
	[ "$status" -eq 1 ]
	grep -qxF "$refused" <<<"$output"
	run "$GITSEAL_BIN" updatekeys -y secrets/dev/settings.yaml
	[ "$status" -eq 1 ]
	grep -qxF "$refused" <<<"$output"
	# nothing wrapped for her, nothing staged
	run ! grep -qF "$M" <(git show :secrets/dev/settings.yaml)
	[ -z "$(git status --porcelain --untracked-files=no)" ]
	run ! mallory_reads secrets/dev/settings.yaml
	printf 'prod_password: PROD-NEW-SECRET\n' > secrets/prod/db.yaml
	git commit -qam "the prod password"
	run ! mallory_reads secrets/prod/db.yaml
	# the copy removed, the routine run goes through
	git rm -q secrets/dev/settings.yaml
	git commit -qm "drop the copy"
	run "$GITSEAL_BIN" updatekeys -y -r .
	[ "$status" -eq 0 ]
}

@test "red team rt4 F1: updatekeys keeps a data key only where this clone made it for the file; another clone's key gets a new one" {
	git clone -q "$REPO" "$T/tina"
	(cd "$T/tina" && "$GITSEAL_BIN" git init 2>/dev/null && "$GITSEAL_BIN" updatekeys -y -r . 2>/dev/null &&
	 git checkout -q -- . && printf 'db_password: from-tina\nport: 5432\n' > secrets/app.yaml &&
	 git commit -qam "tina's password")
	pull_from tina
	gs_person ann
	A=$(recipient_of ann)
	sed -i "s|age: .*|&,$A|" .sops.yaml
	git commit -qm "ann joins" .sops.yaml
	run "$GITSEAL_BIN" updatekeys -y secrets/app.yaml
	[ "$status" -eq 0 ]
	grep -qxF "+++ $A" <<<"$output"
	grep -qxF "    a new data key: this clone did not make the current one for 'secrets/app.yaml' (the added recipients read only what is sealed from now on)" <<<"$output"
	run ! grep -qF "can read every earlier version" <<<"$output"
	git commit -qm "updatekeys"
	[ "$(git show HEAD~1:secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" != \
	  "$(git show HEAD:secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" ]
	[ "$(git show HEAD:secrets/app.yaml | gitseal_textconv)" = "$(printf 'db_password: from-tina\nport: 5432')" ]
}

@test "red team rt4 F3: once a revocation is accepted, a branch forked before the reader was added brings back the key she knew: the victim's next secret gets a fresh data key" {
	teammate_adds_then_revokes_mallory --rotate
	# the victim accepts mallory's arrival, then her revocation
	git pull -q --no-rebase --no-edit "$T/tina" "$MID"
	"$GITSEAL_BIN" updatekeys -y -r . 2>/dev/null
	pull_from tina
	run "$GITSEAL_BIN" updatekeys -y -r .
	[ "$status" -eq 0 ]
	grep -qF "recipients: -$M" <<<"$output"
	grep -qxF "gitseal: a reader removed: data keys made here retired: each file gets a new one on its next change" <<<"$output"
	# mallory's pull request, forked before she was added: the file as it
	# was then holds the key she read (her stanza from then kept in
	# $T/stanza); the victim checks it out to work on it
	git show "$MID:secrets/app.yaml" | drop_stanza "$M" "$T/stanza" > /dev/null
	[ "$(git -C "$T/mallory" log -1 --format=%H)" = "$(git rev-list --max-parents=0 HEAD)" ]
	printf 'notes\n' > "$T/mallory/notes.txt"
	as_person mallory git add notes.txt
	as_person mallory git commit -qm "notes"
	git fetch -q "$T/mallory" main:pr
	git checkout -q pr
	[ "$(cat secrets/app.yaml)" = "$(printf 'db_password: hunter2-old\nport: 5432')" ]
	assert_mid_key_not_reused
	# a key made after the revocation is re-used
	printf 'db_password: NEW-SECRET\nport: 5433\n' > secrets/app.yaml
	git commit -qam "port"
	[ "$(git show HEAD~1:secrets/app.yaml | grep '^db_password')" = "$(git show HEAD:secrets/app.yaml | grep '^db_password')" ]
}

@test "a walk that met a version this clone cannot open keeps no current verdict: an identity added later might open it" {
	# a version sealed for mallory only, committed past the filter, then
	# the version before it back
	old=$(git rev-parse HEAD:secrets/app.yaml)
	printf 'db_password: hers\nport: 5432\n' > "$T/hers.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$M" hers.yaml) > "$T/mx.yaml"
	id=$(git hash-object -w --no-filters "$T/mx.yaml")
	git update-index --cacheinfo "100644,$id,secrets/app.yaml"
	git update-ref HEAD "$(git commit-tree "$(git write-tree)" -p HEAD -m "sealed for mallory only")"
	git update-index --cacheinfo "100644,$old,secrets/app.yaml"
	git update-ref HEAD "$(git commit-tree "$(git write-tree)" -p HEAD -m "back")"
	# a key made here after them, then an edit: the walk for that key
	# meets mallory's version, which did not open here
	printf 'db_password: mine\nport: 5432\n' > secrets/app.yaml
	git commit -qam "a key of this clone"
	printf 'db_password: mine-edit\nport: 5432\n' > secrets/app.yaml
	git add secrets/app.yaml
	# the walk found the key current (re-used) but kept no such verdict
	[ "$(git show :secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" = \
	  "$(git show HEAD:secrets/app.yaml | data_key_of "$RECIPIENT" "$SOPS_AGE_KEY_FILE")" ]
	grep -q '^r ' .git/gitseal/history
	run ! grep -q '^c ' .git/gitseal/history
}
