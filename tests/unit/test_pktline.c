/* pkt-line framing and the long-running filter protocol state machine. */
#include <ctype.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitseal/error.h"
#include "gitseal/io.h"
#include "../../src/git/git_int.h"

struct reader_fixture {
	struct gs_mem_source src;
	struct gs_reader in;
	struct pkt_reader *r;
};

static struct reader_fixture *reader_new(const char *bytes, size_t len)
{
	struct reader_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->r = malloc(sizeof(*f->r));
	assert_non_null(f->r);
	f->in = gs_reader_from_mem(&f->src, (const uint8_t *)bytes, len);
	pkt_reader_init(f->r, &f->in);
	return f;
}

static void reader_free(struct reader_fixture *f)
{
	free(f->r);
	free(f);
}

static int read_one(const char *bytes, size_t len, enum pkt_kind *kind)
{
	struct reader_fixture *f = reader_new(bytes, len);
	int ret = pkt_read(f->r, kind);

	reader_free(f);
	return ret;
}

static void test_read_sequence(void **state)
{
	static const char in[] = "000ahello\n0000" "0004" "0006ab";
	struct reader_fixture *f = reader_new(in, sizeof(in) - 1);
	enum pkt_kind kind;

	(void)state;
	assert_int_equal(pkt_read(f->r, &kind), 0);
	assert_int_equal(kind, PKT_DATA);
	assert_int_equal(f->r->len, 6);
	assert_memory_equal(f->r->data, "hello\n", 6);
	assert_int_equal(pkt_read(f->r, &kind), 0);
	assert_int_equal(kind, PKT_FLUSH);
	assert_int_equal(pkt_read(f->r, &kind), 0);
	assert_int_equal(kind, PKT_DATA);
	assert_int_equal(f->r->len, 0);
	assert_int_equal(pkt_read(f->r, &kind), 0);
	assert_int_equal(kind, PKT_DATA);
	assert_memory_equal(f->r->data, "ab", 2);
	assert_int_equal(pkt_read(f->r, &kind), 0);
	assert_int_equal(kind, PKT_EOF);
	reader_free(f);
}

static void test_read_rejects_bad_lengths(void **state)
{
	enum pkt_kind kind;

	(void)state;
	assert_int_equal(read_one("00g5x", 5, &kind), GS_ERR_PARSE);
	assert_int_equal(read_one(" 005x", 5, &kind), GS_ERR_PARSE);
	assert_int_equal(read_one("0001", 4, &kind), GS_ERR_PARSE);
	assert_int_equal(read_one("0002", 4, &kind), GS_ERR_PARSE);
	assert_int_equal(read_one("0003", 4, &kind), GS_ERR_PARSE);
	assert_int_equal(read_one("fff1", 4, &kind), GS_ERR_PARSE);
	assert_int_equal(read_one("ffff", 4, &kind), GS_ERR_PARSE);
	/* truncated length, truncated data */
	assert_int_equal(read_one("00", 2, &kind), GS_ERR_PARSE);
	assert_int_equal(read_one("0009abc", 7, &kind), GS_ERR_PARSE);
	assert_int_equal(read_one("0005x", 5, &kind), 0);
	assert_int_equal(kind, PKT_DATA);
	assert_int_equal(read_one("000A123456", 10, &kind), 0);
}

static void test_read_largest_packet(void **state)
{
	size_t n = PKT_MAX_LEN;
	char *buf = malloc(n + 4);
	struct reader_fixture *f;
	enum pkt_kind kind;

	(void)state;
	assert_non_null(buf);
	memcpy(buf, "fff0", 4);
	memset(buf + 4, 'z', n - 4);
	f = reader_new(buf, n);
	assert_int_equal(pkt_read(f->r, &kind), 0);
	assert_int_equal(kind, PKT_DATA);
	assert_int_equal(f->r->len, PKT_MAX_DATA);
	reader_free(f);
	free(buf);
}

