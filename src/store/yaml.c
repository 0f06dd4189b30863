/* The YAML store (sops stores/yaml over yaml.v3): loading builds the doc
 * tree and a record of every node's tokens (yaml_load.c); writing patches
 * the source through those records (yaml_patch.c) and, where a change
 * cannot be placed, writes yaml.v3's layout (yaml_fresh.c). The layers
 * are described in yaml_int.h. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/store.h"
#include "yaml_int.h"

int store_yaml_load(const uint8_t *text, size_t len, struct doc *d)
{
	return yaml_load(text, len, d);
}

int store_yaml_load_data(const uint8_t *text, size_t len, struct doc *d)
{
	return yaml_load_data(text, len, d);
}

/* syn: the loaded file's records, when its layout is asked for (NULL: the
 * layout sops writes). The file then keeps its own indentation step for
 * the data (the metadata as sops writes it) and the text of every key and
 * string that did not change. */
static int emit_fresh(const struct doc *d, const struct yaml_syntax *syn, size_t step, struct gs_buf *out)
{
	struct yfresh f = { .out = out, .step = step, .keep_new_flow = d->keep_new_flow };
	int ret = 0;

	if (syn && syn->trusted && d->source.data && syn->lx.src == d->source.data) {
		f.syn = syn;
		if (syn->step && syn->step != step) {
			f.meta_step = step;
			f.step = syn->step;
		}
	}

	for (size_t i = 0; i < d->count && !ret; i++) {
		if (i && (ret = store_put(out, "---\n", 4)))
			break;
		ret = yfresh_document(&f, d->branches[i]);
	}
	return ret;
}

/* The test build can count how often the file's layout is kept
 * (GITSEAL_TEST_LAYOUT_LOG=FILE: a line "kept" or "fresh" per YAML output
 * that had a source, appended to FILE), to measure the fallback to the
 * fresh layout over a corpus. Release builds compile this out. */
static void test_layout_log(bool kept)
{
#ifdef GITSEAL_TEST_HOOKS
	const char *path = getenv("GITSEAL_TEST_LAYOUT_LOG");
	FILE *f = path && *path ? fopen(path, "a") : NULL;

	if (f) {
		fputs(kept ? "kept\n" : "fresh\n", f);
		fclose(f);
	}
#else
	(void)kept;
#endif
}

static size_t line_indent(const uint8_t *p, const uint8_t *end)
{
	size_t n = 0;

	while (p + n < end && p[n] == ' ')
		n++;
	return n;
}

/* Whether the text [p, q) of a line, its comment cut, opens a block
 * scalar; -1 when not, else its indentation indicator (0: none). */
static int block_header(const uint8_t *p, const uint8_t *q)
{
	int indicator = 0;

	while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
		q--;
	while (q > p && (q[-1] == '-' || q[-1] == '+' || (q[-1] >= '1' && q[-1] <= '9'))) {
		if (q[-1] >= '1' && q[-1] <= '9')
			indicator = q[-1] - '0';
		q--;
	}
	if (!(q > p && (q[-1] == '|' || q[-1] == '>') && (q - 1 == p || q[-2] == ' ' || q[-2] == '\t')))
		return -1;
	/* what the "|" follows: the key's ':' or an item's '-', a tag or an
	 * anchor between; else it ends a plain value ("k: a |2", whose
	 * next line continues it) */
	for (q--;;) {
		const uint8_t *t;

		while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		for (t = q; t > p && t[-1] != ' ' && t[-1] != '\t';)
			t--;
		if (t == q || (*t != '!' && *t != '&'))
			break;
		q = t;
	}
	return q == p || q[-1] == ':' || (q[-1] == '-' && (q - 1 == p || q[-2] == ' ')) ? indicator : -1;
}

/* Whether a line (its text after the indentation) opens a block scalar:
 * "key: |", "- >-", "k: |2+", a comment after it ("k: | # a # b": the
 * comment starts at the first " #" after the header, one inside a quoted
 * key is not it; a tab separates as a space does); -1 when not, else its
 * indentation indicator (0: none). */
static int opens_block(const uint8_t *p, const uint8_t *eol)
{
	const uint8_t *q = eol;

	while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
		q--;
	for (const uint8_t *h = p + 1; h < q; h++) {
		int indicator;

		if (h[0] == '#' && (h[-1] == ' ' || h[-1] == '\t') && (indicator = block_header(p, h)) >= 0)
			return indicator;
	}
	return block_header(p, q);
}

/* The column of a line's own node, past the list items' dashes it starts
 * with ("- - k: |": k's), from at, the column of its first character. */
