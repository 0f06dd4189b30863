/* Submodules and the filter's pattern (check.c, status.c): git runs no
 * filter in a submodule, so a file there that the pattern covers by name
 * (`*.enc.yaml` matching vendor/lib/config/db.enc.yaml) is committed in
 * clear in the submodule's own repository. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <git2.h>

#include "gitfilter_int.h"

struct covered_walk {
	struct gitfilter *f;
	const char *sub;
	char *path;
	size_t size;
	bool found;
};

static int covered_entry(const char *root, const git_tree_entry *te, void *ctx)
{
	struct covered_walk *w = ctx;
	const char *value = NULL;

	if (git_tree_entry_type(te) != GIT_OBJECT_BLOB)
		return 0;
	if ((size_t)snprintf(w->path, w->size, "%s/%s%s", w->sub, root, git_tree_entry_name(te)) >= w->size)
		return 0;
	if (git_attr_get(&value, w->f->repo, GIT_ATTR_CHECK_INDEX_ONLY, w->path, "filter") < 0) {
		git_error_clear();
		return 0;
	}
	if (git_attr_value(value) != GIT_ATTR_VALUE_STRING || strcmp(value, "gitseal"))
		return 0;
	w->found = true;
	return -1; /* the first one is enough */
}

bool gitfilter_submodule_covered(struct gitfilter *f, const char *sub, const git_oid *id, char *path, size_t size)
{
	struct covered_walk w = { .f = f, .sub = sub, .path = path, .size = size };
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	char dir[PATH_MAX];

	/* not checked out, or its commit not fetched: nothing to read */
	if ((size_t)snprintf(dir, sizeof(dir), "%s%s", f->workdir, sub) < sizeof(dir) &&
	    git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) == 0 &&
	    git_commit_lookup(&commit, repo, id) == 0 && git_commit_tree(&tree, commit) == 0)
		git_tree_walk(tree, GIT_TREEWALK_PRE, covered_entry, &w);
	git_error_clear();
	git_tree_free(tree);
	git_commit_free(commit);
	git_repository_free(repo);
	return w.found;
}
