#!/usr/bin/env bats
# Rule 2 (red team 28): writes through symbolic links.
# 1. A new file whose path goes through a link out of the repository
#    (edit secrets/out/new.yaml, secrets/out -> /elsewhere) is not given
#    the recipients of the repository's creation rule; with keys named on
#    the command line it is written there, with one line naming where.
# 2. A file swapped for a link (or a link retargeted) between the walk or
#    the read and the write: the write replaces the file that was read, in
#    the directory it was found in, or nothing. GITSEAL_TEST_RUN (the test
#    build's hook, src/util/io.c) runs the swap at one step of the write:
#    open (as if between the read and the write) or rename (after the
#    write's own checks).

load ../helpers

setup() {
	setup_demo
	mkdir -p repo/k8s other/dir
	printf 'a: 1\n' >p.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" p.yaml >other/secrets.yaml
	cp other/secrets.yaml other/dir/in.yaml
	cp other/secrets.yaml repo/k8s/in.yaml
	cp other/secrets.yaml before.yaml
	cd repo
	printf 'creation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
}
teardown() { if [ -n "${TMP:-}" ]; then teardown_tmp; fi; }

needs_hooks() {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1)"
}

outside_untouched() {
	cmp "$TMP/other/secrets.yaml" "$TMP/before.yaml"
	cmp "$TMP/other/dir/in.yaml" "$TMP/before.yaml"
}

# swap WHEN PATH SCRIPT: at step WHEN of the write of PATH, run SCRIPT once
swap() {
	printf '[ "$1" = %s ] || exit 0\n[ -e %s/swapped ] && exit 0\n: >%s/swapped\n%s\n' \
		"$2" "$TMP" "$TMP" "$3" >"$TMP/swap.sh"
	export GITSEAL_TEST_RUN_AT=$1 GITSEAL_TEST_RUN=". '$TMP/swap.sh'"
}

# the rule names a second recipient: updatekeys has the files to write
rule_adds_recipient() {
	local r2
	r2=$(gitseal_fixture keygen -y "$KEYS/test-age-key-2.txt")
	printf 'creation_rules:\n  - age: %s,%s\n' "$DEMO_RECIPIENT" "$r2" >.sops.yaml
}

@test "updatekeys -r: a walked file swapped for a link out before the write is not written through" {
	needs_hooks
	swap open ./k8s/in.yaml "mv k8s/in.yaml '$TMP/moved.yaml' && ln -s ../../other/secrets.yaml k8s/in.yaml"
	rule_adds_recipient
	run --separate-stderr gitseal updatekeys -r -y .
	[ "$status" -eq 1 ]
	[ "$output" = "./k8s/in.yaml: error: cannot replace './k8s/in.yaml': it is a symbolic link now, not the file checked; nothing written" ]
	[ "${stderr##*$'\n'}" = "gitseal: 0 files updated, 0 up to date, 1 failed" ]
	[ -L k8s/in.yaml ]
	outside_untouched
	cmp "$TMP/moved.yaml" "$TMP/before.yaml"
	[ -z "$(ls -A k8s "$TMP/other" | grep gitseal-tmp || true)" ]
}

@test "rotate -r: a directory swapped for a link out: before the write, nothing written; after its checks, the rename stays in the directory walked" {
	needs_hooks
	swap open k8s/in.yaml "mv k8s k8s.walked && ln -s ../other/dir k8s"
	run --separate-stderr gitseal rotate -r k8s
	[ "$status" -eq 1 ]
	[ "$output" = "k8s/in.yaml: error: cannot replace 'k8s/in.yaml': it is another file now, not the file checked; nothing written" ]
	outside_untouched
	cmp k8s.walked/in.yaml "$TMP/before.yaml"
	# the same swap once the write has checked the file
	rm k8s "$TMP/swapped"
	mv k8s.walked k8s
	swap rename k8s/in.yaml "mv k8s k8s.walked && ln -s ../other/dir k8s"
	run --separate-stderr gitseal rotate -r k8s
	[ "$status" -eq 0 ]
	[ "$output" = "k8s/in.yaml: rotated" ]
	outside_untouched
	# the file walked is the one rotated, where it is now
	! cmp -s k8s.walked/in.yaml "$TMP/before.yaml" || false
	[ "$(gitseal_fixture decrypt k8s.walked/in.yaml)" = "a: 1" ]
}

