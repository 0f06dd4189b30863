# Shared setup of the git suite: a private HOME, an age key, a repo with a
# .sops.yaml rule for secrets/*.yaml and the filter installed. The first
# test of a file builds them (gitseal git init included); the others start
# from a copy of what it built, the same but for the directory (one cp
# instead of eight processes, a third of a test's setup CPU; the key is the
# file's).

source "${BASH_SOURCE[0]%/*}/../python.bash"

# The environment of a test: $T its directory, HOME and the key in it,
# $REPO (not made yet).
gs_env() {
	: "${GITSEAL_BIN:?GITSEAL_BIN must point at the gitseal binary}"
	# bats' DEBUG trap on the test's own commands only, not on every step
	# of the helpers it calls (trace_test_only in tests/helpers.bash)
	set +T
	[ -z "${BATS_TEST_NAME:-}" ] || declare -ft "$BATS_TEST_NAME"
	# git runs the filter as `gitseal` from PATH (the link's target's
	# directory where GITSEAL_BIN is a link; without a process where not:
	# each test starts here, and a command is a fork of its shell)
	if [[ $GITSEAL_BIN == /* && ! -L $GITSEAL_BIN ]]; then
		PATH="${GITSEAL_BIN%/*}:$PATH"
	else
		PATH="$(dirname "$(readlink -f "$GITSEAL_BIN")"):$PATH"
	fi
	gs_private_dir
	export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config"
	export GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
	# git starts `git maintenance run --auto` after each commit, merge,
	# pull and rebase (a process, 12 ms of CPU) that finds nothing to do
	# in a test's repositories: off for every git the test runs
	export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=maintenance.auto GIT_CONFIG_VALUE_0=false
	unset SOPS_AGE_KEY SOPS_AGE_KEY_CMD SOPS_AGE_SSH_PRIVATE_KEY_FILE GIT_DIR GIT_WORK_TREE
	export SOPS_AGE_KEY_FILE="$T/key.txt"
	REPO="$T/repo"
}

# T: a new private (0700) directory, named as mktemp -d would, made without
# a process.
gs_private_dir() {
	local try
	for try in 1 2 3 4; do
		T=${TMPDIR:-/tmp}/tmp.gs$BASHPID$RANDOM$RANDOM
		mkdir -m 700 "$T" 2>/dev/null && return
	done
	echo "gs_env: cannot make a directory in ${TMPDIR:-/tmp}" >&2
	return 1
}

gs_setup() {
	gs_env
	local made="$BATS_FILE_TMPDIR/gs_setup"
	if [ -d "$made" ]; then
		cp -a "$made/." "$T/"
		read -r RECIPIENT < "$BATS_FILE_TMPDIR/gs_recipient"
		cd "$REPO"
		return
	fi
	mkdir -p "$HOME"
	git config --global user.name "gitseal test"
	git config --global user.email "test@example.invalid"
	git config --global init.defaultBranch main
	git config --global advice.detachedHead false
	age-keygen -o "$T/key.txt" 2>/dev/null
	RECIPIENT=$(age-keygen -y "$T/key.txt")
	git init -q "$REPO"
	cd "$REPO"
	cat > .sops.yaml <<YAML
creation_rules:
  - path_regex: secrets/.*\.yaml$
    age: $RECIPIENT
YAML
	fixture gitseal git init 'secrets/**'
	mkdir -p secrets
	printf '%s\n' "$RECIPIENT" > "$BATS_FILE_TMPDIR/gs_recipient"
	cp -a "$T" "$made.tmp"
	mv "$made.tmp" "$made"
}

# gs_setup_from FUNC: gs_setup, then FUNC run in $REPO (the commits,
# branches and clones a file's tests start from). As with gs_setup, the
# first test of a file runs them and the others copy what they made: under
# ASan each gitseal process costs 0.06 s before it does anything, and a
# commit starts two. What names the first test's directory (a clone's
# remote, its reflog) is made to name this one's, and the index of each
# repository is refreshed: it holds the stat data of the files copied, and
# git would clean them again later, in the middle of what a test checks
# (the release build cleans them, as for any fixture).
# FUNC leaves nothing outside $T and sets no variable: the caller sets
# those after. It runs under fixture, as gs_setup's `gitseal git init`
# does: the state a file's tests start from is set-up, made by the release
# build where make gave one (a gitseal on PATH; "$GITSEAL_BIN" is still the
# build under test). The test starts in $REPO.
gs_setup_from() {
	local made="$BATS_FILE_TMPDIR/gs_from_$1" old files gits g
	if [ -d "$made" ]; then
		gs_env
		cp -a "$made/." "$T/"
		{ read -r RECIPIENT; read -r old; read -r files; read -r gits; } < "$made.vars"
		[ -z "$files" ] || (cd "$T" && sed -i "s|${old//./\\.}/|$T/|g" $files)
		for g in $gits; do fixture git -C "$T/$g" update-index -q --refresh; done
		cd "$REPO"
		return
	fi
	gs_setup
	fixture "$1"
	cd "$REPO"
	files=$(cd "$T" && grep -rlF "$T/" . | tr '\n' ' ')
	gits=$(cd "$T" && find . -path '*/.git/index' | sed 's|/\.git/index$||' | tr '\n' ' ')
	printf '%s\n' "$RECIPIENT" "$T" "$files" "$gits" > "$made.vars"
	cp -a "$T" "$made.tmp"
	mv "$made.tmp" "$made"
}

# teammate_filter_line: a rule for secrets/ and config/ (rev in clear),
# accepted, and config/** put under the filter by a teammate's line without
# init's text eol=lf, committed (gs_setup_from teammate_filter_line)
teammate_filter_line() {
	cat > .sops.yaml <<YAML
creation_rules:
  - path_regex: ^(secrets|config)/
    unencrypted_regex: ^rev$
    age: $RECIPIENT
YAML
	"$GITSEAL_BIN" updatekeys -r -y . 2>/dev/null
	printf 'config/** filter=gitseal diff=gitseal merge=gitseal\n' >> .gitattributes
	mkdir -p config
	git add .sops.yaml .gitattributes
	git commit -qm rules
}

# app_committed: secrets/app.yaml (db_password: hunter2) committed as
# base, and $T/elsewhere, a directory outside the repository for links to
# point at (gs_setup_from app_committed)
app_committed() {
	printf 'db_password: hunter2\n' > secrets/app.yaml
	git add -A
	git commit -qm base
	mkdir -p "$T/elsewhere"
}

# committed_secret: secrets/a.yaml committed, its sealed blob in $T/sealed
committed_secret() {
	printf 'db: hunter2\n' > secrets/a.yaml
	git add secrets/a.yaml
	fixture git commit -qm a
	git cat-file blob HEAD:secrets/a.yaml > "$T/sealed"
}

# tina_branch: secrets/app.yaml committed on main, and branch `tina`,
# fetched from a teammate's clone (the team key and her own): her
# recipient added to .sops.yaml and given secrets/app.yaml (its data key
# rotated) and a new secrets/tina.yaml. This clone accepted none of it
# (gs_setup_from tina_branch; workflows28.bats, workflows29.bats).
tina_branch() {
	app_committed
	gs_person tina
	cat "$T/key.txt" "$T/tina.txt" >"$T/team-and-tina.txt"
	(cd "$T/tina" && export SOPS_AGE_KEY_FILE="$T/team-and-tina.txt" && gitseal git init 2>/dev/null &&
	 git checkout -qb tina && sed -i "s|age: .*|&,$(recipient_of tina)|" .sops.yaml &&
	 gitseal updatekeys -y -r --rotate . 2>/dev/null && printf 't: tina-value\n' >secrets/tina.yaml &&
	 git add -A && git commit -qm "tina reads secrets")
	git fetch -q "$T/tina" tina:tina
}

# touch_newer FILE...: FILE's mtime set two seconds ahead, so that it
# differs from what the index recorded and git must read (and clean) it
# again, as `sleep 1; touch` did without the wait.
touch_newer() {
	touch -d "@$(($(date +%s) + 2))" "$@"
}

# backdate FILE...: FILE's mtime set in the past, to a second no earlier
# call of the test gave (the clock's second less a day, plus a count that
# only grows). A file written in the second its index entry is written is
# racily clean to git, which cleans it again (a filter process) at each
# later command that reads the index; backdated, it is not, and a change of
# the same size is still seen: its mtime differs from the one recorded.
# Only for files a test writes itself, before it stages them.
GS_BACKDATE_COUNT=0
backdate() {
	GS_BACKDATE_COUNT=$((GS_BACKDATE_COUNT + 1))
	touch -d "@$((EPOCHSECONDS - 86400 + GS_BACKDATE_COUNT))" "$@"
}

# next_second: returns once the clock's second has changed (a timestamp
# taken before, such as sops' lastmodified, differs from one taken after).
next_second() {
	local s
	s=$(date +%s)
	while [ "$(date +%s)" = "$s" ]; do sleep 0.05; done
}

# fixture CMD...: CMD with the release build as git's filter, hook and
# merge driver where make gave one (GITSEAL_CHECK_BIN, set under SAN=1),
# for the steps that only prepare what a test checks (the commits and
# checkouts a merge starts from): a sanitized gitseal process costs about
# 0.1 s of CPU before it does anything, and a commit starts two. The
# command under test still runs the build under test (plain `git ...`).
# A `fixture git commit` skips the pre-commit hook (--no-verify: a shell
# and a gitseal process, 30 ms of CPU a commit on this VM), and so do
# `fixture git merge` and `fixture git push` the pre-merge-commit and
# pre-push hooks: what a fixture commits is the filter's output, which the
# hooks only read; the hooks are tested where a test commits itself.
fixture() {
	local sub=${2:-}
	case "$1 $sub ${3:-}" in
	"git merge --abort" | "git merge --quit" | "git merge --continue") ;;
	"git commit "* | "git merge "* | "git push "*)
		shift 2
		set -- git "$sub" --no-verify "$@"
		;;
	esac
	if [ -n "${GITSEAL_CHECK_BIN:-}" ] && [ "${GITSEAL_CHECK_BIN##*/}" = gitseal ]; then
		PATH="${GITSEAL_CHECK_BIN%/*}:$PATH" "$@"
	else
		"$@"
	fi
}

