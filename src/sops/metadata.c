/* The `sops` metadata entry (spec 5; stores/stores.go ToInternal,
 * metadataFromInternal; stores/metadata.go). Read in any sops 3.x layout,
 * written in the 3.13 layout (keys sorted bytewise). */
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "sops_int.h"

static const char *const selection_keys[] = {
	[SOPS_SEL_NONE] = NULL,
	[SOPS_SEL_UNENCRYPTED_SUFFIX] = "unencrypted_suffix",
	[SOPS_SEL_ENCRYPTED_SUFFIX] = "encrypted_suffix",
	[SOPS_SEL_UNENCRYPTED_REGEX] = "unencrypted_regex",
	[SOPS_SEL_ENCRYPTED_REGEX] = "encrypted_regex",
	[SOPS_SEL_UNENCRYPTED_COMMENT_REGEX] = "unencrypted_comment_regex",
	[SOPS_SEL_ENCRYPTED_COMMENT_REGEX] = "encrypted_comment_regex",
};

const char *sops_selection_key(enum sops_selection_kind kind)
{
	return kind <= SOPS_SEL_ENCRYPTED_COMMENT_REGEX ? selection_keys[kind] : NULL;
}

/* Entries of the sops map that are not key lists. */
static const char *const plain_fields[] = {
	"key_groups", "lastmodified", "mac", "mac_only_encrypted", "shamir_threshold", "version",
};

enum { RAW_LISTS_MAX = 16 };

static bool key_is(const struct doc_entry *e, const char *name)
{
	size_t n = strlen(name);

	return e->key && e->key_len == n && memcmp(e->key, name, n) == 0;
}

/* A list of mappings: the shape of a key list. */
static bool is_list_of_maps(const struct doc_node *n)
{
	size_t maps = 0;

	for (size_t i = 0; n && n->kind == DOC_LIST && i < n->count; i++) {
		const struct doc_node *v = n->entries[i].removed ? NULL : n->entries[i].value;

		if (v && v->kind == DOC_MAP)
			maps++;
		else if (v && v->kind != DOC_COMMENT)
			return false;
	}
	return maps > 0;
}

/* A list of keys gitseal cannot wrap for: kms, gcp_kms, azure_kv, hckms,
 * or any other list of mappings (a key type of a later sops). Kept
 * verbatim while the data key stays (issue 18: never drop a key entry). */
static const char *raw_type_name(const struct doc_entry *e)
{
	if (!e->key || !e->key_len || strlen(e->key) != e->key_len || !is_list_of_maps(e->value) ||
	    key_is(e, "age") || key_is(e, "hc_vault") || key_is(e, "pgp"))
		return NULL;
	for (size_t i = 0; i < sizeof(plain_fields) / sizeof(plain_fields[0]); i++)
		if (key_is(e, plain_fields[i]))
			return NULL;
	for (int k = SOPS_SEL_UNENCRYPTED_SUFFIX; k <= SOPS_SEL_ENCRYPTED_COMMENT_REGEX; k++)
		if (key_is(e, selection_keys[k]))
			return NULL;
	return e->key;
}

struct doc_entry *sops_metadata_entry(const struct doc *d)
{
	struct doc_node *root;

	if (!d->count || !(root = d->branches[0]) || root->kind != DOC_MAP)
		return NULL;
	return doc_map_find(root, SOPS_METADATA_KEY);
}

static const struct doc_node *live_value(const struct doc_entry *e)
{
	return e->removed ? NULL : e->value;
}

static bool is_scalar(const struct doc_node *n)
{
	return n && n->kind == DOC_SCALAR && n->type != DOC_NULL;
}

/* mapstructure's weak typing: "2" -> 2, "true" -> true (dotenv, INI). */
static int loose_int(const struct doc_node *n, int *out)
{
	long v;
	char *end;

	if (!n || n->kind != DOC_SCALAR || n->type == DOC_NULL) {
		*out = 0;
		return 0;
	}
	v = strtol(n->text, &end, 10);
	if (!n->len || *end || v < 0 || v > 255)
		return GS_FAIL(GS_ERR_PARSE, "sops metadata: invalid shamir_threshold");
	*out = (int)v;
	return 0;
}