static void test_read_text(void **state)
{
	static const char in[] = "000ccommand\n" "0007abc" "0000" "0007a\0b" "0000";
	struct reader_fixture *f = reader_new(in, sizeof(in) - 1);
	bool flush;

	(void)state;
	assert_int_equal(pkt_read_text(f->r, false, NULL), 0);
	assert_string_equal((const char *)f->r->data, "command");
	assert_int_equal(pkt_read_text(f->r, true, &flush), 0);
	assert_false(flush);
	assert_string_equal((const char *)f->r->data, "abc");
	assert_int_equal(pkt_read_text(f->r, true, &flush), 0);
	assert_true(flush);
	assert_int_equal(pkt_read_text(f->r, true, &flush), GS_ERR_PARSE); /* NUL */
	assert_int_equal(pkt_read_text(f->r, false, NULL), GS_ERR_PARSE);  /* flush */
	assert_int_equal(pkt_read_text(f->r, false, NULL), GS_ERR_PARSE);  /* EOF */
	reader_free(f);
}

static int count_flushes;

static int count_push(void *ctx)
{
	(void)ctx;
	count_flushes++;
	return 0;
}

static void test_write(void **state)
{
	struct gs_buf out;
	struct gs_writer bw;
	struct pkt_writer w;
	size_t big = 2 * PKT_MAX_DATA + 5;
	uint8_t *data = malloc(big);

	(void)state;
	assert_non_null(data);
	memset(data, 'q', big);
	gs_buf_init(&out, false);
	bw = gs_writer_to_buf(&out);
	w = (struct pkt_writer){ &bw, count_push, NULL };
	assert_int_equal(pkt_write_text(&w, "version=2"), 0);
	assert_int_equal(pkt_write_flush(&w), 0);
	assert_int_equal(out.len, 14 + 4);
	assert_memory_equal(out.data, "000eversion=2\n0000", 18);
	assert_int_equal(pkt_write_data(&w, data, 0), GS_ERR_LIMIT);
	assert_int_equal(pkt_write_data(&w, data, PKT_MAX_DATA + 1), GS_ERR_LIMIT);
	gs_buf_reset(&out);
	assert_int_equal(pkt_write_stream(&w, data, big), 0);
	assert_int_equal(out.len, big + 3 * 4);
	assert_memory_equal(out.data, "fff0", 4);
	assert_memory_equal(out.data + 4 + PKT_MAX_DATA, "fff0", 4);
	assert_memory_equal(out.data + 8 + 2 * PKT_MAX_DATA, "0009", 4);
	count_flushes = 0;
	assert_int_equal(pkt_writer_push(&w), 0);
	assert_int_equal(count_flushes, 1);
	/* what was written reads back */
	{
		struct reader_fixture *f = reader_new((const char *)out.data, out.len);
		enum pkt_kind kind;
		size_t total = 0;

		for (;;) {
			assert_int_equal(pkt_read(f->r, &kind), 0);
			if (kind == PKT_EOF)
				break;
			total += f->r->len;
		}
		assert_int_equal(total, big);
		reader_free(f);
	}
	gs_buf_release(&out);
	free(data);
}

/* A scripted git: builds the client side of a session. */
static void put_text(struct gs_buf *b, const char *text)
{
	assert_int_equal(gs_buf_printf(b, "%04zx%s\n", strlen(text) + 5, text), 0);
}

static void put_flush(struct gs_buf *b)
{
	assert_int_equal(gs_buf_append_str(b, "0000"), 0);
}

static void put_handshake(struct gs_buf *b)
{
	put_text(b, "git-filter-client");
	put_text(b, "version=2");
	put_flush(b);
	put_text(b, "capability=clean");
	put_text(b, "capability=smudge");
	put_text(b, "capability=delay");
	put_flush(b);
}

static void put_request(struct gs_buf *b, const char *cmd, const char *path, const char *content)
{
	char line[128];

	snprintf(line, sizeof(line), "command=%s", cmd);
	put_text(b, line);
	snprintf(line, sizeof(line), "pathname=%s", path);
	put_text(b, line);
	put_text(b, "ref=refs/heads/main");
	put_flush(b);
	if (*content)
		assert_int_equal(gs_buf_printf(b, "%04zx%s", strlen(content) + 4, content), 0);
	put_flush(b);
}

