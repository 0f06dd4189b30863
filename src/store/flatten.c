/* The sops metadata of dotenv and INI files, flattened into one level of
 * keys (spec 5.7, 5.8; sops stores/flatten.go: flattenTreeBranch,
 * unflattenTreeBranch). A map entry adds "__map_<key>", a list element
 * "__list_<index>"; reading splits the keys there and rebuilds the tree. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/store.h"
#include "store_int.h"

static const char map_sep[] = "__map_";
static const char list_sep[] = "__list_";

#define MAP_SEP_LEN (sizeof(map_sep) - 1)
#define LIST_SEP_LEN (sizeof(list_sep) - 1)

/* ---- flatten ---- */

struct flat_walk {
	struct gs_buf key;
	store_flat_fn fn;
	void *ctx;
};

static int flatten_value(struct flat_walk *w, const struct doc_node *n, int depth);

static int flatten_children(struct flat_walk *w, const struct doc_node *n, int depth)
{
	size_t base = w->key.len, index = 0;
	int ret = 0;

	if (depth >= STORE_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "metadata nested deeper than %d levels", STORE_MAX_DEPTH);
	for (size_t i = 0; i < n->count && !ret; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (e->removed || !e->value || e->value->kind == DOC_COMMENT)
			continue;
		w->key.len = base;
		if (n->kind == DOC_MAP) {
			/* the top level takes the prefix only (flattenTreeBranch) */
			if (depth > 0 && gs_buf_append(&w->key, map_sep, MAP_SEP_LEN))
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			if (gs_buf_append(&w->key, e->key, e->key_len))
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		} else {
			/* comment elements are skipped and do not count */
			if (gs_buf_printf(&w->key, "%s%zu", list_sep, index++))
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		}
		ret = flatten_value(w, e->value, depth + 1);
	}
	w->key.len = base;
	return ret;
}

static int flatten_value(struct flat_walk *w, const struct doc_node *n, int depth)
{
	if (n->kind == DOC_MAP || n->kind == DOC_LIST)
		return flatten_children(w, n, depth);
	if (gs_buf_append(&w->key, "", 1))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	w->key.len--;
	return w->fn(w->ctx, (const char *)w->key.data, w->key.len, n);
}

int store_flatten(const struct doc_node *map, const char *prefix, store_flat_fn fn, void *ctx)
{
	struct flat_walk w = { .fn = fn, .ctx = ctx };
	int ret;

	if (!map || map->kind != DOC_MAP)
		return GS_FAIL(GS_ERR_PARSE, "sops metadata is not a mapping");
	gs_buf_init(&w.key, false);
	if (gs_buf_append_str(&w.key, prefix)) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	ret = flatten_children(&w, map, 0);
out:
	gs_buf_release(&w.key);
	return ret;
}

/* ---- unflatten ---- */

struct unode;

struct ukid {
	const char *key; /* map child (NULL for a list child) */
	size_t key_len;
	long index;      /* list child */
	struct unode *node;
};

struct unode {
	struct doc_node *value;
	int kind; /* 0 unknown, 1 map, 2 list */
	struct ukid *kids;
	size_t n, cap;
};

static void unode_free(struct unode *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n; i++)
		unode_free(u->kids[i].node);
	free(u->kids);
	free(u);
}

/* Go strconv.Atoi; sops ignores its error, which gives 0. */
static long atoi_go(const char *s, size_t n)
{
	size_t i = 0;
	bool neg = false;
	long v = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (i == n)
		return 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (1L << 40))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return neg ? -v : v;
}

static struct unode *child(struct unode *u, int kind, const char *key, size_t key_len, long index)
{
	struct unode *c;

	if (u->value || (u->kind && u->kind != kind))
		return NULL;
	u->kind = kind;
	for (size_t i = 0; i < u->n; i++) {
		if (kind == 1 && u->kids[i].key_len == key_len && memcmp(u->kids[i].key, key, key_len) == 0)
			return u->kids[i].node;
		if (kind == 2 && u->kids[i].index == index)
			return u->kids[i].node;
	}
	if (GS_ARRAY_GROW(u->kids, u->n, u->cap, 4) < 0)
		return NULL;
	c = gs_calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	u->kids[u->n++] = (struct ukid){ .key = key, .key_len = key_len, .index = index, .node = c };
	return c;
}

/* sops tokenize(): the first token runs to the first separator; each
 * separator starts a map or list token running to the next one. */
static int place(struct unode *root, const struct store_flat_item *it)
{
	const char *k = it->key;
	size_t n = it->key_len, i = 0, start = 0;
	int kind = 1, depth = 0; /* the first token is a map key */
	struct unode *u = root;

	for (;;) {
		size_t sep = 0;
		int next = 0;

		while (i < n) {
			if (n - i >= MAP_SEP_LEN && memcmp(k + i, map_sep, MAP_SEP_LEN) == 0) {
				sep = MAP_SEP_LEN;
				next = 1;
				break;
			}
			if (n - i >= LIST_SEP_LEN && memcmp(k + i, list_sep, LIST_SEP_LEN) == 0) {
				sep = LIST_SEP_LEN;
				next = 2;
				break;
			}
			i++;
		}
		if (++depth > STORE_MAX_DEPTH)
			return GS_FAIL(GS_ERR_LIMIT, "sops metadata key nested too deeply");
		u = kind == 1 ? child(u, 1, k + start, i - start, 0)
			      : child(u, 2, NULL, 0, atoi_go(k + start, i - start));
		if (!u)
			return GS_FAIL(GS_ERR_PARSE, "sops metadata: type mismatch in flattened keys");
		if (!next)
			break;
		i += sep;
		start = i;
		kind = next;
	}
	if (u->value || u->kind)
		return GS_FAIL(GS_ERR_PARSE, "sops metadata: duplicate flattened key");
	u->value = it->value;
	return 0;
}

