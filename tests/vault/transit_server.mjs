// A stand-in for HashiCorp Vault's transit engine, for the test suite only:
// POST /v1/<engine>/encrypt/<key> and /v1/<engine>/decrypt/<key>, with a
// real AES-256-GCM key per key name (created on first use) and the
// X-Vault-Token header checked. Plain HTTP on 127.0.0.1, or HTTPS with
// the certificate and key given; no policies, no key versions beyond v1,
// no persistence.
//
//   node transit_server.mjs PORT TOKEN [LOGFILE [CERT.pem KEY.pem]]
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomBytes, createCipheriv, createDecipheriv } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';

const [port, token, logFile, certFile, keyFile] = process.argv.slice(2);
const createServer = certFile
	? (handler) => createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handler)
	: createHttpServer;
if (!port || !token) {
	console.error('usage: transit_server.mjs PORT TOKEN [LOGFILE]');
	process.exit(2);
}
const keys = new Map(); // "engine/name" -> 32-byte key

function keyFor(engine, name) {
	const id = `${engine}/${name}`;
	if (!keys.has(id)) keys.set(id, randomBytes(32));
	return keys.get(id);
}

function reply(res, status, body) {
	res.writeHead(status, { 'Content-Type': 'application/json' });
	res.end(JSON.stringify(body));
}

function log(line) {
	if (logFile) appendFileSync(logFile, line + '\n');
}

const server = createServer((req, res) => {
	let body = '';
	req.on('data', (c) => {
		body += c;
		if (body.length > 1 << 20) req.destroy();
	});
	req.on('end', () => {
		const m = /^\/v1\/(.+)\/(encrypt|decrypt)\/([^/]+)$/.exec(req.url);
		log(`${req.method} ${req.url}`);
		if (req.method !== 'POST' || !m) return reply(res, 404, { errors: ['no handler for route'] });
		if (req.headers['x-vault-token'] !== token) return reply(res, 403, { errors: ['permission denied'] });
		let input;
		try {
			input = JSON.parse(body);
		} catch {
			return reply(res, 400, { errors: ['failed to parse JSON input'] });
		}
		const [, engine, op, name] = m;
		const key = keyFor(engine, name);
		if (op === 'encrypt') {
			if (typeof input.plaintext !== 'string') return reply(res, 400, { errors: ['missing plaintext to encrypt'] });
			const nonce = randomBytes(12);
			const c = createCipheriv('aes-256-gcm', key, nonce);
			const ct = Buffer.concat([c.update(Buffer.from(input.plaintext, 'base64')), c.final(), c.getAuthTag()]);
			return reply(res, 200, { data: { ciphertext: 'vault:v1:' + Buffer.concat([nonce, ct]).toString('base64'), key_version: 1 } });
		}
		const cm = typeof input.ciphertext === 'string' && /^vault:v1:([A-Za-z0-9+/=]+)$/.exec(input.ciphertext);
		if (!cm) return reply(res, 400, { errors: ['invalid ciphertext: no prefix'] });
		const raw = Buffer.from(cm[1], 'base64');
		if (raw.length < 28) return reply(res, 400, { errors: ['invalid ciphertext: too short'] });
		try {
			const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
			d.setAuthTag(raw.subarray(raw.length - 16));
			const pt = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
			return reply(res, 200, { data: { plaintext: pt.toString('base64') } });
		} catch {
			return reply(res, 400, { errors: ['cipher: message authentication failed'] });
		}
	});
});
server.listen(Number(port), '127.0.0.1', () => log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
