/* `gitseal git check --commits` and the pre-push hook: the commits git runs
 * no pre-commit hook for (a merge without conflicts, and those git rebase,
 * cherry-pick and revert make, also after --continue), each checked by
 * check.c's rules with its tree as the index and its first parent's as
 * HEAD: what the commit brought in, a merge's from the other side. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <git2.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "gitfilter_int.h"

/* git's word for "all remote-tracking branches" (rev-list --remotes) */
#define REMOTES_GLOB "refs/remotes/*"
/* one line of git's pre-push input: two refs and two ids */
enum { PUSH_LINE_MAX = 4 * 4096 };

/* The index a walk reads each commit's tree into, first read from the
 * repository's (a bare repository has none; it is never written):
 * git_index_read_tree keeps an entry's stat data where the path holds the
 * same blob as before, so the sizes check.c's copy search compares are
 * the work tree's (a sealed file's plaintext size, as an index holds it). */
static int walk_index(struct gitfilter *f, git_index **out)
{
	git_index *repo_idx = NULL;
	int rc;

	*out = NULL;
	if (git_repository_index(&repo_idx, f->repo) < 0 || !git_index_path(repo_idx)) {
		git_error_clear();
		rc = git_index_new(out);
	} else {
		rc = git_index_open(out, git_index_path(repo_idx));
	}
	git_index_free(repo_idx);
	return rc < 0 ? gitrepo_fail("cannot read the index") : 0;
}

/* The commit's tree read into idx; a file it changes that the work tree
 * does not hold as it does (no stat data kept) is given its blob's size. */
static int commit_index(struct gitfilter *f, git_tree *tree, git_index *idx)
{
	if (git_index_read_tree(idx, tree) < 0)
		return gitrepo_fail("cannot read the commit's tree");
	for (size_t i = 0; i < git_index_entrycount(idx); i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);
		git_index_entry sized = *e;
		git_blob *blob = NULL;

		if ((e->mode & 0170000) != 0100000 || e->file_size || gitrepo_head_same(f, e->path, &e->id))
			continue;
		if (git_blob_lookup(&blob, f->repo, &e->id) < 0)
			return gitrepo_fail("cannot read a blob of the commit");
		sized.file_size = git_blob_rawsize(blob) > UINT32_MAX ? UINT32_MAX : (uint32_t)git_blob_rawsize(blob);
		git_blob_free(blob);
		if (git_index_add(idx, &sized) < 0)
			return gitrepo_fail("cannot read the commit's tree");
	}
	return 0;
}

/* The first bytes of id in hex, as git abbreviates it. */
static void id_shown(const git_oid *id, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; n + 1 < size && n / 2 < sizeof(id->id); n++)
		out[n] = hex[n % 2 ? id->id[n / 2] & 0xf : id->id[n / 2] >> 4];
	out[n] = '\0';
}

static int check_commit(struct gitfilter *f, git_index *idx, const git_oid *id, struct gitfilter_findings *fs)
{
	git_commit *c = NULL, *parent = NULL;
	git_tree *tree = NULL, *parent_tree = NULL;
	size_t before = fs->count;
	int ret = 0;

	if (git_commit_lookup(&c, f->repo, id) < 0 || git_commit_tree(&tree, c) < 0 ||
	    (git_commit_parentcount(c) && (git_commit_lookup(&parent, f->repo, git_commit_parent_id(c, 0)) < 0 ||
					   git_commit_tree(&parent_tree, parent) < 0))) {
		ret = gitrepo_fail("cannot read a commit");
		goto out;
	}
	/* a root commit: every file is new, as on an unborn branch */
	gitrepo_head_set(f, parent_tree);
	parent_tree = NULL;
	memcpy(f->head_name, "commit ", 7);
	id_shown(git_commit_parentcount(c) ? git_commit_parent_id(c, 0) : id, f->head_name + 7,
		 sizeof(fs->items[0].commit));
	if ((ret = commit_index(f, tree, idx)) || (ret = gitfilter_check_index(f, idx, fs)))
		goto out;
	for (size_t i = before; i < fs->count; i++)
		id_shown(id, fs->items[i].commit, sizeof(fs->items[i].commit));
out:
	git_tree_free(parent_tree);
	git_tree_free(tree);
	git_commit_free(parent);
	git_commit_free(c);
	return ret;
}

