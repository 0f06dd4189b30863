/* Whole-document entry points with key wrapping: decrypt with identities,
 * encrypt for key groups (Shamir across several, spec 9), re-encrypt
 * against a previous version (reuse, spec 2.5): the data key is kept, and
 * the wrapped entries too where the keys did not change. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/vault.h"
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

/* The error is cleared when the version cannot be used. */
bool sops_previous_for_reuse(struct doc *previous, const struct age_identity_list *ids,
			     struct sops_previous *p)
{
	struct sops_metadata m;
	uint8_t *key = gs_secure_alloc(SOPS_DATA_KEY_SIZE);
	bool ok = false;

	memset(p, 0, sizeof(*p));
	if (!key || sops_metadata_read(previous, &m) < 0)
		goto out;
	if (sops_data_key_unwrap(&m, ids, key) == 0 && sops_previous_open_with_key(previous, key, p) == 0)
		ok = true;
	sops_metadata_release(&m);
out:
	gs_secure_free(key);
	if (!ok)
		sops_previous_release(p);
	gs_error_clear();
	return ok;
}

/* The keys of one group, parsed. */
struct enc_group {
	struct age_recipient **age;
	const char *const *age_str;
	size_t age_count;
	struct vault_key *vault;
	size_t vault_count;
};

struct enc_plan {
	struct enc_group *groups;
	size_t count;
	struct age_recipient_list owned_age;   /* recipients parsed here */
	struct sops_meta_group *out;           /* what is written */
	char **strings;                        /* wrapped keys and vault fields made here */
	size_t string_count;
};

static void plan_release(struct enc_plan *p)
{
	for (size_t g = 0; g < p->count; g++) {
		for (size_t i = 0; p->groups && i < p->groups[g].vault_count; i++)
			vault_key_release(&p->groups[g].vault[i]);
		if (p->groups)
			free(p->groups[g].vault), free(p->groups[g].age);
		if (p->out)
			free(p->out[g].age), free(p->out[g].vault);
	}
	free(p->groups);
	free(p->out);
	age_recipient_list_release(&p->owned_age);
	for (size_t i = 0; i < p->string_count; i++)
		free(p->strings[i]);
	free(p->strings);
	memset(p, 0, sizeof(*p));
}

static const char *plan_keep(struct enc_plan *p, char *s)
{
	char **grown;

	if (!s)
		return NULL;
	grown = realloc(p->strings, (p->string_count + 1) * sizeof(*grown));
	if (!grown) {
		free(s);
		return NULL;
	}
	p->strings = grown;
	grown[p->string_count++] = s;
	return s;
}

static int plan_parse(struct enc_plan *p, const struct sops_encrypt_opts *opts)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->count = opts->groups ? opts->group_count : 1;
	if (!p->count || p->count > 255)
		return GS_FAIL(GS_ERR_USAGE, "%zu key groups: between 1 and 255 are needed", p->count);
	p->groups = calloc(p->count, sizeof(*p->groups));
	p->out = calloc(p->count, sizeof(*p->out));
	if (!p->groups || !p->out)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (!opts->groups) {
		if (!opts->recipients || !opts->recipients->count || !opts->recipient_strings)
			return GS_FAIL(GS_ERR_USAGE, "no age recipients to encrypt to");
		p->groups[0].age = calloc(opts->recipients->count, sizeof(*p->groups[0].age));
		if (!p->groups[0].age)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		memcpy(p->groups[0].age, opts->recipients->items,
		       opts->recipients->count * sizeof(*p->groups[0].age));
		p->groups[0].age_str = (const char *const *)opts->recipient_strings;
		p->groups[0].age_count = opts->recipients->count;
		return 0;
	}
	for (size_t g = 0; g < p->count; g++) {
		const struct sops_key_group *kg = &opts->groups[g];
		struct enc_group *eg = &p->groups[g];

		if (!kg->age_count && !kg->vault_count)
			return GS_FAIL(GS_ERR_USAGE, "key group %zu has no keys", g);
		eg->age = calloc(kg->age_count + 1, sizeof(*eg->age));
		eg->vault = calloc(kg->vault_count + 1, sizeof(*eg->vault));
		if (!eg->age || !eg->vault)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		eg->age_str = (const char *const *)kg->age;
		for (size_t i = 0; i < kg->age_count; i++, eg->age_count++) {
			if ((ret = age_recipient_parse(kg->age[i], &eg->age[i])) < 0)
				return ret;
			if ((ret = age_recipient_list_add(&p->owned_age, eg->age[i])) < 0) {
				age_recipient_free(eg->age[i]);
				return ret;
			}
		}
		for (size_t i = 0; i < kg->vault_count; i++, eg->vault_count++)
			if ((ret = vault_key_parse_uri(kg->vault_uris[i], &eg->vault[i])) < 0)
				return ret;
	}
	return 0;
}

