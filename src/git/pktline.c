/* pkt-line framing (gitprotocol-common(5)): a 4-hex-digit length that
 * counts itself, then the data; "0000" is a flush packet. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "git_int.h"

void pkt_reader_init(struct pkt_reader *r, struct gs_reader *in)
{
	r->in = in;
	r->len = 0;
	r->data[0] = '\0';
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pkt_read(struct pkt_reader *r, enum pkt_kind *kind)
{
	uint8_t head[PKT_HEADER_SIZE];
	size_t got, len = 0;
	int ret;

	r->len = 0;
	r->data[0] = '\0';
	ret = gs_read_full(r->in, head, sizeof(head), &got);
	if (ret)
		return ret;
	if (got == 0) {
		*kind = PKT_EOF;
		return 0;
	}
	if (got < sizeof(head))
		return GS_FAIL(GS_ERR_PARSE, "pkt-line: input ends inside a length");
	for (size_t i = 0; i < sizeof(head); i++) {
		int v = hex_value(head[i]);

		if (v < 0)
			return GS_FAIL(GS_ERR_PARSE, "pkt-line: length is not hexadecimal");
		len = len << 4 | (size_t)v;
	}
	if (len == 0) {
		*kind = PKT_FLUSH;
		return 0;
	}
	/* 0001 (delim) and 0002 (response end) belong to protocol v2 of the
	 * transport, never to the filter protocol; 0003 is never valid. */
	if (len < PKT_HEADER_SIZE)
		return GS_FAIL(GS_ERR_PARSE, "pkt-line: special packet %04zx not allowed here", len);
	if (len > PKT_MAX_LEN)
		return GS_FAIL(GS_ERR_PARSE, "pkt-line: packet of %zu bytes exceeds %d", len, PKT_MAX_LEN);
	len -= PKT_HEADER_SIZE;
	ret = gs_read_full(r->in, r->data, len, &got);
	if (ret)
		return ret;
	if (got < len)
		return GS_FAIL(GS_ERR_PARSE, "pkt-line: input ends inside a packet");
	r->data[len] = '\0';
	r->len = len;
	*kind = PKT_DATA;
	return 0;
}

int pkt_read_text(struct pkt_reader *r, bool flush_ok, bool *is_flush)
{
	enum pkt_kind kind;
	int ret = pkt_read(r, &kind);

	if (ret)
		return ret;
	if (is_flush)
		*is_flush = false;
	if (kind == PKT_FLUSH && flush_ok) {
		*is_flush = true;
		return 0;
	}
	if (kind != PKT_DATA)
		return GS_FAIL(GS_ERR_PARSE, "pkt-line: expected a text packet, got %s",
			       kind == PKT_FLUSH ? "a flush" : "the end of input");
	if (r->len && r->data[r->len - 1] == '\n')
		r->data[--r->len] = '\0';
	if (memchr(r->data, '\0', r->len))
		return GS_FAIL(GS_ERR_PARSE, "pkt-line: text packet holds a NUL byte");
	return 0;
}

int pkt_write_data(struct pkt_writer *w, const void *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t head[PKT_HEADER_SIZE];
	size_t len = n + PKT_HEADER_SIZE;
	int ret;

	if (n == 0 || n > PKT_MAX_DATA)
		return GS_FAIL(GS_ERR_LIMIT, "pkt-line: cannot write a packet of %zu bytes", n);
	for (int i = PKT_HEADER_SIZE - 1; i >= 0; i--) {
		head[i] = (uint8_t)digits[len & 0xf];
		len >>= 4;
	}
	if ((ret = w->out->write(w->out->ctx, head, sizeof(head))))
		return ret;
	return w->out->write(w->out->ctx, data, n);
}

int pkt_write_text(struct pkt_writer *w, const char *text)
{
	char line[256];
	size_t n = strlen(text);

	if (n + 1 > sizeof(line))
		return GS_FAIL(GS_ERR_LIMIT, "pkt-line: text packet too long");
	memcpy(line, text, n);
	line[n++] = '\n';
	return pkt_write_data(w, line, n);
}

int pkt_write_flush(struct pkt_writer *w)
{
	return w->out->write(w->out->ctx, (const uint8_t *)"0000", PKT_HEADER_SIZE);
}

int pkt_write_stream(struct pkt_writer *w, const uint8_t *data, size_t len)
{
	int ret = 0;

	while (len && !ret) {
		size_t n = len < PKT_MAX_DATA ? len : PKT_MAX_DATA;

		ret = pkt_write_data(w, data, n);
		data += n;
		len -= n;
	}
	return ret;
}

int pkt_writer_push(struct pkt_writer *w)
{
	return w->flush ? w->flush(w->flush_ctx) : 0;
}

/* ---- git's pipe ---- */

unsigned filter_cpus(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

int pkt_pipe_open(struct pkt_pipe *p, int fd, long spin_ns)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	/* with one CPU, polling would only keep git off it */
	p->spin_ns = spin_ns > 0 && filter_cpus() > 1 ? spin_ns : 0;
	p->buf = gs_secure_alloc(PKT_PIPE_BUF);
	if (!p->buf)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

void pkt_pipe_close(struct pkt_pipe *p)
{
	if (p->buf) {
		sodium_memzero(p->buf, PKT_PIPE_BUF);
		gs_secure_free(p->buf);
	}
	p->buf = NULL;
	p->at = p->end = 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Polls the pipe without blocking for up to spin_ns: true when it has
 * bytes (or git closed it). */
static bool spin_until_ready(const struct pkt_pipe *p)
{
	struct pollfd pfd = { p->fd, POLLIN, 0 };
	int64_t until = now_ns() + p->spin_ns;

	do {
		if (poll(&pfd, 1, 0) > 0)
			return true;
		sched_yield();
	} while (now_ns() < until);
	return false;
}

/* Polls when the last polls found git's bytes in time. A poll that runs
 * out means git is not running (a loaded machine: it waits for a CPU),
 * and polling would take CPU time from it: the next `skip` fills block,
 * skip doubling with each poll that runs out, back to 0 with one that
 * does not. */
static void maybe_spin(struct pkt_pipe *p)
{
	if (!p->within || !p->spin_ns)
		return;
	if (p->skip_left) {
		p->skip_left--;
		return;
	}
	if (spin_until_ready(p)) {
		p->skip = 0;
		return;
	}
	p->missed++;
	p->skip = p->skip ? (p->skip < PKT_PIPE_SKIP_MAX ? p->skip * 2 : p->skip) : 1;
	p->skip_left = p->skip;
}

static int pipe_fill(struct pkt_pipe *p)
{
	ssize_t n;

	/* what was read is plaintext on clean: gone before the next bytes come */
	sodium_memzero(p->buf, p->end);
	p->at = p->end = 0;
	maybe_spin(p);
	do
		n = read(p->fd, p->buf, PKT_PIPE_BUF);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return GS_FAIL(GS_ERR_IO, "cannot read from git: %s", strerror(errno));
	p->end = (size_t)n;
	return 0;
}

static int pipe_read(void *ctx, uint8_t *buf, size_t n, size_t *got)
{
	struct pkt_pipe *p = ctx;
	int ret;

	*got = 0;
	if (p->at == p->end && (ret = pipe_fill(p)))
		return ret;
	/* 0 bytes: git closed the pipe */
	*got = p->end - p->at < n ? p->end - p->at : n;
	memcpy(buf, p->buf + p->at, *got);
	p->at += *got;
	return 0;
}

struct gs_reader pkt_pipe_reader(struct pkt_pipe *p)
{
	return (struct gs_reader){ pipe_read, p, NULL };
}
