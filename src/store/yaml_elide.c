/* Runs of base64 left out of what libyaml reads, for the loaders
 * (yaml_load, and a proof's reload, yaml_load_data). Three kinds:
 * - a long run anywhere: libyaml builds each scalar in a buffer that
 *   doubles and is zeroed as it grows: an encrypted 100 MiB value cost
 *   256 MiB there, on top of the output and the tree;
 * - a shorter run right after a ':', as the data, iv and tag fields of
 *   every ENC[...] value are: reading them is most of what libyaml does
 *   in the proof of an encrypted file (10,000 values: about a third of
 *   its instructions), and most of decrypt's first load of one;
 * - a run that starts a line's text, as the lines of an age stanza's
 *   armor in its "|" block scalar: in a small file (a git checkout's
 *   smudge) the metadata is most of what libyaml reads. Their value is
 *   taken from the text for a strict shape only (ycuts_literal_value).
 * The run's characters are all alike to libyaml inside a plain scalar
 * (none is an indicator, a blank or a break), so it reads the same tokens
 * without most of them; the loader then takes the value from the text
 * itself, and only where that is provably the value libyaml would have
 * given (yaml_load.c tree_on_cut_scalar and whole_scalar: a plain
 * one-line value, each cut inside exactly one; the full loader's tokens
 * come from the text itself, its positions mapped back, ycuts_real, and
 * a cut inside a comment is one libyaml skipped anyway: comment_cuts).
 * Anything else goes back to reading the whole text: which runs are cut
 * decides the speed, never the result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/array.h"
#include "gitseal/error.h"
#include "yaml_int.h"

#ifdef GITSEAL_FUZZING
/* the fuzzers (make fuzz) reach every kind with small inputs */
enum { YCUT_MIN_RUN = 12, YCUT_MIN_FIELD = 6, YCUT_MIN_LINE = 6, YCUT_KEEP = 2 };
#else
enum {
	YCUT_MIN_RUN = 64 * 1024, /* a long run, wherever it is */
	YCUT_MIN_FIELD = 16,      /* a run after ':'; shorter ones are read as they are */
	YCUT_MIN_LINE = 32,       /* a run that starts a line's text */
	YCUT_KEEP = 2,            /* of each run, the first bytes stay */
};
#endif

/* the base64 alphabet, padding included */
static const uint8_t b64[256] = {
	['+'] = 1, ['/'] = 1, ['='] = 1,
#define B64_ROW(c) [c] = 1, [c + 1] = 1, [c + 2] = 1, [c + 3] = 1, [c + 4] = 1
	B64_ROW('0'), B64_ROW('5'),
	B64_ROW('A'), B64_ROW('F'), B64_ROW('K'), B64_ROW('P'), B64_ROW('U'), ['Z'] = 1,
	B64_ROW('a'), B64_ROW('f'), B64_ROW('k'), B64_ROW('p'), B64_ROW('u'), ['z'] = 1,
#undef B64_ROW
};

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

static int add_cut(struct ycuts *c, size_t a, size_t b, size_t *shift)
{
	int ret;

	if ((ret = GS_ARRAY_GROW(c->v, c->n, c->cap, 64)) < 0)
		return ret;
	c->v[c->n].at = a + YCUT_KEEP;
	c->v[c->n].len = b - a - YCUT_KEEP;
	c->v[c->n].vat = a + YCUT_KEEP - *shift;
	c->v[c->n].taken = false;
	*shift += c->v[c->n].len;
	c->n++;
	return 0;
}

/* The end of the run from b: eight bytes a step while all eight are in
 * it (a byte at a time, this loop was 5.7 M of the 9.5 M instructions of
 * finding the cuts of a 10,000-value file, on the caller's thread before
 * libyaml's can start). */
static size_t run_end(const uint8_t *s, size_t b, size_t len)
{
	while (len - b >= 8 && (b64[s[b]] & b64[s[b + 1]] & b64[s[b + 2]] & b64[s[b + 3]] & b64[s[b + 4]] &
				b64[s[b + 5]] & b64[s[b + 6]] & b64[s[b + 7]]))
		b += 8;
	while (b < len && b64[s[b]])
		b++;
	return b;
}

