/* The age header (spec §3): strict parser, serialiser and MAC, plus the
 * HKDF and wrap-key AEAD shared by the recipient types. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/hmac.h"

#include "age_int.h"

/* RFC 5869 HKDF-SHA-256 on gitseal/hmac.h (1.0.18 has no HKDF): libsodium's
 * HMAC unless libcrypto is loaded anyway, which keeps OpenSSL's start-up
 * (about a millisecond) off the path of small age files. */
int age_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
		    const char *info, uint8_t *out, size_t out_len)
{
	static const uint8_t zero_salt[GS_HMAC_SHA256_SIZE];
	struct gs_hmac_sha256 *st = gs_secure_alloc(sizeof(*st));
	uint8_t *prk = gs_secure_alloc(GS_HMAC_SHA256_SIZE);
	uint8_t *block = gs_secure_alloc(GS_HMAC_SHA256_SIZE);
	size_t done = 0, n;
	uint8_t counter = 1;
	int ret = 0;

	if (st)
		memset(st, 0, sizeof(*st));
	if (!st || !prk || !block || out_len > 255 * GS_HMAC_SHA256_SIZE) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
		goto out;
	}
	/* extract: PRK = HMAC(salt, IKM); an absent salt is HashLen zeros */
	if (!salt_len) {
		salt = zero_salt;
		salt_len = sizeof(zero_salt);
	}
	if ((ret = gs_hmac_sha256_init(st, salt, salt_len)) || (ret = gs_hmac_sha256_update(st, ikm, ikm_len)) ||
	    (ret = gs_hmac_sha256_final(st, prk)))
		goto out;
	/* expand: T(i) = HMAC(PRK, T(i-1) || info || i) */
	while (done < out_len) {
		if ((ret = gs_hmac_sha256_init(st, prk, GS_HMAC_SHA256_SIZE)) ||
		    (done && (ret = gs_hmac_sha256_update(st, block, GS_HMAC_SHA256_SIZE))) ||
		    (ret = gs_hmac_sha256_update(st, info, strlen(info))) ||
		    (ret = gs_hmac_sha256_update(st, &counter, 1)) || (ret = gs_hmac_sha256_final(st, block)))
			goto out;
		n = out_len - done < GS_HMAC_SHA256_SIZE ? out_len - done : GS_HMAC_SHA256_SIZE;
		memcpy(out + done, block, n);
		done += n;
		counter++;
	}
out:
	if (st)
		gs_hmac_sha256_release(st);
	gs_secure_free(st);
	gs_secure_free(prk);
	gs_secure_free(block);
	return ret;
}

int age_aead_wrap(const uint8_t key[32], const uint8_t file_key[AGE_FILE_KEY_SIZE],
		  uint8_t out[AGE_WRAPPED_KEY_SIZE])
{
	static const uint8_t zero_nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	unsigned long long clen;

	crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, file_key, AGE_FILE_KEY_SIZE, NULL, 0,
						  NULL, zero_nonce, key);
	return 0;
}

int age_aead_unwrap(const uint8_t key[32], const uint8_t *body, size_t body_len,
		    uint8_t file_key[AGE_FILE_KEY_SIZE], const char *type)
{
	static const uint8_t zero_nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	unsigned long long mlen;

	/* spec §4: check the length before decrypting (partitioning oracles). */
	if (body_len != AGE_WRAPPED_KEY_SIZE)
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid %s stanza: wrapped key is not 32 bytes", type);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(file_key, &mlen, NULL, body, body_len, NULL, 0,
						      zero_nonce, key) != 0)
		return AGE_UNWRAP_SKIP;
	return 0;
}

void age_header_release(struct age_header *h)
{
	size_t i, j;

	for (i = 0; i < h->count; i++) {
		for (j = 0; j < h->stanzas[i].argc; j++)
			free(h->stanzas[i].args[j]);
		free(h->stanzas[i].args);
		free(h->stanzas[i].body);
	}
	free(h->stanzas);
	memset(h, 0, sizeof(*h));
}

