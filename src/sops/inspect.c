/* Reading an encrypted document without its data key: the keys its
 * metadata names, and whether every value a selection rule seals is
 * sealed. The git filter needs both before it can open a file, or where no
 * key opens it (a clone without keys, `gitseal git check`). The metadata is
 * outside the MAC: what it says is a claim, and the caller decides what to
 * trust. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/vault.h"
#include "sops_int.h"

void sops_key_summary_release(struct sops_key_summary *k)
{
	for (size_t g = 0; k->groups && g < k->group_count; g++) {
		for (size_t i = 0; i < k->groups[g].age_count; i++)
			free(k->groups[g].age[i]);
		for (size_t i = 0; i < k->groups[g].vault_count; i++)
			free(k->groups[g].vault_uris[i]);
		for (size_t i = 0; i < k->groups[g].pgp_count; i++)
			free(k->groups[g].pgp[i]);
		for (size_t i = 0; i < k->groups[g].foreign_count; i++)
			free(k->groups[g].foreign[i]);
		free(k->groups[g].age);
		free(k->groups[g].vault_uris);
		free(k->groups[g].pgp);
		free(k->groups[g].foreign);
	}
	free(k->groups);
	free(k->selection.value);
	memset(k, 0, sizeof(*k));
}

size_t sops_key_group_size(const struct sops_key_group *g)
{
	return g->age_count + g->pgp_count + g->vault_count;
}

const char *sops_key_group_key(const struct sops_key_group *g, size_t i)
{
	if (i < g->age_count)
		return g->age[i];
	i -= g->age_count;
	if (i < g->pgp_count)
		return g->pgp[i];
	i -= g->pgp_count;
	return i < g->vault_count ? g->vault_uris[i] : NULL;
}

static int push(char ***list, size_t *count, const char *s)
{
	return gs_strings_push(list, count, s, strlen(s));
}

static int summarize_group(const struct sops_meta_group *mg, struct sops_key_group *g)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < mg->age_count; i++)
		if (mg->age[i].recipient && mg->age[i].recipient[0])
			ret = push(&g->age, &g->age_count, mg->age[i].recipient);
	for (size_t i = 0; !ret && i < mg->vault_count; i++) {
		const struct sops_vault_entry *v = &mg->vault[i];
		struct vault_key vk;
		char *uri;

		if ((ret = vault_key_init(&vk, v->address, v->engine_path, v->key_name)) < 0)
			break;
		uri = vault_key_uri(&vk);
		vault_key_release(&vk);
		ret = uri ? push(&g->vault_uris, &g->vault_count, uri) : GS_FAIL(GS_ERR_NOMEM, "out of memory");
		free(uri);
	}
	for (size_t i = 0; !ret && i < mg->pgp_count; i++)
		if (mg->pgp[i].fp && mg->pgp[i].fp[0])
			ret = push(&g->pgp, &g->pgp_count, mg->pgp[i].fp);
	for (size_t r = 0; !ret && r < mg->raw_count; r++) {
		const struct doc_node *list = mg->raw[r].node;

		for (size_t i = 0, k = 0; !ret && i < list->count; i++) {
			const struct doc_node *e = list->entries[i].value;
			char *name;

			if (list->entries[i].removed || !e || e->kind == DOC_COMMENT)
				continue;
			if (!(ret = sops_foreign_key_describe(mg->raw[r].type, e, k++, &name)))
				ret = push(&g->foreign, &g->foreign_count, name);
			free(name);
		}
	}
	return ret;
}

int sops_metadata_keys(const struct sops_metadata *m, struct sops_key_summary *out)
{
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->groups = gs_calloc(m->group_count + 1, sizeof(*out->groups));
	if (!out->groups)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	out->group_count = m->group_count;
	for (size_t g = 0; !ret && g < m->group_count; g++) {
		ret = summarize_group(&m->groups[g], &out->groups[g]);
		out->other_keys += m->groups[g].other_key_count;
		for (size_t i = 0; i < m->groups[g].age_count; i++)
			out->unnamed_age += !m->groups[g].age[i].recipient || !m->groups[g].age[i].recipient[0];
	}
	out->shamir_threshold = m->shamir_threshold;
	out->selection.kind = m->selection.kind;
	out->selection.mac_only_encrypted = m->selection.mac_only_encrypted;
	if (!ret && m->selection.value && !(out->selection.value = gs_strdup(m->selection.value)))
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (ret)
		sops_key_summary_release(out);
	return ret;
}

int sops_doc_keys(const struct doc *d, struct sops_key_summary *out)
{
	struct sops_metadata m;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = sops_metadata_read(d, &m)) < 0)
		return ret;
	ret = sops_metadata_keys(&m, out);
	sops_metadata_release(&m);
	return ret;
}

struct sealed_check {
	char *where;
	size_t where_size;
	bool plaintext_found;
};

static int check_leaf(void *ctx, struct sops_leaf *leaf)
{
	struct sealed_check *c = ctx;
	const struct doc_node *n = leaf->node;

	/* comments may stay in clear (sops 3.3: older files), and an empty
	 * string is never encrypted (spec 2.4) */
	if (!leaf->selected || leaf->is_comment || (n->type == DOC_STR && n->len == 0))
		return 0;
	if (n->kind == DOC_SCALAR && n->type == DOC_STR && sops_enc_looks_encrypted(n->text, n->len)) {
		struct sops_enc_fields f;

		if (sops_enc_parse(n->text, n->len, &f) == 0)
			return 0;
		gs_error_clear();
	}
	c->plaintext_found = true;
	if (c->where_size)
		snprintf(c->where, c->where_size, "%.*s", (int)(leaf->aad_len ? leaf->aad_len - 1 : 0), leaf->aad);
	return GS_ERR_GENERIC; /* stops the walk at the first one */
}

