/* The tree walk in sops order and the selection rule (spec 3; sops.go
 * walkBranch, walkSlice, shouldBeEncrypted). The selection regexes are
 * RE2's, run on POSIX ERE (gitseal/re2posix.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/store.h"
#include "sops_int.h"

/* Compiled selection regexes, kept for the life of the process. A
 * selector is made for every document opened, and render and the git
 * filter open thousands of files sharing one pattern: compiling it each
 * time, and glibc building the regex's DFA anew during its first matches,
 * cost more than the rest of the walk. A few patterns, each with a count
 * of the selectors using it (one in use is never freed; the least recently
 * used free one makes room); glibc's regexec locks the regex it runs, so
 * threads (the git filter's workers) may share one. */
enum { REGEX_CACHE_SIZE = 8 };

struct sops_regex_entry {
	char *pattern;
	regex_t re;
	size_t users;
	unsigned long last_use;
	bool cached; /* in regex_cache, else malloc'd for one selector */
};

static struct sops_regex_entry regex_cache[REGEX_CACHE_SIZE];
static unsigned long regex_clock;
static pthread_mutex_t regex_lock = PTHREAD_MUTEX_INITIALIZER;

static void regex_entry_clear(struct sops_regex_entry *e)
{
	if (e->pattern) {
		regfree(&e->re);
		free(e->pattern);
	}
	e->pattern = NULL;
}

static int regex_entry_fill(struct sops_regex_entry *e, const char *pattern)
{
	int ret = re2posix_compile(&e->re, pattern);

	if (ret)
		return ret;
	e->pattern = gs_strdup(pattern);
	if (!e->pattern) {
		regfree(&e->re);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* Under regex_lock: the entry for pattern, compiled if it is not cached. */
static int regex_find(const char *pattern, struct sops_regex_entry **out)
{
	struct sops_regex_entry *room = NULL, *e;
	int ret;

	for (size_t i = 0; i < REGEX_CACHE_SIZE; i++) {
		e = &regex_cache[i];
		if (e->pattern && !strcmp(e->pattern, pattern)) {
			*out = e;
			return 0;
		}
		if (!e->users && (!room || !e->pattern || (room->pattern && e->last_use < room->last_use)))
			room = e;
	}
	if (room) {
		regex_entry_clear(room);
		ret = regex_entry_fill(room, pattern);
		room->cached = true;
		*out = room;
		return ret;
	}
	/* every entry in use by another thread's selector: one of its own */
	e = gs_calloc(1, sizeof(*e));
	if (!e)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	ret = regex_entry_fill(e, pattern);
	if (ret)
		free(e);
	*out = ret ? NULL : e;
	return ret;
}

static int regex_acquire(const char *pattern, struct sops_regex_entry **out)
{
	int ret;

	pthread_mutex_lock(&regex_lock);
	ret = regex_find(pattern, out);
	if (!ret) {
		(*out)->users++;
		(*out)->last_use = ++regex_clock;
	}
	pthread_mutex_unlock(&regex_lock);
	return ret;
}

static void regex_release(struct sops_regex_entry *e)
{
	bool own;

	pthread_mutex_lock(&regex_lock);
	e->users--;
	own = !e->cached;
	pthread_mutex_unlock(&regex_lock);
	if (own) {
		regex_entry_clear(e);
		free(e);
	}
}

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
		if ((ret = regex_acquire(s->value, &s->regex)) == 0)
			s->re = &s->regex->re;
		break;
	default:
		break;
	}
	return ret;
}

void sops_selector_release(struct sops_selector *s)
{
	if (s->regex)
		regex_release(s->regex);
	s->regex = NULL;
	s->re = NULL;
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
	size_t path_cap;
	struct comment_level *levels;
	size_t level_count;
	size_t levels_made; /* levels initialised so far (their items freed at the end) */
	size_t level_cap;
	/* The AAD of the path: aad holds its first aad_depth keys, the one
	 * at depth i ending at aad_ends[i]. A leaf's siblings share all but
	 * its last key: each leaf appends that one instead of the whole path
	 * again (8 appends and a wipe a leaf, 7 M instructions of the main
	 * thread's 161 M in the bench's 10,000-value decrypt). */
	struct gs_buf aad;
	size_t *aad_ends;
	size_t aad_depth;
	size_t aad_ends_cap;
};

static bool key_has_suffix(const struct doc_entry *e, const char *suffix)
{
	size_t n = strlen(suffix);

	return e->key_len >= n && memcmp(e->key + e->key_len - n, suffix, n) == 0;
}

/* spec 3.2, in sops's order: later rules override earlier ones. 1 to
 * encrypt, 0 to leave, a negative gs_err when a regex could not run. */
