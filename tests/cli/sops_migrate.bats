#!/usr/bin/env bats
# A sops 3.9-3.11 user's scripts, run with gitseal in place of sops: the
# command lines that meant one thing to sops and another (or nothing) to
# gitseal. sops's source is cited as cmd/sops/main.go of v3.11.0.

load ../helpers

setup() {
	setup_demo
	printf 'a: secret\nb: 1\n' >plain.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
}
teardown() { teardown_tmp; }

# sops: outputStore (main.go:2320) is DefaultStoreForPathOrFormat(path,
# --output-type): without --output-type the file name (--filename-override)
# decides, not --input-type. sops's README: `echo foo=bar | sops encrypt
# --filename-override path/filename.sops.yaml --input-type dotenv` writes YAML.
@test "--input-type alone: the output format is the file name's, as sops's outputStore" {
	echo foo=bar | gitseal encrypt --age "$DEMO_RECIPIENT" --filename-override path/filename.sops.yaml --input-type dotenv >f.sops.yaml
	grep -q '^foo: ENC\[AES256_GCM,' f.sops.yaml
	gitseal decrypt f.sops.yaml | cmp - <(printf 'foo: bar\n')
	# decrypt: a JSON file under a .yaml name, read as JSON, written as YAML
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" --output-type json plain.yaml >json.yaml
	gitseal decrypt --input-type json json.yaml | cmp - plain.yaml
	# a name that gives no format (sops: binary, which cannot write this
	# document): the input's format, as before
	cp json.yaml json.enc
	gitseal decrypt --input-type json json.enc | cmp - <(printf '{\n\t"a": "secret",\n\t"b": 1\n}\n')
	gitseal decrypt --input-type yaml --output-type yaml /dev/stdin <enc.yaml | cmp - plain.yaml
}

# sops: FormatForPathOrString (cmd/sops/formats/formats.go) takes a type it
# does not know (`yml`) for none at all: the file name's format
@test "an --output-type sops does not know is no --output-type: the file name's format" {
	gitseal decrypt --output-type yml enc.yaml | cmp - plain.yaml
	gitseal -d --output-type=yml enc.yaml | cmp - plain.yaml
}

# sops: groups delete takes the file from --file and the group index as its
# positional word (main.go:667); an error names the file, not the index
@test "groups delete: an error names --file's file, not the index" {
	run -1 gitseal groups delete -f enc.yaml --keyservice tcp://127.0.0.1:1 1
	[ "$output" = "gitseal: error: 'enc.yaml': --keyservice: gitseal has no remote key service; its keys are local only" ]
}

# sops: loadConfigFile's "could not read config file" goes up through
# toExitError as a generic error (1), for encrypt as for every command that
# loads the rules; 2 is the input's code (common.go:146)
@test "a --config or SOPS_CONFIG that cannot be read: exit 1, as sops, not the input's 2" {
	run -1 gitseal --config missing.yaml encrypt plain.yaml
	[ "$output" = "gitseal: error: 'plain.yaml': config: cannot open 'missing.yaml': No such file or directory" ]
	mkdir dir
	SOPS_CONFIG=dir run -1 gitseal -e plain.yaml
	run -1 gitseal rotate --config missing.yaml enc.yaml
}

# A file whose only keys are sops's cloud KMS ones (sops: 128 when none of
# them opens, common.go:88): the line says which types gitseal cannot use
@test "a file with cloud KMS keys only: 128, and the line names their types" {
	awk '/^    age:$/ { skip = 1; print "    kms:\n        - arn: arn:aws:kms:us-east-1:111122223333:key/k\n          created_at: \"2024-01-01T00:00:00Z\"\n          enc: AQICAHg\n    gcp_kms:\n        - resource_id: projects/p/locations/global/keyRings/r/cryptoKeys/k\n          created_at: \"2024-01-01T00:00:00Z\"\n          enc: CiQA"; next }
		/^    lastmodified:/ { skip = 0 } !skip' enc.yaml >kms.yaml
	run -128 gitseal decrypt kms.yaml
	[ "$output" = "gitseal: error: 'kms.yaml': cannot recover the data key: no key opened it (tried no key; 2 keys gitseal has no client for: kms, gcp_kms)" ]
}

# sops goes back to the editor when the text does not load (edit.go,
# runEditorUntilOk); without a terminal gitseal fails at once with 1, for a
# new file as for an existing one (docs/sops-parity.md), and writes nothing
@test "edit of a new file whose text does not load, no terminal: exit 1, nothing written" {
	SOPS_EDITOR='sh -c "echo \"a: [\" >\"\$1\"" editor' run -1 gitseal edit new.yaml </dev/null
	[ "$output" = "gitseal: error: 'new.yaml': invalid YAML at line 2: did not find expected node content" ]
	[ ! -e new.yaml ]
}

# sops >= 3.10 reads .sops.yaml only and warns of a .sops.yml it passes on
# the way up (config.LookupConfigFile); gitseal said only that there was no
# config
@test "a .sops.yml on the way up: a warning naming it, as sops >= 3.10" {
	printf 'creation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >.sops.yml
	run -1 gitseal encrypt plain.yaml
	[ "${lines[0]}" = "gitseal: warning: ignoring '$(pwd -P)/.sops.yml': the config file must be named .sops.yaml" ]
	[ "${lines[1]}" = "gitseal: error: config file not found, or has no creation rules, and no keys provided" ]
	# one above the directory is used, the nearer .sops.yml named
	mkdir sub
	mv .sops.yml sub/
	printf 'creation_rules:\n  - age: %s\n' "$DEMO_RECIPIENT" >.sops.yaml
	cd sub
	run -0 --separate-stderr gitseal encrypt ../plain.yaml
	[ "$stderr" = "gitseal: warning: ignoring '$(pwd -P)/.sops.yml': the config file must be named .sops.yaml (using '$(cd .. && pwd -P)/.sops.yaml')" ]
	# beside a .sops.yaml, sops stops at the .sops.yaml: no warning
	cd ..
	cp sub/.sops.yml .
	run -0 --separate-stderr gitseal encrypt plain.yaml
	[ -z "$stderr" ]
}
