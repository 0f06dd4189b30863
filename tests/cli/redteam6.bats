#!/usr/bin/env bats
# The sops commands against repository content (red team 2, F5, F6, F8):
# what updatekeys shows before it re-splits a data key, how .sops.yaml's
# and the selection options' RE2 patterns read, and where the rules come
# from when .sops.yaml is a symbolic link.

load ../helpers

setup() {
	setup_demo
	printf 'description: hello\npassword: hunter2\n' >plain.yaml
}
teardown() { teardown_tmp; }

# three_groups THRESHOLD: .sops.yaml with one group each for k1, k2, k3
three_groups() {
	cat >.sops.yaml <<-YAML
	creation_rules:
	  - shamir_threshold: $1
	    key_groups:
	      - age: [$(cat r1.txt)]
	      - age: [$(cat r2.txt)]
	      - age: [$(cat r3.txt)]
	YAML
}

# F5: a pull request lowers shamir_threshold 3 -> 2 with the same groups;
# updatekeys showed the three groups unchanged and asked, and y let any
# two of the three holders decrypt.
@test "updatekeys shows a lowered shamir_threshold and a changed number of groups before it asks" {
	age_keys 3
	cat k1.txt k2.txt k3.txt >kall.txt
	cat k1.txt k3.txt >k13.txt
	export SOPS_AGE_KEY_FILE="$TMP/kall.txt"
	three_groups 3
	gitseal encrypt plain.yaml >enc.yaml
	cp enc.yaml before.yaml
	three_groups 2
	run -0 bash -c 'echo n | "$GITSEAL_BIN" updatekeys enc.yaml'
	[ "${lines[6]}" = "groups needed: 3 -> 2" ]
	[[ ${lines[7]} == "Is this okay for 'enc.yaml'? (y/n): "* ]]
	cmp enc.yaml before.yaml
	# a group fewer: both numbers
	head -n 5 .sops.yaml >two.yaml
	mv two.yaml .sops.yaml
	run -0 bash -c 'echo n | "$GITSEAL_BIN" updatekeys enc.yaml'
	[ "${lines[6]}" = "key groups: 3 -> 2" ]
	[ "${lines[7]}" = "groups needed: 3 -> 2" ]
	# the same threshold in a new form (0: all groups) is no change
	three_groups 0
	run -0 gitseal updatekeys -y enc.yaml
	[ "$output" = "gitseal: 'enc.yaml': already up to date" ]
	three_groups 2
	run -0 gitseal updatekeys -y enc.yaml
	[[ $output == *$'\n'"groups needed: 3 -> 2"$'\n'"gitseal: 'enc.yaml': keys updated" ]]
	[ "$(SOPS_AGE_KEY_FILE=k13.txt gitseal decrypt enc.yaml)" = "$(cat plain.yaml)" ]
}

# F6: sops reads these patterns with Go's regexp (RE2), where a '{' that
# does not start "{n}", "{n,}" or "{n,m}" (no minimum, a leading zero) is
# literal text; gitseal's POSIX translation read them as repeats, so one
# .sops.yaml chose other recipients, and an unencrypted_regex left in
# clear what sops encrypts.
@test "a brace RE2 reads literally is literal in path_regex and the selection regexes too" {
	other=$(grep -o 'age1[a-z0-9]*' "$KEYS/test-age-key-2.txt" | head -1)
	mkdir prod
	cp plain.yaml prod/db.yaml
	printf 'creation_rules:\n  - path_regex: ^(sandbox/){,1}.*\\.yaml$\n    age: %s\n  - path_regex: ^prod/\n    age: %s\n' \
		"$other" "$DEMO_RECIPIENT" >.sops.yaml
	gitseal encrypt prod/db.yaml >db.enc.yaml
	[ "$(grep -c 'recipient:' db.enc.yaml)" -eq 1 ]
	grep -qF "recipient: $DEMO_RECIPIENT" db.enc.yaml
	rm .sops.yaml
	for re in '^(description|pass{01}word)$' '^(description|pass{,}word)$' '^(description|pass{,1}word)$'; do
		gitseal encrypt --age "$DEMO_RECIPIENT" --unencrypted-regex "$re" plain.yaml >enc.yaml
		grep -qx 'description: hello' enc.yaml
		grep -q '^password: ENC\[' enc.yaml
	done
	# a count RE2 refuses is refused, in its words
	run -1 gitseal encrypt --age "$DEMO_RECIPIENT" --encrypted-regex '^pass{2,1}word$' plain.yaml
	[ "$output" = "gitseal: error: 'plain.yaml': invalid repeat count in regular expression '^pass{2,1}word\$'" ]
	run -1 gitseal encrypt --age "$DEMO_RECIPIENT" --encrypted-regex '^a{1001}$' plain.yaml
	[ "$output" = "gitseal: error: 'plain.yaml': invalid repeat count in regular expression '^a{1001}\$'" ]
}

