/* `gitseal updatekeys` on files under the filter: the committed version
 * (index, else HEAD) is re-sealed for the keys and rule that .sops.yaml now
 * names, and staged; the work tree keeps its plaintext. Like sops, the
 * data key stays when keys are added (the new recipients can then read
 * every earlier version too) unless a rotation is asked for. What the
 * command applied becomes what this clone accepts. */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "gitfilter_int.h"

static int threshold(const struct sops_key_summary *k)
{
	return sops_groups_needed(k->group_count, k->shamir_threshold);
}

/* "+++ key" / "--- key" lines, group by group (sops's updatekeys form). */
static int diff_groups(const struct sops_key_summary *from, const struct sops_key_summary *to, bool *adds,
		       struct gs_buf *out)
{
	size_t n = from->group_count > to->group_count ? from->group_count : to->group_count;
	int ret = 0;

	for (size_t g = 0; g < n && !ret; g++) {
		const struct sops_key_group *a = g < from->group_count ? &from->groups[g] : NULL;
		const struct sops_key_group *b = g < to->group_count ? &to->groups[g] : NULL;

		if (n > 1)
			ret = gs_buf_printf(out, "    group %zu\n", g + 1);
		for (size_t i = 0; b && !ret && i < sops_key_group_size(b); i++) {
			const char *k = sops_key_group_key(b, i);
			bool kept = a && gitseal_group_has(a, k);

			*adds = *adds || !kept;
			ret = gs_buf_printf(out, "%s %s\n", kept ? "   " : "+++", gs_shown(k));
		}
		for (size_t i = 0; a && !ret && i < sops_key_group_size(a); i++) {
			const char *k = sops_key_group_key(a, i);

			if (!b || !gitseal_group_has(b, k))
				ret = gs_buf_printf(out, "--- %s\n", gs_shown(k));
		}
	}
	/* how many groups must come together: a change of who can read too */
	if (!ret && n > 1 && threshold(from) != threshold(to))
		ret = gs_buf_printf(out, "    groups needed: %d -> %d\n", threshold(from), threshold(to));
	return ret;
}

static int describe_selection(const struct sops_selection *s, struct gs_buf *out)
{
	int ret = 0;

	if (s->kind == SOPS_SEL_NONE)
		ret = gs_buf_append_str(out, "every value");
	else if (!(ret = gs_buf_printf(out, "%s '", sops_selection_key(s->kind))) &&
		 !(ret = gs_shown_append(out, s->value ? s->value : "")))
		ret = gs_buf_append_str(out, "'");
	if (!ret && s->mac_only_encrypted)
		ret = gs_buf_append_str(out, ", mac_only_encrypted");
	return ret;
}

/* A rule without a selection seals every value but `_unencrypted` keys,
 * and a Kubernetes Secret's data and stringData (as sealing applies it). */
static bool same_effective_selection(const struct sops_selection *file, const struct sops_selection *rule,
				     const struct doc *cipher)
{
	struct sops_selection r = *rule;

	if (r.kind == SOPS_SEL_NONE) {
		if (sops_config_is_k8s_secret(cipher)) {
			r.kind = SOPS_SEL_ENCRYPTED_REGEX;
			r.value = (char *)GITSEAL_K8S_SECRET_REGEX;
		} else if (cipher->format != DOC_FORMAT_BINARY) {
			r.kind = SOPS_SEL_UNENCRYPTED_SUFFIX;
			r.value = (char *)"_unencrypted";
		}
	}
	return file->kind == r.kind && file->mac_only_encrypted == r.mac_only_encrypted &&
	       !strcmp(file->value ? file->value : "", r.value ? r.value : "");
}

void gitfilter_update_release(struct gitfilter_update *u)
{
	free(u->path);
	free(u->staged);
	sops_key_summary_release(&u->from);
	sops_key_summary_release(&u->to);
	gs_buf_release(&u->diff);
	memset(u, 0, sizeof(*u));
}

/* The rule's keys for path, with the rule's selection as written. */
static int rule_keys(struct gitfilter *f, const char *path, struct sops_key_summary *out, bool *no_rule)
{
	int ret;

	*no_rule = false;
	ret = gitseal_new_file_keys(f, path, out);
	/* the selection check is for the filter: here the change is shown */
	if (ret == GS_ERR_CONFIG && strstr(gs_error_message(), "changed what is encrypted")) {
		gs_error_clear();
		ret = gitfilter_rule_keys_unchecked(f, path, out);
	}
	if (ret == GS_ERR_NO_RULE) {
		gs_error_clear();
		*no_rule = true;
		ret = 0;
	}
	return ret;
}

/* A file whose own keys stay (made by hand: new to the repository, or
 * for keys no rule names): only its recipients are accepted. */
static int plan_accept_own(struct gitfilter *f, const struct doc *cipher, const char *why,
			   struct gitfilter_update *u)
{
	struct gs_buf list;
	int ret;

	gs_buf_init(&list, false);
	if (!(ret = sops_doc_keys(cipher, &u->from)) && !(ret = gittrust_unaccepted(f, u->path, &u->from, &list)) &&
	    list.len) {
		u->changes = u->adds = u->accept_only = true;
		ret = gs_buf_printf(&u->diff, "    %s; accept its recipients: %s\n", why, (const char *)list.data);
	}
	gs_buf_release(&list);
	return ret;
}

