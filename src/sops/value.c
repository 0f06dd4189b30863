/* One encrypted value: ENC[AES256_GCM,data:..,iv:..,tag:..,type:..]
 * (spec 2, sops aes/cipher.go) and the typed plaintext it carries. */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/random.h"
#include "gitseal/base64.h"
#include "gitseal/dynlib.h"
#include "gitseal/heap.h"
#include "gitseal/store.h"
#include "gitseal/worker.h"
#include "sops_int.h"

static const char *const type_names[] = {
	[SOPS_TYPE_STR] = "str",   [SOPS_TYPE_INT] = "int",         [SOPS_TYPE_FLOAT] = "float",
	[SOPS_TYPE_BOOL] = "bool", [SOPS_TYPE_TIME] = "time",       [SOPS_TYPE_COMMENT] = "comment",
	[SOPS_TYPE_BYTES] = "bytes",
};

const char *sops_value_type_name(enum sops_value_type t)
{
	return type_names[t];
}

int sops_value_type_from_name(const char *name, size_t len, enum sops_value_type *out)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strlen(type_names[i]) == len && memcmp(type_names[i], name, len) == 0) {
			*out = (enum sops_value_type)i;
			return 0;
		}
	}
	return GS_FAIL(GS_ERR_DECRYPT_VALUE, "unknown encrypted value type");
}

/* Rightmost occurrence of needle starting in [from, to - nlen]: memrchr
 * for its first byte (a byte at a time was an eighth of decrypting a
 * short value). */
static const char *rfind(const char *from, const char *to, const char *needle)
{
	size_t nlen = strlen(needle);
	const char *p;

	if (to < from || (size_t)(to - from) < nlen)
		return NULL;
	for (size_t room = (size_t)(to - from) - nlen + 1;
	     room && (p = memrchr(from, *needle, room)); room = (size_t)(p - from)) {
		if (memcmp(p, needle, nlen) == 0)
			return p;
	}
	return NULL;
}

/* The regex ^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\] with
 * greedy groups: each group ends at the rightmost separator that still
 * leaves a non-empty match for the rest. Groups cannot hold '\n' ('.'),
 * so only the first line counts. */
int sops_enc_parse(const char *s, size_t len, struct sops_enc_fields *out)
{
	const size_t plen = sizeof(SOPS_ENC_DATA) - 1;
	const char *nl, *end, *d0, *close, *type_sep, *tag_sep, *iv_sep;

	if (len < plen || memcmp(s, SOPS_ENC_DATA, plen) != 0)
		goto bad;
	nl = memchr(s, '\n', len);
	end = nl ? nl : s + len;
	d0 = s + plen;
	close = rfind(d0, end, "]");
	if (!close)
		goto bad;
	/* ",type:" at r needs r + 6 < close (a non-empty type). */
	type_sep = rfind(d0, close - 1 >= d0 ? close - 1 : d0, ",type:");
	if (!type_sep)
		goto bad;
	tag_sep = rfind(d0, type_sep - 1 >= d0 ? type_sep - 1 : d0, ",tag:");
	if (!tag_sep)
		goto bad;
	iv_sep = rfind(d0, tag_sep - 1 >= d0 ? tag_sep - 1 : d0, ",iv:");
	if (!iv_sep || iv_sep == d0)
		goto bad;
	out->data = d0;
	out->data_len = (size_t)(iv_sep - d0);
	out->iv = iv_sep + 4;
	out->iv_len = (size_t)(tag_sep - out->iv);
	out->tag = tag_sep + 5;
	out->tag_len = (size_t)(type_sep - out->tag);
	out->type = type_sep + 6;
	out->type_len = (size_t)(close - out->type);
	if (!out->data_len || !out->iv_len || !out->tag_len || !out->type_len)
		goto bad;
	return 0;
bad:
	return GS_FAIL(GS_ERR_DECRYPT_VALUE, "value does not match sops' data format");
}

