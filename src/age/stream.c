/* The STREAM payload (spec §6): ChaCha20-Poly1305 over 64 KiB chunks, nonce
 * = 11-byte big-endian counter || last-chunk flag.
 *
 * Small payloads (sops data keys, most secrets) stay on the calling thread
 * and on libsodium: nothing to load, nothing to start. From LARGE_FROM_CHUNK
 * on, OpenSSL's AEAD takes over (its AVX2/AVX-512 code runs at 2-3 times
 * libsodium 1.0.18's speed, but mapping libcrypto costs about a
 * millisecond, more than a small file's whole encryption), and output goes
 * through a write-behind thread (write_behind.c), so the kernel's copy of
 * one batch of chunks overlaps the cipher on the next. Both libraries
 * compute the same IETF ChaCha20-Poly1305. Memory is constant: one input
 * chunk and the write-behind ring. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "gitseal/dynlib.h"
#include "gitseal/error.h"

#include "age_int.h"

enum {
	LARGE_FROM_CHUNK = 16,
	SMALL_PAYLOAD = 2048, /* the first read of an encryption (a pool slot) */
	BATCH_CHUNKS = 4,     /* chunks per write-behind buffer */
};

struct stream {
	EVP_CIPHER_CTX *ctx;         /* created at LARGE_FROM_CHUNK */
	uint8_t *key;                /* secure, 32 bytes */
	uint64_t counter;
	bool enc;
};

static int stream_init(struct stream *s, const uint8_t *file_key, const uint8_t *nonce, bool enc)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->enc = enc;
	s->key = gs_secure_alloc(32);
	if (!s->key)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	/* spec §6: payload key = HKDF(file key, salt = nonce, "payload"). */
	ret = age_hkdf_sha256(file_key, AGE_FILE_KEY_SIZE, nonce, AGE_NONCE_SIZE, "payload", s->key, 32);
	return ret;
}

/* True when this chunk goes through OpenSSL (created on first use). */
static int use_openssl(struct stream *s, bool *yes)
{
	int ret;

	*yes = s->counter >= LARGE_FROM_CHUNK;
	if (!*yes || s->ctx)
		return 0;
	if ((ret = gs_libcrypto_load()) < 0)
		return ret;
	s->ctx = EVP_CIPHER_CTX_new();
	if (!s->ctx || EVP_CipherInit_ex(s->ctx, EVP_chacha20_poly1305(), NULL, s->key, NULL,
					 s->enc ? 1 : 0) != 1)
		return GS_FAIL(GS_ERR_GENERIC, "cannot initialise chacha20-poly1305");
	return 0;
}

static void stream_release(struct stream *s)
{
	EVP_CIPHER_CTX_free(s->ctx);
	gs_secure_free(s->key);
	memset(s, 0, sizeof(*s));
}

static void chunk_nonce(uint64_t counter, bool last, uint8_t nonce[12])
{
	int i;

	memset(nonce, 0, 12);
	for (i = 0; i < 8; i++)
		nonce[10 - i] = (uint8_t)(counter >> (8 * i));
	nonce[11] = last ? 1 : 0;
}

static int seal_chunk(struct stream *s, const uint8_t *pt, size_t len, bool last, uint8_t *ct)
{
	uint8_t nonce[12];
	int outl = 0, finl = 0;
	bool openssl;

	chunk_nonce(s->counter, last, nonce);
	if (use_openssl(s, &openssl))
		return GS_ERR_GENERIC;
	if (!openssl) {
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(ct, ct + len, NULL, pt, len, NULL, 0,
								   NULL, nonce, s->key);
		return 0;
	}
	if (EVP_CipherInit_ex(s->ctx, NULL, NULL, NULL, nonce, 1) != 1 ||
	    (len && EVP_CipherUpdate(s->ctx, ct, &outl, pt, (int)len) != 1) ||
	    EVP_CipherFinal_ex(s->ctx, ct + outl, &finl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_GET_TAG, AGE_TAG_SIZE, ct + len) != 1)
		return GS_FAIL(GS_ERR_GENERIC, "chacha20-poly1305 encryption failed");
	return 0;
}

/* Returns 0 when the chunk authenticates under the given flag, 1 if not. */
static int open_chunk(struct stream *s, const uint8_t *ct, size_t ct_len, bool last, uint8_t *pt)
{
	size_t len = ct_len - AGE_TAG_SIZE;
	uint8_t nonce[12];
	int outl = 0, finl = 0;
	bool openssl;

	chunk_nonce(s->counter, last, nonce);
	if (use_openssl(s, &openssl))
		return 1;
	if (!openssl) {
		if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(pt, NULL, ct, len, ct + len, NULL,
								       0, nonce, s->key) != 0) {
			sodium_memzero(pt, len);
			return 1;
		}
		return 0;
	}
	if (EVP_CipherInit_ex(s->ctx, NULL, NULL, NULL, nonce, 0) != 1 ||
	    EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_SET_TAG, AGE_TAG_SIZE, (void *)(ct + len)) != 1 ||
	    (len && EVP_CipherUpdate(s->ctx, pt, &outl, ct, (int)len) != 1) ||
	    EVP_CipherFinal_ex(s->ctx, pt + outl, &finl) != 1) {
		sodium_memzero(pt, len);
		return 1;
	}
	return 0;
}