/* Nothing sealed yet: only whom new files name, and what they seal. */
static int plan_new_file(struct gitfilter *f, const char *path, struct gitfilter_update *u)
{
	struct gs_buf list;
	int ret;

	gs_buf_init(&list, false);
	if ((ret = gittrust_unaccepted(f, path, &u->to, &list)))
		goto out;
	if (list.len) {
		u->changes = u->adds = true;
		if ((ret = gs_buf_printf(&u->diff, "    new file, sealed on 'git add' for: %s\n",
					 (const char *)list.data)))
			goto out;
	}
	if (gittrust_selection_accepted(f, path, &u->to.selection))
		goto out;
	u->changes = true;
	if ((ret = gs_buf_append_str(&u->diff, "    new file, sealing: ")) ||
	    (ret = describe_selection(&u->to.selection, &u->diff)))
		goto out;
	ret = gs_buf_append_str(&u->diff, "\n");
out:
	gs_buf_release(&list);
	return ret;
}

/* A committed file: its keys and rule against the creation rule's. */
static int plan_committed(struct gitfilter *f, const struct doc *cipher, struct gitfilter_update *u)
{
	int ret;

	if ((ret = sops_doc_keys(cipher, &u->from)) || (ret = diff_groups(&u->from, &u->to, &u->adds, &u->diff)))
		return ret;
	u->changes = !gitseal_keys_equal_groups(&u->from, &u->to);
	/* a reader no rule can name: shown, never kept without a word (the
	 * seal refuses to carry it) */
	if (u->from.unnamed_age) {
		u->changes = true;
		if ((ret = gs_buf_printf(&u->diff, "--- %zu age entr%s that name%s no recipient\n", u->from.unnamed_age,
					 u->from.unnamed_age == 1 ? "y" : "ies", u->from.unnamed_age == 1 ? "s" : "")))
			return ret;
	}
	if (!same_effective_selection(&u->from.selection, &u->to.selection, cipher)) {
		u->changes = true;
		if (!(ret = gs_buf_append_str(&u->diff, "    sealed values: ")) &&
		    !(ret = describe_selection(&u->from.selection, &u->diff)) &&
		    !(ret = gs_buf_append_str(&u->diff, " -> ")) && !(ret = describe_selection(&u->to.selection, &u->diff)))
			ret = gs_buf_append_str(&u->diff, "\n");
	} else {
		/* the same rule in the file's own words: keep them */
		free(u->to.selection.value);
		u->to.selection = u->from.selection;
		u->from.selection.value = u->to.selection.value ? gs_strdup(u->to.selection.value) : NULL;
	}
	if (!ret && !u->changes)
		gs_buf_reset(&u->diff);
	if (!ret && u->adds)
		u->fresh_key = !gitseal_keeps_key(f, u->path, cipher);
	return ret;
}

