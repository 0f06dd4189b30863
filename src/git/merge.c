/* The merge driver (%O %A %B %P): the three versions are decrypted and
 * merged as trees, the result sealed for the file's keys.
 *
 * The tree merge is three-way at every depth of maps, in every store: a
 * key takes the side that changed it; both sides changing it the same way
 * is no conflict; lists and scalars are atoms. When no key conflicts, a
 * line merge of the plaintexts is tried first and kept if it holds the
 * same data (it also carries both sides' comments and layout); otherwise
 * the tree result is written in ours' layout.
 *
 * A conflict is sealed as well: git stores the driver's output as a blob
 * (and in the AUTO_MERGE tree), which must not hold plaintext. The smudge
 * filter shows the markers in the work tree; rerere does not record them
 * (see GITFILTER_RERERE_MARKER_SIZE). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"
#include "gitfilter_int.h"
#include "merge_comments.h"

enum { MERGE_MAX_FILE = 256 * 1024 * 1024, MERGE_WHERE_MAX = 5 };

/* The largest version the driver reads: MERGE_MAX_FILE, or in the test
 * build GITSEAL_TEST_MERGE_MAX_FILE=N bytes (tests/git/merge.bats). */
static size_t merge_max_file(void)
{
#ifdef GITSEAL_TEST_HOOKS
	const char *v = getenv("GITSEAL_TEST_MERGE_MAX_FILE");

	if (v && *v)
		return (size_t)strtoul(v, NULL, 10);
#endif
	return MERGE_MAX_FILE;
}

/* The recorded error under another code, its message kept. */
static int recode_error(int code)
{
	char *msg = gs_strdup(gs_error_message());

	if (!msg)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	gs_error_set(code, "%s", msg);
	free(msg);
	return code;
}

/* ---- comparing as data: comments and removed entries do not count ---- */

static bool is_item(const struct doc_entry *e)
{
	return !e->removed && e->value && e->value->kind != DOC_COMMENT;
}

static size_t item_count(const struct doc_node *n)
{
	size_t c = 0;

	for (size_t i = 0; i < n->count; i++)
		c += is_item(&n->entries[i]) && (n->kind == DOC_LIST || n->entries[i].key);
	return c;
}

#ifdef GITSEAL_TEST_HOOKS
/* entries compared with a key looked up, for GITSEAL_TEST_MERGE_LOOKUP_LOG
 * (gitfilter_merge): a count, not a time, tells a linear lookup from a
 * quadratic one (tests/git/merge.bats) */
static unsigned long long entries_compared;
#endif

static bool entry_is(const struct doc_entry *e, const char *key, size_t klen, bool removed_too)
{
#ifdef GITSEAL_TEST_HOOKS
	entries_compared++;
#endif
	return e->key && (removed_too || !e->removed) && e->key_len == klen && !memcmp(e->key, key, klen);
}

/* The index of key among map's first n entries (a removed one too when
 * removed_too), SIZE_MAX when none; looked for from index near outwards.
 * The versions of a file hold most keys at about the same index, so each
 * caller passes where the key should be (after the last key it found): a
 * map of many keys searched from its start each time made a merge
 * quadratic (20,000 keys: 9 s of CPU). A key is in a map once at most
 * (refuse_duplicate_keys), so the nearest match is the only one. */
static size_t find_entry(const struct doc_node *map, const char *key, size_t near, size_t n, bool removed_too)
{
	size_t klen = strlen(key);

	if (near > n)
		near = n;
	for (size_t d = 0; near + d < n || d <= near; d++) {
		if (near + d < n && entry_is(&map->entries[near + d], key, klen, removed_too))
			return near + d;
		if (d && d <= near && entry_is(&map->entries[near - d], key, klen, removed_too))
			return near - d;
	}
	return SIZE_MAX;
}

/* Where key is among map's entries (its index), SIZE_MAX when map lacks
 * it; looked for from index near (find_entry). */
static size_t key_index(const struct doc_node *map, const char *key, size_t near)
{
	return map && map->kind == DOC_MAP ? find_entry(map, key, near, map->count, false) : SIZE_MAX;
}

static struct doc_node *map_get(const struct doc_node *map, const char *key, size_t near)
{
	size_t at = key_index(map, key, near);

	return at == SIZE_MAX ? NULL : map->entries[at].value;
}

/* A tag is data (doc_equal compares it): `d: !!omap` is not `d:`. */
static bool tags_equal(const char *a, const char *b)
{
	return !a == !b && (!a || !strcmp(a, b));
}

static bool same_tag(const struct doc_node *a, const struct doc_node *b)
{
	return tags_equal(a->tag, b->tag);
}

/* Whether the keys maps a and b both hold come in the same order in both. */
static bool order_kept(const struct doc_node *a, const struct doc_node *b)
{
	size_t last = 0;
	bool first = true;

	for (size_t i = 0; i < a->count; i++) {
		const struct doc_entry *e = &a->entries[i];
		size_t at;

		if (!is_item(e) || !e->key || (at = key_index(b, e->key, first ? i : last + 1)) == SIZE_MAX)
			continue;
		if (!first && at < last)
			return false;
		first = false;
		last = at;
	}
	return true;
}

/* Whether a and b hold the same data; ordered: the order of keys counts. */
static bool data_same(const struct doc_node *a, const struct doc_node *b, bool ordered)
{
	size_t i, j;

	if (!a || !b)
		return a == b;
	if (a->kind != b->kind || !same_tag(a, b))
		return false;
	switch (a->kind) {
	case DOC_SCALAR:
	case DOC_COMMENT:
		return a->type == b->type && a->len == b->len &&
		       (!a->len || !sodium_memcmp(a->text, b->text, a->len));
	case DOC_MAP:
		if (item_count(a) != item_count(b))
			return false;
		for (i = 0, j = 0; i < a->count; i++) {
			const struct doc_entry *e = &a->entries[i];
			size_t at = is_item(e) && e->key ? key_index(b, e->key, j) : SIZE_MAX;

			if (is_item(e) && e->key && (at == SIZE_MAX || !data_same(e->value, b->entries[at].value, ordered)))
				return false;
			j = at == SIZE_MAX ? j : at + 1;
		}
		return !ordered || order_kept(a, b);
	case DOC_LIST:
		if (item_count(a) != item_count(b))
			return false;
		for (i = 0, j = 0; i < a->count; i++) {
			if (!is_item(&a->entries[i]))
				continue;
			while (!is_item(&b->entries[j]))
				j++;
			if (!data_same(a->entries[i].value, b->entries[j].value, ordered))
				return false;
			j++;
		}
		return true;
	}
	return false;
}

/* The same data, the order of keys included (doc_equal counts it). */
static bool node_same(const struct doc_node *a, const struct doc_node *b)
{
	return data_same(a, b, true);
}

/* Whether a side that removed what base held drops no edit of the other
 * side's: one that only moved keys (none of them is kept) */
static bool removal_drops_nothing(const struct doc_node *base, const struct doc_node *other)
{
	return data_same(base, other, false);
}

static bool docs_same(const struct doc *a, const struct doc *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (!node_same(a->branches[i], b->branches[i]))
			return false;
	return true;
}

/* removal_drops_nothing for a file theirs emptied */
static bool docs_removal_drops_nothing(const struct doc *b, const struct doc *o)
{
	if (b->count != o->count)
		return false;
	for (size_t i = 0; i < b->count; i++)
		if (!removal_drops_nothing(b->branches[i], o->branches[i]))
			return false;
	return true;
}

/* ---- the tree merge: ours is changed in place ---- */

struct tree_merge {
	struct doc *d;          /* ours */
	int pick;               /* the side a conflicting key takes */
	size_t conflicts;
	struct gs_buf where;    /* the first conflicting key paths (names, never values) */
	struct gs_buf path;     /* of the map being merged */
};

static void note_conflict(struct tree_merge *tm, const char *key)
{
	tm->conflicts++;
	if (tm->conflicts > MERGE_WHERE_MAX)
		return;
	if (gs_buf_printf(&tm->where, "%s%s%s%s", tm->where.len ? ", " : "", (const char *)tm->path.data,
			  tm->path.len && key ? "." : "", key ? key : "") < 0)
		gs_error_clear(); /* the message loses a name, the merge nothing */
}

/* A conflict over a property of the map at the path (and key): what
 * and the map's name ("the tag of" m); top ("the document's tag") for a
 * document's own map. */
static void note_conflict_of(struct tree_merge *tm, const char *what, const char *top, const char *key)
{
	bool named = tm->path.len || key;

	tm->conflicts++;
	if (tm->conflicts > MERGE_WHERE_MAX)
		return;
	if (gs_buf_printf(&tm->where, "%s%s%s%s%s%s", tm->where.len ? ", " : "", named ? what : top,
			  named ? " " : "", (const char *)tm->path.data, tm->path.len && key ? "." : "",
			  key ? key : "") < 0)
		gs_error_clear();
}

/* A place whose comments conflict (merge_comments.c names it). */
static void note_comment_conflict(void *ctx, const char *place)
{
	struct tree_merge *tm = ctx;

	tm->conflicts++;
	if (tm->conflicts > MERGE_WHERE_MAX)
		return;
	if (gs_buf_printf(&tm->where, "%s%s", tm->where.len ? ", " : "", place) < 0)
		gs_error_clear();
}

/* Whether dst can be made to hold src's data in place: the same kinds
 * (maps and lists may gain and lose entries). */
static bool shapes_match(const struct doc_node *dst, const struct doc_node *src)
{
	size_t i, j;

	if (dst->kind != src->kind)
		return false;
	if (dst->kind == DOC_MAP) {
		for (i = 0, j = 0; i < src->count; i++) {
			const struct doc_entry *e = &src->entries[i];
			size_t at = is_item(e) && e->key ? key_index(dst, e->key, j) : SIZE_MAX;

			if (at != SIZE_MAX && !shapes_match(dst->entries[at].value, e->value))
				return false;
			j = at == SIZE_MAX ? j : at + 1;
		}
		return true;
	}
	if (dst->kind != DOC_LIST)
		return true;
	for (i = 0, j = 0; i < dst->count; i++) {
		if (!is_item(&dst->entries[i]))
			continue;
		while (j < src->count && !is_item(&src->entries[j]))
			j++;
		if (j == src->count)
			break;
		if (!shapes_match(dst->entries[i].value, src->entries[j++].value))
			return false;
	}
	return true;
}

struct entry_rank {
	size_t rank, at;
};

