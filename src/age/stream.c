/* The STREAM payload (spec §6): ChaCha20-Poly1305 over 64 KiB chunks, nonce
 * = 11-byte big-endian counter || last-chunk flag.
 *
 * The first LARGE_FROM_CHUNK chunks (2 MiB) go through libsodium on the
 * calling thread, one at a time: most payloads (sops data keys, secrets) end
 * there, with nothing to load and nothing to start. A larger payload goes on
 * in stream_pipeline.c, over two threads, through OpenSSL's ChaCha20 and
 * Poly1305 code, whose AVX2/AVX-512 code runs at 2-3 times libsodium
 * 1.0.18's speed: linked into the binary where the build has it
 * (chacha_linked.c), else OpenSSL's AEAD through the shared libcrypto.
 * Loading libcrypto and initialising its cipher costs about 3 ms of CPU
 * (callgrind: 3.3 M instructions in dlopen, 7.8 M in OpenSSL's provider
 * set-up and the cipher fetch): on that path, switching at 1 MiB made 1-4
 * MiB files slower, and past 2 MiB the switch pays for itself within a few
 * MiB. When the caller knows the payload is large (age_expect_payload), the
 * switch comes as soon as the cipher is ready: at once when it is linked
 * in, the pipeline taking the payload from chunk 0; else libcrypto loads on
 * another thread meanwhile and the switch comes when it is loaded, early or
 * late, so that neither thread waits for the other. All compute the same
 * IETF ChaCha20-Poly1305. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/dynlib.h"
#include "gitseal/error.h"

#include "age_int.h"

/* room for a batch of either kind in a buffer, off a line by up to 63 bytes */
_Static_assert(AGE_PIPELINE_BATCH_ALLOC >= 2 * (AGE_PIPELINE_LINE - 1) + AGE_PIPELINE_BATCH_SIZE &&
		       AGE_PIPELINE_BATCH_ALLOC >= AGE_PIPELINE_LINE - 1 +
							   (AGE_PIPELINE_BATCH_CHUNKS - 1) * AGE_PIPELINE_STRIDE +
							   AGE_CHUNK_CT_SIZE,
	       "a batch fits its buffer");

enum {
	LARGE_FROM_CHUNK = AGE_STREAM_LARGE_FROM_CHUNK,
	SMALL_PAYLOAD = 2048, /* the first read of an encryption (a pool slot) */
	WORKERS = 2,          /* the pipeline's threads, each with its own context */
};

struct stream {
	uint8_t *key;                /* secure, 32 bytes */
	uint64_t counter;            /* the chunk being processed */
	bool enc;
	/* created when the pipeline starts: the linked cipher's, or else EVP's */
	struct age_linked_aead *linked[WORKERS];
	EVP_CIPHER_CTX *ctx[WORKERS];
	struct gs_writer *out;
	struct gs_reader *in;        /* encryption */
	uint8_t carry;               /* encryption: the look-ahead byte */
	struct age_bufin *bin;       /* decryption */
	bool final_seen;             /* decryption: a batch ended with the last chunk */
};

static int stream_init(struct stream *s, const uint8_t *file_key, const uint8_t *nonce, bool enc,
		       struct gs_writer *out)
{
	memset(s, 0, sizeof(*s));
	s->enc = enc;
	s->out = out;
	s->key = gs_secure_alloc(32);
	if (!s->key)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	/* spec §6: payload key = HKDF(file key, salt = nonce, "payload"). */
	return age_hkdf_sha256(file_key, AGE_FILE_KEY_SIZE, nonce, AGE_NONCE_SIZE, "payload", s->key, 32);
}

static void stream_release(struct stream *s)
{
	for (int i = 0; i < WORKERS; i++) {
		age_linked_aead_free(s->linked[i]);
		EVP_CIPHER_CTX_free(s->ctx[i]);
	}
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

/* The first chunks, on libsodium. */

static void seal_small(struct stream *s, const uint8_t *pt, size_t len, bool last, uint8_t *ct)
{
	uint8_t nonce[12];

	chunk_nonce(s->counter, last, nonce);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(ct, ct + len, NULL, pt, len, NULL, 0, NULL, nonce,
							   s->key);
}

/* Returns 0 when the chunk authenticates under the given flag, 1 if not. */
static int open_small(struct stream *s, const uint8_t *ct, size_t ct_len, bool last, uint8_t *pt)
{
	size_t len = ct_len - AGE_TAG_SIZE;
	uint8_t nonce[12];

	chunk_nonce(s->counter, last, nonce);
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(pt, NULL, ct, len, ct + len, NULL, 0, nonce,
							       s->key) != 0) {
		sodium_memzero(pt, len);
		return 1;
	}
	return 0;
}

