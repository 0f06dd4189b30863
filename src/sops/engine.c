/* Whole-document entry points with key wrapping: decrypt with identities,
 * encrypt for recipients, re-encrypt against a previous version (reuse,
 * spec 2.5): the data key and the wrapped entries are kept when the
 * recipient set is unchanged. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "sops_int.h"

int sops_decrypt_doc(struct doc *d, const struct age_identity_list *ids,
		     const struct sops_decrypt_opts *opts)
{
	struct sops_metadata m;
	uint8_t *key = gs_secure_alloc(SOPS_DATA_KEY_SIZE);
	int ret;

	if (!key)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if ((ret = sops_metadata_read(d, &m)) < 0)
		goto out_key;
	ret = sops_data_key_unwrap(&m, ids, key);
	sops_metadata_release(&m);
	if (ret == 0)
		ret = sops_decrypt_doc_with_key(d, key, opts);
out_key:
	gs_secure_free(key);
	return ret;
}

static bool same_recipients(const struct sops_metadata *m, const struct sops_encrypt_opts *o)
{
	const struct sops_meta_group *g;

	if (m->group_count != 1 || m->from_key_groups)
		return false;
	g = &m->groups[0];
	if (g->age_count != o->recipients->count)
		return false;
	for (size_t i = 0; i < o->recipients->count; i++) {
		bool found = false;

		for (size_t j = 0; j < g->age_count && !found; j++)
			found = g->age[j].enc && strcmp(g->age[j].recipient, o->recipient_strings[i]) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* Opens previous for reuse; false (error cleared) when it cannot be used:
 * reuse is an optimisation, and a version that does not open or verify
 * is simply not reused. */
static bool previous_for_reuse(struct doc *previous, const struct age_identity_list *ids,
			       const struct sops_encrypt_opts *opts, struct sops_previous *p)
{
	struct sops_metadata m;
	uint8_t *key = gs_secure_alloc(SOPS_DATA_KEY_SIZE);
	bool ok = false;

	memset(p, 0, sizeof(*p));
	if (!key || sops_metadata_read(previous, &m) < 0)
		goto out;
	if (same_recipients(&m, opts) && sops_data_key_unwrap(&m, ids, key) == 0 &&
	    sops_previous_open_with_key(previous, key, p) == 0)
		ok = true;
	sops_metadata_release(&m);
out:
	gs_secure_free(key);
	if (!ok)
		sops_previous_release(p);
	gs_error_clear();
	return ok;
}

int sops_encrypt_doc(struct doc *d, const struct sops_encrypt_opts *opts, struct doc *previous,
		     const struct age_identity_list *ids)
{
	struct sops_previous prev;
	struct sops_meta_group fresh;
	struct gs_buf *wrapped = NULL;
	uint8_t *key = NULL;
	size_t n;
	int ret;

	memset(&prev, 0, sizeof(prev));
	memset(&fresh, 0, sizeof(fresh));
	if (sops_doc_is_encrypted(d))
		return GS_FAIL(GS_ERR_ALREADY_ENCRYPTED, "file is already encrypted");
	if (!d->count)
		return GS_FAIL(GS_ERR_EMPTY_INPUT, "file has no document to encrypt");
	if (!opts || !opts->recipients || !opts->recipients->count || !opts->recipient_strings)
		return GS_FAIL(GS_ERR_USAGE, "no age recipients to encrypt to");
	if (previous && ids && sops_doc_is_encrypted(previous) &&
	    previous_for_reuse(previous, ids, opts, &prev)) {
		ret = sops_encrypt_with_key(d, prev.key, &prev.meta.groups[0], &opts->selection, &prev,
					    NULL);
		sops_previous_release(&prev);
		return ret;
	}
	n = opts->recipients->count;
	key = sops_data_key_new();
	wrapped = calloc(n, sizeof(*wrapped));
	fresh.age = calloc(n, sizeof(*fresh.age));
	if (!key || !wrapped || !fresh.age) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		gs_buf_init(&wrapped[i], false);
		ret = sops_key_wrap(opts->recipients->items[i], key, SOPS_DATA_KEY_SIZE, &wrapped[i]);
		if (ret < 0) {
			gs_error_prefix("cannot wrap the data key for '%s'", opts->recipient_strings[i]);
			goto out;
		}
		fresh.age[i].recipient = opts->recipient_strings[i];
		fresh.age[i].enc = (const char *)wrapped[i].data;
		fresh.age[i].enc_len = wrapped[i].len;
	}
	fresh.age_count = n;
	ret = sops_encrypt_with_key(d, key, &fresh, &opts->selection, NULL, NULL);
out:
	gs_secure_free(key);
	if (wrapped)
		for (size_t i = 0; i < n; i++)
			gs_buf_release(&wrapped[i]);
	free(wrapped);
	free(fresh.age);
	return ret;
}
