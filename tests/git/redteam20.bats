#!/usr/bin/env bats
# Red team 20 on the git side: the threat model's rows attacked by variants
# their tests did not try (another store, entry point or encoding).

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

# refused_for FILE WHAT: check's output (in $output) refuses FILE for WHAT
refused_for() {
	grep -qxF "gitseal: error: '$1': $2; keep it under the filter's pattern (see .gitattributes)" <<<"$output"
}

# commit_refused: git commit (its hook) refuses, HEAD stays at $head
commit_refused() {
	run git commit -qm "refused"
	[ "$status" -eq 1 ]
	[ "$(git rev-parse HEAD)" = "$head" ]
}

# C1: check refuses a file moved out of the filter's pattern that holds a
# sealed file's values, and looked for each by its bytes; a format writes
# some values escaped (JSON '\"', '\\' and '\t'; YAML '' in single quotes,
# '\"' in double ones), so `git mv secrets/app.yaml config/app.json` of a
# password holding a quote or a backslash was committed in clear, check
# and hook passing. The moved file is also read as its name's format.
@test "C1: check finds a moved file's secret that its format writes escaped (JSON, YAML quotes, any name)" {
	printf '{"token": "Tr0ub4dor&\\"3x", "path": "C:\\\\Users\\\\admin-pw", "tab": "tab\\there-pw"}\n' > secrets/a.yaml
	printf 'pw: %s\n' "'it''s-a-s3cret'" > secrets/b.yaml
	git add -A
	git commit -qm secrets
	[ "$(fixture gitseal decrypt --extract '["pw"]' <(git show HEAD:secrets/b.yaml) --input-type yaml)" = "it's-a-s3cret" ]
	head=$(git rev-parse HEAD)
	git mv secrets/a.yaml a.json
	git mv secrets/b.yaml b.yaml
	git add a.json b.yaml
	# the bytes hold none of them as they are
	run ! grep -qF 'Tr0ub4dor&"3x' a.json
	run ! grep -qF "it's-a-s3cret" b.yaml
	run -1 "$GITSEAL_BIN" git check
	refused_for a.json "it holds secrets of 'secrets/a.yaml', which is encrypted"
	refused_for b.yaml "it holds secrets of 'secrets/b.yaml', which is encrypted"
	commit_refused
	# each value alone, and under a name no store claims
	git rm -q --cached a.json b.yaml
	printf '{"x": "C:\\\\Users\\\\admin-pw"}\n' > c.json.orig
	git add c.json.orig
	run -1 "$GITSEAL_BIN" git check
	refused_for c.json.orig "it holds secrets of 'secrets/a.yaml', which is encrypted"
	printf '{"x": "tab\\there-pw"}\n' > c.json.orig
	git add c.json.orig
	run -1 "$GITSEAL_BIN" git check
	# text that holds none of them still passes
	printf '{"x": "Tr0ub4dor", "y": "admin-pw"}\n' > c.json.orig
	git add c.json.orig
	run -0 "$GITSEAL_BIN" git check
}

# C2: git init names each recipient it accepts with where it found it, and
# named one file for a recipient only files' metadata name (the first), while
# it accepted that recipient for every file naming it: a pull request's
# recipient planted in a harmless file and in the production secrets was
# shown as the harmless file's alone.
@test "C2: git init names every file whose metadata alone names a recipient it accepts, not only the first" {
	git commit -qm base --allow-empty
	gs_person mallory
	M=$(recipient_of mallory)
	mkdir "$T/mallory/secrets"
	printf 'greeting: hello\n' > "$T/a.yaml"
	printf 'db_password: hunter2\n' > "$T/b.yaml"
	for f in a b; do
		(cd "$T" && fixture gitseal encrypt --config /dev/null --age "$RECIPIENT,$M" $f.yaml) > "$T/mallory/secrets/$f.yaml"
	done
	as_person mallory git add secrets
	as_person mallory git commit -qm "two files" --no-verify
	git clone -q "$T/mallory" "$T/fresh"
	cd "$T/fresh"
	run -0 "$GITSEAL_BIN" git init 'secrets/**'
	grep -qxF "gitseal:     $M (only in the metadata of 2 files, which the MAC does not cover: 'secrets/a.yaml', 'secrets/b.yaml')" <<<"$output"
	grep -qxF "$M	secrets/a.yaml" .git/gitseal/accepted
	grep -qxF "$M	secrets/b.yaml" .git/gitseal/accepted
}

# C3: check looked for a sealed file's plaintext outside the pattern only
# when the file was gone from the index (moved): `cp secrets/app.yaml
# config/` and `git add config` committed every secret of it in clear,
# check and hook passing. A staged file whose bytes are a sealed file's
# plaintext in the work tree is now refused; compared whole, nothing a
# file shares by chance with one under the pattern is.
@test "C3: check refuses a file copied out of the filter's pattern (cp, not git mv), not only a moved one" {
	printf 'db_password: s3cret-value\nuser: admin\n' > secrets/app.yaml
	git add secrets/app.yaml
	git commit -qm app
	head=$(git rev-parse HEAD)
	mkdir config
	cp secrets/app.yaml config/app.yaml
	git add config/app.yaml
	run -1 "$GITSEAL_BIN" git check
	[ "${#lines[@]}" -eq 2 ]
	refused_for config/app.yaml "it is a copy of the plaintext of 'secrets/app.yaml', which is encrypted"
	commit_refused
	# the ciphertext copied (what a clone without a key checks out) is no plaintext
	git show HEAD:secrets/app.yaml > config/app.yaml
	git add config/app.yaml
	run -0 "$GITSEAL_BIN" git check
	# nor is a file that only shares a value with it
	printf 'user: admin\n' > config/app.yaml
	git add config/app.yaml
	run -0 "$GITSEAL_BIN" git check
}

# C4: updatekeys in a clone shows what a pulled .sops.yaml changes before
# it asks; the files' lines wrote each recipient escaped, the rule's line
# ("new files are sealed for: +...") as .sops.yaml spells it, so a key
# there (a pgp entry) holding "\e[5A\e[J" erased the lines above it on a
# terminal, the "+++" of the recipient the pull request added among them.
@test "C4: updatekeys -r shows a pulled .sops.yaml's recipients with their control bytes escaped, status too" {
	other=$(age-keygen 2>/dev/null | grep -o 'age1[a-z0-9]*')
	printf 'a: 1\n' > secrets/a.yaml
	git add -A
	git commit -qm a
	printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: [%s, %s]\n    pgp: "\\e[5A\\e[J"\n' "$RECIPIENT" "$other" > .sops.yaml
	git commit -qam "a pulled rule"
	run -1 "$GITSEAL_BIN" updatekeys -r . <<<n
	grep -qxF "    new files are sealed for: +$other, +\\x1b[5A\\x1b[J" <<<"$output"
	[[ "$output" != *$'\e'* ]]
	run "$GITSEAL_BIN" git status
	grep -qF ".sops.yaml: recipients changed: +$other, +\\x1b[5A\\x1b[J; run 'gitseal updatekeys' to accept" <<<"$output"
	[[ "$output" != *$'\e'* ]]
}
