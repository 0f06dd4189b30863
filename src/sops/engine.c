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
	(void)opts;
	if (m.group_count == 1 && !m.from_key_groups && sops_data_key_unwrap(&m, ids, key) == 0 &&
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
	n = opts->recipients->count;
	/* Reuse keeps the data key even when the recipients changed (as sops's
	 * updatekeys does): entries of recipients that stay are kept as they
	 * are, new recipients get the same key wrapped. Removing a recipient
	 * is therefore no revocation; `rotate` is. */
	if (previous && ids && sops_doc_is_encrypted(previous) &&
	    previous_for_reuse(previous, ids, opts, &prev)) {
		const struct sops_meta_group *old = &prev.meta.groups[0];

		key = gs_secure_alloc(SOPS_DATA_KEY_SIZE);
		if (key)
			memcpy(key, prev.key, SOPS_DATA_KEY_SIZE);
		fresh.raw = old->raw;
		fresh.raw_count = old->raw_count;
		fresh.other_key_count = old->other_key_count;
	} else {
		key = sops_data_key_new();
	}
	wrapped = calloc(n, sizeof(*wrapped));
	fresh.age = calloc(n, sizeof(*fresh.age));
	if (!key || !wrapped || !fresh.age) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sops_age_entry *kept = NULL;

		gs_buf_init(&wrapped[i], false);
		for (size_t j = 0; prev.key && j < prev.meta.groups[0].age_count && !kept; j++) {
			const struct sops_age_entry *e = &prev.meta.groups[0].age[j];

			if (e->enc && !strcmp(e->recipient, opts->recipient_strings[i]))
				kept = e;
		}
		if (kept) {
			fresh.age[i] = *kept;
			continue;
		}
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
	ret = sops_encrypt_with_key(d, key, &fresh, &opts->selection, prev.key ? &prev : NULL, NULL);
out:
	sops_previous_release(&prev);
	gs_secure_free(key);
	if (wrapped)
		for (size_t i = 0; i < n; i++)
			gs_buf_release(&wrapped[i]);
	free(wrapped);
	free(fresh.age);
	return ret;
}