static bool vault_same(const struct sops_vault_entry *e, const struct vault_key *k)
{
	size_t alen = strlen(e->address);

	while (alen && e->address[alen - 1] == '/')
		alen--;
	return alen == strlen(k->address) && !strncmp(e->address, k->address, alen) &&
	       !strcmp(e->engine_path, k->engine_path) && !strcmp(e->key_name, k->key_name);
}

static const struct sops_age_entry *find_age(const struct sops_meta_group *g, const char *recipient)
{
	for (size_t j = 0; j < g->age_count; j++)
		if (g->age[j].enc && !strcmp(g->age[j].recipient, recipient))
			return &g->age[j];
	return NULL;
}

static const struct sops_vault_entry *find_vault(const struct sops_meta_group *g, const struct vault_key *k)
{
	for (size_t j = 0; j < g->vault_count; j++)
		if (g->vault[j].enc && vault_same(&g->vault[j], k))
			return &g->vault[j];
	return NULL;
}

/* Same keys in the same groups as before (order inside a group aside). */
static bool same_groups(const struct enc_plan *p, const struct sops_metadata *m, int threshold)
{
	if (m->group_count != p->count ||
	    (m->shamir_threshold ? m->shamir_threshold : (int)m->group_count) != threshold)
		return false;
	for (size_t g = 0; g < p->count; g++) {
		const struct enc_group *eg = &p->groups[g];

		if (m->groups[g].age_count != eg->age_count || m->groups[g].vault_count != eg->vault_count)
			return false;
		for (size_t i = 0; i < eg->age_count; i++)
			if (!find_age(&m->groups[g], eg->age_str[i]))
				return false;
		for (size_t i = 0; i < eg->vault_count; i++)
			if (!find_vault(&m->groups[g], &eg->vault[i]))
				return false;
	}
	return true;
}

/* Wraps payload for every key of group g that has no kept entry in old. */
static int wrap_group(struct enc_plan *p, size_t g, const uint8_t *payload, size_t len,
		      const struct sops_meta_group *old, const char *now)
{
	const struct enc_group *eg = &p->groups[g];
	struct sops_meta_group *out = &p->out[g];
	int ret = 0;

	out->age = calloc(eg->age_count + 1, sizeof(*out->age));
	out->vault = calloc(eg->vault_count + 1, sizeof(*out->vault));
	if (!out->age || !out->vault)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < eg->age_count; i++) {
		const struct sops_age_entry *kept = old ? find_age(old, eg->age_str[i]) : NULL;
		struct gs_buf w;

		if (kept) {
			out->age[out->age_count++] = *kept;
			continue;
		}
		gs_buf_init(&w, false);
		ret = sops_key_wrap(eg->age[i], payload, len, &w);
		if (ret < 0) {
			gs_buf_release(&w);
			gs_error_prefix("cannot wrap the data key for '%s'", eg->age_str[i]);
			return ret;
		}
		out->age[out->age_count].recipient = eg->age_str[i];
		out->age[out->age_count].enc_len = w.len;
		out->age[out->age_count].enc = plan_keep(p, (char *)gs_buf_detach(&w, NULL));
		if (!out->age[out->age_count++].enc)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < eg->vault_count; i++) {
		const struct sops_vault_entry *kept = old ? find_vault(old, &eg->vault[i]) : NULL;
		struct sops_vault_entry *v = &out->vault[out->vault_count];
		struct gs_buf w;

		if (kept) {
			*v = *kept;
			out->vault_count++;
			continue;
		}
		gs_buf_init(&w, false);
		if ((ret = vault_encrypt(&eg->vault[i], payload, len, &w)) < 0) {
			gs_buf_release(&w);
			return ret;
		}
		v->enc_len = w.len;
		v->enc = plan_keep(p, (char *)gs_buf_detach(&w, NULL));
		v->address = plan_keep(p, strdup(eg->vault[i].address));
		v->engine_path = plan_keep(p, strdup(eg->vault[i].engine_path));
		v->key_name = plan_keep(p, strdup(eg->vault[i].key_name));
		v->created_at = plan_keep(p, strdup(now));
		if (!v->enc || !v->address || !v->engine_path || !v->key_name || !v->created_at)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		out->vault_count++;
	}
	return 0;
}

int sops_doc_check_plain(const struct doc *d)
{
	if (sops_doc_is_encrypted(d))
		return GS_FAIL(GS_ERR_ALREADY_ENCRYPTED, "file is already encrypted");
	if (!d->count)
		return GS_FAIL(GS_ERR_EMPTY_INPUT, "file has no document to encrypt");
	return 0;
}