/* Where sealed or opened chunks go: written one at a time from a buffer
 * of one chunk, then, from LARGE_FROM_CHUNK on, gathered into the
 * write-behind thread's buffers. */
struct chunk_out {
	struct gs_writer *out;
	bool secure;                 /* plaintext: secure memory */
	size_t chunk;                /* the size of a full chunk's output */
	uint8_t *one;
	size_t one_cap;
	struct age_write_behind *wb;
	uint8_t *batch;              /* the write-behind buffer being filled */
	size_t batch_size, used;
};

static void chunk_out_init(struct chunk_out *co, struct gs_writer *out, size_t chunk, bool secure)
{
	memset(co, 0, sizeof(*co));
	co->out = out;
	co->chunk = chunk;
	co->secure = secure;
}

static void free_one(struct chunk_out *co)
{
	if (co->secure)
		gs_secure_free(co->one);
	else
		free(co->one);
	co->one = NULL;
}

/* Space for the output of chunk number counter, len bytes (at most a full
 * chunk's). The buffer of one chunk is sized by the first: a short file
 * needs no 64 KiB buffer. */
static int chunk_out_next(struct chunk_out *co, uint64_t counter, size_t len, uint8_t **dst)
{
	int ret;

	if (!co->wb && counter >= LARGE_FROM_CHUNK) {
		ret = age_write_behind_start(&co->wb, co->out, BATCH_CHUNKS * co->chunk, co->secure);
		if (ret)
			return ret;
		free_one(co);
	}
	if (co->wb) {
		if (!co->batch && (ret = age_write_behind_buffer(co->wb, &co->batch, &co->batch_size)))
			return ret;
		*dst = co->batch + co->used;
		return 0;
	}
	if (co->one_cap < len) {
		free_one(co);
		co->one = co->secure ? gs_secure_alloc(len) : malloc(len);
		co->one_cap = co->one ? len : 0;
		if (!co->one)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	*dst = co->one;
	return 0;
}

static int chunk_out_flush(struct chunk_out *co)
{
	int ret;

	if (!co->batch)
		return 0;
	ret = age_write_behind_submit(co->wb, co->used);
	co->batch = NULL;
	co->used = 0;
	return ret;
}

/* The len bytes at the space from chunk_out_next are final. */
static int chunk_out_commit(struct chunk_out *co, size_t len)
{
	if (!co->wb)
		return co->out->write(co->out->ctx, co->one, len);
	co->used += len;
	if (co->batch_size - co->used >= co->chunk)
		return 0;
	return chunk_out_flush(co);
}

/* Writes what was committed, even after a failure (decryption releases the
 * chunks that authenticated before it); returns ret or a write error. */
static int chunk_out_finish(struct chunk_out *co, int ret)
{
	int flushed = chunk_out_flush(co);

	if (!ret)
		ret = flushed;
	ret = age_write_behind_finish(co->wb, ret);
	free_one(co);
	memset(co, 0, sizeof(*co));
	return ret;
}

/* Seals one chunk of len bytes (pt) into the output. */
static int put_sealed(struct stream *s, struct chunk_out *co, const uint8_t *pt, size_t len, bool last)
{
	uint8_t *dst;
	int ret;

	ret = chunk_out_next(co, s->counter, len + AGE_TAG_SIZE, &dst);
	if (!ret)
		ret = seal_chunk(s, pt, len, last, dst);
	if (!ret)
		ret = chunk_out_commit(co, len + AGE_TAG_SIZE);
	return ret;
}

int age_stream_encrypt(const uint8_t file_key[AGE_FILE_KEY_SIZE], const uint8_t nonce[AGE_NONCE_SIZE],
		       struct gs_reader *in, struct gs_writer *out)
{
	struct stream s;
	struct chunk_out co;
	uint8_t *pt = gs_secure_alloc(SMALL_PAYLOAD), *big;
	size_t carry = 0, got, n;
	int ret;

	chunk_out_init(&co, out, AGE_CHUNK_CT_SIZE, false);
	ret = stream_init(&s, file_key, nonce, true);
	if (!ret && !pt)
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	/* Most payloads (sops data keys, small files) fit a small buffer: the
	 * chunk-sized one is taken only when the input is larger. */
	if (!ret)
		ret = gs_read_full(in, pt, SMALL_PAYLOAD, &got);
	if (!ret && got < SMALL_PAYLOAD) {
		ret = put_sealed(&s, &co, pt, got, true);
		goto out;
	}
	if (!ret) {
		big = gs_secure_alloc(AGE_CHUNK_SIZE + 1);
		if (big)
			memcpy(big, pt, got);
		gs_secure_free(pt);
		pt = big;
		carry = got;
		if (!pt)
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	while (!ret) {
		/* One byte of look-ahead decides the last-chunk flag, so a
		 * multiple of 64 KiB never gets an empty final chunk. */
		ret = gs_read_full(in, pt + carry, AGE_CHUNK_SIZE + 1 - carry, &got);
		if (ret)
			break;
		n = carry + got;
		if (n <= AGE_CHUNK_SIZE) {
			ret = put_sealed(&s, &co, pt, n, true);
			break;
		}
		ret = put_sealed(&s, &co, pt, AGE_CHUNK_SIZE, false);
		pt[0] = pt[AGE_CHUNK_SIZE];
		carry = 1;
		s.counter++;
	}
out:
	ret = chunk_out_finish(&co, ret);
	stream_release(&s);
	gs_secure_free(pt);
	return ret;
}

/* Opens the chunk of got bytes at ct into the output. Spec §6's order: the
 * flag is never guessed from look-ahead; a full chunk that does not
 * authenticate as a middle one is tried as the last. *last says which. */
static int put_opened(struct stream *s, struct chunk_out *co, const uint8_t *ct, size_t got, bool *last)
{
	size_t len = got - AGE_TAG_SIZE;
	uint8_t *pt;
	int ret;

	ret = chunk_out_next(co, s->counter, len, &pt);
	if (ret)
		return ret;
	if (got < AGE_CHUNK_CT_SIZE) {
		if (open_chunk(s, ct, got, true, pt) != 0)
			return GS_FAIL(GS_ERR_AGE_PAYLOAD, "payload chunk failed to authenticate");
		*last = true;
	} else if (open_chunk(s, ct, got, false, pt) == 0) {
		*last = false;
	} else if (open_chunk(s, ct, got, true, pt) == 0) {
		*last = true;
	} else {
		return GS_FAIL(GS_ERR_AGE_PAYLOAD, "payload chunk failed to authenticate");
	}
	return chunk_out_commit(co, len);
}

int age_stream_decrypt(const uint8_t file_key[AGE_FILE_KEY_SIZE], const uint8_t nonce[AGE_NONCE_SIZE],
		       struct age_bufin *in, struct gs_writer *out)
{
	struct stream s;
	struct chunk_out co;
	uint8_t *ct = malloc(AGE_CHUNK_CT_SIZE);
	const uint8_t *peek;
	size_t got, avail;
	bool last, openssl;
	int ret;

	chunk_out_init(&co, out, AGE_CHUNK_SIZE, true);
	ret = stream_init(&s, file_key, nonce, false);
	if (!ret && !ct)
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	/* A chunk is released before what follows it is checked, as the test
	 * kit's partial-output hashes require. */
	while (!ret) {
		ret = age_bufin_read(in, ct, AGE_CHUNK_CT_SIZE, &got);
		if (ret)
			break;
		if (got == 0) {
			ret = GS_FAIL(GS_ERR_AGE_PAYLOAD, "truncated payload: missing final chunk");
			break;
		}
		if (got < AGE_TAG_SIZE) {
			ret = GS_FAIL(GS_ERR_AGE_PAYLOAD, "truncated payload: short chunk");
			break;
		}
		if (s.counter > 0 && got == AGE_TAG_SIZE) {
			ret = GS_FAIL(GS_ERR_AGE_PAYLOAD, "invalid payload: empty final chunk");
			break;
		}
		/* set up here, as open_chunk would report a failure to load
		 * OpenSSL as a chunk that does not authenticate */
		if ((ret = use_openssl(&s, &openssl)) < 0)
			break;
		ret = put_opened(&s, &co, ct, got, &last);
		if (ret)
			break;
		if (last) {
			ret = age_bufin_peek(in, 1, &peek, &avail);
			if (!ret && avail)
				ret = GS_FAIL(GS_ERR_AGE_PAYLOAD, "invalid payload: trailing data after the final chunk");
			break;
		}
		if (s.counter == UINT64_MAX) {
			ret = GS_FAIL(GS_ERR_AGE_PAYLOAD, "payload too long");
			break;
		}
		s.counter++;
	}
	ret = chunk_out_finish(&co, ret);
	stream_release(&s);
	free(ct);
	return ret;
}
