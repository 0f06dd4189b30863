/* A file's history, read before its data key is re-used.
 *
 * This clone's record of a data key (data-keys, trust.c) names whom this
 * clone wrapped it for. A reader a teammate added to the file keeping its
 * key (updatekeys without --rotate), revoked later, is not in it; a pull
 * request that brings back a version from before the rotation, that
 * reader's stanza removed (the MAC covers only values, so it verifies),
 * would have their key re-used. So the file's versions in every commit the
 * next commit descends from (HEAD, and MERGE_HEAD during a merge) are
 * read, each distinct blob opened once with this clone's identities, and
 * the key is re-used only when
 *   - no version that carries it names a recipient not accepted for the
 *     path now (the reader a teammate added, even if removed since), and
 *   - on no line of descent does a version without it follow one with it:
 *     a key rotated away (or the file removed, or a version this clone
 *     cannot open) is not the file's any more, whatever comes after.
 * Lines of descent, not the order of the walk: a branch that forked
 * before the file was made, or before a rotation, and was merged since,
 * retires no key.
 * A version that is not a sops file, does not open or lacks the path
 * carries another key. Any doubt, a failed read included, costs a fresh
 * data key, never a secret. Answers are kept for the process (a filter
 * process cleans many files, a rebase one per commit) per path, tips and
 * key. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/store.h"
#include "gitfilter_int.h"

enum { HISTORY_KEEP = 16, HISTORY_TIPS_MAX = 64, HISTORY_TIPS_HASH_SIZE = 32, HISTORY_SHALLOW_MAX = 64 * 1024 * 1024 };

/* What the walk learned of an object, a blob (a version of the file) or a
 * commit; an entry with no flag is an empty slot. */
enum {
	SEEN = 1,
	VERSION_CARRIES = 2, /* blob: the version carries the key */
	VERSION_REFUSED = 4, /* blob: it carries it and names a recipient not accepted now */
	COMMIT_HAD_KEY = 8,  /* commit: the version there or before it on a line of descent carried it */
};

struct oid_entry {
	git_oid id;
	uint8_t flags;
};

/* Open addressing; object ids are uniform already. */
struct oidmap {
	struct oid_entry *slots;
	size_t count, cap;
};

struct history_answer {
	char *path;
	uint8_t tips[HISTORY_TIPS_HASH_SIZE];
	uint8_t key_id[GITSEAL_KEY_ID_SIZE];
	bool current;
};

struct githistory {
	struct history_answer kept[HISTORY_KEEP];
	size_t next;
};

/* The commits the next commit descends from. */
struct history_tips {
	git_oid ids[HISTORY_TIPS_MAX];
	size_t count;
};

struct walk_frame {
	git_oid id;    /* a commit */
	bool expanded; /* its parents pushed */
};

struct history_walk {
	struct gitfilter *f;
	const char *path;
	const uint8_t *key_id;
	struct oidmap done;    /* commits walked, blobs opened */
	struct oidmap shallow; /* commits whose parents this clone does not hold */
	struct walk_frame *stack;
	size_t depth, cap;
};

/* The filter cleans on read-ahead threads too (files new to the
 * repository, which have no history): one walk at a time. */
static pthread_mutex_t history_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- a set of object ids with flags ---- */

static size_t oid_slot(const git_oid *id, size_t cap)
{
	size_t h;

	memcpy(&h, id->id, sizeof(h));
	return h & (cap - 1);
}

static struct oid_entry *oidmap_find(const struct oidmap *m, const git_oid *id)
{
	for (size_t i = m->cap ? oid_slot(id, m->cap) : 0; m->cap; i = (i + 1) & (m->cap - 1)) {
		struct oid_entry *e = &m->slots[i];

		if (!e->flags)
			return NULL;
		if (!memcmp(e->id.id, id->id, sizeof(id->id)))
			return e;
	}
	return NULL;
}

static int oidmap_put(struct oidmap *m, const git_oid *id, uint8_t flags);

static int oidmap_grow(struct oidmap *m)
{
	struct oidmap bigger = { .cap = m->cap ? m->cap * 2 : 4096 };

	if (!(bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].flags)
			(void)oidmap_put(&bigger, &m->slots[i].id, m->slots[i].flags);
	free(m->slots);
	*m = bigger;
	return 0;
}

static int oidmap_put(struct oidmap *m, const git_oid *id, uint8_t flags)
{
	struct oid_entry *e = oidmap_find(m, id);
	size_t i;
	int ret;

	if (!e) {
		if ((m->count + 1) * 2 > m->cap && (ret = oidmap_grow(m)))
			return ret;
		for (i = oid_slot(id, m->cap); m->slots[i].flags; i = (i + 1) & (m->cap - 1))
			;
		e = &m->slots[i];
		e->id = *id;
		m->count++;
	}
	e->flags = flags | SEEN;
	return 0;
}

/* ---- the walk ---- */

/* A version of the file, opened with this clone's identities (its
 * plaintext wiped when freed): whether it carries the key and names only
 * recipients accepted for the path now. */
