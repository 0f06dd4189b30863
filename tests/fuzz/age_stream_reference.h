/* A one-chunk-at-a-time STREAM payload (age spec §6) on libsodium, written
 * from the spec as an oracle for src/age/stream.c and stream_pipeline.c:
 * the bytes a payload must have, and what decrypting a damaged one must
 * give (the error, its message, the plaintext released before it). Used by
 * tests/unit/test_age_stream.c and tests/fuzz/fuzz_age_stream.c. */
#ifndef GITSEAL_AGE_STREAM_REFERENCE_H
#define GITSEAL_AGE_STREAM_REFERENCE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/secmem.h"

#include "../../src/age/age_int.h"

static const uint8_t ref_file_key[AGE_FILE_KEY_SIZE] = { '0', '1', '2', '3', '4', '5', '6', '7',
							 '8', '9', 'a', 'b', 'c', 'd', 'e', 'f' };
static const uint8_t ref_nonce[AGE_NONCE_SIZE] = { 'f', 'e', 'd', 'c', 'b', 'a', '9', '8',
						   '7', '6', '5', '4', '3', '2', '1', '0' };
static uint8_t ref_payload_key[32];

/* Once, after gs_crypto_init. */
static inline int ref_init(void)
{
	return age_hkdf_sha256(ref_file_key, sizeof(ref_file_key), ref_nonce, sizeof(ref_nonce), "payload",
			       ref_payload_key, sizeof(ref_payload_key));
}

static inline void ref_chunk_nonce(uint64_t counter, bool last, uint8_t n[12])
{
	memset(n, 0, 12);
	for (int i = 0; i < 8; i++)
		n[10 - i] = (uint8_t)(counter >> (8 * i));
	n[11] = last;
}

/* Appends chunk number counter (len bytes of plaintext) to out. */
static inline void ref_chunk(struct gs_buf *out, uint64_t counter, const uint8_t *pt, size_t len, bool last)
{
	uint8_t n[12];

	ref_chunk_nonce(counter, last, n);
	if (gs_buf_reserve(out, len + AGE_TAG_SIZE) != 0)
		abort();
	crypto_aead_chacha20poly1305_ietf_encrypt(out->data + out->len, NULL, pt, len, NULL, 0, NULL, n,
						  ref_payload_key);
	out->len += len + AGE_TAG_SIZE;
}

/* The payload of len bytes: full chunks, the last one flagged, never an
 * empty final chunk unless the plaintext is empty. */
static inline void ref_encrypt(const uint8_t *pt, size_t len, struct gs_buf *out)
{
	uint64_t counter = 0;
	size_t pos = 0, n;

	/* made whole at once: grown a chunk at a time, its copies and fresh
	 * pages (under ASan) cost more than the encryption */
	gs_buf_init(out, false);
	if (gs_buf_reserve(out, len + (len / AGE_CHUNK_SIZE + 1) * AGE_TAG_SIZE) != 0)
		abort();
	do {
		n = len - pos < AGE_CHUNK_SIZE ? len - pos : AGE_CHUNK_SIZE;
		ref_chunk(out, counter++, pt + pos, n, pos + n == len);
		pos += n;
	} while (pos < len);
}

struct ref_outcome {
	int ret;
	const char *message;
	struct gs_buf released;
};

static inline bool ref_open(uint64_t counter, const uint8_t *ct, size_t len, bool last, uint8_t *pt)
{
	uint8_t n[12];

	ref_chunk_nonce(counter, last, n);
	return crypto_aead_chacha20poly1305_ietf_decrypt(pt, NULL, NULL, ct, len, NULL, 0, n,
							 ref_payload_key) == 0;
}

static inline int ref_fail(struct ref_outcome *o, const char *message)
{
	o->message = message;
	return o->ret = GS_ERR_AGE_PAYLOAD;
}

/* Decrypts the payload ct into o. o->released is the caller's, made with
 * gs_buf_init (false) or kept from an earlier call: it is emptied and
 * reused (release it with gs_buf_release). A fresh buffer each call took
 * fresh pages each time, and its release wiped them: under ASan most of
 * test_age_stream's page faults. */
static inline int ref_decrypt(const uint8_t *ct, size_t len, struct ref_outcome *o)
{
	static uint8_t pt[AGE_CHUNK_SIZE];
	size_t pos = 0, n;
	uint64_t counter;
	bool last;

	o->ret = 0;
	o->message = "";
	o->released.len = 0;
	if (gs_buf_reserve(&o->released, len) != 0) /* never more than len, reserved at once as above */
		abort();
	for (counter = 0;; counter++) {
		n = len - pos < AGE_CHUNK_CT_SIZE ? len - pos : AGE_CHUNK_CT_SIZE;
		if (n == 0)
			return ref_fail(o, "truncated payload: missing final chunk");
		if (n < AGE_TAG_SIZE)
			return ref_fail(o, "truncated payload: short chunk");
		if (counter > 0 && n == AGE_TAG_SIZE)
			return ref_fail(o, "invalid payload: empty final chunk");
		if (n == AGE_CHUNK_CT_SIZE && ref_open(counter, ct + pos, n, false, pt))
			last = false;
		else if (ref_open(counter, ct + pos, n, true, pt))
			last = true;
		else
			return ref_fail(o, "payload chunk failed to authenticate");
		if (gs_buf_append(&o->released, pt, n - AGE_TAG_SIZE) != 0)
			abort();
		pos += n;
		if (last)
			return pos < len ? ref_fail(o, "invalid payload: trailing data after the final chunk") : 0;
	}
}

#endif
