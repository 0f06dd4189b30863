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
 *   - a result reads back (the text the driver seals);
 *   - with bit 0x10 of the first byte, the three are sealed under
 *     unencrypted_comment_regex "noenc" (modelled: each value the rule
 *     seals becomes an ENC[] text) and the result goes through the driver's
 *     rule check (sops_doc_check_narrowed, as gittrust_check_narrowed
 *     calls it: comments are outside the MAC). It refuses exactly when the
 *     result holds in clear, by a comment, a value that no version holds
 *     in clear at the same path (red team 15: a pull request's marker
 *     above a value sealed on our side). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/gitfilter.h"
#include "gitseal/secmem.h"
#include "gitseal/store.h"

#include "../../src/sops/sops_int.h"

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

/* A value a walk met in clear: its path (AAD form) and node. */
struct clear_leaf {
	const char *aad;
	size_t aad_len;
	const struct doc_node *node;
};

struct clear_leaves {
	struct clear_leaf items[512];
	size_t count;
	bool full;
	bool seal; /* the walk seals what the rule selects (the model) */
	struct doc *doc;
	char *paths; /* the AADs, copied: the walk's own go */
	size_t paths_len, paths_cap;
};

static bool in_clear(const struct sops_leaf *leaf)
{
	const struct doc_node *n = leaf->node;

	/* what is never sealed (an empty string), or sealed already */
	return !leaf->is_comment && n->kind == DOC_SCALAR && !(n->type == DOC_STR && n->len == 0) &&
	       !(n->type == DOC_STR && sops_enc_looks_encrypted(n->text, n->len));
}

static int note_leaf(void *ctx, struct sops_leaf *leaf)
{
	static const char enc[] = "ENC[AES256_GCM,data:AA==,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,"
				  "tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]";
	struct clear_leaves *c = ctx;

	if (!in_clear(leaf))
		return 0;
	if (leaf->selected) {
		if (c->seal && doc_scalar_set(c->doc, leaf->node, DOC_STR, enc, sizeof(enc) - 1) < 0)
			abort();
		return 0;
	}
	if (c->count == sizeof(c->items) / sizeof(c->items[0]) || c->paths_cap - c->paths_len < leaf->aad_len) {
		c->full = true;
		return 0;
	}
	memcpy(c->paths + c->paths_len, leaf->aad, leaf->aad_len);
	c->items[c->count++] = (struct clear_leaf){ (const char *)(uintptr_t)c->paths_len, leaf->aad_len,
						    leaf->node };
	c->paths_len += leaf->aad_len;
	return 0;
}

/* The values d holds in clear under sel (sealing the others when seal). */
static bool clear_of(struct doc *d, const struct sops_selection *sel, bool seal, struct clear_leaves *c)
{
	struct sops_selector selector;
	int ret;

	memset(c, 0, sizeof(*c));
	c->seal = seal;
	c->doc = d;
	c->paths_cap = 1 << 16;
	if (!(c->paths = malloc(c->paths_cap)))
		abort();
	if (sops_selector_init(&selector, sel) < 0)
		abort();
	ret = sops_walk(d, &selector, note_leaf, c);
	sops_selector_release(&selector);
	if (ret < 0)
		gs_error_clear();
	for (size_t i = 0; i < c->count; i++)
		c->items[i].aad = c->paths + (uintptr_t)c->items[i].aad;
	return ret >= 0 && !c->full;
}

static bool held(const struct clear_leaves *k, const struct clear_leaf *v)
{
	for (size_t i = 0; i < k->count; i++) {
		const struct clear_leaf *w = &k->items[i];

		if (w->aad_len == v->aad_len && !memcmp(w->aad, v->aad, v->aad_len) && w->node->type == v->node->type &&
		    w->node->len == v->node->len && !memcmp(w->node->text, v->node->text, v->node->len))
			return true;
	}
	return false;
}

/* The driver's rule check of a merged result (see the top). */
static void check_rule(enum doc_format format, const struct gs_buf *const in[3], const struct gs_buf *merged)
{
	static char regex[] = "noenc";
	const struct sops_selection rule = { SOPS_SEL_UNENCRYPTED_COMMENT_REGEX, regex, false };
	struct clear_leaves kept[3], now;
	struct doc sealed[3], result, *kp[3];
	bool ok = true, fresh = false;
	char where[256];
	int ret;

	for (int i = 0; i < 3; i++) {
		if (!loads(format, in[i], &sealed[i]))
			abort(); /* each loaded before */
		kp[i] = &sealed[i];
		ok = clear_of(&sealed[i], &rule, true, &kept[i]) && ok;
	}
	if (!loads(format, merged, &result))
		abort();
	ok = clear_of(&result, &rule, false, &now) && ok;
	for (size_t i = 0; ok && !fresh && i < now.count; i++)
		fresh = !held(&kept[0], &now.items[i]) && !held(&kept[1], &now.items[i]) &&
			!held(&kept[2], &now.items[i]);
	ret = sops_doc_check_narrowed(&result, &rule, &rule, kp, 3, where, sizeof(where));
	if (ret)
		gs_error_clear();
	if (ok && (ret == GS_ERR_DECRYPT_VALUE) != fresh)
		abort(); /* a new value let through in clear, or a merge refused for none */
	if (ok && ret && ret != GS_ERR_DECRYPT_VALUE)
		abort();
	for (int i = 0; i < 3; i++) {
		free(kept[i].paths);
		doc_release(&sealed[i]);
	}
	free(now.paths);
	doc_release(&result);
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

static void check(enum doc_format format, const struct gs_buf *b, const struct gs_buf *o, const struct gs_buf *t,
		  bool rule)
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
		if (rule && !c_ours) {
			const struct gs_buf *const in[3] = { b, o, t };

			check_rule(format, in, &ours);
		}
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
	check(formats[data[0] % 4], &b, &o, &t, (data[0] & 0x10) != 0);
	gs_buf_release(&b);
	gs_buf_release(&o);
	gs_buf_release(&t);
	return 0;
}