@test "set and encrypt -i through a named link retargeted out between the read and the write: nothing written" {
	needs_hooks
	ln -s in.yaml k8s/x.yaml
	swap open k8s/x.yaml "ln -sfn ../../other/secrets.yaml k8s/x.yaml"
	run --separate-stderr gitseal set k8s/x.yaml '["b"]' 2
	[ "$status" -eq 3 ]
	[ "$stderr" = "gitseal: error: cannot replace 'k8s/x.yaml': it leads to 'k8s/../../other/secrets.yaml' now, not to 'k8s/in.yaml' as when it was read; nothing written" ]
	outside_untouched
	cmp k8s/in.yaml "$TMP/before.yaml"
	# a plaintext encrypted in place: the same
	printf 'b: 2\n' >k8s/plain.yaml
	cp k8s/plain.yaml "$TMP/plain.before"
	ln -sfn plain.yaml k8s/x.yaml
	rm "$TMP/swapped"
	run --separate-stderr gitseal encrypt -i k8s/x.yaml
	[ "$status" -eq 3 ]
	[[ "$stderr" = "gitseal: error: cannot replace 'k8s/x.yaml': it leads to 'k8s/../../other/secrets.yaml' now, not to 'k8s/plain.yaml' as when it was read; nothing written" ]]
	outside_untouched
	cmp k8s/plain.yaml "$TMP/plain.before"
}

@test "a named file replaced by a link after the write's checks: refused, the link and its target untouched" {
	needs_hooks
	swap rename k8s/in.yaml "mv k8s/in.yaml k8s/in.old && ln -s ../../other/secrets.yaml k8s/in.yaml"
	run --separate-stderr gitseal rotate -i k8s/in.yaml
	[ "$status" -eq 3 ]
	[ "$stderr" = "gitseal: error: cannot replace 'k8s/in.yaml': it is a symbolic link now, not the file it led to; nothing written" ]
	[ -L k8s/in.yaml ]
	outside_untouched
	[ -z "$(ls -A k8s | grep gitseal-tmp || true)" ]
}

@test "edit through a link retargeted out while the editor is open: nothing written out there, the edit kept beside the file read" {
	ln -s in.yaml k8s/x.yaml
	printf '#!/bin/sh\nln -sfn ../../other/secrets.yaml k8s/x.yaml\nsed -i s/1/5/ "$1"\n' >"$TMP/ed.sh"
	chmod +x "$TMP/ed.sh"
	run --separate-stderr env EDITOR="$TMP/ed.sh" "$GITSEAL_BIN" edit k8s/x.yaml
	[ "$status" -eq 3 ]
	kept=(k8s/in.yaml.gitseal-edit-*)
	[ "${#kept[@]}" -eq 1 ]
	[ "$stderr" = "gitseal: error: cannot replace 'k8s/x.yaml': it leads to 'k8s/../../other/secrets.yaml' now, not to 'k8s/in.yaml' as when it was read; your edit is kept sealed in '${kept[0]}'" ]
	outside_untouched
	cmp k8s/in.yaml "$TMP/before.yaml"
	[ "$(gitseal_fixture decrypt --input-type yaml "${kept[0]}")" = "a: 5" ]
}

# ---- 1: a new file through a link out of the repository ----

refused_line() { # refused_line NAME REAL
	printf "gitseal: error: '%s' leads outside the repository '%s', to '%s': the creation rule of '%s' chooses recipients for the repository's files, not for it; nothing written (name the keys, e.g. --age, or the real path)" \
		"$1" "$TMP/repo" "$2" "$TMP/repo/.sops.yaml"
}

@test "edit of a new file through a link out of the repository: refused before the editor runs when .sops.yaml would choose its keys" {
	ln -s ../../other/dir k8s/out
	ln -s ../../other/new.yaml k8s/dangling.yaml
	printf '#!/bin/sh\n: >"%s/editor-ran"\nprintf "a: 2\\n" >"$1"\n' "$TMP" >"$TMP/ed.sh"
	chmod +x "$TMP/ed.sh"
	run --separate-stderr env EDITOR="$TMP/ed.sh" "$GITSEAL_BIN" edit k8s/out/new.yaml
	[ "$status" -eq 1 ]
	[ "$stderr" = "$(refused_line k8s/out/new.yaml "$TMP/other/dir/new.yaml")" ]
	# through a dangling link to the file: the same
	run --separate-stderr env EDITOR="$TMP/ed.sh" "$GITSEAL_BIN" edit k8s/dangling.yaml
	[ "$status" -eq 1 ]
	[ "$stderr" = "$(refused_line k8s/dangling.yaml "$TMP/other/new.yaml")" ]
	[ ! -e "$TMP/editor-ran" ]
	[ ! -e "$TMP/other/dir/new.yaml" ]
	[ ! -e "$TMP/other/new.yaml" ]
	# the keys named: written there, with one line saying where
	run --separate-stderr env EDITOR="$TMP/ed.sh" "$GITSEAL_BIN" edit --age "$DEMO_RECIPIENT" k8s/out/new.yaml
	[ "$status" -eq 0 ]
	[ "$stderr" = "gitseal: warning: 'k8s/out/new.yaml' leads outside the repository '$TMP/repo', to '$TMP/other/dir/new.yaml': written there" ]
	[ -L k8s/out ]
	[ "$(gitseal_fixture decrypt "$TMP/other/dir/new.yaml")" = "a: 2" ]
	# a new file inside, through a link that stays inside: no line
	ln -s k8s k8s-alias
	run --separate-stderr env EDITOR="$TMP/ed.sh" "$GITSEAL_BIN" edit k8s-alias/inside.yaml
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(gitseal_fixture decrypt k8s/inside.yaml)" = "a: 2" ]
}

