#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/base64.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
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

/* A sops file read beneath the root and opened (MAC checked); with
 * tracking, the encrypted tree as loaded is kept beside it: what was
 * ciphertext in it is what is tracked. */
struct opened {
	enum doc_format format;
	struct doc cipher;
	struct sops_file *file;
};

static void opened_init(struct opened *o)
{
	o->format = DOC_FORMAT_YAML;
	doc_init(&o->cipher, o->format);
	o->file = NULL;
}

/* o: initialized (opened_init), released by the caller. */
static int file_open(const struct k8s_root *root, const char *base_rel, const char *path,
		     const struct age_identity_list *ids, bool keep_cipher, struct opened *o)
{
	struct sops_open_opts oo = { .ids = ids };
	struct gs_buf text;
	struct doc d;
	int ret;

	gs_buf_init(&text, false);
	ret = file_read(root, base_rel, path, &text, &oo.format);
	o->format = oo.format;
	o->cipher.format = oo.format;
	doc_init(&d, oo.format);
	if (!ret)
		ret = store_load_buf(oo.format, &text, &d);
	if (!ret && keep_cipher)
		ret = k8s_doc_copy(&o->cipher, &d);
	if (!ret)
		ret = sops_file_open_doc(&d, &oo, &o->file);
	doc_release(&d);
	gs_buf_release(&text);
	return ret;
}

static void opened_release(struct opened *o)
{
	sops_file_free(o->file);
	doc_release(&o->cipher);
}

/* KSOPS's files: every document of a decrypted manifest file becomes an
 * item (the tree the file pipeline opened, MAC checked); the values of
 * its v1 Secrets that were ciphertext, tracked. */
static int add_manifests(const struct k8s_root *root, const char *base_rel, const char *path,
			 const struct age_identity_list *ids, struct gs_secret_set *track,
			 struct doc *out_doc, struct doc_node *items)
{
	struct opened o;
	const struct doc *plain;
	int ret;

