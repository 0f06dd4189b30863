#!/usr/bin/env bats
# Verified writes: every command that writes loads its output back with
# the same store and compares it with what it meant to write (for an
# encrypted output: decrypted with the data key in hand) before anything
# is written. The test build (make SAN=1) can damage an output before it
# is checked: GITSEAL_TEST_CORRUPT=first damages the first output of a
# write (the file's own layout), so the fresh layout must be written and
# said; =all damages every output, so nothing may be written (exit 4, one
# line naming the file and the key path). GITSEAL_TEST_CORRUPT_ONLY=sealed
# or plain limits the damage to encrypted or plaintext outputs.
# Decrypting to standard output is proven the same way: nothing is printed
# before the proof.
# Symbolic links and output targets (FIFO, /dev/stdout, devices) need no
# test build.

load ../helpers

setup() {
	setup_demo
	printf 'db:\n    user: admin\n    password: hunter2\nname: app\n' >plain.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
	cp enc.yaml enc.orig
	cp plain.yaml plain.orig
	R2=$(sed -n 's/^# public key: //p' "$KEYS/test-age-key-2.txt")
}
teardown() { teardown_tmp; }

needs_hooks() {
	[ "${GITSEAL_TEST_HOOKS:-}" = 1 ] || skip "needs the test build (make asan)"
}

# The value the damage hits first: the first encrypted value (db.user)
# or the last plaintext letter (name).
SEALED_WHY="it does not decrypt (value at 'db:user:'"
PLAIN_WHY='doc 0: ["name"] differs'

# refused FILE WHY: exit 4 and one error line naming FILE and WHY (the
# last line of stderr: updatekeys shows the key changes first).
refused() {
	local last
	[ "$status" -eq 4 ]
	[ "$(printf '%s\n' "$stderr" | grep -c '^gitseal: error: ')" -eq 1 ]
	last=$(printf '%s\n' "$stderr" | tail -n 1)
	[[ "$last" == "gitseal: error: '$1': "*"would not give back the data given, in the file's layout nor in the fresh one: $2"*"; nothing written" ]]
}

# fell_back FILE WHY: exit 0 and the warning about the fresh layout.
fell_back() {
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"gitseal: warning: '$1': written in the fresh layout: the file's own would not give back the same data ($2"* ]]
}

all() { run --separate-stderr env GITSEAL_TEST_CORRUPT=all "$@"; }
first() { run --separate-stderr env GITSEAL_TEST_CORRUPT=first "$@"; }

@test "encrypt to stdout, -i and --output: damaged outputs write nothing (exit 4)" {
	needs_hooks
	all "$GITSEAL_BIN" encrypt --age "$DEMO_RECIPIENT" plain.yaml
	refused plain.yaml "$SEALED_WHY"
	[ -z "$output" ]
	all "$GITSEAL_BIN" encrypt --age "$DEMO_RECIPIENT" -i plain.yaml
	refused plain.yaml "$SEALED_WHY"
	cmp plain.yaml plain.orig
	all "$GITSEAL_BIN" encrypt --age "$DEMO_RECIPIENT" --output out.yaml plain.yaml
	refused plain.yaml "$SEALED_WHY"
	[ ! -e out.yaml ]
	[ -z "$(ls -A | grep gitseal-tmp || true)" ]
}

@test "encrypt: a damaged first layout falls back to the fresh one, which decrypts back" {
	needs_hooks
	first "$GITSEAL_BIN" encrypt --age "$DEMO_RECIPIENT" -i plain.yaml
	fell_back plain.yaml "$SEALED_WHY"
	grep -q '^    user: ENC\[' plain.yaml
	gitseal_fixture decrypt plain.yaml | cmp - plain.orig
}

@test "decrypt -i and --output: damaged outputs write nothing (exit 4)" {
	needs_hooks
	all "$GITSEAL_BIN" decrypt -i enc.yaml
	refused enc.yaml "$PLAIN_WHY"
	cmp enc.yaml enc.orig
	all "$GITSEAL_BIN" decrypt --output out.yaml enc.yaml
	refused enc.yaml "$PLAIN_WHY"
	[ ! -e out.yaml ]
}

@test "decrypt -i: a damaged first layout falls back to the fresh one" {
	needs_hooks
	first "$GITSEAL_BIN" decrypt -i enc.yaml
	fell_back enc.yaml "$PLAIN_WHY"
	cmp enc.yaml plain.orig
}

# same_yaml A B: A and B (files) hold the same data, read by PyYAML, a
# loader that is not gitseal's.
same_yaml() {
	python3 -c 'import sys, yaml; sys.exit(yaml.safe_load(open(sys.argv[1])) != yaml.safe_load(open(sys.argv[2])))' "$1" "$2"
}

