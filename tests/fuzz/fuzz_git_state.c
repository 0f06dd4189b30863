/* Text the git side reads from places a clone, another tool or a pull
 * request fills, beside the filter's own files:
 *   byte 0 % 3 == 0: .git/info/attributes (gitpins_exposed, pins.c): each
 *     pattern it reports is the pattern of a line setting filter=gitseal,
 *     reported once, and an added line of bare attributes (which a pulled
 *     macro can expand) leaves no such pattern unreported;
 *   byte 0 % 3 == 1: a path, regex or key from the repository as a terminal
 *     shows it (gs_shown, gs_shown_append; util/shown.c): the two
 *     agree, nothing shown is a control byte, DEL, C1 control or broken
 *     UTF-8, and undoing the \xNN escapes gives the text back whenever it
 *     held no "\x" of its own;
 *   byte 0 % 3 == 2: the clone's records in .git/gitseal/ (accepted,
 *     sealed, data-keys; gittrust_parse_records, trust.c), the rest split
 *     at its first two NUL bytes, against a model of each line's form:
 *     the same recipients, ids and recipients per id;
 *   byte 0 == 255: .git/gitseal/holder-keys (githolders_parse, holders.c):
 *     whole records or none used, never more than there are. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/secmem.h"
#include "gitseal/shown.h"
#include "../../src/git/gitfilter_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The pattern of line (modified) when a later word of it is
 * filter=gitseal, as git splits a line of attributes; NULL otherwise. */
static char *pinned_pattern(char *line)
{
	char *save, *tok, *pattern = strtok_r(line, " \t\r", &save);
	bool ours = false;

	if (!pattern || *pattern == '#' || !strncmp(pattern, "[attr]", 6))
		return NULL;
	while ((tok = strtok_r(NULL, " \t\r", &save)))
		ours |= !strcmp(tok, "filter=gitseal");
	return ours ? pattern : NULL;
}

/* Some line of text pins pattern. */
static bool line_sets_filter(const char *text, size_t len, const char *pattern)
{
	if (*pattern == '"') /* quoted: git's own rules, not split here */
		return memmem(text, len, pattern, strlen(pattern)) != NULL;
	for (const char *p = text, *end = text + len; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		char line[512], *pin;

		snprintf(line, sizeof(line), "%.*s", (int)((eol ? eol : end) - p), p);
		p = eol ? eol + 1 : end;
		if (strlen(line) < sizeof(line) - 1 && (pin = pinned_pattern(line)) && !strcmp(pin, pattern))
			return true;
		if (strlen(line) >= sizeof(line) - 1 && memmem(text, len, pattern, strlen(pattern)))
			return true; /* too long to split here */
	}
	return false;
}

static void pins(const uint8_t *data, size_t size)
{
	struct gs_buf text, found, again;
	const char *s;
	size_t count = 0;

	if (memchr(data, '\0', size))
		return; /* the file is read as text */
	gs_buf_init(&text, false);
	gs_buf_init(&found, false);
	gs_buf_init(&again, false);
	if (gs_buf_append(&text, data, size) < 0 || gitpins_exposed(&text, &found) < 0)
		abort();
	for (s = (const char *)found.data; found.len && s < (const char *)found.data + found.len;
	     s += strlen(s) + 1, count++) {
		if (!line_sets_filter((const char *)data, size, s))
			abort(); /* a pattern no line pins */
		for (const char *t = (const char *)found.data; t < s; t += strlen(t) + 1)
			if (!strcmp(s, t))
				abort(); /* reported twice */
	}
	/* a line of bare attributes after all: every pinned pattern exposed */
	if (gs_buf_append(&text, "\n* text\n", 8) < 0 || gitpins_exposed(&text, &again) < 0)
		abort();
	for (const char *p = (const char *)data, *end = p + size; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		char line[512], *pattern;
		bool listed = false;

		snprintf(line, sizeof(line), "%.*s", (int)((eol ? eol : end) - p), p);
		p = eol ? eol + 1 : end;
		if (strlen(line) >= sizeof(line) - 1 || !(pattern = pinned_pattern(line)) || *pattern == '"')
			continue;
		for (s = (const char *)again.data; again.len && s < (const char *)again.data + again.len;
		     s += strlen(s) + 1)
			listed |= !strcmp(s, pattern);
		if (!listed)
			abort(); /* a macro could take the filter off it, unsaid */
	}
	(void)count;
	gs_buf_release(&text);
	gs_buf_release(&found);
	gs_buf_release(&again);
}