/* OpenSSL loaded ahead (age_expect_payload), unless its cipher is linked
 * in. Its first use of the cipher builds the provider and method tables:
 * most of the start-up. */

/* age_expect_payload: the size of the file being read, until
 * age_preload_wait (0: not known) */
static uint64_t input_size;

static struct {
	pthread_t thread;
	bool started;     /* age_expect_payload: a large payload comes */
	bool thread_made; /* libcrypto loads on it */
	atomic_bool done; /* loaded, or failed (start_large reports it) */
} preload;

static void *preload_main(void *arg)
{
	EVP_CIPHER_CTX *ctx;

	(void)arg;
	/* a failure comes back from gs_libcrypto_load in start_large */
	if (gs_libcrypto_load() == 0 && (ctx = EVP_CIPHER_CTX_new())) {
		(void)EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), NULL, NULL, NULL, 1);
		EVP_CIPHER_CTX_free(ctx);
	}
	atomic_store_explicit(&preload.done, true, memory_order_release);
	return NULL;
}

void age_expect_payload(uint64_t file_size)
{
	input_size = file_size;
	/* past the chunks on libsodium, with room for a header */
	if (preload.started || file_size <= (uint64_t)(LARGE_FROM_CHUNK + 2) * AGE_CHUNK_CT_SIZE)
		return;
	/* the cipher linked in has nothing to load: the pipeline takes the
	 * payload from its first chunk */
	if (age_linked_aead_available()) {
		preload.started = true;
		atomic_store_explicit(&preload.done, true, memory_order_release);
		return;
	}
	preload.started = preload.thread_made = pthread_create(&preload.thread, NULL, preload_main, NULL) == 0;
}

void age_preload_wait(void)
{
	if (preload.thread_made)
		pthread_join(preload.thread, NULL);
	preload.started = preload.thread_made = false;
	atomic_store_explicit(&preload.done, false, memory_order_relaxed);
	input_size = 0;
}

bool age_preload_done(void)
{
	return preload.started && atomic_load_explicit(&preload.done, memory_order_acquire);
}

/* Whether the payload moves on to OpenSSL after chunks_done chunks: once
 * the cipher expected ahead is ready (the calling thread neither waits for
 * it nor leaves the other core idle after it; from chunk 0 when it is
 * linked in), else at LARGE_FROM_CHUNK. */
static bool time_to_switch(uint64_t chunks_done)
{
	return preload.started ? age_preload_done() : chunks_done == LARGE_FROM_CHUNK;
}

/* The rest, in place on OpenSSL. */

static int start_large(struct stream *s, const struct age_pipeline_ops *ops)
{
	int ret;

	age_preload_wait();
	if (age_linked_aead_available()) {
		for (int i = 0; i < WORKERS; i++)
			if ((ret = age_linked_aead_new(&s->linked[i], s->key)))
				return ret;
		return age_pipeline_run(ops, s, s->counter);
	}
	if ((ret = gs_libcrypto_load()))
		return ret;
	for (int i = 0; i < WORKERS; i++) {
		s->ctx[i] = EVP_CIPHER_CTX_new();
		if (!s->ctx[i] || EVP_CipherInit_ex(s->ctx[i], EVP_chacha20_poly1305(), NULL, s->key, NULL,
						    s->enc ? 1 : 0) != 1)
			/* the default provider always has it: out of memory */
			return GS_FAIL(GS_ERR_NOMEM, "cannot initialise chacha20-poly1305: out of memory");
	}
	return age_pipeline_run(ops, s, s->counter);
}

/* Seals the len bytes at buf in place and appends the tag. */
static int seal_in_place(struct stream *s, int worker, uint64_t counter, bool last, uint8_t *buf, size_t len)
{
	EVP_CIPHER_CTX *ctx = s->ctx[worker];
	uint8_t nonce[12];
	int outl = 0, finl = 0;

	chunk_nonce(counter, last, nonce);
	if (s->linked[worker]) {
		age_linked_seal(s->linked[worker], nonce, buf, len);
		return 0;
	}
	if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, 1) != 1 ||
	    EVP_CipherUpdate(ctx, buf, &outl, buf, (int)len) != 1 ||
	    EVP_CipherFinal_ex(ctx, buf + outl, &finl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AGE_TAG_SIZE, buf + len) != 1)
		return -1;
	return 0;
}

