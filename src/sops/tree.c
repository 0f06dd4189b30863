/* Encrypting and decrypting a document tree under a known data key (spec
 * 1, 3.3, 4), and the reuse of a previous version's ciphertexts (spec 2.5
 * made durable): each unchanged value keeps its exact ciphertext, and when
 * nothing changed lastmodified and mac are kept, so the file is
 * byte-identical. Key wrapping is in engine.c. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "sops_int.h"

/* ---- the stash: every leaf of a previous version, in walk order ---- */

struct stash_item {
	const char *aad;
	size_t aad_len;
	enum sops_value_type type;
	const uint8_t *plain; /* canonical typed plaintext, secure arena */
	size_t plain_len;
	const char *enc;      /* ciphertext as stored (borrowed), NULL if plaintext */
	size_t enc_len;
	bool selected;
	bool is_comment;
	uint32_t hash;
	size_t next;          /* bucket chain, SIZE_MAX ends */
};

struct sops_stash {
	struct gs_arena arena;
	struct stash_item *items;
	size_t count, cap;
	size_t *buckets;
	size_t nbuckets;
};

static void stash_init(struct sops_stash *s)
{
	memset(s, 0, sizeof(*s));
	gs_arena_init(&s->arena);
}

static void stash_release(struct sops_stash *s)
{
	gs_arena_release(&s->arena);
	free(s->items);
	free(s->buckets);
	memset(s, 0, sizeof(*s));
}

