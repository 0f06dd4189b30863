#!/usr/bin/env bats
# The filter's cache of opened data keys (.git/gitseal/key-cache, and the
# user's ~/.cache/gitseal/key-cache shared by the user's clones;
# src/git/keycache.c): a checkout takes a file's data key from it instead
# of opening its age stanza again; a record serves only the identity it was
# sealed to and the very age file it came from.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

RECORD=121 # bytes per record: index 32, length 1, nonce 24, sealed 48 + 16

add_two() {
	printf 'user: svc1\npassword: p4ss-one\n' > secrets/a.yaml
	printf 'user: svc2\npassword: p4ss-two\n' > secrets/b.yaml
	git add -A && git commit -qm two
}

@test "key cache: git add records the keys it makes, sealed, mode 0600; a checkout takes them from it" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1 gitsuite)"
	export GITSEAL_TEST_KEYCACHE_LOG="$T/log"
	add_two
	[ "$(stat -c %a .git/gitseal/key-cache)" = 600 ]
	[ "$(stat -c %s .git/gitseal/key-cache)" -eq $((2 * RECORD)) ]
	[ "$(grep -c store "$T/log")" -eq 2 ]
	run grep -c 'p4ss\|svc' .git/gitseal/key-cache
	[ "$output" = 0 ]
	rm -f "$T/log" secrets/a.yaml secrets/b.yaml
	git checkout -- secrets
	[ "$(cat secrets/a.yaml)" = "$(printf 'user: svc1\npassword: p4ss-one')" ]
	[ "$(cat secrets/b.yaml)" = "$(printf 'user: svc2\npassword: p4ss-two')" ]
	[ "$(sort "$T/log" | uniq -c | awk '{ print $2 $1 }' | tr '\n' ' ')" = "hit2 " ]
	assert_status_clean
	# without it, each file is opened with the identity and recorded
	# (a file written in the index's second is racily clean, and git may
	# clean it again in a second filter process before the first wrote its
	# record: that one misses and stores the same key again, a duplicate
	# record that costs 121 bytes and nothing else)
	# the user's cache still has it: a hit, and the clone's file has it again
	# (twice when git's racy-clean second process copied it too, below)
	rm -f .git/gitseal/key-cache "$T/log" secrets/a.yaml
	git checkout -- secrets/a.yaml
	[ "$(sort -u "$T/log" | tr '\n' ' ')" = "hit " ]
	size=$(stat -c %s .git/gitseal/key-cache)
	[ "$size" -eq "$RECORD" ] || [ "$size" -eq $((2 * RECORD)) ]
	rm -f .git/gitseal/key-cache "$HOME/.cache/gitseal/key-cache" "$T/log" secrets/a.yaml
	git checkout -- secrets/a.yaml
	[ "$(sort -u "$T/log" | grep -v '^hit$' | tr '\n' ' ')" = "miss store " ]
	size=$(stat -c %s .git/gitseal/key-cache)
	[ "$size" -eq "$RECORD" ] || [ "$size" -eq $((2 * RECORD)) ]
	[ "$(cat secrets/a.yaml)" = "$(printf 'user: svc1\npassword: p4ss-one')" ]
}

@test "key cache: another identity finds nothing in it" {
	add_two
	# the cache holds both keys; an identity the files are not for
	age-keygen -o "$T/other.txt" 2>/dev/null
	rm secrets/a.yaml
	run env SOPS_AGE_KEY_FILE="$T/other.txt" git checkout -- secrets/a.yaml
	[ "$status" -eq 0 ]
	grep -qF "'secrets/a.yaml' is checked out encrypted (other files may be too): none of your identities opens it" <<<"$output"
	grep -q '^sops:' secrets/a.yaml
	run grep -c 'p4ss-one' secrets/a.yaml
	[ "$output" = 0 ]
}