/* EVP opens the chunk of ct_len bytes at buf in place: 0 when it
 * authenticates under the given flag. Otherwise the bytes are the
 * ciphertext XORed with the flag's keystream, and sealing them again under
 * the same flag gives the ciphertext back (ChaCha20 is an XOR from the
 * same block counter in both directions). */
static int evp_open_in_place(EVP_CIPHER_CTX *ctx, uint64_t counter, bool last, uint8_t *buf, size_t ct_len)
{
	size_t len = ct_len - AGE_TAG_SIZE;
	uint8_t nonce[12];
	int outl = 0, finl = 0;

	chunk_nonce(counter, last, nonce);
	if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, 0) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AGE_TAG_SIZE, buf + len) != 1 ||
	    EVP_CipherUpdate(ctx, buf, &outl, buf, (int)len) != 1)
		return -1;
	return EVP_CipherFinal_ex(ctx, buf + outl, &finl) == 1 ? 0 : 1;
}

/* Opens the chunk of ct_len bytes at buf in place: 0 when it authenticates
 * under the given flag, 1 when not, with the ciphertext as it was (how a
 * full chunk is tried under both flags in place), -1 on an error. */
static int open_in_place(struct stream *s, int worker, uint64_t counter, bool last, uint8_t *buf, size_t ct_len)
{
	uint8_t tag[AGE_TAG_SIZE], nonce[12];
	size_t len = ct_len - AGE_TAG_SIZE;
	int r;

	if (s->linked[worker]) {
		chunk_nonce(counter, last, nonce);
		return age_linked_open(s->linked[worker], nonce, buf, ct_len);
	}
	if ((r = evp_open_in_place(s->ctx[worker], counter, last, buf, ct_len)) != 1)
		return r;
	memcpy(tag, buf + len, AGE_TAG_SIZE);
	if (seal_in_place(s, worker, counter, last, buf, len) != 0)
		return -1;
	memcpy(buf + len, tag, AGE_TAG_SIZE);
	return 1;
}

/* Encryption. */

/* The first cache line's start in b's buffer. */
static uint8_t *first_line(const struct age_batch *b)
{
	uintptr_t p = (uintptr_t)b->data;

	return (uint8_t *)((p + AGE_PIPELINE_LINE - 1) & ~(uintptr_t)(AGE_PIPELINE_LINE - 1));
}

/* Where chunk i of batch b starts: each at a cache line's start. The
 * kernel's copy into a read's buffer runs slower when the buffer and the
 * file offset sit at different places in a cache line: with the chunks
 * back to back (16, 32 and 48 bytes off a line) reading 256 MiB cost the
 * reading thread 24 ms, against 20 with aligned buffers (2026-12-03).
 * Chunk 0's read starts one byte in, after the look-ahead byte carried
 * over from the batch before, and so does its file offset (64 KiB k + 1).
 * The chunks leave gaps; drain writes them with one writev. */
static uint8_t *encrypt_chunk(const struct age_batch *b, size_t i)
{
	return first_line(b) + i * AGE_PIPELINE_STRIDE;
}

/* The batch in one read: chunk 0 after the previous look-ahead byte, the
 * others at their start, then the next look-ahead byte. Four reads of
 * 64 KiB, each one byte in from a line's start, cost the reading thread
 * 20% more. */
static int encrypt_fill(void *ctx, struct age_batch *b)
{
	struct stream *s = ctx;
	struct iovec iov[AGE_PIPELINE_BATCH_CHUNKS + 1];
	uint8_t next, *first = encrypt_chunk(b, 0);
	size_t got, left;
	int ret;

	first[0] = s->carry;
	iov[0] = (struct iovec){ first + 1, AGE_CHUNK_SIZE - 1 };
	for (size_t i = 1; i < AGE_PIPELINE_BATCH_CHUNKS; i++)
		iov[i] = (struct iovec){ encrypt_chunk(b, i), AGE_CHUNK_SIZE };
	iov[AGE_PIPELINE_BATCH_CHUNKS] = (struct iovec){ &next, 1 };
	if ((ret = gs_read_vec(s->in, iov, AGE_PIPELINE_BATCH_CHUNKS + 1, &got)))
		return ret;
	/* got + 1 bytes with the carried one, in chunks of AGE_CHUNK_SIZE */
	left = got + 1;
	for (size_t i = 0; i < AGE_PIPELINE_BATCH_CHUNKS; i++) {
		b->count++;
		if (left <= AGE_CHUNK_SIZE) {
			b->len[i] = left;
			b->end = true;
			return 0;
		}
		b->len[i] = AGE_CHUNK_SIZE;
		left -= AGE_CHUNK_SIZE;
	}
	s->carry = next;
	return 0;
}

