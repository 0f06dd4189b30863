/* clean and smudge for one repository, opened once per process. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "gitseal/config.h"
#include "gitseal/error.h"
#include "gitseal/gitfilter.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"
#include "git_int.h"
#include "gitfilter_int.h"

int gitrepo_fail(const char *what)
{
	const git_error *e = git_error_last();

	return GS_FAIL(GS_ERR_IO, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

int gitfilter_open(const char *start_dir, struct gitfilter **out)
{
	struct gitfilter *f = calloc(1, sizeof(*f));
	const char *wd;
	int ret;

	if (!f)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	ret = gitfilter_libgit2_load();
	if (ret) {
		free(f);
		return ret;
	}
	git_libgit2_init();
	f->libgit2_ready = true;
	if (!start_dir) {
		*out = f;
		return 0;
	}
	if (git_repository_open_ext(&f->repo, start_dir, 0, NULL) < 0) {
		ret = gitrepo_fail("cannot open the git repository");
		goto fail;
	}
	wd = git_repository_workdir(f->repo);
	if (!wd) {
		ret = GS_FAIL(GS_ERR_USAGE, "the repository has no work tree");
		goto fail;
	}
	f->workdir = strdup(wd);
	if (!f->workdir) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto fail;
	}
	*out = f;
	return 0;
fail:
	gitfilter_free(f);
	return ret;
}

void gitfilter_free(struct gitfilter *f)
{
	if (!f)
		return;
	if (f->config)
		sops_config_free(f->config);
	age_identity_list_release(&f->ids);
	git_object_free(f->head_tree);
	git_index_free(f->index);
	git_repository_free(f->repo);
	free(f->workdir);
	free(f->config_error);
	free(f->ids_error);
	if (f->libgit2_ready)
		git_libgit2_shutdown();
	free(f);
}

const char *gitfilter_workdir(const struct gitfilter *f)
{
	return f->workdir;
}

const char *gitfilter_pass_reason(const struct gitfilter *f)
{
	return f->pass_reason;
}

bool gitfilter_is_sops(enum doc_format format, const uint8_t *data, size_t len)
{
	struct doc d;
	bool yes;

	/* Every sops format carries a "sops" key (sops_* in dotenv, [sops]
	 * in INI); skip parsing files that cannot hold one. */
	if (!len || !memmem(data, len, "sops", 4))
		return false;
	/* sops writes encrypted binary files as JSON. */
	if (format == DOC_FORMAT_BINARY)
		format = DOC_FORMAT_JSON;
	doc_init(&d, format);
	yes = store_load(format, data, len, &d) == 0 && sops_doc_is_encrypted(&d);
	doc_release(&d);
	gs_error_clear();
	return yes;
}

/* Loaded once; why none could be loaded is kept for the warning. */
const struct age_identity_list *gitfilter_identities(struct gitfilter *f)
{
	if (!f->ids_tried) {
		f->ids_tried = true;
		if (sops_identities_load(&f->ids) != 0) {
			f->ids_error = strdup(gs_error_message());
			age_identity_list_release(&f->ids);
			f->ids = (struct age_identity_list){ 0 };
		}
	}
	return f->ids.count ? &f->ids : NULL;
}

static int load_config(struct gitfilter *f, const struct sops_config **out)
{
	char path[PATH_MAX];

	if (!f->config_tried) {
		f->config_tried = true;
		if (!f->workdir)
			gs_error_set(GS_ERR_CONFIG, "not in a git work tree");
		else if ((size_t)snprintf(path, sizeof(path), "%s.sops.yaml", f->workdir) >= sizeof(path)) {
			gs_error_set(GS_ERR_LIMIT, "work tree path too long");
		} else if (access(path, F_OK) != 0) {
			gs_error_set(GS_ERR_CONFIG, "no .sops.yaml at the repository root '%s'", f->workdir);
		} else if (sops_config_load(path, &f->config) == 0) {
			*out = f->config;
			return 0;
		}
		f->config_code = gs_error_code();
		f->config_error = strdup(gs_error_message());
	}
	if (f->config) {
		*out = f->config;
		return 0;
	}
	return GS_FAIL(f->config_code ? f->config_code : GS_ERR_CONFIG, "%s",
		       f->config_error ? f->config_error : "cannot load .sops.yaml");
}

