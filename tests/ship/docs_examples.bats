#!/usr/bin/env bats
# The command blocks of README.md, the guides and the man pages that a
# newcomer runs as they are written: each ```sh block preceded by a line
#     <!-- example: FIXTURE... -->
# (in a man page, an .EX block after '.\" example: FIXTURE...')
# runs in a scratch directory of its own (HOME there too) with bash -e -o
# pipefail, after the fixtures named (below) set the scene the text before
# it describes. A block followed by
#     <!-- output -->
# and a fenced block must print those lines (stdout and stderr together),
# in that order, among others; '…' or '...' in them stands for any text.
# Placeholders: 'age1pq1...' is the recipient of pq.txt, 'age1...' that of
# ~/.config/sops/age/keys.txt, URL the origin repository. Blocks that need
# a cluster, Vault, sudo or the network stay unmarked (docs/development.md,
# "Tests"). A failure names the file and line of the block.

load ../helpers

setup() {
	setup_tmp
	mkdir "$TMP/bin"
	ln -s "$GITSEAL_BIN" "$TMP/bin/gitseal"
	# the editor of `gitseal edit` changes the file; git's writes a message
	printf '#!/bin/sh\nprintf "edited: yes\\n" >>"$1"\n' >"$TMP/bin/example-editor"
	printf '#!/bin/sh\nprintf "an example\\n" >"$1"\n' >"$TMP/bin/example-message"
	chmod +x "$TMP/bin/example-editor" "$TMP/bin/example-message"
}

teardown() {
	teardown_tmp
}

# ---- fixtures: each sets up the current directory (the block's) -------

# key: the demo identity as sops's default key file
fixture_key() {
	mkdir -p "$HOME/.config/sops/age"
	cp "$KEYS/demo-age-key.txt" "$HOME/.config/sops/age/keys.txt"
}

# secrets: a plaintext secrets.yaml, and any file (file) for age
fixture_secrets() {
	printf 'db:\n  user: admin\n  password: hunter2\n' >secrets.yaml
	printf 'any content\n' >file
}

# agefiles: what gitseal-age(1)'s examples encrypt, and their keys
fixture_agefiles() {
	printf 'any content\n' >secret.txt
	printf 'notes\n' >notes.txt
	cp secret.txt backup.tar
	cp "$KEYS/demo-age-key.txt" key.txt
	mkdir -p "$HOME/.ssh"
	cp "$KEYS/test-ssh-ed25519-passphrase.pub" "$HOME/.ssh/id_ed25519.pub"
}

# repo: a git repository holding a plaintext secrets/db.yaml
fixture_repo() {
	git init -q -b main .
	mkdir secrets
	printf 'db:\n  password: hunter2\n' >secrets/db.yaml
}

# sopsyaml: a .sops.yaml sealing every file for the demo recipient
fixture_sopsyaml() {
	printf 'creation_rules:\n  - age: %s\n' "$(cat "$KEYS/demo-age-recipient.txt")" >.sops.yaml
}

# committed: the repository's .sops.yaml committed (HEAD~ after one more)
fixture_committed() {
	git add .sops.yaml
	git commit -q -m sops.yaml
}

# encfiles: what gitseal-encrypt(1)'s examples encrypt, and a .sops.yaml
fixture_encfiles() {
	fixture_secrets
	fixture_repo
	fixture_sopsyaml
	printf '{"user": "app", "password": "hunter2", "token": "t0k3n"}\n' >app.json
}

# origin: a repository set up with the filter and one sealed file, at $URL
# (the key fixture's identity opens it)
fixture_origin() {
	fixture_key
	# made once a test: a block only clones it
	URL=$TMP/origin
	[ ! -d "$URL" ] || return 0
	mkdir "$URL"
	(
		cd "$URL"
		fixture_repo
		fixture_sopsyaml
		gitseal git init 'secrets/**' 2>/dev/null
		git add .gitattributes .sops.yaml secrets/db.yaml
		git commit -q -m origin
	)
}

