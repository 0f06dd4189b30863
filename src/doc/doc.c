#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/asan_poison.h"
#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"

void doc_init(struct doc *d, enum doc_format format)
{
	memset(d, 0, sizeof(*d));
	gs_arena_init(&d->arena);
	gs_buf_init(&d->source, true);
	gs_buf_init(&d->held_source, true);
	d->format = format;
}

/* What loading a text takes in the arena, measured on the 10,000 values
 * of bench/sops_bench.sh: about 195 bytes a line (the node, its entry,
 * its share of the entry arrays) besides the text copied (2.4 MB for the
 * 300 KB plaintext, 3.6 MB for its 1.4 MB encrypted form; 260 and 3.1 /
 * 4.3 MB before grow_entries), and some room. Of a line's
 * text at most DOC_LINE_COPY counts: a longer value takes an arena block
 * of its own, and a reservation made for it would be held twice (a 100
 * MiB value); a shared source copies at most DOC_SHARE_MIN bytes a line. */
enum { DOC_ARENA_PER_LINE = 224, DOC_LINE_COPY = 512 };

void doc_expect_text(struct doc *d, const uint8_t *text, size_t len)
{
	const uint8_t *p = text, *end, *nl;
	size_t lines = 0, copied = len, per_line = d->share_source ? DOC_SHARE_MIN : DOC_LINE_COPY;

	/* no text (an empty input): nothing to reserve, and no pointer to
	 * offset (undefined behaviour even by 0: make fuzz, fuzz_krm) */
	if (!text)
		return;
	end = text + len;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		lines++;
		p = nl + 1;
	}
	/* lines <= len: no product below overflows a 64-bit size_t for any
	 * input the stores take (STORE_MAX_INPUT) */
	if (lines > SIZE_MAX / (DOC_ARENA_PER_LINE + DOC_LINE_COPY))
		lines = SIZE_MAX / (DOC_ARENA_PER_LINE + DOC_LINE_COPY);
	if (copied > lines * per_line)
		copied = lines * per_line;
	gs_arena_reserve(&d->arena, copied + lines * DOC_ARENA_PER_LINE);
}

void doc_drop_source(struct doc *d)
{
	if (d->source_shared && d->source.data) {
		gs_buf_release(&d->held_source);
		d->held_source = d->source;
	} else {
		gs_buf_release(&d->source);
	}
	gs_buf_init(&d->source, true);
}

void doc_release(struct doc *d)
{
	if (d->store_data && d->store_data_free)
		d->store_data_free(d->store_data);
	gs_arena_release(&d->arena);
	gs_buf_release(&d->source);
	gs_buf_release(&d->held_source);
	/* branches and entry arrays live in the arena too */
	memset(d, 0, sizeof(*d));
}

bool doc_budget_spent(const struct doc *d)
{
	return d->node_limit && d->nodes >= d->node_limit;
}

static struct doc_node *new_node(struct doc *d, enum doc_kind kind)
{
	struct doc_node *n;

	if (doc_budget_spent(d))
		return NULL;
	n = gs_arena_alloc(&d->arena, sizeof(*n));
	if (!n)
		return NULL;
	d->nodes++;
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->span.start = n->span.end = DOC_NO_POS;
	return n;
}

struct doc_node *doc_new_map(struct doc *d)
{
	return new_node(d, DOC_MAP);
}

struct doc_node *doc_new_list(struct doc *d)
{
	return new_node(d, DOC_LIST);
}

struct doc_node *doc_new_scalar(struct doc *d, enum doc_type type, const char *text, size_t len)
{
	struct doc_node *n = new_node(d, DOC_SCALAR);

	if (!n)
		return NULL;
	n->type = type;
	n->text = gs_arena_strndup(&d->arena, text ? text : "", text ? len : 0);
	n->len = text ? len : 0;
	return n->text ? n : NULL;
}

struct doc_node *doc_new_scalar_at(struct doc *d, enum doc_type type, size_t start, size_t len)
{
	struct doc_node *n;

	if (start > d->source.len || len > d->source.len - start)
		return NULL;
	if (!d->share_source || len < DOC_SHARE_MIN)
		return doc_new_scalar(d, type, (const char *)d->source.data + start, len);
	if (!(n = new_node(d, DOC_SCALAR)))
		return NULL;
	n->type = type;
	n->text = (char *)d->source.data + start;
	n->len = len;
	d->source_shared = true;
	return n;
}

