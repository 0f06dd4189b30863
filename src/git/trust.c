/* What this clone has accepted and what it has made, kept where only the
 * user writes: <common git dir>/gitseal/ (shared by the worktrees of a
 * repository, never committed).
 *
 *   accepted    per path, the recipients a file may be sealed for beyond
 *               those of its rule in sops.yaml: "recipient<TAB>path" lines.
 *               A file, a .sops.yaml or a merge that names anyone else for
 *               a path is refused until `gitseal updatekeys` shows the
 *               change and the user accepts it (repository content is
 *               attacker input). Acceptance is per path, never for the
 *               clone: a recipient who may read dev files must not read
 *               prod ones because a pull request names them there. Lines
 *               of a bare recipient (gitseal before per-path records)
 *               grant nothing: 'gitseal updatekeys -r .' shows what they
 *               covered and records it per path.
 *               The recipients of this clone's own identities are accepted
 *               on every path (sealing for oneself discloses nothing).
 *               A path's records outlive its file: 'gitseal updatekeys -r'
 *               shows and drops those of paths no worktree holds any more
 *               (gone.c), a grant a pull request re-creating the file
 *               could otherwise use.
 *   sops.yaml   the .sops.yaml as last accepted: the recipients and the
 *               selection rule of its rule for a path may seal that path.
 *   data-keys   ids of the data keys this clone made, or vouched for with
 *               `gitseal git trust`, each bound to the file it was made
 *               or vouched for (a keyed BLAKE2b of the key's id and the
 *               file's path in the work tree, which tells nothing about
 *               the key). A data key is re-used only for a file whose
 *               path and key are one of them: a key someone else made
 *               may be known to whoever made it, even when the file
 *               names only us (a planted key); a key made here for a
 *               file others read too is known to them (its ciphertext
 *               copied over a file only we read). Each line also names
 *               whom the key was wrapped for there ("ID R1,R2,..."); the
 *               key is re-used only while all it was ever wrapped for at
 *               that path are still accepted for it (a revoked reader's
 *               pre-rotation version brought back gets a fresh key). The
 *               record names only whom this clone wrapped it for: whom a
 *               teammate added keeping the key, the file's history tells
 *               (history.c, asked after this record).
 *               Ids written before they named the path and the
 *               recipients match nothing: such a file gets a fresh data
 *               key on its next change, as a renamed one.
 *               The id of a file gone stays (a hash: it names no path to
 *               prune by) and discloses nothing: a file re-created at that
 *               path re-uses the key only while all it was wrapped for
 *               there are accepted for the path, so while sealing for
 *               them there is allowed anyway; the records that accepted
 *               them for that file alone go with it (updatekeys -r).
 *   sealed      in a clone that cannot open what it seals: keyed hashes of
 *   hash-key    each blob it sealed and its plaintext (see below).
 *   locked      `gitseal git lock`: the smudge filter leaves ciphertext.
 *   kept-rules  sops files new to the repository that the user added with
 *               GITSEAL_KEEP_FILE_RULE=1 although their own rule leaves
 *               in clear what the accepted rule seals: a BLAKE2b of the
 *               path and the blob's bytes a line, so that `gitseal git
 *               check` (the hook) lets that blob through as the add did. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "gitfilter_int.h"

enum { TRUST_FILE_MAX = 64 * 1024 * 1024 };

/* The sets of made keys and seals, their files and the hash key change
 * while the filter's read-ahead seals new files on other threads. */
static pthread_mutex_t changes_lock = PTHREAD_MUTEX_INITIALIZER;

static int state_path(struct gitfilter *f, const char *name, char *out, size_t cap)
{
	if (!f->statedir)
		return GS_FAIL(GS_ERR_USAGE, "not in a git repository");
	if ((size_t)snprintf(out, cap, "%s%s", f->statedir, name) >= cap)
		return GS_FAIL(GS_ERR_LIMIT, "git directory path too long");
	return 0;
}

static int state_dir_make(struct gitfilter *f)
{
	if (mkdir(f->statedir, 0700) != 0 && errno != EEXIST)
		return GS_FAIL(GS_ERR_IO, "cannot create '%s': %s", gs_shown(f->statedir), strerror(errno));
	return 0;
}

/* ---- the ids of data keys made here: an open-addressing set ---- */

static size_t id_slot(const uint8_t *id, size_t cap)
{
	size_t h;

	memcpy(&h, id, sizeof(h)); /* ids are uniform already */
	return h & (cap - 1);
}

static bool id_is_empty(const uint8_t *slot)
{
	static const uint8_t zero[GITSEAL_KEY_ID_SIZE];

	return !memcmp(slot, zero, GITSEAL_KEY_ID_SIZE);
}

static int id_insert(struct idset *t, const uint8_t *id);

static int id_grow(struct idset *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024, old_cap = t->cap;
	uint8_t *old = t->ids;

	if (!(t->ids = gs_calloc(cap, GITSEAL_KEY_ID_SIZE))) {
		t->ids = old;
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	t->cap = cap;
	t->count = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (!id_is_empty(old + i * GITSEAL_KEY_ID_SIZE))
			(void)id_insert(t, old + i * GITSEAL_KEY_ID_SIZE);
	free(old);
	return 0;
}

static uint8_t *id_find(const struct idset *t, const uint8_t *id)
{
	if (!t->cap)
		return NULL;
	for (size_t i = id_slot(id, t->cap);; i = (i + 1) & (t->cap - 1)) {
		uint8_t *slot = t->ids + i * GITSEAL_KEY_ID_SIZE;

		if (id_is_empty(slot))
			return NULL;
		if (!memcmp(slot, id, GITSEAL_KEY_ID_SIZE))
			return slot;
	}
}

static int id_insert(struct idset *t, const uint8_t *id)
{
	int ret;

	if (id_is_empty(id) || id_find(t, id))
		return 0;
	if ((t->count + 1) * 2 > t->cap && (ret = id_grow(t)))
		return ret;
	for (size_t i = id_slot(id, t->cap);; i = (i + 1) & (t->cap - 1)) {
		uint8_t *slot = t->ids + i * GITSEAL_KEY_ID_SIZE;

		if (id_is_empty(slot)) {
			memcpy(slot, id, GITSEAL_KEY_ID_SIZE);
			t->count++;
			return 0;
		}
	}
}

/* ---- loading ---- */

static int read_optional(struct gitfilter *f, const char *name, struct gs_buf *b, bool *found)
{
	char path[PATH_MAX];
	int ret = state_path(f, name, path, sizeof(path));

	*found = false;
	if (ret)
		return ret;
	ret = gs_read_file(path, b, TRUST_FILE_MAX);
	if (ret == GS_ERR_NOT_FOUND) {
		gs_error_clear();
		return 0;
	}
	*found = !ret;
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool line_is_blank(const char *p, size_t n)
{
	return !n || p[0] == '#';
}

static int add_recipient(struct gittrust *t, const char *p, size_t n)
{
	return gs_strings_push(&t->recipients, &t->recipient_count, p, n);
}

/* Calls fn for each line of b, byte for byte: a path is the rest of its
 * line, and one trimmed would be read back as another path's record. */
static int each_line(const struct gs_buf *b, int (*fn)(void *ctx, const char *p, size_t n), void *ctx)
{
	const char *p = (const char *)b->data, *end = p + b->len;
	int ret = 0;

	while (p < end && !ret) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol ? eol : end) - p);

		ret = fn(ctx, p, n);
		p = eol ? eol + 1 : end;
	}
	return ret;
}

/* A bare recipient (an old record for the whole clone) is dropped: it
 * would let a pull request name that recipient for any path. */
