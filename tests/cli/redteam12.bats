#!/usr/bin/env bats
# Red team 12 (docs/threat-model.md): what landed at the last stop, attacked
# from the same machine.

load ../helpers

setup() { setup_demo; }
teardown() { teardown_tmp; }

# sweeper_of DIR: the pid of the sweeper that watches DIR (its last argument)
sweeper_of() {
	local c args
	for c in /proc/[0-9]*/cmdline; do
		{ mapfile -d '' -t args <"$c"; } 2>/dev/null || continue
		[ "${#args[@]}" -gt 0 ] && [ "${args[-1]}" = "$1" ] &&
			[[ ${args[*]} == *'while read -r _; do :; done'* ]] || continue
		c=${c#/proc/}
		echo "${c%/cmdline}"
		return 0
	done
	return 1
}

# The sweeper wakes once gitseal is gone, however it ended. After an
# orderly end gitseal has removed the directory itself; its name (in a
# shared /tmp, mkdtemp's name is public) is then free for anyone to make
# again, before the sweeper looks (a busy machine). The sweeper then zeroed
# and removed what the new directory held: a link to a file of the user's
# elsewhere (by a hard link here, a symlink swapped in under find
# between its listing and shred's open for another user) was zeroed. It
# works on the directory it was started for (its inode), never on the name.
@test "the private directory's sweeper never zeroes a file outside it: a directory made again under its name after gitseal removed it is left alone" {
	printf 'db: hunter2\n' >plain.yaml
	gitseal encrypt --age "$(demo_recipient)" plain.yaml >secret.yaml
	export TMPDIR="$TMP/tmpdir" NOTE="$TMP/note"
	mkdir -p "$TMPDIR" "$NOTE" outside
	printf 'keep me\n' >outside/victim
	# the command stops the sweeper (a stand-in for a late scheduling) and
	# says which directory and sweeper it saw
	cat >"$TMP/stop.sh" <<-SH
	#!/bin/bash
	$(declare -f sweeper_of)
	d=\$(dirname "\$1")
	s=\$(sweeper_of "\$d") || exit 1
	kill -STOP "\$s"
	echo "\$d" >"$NOTE/dir"
	echo "\$s" >"$NOTE/sweeper"
	SH
	chmod +x "$TMP/stop.sh"
	run -0 gitseal exec-file --no-fifo secret.yaml "$TMP/stop.sh {}"
	d=$(cat "$NOTE/dir") s=$(cat "$NOTE/sweeper")
	[ ! -e "$d" ]
	# the name made again, with a link to the user's file in it
	mkdir "$d"
	ln outside/victim "$d/f"
	kill -CONT "$s"
	for _ in $(seq 50); do kill -0 "$s" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$s" 2>/dev/null || false
	[ "$(cat outside/victim)" = "keep me" ]
	[ -e "$d/f" ]
}
