// An independent reader of a sops JSON file encrypted for a PGP key, written
// from the sops format (../shared/spec/sops-format.md) and not from
// gitseal's code: `gpg --decrypt` of the first pgp entry's enc gives the
// data key; every ENC[AES256_GCM,...] value is opened with AES-256-GCM, the
// AAD being the path of map keys joined with ':' plus a final ':'; the MAC
// (SHA-512 over the plaintexts in order, upper-case hex, stored encrypted
// with the lastmodified text as AAD) is checked. Prints the plaintext
// document as JSON on stdout. Maps of strings, numbers and booleans only.
//
//   node pgp_check.mjs FILE.json
import { execFileSync } from 'node:child_process';
import { createDecipheriv, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const doc = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const meta = doc.sops;
delete doc.sops;
if (!meta || !Array.isArray(meta.pgp) || !meta.pgp.length) throw new Error('no pgp entry');

const key = execFileSync('gpg', ['--batch', '--quiet', '--decrypt'], {
	input: meta.pgp[0].enc,
	stdio: ['pipe', 'pipe', 'inherit'],
});
if (key.length !== 32) throw new Error(`data key of ${key.length} bytes`);

function open(value, aad) {
	const m = /^ENC\[AES256_GCM,data:([^,]*),iv:([^,]+),tag:([^,]+),type:([a-z]+)\]$/.exec(value);
	if (!m) throw new Error(`not an encrypted value: ${value}`);
	const d = createDecipheriv('aes-256-gcm', key, Buffer.from(m[2], 'base64'));
	d.setAAD(Buffer.from(aad, 'utf8'));
	d.setAuthTag(Buffer.from(m[3], 'base64'));
	const plain = Buffer.concat([d.update(Buffer.from(m[1], 'base64')), d.final()]);
	return { plain, type: m[4] };
}

const mac = createHash('sha512');

function walk(node, path) {
	for (const k of Object.keys(node)) {
		const here = [...path, k];
		const v = node[k];
		if (v !== null && typeof v === 'object') {
			walk(v, here);
			continue;
		}
		const { plain, type } = open(v, here.join(':') + ':');
		mac.update(plain);
		const text = plain.toString('utf8');
		if (type === 'str') node[k] = text;
		else if (type === 'int' || type === 'float') node[k] = Number(text);
		else if (type === 'bool') node[k] = text === 'True';
		else throw new Error(`type ${type}`);
	}
}

walk(doc, []);
const stored = open(meta.mac, meta.lastmodified).plain.toString('utf8');
const computed = mac.digest('hex').toUpperCase();
if (stored !== computed) throw new Error('MAC mismatch');
process.stdout.write(JSON.stringify(doc) + '\n');