# F8: the git filter, git init and the filter's updatekeys refuse a
# .sops.yaml that is a symbolic link; plain encrypt followed it, so the
# creation rules came from wherever a pull request pointed it.
@test "a .sops.yaml found as a symbolic link is refused, not followed; --config and SOPS_CONFIG take it" {
	other=$(grep -o 'age1[a-z0-9]*' "$KEYS/test-age-key-2.txt" | head -1)
	mkdir -p elsewhere repo/sub
	printf 'creation_rules:\n  - age: %s\n' "$other" >elsewhere/cfg.yaml
	cd repo
	git init -q
	ln -s ../elsewhere/cfg.yaml .sops.yaml
	cp ../plain.yaml p.yaml
	want="'$TMP/repo/.sops.yaml' is not a regular file (a symbolic link): the repository's rules must be a file in it (--config or SOPS_CONFIG to use it)"
	run -1 gitseal encrypt p.yaml
	[ "$output" = "gitseal: error: 'p.yaml': $want" ]
	# found from below too, and by updatekeys
	cd sub
	cp ../p.yaml q.yaml
	run -1 gitseal encrypt q.yaml
	[ "$output" = "gitseal: error: 'q.yaml': $want" ]
	gitseal encrypt --config ../.sops.yaml q.yaml >q.enc.yaml
	run -1 gitseal updatekeys -y q.enc.yaml
	[ "$output" = "gitseal: error: 'q.enc.yaml': $want" ]
	cd ..
	# a path the user gives is the user's choice, as in sops
	gitseal encrypt --config .sops.yaml p.yaml | grep -qF "recipient: $other"
	SOPS_CONFIG=.sops.yaml gitseal encrypt p.yaml | grep -qF "recipient: $other"
	# a link to standard input made encrypt read its own input as the rules
	ln -sf /dev/stdin .sops.yaml
	run -1 gitseal encrypt p.yaml </dev/null
	[ "$output" = "gitseal: error: 'p.yaml': $want" ]
}

# Red team 6: the elided load (yaml_elide.c) leaves runs of base64 after
# a ':' (16 bytes on) and any run of 64 KiB out of what libyaml reads, and
# takes a value from the text only where libyaml would have given that
# text. Each input below puts such a run where taking the text would be
# wrong (a tag, an anchor, a directive, a key, a quoted or block scalar, a
# comment, a line past libyaml's 1024-byte simple-key limit); encrypted
# and decrypted, its data must be what PyYAML (libyaml's reading, typed as
# yaml.v3 types it, a !!binary tag dropped as sops drops it:
# tests/redteam/rule1.py) reads, or both refuse it.
# These passed from the start: the unit tests compare the elided load
# with the whole one on the test suites, whose texts hold few such runs,
# and only the fuzzing build cuts short runs.

# same_data_as_pyyaml IN OUT [IN OUT]...: each pair read by the oracle,
# the same trees (one python start for all: 0.14 s of CPU each)
same_data_as_pyyaml() {
	python3 - "$REPO_ROOT/tests/redteam" "$@" <<-'PY'
	import sys
	sys.path.insert(0, sys.argv[1])
	import rule1
	bad = []
	for i in range(2, len(sys.argv), 2):
	    a, b = (open(p, "rb").read() for p in sys.argv[i:i + 2])
	    oka, ta = rule1.tree_of("yaml", a)
	    okb, tb = rule1.tree_of("yaml", b)
	    if not oka or not okb or (ta != tb and not rule1.same_but_binary_tag(ta, tb)):
	        bad.append("oracle: %s: %s / %s / %s" % (sys.argv[i], oka, okb, rule1.first_diff(ta, tb) if oka and okb else ""))
	if bad or len(sys.argv) < 4 or len(sys.argv) % 2:
	    sys.exit("\n".join(bad) or "oracle: no pairs")
	PY
}