static int compare_ranks(const void *a, const void *b)
{
	const struct entry_rank *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* The entry of map that entry i goes with when keys move: a key itself, a
 * comment at the end of a line its line's entry, other comments (and
 * removed entries) the next key; SIZE_MAX for those after the last key. */
static size_t entry_owner(const struct doc_node *map, size_t i)
{
	const struct doc_entry *e = &map->entries[i];

	if (is_item(e) && e->key)
		return i;
	if (i && !e->key && !e->removed && e->value && e->value->kind == DOC_COMMENT && e->value->inline_comment)
		return entry_owner(map, i - 1);
	for (size_t j = i + 1; j < map->count; j++)
		if (is_item(&map->entries[j]) && map->entries[j].key)
			return j;
	return SIZE_MAX;
}

/* Puts map's keys in ref's order; a key ref lacks stays after the key it
 * followed (first when none), comments go with their keys. */
static int reorder_like(struct doc_node *map, const struct doc_node *ref)
{
	size_t n = map->count, prev = 0;
	struct entry_rank *r;
	struct doc_entry *e;
	int ret = 0;

	if (n < 2)
		return 0;
	r = gs_calloc(n, sizeof(*r));
	e = gs_calloc(n, sizeof(*e));
	if (!r || !e) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* keys first: ref's position + 1, else their predecessor's rank */
	for (size_t i = 0; i < n; i++) {
		size_t at;

		r[i].at = i;
		if (!is_item(&map->entries[i]) || !map->entries[i].key)
			continue;
		at = key_index(ref, map->entries[i].key, prev);
		r[i].rank = prev = at == SIZE_MAX ? prev : at + 1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t o = entry_owner(map, i);

		if (o != i)
			r[i].rank = o == SIZE_MAX ? SIZE_MAX : r[o].rank;
	}
	qsort(r, n, sizeof(*r), compare_ranks);
	for (size_t i = 0; i < n; i++)
		e[i] = map->entries[r[i].at];
	memcpy(map->entries, e, n * sizeof(*e));
out:
	free(r);
	free(e);
	return ret;
}

static int assign_entry(struct doc *d, struct doc_node *map, const char *key, const struct doc_node *src,
			size_t near);

/* Makes dst hold src's data, changing only what differs, so that ours'
 * text keeps its layout (shapes_match(dst, src) holds). */
static int assign(struct doc *d, struct doc_node *dst, const struct doc_node *src)
{
	size_t i, j, n = dst->count;
	int ret = 0;

	if (node_same(dst, src))
		return 0;
	if (!same_tag(dst, src) && dst->kind != DOC_SCALAR && (ret = doc_node_set_tag(d, dst, src->tag)))
		return ret;
	switch (dst->kind) {
	case DOC_SCALAR:
		/* doc_scalar_set drops the tag: src's is put back */
		if ((ret = doc_scalar_set(d, dst, src->type, src->text, src->len)))
			return ret;
		return src->tag ? doc_node_set_tag(d, dst, src->tag) : 0;
	case DOC_MAP:
		for (i = 0, j = 0; i < n && !ret; i++) {
			size_t at;

			if (!is_item(&dst->entries[i]) || !dst->entries[i].key)
				continue;
			if ((at = key_index(src, dst->entries[i].key, j)) == SIZE_MAX)
				dst->entries[i].removed = true;
			else
				j = at + 1;
		}
		for (i = 0; i < src->count && !ret; i++)
			if (is_item(&src->entries[i]) && src->entries[i].key)
				ret = assign_entry(d, dst, src->entries[i].key, src->entries[i].value, i);
		return ret || order_kept(dst, src) ? ret : reorder_like(dst, src);
	case DOC_LIST:
		/* item by item; items past the end of src go, src's extra ones
		 * are appended */
		for (i = 0, j = 0; i < n && !ret; i++) {
			if (!is_item(&dst->entries[i]))
				continue;
			while (j < src->count && !is_item(&src->entries[j]))
				j++;
			if (j == src->count)
				dst->entries[i].removed = true;
			else
				ret = assign(d, dst->entries[i].value, src->entries[j++].value);
		}
		for (; j < src->count && !ret; j++) {
			struct doc_node *c;

			if (!is_item(&src->entries[j]))
				continue;
			if (!(c = doc_clone(d, src->entries[j].value)) || !doc_append(d, dst, NULL, 0, c))
				ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		}
		return ret;
	case DOC_COMMENT:
		break;
	}
	return 0;
}

/* Makes ours' entry for key hold src (NULL: remove it); the entry looked
 * for from index near. */