/* Valid UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) without C0, DEL or C1 controls. */
static bool safe_text(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t c = s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;

		if (!len || i + len > n)
			return false;
		c &= len == 1 ? 0x7f : len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
		    (c >= 0xd800 && c <= 0xdfff) || c < 0x20 || (c >= 0x7f && c <= 0x9f))
			return false;
		i += len;
	}
	return true;
}

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void shown(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *back = malloc(size + 1);
	const char *one;
	struct gs_buf out;
	size_t n = 0;

	if (!s || !back)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	gs_buf_init(&out, false);
	if (gs_shown_append(&out, s) < 0 || gs_buf_append(&out, "", 1) < 0)
		abort();
	one = gs_shown(s);
	if (out.len - 1 < 4 * 4096 && strcmp(one, (const char *)out.data) != 0)
		abort(); /* the two forms differ */
	if (!safe_text(out.data, out.len - 1))
		abort(); /* a byte that steers the terminal */
	if (!strstr(s, "\\x")) {
		for (const char *p = (const char *)out.data; *p;) {
			if (p[0] == '\\' && p[1] == 'x' && hex(p[2]) >= 0 && hex(p[3]) >= 0) {
				back[n++] = (char)(hex(p[2]) << 4 | hex(p[3]));
				p += 4;
			} else {
				back[n++] = *p++;
			}
			if (n > strlen(s))
				abort();
		}
		if (n != strlen(s) || memcmp(back, s, n) != 0)
			abort(); /* shown as another text */
	}
	gs_buf_release(&out);
	free(s);
	free(back);
}

/* ---- records: a model of each line's form ---- */

struct line {
	const char *p;
	size_t n;
};

/* The lines of text as the filter splits them (no empty last line). */
static size_t lines_of(const char *text, size_t len, struct line *out, size_t cap)
{
	size_t k = 0;

	for (const char *p = text, *end = text + len; p < end && k < cap;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		out[k].p = p;
		out[k++].n = (size_t)((eol ? eol : end) - p);
		p = eol ? eol + 1 : end;
	}
	return k;
}

static bool model_id(const char *p, uint8_t id[32])
{
	static const uint8_t zero[32];

	for (size_t i = 0; i < 64; i++) {
		int v = hex(p[i]);

		if (v < 0)
			return false;
		if (i % 2)
			id[i / 2] = (uint8_t)(id[i / 2] << 4 | v);
		else
			id[i / 2] = (uint8_t)v;
	}
	return memcmp(id, zero, 32) != 0; /* the empty slot's mark: never an id */
}

static bool in_idset(const struct idset *s, const uint8_t id[32])
{
	for (size_t i = 0; i < s->cap; i++)
		if (!memcmp(s->ids + i * 32, id, 32))
			return true;
	return false;
}

static const struct key_record *in_keymap(const struct keymap *m, const uint8_t id[32])
{
	for (size_t i = 0; i < m->cap; i++)
		if (!memcmp(m->slots[i].id, id, 32))
			return &m->slots[i];
	return NULL;
}

static bool has_recipient(const struct key_record *r, const char *p, size_t n)
{
	for (size_t i = 0; i < r->count; i++)
		if (strlen(r->recipients[i]) == n && !memcmp(r->recipients[i], p, n))
			return true;
	return false;
}

static int cmp_line(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);

	return c ? c : (x->n > y->n) - (x->n < y->n);
}

enum { LINES_MAX = 256 };

