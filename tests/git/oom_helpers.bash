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

# A sweep runs its FUNC hundreds of times, and a process costs this VM
# 5-15 ms of CPU (grep, cmp, wc; git more): the checks below read and
# compare files in bash where a process was not what is checked.

# oom_slurp VAR FILE: FILE's bytes in VAR, trailing newlines and all (the
# files compared here hold no NUL byte).
oom_slurp() { IFS= read -r -d '' "$1" <"$2" || true; }

# oom_chomp VAR: VAR without its trailing newlines, as $(cat FILE) gives it.
oom_chomp() {
	while [[ ${!1} == *$'\n' ]]; do printf -v "$1" '%s' "${!1%$'\n'}"; done
}

# The run said it ran out of memory, and nothing else went wrong: no signal,
# no sanitizer's report, every line of gitseal's is the refusal ($1: an
# extended regex for what may follow it, as the merge driver's `; what to
# do next`).
oom_refused_for_memory() {
	local tail=${1:-} line said=0
	local refusal="out of (secure )?memory$tail\$" first='^gitseal: error: .*'
	[ "$OOM_RC" -ne 0 ]
	oom_not_crashed
	while IFS= read -r line || [ -n "$line" ]; do
		[[ $line =~ ^gitseal:\  ]] || continue
		[[ $line =~ $refusal ]] || { echo "not a refusal: $line"; return 1; }
		[[ ! $line =~ $first$refusal ]] || said=1
	done <"$T/err"
	[ "$said" -eq 1 ]
}

# No signal or sanitizer's report on the run's standard error ($T/err).
oom_not_crashed() {
	local err
	oom_slurp err "$T/err"
	[[ $err != *'died of signal'* && $err != *Sanitizer* && $err != *'runtime error'* ]] || { echo "$err"; return 1; }
}

# No loose or packed object holds a value in clear.
oom_no_plaintext_object() {
	! git cat-file --batch-all-objects --batch | grep -qF "$OOM_MARK" || false
}

# FILE decrypts to WANT. The release build decrypts where make gave one
# (GITSEAL_CHECK_BIN): what is checked is what the test build's run wrote,
# and a sanitized decrypt costs 0.07 s of CPU, most of a sweep's success.
oom_decrypts_to() {
	local got want
	"${GITSEAL_CHECK_BIN:-$GITSEAL_BIN}" decrypt --input-type yaml --output-type yaml "$1" >"$T/got"
	oom_slurp got "$T/got"
	oom_slurp want "$2"
	[ "$got" = "$want" ] || { echo "$1 decrypts to:"; echo "$got"; return 1; }
}

# The staged blobs of secrets/s1.yaml .. sN.yaml in $T/blob1.yaml ..
# blobN.yaml, from one git cat-file instead of one a file; each holds sops
# metadata (a line starting 'sops:').
oom_staged_blobs() {
	local i blob
	local -a specs=()
	for ((i = 1; i <= OOM_N; i++)); do specs+=(":secrets/s$i.yaml"); done
	git_blobs "${specs[@]}"
	for ((i = 1; i <= OOM_N; i++)); do
		blob=${GS_BLOBS[i - 1]}
		printf '%s' "$blob" >"$T/blob$i.yaml"
		[[ $blob == sops:* || $blob == *$'\n'sops:* ]] || { echo "blob of secrets/s$i.yaml has no sops metadata"; return 1; }
	done
}

# `git add secrets`: every file staged sealed, or none staged and a refusal;
# never an object in clear.
oom_add_secrets() {
	local i staged
	git rm -q -r --cached --ignore-unmatch secrets
	OOM_RC=0
	env "$1" git add secrets 2>"$T/err" || OOM_RC=$?
	oom_not_crashed
	oom_no_plaintext_object
	staged=$(git ls-files secrets)
	if [ "$OOM_RC" -eq 0 ]; then
		[ ! -s "$T/err" ]
		[ "$staged" = "$(for ((i = 1; i <= OOM_N; i++)); do echo "secrets/s$i.yaml"; done)" ]
		oom_staged_blobs
		for ((i = 1; i <= OOM_N; i++)); do
			oom_decrypts_to "$T/blob$i.yaml" "$T/want/s$i.yaml"
		done
	else
		[ -z "$staged" ]
		oom_refused_for_memory
	fi
}