int age_stanza_add(struct age_header *h, const char *const *args, size_t argc, const uint8_t *body,
		   size_t body_len)
{
	struct age_stanza *s, *grown;
	size_t i;

	grown = gs_realloc(h->stanzas, (h->count + 1) * sizeof(*grown));
	if (!grown)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	h->stanzas = grown;
	s = &h->stanzas[h->count];
	memset(s, 0, sizeof(*s));
	s->args = gs_calloc(argc ? argc : 1, sizeof(char *));
	s->body = gs_malloc(body_len ? body_len : 1);
	if (!s->args || !s->body)
		goto nomem;
	h->count++;
	for (i = 0; i < argc; i++) {
		s->args[i] = gs_strdup(args[i]);
		if (!s->args[i])
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		s->argc++;
	}
	if (body_len)
		memcpy(s->body, body, body_len);
	s->body_len = body_len;
	return 0;
nomem:
	free(s->args);
	free(s->body);
	return GS_FAIL(GS_ERR_NOMEM, "out of memory");
}

static bool arg_char_ok(uint8_t c)
{
	return c >= 0x21 && c <= 0x7e;
}

static int header_line(struct age_bufin *b, const uint8_t **line, size_t *len)
{
	bool lf;
	int ret = age_bufin_line(b, line, len, &lf);

	if (ret == GS_ERR_LIMIT)
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid header: line too long");
	if (ret)
		return ret;
	if (!lf)
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid header: unexpected end of file");
	return 0;
}

/* "-> TYPE ARG..." (spec §3.3): single spaces, printable ASCII, >= 1 arg. */
static int malformed_stanza(void)
{
	return GS_FAIL(GS_ERR_AGE_HEADER, "invalid header: malformed stanza line");
}

static int parse_stanza_args(const uint8_t *line, size_t len, char ***args_out, size_t *argc_out)
{
	char **args = NULL;
	size_t argc = 0, i, start;
	int ret;

	if (len < 4 || line[2] != ' ')
		return malformed_stanza();
	args = gs_calloc(len / 2 + 1, sizeof(char *));
	if (!args)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	start = 3;
	for (i = 3; i <= len; i++) {
		if (i < len && line[i] != ' ') {
			if (!arg_char_ok(line[i])) {
				ret = malformed_stanza();
				goto fail;
			}
			continue;
		}
		if (i == start) {
			ret = malformed_stanza();
			goto fail;
		}
		args[argc] = gs_strndup((const char *)line + start, i - start);
		if (!args[argc]) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			goto fail;
		}
		argc++;
		start = i + 1;
	}
	*args_out = args;
	*argc_out = argc;
	return 0;
fail:
	for (i = 0; i < argc; i++)
		free(args[i]);
	free(args);
	return ret;
}

/* Counts a line (and its newline) against AGE_HEADER_MAX. */
static int count_line(size_t *total, size_t len)
{
	*total += len + 1;
	return *total > AGE_HEADER_MAX ? GS_FAIL(GS_ERR_AGE_HEADER, "invalid header: header too large") : 0;
}

/* spec §3.4: "--- " and exactly 43 canonical characters. */
static int parse_mac_line(const uint8_t *line, size_t len, struct age_header *h)
{
	size_t n;

	if (len != 4 + 43 || line[3] != ' ' ||
	    gs_base64_decode_raw((const char *)line + 4, 43, h->mac, sizeof(h->mac), &n) != 0 || n != AGE_MAC_SIZE)
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid header: malformed MAC line");
	return 0;
}

/* A stanza's body (spec §3.3): full lines of AGE_STANZA_COLUMNS
 * canonical base64 characters, ended by a shorter one (maybe empty). */
static int read_stanza_body(struct age_bufin *b, size_t *total, struct gs_buf *body)
{
	uint8_t dec[AGE_STANZA_LINE_BYTES];
	const uint8_t *line;
	size_t len, n;
	int ret;

	gs_buf_reset(body);
	do {
		if ((ret = header_line(b, &line, &len)) || (ret = count_line(total, len)))
			return ret;
		if (len > AGE_STANZA_COLUMNS ||
		    gs_base64_decode_raw((const char *)line, len, dec, sizeof(dec), &n) != 0)
			return GS_FAIL(GS_ERR_AGE_HEADER, "invalid header: malformed stanza body");
		if ((ret = gs_buf_append(body, dec, n)))
			return ret;
	} while (len == AGE_STANZA_COLUMNS);
	return 0;
}

/* A stanza: its "-> " line (line[len]) and its body, added to h. */
static int read_stanza(struct age_bufin *b, const uint8_t *line, size_t len, size_t *total,
		       struct gs_buf *body, struct age_header *h)
{
	char **args = NULL;
	size_t argc = 0;
	int ret;