static int kid_cmp(const void *a, const void *b)
{
	const struct ukid *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c;

	if (!x->key)
		return x->index < y->index ? -1 : x->index > y->index;
	c = memcmp(x->key, y->key, n);
	if (c)
		return c;
	return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

static int convert(struct doc *d, struct unode *u, struct doc_node **out)
{
	struct doc_node *n;
	int ret;

	if (u->value) {
		*out = u->value;
		return 0;
	}
	n = u->kind == 2 ? doc_new_list(d) : doc_new_map(d);
	if (!n)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (u->n)
		qsort(u->kids, u->n, sizeof(*u->kids), kid_cmp);
	for (size_t i = 0; i < u->n; i++) {
		struct doc_node *v;

		if (u->kind == 2 && u->kids[i].index != (long)i)
			return GS_FAIL(GS_ERR_PARSE, "sops metadata: incomplete list in flattened keys");
		if ((ret = convert(d, u->kids[i].node, &v)) < 0)
			return ret;
		if (!doc_append(d, n, u->kids[i].key, u->kids[i].key_len, v))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	*out = n;
	return 0;
}

int store_unflatten(struct doc *d, const struct store_flat_item *items, size_t n,
		    struct doc_node **out)
{
	struct unode *root = gs_calloc(1, sizeof(*root));
	int ret = 0;

	if (!root)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	root->kind = 1;
	for (size_t i = 0; i < n; i++)
		if ((ret = place(root, &items[i])))
			goto out;
	ret = convert(d, root, out);
out:
	unode_free(root);
	return ret;
}

/* ---- the loaded metadata's place in the source ---- */

static void ranges_free(void *p)
{
	struct store_meta_ranges *r = p;

	free(r->v);
	free(r);
}

int store_meta_ranges_add(struct doc *d, size_t start, size_t end)
{
	struct store_meta_ranges *r = d->store_data;
	int ret;

	if (!r || d->store_data_free != ranges_free) {
		if (d->store_data && d->store_data_free)
			d->store_data_free(d->store_data);
		r = gs_calloc(1, sizeof(*r));
		if (!r)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		d->store_data = r;
		d->store_data_free = ranges_free;
	}
	if ((ret = GS_ARRAY_GROW(r->v, r->n, r->cap, 8)) < 0)
		return ret;
	r->v[r->n++] = (struct doc_span){ start, end };
	return 0;
}

static const struct store_meta_ranges *ranges_of(const struct doc *d)
{
	return d->store_data && d->store_data_free == ranges_free ? d->store_data : NULL;
}

static bool changed(const struct doc_node *n)
{
	if (n->dirty)
		return true;
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (e->removed || changed(e->value))
			return true;
	}
	return false;
}

static bool meta_kept(const struct doc_node *root)
{
	for (size_t i = 0; root && i < root->count; i++) {
		const struct doc_entry *e = &root->entries[i];

		if (!e->removed && sops_is_metadata_key(e->key, e->key_len))
			return e->value->span.start != DOC_NO_POS && !changed(e->value);
	}
	return false;
}

/* *kept: the sops entry root was loaded with is still there, unchanged,
 * and its source text stays; otherwise edits cutting its lines go to ed. */
static int cut_changed_metadata(const struct doc *d, const struct doc_node *root, struct store_edits *ed,
				bool *kept)
{
	const struct store_meta_ranges *r = ranges_of(d);
	int ret;

	*kept = meta_kept(root);
	for (size_t i = 0; !*kept && r && i < r->n; i++)
		if ((ret = store_edits_push(ed, r->v[i].start, r->v[i].end, ed->pool.len)) < 0)
			return ret;
	return 0;
}

int store_flat_emit(const struct doc *d, const struct store_flat_writer *w, const struct store_emit_opts *opts,
		    struct gs_buf *out)
{
	const struct doc_node *root = d->count ? d->branches[0] : NULL;
	size_t start = out->len;
	struct store_edits ed;
	struct gs_buf tail;
	bool kept;
	int ret;

	if (d->count == 0)
		return GS_FAIL(GS_ERR_EMPTY_INPUT, "no document to write");
	if (!root || root->kind != DOC_MAP)
		return GS_FAIL(GS_ERR_PARSE, "the top level must be a mapping");
	if (d->format != w->format || !d->source.data || (opts && opts->fresh) || root->span.start == DOC_NO_POS)
		return w->put_rest(out, d, root, false, false, true);
	store_edits_init(&ed);
	gs_buf_init(&tail, true);
	if ((ret = w->patch(d, root, &ed)) < 0 || (ret = cut_changed_metadata(d, root, &ed, &kept)) < 0 ||
	    (ret = store_edits_apply(&ed, d->source.data, d->source.len, out)) < 0 ||
	    (ret = w->put_rest(&tail, d, root, true, kept, out->len == start)) < 0)
		goto out;
	ret = store_put_tail(out, start, &tail);
out:
	gs_buf_release(&tail);
	store_edits_release(&ed);
	return ret;
}
