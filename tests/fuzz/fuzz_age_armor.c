/* libFuzzer target: the streaming armor reader. Whatever it accepts must
 * survive a write/read round trip unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/secmem.h"

#include "../../src/age/age_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int dearmor(const uint8_t *data, size_t size, size_t read_size, struct gs_buf *out)
{
	struct gs_mem_source src;
	struct gs_reader r = gs_reader_from_mem(&src, data, size), ar_r;
	struct age_armor_reader ar;
	struct age_bufin in;
	uint8_t chunk[4096];
	size_t got;
	int ret;

	gs_buf_init(out, false);
	ret = age_bufin_init(&in, &r, 65536);
	if (ret)
		return ret;
	age_armor_reader_init(&ar, &in);
	ar_r = age_armor_reader_as_reader(&ar);
	do {
		ret = ar_r.read(ar_r.ctx, chunk, read_size, &got);
		if (!ret)
			ret = gs_buf_append(out, chunk, got);
	} while (!ret && got);
	age_bufin_release(&in);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	struct gs_buf plain, plain2, armored;
	struct age_armor_writer aw;
	struct gs_writer w, aww;
	int ret;

	if (!initialised) {
		if (gs_crypto_init() != 0)
			abort();
		initialised = 1;
	}
	ret = dearmor(data, size, 4096, &plain);
	/* Small reads go through the reader's line buffer: same verdict. */
	if ((dearmor(data, size, 7, &plain2) == 0) != (ret == 0))
		abort();
	if (ret == 0 && (plain.len != plain2.len || (plain.len && memcmp(plain.data, plain2.data, plain.len))))
		abort();
	gs_buf_release(&plain2);
	if (ret == 0) {
		gs_buf_init(&armored, false);
		w = gs_writer_to_buf(&armored);
		if (age_armor_writer_init(&aw, &w) != 0)
			abort();
		aww = age_armor_writer_as_writer(&aw);
		if (aww.write(aww.ctx, plain.data, plain.len) != 0 || age_armor_writer_finish(&aw) != 0)
			abort();
		age_armor_writer_release(&aw);
		if (dearmor(armored.data, armored.len, 4096, &plain2) != 0 || plain2.len != plain.len ||
		    (plain.len && memcmp(plain.data, plain2.data, plain.len) != 0))
			abort();
		gs_buf_release(&plain2);
		gs_buf_release(&armored);
	}
	gs_buf_release(&plain);
	return 0;
}