/* The commits walk reaches, oldest first. */
static int check_walk(struct gitfilter *f, git_revwalk *walk, struct gitfilter_findings *fs)
{
	git_index *idx = NULL;
	git_oid id;
	int ret = walk_index(f, &idx), rc = 0;

	while (!ret && (rc = git_revwalk_next(&id, walk)) == 0)
		ret = check_commit(f, idx, &id, fs);
	if (!ret && rc != GIT_ITEROVER)
		ret = gitrepo_fail("cannot list the commits");
	git_index_free(idx);
	return ret;
}

/* The commit text names (a tag peeled), into id; GS_ERR_USAGE when none. */
static int commit_named(struct gitfilter *f, const char *text, git_oid *id)
{
	git_object *commit = NULL;
	char spec[1024];
	int ret = 0;

	if ((size_t)snprintf(spec, sizeof(spec), "%s^{commit}", text) >= sizeof(spec))
		return GS_FAIL(GS_ERR_USAGE, "'%s': revision too long", gs_shown(text));
	if (git_revparse_single(&commit, f->repo, spec) < 0)
		ret = GS_FAIL(GS_ERR_USAGE, "'%s' is not a commit: %s", gs_shown(text),
			      git_error_last() ? gs_shown(git_error_last()->message) : "not found");
	else
		*id = *git_commit_id((const git_commit *)commit);
	git_error_clear();
	git_object_free(commit);
	return ret;
}

/* A word as git rev-list takes it: A..B, ^A (hidden) or A. */
static int walk_word(struct gitfilter *f, git_revwalk *walk, const char *word)
{
	const char *dots = strstr(word, "..");
	git_oid id;
	int ret;

	if (dots && dots[2] == '.')
		return GS_FAIL(GS_ERR_USAGE, "'%s': A...B is not taken; name A..B and B..A", gs_shown(word));
	if (dots) {
		char from[1024];

		if ((size_t)(dots - word) >= sizeof(from))
			return GS_FAIL(GS_ERR_USAGE, "'%s': revision too long", gs_shown(word));
		memcpy(from, word, (size_t)(dots - word));
		from[dots - word] = '\0';
		if ((ret = commit_named(f, from[0] ? from : "HEAD", &id)))
			return ret;
		if (git_revwalk_hide(walk, &id) < 0)
			return gitrepo_fail("cannot list the commits");
		word = dots[2] ? dots + 2 : "HEAD";
	}
	if ((ret = commit_named(f, word[0] == '^' ? word + 1 : word, &id)))
		return ret;
	if ((word[0] == '^' ? git_revwalk_hide(walk, &id) : git_revwalk_push(walk, &id)) < 0)
		return gitrepo_fail("cannot list the commits");
	return 0;
}

/* The remote-tracking refs' commits hidden (none there is no error). */
static int hide_remotes(git_revwalk *walk)
{
	if (git_revwalk_hide_glob(walk, REMOTES_GLOB) < 0)
		return gitrepo_fail("cannot read the remote-tracking refs");
	return 0;
}

/* What names the commits to check: walk filled for the repository f. */
typedef int walk_fill_fn(struct gitfilter *f, git_revwalk *walk, const void *ctx);

struct walked {
	walk_fill_fn *fill;
	const void *ctx;
};

/* The commits w->fill names, checked oldest first into fs. */
static int check_walked(struct gitfilter *f, const void *ctx, struct gitfilter_findings *fs)
{
	const struct walked *w = ctx;
	git_revwalk *walk = NULL;
	int ret;

	if (git_revwalk_new(&walk, f->repo) < 0)
		return gitrepo_fail("cannot list the commits");
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	if (!(ret = w->fill(f, walk, w->ctx)))
		ret = check_walk(f, walk, fs);
	git_revwalk_free(walk);
	return ret;
}

