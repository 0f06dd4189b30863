/* The data key: generation, wrapping for age recipients, unwrapping with
 * identities, and Shamir sharing across key groups (spec 5.1, 7.2, 8, 9). */
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "sops_int.h"

uint8_t *sops_data_key_new(void)
{
	uint8_t *k = gs_secure_alloc(SOPS_DATA_KEY_SIZE);

	if (k)
		randombytes_buf(k, SOPS_DATA_KEY_SIZE);
	return k;
}

int sops_key_wrap(const struct age_recipient *r, const uint8_t *payload, size_t len, struct gs_buf *out)
{
	struct age_recipient *one = (struct age_recipient *)r;
	struct age_recipient_list l = { &one, 1 };
	int ret;

	/* sops: one armored age file per recipient, with a final newline. */
	if ((ret = age_encrypt_mem(&l, true, payload, len, out)) < 0)
		return ret;
	if (!out->len || out->data[out->len - 1] != '\n')
		return gs_buf_append(out, "\n", 1);
	return 0;
}

/* Tries every age entry of a group; plain receives the first payload of
 * the wanted size. */
static int unwrap_group(const struct sops_meta_group *g, const struct age_identity_list *ids,
			size_t want, struct gs_buf *plain, size_t *tried)
{
	for (size_t i = 0; i < g->age_count; i++) {
		if (!g->age[i].enc || !g->age[i].enc_len)
			continue;
		(*tried)++;
		gs_buf_reset(plain);
		if (age_decrypt_mem(ids, (const uint8_t *)g->age[i].enc, g->age[i].enc_len, plain) == 0 &&
		    plain->len == want)
			return 0;
		gs_buf_reset(plain);
	}
	return -1;
}

int sops_data_key_unwrap(const struct sops_metadata *m, const struct age_identity_list *ids,
			 uint8_t key[SOPS_DATA_KEY_SIZE])
{
	static const struct age_identity_list no_ids = { NULL, 0 };
	struct gs_buf plain;
	uint8_t *shares = NULL;
	size_t tried = 0, other = 0, got = 0;
	int threshold, ret = GS_ERR_NO_DATA_KEY;

	if (!ids)
		ids = &no_ids;
	gs_buf_init(&plain, true);
	for (size_t g = 0; g < m->group_count; g++)
		other += m->groups[g].other_key_count;
	if (m->group_count == 1) {
		if (unwrap_group(&m->groups[0], ids, SOPS_DATA_KEY_SIZE, &plain, &tried) == 0) {
			memcpy(key, plain.data, SOPS_DATA_KEY_SIZE);
			ret = 0;
		}
		goto out;
	}
	if (m->group_count < 2)
		goto out;
	shares = gs_secure_alloc(m->group_count * SOPS_SHARE_SIZE);
	if (!shares) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t g = 0; g < m->group_count; g++) {
		if (unwrap_group(&m->groups[g], ids, SOPS_SHARE_SIZE, &plain, &tried) == 0)
			memcpy(shares + got++ * SOPS_SHARE_SIZE, plain.data, SOPS_SHARE_SIZE);
	}
	threshold = m->shamir_threshold ? m->shamir_threshold : (int)m->group_count;
	if (got >= 2 && got >= (size_t)threshold && sops_shamir_combine(shares, got, key) == 0)
		ret = 0;
out:
	gs_buf_release(&plain);
	gs_secure_free(shares);
	if (ret == GS_ERR_NO_DATA_KEY) {
		if (m->group_count > 1)
			return GS_FAIL(GS_ERR_NO_DATA_KEY,
				       "cannot recover the data key: %zu of %zu key groups opened "
				       "(tried %zu age keys, %zu keys of other types unsupported)",
				       got, m->group_count, tried, other);
		return GS_FAIL(GS_ERR_NO_DATA_KEY,
			       "cannot recover the data key: no identity opened any of %zu age keys "
			       "(%zu keys of other types unsupported)",
			       tried, other);
	}
	if (ret == 0)
		gs_error_clear();
	return ret;
}
