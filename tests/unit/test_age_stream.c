/* The STREAM payload (src/age/stream.c, stream_pipeline.c) against a
 * one-chunk-at-a-time reference written from spec §6 on libsodium
 * (tests/fuzz/age_stream_reference.h, which fuzz_age_stream shares):
 * the same bytes out at every size around the chunk size, the move to
 * OpenSSL and the two-thread pipeline (chunk L below) and its batch edges,
 * with OpenSSL loaded ahead (age_expect_payload) too, and the move as soon
 * as it is loaded (from chunk 0); and
 * on damaged payloads the same error, the same message and the same
 * released plaintext, wherever the damage falls. The age test kit covers
 * the format; this covers where the code changes gear. OpenSSL is the
 * ChaCha20 and Poly1305 code linked in where the build has it
 * (chacha_linked.c), and then the cipher's tests run again on OpenSSL's
 * EVP, the path of a build without it. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/secmem.h"

#include "../../src/age/age_int.h"
#include "../fuzz/age_stream_reference.h"

enum {
	CHUNK = AGE_CHUNK_SIZE,
	CT = AGE_CHUNK_CT_SIZE,
	TAG = AGE_TAG_SIZE,
	BATCH = AGE_PIPELINE_BATCH_CHUNKS,
	L = AGE_STREAM_LARGE_FROM_CHUNK, /* the first chunk through the pipeline */
	LONG = L + 2 * BATCH + 2,        /* chunks in the damaged payloads */
};

/* Readers and writers. */

/* Hands out at most step bytes per read (0: all that is asked), and fails
 * with GS_ERR_IO once fail_at bytes were read (0: never). */
struct source {
	const uint8_t *data;
	size_t len, pos, step, fail_at;
};

static int source_read(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
	struct source *s = ctx;
	size_t n = s->len - s->pos;

	if (s->fail_at && s->pos >= s->fail_at)
		return GS_FAIL(GS_ERR_IO, "test source: read error");
	if (s->step && n > s->step)
		n = s->step;
	if (s->fail_at && n > s->fail_at - s->pos)
		n = s->fail_at - s->pos;
	if (n > cap)
		n = cap;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	*got = n;
	return 0;
}

/* Appends to a buffer, and fails with GS_ERR_IO once more than limit bytes
 * would be held (0: never). */
struct sink {
	struct gs_buf buf;
	size_t limit;
};

static int sink_write(void *ctx, const uint8_t *data, size_t n)
{
	struct sink *s = ctx;

	if (s->limit && s->buf.len + n > s->limit)
		return GS_FAIL(GS_ERR_IO, "test sink: disk full");
	return gs_buf_append(&s->buf, data, n);
}

/* The sink the encryption checks hand gitseal, kept from call to call and
 * emptied (not wiped: a check reads only its first len bytes): grown from
 * empty each time, its copies and fresh pages were most of their time
 * under ASan. Released at the end of main. */
static struct sink encrypt_out;

static struct sink *encrypt_sink(void)
{
	if (!encrypt_out.buf.data)
		gs_buf_init(&encrypt_out.buf, false);
	encrypt_out.buf.len = 0;
	encrypt_out.limit = 0;
	return &encrypt_out;
}

static int run_encrypt(const uint8_t *pt, size_t len, size_t step, struct sink *out)
{
	struct source src = { .data = pt, .len = len, .step = step };
	struct gs_reader r = { source_read, &src, NULL };
	struct gs_writer w = { sink_write, out, NULL };

	return age_stream_encrypt(ref_file_key, ref_nonce, &r, &w);
}

static int run_decrypt(struct source *src, struct sink *out)
{
	struct gs_reader r = { source_read, src, NULL };
	struct gs_writer w = { sink_write, out, NULL };
	struct age_bufin in;
	int ret;

	assert_int_equal(age_bufin_init(&in, &r, 128 * 1024), 0);
	ret = age_stream_decrypt(ref_file_key, ref_nonce, &in, &w);
	age_bufin_release(&in);
	return ret;
}

static uint8_t *random_bytes(size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	randombytes_buf(p, len);
	return p;
}

/* The sink check_decrypt hands gitseal, kept from call to call: a fresh
 * one took fresh pages for every decryption (a thousand of up to 3 MiB,
 * each page a fault to the kernel; under ASan most of this file's system
 * time). Wiped between uses (gs_buf_reset). */
