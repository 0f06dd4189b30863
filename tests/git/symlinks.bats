#!/usr/bin/env bats
# A symbolic link under the filter's pattern: git stores the link's text
# and runs no filter on it, so it is not a sealed file, and gitseal
# neither reports it as one nor reads or writes through it.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_from app_committed; }
teardown() { gs_teardown; }

@test "git status and git check agree on a tracked symbolic link: not a sealed file" {
	ln -s app.yaml secrets/alias.yaml
	ln -s "$T/elsewhere/app.yaml" secrets/out.yaml
	git add secrets
	[ "$(git ls-files -s secrets/alias.yaml | cut -c1-6)" = 120000 ]
	# staged, not yet committed: what check examines
	run -0 "$GITSEAL_BIN" git check
	[ -z "$output" ]
	# not a sealed file; the link out of the repository is named (what is
	# written through it is not sealed: tests/git/redteam14.bats)
	out_line="secrets/out.yaml: a symbolic link under the filter's pattern to '$T/elsewhere/app.yaml', outside the repository: what is written through it is stored there, never sealed; remove the link, point it at a file under the pattern, or add 'secrets/out.yaml -filter' to .git/info/attributes if nothing secret is written through it"
	run -0 "$GITSEAL_BIN" git status
	[ "$output" = "secrets/app.yaml: decrypted"$'\n'"$out_line" ]
	git commit -qm links
	run -0 "$GITSEAL_BIN" git status
	[ "$output" = "secrets/app.yaml: decrypted"$'\n'"$out_line" ]
}

@test "git lock leaves symbolic links as they are: nothing read or written through them" {
	printf 'db_password: hunter2\n' > "$T/elsewhere/app.yaml"
	printf 'db_password: kept-elsewhere\n' > "$T/elsewhere/odd.yaml"
	cp "$T/elsewhere/app.yaml" "$T/app.before"
	cp "$T/elsewhere/odd.yaml" "$T/odd.before"
	# a committed link
	ln -s "$T/elsewhere/app.yaml" secrets/out.yaml
	# a link whose staged text is a sops file (as update-index can stage it)
	git update-index --add --cacheinfo "120000,$(git rev-parse :secrets/app.yaml),secrets/odd.yaml"
	git add secrets/out.yaml
	git commit -qm links
	ln -s "$T/elsewhere/odd.yaml" secrets/odd.yaml
	# the sealed file, replaced in the work tree by a link to its plaintext
	rm secrets/app.yaml
	ln -s "$T/elsewhere/app.yaml" secrets/app.yaml
	run -0 "$GITSEAL_BIN" git lock --force
	[ "$output" = "gitseal: locked: 0 file(s) back to ciphertext; checkouts leave ciphertext until 'gitseal git unlock'" ]
	for f in app out odd; do [ -L "secrets/$f.yaml" ]; done
	[ "$(readlink secrets/app.yaml)" = "$T/elsewhere/app.yaml" ]
	cmp "$T/elsewhere/app.yaml" "$T/app.before"
	cmp "$T/elsewhere/odd.yaml" "$T/odd.before"
}

@test "F6: updatekeys -r leaves tracked links alone (to a directory, in or out of the repository, or to a file) and does the other files" {
	mkdir -p docs "$T/elsewhere/dir"
	printf 'hi\n' > docs/readme.txt
	# committed before a link leads to it (check refuses a change of a
	# file a link under the pattern leads to: tests/git/redteam14.bats)
	git add docs/readme.txt
	git commit -qm docs
	printf 'db_password: far\n' > "$T/elsewhere/dir/far.yaml"
	cp "$T/elsewhere/dir/far.yaml" "$T/far.before"
	ln -s ../docs secrets/docs-link
	ln -s "$T/elsewhere/dir" secrets/out-link
	ln -s app.yaml secrets/alias.yaml
	git add -A
	git commit -qm links
	gs_person mate
	MA=$(recipient_of mate)
	sed -i "s|age: .*|&,$MA|" .sops.yaml
	run "$GITSEAL_BIN" updatekeys -y -r .
	[ "$status" -eq 0 ]
	grep -qx "gitseal: 'secrets/app.yaml': keys updated and staged; commit to share the change" <<<"$output"
	# (not *far*: a recipient's bech32 text, random, holds "far" one run in ~300)
	[[ "$output" != *docs-link* && "$output" != *out-link* && "$output" != *alias* && "$output" != *far.yaml* && "$output" != *elsewhere* ]]
	[ "$(git status --porcelain | sort)" = "$(printf ' M .sops.yaml\nM  secrets/app.yaml')" ]
	[ "$(git show :secrets/app.yaml | grep -c 'recipient: ')" -eq 2 ]
	for l in docs-link out-link alias.yaml; do [ -L "secrets/$l" ]; done
	cmp "$T/elsewhere/dir/far.yaml" "$T/far.before"
	# named on the command line: named as a link, left as it is
	run "$GITSEAL_BIN" updatekeys -y -r secrets/docs-link
	[ "$status" -eq 0 ]
	[ "$output" = "gitseal: 'secrets/docs-link': a symbolic link: left as it is (git runs no filter on it)" ]
	run "$GITSEAL_BIN" updatekeys -y secrets/alias.yaml
	[ "$status" -eq 0 ]
	[ "$output" = "gitseal: 'secrets/alias.yaml': a symbolic link: left as it is (git runs no filter on it)" ]
	[ "$(git status --porcelain | sort)" = "$(printf ' M .sops.yaml\nM  secrets/app.yaml')" ]
}

@test "git unlock: a sealed file swapped for a link out after it was checked is not written through" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1)"
	run -0 "$GITSEAL_BIN" git lock --force
	git show :secrets/app.yaml > "$T/elsewhere/app.yaml"
	cp "$T/elsewhere/app.yaml" "$T/app.before"
	# at the write of the plaintext (tests/cli/links29.bats: the hook)
	printf 'case "$1" in */secrets/app.yaml) mv "$1" "%s/moved.yaml"; ln -s "%s/elsewhere/app.yaml" "$1" ;; esac\n' \
		"$T" "$T" > "$T/swap.sh"
	run --separate-stderr env GITSEAL_TEST_RUN_AT=open GITSEAL_TEST_RUN=". '$T/swap.sh'" "$GITSEAL_BIN" git unlock
	[ "$status" -eq 1 ]
	[ "$stderr" = "gitseal: error: cannot replace '$PWD/secrets/app.yaml': it is a symbolic link now, not the file checked; nothing written" ]
	[ -L secrets/app.yaml ]
	cmp "$T/elsewhere/app.yaml" "$T/app.before"
	run grep -rl hunter2 "$T/elsewhere" "$T/moved.yaml"
	[ "$status" -eq 1 ]
}