bool sops_enc_looks_encrypted(const char *s, size_t len)
{
	struct sops_enc_fields f;

	if (sops_enc_parse(s, len, &f) < 0) {
		gs_error_clear();
		return false;
	}
	return true;
}

/* Go base64.StdEncoding: standard alphabet, '=' padding required. The
 * output may be the input itself (decoding only moves bytes forward). */
static int b64_decode_into(const char *in, size_t len, uint8_t *out, size_t *out_len)
{
	if (gs_base64_decode(in, len, out, out_len) != 0)
		return GS_FAIL(GS_ERR_DECRYPT_VALUE, "invalid base64 in encrypted value");
	return 0;
}

static size_t b64_decoded_max(size_t len)
{
	return len / 4 * 3 + 3;
}

/* AES-256-GCM fetched once: OpenSSL 3 would otherwise look the algorithm up
 * again for every value (a third of the time of a large decrypt). */
static EVP_CIPHER *aes_gcm;
static pthread_once_t aes_gcm_once = PTHREAD_ONCE_INIT;

static void aes_gcm_fetch(void)
{
	aes_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

static const EVP_CIPHER *aes_256_gcm(void)
{
	pthread_once(&aes_gcm_once, aes_gcm_fetch);
	return aes_gcm;
}

/* what a sops file's values and MAC first ask of OpenSSL */
static void aes_256_gcm_warm(void)
{
	(void)aes_256_gcm();
	sops_mac_warm();
}

void sops_crypto_warm(size_t input_bytes)
{
	void (*first)(void) = NULL;

	/* a small input never uses the worker: a thread made for nothing
	 * cost 8% of a small decrypt */
	if (input_bytes >= STORE_THREADED_MIN_INPUT) {
		/* before the threads: a block another thread takes from the
		 * heap's top while gs_heap_expect aligns it lands in the first
		 * huge page's range, which then faults in 4 KiB pages (about 480
		 * faults more, 1 decrypt of 3 in the sops bench) */
		gs_heap_expect(input_bytes);
		gs_heap_share();
		gs_worker_prepare();
		first = gs_heap_prefault;
	}
	gs_libcrypto_warm(first, aes_256_gcm_warm);
}

void sops_cipher_init(struct sops_cipher *c)
{
	memset(c, 0, sizeof(*c));
}

void sops_cipher_release(struct sops_cipher *c)
{
	/* EVP_CIPHER_CTX_free cleanses the key schedule */
	if (c->ctx[0])
		EVP_CIPHER_CTX_free(c->ctx[0]);
	if (c->ctx[1])
		EVP_CIPHER_CTX_free(c->ctx[1]);
	memset(c, 0, sizeof(*c));
}

/* A context keyed with key and iv, made once per direction and walk: a
 * context per value costs more than the AES work on a short value. The
 * default provider always has AES-256-GCM and takes any key and IV of
 * these sizes: setting it up fails only out of memory, never for what the
 * file holds (not a value that fails to authenticate). */
static int cipher_start(struct sops_cipher *c, bool encrypt, const uint8_t *key, const uint8_t *iv,
			size_t iv_len, EVP_CIPHER_CTX **out)
{
	EVP_CIPHER_CTX **slot = &c->ctx[encrypt];
	int ret;

	if (iv_len > INT32_MAX)
		goto bad_iv;
	/* libcrypto and the cipher are looked up once per context, not once
	 * per value (pthread_once twice a value was 3 M instructions in the
	 * proof of a 10,000-value file) */
	if (!*slot) {
		if ((ret = gs_libcrypto_load()) < 0)
			return ret;
		if (!aes_256_gcm() || !(*slot = EVP_CIPHER_CTX_new()))
			goto nomem;
		if (EVP_CipherInit_ex(*slot, aes_256_gcm(), NULL, NULL, NULL, encrypt) != 1) {
			EVP_CIPHER_CTX_free(*slot);
			*slot = NULL;
			goto nomem;
		}
	}
	/* sops: a 32-byte nonce, so the IV length is set before key and IV;
	 * the key schedule and GHASH table are made once per key */
	if (c->iv_len[encrypt] != iv_len) {
		c->key[encrypt] = NULL;
		/* OpenSSL's GCM takes IVs of 1 to 128 bytes: a longer one read
		 * from a file is the file's fault, not a lack of memory */
		if (EVP_CIPHER_CTX_ctrl(*slot, EVP_CTRL_AEAD_SET_IVLEN, (int)iv_len, NULL) != 1)
			goto bad_iv;
		c->iv_len[encrypt] = iv_len;
	}
	if (EVP_CipherInit_ex(*slot, NULL, NULL, c->key[encrypt] == key ? NULL : key, iv, encrypt) != 1) {
		c->iv_len[encrypt] = 0;
		goto nomem;
	}
	c->key[encrypt] = key;
	*out = *slot;
	return 0;
nomem:
	return GS_FAIL(GS_ERR_NOMEM, "cannot set up AES-256-GCM: out of memory");
bad_iv:
	return encrypt ? GS_FAIL(GS_ERR_ENCRYPT, "cannot encrypt value")
		       : GS_FAIL(GS_ERR_DECRYPT_VALUE, "cannot decrypt value: authentication failed");
}

/* Plaintext is encrypted and base64-encoded in pieces of a multiple of 3
 * bytes, straight into the output: no whole-value ciphertext buffer. */
enum { ENCRYPT_PIECE = 3 * 4096 };

static int encrypt_into(EVP_CIPHER_CTX *ctx, const uint8_t *plain, size_t len, struct gs_buf *out)
{
	uint8_t piece[ENCRYPT_PIECE];
	size_t done = 0;
	int n, ret;

	if ((ret = gs_buf_reserve(out, GS_BASE64_LEN(len) + 1)))
		return ret;
	while (done < len) {
		size_t step = len - done < sizeof(piece) ? len - done : sizeof(piece);

		if (EVP_EncryptUpdate(ctx, piece, &n, plain + done, (int)step) != 1 || (size_t)n != step)
			return GS_FAIL(GS_ERR_ENCRYPT, "cannot encrypt value");
		ret = gs_base64_append(out, piece, step);
		sodium_memzero(piece, step);
		if (ret < 0)
			return ret;
		done += step;
	}
	return 0;
}

int sops_value_encrypt_with(struct sops_cipher *c, const uint8_t key[SOPS_DATA_KEY_SIZE],
			    const uint8_t *plain, size_t len, enum sops_value_type type,
			    const char *aad, size_t aad_len, const uint8_t *iv, size_t iv_len,
			    struct gs_buf *out)
{
	uint8_t ivbuf[SOPS_IV_SIZE], tag[SOPS_TAG_SIZE];
	EVP_CIPHER_CTX *ctx;
	int n = 0, fin = 0, ret;

	if (len > INT32_MAX || aad_len > INT32_MAX)
		return GS_FAIL(GS_ERR_LIMIT, "value too large to encrypt");
	if (!iv) {
		gs_random_buf(ivbuf, sizeof(ivbuf));
		iv = ivbuf;
		iv_len = sizeof(ivbuf);
	}
	if ((ret = cipher_start(c, true, key, iv, iv_len, &ctx)) < 0)
		goto out;
	ret = GS_FAIL(GS_ERR_ENCRYPT, "cannot encrypt value");
	if (aad_len && EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *)aad, (int)aad_len) != 1)
		goto out;
	if ((ret = gs_buf_append_str(out, SOPS_ENC_DATA)) < 0 || (ret = encrypt_into(ctx, plain, len, out)) < 0)
		goto out;
	ret = GS_FAIL(GS_ERR_ENCRYPT, "cannot encrypt value");
	if (EVP_EncryptFinal_ex(ctx, tag, &fin) != 1 || fin != 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, SOPS_TAG_SIZE, tag) != 1)
		goto out;
	if ((ret = gs_buf_append_str(out, ",iv:")) < 0 || (ret = gs_base64_append(out, iv, iv_len)) < 0 ||
	    (ret = gs_buf_append_str(out, ",tag:")) < 0 ||
	    (ret = gs_base64_append(out, tag, sizeof(tag))) < 0 ||
	    (ret = gs_buf_append_str(out, ",type:")) < 0 ||
	    (ret = gs_buf_append_str(out, type_names[type])) < 0 ||
	    (ret = gs_buf_append(out, "]", 1)) < 0)
		goto out;
	ret = 0;
	gs_error_clear();
