#!/usr/bin/env bats
# Red team 16 on the git side: a pulled file's key entries (outside the
# MAC) naming a reader whose stanza holds no key of the file.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_with_mallory; }
teardown() { gs_teardown; }

# mallory reads dev secrets, never prod ones (dev_prod_layout). She copies
# the prod file into dev, its sops block given her own stanza from the dev
# file (a decoy: it wraps the dev file's key), committed with no key and no
# filter. Pulled, status says nothing (the file names the dev rule's
# readers) and updatekeys finds nothing to add, so its refusal of a copied
# ciphertext (red team rt4 F1) never runs. The victim's next edit of it was
# sealed with a fresh data key for every reader the metadata names, and
# mallory read the prod password. Her stanza in the prod file's metadata as
# well does not make her its reader.
# decoy_copy FILE [PROD]: mallory's commit of the prod file, with her decoy
# stanza, as secrets/dev/FILE, and as the prod file too when PROD is given
# (made with no key and no filter)
decoy_copy() {
	local f
	dev_prod_layout
	cd "$T/mallory"
	git show HEAD:secrets/dev/db.yaml | drop_stanza "$M" "$T/decoy" >/dev/null
	git show HEAD:secrets/prod/db.yaml | graft_stanza "$T/decoy" > "secrets/dev/$1"
	[ -z "${2:-}" ] || cp "secrets/dev/$1" secrets/prod/db.yaml
	for f in "secrets/dev/$1" ${2:+secrets/prod/db.yaml}; do
		git update-index --add --cacheinfo "100644,$(git hash-object -w --no-filters "$f"),$f"
	done
	as_person mallory git commit -qm "dev: $1"
	cd "$REPO"
}

@test "a prod file copied into dev with a decoy stanza for a dev reader: the filter refuses to seal it for her" {
	decoy_copy settings.yaml prod
	pull_from mallory
	printf 'extra: 1\n' >> secrets/dev/settings.yaml
	run -128 git add secrets/dev/settings.yaml
	grep -qxF "gitseal: error: cannot encrypt 'secrets/dev/settings.yaml': 'secrets/dev/settings.yaml' holds the data key of 'secrets/prod/db.yaml' (its ciphertext copied), which is not sealed for $M: sealing it for its metadata's recipients would give them what it holds; remove the file, or run 'gitseal git trust secrets/dev/settings.yaml' if the copy is intended" <<<"$output"
	run ! git commit -qam edit
	as_person mallory git pull -q --no-rebase --no-edit
	run ! as_person mallory gitseal decrypt secrets/dev/settings.yaml
	run ! grep -q PROD-ORIG <<<"$output"
}

# The same copy over the dev file, merged into the victim's edit of it: the
# merge driver took theirs' key as a rotation, made a fresh one (not made
# here for the path) and sealed the merge, the prod password in it, for
# every reader the decoy metadata names.
@test "the decoy copy over a dev file the victim changed: the merge driver refuses to seal it for her" {
	decoy_copy db.yaml
	printf 'dev_password: dev-orig\nport: 5432\n' > secrets/dev/db.yaml
	git commit -qam port
	run -1 git pull -q --no-rebase --no-edit "$T/mallory" main
	grep -qF "holds the data key of 'secrets/prod/db.yaml' (its ciphertext copied), which is not sealed for $M" <<<"$output"
	run ! grep -qa PROD-ORIG <(git cat-file --batch-all-objects --batch)
	run ! as_person mallory gitseal decrypt <(git show :2:secrets/dev/db.yaml)
	run ! grep -q PROD-ORIG <<<"$output"
}

# The routine that revokes a reader, 'gitseal updatekeys -r --rotate .',
# gave each file a fresh data key for whom its metadata names: the copy
# showed no change of recipients, and mallory read the prod password.
@test "the decoy copy: updatekeys --rotate refuses to seal it for her; so does updatekeys dropping a reader the rule does not name" {
	decoy_copy settings.yaml
	pull_from mallory
	run -1 "$GITSEAL_BIN" updatekeys -y -r --rotate .
	grep -qF "holds the data key of 'secrets/prod/db.yaml' (its ciphertext copied), which is not sealed for $M" <<<"$output"
	# refused before anything was staged
	[ -z "$(git status --porcelain --untracked-files=no)" ]
	# Without --rotate: a change that adds no one (a reader the rule does not
	# name, dropped) re-seals the copy with a fresh key too (this clone did not
	# make its key), for the rule's readers, mallory among them.
	# (mallory commits it over the copy pulled above)
	age-keygen -o "$T/x.txt" 2>/dev/null
	printf 'a: b\n' >"$T/x.yaml"
	cd "$T"
	fixture gitseal encrypt --age "$(age-keygen -y x.txt)" x.yaml |
		drop_stanza "$(age-keygen -y "$T/x.txt")" "$T/x-stanza" >/dev/null
	graft_stanza "$T/x-stanza" <"$T/mallory/secrets/dev/settings.yaml" >"$T/with-x.yaml"
	cd "$T/mallory"
	git update-index --cacheinfo "100644,$(git hash-object -w --no-filters "$T/with-x.yaml"),secrets/dev/settings.yaml"
	as_person mallory git commit -qm "dev: x"
	cd "$REPO"
	pull_from mallory
	run -1 "$GITSEAL_BIN" updatekeys -y -r .
	grep -qF "holds the data key of 'secrets/prod/db.yaml' (its ciphertext copied), which is not sealed for $M" <<<"$output"
	[ -z "$(git status --porcelain --untracked-files=no)" ]
}