struct fake {
	int calls;
	int failures;
	struct pkt_pipe *pipe; /* set: the request was read whole before run */
};

/* clean upper-cases, smudge lower-cases; path "bad" fails. */
static int fake_run(void *ctx, enum filter_command cmd, const char *path, const uint8_t *in, size_t len,
		    struct gs_buf *out)
{
	struct fake *fk = ctx;

	fk->calls++;
	if (fk->pipe)
		assert_false(fk->pipe->within);
	if (!strcmp(path, "bad"))
		return GS_FAIL(GS_ERR_MAC_MISMATCH, "'%s': MAC mismatch", path);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)(cmd == FILTER_CLEAN ? toupper(in[i]) : tolower(in[i]));

		if (gs_buf_append(out, &c, 1))
			return GS_ERR_NOMEM;
	}
	return 0;
}

static void fake_failed(void *ctx, enum filter_command cmd, const char *path, int err)
{
	struct fake *fk = ctx;

	(void)cmd;
	(void)path;
	assert_true(err < 0);
	fk->failures++;
}

static int run_session(const struct gs_buf *in, struct gs_buf *out, struct fake *fk)
{
	struct gs_mem_source src;
	struct gs_reader r = gs_reader_from_mem(&src, in->data, in->len);
	struct gs_writer bw = gs_writer_to_buf(out);
	struct pkt_writer w = { &bw, NULL, NULL };
	struct filter_handler h = { .run = fake_run, .failed = fake_failed, .ctx = fk };

	return filter_process_serve(&r, &w, &h);
}

/* The session's calls, failures and bytes written; then both buffers go. */
static void expect_session(struct gs_buf *in, struct gs_buf *out, const struct fake *fk, int calls, int failures,
			   const char *expect, size_t len)
{
	assert_int_equal(fk->calls, calls);
	assert_int_equal(fk->failures, failures);
	assert_int_equal(out->len, len);
	assert_memory_equal(out->data, expect, len);
	gs_buf_release(in);
	gs_buf_release(out);
}

static void test_session(void **state)
{
	struct gs_buf in, out;
	struct fake fk = { 0 };
	static const char expect[] =
		"0016git-filter-server\n" "000eversion=2\n" "0000"
		"0015capability=clean\n" "0016capability=smudge\n" "0000"
		"0013status=success\n" "0000" "0007ABC" "0000" "0000"
		"0011status=error\n" "0000"
		"0011status=error\n" "0000"
		"0013status=success\n" "0000" "0000" "0000"
		"0013status=success\n" "0000" "0006xy" "0000" "0000";

	(void)state;
	gs_buf_init(&in, false);
	gs_buf_init(&out, false);
	put_handshake(&in);
	put_request(&in, "clean", "a.yaml", "abc");
	put_request(&in, "smudge", "bad", "XYZ");
	put_request(&in, "list_available_blobs", "c.yaml", "");
	put_request(&in, "clean", "empty.yaml", "");
	put_request(&in, "smudge", "d.yaml", "XY");
	assert_int_equal(run_session(&in, &out, &fk), 0);
	expect_session(&in, &out, &fk, 4, 2, expect, sizeof(expect) - 1);
}