# `git checkout -- secrets`: the plaintext exactly, or a refusal and never
# ciphertext in the work tree. The filter never dies, not even once git has
# its files.
oom_checkout_secrets() {
	local i f got want
	rm -f secrets/*.yaml
	OOM_RC=0
	env "$1" git checkout -- secrets 2>"$T/err" || OOM_RC=$?
	oom_not_crashed
	if [ "$OOM_RC" -eq 0 ]; then
		[ ! -s "$T/err" ]
		for ((i = 1; i <= OOM_N; i++)); do
			[ -f "secrets/s$i.yaml" ]
			oom_slurp got "secrets/s$i.yaml"
			oom_slurp want "$T/want/s$i.yaml"
			[ "$got" = "$want" ] || { echo "secrets/s$i.yaml differs"; return 1; }
		done
	else
		oom_refused_for_memory
		for f in secrets/*.yaml; do
			[ -e "$f" ] || continue
			oom_slurp got "$f"
			[[ $got != *'ENC['* ]] || { echo "ciphertext in $f"; return 1; }
		done
	fi
}

# `git archive HEAD secrets`: each file as committed (ciphertext), or a
# refusal; never a value in clear, not even when the filter cannot read
# git's command line for want of memory (its smudges then fail). The
# archive is unpacked whole into a directory of the run's own (one tar,
# not one a file) and compared byte for byte with the committed blobs,
# read once a sweep (OOM_COMMITTED, from one git cat-file).
oom_archive_secrets() {
	local i got
	rm -f "$T/archive.tar"
	if [ -z "${OOM_COMMITTED+set}" ]; then
		local -a specs=()
		for ((i = 1; i <= OOM_N; i++)); do specs+=("HEAD:secrets/s$i.yaml"); done
		git_blobs "${specs[@]}"
		OOM_COMMITTED=("${GS_BLOBS[@]}") OOM_RUNS=0
	fi
	OOM_RC=0
	env "$1" git archive --format=tar -o "$T/archive.tar" HEAD secrets 2>"$T/err" || OOM_RC=$?
	oom_not_crashed
	if [ "$OOM_RC" -eq 0 ]; then
		OOM_RUNS=$((OOM_RUNS + 1))
		tar -xf "$T/archive.tar" --one-top-level="$T/archived.$OOM_RUNS"
		for ((i = 1; i <= OOM_N; i++)); do
			[ -f "$T/archived.$OOM_RUNS/secrets/s$i.yaml" ] || { echo "secrets/s$i.yaml is not in the archive"; return 1; }
			oom_slurp got "$T/archived.$OOM_RUNS/secrets/s$i.yaml"
			[ "$got" = "${OOM_COMMITTED[i - 1]}" ] || { echo "secrets/s$i.yaml is not the committed ciphertext"; return 1; }
		done
	else
		oom_refused_for_memory
		[ ! -s "$T/archive.tar" ] || ! tar -xOf "$T/archive.tar" | grep -qF "$OOM_MARK" || false
	fi
}

# base, ours and theirs of secrets/s1.yaml ($T/base, ours, theirs), sealed
# by the filter (the release build's: the sweep runs the sanitized driver),
# and the merge of the two sides in $T/want/merged.yaml.
oom_commit_merge_sides() {
	fixture git add secrets
	fixture git commit -qm base
	git show HEAD:secrets/s1.yaml >"$T/base"
	printf 'user: merged-u1\npassword: %s1-clear\n' "$OOM_MARK" >secrets/s1.yaml
	fixture git commit -qam ours
	git show HEAD:secrets/s1.yaml >"$T/ours"
	printf 'user: u1\npassword: merged-pw\n' >secrets/s1.yaml
	fixture git commit -qam theirs
	git show HEAD:secrets/s1.yaml >"$T/theirs"
	printf 'user: merged-u1\npassword: merged-pw\n' >"$T/want/merged.yaml"
}

# The merge driver as git runs it: OURS is replaced by the merged file,
# sealed. A refusal is one line saying it ran out of memory (with what to
# do next); OURS is left as given or, memory allowing, shows both sides
# as given between markers: sealed text only, no value in clear.
# Whether $1 is the note the driver leaves for a version it could not
# read, on both sides of the markers
oom_note_left() {
	local version note
	for version in "the base version" "our version" "their version"; do
		note="gitseal: not merged: $version cannot be read"
		[ "$1" != "$(printf '<<<<<<< ours\n%s\n=======\n%s\n>>>>>>> theirs' "$note" "$note")" ] || return 0
	done
	return 1
}

oom_merge_driver() {
	local result ours theirs err want
	# OURS as given, written by the shell (a cp a run before)
	[ -n "${OOM_OURS+set}" ] || oom_slurp OOM_OURS "$T/ours"
	printf '%s' "$OOM_OURS" >"$T/result.yaml"
	OOM_RC=0
	env "$1" "$GITSEAL_BIN" git merge "$T/base" "$T/result.yaml" "$T/theirs" secrets/s1.yaml 2>"$T/err" || OOM_RC=$?
	[ -f "$T/result.yaml" ]
	oom_slurp result "$T/result.yaml"
	[[ $result != *"$OOM_MARK"* && $result != *merged-* ]] || { echo "a value in clear in the result"; return 1; }
	if [ "$OOM_RC" -eq 0 ]; then
		oom_not_crashed
		oom_decrypts_to "$T/result.yaml" "$T/want/merged.yaml"
	else
		[ "$OOM_RC" -eq 1 ]
		# one newline (wc -l)
		oom_slurp err "$T/err"
		err=${err//[!$'\n']/}
		[ "${#err}" -eq 1 ]
		oom_refused_for_memory '(;.*)?'
		oom_slurp ours "$T/ours"
		oom_slurp theirs "$T/theirs"
		[ "$result" = "$ours" ] || {
			# the sides between markers, as $(cat) gives them: without
			# their last newlines; or, for a version not read, a note
			# naming it on both sides
			oom_chomp result
			oom_chomp ours
			oom_chomp theirs
			printf -v want '<<<<<<< ours\n%s\n=======\n%s\n>>>>>>> theirs' "$ours" "$theirs"
			[ "$result" = "$want" ] || oom_note_left "$result"
		}
	fi
}
