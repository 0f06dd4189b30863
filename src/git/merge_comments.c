/* A three-way merge of comments, as git merges lines of text.
 *
 * In sops's model a comment is an entry of the map or list around it
 * (DOC_COMMENT). Each comment is placed by an anchor: the key (or list
 * item, told apart by its data) that follows it, the end of its
 * collection, or, for an end-of-line comment, its item: in YAML the
 * loader puts it before the item's entry, in INI after it (and INI keeps
 * the comments above a section header at the top of the section). The
 * comments at one anchor and of one class (above, end of line, the store's
 * style) are one place, merged as a unit: one side changed it, that side;
 * both alike, that; both differently, a conflict. A deleted item takes its
 * comments along, so a comment changed or added where the other side
 * deleted the item has no place left: a conflict too (git's intuition for
 * a line changed next to lines the other side removed).
 *
 * The merged document is ours' tree with the data merge applied, so its
 * comments are ours' (and, inside values taken whole from theirs,
 * theirs'): a gap between two items is rewritten only where its comments
 * differ from the merged ones, keeping ours' layout elsewhere. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/gitfilter.h"
#include "gitseal/io.h"
#include "merge_comments.h"

enum anchor_kind { ANCHOR_START, ANCHOR_KEY, ANCHOR_ITEM, ANCHOR_END };

struct anchor {
	enum anchor_kind kind;
	bool in_list;             /* START and END: of a list, not a map */
	const char *key;          /* ANCHOR_KEY */
	size_t key_len;
	uint64_t hash;            /* ANCHOR_ITEM: of its data, and which of the equal ones */
	size_t occurrence;
};

struct item {
	struct anchor at;
	size_t entry;             /* its index in the node's entries */
	size_t seq;               /* its index among the items */
};

struct placed {
	struct anchor at;
	int cls;                  /* end of line or not, and the store's style */
	size_t entry;
	const struct doc_node *comment;
	bool anchored;            /* by the item before it, or the top (INI) */
};

/* One collection as the merge sees it: its items in order and sorted by
 * anchor, its comments sorted by place. */
struct layout {
	const struct doc_node *node;
	struct item *items;
	struct item *sorted;
	size_t nitems;
	struct placed *comments;
	size_t ncomments;
};

/* A place's comments in one version: a run of a layout's sorted comments. */
struct run {
	const struct placed *p;
	size_t n;
};

struct nodes {
	const struct doc_node **v;
	size_t n;
	size_t cap;
};

/* The comments a place is to hold, where the merged collection puts them. */
struct wanted {
	size_t gap;               /* before the gap-th item; nitems: the end */
	int rank;                 /* the order of places within one gap */
	int cls;
	size_t seq;               /* the order of wanted places of one rank */
	size_t start;             /* its comments: level.pool.v[start, start + n) */
	size_t n;
};

struct level {
	struct comment_merge *cm;
	struct doc_node *merged;
	struct layout l[4];       /* merged, base, ours, theirs */
	const struct doc_node *node[4]; /* the versions' values here, collection or not */
	struct wanted *want;
	size_t nwant;
	size_t capwant;
	struct nodes pool;        /* the comments wanted, each place a range */
};

enum { MERGED, BASE, OURS, THEIRS };

/* ---- anchors ---- */

static int anchor_cmp(const struct anchor *a, const struct anchor *b)
{
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->in_list != b->in_list)
		return a->in_list ? 1 : -1;
	if (a->kind == ANCHOR_KEY) {
		c = memcmp(a->key, b->key, a->key_len < b->key_len ? a->key_len : b->key_len);
		return c ? c : (a->key_len > b->key_len) - (a->key_len < b->key_len);
	}
	if (a->kind == ANCHOR_ITEM) {
		if (a->hash != b->hash)
			return a->hash < b->hash ? -1 : 1;
		return (a->occurrence > b->occurrence) - (a->occurrence < b->occurrence);
	}
	return 0;
}