@test "decrypt to stdout: damaged outputs print nothing (exit 4), as --output" {
	needs_hooks
	all "$GITSEAL_BIN" decrypt enc.yaml
	refused enc.yaml "$PLAIN_WHY"
	[ -z "$output" ]
	all "$GITSEAL_BIN" decrypt --output - enc.yaml
	refused enc.yaml "$PLAIN_WHY"
	[ -z "$output" ]
	# another format: there is no layout of the file's own to try first
	all "$GITSEAL_BIN" decrypt --output-type json enc.yaml
	[ "$status" -eq 4 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'enc.yaml': the output would not give back the data given: $PLAIN_WHY; nothing written" ]
}

@test "decrypt to stdout: a damaged first layout prints the fresh one, said as --output says it" {
	needs_hooks
	# a flow mapping and two-space indentation: the fresh layout differs in bytes
	printf 'db: {user: admin, password: hunter2}\nlist:\n  - x\nname: app\n' >flow.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" flow.yaml >flow.enc.yaml
	first "$GITSEAL_BIN" decrypt --output out.yaml flow.enc.yaml
	fell_back flow.enc.yaml "$PLAIN_WHY"
	said_by_output=$stderr
	first "$GITSEAL_BIN" decrypt flow.enc.yaml
	fell_back flow.enc.yaml "$PLAIN_WHY"
	[ "$stderr" = "$said_by_output" ]
	printf '%s\n' "$output" >printed.yaml
	cmp printed.yaml out.yaml
	! cmp -s printed.yaml flow.yaml || false
	grep -q '^    user: admin$' printed.yaml
	same_yaml printed.yaml flow.yaml
}

@test "decrypt --extract to stdout: damaged maps and lists print nothing (exit 4)" {
	needs_hooks
	printf 'm:\n  k: v\nl:\n  - a\n  - 2\n  - [p, q]\n' >list.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" list.yaml >list.enc.yaml
	all "$GITSEAL_BIN" decrypt --extract '["m"]' list.enc.yaml
	[ "$status" -eq 4 ]
	[ -z "$output" ]
	[[ "$stderr" == "gitseal: error: 'list.enc.yaml': the output would not give back the data given"*': doc 0: ["k"] differs; nothing written' ]]
	# a list as JSON (the INI store prints it so too): proven inside an object
	for t in json ini; do
		all "$GITSEAL_BIN" decrypt --extract '["l"]' --output-type "$t" list.enc.yaml
		[ "$status" -eq 4 ]
		[ -z "$output" ]
		[ "$stderr" = "gitseal: error: 'list.enc.yaml': the output would not give back the data given: [\"l\"][2][1] differs; nothing written" ]
	done
	# a YAML list: the document it is cut from is proven, then the list as
	# printed (the damage only hits an item at the start of a line)
	run --separate-stderr env GITSEAL_TEST_CORRUPT=all GITSEAL_TEST_CORRUPT_MARK=$'\n- ' \
		"$GITSEAL_BIN" decrypt --extract '["l"]' list.enc.yaml
	[ "$status" -eq 4 ]
	[ -z "$output" ]
	[ "$stderr" = "gitseal: error: 'list.enc.yaml': the output would not give back the data given: [\"l\"][1] differs; nothing written" ]
	# undamaged, the same lists come out
	run -0 gitseal decrypt --extract '["l"]' list.enc.yaml
	[ "$output" = $'- a\n- 2\n- - p\n  - q' ]
	run -0 gitseal decrypt --extract '["l"]' --output-type ini list.enc.yaml
	[ "$output" = '["a",2,["p","q"]]' ]
}

@test "decrypt to stdout refuses what --output refuses: two documents or a backslash-n as dotenv" {
	# sops prints the first document only, and a backslash then n that
	# dotenv reads back as a line break; both printed with exit 0 before
	printf 'a: 1\n---\nb: 2\n' >two.yaml
	printf 'c: "x\\\\ny"\n' >backslash.yaml
	[ "$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["c"])' backslash.yaml)" = 'x\ny' ]
	for f in two backslash; do
		gitseal encrypt --age "$DEMO_RECIPIENT" "$f.yaml" >"$f.enc.yaml"
		run --separate-stderr gitseal decrypt --output-type dotenv "$f.enc.yaml"
		[ "$status" -eq 4 ]
		[ -z "$output" ]
		stdout_said=$stderr
		run --separate-stderr gitseal decrypt --output-type dotenv --output out.env "$f.enc.yaml"
		[ "$status" -eq 4 ]
		[ ! -e out.env ]
		[ "$stderr" = "$stdout_said" ]
	done
	[ "$stdout_said" = "gitseal: error: 'backslash.enc.yaml': the output would not give back the data given: doc 0: [\"c\"] differs; nothing written" ]
	run --separate-stderr gitseal decrypt --output-type dotenv two.enc.yaml
	[ "$stderr" = "gitseal: error: 'two.enc.yaml': the output would not give back the data given: the number of documents (1, 2) differs; nothing written" ]
}

@test "decrypt --extract proves a map or a list as the output type holds it: no comments in JSON" {
	printf 'm:\n  # c\n  a: 1\nl:\n  # first\n  - a\n  - [x, y] # tail\n' >commented.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" commented.yaml >commented.enc.yaml
	# the comments were compared as if JSON held them (exit 4)
	run -0 gitseal decrypt --extract '["m"]' --output-type json commented.enc.yaml
	[ "$output" = $'{\n\t"a": 1\n}' ]
	run -0 gitseal decrypt --extract '["m"]' --output-type dotenv commented.enc.yaml
	[ "$output" = $'# c\na=1' ]
	run -0 gitseal decrypt --extract '["l"]' --output-type json commented.enc.yaml
	[ "$output" = $'[\n\t"a",\n\t[\n\t\t"x",\n\t\t"y"\n\t]\n]' ]
	run -0 gitseal decrypt --extract '["l"]' commented.enc.yaml
	printf '%s\n' "$output" >printed.yaml
	python3 -c 'import sys, yaml; sys.exit(yaml.safe_load(open(sys.argv[1])) != ["a", ["x", "y"]])' printed.yaml
	grep -q '^# first$' printed.yaml
}

@test "set and unset: damaged outputs write nothing; the fallback keeps the change" {
	needs_hooks
	# set proves first that decrypt can write the plaintext with the value
	all "$GITSEAL_BIN" set enc.yaml '["db"]["password"]' '"new"'
	[ "$status" -eq 4 ]
	[[ "$stderr" == "gitseal: error: 'enc.yaml': set: the file's format cannot give this value back as given ("*"$PLAIN_WHY; nothing written)" ]]
	cmp enc.yaml enc.orig
	run --separate-stderr env GITSEAL_TEST_CORRUPT=all GITSEAL_TEST_CORRUPT_ONLY=sealed \
		"$GITSEAL_BIN" set enc.yaml '["db"]["password"]' '"new"'
	refused enc.yaml "$SEALED_WHY"
	cmp enc.yaml enc.orig
	all "$GITSEAL_BIN" unset enc.yaml '["name"]'
	refused enc.yaml "$SEALED_WHY"
	cmp enc.yaml enc.orig
	first "$GITSEAL_BIN" set enc.yaml '["db"]["password"]' '"new"'
	fell_back enc.yaml "$SEALED_WHY"
	[ "$(gitseal_fixture decrypt --extract '["db"]["password"]' enc.yaml)" = new ]
	first "$GITSEAL_BIN" unset enc.yaml '["name"]'
	fell_back enc.yaml "$SEALED_WHY"
	[ "$(gitseal_fixture decrypt enc.yaml)" = "$(printf 'db:\n    user: admin\n    password: new')" ]
}

@test "edit: a damaged sealed output writes nothing; a damaged copy for the editor stops before it" {
	needs_hooks
	export EDITOR="sed -i s/hunter2/changed/"
	run --separate-stderr env GITSEAL_TEST_CORRUPT=all GITSEAL_TEST_CORRUPT_ONLY=sealed \
		"$GITSEAL_BIN" edit enc.yaml
	refused enc.yaml "$SEALED_WHY"
	cmp enc.yaml enc.orig
	run --separate-stderr env GITSEAL_TEST_CORRUPT=all GITSEAL_TEST_CORRUPT_ONLY=plain \
		EDITOR="touch edited-marker; true" "$GITSEAL_BIN" edit enc.yaml
	refused enc.yaml "$PLAIN_WHY"
	[ ! -e edited-marker ]
	cmp enc.yaml enc.orig
	first "$GITSEAL_BIN" edit enc.yaml
	fell_back enc.yaml "$SEALED_WHY"
	[ "$(gitseal_fixture decrypt --extract '["db"]["password"]' enc.yaml)" = changed ]
}

@test "rotate -i: damaged outputs write nothing; the fallback rotates" {
	needs_hooks
	all "$GITSEAL_BIN" rotate -i enc.yaml
	refused enc.yaml "$SEALED_WHY"
	cmp enc.yaml enc.orig
	first "$GITSEAL_BIN" rotate -i enc.yaml
	fell_back enc.yaml "$SEALED_WHY"
	! cmp -s enc.yaml enc.orig || false
	gitseal_fixture decrypt enc.yaml | cmp - plain.orig
}

@test "updatekeys and groups add: damaged outputs write nothing" {
	needs_hooks
	printf 'creation_rules:\n  - age: %s,%s\n' "$DEMO_RECIPIENT" "$R2" >.sops.yaml
	all "$GITSEAL_BIN" updatekeys -y enc.yaml
	refused enc.yaml "$SEALED_WHY"
	cmp enc.yaml enc.orig
	all "$GITSEAL_BIN" groups add --file enc.yaml -i --age "$R2"
	refused enc.yaml "$SEALED_WHY"
	cmp enc.yaml enc.orig
	first "$GITSEAL_BIN" updatekeys -y enc.yaml
	fell_back enc.yaml "$SEALED_WHY"
	grep -q "recipient: $R2" enc.yaml
	SOPS_AGE_KEY_FILE="$KEYS/test-age-key-2.txt" gitseal_fixture decrypt enc.yaml | cmp - plain.orig
}

@test "legacy -e -i and -d -i: damaged outputs write nothing" {
	needs_hooks
	all "$GITSEAL_BIN" -e -i --age "$DEMO_RECIPIENT" plain.yaml
	refused plain.yaml "$SEALED_WHY"
	cmp plain.yaml plain.orig
	all "$GITSEAL_BIN" -d -i enc.yaml
	refused enc.yaml "$PLAIN_WHY"
	cmp enc.yaml enc.orig
}

@test "exec-file: a damaged plaintext is refused before the command runs" {
	needs_hooks
	all "$GITSEAL_BIN" exec-file --no-fifo enc.yaml 'touch ran; cat {}'
	refused enc.yaml "$PLAIN_WHY"
	[ ! -e ran ]
}

# ---- symbolic links: written through, the link stays (sops does the same) ----

@test "-i through a symbolic link replaces the target, keeps the link and the mode" {
	mkdir sub
	mv plain.yaml sub/real.yaml
	chmod 640 sub/real.yaml
	ln -s sub/real.yaml link.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" -i link.yaml
	[ -L link.yaml ]
	[ "$(readlink link.yaml)" = sub/real.yaml ]
	grep -q '^    password: ENC\[' sub/real.yaml
	[ "$(stat -c %a sub/real.yaml)" = 640 ]
	[ -z "$(ls -A . sub | grep gitseal-tmp || true)" ]
	gitseal set link.yaml '["name"]' '"other"'
	[ -L link.yaml ]
	[ "$(gitseal_fixture decrypt --extract '["name"]' sub/real.yaml)" = other ]
	gitseal decrypt -i link.yaml
	[ -L link.yaml ]
	[ "$(stat -c %a sub/real.yaml)" = 640 ]
	[ "$(cat sub/real.yaml)" = "$(sed 's/^name: app$/name: other/' plain.orig)" ]
}

@test "a chain of relative links and a dangling link are written through" {
	mkdir -p a/b
	mv enc.yaml a/b/real.yaml
	ln -s b/real.yaml a/mid.yaml
	ln -s a/mid.yaml top.yaml
	gitseal decrypt -i top.yaml
	[ -L top.yaml ]
	[ -L a/mid.yaml ]
	cmp a/b/real.yaml plain.orig
	# --output through a link whose target does not exist yet creates the target
	ln -s a/b/new.yaml out.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" --output out.yaml plain.yaml
	[ -L out.yaml ]
	gitseal_fixture decrypt a/b/new.yaml | cmp - plain.orig
}

# ---- output targets: only regular files are replaced ----

@test "--output to a FIFO writes into it; the FIFO stays" {
	mkfifo fifo
	cat fifo >got &
	gitseal decrypt --output fifo enc.yaml
	wait
	[ -p fifo ]
	cmp got plain.orig
	cat fifo >got2 &
	gitseal encrypt --age "$DEMO_RECIPIENT" --output fifo plain.yaml
	wait
	[ -p fifo ]
	gitseal decrypt --input-type yaml got2 | cmp - plain.orig
}

# A build that replaces /dev/stdout (as root it can) would break every
# process on the machine: put the link back before failing.
stdout_still_a_link() {
	[ -L /dev/stdout ] && return 0
	if [ "$(id -u)" = 0 ]; then
		rm -f /dev/stdout
		ln -s /proc/self/fd/1 /dev/stdout
	fi
	echo "/dev/stdout was replaced"
	return 1
}

@test "--output /dev/stdout writes to standard output; /dev/stdout stays a link" {
	[ -L /dev/stdout ] || skip "/dev/stdout is not a symbolic link here"
	run --separate-stderr gitseal decrypt --output /dev/stdout enc.yaml
	stdout_still_a_link
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat plain.orig)" ]
	# standard output redirected to a file: that file gets the bytes, still a file
	gitseal decrypt --output /dev/stdout enc.yaml >redirected.yaml
	stdout_still_a_link
	cmp redirected.yaml plain.orig
	# a character device
	gitseal decrypt --output /dev/null enc.yaml
	[ -c /dev/null ]
}

