/* ASCII armor (spec §8): a strict streaming reader and a writer. The
 * reader decodes one line at a time, so memory stays constant. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"

#include "age_int.h"

enum {
	ARMOR_MAX_WHITESPACE = 1024,
	ARMOR_OBUF_SIZE = 1024 * (AGE_STANZA_COLUMNS + 1),
};

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool all_space(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_space(p[i]))
			return false;
	return true;
}

static int armor_fail(struct age_armor_reader *a, const char *what)
{
	a->err = GS_FAIL(GS_ERR_AGE_ARMOR, "invalid armor: %s", what);
	return a->err;
}

/* The next line without LF and one trailing CR; EOF with nothing left is
 * an error here, because every caller needs a line. */
static int next_line(struct age_armor_reader *a, const uint8_t **line, size_t *len)
{
	bool lf;
	int ret = age_bufin_line(a->in, line, len, &lf);

	if (ret == GS_ERR_LIMIT)
		return armor_fail(a, "line longer than 64 columns");
	if (ret)
		return a->err = ret;
	if (!lf && *len == 0)
		return armor_fail(a, "unexpected end of file, missing END line");
	if (*len && (*line)[*len - 1] == '\r')
		(*len)--;
	return 0;
}

static bool line_is(const uint8_t *line, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(line, s, len) == 0;
}

/* After END: less than 1 KiB of whitespace, then EOF. */
static int drain_trailing(struct age_armor_reader *a)
{
	const uint8_t *p;
	size_t avail;
	int ret = age_bufin_peek(a->in, ARMOR_MAX_WHITESPACE, &p, &avail);

	if (ret)
		return a->err = ret;
	if (!all_space(p, avail))
		return armor_fail(a, "data after the END line");
	if (avail >= ARMOR_MAX_WHITESPACE)
		return armor_fail(a, "too much whitespace after the END line");
	a->done = true;
	return 0;
}

static int start(struct age_armor_reader *a)
{
	const uint8_t *line;
	size_t len, skipped = 0;
	int ret;

	for (;;) {
		ret = next_line(a, &line, &len);
		if (ret)
			return ret;
		if (!all_space(line, len))
			break;
		skipped += len + 1;
		if (skipped > ARMOR_MAX_WHITESPACE)
			return armor_fail(a, "too much whitespace before the BEGIN line");
	}
	if (!line_is(line, len, AGE_ARMOR_BEGIN))
		return armor_fail(a, "missing or malformed BEGIN line");
	a->started = true;
	return 0;
}

/* Decodes the next data line into dst (room for 48 bytes). */
static int decode_line(struct age_armor_reader *a, uint8_t *dst, size_t *n)
{
	const uint8_t *line;
	size_t len;
	int ret;

	*n = 0;
	ret = next_line(a, &line, &len);
	if (ret)
		return ret;
	if (line_is(line, len, AGE_ARMOR_END))
		return drain_trailing(a);
	if (len == 0)
		return armor_fail(a, "empty line");
	if (len > AGE_STANZA_COLUMNS)
		return armor_fail(a, "line longer than 64 columns");
	if (gs_base64_decode_strict((const char *)line, len, dst, AGE_STANZA_LINE_BYTES, n) != 0)
		return armor_fail(a, "invalid base64 line");
	if (*n < AGE_STANZA_LINE_BYTES) {
		/* A short line must be the last one. */
		ret = next_line(a, &line, &len);
		if (ret)
			return ret;
		if (!line_is(line, len, AGE_ARMOR_END))
			return armor_fail(a, len ? "short line before the end of the data" :
					  "empty line");
		return drain_trailing(a);
	}
	return 0;
}

static int armor_read(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
	struct age_armor_reader *a = ctx;
	size_t total = 0, k, n;
	int ret;

	*got = 0;
	if (a->err)
		return a->err;
	if (!a->started) {
		ret = start(a);
		if (ret)
			return ret;
	}
	while (total < cap) {
		if (a->line_pos < a->line_len) {
			k = a->line_len - a->line_pos;
			if (k > cap - total)
				k = cap - total;
			memcpy(buf + total, a->line + a->line_pos, k);
			a->line_pos += k;
			total += k;
			continue;
		}
		if (a->done)
			break;
		if (cap - total >= AGE_STANZA_LINE_BYTES) {
			ret = decode_line(a, buf + total, &n);
			total += n;
		} else {
			ret = decode_line(a, a->line, &n);
			a->line_pos = 0;
			a->line_len = n;
		}
		if (ret)
			return ret;
	}
	*got = total;
	return 0;
}

