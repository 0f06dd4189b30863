/* The floor of any long-running filter process: git's filter protocol
 * (gitprotocol-long-running-process(5), version 2), clean and smudge
 * each answering with the file's own bytes. bench/git_bench.sh times git
 * with it beside gitseal and plain git: what git itself spends on a
 * process filter (the pipe, one request and answer per file, no stat
 * shortcut for a filtered file) is not gitseal's to cut.
 *
 * Options, to measure what makes that floor (bench/git_bench.sh with
 * GIT_BENCH_FLOOR=1):
 *   --stdio    read and write through stdio (4 KiB buffers), as the
 *              filter did first; the default reads with read(2) into a
 *              64 KiB buffer and answers each file with one write(2)
 *   --spin=US  before blocking for git's next bytes, read without
 *              blocking for up to US microseconds: the process stays on
 *              its CPU instead of going idle and being woken
 *   --spin-within=US  the same, only inside a request (git writes each
 *              of its packets with a write of its own, microseconds
 *              apart), never while waiting for the next request
 *   --yield    with --spin or --spin-within, give the CPU up (sched_yield)
 *              between reads, as gitseal's filter does: git may be waiting
 *              for this very CPU to write the rest
 *   --delay    answer each smudge git lets wait "delayed", and hand the
 *              files back when git asks (the delay capability)
 * usage (as git's filter.<name>.process): noop_filter [OPTION]... */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MAX_PACKET = 65520, HEADER = 4, MAX_DATA = MAX_PACKET - HEADER, IN_BUF = 1 << 16 };

static bool use_stdio, use_delay;
static long spin_ns;
static bool spin_within;   /* spin only inside a request */
static bool spin_yield;    /* sched_yield between reads while spinning */
static bool mid_request;   /* a request's first packet was read, not its last */

static unsigned char packet[MAX_PACKET + 1];

static void die(const char *what)
{
	fprintf(stderr, "noop_filter: %s\n", what);
	exit(1);
}

/* ---- input: stdio, or read(2) into a buffer of our own ---- */

static unsigned char inbuf[IN_BUF];
static size_t in_at, in_end;

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Refills inbuf; false at the end of input. With spin_ns, stdin is
 * non-blocking and polled that long before poll(2) blocks. */
static bool refill(void)
{
	bool spin = spin_ns && (!spin_within || mid_request);
	long until = spin ? now_ns() + spin_ns : 0;
	ssize_t n;

	for (;;) {
		n = read(0, inbuf, sizeof(inbuf));
		if (n > 0)
			break;
		if (n == 0)
			return false;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			die("cannot read from git");
		if (until && now_ns() < until) {
			if (spin_yield)
				sched_yield();
			continue;
		}
		struct pollfd p = { 0, POLLIN, 0 };
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			die("cannot wait for git");
		until = spin ? now_ns() + spin_ns : 0;
	}
	in_at = 0;
	in_end = (size_t)n;
	return true;
}

/* Reads n bytes; false when the input ends before the first. */
static bool read_bytes(unsigned char *to, size_t n)
{
	size_t got = 0;

	if (use_stdio) {
		got = fread(to, 1, n, stdin);
		if (got && got < n)
			die("input ends inside a packet");
		return got == n;
	}
	while (got < n) {
		size_t k;

		if (in_at == in_end && !refill()) {
			if (got)
				die("input ends inside a packet");
			return false;
		}
		k = in_end - in_at < n - got ? in_end - in_at : n - got;
		memcpy(to + got, inbuf + in_at, k);
		in_at += k;
		got += k;
	}
	return true;
}

/* ---- output: stdio, or one buffer written at once ---- */

static unsigned char *outbuf;
static size_t out_len, out_cap;

static void out_append(const void *data, size_t n)
{
	if (use_stdio) {
		if (fwrite(data, 1, n, stdout) != n)
			die("cannot write to git");
		return;
	}
	if (out_len + n > out_cap) {
		out_cap = (out_len + n) * 2;
		if (!(outbuf = realloc(outbuf, out_cap)))
			die("out of memory");
	}
	memcpy(outbuf + out_len, data, n);
	out_len += n;
}

static void out_push(void)
{
	if (use_stdio) {
		if (fflush(stdout))
			die("cannot write to git");
		return;
	}
	for (size_t at = 0; at < out_len;) {
		ssize_t n = write(1, outbuf + at, out_len - at);

		if (n < 0 && errno != EINTR)
			die("cannot write to git");
		if (n > 0)
			at += (size_t)n;
	}
	out_len = 0;
}

/* ---- packets ---- */

/* The next packet's data length, -1 for a flush, -2 at the end of input. */
static long read_packet(void)
{
	char head[HEADER + 1];
	long len;
	char *end;

	if (!read_bytes((unsigned char *)head, HEADER))
		return -2;
	head[HEADER] = '\0';
	len = strtol(head, &end, 16);
	if (*end || len > MAX_PACKET || (len > 0 && len < HEADER))
		die("bad packet length");
	if (len == 0)
		return -1;
	len -= HEADER;
	if (!read_bytes(packet, (size_t)len))
		die("input ends inside a packet");
	packet[len] = '\0';
	return len;
}

static void write_packet(const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = len + HEADER;
	char head[HEADER];

	for (int i = HEADER - 1; i >= 0; i--, n >>= 4)
		head[i] = digits[n & 0xf];
	out_append(head, HEADER);
	out_append(data, len);
}

static void write_text(const char *text)
{
	write_packet(text, strlen(text));
}

static void write_flush(void)
{
	out_append("0000", HEADER);
}

