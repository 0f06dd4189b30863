#!/usr/bin/env bats
# Rule 2, red team 27: a committed symbolic link is repository content.
# In the plain sops flow (no git filter) `updatekeys -r -y` walked into a
# directory link and `updatekeys -y FILE` went through a file link to a
# sops file outside the repository, and rewrapped it for the recipients of
# the repository's .sops.yaml (which a pull request may have changed),
# silently. Now -r walks nothing outside the repository and names each
# link it does not follow out of its tree; a file the user names is still
# done, with one line saying it is outside. Writes through a named link
# replace the link's target and leave the link (gs_atomic_open).

load ../helpers

setup() {
	setup_demo
	R2=$(gitseal_fixture keygen -y "$KEYS/test-age-key-2.txt")
	mkdir -p repo/k8s other/dir
	printf 'a: 1\n' >p.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" p.yaml >other/secrets.yaml
	cp other/secrets.yaml other/dir/s.yaml
	cp other/secrets.yaml repo/k8s/in.yaml
	cp other/secrets.yaml before.yaml
	cd repo
	# the pull request's .sops.yaml: a recipient added
	printf 'creation_rules:\n  - age: %s,%s\n' "$DEMO_RECIPIENT" "$R2" >.sops.yaml
	ln -s ../../other/secrets.yaml k8s/x.yaml
	ln -s ../other/dir linkdir
	ln -s in.yaml k8s/alias.yaml
}
teardown() { teardown_tmp; }

outside_untouched() {
	cmp "$TMP/other/secrets.yaml" "$TMP/before.yaml"
	cmp "$TMP/other/dir/s.yaml" "$TMP/before.yaml"
	[ -L k8s/x.yaml ]
	[ -L linkdir ]
}

