/* `gitseal git trust`: this clone vouches for a file's data key.
 *
 * The filter re-uses a data key only when this clone made it, since
 * whoever made a key may know it (a planted key, docs/git.md). A file that
 * also names keys gitseal cannot wrap for (kms, gcp_kms, ...) keeps them
 * only while its data key stays, so in a clone that did not make the key
 * it cannot be edited through the filter. The user may vouch for the
 * teammate who made it: the key's id joins those of the keys this clone
 * made, for that file's path only, after the file's keys were shown and
 * its committed version verified with one of our identities. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "gitfilter_int.h"

void gitfilter_vouch_release(struct gitfilter_vouch *v)
{
	free(v->path);
	gs_buf_release(&v->shown);
	memset(v, 0, sizeof(*v));
}

static int show_keys(const struct sops_key_summary *k, struct gs_buf *out)
{
	int ret = 0;

	for (size_t g = 0; g < k->group_count && !ret; g++) {
		const struct sops_key_group *grp = &k->groups[g];

		if (k->group_count > 1)
			ret = gs_buf_printf(out, "    group %zu\n", g + 1);
		for (size_t i = 0; i < sops_key_group_size(grp) && !ret; i++)
			ret = gs_buf_printf(out, "    %s\n", gs_shown(sops_key_group_key(grp, i)));
		for (size_t i = 0; i < grp->foreign_count && !ret; i++)
			ret = gs_buf_printf(out, "    %s (kept only while the data key stays: gitseal cannot wrap for it)\n",
					    gs_shown(grp->foreign[i]));
	}
	return ret;
}

/* The committed version of path, opened with its MAC checked; its keys
 * must be ones this clone accepted for path. */
static int open_committed(struct gitfilter *f, const char *path, struct sops_file **sf)
{
	struct doc cipher;
	bool sealed = false;
	int ret;

	*sf = NULL;
	doc_init(&cipher, store_format_for_path(path));
	if ((ret = gittrust_load(f)) ||
	    (ret = gitseal_committed_load(f, path, store_format_for_path(path), &cipher, &sealed)))
		goto out;
	if (!sealed) {
		ret = GS_FAIL(GS_ERR_USAGE, "no sealed version in the index or HEAD: a new file gets a data key "
					    "of this clone");
		goto out;
	}
	/* the MAC checked: the key opens exactly this version */
	if ((ret = gitseal_open(f, &cipher, sf)) || (ret = gitseal_check_accepted(f, path, sops_file_keys(*sf))))
		goto out;
out:
	if (ret) {
		sops_file_free(*sf);
		*sf = NULL;
	}
	doc_release(&cipher);
	return ret;
}

int gitfilter_vouch_plan(struct gitfilter *f, const char *path, struct gitfilter_vouch *v)
{
	struct sops_file *sf = NULL;
	int ret;

	memset(v, 0, sizeof(*v));
	gs_buf_init(&v->shown, false);
	if (!(v->path = gs_strdup(path)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if ((ret = open_committed(f, path, &sf)))
		goto out;
	if (!sops_file_key_id(sf, v->key_id)) {
		ret = GS_FAIL(GS_ERR_NO_DATA_KEY, "its data key could not be read");
		goto out;
	}
	v->already = gittrust_key_made_here(f, v->path, v->key_id);
	ret = show_keys(sops_file_keys(sf), &v->shown);
out:
	if (ret)
		gs_error_prefix("cannot trust '%s'", gs_shown(path));
	sops_file_free(sf);
	return ret;
}

/* Opened again: the key is recorded with whom it is wrapped for, and the
 * version must still be the one shown. */
int gitfilter_vouch_apply(struct gitfilter *f, const struct gitfilter_vouch *v)
{
	uint8_t id[SOPS_KEY_ID_SIZE];
	struct sops_file *sf = NULL;
	int ret;

	if (v->already)
		return 0;
	if (!(ret = open_committed(f, v->path, &sf))) {
		if (!sops_file_key_id(sf, id) || memcmp(id, v->key_id, sizeof(id)))
			ret = GS_FAIL(GS_ERR_CONFLICT, "the committed version changed meanwhile");
		else
			ret = gittrust_remember_key(f, v->path, v->key_id, sops_file_keys(sf), false);
	}
	if (ret)
		gs_error_prefix("cannot trust '%s'", gs_shown(v->path));
	sops_file_free(sf);
	return ret;
}