static void encrypt_transform(void *ctx, int worker, struct age_batch *b)
{
	struct stream *s = ctx;
	bool last;

	for (b->done = 0; b->done < b->count; b->done++) {
		last = b->end && b->done + 1 == b->count;
		if (seal_in_place(s, worker, b->counter + b->done, last, encrypt_chunk(b, b->done),
				  b->len[b->done]) != 0) {
			b->error = GS_ERR_GENERIC;
			b->why = "chacha20-poly1305 encryption failed";
			return;
		}
		b->len[b->done] += AGE_TAG_SIZE;
	}
}

static int encrypt_drain(void *ctx, struct age_batch *b)
{
	struct stream *s = ctx;
	struct iovec iov[AGE_PIPELINE_BATCH_CHUNKS];
	int ret;

	if (b->error)
		return GS_FAIL(b->error, "%s", b->why);
	for (size_t i = 0; i < b->count; i++)
		iov[i] = (struct iovec){ encrypt_chunk(b, i), b->len[i] };
	ret = gs_write_vec(s->out, iov, (int)b->count);
	return ret ? ret : b->end ? AGE_PIPELINE_COMPLETE : 0;
}

static const struct age_pipeline_ops encrypt_ops = { encrypt_fill, encrypt_transform, encrypt_drain };

int age_stream_encrypt(const uint8_t file_key[AGE_FILE_KEY_SIZE], const uint8_t nonce[AGE_NONCE_SIZE],
		       struct gs_reader *in, struct gs_writer *out)
{
	struct stream s;
	uint8_t *pt = NULL, *big;
	uint8_t *ct = NULL;
	size_t carry = 0, got, n;
	int ret;

