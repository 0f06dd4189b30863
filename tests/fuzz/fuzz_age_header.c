/* libFuzzer target: the age header parser. A header that parses must
 * re-serialise to exactly the bytes it was parsed from (the parser is
 * strict and canonical, spec §3.5). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/secmem.h"

#include "../../src/age/age_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	struct gs_mem_source src;
	struct gs_reader r = gs_reader_from_mem(&src, data, size);
	struct age_bufin in;
	struct age_header h;
	struct gs_buf out;
	size_t consumed;

	if (!initialised) {
		if (gs_crypto_init() != 0)
			abort();
		initialised = 1;
	}
	if (age_bufin_init(&in, &r, 65536) != 0)
		return 0;
	if (age_header_parse(&in, &h) == 0) {
		consumed = src.pos - (in.len - in.pos);
		gs_buf_init(&out, false);
		if (age_header_write(&h, &out) != 0 || out.len != consumed ||
		    memcmp(out.data, data, consumed) != 0)
			abort();
		gs_buf_release(&out);
		age_header_release(&h);
	}
	age_bufin_release(&in);
	return 0;
}