static int recipient_line(void *ctx, const char *p, size_t n)
{
	return line_is_blank(p, n) || !memchr(p, '\t', n) ? 0 : add_recipient(ctx, p, n);
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Ids are public (hashes), so a plain decoder: sodium_hex2bin's constant
 * time cost ~5,000 instructions a line, read by every git command. */
/* An id in hex at the start of p (2 * GITSEAL_KEY_ID_SIZE digits). */
static bool hex_id(const char *p, uint8_t id[GITSEAL_KEY_ID_SIZE])
{
	for (size_t i = 0; i < GITSEAL_KEY_ID_SIZE; i++) {
		int hi = hex_digit(p[2 * i]), lo = hex_digit(p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		id[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static int key_id_line(void *ctx, const char *p, size_t n)
{
	uint8_t id[GITSEAL_KEY_ID_SIZE];

	/* a damaged line is no id: at worst a key is not re-used */
	if (n != 2 * GITSEAL_KEY_ID_SIZE || !hex_id(p, id))
		return 0;
	return id_insert(ctx, id);
}

/* ---- the data keys made here: path-bound ids and whom each was wrapped for ---- */

static struct key_record *key_find(const struct keymap *m, const uint8_t *id)
{
	for (size_t i = m->cap ? id_slot(id, m->cap) : 0, n = 0; n < m->cap; i = (i + 1) & (m->cap - 1), n++) {
		struct key_record *r = &m->slots[i];

		if (id_is_empty(r->id))
			return NULL;
		if (!memcmp(r->id, id, GITSEAL_KEY_ID_SIZE))
			return r;
	}
	return NULL;
}

static struct key_record *key_slot(struct keymap *m, const uint8_t *id);

static int key_grow(struct keymap *m)
{
	struct key_record *old = m->slots;
	size_t old_cap = m->cap;

	m->cap = m->cap ? m->cap * 2 : 1024;
	if (!(m->slots = gs_calloc(m->cap, sizeof(*m->slots)))) {
		m->slots = old;
		m->cap = old_cap;
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	m->count = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (!id_is_empty(old[i].id))
			*key_slot(m, old[i].id) = old[i];
	free(old);
	return 0;
}

/* The record of id, made empty when new; NULL when out of memory. */
static struct key_record *key_slot(struct keymap *m, const uint8_t *id)
{
	struct key_record *r;
	size_t i;

	if ((r = key_find(m, id)))
		return r;
	if ((m->count + 1) * 2 > m->cap && key_grow(m))
		return NULL;
	for (i = id_slot(id, m->cap); !id_is_empty(m->slots[i].id); i = (i + 1) & (m->cap - 1))
		;
	m->count++;
	memcpy(m->slots[i].id, id, GITSEAL_KEY_ID_SIZE);
	return &m->slots[i];
}

static int key_add_recipient(struct key_record *r, const char *p, size_t n)
{
	char **grown;

	for (size_t i = 0; i < r->count; i++)
		if (strlen(r->recipients[i]) == n && !memcmp(r->recipients[i], p, n))
			return 0;
	if (!(grown = gs_realloc(r->recipients, (r->count + 1) * sizeof(*grown))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	r->recipients = grown;
	if (!(r->recipients[r->count] = gs_strndup(p, n)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	r->count++;
	return 0;
}

/* "ID R1,R2,...": the id of a key at a path (hex) and whom it was wrapped
 * for there. A line without recipients (as this version wrote earlier on
 * 2026-12-03) or a damaged one grants nothing: at worst a key is not
 * re-used. */
static int key_record_line(void *ctx, const char *p, size_t n)
{
	uint8_t id[GITSEAL_KEY_ID_SIZE];
	struct key_record *r;
	const char *end = p + n, *item, *comma;
	int ret = 0;

	/* the all-zero id marks an empty slot: its record would sit there
	 * unseen, and the next key put in that slot would take its recipients */
	if (n <= 2 * GITSEAL_KEY_ID_SIZE + 1 || p[2 * GITSEAL_KEY_ID_SIZE] != ' ' || !hex_id(p, id) ||
	    id_is_empty(id))
		return 0;
	if (!(r = key_slot(ctx, id)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (item = p + 2 * GITSEAL_KEY_ID_SIZE + 1; !ret && item < end; item = comma + 1) {
		if (!(comma = memchr(item, ',', (size_t)(end - item))))
			comma = end;
		if (comma > item)
			ret = key_add_recipient(r, item, (size_t)(comma - item));
	}
	return ret;
}

static void keymap_release(struct keymap *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		for (size_t j = 0; j < m->slots[i].count; j++)
			free(m->slots[i].recipients[j]);
		free(m->slots[i].recipients);
	}
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

int gittrust_parse_records(struct gittrust *t, const struct gs_buf *accepted, const struct gs_buf *sealed,
			   const struct gs_buf *data_keys)
{
	int ret;

	if ((ret = each_line(accepted, recipient_line, t)) || (ret = each_line(sealed, key_id_line, &t->sealed)) ||
	    (ret = each_line(data_keys, key_record_line, &t->key_ids)))
		return ret;
	if (t->recipient_count)
		qsort(t->recipients, t->recipient_count, sizeof(*t->recipients), cmp_str);
	return 0;
}

int gittrust_parse_config(struct gitfilter *f, const struct gs_buf *text, struct sops_config **out)
{
	char *dir = gs_strdup(f->workdir);
	size_t n;
	int ret;

	if (!dir)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	n = strlen(dir);
	if (n > 1 && dir[n - 1] == '/')
		dir[n - 1] = '\0';
	ret = sops_config_parse((const char *)text->data, text->len, dir, out);
	free(dir);
	return ret;
}

int gittrust_check_config_recipients(const struct sops_config *c)
{
	for (size_t r = 0; r < c->rule_count; r++)
		for (size_t g = 0; g < c->rules[r].group_count; g++)
			for (size_t i = 0; i < c->rules[r].groups[g].age_count; i++) {
				const char *text = c->rules[r].groups[g].age[i];
				struct age_recipient *parsed;
				int ret = age_recipient_parse(text, &parsed);

				age_recipient_free(parsed);
				if (ret == GS_ERR_NOMEM)
					return ret;
				if (ret) {
					gs_error_prefix("creation rule %zu: age recipient '%s'", r + 1, gs_shown(text));
					return GS_ERR_CONFIG;
				}
			}
	return 0;
}

static int load_config_snapshot(struct gitfilter *f, const struct gs_buf *text)
{
	int ret = gittrust_parse_config(f, text, &f->trust.config);

	if (ret)
		gs_error_prefix("the accepted .sops.yaml in '%s'", gs_shown(f->statedir));
	return ret;
}

/* Each line of the state file name, if there is one, given to fn. */
static int read_lines(struct gitfilter *f, const char *name, struct gs_buf *b, bool *found,
		      int (*fn)(void *ctx, const char *p, size_t n), void *ctx)
{
	int ret;

	gs_buf_reset(b);
	if ((ret = read_optional(f, name, b, found)) || !*found)
		return ret;
	return each_line(b, fn, ctx);
}

/* The filter's smudge workers (a delayed checkout) call gittrust_load as
 * well, and when the main thread's load failed (out of memory) several
 * of them would load at once into the same gittrust: one at a time, then. */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static int load_state(struct gitfilter *f)
{
	struct gittrust *t = &f->trust;
	struct gs_buf b;
	char path[PATH_MAX];
	bool found;
	int ret;

	t->key_fd = t->sealed_fd = -1;
	gs_buf_init(&b, false);
	if ((ret = read_lines(f, "accepted", &b, &t->have_record, recipient_line, t)))
		goto out;
	if (t->recipient_count)
		qsort(t->recipients, t->recipient_count, sizeof(*t->recipients), cmp_str);
	gs_buf_reset(&b);
	if ((ret = read_optional(f, "sops.yaml", &b, &found)) || (found && (ret = load_config_snapshot(f, &b))))
		goto out;
	if ((ret = read_lines(f, "sealed", &b, &found, key_id_line, &t->sealed)) ||
	    (ret = state_path(f, "locked", path, sizeof(path))))
		goto out;
	t->locked = access(path, F_OK) == 0;
	t->loaded = true;
out:
	gs_buf_release(&b);
	if (ret) {
		/* nothing half loaded: the next call loads it all afresh, never on
		 * top of a part (a .sops.yaml parsed twice into one pointer) */
		gittrust_release(t);
		t->key_fd = t->sealed_fd = -1;
	}
	return ret;
}

/* The data keys made or vouched for here (data-keys), loaded when a clean
 * first asks: one record per key made, up to TRUST_FILE_MAX (about 1.2 s
 * of loading near it), which a checkout's smudges never read. Called with
 * changes_lock held; nothing half loaded on failure. */
static int keys_load(struct gitfilter *f)
{
	struct gittrust *t = &f->trust;
	struct gs_buf b;
	bool found;
	int ret;

	if (t->keys_loaded)
		return 0;
	gs_buf_init(&b, false);
	ret = read_lines(f, "data-keys", &b, &found, key_record_line, &t->key_ids);
	gs_buf_release(&b);
	if (ret)
		keymap_release(&t->key_ids);
	t->keys_loaded = !ret;
	return ret;
}

int gittrust_load(struct gitfilter *f)
{
	int ret = 0;

	if (!f->statedir)
		return GS_FAIL(GS_ERR_USAGE, "not in a git repository");
	/* loaded is read under the lock too: set on another thread, it says
	 * the whole state is there to read */
	pthread_mutex_lock(&load_lock);
	if (!f->trust.loaded)
		ret = load_state(f);
	pthread_mutex_unlock(&load_lock);
	return ret;
}

/* ---- questions ---- */

/* The accepted .sops.yaml's rule for path, NULL when none matches. */
static const struct sops_rule *accepted_rule(struct gitfilter *f, const char *path)
{
	const struct sops_rule *rule = NULL;
	char full[PATH_MAX];

	if (!f->trust.config || (size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, path) >= sizeof(full) ||
	    sops_config_match(f->trust.config, full, &rule) != 0) {
		gs_error_clear();
		return NULL;
	}
	return rule;
}

static bool rule_names(const struct sops_rule *rule, const char *r)
{
	for (size_t g = 0; rule && g < rule->group_count; g++)
		if (sops_key_group_has(&rule->groups[g], r))
			return true;
	return false;
}

/* Whether "r<TAB>path" is recorded. */
static bool recorded(const struct gittrust *t, const char *r, const char *path)
{
	char *line;
	bool found;

	if (!t->recipient_count || gs_asprintf(&line, "%s\t%s", r, path) < 0)
		return false;
	found = bsearch(&line, t->recipients, t->recipient_count, sizeof(*t->recipients), cmp_str) != NULL;
	free(line);
	return found;
}

/* Sealing for one of this clone's own identities discloses nothing, on
 * any path. The filter prepares their recipients before any read-ahead
 * thread starts. */
static bool own_recipient(struct gitfilter *f, const char *r)
{
	gitseal_prepare_recipients(f);
	for (size_t i = 0; i < f->id_recipient_count; i++)
		if (f->id_recipients[i] && !strcmp(f->id_recipients[i], r))
			return true;
	return false;
}

static bool accepted(struct gitfilter *f, const struct sops_rule *rule, const char *r, const char *path)
{
	return rule_names(rule, r) || recorded(&f->trust, r, path) || own_recipient(f, r);
}

/* Each string with its length first, so no other split hashes alike. */
static void digest_string(crypto_generichash_state *st, const char *s)
{
	uint64_t n = strlen(s);
	uint8_t len[8];

	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(n >> (8 * i));
	crypto_generichash_update(st, len, sizeof(len));
	crypto_generichash_update(st, (const uint8_t *)s, n);
}

int gittrust_digest(struct gitfilter *f, const char *path, uint8_t out[GITTRUST_DIGEST_SIZE])
{
	static const char domain[] = "gitseal accepted for a path v1";
	const struct sops_rule *rule;
	crypto_generichash_state st;
	int ret;

	if ((ret = gittrust_load(f)))
		return ret;
	rule = accepted_rule(f, path);
	gitseal_prepare_recipients(f);
	crypto_generichash_init(&st, (const uint8_t *)domain, sizeof(domain) - 1, GITTRUST_DIGEST_SIZE);
	digest_string(&st, path);
	/* "rule" / "records" / "own" mark where each list starts */
	digest_string(&st, rule ? "rule" : "no rule");
	for (size_t g = 0; rule && g < rule->group_count; g++) {
		digest_string(&st, "group");
		for (size_t i = 0; i < sops_key_group_size(&rule->groups[g]); i++)
			digest_string(&st, sops_key_group_key(&rule->groups[g], i));
	}
	/* the path's records only: whom another path is accepted for says
	 * nothing here, and every record for each file was quadratic (a
	 * record per file after an updatekeys) */
	digest_string(&st, "records");
	for (size_t i = 0; i < f->trust.recipient_count; i++) {
		const char *tab = strchr(f->trust.recipients[i], '\t');

		if (tab && !strcmp(tab + 1, path))
			digest_string(&st, f->trust.recipients[i]);
	}
	digest_string(&st, "own");
	for (size_t i = 0; i < f->id_recipient_count; i++)
		digest_string(&st, f->id_recipients[i] ? f->id_recipients[i] : "");
	crypto_generichash_final(&st, out, GITTRUST_DIGEST_SIZE);
	return 0;
}

int gitfilter_recipient_accepted(struct gitfilter *f, const char *arg, const char *r, bool *yes)
{
	char *rel = NULL;
	int ret;

	*yes = false;
	if ((ret = gittrust_load(f)) || (ret = gitfilter_path_in_repo(f, arg, &rel)))
		return ret;
	*yes = accepted(f, accepted_rule(f, rel), r, rel);
	free(rel);
	return 0;
}

int gitfilter_recipient_accepted_in(struct gitfilter *f, const char *arg, size_t group, const char *r, bool *yes)
{
	const struct sops_rule *rule;
	char *rel = NULL;
	int ret;

	*yes = false;
	if ((ret = gittrust_load(f)) || (ret = gitfilter_path_in_repo(f, arg, &rel)))
		return ret;
	rule = accepted_rule(f, rel);
	/* where the rule splits the key, a recipient moved to another group
	 * (or named in two) changes how many holders must come together */
	*yes = accepted(f, rule, r, rel) &&
	       (!rule || rule->group_count < 2 ||
		(group < rule->group_count && sops_key_group_has(&rule->groups[group], r)));
	free(rel);
	return 0;
}

int gitfilter_accepted_groups(struct gitfilter *f, const char *arg, size_t *groups, int *threshold)
{
	const struct sops_rule *rule = NULL;
	char full[PATH_MAX], *rel = NULL;
	int ret;

	*groups = 0;
	*threshold = 0;
	if ((ret = gittrust_load(f)) || !f->trust.config || (ret = gitfilter_path_in_repo(f, arg, &rel)))
		goto out;
	if ((size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, rel) >= sizeof(full)) {
		ret = GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", gs_shown(arg));
		goto out;
	}
	ret = sops_config_match(f->trust.config, full, &rule);
	if (ret == GS_ERR_NO_RULE) {
		gs_error_clear();
		ret = 0;
	} else if (!ret) {
		*groups = rule->group_count;
		*threshold = rule->shamir_threshold;
	}
out:
	free(rel);
	return ret;
}


int gitfilter_found_rule_accepted(struct gitfilter *f, const char *arg, const struct sops_key_summary *keys,
				  bool selection, bool groups)
{
	const struct sops_selection *sel = &keys->selection;
	char *rel = NULL;
	int ret;

	if ((ret = gittrust_load(f)) || (ret = gitfilter_path_in_repo(f, arg, &rel)))
		return ret;
	if (selection && !gittrust_selection_accepted(f, rel, sel))
		ret = GS_FAIL(GS_ERR_CONFIG, "it encrypts less than the rule this clone accepted (%s%s%s%s)",
			      sel->kind ? sops_selection_key(sel->kind) : "",
			      sel->kind ? " '" : "", sel->value ? gs_shown(sel->value) : "",
			      sel->kind ? "'" : "mac_only_encrypted");
	else if (groups)
		ret = gittrust_check_groups(f, rel, keys);
	free(rel);
	return ret;
}

int gittrust_unaccepted(struct gitfilter *f, const char *path, const struct sops_key_summary *keys,
			struct gs_buf *list)
{
	const struct sops_rule *rule;
	int ret = gittrust_load(f);

	rule = ret ? NULL : accepted_rule(f, path);
	for (size_t g = 0; !ret && g < keys->group_count; g++) {
		for (size_t i = 0; !ret && i < sops_key_group_size(&keys->groups[g]); i++) {
			const char *r = sops_key_group_key(&keys->groups[g], i);

			if (!accepted(f, rule, r, path))
				ret = gs_buf_printf(list, "%s+%s", list->len ? ", " : "", gs_shown(r));
		}
	}
	return ret;
}

/* Whether list ("+a, +b") holds item whole. */
static bool listed(const struct gs_buf *list, const char *item)
{
	const char *p = (const char *)list->data, *end = p + list->len;
	size_t n = strlen(item);

	while (p && p + n <= end) {
		if (!memcmp(p, item, n) && (p + n == end || p[n] == ','))
			return true;
		p = memchr(p, ',', (size_t)(end - p));
		p = p ? p + 2 : NULL;
	}
	return false;
}

/* The snapshot's rule with the same path_regex as rule, NULL if none. */
static const struct sops_rule *same_rule(const struct sops_config *c, const struct sops_rule *rule)
{
	for (size_t i = 0; c && i < c->rule_count; i++)
		if (!strcmp(c->rules[i].path_regex ? c->rules[i].path_regex : "",
			    rule->path_regex ? rule->path_regex : ""))
			return &c->rules[i];
	return NULL;
}

int gittrust_config_changes(struct gitfilter *f, const struct sops_config *config, struct gs_buf *list)
{
	int ret = gittrust_load(f);

	for (size_t k = 0; !ret && k < config->rule_count; k++) {
		const struct sops_rule *rule = &config->rules[k], *old = same_rule(f->trust.config, rule);

		for (size_t g = 0; !ret && g < rule->group_count; g++)
			for (size_t i = 0; !ret && i < sops_key_group_size(&rule->groups[g]); i++) {
				const char *r = sops_key_group_key(&rule->groups[g], i);
				char *item;

				if (rule_names(old, r))
					continue;
				/* shown before updatekeys asks: a control byte in a
				 * recipient of .sops.yaml could erase the lines above */
				if (gs_asprintf(&item, "+%s", gs_shown(r)) < 0)
					return GS_FAIL(GS_ERR_NOMEM, "out of memory");
				/* once each: a recipient new to two rules is one change */
				if (!listed(list, item))
					ret = gs_buf_printf(list, "%s%s", list->len ? ", " : "", item);
				free(item);
			}
	}
	/* a rule gone sends its paths to a later rule, which may name others */
	for (size_t k = 0; !ret && f->trust.config && k < f->trust.config->rule_count; k++)
		if (!same_rule(config, &f->trust.config->rules[k]))
			ret = gs_buf_printf(list, "%sthe rule for '%s' removed", list->len ? ", " : "",
					    gs_shown(sops_rule_label(&f->trust.config->rules[k])));
	return ret;
}

/* Where the accepted .sops.yaml splits the key into groups for path, the
 * keys must have those groups and need as many of them: every recipient
 * being accepted says nothing of how many must come together, and the
 * groups and threshold of a file's metadata are outside the MAC. */
int gittrust_check_groups(struct gitfilter *f, const char *path, const struct sops_key_summary *keys)
{
	const struct sops_rule *rule = accepted_rule(f, path);
	struct sops_key_summary r = { 0 };
	int want, have;

	if (!rule || rule->group_count < 2)
		return 0;
	want = sops_groups_needed(rule->group_count, rule->shamir_threshold);
	have = sops_groups_needed(keys->group_count, keys->shamir_threshold);
	r.groups = rule->groups;
	r.group_count = rule->group_count;
	r.shamir_threshold = have >= want ? keys->shamir_threshold : rule->shamir_threshold;
	if (keys->group_count == rule->group_count && have >= want && gitseal_keys_equal_groups(keys, &r))
		return 0;
	return gittrust_refused_unaccepted(
		GS_FAIL(GS_ERR_CONFIG, "key groups changed: %zu group(s), %d needed, where .sops.yaml has %zu, %d needed; %s",
			keys->group_count, have, rule->group_count, want, gittrust_accept_hint(path)));
}

/* The mark of a refusal of keys or a rule this clone did not accept */
static const char unaccepted_kind;

int gittrust_refused_unaccepted(int code)
{
	gs_error_mark(&unaccepted_kind);
	return code;
}

bool gittrust_is_unaccepted(void)
{
	return gs_error_kind() == &unaccepted_kind && gs_error_code() == GS_ERR_CONFIG;
}

int gitseal_check_accepted(struct gitfilter *f, const char *path, const struct sops_key_summary *keys)
{
	struct gs_buf list;
	int ret;

	if ((ret = gittrust_load(f)))
		return ret;
	if (!f->trust.have_record)
		return gittrust_refused_unaccepted(
			GS_FAIL(GS_ERR_CONFIG, "this clone has accepted no recipients yet: run 'gitseal "
					       "updatekeys -r .' (it shows whom the files are sealed for)"));
	gs_buf_init(&list, false);
	if ((ret = gittrust_unaccepted(f, path, keys, &list)))
		goto out;
	if (list.len) {
		ret = gittrust_refused_unaccepted(GS_FAIL(GS_ERR_CONFIG, "recipients changed: %s; %s",
							  (const char *)list.data, gittrust_accept_hint(path)));
		goto out;
	}
	ret = gittrust_check_groups(f, path, keys);
out:
	gs_buf_release(&list);
	return ret;
}

static bool same_selection(const struct sops_selection *a, const struct sops_selection *b)
{
	return a->kind == b->kind && a->mac_only_encrypted == b->mac_only_encrypted &&
	       !strcmp(a->value ? a->value : "", b->value ? b->value : "");
}

bool gittrust_selection_accepted(struct gitfilter *f, const char *path, const struct sops_selection *sel)
{
	const struct sops_rule *rule = NULL;
	char full[PATH_MAX];

	/* the default seals every value and covers it with the MAC */
	if (sel->kind == SOPS_SEL_NONE && !sel->mac_only_encrypted)
		return true;
	if (gittrust_load(f) || !f->trust.config ||
	    (size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, path) >= sizeof(full) ||
	    sops_config_match(f->trust.config, full, &rule) != 0) {
		gs_error_clear();
		return false;
	}
	return same_selection(&rule->selection, sel);
}

/* The selection as sealing applies it: sops's default for a Kubernetes
 * Secret when the rule names none (seal.c, gitseal encrypt). */
static struct sops_selection as_applied(const struct sops_selection *sel, const struct doc *plain)
{
	struct sops_selection s = *sel;

	if (s.kind == SOPS_SEL_NONE && sops_config_is_k8s_secret(plain)) {
		s.kind = SOPS_SEL_ENCRYPTED_REGEX;
		s.value = (char *)GITSEAL_K8S_SECRET_REGEX;
	}
	return s;
}

/* The accepted .sops.yaml's selection for path, as sealing applies it to
 * doc; every value when no rule matches. */
static int accepted_selection(struct gitfilter *f, const char *path, const struct doc *doc,
			      struct sops_selection *sel)
{
	static const struct sops_selection seal_all = { .kind = SOPS_SEL_NONE };
	const struct sops_rule *rule = NULL;
	char full[PATH_MAX];
	int ret;

	if ((ret = gittrust_load(f)))
		return ret;
	if (!f->trust.config ||
	    (size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, path) >= sizeof(full) ||
	    sops_config_match(f->trust.config, full, &rule) != 0) {
		gs_error_clear();
		rule = NULL;
	}
	*sel = as_applied(rule ? &rule->selection : &seal_all, doc);
	return 0;
}

int gittrust_check_own_rule(struct gitfilter *f, const char *path, struct doc *sealed,
			    const struct sops_key_summary *keys, bool *kept)
{
	const char *keep = getenv("GITSEAL_KEEP_FILE_RULE");
	struct sops_selection own, wider;
	char where[256];
	int ret;

	*kept = false;
	if ((ret = accepted_selection(f, path, sealed, &wider)))
		return ret;
	own = as_applied(&keys->selection, sealed);
	if (same_selection(&own, &wider))
		return 0;
	ret = sops_doc_check_sealed(sealed, &wider, where, sizeof(where));
	if (ret == GS_ERR_DECRYPT_VALUE && keep && !strcmp(keep, "1")) {
		gs_error_clear();
		*kept = true;
		ret = 0;
	} else if (ret == GS_ERR_DECRYPT_VALUE) {
		gs_error_clear();
		ret = GS_FAIL(GS_ERR_CONFIG, "the value at '%s' is in clear under the file's own rule (%s '%s'), which "
					     "the accepted .sops.yaml rule seals: decrypt it and add it again to seal it "
					     "under that rule, or add it with GITSEAL_KEEP_FILE_RULE=1 to keep its own",
			      gs_shown(where), own.kind ? sops_selection_key(own.kind) : "mac_only_encrypted",
			      gs_shown(own.value ? own.value : "true"));
	}
	return ret;
}

enum { KEPT_HASH = 32 };

static void kept_hash(const char *path, const uint8_t *blob, size_t len, char hex[2 * KEPT_HASH + 1])
{
	static const char label[] = "gitseal kept-rules v1";
	crypto_generichash_state st;
	uint8_t h[KEPT_HASH];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof(label));
	crypto_generichash_update(&st, (const uint8_t *)path, strlen(path) + 1);
	crypto_generichash_update(&st, blob, len);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(hex, 2 * KEPT_HASH + 1, h, sizeof(h));
}

/* Not recorded (no room, a read-only .git): the hook refuses the blob,
 * with the same message and the same way out; the add stands. */
void gittrust_keep_rule(struct gitfilter *f, const char *path, const uint8_t *blob, size_t len)
{
	char file[PATH_MAX], line[2 * KEPT_HASH + 2];
	int fd;

	if (gittrust_rule_kept(f, path, blob, len) || state_dir_make(f) ||
	    state_path(f, "kept-rules", file, sizeof(file))) {
		gs_error_clear();
		return;
	}
	kept_hash(path, blob, len, line);
	line[2 * KEPT_HASH] = '\n';
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	/* one write of a whole line: concurrent filters append, never mix */
	if (write(fd, line, sizeof(line) - 1) != (ssize_t)sizeof(line) - 1)
		gs_error_clear();
	close(fd);
}

bool gittrust_rule_kept(struct gitfilter *f, const char *path, const uint8_t *blob, size_t len)
{
	char file[PATH_MAX], hex[2 * KEPT_HASH + 1];
	struct gs_buf b;
	bool found = false;

	if (state_path(f, "kept-rules", file, sizeof(file))) {
		gs_error_clear();
		return false;
	}
	kept_hash(path, blob, len, hex);
	gs_buf_init(&b, false);
	/* line by line: a torn line (a full disk) spoils itself only */
	if (gs_read_file(file, &b, TRUST_FILE_MAX) == 0)
		for (size_t off = 0; !found && off < b.len;) {
			const uint8_t *nl = memchr(b.data + off, '\n', b.len - off);
			size_t end = nl ? (size_t)(nl - b.data) : b.len;

			found = end - off == 2 * KEPT_HASH && !memcmp(b.data + off, hex, 2 * KEPT_HASH);
			off = end + 1;
		}
	gs_error_clear();
	gs_buf_release(&b);
	return found;
}

int gittrust_check_narrowed(struct gitfilter *f, const char *path, struct doc *plain,
			    const struct sops_key_summary *keys, struct doc *const *kept, size_t nkept)
{
	const char *keep = getenv("GITSEAL_KEEP_FILE_RULE");
	struct sops_selection own, wider;
	char where[256];
	bool comments;
	int ret;

	/* the user's word, as for a new file (gittrust_check_own_rule) */
	if (keep && !strcmp(keep, "1"))
		return 0;
	/* the accepted .sops.yaml's rule for the path; none: every value */
	if ((ret = accepted_selection(f, path, plain, &wider)))
		return ret;
	own = as_applied(&keys->selection, plain);
	/* a rule that reads comments is checked against itself: they are
	 * outside the MAC (sops_doc_check_narrowed) */
	comments = wider.kind == SOPS_SEL_UNENCRYPTED_COMMENT_REGEX;
	if (same_selection(&own, &wider) && !comments)
		return 0;
	ret = sops_doc_check_narrowed(plain, &own, &wider, kept, nkept, where, sizeof(where));
	if (ret == GS_ERR_DECRYPT_VALUE && comments && own.kind == wider.kind) {
		gs_error_clear();
		ret = GS_FAIL(GS_ERR_CONFIG, "the value at '%s' would be in clear by a comment before it (the rule's "
					     "unencrypted_comment_regex; comments are outside the MAC): add it with "
					     "GITSEAL_KEEP_FILE_RULE=1 to keep it so",
			      gs_shown(where));
	} else if (ret == GS_ERR_DECRYPT_VALUE) {
		gs_error_clear();
		ret = GS_FAIL(GS_ERR_CONFIG, "the value at '%s' would be in clear under the file's own rule (%s '%s'), "
					     "which .sops.yaml's rule seals: run 'gitseal updatekeys %s' to apply .sops.yaml's rule, or "
					     "add it with GITSEAL_KEEP_FILE_RULE=1 to keep the file's own",
			      gs_shown(where), own.kind ? sops_selection_key(own.kind) : "mac_only_encrypted",
			      gs_shown(own.value ? own.value : "true"), gs_shown(path));
	}
	return ret;
}

/* The id a data key is recorded under for the file at path (relative to
 * the work tree): the path's length first, so no other split of the same
 * bytes hashes alike; a domain of its own, so no id of the key alone (as
 * older versions wrote) is one of these. */
static void made_key_id(const uint8_t key_id[GITSEAL_KEY_ID_SIZE], const char *path,
			uint8_t id[GITSEAL_KEY_ID_SIZE])
{
	static const char domain[] = "gitseal: a data key made here for a path";
	crypto_generichash_state st;
	uint64_t n = strlen(path);
	uint8_t len[8];

	for (size_t i = 0; i < sizeof(len); i++)
		len[i] = (uint8_t)(n >> (8 * i));
	crypto_generichash_init(&st, (const uint8_t *)domain, sizeof(domain) - 1, GITSEAL_KEY_ID_SIZE);
	crypto_generichash_update(&st, key_id, GITSEAL_KEY_ID_SIZE);
	crypto_generichash_update(&st, len, sizeof(len));
	crypto_generichash_update(&st, (const uint8_t *)path, n);
	crypto_generichash_final(&st, id, GITSEAL_KEY_ID_SIZE);
	sodium_memzero(&st, sizeof(st));
}

bool gittrust_key_made_here(struct gitfilter *f, const char *path, const uint8_t key_id[GITSEAL_KEY_ID_SIZE])
{
	const struct sops_rule *rule;
	const struct key_record *r;
	uint8_t id[GITSEAL_KEY_ID_SIZE];
	bool found;

	if (!path || gittrust_load(f)) {
		gs_error_clear();
		return false;
	}
	made_key_id(key_id, path, id);
	rule = accepted_rule(f, path);
	pthread_mutex_lock(&changes_lock);
	/* doubt is a no: a key not known to be made here is not re-used */
	if (keys_load(f)) {
		gs_error_clear();
		r = NULL;
	} else {
		r = key_find(&f->trust.key_ids, id);
	}
	found = r && r->count;
	for (size_t i = 0; found && i < r->count; i++)
		found = accepted(f, rule, r->recipients[i], path);
	pthread_mutex_unlock(&changes_lock);
	return found;
}

/* ---- changes ---- */

/* Appends one id to a state file (opened once, kept in *fd) and to set. */
static int append_id(struct gitfilter *f, const char *name, int *fd, struct idset *set,
		     const uint8_t id[GITSEAL_KEY_ID_SIZE])
{
	char path[PATH_MAX], line[2 * GITSEAL_KEY_ID_SIZE + 2];
	int ret;

	if (*fd < 0) {
		if ((ret = state_dir_make(f)) || (ret = state_path(f, name, path, sizeof(path))))
			return ret;
		*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (*fd < 0)
			return GS_FAIL(GS_ERR_IO, "cannot open '%s': %s", gs_shown(path), strerror(errno));
	}
	sodium_bin2hex(line, sizeof(line), id, GITSEAL_KEY_ID_SIZE);
	line[2 * GITSEAL_KEY_ID_SIZE] = '\n';
	/* one write of a whole line: concurrent filters append, never mix */
	if (write(*fd, line, sizeof(line) - 1) != (ssize_t)sizeof(line) - 1)
		return GS_FAIL(GS_ERR_IO, "cannot write '%s%s': %s", f->statedir, name, strerror(errno));
	return id_insert(set, id);
}

/* The line recording that the key of id is wrapped for keys' recipients;
 * false when one cannot be written in it (then the key is not re-used). */
static bool key_line(const uint8_t id[GITSEAL_KEY_ID_SIZE], const struct sops_key_summary *keys, struct gs_buf *line)
{
	char hex[2 * GITSEAL_KEY_ID_SIZE + 1];
	bool any = false;

	sodium_bin2hex(hex, sizeof(hex), id, GITSEAL_KEY_ID_SIZE);
	if (gs_buf_printf(line, "%s ", hex))
		return false;
	for (size_t g = 0; g < keys->group_count; g++)
		for (size_t i = 0; i < sops_key_group_size(&keys->groups[g]); i++) {
			const char *r = sops_key_group_key(&keys->groups[g], i);

			if (!*r || strpbrk(r, ", \t\r\n") || gs_buf_printf(line, "%s%s", any ? "," : "", r))
				return false;
			any = true;
		}
	return any && !gs_buf_append_str(line, "\n");
}

int gittrust_remember_key(struct gitfilter *f, const char *path, const uint8_t key_id[GITSEAL_KEY_ID_SIZE],
			  const struct sops_key_summary *keys, bool known_only)
{
	char state[PATH_MAX];
	uint8_t id[GITSEAL_KEY_ID_SIZE];
	struct gs_buf line;
	int ret = gittrust_load(f);

	if (ret)
		return ret;
	made_key_id(key_id, path, id);
	gs_buf_init(&line, false);
	if (!key_line(id, keys, &line))
		goto out; /* not recorded: the key is never re-used */
	pthread_mutex_lock(&changes_lock);
	if ((ret = keys_load(f)) || (known_only && !key_find(&f->trust.key_ids, id)))
		goto unlock;
	if (f->trust.key_fd < 0 && !(ret = state_dir_make(f)) &&
	    !(ret = state_path(f, "data-keys", state, sizeof(state))) &&
	    (f->trust.key_fd = open(state, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
		ret = GS_FAIL(GS_ERR_IO, "cannot open '%s': %s", gs_shown(state), strerror(errno));
	/* one write of a whole line: concurrent filters append, never mix */
	if (!ret && write(f->trust.key_fd, line.data, line.len) != (ssize_t)line.len)
		ret = GS_FAIL(GS_ERR_IO, "cannot write '%sdata-keys': %s", f->statedir, strerror(errno));
	if (!ret)
		ret = key_record_line(&f->trust.key_ids, (const char *)line.data, line.len - 1);
unlock:
	pthread_mutex_unlock(&changes_lock);
out:
	gs_buf_release(&line);
	return ret;
}

/* ---- seals this clone cannot open ----
 * A clone with no identity of a file's (a recipient-only clone, or one
 * whose keys are only in gpg) seals fresh each time it cleans, so an
 * unchanged file would look modified whenever git cleans it again. It
 * remembers instead a keyed BLAKE2b of each blob it sealed with the
 * plaintext sealed into it: the key (hash-key) is random per clone, kept
 * beside it under .git/gitseal/, so the record tells nothing to whoever
 * does not also hold that file (who can read the work tree as well). */

static int load_hash_key(struct gitfilter *f, bool create)
{
	struct gittrust *t = &f->trust;
	char path[PATH_MAX];
	struct gs_buf b;
	int ret;

	if (t->hash_key)
		return 0;
	if ((ret = state_path(f, "hash-key", path, sizeof(path))))
		return ret;
	gs_buf_init(&b, true);
	ret = gs_read_file(path, &b, GITSEAL_HASH_KEY_SIZE + 1);
	if (ret == GS_ERR_NOT_FOUND && create) {
		gs_error_clear();
		gs_buf_reset(&b);
		if (!(ret = gs_buf_reserve(&b, GITSEAL_HASH_KEY_SIZE))) {
			randombytes_buf(b.data, GITSEAL_HASH_KEY_SIZE);
			b.len = GITSEAL_HASH_KEY_SIZE;
			if (!(ret = state_dir_make(f)))
				ret = gs_atomic_write(path, b.data, b.len, 0600);
		}
	}
	if (ret)
		goto out;
	if (b.len != GITSEAL_HASH_KEY_SIZE) {
		ret = GS_FAIL(GS_ERR_PARSE, "'%s': not a key of %d bytes", gs_shown(path), GITSEAL_HASH_KEY_SIZE);
		goto out;
	}
	if (!(t->hash_key = gs_secure_alloc(GITSEAL_HASH_KEY_SIZE))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(t->hash_key, b.data, GITSEAL_HASH_KEY_SIZE);
out:
	gs_buf_release(&b);
	return ret;
}

static void sealed_id(const uint8_t *key, const struct gs_buf *blob, const uint8_t *plain, size_t len,
		      uint8_t id[GITSEAL_KEY_ID_SIZE])
{
	crypto_generichash_state st;
	uint64_t n = blob->len;

	/* the blob's length first: no other split of the same bytes hashes alike */
	crypto_generichash_init(&st, key, GITSEAL_HASH_KEY_SIZE, GITSEAL_KEY_ID_SIZE);
	crypto_generichash_update(&st, (const uint8_t *)&n, sizeof(n));
	crypto_generichash_update(&st, blob->data, blob->len);
	crypto_generichash_update(&st, plain, len);
	crypto_generichash_final(&st, id, GITSEAL_KEY_ID_SIZE);
	sodium_memzero(&st, sizeof(st));
}

bool gittrust_sealed_here(struct gitfilter *f, const struct gs_buf *blob, const uint8_t *plain, size_t len)
{
	uint8_t id[GITSEAL_KEY_ID_SIZE];
	bool found = false;

	if (gittrust_load(f))
		goto out;
	pthread_mutex_lock(&changes_lock);
	if (f->trust.sealed.count && !load_hash_key(f, false)) {
		sealed_id(f->trust.hash_key, blob, plain, len, id);
		found = id_find(&f->trust.sealed, id) != NULL;
	}
	pthread_mutex_unlock(&changes_lock);
out:
	gs_error_clear();
	return found;
}

int gittrust_remember_sealed(struct gitfilter *f, const struct gs_buf *blob, const uint8_t *plain, size_t len)
{
	uint8_t id[GITSEAL_KEY_ID_SIZE];
	int ret;

	if ((ret = gittrust_load(f)))
		return ret;
	pthread_mutex_lock(&changes_lock);
	if (!(ret = load_hash_key(f, true))) {
		sealed_id(f->trust.hash_key, blob, plain, len, id);
		ret = append_id(f, "sealed", &f->trust.sealed_fd, &f->trust.sealed, id);
	}
	pthread_mutex_unlock(&changes_lock);
	return ret;
}

/* The snapshot of .sops.yaml: text, or the work tree's when text is NULL
 * (none when there is none). */
static int write_config_snapshot(struct gitfilter *f, const struct gs_buf *given)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct gs_buf text;
	int ret;

	if ((ret = state_path(f, "sops.yaml", to, sizeof(to))))
		return ret;
	gs_buf_init(&text, false);
	if (given)
		ret = gs_buf_append(&text, given->data, given->len);
	else if ((ret = gitrepo_config_path(f, from, sizeof(from))) == 0)
		ret = gs_read_file(from, &text, TRUST_FILE_MAX);
	if (ret == GS_ERR_NOT_FOUND) {
		gs_error_clear();
		ret = 0;
	}
	if (ret)
		goto out;
	if (!text.len && unlink(to) != 0 && errno != ENOENT) {
		ret = GS_FAIL(GS_ERR_IO, "cannot remove '%s': %s", gs_shown(to), strerror(errno));
		goto out;
	}
	if (text.len && (ret = gs_atomic_write(to, text.data, text.len, 0600)))
		goto out;
	if (f->trust.config) {
		sops_config_free(f->trust.config);
		f->trust.config = NULL;
	}
	if (text.len)
		ret = load_config_snapshot(f, &text);
out:
	gs_buf_release(&text);
	return ret;
}

static int write_records(struct gitfilter *f)
{
	struct gittrust *t = &f->trust;
	struct gs_buf text;
	char path[PATH_MAX];
	int ret;

	if (t->hold) {
		t->held_changes = true;
		return 0;
	}
	if ((ret = state_dir_make(f)) || (ret = state_path(f, "accepted", path, sizeof(path))))
		return ret;
	gs_buf_init(&text, false);
	if ((ret = gs_buf_append_str(&text, "# gitseal: per path, the recipients this clone seals it for beyond "
					    "its rule in sops.yaml (recipient<TAB>path); changed by 'gitseal "
					    "updatekeys'\n")))
		goto out;
	for (size_t i = 0; i < t->recipient_count; i++)
		if ((ret = gs_buf_printf(&text, "%s\n", t->recipients[i])))
			goto out;
	if (!(ret = gs_atomic_write(path, text.data, text.len, 0600)))
		t->have_record = true;
out:
	gs_buf_release(&text);
	return ret;
}

bool gittrust_path_recordable(const char *path)
{
	size_t n = strlen(path);

	if (!n || path[0] == ' ' || path[n - 1] == ' ')
		return false;
	for (; *path; path++)
		if ((unsigned char)*path < 0x20 || *path == 0x7f)
			return false;
	return true;
}

const char *gittrust_accept_hint(const char *path)
{
	return gittrust_path_recordable(path) ? "run 'gitseal updatekeys' to accept"
					      : "a name with a leading or trailing blank or a control byte cannot be "
						"accepted: rename the file ('git mv'), then run 'gitseal updatekeys' on "
						"its new name";
}

static bool keys_name(const struct sops_key_summary *keys, const char *r, size_t n)
{
	for (size_t g = 0; keys && g < keys->group_count; g++)
		for (size_t i = 0; i < sops_key_group_size(&keys->groups[g]); i++) {
			const char *k = sops_key_group_key(&keys->groups[g], i);

			if (strlen(k) == n && !memcmp(k, r, n))
				return true;
		}
	return false;
}

/* Drops the records of path whose recipient keep (NULL: none) does not
 * name; returns how many went. A reader removed from the file (a
 * revocation) is then no longer accepted for it. */
static size_t forget_path(struct gittrust *t, const char *path, const struct sops_key_summary *keep)
{
	size_t kept = 0, n = strlen(path), before = t->recipient_count;

	for (size_t i = 0; i < t->recipient_count; i++) {
		const char *line = t->recipients[i], *tab = strchr(line, '\t');

		if (tab && strlen(tab + 1) == n && !memcmp(tab + 1, path, n) &&
		    !keys_name(keep, line, (size_t)(tab - line)))
			free(t->recipients[i]);
		else
			t->recipients[kept++] = t->recipients[i];
	}
	t->recipient_count = kept;
	return before - kept;
}

int gittrust_narrow_file(struct gitfilter *f, const char *path, const struct sops_key_summary *keys)
{
	int ret = gittrust_load(f);

	if (ret || !forget_path(&f->trust, path, keys))
		return ret;
	f->trust.narrowed = true;
	return write_records(f);
}

/* Whether path is below dir ("" holds every path). */
static bool path_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !n || (!strncmp(path, dir, n) && path[n] == '/');
}

int gittrust_recorded_paths(struct gitfilter *f, const char *dir, char ***paths, size_t *count)
{
	struct gittrust *t = &f->trust;
	size_t kept = 0;
	int ret = gittrust_load(f);

	*paths = NULL;
	*count = 0;
	for (size_t i = 0; !ret && i < t->recipient_count; i++) {
		const char *tab = strchr(t->recipients[i], '\t');

		if (tab && path_below(tab + 1, dir))
			ret = gs_strings_push(paths, count, tab + 1, strlen(tab + 1));
	}
	if (*count)
		qsort(*paths, *count, sizeof(**paths), cmp_str);
	for (size_t i = 0; i < *count; i++)
		if (kept && !strcmp((*paths)[kept - 1], (*paths)[i]))
			free((*paths)[i]);
		else
			(*paths)[kept++] = (*paths)[i];
	*count = kept;
	return ret;
}

int gittrust_recorded_for(struct gitfilter *f, const char *path, struct gs_buf *list)
{
	struct gittrust *t = &f->trust;
	int ret = gittrust_load(f);

	for (size_t i = 0; !ret && i < t->recipient_count; i++) {
		const char *line = t->recipients[i], *tab = strchr(line, '\t');

		if (tab && !strcmp(tab + 1, path))
			ret = gs_buf_printf(list, "%s%.*s", list->len ? ", " : "", (int)(tab - line), line);
	}
	return ret;
}

int gittrust_forget_files(struct gitfilter *f, char *const *paths, size_t n)
{
	size_t gone = 0;
	int ret = gittrust_load(f);

	for (size_t i = 0; !ret && i < n; i++)
		gone += forget_path(&f->trust, paths[i], NULL);
	return ret || !gone ? ret : write_records(f);
}

void gittrust_hold_records(struct gitfilter *f)
{
	f->trust.hold = true;
}

int gittrust_write_held(struct gitfilter *f)
{
	bool changed = f->trust.held_changes;

	f->trust.hold = f->trust.held_changes = false;
	return changed ? write_records(f) : 0;
}

/* A path of gittrust_accept_files and which of its keys apply. */
struct accepting {
	const char *path;
	size_t k;
};

static int cmp_accepting(const void *a, const void *b)
{
	const struct accepting *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x->k > y->k) - (x->k < y->k);
}

static int cmp_accepting_path(const void *key, const void *elem)
{
	return strcmp(key, ((const struct accepting *)elem)->path);
}

/* The record's path among paths (sorted, each once), or NULL. */
static const struct accepting *accepting_find(const struct accepting *paths, size_t n, const char *line)
{
	const char *tab = strchr(line, '\t');

	return tab ? bsearch(tab + 1, paths, n, sizeof(*paths), cmp_accepting_path) : NULL;
}

/* The paths sorted, each once with its last keys; refused before any
 * record changes: a path no record can name, a recipient with a line
 * break or tab (metadata names the recipients and git the paths: a line
 * break in either would make a record of the attacker's choosing). */
static int accepting_sort(char *const *paths, const struct sops_key_summary *keys, size_t n,
			  struct accepting **out, size_t *count)
{
	struct accepting *a = gs_calloc(n + 1, sizeof(*a));
	size_t m = 0;

	*out = a;
	*count = 0;
	if (!a)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t k = 0; k < n; k++) {
		if (!gittrust_path_recordable(paths[k]))
			return GS_FAIL(GS_ERR_CONFIG, "'%s': %s", gs_shown(paths[k]), GITFILTER_PATH_REFUSED);
		for (size_t g = 0; g < keys[k].group_count; g++)
			for (size_t i = 0; i < sops_key_group_size(&keys[k].groups[g]); i++)
				if (strpbrk(sops_key_group_key(&keys[k].groups[g], i), "\t\r\n"))
					return GS_FAIL(GS_ERR_CONFIG, "'%s': a recipient with a line break or tab "
								      "cannot be accepted", gs_shown(paths[k]));
		a[k] = (struct accepting){ .path = paths[k], .k = k };
	}
	qsort(a, n, sizeof(*a), cmp_accepting);
	for (size_t i = 0; i < n; i++)
		if (i + 1 == n || strcmp(a[i].path, a[i + 1].path))
			a[m++] = a[i];
	*count = m;
	return 0;
}

int gittrust_accept_files(struct gitfilter *f, char *const *paths, const struct sops_key_summary *keys, size_t n)
{
	struct gittrust *t = &f->trust;
	struct accepting *a = NULL;
	size_t m = 0, kept = 0;
	int ret;

	if ((ret = gittrust_load(f)) || (ret = accepting_sort(paths, keys, n, &a, &m)))
		goto out;
	/* recorded anew from the file's keys now: one they no longer name
	 * is a reader removed */
	for (size_t i = 0; i < t->recipient_count; i++) {
		const struct accepting *p = accepting_find(a, m, t->recipients[i]);

		if (!p) {
			t->recipients[kept++] = t->recipients[i];
			continue;
		}
		if (!keys_name(&keys[p->k], t->recipients[i], (size_t)(strchr(t->recipients[i], '\t') - t->recipients[i])))
			t->narrowed = true;
		free(t->recipients[i]);
	}
	t->recipient_count = kept;
	for (size_t j = 0; j < m && !ret; j++) {
		const struct sops_key_summary *k = &keys[a[j].k];
		const struct sops_rule *rule = accepted_rule(f, a[j].path);

		for (size_t g = 0; !ret && g < k->group_count; g++)
			for (size_t i = 0; !ret && i < sops_key_group_size(&k->groups[g]); i++) {
				const char *r = sops_key_group_key(&k->groups[g], i);
				char *line = NULL;

				if (rule_names(rule, r) || own_recipient(f, r))
					continue;
				if (gs_asprintf(&line, "%s\t%s", r, a[j].path) < 0) {
					line = NULL;
					ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
				} else {
					ret = add_recipient(t, line, strlen(line));
				}
				free(line);
			}
	}
	/* sorted once, a recipient named in two groups recorded once */
	if (t->recipient_count)
		qsort(t->recipients, t->recipient_count, sizeof(*t->recipients), cmp_str);
	kept = 0;
	for (size_t i = 0; i < t->recipient_count; i++)
		if (kept && !strcmp(t->recipients[kept - 1], t->recipients[i]))
			free(t->recipients[i]);
		else
			t->recipients[kept++] = t->recipients[i];
	t->recipient_count = kept;
	if (!ret)
		ret = write_records(f);
out:
	free(a);
	return ret;
}

int gittrust_accept_config(struct gitfilter *f, const struct gs_buf *config_text)
{
	int ret;

	if ((ret = gittrust_load(f)) || (ret = state_dir_make(f)) || (ret = write_config_snapshot(f, config_text)))
		return ret;
	return f->trust.have_record ? 0 : write_records(f);
}

int gittrust_retire_keys(struct gitfilter *f)
{
	static const char header[] = "# gitseal: data keys made or vouched for here since the last revocation "
				     "accepted (ID R1,R2,...)\n";
	char path[PATH_MAX];
	int ret;

	if ((ret = gittrust_load(f)) || (ret = state_dir_make(f)) ||
	    (ret = state_path(f, "data-keys", path, sizeof(path))))
		return ret;
	pthread_mutex_lock(&changes_lock);
	if (f->trust.key_fd >= 0)
		close(f->trust.key_fd);
	keymap_release(&f->trust.key_ids);
	f->trust.keys_loaded = true;
	/* emptied in place: filters appending meanwhile add keys made after */
	f->trust.key_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (f->trust.key_fd < 0)
		ret = GS_FAIL(GS_ERR_IO, "cannot empty '%s': %s", gs_shown(path), strerror(errno));
	else if (write(f->trust.key_fd, header, sizeof(header) - 1) != (ssize_t)sizeof(header) - 1)
		ret = GS_FAIL(GS_ERR_IO, "cannot write '%s': %s", gs_shown(path), strerror(errno));
	pthread_mutex_unlock(&changes_lock);
	return ret;
}

int gittrust_set_locked(struct gitfilter *f, bool locked)
{
	char path[PATH_MAX];
	int ret;

	if ((ret = gittrust_load(f)) || (ret = state_dir_make(f)) ||
	    (ret = state_path(f, "locked", path, sizeof(path))))
		return ret;
	if (locked && (ret = gs_atomic_write(path, (const uint8_t *)"locked\n", 7, 0600)))
		return ret;
	if (!locked && unlink(path) != 0 && errno != ENOENT)
		return GS_FAIL(GS_ERR_IO, "cannot remove '%s': %s", gs_shown(path), strerror(errno));
	f->trust.locked = locked;
	return 0;
}

void gittrust_release(struct gittrust *t)
{
	for (size_t i = 0; i < t->recipient_count; i++)
		free(t->recipients[i]);
	free(t->recipients);
	if (t->config)
		sops_config_free(t->config);
	keymap_release(&t->key_ids);
	free(t->sealed.ids);
	gs_secure_free(t->hash_key);
	if (t->loaded && t->key_fd >= 0)
		close(t->key_fd);
	if (t->loaded && t->sealed_fd >= 0)
		close(t->sealed_fd);
	memset(t, 0, sizeof(*t));
}