static struct sink decrypt_out;

/* The reference's released plaintext, kept from call to call as
 * decrypt_out (ref_decrypt empties it). */
static struct gs_buf ref_released;

/* Decrypts ct as gitseal and as the reference; both must agree. */
static void check_decrypt(const char *what, const uint8_t *ct, size_t len, size_t step)
{
	struct source src = { .data = ct, .len = len, .step = step };
	struct sink out = decrypt_out;
	struct ref_outcome want = { .released = ref_released };
	int ret;

	ref_decrypt(ct, len, &want);
	ref_released = want.released;
	if (!out.buf.data)
		gs_buf_init(&out.buf, true);
	/* emptied, not wiped: the checks read only the first len bytes, and a
	 * wipe of the whole capacity each call (up to 3 MiB) was a tenth of
	 * this file's time under ASan */
	out.buf.len = 0;
	out.limit = 0;
	gs_error_clear();
	ret = run_decrypt(&src, &out);
	decrypt_out = out; /* before a failure leaves this function */
	if (ret != want.ret || (ret && strcmp(gs_error_message(), want.message) != 0))
		fail_msg("%s: got %d '%s', want %d '%s'", what, ret, ret ? gs_error_message() : "",
			 want.ret, want.message);
	if (out.buf.len != want.released.len ||
	    (out.buf.len && memcmp(out.buf.data, want.released.data, out.buf.len) != 0))
		fail_msg("%s: released %zu bytes, want %zu", what, out.buf.len, want.released.len);
}

/* Sizes around every place where the code changes gear. */
static size_t edge_sizes(size_t *sizes)
{
	static const size_t chunks[] = {
		0, 1, L - 1, L, L + 1, L + BATCH - 1, L + BATCH, L + BATCH + 1, L + 2 * BATCH - 1,
		L + 2 * BATCH, L + 3 * BATCH, L + 4 * BATCH + 1,
	};
	static const long deltas[] = { -17, -1, 0, 1, 17 };
	size_t n = 0;

	sizes[n++] = 0;
	sizes[n++] = 1;
	sizes[n++] = 2047;
	sizes[n++] = 2048;
	sizes[n++] = 2049;
	for (size_t c = 1; c < sizeof(chunks) / sizeof(chunks[0]); c++)
		for (size_t d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++)
			sizes[n++] = (size_t)((long)(chunks[c] * CHUNK) + deltas[d]);
	return n;
}

static void test_same_bytes_as_the_reference(void **state)
{
	size_t sizes[64], n = edge_sizes(sizes), max = (L + 4 * BATCH + 1) * CHUNK + 17;
	static const size_t steps[] = { 0, 4093, 100003 };
	uint8_t *pt = random_bytes(max);
	struct gs_buf want;
	struct sink *out;
	char what[64];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		ref_encrypt(pt, sizes[i], &want);
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			out = encrypt_sink();
			assert_int_equal(run_encrypt(pt, sizes[i], steps[s], out), 0);
			if (out->buf.len != want.len || memcmp(out->buf.data, want.data, want.len) != 0)
				fail_msg("encrypt %zu bytes (reads of %zu): not the reference's bytes", sizes[i],
					 steps[s]);
			snprintf(what, sizeof(what), "decrypt %zu bytes (reads of %zu)", sizes[i], steps[s]);
			check_decrypt(what, want.data, want.len, steps[s]);
		}
		gs_buf_release(&want);
	}
	free(pt);
}

static void check_file_encrypt(FILE *f, const uint8_t *pt, size_t len, const struct gs_buf *want,
			       const char *how)
{
	struct gs_reader r = gs_reader_from_file(f);
	struct sink *out = encrypt_sink();
	struct gs_writer w = { sink_write, out, NULL };

	(void)pt;
	assert_int_equal(age_stream_encrypt(ref_file_key, ref_nonce, &r, &w), 0);
	if (out->buf.len != want->len || memcmp(out->buf.data, want->data, want->len) != 0)
		fail_msg("encrypt %zu bytes from %s: not the reference's bytes", len, how);
}

struct pipe_feed {
	int fd;
	const uint8_t *data;
	size_t len;
};