static int assign_entry(struct doc *d, struct doc_node *map, const char *key, const struct doc_node *src,
			size_t near)
{
	size_t at = key_index(map, key, near);
	struct doc_entry *e = at == SIZE_MAX ? NULL : &map->entries[at];
	struct doc_node *n;

	if (!src) {
		if (e)
			e->removed = true;
		return 0;
	}
	if (e && shapes_match(e->value, src))
		return assign(d, e->value, src);
	if (!(n = doc_clone(d, src)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (e) {
		e->value = n;
		return 0;
	}
	return doc_append(d, map, key, strlen(key), n) ? 0 : GS_FAIL(GS_ERR_NOMEM, "out of memory");
}

/* i past the end-of-line comments of the key before it (INI stores them
 * after the key) */
static size_t past_inline_comments(const struct doc *d, const struct doc_node *ours, size_t i)
{
	while (d->format == DOC_FORMAT_INI && i < ours->count && !ours->entries[i].key && ours->entries[i].value &&
	       ours->entries[i].value->kind == DOC_COMMENT && ours->entries[i].value->inline_comment)
		i++;
	return i;
}

/* Keys the two sides added at one place (after the same key) stand in the
 * byte order of their names, whichever side is ours: git merges a
 * criss-cross history's merge bases in the order of their dates, and
 * their merge, the base of the real one, must not depend on it. From i:
 * past ours' keys that ref lacks and whose names sort before key, with the
 * comments above them. */
static size_t past_added_before(const struct doc *d, const struct doc_node *ours, const struct doc_node *ref,
				const char *key, size_t i)
{
	for (size_t j = i; j < ours->count; j++) {
		const struct doc_entry *e = &ours->entries[j];

		if (!is_item(e) || !e->key)
			continue;
		if (key_index(ref, e->key, j) != SIZE_MAX || strcmp(e->key, key) >= 0)
			break;
		i = past_inline_comments(d, ours, j + 1);
		j = i - 1;
	}
	return i;
}

/* Where in ours' map a key from ref stands: after the key it follows in
 * ref (the nearest one before it that ours holds) and that key's
 * end-of-line comment, else first; then past_added_before. */
static size_t place_after_predecessor(const struct doc *d, const struct doc_node *ours, const struct doc_node *ref,
				      const char *key)
{
	size_t at = key_index(ref, key, 0);

	while (at != SIZE_MAX && at-- > 0) {
		const struct doc_entry *r = &ref->entries[at];
		size_t in_ours = is_item(r) && r->key ? key_index(ours, r->key, at) : SIZE_MAX;

		if (in_ours != SIZE_MAX)
			return past_added_before(d, ours, ref, key, past_inline_comments(d, ours, in_ours + 1));
	}
	return past_added_before(d, ours, ref, key, 0);
}

/* A key ours lacks, added by theirs or brought back by a conflict's side
 * that takes ref's value src: where it stood in ref, not at the end of the
 * map (so that the merge's order does not depend on which side is ours:
 * git merges criss-cross bases either way round). */
static int bring_back(struct doc *d, struct doc_node *ours, const char *key, const struct doc_node *src,
		      const struct doc_node *ref)
{
	size_t at = place_after_predecessor(d, ours, ref, key);
	struct doc_node *n = doc_clone(d, src);
	struct doc_entry e;

	if (!n || !doc_append(d, ours, key, strlen(key), n))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	e = ours->entries[ours->count - 1];
	memmove(&ours->entries[at + 1], &ours->entries[at], (ours->count - 1 - at) * sizeof(e));
	ours->entries[at] = e;
	return 0;
}

static int merge_map(struct tree_merge *tm, struct doc_node *ours, const struct doc_node *base,
		     const struct doc_node *theirs);

/* merge_map under key, with key appended to the path conflicts are named by */
static int merge_nested_map(struct tree_merge *tm, struct doc_node *o, const struct doc_node *b,
			    const struct doc_node *t, const char *key)
{
	size_t mark = tm->path.len;
	int ret;

	if ((ret = gs_buf_printf(&tm->path, "%s%s", mark ? "." : "", key)))
		goto out;
	ret = merge_map(tm, o, b, t);
out:
	tm->path.len = mark;
	tm->path.data[mark] = '\0';
	return ret;
}

/* The tag of a map ours and theirs both hold (base b may have none): the
 * side that changed it wins, both changing it differently conflict. */
static int merge_tag(struct tree_merge *tm, struct doc_node *o, const struct doc_node *b,
		     const struct doc_node *t, const char *key)
{
	const char *bt = b ? b->tag : NULL, *pick = t->tag;

	if (same_tag(o, t) || tags_equal(bt, t->tag))
		return 0;
	if (!tags_equal(bt, o->tag)) {
		note_conflict_of(tm, "the tag of", "the document's tag", key);
		if (tm->pick == MERGE_PICK_OURS)
			return 0;
		if (tm->pick == MERGE_PICK_BASE)
			pick = bt;
	}
	return doc_node_set_tag(tm->d, o, pick);
}

/* The merge of key, which stands at about index near in each version
 * (key_index). */
static int merge_key(struct tree_merge *tm, struct doc_node *ours, const struct doc_node *base,
		     const struct doc_node *theirs, const char *key, size_t near)
{
	const struct doc_node *b = map_get(base, key, near), *t = map_get(theirs, key, near);
	struct doc_node *o = map_get(ours, key, near);

	/* ours removed what theirs only reordered: ours' removal */
	if (node_same(o, t) || node_same(b, t) || (!o && removal_drops_nothing(b, t)))
		return 0;
	/* maps on both sides merge key by key, even when one side kept its
	 * map: its changes then land in ours' text in place */
	if (o && t && o->kind == DOC_MAP && t->kind == DOC_MAP && (!b || b->kind == DOC_MAP)) {
		int ret = merge_tag(tm, o, b, t, key);

		return ret ? ret : merge_nested_map(tm, o, b, t, key);
	}
	if (node_same(b, o) || (!t && removal_drops_nothing(b, o)))
		return o || !t ? assign_entry(tm->d, ours, key, t, near) : bring_back(tm->d, ours, key, t, theirs);
	note_conflict(tm, key);
	if (tm->pick == MERGE_PICK_THEIRS)
		return o || !t ? assign_entry(tm->d, ours, key, t, near) : bring_back(tm->d, ours, key, t, theirs);
	if (tm->pick == MERGE_PICK_BASE)
		return o || !b ? assign_entry(tm->d, ours, key, b, near) : bring_back(tm->d, ours, key, b, base);
	return 0;
}

/* Whether ours held key before the merge: among its first n entries,
 * removed ones too (a conflict that takes the base's side removes a key
 * both sides added; theirs must not bring it back as its own); looked for
 * from index near (find_entry). */
static bool had_key(const struct doc_node *ours, size_t n, const char *key, size_t near)
{
	return find_entry(ours, key, near, n, true) != SIZE_MAX;
}

/* The key of the entry that marks a map of a criss-cross merge's virtual
 * base whose merge bases ordered its keys differently (keep_agreed): its
 * order equals neither side's. The entry is a removed one, which no
 * lookup or comparison of data sees. */
static const char order_unknown_key[] = "gitseal-unknown-order";

static bool order_unknown(const struct doc_node *map)
{
	size_t n = sizeof(order_unknown_key) - 1;

	for (size_t i = 0; i < map->count; i++) {
		const struct doc_entry *e = &map->entries[i];

		if (e->removed && e->key && e->key_len == n && !memcmp(e->key, order_unknown_key, n))
			return true;
	}
	return false;
}

static int merge_map(struct tree_merge *tm, struct doc_node *ours, const struct doc_node *base,
		     const struct doc_node *theirs)
{
	size_t n = ours->count;
	/* the order of keys: base's while neither side changed the order of
	 * the keys it kept, else the side that did, else (both did,
	 * differently) a conflict at this map; an unknown order was changed
	 * by both */
	bool unknown = base && order_unknown(base);
	bool ours_moved = base && (unknown || !order_kept(base, ours));
	bool theirs_moved = base && theirs && (unknown || !order_kept(base, theirs));
	bool orders_differ = ours_moved && theirs_moved && !order_kept(ours, theirs);
	int ret = 0;

	/* keys of ours first (in its order), then keys only theirs has; the
	 * entries array may grow while it is walked: index, never pointers */
	for (size_t i = 0; i < n && !ret; i++) {
		if (!ours->entries[i].key || ours->entries[i].removed)
			continue;
		ret = merge_key(tm, ours, base, theirs, ours->entries[i].key, i);
	}
	for (size_t i = 0; theirs && i < theirs->count && !ret; i++) {
		const struct doc_entry *e = &theirs->entries[i];

		if (!e->key || e->removed || had_key(ours, n, e->key, i))
			continue;
		ret = merge_key(tm, ours, base, theirs, e->key, i);
	}
	/* a key ours and theirs both removed, or only ours removed while theirs
	 * kept it unchanged, needs nothing; one theirs removed is seen above */
	if (ret || !theirs_moved)
		return ret;
	if (!ours_moved)
		return reorder_like(ours, theirs);
	if (!orders_differ)
		return 0;
	note_conflict_of(tm, "the order of keys in", "the order of the top-level keys", NULL);
	if (tm->pick == MERGE_PICK_OURS)
		return 0;
	return reorder_like(ours, tm->pick == MERGE_PICK_THEIRS ? theirs : base);
}

/* A whole document (or file) as one atom. */
static int merge_atom(struct tree_merge *tm, struct doc_node **ours, const struct doc_node *base,
		      const struct doc_node *theirs)
{
	const struct doc_node *pick;

	if (node_same(*ours, theirs) || node_same(base, theirs) || (!*ours && removal_drops_nothing(base, theirs)))
		return 0;
	if (!node_same(base, *ours) && (theirs || !removal_drops_nothing(base, *ours))) {
		note_conflict(tm, NULL);
		if (tm->pick == MERGE_PICK_OURS)
			return 0;
		pick = tm->pick == MERGE_PICK_THEIRS ? theirs : base;
	} else {
		pick = theirs;
	}
	*ours = pick ? doc_clone(tm->d, pick) : NULL;
	return !pick || *ours ? 0 : GS_FAIL(GS_ERR_NOMEM, "out of memory");
}

/* Whether versions that hold different numbers of documents take ours'
 * documents (merge_doc_sets): also when ours emptied the file and theirs
 * only moved keys (a removal drops no edit of theirs). */
static bool doc_sets_keep_ours(const struct doc *o, const struct doc *b, const struct doc *t)
{
	return docs_same(o, t) || docs_same(b, t) || (o->count == 0 && docs_removal_drops_nothing(b, t));
}

/* Versions that hold different numbers of documents (one added or
 * removed, a file emptied): the documents as one atom, taken from the
 * side that changed them as data. An empty base is no document. */
static int merge_doc_sets(struct doc *o, const struct doc *b, const struct doc *t)
{
	if (doc_sets_keep_ours(o, b, t))
		return 0;
	if (!docs_same(b, o) && !(t->count == 0 && docs_removal_drops_nothing(b, o)))
		return GS_FAIL(GS_ERR_CONFLICT, "the versions hold different numbers of documents");
	o->count = 0;
	for (size_t i = 0; i < t->count; i++) {
		struct doc_node *c = doc_clone(o, t->branches[i]);
		int ret = c ? doc_add_branch(o, c) : GS_FAIL(GS_ERR_NOMEM, "out of memory");

		if (ret)
			return ret;
	}
	return 0;
}

static int merge_docs(struct tree_merge *tm, struct doc *o, const struct doc *b, const struct doc *t)
{
	int ret = 0;

	if (o->count != t->count || (b->count && b->count != o->count))
		return merge_doc_sets(o, b, t);
	for (size_t i = 0; i < o->count && !ret; i++) {
		struct doc_node *on = o->branches[i];
		const struct doc_node *bn = b->count ? b->branches[i] : NULL, *tn = t->branches[i];

		if (on && tn && on->kind == DOC_MAP && tn->kind == DOC_MAP && (!bn || bn->kind == DOC_MAP)) {
			if (!(ret = merge_tag(tm, on, bn, tn, NULL)))
				ret = merge_map(tm, on, bn, tn);
		} else {
			ret = merge_atom(tm, &o->branches[i], bn, tn);
		}
	}
	return ret;
}

static int compare_keys(const void *a, const void *b)
{
	const struct doc_entry *x = *(const struct doc_entry *const *)a, *y = *(const struct doc_entry *const *)b;
	int c = memcmp(x->key, y->key, x->key_len < y->key_len ? x->key_len : y->key_len);

	return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Whether a map at any depth holds a key twice (a dotenv file may) or a
 * key with a NUL byte: the merge finds a key's first entry only, by its
 * text up to a NUL, so a change to another would be lost or land on the
 * wrong key. *dup is set; the return value is an allocation failure. */
static int find_duplicate_key(const struct doc_node *n, bool *dup)
{
	const struct doc_entry **keys = NULL;
	size_t count = 0;
	int ret = 0;

	if (!n || (n->kind != DOC_MAP && n->kind != DOC_LIST))
		return 0;
	if (n->kind == DOC_MAP && n->count > 1 && !(keys = gs_malloc(n->count * sizeof(*keys))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n->count && !ret && !*dup; i++) {
		if (is_item(&n->entries[i]) && n->entries[i].key &&
		    memchr(n->entries[i].key, 0, n->entries[i].key_len))
			*dup = true;
		if (keys && is_item(&n->entries[i]) && n->entries[i].key)
			keys[count++] = &n->entries[i];
		if (is_item(&n->entries[i]))
			ret = find_duplicate_key(n->entries[i].value, dup);
	}
	if (keys && count > 1) {
		qsort(keys, count, sizeof(*keys), compare_keys);
		for (size_t i = 1; i < count && !*dup; i++)
			*dup = !compare_keys(&keys[i - 1], &keys[i]);
	}
	free(keys);
	return ret;
}

/* GS_ERR_CONFLICT when a version holds such a key (find_duplicate_key):
 * the file merges as lines over the whole text. */
static int refuse_duplicate_keys(const struct doc *d)
{
	bool dup = false;
	int ret = 0;

	for (size_t i = 0; i < d->count && !ret && !dup; i++)
		ret = find_duplicate_key(d->branches[i], &dup);
	return ret ? ret : dup ? GS_FAIL(GS_ERR_CONFLICT, "a key is given twice in one map, or holds a NUL byte") : 0;
}

static int load_plain(enum doc_format format, const struct gs_buf *text, struct doc *d)
{
	doc_init(d, format);
	return text->len ? store_load(format, text->data, text->len, d) : 0;
}

enum { MERGE_MAX_MATCHED_DOCS = 1000, NO_DOC = (size_t)-1 };

/* Which document of from each document of to is (the longest common
 * subsequence of equal documents): at[j] its index, or NO_DOC. */
static int match_documents(const struct doc *from, const struct doc *to, size_t *at)
{
	size_t n = from->count, m = to->count, *len;

	for (size_t j = 0; j < m; j++)
		at[j] = NO_DOC;
	if (n > MERGE_MAX_MATCHED_DOCS || m > MERGE_MAX_MATCHED_DOCS)
		return GS_FAIL(GS_ERR_CONFLICT, "the versions hold too many documents to match");
	if (!(len = gs_calloc((n + 1) * (m + 1), sizeof(*len))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = n; i-- > 0;)
		for (size_t j = m; j-- > 0;)
			len[i * (m + 1) + j] = node_same(from->branches[i], to->branches[j])
						       ? len[(i + 1) * (m + 1) + j + 1] + 1
						       : len[(i + 1) * (m + 1) + j] > len[i * (m + 1) + j + 1]
							       ? len[(i + 1) * (m + 1) + j]
							       : len[i * (m + 1) + j + 1];
	for (size_t i = 0, j = 0; i < n && j < m;) {
		if (node_same(from->branches[i], to->branches[j]))
			at[j++] = i++;
		else if (len[(i + 1) * (m + 1) + j] >= len[i * (m + 1) + j + 1])
			i++;
		else
			j++;
	}
	free(len);
	return 0;
}

/* Versions that hold different numbers of documents: out holds the
 * documents of the side merge_doc_sets kept, whose data the other side
 * either has too or left as in the base. Each document of out merges the
 * comments of the base's and the other side's document it is (matched as
 * data); a base document out does not keep keeps no comments, so one the
 * other side changed there conflicts. */
static int merge_doc_set_comments(struct comment_merge *cm, struct doc *out, const struct doc *b, const struct doc *o,
				  const struct doc *t)
{
	bool same = docs_same(o, t), keep_ours = same || doc_sets_keep_ours(o, b, t);
	const struct doc *kept = keep_ours ? o : t, *other = keep_ours ? t : o;
	size_t *at = gs_calloc(kept->count + 1, sizeof(*at));
	bool *used = gs_calloc(b->count + 1, sizeof(*used));
	int ret;

	if (!at || !used) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((ret = match_documents(b, kept, at)))
		goto out;
	for (size_t j = 0; j < kept->count && !ret; j++) {
		const struct doc_node *bn = at[j] == NO_DOC ? NULL : b->branches[at[j]];
		/* the other side's document: the same index when both hold the same
		 * documents, else the base's (its data is the base's) */
		const struct doc_node *on = same ? other->branches[j] : at[j] == NO_DOC ? NULL : other->branches[at[j]];

		if (at[j] != NO_DOC)
			used[at[j]] = true;
		ret = comment_merge_node(cm, out->branches[j], bn, keep_ours ? kept->branches[j] : on,
					 keep_ours ? on : kept->branches[j]);
	}
	for (size_t i = 0; i < b->count && !ret; i++) {
		const struct doc_node *on = same || used[i] ? NULL : other->branches[i];
		size_t j = 0;

		if (used[i])
			continue;
		/* its conflicting comments go to the kept document that stands
		 * where it stood (after the last one matched to a base document
		 * before it), else to the end of the last one */
		for (size_t k = 0; k < kept->count; k++)
			if (at[k] != NO_DOC && at[k] < i)
				j = k + 1;
		ret = comment_merge_gone(cm, out->count ? out->branches[j < out->count ? j : out->count - 1] : NULL,
					 j >= out->count, b->branches[i], keep_ours ? NULL : on, keep_ours ? on : NULL);
	}
out:
	free(at);
	free(used);
	return ret;
}

/* The comments of the versions merged into out (the data merge of o, b
 * and t), each conflicting place taking the side tm->pick names
 * (merge_comments.c). */
static int merge_comments(struct tree_merge *tm, struct doc *out, const struct doc *b, const struct doc *o,
			  const struct doc *t)
{
	struct comment_merge cm;
	int ret = 0;

	comment_merge_init(&cm, out, tm->pick);
	cm.note = note_comment_conflict;
	cm.ctx = tm;
	if (o->count != t->count || (b->count && b->count != o->count))
		ret = merge_doc_set_comments(&cm, out, b, o, t);
	else
		for (size_t i = 0; i < o->count && !ret; i++)
			ret = comment_merge_node(&cm, out->branches[i], b->count ? b->branches[i] : NULL,
						 o->branches[i], t->branches[i]);
	sodium_memzero(cm.hash_key, sizeof(cm.hash_key));
	return ret;
}

/* ---- INI: the comments at the end of the file ----
 *
 * A comment after the last key of the last section (or under its header,
 * when it has none) is the end of the file: the reader gives a comment
 * above a header to that section, so no other section ends in one. The
 * comment merge places it so (as YAML and dotenv place a comment at the
 * end of the file after the keys the other side added there): for the
 * merge such comments are lifted out of the last section into the
 * document's map, after its sections, and put back at the end of the
 * merged file's last section. Else a section the other side added after
 * it would leave the comment at the end of a section another follows,
 * which the writer cannot write (it would read as the next section's: the
 * versions merged as lines). */

/* The last section of root, and where the comments on lines of their own
 * at its end start (*from): after its last key, or whatever else comes
 * last before them (a key's or the header's end-of-line comment, the
 * comments above the header, which stay with their item or the section's
 * top), else its first entry: in a section of comments alone they are the
 * end of the file too (merge.py seed 2, ini, case 27: ours' comment at the
 * end after a key was lifted, theirs' same comment under the header of
 * that section, with no key, was not; the two places merged as two
 * comments and the file held it twice). NULL when there is no section. */
static struct doc_node *last_section(const struct doc_node *root, size_t *from)
{
	for (size_t i = root->count; i-- > 0;) {
		const struct doc_entry *se = &root->entries[i];
		struct doc_node *sec = se->value;

		if (!is_item(se) || !se->key)
			continue;
		if (sec->kind != DOC_MAP)
			return NULL;
		*from = 0;
		for (size_t j = sec->count; j-- > 0;) {
			const struct doc_entry *e = &sec->entries[j];

			if (e->removed)
				continue;
			if (e->key || !e->value || e->value->kind != DOC_COMMENT || e->value->inline_comment ||
			    e->value->style) {
				*from = j + 1;
				break;
			}
		}
		return sec;
	}
	return NULL;
}

/* The comments at the end of each document's last section moved to the
 * end of its map (their entries in the section kept, removed). */
static int ini_lift_end_comments(struct doc *d)
{
	for (size_t b = 0; b < d->count; b++) {
		struct doc_node *root = d->branches[b], *sec;
		size_t from = 0;

		if (!root || root->kind != DOC_MAP || !(sec = last_section(root, &from)))
			continue;
		for (size_t j = from; j < sec->count; j++) {
			if (sec->entries[j].removed)
				continue;
			if (!doc_append(d, root, NULL, 0, sec->entries[j].value))
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			sec->entries[j].removed = true;
		}
	}
	return 0;
}

/* Whether the removed entry of sec that holds c (one lifted) has no key
 * after it: put back, it is at the end still. */
static struct doc_entry *lifted_at_end(struct doc_node *sec, const struct doc_node *c)
{
	for (size_t j = sec->count; j-- > 0;) {
		struct doc_entry *e = &sec->entries[j];

		if (e->removed && e->value == c)
			return e;
		if (!e->removed && is_item(e) && e->key)
			return NULL;
	}
	return NULL;
}

/* The comments the merge left in the map of each document put at the end
 * of its last section: those lifted from it back where they were (ours'
 * layout kept), others after them. */
static int ini_lower_end_comments(struct doc *d)
{
	for (size_t b = 0; b < d->count; b++) {
		struct doc_node *root = d->branches[b], *sec = NULL;
		bool appended = false;

		if (!root || root->kind != DOC_MAP)
			continue;
		for (size_t i = root->count; i-- > 0 && !sec;)
			if (is_item(&root->entries[i]) && root->entries[i].key && root->entries[i].value->kind == DOC_MAP)
				sec = root->entries[i].value;
		for (size_t i = 0; i < root->count && sec; i++) {
			struct doc_entry *e = &root->entries[i], *back;
			struct doc_node *c;

			if (e->removed || e->key || !e->value || e->value->kind != DOC_COMMENT)
				continue;
			if (!appended && (back = lifted_at_end(sec, e->value))) {
				back->removed = false;
			} else {
				appended = true;
				if (!(c = doc_clone(d, e->value)) || !doc_append(d, sec, NULL, 0, c))
					return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			}
			e->removed = true;
		}
	}
	return 0;
}

/* Gives the comments of a clone (doc_clone, which drops them) the styles
 * of its source's: above a section's header or not. */
static void copy_styles(struct doc_node *dst, const struct doc_node *src)
{
	if (dst->kind == DOC_COMMENT)
		dst->style = src->style;
	if (dst->kind != DOC_MAP && dst->kind != DOC_LIST)
		return;
	for (size_t i = 0, j = 0; i < src->count && j < dst->count; i++)
		if (!src->entries[i].removed)
			copy_styles(dst->entries[j++].value, src->entries[i].value);
}

/* The comment merge of INI versions, over the comments at the end of each
 * file lifted (a copy of the base's, which stays as it is). */
static int ini_merge_comments(struct tree_merge *tm, struct doc *out, const struct doc *b, struct doc *o,
			      struct doc *t)
{
	struct doc bl;
	int ret = 0;

	doc_init(&bl, b->format);
	for (size_t i = 0; i < b->count && !ret; i++) {
		struct doc_node *c = b->branches[i] ? doc_clone(&bl, b->branches[i]) : NULL;

		if (b->branches[i] && !c) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		} else {
			if (c)
				copy_styles(c, b->branches[i]);
			ret = doc_add_branch(&bl, c);
		}
	}
	if (ret || (ret = ini_lift_end_comments(&bl)) || (ret = ini_lift_end_comments(o)) ||
	    (ret = ini_lift_end_comments(t)) || (ret = merge_comments(tm, out, &bl, o, t)))
		goto out;
	ret = ini_lower_end_comments(out);
out:
	doc_release(&bl);
	return ret;
}

/* The indentation step of the merged YAML text where ours' sets none (no
 * nested map): theirs' or the base's, else a version's block scalars'; 0
 * (yaml.v3's 4) when no version shows one. A part written afresh then
 * looks like the file: a map theirs made of a flat file's key keeps
 * theirs' 2, not 4. */
static int merged_step(const struct doc *o, const struct doc *t, const struct doc *b)
{
	const struct doc *v[3] = { o, t, b };
	int step = 0;

	if (o->format != DOC_FORMAT_YAML)
		return 0;
	for (int i = 0; i < 3 && !step; i++)
		step = store_yaml_nested_step(v[i]);
	for (int i = 0; i < 3 && !step; i++)
		if (v[i]->source.len)
			step = store_yaml_flat_block_step(&v[i]->source);
	return step;
}

/* The merged tree as bytes, proven by loading them again; parts written
 * afresh in the file's step. */
static int emit_merged(struct doc *d, int step, struct gs_buf *out)
{
	struct sops_emit_opts eo = { .indent = step };

	d->keep_new_flow = true; /* theirs' flow lists stay flow lists */
	return sops_plain_emit(d, d->format, &eo, out);
}

/* Merges ours and theirs (plaintexts) over the base tree b; out gets
 * ours' document with the merge applied (released by the caller), *step
 * the step to write it in (merged_step). Each conflicting key or place of
 * comments takes the side pick names. */
static int tree_merge(enum doc_format format, const struct doc *b, const struct gs_buf *ours,
		      const struct gs_buf *theirs, int pick, struct doc *out, size_t *conflicts,
		      struct gs_buf *where, int *step)
{
	struct tree_merge tm = { .d = out, .pick = pick };
	struct doc o, t;
	int ret;

	gs_buf_init(&tm.where, false);
	gs_buf_init(&tm.path, false);
	doc_init(&o, format);
	doc_init(&t, format);
	if ((ret = load_plain(format, ours, out))) {
		gs_error_prefix("our version");
		goto out;
	}
	if ((ret = load_plain(format, theirs, &t))) {
		gs_error_prefix("their version");
		goto out;
	}
	if ((ret = refuse_duplicate_keys(out)) || (ret = refuse_duplicate_keys(b)) ||
	    (ret = refuse_duplicate_keys(&t)) || (ret = gs_buf_append_str(&tm.path, "")))
		goto out;
	/* ours as it was, for its comments: out is changed in place */
	if ((ret = load_plain(format, ours, &o)))
		goto out;
	if (format != DOC_FORMAT_INI) {
		if (!(ret = merge_docs(&tm, out, b, &t)))
			ret = merge_comments(&tm, out, b, &o, &t);
	} else if (!(ret = ini_lift_end_comments(out)) && !(ret = merge_docs(&tm, out, b, &t)))
		ret = ini_merge_comments(&tm, out, b, &o, &t);
	if (ret)
		goto out;
	*conflicts = tm.conflicts;
	*step = merged_step(&o, &t, b);
	if (ret || !where)
		goto out;
	ret = gs_buf_append(where, tm.where.data, tm.where.len);
out:
	doc_release(&o);
	doc_release(&t);
	gs_buf_release(&tm.where);
	gs_buf_release(&tm.path);
	return ret;
}

/* The tree merge's text, each conflict taking the side pick names. */
static int merge_text_over(enum doc_format format, const struct doc *b, const struct gs_buf *ours,
			   const struct gs_buf *theirs, int pick, struct gs_buf *out, size_t *conflicts)
{
	struct doc d;
	int ret, step = 0;

	doc_init(&d, format);
	if ((ret = tree_merge(format, b, ours, theirs, pick, &d, conflicts, NULL, &step)))
		goto out;
	ret = emit_merged(&d, step, out);
out:
	doc_release(&d);
	return ret;
}

int gitfilter_merge_text(enum doc_format format, const struct gs_buf *base, const struct gs_buf *ours,
			 const struct gs_buf *theirs, int pick, struct gs_buf *out, size_t *conflicts)
{
	struct doc b;
	int ret;

	if ((ret = load_plain(format, base, &b)))
		goto out;
	ret = merge_text_over(format, &b, ours, theirs, pick, out, conflicts);
out:
	doc_release(&b);
	return ret;
}

/* ---- line merges (libgit2's xdiff) ---- */

/* libgit2's xdiff fails a merge only when one of its allocations does
 * (the inputs are far below its size limit), and libgit2 1.5 reports that
 * as "failed to merge files", not as running out of memory. */
static int merge_file_fail(void)
{
	const git_error *e = git_error_last();

	if (e && e->klass == GIT_ERROR_MERGE && e->message && !strcmp(e->message, "failed to merge files"))
		return GS_FAIL(GS_ERR_NOMEM, "cannot merge the conflicting values: out of memory");
	return gitrepo_fail("cannot merge the conflicting values");
}

/* A line merge of three texts; *clean tells whether it needed no markers. */
static int line_merge(const struct gs_buf *base, const struct gs_buf *ours, const struct gs_buf *theirs,
		      const char *path, struct gs_buf *out, bool *clean)
{
	git_merge_file_input in_b, in_o, in_t;
	git_merge_file_options opts;
	git_merge_file_result res;
	int ret;

	memset(&res, 0, sizeof(res));
	git_merge_file_input_init(&in_b, GIT_MERGE_FILE_INPUT_VERSION);
	git_merge_file_input_init(&in_o, GIT_MERGE_FILE_INPUT_VERSION);
	git_merge_file_input_init(&in_t, GIT_MERGE_FILE_INPUT_VERSION);
	git_merge_file_options_init(&opts, GIT_MERGE_FILE_OPTIONS_VERSION);
	in_b.ptr = (const char *)base->data;
	in_b.size = base->len;
	in_b.path = path;
	in_o.ptr = (const char *)ours->data;
	in_o.size = ours->len;
	in_o.path = path;
	in_t.ptr = (const char *)theirs->data;
	in_t.size = theirs->len;
	in_t.path = path;
	opts.our_label = "ours";
	opts.their_label = "theirs";
	if (git_merge_file(&res, &in_b, &in_o, &in_t, &opts) < 0)
		return merge_file_fail();
	*clean = res.automergeable;
	/* a text with a NUL byte is binary to xdiff: no markers, no text;
	 * ours' text stays, as git keeps ours for a binary file */
	if (!res.automergeable && !res.len)
		ret = gs_buf_append(out, ours->data, ours->len);
	else
		ret = gs_buf_append(out, res.ptr, res.len);
	sodium_memzero((void *)res.ptr, res.len);
	git_merge_file_result_free(&res);
	return ret;
}

/* The tree result's text: a clean line merge when it holds the same data
 * and comments at the same places (it keeps both sides' layout), else
 * ours' layout. */
static int merged_text(enum doc_format format, struct doc *merged, int step, const struct gs_buf *pb,
		       const struct gs_buf *po, const struct gs_buf *pt, const char *path, struct gs_buf *out)
{
	struct gs_buf lines;
	struct doc d;
	bool clean = false;
	int ret;

	if (!merged->count)
		return 0; /* an empty file: git keeps it as it is, unsealed */
	gs_buf_init(&lines, true);
	doc_init(&d, format);
	if ((ret = line_merge(pb, po, pt, path, &lines, &clean)))
		goto out;
	if (clean && (ret = load_plain(format, &lines, &d)) == 0 && docs_same(&d, merged) &&
	    (ret = comments_agree(&d, merged, false)) > 0) {
		ret = gs_buf_append(out, lines.data, lines.len);
		goto out;
	}
	if (ret == GS_ERR_NOMEM)
		goto out;
	gs_error_clear(); /* a text that did not load only means: the tree's text */
	if ((ret = emit_merged(merged, step, out)))
		goto out;
	/* the proof compares comments by their order: each must also come back
	 * at its place (a new YAML end-of-line comment the writer cannot put at
	 * the end of its line lands above its key) */
	doc_release(&d);
	doc_init(&d, format);
	if (!(ret = load_plain(format, out, &d)))
		ret = comments_agree(&d, merged, format == DOC_FORMAT_YAML);
	if (ret == GS_ERR_NOMEM) {
		gs_buf_reset(out);
	} else if (ret <= 0) {
		gs_error_clear();
		gs_buf_reset(out);
		ret = GS_FAIL(GS_ERR_VERIFY, "the merged comments would not come back at their places");
	} else {
		ret = 0;
	}
out:
	doc_release(&d);
	gs_buf_release(&lines);
	return ret;
}

/* Whether a line of text opens a conflict (the driver's marker size). */
static bool has_marker_line(const struct gs_buf *text)
{
	const uint8_t *p = text->data, *end = p + text->len;

	while (p < end) {
		const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol + 1 - p) : (size_t)(end - p);

		if (gitseal_conflict_marker_line(p, n, '<'))
			return true;
		p += n;
	}
	return false;
}

static int conflict_side(const struct gs_buf *marked, int side, struct gs_buf *out);
static int whole_file_markers(const struct gs_buf *ours, const struct gs_buf *theirs, struct gs_buf *out);

/* Whether taking each side of marked gives back ours and theirs. */
static int sides_give_back(const struct gs_buf *marked, const struct gs_buf *ours, const struct gs_buf *theirs,
			   bool *same)
{
	const struct gs_buf *want[2] = { ours, theirs };
	struct gs_buf side;
	int ret = 0;

	*same = true;
	gs_buf_init(&side, true);
	for (int i = 0; i < 2 && !ret && *same; i++) {
		gs_buf_reset(&side);
		if (!(ret = conflict_side(marked, i, &side)))
			*same = side.len == want[i]->len && !sodium_memcmp(side.data, want[i]->data, side.len);
	}
	gs_buf_release(&side);
	return ret;
}

/* git-style markers around the conflicting values only: a line merge of
 * three tree merges that differ only where keys conflict. */
static int conflict_text(enum doc_format format, const struct doc *b, const struct gs_buf *pb,
			 const struct gs_buf *po, const struct gs_buf *pt, const char *path, struct gs_buf *out)
{
	static const int picks[] = { MERGE_PICK_BASE, MERGE_PICK_OURS, MERGE_PICK_THEIRS };
	struct gs_buf text[3];
	size_t ignored;
	bool clean = false, unwritten[3] = { false, false, false };
	int ret = 0;

	for (int i = 0; i < 3; i++)
		gs_buf_init(&text[i], true);
	for (int i = 0; i < 3 && !ret; i++) {
		ret = merge_text_over(format, b, po, pt, picks[i], &text[i], &ignored);
		/* a pick the store cannot write (a writer limit: theirs' comment
		 * above a section ours removed has no place in INI) */
		if (ret == GS_ERR_VERIFY || ret == GS_ERR_PARSE) {
			gs_error_clear();
			gs_buf_reset(&text[i]);
			unwritten[i] = true;
			ret = 0;
		}
	}
	if (!ret && (unwritten[0] || unwritten[1] || unwritten[2])) {
		/* a line merge of the versions would mix them within a hunk, and
		 * ours' half of it would drop theirs' change to a key next to the
		 * conflict (issue 12): each side's merge whole, or where that
		 * cannot be written, its version whole */
		ret = whole_file_markers(unwritten[1] ? po : &text[1], unwritten[2] ? pt : &text[2], out);
	} else if (ret && ret != GS_ERR_NOMEM) {
		/* the versions do not merge as trees: markers over the whole text */
		gs_error_clear();
		ret = line_merge(pb, po, pt, path, out, &clean);
	} else {
		bool same = true;

		ret = line_merge(&text[0], &text[1], &text[2], path, out, &clean);
		/* a side of the markers that is not its tree merge (keys both
		 * sides moved, differently: xdiff pairs one order's lines with the
		 * other's, and taking ours would give a key twice): the two
		 * merges whole between markers */
		if (!ret && !clean && has_marker_line(out) && !(ret = sides_give_back(out, &text[1], &text[2], &same)) &&
		    !same) {
			gs_buf_reset(out);
			ret = whole_file_markers(&text[1], &text[2], out);
		}
	}
	/* a conflict these texts do not show: where ours' and theirs' merges
	 * differ, the two whole (the base's pick may equal one of them: a
	 * criss-cross base whose order is unknown, keep_agreed); where they
	 * do not (a side emptied the file while the other changed a comment:
	 * all three are empty) or are binary, where the versions' own lines
	 * conflict. A text without markers would pass for a resolution, and
	 * `git add` would drop the other side's edit */
	if (!ret && clean && (text[1].len != text[2].len || sodium_memcmp(text[1].data, text[2].data, text[1].len))) {
		gs_buf_reset(out);
		ret = whole_file_markers(&text[1], &text[2], out);
	} else if (!ret && (clean || !has_marker_line(out))) {
		gs_buf_reset(&text[0]);
		if (!(ret = line_merge(pb, po, pt, path, &text[0], &clean)) && has_marker_line(&text[0])) {
			gs_buf_reset(out);
			ret = gs_buf_append(out, text[0].data, text[0].len);
		}
	}
	for (int i = 0; i < 3; i++)
		gs_buf_release(&text[i]);
	return ret;
}

/* ---- the three versions ---- */

struct version {
	struct gs_buf raw;       /* as git gave it */
	bool sealed;             /* a sops file */
	bool marked;             /* plain holds conflict markers (base_from_conflict) */
	bool has_tree;           /* tree is the base, made by base_from_conflict */
	struct doc cipher;       /* sealed: as loaded */
	struct sops_file *sf;    /* sealed and opened here: once, for its text, data key and reuse */
	struct doc tree;         /* the base as a tree */
	struct gs_buf plain;     /* plaintext bytes */
};

static void version_init(struct version *v, enum doc_format format)
{
	gs_buf_init(&v->raw, true); /* a version that is not a sops file is plaintext */
	gs_buf_init(&v->plain, true);
	doc_init(&v->cipher, format);
	doc_init(&v->tree, format);
	v->sealed = false;
	v->marked = false;
	v->has_tree = false;
	v->sf = NULL;
}

static void version_release(struct version *v)
{
	gs_buf_release(&v->raw);
	gs_buf_release(&v->plain);
	doc_release(&v->cipher);
	doc_release(&v->tree);
	sops_file_free(v->sf);
}

/* One side of a marked text (0: ours, 1: theirs): its lines outside the
 * markers and that side's within. */
static int conflict_side(const struct gs_buf *marked, int side, struct gs_buf *out)
{
	const uint8_t *p = marked->data, *end = p + marked->len;
	int in = -1; /* -1 outside, 0 ours, 1 theirs, 2 the base's section */
	int ret = 0;

	while (p < end && !ret) {
		const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol + 1 - p) : (size_t)(end - p);

		if (in < 0 && gitseal_conflict_marker_line(p, n, '<'))
			in = 0;
		else if (in >= 0 && gitseal_conflict_marker_line(p, n, '|'))
			in = 2;
		else if (in >= 0 && gitseal_conflict_marker_line(p, n, '='))
			in = 1;
		else if (in >= 0 && gitseal_conflict_marker_line(p, n, '>'))
			in = -1;
		else if (in < 0 || in == side)
			ret = gs_buf_append(out, p, n);
		p += n;
	}
	return ret;
}

/* A value no version holds: a fresh random text. */
static struct doc_node *unknown_value(struct doc *d)
{
	char text[16 + 2 * 24 + 1] = "gitseal-unknown-";
	uint8_t r[24];

	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(text + 16, sizeof(text) - 16, r, sizeof(r));
	return doc_new_scalar(d, DOC_STR, text, strlen(text));
}

/* A value that equals nothing where a map must stand (an INI section):
 * a map of one unknown value. */
static struct doc_node *unknown_map(struct doc *d)
{
	static const char key[] = "gitseal-unknown";
	struct doc_node *m = doc_new_map(d), *u = unknown_value(d);

	return m && u && doc_append(d, m, key, sizeof(key) - 1, u) ? m : NULL;
}

/* Makes map a hold what it and b agree on; every key where they differ
 * (a value, or a key one lacks) gets a value that equals nothing (a map
 * of one where a holds INI sections), and where they order the keys both
 * hold differently, a has order_unknown_key. */
static int keep_agreed(struct doc *d, struct doc_node *a, const struct doc_node *b, bool sections)
{
	size_t n = a->count;
	struct doc_node *u;
	struct doc_entry *mark;
	int ret = 0;

	if (!order_kept(a, b)) {
		if (!(u = unknown_value(d)) ||
		    !(mark = doc_append(d, a, order_unknown_key, sizeof(order_unknown_key) - 1, u)))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		mark->removed = true;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		struct doc_entry *e = &a->entries[i];
		const struct doc_node *bv = is_item(e) && e->key ? map_get(b, e->key, i) : NULL;

		if (!is_item(e) || !e->key || (bv && node_same(e->value, bv)))
			continue;
		if (bv && e->value->kind == DOC_MAP && bv->kind == DOC_MAP)
			ret = keep_agreed(d, e->value, bv, false);
		else if (!(e->value = sections ? unknown_map(d) : unknown_value(d)))
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < b->count && !ret; i++) {
		const struct doc_entry *e = &b->entries[i];

		if (!is_item(e) || !e->key || key_index(a, e->key, i) != SIZE_MAX)
			continue;
		if (!(u = sections ? unknown_map(d) : unknown_value(d)) || !doc_append(d, a, e->key, strlen(e->key), u))
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return ret;
}

/* Comments where the sides of a marked text (a, as text, and b) differ
 * become a comment no version holds, in tree (a's, changed). */
static int unknown_comments(enum doc_format format, const struct gs_buf *a, const struct doc *b, struct doc *tree)
{
	struct comment_merge cm;
	struct doc sides;
	int ret;

	doc_init(&sides, format);
	comment_merge_init(&cm, tree, MERGE_PICK_BASE);
	cm.unknown_where_differ = true;
	if ((ret = store_load(format, a->data, a->len, &sides)))
		goto out;
	for (size_t i = 0; i < b->count && !ret; i++)
		ret = comment_merge_node(&cm, tree->branches[i], NULL, sides.branches[i], b->branches[i]);
out:
	sodium_memzero(cm.hash_key, sizeof(cm.hash_key));
	doc_release(&sides);
	return ret;
}

/* The two sides of a marked text as one tree (into v->tree, their ours'
 * text into v->plain): what they agree on, and a value that equals
 * nothing where they differ. GS_ERR_CONFLICT when they are not two trees
 * of the same shape. */
static int agreed_tree(enum doc_format format, const struct gs_buf *marked, struct version *v)
{
	struct gs_buf other;
	struct doc b;
	int ret;

	gs_buf_init(&other, true);
	doc_init(&b, format);
	if ((ret = conflict_side(marked, 0, &v->plain)) || (ret = conflict_side(marked, 1, &other)))
		goto out;
	if (!v->plain.len || !other.len || store_load(format, v->plain.data, v->plain.len, &v->tree) ||
	    store_load(format, other.data, other.len, &b) || v->tree.count != b.count) {
		ret = GS_FAIL(GS_ERR_CONFLICT, "the merged bases are not two trees");
		goto out;
	}
	for (size_t i = 0; i < b.count && !ret; i++) {
		struct doc_node *an = v->tree.branches[i];
		const struct doc_node *bn = b.branches[i];

		if (node_same(an, bn))
			continue;
		if (an && bn && an->kind == DOC_MAP && bn->kind == DOC_MAP)
			ret = keep_agreed(&v->tree, an, bn, format == DOC_FORMAT_INI);
		else
			ret = GS_FAIL(GS_ERR_CONFLICT, "the merged bases are not two trees");
	}
	if (!ret)
		ret = unknown_comments(format, &v->plain, &b, &v->tree);
out:
	doc_release(&b);
	gs_buf_release(&other);
	return ret;
}

/* A base that holds a sealed conflict is git's virtual base of a
 * criss-cross merge: the merge of two merge bases, which conflicted. Both
 * sides of its markers are whole texts; where they agree the bases' merge
 * is known, and where they differ it is not: a value there equals none
 * of ours or theirs, so a change there conflicts unless both sides agree
 * (as git's line merge conflicts over the markers of a text file). Sides
 * that are not two trees (the bases' conflict was over the whole file):
 * v->marked, the versions merge as lines over the marked text. */
static int base_from_conflict(struct gitfilter *f, enum doc_format format, struct version *v)
{
	struct gs_buf marked;
	int ret;

	gs_buf_init(&marked, true);
	if ((ret = gitseal_conflict_open(f, v->raw.data, v->raw.len, &marked)))
		goto out;
	ret = agreed_tree(format, &marked, v);
	if (ret == GS_ERR_CONFLICT) {
		gs_error_clear();
		gs_buf_reset(&v->plain);
		doc_release(&v->tree);
		doc_init(&v->tree, format);
		v->marked = true;
		ret = gs_buf_append(&v->plain, marked.data, marked.len);
		goto out;
	}
	if (ret)
		goto out;
	v->has_tree = true;
out:
	gs_buf_release(&marked);
	return ret;
}

/* Opens a version read into v->raw. */
static int version_read(struct gitfilter *f, enum doc_format format, const char *name, struct version *v,
			bool is_base)
{
	int ret;

	if (is_base && gitseal_conflict_is(v->raw.data, v->raw.len)) {
		if ((ret = base_from_conflict(f, format, v)))
			gs_error_prefix("%s", name);
		return ret;
	}
	/* a side that holds a conflict (committed past the hook): its marked
	 * text, which merges as lines (gitfilter_merge) */
	if (gitseal_conflict_is(v->raw.data, v->raw.len)) {
		v->marked = true;
		if ((ret = gitseal_conflict_open(f, v->raw.data, v->raw.len, &v->plain)))
			gs_error_prefix("%s", name);
		return ret;
	}
	if ((ret = gitseal_load_sealed(format, v->raw.data, v->raw.len, &v->cipher)) < 0)
		return ret;
	v->sealed = ret == 1;
	if (!v->sealed)
		return gs_buf_append(&v->plain, v->raw.data, v->raw.len);
	ret = gitseal_open_with_text(f, &v->cipher, &v->sf, &v->plain);
	if (ret)
		gs_error_prefix("%s", name);
	return ret;
}

/* Whose keys the result takes (*use: 1 ours, 2 theirs, 0 when no version
 * is sealed, -1 when both changed them differently): a side that changed
 * them wins over one that did not (the metadata does not merge as values
 * do). k gets each sealed version's keys (the caller releases them). */
static int keys_side(struct version *v, struct sops_key_summary k[3], int *use)
{
	bool have[3];
	int ret = 0;

	memset(k, 0, 3 * sizeof(*k));
	for (int i = 0; i < 3 && !ret; i++) {
		have[i] = v[i].sealed;
		if (have[i])
			ret = sops_doc_keys(&v[i].cipher, &k[i]);
	}
	if (ret)
		return ret;
	if (have[1] && (!have[2] || (have[0] && gitseal_keys_equal(&k[0], &k[2])) ||
			gitseal_keys_equal(&k[1], &k[2])))
		*use = 1;
	else if (have[2] && (!have[1] || (have[0] && gitseal_keys_equal(&k[0], &k[1]))))
		*use = 2;
	else
		*use = have[1] ? -1 : 0;
	return 0;
}

/* The keys of the result (keys_side); both sides changing them is refused. */
static int result_keys(struct gitfilter *f, const char *path, struct version *v,
		       struct sops_key_summary *out)
{
	struct sops_key_summary k[3];
	int ret, use = 0;

	if ((ret = keys_side(v, k, &use)))
		goto out;
	if (use < 0) {
		ret = GS_FAIL(GS_ERR_CONFLICT, "the keys or the selection rule changed on both sides "
					       "(once resolved, run 'gitseal updatekeys %s')", path);
		goto out;
	}
	if (use == 0) {
		/* no side is sealed yet: a new file, the creation rules decide */
		ret = gitseal_new_file_keys(f, path, out);
		goto out;
	}
	*out = k[use];
	memset(&k[use], 0, sizeof(k[use]));
out:
	for (int i = 0; i < 3; i++)
		sops_key_summary_release(&k[i]);
	return ret;
}

bool gitfilter_conflict_takes_theirs(struct gitfilter *f, const char *path, const struct gs_buf *const blobs[3])
{
	enum doc_format format = store_format_for_path(path);
	struct sops_key_summary k[3];
	struct version v[3];
	int use = 0;

	for (int i = 0; i < 3; i++) {
		version_init(&v[i], format);
		v[i].sealed = blobs[i] && gitseal_load_sealed(format, blobs[i]->data, blobs[i]->len, &v[i].cipher) == 1;
	}
	/* keys this clone has not accepted are refused by the driver: the
	 * resolution then keeps HEAD's, as before the merge */
	if (keys_side(v, k, &use) || (use == 2 && gitseal_check_accepted(f, path, &k[2]))) {
		gs_error_clear();
		use = 0;
	}
	for (int i = 0; i < 3; i++) {
		sops_key_summary_release(&k[i]);
		version_release(&v[i]);
	}
	return use == 2;
}

/* The result under its keys' rule keeps in clear only what .sops.yaml's
 * rule does, or what a version (opened, so its MAC checked, and its MAC
 * over every value) holds in clear already. */
static int check_narrowed(struct gitfilter *f, const char *path, struct version *v, struct doc *plain,
			  const struct sops_key_summary *keys)
{
	struct doc *kept[3];
	size_t n = 0;
	int ret = 0;

	for (int i = 0; i < 3 && !ret; i++) {
		struct sops_key_summary k;

		if (!v[i].sealed || (ret = sops_doc_keys(&v[i].cipher, &k)))
			continue;
		if (!k.selection.mac_only_encrypted)
			kept[n++] = &v[i].cipher;
		sops_key_summary_release(&k);
	}
	return ret ? ret : gittrust_check_narrowed(f, path, plain, keys, kept, n);
}

/* The id of a version's data key; false when it did not open here. */
static bool data_key_id(const struct version *v, uint8_t id[GITSEAL_KEY_ID_SIZE])
{
	return v->sf && sops_file_key_id(v->sf, id);
}

/* The version whose data key (and ciphertexts) the result may keep, when
 * this clone made that key; NULL: a fresh key. A side that gave the file a
 * new data key (updatekeys --rotate) wins, as for its keys: keeping the
 * other side's key would undo the rotation for whoever read the old one. */
static struct sops_file *key_source(const struct version *v)
{
	uint8_t id[3][GITSEAL_KEY_ID_SIZE];
	bool have[3];

	for (int i = 0; i < 3; i++)
		have[i] = data_key_id(&v[i], id[i]);
	if (!have[1])
		return NULL;
	if (!have[2] || !sodium_memcmp(id[1], id[2], sizeof(id[1])) ||
	    (have[0] && !sodium_memcmp(id[2], id[0], sizeof(id[0]))))
		return v[1].sf; /* theirs kept the key (or has none) */
	if (have[0] && !sodium_memcmp(id[1], id[0], sizeof(id[0])))
		return v[2].sf; /* only theirs changed it */
	return NULL;
}

/* gitfilter_check_copied_key for a version that opened here. */
static int check_copied(struct gitfilter *f, const char *path, const struct version *v,
			const struct sops_key_summary *keys)
{
	uint8_t id[GITSEAL_KEY_ID_SIZE];

	return data_key_id(v, id) ? gitfilter_check_copied_key(f, path, id, keys) : 0;
}

static int seal_result(struct gitfilter *f, enum doc_format format, const char *path, struct version *v,
		       const struct gs_buf *text, struct gs_buf *out)
{
	struct sops_key_summary keys;
	struct doc plain;
	int ret;

	memset(&keys, 0, sizeof(keys)); /* result_keys may fail before it fills keys */
	doc_init(&plain, format);
	if ((ret = result_keys(f, path, v, &keys)) || (ret = gitseal_check_accepted(f, path, &keys)) ||
	    (ret = store_load(format, text->data, text->len, &plain)))
		goto out;
	/* a side's own rule is outside the MAC: none may leave a new value in
	 * clear. Both sides opened: they merge as lines, a conflict sealed whole */
	if ((ret = check_narrowed(f, path, v, &plain, &keys))) {
		if (ret == GS_ERR_CONFIG)
			ret = recode_error(GS_ERR_CONFLICT);
		goto out;
	}
	/* a version holding another file's key (a ciphertext copied) brings
	 * that file's values: none sealed for a reader that file lacks */
	for (int i = 0; i < 3 && !ret; i++)
		ret = check_copied(f, path, &v[i], &keys);
	/* a side's data key and ciphertexts when its keys are kept */
	if (!ret)
		ret = gitseal_seal_reusing(f, path, &plain, &keys, key_source(v), out);
out:
	doc_release(&plain);
	sops_key_summary_release(&keys);
	return ret;
}

/* rerere records a conflict it finds in the work tree, both sides in
 * clear, under .git/rr-cache, and its resolution at the commit. It looks
 * for markers of the path's conflict-marker-size: `gitseal git init` pins
 * 32, so that it finds none in the driver's markers of 7. A .gitattributes
 * line gitseal did not write (a teammate's, a pull request's) leaves git's
 * 7; rerere then takes a '<' or '>' line for a marker only when a label
 * follows it, so the driver writes its markers bare there. */
static bool rerere_reads_markers(struct gitfilter *f, const char *path)
{
	const char *size = NULL;

	if (git_attr_get(&size, f->repo, GIT_ATTR_CHECK_FILE_THEN_INDEX, path, "conflict-marker-size") < 0) {
		git_error_clear();
		return true;
	}
	/* git's reading: a number above 0, else its default */
	return git_attr_value(size) != GIT_ATTR_VALUE_STRING || atoi(size) <= 0 || atoi(size) == 7;
}

/* text with the labels of its '<' and '>' marker lines dropped */
static int unlabel_markers(struct gs_buf *text)
{
	struct gs_buf bare;
	int ret = 0;

	gs_buf_init(&bare, true);
	for (const uint8_t *p = text->data, *end = p + text->len; p < end && !ret;) {
		const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol + 1 - p) : (size_t)(end - p);

		if (gitseal_conflict_marker_line(p, n, '<') || gitseal_conflict_marker_line(p, n, '>'))
			ret = gs_buf_printf(&bare, "%.7s%s", (const char *)p, eol ? "\n" : "") < 0;
		else
			ret = gs_buf_append(&bare, p, n);
		p += n;
	}
	if (!ret) {
		gs_buf_reset(text);
		ret = gs_buf_append(text, bare.data, bare.len);
	}
	gs_buf_release(&bare);
	return ret ? GS_FAIL(GS_ERR_NOMEM, "out of memory") : 0;
}

static int seal_conflict(struct gitfilter *f, const char *path, struct version *v, const struct gs_buf *marked,
			 struct gs_buf *out)
{
	struct sops_key_summary keys;
	struct gs_buf bare;
	int ret;

	memset(&keys, 0, sizeof(keys)); /* result_keys may fail before it fills keys */
	gs_buf_init(&bare, true);
	/* for ours' keys: the file is sealed for them once resolved */
	if ((ret = result_keys(f, path, v, &keys)) == GS_ERR_CONFLICT) {
		gs_error_clear();
		ret = v[1].sealed ? sops_doc_keys(&v[1].cipher, &keys) : gitseal_new_file_keys(f, path, &keys);
	}
	if (ret || (ret = gitseal_check_accepted(f, path, &keys)))
		goto out;
	if (rerere_reads_markers(f, path)) {
		if ((ret = gs_buf_append(&bare, marked->data, marked->len) ? GS_FAIL(GS_ERR_NOMEM, "out of memory")
									    : unlabel_markers(&bare)))
			goto out;
		marked = &bare;
	}
	ret = gitseal_conflict_seal(f, path, &keys, marked, out);
out:
	gs_buf_release(&bare);
	sops_key_summary_release(&keys);
	return ret;
}

/* The three versions merged as trees: the result sealed, or the conflict
 * with markers around the conflicting values only. */
static int merge_as_trees(struct gitfilter *f, enum doc_format format, const char *path, struct version *v,
			  struct gs_buf *out, struct gitfilter_merge_result *res)
{
	struct gs_buf text;
	struct doc merged;
	size_t conflicts = 0;
	int ret, step = 0;

	gs_buf_init(&text, true);
	doc_init(&merged, format);
	if (!v[0].has_tree && (ret = load_plain(format, &v[0].plain, &v[0].tree))) {
		gs_error_prefix("the base version");
		goto out;
	}
	ret = tree_merge(format, &v[0].tree, &v[1].plain, &v[2].plain, MERGE_PICK_OURS, &merged, &conflicts,
			 &res->where, &step);
	if (format == DOC_FORMAT_BINARY && (ret == GS_ERR_CONFLICT || (!ret && conflicts))) {
		/* the binary store's one value is the file's text: where both
		 * sides changed it, its lines merge as git merges a text file
		 * (clean: each side's lines are in; a NUL byte never merges) */
		bool clean = false;

		gs_error_clear();
		if ((ret = line_merge(&v[0].plain, &v[1].plain, &v[2].plain, path, &text, &clean)))
			goto out;
		if (clean) {
			gs_buf_reset(&res->where);
			if (text.len) /* an empty result stays empty, unsealed */
				ret = seal_result(f, format, path, v, &text, out);
			goto out;
		}
		/* markers around the lines both changed, as git's (the text's
		 * tree merges are its versions whole) */
		if (has_marker_line(&text)) {
			res->conflict = true;
			ret = seal_conflict(f, path, v, &text, out);
			goto out;
		}
		gs_buf_reset(&text);
		conflicts = conflicts ? conflicts : 1;
		ret = 0;
	}
	if (ret == GS_ERR_CONFLICT || (!ret && conflicts)) {
		/* a whole-file conflict names no key */
		gs_error_clear();
		res->conflict = true;
		if ((ret = conflict_text(format, &v[0].tree, &v[0].plain, &v[1].plain, &v[2].plain, path, &text)))
			goto out;
		ret = seal_conflict(f, path, v, &text, out);
		goto out;
	}
	if (ret || (ret = merged_text(format, &merged, step, &v[0].plain, &v[1].plain, &v[2].plain, path, &text)))
		goto out;
	if (text.len) /* an empty result stays empty, unsealed */
		ret = seal_result(f, format, path, v, &text, out);
out:
	doc_release(&merged);
	gs_buf_release(&text);
	return ret;
}

/* Over a base that is no tree (it holds markers, base_from_conflict): a
 * line merge, as git merges text files; kept when it needs no markers and
 * loads, else the whole file conflicts. */
static int merge_over_marked(struct gitfilter *f, enum doc_format format, const char *path, struct version *v,
			     struct gs_buf *out, struct gitfilter_merge_result *res)
{
	struct gs_buf text;
	struct doc d;
	bool clean = false;
	int ret;

	gs_buf_init(&text, true);
	doc_init(&d, format);
	if ((ret = line_merge(&v[0].plain, &v[1].plain, &v[2].plain, path, &text, &clean)))
		goto out;
	if (clean && text.len && (ret = store_load(format, text.data, text.len, &d))) {
		if (ret == GS_ERR_NOMEM)
			goto out;
		gs_error_clear(); /* clean lines that do not load: the whole file conflicts */
		clean = false;
		ret = 0;
	}
	res->conflict = !clean;
	if (!clean)
		ret = seal_conflict(f, path, v, &text, out);
	else if (text.len)
		ret = seal_result(f, format, path, v, &text, out);
out:
	doc_release(&d);
	gs_buf_release(&text);
	return ret;
}

/* Markers around two whole texts, each ending in a newline. */
static int whole_file_markers(const struct gs_buf *ours, const struct gs_buf *theirs, struct gs_buf *out)
{
	const struct gs_buf *side[2] = { ours, theirs };
	static const char *const opens[2] = { "<<<<<<< ours\n", "=======\n" };
	int ret = 0;

	for (int i = 0; i < 2 && !ret; i++) {
		const struct gs_buf *t = side[i];

		if (!(ret = gs_buf_append_str(out, opens[i])) && !(ret = gs_buf_append(out, t->data, t->len)) &&
		    t->len && t->data[t->len - 1] != '\n')
			ret = gs_buf_append_str(out, "\n");
	}
	return ret ? ret : gs_buf_append_str(out, ">>>>>>> theirs\n");
}

/* A tree merge that was refused while both sides opened (res->reason
 * says why): the plaintexts merge as lines, as git merges text files, and
 * always as a conflict, sealed. Where the lines merge without markers (or
 * not at all: a NUL byte), markers go around both whole texts: a file
 * without markers would pass for a resolution, and `git add` would drop
 * theirs' edits. A base this clone cannot open is empty (git's merge of
 * a file both sides added). */
static int merge_as_lines(struct gitfilter *f, const char *path, struct version *v, struct gs_buf *out,
			  struct gitfilter_merge_result *res)
{
	struct gs_buf text;
	bool clean = false;
	int ret;

	gs_buf_init(&text, true);
	res->conflict = true;
	gs_buf_reset(&res->where);
	if ((ret = line_merge(&v[0].plain, &v[1].plain, &v[2].plain, path, &text, &clean)))
		goto out;
	if (clean || !has_marker_line(&text)) {
		gs_buf_reset(&text);
		if ((ret = whole_file_markers(&v[1].plain, &v[2].plain, &text)))
			goto out;
	}
	ret = seal_conflict(f, path, v, &text, out);
out:
	gs_buf_release(&text);
	return ret;
}

/* Whether a failed tree merge (both sides open) merges as lines: the
 * versions do not load or merge as trees, the store cannot write the
 * merge (its proof, a writer limit), the keys or rules changed on both
 * sides. Keys this clone has not accepted, I/O and memory stay failures. */
static bool merges_as_lines(int err)
{
	return err == GS_ERR_CONFLICT || err == GS_ERR_VERIFY || err == GS_ERR_PARSE || err == GS_ERR_LIMIT;
}

/* A version this clone cannot open for want of a key */
static bool no_key(int err)
{
	return err == GS_ERR_NO_DATA_KEY || err == GS_ERR_AGE_NO_MATCH;
}

static const char *const version_names[3] = { "the base version", "our version", "their version" };

/* Opens the three versions read; a base this clone holds no key for is
 * left empty and named in res->reason (the sides then merge as lines). */
static int open_versions(struct gitfilter *f, enum doc_format format, struct version *v,
			 struct gitfilter_merge_result *res)
{
	const char *const *names = version_names;
	int ret = 0;

	for (int i = 0; i < 3 && !ret; i++) {
		ret = version_read(f, format, names[i], &v[i], i == 0);
		if (i == 0 && no_key(ret)) {
			gs_error_clear();
			gs_buf_reset(&v[0].plain);
			v[0].marked = v[0].has_tree = false;
			ret = gs_buf_append_str(&res->reason, "this clone has no key for the base version");
		} else if (!ret && i && v[i].marked && !res->reason.len) {
			ret = gs_buf_printf(&res->reason, "%s holds an unresolved conflict", names[i]);
		}
	}
	return ret;
}

/* What a refused merge leaves in ours_file: both sides as git gave them
 * (ciphertext, or a version's plaintext already in .git) between markers
 * (bare where rerere would read them: the resolution is plaintext),
 * so that the work tree shows a conflict and `git add` of it stages a
 * sealed conflict, which `gitseal git check` refuses; the message says
 * what to do. A version that could not be read (unread, its name) leaves
 * a note on both sides instead: ours' text alone would pass for a
 * resolution that drops theirs' edits. */
static void leave_refused(const char *ours_file, const char *path, const struct version *v, const char *unread,
			  int err, bool bare)
{
	struct gs_buf text, note;
	char *msg;
	int ret;

	gs_buf_init(&text, true);
	gs_buf_init(&note, false);
	if (unread)
		ret = gs_buf_printf(&note, "gitseal: not merged: %s %s\n", unread,
				    err == GS_ERR_LIMIT ? "is too large" : "cannot be read") < 0 ||
		      whole_file_markers(&note, &note, &text);
	else
		ret = whole_file_markers(&v[1].raw, &v[2].raw, &text);
	if (ret || (bare && unlabel_markers(&text)) || gs_atomic_write(ours_file, text.data, text.len, 0644))
		goto out; /* the first error is the one reported */
	if (!(msg = gs_strdup(gs_error_message())))
		goto out;
	if (unread)
		gs_error_set(err, "%s; the file shows a note between markers: take one side with "
				  "'git checkout --ours %s' (or --theirs)",
			     msg, gs_shown(path));
	else if (err == GS_ERR_CONFIG)
		gs_error_set(err, "%s; the file shows both sides sealed: once they are accepted "
				  "('gitseal updatekeys -r .'), 'git checkout -m %s' merges it again",
			     msg, gs_shown(path));
	else if (no_key(err) || err == GS_ERR_MAC_MISMATCH || err == GS_ERR_DECRYPT_VALUE)
		gs_error_set(err, "%s; the file shows both sides sealed: take one with 'git checkout --ours %s' "
				  "(or --theirs), or merge where a key opens both",
			     msg, gs_shown(path));
	else
		gs_error_set(err, "%s; the file shows both sides as committed: take one with "
				  "'git checkout --ours %s' (or --theirs)",
			     msg, gs_shown(path));
	free(msg);
out:
	gs_buf_release(&note);
	gs_buf_release(&text);
}

/* Reads a version git gave (name: which one) into raw. */
static int read_version(const char *file, const char *name, struct gs_buf *raw)
{
	size_t max = merge_max_file();
	int ret = gs_read_file(file, raw, max);

	if (ret == GS_ERR_LIMIT)
		return GS_FAIL(GS_ERR_LIMIT, "%s is larger than %zu bytes", name, max);
	if (ret)
		gs_error_prefix("%s", name);
	return ret;
}

/* GITSEAL_TEST_MERGE_LOOKUP_LOG=FILE: a line "compared N" appended, the
 * entries compared in key lookups by one merge (test build). */
static void log_lookups(void)
{
#ifdef GITSEAL_TEST_HOOKS
	char line[48];

	snprintf(line, sizeof(line), "compared %llu", entries_compared);
	gitrepo_test_count("GITSEAL_TEST_MERGE_LOOKUP_LOG", line);
#endif
}

int gitfilter_merge(struct gitfilter *f, const char *base_file, const char *ours_file,
		    const char *theirs_file, const char *path, struct gitfilter_merge_result *res)
{
	enum doc_format format = store_format_for_path(path);
	const char *const files[3] = { base_file, ours_file, theirs_file };
	struct version v[3];
	struct gs_buf out;
	const char *unread = NULL;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	gs_buf_init(&out, false);
	gs_buf_init(&res->where, false);
	gs_buf_init(&res->reason, false);
	for (int i = 0; i < 3; i++)
		version_init(&v[i], format);
	for (int i = 0; i < 3; i++) {
		if ((ret = read_version(files[i], version_names[i], &v[i].raw))) {
			unread = version_names[i];
			goto out;
		}
	}
	if ((ret = open_versions(f, format, v, res)))
		goto out;
	if (res->reason.len)
		ret = merge_as_lines(f, path, v, &out, res);
	else if (v[0].marked)
		ret = merge_over_marked(f, format, path, v, &out, res);
	else
		ret = merge_as_trees(f, format, path, v, &out, res);
	if (ret && merges_as_lines(ret) && !res->reason.len) {
		gs_buf_reset(&out);
		ret = gs_buf_append_str(&res->reason, gs_error_message());
		gs_error_clear();
		if (!ret)
			ret = merge_as_lines(f, path, v, &out, res);
	}
	if (ret)
		goto out;
	ret = gs_atomic_write(ours_file, out.data, out.len, 0644);
out:
	if (ret) {
		gs_error_prefix("cannot merge '%s'", gs_shown(path));
		leave_refused(ours_file, path, v, unread, ret, rerere_reads_markers(f, path));
	}
	for (int i = 0; i < 3; i++)
		version_release(&v[i]);
	gs_buf_release(&out);
	log_lookups();
	return ret;
}
