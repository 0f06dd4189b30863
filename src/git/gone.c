/* Records of files gone: the recipients `gitseal updatekeys` accepted for a
 * path stay in .git/gitseal/accepted after its file is deleted, and would
 * let a pull request that re-creates the file, naming them, have the next
 * edit sealed for them with no prompt (the committed version is the
 * authority for an existing file's recipients). `updatekeys -r` shows and
 * drops them; `gitseal git status` says there are some.
 *
 * The records are shared by the worktrees of a repository (trust.c), so a
 * path is gone only when no worktree holds it: not in its work tree, its
 * index (any stage) nor its HEAD, each as a regular file: a symbolic link,
 * a directory or a submodule in its place holds no file (a pull request
 * could otherwise keep a record alive for a file it brings back later).
 * A record dropped too early costs a prompt (updatekeys shows the
 * recipients again); one kept, a grant. What cannot be read counts as
 * held: nothing is dropped on a guess. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>

#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "gitfilter_int.h"

static bool regular_mode(unsigned int mode)
{
	return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

static bool in_workdir(const char *workdir, const char *path)
{
	char full[PATH_MAX];
	struct stat st;

	if (!workdir)
		return false;
	if ((size_t)snprintf(full, sizeof(full), "%s%s", workdir, path) >= sizeof(full))
		return true;
	/* a link, a directory or a submodule in its place holds no file */
	if (lstat(full, &st) == 0)
		return S_ISREG(st.st_mode);
	return errno != ENOENT && errno != ENOTDIR;
}

static bool in_index(git_index *idx, const char *path)
{
	for (int stage = 0; stage <= 3; stage++) {
		const git_index_entry *e = git_index_get_bypath(idx, path, stage);

		if (e && regular_mode(e->mode))
			return true;
	}
	return false;
}

static bool in_tree(const git_tree *tree, const char *path)
{
	git_tree_entry *te = NULL;
	bool held;
	int rc;

	if (!tree)
		return false;
	rc = git_tree_entry_bypath(&te, tree, path);
	held = rc == 0 ? regular_mode(git_tree_entry_filemode(te)) : rc != GIT_ENOTFOUND;
	git_tree_entry_free(te);
	git_error_clear();
	return held;
}

/* Drops (frees) from paths those repo holds in its work tree, index or
 * HEAD; all of them when its index or HEAD cannot be read. */
static void drop_held(git_repository *repo, char **paths, size_t *count)
{
	const char *workdir = git_repository_workdir(repo);
	git_index *idx = NULL;
	git_object *head = NULL;
	size_t kept = 0;
	int rc = git_revparse_single(&head, repo, "HEAD^{tree}");
	bool unknown = rc < 0 && rc != GIT_ENOTFOUND && rc != GIT_EUNBORNBRANCH;

	/* a bare repository has no index */
	if (workdir && (git_repository_index(&idx, repo) < 0 || git_index_read(idx, 0) < 0))
		unknown = true;
	git_error_clear();
	for (size_t i = 0; i < *count; i++)
		if (unknown || in_workdir(workdir, paths[i]) || (idx && in_index(idx, paths[i])) ||
		    in_tree((const git_tree *)head, paths[i]))
			free(paths[i]);
		else
			paths[kept++] = paths[i];
	*count = kept;
	git_object_free(head);
	git_index_free(idx);
}

/* The main worktree and each linked one but f's own. A linked worktree
 * whose directory is gone (`git worktree prune` removes it) holds nothing;
 * when they cannot be listed, every path counts as held. */
static void drop_held_elsewhere(struct gitfilter *f, char **paths, size_t *count)
{
	const char *self = git_repository_path(f->repo);
	git_strarray names = { 0 };
	git_repository *repo = NULL;

	if (git_repository_open_ext(&repo, git_repository_commondir(f->repo), GIT_REPOSITORY_OPEN_NO_SEARCH,
				    NULL) < 0 ||
	    git_worktree_list(&names, f->repo) < 0) {
		for (size_t i = 0; i < *count; i++)
			free(paths[i]);
		*count = 0;
	} else if (strcmp(git_repository_path(repo), self)) {
		drop_held(repo, paths, count);
	}
	git_repository_free(repo);
	for (size_t i = 0; *count && i < names.count; i++) {
		git_worktree *wt = NULL;

		repo = NULL;
		if (git_worktree_lookup(&wt, f->repo, names.strings[i]) == 0 && git_worktree_validate(wt) == 0 &&
		    git_repository_open_from_worktree(&repo, wt) == 0 && strcmp(git_repository_path(repo), self))
			drop_held(repo, paths, count);
		git_repository_free(repo);
		git_worktree_free(wt);
	}
	git_strarray_dispose(&names);
	git_error_clear();
}

void gitfilter_gone_init(struct gitfilter_gone *g)
{
	memset(g, 0, sizeof(*g));
	gs_buf_init(&g->shown, false);
}

static bool gone_listed(const struct gitfilter_gone *g, const char *path)
{
	for (size_t i = 0; i < g->count; i++)
		if (!strcmp(g->paths[i], path))
			return true;
	return false;
}

/* "forget PATH: R1, R2 (file gone)": both were written by a pull request
 * once (the path, the metadata that named them). */
static int gone_add(struct gitfilter *f, struct gitfilter_gone *g, const char *path)
{
	struct gs_buf recipients;
	int ret;

	gs_buf_init(&recipients, false);
	/* "" first: data is a string even where no record is left */
	if ((ret = gs_buf_append_str(&recipients, "")) || (ret = gittrust_recorded_for(f, path, &recipients)) ||
	    (ret = gs_buf_append_str(&g->shown, "forget ")) || (ret = gs_shown_append(&g->shown, path)) ||
	    (ret = gs_buf_append_str(&g->shown, ": ")) ||
	    (ret = gs_shown_append(&g->shown, (const char *)recipients.data)) ||
	    (ret = gs_buf_append_str(&g->shown, " (file gone)\n")))
		goto out;
	ret = gs_strings_push(&g->paths, &g->count, path, strlen(path));
out:
	gs_buf_release(&recipients);
	return ret;
}

int gitfilter_gone_plan(struct gitfilter *f, const char *dir, struct gitfilter_gone *g)
{
	char **paths = NULL;
	size_t count = 0;
	int ret = gittrust_recorded_paths(f, dir, &paths, &count);

	if (!ret && count)
		drop_held(f->repo, paths, &count);
	if (!ret && count)
		drop_held_elsewhere(f, paths, &count);
	for (size_t i = 0; !ret && i < count; i++)
		if (!gone_listed(g, paths[i]))
			ret = gone_add(f, g, paths[i]);
	for (size_t i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
	return ret;
}

int gitfilter_gone_apply(struct gitfilter *f, const struct gitfilter_gone *g)
{
	return gittrust_forget_files(f, g->paths, g->count);
}

void gitfilter_gone_release(struct gitfilter_gone *g)
{
	for (size_t i = 0; i < g->count; i++)
		free(g->paths[i]);
	free(g->paths);
	gs_buf_release(&g->shown);
	memset(g, 0, sizeof(*g));
}
