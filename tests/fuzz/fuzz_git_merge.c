/* libFuzzer: the merge driver's tree merge (gitfilter_merge_text), over
 * three plaintexts of one store. The input's first byte picks the store;
 * the rest is base, ours and theirs, split at the first two NUL bytes.
 * Properties, wherever the three load:
 *   - no conflict: whatever side a conflict would take, the same text;
 *   - theirs unchanged (base again): ours' data, no conflict;
 *   - ours and theirs the same: their data, no conflict;
 *   - the merge with the sides swapped, or taking the other side, has a
 *     conflict when this one has one. Not always as many: a collection
 *     one side removed and the other changed is a conflict; resolved by
 *     removing it, the comments the other side added inside it have no
 *     place left, and each such place is counted too (kept, they do:
 *     make fuzz, an INI section renamed on one side, a comment added to
 *     it on the other);
 *   - a result reads back (the text the driver seals). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/gitfilter.h"
#include "gitseal/secmem.h"
#include "gitseal/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum doc_format formats[] = { DOC_FORMAT_YAML, DOC_FORMAT_JSON, DOC_FORMAT_DOTENV,
					   DOC_FORMAT_INI };

static void buf_of(struct gs_buf *b, const uint8_t *p, size_t n)
{
	gs_buf_init(b, false);
	if (gs_buf_append(b, p, n))
		abort();
}

static bool loads(enum doc_format format, const struct gs_buf *text, struct doc *d)
{
	doc_init(d, format);
	if (!text->len)
		return true;
	if (store_load(format, text->data, text->len, d)) {
		gs_error_clear();
		doc_release(d);
		return false;
	}
	return true;
}

/* merge's text (pick's side of each conflict) into out; false when it fails */
static bool merge(enum doc_format format, const struct gs_buf *b, const struct gs_buf *o, const struct gs_buf *t,
		  int pick, struct gs_buf *out, size_t *conflicts)
{
	gs_buf_init(out, false);
	*conflicts = 0;
	if (gitfilter_merge_text(format, b, o, t, pick, out, conflicts)) {
		gs_error_clear();
		gs_buf_release(out);
		return false;
	}
	return true;
}

/* The merge of b, o and t gives the data of want, without conflicts. */
static void expect(enum doc_format format, const struct gs_buf *b, const struct gs_buf *o,
		   const struct gs_buf *t, const struct doc *want)
{
	struct gs_buf out;
	struct doc got;
	size_t conflicts;

	if (!merge(format, b, o, t, MERGE_PICK_OURS, &out, &conflicts))
		return; /* a store's own refusal (its emitter), not the merge's */
	if (conflicts || !loads(format, &out, &got))
		abort();
	if (want->count && !doc_equal(&got, want, NULL, 0))
		abort();
	doc_release(&got);
	gs_buf_release(&out);
}

static void check(enum doc_format format, const struct gs_buf *b, const struct gs_buf *o, const struct gs_buf *t)
{
	struct gs_buf ours, theirs, swapped;
	struct doc db, d_o, dt, d;
	size_t c_ours, c_theirs, c_swapped;

	if (!loads(format, b, &db))
		return;
	if (!loads(format, o, &d_o)) {
		doc_release(&db);
		return;
	}
	if (!loads(format, t, &dt)) {
		doc_release(&db);
		doc_release(&d_o);
		return;
	}
	if (merge(format, b, o, t, MERGE_PICK_OURS, &ours, &c_ours)) {
		if (!loads(format, &ours, &d))
			abort();
		doc_release(&d);
		if (merge(format, b, o, t, MERGE_PICK_THEIRS, &theirs, &c_theirs)) {
			if (!c_theirs != !c_ours)
				abort();
			if (!c_ours && (theirs.len != ours.len || memcmp(theirs.data, ours.data, ours.len)))
				abort();
			gs_buf_release(&theirs);
		}
		if (merge(format, b, t, o, MERGE_PICK_OURS, &swapped, &c_swapped)) {
			if (!c_swapped != !c_ours)
				abort();
			gs_buf_release(&swapped);
		}
		gs_buf_release(&ours);
	}
	expect(format, b, o, b, &d_o);
	expect(format, b, t, t, &dt);
	doc_release(&db);
	doc_release(&d_o);
	doc_release(&dt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialized;
	const uint8_t *p, *q, *end = data + size;
	struct gs_buf b, o, t;

	if (!initialized) {
		if (sodium_init() < 0)
			abort();
		initialized = 1;
	}
	if (size < 3 || size > 8192)
		return 0;
	if (!(p = memchr(data + 1, 0, size - 1)) || !(q = memchr(p + 1, 0, (size_t)(end - p - 1))))
		return 0;
	buf_of(&b, data + 1, (size_t)(p - data - 1));
	buf_of(&o, p + 1, (size_t)(q - p - 1));
	buf_of(&t, q + 1, (size_t)(end - q - 1));
	check(formats[data[0] % 4], &b, &o, &t);
	gs_buf_release(&b);
	gs_buf_release(&o);
	gs_buf_release(&t);
	return 0;
}
