# render and krm under valgrind: a directory with two sealed Secrets, a
# plain manifest and a KSOPS generator fed as a ResourceList.
rcpt=$(cat "$KEYS/demo-age-recipient.txt")
export SOPS_AGE_KEY_FILE="$KEYS/demo-age-key.txt"
app="$work/app"
mkdir -p "$app"
printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: t0p-s3cr3t\n  port: "5432"\n' >"$work/db.yaml"
printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\ntype: Opaque\ndata:\n  token: aHVudGVyMg==\n' >"$work/tls.yaml"
"$BIN" encrypt --age "$rcpt" --encrypted-regex '^(data|stringData)$' "$work/db.yaml" >"$app/db.enc.yaml"
"$BIN" encrypt --age "$rcpt" --encrypted-regex '^(data|stringData)$' "$work/tls.yaml" >"$app/tls.enc.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: production\n' >"$app/config.yaml"
vg "$BIN" render "$app" | grep -q 'password: t0p-s3cr3t' || { echo "render output wrong"; exit 1; }
{
	printf 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n'
	printf '  apiVersion: viaduct.ai/v1\n  kind: ksops\n  metadata:\n    name: gen\n  files:\n  - ./db.enc.yaml\n  - tls.enc.yaml\n'
} >"$work/rl.yaml"
(cd "$app" && vg "$BIN" krm <"$work/rl.yaml") | grep -q 'password: t0p-s3cr3t' || { echo "krm output wrong"; exit 1; }
# failures: a wrong key for render, an alias bomb for krm
if SOPS_AGE_KEY_FILE="$KEYS/test-age-key-2.txt" vg "$BIN" render "$app" >/dev/null 2>&1; then
	echo "render with the wrong key succeeded"; exit 1
elif [ $? -eq 99 ]; then
	echo "valgrind errors in a failed render"; exit 1
fi
printf 'apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- &a {x: [*a]}\n' >"$work/rl-bad.yaml"
if vg "$BIN" krm <"$work/rl-bad.yaml" >/dev/null 2>&1; then
	echo "krm accepted a bad ResourceList"; exit 1
elif [ $? -eq 99 ]; then
	echo "valgrind errors in a failed krm"; exit 1
fi
# a kustomization: an encrypted resource bound to its source, a sops
# dotenv secretGenerator source decrypted in a staged copy; and the
# failures of a copied ciphertext and a path outside the root
kz="$work/kz"
mkdir -p "$kz/.git" "$kz/app"
cp "$app/db.enc.yaml" "$app/config.yaml" "$kz/app/"
printf 'API_KEY=abc123\n' >"$work/app.env"
"$BIN" encrypt --age "$rcpt" "$work/app.env" >"$kz/app/app.enc.env"
printf 'namePrefix: p-\nresources: [db.enc.yaml, config.yaml]\nsecretGenerator:\n- name: env\n  envs: [app.enc.env]\n' >"$kz/app/kustomization.yaml"
vg "$BIN" render "$kz/app" | grep -q 'password: t0p-s3cr3t' || { echo "render of a kustomization wrong"; exit 1; }
sed -n 's/^ *password: \(ENC\[.*\]\)$/apiVersion: v1\nkind: Secret\nmetadata:\n  name: c\nstringData:\n  password: \1/p' "$app/db.enc.yaml" >"$kz/app/copy.yaml"
# each failure alone: with both in one list, both renders stopped at the
# path outside the root and the copy was never read
for list in "copy.yaml:holds the encrypted values of" "../../outside.yaml:leads outside the root"; do
	printf 'resources: [db.enc.yaml, %s]\n' "${list%%:*}" >"$kz/app/kustomization.yaml"
	if vg "$BIN" render --root "$kz/app" "$kz/app" >/dev/null 2>"$work/render.err"; then
		echo "render with ${list%%:*} succeeded"; exit 1
	elif [ $? -eq 99 ]; then
		echo "valgrind errors in a failed render"; exit 1
	fi
	grep -qF "${list#*:}" "$work/render.err" || { cat "$work/render.err"; exit 1; }
done
unset SOPS_AGE_KEY_FILE