static bool loose_bool(const struct doc_node *n)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };

	if (!is_scalar(n))
		return false;
	for (size_t i = 0; i < 6; i++)
		if (strcmp(n->text, yes[i]) == 0)
			return true;
	return false;
}

static const char *scalar_field(const struct doc_node *map, const char *key, size_t *len)
{
	struct doc_entry *e = doc_map_find(map, key);

	if (!e || e->removed || !is_scalar(e->value))
		return NULL;
	if (len)
		*len = e->value->len;
	return e->value->text;
}

/* age: {recipient, enc} */
static int read_age_entry(const struct doc_node *map, void *out)
{
	struct sops_age_entry *a = out;
	const char *recipient = scalar_field(map, "recipient", NULL);

	a->recipient = recipient ? recipient : "";
	a->enc = scalar_field(map, "enc", &a->enc_len);
	return 0;
}

/* sops parses every non-age created_at as RFC 3339 (5.3; pgpkey.toInternal) */
static bool valid_created_at(const char *s)
{
	char canon[64];

	return s && sops_time_canonical(s, strlen(s), canon, sizeof(canon)) == 0;
}

/* hc_vault: {vault_address, engine_path, key_name, created_at, enc} */
static int read_vault_entry(const struct doc_node *map, void *out)
{
	struct sops_vault_entry *v = out;

	v->address = scalar_field(map, "vault_address", NULL);
	v->engine_path = scalar_field(map, "engine_path", NULL);
	v->key_name = scalar_field(map, "key_name", NULL);
	v->created_at = scalar_field(map, "created_at", NULL);
	v->enc = scalar_field(map, "enc", &v->enc_len);
	if (!valid_created_at(v->created_at))
		return GS_FAIL(GS_ERR_PARSE, "sops metadata: hc_vault entry has an invalid created_at");
	if (!v->address || !v->engine_path || !v->key_name)
		return GS_FAIL(GS_ERR_PARSE, "sops metadata: incomplete hc_vault entry");
	return 0;
}

/* pgp: {created_at, enc, fp} */
static int read_pgp_entry(const struct doc_node *map, void *out)
{
	struct sops_pgp_entry *p = out;

	p->fp = scalar_field(map, "fp", NULL);
	p->created_at = scalar_field(map, "created_at", NULL);
	p->enc = scalar_field(map, "enc", &p->enc_len);
	if (!valid_created_at(p->created_at))
		return GS_FAIL(GS_ERR_PARSE, "sops metadata: pgp entry has an invalid created_at");
	if (!p->fp)
		p->fp = "";
	return 0;
}

/* A key list ([{...}, ...] or null) of a key group: each mapping in it
 * (comments skipped) read by read_entry into the next of item_size-byte
 * items, malloc'd into *items_out (replacing what was there: a list named
 * twice counts once). */
