#include <stdlib.h>
#include <string.h>

#include "gitseal/base64.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"
#include "k8s_int.h"

/* Reads a sops file beneath the root, format from its name. */
static int file_read(const struct k8s_root *root, const char *base_rel, const char *path,
		     struct gs_buf *cipher, enum doc_format *format)
{
	char *rel = k8s_rel_join(base_rel, path);
	int ret;

	if (!rel)
		return GS_ERR_USAGE;
	*format = store_format_for_path(rel);
	ret = k8s_root_read(root, rel, cipher, K8S_MAX_FILE);
	free(rel);
	return ret;
}

int k8s_file_decrypt(const struct k8s_root *root, const char *base_rel, const char *path,
		     const struct age_identity_list *ids, struct gs_buf *plain, enum doc_format *format)
{
	struct sops_decrypt_opts o = { .ignore_mac = false };
	struct gs_buf cipher;
	int ret;

	gs_buf_init(&cipher, false);
	ret = file_read(root, base_rel, path, &cipher, format);
	if (!ret)
		ret = sops_file_decrypt(cipher.data, cipher.len, *format, ids, &o, plain);
	gs_buf_release(&cipher);
	return ret;
}

/* KSOPS's files: every document of a decrypted manifest file becomes an
 * item (the tree the file pipeline opened, MAC checked). */
static int add_manifests(const struct k8s_root *root, const char *base_rel, const char *path,
			 const struct age_identity_list *ids, struct doc *out_doc,
			 struct doc_node *items)
{
	struct sops_open_opts oo = { .ids = ids };
	struct sops_file *f = NULL;
	struct gs_buf cipher;
	const struct doc *plain;
	int ret;

	gs_buf_init(&cipher, false);
	ret = file_read(root, base_rel, path, &cipher, &oo.format);
	if (!ret)
		ret = sops_file_open_buf(&cipher, &oo, &f);
	gs_buf_release(&cipher);
	if (ret)
		return ret;
	plain = sops_file_doc(f);
	for (size_t b = 0; !ret && b < plain->count; b++) {
		struct doc_node *c = doc_clone(out_doc, plain->branches[b]);

		if (!c || !doc_append(out_doc, items, NULL, 0, c))
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	sops_file_free(f);
	return ret;
}

static struct doc_node *str_node(struct doc *d, const char *s)
{
	return doc_new_scalar(d, DOC_STR, s, strlen(s));
}

/* Keys sorted, as KSOPS's Go map marshalling writes them. */
static int sorted_insert(struct doc *d, struct doc_node *map, const char *key, size_t klen,
			 const char *val, size_t vlen)
{
	struct doc_node *v = doc_new_scalar(d, DOC_STR, val, vlen);
	size_t pos = 0;

	if (!v)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < map->count; i++) {
		struct doc_entry *e = &map->entries[i];
		size_t m = e->key_len < klen ? e->key_len : klen;
		int c = memcmp(e->key, key, m);

		if (!c && e->key_len == klen) {
			e->value = v;
			return 0;
		}
		if (c < 0 || (!c && e->key_len < klen))
			pos = i + 1;
	}
	if (!doc_append(d, map, key, klen, v))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (pos < map->count - 1) {
		struct doc_entry last = map->entries[map->count - 1];

		memmove(&map->entries[pos + 1], &map->entries[pos],
			(map->count - 1 - pos) * sizeof(*map->entries));
		map->entries[pos] = last;
	}
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct doc_entry *x = a, *y = b;
	size_t m = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key ? x->key : "", y->key ? y->key : "", x->key && y->key ? m : 0);

	return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static void sort_keys(struct doc_node *n, int depth)
{
	if (depth > K8S_MAX_DEPTH || (n->kind != DOC_MAP && n->kind != DOC_LIST))
		return;
	if (n->kind == DOC_MAP) {
		size_t live = 0;

		/* comments and removed entries are not data: dropped first */
		for (size_t i = 0; i < n->count; i++) {
			if (!n->entries[i].removed && n->entries[i].key &&
			    n->entries[i].value->kind != DOC_COMMENT)
				n->entries[live++] = n->entries[i];
		}
		n->count = live;
		if (n->count)
			qsort(n->entries, n->count, sizeof(*n->entries), entry_cmp);
	}
	for (size_t i = 0; i < n->count; i++)
		sort_keys(n->entries[i].value, depth + 1);
}

