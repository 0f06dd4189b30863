#!/usr/bin/env bats
# Red team 8 on the git side (rule 2: repository content is attacker input):
# what `gitseal git init` keeps of a pulled .gitattributes.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	gs_setup
	printf 'db_password: hunter2-old\nport: 5432\n' > secrets/app.yaml
	git add -A && git commit -qm base
	gs_person mallory
}
teardown() { gs_teardown; }

# G1: init copies the filter's lines of .gitattributes to .git/info/attributes
# (which git reads last, which no commit changes), and the docs say to
# re-run it to keep a pattern a teammate added. It copied any line holding
# the filter's attributes, so a pulled line that unsets the filter after
# them was pinned where nothing overrides it: new files there were committed
# in clear, and check passed them.
@test "G1: re-running git init does not pin a pulled line that takes the filter off after its attributes" {
	suffix="filter=gitseal diff=gitseal merge=gitseal text eol=lf conflict-marker-size=32"
	as_person mallory sh -c "printf 'secrets/prod/** $suffix -filter\nsecrets/ops/** $suffix filter=none\nsecrets/new/** $suffix\n' >> .gitattributes"
	as_person mallory git commit -qam "more patterns"
	pull_from mallory
	run "$GITSEAL_BIN" git init
	[ "$status" -eq 0 ]
	grep -qxF "gitseal: warning: not kept in .git/info/attributes: 'secrets/prod/** $suffix -filter' in .gitattributes is not a line 'gitseal git init' writes (one pattern and the filter's attributes)" <<<"$output"
	grep -qF "not kept in .git/info/attributes: 'secrets/ops/** $suffix filter=none'" <<<"$output"
	# the line of init's own form is kept
	grep -qxF "secrets/new/** $suffix" .git/info/attributes
	run ! grep -q -- '-filter\|filter=none' .git/info/attributes
	mkdir -p secrets/prod secrets/ops secrets/new
	for d in prod ops new; do
		printf 'db_password: %s-s3cret\n' "$d" > secrets/$d/db.yaml
	done
	git add -A
	git commit -qm "new secrets"
	for d in prod ops new; do
		assert_blob_encrypted secrets/$d/db.yaml
	done
	run ! grep -qa s3cret <(git cat-file --batch-all-objects --batch)
}