gs_teardown() {
	cd /
	[ -z "${T:-}" ] || rm -rf "$T"
}

# Fails unless the committed blob of $1 at revision $2 is sops ciphertext.
assert_blob_encrypted() {
	local blob
	blob=$(git cat-file -p "${2:-HEAD}:$1")
	assert_text_sealed "$1" "$blob"
}

# assert_text_sealed NAME TEXT: TEXT (the blob of NAME) holds a value
# sealed by sops and a line starting 'sops:'; matched in bash, not by two
# greps (a fork of the test's shell each, ~10 ms of CPU).
assert_text_sealed() {
	[[ $2 == *'ENC[AES256_GCM'* ]] || { echo "blob of $1 is not encrypted:"; echo "$2"; return 1; }
	[[ $2 == sops:* || $2 == *$'\n'sops:* ]] || { echo "blob of $1 has no sops metadata"; return 1; }
}

# git_blobs SPEC...: GS_BLOBS, the bytes of each object SPEC names
# (REV:PATH, :PATH), read with one git cat-file --batch instead of one a
# blob (the blobs read hold no NUL byte).
git_blobs() {
	local LC_ALL=C spec specs= oid type size blob nl
	GS_BLOBS=()
	for spec in "$@"; do specs+=$spec$'\n'; done
	git cat-file --batch <<<"${specs%$'\n'}" >"$T/blobs.batch"
	{
		for spec in "$@"; do
			read -r oid type size
			[ "$type" = blob ] || { echo "no blob $spec: $oid $type"; return 1; }
			blob=
			[ "$size" -eq 0 ] || IFS= read -r -d '' -N "$size" blob
			IFS= read -r -d '' -N 1 nl
			[ "${#blob}" -eq "$size" ]
			[ "$nl" = $'\n' ]
			GS_BLOBS+=("$blob")
		done
	} <"$T/blobs.batch"
}