struct doc_node *doc_new_comment(struct doc *d, const char *text, size_t len)
{
	struct doc_node *n = doc_new_scalar(d, DOC_STR, text, len);

	if (n)
		n->kind = DOC_COMMENT;
	return n;
}

/* Arrays grow by doubling inside the arena; the old copy is abandoned to
 * the arena and wiped with it. */
static void *grow(struct doc *d, void *old, size_t elem, size_t count, size_t *cap)
{
	size_t ncap = *cap ? *cap * 2 : 4;
	void *p;

	if (count < *cap)
		return old;
	p = gs_arena_alloc(&d->arena, ncap * elem);
	if (!p)
		return NULL;
	if (old)
		memcpy(p, old, count * elem);
	*cap = ncap;
	return p;
}

/* The index of an entry array of cap entries among doc.spare_entries;
 * -1 when it has none (a capacity grow did not make: merge_comments.c
 * sizes arrays of its own). */
static int spare_class(size_t cap)
{
	int c = 0;

	if (cap < 4 || (cap & (cap - 1)))
		return -1;
	while ((size_t)4 << c < cap)
		c++;
	return c < (int)(sizeof(((struct doc *)0)->spare_entries) / sizeof(struct doc_entry *)) ? c : -1;
}

/* Under AddressSanitizer a spare array is poisoned until it is handed
 * out again: a pointer into an array its map outgrew (an entry held
 * across a doc_append) then faults where it would read or write the
 * next map's entries. A spare array's first bytes link it to the next
 * spare of its class (the casts to void: the link is a pointer stored in
 * entry memory). */
static struct doc_entry *spare_take(struct doc *d, int c)
{
	struct doc_entry *p = d->spare_entries[c];

	if (!p)
		return NULL;
	GS_UNPOISON(p, ((size_t)4 << c) * sizeof(*p));
	memcpy(&d->spare_entries[c], (const void *)p, sizeof(p));
	return p;
}

static void spare_give(struct doc *d, int c, struct doc_entry *p)
{
	memcpy((void *)p, &d->spare_entries[c], sizeof(p));
	d->spare_entries[c] = p;
	GS_POISON(p, ((size_t)4 << c) * sizeof(*p));
}

/* grow() for a map's or list's entries, reusing the arrays other
 * collections outgrew: a loader fills one collection after another, so
 * the 4- and 8-entry arrays the last one left serve the next. Loading the
 * 10,000 values of bench/sops_bench.sh (1,000 maps of 10 keys) made 4, 8
 * and 16 entries for each map: 1.6 MB of arena of which 0.6 MB held
 * entries; the arena's reservation is what a large load locks and
 * faults in. */
static struct doc_entry *grow_entries(struct doc *d, struct doc_node *parent)
{
	struct doc_entry *old = parent->entries, *p;
	size_t cap = parent->cap, ncap = cap ? cap * 2 : 4;
	int from = spare_class(cap), to = spare_class(ncap);

	if (parent->count < cap)
		return old;
	if (to >= 0 && (p = spare_take(d, to))) {
		if (old)
			memcpy(p, old, parent->count * sizeof(*p));
		parent->cap = ncap;
	} else if (!(p = grow(d, old, sizeof(*p), parent->count, &parent->cap))) {
		return NULL;
	}
	/* the outgrown array, now unused, heads its class's list */
	if (old && from >= 0)
		spare_give(d, from, old);
	return p;
}

int doc_add_branch(struct doc *d, struct doc_node *map)
{
	struct doc_node **b = grow(d, d->branches, sizeof(*b), d->count, &d->cap);

	if (!b)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	d->branches = b;
	d->branches[d->count++] = map;
	return 0;
}

struct doc_entry *doc_append(struct doc *d, struct doc_node *parent, const char *key,
			     size_t key_len, struct doc_node *value)
{
	struct doc_entry *e = grow_entries(d, parent);

	if (!e)
		return NULL;
	parent->entries = e;
	e = &parent->entries[parent->count];
	memset(e, 0, sizeof(*e));
	e->key_span.start = e->key_span.end = DOC_NO_POS;
	if (key) {
		e->key = gs_arena_strndup(&d->arena, key, key_len);
		if (!e->key)
			return NULL;
		e->key_len = key_len;
	}
	e->value = value;
	parent->count++;
	return e;
}

