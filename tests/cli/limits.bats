#!/usr/bin/env bats
# Resource limits at the command line: hostile inputs fail fast, with one
# line on stderr, a non-zero exit and bounded memory.

load ../helpers

setup() {
	setup_tmp
	cd "$TMP"
	export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
	[ -x /usr/bin/time ] || skip "needs /usr/bin/time"
}
teardown() { teardown_tmp; }

# limited MAX_SECONDS MAX_MIB CMD...: runs CMD (stdin passes through) with a
# time limit, fails the test on timeout or on a peak RSS above MAX_MIB, and
# leaves $status, $stderr (one line expected) and $rss_kib.
limited() {
	local secs=$1 mib=$2
	shift 2
	# the bound is the product build's; AddressSanitizer's red zones and
	# quarantine take about as much again (the SAN=1 build sets this)
	[ -z "${GITSEAL_TEST_HOOKS:-}" ] || mib=$((mib * 2))
	local start=$SECONDS
	set +e
	timeout "$secs" /usr/bin/time -f %M -o "$TMP/rss" "$@" >"$TMP/out" 2>"$TMP/err"
	status=$?
	set -e
	[ "$status" -ne 124 ] || { echo "timed out after ${secs}s: $*"; return 1; }
	rss_kib=$(tail -1 "$TMP/rss")
	stderr=$(cat "$TMP/err")
	echo "exit $status, ${rss_kib} KiB, $((SECONDS - start)) s: $stderr"
	[ "$rss_kib" -le $((mib * 1024)) ] || { echo "peak RSS above $mib MiB"; return 1; }
}

# one_line_error CODE MESSAGE: exit CODE and one line on stderr ending in MESSAGE
one_line_error() {
	[ "$status" -eq "$1" ] || { echo "exit $status, expected $1"; return 1; }
	[ "$(wc -l <"$TMP/err")" -eq 1 ]
	[[ "$stderr" == "gitseal: error: "*"$2"* ]]
}

write_alias_bomb() {
	{
		echo 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
		local prev=a
		for n in b c d e f g h i; do
			echo "$n: &$n [*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev]"
			prev=$n
		done
	} >"$1"
}

@test "YAML alias bomb (billion laughs)" {
	write_alias_bomb bomb.yaml
	limited 10 400 "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" bomb.yaml
	one_line_error 2 "'bomb.yaml': YAML aliases expand to too many nodes"
	[ ! -s "$TMP/out" ]
}

@test "a 1 GiB single line on stdin stops at the size limit" {
	limited 20 320 "$GITSEAL_BIN" encrypt --filename-override x.yaml --age "$(demo_recipient)" \
		< <(head -c 1073741824 /dev/zero | tr '\0' a)
	one_line_error 2 "is larger than 268435456 bytes"
}

@test "a 1 GiB regular file fails before it is read" {
	truncate -s 1G big.yaml
	limited 5 32 "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" big.yaml
	one_line_error 2 "'big.yaml' is larger than 268435456 bytes"
}

@test "10,000 levels of nesting: YAML flow, YAML block mapping and sequence" {
	python3 -c "print('a: ' + '[' * 10000 + ']' * 10000)" >flow.yaml
	limited 10 300 "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" flow.yaml
	one_line_error 2 "YAML nested deeper than 256 levels"

	python3 -c "
import sys
for i in range(10000): sys.stdout.write(' ' * i + 'k:\n')" >block.yaml
	limited 10 400 "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" block.yaml
	one_line_error 2 "YAML nested deeper than 256 levels"

	python3 -c "
import sys
sys.stdout.write('a:\n')
for i in range(10000): sys.stdout.write(' ' * (i + 1) + '-\n')" >seq.yaml
	limited 10 400 "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" seq.yaml
	one_line_error 2 "YAML nested deeper than 256 levels"
}

@test "10,000 levels of nesting: JSON arrays and objects" {
	python3 -c "print('{\"a\":' + '[' * 10000 + ']' * 10000 + '}')" >arr.json
	limited 10 100 "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" arr.json
	one_line_error 2 "JSON nested deeper than 256 levels"
	python3 -c "print('{\"a\":' * 10000 + '1' + '}' * 10000)" >obj.json
	limited 10 100 "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" obj.json
	one_line_error 2 "JSON nested deeper than 256 levels"
}

