/* Private to src/git/ (and its unit and fuzz tests): pkt-line framing and
 * the long-running filter protocol state machine. */
#ifndef GITSEAL_GIT_INT_H
#define GITSEAL_GIT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gitseal/io.h"
#include "gitseal/secmem.h"

/* gitprotocol-common(5): the 4-hex length counts itself; a packet is at
 * most LARGE_PACKET_MAX = 65520 bytes, so 65516 bytes of data. */
enum {
	PKT_HEADER_SIZE = 4,
	PKT_MAX_LEN = 65520,
	PKT_MAX_DATA = PKT_MAX_LEN - PKT_HEADER_SIZE,
};

enum pkt_kind {
	PKT_DATA,
	PKT_FLUSH,
	PKT_EOF, /* the input ended cleanly, between two packets */
};

struct pkt_reader {
	struct gs_reader *in;
	uint8_t data[PKT_MAX_DATA + 1]; /* NUL-terminated for text packets */
	size_t len;
};

void pkt_reader_init(struct pkt_reader *r, struct gs_reader *in);
/* Reads one packet. Strict: a length that is not 4 lowercase or uppercase
 * hex digits, the special lengths 0001-0003 (delim, response-end, invalid
 * in the filter protocol), a length above PKT_MAX_LEN, or an input that
 * ends inside a packet is GS_ERR_PARSE. */
int pkt_read(struct pkt_reader *r, enum pkt_kind *kind) __attribute__((warn_unused_result));
/* Reads a data packet holding text; one trailing LF is removed. A flush
 * (or the end of input) where text was expected is GS_ERR_PARSE, unless
 * flush_ok is set, in which case *is_flush reports it. A NUL inside the
 * text is GS_ERR_PARSE. */
int pkt_read_text(struct pkt_reader *r, bool flush_ok, bool *is_flush)
	__attribute__((warn_unused_result));

/* Packets are written straight to out; flush (may be NULL) is called when a
 * complete message is ready, so a buffered stream reaches git. */
struct pkt_writer {
	struct gs_writer *out;
	int (*flush)(void *ctx);
	void *flush_ctx;
};

int pkt_write_data(struct pkt_writer *w, const void *data, size_t n) __attribute__((warn_unused_result));
/* Writes "text\n" as one packet. */
int pkt_write_text(struct pkt_writer *w, const char *text) __attribute__((warn_unused_result));
int pkt_write_flush(struct pkt_writer *w) __attribute__((warn_unused_result));
/* Writes data as a sequence of packets of at most PKT_MAX_DATA bytes (no
 * packet for empty data). */
int pkt_write_stream(struct pkt_writer *w, const uint8_t *data, size_t len)
	__attribute__((warn_unused_result));
int pkt_writer_push(struct pkt_writer *w) __attribute__((warn_unused_result));

/* git's end of the pipe, read with read(2) into a buffer of our own, in
 * secure memory (a clean's content is plaintext), instead of stdio's.
 *
 * git writes each packet of a request with a write(2) of its own (the
 * command, each key, the flush, each content packet's length and data,
 * the last flush), microseconds apart. A reader that blocks between them
 * goes idle and is woken for each one: about six wake-ups per file, each
 * a switch on git's CPU or a sleeping CPU woken by another, which is the
 * larger part of the cost of a process filter on a quiet machine
 * (docs/development.md, "the process-filter floor"). While `within` is
 * set (a request's first packet was read, its last not yet), an empty
 * pipe is polled for up to spin_ns before the read blocks: the reader
 * stays on its CPU for the rest of the request and is woken once per file.
 * Between polls it yields its CPU (sched_yield): git, or a worker, may be
 * waiting for that very CPU, and a poll that held it would only wait for
 * git to be preempted back. Between requests it always blocks: git then
 * has a file to write or an object to read. A poll that runs out (git did
 * not run: the machine is busy) makes the next fills block, more of them
 * after each one. */