int doc_scalar_set(struct doc *d, struct doc_node *n, enum doc_type type, const char *text,
		   size_t len)
{
	char *copy = gs_arena_strndup(&d->arena, text, len);

	if (!copy)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	n->type = type;
	n->text = copy;
	n->len = len;
	n->tag = NULL;
	n->dirty = true;
	return 0;
}

int doc_node_set_tag(struct doc *d, struct doc_node *n, const char *tag)
{
	if (!tag) {
		n->tag = NULL;
		return 0;
	}
	n->tag = gs_arena_strndup(&d->arena, tag, strlen(tag));
	return n->tag ? 0 : GS_FAIL(GS_ERR_NOMEM, "out of memory");
}

struct doc_entry *doc_map_find(const struct doc_node *map, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < map->count; i++) {
		struct doc_entry *e = &map->entries[i];

		if (e->key && !e->removed && e->key_len == klen && memcmp(e->key, key, klen) == 0)
			return e;
	}
	return NULL;
}

struct doc_node *doc_clone(struct doc *dst, const struct doc_node *n)
{
	struct doc_node *c;

	switch (n->kind) {
	case DOC_SCALAR:
		c = doc_new_scalar(dst, n->type, n->text, n->len);
		break;
	case DOC_COMMENT:
		c = doc_new_comment(dst, n->text, n->len);
		if (c)
			c->inline_comment = n->inline_comment;
		break;
	case DOC_MAP:
	case DOC_LIST:
		c = n->kind == DOC_MAP ? doc_new_map(dst) : doc_new_list(dst);
		if (!c)
			return NULL;
		c->flow = n->flow;
		for (size_t i = 0; i < n->count; i++) {
			const struct doc_entry *e = &n->entries[i];
			struct doc_node *v;

			if (e->removed)
				continue;
			v = doc_clone(dst, e->value);
			if (!v || !doc_append(dst, c, e->key, e->key_len, v))
				return NULL;
		}
		break;
	default:
		return NULL;
	}
	if (c) {
		c->style = n->style;
		if (doc_node_set_tag(dst, c, n->tag))
			return NULL;
	}
	return c;
}

static const char *const type_names[] = {
	[DOC_STR] = "str", [DOC_INT] = "int", [DOC_FLOAT] = "float",
	[DOC_BOOL] = "bool", [DOC_NULL] = "null", [DOC_TIME] = "time",
};

const char *doc_type_name(enum doc_type t)
{
	return type_names[t];
}

int doc_type_from_name(const char *name, size_t len, enum doc_type *out)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strlen(type_names[i]) == len && memcmp(type_names[i], name, len) == 0) {
			*out = (enum doc_type)i;
			return 0;
		}
	}
	return GS_FAIL(GS_ERR_PARSE, "unknown value type '%s'", gs_shown_n(name, len > 16 ? 16 : len));
}

/* The path of the first difference, built as the walk goes down. */
struct diff_path {
	char *buf;
	size_t size;
	size_t len;
};

static void put(char *buf, size_t size, size_t *n, const char *s, size_t len)
{
	for (size_t i = 0; i < len && *n + 1 < size; i++)
		buf[(*n)++] = s[i];
	buf[*n] = '\0';
}

size_t doc_path_step(char *buf, size_t size, const struct doc_entry *e, size_t index)
{
	size_t n = 0;
	const char *key;
	int k;

	if (!size)
		return 0;
	if (!e->key) {
		k = snprintf(buf, size, "[%zu]", index);
		return k < 0 ? 0 : (size_t)k < size ? (size_t)k : size - 1;
	}
	/* a key is the file's: shown as every name a message holds (a C1
	 * control or a bidi one would steer what shows the message) */
	key = gs_shown_n(e->key, e->key_len > 64 ? 64 : e->key_len);
	put(buf, size, &n, "[\"", 2);
	put(buf, size, &n, key, strlen(key));
	put(buf, size, &n, "\"]", 2);
	return n;
}

static void path_push(struct diff_path *p, const struct doc_entry *e, size_t index)
{
	if (p->buf && p->len < p->size)
		p->len += doc_path_step(p->buf + p->len, p->size - p->len, e, index);
}

