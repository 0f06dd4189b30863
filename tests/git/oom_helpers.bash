# The out-of-memory runs of tests/git/oom.bats (gitseal's own allocations)
# and tests/git/oom_libs.bats (those of libyaml, OpenSSL and libgit2): each
# is a FUNC of sweep_oom (tests/helpers.bash), run with `env "$1"`, that
# sets OOM_RC and checks the outcome either way. OOM_MARK is the start of
# every value in clear (none may reach .git or a sealed file), OOM_N the
# count of secrets/sN.yaml; $T/want holds them as written.

# oom_secrets MARK N: secrets/s1.yaml .. sN.yaml, each with a value in
# clear starting with MARK, and a copy of each in $T/want.
oom_secrets() {
	OOM_MARK=$1 OOM_N=$2
	local i
	for ((i = 1; i <= OOM_N; i++)); do
		printf 'user: u%s\npassword: %s%s-clear\n' "$i" "$OOM_MARK" "$i" >"secrets/s$i.yaml"
	done
	mkdir -p "$T/want"
	cp secrets/*.yaml "$T/want/"
}

# The run said it ran out of memory, and nothing else went wrong: no signal,
# no sanitizer's report, every line of gitseal's is the refusal ($1: what may
# follow it, as the merge driver's `; what to do next`).
oom_refused_for_memory() {
	local tail=${1:-}
	[ "$OOM_RC" -ne 0 ]
	oom_not_crashed
	grep -q "^gitseal: error: .*out of \(secure \)\?memory$tail\$" "$T/err"
	! grep '^gitseal: ' "$T/err" | grep -vq "out of \(secure \)\?memory$tail\$" || false
}

oom_not_crashed() {
	! grep -q 'died of signal\|Sanitizer\|runtime error' "$T/err" || false
}

# No loose or packed object holds a value in clear.
oom_no_plaintext_object() {
	! git cat-file --batch-all-objects --batch | grep -qF "$OOM_MARK" || false
}

# FILE decrypts to WANT. The release build decrypts where make gave one
# (GITSEAL_CHECK_BIN): what is checked is what the test build's run wrote,
# and a sanitized decrypt costs 0.07 s of CPU, most of a sweep's success.
oom_decrypts_to() {
	"${GITSEAL_CHECK_BIN:-$GITSEAL_BIN}" decrypt --input-type yaml --output-type yaml "$1" | cmp - "$2"
}

# `git add secrets`: every file staged sealed, or none staged and a refusal;
# never an object in clear.
oom_add_secrets() {
	local i
	git rm -q -r --cached --ignore-unmatch secrets
	OOM_RC=0
	env "$1" git add secrets 2>"$T/err" || OOM_RC=$?
	oom_not_crashed
	oom_no_plaintext_object
	if [ "$OOM_RC" -eq 0 ]; then
		[ ! -s "$T/err" ]
		[ "$(git ls-files secrets | wc -l)" -eq "$OOM_N" ]
		for ((i = 1; i <= OOM_N; i++)); do
			git cat-file -p ":secrets/s$i.yaml" >"$T/blob.yaml"
			grep -q '^sops:' "$T/blob.yaml"
			oom_decrypts_to "$T/blob.yaml" "$T/want/s$i.yaml"
		done
	else
		[ -z "$(git ls-files secrets)" ]
		oom_refused_for_memory
	fi
}

# `git checkout -- secrets`: the plaintext exactly, or a refusal and never
# ciphertext in the work tree. The filter never dies, not even once git has
# its files.
oom_checkout_secrets() {
	local i
	rm -f secrets/*.yaml
	OOM_RC=0
	env "$1" git checkout -- secrets 2>"$T/err" || OOM_RC=$?
	oom_not_crashed
	if [ "$OOM_RC" -eq 0 ]; then
		[ ! -s "$T/err" ]
		for ((i = 1; i <= OOM_N; i++)); do cmp "secrets/s$i.yaml" "$T/want/s$i.yaml"; done
	else
		oom_refused_for_memory
		! grep -q 'ENC\[' secrets/*.yaml 2>/dev/null || false
	fi
}

# base, ours and theirs of secrets/s1.yaml ($T/base, ours, theirs), sealed
# by the filter, and the merge of the two sides in $T/want/merged.yaml.
oom_commit_merge_sides() {
	git add secrets
	git commit -qm base
	git show HEAD:secrets/s1.yaml >"$T/base"
	printf 'user: merged-u1\npassword: %s1-clear\n' "$OOM_MARK" >secrets/s1.yaml
	git commit -qam ours
	git show HEAD:secrets/s1.yaml >"$T/ours"
	printf 'user: u1\npassword: merged-pw\n' >secrets/s1.yaml
	git commit -qam theirs
	git show HEAD:secrets/s1.yaml >"$T/theirs"
	printf 'user: merged-u1\npassword: merged-pw\n' >"$T/want/merged.yaml"
}

# The merge driver as git runs it: OURS is replaced by the merged file,
# sealed. A refusal is one line saying it ran out of memory (with what to
# do next); OURS is left as given or, memory allowing, shows both sides
# as given between markers: sealed text only, no value in clear.
oom_merge_driver() {
	cp "$T/ours" "$T/result.yaml"
	OOM_RC=0
	env "$1" "$GITSEAL_BIN" git merge "$T/base" "$T/result.yaml" "$T/theirs" secrets/s1.yaml 2>"$T/err" || OOM_RC=$?
	! grep -qF -e "$OOM_MARK" -e merged- "$T/result.yaml" || false
	if [ "$OOM_RC" -eq 0 ]; then
		oom_not_crashed
		oom_decrypts_to "$T/result.yaml" "$T/want/merged.yaml"
	else
		[ "$OOM_RC" -eq 1 ]
		[ "$(wc -l <"$T/err")" -eq 1 ]
		oom_refused_for_memory '\(;.*\)\?'
		cmp -s "$T/result.yaml" "$T/ours" ||
			[ "$(cat "$T/result.yaml")" = "$(printf '<<<<<<< ours\n%s\n=======\n%s\n>>>>>>> theirs' "$(cat "$T/ours")" "$(cat "$T/theirs")")" ]
	fi
}