@test "200,000 keys in one map load in linear time, and a duplicate at the end is found" {
	python3 -c "
for i in range(200000): print('k%d: v' % i)" >many.yaml
	limited 30 1024 "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" many.yaml
	[ "$status" -eq 0 ]
	cp "$TMP/out" many.enc.yaml
	limited 30 1024 "$GITSEAL_BIN" decrypt many.enc.yaml
	[ "$status" -eq 0 ]
	cmp "$TMP/out" many.yaml

	python3 -c "
import json
print(json.dumps({'k%d' % i: 'v' for i in range(200000)}))" >many.json
	limited 30 1024 "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" many.json
	[ "$status" -eq 0 ]

	echo 'k123456: again' >>many.yaml
	limited 30 1024 "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" many.yaml
	one_line_error 2 "'many.yaml': invalid YAML at line 200001: duplicate mapping key"
	python3 -c "print('{' + ','.join('\"k%d\":1' % i for i in range(200000)) + ',\"k7\":2}')" >dup.json
	limited 30 1024 "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" dup.json
	one_line_error 2 "'dup.json': invalid JSON at line 1: duplicate key"
}

# The sanitizer build has an allocator of its own: bounds are for the release build.
release_build_only() {
	[ "${GITSEAL_TEST_HOOKS:-}" != 1 ] || skip "memory bounds are measured on the release build"
}

# bound_mib FACTOR FILE: FACTOR x the size of FILE + 16 MiB, in MiB
bound_mib() {
	python3 -c "import math, os, sys; print(math.ceil($1 * os.path.getsize(sys.argv[1]) / 1048576 + 16))" "$2"
}

# Peak memory of the file pipeline, the proof of every write included
# (issue 11 item 7: 4x the input + 16 MiB). Decrypt holds it. Encrypt does
# not yet. Its peak is the YAML writer's (RSS read around each step, a
# 20 MiB value and 500 values of 20 KB): before it, the source text (1x),
# the plaintext tree (1x) and the ciphertexts (4/3x) are alive; the writer
# renders every value into its pool (4/3x, a secure buffer that grows by
# a quarter, the old one alive at each copy), then builds the output
# (4/3x) from it. The proof's reload stays under that: the plaintext, the
# output, libyaml's buffer for one huge scalar (doubled and zeroed: up to
# twice the ciphertext) and the tree's copy of it. What 4x needs: the
# writer taking a plain ENC scalar by reference (store_edits_push_text)
# instead of rendering it, plaintext values that point into the source
# (every reader of a node's text going by its length, not a NUL), and
# for the reload a keyed hash in place of a large plaintext and the value
# read back pointing into the output. These bounds guard what is reached:
# 6.29x and 6.59x measured on 2026-12-01 (7.0x and 7.3x before a large
# secure buffer grew by a quarter, src/util/secmem.c).
@test "a 100 MiB value: decrypt within 4x its input + 16 MiB, encrypt with its proof within 6.5x" {
	release_build_only
	python3 -c "import sys; sys.stdout.write('a: ' + 'x' * (100 << 20) + '\nb: 1\n')" >big.yaml
	limited 180 "$(bound_mib 6.5 big.yaml)" "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" big.yaml
	[ "$status" -eq 0 ]
	mv "$TMP/out" big.enc.yaml
	# to a file: the plaintext written is loaded back and compared
	limited 180 "$(bound_mib 4 big.enc.yaml)" "$GITSEAL_BIN" decrypt --output dec.yaml big.enc.yaml
	[ "$status" -eq 0 ]
	cmp dec.yaml big.yaml
	limited 180 "$(bound_mib 4 big.enc.yaml)" "$GITSEAL_BIN" decrypt big.enc.yaml
	[ "$status" -eq 0 ]
	cmp "$TMP/out" big.yaml
}

