# Helpers of the merge driver's suites (merge.bats, mergefuzz.bats).

# merge_three FILE BASE OURS THEIRS: the three versions committed (base on
# main, then branches ours-FILE and theirs-FILE) by the release build
# (fixture), theirs merged into ours by the build under test; $output and
# $status are git merge's
merge_three() {
	local f=secrets/$1
	fixture git checkout -q main
	printf "$2" > "$f"
	backdate "$f"
	fixture git add -A
	fixture git commit -qm "base $1"
	fixture git checkout -qb "theirs-$1"
	printf "$4" > "$f"
	backdate "$f"
	fixture git commit -qam theirs
	fixture git checkout -qb "ours-$1" main
	printf "$3" > "$f"
	backdate "$f"
	fixture git commit -qam ours
	run git merge --no-edit "theirs-$1"
	echo "$output"
	cat "$f"
}

# .sops.yaml sealing secrets/ for $RECIPIENT, committed (by the release
# build: a test's set-up)
commit_age_rule() {
	printf 'creation_rules:\n  - path_regex: secrets/.*\n    age: %s\n' "$RECIPIENT" > .sops.yaml
	fixture git add .sops.yaml
	fixture git commit -qm rules
}

# git merge ($status, $output) conflicted in FILE with the driver's
# MESSAGE, and FILE is unmerged
assert_merge_conflict() {
	local f=$1
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: conflict in '$f': $2" <<<"$output"
	[ "$(git status --porcelain "$f")" = "UU $f" ]
}

# Every object, and every file under .git (rr-cache, AUTO_MERGE, MERGE_*),
# searched for each given plaintext: the objects read once and each place
# searched for all of them with one grep (three processes, not four a
# plaintext); on a match, the plaintext found is named.
assert_no_plaintext_in_git() {
	local secret
	local -a pats=()
	for secret in "$@"; do pats+=(-e "$secret"); done
	git cat-file --batch-all-objects --batch >"$T/objects"
	if grep -qaF "${pats[@]}" "$T/objects"; then
		for secret in "$@"; do
			! grep -qaF -- "$secret" "$T/objects" || { echo "'$secret' is in an object"; return 1; }
		done
	fi
	rm "$T/objects"
	if grep -rqaF "${pats[@]}" .git; then
		for secret in "$@"; do
			! grep -rqaF -- "$secret" .git || { echo "'$secret' is under .git:"; grep -rlaF -- "$secret" .git; return 1; }
		done
	fi
}

# The file holds markers, and each given line on the side named (ours,
# theirs): the lines between '<<<<<<< ' and '=======', or '=======' and
# '>>>>>>> '.
assert_side_holds() {
	local f=$1 side=$2 text
	shift 2
	if [ "$side" = ours ]; then
		text=$(sed -n '/^<<<<<<< /,/^=======$/p' "$f")
	else
		text=$(sed -n '/^=======$/,/^>>>>>>> /p' "$f")
	fi
	[ -n "$text" ] || { echo "no markers in $f"; return 1; }
	for line in "$@"; do
		grep -qxF -- "$line" <<<"$text" || { echo "'$line' is not on $side' side of $f"; return 1; }
	done
}

# `git add` of FILE still holding markers stages a sealed conflict, and
# the hook refuses to commit it
assert_markers_refused_at_commit() {
	local f=$1
	grep -q '^<<<<<<< ' "$f"
	git add "$f"
	git show ":$f" | grep -q '"gitseal_conflict": "ENC\['
	run git commit -qm merged
	[ "$status" -eq 1 ]
	grep -qxF "gitseal: error: '$f': it holds an unresolved merge conflict" <<<"$output"
}

# FILE's text with every conflict resolved to one side (ours, theirs)
conflict_side_text() {
	awk -v side="$2" '
		/^<<<<<<< / && h == 0 { h = 1; next }
		/^=======$/ && h == 1 { h = 2; next }
		/^>>>>>>> / && h == 2 { h = 0; next }
		h == 0 || (h == 1 && side == "ours") || (h == 2 && side == "theirs")' "$1"
}

# The last git merge ($status) exited 0, secrets/FILE is printf TEXT and
# git status is clean
assert_merged_clean() {
	[ "$status" -eq 0 ] || { echo "git merge exited $status"; return 1; }
	[ "$(cat "secrets/$1")" = "$(printf "$2")" ] || { echo "secrets/$1 differs"; return 1; }
	assert_status_clean
}

# FILE's text resolved to ours is printf OURS, resolved to theirs printf THEIRS
assert_conflict_sides() {
	local side want
	for side in ours theirs; do
		want=$2
		if [ "$side" = theirs ]; then
			want=$3
		fi
		[ "$(conflict_side_text "$1" "$side")" = "$(printf "$want")" ] ||
			{ echo "$side' side of $1 differs"; conflict_side_text "$1" "$side"; return 1; }
	done
}

# The sides of FILE's markers are what `git checkout --ours` and
# `--theirs` give (a conflict where no side has a clean change besides);
# FILE keeps its markers. The checkouts are the oracle, not what is
# tested: the release build smudges them (fixture).
assert_sides_are_checkouts() {
	local f=$1 marked side want
	marked=$(cat "$f")
	for side in ours theirs; do
		want=$(conflict_side_text "$f" "$side")
		fixture git checkout "--$side" -- "$f"
		[ "$(cat "$f")" = "$want" ] || { echo "$side' side differs from git checkout --$side:"; diff <(echo "$want") "$f"; return 1; }
		printf '%s\n' "$marked" > "$f"
	done
}

# sides_edited MAIN_SED FEATURE_SED: secrets/app.yaml changed by sed on
# main and on feature, each committed (the release build: set-up), main
# checked out
sides_edited() {
	sed -i "$1" secrets/app.yaml
	fixture git commit -qam main-side
	fixture git checkout -q feature
	sed -i "$2" secrets/app.yaml
	fixture git commit -qam feature-side
	fixture git checkout -q main
}
