// Reads a gitseal-written file with the npm package sops-age (a decryptor
// written by others) and compares the result with the expected plaintext.
// sops-age does not check the MAC, so this script also re-computes the
// sops MAC independently (SHA-512 over typed leaf values, spec section 4)
// and compares it with the file's, decrypted with the data key that
// sops-age's own age dependency unwraps.
// usage: node sops_age.mjs ENCRYPTED_FILE yaml|json AGE_KEY_FILE EXPECTED_PLAINTEXT_FILE
import { readFileSync } from "node:fs";
import { createDecipheriv, createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { decryptSops } from "sops-age";
import YAML from "yaml";

const [file, type, keyFile, expectedFile] = process.argv.slice(2);
const secretKey = readFileSync(keyFile, "utf8").split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-1"));
const parse = (text) => (type === "json" ? JSON.parse(text) : YAML.parse(text, { version: "1.2" }));

function fail(msg) {
	console.error(`sops_age: ${msg}`);
	process.exit(1);
}

const decrypted = await decryptSops(readFileSync(file, "utf8"), { secretKey, fileType: type });
const expected = parse(readFileSync(expectedFile, "utf8"));
if (!isDeepStrictEqual(decrypted, expected))
	fail(`plaintext differs\n got: ${JSON.stringify(decrypted)}\nwant: ${JSON.stringify(expected)}`);

// Independent MAC check.
const enc = parse(readFileSync(file, "utf8"));
const { Decrypter, armor } = await import("age-encryption");
const d = new Decrypter();
d.addIdentity(secretKey);
const dataKey = await d.decrypt(armor.decode(enc.sops.age[0].enc));
function aesDecrypt(value, aad) {
	const m = /^ENC\[AES256_GCM,data:(.*),iv:(.*),tag:(.*),type:(.*)\]$/.exec(value);
	const dec = createDecipheriv("aes-256-gcm", dataKey, Buffer.from(m[2], "base64"));
	dec.setAAD(Buffer.from(aad));
	dec.setAuthTag(Buffer.from(m[3], "base64"));
	return Buffer.concat([dec.update(Buffer.from(m[1], "base64")), dec.final()]);
}
const h = createHash("sha512");
function walk(node) {
	if (node === null) return;
	if (Array.isArray(node)) return node.forEach(walk);
	if (typeof node === "object") return Object.values(node).forEach(walk);
	if (typeof node === "boolean") return h.update(node ? "True" : "False");
	if (typeof node === "number") {
		// sops writes floats in shortest positional form; JS's toString agrees for these tests
		return h.update(Number.isInteger(node) ? node.toFixed(0) : node.toString());
	}
	h.update(String(node));
}
const plainDoc = { ...decrypted };
walk(plainDoc);
const computed = h.digest("hex").toUpperCase();
const stored = aesDecrypt(enc.sops.mac, enc.sops.lastmodified).toString();
if (stored !== computed) fail(`MAC mismatch: file has ${stored}, computed ${computed}`);
console.log("ok");
