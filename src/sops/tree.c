/* Encrypting and decrypting a document tree under a known data key (spec
 * 1, 3.3, 4), and the reuse of a previous version's ciphertexts (spec 2.5
 * made durable): each unchanged value keeps its exact ciphertext, and when
 * nothing changed lastmodified and mac are kept, so the file is
 * byte-identical. Key wrapping is in engine.c. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "gitseal/yaml_scalar.h"
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
	int ret = GS_ARRAY_GROW(s->items, s->count, s->cap, 16);

	if (ret < 0)
		return ret;
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
	s->buckets = gs_malloc(n * sizeof(*s->buckets));
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

/* ---- a pass over the values: what decryption and encryption share ---- */

/* The document, its data key, the cipher and the MAC of one walk, and a
 * secure buffer for one plaintext (wiped after each value). */
struct tree_pass {
	struct doc *d;
	const uint8_t *key;
	struct sops_cipher cipher;
	struct sops_mac mac;
	struct gs_buf plain;
};

/* Walks d's values in sops's order under selection sel, fn(ctx, leaf)
 * each, then puts the MAC of what fn hashed into hex. p is released but
 * for its cipher, which the caller releases (sops_cipher_release): the
 * stored MAC is under the same key. */
static int tree_pass_run(struct tree_pass *p, struct doc *d, const uint8_t *key,
			 const struct sops_selection *sel, sops_leaf_fn fn, void *ctx, char hex[129])
{
	struct sops_selector selector;
	int ret;

	p->d = d;
	p->key = key;
	sops_cipher_init(&p->cipher);
	gs_buf_init(&p->plain, true);
	memset(&p->mac, 0, sizeof(p->mac));
	memset(&selector, 0, sizeof(selector));
	if ((ret = sops_selector_init(&selector, sel)) < 0 ||
	    (ret = sops_mac_init(&p->mac, sel->mac_only_encrypted)) < 0 || (ret = sops_walk(d, &selector, fn, ctx)) < 0)
		goto out;
	ret = sops_mac_final(&p->mac, hex);
out:
	if (p->mac.md)
		sops_mac_release(&p->mac);
	sops_selector_release(&selector);
	gs_buf_release(&p->plain);
	return ret;
}

/* ---- decryption ---- */

struct decrypt_ctx {
	struct tree_pass pass;
	struct gs_buf canon;
	bool modify;
	bool in_place;             /* values may be decrypted in their own memory */
	struct sops_stash *stash;
	struct sops_batch *batch;  /* the in-place values, decrypted ahead (or NULL) */
};

static bool hashed(const struct sops_mac *m, const struct sops_leaf *leaf, bool is_comment)
{
	/* spec 4.1: comments never; plaintext leaves unless mac_only_encrypted */
	return !is_comment && (leaf->selected || !m->only_encrypted);
}

/* A number text that is encrypted and comes back as spelled: a float
 * that is a JSON number that reads as a float, or a YAML float that Go's
 * ParseFloat (sops's decrypt) reads as the same number ("08", ".5"); an
 * int that Go's Atoi reads as the number yaml.v3 reads ("+5", "007"). */
static bool number_text_kept(enum sops_value_type type, const char *s, size_t len)
{
	if (type == SOPS_TYPE_INT)
		return store_int_spelling_kept(s, len);
	return type == SOPS_TYPE_FLOAT &&
	       (store_json_float_text(s, len) || yaml_float_spelling_kept(s, len));
}

/* A number encrypted as its text spells it; any other number text is
 * encrypted in sops's canonical form. */
static bool number_keeps_text(const struct doc_node *n)
{
	if (n->kind != DOC_SCALAR || (n->type != DOC_FLOAT && n->type != DOC_INT))
		return false;
	return number_text_kept(n->type == DOC_INT ? SOPS_TYPE_INT : SOPS_TYPE_FLOAT, n->text, n->len);
}

/* a time is checked and written as Go writes it: not a text type here */
static bool text_types(enum sops_value_type type)
{
	return type == SOPS_TYPE_STR || type == SOPS_TYPE_BYTES;
}