/* The run through p, not before done: [*a, *b). */
static void run_around(const struct ycuts *c, size_t p, size_t done, size_t *a, size_t *b)
{
	*a = p;
	while (*a > done && b64[c->src[*a - 1]])
		(*a)--;
	*b = run_end(c->src, p, c->len);
}

/* Where the text of the line after the break at nl starts (past its
 * spaces); SIZE_MAX with no break. */
static size_t line_text(const struct ycuts *c, const uint8_t *nl)
{
	size_t i;

	if (!nl)
		return SIZE_MAX;
	for (i = (size_t)(nl - c->src) + 1; i < c->len && c->src[i] == ' ';)
		i++;
	return i;
}

/* In order of place, so that the cuts come out sorted: the next ':' and
 * the next line's text (found with memchr, no byte-by-byte pass), and the
 * next probe for a long run. A long run holds a position p with
 * p % YCUT_MIN_RUN == YCUT_MIN_RUN - 1: only those are probed. A run that
 * starts a line is an age stanza's armor in a "|" block scalar
 * (yaml_literal_value takes it from the text). */
int ycuts_find(struct ycuts *c)
{
	const uint8_t *colon = memchr(c->src, ':', c->len), *nl = memchr(c->src, '\n', c->len);
	size_t probe = YCUT_MIN_RUN - 1, shift = 0, done = 0;
	int ret;

	for (;;) {
		size_t next_field = colon ? (size_t)(colon - c->src) + 1 : SIZE_MAX, a, b;
		size_t next_line = line_text(c, nl);
		bool field = next_field <= probe && next_field <= next_line;
		bool line = !field && next_line <= probe;
		size_t at = field ? next_field : line ? next_line : probe;

		if (at >= c->len)
			break;
		if (field)
			colon = memchr(c->src + at, ':', c->len - at);
		else if (line)
			nl = memchr(c->src + at, '\n', c->len - at);
		else
			probe += YCUT_MIN_RUN;
		if (at < done || !b64[c->src[at]])
			continue;
		run_around(c, at, done, &a, &b);
		done = b;
		if (b - a >= YCUT_MIN_RUN || (field && b - a >= YCUT_MIN_FIELD) || (line && b - a >= YCUT_MIN_LINE))
			if ((ret = add_cut(c, a, b, &shift)) < 0)
				return ret;
	}
	c->vlen = c->len - shift;
	return 0;
}

/* The number of cuts whose key (at, or vat with virtual) is below x, or
 * with virtual, not above it. Positions are asked for mostly in order of
 * the text: a few steps forward from the last answer, else a binary
 * search. */
static size_t cuts_before(struct ycuts *c, size_t x, bool virtual)
{
#define KEY_BEFORE(i) (virtual ? c->v[i].vat <= x : c->v[i].at < x)
	size_t lo = 0, hi = c->n, k = c->hint < c->n ? c->hint : c->n;

	if (k == 0 || KEY_BEFORE(k - 1)) {
		for (int step = 0; step < 4 && k < c->n && KEY_BEFORE(k); step++)
			k++;
		if (k == c->n || !KEY_BEFORE(k))
			return c->hint = k;
		lo = k;
	} else {
		hi = k;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (KEY_BEFORE(mid))
			lo = mid + 1;
		else
			hi = mid;
	}
#undef KEY_BEFORE
	return c->hint = lo;
}

size_t ycuts_real(struct ycuts *c, size_t v)
{
	size_t k = cuts_before(c, v, true);

	/* v less the kept bytes before the last cut, plus where it was */
	return k ? c->v[k - 1].at + c->v[k - 1].len + (v - c->v[k - 1].vat) : v;
}

/* Cuts are in order and apart: those inside [start, end) follow each
 * other from the first one at or after start. */
size_t ycuts_within(struct ycuts *c, size_t start, size_t end)
{
	size_t n = 0;

	for (size_t i = cuts_before(c, start, false); i < c->n && c->v[i].at + c->v[i].len <= end; i++)
		n++;
	return n;
}