struct revs {
	char *const *words;
	size_t n;
};

static int fill_revs(struct gitfilter *f, git_revwalk *walk, const void *ctx)
{
	const struct revs *r = ctx;
	git_oid head;
	int ret = gitfilter_warn_pins(f);

	/* none: what a push of HEAD would send, as the hook checks it */
	if (!ret && !r->n && !(ret = commit_named(f, "HEAD", &head)) && git_revwalk_push(walk, &head) < 0)
		ret = gitrepo_fail("cannot list the commits");
	if (!ret && !r->n)
		ret = hide_remotes(walk);
	for (size_t i = 0; i < r->n && !ret; i++)
		ret = walk_word(f, walk, r->words[i]);
	return ret;
}

int gitfilter_check_commits(const char *start_dir, char *const *revs, size_t n, struct gitfilter_findings *fs)
{
	struct revs r = { revs, n };
	struct walked w = { fill_revs, &r };

	return gitfilter_check_run(start_dir, check_walked, &w, fs);
}

/* Whether word is an object id as git writes one (hex, 40 or 64). */
static bool object_id(const char *word)
{
	size_t n = strspn(word, "0123456789abcdef");

	return !word[n] && (n == 40 || n == 64);
}

/* One line of git's pre-push input, "<local ref> <local id> <remote ref>
 * <remote id>", into walk: a deletion (the local id all zeros) passes; the
 * remote id, when this clone has it, is hidden with its history. */
static int push_line(struct gitfilter *f, git_revwalk *walk, char *line)
{
	char *word[4], *save = NULL;
	git_oid local, remote;

	for (int i = 0; i < 4; i++)
		if (!(word[i] = strtok_r(i ? NULL : line, " ", &save)) || !(i % 2 == 0 || object_id(word[i])))
			return GS_FAIL(GS_ERR_USAGE, "pre-push: a line of git's input is not '<local ref> <local "
						     "id> <remote ref> <remote id>'");
	if (!word[1][strspn(word[1], "0")])
		return 0;
	/* a remote id this clone lacks (pushed from elsewhere): the
	 * remote-tracking refs alone say what the remote holds */
	if (word[3][strspn(word[3], "0")] && !commit_named(f, word[3], &remote) && git_revwalk_hide(walk, &remote) < 0)
		return gitrepo_fail("cannot list the commits");
	gs_error_clear();
	/* a tag of a tree or a blob brings no commit */
	if (commit_named(f, word[1], &local)) {
		gs_error_clear();
		return 0;
	}
	return git_revwalk_push(walk, &local) < 0 ? gitrepo_fail("cannot list the commits") : 0;
}

static int fill_push(struct gitfilter *f, git_revwalk *walk, const void *ctx)
{
	const struct gs_buf *lines = ctx;
	const char *p = (const char *)lines->data, *end = p + lines->len;
	/* what a remote-tracking ref holds left the clone before: a
	 * teammate's branch merged is checked as the merge brings it in */
	int ret = hide_remotes(walk);

	while (p < end && !ret) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((eol ? eol : end) - p);
		char line[PUSH_LINE_MAX];

		if (len >= sizeof(line))
			return GS_FAIL(GS_ERR_LIMIT, "pre-push: a line of git's input is longer than %d bytes",
				       PUSH_LINE_MAX);
		memcpy(line, p, len);
		line[len] = '\0';
		if (len)
			ret = push_line(f, walk, line);
		p = eol ? eol + 1 : end;
	}
	return ret;
}

int gitfilter_check_push(const char *start_dir, const struct gs_buf *lines, struct gitfilter_findings *fs)
{
	struct walked w = { fill_push, lines };

	return gitfilter_check_run(start_dir, check_walked, &w, fs);
}