@test "key cache: damaged or moved records cost a miss, never a wrong key" {
	# the clone's file alone (the user's would serve what it does not)
	export XDG_CACHE_HOME="$T/no-cache"
	mkdir -m 0755 "$XDG_CACHE_HOME"
	mkdir -m 0777 "$XDG_CACHE_HOME/gitseal"
	add_two
	[ ! -e "$XDG_CACHE_HOME/gitseal/key-cache" ]
	cp .git/gitseal/key-cache "$T/cache"
	# a sealed payload moved under the other file's index
	{ head -c 33 "$T/cache"; tail -c +$((RECORD + 34)) "$T/cache" | head -c $((RECORD - 33))
	  head -c 33 <(tail -c +$((RECORD + 1)) "$T/cache"); tail -c +34 "$T/cache" | head -c $((RECORD - 33)); } \
		> .git/gitseal/key-cache
	[ "$(stat -c %s .git/gitseal/key-cache)" -eq $((2 * RECORD)) ]
	rm secrets/a.yaml secrets/b.yaml
	git checkout -- secrets
	[ "$(cat secrets/a.yaml)" = "$(printf 'user: svc1\npassword: p4ss-one')" ]
	[ "$(cat secrets/b.yaml)" = "$(printf 'user: svc2\npassword: p4ss-two')" ]
	# every sealed byte flipped
	python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read())
for r in range(0, len(b), 121):
    for i in range(r + 57, r + 121):
        b[i] ^= 0x5a
open(sys.argv[2], "wb").write(b)' "$T/cache" .git/gitseal/key-cache
	rm secrets/a.yaml secrets/b.yaml
	git checkout -- secrets
	[ "$(cat secrets/a.yaml)" = "$(printf 'user: svc1\npassword: p4ss-one')" ]
	[ "$(cat secrets/b.yaml)" = "$(printf 'user: svc2\npassword: p4ss-two')" ]
	assert_status_clean
	# a torn record (a full disk): the next record written starts the file again
	cp "$T/cache" .git/gitseal/key-cache
	printf 'torn!' >> .git/gitseal/key-cache
	rm secrets/a.yaml
	git checkout -- secrets
	[ "$(cat secrets/a.yaml)" = "$(printf 'user: svc1\npassword: p4ss-one')" ]
	printf 'user: svc3\n' > secrets/c.yaml
	git add secrets/c.yaml
	[ "$(stat -c %s .git/gitseal/key-cache)" -eq "$RECORD" ]
}

@test "key cache: past its limit it starts again; GITSEAL_KEY_CACHE=0 leaves it alone" {
	mkdir -p .git/gitseal
	truncate -s 16M .git/gitseal/key-cache
	add_two
	[ "$(stat -c %s .git/gitseal/key-cache)" -eq $((2 * RECORD)) ]
	rm .git/gitseal/key-cache secrets/a.yaml
	rm "$HOME/.cache/gitseal/key-cache"
	GITSEAL_KEY_CACHE=0 git checkout -- secrets
	[ ! -e .git/gitseal/key-cache ]
	[ ! -e "$HOME/.cache/gitseal/key-cache" ]
	[ "$(cat secrets/a.yaml)" = "$(printf 'user: svc1\npassword: p4ss-one')" ]
}