out:
	return ret;
}

int sops_value_encrypt(const uint8_t key[SOPS_DATA_KEY_SIZE], const uint8_t *plain, size_t len,
		       enum sops_value_type type, const char *aad, size_t aad_len,
		       const uint8_t *iv, size_t iv_len, struct gs_buf *out)
{
	struct sops_cipher c;
	int ret;

	sops_cipher_init(&c);
	ret = sops_value_encrypt_with(&c, key, plain, len, type, aad, aad_len, iv, iv_len, out);
	sops_cipher_release(&c);
	return ret;
}

/* The IV and the tag of an ENC string, decoded: on the stack at the sizes
 * sops writes, on the heap for whatever else a file holds. */
enum { SIDE_INLINE = 48 };

struct enc_side {
	uint8_t *iv, *tag;
	size_t iv_len, tag_len;
	uint8_t iv_inline[SIDE_INLINE], tag_inline[SIDE_INLINE];
};

static void enc_side_release(struct enc_side *s)
{
	if (s->iv != s->iv_inline)
		free(s->iv);
	if (s->tag != s->tag_inline)
		free(s->tag);
}

static uint8_t *side_buffer(uint8_t *inline_buf, size_t need)
{
	return need <= SIDE_INLINE ? inline_buf : gs_malloc(need);
}