int gitfilter_update_plan(struct gitfilter *f, const char *path, struct gitfilter_update *u)
{
	enum doc_format format = store_format_for_path(path);
	struct doc cipher;
	bool sealed = false, no_rule, handmade = false;
	int ret;

	memset(u, 0, sizeof(*u));
	gs_buf_init(&u->diff, false);
	doc_init(&cipher, format);
	if (!(u->path = gs_strdup(path)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if ((ret = gittrust_load(f)) || (u->refused = !gittrust_path_recordable(path)))
		goto out;
	doc_release(&cipher);
	if ((ret = gitseal_committed_load(f, path, format, &cipher, &sealed)) ||
	    (ret = rule_keys(f, path, &u->to, &no_rule)))
		goto out;
	u->is_new = !sealed;
	if (u->is_new) {
		enum gitseal_worktree worktree;
		char full[PATH_MAX];
		struct stat st;

		/* git stores a link's text and runs no filter on it: not followed */
		if ((size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, path) < sizeof(full) &&
		    lstat(full, &st) == 0 && S_ISLNK(st.st_mode)) {
			u->link = true;
			goto out;
		}
		doc_release(&cipher);
		if ((ret = gitseal_worktree_load(f, path, format, &cipher, &worktree)))
			goto out;
		handmade = worktree == GITSEAL_WT_SEALED;
	}
	if (handmade) {
		/* a sops file made by hand, new to the repository: it goes in as
		 * it is once its recipients are accepted */
		u->is_new = false;
		ret = plan_accept_own(f, &cipher, "new sops file, added as it is", u);
	} else if (u->is_new) {
		ret = (u->no_rule = no_rule) ? 0 : plan_new_file(f, path, u);
	} else if (no_rule) {
		/* a file made by hand for keys no rule names: its own stay */
		ret = plan_accept_own(f, &cipher, "no creation rule matches", u);
	} else {
		ret = plan_committed(f, &cipher, u);
	}
out:
	doc_release(&cipher);
	return ret;
}

/* Whether the plan wraps the file's data key for someone new. */
static bool widens(const struct gitfilter_update *u)
{
	return u->adds && !u->is_new && !u->accept_only && !u->link && !u->no_rule;
}

/* The id of the data key of path's committed version; false when it has
 * none this clone opens. */
static bool committed_key_id(struct gitfilter *f, const char *path, uint8_t id[GITSEAL_KEY_ID_SIZE])
{
	struct sops_file *sf = NULL;
	struct doc cipher;
	bool sealed = false, yes = false;

	if (!gitseal_committed_load(f, path, store_format_for_path(path), &cipher, &sealed) && sealed &&
	    !gitseal_open(f, &cipher, &sf))
		yes = sops_file_key_id(sf, id);
	gs_error_clear();
	sops_file_free(sf);
	doc_release(&cipher);
	return yes;
}

/* The data keys of paths (has: which have one), looked up by path and by
 * key without a walk of every path for each plan (a rotation of N files
 * compared N x N keys). */
struct key_table {
	char *const *paths;
	const uint8_t (*ids)[GITSEAL_KEY_ID_SIZE];
	const bool *has;
	size_t count;
	size_t *by_path; /* 0..count-1 by path, then position */
	size_t *by_key;  /* those that have a key, by key, then position */
	size_t keyed;
};

/* qsort has no context: the table being sorted (one thread: updatekeys) */
static const struct key_table *sorting;

static int by_position(size_t a, size_t b)
{
	return (a > b) - (a < b);
}

static int cmp_path(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(sorting->paths[x], sorting->paths[y]);

	return c ? c : by_position(x, y);
}

static int cmp_key(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = memcmp(sorting->ids[x], sorting->ids[y], GITSEAL_KEY_ID_SIZE);

	return c ? c : by_position(x, y);
}

static int key_table_make(struct key_table *t)
{
	if (!(t->by_path = gs_calloc(t->count + 1, sizeof(*t->by_path))) ||
	    !(t->by_key = gs_calloc(t->count + 1, sizeof(*t->by_key))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t k = 0; k < t->count; k++) {
		t->by_path[k] = k;
		if (t->has[k])
			t->by_key[t->keyed++] = k;
	}
	sorting = t;
	qsort(t->by_path, t->count, sizeof(*t->by_path), cmp_path);
	qsort(t->by_key, t->keyed, sizeof(*t->by_key), cmp_key);
	sorting = NULL;
	return 0;
}

/* The first of the run of positions (of n) whose entry compares 0 or more
 * against what (compared by cmp_what), in a sorted list. */
static size_t lower_bound(const size_t *list, size_t n, int (*cmp_what)(const struct key_table *, size_t, const void *),
			  const struct key_table *t, const void *what)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_what(t, list[mid], what) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int path_is(const struct key_table *t, size_t k, const void *path)
{
	return strcmp(t->paths[k], path);
}

static int key_is(const struct key_table *t, size_t k, const void *id)
{
	return memcmp(t->ids[k], id, GITSEAL_KEY_ID_SIZE);
}

/* The positions of path: by_path[*first], ..., *n of them. */
static void path_run(const struct key_table *t, const char *path, size_t *first, size_t *n)
{
	*first = lower_bound(t->by_path, t->count, path_is, t, path);
	for (*n = 0; *first + *n < t->count && !strcmp(t->paths[t->by_path[*first + *n]], path); (*n)++)
		;
}

/* The positions whose key is id, in order: by_key[*first], ..., *n of them. */
static void key_run(const struct key_table *t, const uint8_t id[GITSEAL_KEY_ID_SIZE], size_t *first, size_t *n)
{
	*first = lower_bound(t->by_key, t->keyed, key_is, t, id);
	for (*n = 0; *first + *n < t->keyed && !memcmp(t->ids[t->by_key[*first + *n]], id, GITSEAL_KEY_ID_SIZE); (*n)++)
		;
}

/* Another of paths whose key is that of paths[k]. */
static size_t same_key(const struct key_table *t, size_t k)
{
	size_t first, n;

	key_run(t, t->ids[k], &first, &n);
	for (size_t i = 0; i < n; i++) {
		size_t j = t->by_key[first + i];

		if (j != k && strcmp(t->paths[j], t->paths[k]))
			return j;
	}
	return SIZE_MAX;
}

static int refuse_copy(struct gitfilter *f, const char *path, const struct key_table *t)
{
	size_t first, n;

	path_run(t, path, &first, &n);
	for (size_t i = 0; i < n; i++) {
		size_t k = t->by_path[first + i], j;

		if (!t->has[k] || gittrust_key_made_here(f, path, t->ids[k]) || (j = same_key(t, k)) == SIZE_MAX)
			continue;
		return GS_FAIL(GS_ERR_CONFIG, "'%s' holds the data key of '%s' (its ciphertext copied): adding "
					      "recipients would give them that key; remove the file, or run 'gitseal "
					      "git trust %s' if the copy is intended", gs_shown(path), gs_shown(t->paths[j]),
			       gs_shown(path));
	}
	return 0;
}

/* A plan that seals the committed version again: with a fresh key under
 * --rotate, or where this clone did not make the key (gitseal_keeps_key). */
static bool reseals(const struct gitfilter_update *u, bool rotate)
{
	return !u->is_new && !u->accept_only && (u->changes || rotate);
}

static int check_holder(struct gitfilter *f, const char *path, const char *other, const uint8_t id[GITSEAL_KEY_ID_SIZE],
			const struct sops_key_summary *keys);

/* A fresh key for a copy's keys, which may name a decoy reader
 * (gitfilter_check_copied_key, each file opened once). */
static int refuse_decoy(struct gitfilter *f, const struct gitfilter_update *u, const struct key_table *t)
{
	size_t first, n;
	int ret = 0;

	path_run(t, u->path, &first, &n);
	for (size_t i = 0; i < n && !ret; i++) {
		size_t k = t->by_path[first + i], kfirst, kn;

		if (!t->has[k] || gittrust_key_made_here(f, u->path, t->ids[k]))
			continue;
		key_run(t, t->ids[k], &kfirst, &kn);
		for (size_t h = 0; h < kn && !ret; h++)
			if (t->by_key[kfirst + h] != k)
				ret = check_holder(f, u->path, t->paths[t->by_key[kfirst + h]], t->ids[k], &u->to);
	}
	return ret;
}

int gitfilter_update_check_copies(struct gitfilter *f, const struct gitfilter_update *plans, size_t n, bool rotate)
{
	uint8_t (*ids)[GITSEAL_KEY_ID_SIZE] = NULL;
	struct key_table t = { 0 };
	char **paths = NULL;
	bool *has = NULL, any = false;
	size_t count = 0;
	int ret;

	for (size_t i = 0; i < n; i++)
		any = any || widens(&plans[i]) || reseals(&plans[i], rotate);
	/* every filtered file of the index is opened: only when needed */
	if (!any || (ret = gitfilter_filtered_paths(f, "", &paths, &count)))
		return any ? ret : 0;
	if (!(ids = gs_calloc(count + 1, sizeof(*ids))) || !(has = gs_calloc(count + 1, sizeof(*has)))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < count; k++)
		has[k] = committed_key_id(f, paths[k], ids[k]);
	t = (struct key_table){ .paths = paths, .ids = (const uint8_t(*)[GITSEAL_KEY_ID_SIZE])ids, .has = has,
				.count = count };
	if ((ret = key_table_make(&t)))
		goto out;
	for (size_t i = 0; i < n && !ret; i++)
		if (widens(&plans[i]))
			ret = refuse_copy(f, plans[i].path, &t);
		else if (reseals(&plans[i], rotate))
			ret = refuse_decoy(f, &plans[i], &t);
out:
	for (size_t k = 0; k < count; k++)
		free(paths[k]);
	free(paths);
	free(ids);
	free(has);
	free(t.by_path);
	free(t.by_key);
	return ret;
}

/* The first recipient keys names that have does not; NULL when none. */
static const char *not_named(const struct sops_key_summary *have, const struct sops_key_summary *keys)
{
	for (size_t g = 0; g < keys->group_count; g++)
		for (size_t i = 0; i < sops_key_group_size(&keys->groups[g]); i++) {
			const char *r = sops_key_group_key(&keys->groups[g], i);
			bool found = false;

			for (size_t h = 0; h < have->group_count && !found; h++)
				for (size_t j = 0; j < sops_key_group_size(&have->groups[h]) && !found; j++)
					found = !strcmp(sops_key_group_key(&have->groups[h], j), r);
			if (!found)
				return r;
		}
	return NULL;
}

/* Refuses when other's committed version has the data key id and keys
 * name a reader of neither its metadata nor what this clone accepted for
 * other (its metadata is outside the MAC too: a decoy there as well). */
static int check_holder(struct gitfilter *f, const char *path, const char *other, const uint8_t id[GITSEAL_KEY_ID_SIZE],
			const struct sops_key_summary *keys)
{
	uint8_t have[GITSEAL_KEY_ID_SIZE];
	struct sops_file *sf = NULL;
	struct gs_buf list;
	struct doc cipher;
	const char *missing = NULL;
	bool sealed = false, holds = false;
	int ret = 0;

	gs_buf_init(&list, false);
	if (!gitseal_committed_load(f, other, store_format_for_path(other), &cipher, &sealed) && sealed &&
	    !gitseal_open(f, &cipher, &sf) && sops_file_key_id(sf, have) && !sodium_memcmp(have, id, sizeof(have))) {
		holds = true;
		missing = not_named(sops_file_keys(sf), keys);
	}
	gs_error_clear();
	if (holds && !missing && !(ret = gittrust_unaccepted(f, other, keys, &list)) && list.len)
		missing = (const char *)list.data + 1; /* "+r1, +r2" */
	if (!ret && missing)
		ret = GS_FAIL(GS_ERR_CONFIG, "'%s' holds the data key of '%s' (its ciphertext copied), which is not "
					     "sealed for %s: sealing it for its metadata's recipients would give them "
					     "what it holds; remove the file, or run 'gitseal git trust %s' if the copy "
					     "is intended", gs_shown(path), gs_shown(other), missing,
			      gs_shown(path));
	sops_file_free(sf);
	doc_release(&cipher);
	gs_buf_release(&list);
	return ret;
}

int gitfilter_check_copied_key(struct gitfilter *f, const char *path, const uint8_t id[GITSEAL_KEY_ID_SIZE],
			       const struct sops_key_summary *keys)
{
	const char **paths = NULL;
	size_t count = 0;
	int ret;

	if (gittrust_key_made_here(f, path, id))
		return 0;
	/* the index's files that open with the key (a copy has a committed
	 * version; an untracked file is no holder), each checked as it is */
	ret = githolders_find(f, id, &paths, &count);
	for (size_t k = 0; k < count && !ret; k++)
		if (strcmp(paths[k], path))
			ret = check_holder(f, path, paths[k], id, keys);
	free(paths);
	return ret;
}

/* An entry's blob (id, unless NULL) and, given st, its stat data: git
 * trusts a size change without reading the file (ie_modified in
 * read-cache.c), so an entry whose file changed must describe it. */
static int index_set_stat(git_index *idx, const git_index_entry *e, const git_oid *id, const struct stat *st)
{
	git_index_entry copy = *e;
	int ret = 0;

	if (id)
		copy.id = *id;
	if (st) {
		copy.ctime.seconds = (int32_t)st->st_ctim.tv_sec;
		copy.ctime.nanoseconds = (uint32_t)st->st_ctim.tv_nsec;
		copy.mtime.seconds = (int32_t)st->st_mtim.tv_sec;
		copy.mtime.nanoseconds = (uint32_t)st->st_mtim.tv_nsec;
		copy.dev = (uint32_t)st->st_dev;
		copy.ino = (uint32_t)st->st_ino;
		copy.uid = (uint32_t)st->st_uid;
		copy.gid = (uint32_t)st->st_gid;
		copy.file_size = (uint32_t)st->st_size;
	}
	if (!(copy.path = gs_strdup(e->path)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (git_index_add(idx, &copy) < 0)
		ret = gitrepo_fail("cannot update the index");
	free((char *)copy.path);
	return ret;
}

int gitrepo_index_set(struct gitfilter *f, git_index *idx, const git_index_entry *e, const git_oid *id,
		      const char *full)
{
	struct stat st;

	(void)f;
	if (full && lstat(full, &st) != 0)
		return GS_FAIL(GS_ERR_IO, "cannot stat '%s'", gs_shown(full));
	return index_set_stat(idx, e, id, full ? &st : NULL);
}

/* Whether path is unmerged in idx (a conflict's stages 1-3). */
static bool unmerged(git_index *idx, const char *path)
{
	for (int stage = 1; stage <= 3; stage++)
		if (git_index_get_bypath(idx, path, stage))
			return true;
	return false;
}

/* A re-sealed version waiting for gitfilter_update_finish, which stages
 * every file's in one write of the index (a write a file rewrote the
 * whole index each time: quadratic in the repository's size). */
struct gitfilter_staged {
	git_oid id;     /* its blob, in the object database already */
	bool rewritten; /* the work tree file held the old ciphertext and got the new */
	struct stat st; /* that file as written: a change after it shows as one */
};

static int unmerged_error(const char *path)
{
	/* a stage 0 entry beside a conflict's stages leaves an index git
	 * cannot commit, nor resolve with `git add` */
	return GS_FAIL(GS_ERR_CONFLICT, "it is unmerged: 'gitseal updatekeys -r .' accepts the recipients without it, "
					"then 'git checkout -m %s' merges it again", gs_shown(path));
}

/* Writes the re-sealed version's blob; a work tree file that held the old
 * ciphertext (locked) gets the new one. Staged by gitfilter_update_finish. */
static int stage(struct gitfilter *f, struct gitfilter_update *u, const struct gs_buf *old, const struct gs_buf *sealed)
{
	struct gitfilter_staged *s = gs_calloc(1, sizeof(*s));
	struct gs_buf file;
	struct stat st;
	char full[PATH_MAX];
	int ret;

	gs_buf_init(&file, true);
	if (!s)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (git_blob_create_from_buffer(&s->id, f->repo, sealed->data, sealed->len) < 0) {
		ret = gitrepo_fail("cannot write a blob");
		goto out;
	}
	if ((ret = gitrepo_index_now(f)))
		goto out;
	if (unmerged(f->index, u->path)) {
		ret = unmerged_error(u->path);
		goto out;
	}
	if ((size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, u->path) >= sizeof(full)) {
		ret = GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", gs_shown(u->path));
		goto out;
	}
	/* a link in the file's place is left as it is, not read through */
	if (lstat(full, &st) == 0 && S_ISREG(st.st_mode) && gs_read_file(full, &file, STORE_MAX_INPUT) == 0 &&
	    file.len == old->len && !memcmp(file.data, old->data, old->len)) {
		if ((ret = gs_replace_found(full, &(struct gs_file_id){ st.st_dev, st.st_ino }, NULL, sealed->data,
					    sealed->len)))
			goto out;
		if (lstat(full, &s->st) != 0) {
			ret = GS_FAIL(GS_ERR_IO, "cannot stat '%s'", gs_shown(full));
			goto out;
		}
		s->rewritten = true;
	}
	gs_error_clear();
	u->staged = s;
	s = NULL;
out:
	free(s);
	gs_buf_release(&file);
	return ret;
}

/* Every staged version into the index, which is written once. */
static int write_staged(struct gitfilter *f, struct gitfilter_update *plans, size_t n)
{
	int ret;

	if ((ret = gitrepo_index_now(f)))
		return ret;
	for (size_t i = 0; i < n; i++) {
		const struct gitfilter_staged *s = plans[i].staged;
		const git_index_entry *e;
		git_index_entry fresh;

		if (!s)
			continue;
		if (unmerged(f->index, plans[i].path)) {
			ret = unmerged_error(plans[i].path);
			gs_error_prefix("'%s'", gs_shown(plans[i].path));
			return ret;
		}
		if (!(e = git_index_get_bypath(f->index, plans[i].path, 0))) {
			/* committed in HEAD, removed from the index: stage it again */
			memset(&fresh, 0, sizeof(fresh));
			fresh.mode = GIT_FILEMODE_BLOB;
			fresh.path = plans[i].path;
			e = &fresh;
		}
		if ((ret = index_set_stat(f->index, e, &s->id, s->rewritten ? &s->st : NULL)))
			return ret;
	}
	if (git_index_write(f->index) < 0)
		return gitrepo_fail("cannot write the index");
	return 0;
}

/* What the file is sealed for once applied: the rule's keys, or its own
 * (accepted as they are). */
static const struct sops_key_summary *accepted_keys(const struct gitfilter_update *u)
{
	return u->is_new ? &u->to : u->accept_only ? &u->from : &u->to;
}

/* The records held since the first apply or refresh, written even after a
 * failure (a reader a file no longer names is forgotten); the first error
 * is the one told. */
static int write_held_after(struct gitfilter *f, int ret)
{
	enum gs_err code = gs_error_code();
	char *why;

	if (!ret)
		return gittrust_write_held(f);
	why = gs_strdup(gs_error_message());
	if (gittrust_write_held(f) && why)
		gs_error_set(code, "%s", why);
	free(why);
	return ret;
}

int gitfilter_update_finish(struct gitfilter *f, struct gitfilter_update *plans, size_t n)
{
	struct sops_key_summary *keys = NULL;
	char **paths = NULL;
	size_t applied = 0;
	bool staged = false;
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		staged = staged || plans[i].staged;
		applied += plans[i].applied;
	}
	if (staged && (ret = write_staged(f, plans, n)))
		goto out;
	if (applied && (!(paths = gs_calloc(applied, sizeof(*paths))) || !(keys = gs_calloc(applied, sizeof(*keys))))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	applied = 0;
	for (size_t i = 0; i < n; i++)
		if (plans[i].applied) {
			paths[applied] = plans[i].path;
			keys[applied++] = *accepted_keys(&plans[i]);
		}
	/* per path: what the file is sealed for now, for its path only */
	if (applied)
		ret = gittrust_accept_files(f, paths, keys, applied);
out:
	ret = write_held_after(f, ret);
	free(paths);
	free(keys);
	return ret;
}

int gitfilter_update_refresh(struct gitfilter *f, struct gitfilter_update *u)
{
	if (u->changes || u->is_new || u->accept_only || u->link || !u->from.group_count)
		return 0;
	gittrust_hold_records(f);
	return gittrust_narrow_file(f, u->path, &u->from);
}

int gitfilter_update_apply(struct gitfilter *f, struct gitfilter_update *u, bool rotate)
{
	struct gs_buf blob, sealed;
	struct doc cipher, plain;
	uint8_t id[GITSEAL_KEY_ID_SIZE];
	bool found;
	int ret = 0;

	gs_buf_init(&blob, false);
	gs_buf_init(&sealed, false);
	doc_init(&cipher, store_format_for_path(u->path));
	doc_init(&plain, cipher.format);
	if (!u->is_new && !u->accept_only && (u->changes || rotate)) {
		if ((ret = gitrepo_committed(f, u->path, &blob, &found)))
			goto out;
		if (found && (ret = gitseal_load_sealed(cipher.format, blob.data, blob.len, &cipher)) < 0)
			goto out;
		if (!found || !ret) {
			ret = GS_FAIL(GS_ERR_CONFLICT, "the committed version changed meanwhile");
			goto out;
		}
		if ((ret = gitseal_open_doc(f, &cipher, &plain, id)) ||
		    (ret = gitseal_seal(f, u->path, &plain, &u->to, &cipher,
					rotate ? GITSEAL_KEY_FRESH : GITSEAL_KEY_KEEP, &sealed)) ||
		    (ret = stage(f, u, &blob, &sealed)))
			goto out;
	}
	/* its recipients accepted by gitfilter_update_finish */
	gittrust_hold_records(f);
	u->applied = true;
out:
	if (ret)
		gs_error_prefix("'%s'", gs_shown(u->path));
	doc_release(&cipher);
	doc_release(&plain);
	gs_buf_release(&blob);
	gs_buf_release(&sealed);
	return ret;
}

int gitfilter_accept_config(struct gitfilter *f, struct gs_buf *diff)
{
	const struct sops_config *config;
	int ret;

	if ((ret = gitfilter_config(f, &config)) == GS_ERR_CONFIG) {
		gs_error_clear();
		return 0;
	}
	if (ret)
		return ret;
	if ((ret = gittrust_check_config_recipients(config))) {
		gs_error_prefix("'.sops.yaml'");
		return ret;
	}
	return diff ? gittrust_config_changes(f, config, diff) : gittrust_accept_config(f, NULL);
}

/* ---- the creation rules: the accepted .sops.yaml against the work tree's ---- */

static void rule_summary(const struct sops_rule *r, struct sops_key_summary *k)
{
	memset(k, 0, sizeof(*k));
	k->groups = r->groups;
	k->group_count = r->group_count;
	k->shamir_threshold = r->shamir_threshold;
}

static bool same_name(const struct sops_rule *a, const struct sops_rule *b)
{
	return !strcmp(sops_rule_label(a), sops_rule_label(b));
}

/* "    rule PATH_REGEX: " */
static int rule_line(const struct sops_rule *r, struct gs_buf *out)
{
	int ret;

	if (!(ret = gs_buf_append_str(out, "    rule ")) && !(ret = gs_shown_append(out, sops_rule_label(r))))
		ret = gs_buf_append_str(out, ": ");
	return ret;
}

/* What a rule's selection leaves in clear: every option but none keeps
 * some values out of the seal. */
static int describe_clear(const struct sops_selection *s, struct gs_buf *out)
{
	int ret;

	if (s->kind == SOPS_SEL_NONE)
		return gs_buf_append_str(out, s->mac_only_encrypted ? "seals every value, mac_only_encrypted"
								    : "seals every value");
	ret = gs_buf_append_str(out, "keeps in clear: ");
	return ret ? ret : describe_selection(s, out);
}

static bool same_rule_selection(const struct sops_selection *a, const struct sops_selection *b)
{
	return a->kind == b->kind && a->mac_only_encrypted == b->mac_only_encrypted &&
	       !strcmp(a->value ? a->value : "", b->value ? b->value : "");
}

static int append_key(struct gs_buf *out, char sign, const char *key)
{
	int ret = gs_buf_printf(out, "%s%c", out->len ? ", " : "", sign);

	return ret ? ret : gs_shown_append(out, key);
}

/* "+key" for each of to's keys that from lacks, "-key" the other way
 * round (from or to may be NULL), ", " between them. */
static int diff_group_keys(const struct sops_key_group *from, const struct sops_key_group *to, struct gs_buf *out)
{
	int ret = 0;

	for (size_t i = 0; to && !ret && i < sops_key_group_size(to); i++)
		if (!from || !gitseal_group_has(from, sops_key_group_key(to, i)))
			ret = append_key(out, '+', sops_key_group_key(to, i));
	for (size_t i = 0; from && !ret && i < sops_key_group_size(from); i++)
		if (!to || !gitseal_group_has(to, sops_key_group_key(from, i)))
			ret = append_key(out, '-', sops_key_group_key(from, i));
	return ret;
}

/* The recipients group by group: all of a new rule's (from NULL), a kept
 * one's changes; "group N: " before each when there are several. */
static int diff_rule_keys(const struct sops_key_summary *a, const struct sops_key_summary *b, struct gs_buf *out)
{
	size_t n = a->group_count > b->group_count ? a->group_count : b->group_count;
	struct gs_buf one;
	int ret = 0;

	gs_buf_init(&one, false);
	for (size_t g = 0; g < n && !ret; g++) {
		gs_buf_reset(&one);
		if ((ret = diff_group_keys(g < a->group_count ? &a->groups[g] : NULL,
					   g < b->group_count ? &b->groups[g] : NULL, &one)) || !one.len)
			continue;
		if (!(ret = gs_buf_append_str(out, out->len ? "; " : "")) && n > 1)
			ret = gs_buf_printf(out, "group %zu: ", g + 1);
		if (!ret)
			ret = gs_buf_append(out, one.data, one.len);
	}
	gs_buf_release(&one);
	return ret;
}

/* A new rule in full (from NULL); a kept one's changes of recipients,
 * key groups and selection. */
static int diff_rule(const struct sops_rule *from, const struct sops_rule *to, struct gs_buf *out)
{
	struct sops_key_summary a = { 0 }, b;
	struct gs_buf keys;
	int ret;

	gs_buf_init(&keys, false);
	rule_summary(to, &b);
	if (from)
		rule_summary(from, &a);
	if ((ret = diff_rule_keys(&a, &b, &keys)))
		goto out;
	if (keys.len && (!(ret = rule_line(to, out))) &&
	    (ret = gs_buf_printf(out, "%s: %s\n", from ? "recipients" : "sealed for", (const char *)keys.data)))
		goto out;
	/* how many groups must come together: a change of who can read too */
	if (!from && b.group_count > 1 && (!(ret = rule_line(to, out))) &&
	    (ret = gs_buf_printf(out, "%zu key groups, %d needed\n", b.group_count, threshold(&b))))
		goto out;
	if (from && (a.group_count != b.group_count || threshold(&a) != threshold(&b)) &&
	    (!(ret = rule_line(to, out))) &&
	    (ret = gs_buf_printf(out, "key groups %zu -> %zu, groups needed %d -> %d\n", a.group_count,
				 b.group_count, threshold(&a), threshold(&b))))
		goto out;
	if (from && same_rule_selection(&from->selection, &to->selection))
		goto out;
	if ((ret = rule_line(to, out)) || (ret = describe_clear(&to->selection, out)))
		goto out;
	if (from && (!(ret = gs_buf_append_str(out, " (was: ")) && !(ret = describe_clear(&from->selection, out))))
		ret = gs_buf_append_str(out, ")");
	if (!ret)
		ret = gs_buf_append_str(out, "\n");
out:
	gs_buf_release(&keys);
	return ret;
}

/* Rules are told apart by their path_regex (the n-th of a name with the
 * n-th); the first rule that matches a path applies, so an order change
 * is one of what a path gets. */
static int diff_rules(const struct sops_config *from, const struct sops_config *to, struct gs_buf *out)
{
	size_t nf = from ? from->rule_count : 0, nt = to->rule_count;
	size_t *match = NULL, *rank_from = NULL, kept = 0;
	bool *taken = NULL;
	int ret = 0;

	match = gs_calloc(nt + 1, sizeof(*match));
	rank_from = gs_calloc(nf + 1, sizeof(*rank_from));
	taken = gs_calloc(nf + 1, sizeof(*taken));
	if (!match || !rank_from || !taken) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nt; i++) {
		match[i] = SIZE_MAX;
		for (size_t j = 0; j < nf && match[i] == SIZE_MAX; j++)
			if (!taken[j] && same_name(&from->rules[j], &to->rules[i])) {
				taken[j] = true;
				match[i] = j;
			}
	}
	for (size_t j = 0, r = 0; j < nf; j++)
		if (taken[j])
			rank_from[j] = r++;
	for (size_t i = 0; i < nt && !ret; i++) {
		const struct sops_rule *to_rule = &to->rules[i];

		if (match[i] == SIZE_MAX) {
			if (!(ret = rule_line(to_rule, out)) &&
			    !(ret = gs_buf_printf(out, "new rule (rule %zu of %zu)\n", i + 1, nt)))
				ret = diff_rule(NULL, to_rule, out);
			continue;
		}
		if (rank_from[match[i]] != kept++ && !(ret = rule_line(to_rule, out)))
			ret = gs_buf_printf(out, "moved from rule %zu to rule %zu (the first rule that matches a path "
						 "applies)\n", match[i] + 1, i + 1);
		if (!ret)
			ret = diff_rule(&from->rules[match[i]], to_rule, out);
	}
	for (size_t j = 0; j < nf && !ret; j++)
		if (!taken[j] && !(ret = rule_line(&from->rules[j], out)))
			ret = gs_buf_printf(out, "removed (was rule %zu)\n", j + 1);
out:
	free(match);
	free(rank_from);
	free(taken);
	return ret;
}

/* The accepted .sops.yaml's trust loaded, and the work tree's (NULL when
 * it has none that reads: nothing to accept). */
static int both_configs(struct gitfilter *f, const struct sops_config **config)
{
	int ret;

	*config = NULL;
	if ((ret = gittrust_load(f)))
		return ret;
	if ((ret = gitfilter_config(f, config)) == GS_ERR_CONFIG) {
		gs_error_clear();
		*config = NULL;
		return 0;
	}
	return ret;
}

int gitfilter_config_changes(struct gitfilter *f, struct gs_buf *out)
{
	const struct sops_config *config;
	int ret = both_configs(f, &config);

	return ret || !config ? ret : diff_rules(f->trust.config, config, out);
}

/* Whether rule to lacks a recipient of rule from, group by group. */
static bool rule_drops(const struct sops_rule *from, const struct sops_rule *to)
{
	for (size_t g = 0; g < from->group_count; g++)
		for (size_t i = 0; i < sops_key_group_size(&from->groups[g]); i++)
			if (g >= to->group_count || !gitseal_group_has(&to->groups[g], sops_key_group_key(&from->groups[g], i)))
				return true;
	return false;
}

int gitfilter_config_narrows(struct gitfilter *f, bool *narrows)
{
	const struct sops_config *config, *from;
	int ret = both_configs(f, &config);

	*narrows = false;
	if (ret || !config)
		return ret;
	from = f->trust.config;
	for (size_t j = 0; from && j < from->rule_count && !*narrows; j++) {
		const struct sops_rule *to = NULL;

		for (size_t i = 0; i < config->rule_count && !to; i++)
			if (same_name(&from->rules[j], &config->rules[i]))
				to = &config->rules[i];
		/* a rule gone sends its paths to a later one */
		*narrows = !to || rule_drops(&from->rules[j], to);
	}
	return ret;
}

int gitfilter_retire_keys(struct gitfilter *f, bool narrows, bool *retired)
{
	*retired = narrows || f->trust.narrowed;
	return *retired ? gittrust_retire_keys(f) : 0;
}

/* ---- which paths ---- */

int gitfilter_path_in_repo(struct gitfilter *f, const char *arg, char **rel)
{
	char dir[PATH_MAX], real[PATH_MAX], *slash;
	const char *base;
	size_t wl = strlen(f->workdir);

	*rel = NULL;
	if ((size_t)snprintf(dir, sizeof(dir), "%s", arg) >= sizeof(dir))
		return GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", gs_shown(arg));
	slash = strrchr(dir, '/');
	base = slash ? slash + 1 : dir;
	if (slash)
		*slash = '\0';
	if (!realpath(slash ? (dir[0] ? dir : "/") : ".", real))
		return GS_FAIL(GS_ERR_NOT_FOUND, "'%s': no such directory", gs_shown(arg));
	if (strlen(real) + 1 < wl - 1 || strncmp(real, f->workdir, wl - 1) ||
	    (real[wl - 1] != '/' && real[wl - 1] != '\0'))
		return GS_FAIL(GS_ERR_USAGE, "'%s' is outside the repository", gs_shown(arg));
	if (gs_asprintf(rel, "%s%s%s", real[wl - 1] ? real + wl : "", real[wl - 1] && *base ? "/" : "",
		     strcmp(base, ".") ? base : "") < 0) {
		*rel = NULL;
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

static int push_path(char ***paths, size_t *count, const char *path)
{
	return gs_strings_push(paths, count, path, strlen(path));
}

/* Files below rel (a directory of the work tree, "" for the root) that git
 * does not track yet and would add: not ignored, under the filter. Nested
 * repositories are left alone. */
static int untracked_paths(struct gitfilter *f, git_index *idx, const char *rel, char ***paths, size_t *count)
{
	char full[PATH_MAX], child[PATH_MAX];
	struct dirent *de;
	struct stat top;
	DIR *dir;
	int ret = 0;

	if ((size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, rel) >= sizeof(full))
		return GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", gs_shown(rel));
	/* a link to a directory is not followed */
	if (lstat(full, &top) != 0 || !S_ISDIR(top.st_mode) || !(dir = opendir(full)))
		return 0;
	while (!ret && (de = readdir(dir))) {
		struct stat st;
		int ignored = 0;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, ".git"))
			continue;
		if ((size_t)snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >= sizeof(child) ||
		    (size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, child) >= sizeof(full) ||
		    lstat(full, &st) != 0)
			continue;
		if (git_ignore_path_is_ignored(&ignored, f->repo, child) < 0 || ignored) {
			git_error_clear();
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			char dotgit[PATH_MAX + 8];

			snprintf(dotgit, sizeof(dotgit), "%s/.git", full);
			if (access(dotgit, F_OK) != 0)
				ret = untracked_paths(f, idx, child, paths, count);
		} else if (S_ISREG(st.st_mode) && !git_index_get_bypath(idx, child, 0) && !unmerged(idx, child) &&
			   gitrepo_filtered(f, child)) {
			ret = push_path(paths, count, child);
		}
	}
	closedir(dir);
	return ret;
}

/* The filtered files of the index under dir ("" or ending with '/'): idx
 * read, paths and count set (freed by the caller, on failure too). */
static int indexed_paths(struct gitfilter *f, const char *dir, git_index **idx, char ***paths, size_t *count)
{
	size_t dl = strlen(dir);
	int ret = 0;

	*paths = NULL;
	*count = 0;
	*idx = NULL;
	if (git_repository_index(idx, f->repo) < 0 || git_index_read(*idx, 0) < 0)
		return gitrepo_fail("cannot read the index");
	for (size_t i = 0; i < git_index_entrycount(*idx) && !ret; i++) {
		const git_index_entry *e = git_index_get_byindex(*idx, i);

		/* git runs no filter on a link or a submodule: not a sealed file */
		if (git_index_entry_stage(e) != 0 || (e->mode & 0170000) != 0100000 ||
		    (dl && (strncmp(e->path, dir, dl) || e->path[dl] != '/')) || !gitrepo_filtered(f, e->path))
			continue;
		ret = push_path(paths, count, e->path);
	}
	return ret;
}

int gitfilter_filtered_paths(struct gitfilter *f, const char *dir, char ***paths, size_t *count)
{
	git_index *idx = NULL;
	int ret = indexed_paths(f, dir, &idx, paths, count);

	/* new files too: a hand-made sops file waits for its recipients */
	if (!ret)
		ret = untracked_paths(f, idx, dir, paths, count);
	git_index_free(idx);
	return ret;
}

bool gitfilter_committed_sealed(struct gitfilter *f, const char *path)
{
	struct doc d;
	bool sealed = false;

	if (gitseal_committed_load(f, path, store_format_for_path(path), &d, &sealed))
		gs_error_clear();
	doc_release(&d);
	return sealed;
}
