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
 * key, and across commands in .git/gitseal/history (git runs a filter
 * process per command: without it every `git add` of a file with a long
 * history would walk it again). A verdict there is kept under a digest of
 * everything the walk read besides commits and blobs, which never change:
 * what is accepted for the path and this clone's own recipients
 * (trust.c), the key's id (a keyed digest of it, as data-keys records it;
 * never the key) and .git/shallow; any change of them is another digest,
 * under which no verdict is kept yet. It is used for the same tips, and a
 * current one also for later tips: the walk from those stops at its tips
 * (nothing up to them refuses the key), knowing whether the key was on a
 * line of descent up to each, so that a commit after them without the key
 * still refuses it. A current verdict is kept only from a walk that opened
 * every version it met (what opens depends on identities, gpg's too). A
 * line that does not parse or whose check digest does
 * not match (changed by hand) is not used. .git is this clone's own: a
 * pull request cannot write there. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/store.h"
#include "gitfilter_int.h"

enum { HISTORY_ANSWER_ID_SIZE = 32, HISTORY_TIPS_MAX = 64, HISTORY_TIPS_HASH_SIZE = 32, HISTORY_SHALLOW_MAX = 64 * 1024 * 1024 };

/* .git/gitseal/history: a verdict a line, the newest last (below). */
enum {
	VERDICT_ID_SIZE = 32,
	VERDICTS_KEEP = 512,
	VERDICT_LINE_MAX = 2 + 2 * VERDICT_ID_SIZE + 1 + HISTORY_TIPS_MAX * (GIT_OID_HEXSZ + 3) + 2 * VERDICT_ID_SIZE + 1,
	VERDICTS_FILE_MAX = VERDICTS_KEEP * VERDICT_LINE_MAX,
};

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

/* An answer kept for the process, by a digest of its path, tips and key
 * (an empty slot has no verdict). */
enum { ANSWER_NONE, ANSWER_REFUSED, ANSWER_CURRENT };
struct history_answer {
	uint8_t id[HISTORY_ANSWER_ID_SIZE];
	uint8_t verdict;
};

/* Every answer of the process (open addressing): updatekeys asks once per
 * file when it plans and again when it seals, and a ring of the last 16
 * walked each file twice (and read the verdicts file twice) once a run
 * had more files. */
struct githistory {
	struct history_answer *slots;
	size_t count, cap;
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
	bool unopened; /* a version did not open here */
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

	if (!(bigger.slots = gs_calloc(bigger.cap, sizeof(*bigger.slots))))
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
	/* a version a partial clone lacks is not fetched for this: any doubt
	 * costs a fresh key, and fetching costs a round trip each */
	if (gitrepo_read_blob_held(w->f, blob, &text) || gitseal_open_keys(w->f, store_format_for_path(w->path), &text, &sf) ||
	    !sops_file_key_id(sf, id)) {
		/* another identity might open it: no "current" kept (verdict) */
		w->unopened = true;
	} else if (!memcmp(id, w->key_id, sizeof(id))) {
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

		if (!(grown = gs_realloc(w->stack, cap * sizeof(*grown))))
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

/* The commits .git/shallow lists, and a digest of its text. */
static int read_shallow(struct gitfilter *f, struct oidmap *out, uint8_t digest[VERDICT_ID_SIZE])
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
	if (!ret)
		crypto_generichash(digest, VERDICT_ID_SIZE, text.data, text.len, NULL, 0);
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

static void answer_id(const char *path, const uint8_t tips[HISTORY_TIPS_HASH_SIZE],
		      const uint8_t key_id[GITSEAL_KEY_ID_SIZE], uint8_t id[HISTORY_ANSWER_ID_SIZE])
{
	crypto_generichash_state st;

	/* the path's terminating NUL ends it: no other split hashes alike */
	crypto_generichash_init(&st, NULL, 0, HISTORY_ANSWER_ID_SIZE);
	crypto_generichash_update(&st, (const uint8_t *)path, strlen(path) + 1);
	crypto_generichash_update(&st, tips, HISTORY_TIPS_HASH_SIZE);
	crypto_generichash_update(&st, key_id, GITSEAL_KEY_ID_SIZE);
	crypto_generichash_final(&st, id, HISTORY_ANSWER_ID_SIZE);
}

/* The slot of id: its answer, or the empty slot where it goes. */
static struct history_answer *answer_slot(const struct githistory *h, const uint8_t id[HISTORY_ANSWER_ID_SIZE])
{
	size_t i;

	memcpy(&i, id, sizeof(i));
	for (i &= h->cap - 1;; i = (i + 1) & (h->cap - 1))
		if (h->slots[i].verdict == ANSWER_NONE || !memcmp(h->slots[i].id, id, HISTORY_ANSWER_ID_SIZE))
			return &h->slots[i];
}

static const struct history_answer *answer_find(const struct githistory *h, const uint8_t id[HISTORY_ANSWER_ID_SIZE])
{
	const struct history_answer *a = h && h->cap ? answer_slot(h, id) : NULL;

	return a && a->verdict != ANSWER_NONE ? a : NULL;
}

static int answers_grow(struct githistory *h)
{
	struct githistory bigger = { .cap = h->cap ? h->cap * 2 : 256 };

	if (!(bigger.slots = gs_calloc(bigger.cap, sizeof(*bigger.slots))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < h->cap; i++)
		if (h->slots[i].verdict != ANSWER_NONE)
			*answer_slot(&bigger, h->slots[i].id) = h->slots[i];
	bigger.count = h->count;
	free(h->slots);
	*h = bigger;
	return 0;
}

/* Not kept when out of memory: the next question walks again. */
static void answer_keep(struct gitfilter *f, const uint8_t id[HISTORY_ANSWER_ID_SIZE], bool current)
{
	struct history_answer *a;

	if ((!f->history && !(f->history = gs_calloc(1, sizeof(*f->history)))) ||
	    ((f->history->count + 1) * 2 > f->history->cap && answers_grow(f->history))) {
		gs_error_clear();
		return;
	}
	a = answer_slot(f->history, id);
	if (a->verdict == ANSWER_NONE)
		f->history->count++;
	memcpy(a->id, id, HISTORY_ANSWER_ID_SIZE);
	a->verdict = current ? ANSWER_CURRENT : ANSWER_REFUSED;
}

/* ---- the verdicts kept across commands ---- */

/* "V BASE TIPS CHECK", one line of .git/gitseal/history per verdict. V:
 * 'c' (current) or 'r' (refused). BASE: a digest of what the walk read
 * besides commits and blobs (whom the path is accepted for, the key's id,
 * .git/shallow). TIPS: "ID=H,ID=H": each tip and whether the key was on a
 * line of descent up to it (COMMIT_HAD_KEY). CHECK: a digest of what comes
 * before it, so that a line changed by hand is not used. */
enum { VERDICT_HEX = 2 * VERDICT_ID_SIZE, VERDICT_TIP_TEXT = GIT_OID_HEXSZ + 2 };

static int verdict_base(struct gitfilter *f, const char *path, const uint8_t key_id[GITSEAL_KEY_ID_SIZE],
			const uint8_t shallow[VERDICT_ID_SIZE], char hex[static VERDICT_HEX + 1])
{
	static const char domain[] = "gitseal history verdict v1";
	uint8_t trust[GITTRUST_DIGEST_SIZE], id[VERDICT_ID_SIZE];
	crypto_generichash_state st;
	int ret;

	/* the trust digest covers the path */
	if ((ret = gittrust_digest(f, path, trust)))
		return ret;
	crypto_generichash_init(&st, (const uint8_t *)domain, sizeof(domain) - 1, VERDICT_ID_SIZE);
	crypto_generichash_update(&st, trust, sizeof(trust));
	crypto_generichash_update(&st, key_id, GITSEAL_KEY_ID_SIZE);
	crypto_generichash_update(&st, shallow, VERDICT_ID_SIZE);
	crypto_generichash_final(&st, id, sizeof(id));
	sodium_bin2hex(hex, VERDICT_HEX + 1, id, sizeof(id));
	return 0;
}

static void verdict_check(const char *text, size_t n, char hex[static VERDICT_HEX + 1])
{
	static const char domain[] = "gitseal history line v1";
	uint8_t id[VERDICT_ID_SIZE];

	crypto_generichash(id, sizeof(id), (const uint8_t *)text, n, (const uint8_t *)domain, sizeof(domain) - 1);
	sodium_bin2hex(hex, VERDICT_HEX + 1, id, sizeof(id));
}

/* A line of the file, its check verified. */
struct verdict_line {
	char verdict;
	const char *base, *tips;
	size_t tip_count;
};

static bool verdict_parse(const char *p, size_t n, struct verdict_line *l)
{
	char check[VERDICT_HEX + 1];
	size_t tips_len;

	if (n < 2 + VERDICT_HEX + 1 + VERDICT_TIP_TEXT + 1 + VERDICT_HEX || (p[0] != 'c' && p[0] != 'r') ||
	    p[1] != ' ' || p[2 + VERDICT_HEX] != ' ' || p[n - VERDICT_HEX - 1] != ' ')
		return false;
	tips_len = n - (2 + VERDICT_HEX + 1) - (VERDICT_HEX + 1);
	if ((tips_len + 1) % (VERDICT_TIP_TEXT + 1))
		return false;
	verdict_check(p, n - VERDICT_HEX - 1, check);
	if (sodium_memcmp(check, p + n - VERDICT_HEX, VERDICT_HEX))
		return false;
	l->verdict = p[0];
	l->base = p + 2;
	l->tips = p + 2 + VERDICT_HEX + 1;
	l->tip_count = (tips_len + 1) / (VERDICT_TIP_TEXT + 1);
	return true;
}

/* Tip i of a line: its id, and whether the key was had up to it. */
static bool verdict_tip(const struct verdict_line *l, size_t i, git_oid *id, bool *had)
{
	const char *t = l->tips + i * (VERDICT_TIP_TEXT + 1);

	if (git_oid_fromstrn(id, t, GIT_OID_HEXSZ) < 0 || t[GIT_OID_HEXSZ] != '=' ||
	    (t[GIT_OID_HEXSZ + 1] != '0' && t[GIT_OID_HEXSZ + 1] != '1')) {
		git_error_clear();
		return false;
	}
	*had = t[GIT_OID_HEXSZ + 1] == '1';
	return true;
}

static bool verdict_tips_are(const struct verdict_line *l, const struct history_tips *tips)
{
	git_oid id;
	bool had;

	if (l->tip_count != tips->count)
		return false;
	for (size_t i = 0; i < tips->count; i++)
		if (!verdict_tip(l, i, &id, &had) || memcmp(id.id, tips->ids[i].id, sizeof(id.id)))
			return false;
	return true;
}

/* A current verdict's tips into the walk, as commits taken, each with
 * whether the key was had up to it: the walk from newer tips stops there
 * (no version up to them may refuse the key, by the verdict). */
static int verdict_seed(struct history_walk *w, const struct verdict_line *l)
{
	git_oid id;
	bool had;
	int ret = 0;

	for (size_t i = 0; !ret && i < l->tip_count; i++)
		if (verdict_tip(l, i, &id, &had))
			ret = oidmap_put(&w->done, &id, had ? COMMIT_HAD_KEY : 0);
	return ret;
}

/* The verdicts file into text (empty when there is none). */
static int verdicts_read(struct gitfilter *f, char path[static PATH_MAX], struct gs_buf *text)
{
	int ret;

	if (!f->statedir || (size_t)snprintf(path, PATH_MAX, "%shistory", f->statedir) >= PATH_MAX)
		return GS_FAIL(GS_ERR_LIMIT, "git directory path too long");
	ret = gs_read_file(path, text, VERDICTS_FILE_MAX);
	if (ret == GS_ERR_NOT_FOUND) {
		gs_error_clear();
		ret = 0;
	}
	return ret;
}

/* The verdict of base for exactly these tips, if text has one (true);
 * else every current verdict of base seeds the walk. */
static bool verdicts_find(const struct gs_buf *text, const char *base, const struct history_tips *tips,
			  struct history_walk *w, bool *current)
{
	const char *p = (const char *)text->data, *end = p + text->len, *nl;
	struct verdict_line l;

	for (; p && p < end && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1) {
		if (!verdict_parse(p, (size_t)(nl - p), &l) || memcmp(l.base, base, VERDICT_HEX))
			continue;
		if (verdict_tips_are(&l, tips)) {
			*current = l.verdict == 'c';
			return true;
		}
		if (l.verdict == 'c' && verdict_seed(w, &l))
			gs_error_clear(); /* out of memory: less is skipped */
	}
	return false;
}

/* "c BASE ID=H,... CHECK" for a walk's verdict (H from its commits). */
static int verdict_format(struct gs_buf *out, const char *base, const struct history_tips *tips,
			  const struct history_walk *w, bool current)
{
	char hex[GIT_OID_HEXSZ + 1], check[VERDICT_HEX + 1];
	size_t start = out->len;
	int ret = gs_buf_printf(out, "%c %s ", current ? 'c' : 'r', base);

	for (size_t i = 0; !ret && i < tips->count; i++) {
		const struct oid_entry *e = oidmap_find(&w->done, &tips->ids[i]);

		sodium_bin2hex(hex, sizeof(hex), tips->ids[i].id, GIT_OID_RAWSZ);
		ret = gs_buf_printf(out, "%s%s=%c", i ? "," : "", hex,
				    current && e && (e->flags & COMMIT_HAD_KEY) ? '1' : '0');
	}
	if (ret)
		return ret;
	verdict_check((const char *)out->data + start, out->len - start, check);
	return gs_buf_printf(out, " %s\n", check);
}

/* Appends the verdict, drops the oldest beyond VERDICTS_KEEP: written
 * whole (temporary file, fsync, rename), mode 0600. A verdict not kept
 * costs a walk, so failures are not errors. */
static void verdicts_store(struct gitfilter *f, const char *base, const struct history_tips *tips,
			   const struct history_walk *w, bool current)
{
	char path[PATH_MAX];
	struct gs_buf old, text;
	size_t lines = 0, skip;
	const char *p, *end, *nl;

	gs_buf_init(&old, false);
	gs_buf_init(&text, false);
	if (verdicts_read(f, path, &old))
		goto out;
	p = (const char *)old.data;
	end = p + old.len;
	for (const char *q = p; q && q < end && (q = memchr(q, '\n', (size_t)(end - q))); q++)
		lines++;
	skip = lines >= VERDICTS_KEEP ? lines - VERDICTS_KEEP + 1 : 0;
	/* whole lines only: a torn or hand-cut last line is dropped */
	for (; p && p < end && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1)
		if (skip) {
			skip--;
		} else if (gs_buf_append(&text, p, (size_t)(nl - p) + 1)) {
			goto out;
		}
	if (!verdict_format(&text, base, tips, w, current) && gs_atomic_write(path, text.data, text.len, 0600))
		gs_error_clear(); /* not kept: the next command walks again */
out:
	gs_error_clear();
	gs_buf_release(&old);
	gs_buf_release(&text);
}

/* The verdict from .git/gitseal/history, else from a walk (then kept),
 * which stops at the tips of current verdicts kept for the same key. */
static int verdict(struct gitfilter *f, struct history_walk *w, const struct history_tips *tips, bool *current)
{
	char base[VERDICT_HEX + 1], path[PATH_MAX];
	uint8_t shallow[VERDICT_ID_SIZE];
	struct gs_buf text;
	int ret;

	gs_buf_init(&text, false);
	if ((ret = read_shallow(f, &w->shallow, shallow)) ||
	    (ret = verdict_base(f, w->path, w->key_id, shallow, base)))
		goto out;
	if (!verdicts_read(f, path, &text) && verdicts_find(&text, base, tips, w, current))
		goto out;
	gs_error_clear();
	/* a version that did not open counts as carrying another key; an
	 * identity added later (gpg's, a key command's) might open it, so a
	 * "current" from such a walk is not kept */
	if (!(ret = walk(w, tips, current)) && !(*current && w->unopened))
		verdicts_store(f, base, tips, w, *current);
out:
	gs_buf_release(&text);
	return ret;
}

bool githistory_key_current(struct gitfilter *f, const char *path, const uint8_t key_id[GITSEAL_KEY_ID_SIZE])
{
	struct history_walk w = { .f = f, .path = path, .key_id = key_id };
	uint8_t tips_id[HISTORY_TIPS_HASH_SIZE], id[HISTORY_ANSWER_ID_SIZE];
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
	answer_id(path, tips_id, key_id, id);
	if ((a = answer_find(f->history, id)))
		current = a->verdict == ANSWER_CURRENT;
	else if (verdict(f, &w, &tips, &current) == 0)
		answer_keep(f, id, current);
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
	free(h->slots);
	free(h);
}