enum { PKT_PIPE_BUF = 1 << 16 };

struct pkt_pipe {
	int fd;
	uint8_t *buf; /* secure, PKT_PIPE_BUF bytes */
	size_t at, end;
	long spin_ns; /* 0: never poll */
	bool within;
	/* after polls that ran out (git was not running), so many fills block */
	unsigned skip, skip_left;
	unsigned long missed; /* polls that ran out */
};

/* spin_ns: how long to poll inside a request, 0 never; never when this
 * process may run on one CPU only. gitseal's filter polls
 * FILTER_SPIN_US_DEFAULT unless told otherwise (GITSEAL_FILTER_SPIN_US):
 * a poll that holds the CPU cost more than it saved (docs/development.md),
 * one that yields between polls took most of a checkout's wake-ups away
 * and a sixth of its CPU time. */
enum { PKT_PIPE_SKIP_MAX = 256, FILTER_SPIN_US_DEFAULT = 30 };
int pkt_pipe_open(struct pkt_pipe *p, int fd, long spin_ns) __attribute__((warn_unused_result));
void pkt_pipe_close(struct pkt_pipe *p);
struct gs_reader pkt_pipe_reader(struct pkt_pipe *p);
/* The CPUs this process may run on (its affinity mask). */
unsigned filter_cpus(void);

/* The long-running filter protocol, version 2 (gitprotocol-long-running-
 * process(5), gitattributes(5) "Long Running Filter Process"). The
 * handler turns one file's content into its filtered form; its failure
 * answers status=error for that file only. */
enum filter_command { FILTER_CLEAN, FILTER_SMUDGE };

struct filter_handler {
	int (*run)(void *ctx, enum filter_command cmd, const char *path, const uint8_t *in, size_t len,
		   struct gs_buf *out);
	/* Told of each file that failed (the error message is set), may be NULL. */
	void (*failed)(void *ctx, enum filter_command cmd, const char *path, int err);
	void *ctx;
	/* With workers, smudges git lets wait (the "delay" capability: a
	 * checkout or a clone) run on that many threads while git goes on;
	 * run must then be safe to call for smudge from several threads. */
	unsigned workers;
	/* git's pipe when the input is one (may be NULL): told when a
	 * request is being read */
	struct pkt_pipe *pipe;
	/* Whether a smudge git lets wait is answered at once rather than
	 * delayed: from_tree when git named a tree-ish (filter_process.c);
	 * NULL: always delayed. */
	bool (*smudge_at_once)(void *ctx, bool from_tree);
	/* A smudge's input checked on this thread before it may be delayed:
	 * non-zero (the error message set) answers status=error. May be NULL. */
	int (*smudge_check)(void *ctx, const char *path, const uint8_t *in, size_t len);
};

enum {
	FILTER_MAX_CONTENT = 256 * 1024 * 1024, /* one file, as the stores allow */
	FILTER_SMUDGE_WORKERS = 2,
	/* delayed files held at once (content and result): past this, files
	 * are smudged as they come */
	FILTER_DELAY_MAX_JOBS = 1 << 20,
	FILTER_DELAY_MAX_BYTES = 64 * 1024 * 1024,
	/* a sleeping worker is woken once this many delayed files wait, or
	 * one this large, or when git asks which are ready: not for each file */
	FILTER_DELAY_WAKE_JOBS = 8,
	FILTER_DELAY_WAKE_BYTES = 64 * 1024,
	/* how often the filter looks at the machine's load again
	 * (filter.c, serve_smudge_at_once) */
	FILTER_SPARE_CPU_EVERY = 1024,
};

/* Handshake, then requests until the input ends. Returns 0 when git
 * closed the pipe between requests, a negative gs_err on a protocol or
 * I/O error (after which the stream is out of step and the process must
 * end). */
int filter_process_serve(struct gs_reader *in, struct pkt_writer *out, const struct filter_handler *h)
	__attribute__((warn_unused_result));

#endif