static uint8_t version_of_blob(struct history_walk *w, const git_oid *blob)
{
	uint8_t id[GITSEAL_KEY_ID_SIZE], flags = 0;
	struct sops_file *sf = NULL;
	struct gs_buf text, unaccepted;

	gs_buf_init(&text, false); /* ciphertext */
	gs_buf_init(&unaccepted, false);
	if (gitrepo_read_blob(w->f, blob, &text) == 0 &&
	    gitseal_open_keys(w->f, store_format_for_path(w->path), &text, &sf) == 0 && sops_file_key_id(sf, id) &&
	    !memcmp(id, w->key_id, sizeof(id))) {
		flags = VERSION_CARRIES;
		if (gittrust_unaccepted(w->f, w->path, sops_file_keys(sf), &unaccepted) || unaccepted.len)
			flags |= VERSION_REFUSED;
	}
	gs_error_clear();
	sops_file_free(sf);
	gs_buf_release(&text);
	gs_buf_release(&unaccepted);
	return flags;
}

/* The version of the file in commit c: VERSION_* flags, none when the
 * commit has no file at the path. */
static int version_in_commit(struct history_walk *w, const git_commit *c, uint8_t *flags)
{
	git_tree_entry *te = NULL;
	git_tree *tree = NULL;
	const struct oid_entry *e;
	const git_oid *blob;
	int ret = 0;

	*flags = 0;
	if (git_commit_tree(&tree, c) < 0)
		return gitrepo_fail("cannot read a commit's tree");
	if (git_tree_entry_bypath(&te, tree, w->path) < 0 || git_tree_entry_type(te) != GIT_OBJECT_BLOB) {
		git_error_clear();
		goto out;
	}
	blob = git_tree_entry_id(te);
	if ((e = oidmap_find(&w->done, blob))) {
		*flags = e->flags & (VERSION_CARRIES | VERSION_REFUSED);
	} else {
		*flags = version_of_blob(w, blob);
		ret = oidmap_put(&w->done, blob, *flags);
	}
out:
	git_tree_entry_free(te);
	git_tree_free(tree);
	return ret;
}

/* One commit, after its parents: *refused when its version says the key
 * may not be re-used. */
static int walk_commit(struct history_walk *w, const git_commit *c, bool *refused)
{
	const struct oid_entry *p;
	uint8_t version, had = 0;
	int ret;

	if ((ret = version_in_commit(w, c, &version)))
		return ret;
	for (unsigned int i = 0; i < git_commit_parentcount(c); i++)
		if ((p = oidmap_find(&w->done, git_commit_parent_id(c, i))))
			had |= p->flags & COMMIT_HAD_KEY;
	if (version & VERSION_CARRIES)
		had = COMMIT_HAD_KEY;
	/* named for a reader not accepted now, or rotated away (or the file
	 * removed) after it was the file's */
	*refused = (version & VERSION_REFUSED) || (had && !(version & VERSION_CARRIES));
	return oidmap_put(&w->done, git_commit_id(c), had);
}

static int walk_push(struct history_walk *w, const git_oid *id)
{
	struct walk_frame *grown;

	if (oidmap_find(&w->done, id))
		return 0;
	if (w->depth == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;

		if (!(grown = realloc(w->stack, cap * sizeof(*grown))))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		w->stack = grown;
		w->cap = cap;
	}
	w->stack[w->depth].id = *id;
	w->stack[w->depth++].expanded = false;
	return 0;
}

/* Pushes the parents of c (on top), but for a shallow clone's oldest
 * commits, whose parents it does not hold (libgit2 does not read
 * .git/shallow): git takes them for roots, and so does the walk. */
static int walk_expand(struct history_walk *w, const git_commit *c)
{
	int ret = 0;

	w->stack[w->depth - 1].expanded = true;
	if (oidmap_find(&w->shallow, git_commit_id(c)))
		return 0;
	for (unsigned int i = 0; !ret && i < git_commit_parentcount(c); i++)
		ret = walk_push(w, git_commit_parent_id(c, i));
	return ret;
}

/* Every commit reachable from the tips, each after its parents: depth
 * first, a commit pushed again for each child that reaches it before it
 * is taken, taken once. The stack holds ids only (libgit2 keeps the
 * commits it read in its cache). */
static int walk(struct history_walk *w, const struct history_tips *tips, bool *current)
{
	bool refused = false;
	git_commit *c;
	int ret = 0;

	for (size_t i = 0; !ret && i < tips->count; i++)
		ret = walk_push(w, &tips->ids[i]);
	while (!ret && !refused && w->depth) {
		struct walk_frame *top = &w->stack[w->depth - 1];

		if (oidmap_find(&w->done, &top->id)) {
			w->depth--;
			continue;
		}
		if (git_commit_lookup(&c, w->f->repo, &top->id) < 0) {
			ret = gitrepo_fail("cannot read a commit");
			break;
		}
		if (!top->expanded) {
			ret = walk_expand(w, c);
		} else {
			ret = walk_commit(w, c, &refused);
			w->depth--;
		}
		git_commit_free(c);
	}
	*current = !ret && !refused;
	return ret;
}

