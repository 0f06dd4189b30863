#!/usr/bin/env bats
# Red team 12 on the git side: the key cache, the workflows.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }


# The user's key cache directory was checked (the user's, mode 0700) when
# the filter started, and opened by its name for every read and write
# after: whoever can change the directory above it (an XDG_CACHE_HOME in a
# shared place; the user's own under `sudo -E`, where root's filter runs)
# swapped it for a symbolic link, and the filter's write at its end
# truncated and wrote a file named key-cache wherever the link pointed.
# The filter now keeps the directory it checked open, and reads and writes
# in it only.
@test "key cache: the user's directory swapped for a link while the filter runs: nothing is written through the link" {
	export XDG_CACHE_HOME="$T/xdg"
	printf 'password: hunter2\n' > secrets/a.yaml
	fixture git add secrets/a.yaml
	fixture git commit -qm a
	git cat-file -p HEAD:secrets/a.yaml > "$T/enc"
	rm -rf .git/gitseal/key-cache "$XDG_CACHE_HOME/gitseal"
	mkdir -m 0700 "$T/elsewhere"
	printf 'precious\n' > "$T/elsewhere/key-cache"
	start_filter_process
	# started: the cache's directory is made and checked
	for _ in $(seq 100); do [ -s "$T/out" ] && break; sleep 0.05; done
	[ -d "$XDG_CACHE_HOME/gitseal" ]
	mv "$XDG_CACHE_HOME/gitseal" "$XDG_CACHE_HOME/moved"
	ln -s "$T/elsewhere" "$XDG_CACHE_HOME/gitseal"
	{ pkt_text command=smudge; pkt_text pathname=secrets/a.yaml; printf 0000
	  pkt_file "$T/enc"; printf 0000; } >&5
	exec 5>&-
	wait "$filter_pid"
	grep -q hunter2 "$T/out"
	[ "$(cat "$T/elsewhere/key-cache")" = precious ]
	# the records went where the filter checked
	[ -s "$XDG_CACHE_HOME/moved/key-cache" ]
}


# A file's own rule is outside the MAC, and a version that opens with its
# MAC checked was made by whoever holds its data key: a pull request can
# add a file of its own making for the victim's recipient. Values such a
# version held in clear stayed in clear when they changed: a new file
# holding 'db_password: CHANGEME' under a rule that seals nothing took the
# real password the victim typed in, and committed it in clear, check and
# hook passing. A value kept in clear is now that very value only.
@test "a pull request's new sops file sealing nothing, a placeholder in clear: the victim's real value is not committed in clear" {
	git commit -qm base --allow-empty
	gs_person mallory
	mkdir -p "$T/out" "$T/mallory/secrets"
	printf 'user: admin\ndb_password: CHANGEME\n' > "$T/out/new.yaml"
	(cd "$T/out" && SOPS_AGE_KEY_FILE="$T/mallory.txt" fixture gitseal encrypt --encrypted-regex '^nothing$' \
		--age "$RECIPIENT" new.yaml) > "$T/mallory/secrets/new.yaml"
	as_person mallory git -c filter.gitseal.process= -c filter.gitseal.clean=cat add secrets/new.yaml
	as_person mallory git commit -qm "a new file" --no-verify
	pull_from mallory
	[ "$(cat secrets/new.yaml)" = "$(printf 'user: admin\ndb_password: CHANGEME')" ]
	printf 'user: admin\ndb_password: real-s3cret\n' > secrets/new.yaml
	run -128 git add secrets/new.yaml
	grep -qxF "gitseal: error: cannot encrypt 'secrets/new.yaml': the value at 'db_password' would be in clear under the file's own rule (encrypted_regex '^nothing\$'), which .sops.yaml's rule seals: run 'gitseal updatekeys secrets/new.yaml' to apply .sops.yaml's rule, or add it with GITSEAL_KEEP_FILE_RULE=1 to keep the file's own" <<<"$output"
	run -128 git commit -qam "the password"
	run ! grep -qa real-s3cret <(git cat-file --batch-all-objects --batch)
	# a value it holds in clear may stay, unchanged
	printf 'user: admin\ndb_password: CHANGEME\nport: 5432\n' > secrets/new.yaml
	run -128 git add secrets/new.yaml
	grep -qF "the value at 'port' would be in clear" <<<"$output"
	# the ways out the message names
	printf 'user: admin\ndb_password: real-s3cret\n' > secrets/new.yaml
	"$GITSEAL_BIN" updatekeys -y secrets/new.yaml
	git commit -qam "the password, sealed"
	run ! grep -q real-s3cret <(git show HEAD:secrets/new.yaml)
	[ "$(git show HEAD:secrets/new.yaml | gitseal_textconv)" = "$(printf 'user: admin\ndb_password: real-s3cret')" ]
}