static size_t past_dashes(const uint8_t *p, const uint8_t *eol, size_t at)
{
	while (p + at < eol && p[at] == '-' && (p + at + 1 == eol || p[at + 1] == ' ' || p[at + 1] == '\r')) {
		at++;
		while (p + at < eol && p[at] == ' ')
			at++;
	}
	return at;
}

/* The file's blocks: those of a key; a list item's own block ("- |") is
 * always 2 in (yaml_patch), so it tells nothing. A list, indented or not,
 * sets no step for the reader (yaml_load's settle_col): only a nested
 * map's line returns 0 (case 10; red team 7 F5: a list made the block
 * come back at 4). */
int store_yaml_flat_block_step(const struct gs_buf *text)
{
	const uint8_t *p = text->data, *end = p + text->len;
	size_t owner = 0;
	bool in_block = false, counts = false;
	int step = 0, indicator = 0;

	while (p < end) {
		const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
		size_t ind, at;

		eol = eol ? eol : end;
		ind = line_indent(p, eol);
		if (p + ind == eol || (p + ind + 1 == eol && p[ind] == '\r')) {
			p = eol + (eol < end);
			continue; /* a blank line belongs to whatever surrounds it */
		}
		if (in_block && ind > owner) {
			/* "k: |2" and a line led by spaces: the indicator is the step */
			if (counts && !step)
				step = indicator ? indicator : (int)(ind - owner);
			counts = false;
		} else {
			in_block = false;
			if (p[ind] != '#') {
				at = past_dashes(p, eol, ind);
				if (ind > 0 && at == ind)
					return 0; /* a nested map sets the step */
				if ((indicator = opens_block(p + ind, eol)) >= 0) {
					in_block = true;
					owner = at;
					/* "- |": the item's own block */
					counts = p + at < eol && p[at] != '|' && p[at] != '>';
					if (!counts)
						owner = ind;
				}
			}
		}
		p = eol + (eol < end);
	}
	return step >= 1 && step <= 9 ? step : 0;
}

int store_yaml_nested_step(const struct doc *d)
{
	const struct yaml_syntax *syn = yaml_syntax_of(d);

	return syn && syn->step <= 64 ? (int)syn->step : 0;
}

/* Whether every line of the source ends in CRLF (and one does): libyaml
 * reads CRLF as one line break, and reading drops it from the values, so
 * the writers' own text (a block scalar's lines, the metadata, a new key)
 * has LF and the file would come back with both. */
static bool source_crlf(const struct doc *d)
{
	const uint8_t *p = d->source.data;
	size_t n = d->source.len;
	bool any = false;

	if (d->format != DOC_FORMAT_YAML || !p)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return false;
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			return false;
		any |= p[i] == '\n';
	}
	return any;
}

/* Each line break written from mark on as CRLF: an LF with no CR before
 * it is a line break the writers added (a raw CR is never written into a
 * value: analyze() takes it for an odd break, so it is escaped). */
static int crlf_from(struct gs_buf *out, size_t mark)
{
	size_t lone = 0, from, to;
	int ret;

	for (size_t i = mark; i < out->len; i++)
		lone += out->data[i] == '\n' && (i == mark || out->data[i - 1] != '\r');
	if (!lone)
		return 0;
	if ((ret = gs_buf_reserve(out, lone)))
		return ret;
	from = out->len;
	to = out->len + lone;
	out->data[to] = '\0';
	while (from > mark) {
		uint8_t c = out->data[--from];

		out->data[--to] = c;
		if (c == '\n' && (from == mark || out->data[from - 1] != '\r'))
			out->data[--to] = '\r';
	}
	out->len += lone;
	return 0;
}

static int emit_layout(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out);

int store_yaml_emit(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out)
{
	size_t mark = out->len;
	int ret = emit_layout(d, opts, out);

	return ret || !source_crlf(d) ? ret : crlf_from(out, mark);
}

static int emit_layout(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out)
{
	size_t step = opts && opts->indent > 0 ? (size_t)opts->indent : SOPS_YAML_INDENT;
	const struct yaml_syntax *syn = yaml_syntax_of(d);

	if (syn && d->format == DOC_FORMAT_YAML && d->source.data && d->count > 0 &&
	    !(opts && opts->fresh)) {
		size_t mark = out->len;
		int ret = yaml_patch(d, syn, step, out);

		if (ret != GS_ERR_GENERIC) {
			test_layout_log(ret == 0);
			return ret;
		}
		test_layout_log(false);
		/* a change the layout cannot take: the whole file afresh */
		if (out->len > mark)
			sodium_memzero(out->data + mark, out->len - mark);
		out->len = mark;
		gs_error_clear();
	}
	return emit_fresh(d, opts && opts->fresh ? NULL : syn, step, out);
}
