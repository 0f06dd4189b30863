# Helpers of the merge driver's suites (merge.bats, mergefuzz.bats).

# merge_three FILE BASE OURS THEIRS: the three versions committed (base on
# main, then branches ours-FILE and theirs-FILE), theirs merged into ours;
# $output and $status are git merge's
merge_three() {
	local f=secrets/$1
	git checkout -q main
	printf "$2" > "$f"
	git add -A && git commit -qm "base $1"
	git checkout -qb "theirs-$1"
	printf "$4" > "$f"
	git commit -qam theirs
	git checkout -qb "ours-$1" main
	printf "$3" > "$f"
	git commit -qam ours
	run git merge --no-edit "theirs-$1"
	echo "$output"
	cat "$f"
}