# /dev/shm is a tmpfs of regular files: a path there is written as any
# file is (it was taken for a device: opened without being made, so a new
# file failed, "No such file or directory"); /dev/fd/N leads to what the
# descriptor holds and is written in place, the inode kept.
@test "--output and age -o into /dev/shm make and replace regular files; /dev/fd/3 is written in place" {
	[ -d /dev/shm ] && [ -w /dev/shm ] || skip "no writable /dev/shm here"
	shm=$(mktemp -d -p /dev/shm)
	gitseal decrypt --output "$shm/new.yaml" enc.yaml
	cmp "$shm/new.yaml" plain.orig
	gitseal decrypt --output "$shm/new.yaml" enc.yaml
	cmp "$shm/new.yaml" plain.orig
	gitseal age -r "$DEMO_RECIPIENT" -o "$shm/p.age" plain.orig
	gitseal age -d -i "$KEYS/demo-age-key.txt" -o "$shm/p.out" "$shm/p.age"
	cmp "$shm/p.out" plain.orig
	rm -rf "$shm"
	: >fd3.yaml
	ino=$(stat -c %i fd3.yaml)
	gitseal decrypt --output /dev/fd/3 enc.yaml 3>fd3.yaml
	cmp fd3.yaml plain.orig
	[ "$(stat -c %i fd3.yaml)" = "$ino" ]
}

