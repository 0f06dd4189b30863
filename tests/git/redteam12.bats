#!/usr/bin/env bats
# Red team 12 on the git side: the key cache, the workflows.

bats_require_minimum_version 1.5.0
load helpers

setup() { gs_setup; }
teardown() { gs_teardown; }

pkt() { printf '%04x%s' $(( $(printf '%s' "$1" | wc -c) + 4 )) "$1"; }
pkt_text() { pkt "$1"$'\n'; }
pkt_file() { printf '%04x' $(( $(wc -c < "$1") + 4 )); cat "$1"; }

# The user's key cache directory was checked (the user's, mode 0700) when
# the filter started, and opened by its name for every read and write
# after: whoever can change the directory above it (an XDG_CACHE_HOME in a
# shared place; the user's own under `sudo -E`, where root's filter runs)
# swapped it for a symbolic link, and the filter's write at its end
# truncated and wrote a file named key-cache wherever the link pointed.
# The filter now keeps the directory it checked open, and reads and writes
# in it only.
@test "key cache: the user's directory swapped for a link while the filter runs: nothing is written through the link" {
	export XDG_CACHE_HOME="$T/xdg"
	printf 'password: hunter2\n' > secrets/a.yaml
	git add secrets/a.yaml && git commit -qm a
	git cat-file -p HEAD:secrets/a.yaml > "$T/enc"
	rm -rf .git/gitseal/key-cache "$XDG_CACHE_HOME/gitseal"
	mkdir -m 0700 "$T/elsewhere"
	printf 'precious\n' > "$T/elsewhere/key-cache"
	mkfifo "$T/in"
	"$GITSEAL_BIN" git filter-process < "$T/in" > "$T/out" &
	pid=$!
	exec 5> "$T/in"
	{ pkt_text git-filter-client; pkt_text version=2; printf 0000
	  pkt_text capability=clean; pkt_text capability=smudge; printf 0000; } >&5
	# started: the cache's directory is made and checked
	for _ in $(seq 100); do [ -s "$T/out" ] && break; sleep 0.05; done
	[ -d "$XDG_CACHE_HOME/gitseal" ]
	mv "$XDG_CACHE_HOME/gitseal" "$XDG_CACHE_HOME/moved"
	ln -s "$T/elsewhere" "$XDG_CACHE_HOME/gitseal"
	{ pkt_text command=smudge; pkt_text pathname=secrets/a.yaml; printf 0000
	  pkt_file "$T/enc"; printf 0000; } >&5
	exec 5>&-
	wait "$pid"
	grep -q hunter2 "$T/out"
	[ "$(cat "$T/elsewhere/key-cache")" = precious ]
	# the records went where the filter checked
	[ -s "$XDG_CACHE_HOME/moved/key-cache" ]
}
