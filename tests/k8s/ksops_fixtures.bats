#!/usr/bin/env bats
# KSOPS v4.5.1's own fixtures (../shared/testdata/ksops, README there): each
# *.plain.* input sealed for an age key of this run with KSOPS's selection,
# then the kustomization run as KSOPS users run it. Every output must equal
# the fixture's want.yaml byte for byte.

bats_require_minimum_version 1.5.0
load k8s_helpers

FIXTURES="${GITSEAL_SHARED:-../shared}/testdata/ksops"

setup_file() {
	[ -d "$FIXTURES" ] || return 0
	export FX_TMP="$(mktemp -d)"
	age-keygen -o "$FX_TMP/key.txt" 2>/dev/null
	age-keygen -y "$FX_TMP/key.txt" >"$FX_TMP/recipient.txt"
	local rcpt
	rcpt=$(cat "$FX_TMP/recipient.txt")
	for mode in legacy krm; do
		for d in "$FIXTURES/$mode"/*/; do
			local n w
			n=$(basename "$d")
			w="$FX_TMP/$mode/$n"
			mkdir -p "$w"
			cp -r "$d". "$w/"
			mv "$w/want.yaml" "$FX_TMP/$mode-$n.want"
			# the name the generator config expects: *.plain.* -> *.enc.*
			find "$w" -name '*.plain.*' | while read -r p; do
				"$FIXTURE_BIN" encrypt --age "$rcpt" \
					--unencrypted-regex '^(apiVersion|metadata|kind|type)$' "$p" >"${p/.plain./.enc.}"
				rm "$p"
			done
		done
	done
}

teardown_file() {
	# no FX_TMP where setup_file found no fixtures (a clone made elsewhere)
	if [ -n "${FX_TMP:-}" ]; then rm -rf "$FX_TMP"; fi
}

setup() {
	[ -d "$FIXTURES" ] || skip "../shared/testdata/ksops is absent"
	setup_tmp
	export SOPS_AGE_KEY_FILE="$FX_TMP/key.txt"
}
teardown() { teardown_tmp; }

# same NAME OUTPUT: OUTPUT equals the fixture's want.yaml byte for byte
same() {
	printf '%s\n' "$2" >"$TMP/got.yaml"
	diff -u "$FX_TMP/$1.want" "$TMP/got.yaml"
}

@test "KSOPS legacy fixtures: kubectl kustomize --enable-alpha-plugins with gitseal as ksops" {
	local dir="$XDG_CONFIG_HOME/kustomize/plugin/viaduct.ai/v1/ksops"
	mkdir -p "$dir"
	ln -s "$GITSEAL_BIN" "$dir/ksops"
	local count=0
	for w in "$FX_TMP"/legacy/*/; do
		n=$(basename "$w")
		run --separate-stderr kubectl kustomize --enable-alpha-plugins "$w"
		[ "$status" -eq 0 ] || { echo "legacy/$n: $stderr"; false; }
		same "legacy-$n" "$output"
		count=$((count + 1))
	done
	[ "$count" -eq 9 ]
}

@test "KSOPS KRM fixtures: kpt fn eval --exec gitseal krm" {
	local count=0
	mkdir -p "$TMP/empty"
	for w in "$FX_TMP"/krm/*/; do
		n=$(basename "$w")
		cd "$w"
		run --separate-stderr kpt fn eval --exec "$GITSEAL_BIN krm" \
			--fn-config generate-resources.yaml -o unwrap "$TMP/empty"
		[ "$status" -eq 0 ] || { echo "krm/$n: $stderr"; false; }
		case $n in
		hash | behaviors)
			# the name hash and the replacement of a base Secret are
			# kustomize's work on generator output: kpt hands back the
			# generated Secret with its annotation (checked byte for byte
			# under kustomize through render below)
			grep -q "kustomize.config.k8s.io/" <<<"$output"
			sed -e '/annotations:/d' -e '/kustomize.config.k8s.io\//d' \
				-e 's/^  name: mysecret-hash$/  name: mysecret-hash-h55dbmfg7b/' <<<"$output" >"$TMP/got.yaml"
			diff -u "$FX_TMP/krm-$n.want" "$TMP/got.yaml"
			;;
		*)
			same "krm-$n" "$output"
			;;
		esac
		count=$((count + 1))
	done
	[ "$count" -eq 9 ]
}

@test "KSOPS fixtures, legacy and KRM configs (viaduct.ai/v1 and v2), through gitseal render" {
	local count=0
	for w in "$FX_TMP"/legacy/*/ "$FX_TMP"/krm/*/; do
		n=$(basename "$w")
		mode=$(basename "$(dirname "$w")")
		run --separate-stderr "$GITSEAL_BIN" render "$w"
		[ "$status" -eq 0 ] || { echo "$mode/$n: $stderr"; false; }
		same "$mode-$n" "$output"
		count=$((count + 1))
	done
	[ "$count" -eq 18 ]
	grep -q 'apiVersion: viaduct.ai/v2' "$FX_TMP/krm/behaviors/generate-resources.yaml"
}