/* Writes in pieces of 4093 bytes, so the reader's readv returns short. */
static void *feed_pipe(void *arg)
{
	struct pipe_feed *p = arg;

	for (size_t pos = 0, n; pos < p->len; pos += n) {
		n = p->len - pos < 4093 ? p->len - pos : 4093;
		if (write(p->fd, p->data + pos, n) != (ssize_t)n)
			break;
	}
	close(p->fd);
	return NULL;
}

/* The pipeline reads a batch of chunks with one readv (gs_read_vec) from a
 * stream stdio buffers nothing of: the same bytes as the reference at
 * every edge size, from an unbuffered file, a buffered one (read in turn)
 * and a pipe that hands over 4093 bytes at a time. */
static void test_file_reads_same_bytes(void **state)
{
	size_t sizes[64], n = edge_sizes(sizes), max = (L + 4 * BATCH + 1) * CHUNK + 17;
	uint8_t *pt = random_bytes(max);
	struct gs_buf want;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		ref_encrypt(pt, sizes[i], &want);
		for (int buffered = 0; buffered < 2; buffered++) {
			FILE *f = tmpfile();

			assert_non_null(f);
			assert_int_equal(fwrite(pt, 1, sizes[i], f), sizes[i]);
			rewind(f);
			if (!buffered)
				assert_int_equal(setvbuf(f, NULL, _IONBF, 0), 0);
			check_file_encrypt(f, pt, sizes[i], &want, buffered ? "a buffered file" : "an unbuffered file");
			fclose(f);
		}
		if (sizes[i] >= L * CHUNK && sizes[i] <= (L + BATCH + 1) * CHUNK) {
			int fds[2];
			pthread_t writer;
			struct pipe_feed feed = { 0, pt, sizes[i] };
			FILE *f;

			assert_int_equal(pipe(fds), 0);
			feed.fd = fds[1];
			assert_int_equal(pthread_create(&writer, NULL, feed_pipe, &feed), 0);
			assert_non_null(f = fdopen(fds[0], "rb"));
			assert_int_equal(setvbuf(f, NULL, _IONBF, 0), 0);
			check_file_encrypt(f, pt, sizes[i], &want, "a pipe");
			fclose(f);
			pthread_join(writer, NULL);
		}
		gs_buf_release(&want);
	}
	free(pt);
}

/* A source with readv that counts the chunk-sized pieces it is asked to
 * fill away from a cache line's start (the pipeline's reads). */
struct aligned_source {
	struct source src;
	size_t pieces, off_line;
};

/* Whether a read of the source's next bytes into buf puts them at another
 * place in a cache line than they have in the source. */
static bool off_line(const struct aligned_source *a, const void *buf)
{
	return ((uintptr_t)buf - a->src.pos) % AGE_PIPELINE_LINE != 0;
}

static int aligned_source_readv(void *ctx, struct iovec *iov, int n, size_t *got)
{
	struct aligned_source *a = ctx;
	size_t step;
	int ret = 0;

	*got = 0;
	for (int i = 0; i < n && !ret; i++) {
		if (iov[i].iov_len >= CHUNK - 1) {
			a->pieces++;
			a->off_line += off_line(a, iov[i].iov_base);
		}
		ret = source_read(&a->src, iov[i].iov_base, iov[i].iov_len, &step);
		*got += step;
		if (step < iov[i].iov_len)
			break;
	}
	return ret;
}

/* A file written with writev (the unbuffered stream of `age -o`) holds the
 * same bytes as one written a chunk at a time. */
static void check_writev_file(const uint8_t *pt, size_t len, const struct gs_buf *want)
{
	struct source src = { .data = pt, .len = len };
	struct gs_reader r = { source_read, &src, NULL };
	FILE *f = tmpfile();
	struct gs_writer w;
	uint8_t *back = malloc(want->len + 1);

	assert_non_null(f);
	assert_non_null(back);
	assert_int_equal(setvbuf(f, NULL, _IONBF, 0), 0);
	w = gs_writer_to_file(f);
	assert_int_equal(age_stream_encrypt(ref_file_key, ref_nonce, &r, &w), 0);
	rewind(f);
	assert_int_equal(fread(back, 1, want->len + 1, f), want->len);
	assert_memory_equal(back, want->data, want->len);
	free(back);
	fclose(f);
}

