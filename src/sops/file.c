/* File level: bytes -> store -> engine -> store -> bytes, with the keys and
 * selection taken from options, else from the matching creation rule. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/config.h"
#include "gitseal/error.h"
#include "gitseal/store.h"
#include "sops_int.h"

static bool scalar_is(const struct doc_node *root, const char *key, const char *want)
{
	struct doc_entry *e = doc_map_find(root, key);

	return e && e->value && e->value->kind == DOC_SCALAR && strcmp(e->value->text, want) == 0;
}

/* kind: Secret with apiVersion v1 at the top level of every document. */
static bool is_k8s_secret(const struct doc *d)
{
	for (size_t b = 0; b < d->count; b++) {
		const struct doc_node *root = d->branches[b];

		if (!root || root->kind != DOC_MAP || !scalar_is(root, "kind", "Secret") ||
		    !scalar_is(root, "apiVersion", "v1"))
			return false;
	}
	return d->count > 0;
}

int sops_file_encrypt(const uint8_t *plain, size_t len, const struct sops_file_encrypt_opts *o,
		      struct gs_buf *out)
{
	struct doc d, prev;
	struct sops_key_group flag_group;
	struct sops_encrypt_opts eo;
	struct store_emit_opts emit = { 0 };
	const struct sops_rule *rule = NULL;
	const char *const *strings = o->age_recipients;
	size_t count = o->age_recipient_count, keys = 0;
	bool have_prev = false;
	int ret;

	doc_init(&d, o->format);
	memset(&eo, 0, sizeof(eo));
	memset(&flag_group, 0, sizeof(flag_group));
	if ((ret = store_load(o->format, plain, len, &d)) < 0)
		goto out;
	if (sops_doc_is_encrypted(&d)) {
		ret = GS_FAIL(GS_ERR_ALREADY_ENCRYPTED, "file is already encrypted");
		goto out;
	}
	if (!d.count) {
		ret = GS_FAIL(GS_ERR_EMPTY_INPUT, "file has no document to encrypt");
		goto out;
	}
	/* sops loads the rule even when keys come from flags: it also gives
	 * the selection options (spec 10.3). */
	if (o->config && o->config->rule_count &&
	    (ret = sops_config_match(o->config, o->rule_path ? o->rule_path : "", &rule)) < 0)
		goto out;
	/* Key flags replace the rule's keys entirely and make one group
	 * (spec 10.3); otherwise the rule's groups are used. */
	if (count || o->vault_uri_count || o->pgp_count) {
		flag_group.age = (char **)strings;
		flag_group.age_count = count;
		flag_group.vault_uris = (char **)o->vault_uris;
		flag_group.vault_count = o->vault_uri_count;
		flag_group.pgp = (char **)o->pgp_fingerprints;
		flag_group.pgp_count = o->pgp_count;
		eo.groups = &flag_group;
		eo.group_count = 1;
	} else if (rule && rule->group_count) {
		eo.groups = rule->groups;
		eo.group_count = rule->group_count;
	}
	for (size_t g = 0; g < eo.group_count; g++)
		keys += eo.groups[g].age_count + eo.groups[g].vault_count + eo.groups[g].pgp_count +
			eo.groups[g].foreign_count;
	if (!keys) {
		ret = GS_FAIL(GS_ERR_USAGE, "config file not found, or has no creation rules, and no "
					    "keys provided");
		goto out;
	}
	eo.drop_unsupported_keys = o->drop_unsupported_keys;
	eo.selection = o->selection;
	if (eo.selection.kind == SOPS_SEL_NONE && rule)
		eo.selection.kind = rule->selection.kind, eo.selection.value = rule->selection.value;
	if (rule && rule->selection.mac_only_encrypted)
		eo.selection.mac_only_encrypted = true;
	if (eo.selection.kind == SOPS_SEL_NONE && is_k8s_secret(&d)) {
		eo.selection.kind = SOPS_SEL_ENCRYPTED_REGEX;
		eo.selection.value = (char *)"^(data|stringData)$";
		if (o->used_k8s_default)
			*o->used_k8s_default = true;
	}
	eo.shamir_threshold = o->shamir_threshold ? o->shamir_threshold
						  : rule ? rule->shamir_threshold : 0;
	doc_init(&prev, o->format);
	if (o->previous && o->previous_len &&
	    store_load(o->format, o->previous, o->previous_len, &prev) == 0)
		have_prev = true;
	gs_error_clear();
	ret = sops_encrypt_doc(&d, &eo, have_prev ? &prev : NULL, o->identities);
	doc_release(&prev);
	if (ret < 0)
		goto out;
	emit.indent = o->indent;
	if (!emit.indent && o->config)
		emit.indent = o->format == DOC_FORMAT_JSON && o->config->json_indent != -2
				      ? o->config->json_indent
				      : o->format == DOC_FORMAT_YAML ? o->config->yaml_indent : 0;
	ret = store_emit(&d, o->convert ? o->output_format : o->format, &emit, out);
out:
	doc_release(&d);
	return ret;
}

int sops_file_decrypt(const uint8_t *cipher, size_t len, enum doc_format format,
		      const struct age_identity_list *ids, const struct sops_decrypt_opts *o,
		      struct gs_buf *out)
{
	struct doc d;
	struct store_emit_opts emit = { 0 };
	int ret;

	doc_init(&d, format);
	if ((ret = store_load(format, cipher, len, &d)) < 0)
		goto out;
	if ((ret = sops_decrypt_doc(&d, ids, o)) < 0)
		goto out;
	ret = store_emit(&d, format, &emit, out);
out:
	doc_release(&d);
	return ret;
}
