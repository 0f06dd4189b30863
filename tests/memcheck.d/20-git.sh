# The git filter process under valgrind: a scripted repository, git add and
# checkout through the filter that `gitseal git init` installs. valgrind
# runs inside git, so its exit status reaches git as a filter failure.
rcpt=$(cat "$KEYS/demo-age-recipient.txt")
export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt" GIT_CONFIG_NOSYSTEM=1
# the hook and drivers run `gitseal` from PATH
saved_path=$PATH
PATH="$(dirname "$BIN"):$PATH"
repo="$work/repo"
git init -q "$repo"
(
	cd "$repo"
	git config user.name memcheck
	git config user.email memcheck@example.invalid
	printf 'creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: %s\n' "$rcpt" >.sops.yaml
	vg "$BIN" git init 'secrets/**'
	# the filter and drivers gitseal wrote, run under valgrind
	git config filter.gitseal.process "valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --log-file=$work/vg-git.%p $BIN git filter-process"
	git config diff.gitseal.textconv "valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --log-file=$work/vg-git.%p $BIN git textconv"
	mkdir -p secrets
	printf 'db:\n  password: hunter2\n  port: 5432\n' >secrets/app.yaml
	printf 'token: abc\n' >secrets/other.yaml
	git add -A
	git commit -qm one
	git cat-file -p HEAD:secrets/app.yaml | grep -q 'ENC\[AES256_GCM' || { echo "blob not encrypted"; exit 1; }
	rm secrets/*.yaml
	git checkout -- secrets
	grep -q 'password: hunter2' secrets/app.yaml || { echo "checkout did not decrypt"; exit 1; }
	sed -i 's/hunter2/hunter3/' secrets/app.yaml
	git diff >/dev/null
	git add secrets/app.yaml
	vg "$BIN" git check >/dev/null
)
# each valgrind run wrote a log; any content is an error or a definite leak
for log in "$work"/vg-git.*; do
	[ -e "$log" ] || { echo "the filter did not run under valgrind"; exit 1; }
	if [ -s "$log" ]; then
		cat "$log"
		exit 1
	fi
done
unset SOPS_AGE_KEY_FILE
PATH=$saved_path
