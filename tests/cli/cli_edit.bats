#!/usr/bin/env bats
# Issue 18, point 11: edit of a new file left as it was writes nothing
# (200), --verbose says what is done on stderr, --indent applies to every
# output, and edit -s shows the metadata without letting it change.

load ../helpers

setup() {
	setup_demo
	printf 'a: secret\nm:\n    k: v\n' >plain.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
}
teardown() { teardown_tmp; }

# sops: cmd/sops/edit.go:50-72 (editExample), 242-244 (hash unchanged:
# FileHasNotBeenModified, 200, and nothing is written)
@test "a new file whose example is saved untouched: 200, nothing written" {
	run -200 env SOPS_EDITOR=true "$GITSEAL_BIN" edit --age "$DEMO_RECIPIENT" new.yaml
	[[ $output == *"file has not changed, exiting"* ]]
	[ ! -e new.yaml ]
	run -200 env SOPS_EDITOR=true "$GITSEAL_BIN" --age "$DEMO_RECIPIENT" new.yaml
	[ "$output" = "gitseal: error: 'new.yaml': file has not changed, exiting" ]
	[ ! -e new.yaml ]
	printf '#!/bin/sh\nprintf "x: 1\\n" >"$1"\n' >ed.sh
	chmod +x ed.sh
	SOPS_EDITOR="$TMP/ed.sh" gitseal edit --age "$DEMO_RECIPIENT" new.yaml
	[ "$(gitseal_fixture decrypt new.yaml)" = "x: 1" ]
}

# sops: cmd/sops/main.go:1371-1373 (--verbose: debug logging, on stderr);
# gitseal's own lines, also on stderr, never a value
@test "--verbose says on stderr which config, which file and what was written" {
	printf 'creation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	run -0 --separate-stderr gitseal --verbose decrypt enc.yaml
	[ "$output" = "$(cat plain.yaml)" ]
	[[ $stderr == *"gitseal: 'enc.yaml': data key recovered, MAC checked"* ]]
	run -0 --separate-stderr gitseal encrypt --verbose plain.yaml
	[[ $stderr == *"gitseal: config '"*".sops.yaml'"* ]]
	[[ $stderr == *"gitseal: 'plain.yaml': encrypted"* ]]
	[[ $stderr != *secret* ]]
	printf '#!/bin/sh\nsed -i s/secret/other/ "$1"\n' >ed.sh
	chmod +x ed.sh
	run -0 env SOPS_EDITOR="$TMP/ed.sh" "$GITSEAL_BIN" --verbose edit enc.yaml
	[[ $output == *"gitseal: 'enc.yaml': written"* ]]
	run -0 gitseal decrypt enc.yaml
	[[ $output != *gitseal:* ]]
}

# sops: cmd/sops/main.go:2391-2396 (--indent sets the output stores'
# indentation: every file sops writes is emitted with it)
@test "--indent re-indents every output, not only conversions" {
	gitseal decrypt --indent 2 enc.yaml | cmp - <(printf 'a: secret\nm:\n  k: v\n')
	gitseal --indent 2 set enc.yaml '["a"]' '"x"'
	grep -q '^  k: ENC\[' enc.yaml
	printf '#!/bin/sh\nsed -i s/x/y/ "$1"\n' >ed.sh
	chmod +x ed.sh
	SOPS_EDITOR="$TMP/ed.sh" gitseal edit --indent 6 enc.yaml
	grep -q '^      k: ENC\[' enc.yaml
	# without --indent a file keeps its own layout
	gitseal set enc.yaml '["a"]' '"z"'
	grep -q '^      k: ENC\[' enc.yaml
}

# sops: config/config.go NewStoresConfig (JSON's default indent is -1, a
# tab), stores/json/store.go reindentJSON (0 is no indentation, n > 0 that
# many spaces), stores/yaml/store.go getIndentation (0 is 4 spaces); the
# same numbers from --indent and from .sops.yaml's stores.json.indent
@test "indent numbers as sops counts them: JSON 0 none, -1 a tab; YAML 0 the default" {
	printf '{"a": {"b": 1}}' >p.json
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" p.json >e.json
	[ "$(gitseal --indent 0 decrypt e.json)" = "$(printf '{\n"a": {\n"b": 1\n}\n}')" ]
	[ "$(gitseal --indent -1 decrypt e.json)" = "$(printf '{\n\t"a": {\n\t\t"b": 1\n\t}\n}')" ]
	gitseal --indent 0 decrypt enc.yaml | cmp - plain.yaml
	printf 'stores:\n  json:\n    indent: 0\n' >.sops.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" --output-type json plain.yaml >e2.json
	grep -q '^"sops": {$' e2.json
	rm .sops.yaml
	gitseal encrypt --age "$DEMO_RECIPIENT" --output-type json plain.yaml >e3.json
	grep -q "^$(printf '\t')\"sops\": {\$" e3.json
}

# sops: cmd/sops/edit.go:168-170, 258-272 (-s: the metadata in the editor).
# gitseal shows it to be read: a change is refused and nothing is written.
@test "edit -s shows the metadata; changing it is refused; the values still change" {
	printf '#!/bin/sh\ngrep -q "^sops:" "$1" && grep -q "recipient: %s" "$1" && sed -i s/secret/changed/ "$1"\n' \
		"$DEMO_RECIPIENT" >show.sh
	chmod +x show.sh
	SOPS_EDITOR="$TMP/show.sh" gitseal edit -s enc.yaml
	[ "$(gitseal_fixture decrypt --extract '["a"]' enc.yaml)" = changed ]
	! grep -q '^    age:$' <(gitseal_fixture decrypt enc.yaml) || false
	cp enc.yaml before.yaml
	printf '#!/bin/sh\nsed -i "s/recipient: age1/recipient: age1x/" "$1"\n' >tamper.sh
	chmod +x tamper.sh
	run -1 env SOPS_EDITOR="$TMP/tamper.sh" "$GITSEAL_BIN" edit -s enc.yaml
	[[ $output == *"the sops metadata shown by -s was changed"*"change keys with rotate, updatekeys or groups"* ]]
	cmp enc.yaml before.yaml
	# JSON: the metadata is one more member of the object
	printf '{"a": "secret"}\n' >p.json
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" p.json >e.json
	printf '#!/bin/sh\ngrep -q "\\"sops\\": {" "$1" && sed -i s/secret/changed/ "$1"\n' >showj.sh
	chmod +x showj.sh
	SOPS_EDITOR="$TMP/showj.sh" gitseal edit --show-master-keys e.json
	[ "$(gitseal_fixture decrypt --extract '["a"]' e.json)" = changed ]
}
