# bash completion for gitseal(1)                          -*- shell-script -*-
# Installed as share/bash-completion/completions/gitseal. Works with the
# bash-completion package's helpers when they are loaded, and without them.
# tests/ship/completion.bats checks it against every command's --help.

_gitseal_commands="encrypt decrypt edit set unset rotate updatekeys groups filestatus exec-env exec-file age git render krm keygen"
_gitseal_types="yaml json dotenv ini binary"

# The flags of command $1 (subcommand $2 for groups and git), in _gitseal_reply.
# The sops commands' lists follow their option tables (src/cmd/sops_options.c).
_gitseal_flags()
{
	# sops's cloud KMS and key-service flags are refused, and not offered
	local common="--decryption-order --enable-local-keyservice --config --verbose --indent -h --help"
	local keys="-a --age -p --pgp --hc-vault-transit --shamir-secret-sharing-threshold --drop-unsupported-keys -y --yes"
	local selection="--unencrypted-suffix --encrypted-suffix --unencrypted-regex --encrypted-regex --unencrypted-comment-regex --encrypted-comment-regex --mac-only-encrypted"
	local types="--input-type --output-type"
	_gitseal_reply=
	case $1 in
	encrypt) _gitseal_reply="$keys $selection $types $common -i --in-place --output --filename-override" ;;
	decrypt) _gitseal_reply="$types $common --extract --ignore-mac -i --in-place --output --filename-override" ;;
	edit) _gitseal_reply="$keys $selection $types $common --ignore-mac -s --show-master-keys --keep-file-rule" ;;
	set) _gitseal_reply="$types $common --value-file --value-stdin --idempotent --keep-file-rule --ignore-mac --shamir-secret-sharing-threshold" ;;
	unset) _gitseal_reply="$types $common --idempotent --ignore-mac --shamir-secret-sharing-threshold" ;;
	rotate) _gitseal_reply="$types $common -i --in-place --output --filename-override --ignore-mac --add-age --rm-age --add-pgp --rm-pgp --add-hc-vault-transit --rm-hc-vault-transit -r --recursive -y --yes --shamir-secret-sharing-threshold --drop-unsupported-keys" ;;
	updatekeys) _gitseal_reply="$common -y --yes -r --recursive --rotate --input-type --shamir-secret-sharing-threshold --drop-unsupported-keys" ;;
	groups)
		case $2 in
		add) _gitseal_reply="$types $common -f --file --age --pgp --hc-vault-transit -i --in-place --shamir-secret-sharing-threshold --drop-unsupported-keys -y --yes" ;;
		delete) _gitseal_reply="$types $common -f --file -i --in-place --shamir-secret-sharing-threshold" ;;
		*) _gitseal_reply="-h --help" ;;
		esac ;;
	filestatus) _gitseal_reply="--input-type --config --verbose -h --help" ;;
	exec-env) _gitseal_reply="$common --background --pristine --allow-unencrypted-env --user --same-process --input-type --ignore-mac" ;;
	exec-file) _gitseal_reply="$types $common --background --no-fifo --user --filename --ignore-mac" ;;
	age) _gitseal_reply="-e --encrypt -d --decrypt -o --output -a --armor -p --passphrase -r --recipient -R --recipients-file -i --identity --allow-mixed -h --help" ;;
	keygen) _gitseal_reply="-pq -o --output -y -h --help" ;;
	git)
		case $2 in
		init) _gitseal_reply="--no-hook --hook" ;;
		check) _gitseal_reply="--commits --pre-push" ;;
		lock) _gitseal_reply="-f --force" ;;
		trust) _gitseal_reply="-y --yes" ;;
		*) _gitseal_reply="-h --help" ;;
		esac ;;
	render) _gitseal_reply="--root --bind-namespace --allow-empty --discover -h --help" ;;
	krm) _gitseal_reply="--root --legacy -h --help" ;;
	esac
}