static void write_content(const unsigned char *data, size_t len)
{
	for (size_t at = 0; at < len; at += MAX_DATA)
		write_packet(data + at, len - at < MAX_DATA ? len - at : MAX_DATA);
}

static void skip_to_flush(void)
{
	long n;

	while ((n = read_packet()) >= 0)
		;
	if (n == -2)
		die("input ends inside a list");
}

/* ---- delayed smudges: held in git's order ---- */

struct held {
	char *path;
	unsigned char *data;
	size_t len;
};

static struct held *held;
static size_t nheld, held_cap, next_listed;

static void hold(const char *path, const unsigned char *data, size_t len)
{
	if (nheld == held_cap) {
		held_cap = held_cap ? held_cap * 2 : 256;
		if (!(held = realloc(held, held_cap * sizeof(*held))))
			die("out of memory");
	}
	held[nheld].path = strdup(path);
	held[nheld].data = malloc(len ? len : 1);
	if (!held[nheld].path || !held[nheld].data)
		die("out of memory");
	memcpy(held[nheld].data, data, len);
	held[nheld++].len = len;
}

/* Every file held and not yet listed is ready. */
static void list_available(void)
{
	for (; next_listed < nheld; next_listed++) {
		const char *path = held[next_listed].path;
		size_t n = strlen(path);
		char *line = malloc(n + 11);

		if (!line)
			die("out of memory");
		memcpy(line, "pathname=", 9);
		memcpy(line + 9, path, n);
		memcpy(line + 9 + n, "\n", 2);
		write_text(line);
		free(line);
	}
	write_flush();
	write_text("status=success\n");
	write_flush();
	out_push();
}

/* git fetches the files in the order they were listed */
static struct held *fetch(const char *path)
{
	static size_t next;

	for (size_t i = next; i < nheld; i++)
		if (held[i].path && !strcmp(held[i].path, path)) {
			next = i;
			return &held[i];
		}
	return NULL;
}

/* ---- the protocol ---- */

struct request {
	char command[MAX_PACKET + 1];
	char path[MAX_PACKET + 1];
	bool can_delay;
};

static void read_keys(struct request *req)
{
	long n;

	req->path[0] = '\0';
	req->can_delay = false;
	while ((n = read_packet()) >= 0) {
		if (!strncmp((char *)packet, "pathname=", 9)) {
			strcpy(req->path, (char *)packet + 9);
			req->path[strcspn(req->path, "\n")] = '\0';
		} else if (!strcmp((char *)packet, "can-delay=1\n")) {
			req->can_delay = true;
		}
	}
	if (n == -2)
		die("input ends inside a list");
}

static void answer(const unsigned char *data, size_t len)
{
	write_text("status=success\n");
	write_flush();
	write_content(data, len);
	write_flush();
	write_flush(); /* the status stands */
	out_push();
}

static void handshake(void)
{
	if (read_packet() < 0 || strcmp((char *)packet, "git-filter-client\n"))
		die("expected git-filter-client");
	skip_to_flush(); /* version=2 (git offers no other) */
	write_text("git-filter-server\n");
	write_text("version=2\n");
	write_flush();
	out_push(); /* git answers with its capabilities only then */
	skip_to_flush(); /* capabilities: clean and smudge are always offered, delay in a checkout */
	write_text("capability=clean\n");
	write_text("capability=smudge\n");
	if (use_delay)
		write_text("capability=delay\n");
	write_flush();
	out_push();
}

static void options(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--stdio"))
			use_stdio = true;
		else if (!strcmp(argv[i], "--delay"))
			use_delay = true;
		else if (!strncmp(argv[i], "--spin=", 7))
			spin_ns = strtol(argv[i] + 7, NULL, 10) * 1000;
		else if (!strncmp(argv[i], "--spin-within=", 14))
			spin_ns = strtol(argv[i] + 14, NULL, 10) * 1000, spin_within = true;
		else if (!strcmp(argv[i], "--yield"))
			spin_yield = true;
		else
			die("usage: noop_filter [--stdio] [--spin=US | --spin-within=US] [--yield] [--delay]");
	}
	if (use_stdio && spin_ns)
		die("--spin reads with read(2): not with --stdio");
	if (spin_ns && fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK) < 0)
		die("cannot make the input non-blocking");
}

int main(int argc, char **argv)
{
	static unsigned char *content;
	static size_t cap;
	static struct request req;
	struct held *h;
	long n;

	options(argc, argv);
	handshake();
	while ((n = read_packet()) != -2) {
		size_t len = 0;

		if (n < 0 || strncmp((char *)packet, "command=", 8))
			die("expected a command");
		strcpy(req.command, (char *)packet + 8);
		mid_request = true;
		read_keys(&req);
		if (!strcmp(req.command, "list_available_blobs\n")) {
			mid_request = false;
			list_available(); /* no keys, no content */
			continue;
		}
		while ((n = read_packet()) >= 0) {
			if (len + (size_t)n > cap) {
				cap = (len + (size_t)n) * 2;
				if (!(content = realloc(content, cap)))
					die("out of memory");
			}
			memcpy(content + len, packet, (size_t)n);
			len += (size_t)n;
		}
		if (n == -2)
			die("input ends inside a file");
		mid_request = false;
		if (use_delay && req.can_delay && !strcmp(req.command, "smudge\n")) {
			hold(req.path, content, len);
			write_text("status=delayed\n");
			write_flush();
			out_push();
		} else if (use_delay && !len && (h = fetch(req.path))) {
			answer(h->data, h->len);
			free(h->path);
			free(h->data);
			h->path = NULL;
		} else {
			answer(content, len);
		}
	}
	return 0;
}