@test "--output - is standard output" {
	run --separate-stderr gitseal decrypt --output - enc.yaml
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat plain.orig)" ]
	[ ! -e ./- ]
}

@test "values larger than 64 KiB round-trip in YAML and JSON (handed over, not copied)" {
	python3 -c "print('big: ' + 'x' * 200000 + '\nsmall: word')" >large.yaml
	python3 -c "import json; print(json.dumps({'big': 'a\"b' * 70000, 'n': 1}))" >large.json
	for f in large.yaml large.json; do
		gitseal encrypt --age "$DEMO_RECIPIENT" "$f" >"enc.$f"
		# the big value is sealed: none of its text is left in clear (its
		# ciphertext is base64, which holds no '"' and by chance no 32 x's;
		# 4 x's it does, about one run in 30)
		! grep -qE 'x{32}|a\\"b' "enc.$f" || false
		gitseal decrypt "enc.$f" | cmp - "$f"
		gitseal set "enc.$f" '["big"]' '"short"'
		[ "$(gitseal_fixture decrypt --extract '["big"]' "enc.$f")" = short ]
	done
}

@test "converting proves the data as the target holds it: no tags or comments in JSON, text in dotenv" {
	printf '# top\na: !!binary aGk=\nb_unencrypted: !local x\nn: 1\n' >tagged.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" --output-type json tagged.yaml >enc.json
	# sops writes JSON with tabs
	[ "$(sed -n 2p enc.json | cut -c1-6)" = $'\t"a": ' ]
	run -0 gitseal decrypt enc.json
	[ "$output" = $'{\n\t"a": "aGk=",\n\t"b_unencrypted": "x",\n\t"n": 1\n}' ]
	gitseal encrypt --age "$DEMO_RECIPIENT" tagged.yaml >enc.yaml
	gitseal decrypt --output-type dotenv --output out.env enc.yaml
	[ "$(cat out.env)" = $'# top\na=aGk=\nb_unencrypted=x\nn=1' ]
	# a YAML spelling of an int is written as sops writes the int: the
	# same text for dotenv and INI (the proof refused it, exit 4)
	printf 'plus: +5\npadded: 007\n' >ints.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" ints.yaml >ints.enc.yaml
	gitseal decrypt --output-type dotenv --output ints.env ints.enc.yaml
	[ "$(cat ints.env)" = $'plus=5\npadded=7' ]
	run -0 gitseal decrypt --output-type dotenv ints.enc.yaml
	[ "$output" = $'plus=5\npadded=7' ]
}