/* A smudge git lets wait (can-delay=1), naming a tree-ish or not. */
static void put_smudge_may_wait(struct gs_buf *b, const char *path, const char *content, bool treeish)
{
	char line[128];

	put_text(b, "command=smudge");
	snprintf(line, sizeof(line), "pathname=%s", path);
	put_text(b, line);
	put_text(b, "ref=refs/heads/main");
	if (treeish)
		put_text(b, "treeish=4b825dc642cb6eb9a060e54bf8d69288fbe4904b");
	put_text(b, "blob=e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
	if (*content) {
		put_text(b, "can-delay=1");
		put_flush(b);
		assert_int_equal(gs_buf_printf(b, "%04zx%s", strlen(content) + 4, content), 0);
	} else {
		put_flush(b); /* a fetch of a delayed file: no can-delay, no content */
	}
	put_flush(b);
}

/* the handler's choice in this test: at once when git named a tree-ish */
static bool at_once_from_tree(void *ctx, bool from_tree)
{
	(void)ctx;
	return from_tree;
}

/* A smudge the handler takes at once is answered with its content, in
 * place; the others are delayed, listed and fetched. */
static void test_session_smudge_at_once(void **state)
{
	struct gs_buf in, out;
	struct fake fk = { 0 };
	struct gs_mem_source src;
	static const char expect[] =
		"0016git-filter-server\n" "000eversion=2\n" "0000"
		"0015capability=clean\n" "0016capability=smudge\n" "0015capability=delay\n" "0000"
		/* t.yaml, from a tree-ish: at once */
		"0013status=success\n" "0000" "0006tt" "0000" "0000"
		/* p.yaml: delayed, listed, fetched */
		"0013status=delayed\n" "0000"
		"0014pathname=p.yaml\n" "0000" "0013status=success\n" "0000"
		"0013status=success\n" "0000" "0006pp" "0000" "0000"
		/* every delayed file listed: an empty list */
		"0000" "0013status=success\n" "0000";

	(void)state;
	gs_buf_init(&in, false);
	gs_buf_init(&out, false);
	put_handshake(&in);
	put_smudge_may_wait(&in, "t.yaml", "TT", true);
	put_smudge_may_wait(&in, "p.yaml", "PP", false);
	put_text(&in, "command=list_available_blobs");
	put_flush(&in);
	put_smudge_may_wait(&in, "p.yaml", "", false);
	put_text(&in, "command=list_available_blobs");
	put_flush(&in);
	{
		struct gs_reader r = gs_reader_from_mem(&src, in.data, in.len);
		struct gs_writer bw = gs_writer_to_buf(&out);
		struct pkt_writer w = { &bw, NULL, NULL };
		struct filter_handler h = { .run = fake_run, .failed = fake_failed, .ctx = &fk, .workers = 1,
					    .smudge_at_once = at_once_from_tree };

		assert_int_equal(filter_process_serve(&r, &w, &h), 0);
	}
	expect_session(&in, &out, &fk, 2, 0, expect, sizeof(expect) - 1);
}

static void test_session_large_content(void **state)
{
	struct gs_buf in, out;
	struct fake fk = { 0 };
	size_t big = 3 * PKT_MAX_DATA + 17, got = 0;
	struct reader_fixture *f;
	enum pkt_kind kind;
	int flushes = 0;

	(void)state;
	gs_buf_init(&in, false);
	gs_buf_init(&out, false);
	put_handshake(&in);
	put_text(&in, "command=clean");
	put_text(&in, "pathname=big.yaml");
	put_flush(&in);
	for (size_t left = big; left;) {
		size_t n = left < 1000 ? left : 1000;

		assert_int_equal(gs_buf_printf(&in, "%04zx", n + 4), 0);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(gs_buf_append(&in, "m", 1), 0);
		left -= n;
	}
	put_flush(&in);
	assert_int_equal(run_session(&in, &out, &fk), 0);
	/* skip the handshake (2 flushes), then status (1 flush), then content */
	f = reader_new((const char *)out.data, out.len);
	while (flushes < 3) {
		assert_int_equal(pkt_read(f->r, &kind), 0);
		assert_int_not_equal(kind, PKT_EOF);
		flushes += kind == PKT_FLUSH;
	}
	for (;;) {
		assert_int_equal(pkt_read(f->r, &kind), 0);
		if (kind != PKT_DATA)
			break;
		assert_true(f->r->len <= PKT_MAX_DATA);
		assert_int_equal(f->r->data[0], 'M');
		got += f->r->len;
	}
	assert_int_equal(got, big);
	reader_free(f);
	gs_buf_release(&in);
	gs_buf_release(&out);
}

static void expect_session_error(struct gs_buf *in)
{
	struct gs_buf out;
	struct fake fk = { 0 };

	gs_buf_init(&out, false);
	assert_int_equal(run_session(in, &out, &fk), GS_ERR_PARSE);
	assert_int_equal(fk.calls, 0);
	gs_buf_release(&out);
	gs_buf_reset(in);
}

static void test_session_protocol_errors(void **state)
{
	struct gs_buf in;

	(void)state;
	gs_buf_init(&in, false);
	put_text(&in, "git-lfs-client");
	put_text(&in, "version=2");
	put_flush(&in);
	expect_session_error(&in);

	put_text(&in, "git-filter-client");
	put_text(&in, "version=3");
	put_flush(&in);
	expect_session_error(&in);

	/* content cut off */
	put_handshake(&in);
	put_text(&in, "command=clean");
	put_text(&in, "pathname=x.yaml");
	put_flush(&in);
	assert_int_equal(gs_buf_append_str(&in, "0007abc"), 0);
	expect_session_error(&in);

	/* a flush where a command belongs */
	put_handshake(&in);
	put_flush(&in);
	expect_session_error(&in);

	/* a delim packet in the key list */
	put_handshake(&in);
	put_text(&in, "command=clean");
	assert_int_equal(gs_buf_append_str(&in, "0001"), 0);
	expect_session_error(&in);
	gs_buf_release(&in);
}

/* ---- git's pipe (pkt_pipe): the same session, through a real pipe ---- */

struct slow_writer {
	int fd;
	const struct gs_buf *bytes;
	size_t step;   /* bytes per write(2) */
	long pause_us; /* between writes: longer than a spin or shorter */
};

/* Writes as git does: many small writes, a pause between them. */
static void *slow_write(void *arg)
{
	struct slow_writer *sw = arg;

	for (size_t at = 0; at < sw->bytes->len;) {
		size_t n = sw->bytes->len - at < sw->step ? sw->bytes->len - at : sw->step;
		struct timespec pause = { 0, sw->pause_us * 1000 };
		ssize_t k = write(sw->fd, sw->bytes->data + at, n);

		if (k <= 0)
			break;
		at += (size_t)k;
		if (sw->pause_us)
			nanosleep(&pause, NULL);
	}
	close(sw->fd);
	return NULL;
}

/* Serves in through a pipe written step bytes at a time, the reader
 * polling spin_ns inside a request; the output and the calls must be
 * those of the same session read from memory. */
/* Returns how many polls ran out. */
static unsigned long expect_pipe_session(const struct gs_buf *in, size_t step, long pause_us, long spin_ns)
{
	unsigned long missed;
	struct gs_buf want, out;
	struct fake fk_mem = { 0 }, fk = { 0 };
	struct pkt_pipe pipe;
	struct slow_writer sw;
	pthread_t writer;
	int fds[2];

	gs_buf_init(&want, false);
	gs_buf_init(&out, false);
	assert_int_equal(run_session(in, &want, &fk_mem), 0);
	assert_int_equal(pipe2(fds, 0), 0);
	assert_int_equal(pkt_pipe_open(&pipe, fds[0], spin_ns), 0);
	assert_int_equal(pipe.spin_ns, filter_cpus() > 1 ? spin_ns : 0);
	sw = (struct slow_writer){ fds[1], in, step, pause_us };
	assert_int_equal(pthread_create(&writer, NULL, slow_write, &sw), 0);
	{
		struct gs_reader r = pkt_pipe_reader(&pipe);
		struct gs_writer bw = gs_writer_to_buf(&out);
		struct pkt_writer w = { &bw, NULL, NULL };
		struct filter_handler h = { .run = fake_run, .failed = fake_failed, .ctx = &fk, .pipe = &pipe };

		fk.pipe = &pipe;
		assert_int_equal(filter_process_serve(&r, &w, &h), 0);
	}
	assert_int_equal(pthread_join(writer, NULL), 0);
	assert_false(pipe.within);
	missed = pipe.missed;
	pkt_pipe_close(&pipe);
	assert_null(pipe.buf);
	close(fds[0]);
	assert_int_equal(fk.calls, fk_mem.calls);
	assert_int_equal(fk.failures, fk_mem.failures);
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.data, want.data, want.len);
	gs_buf_release(&want);
	gs_buf_release(&out);
	return missed;
}