static int enc_side_decode(const struct sops_enc_fields *f, struct enc_side *s)
{
	s->iv = side_buffer(s->iv_inline, b64_decoded_max(f->iv_len));
	s->tag = side_buffer(s->tag_inline, b64_decoded_max(f->tag_len));
	if (!s->iv || !s->tag)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (b64_decode_into(f->iv, f->iv_len, s->iv, &s->iv_len) < 0 ||
	    b64_decode_into(f->tag, f->tag_len, s->tag, &s->tag_len) < 0)
		return GS_ERR_DECRYPT_VALUE;
	return 0;
}

/* buf holds data then tag (data_len + tag_len bytes); sops hands
 * data||tag to GCM, which takes the last 16 bytes as the tag. Decrypts in
 * place; *plain_len is the plaintext's length. The tag is verified before
 * this returns success; on failure buf is wiped. */
static int decrypt_in(struct sops_cipher *c, const uint8_t *key, const struct enc_side *s,
		      uint8_t *buf, size_t total, const char *aad, size_t aad_len, size_t *plain_len)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t tag[SOPS_TAG_SIZE];
	size_t ct_len;
	int n = 0, fin = 0, ret = GS_ERR_DECRYPT_VALUE;

	if (total < SOPS_TAG_SIZE || !s->iv_len || total > INT32_MAX || aad_len > INT32_MAX)
		goto out;
	ct_len = total - SOPS_TAG_SIZE;
	memcpy(tag, buf + ct_len, SOPS_TAG_SIZE);
	if ((ret = cipher_start(c, false, key, s->iv, s->iv_len, &ctx)) < 0) {
		sodium_memzero(buf, total);
		return ret;
	}
	ret = GS_ERR_DECRYPT_VALUE;
	if (aad_len && EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *)aad, (int)aad_len) != 1)
		goto out;
	n = 0;
	if (ct_len && EVP_DecryptUpdate(ctx, buf, &n, buf, (int)ct_len) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, SOPS_TAG_SIZE, tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, buf + n, &fin) != 1)
		goto out;
	*plain_len = (size_t)n + (size_t)fin;
	ret = 0;
	gs_error_clear();