/* spec 3.2, as the engine applies it: the binary store seals its one
 * value; the others default to sealing all but `_unencrypted` keys */
static struct sops_selection effective_selection(const struct doc *d, const struct sops_selection *sel)
{
	struct sops_selection s = *sel;

	if (d->format == DOC_FORMAT_BINARY) {
		s.kind = SOPS_SEL_NONE;
		s.value = NULL;
	} else if (s.kind == SOPS_SEL_NONE) {
		s.kind = SOPS_SEL_UNENCRYPTED_SUFFIX;
		s.value = (char *)"_unencrypted";
	}
	return s;
}

/* Walks d under sel as the engine applies it, fn stopping at the first
 * value it looks for (c->plaintext_found). */
static int walk_for(struct doc *d, const struct sops_selection *sel, sops_leaf_fn fn, struct sealed_check *c)
{
	struct sops_selection s = effective_selection(d, sel);
	struct sops_selector selector;
	int ret;

	if (c->where_size)
		c->where[0] = '\0';
	if ((ret = sops_selector_init(&selector, &s)) < 0)
		return ret;
	ret = sops_walk(d, &selector, fn, c);
	sops_selector_release(&selector);
	if (c->plaintext_found)
		gs_error_clear();
	return ret;
}

int sops_doc_check_sealed(struct doc *d, const struct sops_selection *sel, char *where, size_t where_size)
{
	struct sealed_check c = { where, where_size, false };
	int ret = walk_for(d, sel, check_leaf, &c);

	if (c.plaintext_found)
		return GS_FAIL(GS_ERR_DECRYPT_VALUE, "a value that must be encrypted is in clear");
	return ret;
}

/* ---- sops_doc_find_clear ---- */

static int find_clear_leaf(void *ctx, struct sops_leaf *leaf)
{
	struct sealed_check *c = ctx;
	const struct doc_node *n = leaf->node;

	/* an empty string is never sealed (spec 2.4), selected or not */
	if (leaf->is_comment || (leaf->selected && !(n->type == DOC_STR && n->len == 0)))
		return 0;
	c->plaintext_found = true;
	if (c->where_size)
		snprintf(c->where, c->where_size, "%.*s", (int)(leaf->aad_len ? leaf->aad_len - 1 : 0), leaf->aad);
	return GS_ERR_GENERIC; /* stops the walk at the first one */
}