@test "RT6: runs of base64 the elided load leaves out: the data is what libyaml reads" {
	local r=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3 long
	long=$(head -c 70000 /dev/zero | tr '\0' A)
	local -a cases=(
		"a: [x:$r, y]\nb: {x:$r: v}\n"
		"a: &x:$r v\nb: *x\n"
		"a: \"x:$r\\\\\n  y\"\nb: 'x:$r\n\n  z'\n"
		"a: |\n  x:$r\n  y\nb: >-\n  x:$r\n  z\n"
		"? x:$r\n: v\nk:$r: w\n"
		"a: x:$r # c:$r\n# d:$r\nb: - x:$r\n"
		"a: x:$r\n  y:$r\nb: x\n"
		"a: $long\nb: \"$long\"\nc: '$long'\n# $long\n"
		"a:\n  - x:$r\n  - - y:$r\n    - {z: w:$r}\n"
		"a: !!str x:$r\nb: !!binary QUJD\n"
	)
	local sealed=0 n=0 pairs=()
	for c in "${cases[@]}"; do
		n=$((n + 1))
		printf -- "$c" >"in$n.yaml"
		run gitseal encrypt --age "$DEMO_RECIPIENT" "in$n.yaml"
		if [ "$status" -ne 0 ]; then
			echo "refused: $output" 
			# refused: so does libyaml
			run ! python3 -c 'import sys, yaml; list(yaml.safe_load_all(open(sys.argv[1])))' "in$n.yaml" || false
			continue
		fi
		printf '%s\n' "$output" >"enc$n.yaml"
		gitseal decrypt "enc$n.yaml" >"dec$n.yaml"
		pairs+=("in$n.yaml" "dec$n.yaml")
		sealed=$((sealed + 1))
	done
	same_data_as_pyyaml "${pairs[@]}"
	echo "# $sealed of ${#cases[@]} sealed" >&3
	[ "$sealed" -ge 8 ]
}

@test "RT6: a run of base64 in a tag, an anchor on a collection or a %TAG directive is read whole" {
	local r=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3
	# the sealed value drops the tag, as sops does (docs/conformance.md)
	printf 'a: !<x:%s> v\nb: 1\n' "$r" >in.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
	gitseal decrypt enc.yaml | cmp - <(printf 'a: v\nb: 1\n')
	printf -- '%%TAG !e! x:%s/\n---\na: !e!k {b: v}\n' "$r" >in.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
	grep -qF "a: !e!k {b: " enc.yaml
	gitseal decrypt enc.yaml | cmp - in.yaml
	printf 'a: &Q%s {b: v}\nc: &Q%s {d: w}\ne: *Q%s\n' "$r" "${r}X" "$r" >in.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
	gitseal decrypt enc.yaml >dec.yaml
	same_data_as_pyyaml in.yaml dec.yaml
}

# Red team 6 (the rule 1 harness, a hand-written case): "! 1" carries the
# non-specific tag, which yaml.v3 (sops, Flux, kubectl) and PyYAML resolve
# as if no tag were there: the integer 1. gitseal read it as the string
# "1", sealed it as type:str and decrypted it to "1" quoted: exit 0, and
# every one of those readers got a string where the file had an integer.
@test "RT6: a plain scalar with the non-specific tag '!' is typed as yaml.v3 types it" {
	printf 'a: ! 1\nb: ! true\nc: ! "2"\nd: ! x\ne: ! {f: ! 3}\n' >in.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in.yaml >enc.yaml
	grep -q '^a: .*type:int\]$' enc.yaml
	grep -q '^b: .*type:bool\]$' enc.yaml
	grep -q '^c: "ENC.*type:str\]"$' enc.yaml
	gitseal decrypt enc.yaml | cmp - <(printf 'a: 1\nb: true\nc: "2"\nd: x\ne: ! {f: 3}\n')
	# PyYAML, unlike yaml.v3, resolves a quoted "! \"2\"" too: c left out
	sed '/^c:/d' in.yaml >in2.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" in2.yaml >enc2.yaml
	gitseal decrypt enc2.yaml >dec2.yaml
	same_data_as_pyyaml in2.yaml dec2.yaml
	run -0 gitseal decrypt --extract '["a"]' --output-type json enc.yaml
	[ "$output" = "1" ]
}