# What the value of flag $2 of command $1 is, in _gitseal_reply: type,
# file, text, or none (the flag takes no value).
_gitseal_value()
{
	case $1:$2 in
	*:--input-type | *:--output-type) _gitseal_reply=type ;;
	age:-o | age:-R | age:-i | keygen:-o) _gitseal_reply=file ;;
	age:-r | age:--recipient) _gitseal_reply=text ;;
	age:* | keygen:*) case $2 in --output | --recipients-file | --identity) _gitseal_reply=file ;; *) _gitseal_reply=none ;; esac ;;
	*:--output | *:--config | *:--value-file | *:--filename-override | *:--file | krm:--legacy) _gitseal_reply=file ;;
	render:--root | krm:--root) _gitseal_reply=dir ;;
	render:*) _gitseal_reply=none ;;
	*:-f) _gitseal_reply=file ;;
	*:-a | *:--age | *:-p | *:--pgp | *:--hc-vault-transit | *:--add-* | *:--rm-* | *:--shamir-secret-sharing-threshold | \
	*:--indent | *:--extract | *:--*-suffix | *:--*-regex | exec-file:--filename | *:-k | *:--kms | *:--gcp-kms | \
	*:--azure-kv | *:--hckms | *:--aws-profile | *:--encryption-context | *:--decryption-order | *:--keyservice | \
	*:--user) _gitseal_reply=text ;;
	*) _gitseal_reply=none ;;
	esac
}

_gitseal_files()
{
	if declare -F _filedir >/dev/null 2>&1; then
		_filedir "$@"
	else
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen "${1:--f}" -- "$cur")
	fi
}

_gitseal()
{
	local cur prev words cword split _gitseal_reply
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion -s || return
	else
		COMPREPLY=()
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${words[cword]}
		prev=${words[cword - 1]}
		# readline splits "--flag=value" at '=' (COMP_WORDBREAKS)
		if [[ $cur == = ]]; then
			cur=
		elif [[ $prev == = ]] && ((cword > 1)); then
			prev=${words[cword - 2]}
		fi
	fi

	# sops's global flags may come before the command (gitseal --config F decrypt)
	local cmd= sub= i first=1
	while ((first < cword)) && [[ ${words[first]} == -* ]]; do
		case ${words[first]} in
		-e | --encrypt) cmd=encrypt ;;
		-d | --decrypt) cmd=decrypt ;;
		-r | --rotate) cmd=rotate ;;
		--config | --indent | --decryption-order | --*-comment-regex | --keyservice) ((first++)) ;;
		esac
		[[ -n $cmd ]] && break
		((first++))
	done
	if [[ -z $cmd ]] && ((cword == first)); then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "--help --version -v -e --encrypt -d --decrypt -r --rotate --set --config --verbose --indent --mac-only-encrypted --unencrypted-comment-regex --encrypted-comment-regex --decryption-order" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$_gitseal_commands help version" -- "$cur")
		fi
		return
	fi
	[[ -n $cmd ]] || cmd=${words[first]}
	if [[ $cmd == git || $cmd == groups ]]; then
		if ((cword == first + 1)); then
			local subs="add delete"
			[[ $cmd == git ]] && subs="init status lock unlock check trust filter-process textconv merge"
			mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
			return
		fi
		sub=${words[first + 1]}
	fi

	_gitseal_value "$cmd" "$prev"
	case $_gitseal_reply in
	type)
		mapfile -t COMPREPLY < <(compgen -W "$_gitseal_types" -- "$cur")
		return ;;
	file)
		_gitseal_files
		return ;;
	dir)
		_gitseal_files -d
		return ;;
	text)
		return ;;
	esac

	if [[ $cur == -* ]]; then
		_gitseal_flags "$cmd" "$sub"
		mapfile -t COMPREPLY < <(compgen -W "$_gitseal_reply" -- "$cur")
		return
	fi
	case $cmd:$sub in
	render:*) _gitseal_files -d ;;
	krm:* | git:check | git:status | git:lock | git:unlock | git:filter-process | groups:*) ;;
	*) _gitseal_files ;;
	esac
} &&
	complete -F _gitseal gitseal