out:
	/* the message is made only on failure: formatting it for every value
	 * cost the proof of a 10,000-value file 4 M instructions */
	if (ret < 0) {
		sodium_memzero(buf, total);
		ret = GS_FAIL(GS_ERR_DECRYPT_VALUE, "cannot decrypt value: authentication failed");
	}
	return ret;
}

int sops_value_decrypt_with(struct sops_cipher *c, const uint8_t key[SOPS_DATA_KEY_SIZE],
			    const char *enc, size_t len, const char *aad, size_t aad_len,
			    struct gs_buf *plain, enum sops_value_type *type)
{
	struct sops_enc_fields f;
	struct enc_side side;
	size_t data_len = 0, plain_len = 0;
	int ret;

	memset(&side, 0, sizeof(side));
	gs_buf_reset(plain);
	if ((ret = sops_enc_parse(enc, len, &f)) < 0 ||
	    (ret = sops_value_type_from_name(f.type, f.type_len, type)) < 0 ||
	    (ret = enc_side_decode(&f, &side)) < 0 ||
	    (ret = gs_buf_reserve(plain, b64_decoded_max(f.data_len) + side.tag_len)) < 0 ||
	    (ret = b64_decode_into(f.data, f.data_len, plain->data, &data_len)) < 0)
		goto out;
	memcpy(plain->data + data_len, side.tag, side.tag_len);
	if ((ret = decrypt_in(c, key, &side, plain->data, data_len + side.tag_len, aad, aad_len,
			      &plain_len)) < 0)
		goto out;
	plain->len = plain_len;
	plain->data[plain->len] = '\0';
out:
	if (ret < 0)
		gs_buf_reset(plain);
	enc_side_release(&side);
	return ret;
}

int sops_value_decrypt(const uint8_t key[SOPS_DATA_KEY_SIZE], const char *enc, size_t len,
		       const char *aad, size_t aad_len, struct gs_buf *plain,
		       enum sops_value_type *type)
{
	struct sops_cipher c;
	int ret;

	sops_cipher_init(&c);
	ret = sops_value_decrypt_with(&c, key, enc, len, aad, aad_len, plain, type);
	sops_cipher_release(&c);
	return ret;
}

int sops_value_decrypt_in_place(struct sops_cipher *c, const uint8_t key[SOPS_DATA_KEY_SIZE],
				char *enc, size_t len, const char *aad, size_t aad_len,
				size_t *plain_len, enum sops_value_type *type)
{
	struct sops_enc_fields f;
	struct enc_side side;
	size_t data_len = 0;
	int ret;

	memset(&side, 0, sizeof(side));
	/* the type, IV and tag are read before the data overwrites the text */
	if ((ret = sops_enc_parse(enc, len, &f)) < 0 ||
	    (ret = sops_value_type_from_name(f.type, f.type_len, type)) < 0 ||
	    (ret = enc_side_decode(&f, &side)) < 0)
		goto out;
	/* data decodes to at most 3/4 of its text, which starts 20 bytes in:
	 * with a tag of the usual size, data and tag fit before the IV */
	if (b64_decoded_max(f.data_len) + side.tag_len > (size_t)(f.iv - enc)) {
		ret = 1;
		goto out;
	}
	if ((ret = b64_decode_into(f.data, f.data_len, (uint8_t *)enc, &data_len)) < 0)
		goto out;
	memcpy(enc + data_len, side.tag, side.tag_len);
	if ((ret = decrypt_in(c, key, &side, (uint8_t *)enc, data_len + side.tag_len, aad, aad_len,
			      plain_len)) < 0)
		goto out;
	/* what is left of the ENC text is cleared, the plaintext ends in NUL */
	sodium_memzero(enc + *plain_len, len - *plain_len);
out:
	enc_side_release(&side);
	return ret;
}

/* Go FormatFloat(v, 'f', -1, 64): the fewest significant digits that read
 * back as v, written without an exponent (spec 2.3). */