/* Reads of more than a chunk (decryption's batches) are counted like the
 * pieces of a readv. */
static int aligned_source_read(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
	struct aligned_source *a = ctx;

	if (cap > CT) {
		a->pieces++;
		a->off_line += off_line(a, buf);
	}
	return source_read(&a->src, buf, cap, got);
}

/* The pipeline reads each chunk's plaintext to where its offset in the
 * input sits in a cache line (the kernel's copy runs slower otherwise):
 * a line's start, or one byte in for chunk 0, read after the carried
 * look-ahead byte; and writes the same bytes as the reference. */
static void test_reads_aligned(void **state)
{
	static const size_t sizes[] = { (L + BATCH) * CHUNK, (L + 3 * BATCH + 1) * CHUNK + 17 };
	uint8_t *pt = random_bytes(sizes[1]);
	struct gs_buf want;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct aligned_source a = { .src = { .data = pt, .len = sizes[i] } };
		/* a.src first: source_read takes &a as its struct source */
		struct gs_reader r = { source_read, &a, aligned_source_readv };
		struct sink out = { 0 };
		struct gs_writer w = { sink_write, &out, NULL };

		ref_encrypt(pt, sizes[i], &want);
		gs_buf_init(&out.buf, false);
		assert_int_equal(age_stream_encrypt(ref_file_key, ref_nonce, &r, &w), 0);
		assert_int_equal(out.buf.len, want.len);
		assert_memory_equal(out.buf.data, want.data, want.len);
		assert_true(a.pieces >= BATCH);
		if (a.off_line)
			fail_msg("%zu of %zu chunk reads off a cache line", a.off_line, a.pieces);
		gs_buf_release(&out.buf);
		check_writev_file(pt, sizes[i], &want);
		gs_buf_release(&want);
	}
	free(pt);
}

/* A sink with writev that counts the calls of each kind. */
struct counting_sink {
	struct sink sink;
	size_t writes, writevs;
};

static int counting_write(void *ctx, const uint8_t *data, size_t n)
{
	struct counting_sink *c = ctx;

	c->writes++;
	return sink_write(&c->sink, data, n);
}

static int counting_writev(void *ctx, struct iovec *iov, int n)
{
	struct counting_sink *c = ctx;
	int ret = 0;

	c->writevs++;
	for (int i = 0; i < n && !ret; i++)
		ret = sink_write(&c->sink, iov[i].iov_base, iov[i].iov_len);
	return ret;
}

/* Decryption's pipeline reads each batch to where its offset in the input
 * sits in a cache line, wherever the header leaves the chunks: a payload
 * 0, 16 and 40 bytes into the input. */
static void test_decrypt_reads_aligned(void **state)
{
	static const size_t shifts[] = { 0, 16, 40 };
	const size_t len = (L + 3 * BATCH + 1) * CHUNK - 5;
	uint8_t *pt = random_bytes(len), *in_bytes;
	struct gs_buf ct;
	struct sink out = { 0 };
	struct age_bufin in;
	struct gs_writer w = { sink_write, &out, NULL };

	(void)state;
	age_preload_wait();
	ref_encrypt(pt, len, &ct);
	in_bytes = malloc(ct.len + 64);
	assert_non_null(in_bytes);
	for (size_t i = 0; i < sizeof(shifts) / sizeof(shifts[0]); i++) {
		struct aligned_source a = { .src = { .data = in_bytes, .len = shifts[i] + ct.len } };
		struct gs_reader r = { aligned_source_read, &a, NULL };
		const uint8_t *line;
		size_t line_len;
		bool lf;

		memset(in_bytes, 'h', shifts[i]);
		if (shifts[i])
			in_bytes[shifts[i] - 1] = '\n';
		memcpy(in_bytes + shifts[i], ct.data, ct.len);
		gs_buf_init(&out.buf, true);
		assert_int_equal(age_bufin_init(&in, &r, 128 * 1024), 0);
		/* a header line, read as age.c reads one: through the buffer */
		if (shifts[i]) {
			assert_int_equal(age_bufin_line(&in, &line, &line_len, &lf), 0);
			assert_int_equal(line_len, shifts[i] - 1);
		}
		/* that read filled the buffer, wherever malloc put it: the
		 * payload's reads are counted from here */
		a.pieces = a.off_line = 0;
		assert_int_equal(age_stream_decrypt(ref_file_key, ref_nonce, &in, &w), 0);
		age_bufin_release(&in);
		assert_int_equal(out.buf.len, len);
		assert_memory_equal(out.buf.data, pt, len);
		assert_true(a.pieces >= 3);
		if (a.off_line)
			fail_msg("payload %zu bytes in: %zu of %zu batch reads off their place in a line", shifts[i],
				 a.off_line, a.pieces);
		gs_buf_release(&out.buf);
	}
	free(in_bytes);
	gs_buf_release(&ct);
	free(pt);
}