@test "2,500 values of 20 KB: decrypt within 4x its input + 16 MiB, encrypt with its proof within 7x" {
	release_build_only
	python3 -c "
import sys
v = 'y' * 20000
for i in range(2500): sys.stdout.write('key%d: %s%d\n' % (i, v, i))" >values.yaml
	limited 60 "$(bound_mib 7 values.yaml)" "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" values.yaml
	[ "$status" -eq 0 ]
	mv "$TMP/out" values.enc.yaml
	limited 60 "$(bound_mib 4 values.enc.yaml)" "$GITSEAL_BIN" decrypt --output dec.yaml values.enc.yaml
	[ "$status" -eq 0 ]
	cmp dec.yaml values.yaml
}

@test "a flood of one-character values stops at the node budget, in bounded memory" {
	# 256 MiB of "- a" lines would be 67 million nodes: the budget is 2^20
	python3 -c "
import sys
sys.stdout.write('k:\\n' + '- a\\n' * 1100000)" >flood.yaml
	python3 -c "import json; print(json.dumps({'k': [1] * 1100000}))" >flood.json
	python3 -c "
for i in range(1100000): print('K%d=' % i)" >flood.env
	for f in flood.yaml flood.json flood.env; do
		limited 20 400 "$GITSEAL_BIN" encrypt --age "$(demo_recipient)" "$f"
		[ "$status" -eq 2 ] # sops: the input could not be read or parsed
		one_line_error 2 "'$f': more than 1048576 keys and values in one document"
		[ ! -s "$TMP/out" ]
	done
}

@test "age: a header stanza with an endless body stops at the header limit" {
	limited 10 100 "$GITSEAL_BIN" age -d -i "$KEYS/demo-age-key.txt" < <(
		printf 'age-encryption.org/v1\n-> X25519 AAAA\n'
		yes AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA | head -c 1073741824)
	one_line_error 11 "invalid header: header too large"
}

@test "age: a 1 GiB header line and a 1 GiB armored line fail at once" {
	limited 10 64 "$GITSEAL_BIN" age -d -i "$KEYS/demo-age-key.txt" < <(
		printf 'age-encryption.org/v1\n-> X25519 '; head -c 1073741824 /dev/zero | tr '\0' A)
	one_line_error 11 "invalid header: line too long"
	limited 10 64 "$GITSEAL_BIN" age -d -i "$KEYS/demo-age-key.txt" < <(
		echo '-----BEGIN AGE ENCRYPTED FILE-----'; head -c 1073741824 /dev/zero | tr '\0' Y)
	one_line_error 10 "invalid armor: line longer than 64 columns"
}

# pkt_text TEXT: one pkt-line packet
pkt_text() {
	printf '%04x%s' $((${#1} + 4)) "$1"
}

@test "git filter-process: an oversize packet ends the session with one error" {
	git init -q repo
	cd repo
	{
		pkt_text $'git-filter-client\n'; pkt_text $'version=2\n'; printf 0000
		pkt_text $'capability=clean\n'; pkt_text $'capability=smudge\n'; printf 0000
		pkt_text $'command=clean\n'; pkt_text $'pathname=a.yaml\n'; printf 0000
		printf ffff
		head -c 65531 /dev/zero
	} >"$TMP/session"
	limited 10 64 "$GITSEAL_BIN" git filter-process <"$TMP/session"
	one_line_error 1 "pkt-line: packet of 65535 bytes exceeds 65520"
	# the handshake was answered, nothing after it
	grep -q 'capability=clean' "$TMP/out"
	! grep -q 'status=' "$TMP/out"
}

@test "krm: an alias bomb or deep nesting in the ResourceList is reported in results" {
	write_alias_bomb bomb.yaml
	{
		printf 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n'
		printf -- '- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n  data:\n'
		sed 's/^/    /' bomb.yaml
	} >rl.yaml
	limited 10 400 "$GITSEAL_BIN" krm <rl.yaml
	one_line_error 1 "YAML aliases expand to too many nodes"
	grep -q '^- message: YAML aliases expand to too many nodes$' "$TMP/out"
	grep -q '^items: \[\]$' "$TMP/out"

	python3 -c "print('apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: ' + '[' * 10000 + ']' * 10000)" >deep.yaml
	limited 10 64 "$GITSEAL_BIN" krm <deep.yaml
	one_line_error 1 "YAML nested deeper than 256 levels"
}
