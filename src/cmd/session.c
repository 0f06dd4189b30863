#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gitseal/error.h"
#include "gitseal/store.h"
#include "gitseal/vault.h"
#include "session.h"

void sops_session_init(struct sops_session *s)
{
	memset(s, 0, sizeof(*s));
	gs_buf_init(&s->cipher_text, false);
	doc_init(&s->encrypted, DOC_FORMAT_YAML);
	doc_init(&s->plain, DOC_FORMAT_YAML);
}

static int push_unique(char ***list, size_t *count, const char *text, size_t len)
{
	char **grown;

	for (size_t i = 0; i < *count; i++)
		if (strlen((*list)[i]) == len && !memcmp((*list)[i], text, len))
			return 0;
	grown = realloc(*list, (*count + 1) * sizeof(*grown));
	if (!grown)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	*list = grown;
	if (!(grown[*count] = strndup(text, len)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	(*count)++;
	return 0;
}

int key_group_add_age(struct sops_key_group *g, const char *recipient)
{
	return push_unique(&g->age, &g->age_count, recipient, strlen(recipient));
}

int key_group_add_vault(struct sops_key_group *g, const char *uri)
{
	return push_unique(&g->vault_uris, &g->vault_count, uri, strlen(uri));
}

int key_group_add_pgp(struct sops_key_group *g, const char *fingerprint)
{
	return push_unique(&g->pgp, &g->pgp_count, fingerprint, strlen(fingerprint));
}

int key_group_add_foreign(struct sops_key_group *g, const char *key)
{
	return push_unique(&g->foreign, &g->foreign_count, key, strlen(key));
}

bool key_group_has(const struct sops_key_group *g, const char *key)
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

void key_groups_free(struct sops_key_group *g, size_t n)
{
	for (size_t k = 0; g && k < n; k++) {
		for (size_t i = 0; i < g[k].age_count; i++)
			free(g[k].age[i]);
		for (size_t i = 0; i < g[k].vault_count; i++)
			free(g[k].vault_uris[i]);
		for (size_t i = 0; i < g[k].pgp_count; i++)
			free(g[k].pgp[i]);
		for (size_t i = 0; i < g[k].foreign_count; i++)
			free(g[k].foreign[i]);
		free(g[k].age);
		free(g[k].vault_uris);
		free(g[k].pgp);
		free(g[k].foreign);
	}
	free(g);
}

int key_groups_copy(const struct sops_key_group *src, size_t n, struct sops_key_group **out)
{
	struct sops_key_group *g = calloc(n + 1, sizeof(*g));
	int ret = 0;

	*out = NULL;
	if (!g)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t k = 0; !ret && k < n; k++) {
		for (size_t i = 0; !ret && i < src[k].age_count; i++)
			ret = key_group_add_age(&g[k], src[k].age[i]);
		for (size_t i = 0; !ret && i < src[k].vault_count; i++)
			ret = key_group_add_vault(&g[k], src[k].vault_uris[i]);
		for (size_t i = 0; !ret && i < src[k].pgp_count; i++)
			ret = key_group_add_pgp(&g[k], src[k].pgp[i]);
		for (size_t i = 0; !ret && i < src[k].foreign_count; i++)
			ret = key_group_add_foreign(&g[k], src[k].foreign[i]);
	}
	if (ret) {
		key_groups_free(g, n);
		return ret;
	}
	*out = g;
	return 0;
}

bool key_groups_equal(const struct sops_key_group *a, size_t na, const struct sops_key_group *b,
		      size_t nb)
{
	if (na != nb)
		return false;
	for (size_t k = 0; k < na; k++) {
		if (a[k].age_count != b[k].age_count || a[k].vault_count != b[k].vault_count ||
		    a[k].pgp_count != b[k].pgp_count)
			return false;
		for (size_t i = 0; i < a[k].pgp_count; i++)
			if (!key_group_has(&b[k], a[k].pgp[i]))
				return false;
		for (size_t i = 0; i < a[k].foreign_count; i++)
			if (!key_group_has(&b[k], a[k].foreign[i]))
				return false;
		for (size_t i = 0; i < a[k].age_count; i++)
			if (!key_group_has(&b[k], a[k].age[i]))
				return false;
		for (size_t i = 0; i < a[k].vault_count; i++)
			if (!key_group_has(&b[k], a[k].vault_uris[i]))
				return false;
	}
	return true;
}

static const char *field(const struct doc_node *map, const char *key)
{
	struct doc_entry *e = map->kind == DOC_MAP ? doc_map_find(map, key) : NULL;

	return e && e->value && e->value->kind == DOC_SCALAR ? e->value->text : NULL;
}

/* Entries of key types gitseal cannot wrap for, named ("kms ARN", ...). */
static int collect_foreign(struct sops_key_group *g, const struct doc_node *map)
{
	static const char *const not_keys[] = { "age", "hc_vault", "pgp", "key_groups" };
	int ret = 0;

	for (size_t e = 0; !ret && e < map->count; e++) {
		const struct doc_entry *en = &map->entries[e];
		bool skip = !en->key || en->removed || !en->value || en->value->kind != DOC_LIST ||
			    !en->value->count || !en->value->entries[0].value ||
			    en->value->entries[0].value->kind != DOC_MAP;

		for (size_t i = 0; !skip && i < sizeof(not_keys) / sizeof(not_keys[0]); i++)
			skip = !strcmp(en->key, not_keys[i]);
		for (size_t i = 0, k = 0; !skip && !ret && i < en->value->count; i++) {
			const struct doc_node *item = en->value->entries[i].value;
			char *name;

			if (!item || en->value->entries[i].removed || item->kind == DOC_COMMENT)
				continue;
			if (!(ret = sops_foreign_key_describe(en->key, item, k++, &name)))
				ret = key_group_add_foreign(g, name);
			free(name);
		}
	}
	return ret;
}

/* The age recipients, PGP fingerprints, Vault URIs and other keys of one
 * metadata group (a map with `age`, `pgp`, `hc_vault`... lists; the
 * top-level sops map for the flat form). */
static int collect_group(struct sops_key_group *g, const struct doc_node *map)
{
	struct doc_entry *e;
	int ret = 0;

	if ((e = doc_map_find(map, "age")) && e->value && e->value->kind == DOC_LIST) {
		for (size_t i = 0; !ret && i < e->value->count; i++) {
			const struct doc_node *entry = e->value->entries[i].value;
			const char *r = entry ? field(entry, "recipient") : NULL;

			if (r)
				ret = key_group_add_age(g, r);
		}
	}
	if ((e = doc_map_find(map, "hc_vault")) && e->value && e->value->kind == DOC_LIST) {
		for (size_t i = 0; !ret && i < e->value->count; i++) {
			const struct doc_node *entry = e->value->entries[i].value;
			const char *addr = entry ? field(entry, "vault_address") : NULL;
			const char *engine = entry ? field(entry, "engine_path") : NULL;
			const char *name = entry ? field(entry, "key_name") : NULL;
			struct vault_key k;
			char *uri;

			if (!addr || !engine || !name)
				continue;
			if ((ret = vault_key_init(&k, addr, engine, name)) < 0)
				break;
			uri = vault_key_uri(&k);
			vault_key_release(&k);
			ret = uri ? key_group_add_vault(g, uri) : GS_FAIL(GS_ERR_NOMEM, "out of memory");
			free(uri);
		}
	}
	if ((e = doc_map_find(map, "pgp")) && e->value && e->value->kind == DOC_LIST) {
		for (size_t i = 0; !ret && i < e->value->count; i++) {
			const struct doc_node *entry = e->value->entries[i].value;
			const char *fp = entry ? field(entry, "fp") : NULL;

			if (fp && *fp)
				ret = key_group_add_pgp(g, fp);
		}
	}
	return ret ? ret : collect_foreign(g, map);
}

/* Any non-empty key list at the top (spec 5.3: it wins over key_groups). */
static bool has_flat_keys(const struct doc_node *map)
{
	for (size_t i = 0; i < map->count; i++) {
		const struct doc_entry *e = &map->entries[i];

		if (e->key && !e->removed && strcmp(e->key, "key_groups") && e->value &&
		    e->value->kind == DOC_LIST && e->value->count && e->value->entries[0].value &&
		    e->value->entries[0].value->kind == DOC_MAP)
			return true;
	}
	return false;
}

static int read_metadata_summary(struct sops_session *s)
{
	struct doc_entry *meta, *e;
	int ret = 0;

	if (!s->encrypted.count || !(meta = doc_map_find(s->encrypted.branches[0], "sops")) ||
	    meta->value->kind != DOC_MAP)
		return GS_FAIL(GS_ERR_NO_METADATA, "sops metadata not found");
	/* any non-empty top-level key list wins over key_groups (spec 5.3) */
	e = doc_map_find(meta->value, "key_groups");
	if (!has_flat_keys(meta->value) && e && e->value &&
	    e->value->kind == DOC_LIST && e->value->count) {
		s->groups = calloc(e->value->count, sizeof(*s->groups));
		if (!s->groups)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		for (size_t g = 0; !ret && g < e->value->count; g++) {
			const struct doc_node *group = e->value->entries[g].value;

			if (!group || group->kind != DOC_MAP)
				continue;
			ret = collect_group(&s->groups[s->group_count++], group);
		}
	} else {
		s->groups = calloc(1, sizeof(*s->groups));
		if (!s->groups)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		s->group_count = 1;
		ret = collect_group(&s->groups[0], meta->value);
	}
	if (!ret && (e = doc_map_find(meta->value, "shamir_threshold")) && e->value &&
	    e->value->kind == DOC_SCALAR)
		s->shamir_threshold = atoi(e->value->text);
	for (int k = SOPS_SEL_UNENCRYPTED_SUFFIX; !ret && k <= SOPS_SEL_ENCRYPTED_COMMENT_REGEX; k++) {
		e = doc_map_find(meta->value, sops_selection_key((enum sops_selection_kind)k));
		if (e && e->value->kind == DOC_SCALAR && e->value->len) {
			s->selection.kind = (enum sops_selection_kind)k;
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

int sops_session_seal(struct sops_session *s, struct doc *doc, const struct sops_key_group *groups,
		      size_t group_count, int shamir_threshold, bool fresh_key, struct gs_buf *out)
{
	struct sops_encrypt_opts eo = { 0 };
	struct store_emit_opts emit = { 0 };
	int ret;

	if (!groups) {
		groups = s->groups;
		group_count = s->group_count;
		shamir_threshold = s->shamir_threshold;
	}
	eo.groups = groups;
	eo.group_count = group_count;
	eo.shamir_threshold = group_count > 1 ? shamir_threshold : 0;
	eo.selection = s->selection;
	eo.new_data_key = fresh_key;
	eo.drop_unsupported_keys = s->drop_unsupported_keys;
	ret = sops_encrypt_doc(doc, &eo, &s->encrypted, &s->ids);
	if (!ret)
		ret = store_emit(doc, s->format, &emit, out);
	return ret;
}

void sops_session_release(struct sops_session *s)
{
	key_groups_free(s->groups, s->group_count);
	free(s->selection.value);
	age_identity_list_release(&s->ids);
	doc_release(&s->encrypted);
	doc_release(&s->plain);
	gs_buf_release(&s->cipher_text);
	memset(s, 0, sizeof(*s));
}