@test "key cache: the user's file serves the user's other clones; a directory others can enter is not used" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1 gitsuite)"
	export GITSEAL_TEST_KEYCACHE_LOG="$T/log"
	add_two
	[ "$(stat -c %a "$HOME/.cache/gitseal")" = 700 ]
	[ "$(stat -c %a "$HOME/.cache/gitseal/key-cache")" = 600 ]
	[ "$(stat -c %s "$HOME/.cache/gitseal/key-cache")" -eq $((2 * RECORD)) ]
	run grep -c 'p4ss\|svc' "$HOME/.cache/gitseal/key-cache"
	[ "$output" = 0 ]
	# a fresh clone's first checkout: every key from the user's file, none
	# opened with the identity, and copied into the clone's own
	git clone -q --no-checkout "$REPO" "$T/clone"
	cd "$T/clone"
	"$GITSEAL_BIN" git init --no-hook 2>/dev/null
	rm -f "$T/log"
	git checkout -q main
	# (git's racy-clean second process may look them up, and copy them, again)
	[ "$(sort -u "$T/log" | tr '\n' ' ')" = "hit " ]
	[ "$(grep -c '^hit$' "$T/log")" -ge 2 ]
	size=$(stat -c %s .git/gitseal/key-cache)
	[ "$size" -eq $((2 * RECORD)) ] || [ "$size" -eq $((3 * RECORD)) ] || [ "$size" -eq $((4 * RECORD)) ]
	[ "$(cat secrets/a.yaml)" = "$(printf 'user: svc1\npassword: p4ss-one')" ]
	[ "$(cat secrets/b.yaml)" = "$(printf 'user: svc2\npassword: p4ss-two')" ]
	# a directory that others can enter or change is not used: each key
	# is opened with the identity, and nothing is written there
	chmod 0755 "$HOME/.cache/gitseal"
	cd "$T"
	git clone -q --no-checkout "$REPO" "$T/clone2"
	cd "$T/clone2"
	"$GITSEAL_BIN" git init --no-hook 2>/dev/null
	rm -f "$T/log"
	git checkout -q main
	[ "$(sort -u "$T/log" | grep -v '^hit$' | tr '\n' ' ')" = "miss store " ]
	[ "$(grep -c '^miss$' "$T/log")" -ge 2 ]
	[ "$(stat -c %s "$HOME/.cache/gitseal/key-cache")" -eq $((2 * RECORD)) ]
	[ "$(cat secrets/a.yaml)" = "$(printf 'user: svc1\npassword: p4ss-one')" ]
}

# filter.c, serve_smudge_at_once: a smudge whose key the cache holds is
# answered at once in a checkout of a tree-ish (one request a file, not a
# delayed one and its fetch); once a key was not there (an X25519 a file),
# the files are delayed and opened on the filter's workers
@test "key cache: a clone's first checkout gets cheap files at once, and delays them once a key is missing" {
	add_two
	printf 'user: svc3\npassword: p4ss-three\n' > secrets/c.yaml
	git add -A
	git commit -qm three
	git clone -q --no-checkout "$REPO" "$T/clone"
	cd "$T/clone"
	"$GITSEAL_BIN" git init --no-hook 2>/dev/null
	GIT_TRACE_PACKET="$T/trace" git checkout -q main
	grep -q 'git< capability=delay' "$T/trace"
	run ! grep -q 'git< status=delayed' "$T/trace"
	[ "$(cat secrets/c.yaml)" = "$(printf 'user: svc3\npassword: p4ss-three')" ]
	# a user whose cache holds none of them: the first is opened at once,
	# the others delayed
	cd "$T"
	git clone -q --no-checkout "$REPO" "$T/clone2"
	cd "$T/clone2"
	"$GITSEAL_BIN" git init --no-hook 2>/dev/null
	XDG_CACHE_HOME="$T/empty-cache" GIT_TRACE_PACKET="$T/trace2" git checkout -q main
	[ "$(grep -c 'git< status=delayed' "$T/trace2")" -eq 2 ]
	[ "$(cat secrets/a.yaml)" = "$(printf 'user: svc1\npassword: p4ss-one')" ]
	[ "$(cat secrets/c.yaml)" = "$(printf 'user: svc3\npassword: p4ss-three')" ]
	assert_status_clean
}

# a checkout from the index (no tree-ish) delays its files unless the
# machine has a CPU to spare (GITSEAL_TEST_SPARE_CPU stands for its load)
@test "key cache: a checkout of paths from the index gets cheap files at once only with a CPU to spare" {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make SAN=1 gitsuite)"
	add_two
	rm secrets/a.yaml secrets/b.yaml
	GITSEAL_TEST_SPARE_CPU=0 GIT_TRACE_PACKET="$T/trace" git checkout -- secrets
	[ "$(grep -c 'git< status=delayed' "$T/trace")" -eq 2 ]
	rm secrets/a.yaml secrets/b.yaml
	GITSEAL_TEST_SPARE_CPU=1 GIT_TRACE_PACKET="$T/trace2" git checkout -- secrets
	run ! grep -q 'git< status=delayed' "$T/trace2"
	[ "$(cat secrets/b.yaml)" = "$(printf 'user: svc2\npassword: p4ss-two')" ]
	assert_status_clean
}