/* Decryption's pipeline hands each batch's authentic chunks to the writer
 * in one writev (a write each had been four system calls a batch); the
 * chunks before it, one at a time on libsodium, in one write each. */
static void test_decrypt_writes_batches(void **state)
{
	const size_t len = (L + 3 * BATCH + 1) * CHUNK - 5;
	uint8_t *pt = random_bytes(len);
	struct source src = { 0 };
	struct counting_sink c = { 0 };
	struct gs_reader r = { source_read, &src, NULL };
	struct gs_writer w = { counting_write, &c, counting_writev };
	struct age_bufin in;
	struct gs_buf ct;

	(void)state;
	age_preload_wait();
	ref_encrypt(pt, len, &ct);
	src = (struct source){ .data = ct.data, .len = ct.len };
	gs_buf_init(&c.sink.buf, true);
	assert_int_equal(age_bufin_init(&in, &r, 128 * 1024), 0);
	assert_int_equal(age_stream_decrypt(ref_file_key, ref_nonce, &in, &w), 0);
	age_bufin_release(&in);
	assert_int_equal(c.sink.buf.len, len);
	assert_memory_equal(c.sink.buf.data, pt, len);
	assert_int_equal(c.writes, L);
	assert_int_equal(c.writevs, 4);
	gs_buf_release(&c.sink.buf);
	gs_buf_release(&ct);
	free(pt);
}

/* Encrypts len bytes of pt in one go, joins the loading of OpenSSL if any,
 * and checks the result is want. */
static void check_encrypt_then_join(const uint8_t *pt, size_t len, const struct gs_buf *want)
{
	struct sink out = { 0 };

	gs_buf_init(&out.buf, false);
	assert_int_equal(run_encrypt(pt, len, 0, &out), 0);
	age_preload_wait();
	assert_int_equal(out.buf.len, want->len);
	assert_memory_equal(out.buf.data, want->data, want->len);
	gs_buf_release(&out.buf);
}

/* With OpenSSL loading on another thread (age_expect_payload), or ready at
 * once when linked in, a payload that reaches the pipeline and one that
 * ends before it are the same bytes as the reference's, both ways; and so
 * is a payload shorter than expected (a file cut after its size was
 * taken), down to nothing. */
static void test_expected_payload(void **state)
{
	static const size_t sizes[] = { 0, 1, 100, L * CHUNK - 1, (L + BATCH + 1) * CHUNK + 17 };
	uint8_t *pt = random_bytes(sizes[4]);
	struct gs_buf want;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ref_encrypt(pt, sizes[i], &want);
		age_expect_payload((uint64_t)(L + 3) * CT);
		check_encrypt_then_join(pt, sizes[i], &want);
		age_expect_payload((uint64_t)(L + 3) * CT);
		check_decrypt("decrypt after age_expect_payload", want.data, want.len, 0);
		age_preload_wait();
		gs_buf_release(&want);
	}
	free(pt);
}

/* A small file's payload buffer is sized by the file's size
 * (age_expect_payload); an input longer than that said (a file that grew,
 * standard input begun past its start) still decrypts whole. */
static void test_size_said_too_small(void **state)
{
	static const size_t sizes[] = { 1, 100, CHUNK - 1, CHUNK + 17 };
	uint8_t *pt = random_bytes(sizes[3]);
	struct gs_buf want;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ref_encrypt(pt, sizes[i], &want);
		for (uint64_t said = 1; said <= want.len; said += want.len / 2) {
			age_expect_payload(said);
			check_decrypt("decrypt of more than the size said", want.data, want.len, 0);
			age_preload_wait();
		}
		gs_buf_release(&want);
	}
	free(pt);
}