@test "encrypt -i and --output through a link out of the repository: refused with .sops.yaml's keys, one line with the user's" {
	printf 'b: 2\n' >"$TMP/other/plain.yaml"
	cp "$TMP/other/plain.yaml" "$TMP/plain.before"
	ln -s ../../other/plain.yaml k8s/p.yaml
	ln -s ../../other/dir k8s/out
	run --separate-stderr gitseal encrypt -i k8s/p.yaml
	[ "$status" -eq 1 ]
	[ "$stderr" = "$(refused_line k8s/p.yaml "$TMP/other/plain.yaml")" ]
	cmp "$TMP/other/plain.yaml" "$TMP/plain.before"
	printf 'c: 3\n' >k8s/c.yaml
	run --separate-stderr gitseal encrypt --output k8s/out/c.yaml k8s/c.yaml
	[ "$status" -eq 1 ]
	[ "$stderr" = "gitseal: error: 'k8s/c.yaml': $(refused_line k8s/out/c.yaml "$TMP/other/dir/c.yaml" | sed 's/^gitseal: error: //')" ]
	[ ! -e "$TMP/other/dir/c.yaml" ]
	# --config names the rules: the user's own, one line
	run --separate-stderr gitseal encrypt -i --config .sops.yaml k8s/p.yaml
	[ "$status" -eq 0 ]
	[ "$stderr" = "gitseal: warning: 'k8s/p.yaml' leads outside the repository '$TMP/repo', to '$TMP/other/plain.yaml': written there" ]
	[ -L k8s/p.yaml ]
	[ "$(gitseal_fixture decrypt "$TMP/other/plain.yaml")" = "b: 2" ]
	# to standard output nothing is written there: no line
	run --separate-stderr gitseal encrypt k8s/c.yaml
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "encrypt -i of a path typed outside the repository: done, one line that the rule is applied because it was named" {
	printf 'b: 2\n' >"$TMP/other/typed.yaml"
	run --separate-stderr gitseal encrypt -i ../other/typed.yaml
	[ "$status" -eq 0 ]
	[ "$stderr" = "gitseal: warning: '../other/typed.yaml' lies outside the repository '$TMP/repo': the creation rule of '$TMP/repo/.sops.yaml' is applied to it only because it was named" ]
	[ "$(gitseal_fixture decrypt "$TMP/other/typed.yaml")" = "b: 2" ]
	# --output typed outside: the rule is the input's, a file of the repository's: no line
	printf 'c: 3\n' >k8s/c.yaml
	run --separate-stderr gitseal encrypt --output ../other/c.yaml k8s/c.yaml
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(gitseal_fixture decrypt "$TMP/other/c.yaml")" = "c: 3" ]
	# with the keys named, the user's own choice throughout: no line
	printf 'b: 2\n' >"$TMP/other/typed.yaml"
	run --separate-stderr gitseal encrypt -i --age "$DEMO_RECIPIENT" ../other/typed.yaml
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

# leads 30: a directory moved whole out of the repository keeps its
# inode, and the write's descriptor of it with it: after the write's own
# checks, the rename landed out there. The directory must still lie
# beneath the repository at the rename.

# moved_out_refused FILE ARGS...: gitseal ARGS fails for FILE, whose
# directory k8s the swap moved to other/: the file there untouched, no
# temporary file left; then k8s is moved back
moved_out_refused() {
	local file=$1
	shift
	run --separate-stderr gitseal "$@"
	[ "$status" -eq 1 ]
	[ "$output" = "$file: error: cannot replace '$file': its directory is no longer beneath '$TMP/repo' (moved since it was found); nothing written" ]
	cmp "$TMP/other/k8s/in.yaml" "$TMP/before.yaml"
	[ -z "$(ls -A "$TMP/other/k8s" | grep gitseal-tmp || true)" ]
	mv "$TMP/other/k8s" k8s
	rm "$TMP/swapped"
}

@test "updatekeys -r and rotate -r: the walked directory moved out of the repository after the write's checks: nothing written there" {
	needs_hooks
	swap rename ./k8s/in.yaml "mv k8s '$TMP/other/k8s'"
	rule_adds_recipient
	moved_out_refused ./k8s/in.yaml updatekeys -r -y .
	swap rename k8s/in.yaml "mv k8s '$TMP/other/k8s'"
	moved_out_refused k8s/in.yaml rotate -r k8s
	# moved within the repository, it is written there
	swap rename k8s/in.yaml "mkdir sub && mv k8s sub/k8s"
	run --separate-stderr gitseal rotate -r k8s
	[ "$status" -eq 0 ]
	[ "$(gitseal_fixture decrypt sub/k8s/in.yaml)" = "a: 1" ]
	! cmp -s sub/k8s/in.yaml "$TMP/before.yaml" || false
}
