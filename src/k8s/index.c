#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "k8s_int.h"

#define ENC_PREFIX SOPS_ENC_AES256_GCM

bool k8s_is_enc_value(const struct doc_node *n)
{
	return n->kind == DOC_SCALAR && n->type == DOC_STR && n->len >= sizeof(ENC_PREFIX) - 1 &&
	       !memcmp(n->text, ENC_PREFIX, sizeof(ENC_PREFIX) - 1);
}

void k8s_cipher_index_init(struct k8s_cipher_index *ix)
{
	memset(ix, 0, sizeof(*ix));
}

void k8s_cipher_index_release(struct k8s_cipher_index *ix)
{
	for (size_t i = 0; i < ix->count; i++)
		free(ix->items[i].path);
	free(ix->items);
	k8s_cipher_index_init(ix);
}

/* Key paths are kept as "len:key" segments so that keys holding ':' can
 * never make two different paths equal. */
static int path_push(struct gs_buf *p, const char *key, size_t len)
{
	int ret = gs_buf_printf(p, "%zu:", len);

	return ret ? ret : gs_buf_append(p, key, len);
}

static bool skip_entry(const struct doc_entry *e)
{
	return e->removed || e->value->kind == DOC_COMMENT;
}

/* A list element's place in a path, which sops's AAD leaves out (the MAC
 * fixes the order): its name when it has one in clear (containers, env,
 * volumes: kustomize merges and inserts such elements by name, so their
 * positions move), else its position among the list's elements. "[" opens
 * it, where a key's segment opens with a digit. Two elements of one name
 * share a place: a patch adding a second one gains nothing over changing
 * the first one's fields in clear, which a patch can do anyway. */
static int element_push(struct gs_buf *p, const struct doc_node *elem, size_t pos)
{
	const struct doc_node *name = k8s_map_get(elem, "name");
	int ret;

	if (!name || name->kind != DOC_SCALAR || name->type != DOC_STR || k8s_is_enc_value(name))
		return gs_buf_printf(p, "[%zu]", pos);
	ret = gs_buf_printf(p, "[=%zu:", name->len);
	if (!ret)
		ret = gs_buf_append(p, name->text, name->len);
	return ret ? ret : gs_buf_append(p, "]", 1);
}

/* A map entry's key, or a list element's place. */
static int segment_push(struct gs_buf *p, const struct doc_node *parent, const struct doc_entry *e,
			size_t pos)
{
	if (parent->kind == DOC_LIST)
		return element_push(p, e->value, pos);
	return path_push(p, e->key, e->key_len);
}

/* The top-level sops entry is metadata, not data. */
static bool skip_at(const struct doc_entry *e, int depth)
{
	return skip_entry(e) || (depth == 0 && sops_is_metadata_key(e->key, e->key_len));
}

static int index_walk(struct k8s_cipher_index *ix, const struct doc_node *enc,
		      const struct doc_node *plain, struct gs_buf *path, int depth)
{
	size_t i = 0, j = 0, pos = 0, mark = path->len;
	int ret = 0;

	if (depth > K8S_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "document nested too deeply");
	if (enc->kind == DOC_SCALAR) {
		struct k8s_cipher *c;

		if (!k8s_is_enc_value(enc))
			return 0;
		if (plain->kind != DOC_SCALAR)
			return GS_FAIL(GS_ERR_PARSE, "decrypted document differs in shape");
		if ((ret = GS_ARRAY_GROW(ix->items, ix->count, ix->cap, 16)) < 0)
			return ret;
		c = &ix->items[ix->count];
		c->path = gs_malloc(path->len + 1);
		if (!c->path)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		memcpy(c->path, path->data, path->len);
		c->path[path->len] = '\0';
		c->path_len = path->len;
		c->enc = enc->text;
		c->enc_len = enc->len;
		c->plain = plain;
		ix->count++;
		return 0;
	}
	if (enc->kind != plain->kind)
		return GS_FAIL(GS_ERR_PARSE, "decrypted document differs in shape");
	if (enc->kind != DOC_MAP && enc->kind != DOC_LIST)
		return 0;
	for (;;) {
		while (i < enc->count && skip_at(&enc->entries[i], depth))
			i++;
		while (j < plain->count && skip_at(&plain->entries[j], depth))
			j++;
		if (i == enc->count || j == plain->count)
			break;
		if (enc->kind == DOC_MAP) {
			const struct doc_entry *a = &enc->entries[i], *b = &plain->entries[j];

			if (!a->key || !b->key || a->key_len != b->key_len ||
			    memcmp(a->key, b->key, a->key_len))
				return GS_FAIL(GS_ERR_PARSE, "decrypted document differs in shape");
		}
		ret = segment_push(path, enc, &enc->entries[i], pos++);
		if (!ret)
			ret = index_walk(ix, enc->entries[i].value, plain->entries[j].value, path, depth + 1);
		path->len = mark;
		if (ret)
			return ret;
		i++;
		j++;
	}
	if (i != enc->count || j != plain->count)
		return GS_FAIL(GS_ERR_PARSE, "decrypted document differs in shape");
	return 0;
}

int k8s_cipher_index_add(struct k8s_cipher_index *ix, const struct doc_node *enc,
			 const struct doc_node *plain)
{
	struct gs_buf path;
	int ret;

	gs_buf_init(&path, false);
	ret = index_walk(ix, enc, plain, &path, 0);
	gs_buf_release(&path);
	return ret;
}

