/* libFuzzer target: the STREAM payload past AGE_STREAM_LARGE_FROM_CHUNK,
 * where large payloads go through two threads in batches
 * (src/age/stream_pipeline.c) - further than fuzz_age_decrypt's inputs
 * reach. The input is a list of edits to a valid payload two batches longer
 * than that (flip a byte, cut, append garbage, reseal a chunk
 * as the last one or as an empty last one); gitseal must decrypt the edited
 * payload exactly as the one-chunk-at-a-time reference does: the same
 * error and message, the same plaintext released before it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/secmem.h"

#include "../../src/age/age_int.h"
#include "age_stream_reference.h"

enum {
	BASE_CHUNKS = AGE_STREAM_LARGE_FROM_CHUNK + 2 * AGE_PIPELINE_BATCH_CHUNKS,
	EDIT_SIZE = 4,               /* op, then three bytes of argument */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t plain[BASE_CHUNKS * AGE_CHUNK_SIZE];

static int append(void *ctx, const uint8_t *buf, size_t n)
{
	return gs_buf_append(ctx, buf, n);
}

static size_t arg24(const uint8_t *p)
{
	return (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
}

/* Replaces chunk k and what follows with chunk k holding len bytes and
 * flagged last. */
static void reseal_last(struct gs_buf *ct, size_t k, size_t len)
{
	ct->len = k * AGE_CHUNK_CT_SIZE;
	ref_chunk(ct, k, plain + k * AGE_CHUNK_SIZE, len, true);
}

static void apply(struct gs_buf *ct, const uint8_t *e)
{
	size_t a = arg24(e), k = e[1] % BASE_CHUNKS;

	switch (e[0] % 5) {
	case 0: /* flip a byte */
		if (ct->len)
			ct->data[a % ct->len] ^= (uint8_t)(e[0] | 1);
		break;
	case 1: /* cut */
		ct->len = a % (ct->len + 1);
		break;
	case 2: /* garbage after the end, up to two batches of it */
		a %= 2 * AGE_PIPELINE_BATCH_SIZE;
		if (gs_buf_reserve(ct, a) != 0)
			abort();
		memset(ct->data + ct->len, e[0], a);
		ct->len += a;
		break;
	case 3: /* a full chunk flagged last, with the rest after it */
		if ((k + 1) * AGE_CHUNK_CT_SIZE <= ct->len) {
			size_t rest = ct->len - (k + 1) * AGE_CHUNK_CT_SIZE;
			uint8_t *keep = malloc(rest + 1);

			if (!keep)
				abort();
			memcpy(keep, ct->data + (k + 1) * AGE_CHUNK_CT_SIZE, rest);
			reseal_last(ct, k, AGE_CHUNK_SIZE);
			if (gs_buf_append(ct, keep, rest) != 0)
				abort();
			free(keep);
		}
		break;
	case 4: /* an empty last chunk, or a short one */
		if (k * AGE_CHUNK_CT_SIZE <= ct->len)
			reseal_last(ct, k, e[2] & 1 ? 0 : e[3]);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gs_buf base;
	struct gs_buf ct, released;
	struct gs_mem_source src;
	struct gs_reader r;
	struct gs_writer w = { append, &released, NULL };
	struct age_bufin in;
	struct ref_outcome want;
	int ret;

	if (!base.len) {
		if (gs_crypto_init() != 0 || ref_init() != 0)
			abort();
		for (size_t i = 0; i < sizeof(plain); i++)
			plain[i] = (uint8_t)(i * 31 + (i >> 16));
		ref_encrypt(plain, sizeof(plain) - 1000, &base);
	}
	gs_buf_init(&ct, false);
	if (gs_buf_append(&ct, base.data, base.len) != 0)
		abort();
	for (size_t i = 0; i + EDIT_SIZE <= size && i < 8 * EDIT_SIZE; i += EDIT_SIZE)
		apply(&ct, data + i);

	gs_buf_init(&want.released, false);
	ref_decrypt(ct.data, ct.len, &want);
	gs_buf_init(&released, false);
	r = gs_reader_from_mem(&src, ct.data, ct.len);
	if (age_bufin_init(&in, &r, 128 * 1024) != 0)
		abort();
	ret = age_stream_decrypt(ref_file_key, ref_nonce, &in, &w);
	age_bufin_release(&in);
	if (ret != want.ret || (ret && strcmp(gs_error_message(), want.message) != 0))
		abort();
	if (released.len != want.released.len ||
	    (released.len && memcmp(released.data, want.released.data, released.len) != 0))
		abort();
	gs_buf_release(&released);
	gs_buf_release(&want.released);
	gs_buf_release(&ct);
	return 0;
}