# assert_blobs_encrypted REV FILE...: assert_blob_encrypted for each FILE
# at REV, from one git cat-file.
assert_blobs_encrypted() {
	local rev=$1 i
	shift
	git_blobs "${@/#/$rev:}"
	for ((i = 1; i <= $#; i++)); do
		assert_text_sealed "${!i}" "${GS_BLOBS[i - 1]}"
	done
}

assert_status_clean() {
	local st
	st=$(git status --porcelain)
	[ -z "$st" ] || { echo "git status not clean:"; echo "$st"; return 1; }
}

# Another person with their own age key and a clone of $REPO in $T/NAME.
# Their clone has no gitseal filter: they commit bytes as they are, as
# anyone preparing a pull request can. `as_person NAME CMD...` runs as them.
gs_person() {
	local name=$1
	mkdir -p "$T/$name-home"
	age-keygen -o "$T/$name.txt" 2>/dev/null
	age-keygen -y "$T/$name.txt" >"$T/$name.recipient"
	git clone -q "$REPO" "$T/$name"
	git -C "$T/$name" config user.name "$name"
	git -C "$T/$name" config user.email "$name@example.invalid"
}

as_person() {
	local name=$1
	shift
	(cd "$T/$name" && HOME="$T/$name-home" SOPS_AGE_KEY_FILE="$T/$name.txt" "$@")
}

# a person's recipient (as gs_person wrote it, read without a process)
recipient_of() {
	local r
	if [ -f "$T/$1.recipient" ]; then
		read -r r <"$T/$1.recipient"
		printf '%s\n' "$r"
	else
		age-keygen -y "$T/$1.txt"
	fi
}

# The victim's repository with secrets/app.yaml committed, and mallory, a
# person of her own ($M: her recipient), as the red-team tests start.
gs_setup_with_mallory() {
	gs_setup_from mallory_base
	read -r M <"$T/mallory.recipient"
}
mallory_base() {
	printf 'db_password: hunter2-old\nport: 5432\n' > secrets/app.yaml
	git add -A
	git commit -qm base
	gs_person mallory
}

pull_from() { git pull -q --no-rebase --no-edit "$T/$1" main; }

# mallory commits a secrets/.sops.yaml whose rule leaves `token` in clear;
# pulled, the test is in secrets/ with new.yaml (a token) to seal, its
# bytes kept in $T/new.before.
token_rule_pulled() {
	printf 'creation_rules:\n  - unencrypted_regex: ^token$\n    age: %s\n' "$RECIPIENT" > "$T/mallory/secrets/.sops.yaml"
	as_person mallory git add secrets/.sops.yaml
	as_person mallory git commit -qm "rules for secrets/"
	pull_from mallory
	printf 'token: t0ken-value\n' > secrets/new.yaml
	cp secrets/new.yaml "$T/new.before"
	cd secrets
}

# The team layout where acceptance must be per path: mallory reads dev
# secrets (an accepted recipient there), never prod ones. The rules' path
# regexes $1 (prod) and $2 (the rest), committed with a file in each (by
# the release build under fixture: the state the tests start from; what
# they do next runs the build under test).
dev_prod_layout() {
	cat > .sops.yaml <<YAML
creation_rules:
  - path_regex: ${1:-^secrets/prod/}
    age: $RECIPIENT
  - path_regex: ${2:-^secrets/}
    age: $RECIPIENT,$M
YAML
	mkdir -p secrets/prod secrets/dev
	printf 'prod_password: PROD-ORIG\n' > secrets/prod/db.yaml
	printf 'dev_password: dev-orig\n' > secrets/dev/db.yaml
	fixture gitseal updatekeys -y -r . </dev/null 2>/dev/null
	fixture git add -A
	fixture git commit -qm "prod and dev"
	as_person mallory git pull -q --no-rebase --no-edit
}

# The sops block of a YAML file on stdin without the age stanza of
# recipient $1 (written to $2).
drop_stanza() {
	awk -v r="$1" -v cut="$2" '
		/^        - enc: \|$/ { buf = $0 "\n"; in_stanza = 1; next }
		in_stanza {
			buf = buf $0 "\n"
			if ($0 ~ /^          recipient: /) {
				in_stanza = 0
				if ($2 == r) printf "%s", buf > cut; else printf "%s", buf
			}
			next
		}
		{ print }'
}

# A YAML sops file on stdin with the stanza in file $1 put back.
graft_stanza() { sed "/^    age:\$/r $1"; }

# The plaintext of a sealed YAML blob on stdin, read back by the release
# build where make gave one (GITSEAL_CHECK_BIN, set under SAN=1): what the
# tests check with it is what the build under test committed or merged;
# textconv itself is tested in filter.bats and merge.bats. The blob is
# read by bash (it holds no NUL byte), not by mktemp and cat.
gitseal_textconv() {
	local blob
	IFS= read -r -d '' blob || :
	printf '%s' "$blob" >"$T/textconv.yaml"
	"${GITSEAL_CHECK_BIN:-$GITSEAL_BIN}" git textconv "$T/textconv.yaml"
	rm -f "$T/textconv.yaml"
}

# stage_value_with_committed_mac FILE KEY TEXT: FILE set to TEXT, and staged
# as `git add -p` of only KEY's hunk leaves it: HEAD's blob (its MAC too)
# with KEY's line newly sealed. The hook must refuse it.
stage_value_with_committed_mac() {
	local f=$1 key=$2 line
	git show "HEAD:$f" > "$T/head.blob"
	printf "$3" > "$f"
	git add "$f"
	line=$(git show ":$f" | grep "^$key: ")
	sed "s/^$key: .*/$(sed 's/[\/&]/\\&/g' <<<"$line")/" "$T/head.blob" > "$T/partial.blob"
	git update-index --cacheinfo "100644,$(git hash-object -w --no-filters "$T/partial.blob"),$f"
}

# git's long-running filter protocol spoken by hand, for tests that time
# their requests against changes made between them: pkt-lines, and one
# `gitseal git filter-process` started on the fifo $T/in (its answers in
# $T/out, its pid in $filter_pid), the handshake sent on fd 5. The test
# closes fd 5 and waits for $filter_pid.
pkt() { printf '%04x%s' $(( $(printf '%s' "$1" | wc -c) + 4 )) "$1"; }
pkt_text() { pkt "$1"$'\n'; }
pkt_file() { printf '%04x' $(( $(wc -c < "$1") + 4 )); cat "$1"; }
start_filter_process() {
	mkfifo "$T/in"
	"$GITSEAL_BIN" git filter-process < "$T/in" > "$T/out" &
	filter_pid=$!
	exec 5> "$T/in"
	{ pkt_text git-filter-client; pkt_text version=2; printf 0000
	  pkt_text capability=clean; pkt_text capability=smudge; printf 0000; } >&5
}