static int should_encrypt(const struct walker *w, bool is_comment)
{
	const struct sops_selector *s = w->sel;
	int enc = 1, m;

	switch (s->kind) {
	case SOPS_SEL_NONE:
		break;
	case SOPS_SEL_UNENCRYPTED_SUFFIX:
		for (size_t i = 0; i < w->depth; i++)
			if (key_has_suffix(w->path[i], s->value))
				enc = 0;
		break;
	case SOPS_SEL_ENCRYPTED_SUFFIX:
		enc = 0;
		for (size_t i = 0; i < w->depth; i++)
			if (key_has_suffix(w->path[i], s->value))
				enc = 1;
		break;
	case SOPS_SEL_UNENCRYPTED_REGEX:
	case SOPS_SEL_ENCRYPTED_REGEX:
		enc = s->kind == SOPS_SEL_UNENCRYPTED_REGEX;
		for (size_t i = 0; i < w->depth; i++) {
			if ((m = re2posix_match_n(s->re, w->path[i]->key, w->path[i]->key_len)) < 0)
				return m;
			if (m)
				enc = s->kind == SOPS_SEL_ENCRYPTED_REGEX;
		}
		break;
	case SOPS_SEL_UNENCRYPTED_COMMENT_REGEX:
	case SOPS_SEL_ENCRYPTED_COMMENT_REGEX:
		enc = s->kind == SOPS_SEL_UNENCRYPTED_COMMENT_REGEX;
		for (size_t l = 0; l < w->level_count; l++) {
			for (size_t j = 0; j < w->levels[l].count; j++) {
				/* the comment being judged is not its own marker */
				if (s->kind == SOPS_SEL_ENCRYPTED_COMMENT_REGEX && is_comment &&
				    l == w->level_count - 1 && j == w->levels[l].count - 1)
					continue;
				if ((m = re2posix_match(s->re, w->levels[l].items[j])) < 0)
					return m;
				if (m)
					enc = s->kind == SOPS_SEL_ENCRYPTED_COMMENT_REGEX;
			}
		}
		break;
	}
	return enc;
}

static int build_aad(struct walker *w)
{
	int ret;

	/* back from a deeper map: a list's item or a comment after it */
	if (w->aad_depth > w->depth)
		w->aad_depth = w->depth;
	w->aad.len = w->aad_depth ? w->aad_ends[w->aad_depth - 1] : 0;
	for (; w->aad_depth < w->depth; w->aad_depth++) {
		const struct doc_entry *e = w->path[w->aad_depth];

		if ((ret = gs_buf_reserve(&w->aad, e->key_len + 1)) < 0)
			return ret;
		memcpy(w->aad.data + w->aad.len, e->key, e->key_len);
		w->aad.len += e->key_len;
		w->aad.data[w->aad.len++] = ':';
		w->aad_ends[w->aad_depth] = w->aad.len;
	}
	/* sops: a top-level comment has the AAD ":" (path [] plus ':'). */
	if (w->depth == 0) {
		if ((ret = gs_buf_reserve(&w->aad, 1)) < 0)
			return ret;
		w->aad.data[w->aad.len++] = ':';
	}
	w->aad.data[w->aad.len] = '\0';
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

/* Levels and the key path grow with the depth reached (small documents
 * are the common case: no large zeroed allocation per walk, which also
 * made malloc consolidate its free lists each time). */
static int enter_level(struct walker *w)
{
	int ret;

	if (w->level_count >= STORE_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "document nested too deeply");
	if (w->level_count == w->levels_made) {
		if ((ret = GS_ARRAY_GROW(w->levels, w->levels_made, w->level_cap, 16)) < 0 ||
		    (ret = GS_ARRAY_GROW(w->path, w->levels_made, w->path_cap, 16)) < 0 ||
		    (ret = GS_ARRAY_GROW(w->aad_ends, w->levels_made, w->aad_ends_cap, 16)) < 0)
			return ret;
		w->levels[w->levels_made++] = (struct comment_level){ 0 };
	}
	w->levels[w->level_count++].count = 0;
	return 0;
}

static int walk_container(struct walker *w, struct doc_node *c, bool top)
{
	size_t level; /* an index: deeper levels may move the array */
	int ret = 0;

	if ((ret = enter_level(w)) < 0)
		return ret;
	level = w->level_count - 1;
	for (size_t i = 0; i < c->count && ret == 0; i++) {
		struct doc_entry *e = &c->entries[i];
		bool is_comment = e->value && e->value->kind == DOC_COMMENT;

		if (e->removed || !e->value)
			continue;
		if (top && sops_is_metadata_key(e->key, e->key_len))
			continue;
		if (c->kind == DOC_MAP && e->key) {
			/* a new key at this depth: the AAD past its parent's is stale */
			if (w->aad_depth > w->depth)
				w->aad_depth = w->depth;
			w->path[w->depth++] = e;
			ret = walk_node(w, c, i, e->value);
			w->depth--;
		} else {
			ret = walk_node(w, c, i, e->value);
		}
		if (!is_comment)
			w->levels[level].count = 0;
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
	if ((ret = should_encrypt(w, leaf.is_comment)) < 0)
		return ret;
	leaf.selected = ret;
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
	for (size_t b = 0; b < d->count && ret == 0; b++)
		if (d->branches[b])
			ret = walk_container(&w, d->branches[b], true);
	for (size_t i = 0; i < w.levels_made; i++)
		free(w.levels[i].items);
	free(w.levels);
	free(w.path);
	free(w.aad_ends);
	gs_buf_release(&w.aad);
	return ret;
}