# The check above opens every other file of the index that could hold the
# key, for each file whose key this clone did not make: in a teammate's
# clone (its own HOME and .git/gitseal), every file. Opened once for each
# file cleaned, a git add of N edited files read N x N blobs; the index's
# files are opened once per index read (src/git/holders.c): here 13 for
# the map and 12 for the files' own committed versions, where once per
# file read 12 x 12.
@test "a teammate's clone: git add of 12 edited files reads the index's blobs once, not once per file" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1 gitsuite)"
	for i in $(seq 1 12); do printf 'n%s: v%s\n' "$i" "$i" > "secrets/f$i.yaml"; done
	fixture git add -A
	fixture git commit -qm files
	git clone -q "$REPO" "$T/mate"
	mkdir "$T/mate-home"
	cd "$T/mate"
	HOME="$T/mate-home" fixture gitseal git init 'secrets/**' 2>/dev/null
	for i in $(seq 1 12); do printf 'more: %s\n' "$i" >> "secrets/f$i.yaml"; done
	HOME="$T/mate-home" GITSEAL_TEST_BLOB_LOG="$T/blobs" git add -A
	[ "$(git diff --cached --name-only | wc -l)" -eq 12 ]
	[ "$(wc -l < "$T/blobs")" -ge 25 ]
	[ "$(wc -l < "$T/blobs")" -le 40 ]
}

# The map of the index's data keys lives as long as one filter process,
# which serves every pick of a rebase: an index git rewrote since is read
# again, and the holder it now has is found.
@test "one filter process, the copy's holder staged between two cleans: the second clean finds it and refuses" {
	decoy_copy settings.yaml prod
	pull_from mallory
	printf 'extra: 1\n' >> secrets/dev/settings.yaml
	prod=$(git rev-parse :secrets/prod/db.yaml)
	git rm -q --cached secrets/prod/db.yaml
	start_filter_process
	clean_settings() {
		{ pkt_text command=clean; pkt_text pathname=secrets/dev/settings.yaml; printf 0000
		  pkt_file secrets/dev/settings.yaml; printf 0000; } >&5
		for _ in $(seq 200); do
			[ "$(grep -ac 'status=' "$T/out")" -lt "$1" ] || break
			sleep 0.05
		done
	}
	# no file of the index holds the key: sealed
	clean_settings 1
	grep -aq 'status=success' "$T/out"
	git update-index --add --cacheinfo "100644,$prod,secrets/prod/db.yaml"
	clean_settings 2
	[ "$(grep -ac 'status=error' "$T/out")" -eq 1 ]
	exec 5>&-
	wait "$filter_pid"
}

# git runs the merge driver once per file, a process each: the data keys of
# the index's blobs are kept across processes (.git/gitseal/holder-keys, by
# blob id), so a teammate's merge of 6 files opens the index's 13 files
# once, where each driver opened them all (6 x 13 reads, and once for each
# of the three versions before the map).
@test "a teammate's merge of 6 files reads the index's blobs once across its merge drivers" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1 gitsuite)"
	for i in $(seq 1 12); do printf 'a: %s\nb: 1\nc: 2\nd: 3\n' "$i" > "secrets/f$i.yaml"; done
	fixture git add -A
	fixture git commit -qm files
	fixture git checkout -qb side
	for i in $(seq 1 6); do sed -i 's/^d: .*/d: side/' "secrets/f$i.yaml"; done
	fixture git commit -qam side
	fixture git checkout -q main
	for i in $(seq 1 6); do sed -i 's/^a: .*/a: main/' "secrets/f$i.yaml"; done
	fixture git commit -qam main
	git clone -q "$REPO" "$T/mate"
	mkdir "$T/mate-home"
	cd "$T/mate"
	git config user.name mate
	git config user.email mate@example.invalid
	HOME="$T/mate-home" fixture gitseal git init 'secrets/**' 2>/dev/null
	HOME="$T/mate-home" GITSEAL_TEST_BLOB_LOG="$T/blobs" git merge -q --no-verify --no-edit origin/side
	grep -qx 'a: main' secrets/f1.yaml
	grep -qx 'd: side' secrets/f1.yaml
	[ "$(wc -l < "$T/blobs")" -ge 13 ]
	[ "$(wc -l < "$T/blobs")" -le 40 ]
}

# A record of holder-keys names a blob and its data key, with a digest of
# both: one changed by hand (or torn) is not used, and the blob is opened.
@test "a holder-keys record whose digest does not match is not used: the copy is still refused" {
	decoy_copy settings.yaml prod
	pull_from mallory
	prod=$(git rev-parse :secrets/prod/db.yaml)
	# the prod blob recorded with another key (zeros), its digest zeros
	{ printf "$(sed 's/../\\x&/g' <<<"$prod")"; head -c 40 /dev/zero; } > .git/gitseal/holder-keys
	[ "$(wc -c < .git/gitseal/holder-keys)" -eq 60 ]
	printf 'extra: 1\n' >> secrets/dev/settings.yaml
	run -128 git add secrets/dev/settings.yaml
	grep -qF "holds the data key of 'secrets/prod/db.yaml' (its ciphertext copied), which is not sealed for $M" <<<"$output"
}
