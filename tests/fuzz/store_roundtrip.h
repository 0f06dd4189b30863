/* The body of the store fuzz targets (fuzz_yaml, fuzz_json, fuzz_dotenv,
 * fuzz_ini); the including file defines FUZZ_FORMAT.
 *
 * Whatever a store accepts it must write back holding the same data, as
 * doc_equal() sees it (the oracle of every verified write):
 *   1. unchanged: the source byte for byte, and it loads as the same tree;
 *   2. every value and comment changed, comments in lists made items and
 *      the sops metadata entry replaced (what encryption does): the output
 *      loads as the changed tree;
 *   3. that output loaded and changed back (what decryption does, list
 *      items back to comments, tags back): it loads as the input's tree;
 *   4. the fresh layout of the changed tree loads as that tree.
 * A target that defines FUZZ_WRITE_BACK_REQUIRED also requires step 3 to
 * write (decrypt proves what it writes and falls back to the fresh
 * layout; a refusal of both is a file sealed with exit 0 that cannot be
 * opened, issue 11), and runs step 3 on the fresh layout's output as well.
 * The input is also loaded as encrypt loads it (large values left in the
 * source text, doc.share_source; 8 bytes in the fuzz build): the same
 * verdict and tree; an input of odd length goes through 1-4 so. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/secmem.h"
#include "gitseal/store.h"

static const char enc_sample[] = "ENC[AES256_GCM,data:abc=,iv:def=,tag:ghi=,type:str]";

/* Loads out and compares it with want; on a difference, says where and
 * shows the output. */
static void reload_equal(const struct doc *want, const struct gs_buf *out, const char *step)
{
	struct doc again;
	char where[256];
	bool loads;

	doc_init(&again, FUZZ_FORMAT);
	loads = store_load(FUZZ_FORMAT, out->data, out->len, &again) == 0;
	if (!loads || !doc_equal(want, &again, where, sizeof(where))) {
		fprintf(stderr, "%s: %s %s\n--- output\n%.*s\n---\n", step,
			loads ? "the output holds other data at" : "the output does not load:",
			loads ? where : gs_error_message(), (int)out->len, (const char *)out->data);
		abort();
	}
	doc_release(&again);
}

static bool is_meta(const struct doc_node *parent, size_t depth, const struct doc_entry *e)
{
	return depth == 0 && parent && e->key && e->key_len == 4 && memcmp(e->key, "sops", 4) == 0;
}

/* What encryption does to a tree: every value and comment changed (half
 * to the text they had), comments in lists turned into items. */
static void change_all(struct doc *d, struct doc_node *n, int depth)
{
	for (size_t i = 0; i < n->count && depth < 300; i++) {
		struct doc_node *v = n->entries[i].value;
		bool same = i & 1;

		if (n->entries[i].removed)
			continue;
		if (v->kind == DOC_MAP || v->kind == DOC_LIST) {
			change_all(d, v, depth + 1);
			continue;
		}
		if (v->kind == DOC_COMMENT && n->kind == DOC_LIST && i % 3 == 0) {
			if (doc_scalar_set(d, v, DOC_STR, enc_sample, sizeof(enc_sample) - 1))
				abort();
			v->kind = DOC_SCALAR;
			continue;
		}
		if (v->len && doc_scalar_set(d, v, same ? v->type : DOC_STR, same ? v->text : enc_sample,
					     same ? v->len : sizeof(enc_sample) - 1))
			abort();
	}
}

/* What decryption does: each leaf of `enc` set back to its counterpart in
 * `plain` (the same shape, but for the sops entries, which are skipped). */
static void change_back(struct doc *d, struct doc_node *enc, const struct doc_node *plain,
			int depth)
{
	size_t i = 0, j = 0;

	for (;; i++, j++) {
		struct doc_node *e;
		const struct doc_node *p;

		while (i < enc->count && (enc->entries[i].removed || is_meta(enc, depth, &enc->entries[i])))
			i++;
		while (j < plain->count &&
		       (plain->entries[j].removed || is_meta(plain, depth, &plain->entries[j])))
			j++;
		if (i >= enc->count || j >= plain->count || depth >= 300)
			return;
		e = enc->entries[i].value;
		p = plain->entries[j].value;
		if (p->kind == DOC_MAP || p->kind == DOC_LIST) {
			if (e->kind == p->kind)
				change_back(d, e, p, depth + 1);
			continue;
		}
		if (doc_scalar_set(d, e, p->type, p->text, p->len) || doc_node_set_tag(d, e, p->tag))
			abort();
		e->kind = p->kind;
	}
}