static void records(const uint8_t *data, size_t size)
{
	static struct line lines[LINES_MAX], want[LINES_MAX];
	const uint8_t *nul1 = memchr(data, '\0', size), *nul2;
	struct gs_buf text[3];
	struct gittrust t;
	size_t k, w = 0, ids = 0;
	uint8_t id[32];

	if (!nul1 || !(nul2 = memchr(nul1 + 1, '\0', size - (size_t)(nul1 + 1 - data))) ||
	    memchr(nul2 + 1, '\0', size - (size_t)(nul2 + 1 - data)))
		return;
	for (int i = 0; i < 3; i++)
		gs_buf_init(&text[i], false);
	if (gs_buf_append(&text[0], data, (size_t)(nul1 - data)) < 0 ||
	    gs_buf_append(&text[1], nul1 + 1, (size_t)(nul2 - nul1 - 1)) < 0 ||
	    gs_buf_append(&text[2], nul2 + 1, size - (size_t)(nul2 + 1 - data)) < 0)
		abort();
	memset(&t, 0, sizeof(t));
	if (gittrust_parse_records(&t, &text[0], &text[1], &text[2]) < 0)
		abort();
	/* accepted: "recipient<TAB>path" lines, sorted; comments and bare
	 * recipients grant nothing */
	k = lines_of((const char *)text[0].data, text[0].len, lines, LINES_MAX);
	for (size_t i = 0; i < k; i++)
		if (lines[i].n && lines[i].p[0] != '#' && memchr(lines[i].p, '\t', lines[i].n))
			want[w++] = lines[i];
	qsort(want, w, sizeof(*want), cmp_line);
	if (k < LINES_MAX) {
		if (t.recipient_count != w)
			abort();
		for (size_t i = 0; i < w; i++)
			if (strlen(t.recipients[i]) != want[i].n || memcmp(t.recipients[i], want[i].p, want[i].n))
				abort();
	}
	/* sealed: one id in hex a line */
	k = lines_of((const char *)text[1].data, text[1].len, lines, LINES_MAX);
	for (size_t i = 0; i < k; i++)
		if (lines[i].n == 64 && model_id(lines[i].p, id)) {
			if (!in_idset(&t.sealed, id))
				abort();
			ids++;
		}
	if (k < LINES_MAX && t.sealed.count > ids)
		abort(); /* an id no line holds */
	/* data-keys: "ID R1,R2,..." lines, each id the union of its lines */
	k = lines_of((const char *)text[2].data, text[2].len, lines, LINES_MAX);
	ids = 0;
	for (size_t i = 0; i < k; i++) {
		const struct key_record *r;
		const char *end = lines[i].p + lines[i].n;

		if (lines[i].n <= 65 || lines[i].p[64] != ' ' || !model_id(lines[i].p, id))
			continue;
		if (!(r = in_keymap(&t.key_ids, id)))
			abort();
		for (const char *item = lines[i].p + 65, *comma; item < end; item = comma + 1) {
			if (!(comma = memchr(item, ',', (size_t)(end - item))))
				comma = end;
			if (comma > item && !has_recipient(r, item, (size_t)(comma - item)))
				abort();
		}
	}
	/* and nothing more: every recipient of every record comes from a line of its id */
	for (size_t s = 0; k < LINES_MAX && s < t.key_ids.cap; s++) {
		const struct key_record *r = &t.key_ids.slots[s];

		for (size_t j = 0; j < r->count; j++) {
			bool from_line = false;

			for (size_t i = 0; i < k && !from_line; i++) {
				const char *end = lines[i].p + lines[i].n;
				size_t n = strlen(r->recipients[j]);

				if (lines[i].n <= 65 || lines[i].p[64] != ' ' || !model_id(lines[i].p, id) ||
				    memcmp(id, r->id, 32))
					continue;
				for (const char *item = lines[i].p + 65, *comma; item < end && !from_line;
				     item = comma + 1) {
					if (!(comma = memchr(item, ',', (size_t)(end - item))))
						comma = end;
					from_line = (size_t)(comma - item) == n && !memcmp(item, r->recipients[j], n);
				}
			}
			if (!from_line)
				abort(); /* a recipient no line of that id names */
		}
	}
	gittrust_release(&t);
	for (int i = 0; i < 3; i++)
		gs_buf_release(&text[i]);
}

static void holder_keys(const uint8_t *data, size_t size)
{
	long n = githolders_parse(data, size);

	if (size % GITHOLDERS_RECORD_SIZE || size / GITHOLDERS_RECORD_SIZE > GITHOLDERS_MAX) {
		if (n != -1)
			abort();
	} else if (n < 0 || (size_t)n > size / GITHOLDERS_RECORD_SIZE) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 16 * 1024)
		return 0;
	if (data[0] == 255)
		holder_keys(data + 1, size - 1);
	else if (data[0] % 3 == 1)
		shown(data + 1, size - 1);
	else if (data[0] % 3 == 2)
		records(data + 1, size - 1);
	else
		pins(data + 1, size - 1);
	return 0;
}