/* Starts loading OpenSSL ahead and waits until it is loaded, so that the
 * payload goes to the pipeline from its first chunk. */
static void expect_payload_loaded(void)
{
	const struct timespec tick = { 0, 1000000 };

	age_expect_payload((uint64_t)(L + 3) * CT);
	for (int i = 0; i < 10000 && !age_preload_done(); i++)
		nanosleep(&tick, NULL);
	assert_true(age_preload_done());
}

/* With OpenSSL loaded before the payload starts, the pipeline takes it
 * from chunk 0: the same bytes as the reference's both ways, and a chunk
 * damaged at the start fails as the reference says. */
static void test_switch_once_loaded(void **state)
{
	static const size_t sizes[] = { 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5, (2 * BATCH + 1) * CHUNK + 17 };
	uint8_t *pt = random_bytes(sizes[5]);
	struct gs_buf want;
	char what[64];

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ref_encrypt(pt, sizes[i], &want);
		expect_payload_loaded();
		check_encrypt_then_join(pt, sizes[i], &want);
		snprintf(what, sizeof(what), "decrypt %zu bytes, switched at chunk 0", sizes[i]);
		expect_payload_loaded();
		check_decrypt(what, want.data, want.len, 0);
		age_preload_wait();
		for (size_t at = 0; at < 2 && at * CT + 5 < want.len; at++) {
			want.data[at * CT + 5] ^= 1;
			snprintf(what, sizeof(what), "decrypt %zu bytes, chunk %zu damaged", sizes[i], at);
			expect_payload_loaded();
			check_decrypt(what, want.data, want.len, 0);
			age_preload_wait();
			want.data[at * CT + 5] ^= 1;
		}
		expect_payload_loaded();
		check_decrypt("decrypt an empty payload", want.data, 0, 0);
		age_preload_wait();
		gs_buf_release(&want);
	}
	free(pt);
}

/* A payload of chunks numbered 0..n-1 with the given plaintext lengths and
 * last flags. */
static void craft(struct gs_buf *out, const uint8_t *pt, size_t n, const size_t *lens, const bool *last)
{
	size_t pos = 0;

	gs_buf_init(out, false);
	for (size_t i = 0; i < n; i++) {
		ref_chunk(out, i, pt + pos, lens[i], last[i]);
		pos += lens[i];
	}
}

static void test_damage_like_the_reference(void **state)
{
	/* LONG chunks, the last short; and full chunks up to the end of a batch */
	static const size_t shapes[][2] = {
		{ (LONG - 1) * CHUNK + 1000, LONG }, { (L + 2 * BATCH) * CHUNK, L + 2 * BATCH },
	};
	static const long around[] = { -17, -16, -1, 0, 1, 15, 16, 17 };
	uint8_t *pt = random_bytes(LONG * CHUNK), *bad;
	uint8_t garbage[BATCH * CT + 1];
	struct gs_buf ct;
	char what[96];
	size_t len, k;

	(void)state;
	randombytes_buf(garbage, sizeof(garbage));
	for (size_t sh = 0; sh < 2; sh++) {
		ref_encrypt(pt, shapes[sh][0], &ct);
		len = ct.len;
		bad = malloc(len + sizeof(garbage));
		assert_non_null(bad);
		/* truncated around every chunk boundary */
		for (k = 0; k <= shapes[sh][1]; k++) {
			for (size_t a = 0; a < sizeof(around) / sizeof(around[0]); a++) {
				long cut = (long)(k * CT) + around[a];

				if (cut < 0 || (size_t)cut >= len)
					continue;
				snprintf(what, sizeof(what), "shape %zu cut at %ld", sh, cut);
				check_decrypt(what, ct.data, (size_t)cut, k & 1 ? 0 : 4093);
			}
		}
		/* a flipped byte in a chunk's body and in its tag */
		for (k = 0; k < shapes[sh][1]; k++) {
			size_t end = k + 1 == shapes[sh][1] ? len : (k + 1) * CT;

			for (size_t at = k * CT + 5; at < end; at = end - 3 > at ? end - 3 : end) {
				/* flipped in place and back: a copy of the whole
				 * payload per flip cost more than the check */
				ct.data[at] ^= 0x40;
				snprintf(what, sizeof(what), "shape %zu byte %zu flipped", sh, at);
				check_decrypt(what, ct.data, len, 0);
				ct.data[at] ^= 0x40;
			}
		}
		/* data after the final chunk */
		static const size_t extra[] = { 1, 15, 16, 17, CT - 1, CT, BATCH * CT + 1 };
		for (size_t e = 0; e < sizeof(extra) / sizeof(extra[0]); e++) {
			memcpy(bad, ct.data, len);
			memcpy(bad + len, garbage, extra[e]);
			snprintf(what, sizeof(what), "shape %zu with %zu trailing bytes", sh, extra[e]);
			check_decrypt(what, bad, len + extra[e], 0);
		}
		free(bad);
		gs_buf_release(&ct);
	}
	free(pt);
}

