/* The tree walk in sops order and the selection rule (spec 3; sops.go
 * walkBranch, walkSlice, shouldBeEncrypted). The selection regexes are
 * RE2's, run on POSIX ERE (gitseal/re2posix.h). */
#include <stdlib.h>
#include <string.h>

#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/store.h"
#include "sops_int.h"

int sops_selector_init(struct sops_selector *s, const struct sops_selection *sel)
{
	int ret = 0;

	memset(s, 0, sizeof(*s));
	s->kind = sel ? sel->kind : SOPS_SEL_NONE;
	s->value = sel && sel->value ? sel->value : "";
	switch (s->kind) {
	case SOPS_SEL_UNENCRYPTED_REGEX:
	case SOPS_SEL_ENCRYPTED_REGEX:
	case SOPS_SEL_UNENCRYPTED_COMMENT_REGEX:
	case SOPS_SEL_ENCRYPTED_COMMENT_REGEX:
		if ((ret = re2posix_compile(&s->re, s->value)) == 0)
			s->compiled = true;
		break;
	default:
		break;
	}
	return ret;
}

void sops_selector_release(struct sops_selector *s)
{
	if (s->compiled)
		regfree(&s->re);
	s->compiled = false;
}

struct comment_level {
	const char **items;
	size_t count, cap;
};

struct walker {
	struct doc *doc;
	const struct sops_selector *sel;
	sops_leaf_fn fn;
	void *ctx;
	const struct doc_entry **path; /* map entries from the root */
	size_t depth;
	struct comment_level *levels;
	size_t level_count;
	struct gs_buf aad;
};

static bool key_has_suffix(const struct doc_entry *e, const char *suffix)
{
	size_t n = strlen(suffix);

	return e->key_len >= n && memcmp(e->key + e->key_len - n, suffix, n) == 0;
}

/* spec 3.2, in sops's order: later rules override earlier ones. */
static bool should_encrypt(const struct walker *w, bool is_comment)
{
	const struct sops_selector *s = w->sel;
	bool enc = true;

	switch (s->kind) {
	case SOPS_SEL_NONE:
		break;
	case SOPS_SEL_UNENCRYPTED_SUFFIX:
		for (size_t i = 0; i < w->depth; i++)
			if (key_has_suffix(w->path[i], s->value))
				enc = false;
		break;
	case SOPS_SEL_ENCRYPTED_SUFFIX:
		enc = false;
		for (size_t i = 0; i < w->depth; i++)
			if (key_has_suffix(w->path[i], s->value))
				enc = true;
		break;
	case SOPS_SEL_UNENCRYPTED_REGEX:
		for (size_t i = 0; i < w->depth; i++)
			if (re2posix_match(&s->re, w->path[i]->key))
				enc = false;
		break;
	case SOPS_SEL_ENCRYPTED_REGEX:
		enc = false;
		for (size_t i = 0; i < w->depth; i++)
			if (re2posix_match(&s->re, w->path[i]->key))
				enc = true;
		break;
	case SOPS_SEL_UNENCRYPTED_COMMENT_REGEX:
		for (size_t l = 0; l < w->level_count; l++)
			for (size_t j = 0; j < w->levels[l].count; j++)
				if (re2posix_match(&s->re, w->levels[l].items[j]))
					enc = false;
		break;
	case SOPS_SEL_ENCRYPTED_COMMENT_REGEX:
		enc = false;
		for (size_t l = 0; l < w->level_count; l++) {
			for (size_t j = 0; j < w->levels[l].count; j++) {
				/* the comment being judged is not its own marker */
				if (is_comment && l == w->level_count - 1 &&
				    j == w->levels[l].count - 1)
					continue;
				if (re2posix_match(&s->re, w->levels[l].items[j]))
					enc = true;
			}
		}
		break;
	}
	return enc;
}

static int build_aad(struct walker *w)
{
	int ret;

	gs_buf_reset(&w->aad);
	for (size_t i = 0; i < w->depth; i++) {
		if ((ret = gs_buf_append(&w->aad, w->path[i]->key, w->path[i]->key_len)) < 0 ||
		    (ret = gs_buf_append(&w->aad, ":", 1)) < 0)
			return ret;
	}
	/* sops: a top-level comment has the AAD ":" (path [] plus ':'). */
	if (w->depth == 0)
		return gs_buf_append(&w->aad, ":", 1);
	return 0;
}

static int push_comment(struct walker *w, const char *text)
{
	struct comment_level *l = &w->levels[w->level_count - 1];
	int ret = GS_ARRAY_GROW(l->items, l->count, l->cap, 4);

	if (ret < 0)
		return ret;
	l->items[l->count++] = text;
	return 0;
}

static int walk_node(struct walker *w, struct doc_node *container, size_t index,
		     struct doc_node *n);

static int walk_container(struct walker *w, struct doc_node *c, bool top)
{
	struct comment_level *lv;
	int ret = 0;

	if (w->level_count >= STORE_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "document nested too deeply");
	lv = &w->levels[w->level_count++];
	lv->count = 0;
	for (size_t i = 0; i < c->count && ret == 0; i++) {
		struct doc_entry *e = &c->entries[i];
		bool is_comment = e->value && e->value->kind == DOC_COMMENT;

		if (e->removed || !e->value)
			continue;
		if (top && sops_is_metadata_key(e->key, e->key_len))
			continue;
		if (c->kind == DOC_MAP && e->key) {
			w->path[w->depth++] = e;
			ret = walk_node(w, c, i, e->value);
			w->depth--;
		} else {
			ret = walk_node(w, c, i, e->value);
		}
		if (!is_comment)
			lv->count = 0;
	}
	w->level_count--;
	return ret;
}

static int walk_node(struct walker *w, struct doc_node *container, size_t index, struct doc_node *n)
{
	struct sops_leaf leaf;
	int ret;

	switch (n->kind) {
	case DOC_MAP:
	case DOC_LIST:
		return walk_container(w, n, false);
	case DOC_SCALAR:
		if (n->type == DOC_NULL)
			return 0;
		break;
	case DOC_COMMENT:
		if ((ret = push_comment(w, n->text)) < 0)
			return ret;
		break;
	}
	if ((ret = build_aad(w)) < 0)
		return ret;
	leaf.container = container;
	leaf.index = index;
	leaf.node = n;
	leaf.aad = (const char *)w->aad.data;
	leaf.aad_len = w->aad.len;
	leaf.is_comment = n->kind == DOC_COMMENT;
	leaf.selected = should_encrypt(w, leaf.is_comment);
	return w->fn(w->ctx, &leaf);
}

int sops_walk(struct doc *d, const struct sops_selector *sel, sops_leaf_fn fn, void *ctx)
{
	struct walker w;
	int ret = 0;

	memset(&w, 0, sizeof(w));
	w.doc = d;
	w.sel = sel;
	w.fn = fn;
	w.ctx = ctx;
	gs_buf_init(&w.aad, false);
	w.path = calloc(STORE_MAX_DEPTH + 1, sizeof(*w.path));
	w.levels = calloc(STORE_MAX_DEPTH + 1, sizeof(*w.levels));
	if (!w.path || !w.levels) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t b = 0; b < d->count && ret == 0; b++)
		if (d->branches[b])
			ret = walk_container(&w, d->branches[b], true);
out:
	if (w.levels)
		for (size_t i = 0; i <= STORE_MAX_DEPTH; i++)
			free(w.levels[i].items);
	free(w.levels);
	free(w.path);
	gs_buf_release(&w.aad);
	return ret;
}
