/* `gitseal git status`: every staged file under the filter, as this clone
 * sees it (the work tree and the staged blob), and what .sops.yaml would
 * change. Nothing is decrypted: only metadata and the work tree's bytes
 * are read. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "gitfilter_int.h"

static int add_line(struct gitfilter_findings *out, const char *path, const struct gs_buf *text)
{
	struct gitfilter_finding *grown = gs_realloc(out->items, (out->count + 1) * sizeof(*grown));

	if (!grown)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	out->items = grown;
	grown[out->count].submodule = false; /* check's distinction, not status's */
	grown[out->count].path = gs_strdup(path);
	grown[out->count].problem = gs_strdup((const char *)text->data);
	if (!grown[out->count].path || !grown[out->count].problem) {
		free(grown[out->count].path);
		free(grown[out->count].problem);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	out->count++;
	return 0;
}

static int add(struct gs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int add(struct gs_buf *b, const char *fmt, ...)
{
	char one[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	return gs_buf_printf(b, "%s%s", b->len ? "; " : "", one);
}

/* Whether one of this clone's keys opens the sealed file d. The
 * repository unlocked does not say the work tree was: lock and unlock
 * write only their own worktree's files, and a worktree added while
 * another was locked keeps its ciphertext after that one's unlock. */
static int opens_here(struct gitfilter *f, const struct doc *d, bool *opens)
{
	struct sops_file *sf = NULL;
	int ret = gitseal_open(f, d, &sf);

	sops_file_free(sf);
	*opens = ret == 0;
	if (ret == GS_ERR_NOMEM)
		return ret;
	gs_error_clear();
	return 0;
}

/* decrypted / locked: what the work tree holds. A file a sparse checkout
 * leaves out (skip-worktree) is not deleted: git shows nothing for it. */
static int describe_worktree(struct gitfilter *f, const git_index_entry *e, struct doc *cipher, struct gs_buf *line)
{
	const char *path = e->path, *key;
	enum gitseal_worktree state;
	bool opens = f->trust.locked;
	struct doc d;
	int ret = gitseal_worktree_load(f, path, store_format_for_path(path), &d, &state);

	if (ret)
		goto out;
	if (state == GITSEAL_WT_SEALED && !opens && (ret = opens_here(f, &d, &opens)))
		goto out;
	if (state == GITSEAL_WT_MISSING && (e->flags_extended & GIT_INDEX_ENTRY_SKIP_WORKTREE))
		ret = add(line, "not checked out (sparse checkout)");
	else if (state == GITSEAL_WT_MISSING)
		ret = add(line, "deleted in the work tree");
	else if (state == GITSEAL_WT_SEALED && !opens && (key = gitfilter_locked_key_only(f, cipher, NULL)))
		ret = add(line, "locked (ciphertext in the work tree: the passphrase-protected key '%s' opens it, and "
				"git asks for no passphrase: run 'gitseal git unlock' on a terminal, which asks, or set "
				"GITSEAL_SSH_PASSPHRASE)",
			  gs_shown(key));
	else if (state == GITSEAL_WT_SEALED)
		ret = add(line, "locked (ciphertext in the work tree: %s)",
			  opens ? "'gitseal git unlock' decrypts it"
			  : gitfilter_identities(f) ? "none of your identities opens it"
						     : "no identity found");
	else
		ret = add(line, "decrypted");
out:
	doc_release(&d);
	return ret;
}

static int describe_sealed(struct gitfilter *f, const git_index_entry *e, struct doc *cipher, struct gs_buf *line)
{
	const char *path = e->path;
	struct gitfilter_update u;
	struct sops_key_summary keys;
	struct gs_buf list;
	int ret;

	gs_buf_init(&list, false);
	if ((ret = describe_worktree(f, e, cipher, line)))
		return ret;
	if (sops_doc_keys(cipher, &keys)) {
		ret = add(line, "damaged sops metadata (%s)", gs_error_message());
		gs_error_clear();
		return ret;
	}
	ret = gittrust_unaccepted(f, path, &keys, &list);
	if (!ret && list.len)
		if (!(ret = add(line, "recipients changed: %s", (const char *)list.data)))
			ret = add(line, "%s", gittrust_accept_hint(path));
	sops_key_summary_release(&keys);
	gs_buf_release(&list);
	if (ret)
		return ret;
	ret = gitfilter_update_plan(f, path, &u);
	if (ret == GS_ERR_CONFIG || ret == GS_ERR_NO_RULE) {
		/* no .sops.yaml to compare with */
		gs_error_clear();
		return 0;
	}
	if (!ret && u.accept_only)
		ret = add(line, "hand-made (no creation rule matches: its own keys and rule are kept)");
	else if (!ret && u.changes && !gitseal_keys_equal_groups(&u.from, &u.to))
		ret = add(line, "needs updatekeys (.sops.yaml names other keys)");
	else if (!ret && u.changes)
		ret = add(line, "hand-made (its own rule is kept; 'gitseal updatekeys' applies .sops.yaml's)");
	gitfilter_update_release(&u);
	return ret;
}

static int describe(struct gitfilter *f, const git_index_entry *e, struct gs_buf *blob, struct gs_buf *line)
{
	struct gitattrs_change c;
	struct doc d;
	int ret;

	gs_buf_reset(blob);
	if ((ret = gitrepo_read_blob(f, &e->id, blob)))
		return ret;
	if (!blob->len)
		return add(line, "empty");
	if ((ret = gitattrs_changing(f, e->path, blob->data, blob->len, false, &c)) < 0 ||
	    (ret && (ret = add(line, "%s %s", c.what, gitattrs_effect(&c, true)))))
		return ret;
	if (gitseal_conflict_is(blob->data, blob->len))
		return add(line, "unresolved merge conflict");
	if ((ret = gitseal_load_sealed(store_format_for_path(e->path), blob->data, blob->len, &d)) < 0)
		return ret;
	if (!ret) {
		doc_release(&d);
		return add(line, "plaintext staged (the filter did not seal it: 'git add' it again)");
	}
	ret = describe_sealed(f, e, &d, line);
	doc_release(&d);
	return ret;
}

/* Records of files gone (gone.c): a grant a pull request re-creating one
 * could use, until updatekeys -r drops them. */
static int describe_gone(struct gitfilter *f, struct gitfilter_findings *out, struct gs_buf *line)
{
	struct gitfilter_gone g;
	int ret;

	gitfilter_gone_init(&g);
	if ((ret = gitfilter_gone_plan(f, "", &g)) || !g.count)
		goto out;
	gs_buf_reset(line);
	if (g.count == 1)
		ret = add(line, "recipients still accepted for 1 file gone (%s)", gs_shown(g.paths[0]));
	else
		ret = add(line, "recipients still accepted for %zu files gone (%s and %zu more)", g.count, gs_shown(g.paths[0]),
			  g.count - 1);
	if (!ret && !(ret = gs_buf_append_str(line, "; run 'gitseal updatekeys -r .' to see and drop them")))
		ret = add_line(out, ".", line);
out:
	gitfilter_gone_release(&g);
	return ret;
}

/* .sops.yaml first (whom new files would be sealed for), info/attributes
 * lines a pulled macro can take the filter off, a pre-commit hook git does
 * not run, the lock, then records of files gone. */
static int describe_repository(struct gitfilter *f, struct gitfilter_findings *out, struct gs_buf *line)
{
	char *pattern = NULL, *file = NULL, setting[PATH_MAX];
	int ret;

	ret = gitfilter_accept_config(f, line);
	if (ret == GS_ERR_CONFIG) {
		/* an age entry that is not a recipient, never listed as one:
		 * the message names the file, the finding does too */
		static const char named[] = "'.sops.yaml': ";
		const char *why = gs_error_message();

		gs_buf_reset(line);
		if (!strncmp(why, named, sizeof(named) - 1))
			why += sizeof(named) - 1;
		if (!(ret = add(line, "%s", why)))
			ret = add_line(out, ".sops.yaml", line);
		gs_error_clear();
	} else if (!ret && line->len) {
		struct gs_buf msg;

		gs_buf_init(&msg, false);
		if (!(ret = gs_buf_printf(&msg, "recipients changed: %s; run 'gitseal updatekeys' to accept",
					  (const char *)line->data)))
			ret = add_line(out, ".sops.yaml", &msg);
		gs_buf_release(&msg);
	} else if (!ret && !(ret = gitfilter_config_changes(f, line)) && line->len) {
		/* a reader removed (a teammate's revocation), a selection changed:
		 * this clone keeps the rules it accepted until they are shown */
		gs_buf_reset(line);
		if (!(ret = add(line, "rules changed (a recipient removed, a selection); run 'gitseal updatekeys -r .' "
				       "to see and accept them")))
			ret = add_line(out, ".sops.yaml", line);
	}
	if (!ret && !(ret = gitfilter_pins_exposed(f, &pattern)) && pattern) {
		gs_buf_reset(line);
		if (!(ret = add(line, GITPINS_EXPOSED, gs_shown(pattern))))
			ret = add_line(out, ".git/info/attributes", line);
	}
	free(pattern);
	pattern = NULL;
	if (!ret && !(ret = gitfilter_pins_missing(f, &pattern, &file)) && pattern) {
		gs_buf_reset(line);
		if (!(ret = add(line, GITPINS_MISSING, gs_shown(pattern))))
			ret = add_line(out, file, line);
	}
	free(pattern);
	free(file);
	for (enum gitfilter_hook h = GITFILTER_HOOK_PRE_COMMIT; h <= GITFILTER_HOOK_PRE_PUSH && !ret; h++) {
		if (h == GITFILTER_HOOK_PRE_MERGE_COMMIT)
			continue;
		gs_buf_reset(line);
		if (gitfilter_hook_elsewhere(f, h, setting, sizeof(setting)))
			ret = add(line, GITFILTER_HOOK_ELSEWHERE, gitfilter_hook_name(h), gs_shown(setting),
				  gitfilter_hook_name(h), gitfilter_hook_line(h), gitfilter_hook_name(h));
		else if (h == GITFILTER_HOOK_PRE_PUSH && gitfilter_hook_missing(f, h))
			ret = add(line, "no pre-push hook: the commits a rebase, cherry-pick or revert makes are not "
					"checked before a push; run 'gitseal git init' again");
		if (!ret && line->len)
			ret = add_line(out, ".", line);
	}
	if (!ret && f->trust.locked) {
		gs_buf_reset(line);
		if (!(ret = add(line, "locked: checkouts leave ciphertext ('gitseal git unlock')")))
			ret = add_line(out, ".", line);
	}
	if (!ret)
		ret = describe_gone(f, out, line);
	return ret;
}

/* A submodule under the pattern, or whose commit holds a file it covers
 * (a pull request's vendored repository with a placeholder in clear):
 * said before anything is typed there, as check refuses its next commit. */
static int describe_submodule(struct gitfilter *f, const git_index_entry *e, struct gs_buf *line)
{
	char path[PATH_MAX];

	if (gitrepo_filtered(f, e->path))
		return add(line, GITFILTER_SUBMODULE, gs_shown(e->path), gs_shown(e->path));
	if (gitfilter_submodule_covered(f, e->path, &e->id, path, sizeof(path)))
		return add(line, GITFILTER_SUBMODULE_HOLDING, gs_shown(path), gs_shown(e->path));
	return 0;
}

/* A link under the pattern leading where the pattern does not (a pull
 * request's secrets/payments.yaml -> ../config/payments-template.yaml):
 * what the user writes there is not sealed. */
static int describe_link(struct gitfilter *f, git_index *idx, const git_index_entry *e, struct gs_buf *line)
{
	enum gitfilter_link where;
	char target[PATH_MAX];
	int ret = gitfilter_link_where(f, idx, e, target, sizeof(target), &where);

	if (ret || where == GITFILTER_LINK_SEALED)
		return ret;
	return add(line, GITFILTER_LINK_UNSEALED_MSG, gs_shown(target),
		   where == GITFILTER_LINK_OUTSIDE ? "outside the repository" : "which the pattern does not cover",
		   gs_shown(e->path));
}

int gitfilter_status(const char *start_dir, struct gitfilter_findings *out)
{
	struct gitfilter *f = NULL;
	git_index *idx = NULL;
	struct gs_buf blob, line;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = gitfilter_open(start_dir, &f)))
		return ret;
	gs_buf_init(&blob, true);
	gs_buf_init(&line, false);
	if ((ret = gittrust_load(f)))
		goto out;
	/* a clone before 'gitseal git init' (git-crypt users unlock at once):
	 * what this clone accepted means nothing yet */
	if (!gitfilter_configured(f)) {
		if (!(ret = add(&line, "no gitseal filter in this clone: run 'gitseal git init' (until then "
				       "files are checked out and committed as they are)")))
			ret = add_line(out, ".", &line);
		goto out;
	}
	/* lines for the whole repository first */
	ret = describe_repository(f, out, &line);
	if (!ret && (git_repository_index(&idx, f->repo) < 0 || git_index_read(idx, 0) < 0))
		ret = gitrepo_fail("cannot read the index");
	for (size_t i = 0; !ret && i < git_index_entrycount(idx); i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);

		/* git runs no filter on a link (it stores the link's text) or in
		 * a submodule: only files are sealed, as gitseal git check says;
		 * a submodule under the pattern, or holding a file it covers, and
		 * a link under it leading where it does not, are said (what is
		 * written there is not sealed) */
		gs_buf_reset(&line);
		if ((e->mode & 0170000) == 0160000) {
			if (git_index_entry_stage(e) == 0 && !(ret = describe_submodule(f, e, &line)) && line.len)
				ret = add_line(out, e->path, &line);
			continue;
		}
		if ((e->mode & 0170000) == 0120000) {
			if (git_index_entry_stage(e) == 0 && !(ret = describe_link(f, idx, e, &line)) && line.len)
				ret = add_line(out, e->path, &line);
			continue;
		}
		if ((e->mode & 0170000) != 0100000 || !gitrepo_filtered(f, e->path))
			continue;
		if (git_index_entry_stage(e) != 0) {
			/* one line for the stages of an unmerged path */
			if (git_index_entry_stage(e) == 2)
				ret = add(&line, "unmerged");
		} else {
			ret = describe(f, e, &blob, &line);
		}
		if (!ret && line.len)
			ret = add_line(out, e->path, &line);
	}
out:
	if (ret)
		gitfilter_findings_release(out);
	gs_buf_release(&blob);
	gs_buf_release(&line);
	git_index_free(idx);
	gitfilter_free(f);
	return ret;
}