/* Data after a full final chunk in the last batch the pipeline reads (the
 * batch that ends the input, or one the data fills to its end), at every
 * place of that chunk in its batch, with the pipeline taking over at chunk
 * L and from chunk 0: refused as the reference refuses it, after the same
 * plaintext. */
static void test_trailing_data_in_the_final_batch(void **state)
{
	static const size_t extra[] = { 1, TAG - 1, TAG, TAG + 1, CT - 1, CT };
	uint8_t *pt = random_bytes((L + 2 * BATCH) * CHUNK), *bad;
	uint8_t garbage[CT];
	struct gs_buf ct;
	char what[96];

	(void)state;
	randombytes_buf(garbage, sizeof(garbage));
	for (int from0 = 0; from0 < 2; from0++) {
		for (size_t p = 0; p < BATCH; p++) {
			size_t chunks = (from0 ? 0 : L + BATCH) + p + 1;

			ref_encrypt(pt, chunks * CHUNK, &ct);
			bad = malloc(ct.len + sizeof(garbage));
			assert_non_null(bad);
			memcpy(bad, ct.data, ct.len);
			for (size_t e = 0; e < sizeof(extra) / sizeof(extra[0]); e++) {
				memcpy(bad + ct.len, garbage, extra[e]);
				snprintf(what, sizeof(what), "%zu full chunks%s, %zu trailing bytes", chunks,
					 from0 ? " (pipeline from chunk 0)" : "", extra[e]);
				if (from0)
					expect_payload_loaded();
				check_decrypt(what, bad, ct.len + extra[e], e & 1 ? 4093 : 0);
				if (from0)
					age_preload_wait();
			}
			free(bad);
			gs_buf_release(&ct);
		}
	}
	free(pt);
}

/* Streams that only a forger writes: a full chunk flagged last with more
 * after it, an empty final chunk, no chunk flagged last. */
static void test_forged_streams_like_the_reference(void **state)
{
	static const size_t at[] = { 3, L - 1, L, L + 2, L + BATCH - 1, L + BATCH, L + 2 * BATCH - 1 };
	uint8_t *pt = random_bytes(LONG * CHUNK);
	size_t lens[LONG];
	bool last[LONG];
	struct gs_buf ct;
	char what[96];

	(void)state;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		size_t k = at[i];

		for (size_t j = 0; j < LONG; j++) {
			lens[j] = CHUNK;
			last[j] = j == LONG - 1;
		}
		last[k] = true;
		craft(&ct, pt, LONG, lens, last);
		snprintf(what, sizeof(what), "chunk %zu of %d flagged last", k, LONG);
		check_decrypt(what, ct.data, ct.len, 0);
		gs_buf_release(&ct);

		for (size_t j = 0; j <= k; j++) {
			lens[j] = j == k ? 0 : CHUNK;
			last[j] = j == k;
		}
		craft(&ct, pt, k + 1, lens, last);
		snprintf(what, sizeof(what), "empty final chunk %zu", k);
		check_decrypt(what, ct.data, ct.len, 0);
		gs_buf_release(&ct);

		for (size_t j = 0; j <= k; j++) {
			lens[j] = CHUNK;
			last[j] = false;
		}
		craft(&ct, pt, k + 1, lens, last);
		snprintf(what, sizeof(what), "%zu chunks, none flagged last", k + 1);
		check_decrypt(what, ct.data, ct.len, 0);
		gs_buf_release(&ct);
	}
	free(pt);
}

/* A failing reader or writer at any point: its error and message come back
 * (not a hang, not another error); decryption never releases more than the
 * reference would have before the failure. */
