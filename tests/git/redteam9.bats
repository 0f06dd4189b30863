#!/usr/bin/env bats
# Red team 9 on the git side: clones set up before a fix, and what
# `gitseal git check` compares with what this clone accepted.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup_with_mallory; }
teardown() { gs_teardown; }

# The one line status, check and init give for an exposed pin of PATTERN.
exposed() {
	printf "a macro of a pulled .gitattributes can take the filter off '%s' (a line written before the drivers were named last, or a later line setting an attribute): run 'gitseal git init' again" "$1"
}

# G1: init now names the drivers last on its info/attributes lines (a set
# attribute that a pulled .gitattributes defines as a macro expands where
# it is applied, and unsets what is not yet set), but a clone set up before
# kept its lines in the old order and was told nothing: a pulled
# "[attr]text -filter" took the filter off there. A later line of the
# user's own setting an attribute bare exposes the pins the same way.
# status and check say so; init writes the pins again at the end.
@test "G1: info/attributes lines a pulled macro can take the filter off are reported, and git init repins them" {
	printf 'secrets/** filter=gitseal diff=gitseal merge=gitseal text eol=lf conflict-marker-size=32\n' >.git/info/attributes
	# what a pull request brings, in a top-level .gitattributes
	printf '[attr]text -filter -diff -merge\n[attr]mine -filter\n' >>.gitattributes
	git check-attr filter secrets/new.yaml | grep -qx 'secrets/new.yaml: filter: unset'
	run -0 "$GITSEAL_BIN" git status
	grep -qxF ".git/info/attributes: $(exposed 'secrets/**')" <<<"$output"
	run "$GITSEAL_BIN" git check
	grep -qxF "gitseal: warning: .git/info/attributes: $(exposed 'secrets/**')" <<<"$output"
	run -0 "$GITSEAL_BIN" git init
	git check-attr filter diff merge secrets/new.yaml | grep -qx 'secrets/new.yaml: filter: gitseal'
	run -0 "$GITSEAL_BIN" git status
	run -1 grep -F 'info/attributes' <<<"$output"
	# a line of the user's after the pins, setting an attribute bare
	printf '*.yaml mine\n' >>.git/info/attributes
	git check-attr filter secrets/new.yaml | grep -qx 'secrets/new.yaml: filter: unset'
	run -0 "$GITSEAL_BIN" git status
	grep -qxF ".git/info/attributes: $(exposed 'secrets/**')" <<<"$output"
	run -0 "$GITSEAL_BIN" git init
	[ "$(tail -n1 .git/info/attributes)" = 'secrets/** text eol=lf conflict-marker-size=32 filter=gitseal diff=gitseal merge=gitseal' ]
	git check-attr filter secrets/new.yaml | grep -qx 'secrets/new.yaml: filter: gitseal'
	printf 'db_password: n3w-s3cret\n' >secrets/new.yaml
	git add secrets/new.yaml
	git commit -qm new
	assert_blob_encrypted secrets/new.yaml
}

# G2: check compared a staged file's recipients with the accepted ones, not
# its key groups: a file (a merge, a hand-staged blob) naming the same two
# recipients in one group, where the accepted rule needs both groups
# (either holder alone opens it), passed; smudge and rotate refuse it.
@test "G2: check reports a staged file whose key groups differ from the accepted rule" {
	gs_person tina
	T2=$(recipient_of tina)
	printf 'creation_rules:\n  - path_regex: \\.yaml$\n    key_groups:\n      - age: [%s]\n      - age: [%s]\n' \
		"$RECIPIENT" "$T2" >.sops.yaml
	git commit -qam "two groups"
	"$GITSEAL_BIN" updatekeys -y -r . >/dev/null 2>&1
	mkdir -p "$T/w"
	printf 'token: t0ken-value\n' >"$T/w/p.yaml"
	printf 'creation_rules:\n  - key_groups:\n      - age: [%s, %s]\n' "$RECIPIENT" "$T2" >"$T/w/.sops.yaml"
	(cd "$T/w" && "$GITSEAL_BIN" encrypt p.yaml) >"$T/one.yaml"
	git update-index --add --cacheinfo "100644,$(git hash-object -w --no-filters "$T/one.yaml"),secrets/one.yaml"
	run -1 "$GITSEAL_BIN" git check
	grep -qF "gitseal: error: 'secrets/one.yaml': key groups changed: 1 group(s), 1 needed, where .sops.yaml has 2, 2 needed;" <<<"$output"
	# the file as the accepted rule splits it passes
	printf 'creation_rules:\n  - key_groups:\n      - age: [%s]\n      - age: [%s]\n' "$RECIPIENT" "$T2" >"$T/w/.sops.yaml"
	(cd "$T/w" && "$GITSEAL_BIN" encrypt p.yaml) >"$T/two.yaml"
	git rm -q --cached secrets/one.yaml
	git update-index --add --cacheinfo "100644,$(git hash-object -w --no-filters "$T/two.yaml"),secrets/two.yaml"
	run -0 "$GITSEAL_BIN" git check
}

# G3: check finds a partial stage (the committed MAC kept over changed
# values) without a key by comparing the leaves of both versions, the
# top-level "sops" entry aside. It compared that key as a C string, so a
# key "sops\0x" (a NUL in it) was taken for the metadata and its value left
# out: a blob changing only it, the MAC kept, passed where no key opens it.
@test "G3: check without a key compares a top-level key with a NUL byte as a value, not as the metadata" {
	printf '"sops\\0x": v1-value\nport: 1\n' >secrets/z.yaml
	git add secrets/z.yaml
	git commit -qm z
	printf '"sops\\0x": v2-value\nport: 1\n' >"$T/z2.yaml"
	(cd "$T" && "$GITSEAL_BIN" encrypt --age "$RECIPIENT" z2.yaml) >"$T/z2.enc.yaml"
	git cat-file -p HEAD:secrets/z.yaml >"$T/head.yaml"
	python3 - "$T/z2.enc.yaml" "$T/head.yaml" "$T/staged.yaml" <<'PY'
import sys
mark = '"sops\\0x": ENC['
new = [l for l in open(sys.argv[1]) if l.startswith(mark)]
assert len(new) == 1, "layout changed"
out = [new[0] if l.startswith(mark) else l for l in open(sys.argv[2])]
assert out != open(sys.argv[2]).readlines()
open(sys.argv[3], "w").write("".join(out))
PY
	git update-index --cacheinfo "100644,$(git hash-object -w --no-filters "$T/staged.yaml"),secrets/z.yaml"
	SOPS_AGE_KEY_FILE="$T/none.txt" run -1 "$GITSEAL_BIN" git check
	grep -qF "gitseal: error: 'secrets/z.yaml': only a part of a change is staged (git add -p?)" <<<"$output"
}