/* The next entry at or after *i that is not removed, or NULL. */
static const struct doc_entry *next_live(const struct doc_node *n, size_t *i)
{
	while (*i < n->count && n->entries[*i].removed)
		(*i)++;
	return *i < n->count ? &n->entries[*i] : NULL;
}

/* A float text as a double; false when it is not one. Texts are short
 * (a JSON number, or sops's positional form of a double). */
static bool float_value(const char *text, size_t len, double *v)
{
	char buf[512], *end;
	bool ok;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	*v = strtod(buf, &end);
	ok = end == buf + len;
	sodium_memzero(buf, len);
	return ok;
}

/* An int text as its value: an optional sign and decimal digits, as
 * Go's strconv.Atoi reads it ("+5", "007", "-0"); false when it is not
 * one. Texts are short (yaml.v3 types no plain scalar past 127 bytes). */
static bool int_value(const char *text, size_t len, long long *v)
{
	char buf[128], *end;
	size_t digits = len && (text[0] == '+' || text[0] == '-');
	bool ok;

	if (len <= digits || len >= sizeof(buf) || text[digits] < '0' || text[digits] > '9')
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	errno = 0;
	*v = strtoll(buf, &end, 10);
	ok = end == buf + len && errno == 0;
	sodium_memzero(buf, len);
	return ok;
}

static bool float_equal(const struct doc_node *a, const struct doc_node *b)
{
	double x, y;

	if (!float_value(a->text, a->len, &x) || !float_value(b->text, b->len, &y))
		return false;
	return (isnan(x) && isnan(y)) || (x == y && signbit(x) == signbit(y));
}

/* Two scalars of the same type hold the same value. A number is its value,
 * however spelled, as sops's MAC sees it: "1.0" and "1" are the same float,
 * "+5", "005" and "5" the same int, and so are "-0" and "0" (an int has no
 * sign of zero); a float -0 is not 0; NaN is NaN. */
static bool scalar_equal(const struct doc_node *a, const struct doc_node *b)
{
	long long i, j;

	if (a->len == b->len && (a->len == 0 || memcmp(a->text, b->text, a->len) == 0))
		return true;
	if (a->kind != DOC_SCALAR)
		return false;
	if (a->type == DOC_FLOAT)
		return float_equal(a, b);
	return a->type == DOC_INT && int_value(a->text, a->len, &i) && int_value(b->text, b->len, &j) &&
	       i == j;
}

/* Recursion is bounded by the stores' nesting limit (STORE_MAX_DEPTH). */
static bool node_equal(const struct doc_node *a, const struct doc_node *b, struct diff_path *p)
{
	size_t i = 0, j = 0, index = 0, mark = p->len;

	if (!a || !b)
		return a == b;
	if (a->kind != b->kind || !a->tag != !b->tag || (a->tag && strcmp(a->tag, b->tag) != 0))
		return false;
	if (a->kind == DOC_SCALAR || a->kind == DOC_COMMENT)
		return (a->kind == DOC_COMMENT || a->type == b->type) && scalar_equal(a, b);
	for (;; i++, j++, index++) {
		const struct doc_entry *ea = next_live(a, &i), *eb = next_live(b, &j);

		if (!ea || !eb)
			return ea == eb;
		p->len = mark;
		if (p->buf)
			p->buf[mark] = '\0';
		path_push(p, ea->key ? ea : eb, index);
		if (!ea->key != !eb->key ||
		    (ea->key && (ea->key_len != eb->key_len || memcmp(ea->key, eb->key, ea->key_len))))
			return false;
		if (!node_equal(ea->value, eb->value, p))
			return false;
	}
}

bool doc_equal(const struct doc *a, const struct doc *b, char *where, size_t where_size)
{
	struct diff_path p = { where_size ? where : NULL, where_size, 0 };

	if (a->count != b->count) {
		if (p.buf)
			snprintf(where, where_size, "the number of documents (%zu, %zu)", a->count,
				 b->count);
		return false;
	}
	for (size_t i = 0; i < a->count; i++) {
		int n = p.buf ? snprintf(where, where_size, "doc %zu: ", i) : 0;

		p.len = n > 0 && (size_t)n < where_size ? (size_t)n : 0;
		if (!node_equal(a->branches[i], b->branches[i], &p))
			return false;
	}
	if (p.buf)
		where[0] = '\0';
	return true;
}