/* The commits .git/shallow lists. */
static int read_shallow(struct gitfilter *f, struct oidmap *out)
{
	const char *common = git_repository_commondir(f->repo);
	struct gs_buf text;
	char path[PATH_MAX];
	git_oid id;
	int ret;

	if ((size_t)snprintf(path, sizeof(path), "%sshallow", common) >= sizeof(path))
		return GS_FAIL(GS_ERR_LIMIT, "git directory path too long");
	gs_buf_init(&text, false);
	ret = gs_read_file(path, &text, HISTORY_SHALLOW_MAX);
	if (ret == GS_ERR_NOT_FOUND) {
		gs_error_clear();
		ret = 0;
	}
	for (size_t at = 0; !ret && at + GIT_OID_HEXSZ <= text.len; at += GIT_OID_HEXSZ + 1)
		if (git_oid_fromstrn(&id, (const char *)text.data + at, GIT_OID_HEXSZ) < 0)
			ret = gitrepo_fail("cannot read .git/shallow");
		else
			ret = oidmap_put(out, &id, 0);
	gs_buf_release(&text);
	return ret;
}

static void walk_release(struct history_walk *w)
{
	free(w->stack);
	free(w->done.slots);
	free(w->shallow.slots);
}

/* ---- the tips and the answers kept ---- */

static int add_merge_head(const git_oid *id, void *payload)
{
	struct history_tips *t = payload;

	if (t->count == HISTORY_TIPS_MAX)
		return -1;
	t->ids[t->count++] = *id;
	return 0;
}

/* HEAD and, during a merge, MERGE_HEAD's commits; none on an unborn branch. */
static int history_tips(struct gitfilter *f, struct history_tips *t)
{
	int r;

	t->count = 0;
	r = git_reference_name_to_id(&t->ids[0], f->repo, "HEAD");
	if (r == GIT_ENOTFOUND || r == GIT_EUNBORNBRANCH) {
		git_error_clear();
		return 0;
	}
	if (r < 0)
		return gitrepo_fail("cannot read HEAD");
	t->count = 1;
	r = git_repository_mergehead_foreach(f->repo, add_merge_head, t);
	if (r == GIT_ENOTFOUND) {
		git_error_clear();
		return 0;
	}
	return r < 0 ? gitrepo_fail("cannot read MERGE_HEAD") : 0;
}

static void tips_hash(const struct history_tips *t, uint8_t out[HISTORY_TIPS_HASH_SIZE])
{
	crypto_generichash(out, HISTORY_TIPS_HASH_SIZE, (const uint8_t *)t->ids, t->count * sizeof(t->ids[0]), NULL, 0);
}

static struct history_answer *answer_find(struct githistory *h, const char *path,
					  const uint8_t tips[HISTORY_TIPS_HASH_SIZE],
					  const uint8_t key_id[GITSEAL_KEY_ID_SIZE])
{
	for (size_t i = 0; h && i < HISTORY_KEEP; i++) {
		struct history_answer *a = &h->kept[i];

		if (a->path && !strcmp(a->path, path) && !memcmp(a->tips, tips, HISTORY_TIPS_HASH_SIZE) &&
		    !memcmp(a->key_id, key_id, GITSEAL_KEY_ID_SIZE))
			return a;
	}
	return NULL;
}

/* Not kept when out of memory: the next question walks again. */
static void answer_keep(struct gitfilter *f, const char *path, const uint8_t tips[HISTORY_TIPS_HASH_SIZE],
			const uint8_t key_id[GITSEAL_KEY_ID_SIZE], bool current)
{
	struct history_answer *a;
	char *copy;

	if ((!f->history && !(f->history = calloc(1, sizeof(*f->history)))) || !(copy = strdup(path)))
		return;
	a = &f->history->kept[f->history->next];
	f->history->next = (f->history->next + 1) % HISTORY_KEEP;
	free(a->path);
	a->path = copy;
	memcpy(a->tips, tips, HISTORY_TIPS_HASH_SIZE);
	memcpy(a->key_id, key_id, GITSEAL_KEY_ID_SIZE);
	a->current = current;
}

bool githistory_key_current(struct gitfilter *f, const char *path, const uint8_t key_id[GITSEAL_KEY_ID_SIZE])
{
	struct history_walk w = { .f = f, .path = path, .key_id = key_id };
	uint8_t tips_id[HISTORY_TIPS_HASH_SIZE];
	const struct history_answer *a;
	struct history_tips tips;
	bool current = false;

	pthread_mutex_lock(&history_lock);
	if (!f->repo || history_tips(f, &tips))
		goto out;
	if (!tips.count) {
		current = true; /* an unborn branch: no history */
		goto out;
	}
	tips_hash(&tips, tips_id);
	if ((a = answer_find(f->history, path, tips_id, key_id)))
		current = a->current;
	else if (read_shallow(f, &w.shallow) == 0 && walk(&w, &tips, &current) == 0)
		answer_keep(f, path, tips_id, key_id, current);
	walk_release(&w);
out:
	gs_error_clear();
	git_error_clear();
	pthread_mutex_unlock(&history_lock);
	return current;
}

void githistory_free(struct githistory *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < HISTORY_KEEP; i++)
		free(h->kept[i].path);
	free(h);
}