static void test_io_failures(void **state)
{
	static const size_t fail_at[] = {
		1, CT - 1, L * CT, (L + 1) * CT + 5, (L + BATCH) * CT, (LONG - 1) * CT,
	};
	size_t len = (LONG - 1) * CHUNK + 1000;
	uint8_t *pt = random_bytes(len);
	struct gs_buf ct;
	struct sink out;
	int ret;

	(void)state;
	ref_encrypt(pt, len, &ct);
	for (size_t i = 0; i < sizeof(fail_at) / sizeof(fail_at[0]); i++) {
		struct source src = { .data = ct.data, .len = ct.len, .fail_at = fail_at[i] };
		struct gs_reader r = { source_read, &src, NULL };
		struct gs_writer w = { sink_write, &out, NULL };

		out = (struct sink){ 0 };
		gs_buf_init(&out.buf, true);
		assert_int_equal(run_decrypt(&src, &out), GS_ERR_IO);
		assert_string_equal(gs_error_message(), "test source: read error");
		assert_true(out.buf.len <= fail_at[i] / CT * CHUNK);
		assert_memory_equal(out.buf.data, pt, out.buf.len);
		gs_buf_release(&out.buf);

		out = (struct sink){ .limit = fail_at[i] };
		gs_buf_init(&out.buf, true);
		src = (struct source){ .data = ct.data, .len = ct.len };
		assert_int_equal(run_decrypt(&src, &out), GS_ERR_IO);
		assert_string_equal(gs_error_message(), "test sink: disk full");
		gs_buf_release(&out.buf);

		src = (struct source){ .data = pt, .len = len, .fail_at = fail_at[i] };
		out = (struct sink){ 0 };
		gs_buf_init(&out.buf, false);
		ret = age_stream_encrypt(ref_file_key, ref_nonce, &r, &w);
		assert_int_equal(ret, GS_ERR_IO);
		assert_string_equal(gs_error_message(), "test source: read error");
		gs_buf_release(&out.buf);

		out = (struct sink){ .limit = fail_at[i] };
		gs_buf_init(&out.buf, false);
		assert_int_equal(run_encrypt(pt, len, 0, &out), GS_ERR_IO);
		assert_string_equal(gs_error_message(), "test sink: disk full");
		gs_buf_release(&out.buf);
	}
	gs_buf_release(&ct);
	free(pt);
}

static int turn_off_linked(void **state)
{
	(void)state;
	age_linked_aead_turn_off(true);
	return 0;
}

static int turn_on_linked(void **state)
{
	(void)state;
	age_linked_aead_turn_off(false);
	return 0;
}

int main(void)
{
	int ret;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_bytes_as_the_reference),
		cmocka_unit_test(test_file_reads_same_bytes),
		cmocka_unit_test(test_expected_payload),
		cmocka_unit_test(test_size_said_too_small),
		cmocka_unit_test(test_switch_once_loaded),
		cmocka_unit_test(test_damage_like_the_reference),
		cmocka_unit_test(test_forged_streams_like_the_reference),
		cmocka_unit_test(test_trailing_data_in_the_final_batch),
		cmocka_unit_test(test_io_failures),
		cmocka_unit_test(test_reads_aligned),
		cmocka_unit_test(test_decrypt_writes_batches),
		cmocka_unit_test(test_decrypt_reads_aligned),
	};
	const struct CMUnitTest evp_tests[] = {
		cmocka_unit_test(test_same_bytes_as_the_reference),
		cmocka_unit_test(test_switch_once_loaded),
		cmocka_unit_test(test_damage_like_the_reference),
		cmocka_unit_test(test_trailing_data_in_the_final_batch),
	};

	if (gs_crypto_init() != 0)
		return 1;
	if (ref_init() != 0)
		return 1;
	ret = cmocka_run_group_tests_name(age_linked_aead_available() ? "the cipher linked in" : "EVP", tests,
					  NULL, NULL);
	/* a build with the cipher linked in runs OpenSSL's EVP where it has not */
	if (age_linked_aead_available())
		ret |= cmocka_run_group_tests_name("EVP", evp_tests, turn_off_linked, turn_on_linked);
	gs_buf_release(&decrypt_out.buf);
	gs_buf_release(&encrypt_out.buf);
	gs_buf_release(&ref_released);
	return ret;
}