@test "updatekeys -r -y .: links out of the tree are named and not followed, a link inside is skipped quietly" {
	run --separate-stderr gitseal updatekeys -r -y .
	[ "$status" -eq 0 ]
	[ "$output" = "./k8s/in.yaml: updated" ]
	[ "$stderr" = "gitseal: warning: './k8s/x.yaml' is a symbolic link to '$TMP/other/secrets.yaml', outside '.': not followed
gitseal: warning: './linkdir' is a symbolic link to '$TMP/other/dir', outside '.': not followed
gitseal: 1 files updated, 0 up to date, 0 failed" ]
	outside_untouched
	[ "$(grep -c 'recipient: ' k8s/in.yaml)" -eq 2 ]
}

@test "updatekeys -r -y and rotate -r through a directory link out of the repository: not walked, one line" {
	for dir in linkdir linkdir/ k8s/../linkdir; do
		run --separate-stderr gitseal updatekeys -r -y "$dir"
		[ "$status" -eq 0 ]
		[ -z "$output" ]
		[ "$stderr" = "gitseal: warning: '$dir' leads outside the repository '$TMP/repo', to '$TMP/other/dir': not walked (name its files to update them)
gitseal: 0 files updated, 0 up to date, 0 failed" ]
	done
	run --separate-stderr gitseal rotate -r linkdir
	[ "$status" -eq 0 ]
	[ "$stderr" = "gitseal: warning: 'linkdir' leads outside the repository '$TMP/repo', to '$TMP/other/dir': not walked (name its files to rotate them)
gitseal: 0 files rotated, 0 up to date, 0 failed" ]
	# the other directories named are walked
	run --separate-stderr gitseal rotate -r linkdir k8s
	[ "$status" -eq 0 ]
	[ "$output" = "k8s/in.yaml: rotated" ]
	outside_untouched
}

@test "rotate -r: a file link out of the walked directory is named, not followed" {
	run --separate-stderr gitseal rotate -r k8s
	[ "$status" -eq 0 ]
	[ "$output" = "k8s/in.yaml: rotated" ]
	[ "$stderr" = "gitseal: warning: 'k8s/x.yaml' is a symbolic link to '$TMP/other/secrets.yaml', outside 'k8s': not followed
gitseal: 1 files rotated, 0 up to date, 0 failed" ]
	outside_untouched
}

@test "updatekeys -y and rotate -i of a named file outside the repository: done, with one line saying so; the link stays" {
	local note="gitseal: warning: 'k8s/x.yaml' leads outside the repository '$TMP/repo', to '$TMP/other/secrets.yaml'"
	run --separate-stderr gitseal updatekeys -y k8s/x.yaml
	[ "$status" -eq 0 ]
	[ "${stderr%%$'\n'*}" = "$note: the recipients of the repository's .sops.yaml are applied to it only because it was named (-r does not follow it)" ]
	[ "${stderr##*$'\n'}" = "gitseal: 'k8s/x.yaml': keys updated" ]
	[ -L k8s/x.yaml ]
	[ "$(grep -c 'recipient: ' "$TMP/other/secrets.yaml")" -eq 2 ]
	cp "$TMP/other/secrets.yaml" "$TMP/updated.yaml"
	run --separate-stderr gitseal rotate -i k8s/x.yaml
	[ "$status" -eq 0 ]
	[ "$stderr" = "$note: rotated in place only because it was named (-r does not follow it)" ]
	[ -L k8s/x.yaml ]
	! cmp -s "$TMP/other/secrets.yaml" "$TMP/updated.yaml" || false
	# to standard output nothing outside changes: no line
	run --separate-stderr gitseal rotate k8s/x.yaml
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# a file inside, named through no link out: no line
	run --separate-stderr gitseal updatekeys -y k8s/alias.yaml
	[ "$status" -eq 0 ]
	[[ "$stderr" != *warning* ]]
}

@test "the repository is the git work tree when there is one, else the directory of .sops.yaml" {
	# .sops.yaml in k8s/, the current directory: ../other is outside it
	mv .sops.yaml k8s/
	ln -s ../linkdir k8s/up
	cd k8s
	run --separate-stderr gitseal updatekeys -y ../../other/dir/s.yaml
	[ "$status" -eq 0 ]
	[[ "$stderr" = "gitseal: warning: '../../other/dir/s.yaml' leads outside the repository '$TMP/repo/k8s', to '$TMP/other/dir/s.yaml': "* ]]
	# a git work tree around it: the repository is its top
	git init -q "$TMP"
	cp "$TMP/before.yaml" "$TMP/other/dir/s.yaml"
	run --separate-stderr gitseal updatekeys -r -y up/
	[ "$status" -eq 0 ]
	[ "$output" = "up/s.yaml: updated" ]
	[[ "$stderr" != *warning* ]]
}

# What the other commands do with a link named on the command line: they
# follow it (the user named it) and apply no recipients of .sops.yaml to a
# sops file (encrypt takes the keys named for a file the link leads out
# to, not the creation rule's: links29.bats); the write replaces the
# target and the link stays a link.
@test "set, unset, edit, decrypt -i, encrypt -i, groups add -i write through a named link: the target, not the link" {
	local t="$TMP/other/secrets.yaml"
	written() {
		[ -L k8s/x.yaml ]
		[ "$(readlink k8s/x.yaml)" = ../../other/secrets.yaml ]
		! cmp -s "$t" "$TMP/prev" || false
		cp "$t" "$TMP/prev"
	}
	cp "$t" "$TMP/prev"
	gitseal set k8s/x.yaml '["b"]' '2'
	written
	gitseal unset k8s/x.yaml '["b"]'
	written
	EDITOR="sed -i s/1/5/" gitseal edit k8s/x.yaml
	written
	gitseal decrypt -i k8s/x.yaml
	written
	[ "$(cat "$t")" = "a: 5" ]
	# the repository's creation rule does not choose the keys of a file
	# outside it (tests/cli/links29.bats); the keys named, it is written
	run --separate-stderr gitseal encrypt -i k8s/x.yaml
	[ "$status" -eq 1 ]
	[[ "$stderr" = "gitseal: error: 'k8s/x.yaml' leads outside the repository '$TMP/repo', to '$t': the creation rule of "* ]]
	gitseal encrypt -i --age "$DEMO_RECIPIENT,$R2" k8s/x.yaml 2>/dev/null
	written
	[ "$(grep -c 'recipient: ' "$t")" -eq 2 ]
	gitseal groups add --file k8s/x.yaml -i --age "$DEMO_RECIPIENT"
	written
	[ "$(gitseal_fixture decrypt "$t")" = "a: 5" ]
}

# review 29: in a current directory that does not resolve (removed; the
# rules named by SOPS_CONFIG, so that none is looked for from there), the
# repository was "" (none), so nothing led outside it and -r walked the
# link out of it; now the command stops before it writes anything.
@test "rotate -r and updatekeys -y from a removed current directory: an error, nothing walked or written" {
	export SOPS_CONFIG="$TMP/repo/.sops.yaml"
	mkdir gone
	cd gone
	rmdir ../gone
	run --separate-stderr gitseal rotate -r "$TMP/repo/linkdir"
	[ "$status" -eq 2 ]
	[ "$stderr" = "gitseal: error: cannot read the current directory: No such file or directory" ]
	run --separate-stderr gitseal updatekeys -y "$TMP/repo/k8s/x.yaml"
	[ "$status" -eq 2 ]
	[ "$stderr" = "gitseal: error: '$TMP/repo/k8s/x.yaml': cannot read the current directory: No such file or directory" ]
	cd "$TMP/repo"
	outside_untouched
}
