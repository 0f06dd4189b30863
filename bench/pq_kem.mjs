// Operations per second of npm age-encryption's post-quantum hybrid
// recipient type, measured as bench/pq_kem.c measures gitseal's: keygen
// (a new identity and its recipient), encapsulate (wrap a file key for a
// parsed recipient), decapsulate (unwrap it with a parsed identity).
// usage: node pq_kem.mjs [SECONDS per measurement, default 1]
import * as age from "age-encryption";

const seconds = Number(process.argv[2] || 1);
const now = () => performance.now() / 1000;

async function measure(name, op) {
	const start = now();
	let n = 0, t;
	do {
		for (let i = 0; i < 4; i++) await op();
		n += 4;
		t = now() - start;
	} while (t < seconds);
	console.log(`${name} ${Math.round(n / t)}`);
}

const identity = await age.generateHybridIdentity();
const recipient = await age.identityToRecipient(identity);
// the parsed recipient and identity objects the Encrypter and Decrypter build
const e = new age.Encrypter();
e.addRecipient(recipient);
const d = new age.Decrypter();
d.addIdentity(identity);
const [r] = e.recipients, [id] = d.identities;
const fileKey = crypto.getRandomValues(new Uint8Array(16));
const stanzas = await r.wrapFileKey(fileKey);
if (Buffer.compare(Buffer.from(await id.unwrapFileKey(stanzas)), Buffer.from(fileKey)) !== 0)
	throw new Error("round trip failed");

await measure("keygen", async () => age.identityToRecipient(await age.generateHybridIdentity()));
await measure("encapsulate", () => r.wrapFileKey(fileKey));
await measure("decapsulate", () => id.unwrapFileKey(stanzas));
