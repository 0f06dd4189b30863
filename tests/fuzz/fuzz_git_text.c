/* libFuzzer: the git filter's scans of a file's text before it is sealed:
 * the block-scalar step of a flat YAML file (the metadata's indentation)
 * and a dotenv file's CRLF line ends taken as LF. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/secmem.h"
#include "../../src/git/gitfilter_int.h"

static void check_step(const uint8_t *data, size_t size)
{
	struct gs_buf text;
	int step;

	gs_buf_init(&text, false);
	if (gs_buf_append(&text, data, size))
		abort();
	step = gitseal_flat_block_step(&text);
	/* an indentation indicator is one digit */
	if (step < 0 || step > 9 || step != gitseal_flat_block_step(&text))
		abort();
	/* a step comes from an indented line: none in a text without one */
	if (step && !memmem(data, size, "\n ", 2))
		abort();
	gs_buf_release(&text);
}

static void check_lf(const uint8_t *data, size_t size)
{
	const uint8_t *in = data;
	struct gs_buf norm;
	size_t len = size, j = 0;

	gs_buf_init(&norm, true);
	if (gitfilter_dotenv_lf(&in, &len, &norm))
		abort();
	if (in == data && (len != size || memmem(data, size, "\r\n", 2)))
		abort();
	/* the same bytes, each CR that ends a line left out */
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\r' && i + 1 < size && data[i + 1] == '\n')
			continue;
		if (j >= len || in[j++] != data[i])
			abort();
	}
	/* ("\r\r\n" keeps one CR, as git's own conversion does) */
	if (j != len)
		abort();
	gs_buf_release(&norm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialized;

	if (!initialized) {
		if (sodium_init() < 0)
			abort();
		initialized = 1;
	}
	check_step(data, size);
	check_lf(data, size);
	return 0;
}