static void drop_meta(struct doc *d)
{
	for (size_t b = 0; b < d->count; b++)
		for (size_t i = 0; d->branches[b]->kind == DOC_MAP && i < d->branches[b]->count; i++)
			if (is_meta(d->branches[b], 0, &d->branches[b]->entries[i]))
				d->branches[b]->entries[i].removed = true;
}

/* 3: the "encrypted" output loaded, changed back, compared with the input. */
static void decrypt_back(const struct gs_buf *enc, const uint8_t *data, size_t size)
{
	struct doc e, plain;
	struct gs_buf out;

	doc_init(&e, FUZZ_FORMAT);
	doc_init(&plain, FUZZ_FORMAT);
	if (store_load(FUZZ_FORMAT, enc->data, enc->len, &e) ||
	    store_load(FUZZ_FORMAT, data, size, &plain)) {
		fprintf(stderr, "changed back: a load failed: %s\n", gs_error_message());
		abort();
	}
	for (size_t b = 0; b < e.count && b < plain.count; b++)
		change_back(&e, e.branches[b], plain.branches[b], 0);
	drop_meta(&e);
	drop_meta(&plain);
	gs_buf_init(&out, true);
	if (store_emit(&e, FUZZ_FORMAT, NULL, &out) == 0) {
		reload_equal(&plain, &out, "changed back");
	} else {
#ifdef FUZZ_WRITE_BACK_REQUIRED
		fprintf(stderr, "changed back: not written: %s\n--- sealed\n", gs_error_message());
		fwrite(enc->data, 1, enc->len, stderr);
		fprintf(stderr, "\n---\n");
		abort();
#endif
	}
	gs_buf_release(&out);
	doc_release(&e);
	doc_release(&plain);
}

/* 0: loaded sharing its source (encrypt's), the same verdict and tree as
 * loaded copying (d, loaded or not: loaded). */
static void shared_load_equal(const struct doc *d, bool loaded, const uint8_t *data, size_t size,
			      struct doc *s)
{
	char where[256];
	bool s_loaded;

	doc_init(s, FUZZ_FORMAT);
	s->share_source = true;
	s_loaded = store_load(FUZZ_FORMAT, data, size, s) == 0;
	if (s_loaded != loaded || (loaded && !doc_equal(d, s, where, sizeof(where)))) {
		fprintf(stderr, "shared source: %s\n",
			s_loaded != loaded ? "another verdict" : where);
		abort();
	}
	gs_error_clear();
}

/* 1-4 on a loaded document. */
static void round_trips(struct doc *d, const uint8_t *data, size_t size)
{
	struct store_emit_opts fresh = { .fresh = true };
	struct doc_entry *meta = doc_map_find(d->branches[0], "sops");
	struct gs_buf out;

	gs_buf_init(&out, true);
	if (store_emit(d, FUZZ_FORMAT, NULL, &out) == 0) {
		if (out.len != size || memcmp(out.data, data, size) != 0) {
			fprintf(stderr, "unchanged: not the input\n--- output\n%.*s\n---\n",
				(int)out.len, (const char *)out.data);
			abort();
		}
		reload_equal(d, &out, "unchanged");
	}
	gs_buf_reset(&out);
	for (size_t b = 0; b < d->count; b++)
		change_all(d, d->branches[b], 0);
	if (meta) {
		struct doc_node *copy = doc_clone(d, meta->value);

		meta->removed = true;
		if (!copy || !doc_append(d, d->branches[0], "sops", 4, copy))
			abort();
	}
	if (store_emit(d, FUZZ_FORMAT, NULL, &out) == 0) {
		reload_equal(d, &out, "changed");
		decrypt_back(&out, data, size);
	}
	gs_buf_reset(&out);
	if (store_emit(d, FUZZ_FORMAT, &fresh, &out) == 0) {
		reload_equal(d, &out, "fresh");
#ifdef FUZZ_WRITE_BACK_REQUIRED
		decrypt_back(&out, data, size);
#endif
	}
	gs_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct doc copied, shared;
	bool loaded;

	if (!ready) {
		if (gs_crypto_init())
			abort();
		ready = 1;
	}
	doc_init(&copied, FUZZ_FORMAT);
	loaded = store_load(FUZZ_FORMAT, data, size, &copied) == 0;
	gs_error_clear();
	shared_load_equal(&copied, loaded, data, size, &shared);
	if (loaded && copied.count > 0)
		round_trips(size & 1 ? &shared : &copied, data, size);
	doc_release(&copied);
	doc_release(&shared);
	return 0;
}