	if ((ret = parse_stanza_args(line, len, &args, &argc)))
		return ret;
	if (!(ret = read_stanza_body(b, total, body)))
		ret = age_stanza_add(h, (const char *const *)args, argc, body->data, body->len);
	for (size_t i = 0; i < argc; i++)
		free(args[i]);
	free(args);
	return ret;
}

int age_header_parse(struct age_bufin *b, struct age_header *h)
{
	struct gs_buf body;
	const uint8_t *line;
	size_t len, total = 0;
	int ret;

	memset(h, 0, sizeof(*h));
	gs_buf_init(&body, false);
	if ((ret = header_line(b, &line, &len)))
		goto out;
	if (len != strlen(AGE_INTRO) || memcmp(line, AGE_INTRO, len) != 0) {
		ret = GS_FAIL(GS_ERR_AGE_HEADER, "invalid header: unsupported version line");
		goto out;
	}
	for (;;) {
		if ((ret = header_line(b, &line, &len)) || (ret = count_line(&total, len)))
			goto out;
		if (len >= 3 && memcmp(line, "---", 3) == 0) {
			ret = parse_mac_line(line, len, h);
			break;
		}
		if (len < 2 || memcmp(line, "->", 2) != 0) {
			ret = GS_FAIL(GS_ERR_AGE_HEADER, "invalid header: unexpected line");
			goto out;
		}
		if ((ret = read_stanza(b, line, len, &total, &body, h)))
			goto out;
	}
out:
	gs_buf_release(&body);
	if (ret)
		age_header_release(h);
	return ret;
}

static int write_stanza(const struct age_stanza *s, struct gs_buf *out)
{
	char line[AGE_STANZA_COLUMNS + 2];
	int ret;

	if ((ret = gs_buf_append_str(out, "->")))
		return ret;
	for (size_t j = 0; j < s->argc; j++)
		if ((ret = gs_buf_append_str(out, " ")) || (ret = gs_buf_append_str(out, s->args[j])))
			return ret;
	if ((ret = gs_buf_append_str(out, "\n")))
		return ret;
	/* Full 64-column lines, then a short (maybe empty) final line. */
	for (size_t off = 0;; off += AGE_STANZA_LINE_BYTES) {
		size_t n = s->body_len - off > AGE_STANZA_LINE_BYTES ? AGE_STANZA_LINE_BYTES : s->body_len - off;

		gs_base64_encode_raw(s->body + off, n, line, sizeof(line));
		if ((ret = gs_buf_append_str(out, line)) || (ret = gs_buf_append_str(out, "\n")))
			return ret;
		if (n < AGE_STANZA_LINE_BYTES)
			return 0;
	}
}

int age_header_write_mac_input(const struct age_header *h, struct gs_buf *out)
{
	int ret;

	if ((ret = gs_buf_append_str(out, AGE_INTRO "\n")))
		return ret;
	for (size_t i = 0; i < h->count; i++)
		if ((ret = write_stanza(&h->stanzas[i], out)))
			return ret;
	return gs_buf_append_str(out, "---");
}

int age_header_write(const struct age_header *h, struct gs_buf *out)
{
	char mac[48] = " ";
	int ret;

	if ((ret = age_header_write_mac_input(h, out)))
		return ret;
	/* appended, not printed: the only printf of a small `age -e` was a
	 * page fault into libc's vfprintf */
	gs_base64_encode_raw(h->mac, sizeof(h->mac), mac + 1, sizeof(mac) - 2);
	strcat(mac, "\n");
	return gs_buf_append_str(out, mac);
}

int age_header_compute_mac(const struct age_header *h, const uint8_t *file_key, uint8_t mac[AGE_MAC_SIZE])
{
	uint8_t *key = gs_secure_alloc(32);
	struct gs_buf input;
	int ret;

	if (!key)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	gs_buf_init(&input, false);
	ret = age_header_write_mac_input(h, &input);
	if (ret)
		goto out;
	/* spec §3.5: HMAC key = HKDF(file key, empty salt, "header"). */
	ret = age_hkdf_sha256(file_key, AGE_FILE_KEY_SIZE, NULL, 0, "header", key, 32);
	if (ret)
		goto out;
	struct gs_hmac_sha256 st = { 0 };

	if (!(ret = gs_hmac_sha256_init(&st, key, 32)) && !(ret = gs_hmac_sha256_update(&st, input.data, input.len)))
		ret = gs_hmac_sha256_final(&st, mac);
	gs_hmac_sha256_release(&st);
out:
	gs_secure_free(key);
	gs_buf_release(&input);
	return ret;
}