# teammate: a clone of origin set up, and a teammate's recipient added to
# .sops.yaml (the step before `gitseal updatekeys -r .`)
fixture_teammate() {
	fixture_origin
	git clone -q "$URL" .
	gitseal git init 2>/dev/null
	printf 'creation_rules:\n  - age: %s,%s\n' "$(cat "$KEYS/demo-age-recipient.txt")" \
		"$(gitseal keygen -y "$KEYS/test-age-key-2.txt")" >.sops.yaml
}

# a KSOPS generator (the legacy form) over a sealed Secret and dotenv file
ksops_app() {
	local rcpt
	rcpt=$(cat "$KEYS/demo-age-recipient.txt")
	mkdir -p "$1"
	cp "$REPO_ROOT/examples/k8s-secret.yaml" "$1/secret.yaml"
	printf 'db_password=hunter2\n' >"$1/app.env"
	(
		cd "$1"
		gitseal encrypt --age "$rcpt" secret.yaml >secret.enc.yaml 2>/dev/null
		gitseal encrypt --age "$rcpt" app.env >app.enc.env
		rm secret.yaml app.env
	)
	printf '%s\n' 'apiVersion: viaduct.ai/v1' 'kind: ksops' 'metadata:' '  name: secret-generator' \
		'files:' '- ./secret.enc.yaml' 'secretFrom:' '- metadata:' '    name: app-secret' \
		'  type: Opaque' '  envs: [./app.enc.env]' >"$1/secret-generator.yaml"
	printf 'generators:\n- secret-generator.yaml\n' >"$1/kustomization.yaml"
}

# overlay: overlays/prod, a kustomization with a KSOPS generator
fixture_overlay() {
	fixture_key
	ksops_app overlays/prod
}

# package: a kpt package (the current directory) with a KSOPS generator
fixture_package() {
	fixture_key
	ksops_app .
}

# flux: .sops.yaml as docs/flux.md step 3 has it, and the Secret to seal
fixture_flux() {
	printf '%s\n' 'creation_rules:' '  - path_regex: \.ya?ml$' '    encrypted_regex: ^(data|stringData)$' \
		"    age: $(cat "$KEYS/demo-age-recipient.txt")" >.sops.yaml
	mkdir -p payments/prod
	cp "$REPO_ROOT/examples/k8s-secret.yaml" payments/prod/db-secret.yaml
}

# tty: the block runs on a terminal (script(1)), where it is asked
fixture_tty() { command -v script >/dev/null || return 3; }

# kubectl, kpt: the peer a block runs (else the block is skipped)
fixture_kubectl() { command -v kubectl >/dev/null || return 3; }
fixture_kpt() { command -v kpt >/dev/null || return 3; }

# ---- extraction and running ---------------------------------------------

