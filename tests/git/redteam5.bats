#!/usr/bin/env bats
# Rule 2 on the git side: what `gitseal git init` trusts in a fresh clone,
# and what the merge driver leaves in .git under conflict.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_with_mallory; }
teardown() { gs_teardown; }

# mallory's clone commits secrets/app.yaml with a stanza of hers grafted
# into its metadata (outside the MAC): a stanza for another data key, so
# she reads nothing yet; what counts is whom clones now seal for
plant_in_metadata() {
	printf 'x: 1\n' > "$T/x.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$M" x.yaml) > "$T/mx.yaml"
	drop_stanza "$M" "$T/stanza" < "$T/mx.yaml" > /dev/null
	as_person mallory sh -c "graft_stanza() { sed \"/^    age:\\\$/r $T/stanza\"; }; git show HEAD:secrets/app.yaml | graft_stanza > secrets/app.yaml"
	as_person mallory git commit -qam "a recipient in the metadata"
}

@test "git init in a fresh clone names every recipient it accepts, and where each comes from" {
	plant_in_metadata
	git clone -q "$T/mallory" "$T/fresh"
	cd "$T/fresh"
	run -0 "$GITSEAL_BIN" git init 'secrets/**'
	grep -qxF "gitseal: this clone seals files for 2 recipient(s), those of .sops.yaml and the committed files; 'gitseal updatekeys' shows and accepts changes:" <<<"$output"
	grep -qxF "gitseal:     $RECIPIENT (.sops.yaml)" <<<"$output"
	grep -qxF "gitseal:     $M (only in the metadata of 'secrets/app.yaml', which the MAC does not cover)" <<<"$output"
	# what it said is what it recorded: .sops.yaml's rule as accepted, and
	# the recipient only the metadata names for that file alone
	grep -qF "$RECIPIENT" .git/gitseal/sops.yaml
	[ "$(grep -c '^age1' .git/gitseal/accepted)" -eq 1 ]
	grep -qxF "$M	secrets/app.yaml" .git/gitseal/accepted
}

# .sops.yaml committed as a symbolic link: git follows nothing, gitseal
# followed it. To /dev/stdin the filter read git's own pipe (git add hung);
# to /proc/self/environ init copied gitseal's environment (SOPS_AGE_KEY,
# tokens) into .git/gitseal/sops.yaml.
@test ".sops.yaml committed as a symbolic link is refused, never followed (filter, init, updatekeys)" {
	export SOPS_AGE_KEY="AGE-SECRET-KEY-1NOTAREALKEYBUTSECRETENVIRONMENTMARKER"
	# as a pull request brings it (before the fix, git add of the link
	# itself hung: the filter process read .sops.yaml when it started)
	commit_link() {
		rm -f .sops.yaml
		ln -s "$1" .sops.yaml
		git update-index --add --cacheinfo "120000,$(printf %s "$1" | git hash-object -w --stdin),.sops.yaml"
		git commit -qm "rules as a link to $1"
	}
	commit_link /dev/stdin
	printf 'token: t0ken-value\n' > secrets/new.yaml
	run timeout 20 git add secrets/new.yaml
	[ "$status" -eq 128 ]
	grep -qxF "gitseal: error: cannot encrypt 'secrets/new.yaml': '.sops.yaml' at the repository root is not a regular file (a symbolic link): the repository's rules must be a file in it" <<<"$output"
	run timeout 20 "$GITSEAL_BIN" updatekeys -y secrets/new.yaml </dev/null
	[ "$status" -eq 1 ]
	grep -qF "'.sops.yaml' at the repository root is not a regular file (a symbolic link): the repository's rules must be a file in it" <<<"$output"
	# a fresh clone: init refuses the link, and copies nothing
	commit_link /proc/self/environ
	git clone -q "$REPO" "$T/fresh"
	cd "$T/fresh"
	run timeout 20 "$GITSEAL_BIN" git init 'secrets/**'
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = "gitseal: error: '.sops.yaml' at the repository root is not a regular file (a symbolic link): the repository's rules must be a file in it" ]
	run ! grep -rqaF NOTAREALKEY .git
}

# .gitattributes committed as a symbolic link out of the clone: git does
# not follow it, gitseal git init did, and appended its line to the file
# it points at (a .bashrc, another clone's .gitattributes).
@test "git init writes nothing through a .gitattributes that is a symbolic link out of the clone" {
	mkdir -p "$T/victim"
	printf 'export PS1=x\n' > "$T/victim/.bashrc"
	cp "$T/victim/.bashrc" "$T/bashrc.before"
	rm .gitattributes
	git update-index --force-remove .gitattributes
	ln -s ../victim/.bashrc .gitattributes
	git update-index --add --cacheinfo "120000,$(printf %s ../victim/.bashrc | git hash-object -w --stdin),.gitattributes"
	git commit -qm "attributes as a link"
	git clone -q "$REPO" "$T/fresh" 2>/dev/null
	cd "$T/fresh"
	[ -L .gitattributes ]
	run "$GITSEAL_BIN" git init 'secrets/**'
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = "gitseal: error: '.gitattributes' is not a regular file (a symbolic link): git does not follow it, and gitseal writes nothing outside the repository" ]
	cmp "$T/victim/.bashrc" "$T/bashrc.before"
	[ "$(ls -A "$T/victim")" = ".bashrc" ]
}

# sops looks for .sops.yaml from the current directory up: a pull request
# can put one in a subdirectory (or add a recipient to the root one), and
# `gitseal encrypt -i` there sealed the file for its recipients alone.
# git add refused the result later, but the plaintext was gone and the
# file on disk opened with mallory's key only.
@test "encrypt in a clone under gitseal git init: a found .sops.yaml naming recipients the clone did not accept is refused" {
	printf 'creation_rules:\n  - age: %s\n' "$M" > "$T/mallory/secrets/.sops.yaml"
	as_person mallory git add secrets/.sops.yaml
	as_person mallory git commit -qm "rules for secrets/"
	git pull -q --no-rebase --no-edit "$T/mallory" main
	cd secrets
	printf 'token: t0ken-value\n' > new.yaml
	cp new.yaml "$T/new.before"
	run "$GITSEAL_BIN" encrypt -i new.yaml
	[ "$status" -eq 1 ]
	[ "$output" = "gitseal: error: 'new.yaml': the creation rule of '$REPO/secrets/.sops.yaml' names recipients this clone has not accepted: +$M; the file would be readable by them ('gitseal updatekeys' shows and accepts them; --config or --age to choose)" ]
	cmp new.yaml "$T/new.before"
	run "$GITSEAL_BIN" encrypt new.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == "gitseal: error: 'new.yaml': the creation rule of '"*"/secrets/.sops.yaml' names recipients this clone has not accepted: +"* ]]
	# the user's own choices
	"$GITSEAL_BIN" encrypt --age "$RECIPIENT" new.yaml | grep -q 'ENC\['
	"$GITSEAL_BIN" encrypt --config .sops.yaml new.yaml | grep -q "$M"
	# the root's rules, which this clone accepted: as before, without a word
	cd "$REPO"
	run -0 --separate-stderr "$GITSEAL_BIN" encrypt secrets/new.yaml
	[ -z "$stderr" ]
	grep -q "$RECIPIENT" <<<"$output"
}
