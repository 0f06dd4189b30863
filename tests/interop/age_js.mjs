// Drives the npm package age-encryption (typage) for interop tests.
// usage: node age_js.mjs encrypt  RECIPIENT...  -- IN OUT [--armor]
//        node age_js.mjs decrypt  IDENTITYFILE IN OUT
//        node age_js.mjs encrypt-pass PASSPHRASE LOGN IN OUT
//        node age_js.mjs decrypt-pass PASSPHRASE IN OUT
//        node age_js.mjs keygen-pq OUT          (a hybrid identity file, as age-keygen -pq)
//        node age_js.mjs recipient IDENTITYFILE (the recipient of each identity, one a line)
//        node age_js.mjs batch      (one of the above a line of stdin, its words split by tabs:
//                                    node's start-up, a third of a second of CPU, once for all)
import { readFileSync, writeFileSync } from "node:fs";
import * as age from "age-encryption";

function identitiesFrom(path) {
	return readFileSync(path, "utf8").split(/\r?\n/).filter((l) => l && !l.startsWith("#"));
}

function maybeArmored(bytes) {
	const text = Buffer.from(bytes).toString("latin1");
	return text.trimStart().startsWith("-----BEGIN AGE ENCRYPTED FILE-----") ? age.armor.decode(text) : bytes;
}

async function run(cmd, args) {
	if (cmd === "encrypt") {
		const sep = args.indexOf("--");
		const recipients = args.slice(0, sep);
		const [input, output, armor] = args.slice(sep + 1);
		const e = new age.Encrypter();
		for (const r of recipients) e.addRecipient(r);
		const ct = await e.encrypt(readFileSync(input));
		writeFileSync(output, armor === "--armor" ? age.armor.encode(ct) : ct);
	} else if (cmd === "decrypt") {
		const [idFile, input, output] = args;
		const d = new age.Decrypter();
		for (const id of identitiesFrom(idFile)) d.addIdentity(id);
		writeFileSync(output, await d.decrypt(maybeArmored(readFileSync(input))));
	} else if (cmd === "encrypt-pass") {
		const [pass, logN, input, output] = args;
		const e = new age.Encrypter();
		e.setPassphrase(pass);
		e.setScryptWorkFactor(Number(logN));
		writeFileSync(output, await e.encrypt(readFileSync(input)));
	} else if (cmd === "decrypt-pass") {
		const [pass, input, output] = args;
		const d = new age.Decrypter();
		d.addPassphrase(pass);
		writeFileSync(output, await d.decrypt(maybeArmored(readFileSync(input))));
	} else if (cmd === "keygen-pq") {
		const identity = await age.generateHybridIdentity();
		const recipient = await age.identityToRecipient(identity);
		writeFileSync(args[0], `# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
	} else if (cmd === "recipient") {
		for (const id of identitiesFrom(args[0])) console.log(await age.identityToRecipient(id));
	} else {
		throw new Error(`unknown command ${cmd}`);
	}
}

async function main() {
	const [cmd, ...args] = process.argv.slice(2);

	if (cmd !== "batch")
		return run(cmd, args);
	for (const line of readFileSync(0, "utf8").split("\n")) {
		if (line) {
			const [c, ...a] = line.split("\t");
			await run(c, a);
		}
	}
}

main().catch((err) => {
	console.error(`age_js: ${err.message}`);
	process.exit(1);
});
