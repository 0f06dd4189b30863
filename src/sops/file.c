/* The file pipeline, reading side: key groups, opening an encrypted file
 * in one parse, creating a new one, and the one-shot forms. Sealing and
 * the verified emission are in seal.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gitseal/alloc.h"
#include "gitseal/config.h"
#include "gitseal/error.h"
#include "gitseal/store.h"
#include "sops_int.h"

/* ---- key groups as strings ---- */

static int push_unique(char ***list, size_t *count, const char *text)
{
	char **grown;

	for (size_t i = 0; i < *count; i++)
		if (!strcmp((*list)[i], text))
			return 0;
	grown = gs_realloc(*list, (*count + 2) * sizeof(*grown));
	if (!grown)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	*list = grown;
	if (!(grown[*count] = gs_strdup(text)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	grown[++*count] = NULL;
	return 0;
}

int sops_key_group_add_age(struct sops_key_group *g, const char *recipient)
{
	return push_unique(&g->age, &g->age_count, recipient);
}

int sops_key_group_add_vault(struct sops_key_group *g, const char *uri)
{
	return push_unique(&g->vault_uris, &g->vault_count, uri);
}

int sops_key_group_add_pgp(struct sops_key_group *g, const char *fingerprint)
{
	return push_unique(&g->pgp, &g->pgp_count, fingerprint);
}

int sops_key_group_add_foreign(struct sops_key_group *g, const char *key)
{
	return push_unique(&g->foreign, &g->foreign_count, key);
}

bool sops_key_group_has(const struct sops_key_group *g, const char *key)
{
	for (size_t i = 0; i < g->age_count; i++)
		if (!strcmp(g->age[i], key))
			return true;
	for (size_t i = 0; i < g->vault_count; i++)
		if (!strcmp(g->vault_uris[i], key))
			return true;
	/* fingerprints: hexadecimal, either case */
	for (size_t i = 0; i < g->pgp_count; i++)
		if (!strcasecmp(g->pgp[i], key))
			return true;
	for (size_t i = 0; i < g->foreign_count; i++)
		if (!strcmp(g->foreign[i], key))
			return true;
	return false;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void sops_key_groups_free(struct sops_key_group *g, size_t n)
{
	for (size_t k = 0; g && k < n; k++) {
		free_list(g[k].age, g[k].age_count);
		free_list(g[k].vault_uris, g[k].vault_count);
		free_list(g[k].pgp, g[k].pgp_count);
		free_list(g[k].foreign, g[k].foreign_count);
	}
	free(g);
}

int sops_key_groups_copy(const struct sops_key_group *src, size_t n, struct sops_key_group **out)
{
	struct sops_key_group *g = gs_calloc(n + 1, sizeof(*g));
	int ret = 0;

	*out = NULL;
	if (!g)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t k = 0; !ret && k < n; k++) {
		for (size_t i = 0; !ret && i < src[k].age_count; i++)
			ret = sops_key_group_add_age(&g[k], src[k].age[i]);
		for (size_t i = 0; !ret && i < src[k].vault_count; i++)
			ret = sops_key_group_add_vault(&g[k], src[k].vault_uris[i]);
		for (size_t i = 0; !ret && i < src[k].pgp_count; i++)
			ret = sops_key_group_add_pgp(&g[k], src[k].pgp[i]);
		for (size_t i = 0; !ret && i < src[k].foreign_count; i++)
			ret = sops_key_group_add_foreign(&g[k], src[k].foreign[i]);
	}
	if (ret) {
		sops_key_groups_free(g, n);
		return ret;
	}
	*out = g;
	return 0;
}

bool sops_key_groups_equal(const struct sops_key_group *a, size_t na, const struct sops_key_group *b,
			   size_t nb)
{
	if (na != nb)
		return false;
	for (size_t k = 0; k < na; k++) {
		if (a[k].age_count != b[k].age_count || a[k].vault_count != b[k].vault_count ||
		    a[k].pgp_count != b[k].pgp_count)
			return false;
		for (size_t i = 0; i < a[k].pgp_count; i++)
			if (!sops_key_group_has(&b[k], a[k].pgp[i]))
				return false;
		/* b may hold more keys gitseal cannot wrap for: it never removes one */
		for (size_t i = 0; i < a[k].foreign_count; i++)
			if (!sops_key_group_has(&b[k], a[k].foreign[i]))
				return false;
		for (size_t i = 0; i < a[k].age_count; i++)
			if (!sops_key_group_has(&b[k], a[k].age[i]))
				return false;
		for (size_t i = 0; i < a[k].vault_count; i++)
			if (!sops_key_group_has(&b[k], a[k].vault_uris[i]))
				return false;
	}
	return true;
}

int sops_groups_needed(size_t group_count, int shamir_threshold)
{
	if (group_count < 2)
		return 1;
	return shamir_threshold ? shamir_threshold : (int)group_count;
}

int sops_groups_change_describe(size_t from_groups, int from_threshold, size_t to_groups, int to_threshold,
				const char *indent, struct gs_buf *out)
{
	int from = sops_groups_needed(from_groups, from_threshold), to = sops_groups_needed(to_groups, to_threshold);
	int ret = 0;

	if (from_groups != to_groups)
		ret = gs_buf_printf(out, "%skey groups: %zu -> %zu\n", indent, from_groups, to_groups);
	if (!ret && from != to)
		ret = gs_buf_printf(out, "%sgroups needed: %d -> %d\n", indent, from, to);
	return ret;
}

int sops_key_summary_copy(const struct sops_key_summary *src, struct sops_key_summary *dst)
{
	int ret;

	memset(dst, 0, sizeof(*dst));
	if ((ret = sops_key_groups_copy(src->groups, src->group_count, &dst->groups)) < 0)
		return ret;
	dst->group_count = src->group_count;
	dst->shamir_threshold = src->shamir_threshold;
	dst->other_keys = src->other_keys;
	dst->selection = src->selection;
	dst->selection.value = NULL;
	if (src->selection.value && !(dst->selection.value = gs_strdup(src->selection.value))) {
		sops_key_summary_release(dst);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

static int selection_copy(struct sops_selection *dst, enum sops_selection_kind kind, const char *value,
			  bool mac_only)
{
	dst->kind = kind;
	dst->mac_only_encrypted = mac_only;
	dst->value = NULL;
	if (value && !(dst->value = gs_strdup(value)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

int sops_keys_resolve(const struct sops_config *config, const char *rule_path,
		      const struct sops_key_flags *flags, struct sops_key_summary *out)
{
	static const struct sops_key_flags none;
	const struct sops_rule *rule = NULL;
	struct sops_key_summary k = { 0 };
	size_t keys = 0;
	int ret = 0;

	if (!flags)
		flags = &none;
	memset(out, 0, sizeof(*out));
	/* sops loads the rule even when keys come from flags: it also gives
	 * the selection options (spec 10.3). */
	if (config && config->rule_count &&
	    (ret = sops_config_match(config, rule_path ? rule_path : "", &rule)) < 0) {
		/* a sops habit that surprises: --age does not skip the rules */
		if (ret == GS_ERR_NO_RULE && (flags->age_count || flags->vault_count || flags->pgp_count)) {
			char why[512];

			snprintf(why, sizeof(why), "%s", gs_error_message());
			gs_error_set(GS_ERR_NO_RULE, "%s (key flags do not skip .sops.yaml, as in sops: "
				     "--config /dev/null does)", why);
		}
		goto out;
	}
	/* Key flags replace the rule's keys entirely and make one group
	 * (spec 10.3); otherwise the rule's groups are used. */
	if (flags->age_count || flags->vault_count || flags->pgp_count) {
		if (!(k.groups = gs_calloc(2, sizeof(*k.groups)))) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			goto out;
		}
		k.group_count = 1;
		for (size_t i = 0; !ret && i < flags->age_count; i++)
			ret = sops_key_group_add_age(&k.groups[0], flags->age[i]);
		for (size_t i = 0; !ret && i < flags->vault_count; i++)
			ret = sops_key_group_add_vault(&k.groups[0], flags->vault[i]);
		for (size_t i = 0; !ret && i < flags->pgp_count; i++)
			ret = sops_key_group_add_pgp(&k.groups[0], flags->pgp[i]);
	} else if (rule && rule->group_count) {
		ret = sops_key_groups_copy(rule->groups, rule->group_count, &k.groups);
		k.group_count = rule->group_count;
	}
	if (ret)
		goto out;
	for (size_t g = 0; g < k.group_count; g++)
		keys += k.groups[g].age_count + k.groups[g].vault_count + k.groups[g].pgp_count +
			k.groups[g].foreign_count;
	if (!keys) {
		ret = GS_FAIL(GS_ERR_USAGE, "config file not found, or has no creation rules, and no "
					    "keys provided");
		goto out;
	}
	if (flags->selection.kind != SOPS_SEL_NONE)
		ret = selection_copy(&k.selection, flags->selection.kind, flags->selection.value,
				     flags->selection.mac_only_encrypted);
	else if (rule)
		ret = selection_copy(&k.selection, rule->selection.kind, rule->selection.value, false);
	if (rule && rule->selection.mac_only_encrypted)
		k.selection.mac_only_encrypted = true;
	if (flags->selection.mac_only_encrypted)
		k.selection.mac_only_encrypted = true;
	k.shamir_threshold = flags->shamir_threshold ? flags->shamir_threshold
						     : rule ? rule->shamir_threshold : 0;
out:
	if (ret)
		sops_key_summary_release(&k);
	else
		*out = k;
	return ret;
}

/* ---- opening ---- */

static struct sops_file *file_new(enum doc_format format)
{
	struct sops_file *f = gs_calloc(1, sizeof(*f));

	if (!f) {
		gs_error_set(GS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	f->format = format;
	doc_init(&f->doc, format);
	doc_init(&f->previous, format);
	return f;
}

void sops_file_free(struct sops_file *f)
{
	if (!f)
		return;
	sops_previous_release(&f->prev);
	sops_metadata_release(&f->previous_meta);
	sops_key_summary_release(&f->keys);
	doc_release(&f->doc);
	doc_release(&f->previous);
	free(f);
}

int sops_file_open_doc(struct doc *encrypted, const struct sops_open_opts *o, struct sops_file **out)
{
	struct sops_decrypt_opts dopts = { .ignore_mac = o->ignore_mac };
	struct sops_metadata m;
	struct sops_file *f;
	uint8_t *key = NULL;
	int ret;

	*out = NULL;
	if (!(f = file_new(o->format))) {
		/* taken over, as on every other way out */
		doc_release(encrypted);
		doc_init(encrypted, o->format);
		return GS_ERR_NOMEM;
	}
	f->opened = true;
	f->doc = *encrypted;
	doc_init(encrypted, o->format);
	if (!sops_doc_is_encrypted(&f->doc)) {
		ret = GS_FAIL(GS_ERR_NO_METADATA, "sops metadata not found");
		goto out;
	}
	if (!(key = gs_secure_alloc(SOPS_DATA_KEY_SIZE))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* read once: for the data key, the keys as strings and the walk */
	if ((ret = sops_metadata_read(&f->doc, &m)) < 0)
		goto out;
	if ((ret = sops_data_key_unwrap(&m, o->ids, o->decryption_order, key)) < 0 ||
	    (ret = sops_metadata_keys(&m, &f->keys)) < 0) {
		sops_metadata_release(&m);
		goto out;
	}
	/* m is f->prev's from here, whatever the outcome */
	if ((ret = sops_open_with_meta(&f->doc, &m, key, &dopts, o->reseal, &f->prev)) < 0)
		goto out;
	f->have_prev = true;
out:
	gs_secure_free(key);
	if (ret) {
		sops_file_free(f);
		return ret;
	}
	*out = f;
	return 0;
}

int sops_file_open_buf(struct gs_buf *text, const struct sops_open_opts *o, struct sops_file **out)
{
	struct doc d;
	int ret;

	*out = NULL;
	doc_init(&d, o->format);
	if ((ret = store_load_buf(o->format, text, &d)))
		goto out;
	ret = sops_file_open_doc(&d, o, out);
out:
	doc_release(&d);
	return ret;
}

int sops_file_open(const uint8_t *data, size_t len, const struct sops_open_opts *o,
		   struct sops_file **out)
{
	struct doc d;
	int ret;

	*out = NULL;
	doc_init(&d, o->format);
	if ((ret = store_load(o->format, data, len, &d)))
		goto out;
	ret = sops_file_open_doc(&d, o, out);
out:
	doc_release(&d);
	return ret;
}

int sops_file_create(enum doc_format format, const struct sops_key_summary *keys, struct doc *previous,
		     const struct age_identity_list *ids, struct sops_file **out)
{
	struct sops_file *f;
	int ret;

	*out = NULL;
	if (!(f = file_new(format)))
		return GS_ERR_NOMEM;
	if ((ret = sops_key_summary_copy(keys, &f->keys)) < 0) {
		sops_file_free(f);
		return ret;
	}
	if (previous) {
		f->previous = *previous;
		doc_init(previous, format);
		/* its metadata tells which key entries must not be lost, whether
		 * or not it opens */
		if (sops_doc_is_encrypted(&f->previous) &&
		    sops_metadata_read(&f->previous, &f->previous_meta) < 0)
			gs_error_clear();
		if (ids && f->previous_meta.group_count)
			f->have_prev = sops_previous_for_reuse(&f->previous, ids, &f->prev);
	}
	*out = f;
	return 0;
}

struct doc *sops_file_doc(struct sops_file *f)
{
	return &f->doc;
}

const struct sops_key_summary *sops_file_keys(const struct sops_file *f)
{
	return &f->keys;
}

enum doc_format sops_file_format(const struct sops_file *f)
{
	return f->format;
}

/* ---- one-shot forms ---- */

int sops_file_encrypt(const uint8_t *plain, size_t len, const struct sops_file_encrypt_opts *o,
		      struct gs_buf *out)
{
	struct sops_key_flags flags = {
		.age = o->age_recipients, .age_count = o->age_recipient_count,
		.vault = o->vault_uris, .vault_count = o->vault_uri_count,
		.pgp = o->pgp_fingerprints, .pgp_count = o->pgp_count,
		.shamir_threshold = o->shamir_threshold, .selection = o->selection,
	};
	struct sops_seal_opts so = { .convert = o->convert, .output_format = o->output_format,
				     .indent = o->indent, .drop_unsupported_keys = o->drop_unsupported_keys };
	struct sops_key_summary keys = { 0 };
	struct sops_file *f = NULL;
	struct doc d, prev;
	int ret;

	doc_init(&d, o->format);
	doc_init(&prev, o->format);
	if ((ret = store_load(o->format, plain, len, &d)) < 0)
		goto out;
	if ((ret = sops_doc_check_plain(&d)) < 0)
		goto out;
	if ((ret = sops_keys_resolve(o->config, o->rule_path, &flags, &keys)) < 0)
		goto out;
	/* a previous version that does not load is simply not reused */
	if (o->previous && o->previous_len && store_load(o->format, o->previous, o->previous_len, &prev))
		gs_error_clear();
	if ((ret = sops_file_create(o->format, &keys, &prev, o->identities, &f)) < 0)
		goto out;
	ret = sops_file_seal(f, &d, &so, out);
out:
	sops_file_free(f);
	sops_key_summary_release(&keys);
	doc_release(&prev);
	doc_release(&d);
	return ret;
}

int sops_file_decrypt(const uint8_t *cipher, size_t len, enum doc_format format,
		      const struct age_identity_list *ids, const struct sops_decrypt_opts *o,
		      struct gs_buf *out)
{
	struct sops_open_opts oo = { .format = format, .ids = ids, .ignore_mac = o && o->ignore_mac };
	struct sops_emit_opts eo = { .drop_source = true };
	struct sops_file *f = NULL;
	int ret;

	if ((ret = sops_file_open(cipher, len, &oo, &f)) == 0)
		ret = sops_plain_emit(sops_file_doc(f), format, &eo, out);
	sops_file_free(f);
	return ret;
}