/* A text value decrypted in the node's own memory: it keeps it, so a large
 * value is never copied. Whether that memory is the node's own: a store
 * may one day point node texts into the source, which must stay intact. */
static bool owns_text(const struct doc *d, const struct doc_node *n)
{
	const char *src = (const char *)d->source.data;

	return !src || n->text < src || n->text >= src + d->source.len;
}

/* Decrypts an encrypted value; on success *canon points at the bytes the
 * MAC takes (in the node, or in c->canon). enc/enc_len: the ciphertext as
 * read, for the stash (NULL when it was decrypted in place). */
static int decrypt_value(struct decrypt_ctx *c, struct sops_leaf *leaf, enum sops_value_type *type,
			 const uint8_t **canon, size_t *canon_len, const char **enc, size_t *enc_len)
{
	struct doc_node *n = leaf->node;
	size_t plain_len;
	int ret = 1;

	if (n->kind != DOC_SCALAR || n->type != DOC_STR)
		return GS_FAIL(GS_ERR_DECRYPT_VALUE,
			       "value at '%s' is not encrypted: expected an encrypted string",
			       gs_shown_n(leaf->aad, leaf->aad_len > 200 ? 200 : leaf->aad_len));
	/* a tag is outside the MAC, and readers go by it (!!null reads as
	 * null, !!binary as bytes): an encrypted value has none */
	if (n->tag)
		return GS_FAIL(GS_ERR_MAC_MISMATCH,
			       "value at '%s' carries a YAML tag, which the MAC does not cover",
			       gs_shown_n(leaf->aad, leaf->aad_len > 200 ? 200 : leaf->aad_len));
	if (c->batch && c->in_place && sops_batch_candidate(c->pass.d, leaf))
		ret = sops_batch_take(c->batch, n, &plain_len, type);
	else if (c->in_place && owns_text(c->pass.d, n))
		ret = sops_value_decrypt_in_place(&c->pass.cipher, c->pass.key, n->text, n->len, leaf->aad,
						  leaf->aad_len, &plain_len, type);
	if (ret == 0 && text_types(*type)) {
		n->len = plain_len;
		n->type = DOC_STR;
		n->dirty = true;
		*canon = (const uint8_t *)n->text;
		*canon_len = n->len;
		return 0;
	}
	if (ret == 0) /* int, float, bool: canonical form re-rendered below */
		ret = gs_buf_append(&c->pass.plain, n->text, plain_len);
	else if (ret == 1)
		ret = sops_value_decrypt_with(&c->pass.cipher, c->pass.key, n->text, n->len, leaf->aad,
					      leaf->aad_len, &c->pass.plain, type);
	if (ret == 0 && !c->in_place) {
		*enc = n->text;
		*enc_len = n->len;
	}
	if (ret == 0)
		ret = sops_plaintext_canonical(*type, c->pass.plain.data, c->pass.plain.len, &c->canon);
	if (ret < 0) {
		gs_error_prefix("value at '%s'", gs_shown_n(leaf->aad, leaf->aad_len > 200 ? 200 : leaf->aad_len));
		return ret == GS_ERR_NOMEM ? ret : GS_ERR_DECRYPT_VALUE;
	}
	/* a number encrypted as the file spelled it comes back so; the MAC
	 * takes the canonical form (sops hashes the float64 or int it read) */
	if (c->modify && number_text_kept(*type, (const char *)c->pass.plain.data, c->pass.plain.len))
		ret = sops_node_set_canonical(c->pass.d, n, *type, c->pass.plain.data, c->pass.plain.len);
	else if (c->modify)
		ret = sops_node_set_canonical(c->pass.d, n, *type, c->canon.data, c->canon.len);
	if (ret < 0)
		return ret;
	*canon = c->canon.data;
	*canon_len = c->canon.len;
	return 0;
}

/* A selected comment: comments from before comment encryption stay as
 * they are (spec 3.3). */