@test "GITSEAL_KEEP_FILE_RULE=1: a changed value stays in clear under the file's own rule, as the user says" {
	printf 'user: admin\npassword: hunter2\n' > "$T/hand.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT" --encrypted-regex '^password$' hand.yaml) > secrets/hand.yaml
	GITSEAL_KEEP_FILE_RULE=1 git add secrets/hand.yaml
	git commit -qm "hand-made"
	rm secrets/hand.yaml
	git checkout secrets/hand.yaml
	[ "$(cat secrets/hand.yaml)" = "$(printf 'user: admin\npassword: hunter2')" ]
	sed -i 's/admin/root/' secrets/hand.yaml
	run -128 git add secrets/hand.yaml
	grep -qF "the value at 'user' would be in clear under the file's own rule (encrypted_regex '^password\$')" <<<"$output"
	GITSEAL_KEEP_FILE_RULE=1 git commit -qam "another user"
	git show HEAD:secrets/hand.yaml | grep -qx 'user: root'
	run ! grep -q hunter2 <(git show HEAD:secrets/hand.yaml)
}

# A sparse checkout leaves files out of the work tree (skip-worktree):
# status called them deleted, where git shows nothing; lock and unlock
# touch only what is checked out.
@test "sparse checkout: status names a file left out as such; lock and unlock leave it out" {
	mkdir -p secrets/a secrets/b
	printf 'x: 1\n' > secrets/a/s.yaml
	printf 'y: 2\n' > secrets/b/s.yaml
	fixture git add -A
	fixture git commit -qm two
	git sparse-checkout set secrets/a
	[ ! -e secrets/b ]
	run -0 "$GITSEAL_BIN" git status
	grep -qx "secrets/a/s.yaml: decrypted" <<<"$output"
	grep -qx "secrets/b/s.yaml: not checked out (sparse checkout)" <<<"$output"
	"$GITSEAL_BIN" git lock 2>/dev/null
	grep -q '^x: ENC\[' secrets/a/s.yaml
	"$GITSEAL_BIN" git unlock 2>/dev/null
	[ "$(cat secrets/a/s.yaml)" = "x: 1" ]
	[ ! -e secrets/b ]
	[ -z "$(git status --porcelain)" ]
}

# git stash keeps the work tree's changes as objects (through the clean
# filter), and its pop with a conflict goes through the merge driver, as a
# merge does (tests/git/conflict_states.bats covers merge, cherry-pick and
# their aborts).
@test "git stash pop with a conflict in a sealed file leaves no plaintext in .git" {
	printf 'a: base-1\nb: base-2\n' > secrets/s.yaml
	fixture git add -A
	fixture git commit -qm base
	printf 'a: stash-s3cretX\nb: base-2\n' > secrets/s.yaml
	git stash -q
	printf 'a: head-s3cretY\nb: base-2\n' > secrets/s.yaml
	git commit -qam head
	run ! git stash pop
	grep -qx 'a: stash-s3cretX' secrets/s.yaml
	grep -qx 'a: head-s3cretY' secrets/s.yaml
	run ! grep -qa s3cret <(git cat-file --batch-all-objects --batch)
	run ! grep -rqa s3cret .git
}