int sops_encrypt_doc(struct doc *d, const struct sops_encrypt_opts *opts, struct doc *previous,
		     const struct age_identity_list *ids)
{
	struct sops_previous prev;
	bool reuse = false;
	int ret;

	memset(&prev, 0, sizeof(prev));
	if (previous && ids && sops_doc_is_encrypted(previous))
		reuse = sops_previous_for_reuse(previous, ids, &prev);
	ret = sops_encrypt_doc_reusing(d, opts, reuse ? &prev : NULL, NULL, NULL);
	sops_previous_release(&prev);
	return ret;
}

/* Wraps the data key (or its Shamir shares) for every group of the plan,
 * keeping the entries of prev that stay valid. */
static int wrap_plan(struct enc_plan *plan, const uint8_t *key, int threshold,
		     const struct sops_previous *prev, const char *now)
{
	uint8_t *shares = NULL;
	size_t other = 0;
	int ret = 0;

	if (plan->count == 1) {
		const struct sops_meta_group *old =
			prev && prev->meta.group_count == 1 ? &prev->meta.groups[0] : NULL;

		if ((ret = wrap_group(plan, 0, key, SOPS_DATA_KEY_SIZE, old, now)) < 0)
			return ret;
		if (old) {
			plan->out[0].raw = old->raw;
			plan->out[0].raw_count = old->raw_count;
			plan->out[0].other_key_count = old->other_key_count;
		}
		return 0;
	}
	if (prev && same_groups(plan, &prev->meta, threshold)) {
		/* nothing to re-split: the shares stay as they are */
		for (size_t g = 0; g < plan->count; g++) {
			if ((ret = wrap_group(plan, g, NULL, 0, &prev->meta.groups[g], now)) < 0)
				return ret;
			plan->out[g].raw = prev->meta.groups[g].raw;
			plan->out[g].raw_count = prev->meta.groups[g].raw_count;
			plan->out[g].other_key_count = prev->meta.groups[g].other_key_count;
		}
		return 0;
	}
	for (size_t g = 0; prev && g < prev->meta.group_count; g++)
		other += prev->meta.groups[g].other_key_count;
	if (other)
		return GS_FAIL(GS_ERR_CONFIG, "cannot re-split the data key: the file has %zu keys of "
					      "types gitseal cannot wrap (pgp, kms, ...)", other);
	shares = gs_secure_alloc(plan->count * SOPS_SHARE_SIZE);
	if (!shares)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	ret = sops_shamir_split(key, (int)plan->count, threshold, shares);
	/* share i belongs to group i; every key of the group wraps it */
	for (size_t g = 0; ret == 0 && g < plan->count; g++)
		ret = wrap_group(plan, g, shares + g * SOPS_SHARE_SIZE, SOPS_SHARE_SIZE, NULL, now);
	gs_secure_free(shares);
	return ret;
}

int sops_encrypt_doc_reusing(struct doc *d, const struct sops_encrypt_opts *opts,
			     const struct sops_previous *prev, uint8_t *key_out, struct sops_undo *undo)
{
	struct enc_plan plan;
	uint8_t *key = NULL;
	char now[32];
	int threshold = 0, write_threshold;
	int ret;

	memset(&plan, 0, sizeof(plan));
	if ((ret = sops_doc_check_plain(d)) < 0)
		return ret;
	if (!opts)
		return GS_FAIL(GS_ERR_USAGE, "no age recipients to encrypt to");
	if (prev && !prev->key)
		prev = NULL;
	if ((ret = plan_parse(&plan, opts)) < 0)
		goto out;
	write_threshold = opts->shamir_threshold;
	if (plan.count > 1) {
		threshold = opts->shamir_threshold ? opts->shamir_threshold : (int)plan.count;
		if (threshold < 2 || (size_t)threshold > plan.count) {
			ret = GS_FAIL(GS_ERR_CONFIG, "shamir threshold %d is invalid for %zu key groups "
						     "(2 to %zu)", threshold, plan.count, plan.count);
			goto out;
		}
		write_threshold = threshold;
	}
	if ((ret = sops_time_now(now)) < 0)
		goto out;
	/* Reuse keeps the data key even when the keys changed (as sops's
	 * updatekeys and groups do): entries of keys that stay are kept, new
	 * keys get the same key (or a fresh split of it) wrapped. Removing a
	 * key is therefore no revocation; `rotate` is. */
	key = prev ? gs_secure_alloc(SOPS_DATA_KEY_SIZE) : sops_data_key_new();
	if (!key) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (prev)
		memcpy(key, prev->key, SOPS_DATA_KEY_SIZE);
	if ((ret = wrap_plan(&plan, key, threshold, prev, now)) < 0)
		goto out;
	ret = sops_encrypt_with_key_undo(d, key, plan.out, plan.count, write_threshold,
					 &opts->selection, prev, NULL, undo);
	if (ret == 0 && key_out)
		memcpy(key_out, key, SOPS_DATA_KEY_SIZE);
out:
	gs_secure_free(key);
	plan_release(&plan);
	return ret;
}