int gitrepo_read_blob(struct gitfilter *f, const git_oid *id, struct gs_buf *out)
{
	git_blob *blob = NULL;
	int ret = 0;

	if (git_blob_lookup(&blob, f->repo, id) < 0)
		return gitrepo_fail("cannot read a blob");
	ret = gs_buf_append(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return ret;
}

/* The version git holds of path now: the index entry, else HEAD's.
 * Leaves out empty when there is none. */
static int previous_version(struct gitfilter *f, const char *path, struct gs_buf *out)
{
	const git_index_entry *e;
	git_object *obj;
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	int ret = 0;

	if (!f->repo)
		return 0;
	if (!f->index && git_repository_index(&f->index, f->repo) < 0)
		return gitrepo_fail("cannot open the index");
	/* git may have rewritten the index since the last file. */
	if (git_index_read(f->index, 0) < 0)
		return gitrepo_fail("cannot read the index");
	e = git_index_get_bypath(f->index, path, 0);
	if (e)
		return gitrepo_read_blob(f, &e->id, out);
	/* HEAD does not move while one git command runs its filter; if it did
	 * (a rebase), a stale tree only means less reuse, never a wrong value. */
	if (!f->head_tried) {
		f->head_tried = true;
		if (git_revparse_single(&obj, f->repo, "HEAD^{tree}") < 0)
			git_error_clear(); /* unborn branch */
		else
			f->head_tree = obj;
	}
	if (!f->head_tree)
		return 0;
	tree = (git_tree *)f->head_tree;
	if (git_tree_entry_bypath(&te, tree, path) == 0 && git_tree_entry_type(te) == GIT_OBJECT_BLOB)
		ret = gitrepo_read_blob(f, git_tree_entry_id(te), out);
	git_error_clear();
	git_tree_entry_free(te);
	return ret;
}

int gitfilter_encrypt_for_path(struct gitfilter *f, const char *path, const uint8_t *plain, size_t len,
			       const uint8_t *previous, size_t previous_len, struct gs_buf *out)
{
	struct sops_file_encrypt_opts o = { 0 };
	const struct sops_config *config;
	const struct age_identity_list *ids;
	char full[PATH_MAX];
	int ret;

	ret = load_config(f, &config);
	if (ret)
		return ret;
	ids = gitfilter_identities(f);
	if ((size_t)snprintf(full, sizeof(full), "%s%s", f->workdir ? f->workdir : "", path) >= sizeof(full))
		return GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", path);
	o.format = store_format_for_path(path);
	o.rule_path = full;
	o.config = config;
	o.previous = previous;
	o.previous_len = previous_len;
	o.identities = ids;
	return sops_file_encrypt(plain, len, &o, out);
}

int gitfilter_clean(struct gitfilter *f, const char *path, const uint8_t *in, size_t len,
		    struct gs_buf *out)
{
	enum doc_format format = store_format_for_path(path);
	struct gs_buf prev;
	int ret;

	if (gitfilter_is_sops(format, in, len))
		return gs_buf_append(out, in, len);
	/* the previous version may have been committed unencrypted */
	gs_buf_init(&prev, true);
	ret = previous_version(f, path, &prev);
	if (ret)
		goto out;
	if (!gitfilter_is_sops(format, prev.data, prev.len))
		gs_buf_reset(&prev);
	ret = gitfilter_encrypt_for_path(f, path, in, len, prev.len ? prev.data : NULL, prev.len, out);
	/* fail closed: never hand back a partial result */
	if (ret)
		gs_buf_reset(out);
out:
	if (ret)
		gs_error_prefix("cannot encrypt '%s'", path);
	gs_buf_release(&prev);
	return ret;
}

int gitfilter_smudge(struct gitfilter *f, const char *path, const uint8_t *in, size_t len,
		     struct gs_buf *out, bool *passed_through)
{
	enum doc_format format = store_format_for_path(path);
	const struct age_identity_list *ids;
	struct sops_decrypt_opts o = { 0 };
	int ret;

	if (passed_through)
		*passed_through = false;
	f->pass_reason = NULL;
	if (!gitfilter_is_sops(format, in, len))
		return gs_buf_append(out, in, len);
	ids = gitfilter_identities(f);
	if (!ids && f->ids_error) {
		f->pass_reason = f->ids_error;
		goto pass;
	}
	/* without an age identity, a PGP or Vault entry may still open it */
	ret = sops_file_decrypt(in, len, format, ids, &o, out);
	if (ret == GS_ERR_NO_DATA_KEY || ret == GS_ERR_AGE_NO_MATCH) {
		f->pass_reason = ids ? "none of the identities opens it" : "no age identity found";
		gs_buf_reset(out);
		goto pass;
	}
	if (ret) {
		gs_buf_reset(out);
		gs_error_prefix("cannot decrypt '%s'", path);
	}
	return ret;
pass:
	if (passed_through)
		*passed_through = true;
	return gs_buf_append(out, in, len);
}

struct serve_ctx {
	struct gitfilter *f;
	const struct gitfilter_events *ev;
};

static int serve_run(void *ctx, enum filter_command cmd, const char *path, const uint8_t *in, size_t len,
		     struct gs_buf *out)
{
	struct serve_ctx *s = ctx;
	bool passed = false;
	int ret;

	if (cmd == FILTER_CLEAN)
		return gitfilter_clean(s->f, path, in, len, out);
	ret = gitfilter_smudge(s->f, path, in, len, out, &passed);
	if (!ret && passed && s->ev && s->ev->passed_through)
		s->ev->passed_through(s->ev->ctx, path, s->f->pass_reason);
	return ret;
}

static void serve_failed(void *ctx, enum filter_command cmd, const char *path, int err)
{
	struct serve_ctx *s = ctx;

	(void)err;
	if (s->ev && s->ev->file_failed)
		s->ev->file_failed(s->ev->ctx, path, cmd == FILTER_CLEAN);
}

static int stream_flush(void *ctx)
{
	if (fflush(ctx) != 0)
		return GS_FAIL(GS_ERR_IO, "cannot write to git");
	return 0;
}

int gitfilter_serve(struct gitfilter *f, FILE *in, FILE *out, const struct gitfilter_events *ev)
{
	struct serve_ctx s = { f, ev };
	struct gs_reader r = gs_reader_from_file(in);
	struct gs_writer w = gs_writer_to_file(out);
	struct pkt_writer pw = { &w, stream_flush, out };
	struct filter_handler h = { serve_run, serve_failed, &s };

	return filter_process_serve(&r, &pw, &h);
}
