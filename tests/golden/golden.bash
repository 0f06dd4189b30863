# Golden tests (signify's regress style). A case is a directory under
# cases/ holding
#   cmd     the shell commands of the case, run in a scratch directory that
#           holds a copy of files/ (the inputs every case shares: plaintexts
#           and their encryptions to the demo key) and of the case's own
#           in/, if any; `gitseal` is the binary under test, `mask` hides
#           what changes on every run, the identity is keys/demo-age-key.txt
#   out     what the commands print on standard output
#   err     what they print on standard error (absent: nothing)
#   status  the exit status of the last command (absent: 0)
# A case passes when out, err and status match, compared with `diff -u`.
# Run one:  bats -f 'NAME' tests/golden
# Record a new case (then read what it wrote before committing it):
#   GOLDEN_RECORD=1 bats -f 'NAME' tests/golden
load ../helpers

GOLDEN="$REPO_ROOT/tests/golden"

# mask: hides what a fresh encryption changes on every run, so that the
# layout can be compared byte for byte: the data, iv and tag of ENC[...]
# values (their type stays), the wrapped data keys and lastmodified.
mask() {
	sed -E \
		-e 's/ENC\[AES256_GCM,data:[^],]*,iv:[^],]*,tag:[^],]*,type:([a-z]+)\]/ENC[AES256_GCM,data:…,iv:…,tag:…,type:\1]/g' \
		-e 's/-----BEGIN AGE ENCRYPTED FILE-----[^"]*-----END AGE ENCRYPTED FILE-----(\\n)?/…/' \
		-e '/^[[:space:]]*-----BEGIN AGE ENCRYPTED FILE-----$/,/^[[:space:]]*-----END AGE ENCRYPTED FILE-----$/{/BEGIN/!d;s/-----BEGIN AGE ENCRYPTED FILE-----/…/}' \
		-e 's/(lastmodified"?[: =]*"?)[0-9][0-9TZ:.+-]*/\1…/'
}

# run_case CASE_DIR RESULT_DIR: runs the case, its out, err and status
# into RESULT_DIR.
run_case() {
	local case_dir=$1 result=$2 status=0

	mkdir -p "$TMP/work" "$result"
	cp -R "$GOLDEN/files/." "$TMP/work/"
	if [ -d "$case_dir/in" ]; then cp -R "$case_dir/in/." "$TMP/work/"; fi
	export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt" KEYS
	(cd "$TMP/work" && . "$case_dir/cmd") >"$result/out" 2>"$result/err" || status=$?
	echo "$status" >"$result/status"
}

# golden NAME: runs cases/NAME and compares what it printed.
golden() {
	local case_dir="$GOLDEN/cases/$1" got
	[ -f "$case_dir/cmd" ] || { echo "no case '$1'"; return 1; }
	got="$TMP/got"
	run_case "$case_dir" "$got"
	if [ -n "${GOLDEN_RECORD:-}" ]; then
		cp "$got/out" "$case_dir/out"
		if [ -s "$got/err" ]; then cp "$got/err" "$case_dir/err"; else rm -f "$case_dir/err"; fi
		if [ "$(cat "$got/status")" != 0 ]; then cp "$got/status" "$case_dir/status"; else rm -f "$case_dir/status"; fi
	fi
	local want=0
	if [ -f "$case_dir/status" ]; then want=$(cat "$case_dir/status"); fi
	diff -u "$case_dir/out" "$got/out" || return 1
	if [ -f "$case_dir/err" ]; then
		diff -u "$case_dir/err" "$got/err" || return 1
	else
		diff -u /dev/null "$got/err" || return 1
	fi
	[ "$(cat "$got/status")" = "$want" ] || { echo "exit status $(cat "$got/status"), expected $want"; return 1; }
}
