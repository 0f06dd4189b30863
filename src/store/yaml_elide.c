/* Long runs of base64 left out of what libyaml reads, for a proof's
 * reload (yaml_load_data). libyaml builds each scalar in a buffer that
 * doubles and is zeroed as it grows: an encrypted 100 MiB value cost
 * 256 MiB there, on top of the output and the tree, before the tree took
 * its copy. The run's characters are all alike to libyaml inside a plain
 * scalar (none is an indicator, a blank or a break), so it reads the same
 * tokens without most of them; the loader then takes the value from the
 * text itself, and only where that is provably the value libyaml would
 * have given (yaml_load.c tree_on_scalar: a plain one-line string value,
 * each cut inside exactly one). Anything else goes back to reading the
 * whole text. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/array.h"
#include "gitseal/error.h"
#include "yaml_int.h"

#ifdef GITSEAL_FUZZING
/* the fuzzers (make fuzz) reach the cuts with small inputs */
enum { YCUT_MIN_RUN = 8, YCUT_KEEP = 2 };
#else
enum {
	YCUT_MIN_RUN = 64 * 1024, /* shorter runs are read as they are */
	YCUT_KEEP = 64,           /* of each run, the first bytes stay */
};
#endif

static bool base64_byte(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/' || c == '=';
}

void ycuts_init(struct ycuts *c, const uint8_t *src, size_t len)
{
	memset(c, 0, sizeof(*c));
	c->src = src;
	c->len = len;
}

void ycuts_release(struct ycuts *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* A run of YCUT_MIN_RUN bytes or more holds a position p with
 * p % YCUT_MIN_RUN == YCUT_MIN_RUN - 1: only those are looked at, and a
 * run through one is measured (the proof of every write reads its output
 * through here: no byte-by-byte pass over it). */
int ycuts_find(struct ycuts *c)
{
	size_t shift = 0, done = 0;
	int ret;

	for (size_t p = YCUT_MIN_RUN - 1; p < c->len; p += YCUT_MIN_RUN) {
		size_t a = p, b = p + 1;

		if (p < done || !base64_byte(c->src[p]))
			continue;
		while (a > done && base64_byte(c->src[a - 1]))
			a--;
		while (b < c->len && base64_byte(c->src[b]))
			b++;
		done = b;
		if (b - a < YCUT_MIN_RUN)
			continue;
		if ((ret = GS_ARRAY_GROW(c->v, c->n, c->cap, 8)) < 0)
			return ret;
		c->v[c->n].at = a + YCUT_KEEP;
		c->v[c->n].len = b - a - YCUT_KEEP;
		c->v[c->n].vat = a + YCUT_KEEP - shift;
		shift += c->v[c->n].len;
		c->n++;
	}
	c->vlen = c->len - shift;
	return 0;
}

/* The cuts before virtual position v, or with v at their place (the byte
 * there is the one after the cut). */
static size_t cuts_upto(const struct ycuts *c, size_t v)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->v[mid].vat <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t ycuts_real(const struct ycuts *c, size_t v)
{
	size_t k = cuts_upto(c, v);

	/* v less the kept bytes before the last cut, plus where it was */
	return k ? c->v[k - 1].at + c->v[k - 1].len + (v - c->v[k - 1].vat) : v;
}

size_t ycuts_within(const struct ycuts *c, size_t start, size_t end)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->v[i].at >= start && c->v[i].at + c->v[i].len <= end;
	return n;
}

bool ycuts_value_is_text(const struct ycuts *c, const char *value, size_t len, size_t start, size_t end)
{
	size_t pos = start, off = 0;

	for (size_t i = 0; i < c->n && pos < end; i++) {
		const struct ycut *x = &c->v[i];

		if (x->at + x->len <= pos)
			continue;
		if (x->at >= end)
			break;
		if (x->at < pos || x->at - pos > len - off || memcmp(value + off, c->src + pos, x->at - pos))
			return false;
		off += x->at - pos;
		pos = x->at + x->len;
	}
	return pos <= end && end - pos == len - off && !memcmp(value + off, c->src + pos, end - pos);
}

int ycuts_read(void *data, unsigned char *buffer, size_t size, size_t *size_read)
{
	struct ycuts *c = data;
	size_t done = 0;

	while (done < size && c->pos < c->len) {
		size_t upto = c->next < c->n ? c->v[c->next].at : c->len, k;

		if (c->pos == upto) {
			c->pos += c->v[c->next++].len;
			continue;
		}
		k = upto - c->pos < size - done ? upto - c->pos : size - done;
		memcpy(buffer + done, c->src + c->pos, k);
		done += k;
		c->pos += k;
	}
	*size_read = done;
	return 1;
}