const struct k8s_cipher *k8s_cipher_index_find(const struct k8s_cipher_index *ix, const char *path,
					       size_t path_len, const char *enc, size_t enc_len)
{
	for (size_t i = 0; i < ix->count; i++) {
		const struct k8s_cipher *c = &ix->items[i];

		/* ciphertexts are public; a plain comparison leaks nothing */
		if (c->path_len == path_len && c->enc_len == enc_len &&
		    !memcmp(c->enc, enc, enc_len) && !memcmp(c->path, path, path_len))
			return c;
	}
	return NULL;
}

struct describe {
	char *out;
	size_t cap, len;
};

static void describe_put(struct describe *w, const char *text, size_t len)
{
	for (size_t k = 0; k < len && w->len + 1 < w->cap; k++)
		w->out[w->len++] = text[k];
	w->out[w->len] = '\0';
}

/* One segment of a path for a message: a key, "[3]" or "[name=web]";
 * returns where the next begins. */
static size_t segment_describe(const char *p, size_t len, size_t i, struct describe *w)
{
	bool element = p[i] == '[', named = element && i + 1 < len && p[i + 1] == '=';
	size_t start = i + element + named, klen;
	const char *colon = memchr(p + start, ':', len - start);
	const char *close = memchr(p + i, ']', len - i);

	if (element && !named) {
		size_t end = close ? (size_t)(close - p) + 1 : len;

		describe_put(w, p + i, end - i);
		return end;
	}
	if (!colon)
		return len;
	klen = strtoul(p + start, NULL, 10);
	i = (size_t)(colon - p) + 1;
	if (klen > len - i)
		klen = len - i;
	describe_put(w, named ? "[name=" : "", named ? 6 : 0);
	describe_put(w, p + i, klen);
	describe_put(w, "]", named);
	return i + klen + named;
}

/* Segments back to "a:b:[name=web]:c", for an error message (keys and
 * element names only). */
static void path_describe(const char *p, size_t len, char *out, size_t cap)
{
	struct describe w = { out, cap, 0 };
	size_t i = 0;

	if (!cap)
		return;
	out[0] = '\0';
	while (i < len) {
		describe_put(&w, ":", i != 0);
		i = segment_describe(p, len, i, &w);
	}
}

static int decrypt_walk(struct doc *d, struct doc_node *n, const struct k8s_cipher_index *ix,
			struct gs_buf *path, char *bad, size_t bad_cap, int depth)
{
	size_t mark = path->len;
	int ret = 0;

	if (depth > K8S_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "document nested too deeply");
	if (n->kind == DOC_SCALAR) {
		const struct k8s_cipher *c;

		if (!k8s_is_enc_value(n))
			return 0;
		/* readers go by a tag (!!binary, !!null), which no MAC covers: the
		 * source's value has none (the engine refuses one), so the built
		 * resource's may not either */
		if (n->tag) {
			path_describe((const char *)path->data, path->len, bad, bad_cap);
			return GS_FAIL(GS_ERR_MAC_MISMATCH, "encrypted value at '%s' carries a YAML tag",
				       gs_shown(bad));
		}
		c = k8s_cipher_index_find(ix, (const char *)path->data, path->len, n->text, n->len);
		if (!c) {
			path_describe((const char *)path->data, path->len, bad, bad_cap);
			return GS_FAIL(GS_ERR_MAC_MISMATCH,
				       "encrypted value at '%s' is not the verified source's", gs_shown(bad));
		}
		return doc_scalar_set(d, n, c->plain->type, c->plain->text, c->plain->len);
	}
	if (n->kind != DOC_MAP && n->kind != DOC_LIST)
		return 0;
	for (size_t i = 0, pos = 0; i < n->count; i++) {
		struct doc_entry *e = &n->entries[i];

		if (skip_at(e, depth))
			continue;
		ret = segment_push(path, n, e, pos++);
		if (!ret)
			ret = decrypt_walk(d, e->value, ix, path, bad, bad_cap, depth + 1);
		path->len = mark;
		if (ret)
			return ret;
	}
	return 0;
}

int k8s_resource_decrypt(struct doc *d, struct doc_node *root, const struct k8s_cipher_index *ix,
			 char *bad_path, size_t bad_path_cap)
{
	struct gs_buf path;
	int ret;

	if (bad_path_cap)
		bad_path[0] = '\0';
	gs_buf_init(&path, false);
	ret = decrypt_walk(d, root, ix, &path, bad_path, bad_path_cap, 0);
	gs_buf_release(&path);
	return ret;
}

bool k8s_resource_strip_sops(struct doc_node *root)
{
	struct doc_entry *e = root->kind == DOC_MAP ? doc_map_find(root, SOPS_METADATA_KEY) : NULL;

	if (e)
		e->removed = true;
	return e != NULL;
}

struct doc_node *k8s_map_get(const struct doc_node *map, const char *key)
{
	struct doc_entry *e;

	if (!map || map->kind != DOC_MAP)
		return NULL;
	e = doc_map_find(map, key);
	return e ? e->value : NULL;
}

const char *k8s_map_str(const struct doc_node *map, const char *key)
{
	const struct doc_node *v = k8s_map_get(map, key);

	return v && v->kind == DOC_SCALAR && v->type == DOC_STR ? v->text : NULL;
}

char *k8s_path_join(const char *dir, const char *rel)
{
	char *p = NULL;

	if (rel[0] == '/' || !dir || !dir[0])
		return gs_strdup(rel);
	if (gs_asprintf(&p, "%s/%s", dir, rel) < 0)
		return NULL;
	return p;
}
