/* libFuzzer: the pkt-line reader and the filter protocol state machine,
 * fed git's side of a session, delayed smudges (one worker thread) too,
 * and those answered at once (a request naming a tree-ish). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/secmem.h"
#include "../../src/git/git_int.h"

static int echo_run(void *ctx, enum filter_command cmd, const char *path, const uint8_t *in, size_t len,
		    struct gs_buf *out)
{
	(void)ctx;
	(void)cmd;
	if (path[0] == 'x')
		return GS_FAIL(GS_ERR_GENERIC, "'%s': refused", path);
	return gs_buf_append(out, in, len);
}

static bool at_once_from_tree(void *ctx, bool from_tree)
{
	(void)ctx;
	return from_tree;
}

static int discard_write(void *ctx, const uint8_t *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	(void)n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialized;
	struct gs_mem_source src;
	struct gs_reader in;
	struct gs_writer sink = { discard_write, NULL, NULL };
	struct pkt_writer w = { &sink, NULL, NULL };
	struct filter_handler h = { echo_run, NULL, NULL, 1, NULL, at_once_from_tree, NULL };
	struct pkt_reader *r;
	enum pkt_kind kind;

	if (!initialized) {
		if (gs_crypto_init())
			abort();
		initialized = 1;
	}
	/* the raw reader, to the first error */
	r = malloc(sizeof(*r));
	if (!r)
		return 0;
	in = gs_reader_from_mem(&src, data, size);
	pkt_reader_init(r, &in);
	while (pkt_read(r, &kind) == 0 && kind != PKT_EOF) {
		if (kind == PKT_DATA && r->len > PKT_MAX_DATA)
			abort();
	}
	free(r);
	/* the whole protocol */
	in = gs_reader_from_mem(&src, data, size);
	(void)filter_process_serve(&in, &w, &h);
	return 0;
}
