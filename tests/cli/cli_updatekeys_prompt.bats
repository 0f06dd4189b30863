#!/usr/bin/env bats
# Issue 18, point 8: updatekeys asks on standard input, terminal or pipe,
# until the answer is y or n; n leaves the file and exits 0.

load ../helpers

setup() {
	setup_demo
	printf 'a: secret\n' >plain.yaml
	gitseal_fixture encrypt --age "$DEMO_RECIPIENT" plain.yaml >enc.yaml
	cp enc.yaml before.yaml
	second=$(grep -o 'age1[a-z0-9]*' "$KEYS/test-age-key-2.txt" | head -1)
	printf 'creation_rules:\n  - age: %s,%s\n' "$DEMO_RECIPIENT" "$second" >.sops.yaml
}
teardown() { teardown_tmp; }

# sops: cmd/sops/subcommand/updatekeys/updatekeys.go:87-95 (fmt.Scanln on
# os.Stdin, asked again until y or n)
@test "the answer y comes through a pipe, after an answer that is neither" {
	printf 'maybe\ny\n' | gitseal updatekeys enc.yaml 2>err
	[ "$(grep -o 'Is this okay' err | wc -l)" -eq 2 ]
	grep -q "$second" enc.yaml
	gitseal_fixture decrypt enc.yaml | cmp - plain.yaml
}

# sops: updatekeys.go:96-99 ("File left unchanged", return nil: exit 0)
@test "n: the file is left as it was, exit 0" {
	run -0 bash -c 'echo n | "$GITSEAL_BIN" updatekeys enc.yaml'
	[[ $output == *"'enc.yaml': left unchanged"* ]]
	cmp enc.yaml before.yaml
}

# sops: updatekeys.go:91-94 (Scanln fails at the end of the input: the
# error is returned, main.go:768: 1)
@test "no answer (the input ends): 1, nothing written" {
	run -1 gitseal updatekeys enc.yaml </dev/null
	[[ $output == *"no answer on standard input (use -y)"* ]]
	cmp enc.yaml before.yaml
	gitseal updatekeys -y enc.yaml
	grep -q "$second" enc.yaml
}

# A sops flag is not an error of the git filter's updatekeys, which
# `gitseal updatekeys` asks first whether the files are under the filter
# (it printed "'--input-type' is not an option for files under the git
# filter" before updating the file and exiting 0).
@test "a sops flag of updatekeys outside a repository: one line, no stray error" {
	run -0 gitseal updatekeys --input-type yaml -y enc.yaml
	[ "${lines[-1]}" = "gitseal: 'enc.yaml': keys updated" ]
	[[ $output != *error* ]]
	grep -q "$second" enc.yaml
}