static int decrypt_comment(struct decrypt_ctx *c, struct sops_leaf *leaf, const char **enc,
			   size_t *enc_len)
{
	struct doc_node *n = leaf->node;
	enum sops_value_type type;
	int ret;

	if (sops_enc_looks_encrypted(n->text, n->len) &&
	    sops_value_decrypt_with(&c->pass.cipher, c->pass.key, n->text, n->len, leaf->aad, leaf->aad_len,
				    &c->pass.plain, &type) == 0) {
		*enc = n->text;
		*enc_len = n->len;
		if ((ret = gs_buf_append(&c->canon, c->pass.plain.data, c->pass.plain.len)) < 0)
			return ret;
		if (c->modify && (ret = sops_node_set_canonical(c->pass.d, n, SOPS_TYPE_COMMENT, c->canon.data,
								  c->canon.len)) < 0)
			return ret;
		return 0;
	}
	gs_error_clear();
	return sops_node_plaintext(n, &c->canon, &type);
}

static int decrypt_leaf(void *vctx, struct sops_leaf *leaf)
{
	struct decrypt_ctx *c = vctx;
	struct doc_node *n = leaf->node;
	enum sops_value_type type = SOPS_TYPE_STR;
	const uint8_t *canon = NULL;
	const char *enc = NULL;
	size_t canon_len = 0, enc_len = 0;
	int ret;

	if (!leaf->selected || (n->kind == DOC_SCALAR && n->len == 0 && n->type == DOC_STR)) {
		ret = sops_node_plaintext(n, &c->canon, &type);
	} else if (leaf->is_comment) {
		type = SOPS_TYPE_COMMENT;
		ret = decrypt_comment(c, leaf, &enc, &enc_len);
	} else {
		ret = decrypt_value(c, leaf, &type, &canon, &canon_len, &enc, &enc_len);
	}
	if (ret < 0)
		return ret;
	if (!canon) {
		canon = c->canon.data;
		canon_len = c->canon.len;
	}
	/* wiped once used (a reset wipes the whole buffer: not for nothing) */
	if (c->pass.plain.len)
		gs_buf_reset(&c->pass.plain);
	if (hashed(&c->pass.mac, leaf, leaf->is_comment || type == SOPS_TYPE_COMMENT) &&
	    (ret = sops_mac_update(&c->pass.mac, canon, canon_len)) < 0)
		return ret;
	/* the stash holds what encryption will compare: a number's own spelling */
	if ((type == SOPS_TYPE_FLOAT || type == SOPS_TYPE_INT) && number_keeps_text(n)) {
		canon = (const uint8_t *)n->text;
		canon_len = n->len;
	}
	if (c->stash && (ret = stash_add(c->stash, leaf, type, canon, canon_len, enc, enc_len)) < 0)
		return ret;
	if (c->canon.len)
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
			if (sops_is_metadata_key(root->entries[i].key, root->entries[i].key_len))
				root->entries[i].removed = true;
	}
}