	ret = stream_init(&s, file_key, nonce, true, out);
	s.in = in;
	if (ret)
		goto out;
	/* A large payload whose cipher is ready: the pipeline from chunk 0,
	 * after the look-ahead byte (an empty input after all goes on below) */
	if (time_to_switch(0)) {
		if ((ret = gs_read_full(in, &s.carry, 1, &got)))
			goto out;
		if (got) {
			ret = start_large(&s, &encrypt_ops);
			goto out;
		}
	}
	if (!(pt = gs_secure_alloc(SMALL_PAYLOAD))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Most payloads (sops data keys, small files) fit a small buffer: the
	 * chunk-sized one is taken only when the input is larger. */
	if ((ret = gs_read_full(in, pt, SMALL_PAYLOAD, &got)))
		goto out;
	if (!(ct = gs_malloc(got < SMALL_PAYLOAD ? got + AGE_TAG_SIZE : AGE_CHUNK_CT_SIZE))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (got < SMALL_PAYLOAD) {
		seal_small(&s, pt, got, true, ct);
		ret = out->write(out->ctx, ct, got + AGE_TAG_SIZE);
		goto out;
	}
	big = gs_secure_alloc(AGE_CHUNK_SIZE + 1);
	if (big)
		memcpy(big, pt, got);
	gs_secure_free(pt);
	pt = big;
	carry = got;
	if (!pt) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	while (!ret) {
		/* One byte of look-ahead decides the last-chunk flag, so a
		 * multiple of 64 KiB never gets an empty final chunk. */
		ret = gs_read_full(in, pt + carry, AGE_CHUNK_SIZE + 1 - carry, &got);
		if (ret)
			break;
		n = carry + got;
		if (n <= AGE_CHUNK_SIZE) {
			seal_small(&s, pt, n, true, ct);
			ret = out->write(out->ctx, ct, n + AGE_TAG_SIZE);
			break;
		}
		seal_small(&s, pt, AGE_CHUNK_SIZE, false, ct);
		ret = out->write(out->ctx, ct, AGE_CHUNK_CT_SIZE);
		pt[0] = pt[AGE_CHUNK_SIZE];
		carry = 1;
		if (!ret && time_to_switch(++s.counter)) {
			s.carry = pt[0];
			gs_secure_free(pt);
			free(ct);
			pt = ct = NULL;
			ret = start_large(&s, &encrypt_ops);
			break;
		}
	}
out:
	stream_release(&s);
	gs_secure_free(pt);
	free(ct);
	return ret;
}

/* Decryption, in spec §6's order: the flag is never guessed from
 * look-ahead, a full chunk that does not authenticate as a middle one is
 * tried as the last, and a chunk is released before what follows it is
 * checked (the test kit's partial-output hashes require it). */

/* Why chunk number counter, of ct_len bytes, cannot be opened before
 * trying: NULL when it can. */
static const char *chunk_shape_error(uint64_t counter, size_t ct_len)
{
	if (ct_len < AGE_TAG_SIZE)
		return "truncated payload: short chunk";
	if (counter > 0 && ct_len == AGE_TAG_SIZE)
		return "invalid payload: empty final chunk";
	return NULL;
}

static int decrypt_fill(void *ctx, struct age_batch *b)
{
	struct stream *s = ctx;
	size_t got, off;
	int ret;

	/* at the input offset's place in a cache line, as encrypt_chunk says
	 * why (the header puts the chunks anywhere in a line) */
	b->first = first_line(b) + (age_bufin_position(s->bin) & (AGE_PIPELINE_LINE - 1));
	ret = age_bufin_read(s->bin, b->first, AGE_PIPELINE_BATCH_SIZE, &got);
	if (ret)
		return ret;
	b->end = got < AGE_PIPELINE_BATCH_SIZE;
	for (off = 0; off < got; off += AGE_CHUNK_CT_SIZE)
		b->len[b->count++] = got - off < AGE_CHUNK_CT_SIZE ? got - off : AGE_CHUNK_CT_SIZE;
	return 0;
}

static void decrypt_transform(void *ctx, int worker, struct age_batch *b)
{
	struct stream *s = ctx;
	uint64_t counter;
	uint8_t *chunk;
	size_t len;
	int r;

	for (b->done = 0; b->done < b->count; b->done++) {
		counter = b->counter + b->done;
		chunk = b->first + b->done * AGE_CHUNK_CT_SIZE;
		len = b->len[b->done];
		b->error = GS_ERR_AGE_PAYLOAD;
		if ((b->why = chunk_shape_error(counter, len)))
			return;
		b->why = "payload chunk failed to authenticate";
		if (len < AGE_CHUNK_CT_SIZE) {
			r = open_in_place(s, worker, counter, true, chunk, len);
		} else if ((r = open_in_place(s, worker, counter, false, chunk, len)) == 0) {
			b->len[b->done] -= AGE_TAG_SIZE;
			b->error = 0;
			if (counter == UINT64_MAX) {
				b->done++;
				b->error = GS_ERR_AGE_PAYLOAD;
				b->why = "payload too long";
				return;
			}
			continue;
		} else if (r == 1) {
			r = open_in_place(s, worker, counter, true, chunk, len);
		}
		if (r != 0)
			return;
		b->len[b->done++] -= AGE_TAG_SIZE;
		b->final = true;
		b->error = 0;
		return;
	}
	b->error = 0;
}

static int decrypt_drain(void *ctx, struct age_batch *b)
{
	struct stream *s = ctx;
	struct iovec iov[AGE_PIPELINE_BATCH_CHUNKS];
	int ret;

	if (s->final_seen)
		return b->count ? GS_FAIL(GS_ERR_AGE_PAYLOAD, "invalid payload: trailing data after the final chunk")
				: AGE_PIPELINE_COMPLETE;
	/* the authentic chunks, without their tags: one writev to a file
	 * (a write each had cost 4 system calls a batch) */
	for (size_t i = 0; i < b->done; i++)
		iov[i] = (struct iovec){ b->first + i * AGE_CHUNK_CT_SIZE, b->len[i] };
	if (b->done && (ret = gs_write_vec(s->out, iov, (int)b->done)))
		return ret;
	if (b->error)
		return GS_FAIL(b->error, "%s", b->why);
	if (b->final && b->done < b->count)
		return GS_FAIL(GS_ERR_AGE_PAYLOAD, "invalid payload: trailing data after the final chunk");
	if (b->final) {
		s->final_seen = true;
		return b->end ? AGE_PIPELINE_COMPLETE : 0;
	}
	if (b->end)
		return GS_FAIL(GS_ERR_AGE_PAYLOAD, "truncated payload: missing final chunk");
	return 0;
}

static const struct age_pipeline_ops decrypt_ops = { decrypt_fill, decrypt_transform, decrypt_drain };

/* Makes *ct a whole chunk's buffer, its got bytes kept, and reads the rest
 * of the chunk into it. */
static int grow_chunk_buffer(struct age_bufin *in, uint8_t **ct, size_t *ct_size, size_t *got)
{
	uint8_t *grown = gs_realloc(*ct, AGE_CHUNK_CT_SIZE);
	size_t more;
	int ret;

	if (!grown)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	*ct = grown;
	*ct_size = AGE_CHUNK_CT_SIZE;
	if ((ret = age_bufin_read(in, grown + *got, AGE_CHUNK_CT_SIZE - *got, &more)) == 0)
		*got += more;
	return ret;
}

int age_stream_decrypt(const uint8_t file_key[AGE_FILE_KEY_SIZE], const uint8_t nonce[AGE_NONCE_SIZE],
		       struct age_bufin *in, struct gs_writer *out)
{
	struct stream s;
	uint8_t *pt = NULL;
	uint8_t *ct = NULL;
	const uint8_t *peek;
	const char *why;
	size_t got, avail, ct_size = AGE_CHUNK_CT_SIZE;
	bool last;
	int ret;

	ret = stream_init(&s, file_key, nonce, false, out);
	s.bin = in;
	/* a large payload whose cipher is ready: the pipeline from chunk 0 */
	if (!ret && time_to_switch(0)) {
		ret = start_large(&s, &decrypt_ops);
		goto out;
	}
	/* a file of known size with less than a chunk left (a small file)
	 * takes a buffer that size: the far end of 64 KiB cost a page fault
	 * and heap growth */
	if (input_size > age_bufin_position(in) && input_size - age_bufin_position(in) < AGE_CHUNK_CT_SIZE)
		ct_size = (size_t)(input_size - age_bufin_position(in));
	if (!ret && !(ct = gs_malloc(ct_size)))
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	while (!ret) {
		ret = age_bufin_read(in, ct, ct_size, &got);
		/* more than the size said (the file grew, or standard input
		 * began past its start): a whole chunk's buffer after all */
		if (!ret && got == ct_size && ct_size < AGE_CHUNK_CT_SIZE &&
		    !(ret = age_bufin_peek(in, 1, &peek, &avail)) && avail)
			ret = grow_chunk_buffer(in, &ct, &ct_size, &got);
		if (ret)
			break;
		if (got == 0) {
			ret = GS_FAIL(GS_ERR_AGE_PAYLOAD, "truncated payload: missing final chunk");
			break;
		}
		if ((why = chunk_shape_error(s.counter, got))) {
			ret = GS_FAIL(GS_ERR_AGE_PAYLOAD, "%s", why);
			break;
		}
		/* sized by the first chunk: a short file needs no 64 KiB buffer */
		if (!pt && !(pt = gs_secure_alloc(got < AGE_CHUNK_CT_SIZE ? got : AGE_CHUNK_SIZE))) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			break;
		}
		if (got < AGE_CHUNK_CT_SIZE) {
			if (open_small(&s, ct, got, true, pt) != 0) {
				ret = GS_FAIL(GS_ERR_AGE_PAYLOAD, "payload chunk failed to authenticate");
				break;
			}
			last = true;
		} else if (open_small(&s, ct, got, false, pt) == 0) {
			last = false;
		} else if (open_small(&s, ct, got, true, pt) == 0) {
			last = true;
		} else {
			ret = GS_FAIL(GS_ERR_AGE_PAYLOAD, "payload chunk failed to authenticate");
			break;
		}
		ret = out->write(out->ctx, pt, got - AGE_TAG_SIZE);
		if (ret)
			break;
		if (last) {
			ret = age_bufin_peek(in, 1, &peek, &avail);
			if (!ret && avail)
				ret = GS_FAIL(GS_ERR_AGE_PAYLOAD, "invalid payload: trailing data after the final chunk");
			break;
		}
		if (time_to_switch(++s.counter)) {
			gs_secure_free(pt);
			free(ct);
			pt = ct = NULL;
			ret = start_large(&s, &decrypt_ops);
			break;
		}
	}
out:
	stream_release(&s);
	gs_secure_free(pt);
	free(ct);
	return ret;
}