size_t ycuts_take(struct ycuts *c, size_t start, size_t end)
{
	size_t n = 0;

	for (size_t i = cuts_before(c, start, false); i < c->n && c->v[i].at + c->v[i].len <= end; i++) {
		n += !c->v[i].taken;
		c->v[i].taken = true;
	}
	return n;
}

bool ycuts_value_is_text(struct ycuts *c, const char *value, size_t len, size_t start, size_t end)
{
	size_t pos = start, off = 0, i = cuts_before(c, start, false);

	/* a cut that began before start and reaches into it */
	if (i > 0 && c->v[i - 1].at + c->v[i - 1].len > start)
		i--;
	for (; i < c->n && pos < end; i++) {
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

/* Whether src[a, b) is value[*off, ...), *off moved past it. */
static bool piece_is(const struct ycuts *c, const char *value, size_t len, size_t *off, size_t a, size_t b)
{
	if (b - a > len - *off || memcmp(value + *off, c->src + a, b - a))
		return false;
	*off += b - a;
	return true;
}

/* Whether value[*off, ...) holds n line breaks, *off moved past them. */
static bool breaks_are(const char *value, size_t len, size_t *off, size_t n)
{
	for (; n; n--)
		if (*off >= len || value[(*off)++] != '\n')
			return false;
	return true;
}

/* The shape taken: "|" or "|-" and a break (no indentation indicator, no
 * comment), then lines that are each either empty or the same number of
 * spaces, then text that starts with neither a space nor a tab and holds
 * no '\r' (the text is ASCII: no other break), each with '\n'; the first
 * line has text. libyaml copies each line's text after the indentation,
 * an empty line as a break, and drops the trailing breaks but one ("|")
 * or all ("|-"). A cut lies inside one line's text past its first byte,
 * so it takes bytes out of that line's text and changes neither the
 * indentation nor the lines. Checked as well: what libyaml read is
 * exactly that value less the cuts. */
int ycuts_literal_value(struct ycuts *c, const char *value, size_t len, size_t start, size_t end,
			struct gs_buf *out)
{
	const uint8_t *s = c->src;
	size_t indent = 0, off = 0, empty = 0, i = cuts_before(c, start, false), body;
	bool strip;
	int ret;

	if (end > c->len || end < start + 4 || s[start] != '|' || s[end - 1] != '\n')
		return 1;
	strip = s[start + 1] == '-';
	body = start + 1 + strip;
	if (s[body] != '\n' || body + 1 >= end)
		return 1;
	while (s[body + 1 + indent] == ' ')
		indent++;
	if (!indent)
		return 1;
	for (size_t line = body + 1, eol; line < end; line = eol + 1) {
		size_t text = line + indent, pos = text;

		eol = (size_t)((const uint8_t *)memchr(s + line, '\n', end - line) - s);
		if (eol == line && line > body + 1) {
			empty++;
			continue;
		}
		if (text >= eol || memchr(s + line, '\r', eol - line) || s[text] == ' ' || s[text] == '\t')
			return 1;
		for (size_t k = line; k < text; k++)
			if (s[k] != ' ')
				return 1;
		/* the break of the line before (in out already), and the empty lines */
		if (line > body + 1 && !breaks_are(value, len, &off, 1 + empty))
			return 1;
		for (; empty; empty--)
			if ((ret = gs_buf_append(out, "\n", 1)) < 0)
				return ret;
		for (; i < c->n && c->v[i].at < eol; i++) {
			if (c->v[i].at <= text || c->v[i].at + c->v[i].len > eol ||
			    !piece_is(c, value, len, &off, pos, c->v[i].at))
				return 1;
			pos = c->v[i].at + c->v[i].len;
		}
		if (!piece_is(c, value, len, &off, pos, eol))
			return 1;
		if ((ret = gs_buf_append(out, s + text, eol + 1 - text)) < 0)
			return ret;
	}
	/* the last line's break, and trailing empty lines: one break kept ("|") or none ("|-") */
	if (!breaks_are(value, len, &off, strip ? 0 : 1) || off != len)
		return 1;
	if (strip)
		out->data[--out->len] = '\0';
	return 0;
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