/* Walks, decrypts (when modify), hashes and checks the MAC. */
static int decrypt_tree(struct doc *d, const struct sops_metadata *m, const uint8_t *key,
			bool ignore_mac, bool modify, struct sops_stash *stash, char hex[129])
{
	struct decrypt_ctx c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.modify = modify;
	/* the stash keeps the ciphertexts as read: then they are not overwritten */
	c.in_place = modify && !stash;
	c.stash = stash;
	gs_buf_init(&c.canon, true);
	ret = c.in_place ? sops_batch_decrypt(d, &m->selection, key, &c.batch) : 0;
	if (ret == 0)
		ret = tree_pass_run(&c.pass, d, key, &m->selection, decrypt_leaf, &c, hex);
	if (ret == 0 && c.batch)
		ret = sops_batch_finish(c.batch);
	sops_batch_free(c.batch);
	if (ret == 0 && !ignore_mac)
		ret = sops_mac_check(&c.pass.cipher, key, m->mac, m->mac_len, m->lastmodified, m->lastmodified_len,
				     hex);
	sops_cipher_release(&c.pass.cipher);
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

int sops_open_with_meta(struct doc *d, struct sops_metadata *m, const uint8_t key[SOPS_DATA_KEY_SIZE],
			const struct sops_decrypt_opts *opts, bool keep_stash, struct sops_previous *p)
{
	char hex[129];
	int ret;

	memset(p, 0, sizeof(*p));
	p->meta = *m;
	memset(m, 0, sizeof(*m));
	if (!(p->key = gs_secure_alloc(SOPS_DATA_KEY_SIZE)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	memcpy(p->key, key, SOPS_DATA_KEY_SIZE);
	if (keep_stash) {
		if (!(p->stash = gs_calloc(1, sizeof(*p->stash))))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		stash_init(p->stash);
	}
	/* the ciphertexts the stash keeps stay in the arena when the nodes
	 * take their plaintext */
	ret = decrypt_tree(d, &p->meta, key, opts && opts->ignore_mac, true, p->stash, hex);
	if (ret == 0 && p->stash)
		ret = stash_index(p->stash);
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
	struct tree_pass pass;
	struct gs_buf enc;
	const struct sops_stash *prev; /* NULL: no reuse */
	size_t pos;
	bool unchanged;
	struct sops_undo *undo;        /* NULL: the nodes simply take the ciphertexts */
};

/* ---- the undo log: both states of every leaf encryption changed ---- */

void sops_undo_init(struct sops_undo *u)
{
	memset(u, 0, sizeof(*u));
	gs_arena_init(&u->arena);
}

void sops_undo_drop_ciphertexts(struct sops_undo *u)
{
	/* the nodes must not point at ciphertexts about to be freed */
	sops_undo_show(u, false);
	gs_arena_release(&u->arena);
	for (size_t i = 0; i < u->buffer_count; i++)
		free(u->buffers[i]);
	free(u->buffers);
	free(u->items);
	u->buffers = NULL;
	u->buffer_count = 0;
	u->items = NULL;
	u->count = u->cap = 0;
}

void sops_undo_release(struct sops_undo *u)
{
	sops_undo_drop_ciphertexts(u);
	free(u->meta);
	memset(u, 0, sizeof(*u));
}

static void leaf_state_save(struct sops_leaf_state *s, const struct doc_node *n)
{
	s->text = n->text;
	s->len = n->len;
	s->type = n->type;
	s->kind = n->kind;
	s->dirty = n->dirty;
}

static void leaf_state_load(struct doc_node *n, const struct sops_leaf_state *s)
{
	n->text = s->text;
	n->len = s->len;
	n->type = s->type;
	n->kind = s->kind;
	n->dirty = s->dirty;
}

void sops_undo_show(struct sops_undo *u, bool encrypted)
{
	if (u->encrypted == encrypted)
		return;
	for (size_t i = 0; i < u->count; i++)
		leaf_state_load(u->items[i].node, &u->items[i].state[encrypted]);
	for (size_t i = 0; i < u->meta_count; i++)
		u->meta[i].root->entries[u->meta[i].index].removed = !encrypted;
	u->encrypted = encrypted;
}

/* Records the metadata entries sops_metadata_write just appended (the
 * last entry of every branch root). */
static int undo_note_metadata(struct sops_undo *u, struct doc *d)
{
	u->meta = gs_calloc(d->count + 1, sizeof(*u->meta));
	if (!u->meta)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t b = 0; b < d->count; b++) {
		struct doc_node *root = d->branches[b];

		if (!root || root->kind != DOC_MAP || !root->count)
			continue;
		u->meta[u->meta_count].branch = b;
		u->meta[u->meta_count].root = root;
		u->meta[u->meta_count++].index = root->count - 1;
	}
	return 0;
}

/* A ciphertext for the log: small ones are copied into its arena, a large
 * one keeps the buffer it was made in (no second copy of a large value). */
enum { UNDO_TAKE_BUFFER = 64 * 1024 };

static int undo_take_text(struct sops_undo *u, struct gs_buf *enc, char **text)
{
	void **grown;

	if (enc->len < UNDO_TAKE_BUFFER) {
		*text = gs_arena_strndup(&u->arena, (const char *)enc->data, enc->len);
		return *text ? 0 : GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	grown = gs_realloc(u->buffers, (u->buffer_count + 1) * sizeof(*grown));
	if (!grown)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	u->buffers = grown;
	*text = (char *)gs_buf_detach(enc, NULL);
	u->buffers[u->buffer_count++] = *text;
	return 0;
}

/* The node takes the ciphertext; with an undo log the ciphertext lives in
 * the log's arena and both states are recorded. */
static int leaf_set_ciphertext(struct encrypt_ctx *c, struct doc_node *n, bool make_scalar)
{
	struct sops_undo *u = c->undo;
	struct sops_undo_item *it;
	int ret;

	if (!u) {
		if ((ret = doc_scalar_set(c->pass.d, n, DOC_STR, (const char *)c->enc.data, c->enc.len)) < 0)
			return ret;
		if (make_scalar)
			n->kind = DOC_SCALAR;
		return 0;
	}
	if ((ret = GS_ARRAY_GROW(u->items, u->count, u->cap, 64)) < 0)
		return ret;
	it = &u->items[u->count];
	it->node = n;
	/* an encrypted value loses its tag, as sops does (doc_scalar_set): for
	 * good, since the plaintext that decrypts has none */
	n->tag = NULL;
	leaf_state_save(&it->state[0], n);
	n->len = c->enc.len; /* before a large buffer is taken over */
	if ((ret = undo_take_text(u, &c->enc, &n->text)) < 0) {
		leaf_state_load(n, &it->state[0]);
		return ret;
	}
	n->type = DOC_STR;
	n->dirty = true;
	if (make_scalar)
		n->kind = DOC_SCALAR;
	leaf_state_save(&it->state[1], n);
	u->count++;
	return 0;
}

/* The MAC takes a number in sops's canonical form, whatever spelling is
 * encrypted ("1.0" hashes as "1", "+5" as "5", as sops hashes the float64
 * or int it reads). */
static int hash_leaf(struct encrypt_ctx *c, const struct doc_node *n, const uint8_t *plain, size_t len)
{
	enum sops_value_type type;
	int ret;

	if (!number_keeps_text(n))
		return sops_mac_update(&c->pass.mac, plain, len);
	if ((ret = sops_node_plaintext(n, &c->pass.plain, &type)) < 0)
		return ret;
	ret = sops_mac_update(&c->pass.mac, c->pass.plain.data, c->pass.plain.len);
	gs_buf_reset(&c->pass.plain);
	return ret;
}

/* A type:time value that comes back as its own text (from the editor, a
 * work tree the git filter wrote) stays a time: no store reads one, and
 * sops reads a YAML timestamp as a time again. */
static bool given_back_as_time(const struct sops_stash *prev, const struct sops_leaf *leaf,
			       const uint8_t *plain, size_t len)
{
	return prev && len >= sizeof("2006-01-02T15:04:05Z") - 1 && plain[4] == '-' && plain[10] == 'T' &&
	       stash_find(prev, leaf->aad, leaf->aad_len, SOPS_TYPE_TIME, plain, len);
}

static int encrypt_leaf(void *vctx, struct sops_leaf *leaf)
{
	struct encrypt_ctx *c = vctx;
	struct doc_node *n = leaf->node;
	enum sops_value_type type;
	const struct stash_item *old;
	int ret;

	const uint8_t *plain;
	size_t len;

	/* text, comments and numbers kept as spelled are their own
	 * plaintext: no copy of a large value */
	if (n->kind == DOC_COMMENT || n->type == DOC_STR || number_keeps_text(n)) {
		type = n->kind == DOC_COMMENT ? SOPS_TYPE_COMMENT
		       : n->type == DOC_INT  ? SOPS_TYPE_INT
		       : n->type == DOC_FLOAT ? SOPS_TYPE_FLOAT : SOPS_TYPE_STR;
		plain = (const uint8_t *)n->text;
		len = n->len;
	} else {
		if ((ret = sops_node_plaintext(n, &c->pass.plain, &type)) < 0)
			return ret;
		plain = c->pass.plain.data;
		len = c->pass.plain.len;
	}
	if (type == SOPS_TYPE_STR && given_back_as_time(c->prev, leaf, plain, len)) {
		type = SOPS_TYPE_TIME;
		n->type = DOC_TIME; /* what the sealed file gives back */
	}
	if (c->prev) {
		const struct stash_item *it = c->pos < c->prev->count ? &c->prev->items[c->pos] : NULL;

		if (!it || it->selected != leaf->selected || it->is_comment != leaf->is_comment ||
		    !item_equal(it, leaf->aad, leaf->aad_len, type, plain, len))
			c->unchanged = false;
		c->pos++;
	}
	if (hashed(&c->pass.mac, leaf, leaf->is_comment) && (ret = hash_leaf(c, n, plain, len)) < 0)
		return ret;
	/* spec 2.4: empty strings and comments are never encrypted */
	if (!leaf->selected || len == 0)
		return 0;
	gs_buf_reset(&c->enc);
	old = stash_find(c->prev, leaf->aad, leaf->aad_len, type, plain, len);
	if (old)
		ret = gs_buf_append(&c->enc, old->enc, old->enc_len);
	else
		ret = sops_value_encrypt_with(&c->pass.cipher, c->pass.key, plain, len, type, leaf->aad,
					      leaf->aad_len, NULL, 0, &c->enc);
	gs_buf_reset(&c->pass.plain);
	if (ret < 0)
		return ret;
	/* sops walkSlice: an encrypted comment in a list becomes a list item */
	return leaf_set_ciphertext(c, n, leaf->is_comment && leaf->container->kind == DOC_LIST);
}

static int encrypt_tree(struct doc *d, const uint8_t *key, const struct sops_selection *sel,
			const struct sops_stash *prev, struct sops_undo *undo, bool *unchanged,
			char hex[129])
{
	struct encrypt_ctx c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.prev = prev;
	c.undo = undo;
	c.unchanged = prev != NULL;
	gs_buf_init(&c.enc, false);
	ret = tree_pass_run(&c.pass, d, key, sel, encrypt_leaf, &c, hex);
	sops_cipher_release(&c.pass.cipher);
	*unchanged = c.unchanged && (!prev || c.pos == prev->count);
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
	if (!(p->key = gs_secure_alloc(SOPS_DATA_KEY_SIZE)) || !(p->stash = gs_calloc(1, sizeof(*p->stash))))
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
	return sops_encrypt_with_key_undo(d, key, groups, group_count, shamir_threshold, sel_in, prev,
					  lastmodified, NULL);
}

int sops_encrypt_with_key_undo(struct doc *d, const uint8_t key[SOPS_DATA_KEY_SIZE],
			       const struct sops_meta_group *groups, size_t group_count,
			       int shamir_threshold, const struct sops_selection *sel_in,
			       const struct sops_previous *prev, const char *lastmodified,
			       struct sops_undo *undo)
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
	if (undo)
		undo->encrypted = true;
	if ((ret = encrypt_tree(d, key, &sel, prev ? prev->stash : NULL, undo, &unchanged, hex)) < 0)
		return ret;
	if (prev && unchanged && same_selection(&sel, &prev->meta.selection) &&
	    prev->meta.lastmodified && prev->meta.mac && prev->meta.mac_len) {
		lastmodified = prev->meta.lastmodified;
		kept_mac = prev->meta.mac;
		version = prev->meta.version;
	}
	ret = finish_metadata(d, key, groups, group_count, shamir_threshold, &sel, lastmodified, hex,
			      kept_mac, version);
	if (ret == 0 && undo)
		ret = undo_note_metadata(undo, d);
	return ret;
}
