/* A buffered reader with peek and bounded line reads, so that the header,
 * the armor and the payload can share one source without reading past
 * what each needs. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"

#include "age_int.h"

/* The buffer starts at 1 KiB and grows to cap once the input fills it: a
 * small file (the header and a short payload) then never touches, nor
 * makes malloc extend the heap by, the 128 KiB a large one reads through
 * (two page faults of a 100-byte `age -d`, docs/development.md). */
enum { BUFIN_FIRST = 1024 };

int age_bufin_init(struct age_bufin *b, struct gs_reader *src, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->src = src;
	b->size = cap < BUFIN_FIRST ? cap : BUFIN_FIRST;
	b->buf = gs_malloc(b->size);
	if (!b->buf)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	b->cap = cap;
	return 0;
}

void age_bufin_release(struct age_bufin *b)
{
	free(b->buf);
	b->buf = NULL;
}

/* Reads more into the buffer; returns 0 with nothing added at EOF. */
static int fill(struct age_bufin *b)
{
	size_t got = 0;
	int ret;

	if (b->eof)
		return 0;
	if (b->pos > 0) {
		memmove(b->buf, b->buf + b->pos, b->len - b->pos);
		b->len -= b->pos;
		b->pos = 0;
	}
	if (b->len == b->size && b->size < b->cap) {
		uint8_t *grown = gs_realloc(b->buf, b->cap);

		if (!grown)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		b->buf = grown;
		b->size = b->cap;
	}
	if (b->len == b->size)
		return 0;
	ret = b->src->read(b->src->ctx, b->buf + b->len, b->size - b->len, &got);
	if (ret)
		return ret;
	if (got == 0)
		b->eof = true;
	b->len += got;
	b->fetched += got;
	return 0;
}

int age_bufin_peek(struct age_bufin *b, size_t n, const uint8_t **p, size_t *avail)
{
	int ret;

	if (n > b->cap)
		n = b->cap;
	while (b->len - b->pos < n && !b->eof) {
		ret = fill(b);
		if (ret)
			return ret;
	}
	*p = b->buf + b->pos;
	*avail = b->len - b->pos;
	return 0;
}

int age_bufin_line(struct age_bufin *b, const uint8_t **line, size_t *len, bool *found_lf)
{
	size_t scanned = 0;
	const uint8_t *nl;
	int ret;

	for (;;) {
		nl = memchr(b->buf + b->pos + scanned, '\n', b->len - b->pos - scanned);
		if (nl) {
			*line = b->buf + b->pos;
			*len = (size_t)(nl - *line);
			*found_lf = true;
			b->pos += *len + 1;
			return 0;
		}
		scanned = b->len - b->pos;
		if (b->eof) {
			*line = b->buf + b->pos;
			*len = scanned;
			*found_lf = false;
			b->pos = b->len;
			return 0;
		}
		if (scanned == b->cap)
			return GS_FAIL(GS_ERR_LIMIT, "line too long");
		ret = fill(b);
		if (ret)
			return ret;
	}
}

int age_bufin_read(struct age_bufin *b, uint8_t *dst, size_t n, size_t *got)
{
	size_t total = 0, k, step;
	int ret;

	k = b->len - b->pos;
	if (k > n)
		k = n;
	if (k) {
		memcpy(dst, b->buf + b->pos, k);
		b->pos += k;
		total = k;
	}
	/* Large reads bypass the buffer. */
	while (total < n && !b->eof) {
		ret = b->src->read(b->src->ctx, dst + total, n - total, &step);
		if (ret)
			return ret;
		if (step == 0)
			b->eof = true;
		total += step;
		b->fetched += step;
	}
	*got = total;
	return 0;
}

static int bufin_reader_read(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
	struct age_bufin *b = ctx;
	size_t k;
	int ret;

	if (b->pos == b->len && !b->eof) {
		if (cap >= b->cap)
			return age_bufin_read(b, buf, cap, got);
		ret = fill(b);
		if (ret)
			return ret;
	}
	k = b->len - b->pos;
	if (k > cap)
		k = cap;
	memcpy(buf, b->buf + b->pos, k);
	b->pos += k;
	*got = k;
	return 0;
}

uint64_t age_bufin_position(const struct age_bufin *b)
{
	return b->fetched - (b->len - b->pos);
}

struct gs_reader age_bufin_reader(struct age_bufin *b)
{
	return (struct gs_reader){ bufin_reader_read, b, NULL };
}
