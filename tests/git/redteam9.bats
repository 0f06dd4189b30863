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
	(cd "$T/w" && fixture gitseal encrypt p.yaml) >"$T/one.yaml"
	git update-index --add --cacheinfo "100644,$(git hash-object -w --no-filters "$T/one.yaml"),secrets/one.yaml"
	run -1 "$GITSEAL_BIN" git check
	grep -qF "gitseal: error: 'secrets/one.yaml': key groups changed: 1 group(s), 1 needed, where .sops.yaml has 2, 2 needed;" <<<"$output"
	# the file as the accepted rule splits it passes
	printf 'creation_rules:\n  - key_groups:\n      - age: [%s]\n      - age: [%s]\n' "$RECIPIENT" "$T2" >"$T/w/.sops.yaml"
	(cd "$T/w" && fixture gitseal encrypt p.yaml) >"$T/two.yaml"
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
	fixture git add secrets/z.yaml
	fixture git commit -qm z
	printf '"sops\\0x": v2-value\nport: 1\n' >"$T/z2.yaml"
	(cd "$T" && fixture gitseal encrypt --age "$RECIPIENT" z2.yaml) >"$T/z2.enc.yaml"
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

# G4: a sops file new to the repository goes in with its own rule (a
# hand-made file), and that rule is in its metadata. Real sops run under a
# pull request's secrets/.sops.yaml ('unencrypted_regex: ^token$', the
# accepted recipient) leaves the token in clear, and git add committed it
# so: the rule gitseal encrypt refuses (G2 of red team 8) came in through
# sops. The filter now refuses a value in clear that the accepted rule for
# the path seals; the user's GITSEAL_KEEP_FILE_RULE=1 keeps the file's own.
@test "G4: git add of a new sops file whose own rule leaves in clear what the accepted rule seals is refused" {
	printf 'creation_rules:\n  - unencrypted_regex: ^token$\n    age: %s\n' "$RECIPIENT" > "$T/mallory/secrets/.sops.yaml"
	as_person mallory git add secrets/.sops.yaml
	as_person mallory git commit -qm "rules for secrets/"
	pull_from mallory
	printf 'token: t0ken-value\npassword: hunter3\n' > "$T/new.yaml"
	# what sops makes under that .sops.yaml (gitseal given it as --config)
	"$GITSEAL_BIN" encrypt --config secrets/.sops.yaml "$T/new.yaml" > secrets/new.yaml
	grep -qx 'token: t0ken-value' secrets/new.yaml
	cp secrets/new.yaml "$T/new.enc.yaml"
	run -128 git add secrets/new.yaml
	grep -qxF "gitseal: error: cannot encrypt 'secrets/new.yaml': the value at 'token' is in clear under the file's own rule (unencrypted_regex '^token\$'), which the accepted .sops.yaml rule seals: decrypt it and add it again to seal it under that rule, or add it with GITSEAL_KEEP_FILE_RULE=1 to keep its own" <<<"$output"
	[ -z "$(git diff --cached --name-only)" ]
	run ! grep -qa t0ken-value <(git cat-file --batch-all-objects --batch)
	# as the message says: decrypted and added again, sealed by the accepted rule
	"$GITSEAL_BIN" decrypt -i secrets/new.yaml
	git add secrets/new.yaml
	git show :secrets/new.yaml | grep -q '^token: ENC\['
	run ! grep -qa t0ken-value <(git cat-file --batch-all-objects --batch)
	# the user's own choice: the file's rule kept
	cp "$T/new.enc.yaml" secrets/own.yaml
	GITSEAL_KEEP_FILE_RULE=1 git add secrets/own.yaml
	git show :secrets/own.yaml | grep -qx 'token: t0ken-value'
	git commit -qm "two files" -- secrets/new.yaml secrets/own.yaml
	git show HEAD:secrets/own.yaml | grep -qx 'token: t0ken-value'
	git show HEAD:secrets/new.yaml | grep -q '^token: ENC\['
}