int sops_float_format(double v, char *out, size_t cap)
{
	char sci[40], digits[24];
	int prec, exp10, nd = 0, pos = 0;
	const char *p;
	bool neg;

#define PUT(c)                                                         \
	do {                                                           \
		if ((size_t)pos + 1 >= cap)                            \
			return GS_FAIL(GS_ERR_LIMIT, "float too long"); \
		out[pos++] = (c);                                      \
	} while (0)

	if (isnan(v))
		return snprintf(out, cap, "NaN") < (int)cap ? 0 : GS_ERR_LIMIT;
	if (isinf(v))
		return snprintf(out, cap, "%s", v > 0 ? "+Inf" : "-Inf") < (int)cap ? 0 : GS_ERR_LIMIT;
	for (prec = 1; prec <= 17; prec++) {
		snprintf(sci, sizeof(sci), "%.*e", prec - 1, v);
		if (strtod(sci, NULL) == v)
			break;
	}
	neg = sci[0] == '-';
	p = sci + (neg ? 1 : 0);
	for (; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	exp10 = *p == 'e' ? atoi(p + 1) : 0;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (nd == 1 && digits[0] == '0') {
		exp10 = 0;
		neg = signbit(v) != 0;
	}
	if (neg)
		PUT('-');
	/* value = 0.d1d2d3... x 10^(exp10 + 1) */
	if (exp10 < 0) {
		PUT('0');
		PUT('.');
		for (int i = 0; i < -exp10 - 1; i++)
			PUT('0');
		for (int i = 0; i < nd; i++)
			PUT(digits[i]);
	} else {
		for (int i = 0; i <= exp10; i++)
			PUT(i < nd ? digits[i] : '0');
		if (nd > exp10 + 1) {
			PUT('.');
			for (int i = exp10 + 1; i < nd; i++)
				PUT(digits[i]);
		}
	}
#undef PUT
	out[pos] = '\0';
	return 0;
}

/* strconv.ParseBool */
static int parse_bool(const char *s, size_t len, bool *out)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < 6; i++) {
		if (strlen(yes[i]) == len && memcmp(yes[i], s, len) == 0) {
			*out = true;
			return 0;
		}
		if (strlen(no[i]) == len && memcmp(no[i], s, len) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* strconv.ParseFloat(s, 64), near enough: strtod without leading space,
 * whole input consumed, overflow rejected. */
static int parse_float(const char *s, size_t len, double *out)
{
	char buf[400], *end;

	if (!len || len >= sizeof(buf) || s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r'))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (memchr(buf, '\0', len))
		return -1;
	errno = 0;
	*out = strtod(buf, &end);
	if (end != buf + len || (errno == ERANGE && isinf(*out)))
		return -1;
	return 0;
}

/* A time as sops hashes and encrypts it; one Go cannot read is an error
 * (spec 2.3: a type conversion error fails the whole tree). */
static int append_time(struct gs_buf *out, const char *s, size_t len, enum gs_err err)
{
	char text[SOPS_TIME_TEXT_MAX];
	size_t text_len;

	if (sops_time_value_canonical(s, len, text, &text_len) < 0)
		return GS_FAIL(err, "%s", err == GS_ERR_DECRYPT_VALUE ? "decrypted value is not a valid time (RFC 3339)"
								       : "invalid time value");
	return gs_buf_append(out, text, text_len);
}

int sops_node_plaintext(const struct doc_node *n, struct gs_buf *out, enum sops_value_type *type)
{
	char num[400];
	double v;
	bool b;
	int ret;

	gs_buf_reset(out);
	if (n->kind == DOC_COMMENT) {
		*type = SOPS_TYPE_COMMENT;
		return gs_buf_append(out, n->text, n->len);
	}
	switch (n->type) {
	case DOC_INT:
		/* sops's form, strconv.Itoa of what Atoi reads: the MAC takes it,
		 * whatever spelling is encrypted ("+5" and "007" hash as "5" and
		 * "7", as sops hashes the int it read) */
		*type = SOPS_TYPE_INT;
		if ((ret = store_append_int_canonical(out, n->text, n->len)) == GS_ERR_NOMEM)
			return ret;
		if (ret < 0)
			return GS_FAIL(GS_ERR_ENCRYPT, "invalid int value");
		return 0;
	case DOC_FLOAT:
		*type = SOPS_TYPE_FLOAT;
		if (parse_float(n->text, n->len, &v) < 0) {
			if (n->len == 4 && memcmp(n->text, "+Inf", 4) == 0)
				v = INFINITY;
			else
				return GS_FAIL(GS_ERR_ENCRYPT, "invalid float value");
		}
		if (sops_float_format(v, num, sizeof(num)) < 0)
			return GS_FAIL(GS_ERR_ENCRYPT, "invalid float value");
		return gs_buf_append_str(out, num);
	case DOC_BOOL:
		*type = SOPS_TYPE_BOOL;
		if (parse_bool(n->text, n->len, &b) < 0)
			return GS_FAIL(GS_ERR_ENCRYPT, "invalid bool value");
		/* sops writes Python's spelling (spec 2.3). */
		return gs_buf_append_str(out, b ? "True" : "False");
	case DOC_TIME:
		*type = SOPS_TYPE_TIME;
		return append_time(out, n->text, n->len, GS_ERR_ENCRYPT);
	case DOC_STR:
	default:
		*type = SOPS_TYPE_STR;
		return gs_buf_append(out, n->text, n->len);
	}
}

int sops_plaintext_canonical(enum sops_value_type type, const uint8_t *plain, size_t len,
			     struct gs_buf *out)
{
	const char *s = (const char *)plain;
	char num[400];
	double fv;
	bool b;
	int ret;

	gs_buf_reset(out);
	switch (type) {
	case SOPS_TYPE_INT:
		if ((ret = store_append_int_canonical(out, s, len)) == GS_ERR_NOMEM)
			return ret;
		if (ret < 0)
			return GS_FAIL(GS_ERR_DECRYPT_VALUE, "decrypted value is not a valid int");
		return 0;
	case SOPS_TYPE_FLOAT:
		if (parse_float(s, len, &fv) < 0 || sops_float_format(fv, num, sizeof(num)) < 0)
			return GS_FAIL(GS_ERR_DECRYPT_VALUE, "decrypted value is not a valid float");
		return gs_buf_append_str(out, num);
	case SOPS_TYPE_BOOL:
		if (parse_bool(s, len, &b) < 0)
			return GS_FAIL(GS_ERR_DECRYPT_VALUE, "decrypted value is not a valid bool");
		return gs_buf_append_str(out, b ? "True" : "False");
	case SOPS_TYPE_TIME:
		return append_time(out, s, len, GS_ERR_DECRYPT_VALUE);
	case SOPS_TYPE_STR:
	case SOPS_TYPE_BYTES:
	case SOPS_TYPE_COMMENT:
	default:
		return gs_buf_append(out, plain, len);
	}
}

int sops_node_set_canonical(struct doc *d, struct doc_node *n, enum sops_value_type type,
			    const uint8_t *canon, size_t len)
{
	const char *s = (const char *)canon;
	int ret;

	switch (type) {
	case SOPS_TYPE_INT:
		return doc_scalar_set(d, n, DOC_INT, s, len);
	case SOPS_TYPE_FLOAT:
		return doc_scalar_set(d, n, DOC_FLOAT, s, len);
	case SOPS_TYPE_BOOL:
		return doc_scalar_set(d, n, DOC_BOOL, s[0] == 'T' ? "true" : "false",
				      s[0] == 'T' ? 4 : 5);
	case SOPS_TYPE_COMMENT:
		ret = doc_scalar_set(d, n, DOC_STR, s, len);
		if (ret == 0)
			n->kind = DOC_COMMENT;
		return ret;
	case SOPS_TYPE_TIME:
		return doc_scalar_set(d, n, DOC_TIME, s, len);
	case SOPS_TYPE_STR:
	case SOPS_TYPE_BYTES:
	default:
		return doc_scalar_set(d, n, DOC_STR, s, len);
	}
}