void age_armor_reader_init(struct age_armor_reader *a, struct age_bufin *in)
{
	memset(a, 0, sizeof(*a));
	a->in = in;
}

struct gs_reader age_armor_reader_as_reader(struct age_armor_reader *a)
{
	return (struct gs_reader){ armor_read, a, NULL };
}

int age_armor_detect(struct age_bufin *in, bool *armored)
{
	const uint8_t *p;
	size_t avail, i;
	int ret = age_bufin_peek(in, ARMOR_MAX_WHITESPACE + 64, &p, &avail);

	if (ret)
		return ret;
	for (i = 0; i < avail && is_space(p[i]); i++)
		;
	/* A binary file starts "age-". Garbage before a BEGIN line is still an
	 * armored file, a malformed one (an armor failure, as the test kit's
	 * armor_garbage_leading expects), not a bad binary header. */
	*armored = i < avail && (p[i] == '-' || ((avail - i < 4 || memcmp(p + i, "age-", 4) != 0) &&
						 memmem(p + i, avail - i, "\n" AGE_ARMOR_BEGIN, strlen(AGE_ARMOR_BEGIN) + 1)));
	return 0;
}

static int obuf_flush(struct age_armor_writer *w)
{
	int ret = 0;

	if (w->olen)
		ret = w->out->write(w->out->ctx, (const uint8_t *)w->obuf, w->olen);
	w->olen = 0;
	return ret;
}

static int obuf_line(struct age_armor_writer *w, const uint8_t *data, size_t n)
{
	int ret;

	if (w->ocap - w->olen < AGE_STANZA_COLUMNS + 2) {
		ret = obuf_flush(w);
		if (ret)
			return ret;
	}
	gs_base64_encode(data, n, w->obuf + w->olen, w->ocap - w->olen);
	w->olen += strlen(w->obuf + w->olen);
	w->obuf[w->olen++] = '\n';
	return 0;
}

static int armor_write(void *ctx, const uint8_t *buf, size_t n)
{
	struct age_armor_writer *w = ctx;
	size_t k;
	int ret;

	if (w->pending_len) {
		k = AGE_STANZA_LINE_BYTES - w->pending_len;
		if (k > n)
			k = n;
		memcpy(w->pending + w->pending_len, buf, k);
		w->pending_len += k;
		buf += k;
		n -= k;
		if (w->pending_len < AGE_STANZA_LINE_BYTES)
			return 0;
		ret = obuf_line(w, w->pending, AGE_STANZA_LINE_BYTES);
		w->pending_len = 0;
		if (ret)
			return ret;
	}
	while (n >= AGE_STANZA_LINE_BYTES) {
		ret = obuf_line(w, buf, AGE_STANZA_LINE_BYTES);
		if (ret)
			return ret;
		buf += AGE_STANZA_LINE_BYTES;
		n -= AGE_STANZA_LINE_BYTES;
	}
	memcpy(w->pending, buf, n);
	w->pending_len = n;
	return 0;
}

int age_armor_writer_init(struct age_armor_writer *w, struct gs_writer *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->obuf = gs_malloc(ARMOR_OBUF_SIZE);
	if (!w->obuf)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	w->ocap = ARMOR_OBUF_SIZE;
	memcpy(w->obuf, AGE_ARMOR_BEGIN "\n", strlen(AGE_ARMOR_BEGIN) + 1);
	w->olen = strlen(AGE_ARMOR_BEGIN) + 1;
	return 0;
}

struct gs_writer age_armor_writer_as_writer(struct age_armor_writer *w)
{
	return (struct gs_writer){ armor_write, w, NULL };
}

int age_armor_writer_finish(struct age_armor_writer *w)
{
	int ret = 0;

	/* spec §8: never an empty data line; END follows a full line directly. */
	if (w->pending_len)
		ret = obuf_line(w, w->pending, w->pending_len);
	w->pending_len = 0;
	if (ret || (w->ocap - w->olen < strlen(AGE_ARMOR_END) + 1 && (ret = obuf_flush(w))))
		return ret;
	memcpy(w->obuf + w->olen, AGE_ARMOR_END "\n", strlen(AGE_ARMOR_END) + 1);
	w->olen += strlen(AGE_ARMOR_END) + 1;
	return obuf_flush(w);
}

void age_armor_writer_release(struct age_armor_writer *w)
{
	free(w->obuf);
	memset(w, 0, sizeof(*w));
}