	opened_init(&o);
	ret = file_open(root, base_rel, path, ids, track != NULL, &o);
	if (ret)
		goto out;
	plain = sops_file_doc(o.file);
	for (size_t b = 0; b < plain->count; b++) {
		struct doc_node *c;

		if (sops_file_keys(o.file)->selection.mac_only_encrypted &&
		    (ret = k8s_check_unauthenticated_kind(plain->branches[b]))) {
			gs_error_prefix("document %zu", b + 1);
			goto out;
		}
		if (!(c = doc_clone(out_doc, plain->branches[b])) || !doc_append(out_doc, items, NULL, 0, c)) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (track)
		ret = k8s_track_sops(track, &o.cipher, plain, NULL, K8S_TRACK_SECRETS);
out:
	opened_release(&o);
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

/* The three lists of a secretFrom, in the order KSOPS reads them. */
enum secret_source { SOURCE_FILES, SOURCE_BINARY_FILES, SOURCE_ENVS, SOURCE_COUNT };

/* How kustomize reads what each list hands it (track.c). */
static const unsigned source_uses[SOURCE_COUNT] = {
	[SOURCE_FILES] = K8S_TRACK_WHOLE,
	[SOURCE_BINARY_FILES] = K8S_TRACK_WHOLE,
	[SOURCE_ENVS] = K8S_TRACK_ENV_PARSED,
};

/* One entry of a list decrypted into plain (what was ciphertext in it
 * tracked when track is set): a files/binaryFiles entry is "key=path" or
 * a path (its base name the key); an envs entry is a path. */
static int source_decrypt(enum secret_source which, const char *entry,
			  const struct k8s_root *root, const char *base_rel,
			  const struct age_identity_list *ids, struct gs_secret_set *track,
			  char **key, char **rel, struct gs_buf *plain)
{
	struct sops_emit_opts eo = { .drop_source = true };
	struct opened o;
	int ret;

	opened_init(&o);
	if (which == SOURCE_ENVS) {
		*rel = gs_strdup(entry);
		ret = *rel ? 0 : GS_FAIL(GS_ERR_NOMEM, "out of memory");
	} else {
		ret = k8s_file_key_path(entry, key, rel);
	}
	if (ret)
		goto out;
	ret = file_open(root, base_rel, *rel, ids, track != NULL, &o);
	/* the env parser takes what precedes '=' or ':' on a line as a key:
	 * a YAML block scalar's line would become a key name, which nothing
	 * masks */
	if (!ret && which == SOURCE_ENVS && o.format != DOC_FORMAT_DOTENV)
		ret = GS_FAIL(GS_ERR_USAGE, "not a dotenv file: secretFrom envs would publish its lines as key "
					    "names (use files:, or a dotenv file)");
	if (!ret)
		ret = sops_plain_emit(sops_file_doc(o.file), o.format, &eo, plain);
	if (!ret && track)
		ret = k8s_track_sops(track, &o.cipher, sops_file_doc(o.file), plain, source_uses[which]);
out:
	opened_release(&o);
	if (ret)
		gs_error_prefix("'%s'", gs_shown(*rel ? *rel : entry));
	return ret;
}

/* A binary file goes to data, base64-encoded as Kubernetes keeps it. */
static int put_binary(struct doc *d, struct doc_node *data, const char *key,
		      const struct gs_buf *plain)
{
	size_t cap = GS_BASE64_LEN(plain->len) + 1;
	char *b64 = gs_arena_alloc(&d->arena, cap);

	if (!b64)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	gs_base64_encode(plain->data, plain->len, b64, cap);
	return sorted_insert(d, data, key, strlen(key), b64, strlen(b64));
}

/* An env file's variables go to stringData, one key each. */
static int put_env_file(struct doc *d, struct doc_node *string_data, const char *rel,
			const struct gs_buf *plain)
{
	struct doc env;
	struct doc_node *m;
	int ret;

	doc_init(&env, DOC_FORMAT_DOTENV);
	m = doc_new_map(&env);
	ret = m ? k8s_dotenv_parse(&env, m, (const char *)plain->data, plain->len)
		: GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (ret) {
		gs_error_prefix("'%s'", gs_shown(rel));
		goto out;
	}
	for (size_t k = 0; k < m->count; k++) {
		ret = sorted_insert(d, string_data, m->entries[k].key, m->entries[k].key_len,
				    m->entries[k].value->text, m->entries[k].value->len);
		if (ret)
			goto out;
	}
out:
	doc_release(&env);
	return ret;
}

static int put_source(enum secret_source which, struct doc *d, struct doc_node *data,
		      struct doc_node *string_data, const char *key, const char *rel,
		      const struct gs_buf *plain)
{
	switch (which) {
	case SOURCE_FILES:
		return sorted_insert(d, string_data, key, strlen(key), (const char *)plain->data,
				     plain->len);
	case SOURCE_BINARY_FILES:
		return put_binary(d, data, key, plain);
	default:
		return put_env_file(d, string_data, rel, plain);
	}
}

/* Every entry of the three lists decrypted into data and stringData. */
static int secret_put_sources(const struct k8s_secret_from *s, const struct k8s_root *root,
			      const char *base_rel, const struct age_identity_list *ids,
			      struct gs_secret_set *track, struct doc *d, struct doc_node *data,
			      struct doc_node *string_data)
{
	const struct doc_node *lists[SOURCE_COUNT] = {
		[SOURCE_FILES] = s->files,
		[SOURCE_BINARY_FILES] = s->binary_files,
		[SOURCE_ENVS] = s->envs,
	};
	struct gs_buf plain;
	int ret = 0;

	gs_buf_init(&plain, true);
	for (int which = 0; which < SOURCE_COUNT; which++) {
		const struct doc_node *l = lists[which];

		for (size_t i = 0; l && i < l->count; i++) {
			const struct doc_node *v = l->entries[i].value;
			char *key = NULL, *rel = NULL;

			if (l->entries[i].removed || v->kind != DOC_SCALAR)
				continue;
			ret = source_decrypt(which, v->text, root, base_rel, ids, track, &key, &rel,
					     &plain);
			if (!ret)
				ret = put_source(which, d, data, string_data, key, rel, &plain);
			gs_buf_reset(&plain);
			free(key);
			free(rel);
			if (ret)
				goto out;
		}
	}
out:
	gs_buf_release(&plain);
	return ret;
}

/* The Secret itself, its keys in the order KSOPS marshals them: from a Go
 * map, every map's keys sorted. */
static int secret_append(const struct k8s_secret_from *s, struct doc *d, struct doc_node *data,
			 struct doc_node *string_data, struct doc_node *items)
{
	struct doc_node *secret = doc_new_map(d);
	struct doc_node *meta = s->metadata ? doc_clone(d, s->metadata) : doc_new_map(d);

	if (meta)
		sort_keys(meta, 0);
	if (!secret || !meta || !doc_append(d, secret, "apiVersion", 10, str_node(d, "v1")) ||
	    (data->count && !doc_append(d, secret, "data", 4, data)) ||
	    !doc_append(d, secret, "kind", 4, str_node(d, "Secret")) ||
	    !doc_append(d, secret, "metadata", 8, meta) ||
	    (string_data->count && !doc_append(d, secret, "stringData", 10, string_data)) ||
	    (s->type && !doc_append(d, secret, "type", 4, str_node(d, s->type))) ||
	    !doc_append(d, items, NULL, 0, secret))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

static int secret_from_run(const struct k8s_secret_from *s, const struct k8s_root *root,
			   const char *base_rel, const struct age_identity_list *ids,
			   struct gs_secret_set *track, struct doc *d, struct doc_node *items)
{
	struct doc_node *string_data = doc_new_map(d), *data = doc_new_map(d);
	int ret;

	if (!string_data || !data)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	ret = secret_put_sources(s, root, base_rel, ids, track, d, data, string_data);
	if (ret)
		return ret;
	return secret_append(s, d, data, string_data, items);
}

int k8s_generator_run(const struct k8s_generator *g, const struct k8s_root *root,
		      const char *base_rel, const struct age_identity_list *ids,
		      struct gs_secret_set *track, struct doc *out_doc, struct doc_node *items)
{
	int ret;

	for (size_t i = 0; g->files && i < g->files->count; i++) {
		const struct doc_node *v = g->files->entries[i].value;

		if (g->files->entries[i].removed || v->kind != DOC_SCALAR)
			continue;
		ret = add_manifests(root, base_rel, v->text, ids, track, out_doc, items);
		if (ret) {
			gs_error_prefix("'%s'", gs_shown(v->text));
			return ret;
		}
	}
	for (size_t i = 0; i < g->secret_from_count; i++) {
		ret = secret_from_run(&g->secret_from[i], root, base_rel, ids, track, out_doc, items);
		if (ret)
			return ret;
	}
	return 0;
}