static uint64_t mix(uint64_t x)
{
	/* splitmix64's finalizer: spreads a sum of hashes over all bits */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t bytes_hash(const uint8_t key[crypto_shorthash_KEYBYTES], const char *p, size_t n)
{
	uint64_t h;
	uint8_t out[crypto_shorthash_BYTES];

	crypto_shorthash(out, (const unsigned char *)p, n, key);
	memcpy(&h, out, sizeof(h));
	return h;
}

/* A hash of a node's data as the merge compares it (merge.c node_same):
 * comments aside, the order of a map's keys aside. Keyed, as it is made
 * from secret values. */
static uint64_t data_hash(const uint8_t key[crypto_shorthash_KEYBYTES], const struct doc_node *n)
{
	uint64_t h;

	if (!n)
		return 0;
	switch (n->kind) {
	case DOC_SCALAR:
		return mix(bytes_hash(key, n->text, n->len) + 0x100 + (uint64_t)n->type);
	case DOC_MAP:
		h = 0x200;
		for (size_t i = 0; i < n->count; i++) {
			const struct doc_entry *e = &n->entries[i];

			if (!e->removed && e->key && e->value && e->value->kind != DOC_COMMENT)
				h += mix(bytes_hash(key, e->key, e->key_len) * 31 + data_hash(key, e->value));
		}
		return mix(h);
	case DOC_LIST:
		h = 0x300;
		for (size_t i = 0; i < n->count; i++) {
			const struct doc_entry *e = &n->entries[i];

			if (!e->removed && e->value && e->value->kind != DOC_COMMENT)
				h = mix(h ^ data_hash(key, e->value));
		}
		return h;
	case DOC_COMMENT:
		break;
	}
	return 0;
}

/* ---- a collection's layout ---- */

static bool is_collection(const struct doc_node *n)
{
	return n && (n->kind == DOC_MAP || n->kind == DOC_LIST);
}

static bool is_item_entry(const struct doc_node *n, const struct doc_entry *e)
{
	return !e->removed && e->value && e->value->kind != DOC_COMMENT && (n->kind == DOC_LIST || e->key);
}

static int cmp_items(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = anchor_cmp(&x->at, &y->at);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_placed(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;
	int c = anchor_cmp(&x->at, &y->at);

	if (c)
		return c;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	return (x->entry > y->entry) - (x->entry < y->entry);
}

static int comment_class(const struct doc_node *c)
{
	return c->style * 2 + c->inline_comment;
}

static void layout_release(struct layout *l)
{
	free(l->items);
	free(l->sorted);
	free(l->comments);
	memset(l, 0, sizeof(*l));
}

/* The list items' anchors: their data's hash, and how many equal ones
 * come before them. */
static void number_occurrences(struct layout *l)
{
	for (size_t i = 0; i < l->nitems; i++)
		l->sorted[i] = l->items[i];
	qsort(l->sorted, l->nitems, sizeof(*l->sorted), cmp_items);
	for (size_t i = 1; i < l->nitems; i++)
		if (l->sorted[i].at.hash == l->sorted[i - 1].at.hash)
			l->sorted[i].at.occurrence = l->sorted[i - 1].at.occurrence + 1;
	for (size_t i = 0; i < l->nitems; i++)
		l->items[l->sorted[i].seq].at = l->sorted[i].at;
}

/* Each comment's anchor: the item after it; in INI an end-of-line comment
 * is stored after its item and the comments above a section header (a
 * style of their own) at the top of the section. */
static void place_comments(struct layout *l, enum doc_format format)
{
	const struct doc_node *n = l->node;
	struct anchor start = { .kind = ANCHOR_START, .in_list = n->kind == DOC_LIST };
	struct anchor end = { .kind = ANCHOR_END, .in_list = n->kind == DOC_LIST };
	struct anchor prev = start;
	size_t pending = 0, item = 0;

	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (is_item_entry(n, e)) {
			for (; pending < l->ncomments; pending++)
				if (!l->comments[pending].anchored)
					l->comments[pending].at = l->items[item].at;
			prev = l->items[item++].at;
			continue;
		}
		if (e->removed || !e->value || e->value->kind != DOC_COMMENT)
			continue;
		l->comments[l->ncomments] = (struct placed){ .cls = comment_class(e->value), .entry = i,
							     .comment = e->value };
		if (format == DOC_FORMAT_INI && (e->value->inline_comment || e->value->style)) {
			l->comments[l->ncomments].at = e->value->inline_comment ? prev : start;
			l->comments[l->ncomments].anchored = true;
		}
		l->ncomments++;
	}
	for (; pending < l->ncomments; pending++)
		if (!l->comments[pending].anchored)
			l->comments[pending].at = end;
}

static int layout_build(struct layout *l, const struct doc_node *n, enum doc_format format,
			const uint8_t key[crypto_shorthash_KEYBYTES])
{
	memset(l, 0, sizeof(*l));
	if (!is_collection(n) || !n->count)
		return 0;
	l->node = n;
	l->items = gs_malloc(n->count * sizeof(*l->items));
	l->sorted = gs_malloc(n->count * sizeof(*l->sorted));
	l->comments = gs_malloc(n->count * sizeof(*l->comments));
	if (!l->items || !l->sorted || !l->comments) {
		layout_release(l);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];
		struct item *it;

		if (!is_item_entry(n, e))
			continue;
		it = &l->items[l->nitems];
		*it = (struct item){ .entry = i, .seq = l->nitems };
		if (n->kind == DOC_MAP)
			it->at = (struct anchor){ .kind = ANCHOR_KEY, .key = e->key, .key_len = e->key_len };
		else
			it->at = (struct anchor){ .kind = ANCHOR_ITEM, .in_list = true,
						  .hash = data_hash(key, e->value) };
		l->nitems++;
	}
	number_occurrences(l);
	place_comments(l, format);
	qsort(l->comments, l->ncomments, sizeof(*l->comments), cmp_placed);
	return 0;
}