static uint32_t fnv1a(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static uint32_t item_hash(const char *aad, size_t aad_len, enum sops_value_type type,
			  const uint8_t *plain, size_t plain_len)
{
	uint32_t h = fnv1a(2166136261u, aad, aad_len);
	uint8_t t = (uint8_t)type;

	h = fnv1a(h, &t, 1);
	return fnv1a(h, plain, plain_len);
}

static int stash_add(struct sops_stash *s, const struct sops_leaf *leaf, enum sops_value_type type,
		     const uint8_t *plain, size_t plain_len, const char *enc, size_t enc_len)
{
	struct stash_item *it;

	if (s->count == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct stash_item *p = realloc(s->items, ncap * sizeof(*p));

		if (!p)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		s->items = p;
		s->cap = ncap;
	}
	it = &s->items[s->count];
	it->aad = gs_arena_strndup(&s->arena, leaf->aad, leaf->aad_len);
	it->plain = (const uint8_t *)gs_arena_strndup(&s->arena, (const char *)plain, plain_len);
	if (!it->aad || !it->plain)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	it->aad_len = leaf->aad_len;
	it->type = type;
	it->plain_len = plain_len;
	it->enc = enc;
	it->enc_len = enc_len;
	it->selected = leaf->selected;
	it->is_comment = leaf->is_comment || type == SOPS_TYPE_COMMENT;
	it->hash = item_hash(leaf->aad, leaf->aad_len, type, plain, plain_len);
	s->count++;
	return 0;
}

static int stash_index(struct sops_stash *s)
{
	size_t n = 16;

	while (n < s->count * 2)
		n *= 2;
	s->buckets = malloc(n * sizeof(*s->buckets));
	if (!s->buckets)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	s->nbuckets = n;
	for (size_t i = 0; i < n; i++)
		s->buckets[i] = SIZE_MAX;
	for (size_t i = 0; i < s->count; i++) {
		size_t b = s->items[i].hash & (n - 1);

		s->items[i].next = s->buckets[b];
		s->buckets[b] = i;
	}
	return 0;
}

static bool item_equal(const struct stash_item *it, const char *aad, size_t aad_len,
		       enum sops_value_type type, const uint8_t *plain, size_t plain_len)
{
	return it->type == type && it->aad_len == aad_len && it->plain_len == plain_len &&
	       memcmp(it->aad, aad, aad_len) == 0 &&
	       (plain_len == 0 || sodium_memcmp(it->plain, plain, plain_len) == 0);
}

/* A previous ciphertext of the same (AAD, typed plaintext) under the same
 * data key: re-using it reveals nothing new (same key, IV, AAD and text). */
static const struct stash_item *stash_find(const struct sops_stash *s, const char *aad, size_t aad_len,
					   enum sops_value_type type, const uint8_t *plain,
					   size_t plain_len)
{
	uint32_t h;

	if (!s || !s->nbuckets)
		return NULL;
	h = item_hash(aad, aad_len, type, plain, plain_len);
	for (size_t i = s->buckets[h & (s->nbuckets - 1)]; i != SIZE_MAX; i = s->items[i].next) {
		const struct stash_item *it = &s->items[i];

		if (it->hash == h && it->enc && item_equal(it, aad, aad_len, type, plain, plain_len))
			return it;
	}
	return NULL;
}

/* ---- decryption ---- */

struct decrypt_ctx {
	struct doc *d;
	const uint8_t *key;
	struct sops_mac mac;
	struct gs_buf plain, canon;
	bool modify;
	struct sops_stash *stash;
};

static bool hashed(const struct sops_mac *m, const struct sops_leaf *leaf, bool is_comment)
{
	/* spec 4.1: comments never; plaintext leaves unless mac_only_encrypted */
	return !is_comment && (leaf->selected || !m->only_encrypted);
}

static int decrypt_leaf(void *vctx, struct sops_leaf *leaf)
{
	struct decrypt_ctx *c = vctx;
	struct doc_node *n = leaf->node;
	enum sops_value_type type = SOPS_TYPE_STR;
	const char *enc = NULL;
	size_t enc_len = 0;
	int ret;

	if (!leaf->selected || (n->kind == DOC_SCALAR && n->len == 0 && n->type == DOC_STR)) {
		if ((ret = sops_node_plaintext(n, &c->canon, &type)) < 0)
			return ret;
	} else if (leaf->is_comment) {
		/* Comments from before comment encryption stay as they are
		 * (spec 3.3). */
		type = SOPS_TYPE_COMMENT;
		if (sops_enc_looks_encrypted(n->text, n->len) &&
		    sops_value_decrypt(c->key, n->text, n->len, leaf->aad, leaf->aad_len, &c->plain,
				       &type) == 0) {
			enc = n->text;
			enc_len = n->len;
			if ((ret = gs_buf_append(&c->canon, c->plain.data, c->plain.len)) < 0)
				return ret;
			type = SOPS_TYPE_COMMENT;
			if (c->modify && (ret = sops_node_set_canonical(c->d, n, type, c->canon.data,
									  c->canon.len)) < 0)
				return ret;
		} else {
			gs_error_clear();
			if ((ret = sops_node_plaintext(n, &c->canon, &type)) < 0)
				return ret;
		}
	} else {
		if (n->kind != DOC_SCALAR || n->type != DOC_STR)
			return GS_FAIL(GS_ERR_DECRYPT_VALUE,
				       "value at '%.*s' is not encrypted: expected an encrypted string",
				       (int)(leaf->aad_len > 200 ? 200 : leaf->aad_len), leaf->aad);
		/* a tag is outside the MAC, and readers go by it (!!null reads
		 * as null, !!binary as bytes): an encrypted value has none */
		if (n->tag)
			return GS_FAIL(GS_ERR_MAC_MISMATCH,
				       "value at '%.*s' carries a YAML tag, which the MAC does not cover",
				       (int)(leaf->aad_len > 200 ? 200 : leaf->aad_len), leaf->aad);
		ret = sops_value_decrypt(c->key, n->text, n->len, leaf->aad, leaf->aad_len, &c->plain,
					 &type);
		if (ret == 0)
			ret = sops_plaintext_canonical(type, c->plain.data, c->plain.len, &c->canon);
		if (ret < 0) {
			gs_error_prefix("value at '%.*s'", (int)(leaf->aad_len > 200 ? 200 : leaf->aad_len),
					leaf->aad);
			return GS_ERR_DECRYPT_VALUE;
		}
		enc = n->text;
		enc_len = n->len;
		if (c->modify &&
		    (ret = sops_node_set_canonical(c->d, n, type, c->canon.data, c->canon.len)) < 0)
			return ret;
	}
	gs_buf_reset(&c->plain);
	if (hashed(&c->mac, leaf, leaf->is_comment || type == SOPS_TYPE_COMMENT) &&
	    (ret = sops_mac_update(&c->mac, c->canon.data, c->canon.len)) < 0)
		return ret;
	if (c->stash && (ret = stash_add(c->stash, leaf, type, c->canon.data, c->canon.len, enc,
					 enc_len)) < 0)
		return ret;
	gs_buf_reset(&c->canon);
	return 0;
}

static void mark_metadata_removed(struct doc *d)
{
	for (size_t b = 0; b < d->count; b++) {
		struct doc_node *root = d->branches[b];

		if (!root || root->kind != DOC_MAP)
			continue;
		for (size_t i = 0; i < root->count; i++)
			if (root->entries[i].key && root->entries[i].key_len == 4 &&
			    memcmp(root->entries[i].key, "sops", 4) == 0)
				root->entries[i].removed = true;
	}
}

/* Walks, decrypts (when modify), hashes and checks the MAC. */
static int decrypt_tree(struct doc *d, const struct sops_metadata *m, const uint8_t *key,
			bool ignore_mac, bool modify, struct sops_stash *stash, char hex[129])
{
	struct decrypt_ctx c;
	struct sops_selector sel;
	int ret;

	memset(&c, 0, sizeof(c));
	c.d = d;
	c.key = key;
	c.modify = modify;
	c.stash = stash;
	gs_buf_init(&c.plain, true);
	gs_buf_init(&c.canon, true);
	if ((ret = sops_selector_init(&sel, &m->selection)) < 0)
		return ret;
	if ((ret = sops_mac_init(&c.mac, m->selection.mac_only_encrypted)) < 0)
		goto out;
	if ((ret = sops_walk(d, &sel, decrypt_leaf, &c)) < 0)
		goto out;
	if ((ret = sops_mac_final(&c.mac, hex)) < 0)
		goto out;
	if (!ignore_mac)
		ret = sops_mac_check(key, m->mac, m->mac_len, m->lastmodified, m->lastmodified_len, hex);
out:
	sops_mac_release(&c.mac);
	sops_selector_release(&sel);
	gs_buf_release(&c.plain);
	gs_buf_release(&c.canon);
	return ret;
}

int sops_decrypt_doc_with_key(struct doc *d, const uint8_t key[SOPS_DATA_KEY_SIZE],
			      const struct sops_decrypt_opts *opts)
{
	struct sops_metadata m;
	char hex[129];
	int ret;

	if ((ret = sops_metadata_read(d, &m)) < 0)
		return ret;
	ret = decrypt_tree(d, &m, key, opts && opts->ignore_mac, true, NULL, hex);
	sops_metadata_release(&m);
	if (ret == 0)
		mark_metadata_removed(d);
	return ret;
}

bool sops_doc_is_encrypted(const struct doc *d)
{
	return sops_metadata_entry(d) != NULL;
}

/* ---- encryption ---- */

struct encrypt_ctx {
	struct doc *d;
	const uint8_t *key;
	struct sops_mac mac;
	struct gs_buf plain, enc;
	const struct sops_stash *prev; /* NULL: no reuse */
	size_t pos;
	bool unchanged;
};

static int encrypt_leaf(void *vctx, struct sops_leaf *leaf)
{
	struct encrypt_ctx *c = vctx;
	struct doc_node *n = leaf->node;
	enum sops_value_type type;
	const struct stash_item *old;
	int ret;

	if ((ret = sops_node_plaintext(n, &c->plain, &type)) < 0)
		return ret;
	if (c->prev) {
		const struct stash_item *it = c->pos < c->prev->count ? &c->prev->items[c->pos] : NULL;

		if (!it || it->selected != leaf->selected || it->is_comment != leaf->is_comment ||
		    !item_equal(it, leaf->aad, leaf->aad_len, type, c->plain.data, c->plain.len))
			c->unchanged = false;
		c->pos++;
	}
	if (hashed(&c->mac, leaf, leaf->is_comment) &&
	    (ret = sops_mac_update(&c->mac, c->plain.data, c->plain.len)) < 0)
		return ret;
	/* spec 2.4: empty strings and comments are never encrypted */
	if (!leaf->selected || c->plain.len == 0)
		return 0;
	gs_buf_reset(&c->enc);
	old = stash_find(c->prev, leaf->aad, leaf->aad_len, type, c->plain.data, c->plain.len);
	if (old)
		ret = gs_buf_append(&c->enc, old->enc, old->enc_len);
	else
		ret = sops_value_encrypt(c->key, c->plain.data, c->plain.len, type, leaf->aad,
					 leaf->aad_len, NULL, 0, &c->enc);
	gs_buf_reset(&c->plain);
	if (ret < 0)
		return ret;
	if ((ret = doc_scalar_set(c->d, n, DOC_STR, (const char *)c->enc.data, c->enc.len)) < 0)
		return ret;
	/* sops walkSlice: an encrypted comment in a list becomes a list item */
	if (leaf->is_comment && leaf->container->kind == DOC_LIST)
		n->kind = DOC_SCALAR;
	return 0;
}

static int encrypt_tree(struct doc *d, const uint8_t *key, const struct sops_selection *sel,
			const struct sops_stash *prev, bool *unchanged, char hex[129])
{
	struct encrypt_ctx c;
	struct sops_selector s;
	int ret;

	memset(&c, 0, sizeof(c));
	c.d = d;
	c.key = key;
	c.prev = prev;
	c.unchanged = prev != NULL;
	gs_buf_init(&c.plain, true);
	gs_buf_init(&c.enc, false);
	if ((ret = sops_selector_init(&s, sel)) < 0)
		return ret;
	if ((ret = sops_mac_init(&c.mac, sel->mac_only_encrypted)) < 0)
		goto out;
	if ((ret = sops_walk(d, &s, encrypt_leaf, &c)) < 0)
		goto out;
	if (prev && c.pos != prev->count)
		c.unchanged = false;
	*unchanged = c.unchanged;
	ret = sops_mac_final(&c.mac, hex);
out:
	sops_mac_release(&c.mac);
	sops_selector_release(&s);
	gs_buf_release(&c.plain);
	gs_buf_release(&c.enc);
	return ret;
}

static void default_selection(const struct doc *d, const struct sops_selection *in,
			      struct sops_selection *out)
{
	*out = *in;
	/* spec 3.2: the binary store clears the six options and adds no
	 * default (isSingleValueStore); the others default to _unencrypted */
	if (d->format == DOC_FORMAT_BINARY) {
		out->kind = SOPS_SEL_NONE;
		out->value = NULL;
	} else if (out->kind == SOPS_SEL_NONE) {
		out->kind = SOPS_SEL_UNENCRYPTED_SUFFIX;
		out->value = (char *)"_unencrypted";
	}
}

static int finish_metadata(struct doc *d, const uint8_t *key, const struct sops_meta_group *groups,
			   size_t group_count, int shamir_threshold, const struct sops_selection *sel, const char *lastmodified,
			   const char hex[129], const char *kept_mac, const char *version)
{
	struct gs_buf mac;
	struct sops_metadata_out out;
	int ret = 0;

	gs_buf_init(&mac, false);
	if (!kept_mac && (ret = sops_mac_encrypt(key, hex, lastmodified, &mac)) < 0)
		goto out;
	memset(&out, 0, sizeof(out));
	out.groups = groups;
	out.group_count = group_count;
	out.shamir_threshold = shamir_threshold;
	out.selection = sel;
	out.lastmodified = lastmodified;
	out.mac = kept_mac ? kept_mac : (const char *)mac.data;
	out.version = version ? version : SOPS_VERSION;
	ret = sops_metadata_write(d, &out);
out:
	gs_buf_release(&mac);
	return ret;
}

int sops_previous_open_with_key(struct doc *prev, const uint8_t key[SOPS_DATA_KEY_SIZE],
				struct sops_previous *p)
{
	char hex[129];
	int ret;

	memset(p, 0, sizeof(*p));
	if (!(p->key = gs_secure_alloc(SOPS_DATA_KEY_SIZE)) || !(p->stash = calloc(1, sizeof(*p->stash))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	memcpy(p->key, key, SOPS_DATA_KEY_SIZE);
	stash_init(p->stash);
	if ((ret = sops_metadata_read(prev, &p->meta)) < 0)
		return ret;
	/* the previous version must itself verify before anything is reused */
	if ((ret = decrypt_tree(prev, &p->meta, p->key, false, false, p->stash, hex)) < 0)
		return ret;
	return stash_index(p->stash);
}

void sops_previous_release(struct sops_previous *p)
{
	sops_metadata_release(&p->meta);
	gs_secure_free(p->key);
	if (p->stash)
		stash_release(p->stash);
	free(p->stash);
	memset(p, 0, sizeof(*p));
}

static bool same_selection(const struct sops_selection *a, const struct sops_selection *b)
{
	return a->kind == b->kind && a->mac_only_encrypted == b->mac_only_encrypted &&
	       strcmp(a->value ? a->value : "", b->value ? b->value : "") == 0;
}

int sops_encrypt_with_key(struct doc *d, const uint8_t key[SOPS_DATA_KEY_SIZE],
			  const struct sops_meta_group *groups, size_t group_count, int shamir_threshold,
			  const struct sops_selection *sel_in, const struct sops_previous *prev,
			  const char *lastmodified)
{
	struct sops_selection sel;
	const char *kept_mac = NULL, *version = NULL;
	char hex[129], now[32];
	bool unchanged = false;
	int ret;

	if (sops_doc_is_encrypted(d))
		return GS_FAIL(GS_ERR_ALREADY_ENCRYPTED, "file is already encrypted");
	if (!d->count)
		return GS_FAIL(GS_ERR_EMPTY_INPUT, "file has no document to encrypt");
	if (prev && sodium_memcmp(prev->key, key, SOPS_DATA_KEY_SIZE) != 0)
		prev = NULL;
	default_selection(d, sel_in, &sel);
	if (!lastmodified) {
		if ((ret = sops_time_now(now)) < 0)
			return ret;
		lastmodified = now;
	}
	if ((ret = encrypt_tree(d, key, &sel, prev ? prev->stash : NULL, &unchanged, hex)) < 0)
		return ret;
	if (prev && unchanged && same_selection(&sel, &prev->meta.selection) &&
	    prev->meta.lastmodified && prev->meta.mac && prev->meta.mac_len) {
		lastmodified = prev->meta.lastmodified;
		kept_mac = prev->meta.mac;
		version = prev->meta.version;
	}
	return finish_metadata(d, key, groups, group_count, shamir_threshold, &sel, lastmodified, hex,
			       kept_mac, version);
}
