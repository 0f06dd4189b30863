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

#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/store.h"
#include "gitfilter_int.h"

static int threshold(const struct sops_key_summary *k)
{
	return k->group_count > 1 ? (k->shamir_threshold ? k->shamir_threshold : (int)k->group_count) : 1;
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
			ret = gs_buf_printf(out, "%s %s\n", kept ? "   " : "+++", k);
		}
		for (size_t i = 0; a && !ret && i < sops_key_group_size(a); i++) {
			const char *k = sops_key_group_key(a, i);

			if (!b || !gitseal_group_has(b, k))
				ret = gs_buf_printf(out, "--- %s\n", k);
		}
	}
	/* how many groups must come together: a change of who can read too */
	if (!ret && n > 1 && threshold(from) != threshold(to))
		ret = gs_buf_printf(out, "    groups needed: %d -> %d\n", threshold(from), threshold(to));
	return ret;
}

static int describe_selection(const struct sops_selection *s, struct gs_buf *out)
{
	int ret = s->kind == SOPS_SEL_NONE ? gs_buf_append_str(out, "every value")
					   : gs_buf_printf(out, "%s '%s'", sops_selection_key(s->kind),
							   s->value ? s->value : "");

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
static int plan_committed(const struct doc *cipher, struct gitfilter_update *u)
{
	int ret;

	if ((ret = sops_doc_keys(cipher, &u->from)) || (ret = diff_groups(&u->from, &u->to, &u->adds, &u->diff)))
		return ret;
	u->changes = !gitseal_keys_equal_groups(&u->from, &u->to);
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
		u->from.selection.value = u->to.selection.value ? strdup(u->to.selection.value) : NULL;
	}
	if (!ret && !u->changes)
		gs_buf_reset(&u->diff);
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
	if (!(u->path = strdup(path)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if ((ret = gittrust_load(f)))
		goto out;
	doc_release(&cipher);
	if ((ret = gitseal_committed_load(f, path, format, &cipher, &sealed)) ||
	    (ret = rule_keys(f, path, &u->to, &no_rule)))
		goto out;
	u->is_new = !sealed;
	if (u->is_new) {
		enum gitseal_worktree worktree;

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
		ret = plan_committed(&cipher, u);
	}
out:
	doc_release(&cipher);
	return ret;
}

/* git trusts a size change without reading the file (ie_modified in
 * read-cache.c), so an entry whose file changed must describe it. */
int gitrepo_index_set(struct gitfilter *f, git_index *idx, const git_index_entry *e, const git_oid *id,
		      const char *full)
{
	git_index_entry copy = *e;
	struct stat st;
	int ret = 0;

	if (id)
		copy.id = *id;
	if (full) {
		if (lstat(full, &st) != 0)
			return GS_FAIL(GS_ERR_IO, "cannot stat '%s'", full);
		copy.ctime.seconds = (int32_t)st.st_ctim.tv_sec;
		copy.ctime.nanoseconds = (uint32_t)st.st_ctim.tv_nsec;
		copy.mtime.seconds = (int32_t)st.st_mtim.tv_sec;
		copy.mtime.nanoseconds = (uint32_t)st.st_mtim.tv_nsec;
		copy.dev = (uint32_t)st.st_dev;
		copy.ino = (uint32_t)st.st_ino;
		copy.uid = (uint32_t)st.st_uid;
		copy.gid = (uint32_t)st.st_gid;
		copy.file_size = (uint32_t)st.st_size;
	}
	if (!(copy.path = strdup(e->path)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (git_index_add(idx, &copy) < 0)
		ret = gitrepo_fail("cannot update the index");
	free((char *)copy.path);
	(void)f;
	return ret;
}

/* Whether path is unmerged in idx (a conflict's stages 1-3). */
static bool unmerged(git_index *idx, const char *path)
{
	for (int stage = 1; stage <= 3; stage++)
		if (git_index_get_bypath(idx, path, stage))
			return true;
	return false;
}

/* Stages the re-sealed version; a work tree file that held the old
 * ciphertext (locked) gets the new one. */
static int stage(struct gitfilter *f, const char *path, const struct gs_buf *old, const struct gs_buf *sealed)
{
	git_index *idx = NULL;
	const git_index_entry *e;
	git_index_entry fresh;
	struct gs_buf file;
	char full[PATH_MAX];
	git_oid id;
	bool rewrite = false;
	int ret;

	gs_buf_init(&file, true);
	if (git_blob_create_from_buffer(&id, f->repo, sealed->data, sealed->len) < 0)
		return gitrepo_fail("cannot write a blob");
	if (git_repository_index(&idx, f->repo) < 0 || git_index_read(idx, 0) < 0) {
		ret = gitrepo_fail("cannot read the index");
		goto out;
	}
	/* a stage 0 entry beside a conflict's stages leaves an index git
	 * cannot commit, nor resolve with `git add` */
	if (unmerged(idx, path)) {
		ret = GS_FAIL(GS_ERR_CONFLICT, "it is unmerged: 'gitseal updatekeys -r .' accepts the recipients "
					       "without it, then 'git checkout -m %s' merges it again", path);
		goto out;
	}
	if ((size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, path) >= sizeof(full)) {
		ret = GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", path);
		goto out;
	}
	if (gs_read_file(full, &file, STORE_MAX_INPUT) == 0 && file.len == old->len &&
	    !memcmp(file.data, old->data, old->len)) {
		struct stat st;

		rewrite = true;
		ret = lstat(full, &st) == 0 ? gs_atomic_write(full, sealed->data, sealed->len, (int)(st.st_mode & 07777))
					    : GS_FAIL(GS_ERR_IO, "cannot stat '%s'", full);
		if (ret)
			goto out;
	}
	gs_error_clear();
	e = git_index_get_bypath(idx, path, 0);
	if (!e) {
		/* committed in HEAD, removed from the index: stage it again */
		memset(&fresh, 0, sizeof(fresh));
		fresh.mode = GIT_FILEMODE_BLOB;
		fresh.path = path;
		e = &fresh;
	}
	if (!(ret = gitrepo_index_set(f, idx, e, &id, rewrite ? full : NULL)) && git_index_write(idx) < 0)
		ret = gitrepo_fail("cannot write the index");
out:
	git_index_free(idx);
	gs_buf_release(&file);
	return ret;
}

int gitfilter_update_apply(struct gitfilter *f, struct gitfilter_update *u, bool rotate)
{
	const struct sops_key_summary *accept = u->accept_only || u->is_new ? (u->is_new ? &u->to : &u->from)
									    : &u->to;
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
		if (!found || !gitseal_load_sealed(cipher.format, blob.data, blob.len, &cipher)) {
			ret = GS_FAIL(GS_ERR_CONFLICT, "the committed version changed meanwhile");
			goto out;
		}
		if ((ret = gitseal_open_doc(f, &cipher, &plain, id)) ||
		    (ret = gitseal_seal(f, &plain, &u->to, &cipher, rotate ? GITSEAL_KEY_FRESH : GITSEAL_KEY_KEEP,
					&sealed)) ||
		    (ret = stage(f, u->path, &blob, &sealed)))
			goto out;
	}
	/* per path: what the file is sealed for now, for its path only */
	ret = gittrust_accept_files(f, &u->path, accept, 1);
out:
	if (ret)
		gs_error_prefix("'%s'", u->path);
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
	return diff ? gittrust_config_changes(f, config, diff) : gittrust_accept_config(f, NULL);
}

/* ---- which paths ---- */

int gitfilter_path_in_repo(struct gitfilter *f, const char *arg, char **rel)
{
	char dir[PATH_MAX], real[PATH_MAX], *slash;
	const char *base;
	size_t wl = strlen(f->workdir);

	*rel = NULL;
	if ((size_t)snprintf(dir, sizeof(dir), "%s", arg) >= sizeof(dir))
		return GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", arg);
	slash = strrchr(dir, '/');
	base = slash ? slash + 1 : dir;
	if (slash)
		*slash = '\0';
	if (!realpath(slash ? (dir[0] ? dir : "/") : ".", real))
		return GS_FAIL(GS_ERR_NOT_FOUND, "'%s': no such directory", arg);
	if (strlen(real) + 1 < wl - 1 || strncmp(real, f->workdir, wl - 1) ||
	    (real[wl - 1] != '/' && real[wl - 1] != '\0'))
		return GS_FAIL(GS_ERR_USAGE, "'%s' is outside the repository", arg);
	if (asprintf(rel, "%s%s%s", real[wl - 1] ? real + wl : "", real[wl - 1] && *base ? "/" : "",
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
	DIR *dir;
	int ret = 0;

	if ((size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, rel) >= sizeof(full))
		return GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", rel);
	if (!(dir = opendir(full)))
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

int gitfilter_filtered_paths(struct gitfilter *f, const char *dir, char ***paths, size_t *count)
{
	git_index *idx = NULL;
	size_t dl = strlen(dir);
	int ret = 0;

	*paths = NULL;
	*count = 0;
	if (git_repository_index(&idx, f->repo) < 0 || git_index_read(idx, 0) < 0)
		return gitrepo_fail("cannot read the index");
	for (size_t i = 0; i < git_index_entrycount(idx) && !ret; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);

		if (git_index_entry_stage(e) != 0 || (dl && (strncmp(e->path, dir, dl) || e->path[dl] != '/')) ||
		    !gitrepo_filtered(f, e->path))
			continue;
		ret = push_path(paths, count, e->path);
	}
	/* new files too: a hand-made sops file waits for its recipients */
	if (ret)
		goto out;
	ret = untracked_paths(f, idx, dir, paths, count);
out:
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