static void put_session(struct gs_buf *in, bool big)
{
	put_handshake(in);
	put_request(in, "clean", "a.yaml", "abc");
	put_request(in, "smudge", "bad", "XYZ");
	put_request(in, "list_available_blobs", "c.yaml", "");
	put_request(in, "clean", "empty.yaml", "");
	put_request(in, "smudge", "d.yaml", "XY");
	if (!big)
		return;
	/* a content of many packets, read across many fills */
	put_text(in, "command=clean");
	put_text(in, "pathname=big.yaml");
	put_flush(in);
	for (int i = 0; i < 40; i++) {
		static char chunk[2000];

		memset(chunk, 'q', sizeof(chunk));
		assert_int_equal(gs_buf_printf(in, "%04zx", sizeof(chunk) + 4), 0);
		assert_int_equal(gs_buf_append(in, chunk, sizeof(chunk)), 0);
	}
	put_flush(in);
}

static void test_pipe_session_same_answers(void **state)
{
	struct gs_buf in, big;

	(void)state;
	gs_buf_init(&in, false);
	gs_buf_init(&big, false);
	put_session(&in, false);
	put_session(&big, true);
	/* polling for git's next bytes or blocking: the same answers */
	(void)expect_pipe_session(&big, big.len, 0, 0);
	(void)expect_pipe_session(&big, 1000, 0, 0);
	(void)expect_pipe_session(&big, 999, 0, 1000 * 1000);
	(void)expect_pipe_session(&in, 3, 0, 0);
	(void)expect_pipe_session(&in, 3, 0, 1000 * 1000);
	(void)expect_pipe_session(&in, 5, 2, 200 * 1000); /* pauses within the poll */
	/* pauses longer than the poll: it runs out, and the next fills block */
	if (filter_cpus() > 1) /* with one CPU it never polls */
		assert_true(expect_pipe_session(&in, 7, 200, 5 * 1000) > 0);
	assert_int_equal(expect_pipe_session(&in, 7, 200, 0), 0); /* never polled */
	/* the whole session in the pipe at once (one write): every poll finds bytes */
	assert_int_equal(expect_pipe_session(&in, in.len, 0, 1000 * 1000), 0);
	gs_buf_release(&in);
	gs_buf_release(&big);
}

static void test_pipe_spin_chosen_by_cpus(void **state)
{
	struct pkt_pipe pipe;

	(void)state;
	assert_true(filter_cpus() >= 1);
	/* never unless asked; never on one CPU */
	assert_int_equal(pkt_pipe_open(&pipe, 0, 0), 0);
	assert_int_equal(pipe.spin_ns, 0);
	pkt_pipe_close(&pipe);
	assert_int_equal(pkt_pipe_open(&pipe, 0, 30 * 1000), 0);
	assert_int_equal(pipe.spin_ns, filter_cpus() > 1 ? 30 * 1000 : 0);
	assert_false(pipe.within);
	assert_int_equal(pipe.skip, 0);
	assert_int_equal(pipe.missed, 0);
	pkt_pipe_close(&pipe);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_sequence),
		cmocka_unit_test(test_read_rejects_bad_lengths),
		cmocka_unit_test(test_read_largest_packet),
		cmocka_unit_test(test_read_text),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_session_smudge_at_once),
		cmocka_unit_test(test_session_large_content),
		cmocka_unit_test(test_session_protocol_errors),
		cmocka_unit_test(test_pipe_session_same_answers),
		cmocka_unit_test(test_pipe_spin_chosen_by_cpus),
	};

	if (gs_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