# extract DOC: writes $TMP/ex/N.{at,fix,sh,out} for each marked block: its
# line, fixtures, text (its indent removed) and the output it must print.
extract() {
	rm -rf "$TMP/ex"
	mkdir "$TMP/ex"
	awk -v dir="$TMP/ex" -v doc="$1" '
	function fence(s) { return s ~ /^[[:space:]]*```/ }
	state == "body" || state == "out" {
		if (fence($0)) { close(file); state = ""; next }
		line = $0
		if (substr(line, 1, length(indent)) == indent) line = substr(line, length(indent) + 1)
		print line >file
		next
	}
	state == "open" || state == "outopen" {
		if (!fence($0)) { printf "%s:%d: a marker is not followed by a fenced block\n", doc, NR >(dir "/error"); exit }
		match($0, /^[[:space:]]*/); indent = substr($0, 1, RLENGTH)
		if (state == "open") {
			file = dir "/" n ".sh"; printf "" >file
			print doc ":" NR >(dir "/" n ".at"); close(dir "/" n ".at")
			print fixtures >(dir "/" n ".fix"); close(dir "/" n ".fix")
			state = "body"
		} else {
			file = dir "/" n ".out"; printf "" >file; state = "out"
		}
		next
	}
	/^[[:space:]]*<!-- example:.*-->[[:space:]]*$/ {
		n++; fixtures = $0
		sub(/^[[:space:]]*<!-- example:[[:space:]]*/, "", fixtures); sub(/[[:space:]]*-->[[:space:]]*$/, "", fixtures)
		state = "open"; next
	}
	/^[[:space:]]*<!-- output -->[[:space:]]*$/ { if (n) state = "outopen"; next }
	' "$REPO_ROOT/$1"
	[[ $1 != man/* ]] || extract_man "$1"
	if [ -f "$TMP/ex/error" ]; then
		cat "$TMP/ex/error"
		return 1
	fi
}

# extract_man PAGE: the same for a man page: an .EX block preceded by
# '.\" example: FIXTURE...'; its lines '$ COMMAND' (continued after a
# final '\e') are run, its other lines are output they must print.
extract_man() {
	awk -v dir="$TMP/ex" -v doc="$1" '
	function plain(s) {
		gsub(/\\\(aq/, "\047", s); gsub(/\\-/, "-", s); gsub(/\\&/, "", s); gsub(/\\e/, "\\", s)
		return s
	}
	state == "open" {
		if ($0 != ".EX") { printf "%s:%d: a marker is not followed by .EX\n", doc, NR >(dir "/error"); exit }
		print doc ":" NR >(dir "/" n ".at"); close(dir "/" n ".at")
		print fixtures >(dir "/" n ".fix"); close(dir "/" n ".fix")
		sh = dir "/" n ".sh"; out = dir "/" n ".out"; printf "" >sh; printf "" >out
		state = "body"; more = 0; next
	}
	state == "body" {
		if ($0 == ".EE") { close(sh); close(out); state = ""; next }
		line = plain($0)
		if (more || line ~ /^\$ /) {
			if (!more) line = substr(line, 3)
			print line >sh
			more = line ~ /(\\|\|)$/
		} else {
			print line >out
		}
		next
	}
	/^\.\\" example:/ {
		n++; fixtures = $0; sub(/^\.\\" example:[[:space:]]*/, "", fixtures)
		state = "open"; next
	}
	' "$REPO_ROOT/$1"
	if [ -f "$TMP/ex/error" ]; then
		cat "$TMP/ex/error"
		return 1
	fi
}

# prints where the output expected of block $1 is missing from $2, if it is
missing_output() {
	local want rest=$2 pattern
	while IFS= read -r want || [ -n "$want" ]; do
		pattern=${want//\*/\\*}
		pattern=${pattern//\?/\\?}
		pattern=${pattern//\[/\\[}
		pattern=${pattern//…/*}
		pattern=${pattern//.../*}
		# each line in order: the rest after the first line that matches
		local found= line
		while [[ $rest == *$'\n'* || -n $rest ]]; do
			line=${rest%%$'\n'*}
			if [[ $rest == *$'\n'* ]]; then rest=${rest#*$'\n'}; else rest=; fi
			if [[ $line == $pattern ]]; then
				found=1
				break
			fi
		done
		[ -n "$found" ] || { printf 'no line like: %s\n' "$want"; return 0; }
	done <"$1"
}

# run_examples DOC: every marked block of DOC, each in a scratch directory
# of its own; fails naming each block that failed, with its output.
run_examples() {
	local doc=$1 n d at fixtures fx code text out bad=
	extract "$doc"
	for ((n = 1; ; n++)); do
		[ -f "$TMP/ex/$n.sh" ] || break
		read -r at <"$TMP/ex/$n.at"
		read -r fixtures <"$TMP/ex/$n.fix" || true
		# a directory per block, across guides too
		BLOCKS=$((${BLOCKS:-0} + 1))
		d=$TMP/block$BLOCKS
		mkdir -p "$d/home" "$d/work"
		text=$(<"$TMP/ex/$n.sh")
		text=${text//age1pq1.../\$(gitseal keygen -y pq.txt)}
		text=${text//age1.../\$(gitseal keygen -y ~/.config/sops/age/keys.txt)}
		[[ $text != *URL* ]] || text=$(sed -E 's/(^|[^A-Za-z_])URL([^A-Za-z_]|$)/\1"$URL"\2/g' <<<"$text")
		code=0
		out=$(
			cd "$d/work"
			export HOME=$d/home XDG_CONFIG_HOME=$d/home/.config PATH=$TMP/bin:$PATH
			export EDITOR=example-editor GIT_EDITOR=example-message GIT_CONFIG_NOSYSTEM=1 GIT_PAGER=cat
			export GIT_AUTHOR_NAME=example GIT_AUTHOR_EMAIL=example@example.invalid
			export GIT_COMMITTER_NAME=example GIT_COMMITTER_EMAIL=example@example.invalid
			unset SOPS_EDITOR VISUAL GIT_DIR GIT_WORK_TREE
			for fx in $fixtures; do
				"fixture_$fx" >>"$d/fixtures.log" 2>&1 || {
					[ $? -ne 3 ] || : >"$d/skipped"
					exit 1
				}
			done
			export URL
			# questions are answered yes; on a terminal (script(1)) for
			# those only a terminal may answer (updatekeys -r, git trust)
			if [[ " $fixtures " == *" tty "* ]]; then
				# no echo of the answers: typed before the block starts, or
				# not shown (never in the middle of a line it prints). script
				# runs its command with $SHELL, or sh when that is unset (as in
				# CI): the block goes in a file, never through a quoting of one
				# shell read by another
				printf '%s\n' "$text" >"$d/block.sh"
				{
					sleep 0.2
					printf 'y\ny\ny\ny\n'
				} | script -q -e -c "stty -echo; bash -e -o pipefail '$d/block.sh'" /dev/null 2>&1
			else
				bash -e -o pipefail -c "$text" 2>&1 <<<$'y\ny\ny\ny\n'
			fi
		) || code=$?
		out=${out//$'\r'/}
		if [ -e "$d/skipped" ]; then
			echo "# $at: skipped (a peer is missing: $fixtures)" >&3
			continue
		fi
		if [ "$code" -ne 0 ]; then
			bad+="$at: exit $code"$'\n'"$text"$'\n'"--- its output:"$'\n'"$out"$'\n'
			bad+="--- the fixtures' output:"$'\n'"$(cat "$d/fixtures.log" 2>/dev/null)"$'\n\n'
		elif [ -f "$TMP/ex/$n.out" ] && [ -n "$(missing_output "$TMP/ex/$n.out" "$out")" ]; then
			bad+="$at: $(missing_output "$TMP/ex/$n.out" "$out")"$'\n'"--- its output:"$'\n'"$out"$'\n\n'
		fi
	done
	[ -z "$bad" ] || { printf '%s' "$bad"; return 1; }
}

# every guide with a marked block: README.md and docs/*.md
@test "docs: the marked command blocks of README.md, the guides and the man pages run as written" {
	local doc bad=
	for doc in "$REPO_ROOT"/README.md "$REPO_ROOT"/docs/*.md "$REPO_ROOT"/man/*.[1-9]; do
		[[ $(<"$doc") == *'<!-- example:'* || $(<"$doc") == *'.\" example:'* ]] || continue
		run_examples "${doc#"$REPO_ROOT"/}" || bad=1
	done
	[ -z "$bad" ]
}

@test "docs/git.md's clone --no-checkout: init takes the filter's lines of HEAD's .gitattributes" {
	# the work tree is empty until the checkout after init: init pins the
	# lines the checkout brings, and does not say that none exist
	mkdir "$TMP/work"
	cd "$TMP/work"
	PATH=$TMP/bin:$PATH
	export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t.invalid GIT_COMMITTER_NAME=t
	export GIT_COMMITTER_EMAIL=t@t.invalid
	fixture_origin
	git clone -q --no-checkout "$URL" repo
	cd repo
	run gitseal git init
	[ "$status" -eq 0 ]
	[[ $output != *"no line of .gitattributes"* ]]
	grep -qx 'secrets/\*\* text eol=lf conflict-marker-size=32 filter=gitseal diff=gitseal merge=gitseal' \
		.git/info/attributes
}
