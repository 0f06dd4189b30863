# The git side under valgrind: a scripted repository; git add and checkout
# (delayed smudges on worker threads) through the filter process, textconv
# and the merge driver inside git (a clean merge and a conflict), and
# check, status, updatekeys, lock and unlock run directly. valgrind runs
# inside git, so its exit status reaches git as a filter failure.
rcpt=$(cat "$KEYS/demo-age-recipient.txt")
# one glibc allocation in dlopen, explained in the file
export VALGRIND_OPTS="--suppressions=$(pwd)/tests/memcheck.d/glibc-dlopen.supp"
export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt" GIT_CONFIG_NOSYSTEM=1
# the hook and drivers run `gitseal` from PATH
saved_path=$PATH
PATH="$(dirname "$BIN"):$PATH"
repo="$work/repo"
# a git command whose filter runs as it is, not under valgrind: a path an
# earlier step ran under valgrind (each run costs valgrind's start-up,
# a second of CPU); the merge driver and textconv stay under it. A
# command that only reads (a commit after add, git diff) still starts the
# filter where a file is racily clean (written in the second its index
# entry was): the same clean again.
git_plain_filter() {
	git -c filter.gitseal.process="$BIN git filter-process" "$@"
}
git init -q -b main "$repo"
vgcmd="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --log-file=$work/vg-git.%p $BIN"
(
	cd "$repo"
	git config user.name memcheck
	git config user.email memcheck@example.invalid
	printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: %s\n' "$rcpt" >.sops.yaml
	vg "$BIN" git init 'secrets/**'
	# the filter and drivers gitseal wrote, run under valgrind
	git config filter.gitseal.process "$vgcmd git filter-process"
	git config diff.gitseal.textconv "$vgcmd git textconv"
	git config merge.gitseal.driver "$vgcmd git merge %O %A %B %P"
	mkdir -p secrets
	printf 'db:\n  password: hunter2\n  port: 5432\n' >secrets/app.yaml
	printf 'token: abc\n' >secrets/other.yaml
	git add -A
	git_plain_filter commit -qm one
	git cat-file -p HEAD:secrets/app.yaml | grep -q 'ENC\[AES256_GCM' || { echo "blob not encrypted"; exit 1; }
	rm secrets/*.yaml
	git checkout -- secrets
	grep -q 'password: hunter2' secrets/app.yaml || { echo "checkout did not decrypt"; exit 1; }
	# a merge at two depths, then a conflict
	git branch side
	sed -i 's/hunter2/hunter3/' secrets/app.yaml
	git commit -qam ours
	# once more each: a smudge and a clean of a changed file
	git_plain_filter checkout -q side
	sed -i 's/5432/5433/' secrets/app.yaml
	git_plain_filter commit -qam theirs
	git_plain_filter merge -q --no-edit main
	grep -q 'port: 5433' secrets/app.yaml && grep -q 'password: hunter3' secrets/app.yaml ||
		{ echo "merge lost a change"; exit 1; }
	sed -i 's/abc/side/' secrets/other.yaml
	git_plain_filter commit -qam side-token
	git_plain_filter checkout -q main
	sed -i 's/abc/main/' secrets/other.yaml
	git_plain_filter commit -qam main-token
	if git_plain_filter merge -q --no-edit side 2>/dev/null; then echo "the conflict merged"; exit 1; fi
	grep -q '^<<<<<<< ' secrets/other.yaml || { echo "no markers"; exit 1; }
	# textconv of the work tree's file (markers) and of one side's blob: a
	# combined diff converts both sides' blobs, the same path twice
	git_plain_filter diff --ours >/dev/null
	printf 'token: resolved\n' >secrets/other.yaml
	git_plain_filter add secrets/other.yaml
	git_plain_filter commit -qm merged --no-verify
	vg "$BIN" git check >/dev/null
	vg "$BIN" git status >/dev/null
	# a second recipient: updatekeys on the work tree files, with a rotation
	printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: %s,%s\n' "$rcpt" \
		"$("$BIN" keygen -y "$KEYS/test-age-key-2.txt")" >.sops.yaml
	vg "$BIN" updatekeys -r -y --rotate . 2>/dev/null
	vg "$BIN" git lock >/dev/null 2>&1
	grep -q 'ENC\[' secrets/app.yaml || { echo "lock left plaintext"; exit 1; }
	vg "$BIN" git unlock >/dev/null 2>&1
	grep -q 'password: hunter3' secrets/app.yaml || { echo "unlock did not decrypt"; exit 1; }
)
# each valgrind run wrote a log; any content is an error or a definite leak
for log in "$work"/vg-git.*; do
	[ -e "$log" ] || { echo "the filter did not run under valgrind"; exit 1; }
	if [ -s "$log" ]; then
		cat "$log"
		exit 1
	fi
done
unset SOPS_AGE_KEY_FILE VALGRIND_OPTS
PATH=$saved_path