static int secret_from_run(const struct k8s_secret_from *s, const struct k8s_root *root,
			   const char *base_rel, const struct age_identity_list *ids, struct doc *d,
			   struct doc_node *items)
{
	struct doc_node *secret = doc_new_map(d), *string_data = doc_new_map(d),
			*data = doc_new_map(d), *meta;
	struct gs_buf plain;
	char *key = NULL, *rel = NULL;
	int ret = 0;

	gs_buf_init(&plain, true);
	if (!secret || !string_data || !data)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	const struct doc_node *lists[3] = { s->files, s->binary_files, s->envs };

	for (int which = 0; !ret && which < 3; which++) {
		const struct doc_node *l = lists[which];

		for (size_t i = 0; !ret && l && i < l->count; i++) {
			const struct doc_node *v = l->entries[i].value;
			enum doc_format fmt;

			if (l->entries[i].removed || v->kind != DOC_SCALAR)
				continue;
			if (which == 2) {
				key = NULL;
				rel = strdup(v->text);
				ret = rel ? 0 : GS_FAIL(GS_ERR_NOMEM, "out of memory");
			} else {
				ret = k8s_file_key_path(v->text, &key, &rel);
			}
			if (!ret)
				ret = k8s_file_decrypt(root, base_rel, rel, ids, &plain, &fmt);
			if (ret)
				gs_error_prefix("'%s'", rel ? rel : v->text);
			if (!ret && which == 0) {
				ret = sorted_insert(d, string_data, key, strlen(key), (const char *)plain.data,
						    plain.len);
			} else if (!ret && which == 1) {
				size_t cap = GS_BASE64_LEN(plain.len) + 1;
				char *b64 = gs_arena_alloc(&d->arena, cap);

				ret = b64 ? 0 : GS_FAIL(GS_ERR_NOMEM, "out of memory");
				if (!ret) {
					gs_base64_encode(plain.data, plain.len, b64, cap);
					ret = sorted_insert(d, data, key, strlen(key), b64, strlen(b64));
				}
			} else if (!ret) {
				struct doc env;

				doc_init(&env, DOC_FORMAT_DOTENV);
				struct doc_node *m = doc_new_map(&env);

				ret = m ? k8s_dotenv_parse(&env, m, (const char *)plain.data, plain.len)
					: GS_FAIL(GS_ERR_NOMEM, "out of memory");
				if (ret)
					gs_error_prefix("'%s'", rel);
				for (size_t k = 0; !ret && k < m->count; k++)
					ret = sorted_insert(d, string_data, m->entries[k].key,
							    m->entries[k].key_len, m->entries[k].value->text,
							    m->entries[k].value->len);
				doc_release(&env);
			}
			gs_buf_reset(&plain);
			free(key);
			free(rel);
			key = rel = NULL;
		}
	}
	gs_buf_release(&plain);
	if (ret)
		return ret;
	/* KSOPS marshals the Secret from a Go map: every map's keys sorted */
	meta = s->metadata ? doc_clone(d, s->metadata) : doc_new_map(d);
	if (meta)
		sort_keys(meta, 0);
	if (!meta || !doc_append(d, secret, "apiVersion", 10, str_node(d, "v1")) ||
	    (data->count && !doc_append(d, secret, "data", 4, data)) ||
	    !doc_append(d, secret, "kind", 4, str_node(d, "Secret")) ||
	    !doc_append(d, secret, "metadata", 8, meta) ||
	    (string_data->count && !doc_append(d, secret, "stringData", 10, string_data)) ||
	    (s->type && !doc_append(d, secret, "type", 4, str_node(d, s->type))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (!doc_append(d, items, NULL, 0, secret))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

int k8s_generator_run(const struct k8s_generator *g, const struct k8s_root *root,
		      const char *base_rel, const struct age_identity_list *ids, struct doc *out_doc,
		      struct doc_node *items)
{
	int ret = 0;

	for (size_t i = 0; !ret && g->files && i < g->files->count; i++) {
		const struct doc_node *v = g->files->entries[i].value;

		if (g->files->entries[i].removed || v->kind != DOC_SCALAR)
			continue;
		ret = add_manifests(root, base_rel, v->text, ids, out_doc, items);
		if (ret)
			gs_error_prefix("'%s'", v->text);
	}
	for (size_t i = 0; !ret && i < g->secret_from_count; i++)
		ret = secret_from_run(&g->secret_from[i], root, base_rel, ids, out_doc, items);
	return ret;
}
