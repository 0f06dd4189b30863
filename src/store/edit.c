/* Patch-mode edits: replacing ranges of the source text, in order. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/array.h"
#include "gitseal/error.h"
#include "store_int.h"

void store_edits_init(struct store_edits *e)
{
	memset(e, 0, sizeof(*e));
	gs_buf_init(&e->pool, true);
}

void store_edits_release(struct store_edits *e)
{
	free(e->v);
	gs_buf_release(&e->pool);
	memset(e, 0, sizeof(*e));
}

static int push(struct store_edits *e, struct store_edit x)
{
	int ret;

	if ((ret = GS_ARRAY_GROW(e->v, e->n, e->cap, 16)) < 0)
		return ret;
	x.seq = e->n;
	e->v[e->n++] = x;
	return 0;
}

int store_edits_push(struct store_edits *e, size_t start, size_t end, size_t mark)
{
	return push(e, (struct store_edit){ .start = start, .end = end, .text_off = mark,
					    .text_len = e->pool.len - mark });
}

int store_edits_push_pool(struct store_edits *e, size_t start, size_t end, size_t off, size_t len)
{
	return push(e, (struct store_edit){ .start = start, .end = end, .text_off = off, .text_len = len });
}

int store_edits_push_text(struct store_edits *e, size_t start, size_t end, const uint8_t *text,
			  size_t len)
{
	return push(e, (struct store_edit){ .start = start, .end = end, .text = text, .text_len = len });
}

int store_edits_push_wrapped(struct store_edits *e, size_t start, size_t end, const char *open,
			     const uint8_t *text, size_t len, const char *close)
{
	size_t mark = e->pool.len;
	int ret;

	/* at one position insertions keep their order and come before the
	 * cut (edit_cmp); the close is inserted where the cut ends */
	if (*open && ((ret = store_put(&e->pool, open, strlen(open))) ||
		      (ret = store_edits_push(e, start, start, mark))))
		return ret;
	if ((ret = store_edits_push_text(e, start, end, text, len)))
		return ret;
	mark = e->pool.len;
	if (*close && ((ret = store_put(&e->pool, close, strlen(close))) ||
		       (ret = store_edits_push(e, end, end, mark))))
		return ret;
	return 0;
}

static int edit_cmp(const void *a, const void *b)
{
	const struct store_edit *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	/* at one position: an insertion before a cut that starts there */
	if ((x->end > x->start) != (y->end > y->start))
		return x->end > x->start ? 1 : -1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool sorted(const struct store_edits *e)
{
	for (size_t i = 1; i < e->n; i++)
		if (edit_cmp(&e->v[i - 1], &e->v[i]) > 0)
			return false;
	return true;
}

/* Where edit x starts once the source up to pos is written: a cut that
 * runs past a range already cut cuts what is left of it (INI: a section
 * removed before [sops] ends where the metadata's cut, which takes the
 * blank line before it, starts); any other edit that starts inside is
 * dropped with that range (DOC_NO_POS). */
static size_t edit_start(const struct store_edit *x, size_t pos, size_t len)
{
	if (x->end > len || x->end < x->start)
		return DOC_NO_POS;
	if (x->start >= pos)
		return x->start;
	return !x->text_len && x->end > pos ? pos : DOC_NO_POS;
}

int store_edits_apply(struct store_edits *e, const uint8_t *src, size_t len, struct gs_buf *out)
{
	size_t pos = 0, total = len, start;

	/* edits mostly come in source order: no sort then */
	if (e->n && !sorted(e))
		qsort(e->v, e->n, sizeof(*e->v), edit_cmp);
	/* the exact size first: one allocation of the (secure) output */
	for (size_t i = 0; i < e->n; i++) {
		const struct store_edit *x = &e->v[i];

		if (x->start < pos || x->end > len || x->end < x->start) {
			if (e->strict)
				return GS_FAIL(GS_ERR_GENERIC, "overlapping edits");
		}
		if ((start = edit_start(x, pos, len)) == DOC_NO_POS)
			continue;
		total = total - (x->end - start) + x->text_len;
		pos = x->end;
	}
	if (gs_buf_reserve_upto(out, total, out->len + total + 1))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	pos = 0;
	for (size_t i = 0; i < e->n; i++) {
		const struct store_edit *x = &e->v[i];

		/* an edit inside a range already cut (a removed entry's
		 * contents) is dropped with it */
		if ((start = edit_start(x, pos, len)) == DOC_NO_POS)
			continue;
		if (gs_buf_append(out, src + pos, start - pos) ||
		    (x->text_len && gs_buf_append(out, x->text ? x->text : e->pool.data + x->text_off,
						  x->text_len)))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		pos = x->end;
	}
	if (gs_buf_append(out, src + pos, len - pos))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}