static const struct item *layout_find(const struct layout *l, const struct anchor *at)
{
	size_t lo = 0, hi = l->nitems;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = anchor_cmp(&l->sorted[mid].at, at);

		if (!c)
			return &l->sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- comparing places ---- */

static bool comment_text_same(const struct doc_node *a, const struct doc_node *b)
{
	return a->len == b->len && a->style == b->style && (!a->len || !sodium_memcmp(a->text, b->text, a->len));
}

static bool comment_same(const struct doc_node *a, const struct doc_node *b)
{
	return a->inline_comment == b->inline_comment && comment_text_same(a, b);
}

static bool run_same(struct run a, struct run b)
{
	if (a.n != b.n)
		return false;
	for (size_t i = 0; i < a.n; i++)
		if (!comment_same(a.p[i].comment, b.p[i].comment))
			return false;
	return true;
}

static int place_cmp(const struct placed *a, const struct placed *b)
{
	int c = anchor_cmp(&a->at, &b->at);

	return c ? c : (a->cls > b->cls) - (a->cls < b->cls);
}

/* The run of l's comments at *pos that shares the place of key (empty when
 * l's next place is another); *pos moves past it. */
static struct run take_run(const struct layout *l, size_t *pos, const struct placed *key)
{
	struct run r = { l->comments ? l->comments + *pos : NULL, 0 };

	while (*pos < l->ncomments && !place_cmp(&l->comments[*pos], key)) {
		(*pos)++;
		r.n++;
	}
	return r;
}

/* The smallest place at the heads of n layouts' comments; NULL when all
 * are done. */
static const struct placed *next_place(const struct layout *const *l, const size_t *pos, int n)
{
	const struct placed *min = NULL;

	for (int i = 0; i < n; i++)
		if (pos[i] < l[i]->ncomments && (!min || place_cmp(&l[i]->comments[pos[i]], min) < 0))
			min = &l[i]->comments[pos[i]];
	return min;
}

/* ---- naming a place (key names only) ---- */

static void note_place(struct level *lv, const struct gs_buf *path, const struct placed *at)
{
	struct comment_merge *cm = lv->cm;
	const char *p = path->len ? (const char *)path->data : NULL;
	char name[512];

	cm->conflicts++;
	if (!cm->note)
		return;
	switch (at->at.kind) {
	case ANCHOR_START:
		snprintf(name, sizeof(name), "the comment at the top of %s", p ? p : "the file");
		break;
	case ANCHOR_END:
		snprintf(name, sizeof(name), "the comment at the end of %s", p ? p : "the file");
		break;
	case ANCHOR_KEY:
		snprintf(name, sizeof(name), "the comment %s %s%s%.*s", at->cls & 1 ? "after" : "above", p ? p : "",
			 p ? "." : "", (int)(at->at.key_len > 200 ? 200 : at->at.key_len), at->at.key);
		break;
	case ANCHOR_ITEM:
		snprintf(name, sizeof(name), "the comment %s an item of %s", at->cls & 1 ? "after" : "above",
			 p ? p : "the document");
		break;
	}
	cm->note(cm->ctx, name);
}

/* ---- the merge of one collection's places ---- */

static int nodes_push(struct nodes *s, const struct doc_node *n)
{
	int ret = GS_ARRAY_GROW(s->v, s->n, s->cap, 8);

	if (ret)
		return ret;
	s->v[s->n++] = n;
	return 0;
}

/* A wanted place, empty; want_push fills it. */
static int want_open(struct level *lv, size_t gap, int rank, int cls, size_t seq)
{
	int ret = GS_ARRAY_GROW(lv->want, lv->nwant, lv->capwant, 8);

	if (ret)
		return ret;
	lv->want[lv->nwant++] = (struct wanted){ .gap = gap, .rank = rank, .cls = cls, .seq = seq,
						 .start = lv->pool.n };
	return 0;
}

static int want_push(struct level *lv, const struct doc_node *c)
{
	int ret = nodes_push(&lv->pool, c);

	if (ret)
		return ret;
	lv->want[lv->nwant - 1].n++;
	return 0;
}

enum rank {
	RANK_EOL_BEFORE,   /* INI: the previous item's end-of-line comment */
	RANK_START,        /* the top of the collection */
	RANK_ORPHAN,       /* a place whose item the merge removed (a conflict) */
	RANK_ABOVE,
	RANK_EOL,          /* YAML: the item's end-of-line comment, before its entry */
	RANK_END,
};

/* The gap (and rank in it) where the merged collection holds the place of
 * at, taken from the version from; false when it has no place there. */
static bool gap_of(const struct level *lv, const struct placed *at, int from, enum doc_format format,
		   size_t *gap, int *rank)
{
	const struct layout *m = &lv->l[MERGED], *src = &lv->l[from];
	const struct item *it;

	bool list;

	if (!m->node)
		return false;
	list = m->node->kind == DOC_LIST;
	if ((at->at.kind == ANCHOR_KEY && list) || (at->at.kind == ANCHOR_ITEM && !list) ||
	    ((at->at.kind == ANCHOR_START || at->at.kind == ANCHOR_END) && at->at.in_list != list))
		return false;
	if (at->at.kind == ANCHOR_START) {
		*gap = 0;
		*rank = RANK_START;
		return true;
	}
	if (at->at.kind == ANCHOR_END) {
		*gap = m->nitems;
		*rank = RANK_END;
		return true;
	}
	if ((it = layout_find(m, &at->at))) {
		bool after = format == DOC_FORMAT_INI && (at->cls & 1);

		*gap = it->seq + after;
		*rank = after ? RANK_EOL_BEFORE : (at->cls & 1) ? RANK_EOL : RANK_ABOVE;
		return true;
	}
	/* the item is gone: before the next of from's items that the merge kept */
	*rank = RANK_ORPHAN;
	*gap = m->nitems;
	if ((it = layout_find(src, &at->at)))
		for (size_t i = it->seq + 1; i < src->nitems; i++) {
			const struct item *k = layout_find(m, &src->items[i].at);

			if (k) {
				*gap = k->seq;
				break;
			}
		}
	return true;
}

/* Whether version from holds the item that place k is anchored by, or
 * for the top and the end of a collection, a collection of its kind. */
static bool holds_anchor(const struct level *lv, int from, const struct placed *k)
{
	const struct doc_node *n = lv->node[from];

	if (!is_collection(n) || (n->kind == DOC_LIST) != k->at.in_list)
		return false;
	if (k->at.kind == ANCHOR_START || k->at.kind == ANCHOR_END)
		return true;
	return layout_find(&lv->l[from], &k->at) != NULL;
}

/* A comment whose text no version holds (a random one). */
static struct doc_node *unknown_comment(struct doc *d)
{
	char text[32 + 2 * 16 + 1] = "gitseal-unknown-comment-";
	size_t at = strlen(text);
	uint8_t r[16];

	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(text + at, sizeof(text) - at, r, sizeof(r));
	return doc_new_comment(d, text, strlen(text));
}

/* The comments of run r (or the one comment one) wanted at place k, as
 * version from has them; up when the merged tree has no such collection. */
static int place_run(struct level *lv, const struct placed *k, int from, struct run r, const struct doc_node *one,
		     size_t *seq, struct nodes *up)
{
	size_t n = one ? 1 : r.n, gap = 0;
	int rank = 0, ret = 0;

	if (!n)
		return 0;
	if (!gap_of(lv, k, from, lv->cm->d->format, &gap, &rank)) {
		/* no such collection left: the place goes up with its item */
		for (size_t i = 0; i < n && !ret; i++)
			ret = nodes_push(up, one ? one : r.p[i].comment);
		return ret;
	}
	ret = want_open(lv, gap, rank, k->cls, (*seq)++);
	for (size_t i = 0; i < n && !ret; i++)
		ret = want_push(lv, one ? one : r.p[i].comment);
	return ret;
}

/* The base's side of a conflict: a comment no version holds, so that the
 * line merge of the sides (merge.c conflict_text) marks the place even
 * where one side agrees with the base; put where ours and theirs put
 * theirs (once where both do). */
static int place_unknown(struct level *lv, const struct placed *k, struct run o, struct run t, size_t *seq,
			 struct nodes *up)
{
	size_t gap[2] = { 0, 0 };
	int rank[2] = { 0, 0 }, ret = 0;
	bool at[2];
	const struct doc_node *u = unknown_comment(lv->cm->d);

	if (!u)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	at[0] = o.n && gap_of(lv, k, OURS, lv->cm->d->format, &gap[0], &rank[0]);
	at[1] = t.n && gap_of(lv, k, THEIRS, lv->cm->d->format, &gap[1], &rank[1]);
	if (at[1] && at[0] && gap[0] == gap[1] && rank[0] == rank[1])
		at[1] = false;
	if (!at[0] && !at[1])
		return nodes_push(up, u); /* no place here: up with the item */
	for (int i = 0; i < 2 && !ret; i++)
		if (at[i] && !(ret = want_open(lv, gap[i], rank[i], k->cls, (*seq)++)))
			ret = want_push(lv, u);
	return ret;
}

/* Merges the places of one collection into lv->want (and, for places
 * the merged tree has no room for, into up). */
static int merge_places(struct level *lv, const struct gs_buf *path, struct nodes *up)
{
	const struct layout *l3[3] = { &lv->l[BASE], &lv->l[OURS], &lv->l[THEIRS] };
	enum doc_format format = lv->cm->d->format;
	size_t pos[3] = { 0, 0, 0 }, seq = 0;
	const struct placed *key;
	int ret = 0;

	while (!ret && (key = next_place(l3, pos, 3))) {
		struct placed k = *key;
		struct run b = take_run(l3[0], &pos[0], &k), o = take_run(l3[1], &pos[1], &k),
			   t = take_run(l3[2], &pos[2], &k);
		struct run r = o;
		int from = OURS, rank = 0;
		bool conflict = false;
		size_t gap = 0;

		/* a side that lacks the item (or collection) the merged tree holds
		 * here deleted or replaced it, and the data conflicted: the merge
		 * took the other side's value or the base's. That side changed no
		 * comment here, its value did; the base's comments stand for its
		 * own, so that the value taken keeps those it had (a comment inside
		 * a map theirs made a scalar, on ours' side of the markers) */
		if (gap_of(lv, &k, OURS, format, &gap, &rank) && rank != RANK_ORPHAN) {
			if (!holds_anchor(lv, OURS, &k))
				o = b;
			if (!holds_anchor(lv, THEIRS, &k))
				t = b;
		}
		if (run_same(o, t) || (!lv->cm->unknown_where_differ && run_same(b, t))) {
			r = o;
		} else if (!lv->cm->unknown_where_differ && run_same(b, o)) {
			r = t, from = THEIRS;
		} else {
			conflict = true;
		}
		/* changed (or added) above an item the other side removed */
		if (!conflict && r.n && (!gap_of(lv, &k, from, format, &gap, &rank) || rank == RANK_ORPHAN))
			conflict = true;
		if (conflict) {
			note_place(lv, path, &k);
			from = lv->cm->pick == MERGE_PICK_THEIRS ? THEIRS : lv->cm->pick == MERGE_PICK_BASE ? BASE : OURS;
			r = from == THEIRS ? t : from == BASE ? b : o;
		}
		if (conflict && from == BASE) {
			ret = place_unknown(lv, &k, o, t, &seq, up);
			continue;
		}
		ret = place_run(lv, &k, from, r, NULL, &seq, up);
	}
	return ret;
}

/* ---- rewriting the merged collection's gaps ---- */

static int cmp_wanted(const void *a, const void *b)
{
	const struct wanted *x = a, *y = b;

	if (x->gap != y->gap)
		return x->gap < y->gap ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->rank == RANK_START && x->cls != y->cls)
		return x->cls > y->cls ? -1 : 1; /* INI: the header's comments above its own end-of-line one */
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The comments the merged collection has in each gap, and those wanted. */
struct gap_view {
	const struct doc_node **want;
	size_t nwant;
	size_t first, end;        /* the entries of the gap */
};

static bool gap_unchanged(const struct doc_node *m, const struct gap_view *g)
{
	size_t j = 0;

	for (size_t i = g->first; i < g->end; i++) {
		const struct doc_entry *e = &m->entries[i];

		if (e->removed || !e->value || e->value->kind != DOC_COMMENT)
			continue;
		if (j == g->nwant || !comment_same(e->value, g->want[j]))
			return false;
		j++;
	}
	return j == g->nwant;
}

static bool wanted_later(const struct gap_view *g, size_t j, const struct doc_node *c)
{
	for (; j < g->nwant; j++)
		if (comment_same(c, g->want[j]))
			return true;
	return false;
}

static int put_comment(struct doc *d, struct doc_entry *out, size_t *n, const struct doc_node *c)
{
	struct doc_node *copy = doc_clone(d, c);

	if (!copy)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	memset(&out[*n], 0, sizeof(out[*n]));
	out[*n].key_span.start = out[*n].key_span.end = DOC_NO_POS;
	out[*n].value = copy;
	(*n)++;
	return 0;
}

/* Whether one of the gap's comments after entry i is c. */
static bool current_later(const struct doc_node *m, const struct gap_view *g, size_t i, const struct doc_node *c)
{
	for (i++; i < g->end; i++) {
		const struct doc_entry *e = &m->entries[i];

		if (!e->removed && e->value && e->value->kind == DOC_COMMENT && comment_same(e->value, c))
			return true;
	}
	return false;
}

/* One gap rewritten: its comments that are wanted in order stay, one that
 * takes the place of another of its kind is changed in place (the stores
 * rewrite a changed comment where it stands), the others are removed, and
 * the wanted ones it lacks are put in. */
static int rewrite_gap(struct doc *d, struct doc_node *m, const struct gap_view *g, struct doc_entry *out,
		       size_t *n)
{
	size_t j = 0;
	int ret = 0;

	for (size_t i = g->first; i < g->end && !ret; i++) {
		struct doc_entry *e = &m->entries[i];
		const struct doc_node *w;

		if (e->removed || !e->value || e->value->kind != DOC_COMMENT) {
			out[(*n)++] = *e;
			continue;
		}
		while (!ret && j < g->nwant && !comment_same(e->value, g->want[j]) && wanted_later(g, j, e->value))
			ret = put_comment(d, out, n, g->want[j++]);
		if (ret)
			break;
		w = j < g->nwant ? g->want[j] : NULL;
		out[(*n)++] = *e;
		if (w && comment_same(e->value, w)) {
			j++;
		} else if (w && w->inline_comment == e->value->inline_comment && w->style == e->value->style &&
			   !current_later(m, g, i, w)) {
			ret = doc_scalar_set(d, out[*n - 1].value, DOC_STR, w->text, w->len);
			j++;
		} else {
			out[*n - 1].removed = true;
		}
	}
	while (!ret && j < g->nwant)
		ret = put_comment(d, out, n, g->want[j++]);
	return ret;
}

static int rewrite(struct level *lv)
{
	struct doc_node *m = lv->merged;
	const struct layout *lm = &lv->l[MERGED];
	size_t ngaps = lm->nitems + 1, w = 0, n = 0, total = 0;
	struct gap_view *gaps;
	struct doc_entry *out = NULL;
	bool changed = false;
	int ret = 0;

	if (lv->nwant)
		qsort(lv->want, lv->nwant, sizeof(*lv->want), cmp_wanted);
	if (!(gaps = gs_calloc(ngaps, sizeof(*gaps))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t g = 0; g < ngaps && !ret; g++) {
		struct gap_view *gv = &gaps[g];

		gv->first = g ? lm->items[g - 1].entry + 1 : 0;
		gv->end = g < lm->nitems ? lm->items[g].entry : m->count;
		for (size_t k = w; k < lv->nwant && lv->want[k].gap == g; k++)
			gv->nwant += lv->want[k].n;
		if (gv->nwant && !(gv->want = gs_malloc(gv->nwant * sizeof(*gv->want)))) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			break;
		}
		for (size_t k = 0; w < lv->nwant && lv->want[w].gap == g; w++)
			for (size_t i = 0; i < lv->want[w].n; i++)
				gv->want[k++] = lv->pool.v[lv->want[w].start + i];
		changed |= !gap_unchanged(m, gv);
		total += gv->nwant;
	}
	if (ret || !changed)
		goto out;
	if (!(out = gs_arena_alloc(&lv->cm->d->arena, (m->count + total) * sizeof(*out)))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t g = 0; g < ngaps && !ret; g++) {
		ret = rewrite_gap(lv->cm->d, m, &gaps[g], out, &n);
		if (g < lm->nitems)
			out[n++] = m->entries[lm->items[g].entry];
	}
	if (!ret) {
		/* what was allocated: a cap counted from n claimed room past
		 * it, and the next entry appended overwrote the arena's next
		 * allocation (fuzz_git_merge) */
		m->cap = m->count + total;
		m->entries = out;
		m->count = n;
	}
out:
	for (size_t g = 0; g < ngaps; g++)
		free(gaps[g].want);
	free(gaps);
	return ret;
}

/* ---- the walk ---- */

static int merge_level(struct comment_merge *cm, struct doc_node *merged, const struct doc_node *const v[3],
		       struct gs_buf *path, struct nodes *up);

/* The value at an anchor of a layout (NULL: none). */
static const struct doc_node *child_at(const struct layout *l, const struct anchor *at)
{
	const struct item *it = l->node ? layout_find(l, at) : NULL;

	return it ? l->node->entries[it->entry].value : NULL;
}

static int path_push(struct gs_buf *path, const struct anchor *at)
{
	if (at->kind == ANCHOR_KEY)
		return gs_buf_printf(path, "%s%.*s", path->len ? "." : "", (int)(at->key_len > 200 ? 200 : at->key_len),
				     at->key);
	return gs_buf_append_str(path, "[]");
}

/* Every item of any version, merged level by level; comments that find
 * no place below come back as an orphan of the item. */
static int merge_children(struct level *lv, struct gs_buf *path, struct nodes *up)
{
	struct layout *l = lv->l;
	size_t pos[4] = { 0, 0, 0, 0 };
	int ret = 0;

	for (;;) {
		const struct anchor *min = NULL;
		const struct doc_node *v[3];
		struct doc_node *mc = NULL;
		struct nodes orphans = { 0 };
		struct anchor at;
		size_t mark = path->len;

		for (int i = 0; i < 4; i++)
			if (pos[i] < l[i].nitems && (!min || anchor_cmp(&l[i].sorted[pos[i]].at, min) < 0))
				min = &l[i].sorted[pos[i]].at;
		if (!min)
			break;
		at = *min;
		for (int i = 0; i < 4; i++)
			while (pos[i] < l[i].nitems && !anchor_cmp(&l[i].sorted[pos[i]].at, &at))
				pos[i]++;
		if (l[MERGED].node && layout_find(&l[MERGED], &at))
			mc = lv->merged->entries[layout_find(&l[MERGED], &at)->entry].value;
		for (int i = 0; i < 3; i++)
			v[i] = child_at(&l[BASE + i], &at);
		if (!is_collection(mc) && !is_collection(v[0]) && !is_collection(v[1]) && !is_collection(v[2]))
			continue;
		if ((ret = path_push(path, &at)))
			break;
		ret = merge_level(lv->cm, mc, v, path, &orphans);
		path->len = mark;
		path->data[mark] = '\0';
		if (!ret && orphans.n) {
			/* above the item in the merged collection, else further up */
			struct placed p = { .at = at };
			size_t gap;
			int rank;
			bool here = gap_of(lv, &p, OURS, lv->cm->d->format, &gap, &rank);

			if (here)
				ret = want_open(lv, gap, RANK_ORPHAN, 0, 0);
			for (size_t i = 0; i < orphans.n && !ret; i++)
				ret = here ? want_push(lv, orphans.v[i]) : nodes_push(up, orphans.v[i]);
		}
		free(orphans.v);
		if (ret)
			break;
	}
	return ret;
}

static int merge_level(struct comment_merge *cm, struct doc_node *merged, const struct doc_node *const v[3],
		       struct gs_buf *path, struct nodes *up)
{
	struct level lv = { .cm = cm, .merged = is_collection(merged) ? merged : NULL,
			    .node = { merged, v[0], v[1], v[2] } };
	int ret = layout_build(&lv.l[MERGED], lv.merged, cm->d->format, cm->hash_key);

	for (int i = 0; i < 3 && !ret; i++)
		ret = layout_build(&lv.l[BASE + i], v[i], cm->d->format, cm->hash_key);
	if (lv.merged && !lv.l[MERGED].node)
		lv.l[MERGED].node = lv.merged; /* an empty collection still has a top and an end */
	if (ret || (ret = merge_children(&lv, path, up)) || (ret = merge_places(&lv, path, up)))
		goto out;
	if (lv.merged)
		ret = rewrite(&lv);
out:
	for (int i = 0; i < 4; i++)
		layout_release(&lv.l[i]);
	free(lv.want);
	free(lv.pool.v);
	return ret;
}

void comment_merge_init(struct comment_merge *cm, struct doc *d, int pick)
{
	memset(cm, 0, sizeof(*cm));
	cm->d = d;
	cm->pick = pick;
	randombytes_buf(cm->hash_key, sizeof(cm->hash_key));
}

/* The comments in up put on lines of their own at the top of host, or
 * its end: a run of lines anchored by host's first item or its end. */
static int host_comments(struct doc *d, struct doc_node *host, bool at_end, const struct nodes *up)
{
	struct doc_entry *out;
	size_t n = 0;
	int ret = 0;

	if (!up->n || !is_collection(host))
		return 0;
	if (!(out = gs_arena_alloc(&d->arena, (host->count + up->n) * sizeof(*out))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (at_end && host->count) {
		memcpy(out, host->entries, host->count * sizeof(*out));
		n = host->count;
	}
	for (size_t i = 0; i < up->n && !ret; i++)
		if (!(ret = put_comment(d, out, &n, up->v[i])))
			out[n - 1].value->inline_comment = false; /* no line of an item to end */
	if (ret)
		return ret;
	if (!at_end && host->count) {
		memcpy(out + n, host->entries, host->count * sizeof(*out));
		n += host->count;
	}
	host->entries = out;
	host->count = n;
	host->cap = n;
	return 0;
}

/* One document's comments merged; what finds no place in merged (one
 * that is no collection, or none) goes to host when given, else only
 * counts as a conflict. */
static int merge_document(struct comment_merge *cm, struct doc_node *merged, const struct doc_node *const v[3],
			  struct doc_node *host, bool at_end)
{
	struct nodes up = { 0 };
	struct gs_buf path;
	int ret;

	gs_buf_init(&path, false);
	if (!(ret = gs_buf_append_str(&path, "")) && !(ret = merge_level(cm, merged, v, &path, &up)) && host)
		ret = host_comments(cm->d, host, at_end, &up);
	free(up.v);
	gs_buf_release(&path);
	return ret;
}

int comment_merge_node(struct comment_merge *cm, struct doc_node *merged, const struct doc_node *base,
		       const struct doc_node *ours, const struct doc_node *theirs)
{
	const struct doc_node *v[3] = { base, ours, theirs };

	return merge_document(cm, merged, v, NULL, false);
}

int comment_merge_gone(struct comment_merge *cm, struct doc_node *host, bool at_end, const struct doc_node *base,
		       const struct doc_node *ours, const struct doc_node *theirs)
{
	const struct doc_node *v[3] = { base, ours, theirs };

	return merge_document(cm, NULL, v, host, at_end);
}

/* ---- comparing ---- */

/* An end-of-line comment taken as one above its item (YAML places both
 * by the item below). */
static void forget_inline(struct layout *l)
{
	for (size_t i = 0; i < l->ncomments; i++)
		l->comments[i].cls &= ~1;
	if (l->ncomments)
		qsort(l->comments, l->ncomments, sizeof(*l->comments), cmp_placed);
}

/* 1 when the levels agree, 0 when not, GS_ERR_NOMEM (recorded). */
static int level_agrees(const struct doc_node *a, const struct doc_node *b, enum doc_format format,
			const uint8_t key[crypto_shorthash_KEYBYTES], bool inline_as_above, int depth)
{
	struct layout la, lb;
	int same = 0;

	if (is_collection(a) != is_collection(b))
		return 0;
	if (!is_collection(a))
		return 1;
	if (depth > 4096)
		return 0;
	if ((same = layout_build(&la, a, format, key)))
		return same;
	if ((same = layout_build(&lb, b, format, key))) {
		layout_release(&la);
		return same;
	}
	if (inline_as_above) {
		forget_inline(&la);
		forget_inline(&lb);
	}
	if (la.ncomments != lb.ncomments || la.nitems != lb.nitems)
		goto out;
	for (size_t i = 0; i < la.ncomments; i++)
		if (place_cmp(&la.comments[i], &lb.comments[i]) ||
		    !(inline_as_above ? comment_text_same(la.comments[i].comment, lb.comments[i].comment)
				      : comment_same(la.comments[i].comment, lb.comments[i].comment)))
			goto out;
	for (size_t i = 0; i < la.nitems; i++) {
		if (anchor_cmp(&la.sorted[i].at, &lb.sorted[i].at))
			goto out;
		same = level_agrees(a->entries[la.sorted[i].entry].value, b->entries[lb.sorted[i].entry].value, format,
				    key, inline_as_above, depth + 1);
		if (same <= 0)
			goto out;
	}
	same = 1;
out:
	layout_release(&la);
	layout_release(&lb);
	return same;
}

int comments_agree(const struct doc *a, const struct doc *b, bool inline_as_above)
{
	uint8_t key[crypto_shorthash_KEYBYTES];
	int same = a->count == b->count;

	randombytes_buf(key, sizeof(key));
	for (size_t i = 0; i < a->count && same > 0; i++)
		same = level_agrees(a->branches[i], b->branches[i], a->format, key, inline_as_above, 0);
	return same;
}
