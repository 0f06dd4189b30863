#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/store.h"
#include "session.h"

void sops_session_init(struct sops_session *s)
{
	memset(s, 0, sizeof(*s));
	gs_buf_init(&s->cipher_text, false);
	doc_init(&s->encrypted, DOC_FORMAT_YAML);
	doc_init(&s->plain, DOC_FORMAT_YAML);
}

static int push_string(struct sops_session *s, const char *text, size_t len)
{
	char **grown = realloc(s->recipients, (s->recipient_count + 1) * sizeof(*grown));

	if (!grown)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	s->recipients = grown;
	grown[s->recipient_count] = strndup(text, len);
	if (!grown[s->recipient_count])
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	s->recipient_count++;
	return 0;
}

/* The age recipients listed in the metadata, flat or in key_groups. */
static int collect_age_list(struct sops_session *s, const struct doc_node *list)
{
	int ret = 0;

	if (!list || list->kind != DOC_LIST)
		return 0;
	for (size_t i = 0; !ret && i < list->count; i++) {
		const struct doc_node *entry = list->entries[i].value;
		struct doc_entry *r;

		if (entry->kind != DOC_MAP)
			continue;
		r = doc_map_find(entry, "recipient");
		if (r && r->value->kind == DOC_SCALAR)
			ret = push_string(s, r->value->text, r->value->len);
	}
	return ret;
}

static int read_metadata_summary(struct sops_session *s)
{
	static const struct {
		const char *key;
		enum sops_selection_kind kind;
	} selections[] = {
		{ "unencrypted_suffix", SOPS_SEL_UNENCRYPTED_SUFFIX },
		{ "encrypted_suffix", SOPS_SEL_ENCRYPTED_SUFFIX },
		{ "unencrypted_regex", SOPS_SEL_UNENCRYPTED_REGEX },
		{ "encrypted_regex", SOPS_SEL_ENCRYPTED_REGEX },
		{ "unencrypted_comment_regex", SOPS_SEL_UNENCRYPTED_COMMENT_REGEX },
		{ "encrypted_comment_regex", SOPS_SEL_ENCRYPTED_COMMENT_REGEX },
	};
	struct doc_entry *meta, *e;
	int ret;

	if (!s->encrypted.count || !(meta = doc_map_find(s->encrypted.branches[0], "sops")) ||
	    meta->value->kind != DOC_MAP)
		return GS_FAIL(GS_ERR_NO_METADATA, "sops metadata not found");
	ret = collect_age_list(s, (e = doc_map_find(meta->value, "age")) ? e->value : NULL);
	if (!ret && (e = doc_map_find(meta->value, "key_groups")) && e->value->kind == DOC_LIST) {
		for (size_t g = 0; !ret && g < e->value->count; g++) {
			struct doc_node *group = e->value->entries[g].value;
			struct doc_entry *ages = group->kind == DOC_MAP ? doc_map_find(group, "age") : NULL;

			ret = collect_age_list(s, ages ? ages->value : NULL);
		}
	}
	for (size_t i = 0; !ret && i < sizeof(selections) / sizeof(selections[0]); i++) {
		e = doc_map_find(meta->value, selections[i].key);
		if (e && e->value->kind == DOC_SCALAR && e->value->len) {
			s->selection.kind = selections[i].kind;
			s->selection.value = strndup(e->value->text, e->value->len);
			if (!s->selection.value)
				ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		}
	}
	e = doc_map_find(meta->value, "mac_only_encrypted");
	if (e && e->value->kind == DOC_SCALAR && (!strcmp(e->value->text, "true") ||
						  !strcmp(e->value->text, "True")))
		s->selection.mac_only_encrypted = true;
	return ret;
}

int sops_session_open(struct sops_session *s, const struct sops_cli *c)
{
	struct sops_decrypt_opts dopts = { .ignore_mac = c->ignore_mac };
	int ret;

	s->format = sops_cli_input_format(c);
	ret = sops_cli_read_input(c, &s->cipher_text);
	if (!ret)
		ret = store_load(s->format, s->cipher_text.data, s->cipher_text.len, &s->encrypted);
	if (!ret)
		ret = read_metadata_summary(s);
	if (!ret)
		ret = sops_identities_load(&s->ids);
	if (!ret)
		ret = store_load(s->format, s->cipher_text.data, s->cipher_text.len, &s->plain);
	if (!ret)
		ret = sops_decrypt_doc(&s->plain, &s->ids, &dopts);
	return ret;
}

int sops_session_seal(struct sops_session *s, struct doc *doc, char **recipients, size_t count,
		      bool fresh_key, struct gs_buf *out)
{
	struct age_recipient_list rl = { 0 };
	struct sops_encrypt_opts eo = { 0 };
	struct store_emit_opts emit = { 0 };
	struct age_recipient *r;
	int ret = 0;

	if (!recipients) {
		recipients = s->recipients;
		count = s->recipient_count;
	}
	for (size_t i = 0; !ret && i < count; i++) {
		ret = age_recipient_parse(recipients[i], &r);
		if (!ret && (ret = age_recipient_list_add(&rl, r)))
			age_recipient_free(r);
	}
	if (!ret) {
		eo.recipients = &rl;
		eo.recipient_strings = recipients;
		eo.selection = s->selection;
		ret = sops_encrypt_doc(doc, &eo, fresh_key ? NULL : &s->encrypted, &s->ids);
	}
	if (!ret)
		ret = store_emit(doc, s->format, &emit, out);
	age_recipient_list_release(&rl);
	return ret;
}

void sops_session_release(struct sops_session *s)
{
	for (size_t i = 0; i < s->recipient_count; i++)
		free(s->recipients[i]);
	free(s->recipients);
	free(s->selection.value);
	age_identity_list_release(&s->ids);
	doc_release(&s->encrypted);
	doc_release(&s->plain);
	gs_buf_release(&s->cipher_text);
	memset(s, 0, sizeof(*s));
}