static int read_key_list(const struct doc_node *list, const char *name, size_t item_size,
			 int (*read_entry)(const struct doc_node *, void *), void **items_out, size_t *count)
{
	uint8_t *items;
	size_t n = 0;
	int ret = 0;

	if (!list || list->kind != DOC_LIST)
		return list && list->kind == DOC_SCALAR && list->type == DOC_NULL
			       ? 0
			       : GS_FAIL(GS_ERR_PARSE, "sops metadata: '%s' is not a list", gs_shown(name));
	if (!(items = gs_calloc(list->count ? list->count : 1, item_size)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < list->count && !ret; i++) {
		const struct doc_node *item = live_value(&list->entries[i]);

		if (!item || item->kind == DOC_COMMENT)
			continue;
		if (item->kind != DOC_MAP)
			ret = GS_FAIL(GS_ERR_PARSE, "sops metadata: %s entry is not a mapping", name);
		else if ((ret = read_entry(item, items + n * item_size)) == 0)
			n++;
	}
	free(*items_out);
	*items_out = items;
	*count = n;
	return ret;
}

static size_t list_len(const struct doc_node *n)
{
	size_t c = 0;

	if (!n || n->kind != DOC_LIST)
		return 0;
	for (size_t i = 0; i < n->count; i++)
		if (!n->entries[i].removed && n->entries[i].value &&
		    n->entries[i].value->kind != DOC_COMMENT)
			c++;
	return c;
}

static int add_raw(struct sops_meta_group *g, const char *type, const struct doc_node *n)
{
	struct sops_raw_key *r;

	if (!list_len(n))
		return 0;
	for (size_t i = 0; i < g->raw_count; i++)
		if (!strcmp(g->raw[i].type, type))
			return GS_FAIL(GS_ERR_PARSE, "sops metadata: duplicate key list '%s'", gs_shown(type));
	if (g->raw_count >= RAW_LISTS_MAX)
		return GS_FAIL(GS_ERR_PARSE, "sops metadata: more than %d key lists", RAW_LISTS_MAX);
	r = gs_realloc(g->raw, (g->raw_count + 1) * sizeof(*r));
	if (!r)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	g->raw = r;
	g->raw[g->raw_count].type = type;
	g->raw[g->raw_count].node = n;
	g->raw_count++;
	g->other_key_count += list_len(n);
	return 0;
}

/* e's key list into g when e is one: age, pgp, hc_vault, or a type gitseal
 * cannot wrap for (kept as it is); *taken false when e is none. */
static int read_key_entry(const struct doc_entry *e, struct sops_meta_group *g, bool *taken)
{
	const char *raw;

	*taken = true;
	if (key_is(e, "age"))
		return read_key_list(e->value, "age", sizeof(*g->age), read_age_entry, (void **)&g->age,
				     &g->age_count);
	if (key_is(e, "pgp"))
		return read_key_list(e->value, "pgp", sizeof(*g->pgp), read_pgp_entry, (void **)&g->pgp,
				     &g->pgp_count);
	if (key_is(e, "hc_vault"))
		return read_key_list(e->value, "hc_vault", sizeof(*g->vault), read_vault_entry,
				     (void **)&g->vault, &g->vault_count);
	if ((raw = raw_type_name(e)))
		return add_raw(g, raw, e->value);
	*taken = false;
	return 0;
}

static int read_group(const struct doc_node *map, struct sops_meta_group *g)
{
	bool taken;
	int ret = 0;

	memset(g, 0, sizeof(*g));
	if (!map || map->kind != DOC_MAP)
		return GS_FAIL(GS_ERR_PARSE, "sops metadata: key group is not a mapping");
	for (size_t i = 0; i < map->count && ret == 0; i++)
		if (!map->entries[i].removed && map->entries[i].key)
			ret = read_key_entry(&map->entries[i], g, &taken);
	return ret;
}

static void group_release(struct sops_meta_group *g)
{
	free(g->age);
	free(g->pgp);
	free(g->vault);
	free(g->raw);
	memset(g, 0, sizeof(*g));
}

/* A selection option (encrypted_regex...): at most one, and an empty one
 * is none (sops ToInternal). */
static int read_selection_entry(const struct doc_entry *e, struct sops_metadata *m)
{
	for (int k = SOPS_SEL_UNENCRYPTED_SUFFIX; k <= SOPS_SEL_ENCRYPTED_COMMENT_REGEX; k++) {
		if (!key_is(e, selection_keys[k]) || !is_scalar(e->value) || !e->value->len)
			continue;
		if (m->selection.kind != SOPS_SEL_NONE)
			return GS_FAIL(GS_ERR_PARSE, "sops metadata: more than one selection option");
		/* sops keeps the whole string ("_unencrypted\0x" is no suffix of
		 * "a_unencrypted"); read up to the NUL it would select otherwise */
		if (memchr(e->value->text, '\0', e->value->len))
			return GS_FAIL(GS_ERR_PARSE, "sops metadata: %s holds a NUL byte", selection_keys[k]);
		m->selection.kind = (enum sops_selection_kind)k;
		m->selection.value = e->value->text;
	}
	return 0;
}

/* One top-level entry of the metadata; key_groups is noted for later. */
static int read_meta_entry(const struct doc_entry *e, struct sops_metadata *m, struct sops_meta_group *flat,
			   const struct doc_node **key_groups)
{
	bool taken;
	int ret = read_key_entry(e, flat, &taken);

	if (ret < 0 || taken)
		return ret;
	if (key_is(e, "key_groups")) {
		*key_groups = e->value;
	} else if (key_is(e, "shamir_threshold")) {
		ret = loose_int(e->value, &m->shamir_threshold);
	} else if (key_is(e, "lastmodified") && is_scalar(e->value)) {
		m->lastmodified = e->value->text;
		m->lastmodified_len = e->value->len;
	} else if (key_is(e, "mac") && is_scalar(e->value)) {
		m->mac = e->value->text;
		m->mac_len = e->value->len;
	} else if (key_is(e, "version") && is_scalar(e->value)) {
		m->version = e->value->text;
	} else if (key_is(e, "mac_only_encrypted")) {
		m->selection.mac_only_encrypted = loose_bool(e->value);
	} else {
		ret = read_selection_entry(e, m);
	}
	return ret;
}

/* The key groups: the flat lists when any is non-empty or there is no
 * key_groups list (5.3), else each group of key_groups. Takes over flat. */
static int read_groups(struct sops_metadata *m, struct sops_meta_group *flat,
		       const struct doc_node *key_groups)
{
	if (flat->age_count || flat->pgp_count || flat->vault_count || flat->raw_count || !key_groups ||
	    key_groups->kind != DOC_LIST) {
		if (!(m->groups = gs_calloc(1, sizeof(*m->groups))))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		m->groups[0] = *flat;
		memset(flat, 0, sizeof(*flat));
		m->group_count = 1;
		return 0;
	}
	group_release(flat);
	m->from_key_groups = true;
	if (!(m->groups = gs_calloc(key_groups->count ? key_groups->count : 1, sizeof(*m->groups))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < key_groups->count; i++) {
		const struct doc_node *g = live_value(&key_groups->entries[i]);
		int ret;

		if (!g || g->kind == DOC_COMMENT)
			continue;
		if ((ret = read_group(g, &m->groups[m->group_count++])) < 0)
			return ret;
	}
	return 0;
}

int sops_metadata_read(const struct doc *d, struct sops_metadata *m)
{
	struct doc_entry *se = sops_metadata_entry(d);
	const struct doc_node *meta, *key_groups = NULL;
	struct sops_meta_group flat;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	memset(&flat, 0, sizeof(flat));
	if (!se)
		return GS_FAIL(GS_ERR_NO_METADATA, "sops metadata not found");
	meta = se->value;
	if (!meta || meta->kind != DOC_MAP)
		return GS_FAIL(GS_ERR_PARSE, "sops metadata is not a mapping");
	for (size_t i = 0; i < meta->count && ret == 0; i++)
		if (!meta->entries[i].removed && meta->entries[i].key && meta->entries[i].value)
			ret = read_meta_entry(&meta->entries[i], m, &flat, &key_groups);
	if (ret < 0)
		goto out;
	/* sops ToInternal: without any option, the default suffix applies. */
	if (m->selection.kind == SOPS_SEL_NONE) {
		m->selection.kind = SOPS_SEL_UNENCRYPTED_SUFFIX;
		m->selection.value = (char *)"_unencrypted";
	}
	ret = read_groups(m, &flat, key_groups);
out:
	group_release(&flat);
	if (ret < 0)
		sops_metadata_release(m);
	return ret;
}

void sops_metadata_release(struct sops_metadata *m)
{
	for (size_t i = 0; i < m->group_count; i++)
		group_release(&m->groups[i]);
	free(m->groups);
	memset(m, 0, sizeof(*m));
}

/* ---- writing ---- */

struct named {
	const char *key;
	struct doc_node *value;
};

static int named_cmp(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->key, ((const struct named *)b)->key);
}

static struct doc_node *str_node(struct doc *d, const char *s)
{
	return doc_new_scalar(d, DOC_STR, s, strlen(s));
}

static int append_sorted(struct doc *d, struct doc_node *map, struct named *items, size_t n)
{
	qsort(items, n, sizeof(*items), named_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!items[i].value ||
		    !doc_append(d, map, items[i].key, strlen(items[i].key), items[i].value))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* One entry of a key list as its fields (at most KEY_FIELDS_MAX). */
enum { KEY_FIELDS_MAX = 5 };
typedef size_t key_fields_fn(struct doc *d, const struct sops_meta_group *g, size_t i, struct named *items);

static size_t age_fields(struct doc *d, const struct sops_meta_group *g, size_t i, struct named *items)
{
	const struct sops_age_entry *a = &g->age[i];

	items[0] = (struct named){ "recipient", str_node(d, a->recipient) };
	items[1] = (struct named){ "enc", doc_new_scalar(d, DOC_STR, a->enc, a->enc_len) };
	return 2;
}

static size_t vault_fields(struct doc *d, const struct sops_meta_group *g, size_t i, struct named *items)
{
	const struct sops_vault_entry *v = &g->vault[i];

	items[0] = (struct named){ "vault_address", str_node(d, v->address) };
	items[1] = (struct named){ "engine_path", str_node(d, v->engine_path) };
	items[2] = (struct named){ "key_name", str_node(d, v->key_name) };
	items[3] = (struct named){ "created_at", str_node(d, v->created_at) };
	items[4] = (struct named){ "enc", doc_new_scalar(d, DOC_STR, v->enc, v->enc_len) };
	return 5;
}

static size_t pgp_fields(struct doc *d, const struct sops_meta_group *g, size_t i, struct named *items)
{
	const struct sops_pgp_entry *p = &g->pgp[i];

	items[0] = (struct named){ "created_at", str_node(d, p->created_at) };
	items[1] = (struct named){ "enc",
				   doc_new_scalar(d, DOC_STR, p->enc ? p->enc : "", p->enc ? p->enc_len : 0) };
	items[2] = (struct named){ "fp", str_node(d, p->fp) };
	return 3;
}

/* A key list as sops writes it: a map per entry, its keys sorted. */
static struct doc_node *key_list_node(struct doc *d, const struct sops_meta_group *g, size_t count,
				      key_fields_fn *fields)
{
	struct doc_node *list = doc_new_list(d);

	for (size_t i = 0; list && i < count; i++) {
		struct doc_node *m = doc_new_map(d);
		struct named items[KEY_FIELDS_MAX];

		if (!m || append_sorted(d, m, items, fields(d, g, i, items)) < 0 ||
		    !doc_append(d, list, NULL, 0, m))
			return NULL;
	}
	return list;
}

/* Fills items with a group's key lists; returns how many, or -1. */
static int group_items(struct doc *d, const struct sops_meta_group *g, bool in_key_groups,
		       struct named *items)
{
	int n = 0;

	/* sops >= 3.7: age and hc_vault lack omitempty in a key group (5.4). */
	if (g->age_count || in_key_groups)
		items[n++] = (struct named){ "age", key_list_node(d, g, g->age_count, age_fields) };
	if (g->vault_count || in_key_groups)
		items[n++] = (struct named){ "hc_vault", key_list_node(d, g, g->vault_count, vault_fields) };
	/* pgp keeps omitempty (stores.go keygroup) */
	if (g->pgp_count)
		items[n++] = (struct named){ "pgp", key_list_node(d, g, g->pgp_count, pgp_fields) };
	for (size_t i = 0; i < g->raw_count; i++)
		items[n++] = (struct named){ g->raw[i].type, doc_clone(d, g->raw[i].node) };
	for (int i = 0; i < n; i++)
		if (!items[i].value)
			return -1;
	return n;
}

static struct doc_node *metadata_node(struct doc *d, const struct sops_metadata_out *m)
{
	struct doc_node *map = doc_new_map(d);
	struct named items[RAW_LISTS_MAX + 16];
	size_t n = 0;
	char num[16];

	if (!map)
		return NULL;
	if (m->group_count == 1) {
		int k = group_items(d, &m->groups[0], false, items);

		if (k < 0)
			return NULL;
		n = (size_t)k;
	} else if (m->group_count > 1) {
		struct doc_node *groups = doc_new_list(d);

		if (!groups)
			return NULL;
		for (size_t g = 0; g < m->group_count; g++) {
			struct named gi[RAW_LISTS_MAX + 4];
			struct doc_node *gm = doc_new_map(d);
			int k = gm ? group_items(d, &m->groups[g], true, gi) : -1;

			if (k < 0 || append_sorted(d, gm, gi, (size_t)k) < 0 ||
			    !doc_append(d, groups, NULL, 0, gm))
				return NULL;
		}
		items[n++] = (struct named){ "key_groups", groups };
	}
	if (m->selection && m->selection->kind != SOPS_SEL_NONE && m->selection->value &&
	    m->selection->value[0])
		items[n++] = (struct named){ selection_keys[m->selection->kind],
					     str_node(d, m->selection->value) };
	if (m->selection && m->selection->mac_only_encrypted)
		items[n++] = (struct named){ "mac_only_encrypted",
					     doc_new_scalar(d, DOC_BOOL, "true", 4) };
	if (m->shamir_threshold > 0) {
		snprintf(num, sizeof(num), "%d", m->shamir_threshold);
		items[n++] = (struct named){ "shamir_threshold",
					     doc_new_scalar(d, DOC_INT, num, strlen(num)) };
	}
	items[n++] = (struct named){ "lastmodified", str_node(d, m->lastmodified) };
	items[n++] = (struct named){ "mac", str_node(d, m->mac) };
	items[n++] = (struct named){ "version", str_node(d, m->version ? m->version : SOPS_VERSION) };
	if (append_sorted(d, map, items, n) < 0)
		return NULL;
	return map;
}

int sops_metadata_write(struct doc *d, const struct sops_metadata_out *m)
{
	struct doc_node *first = metadata_node(d, m);

	if (!first)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	/* sops puts the block in every YAML document (SerializeMetadata). */
	for (size_t b = 0; b < d->count; b++) {
		struct doc_node *node = b == 0 ? first : doc_clone(d, first);

		if (!d->branches[b] || d->branches[b]->kind != DOC_MAP)
			continue;
		if (!node || !doc_append(d, d->branches[b], SOPS_METADATA_KEY, SOPS_METADATA_KEY_LEN, node))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* ---- keys of other types, named ---- */

int sops_foreign_key_describe(const char *type, const struct doc_node *entry, size_t index, char **out)
{
	static const struct {
		const char *type, *field;
	} ids[] = { { "kms", "arn" }, { "gcp_kms", "resource_id" }, { "hckms", "key_id" } };
	const char *id = NULL, *url, *name;
	int n = -1;

	*out = NULL;
	if (entry && entry->kind == DOC_MAP) {
		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
			if (!strcmp(type, ids[i].type))
				id = scalar_field(entry, ids[i].field, NULL);
		/* the version is left out: a rule without one takes the latest
		 * (azkv NewMasterKeyFromURL), which the file then names */
		if (!strcmp(type, "azure_kv") && (url = scalar_field(entry, "vault_url", NULL)) &&
		    (name = scalar_field(entry, "name", NULL)))
			n = gs_asprintf(out, "%s %s/keys/%s", type, url, name);
	}
	if (n < 0 && id && *id)
		n = gs_asprintf(out, "%s %s", type, id);
	else if (n < 0)
		n = gs_asprintf(out, "%s #%zu", type, index + 1);
	if (n < 0) {
		*out = NULL;
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return 0;
}
