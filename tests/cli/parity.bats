#!/usr/bin/env bats
# docs/sops-parity.md kept true: every row has a status (same / different:
# why / not supported: why), and every check of its last column
# (`COMMAND` → CODE) is run in a fresh copy of a fixture directory and must
# exit with CODE. The fixture is described at the top of the document.

load ../helpers

DOC="$REPO_ROOT/docs/sops-parity.md"

setup_file() {
	local fix="$BATS_FILE_TMPDIR/fixture" bin="$BATS_FILE_TMPDIR/bin"
	mkdir -p "$fix/dir" "$bin" "$BATS_FILE_TMPDIR/home"
	# a link, not a script that execs it: a process less a check (160)
	ln -s "$GITSEAL_BIN" "$bin/gitseal"
	printf 'creation_rules:\n  - age: %s\n' "$(cat "$KEYS/demo-age-recipient.txt")" >"$fix/.sops.yaml"
	printf 'a: secret\nn: 1\nlist:\n  - x\n  - z\n' >"$fix/plain.yaml"
	printf '{\n\t"a": "secret",\n\t"n": 1\n}\n' >"$fix/plain.json"
	: >"$fix/empty.yaml"
	printf 'a: [unclosed\n' >"$fix/bad.yaml"
	printf '"new"\n' >"$fix/v.json"
	(
		cd "$fix" &&
			"$FIXTURE_BIN" encrypt plain.yaml >enc.yaml &&
			"$FIXTURE_BIN" encrypt plain.json >enc.json &&
			cp enc.yaml other.yaml
	)
}

setup() {
	if grep -q '^> Draft' "$DOC"; then skip "docs/sops-parity.md is still a draft"; fi
	export HOME="$BATS_FILE_TMPDIR/home" XDG_CONFIG_HOME="$BATS_FILE_TMPDIR/home/.config"
	export PATH="$BATS_FILE_TMPDIR/bin:$PATH" KEYS
	export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
	unset SOPS_AGE_KEY SOPS_AGE_KEY_CMD SOPS_AGE_RECIPIENTS SOPS_AGE_SSH_PRIVATE_KEY_FILE SOPS_CONFIG
	unset EDITOR SOPS_EDITOR VISUAL SOPS_PGP_FP SOPS_KMS_ARN SOPS_DECRYPTION_ORDER
}

# The table rows of section $1 ("## Exit codes ..."), one a line, with
# escaped pipes (\|) turned into a character that cannot occur (\x1f).
section_rows() {
	awk -v want="$1" '
		/^## / { on = want == "" || index($0, want) == 1; next }
		on && /^\| / && !/^\| sops \|/ && !/^\| --- / { print }
	' "$DOC" | sed 's/\\|/\x1f/g'
}

# cell VAR ROW N: the Nth cell (1-based) of a table row, into VAR (not
# printed: a $(...) is a fork of the test's shell, about 10 ms of CPU, and
# the checks read 300 cells)
cell() {
	local IFS='|' cells
	read -ra cells <<<"$2"
	local c=${cells[$3]}
	c=${c#" "}
	printf -v "$1" '%s' "${c%" "}"
}

# run_checks SECTION: runs every check of the section; prints one line per
# failure (row, command, expected and actual codes). Each check has a fresh
# copy of the fixture (cp -a makes the directory; BATS_TEST_TMPDIR goes at
# the test's end). The command runs in a subshell of the test's, by eval
# with bats' options and traps undone, as `bash -c` ran it before without
# starting bash (about 10 ms of CPU a check); its own `gitseal` words call
# the helpers' function (the same binary), the shells it starts the link.
run_checks() {
	local row check cmd want got copy name bad= n=0 re='`([^`]+)` → ([0-9]+)'
	while IFS= read -r row; do
		cell check "$row" 4
		while [[ $check =~ $re ]]; do
			cmd=${BASH_REMATCH[1]//$'\x1f'/|}
			want=${BASH_REMATCH[2]}
			check=${check#*"${BASH_REMATCH[0]}"}
			copy=$BATS_TEST_TMPDIR/check.$n
			cp -a "$BATS_FILE_TMPDIR/fixture" "$copy"
			got=0
			(
				set +eETu
				trap - DEBUG ERR EXIT RETURN
				cd "$copy" || exit
				eval "$cmd"
			) </dev/null >"$copy/.out" 2>&1 || got=$?
			n=$((n + 1))
			[ "$got" = "$want" ] || {
				cell name "$row" 1
				bad+="${name:0:60}...: \`$cmd\` exited $got, not $want: $(tail -n 2 "$copy/.out" | tr '\n' ' ')"$'\n'
			}
		done
	done < <(section_rows "$1")
	[ "$n" -gt 0 ] || bad+="section '$1': no checks found"$'\n'
	[ -z "$bad" ] || { printf '%s' "$bad"; return 1; }
}

@test "parity: every row has a status, and every difference a reason" {
	local row status name bad= same=0 different=0 unsupported=0 only=0
	while IFS= read -r row; do
		cell status "$row" 3
		case $status in
		same) same=$((same + 1)) ;;
		"different: "?*) different=$((different + 1)) ;;
		"not supported: "?*) unsupported=$((unsupported + 1)) ;;
		"gitseal only"*) only=$((only + 1)) ;;
		*) cell name "$row" 1; bad+="no status or no reason: ${name:0:80} [$status]"$'\n' ;;
		esac
	done < <(section_rows "")
	[ -z "$bad" ] || { printf '%s' "$bad"; false; }
	[ $((same + different + unsupported)) -gt 90 ]
	echo "# parity rows: $same same, $different different, $unsupported not supported, $only gitseal only" >&3
}

@test "parity: commands" {
	run_checks "## Commands"
}

@test "parity: exit codes" {
	run_checks "## Exit codes"
}

@test "parity: global flags" {
	run_checks "## Global flags"
}

@test "parity: command flags" {
	run_checks "## Command flags"
}

@test "parity: environment" {
	run_checks "## Environment"
}

@test "parity: gitseal only" {
	run_checks "## gitseal only"
}