int sops_doc_find_clear(struct doc *d, const struct sops_selection *sel, char *where, size_t where_size)
{
	struct sealed_check c = { where, where_size, false };
	int ret = walk_for(d, sel, find_clear_leaf, &c);

	return c.plaintext_found ? 1 : ret;
}

/* ---- sops_doc_check_narrowed ---- */

/* A value a kept version holds in clear: its path (AAD form; a key may
 * hold a NUL byte), and the node itself. */
struct clear_value {
	char *path;
	size_t len;
	const struct doc_node *node;
};

struct clear_paths {
	struct clear_value *items; /* sorted by path */
	size_t count, cap;
};

static bool leaf_in_clear(const struct sops_leaf *leaf)
{
	const struct doc_node *n = leaf->node;

	/* comments and empty strings are never sealed (spec 2.4) */
	return !leaf->is_comment && n->kind == DOC_SCALAR && !(n->type == DOC_STR && n->len == 0) &&
	       !(n->type == DOC_STR && sops_enc_looks_encrypted(n->text, n->len));
}

static int collect_clear(void *ctx, struct sops_leaf *leaf)
{
	struct clear_paths *c = ctx;
	char *path;

	if (!leaf_in_clear(leaf))
		return 0;
	if (GS_ARRAY_GROW(c->items, c->count, c->cap, 16))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (!(path = gs_malloc(leaf->aad_len + 1)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	memcpy(path, leaf->aad, leaf->aad_len);
	path[leaf->aad_len] = '\0';
	c->items[c->count++] = (struct clear_value){ path, leaf->aad_len, leaf->node };
	return 0;
}

static int compare_path(const char *a, size_t alen, const char *b, size_t blen)
{
	int cmp = memcmp(a, b, alen < blen ? alen : blen);

	return cmp ? cmp : (alen > blen) - (alen < blen);
}

static int compare_values(const void *a, const void *b)
{
	const struct clear_value *x = a, *y = b;

	return compare_path(x->path, x->len, y->path, y->len);
}

/* Whether a kept version holds this very value in clear at this path: a
 * value that a version anyone could have written holds in clear is no
 * secret, but a value changed under its rule is the user's (a pull
 * request's new file holding 'password: CHANGEME' in clear under a rule
 * that seals nothing: the real password the user then typed in stayed in
 * clear). */
static bool kept_as_is(const struct clear_paths *k, const struct sops_leaf *leaf)
{
	const struct doc_node *n = leaf->node;
	size_t lo = 0, hi = k->count;

	/* the first item whose path is not below the leaf's */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (compare_path(k->items[mid].path, k->items[mid].len, leaf->aad, leaf->aad_len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < k->count && !compare_path(k->items[lo].path, k->items[lo].len, leaf->aad, leaf->aad_len); lo++) {
		const struct doc_node *v = k->items[lo].node;

		if (v->type == n->type && v->len == n->len && !memcmp(v->text, n->text, n->len))
			return true;
	}
	return false;
}

struct narrowed_check {
	bool *clear;        /* per leaf of the walk: left in clear by the file's rule */
	size_t count, cap, at;
	const struct clear_paths *kept;
	char *where;
	size_t where_size;
	bool found;
};

static int note_clear(void *ctx, struct sops_leaf *leaf)
{
	struct narrowed_check *c = ctx;

	if (GS_ARRAY_GROW(c->clear, c->count, c->cap, 64))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	c->clear[c->count++] = !leaf->selected && leaf_in_clear(leaf);
	return 0;
}

static int find_narrowed(void *ctx, struct sops_leaf *leaf)
{
	struct narrowed_check *c = ctx;

	/* the same document walked again: its leaves come in the same order */
	if (c->at >= c->count || !c->clear[c->at++] || !leaf->selected)
		return 0;
	if (kept_as_is(c->kept, leaf))
		return 0;
	c->found = true;
	if (c->where_size)
		snprintf(c->where, c->where_size, "%.*s", (int)(leaf->aad_len ? leaf->aad_len - 1 : 0), leaf->aad);
	return GS_ERR_GENERIC; /* stops the walk at the first one */
}

static int walk_with(struct doc *d, const struct sops_selection *sel, sops_leaf_fn fn, void *ctx)
{
	struct sops_selection s = effective_selection(d, sel);
	struct sops_selector selector;
	int ret;

	if ((ret = sops_selector_init(&selector, &s)) < 0)
		return ret;
	ret = sops_walk(d, &selector, fn, ctx);
	sops_selector_release(&selector);
	return ret;
}

struct sealed_count {
	size_t sealed, values;
};

static int count_sealed(void *ctx, struct sops_leaf *leaf)
{
	struct sealed_count *c = ctx;

	if (leaf_in_clear(leaf)) {
		c->values++;
		c->sealed += leaf->selected;
	}
	return 0;
}

int sops_doc_count_sealed(struct doc *d, const struct sops_selection *sel, size_t *sealed, size_t *values)
{
	struct sealed_count c = { 0 };
	int ret = walk_with(d, sel, count_sealed, &c);

	*sealed = c.sealed;
	*values = c.values;
	return ret;
}

/* The reference walk. A rule that reads comments is no reference:
 * comments are outside the MAC, so a marker of unencrypted_comment_regex
 * may be anyone's (a pull request's line above a placeholder, or at the
 * end where a new key goes); every value is then held to what a kept
 * version holds in clear. */
static int walk_reference(struct doc *d, const struct sops_selection *wider, sops_leaf_fn fn, void *ctx)
{
	static const struct sops_selection seal_all = { .kind = SOPS_SEL_NONE };
	struct sops_selector selector;
	int ret;

	if (wider->kind != SOPS_SEL_UNENCRYPTED_COMMENT_REGEX)
		return walk_with(d, wider, fn, ctx);
	if ((ret = sops_selector_init(&selector, &seal_all)) < 0)
		return ret;
	ret = sops_walk(d, &selector, fn, ctx);
	sops_selector_release(&selector);
	return ret;
}

int sops_doc_check_narrowed(struct doc *d, const struct sops_selection *sel, const struct sops_selection *wider,
			    struct doc *const *kept, size_t nkept, char *where, size_t where_size)
{
	struct clear_paths k = { 0 };
	struct narrowed_check c = { 0 };
	int ret = 0;

	if (where_size)
		where[0] = '\0';
	c.kept = &k;
	c.where = where;
	c.where_size = where_size;
	for (size_t i = 0; i < nkept; i++)
		if ((ret = walk_with(kept[i], sel, collect_clear, &k)))
			goto out;
	if (k.count)
		qsort(k.items, k.count, sizeof(*k.items), compare_values);
	if ((ret = walk_with(d, sel, note_clear, &c)))
		goto out;
	ret = walk_reference(d, wider, find_narrowed, &c);
	if (c.found) {
		gs_error_clear();
		ret = GS_FAIL(GS_ERR_DECRYPT_VALUE, "a value the wider rule seals would be in clear");
	}
out:
	for (size_t i = 0; i < k.count; i++)
		free(k.items[i].path);
	free(k.items);
	free(c.clear);
	return ret;
}

void sops_data_key_id(const uint8_t *key, uint8_t id[SOPS_KEY_ID_SIZE])
{
	/* a fixed BLAKE2b key: ids of the same data key are equal everywhere */
	static const char domain[] = "gitseal: the id of a sops data key";

	crypto_generichash(id, SOPS_KEY_ID_SIZE, key, SOPS_DATA_KEY_SIZE, (const uint8_t *)domain,
			   sizeof(domain) - 1);
}

bool sops_file_key_id(const struct sops_file *f, uint8_t id[SOPS_KEY_ID_SIZE])
{
	if (!f->have_prev || !f->prev.key)
		return false;
	sops_data_key_id(f->prev.key, id);
	return true;
}
