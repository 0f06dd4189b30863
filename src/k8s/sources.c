/* The verified sources of a kustomize build, and the binding of built
 * resources to them. A built resource is never matched to a file by what
 * the build says about it (kustomize's origin annotation can be set by any
 * patch): gitseal reads the files the kustomization names beneath the
 * root, decrypts them (every MAC checked) and indexes their ciphertexts.
 * A built resource holding ENC values is bound to the one source document
 * its ciphertexts come from (a ciphertext carries a random IV, so it names
 * one document), and only if it is that document's resource: the same
 * apiVersion and kind, a name that contains the source's (kustomize adds
 * prefixes, suffixes), and every ENC value the same ciphertext at the same
 * path, list elements included (index.c). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/secmem.h"
#include "gitseal/shown.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"
#include "k8s_int.h"

struct k8s_sources {
	/* What the binding reads of every source (file names, identities,
	 * ciphertexts, plaintext values), copied into one secure arena: a
	 * file's two trees go as soon as it is indexed. Kept whole until the
	 * end, 1,000 Secrets held 28 MB of locked memory, which the kernel
	 * populated, the fork of kubectl write-protected and the release
	 * wiped: more than half of render's own CPU time (bench/render_bench.sh). */
	struct doc kept;
	struct k8s_source_doc **docs;
	size_t doc_count, doc_cap;
	/* open addressing, ENC text -> document */
	struct slot {
		const char *enc;
		size_t len;
		struct k8s_source_doc *doc;
	} *slots;
	size_t slot_cap;
	size_t slot_used;
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

int k8s_sources_new(struct k8s_sources **out)
{
	*out = gs_calloc(1, sizeof(**out));
	if (!*out)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	randombytes_buf((*out)->hash_key, sizeof((*out)->hash_key));
	doc_init(&(*out)->kept, DOC_FORMAT_YAML);
	return 0;
}

void k8s_sources_free(struct k8s_sources *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->doc_count; i++) {
		k8s_cipher_index_release(&s->docs[i]->ix);
		free(s->docs[i]);
	}
	doc_release(&s->kept);
	free(s->docs);
	free(s->slots);
	free(s);
}

static size_t slot_hash(const struct k8s_sources *s, const char *enc, size_t len)
{
	uint64_t h;

	crypto_shorthash((unsigned char *)&h, (const unsigned char *)enc, len, s->hash_key);
	return (size_t)h;
}

static int slots_grow(struct k8s_sources *s)
{
	size_t ncap = s->slot_cap ? s->slot_cap * 2 : 1024;
	struct slot *old = s->slots, *g = gs_calloc(ncap, sizeof(*g));
	size_t oldcap = s->slot_cap;

	if (!g)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	s->slots = g;
	s->slot_cap = ncap;
	for (size_t i = 0; i < oldcap; i++) {
		size_t h;

		if (!old[i].enc)
			continue;
		h = slot_hash(s, old[i].enc, old[i].len) & (ncap - 1);
		while (g[h].enc)
			h = (h + 1) & (ncap - 1);
		g[h] = old[i];
	}
	free(old);
	return 0;
}

static int slot_put(struct k8s_sources *s, const char *enc, size_t len, struct k8s_source_doc *doc)
{
	size_t h;
	int ret;

	if ((s->slot_used + 1) * 2 > s->slot_cap && (ret = slots_grow(s)))
		return ret;
	h = slot_hash(s, enc, len) & (s->slot_cap - 1);
	while (s->slots[h].enc) {
		/* the same ciphertext twice (a copied value): first one wins,
		 * the binding then checks identity and key path */
		if (s->slots[h].len == len && !memcmp(s->slots[h].enc, enc, len))
			return 0;
		h = (h + 1) & (s->slot_cap - 1);
	}
	s->slots[h].enc = enc;
	s->slots[h].len = len;
	s->slots[h].doc = doc;
	s->slot_used++;
	return 0;
}

static struct k8s_source_doc *slot_get(const struct k8s_sources *s, const char *enc, size_t len)
{
	size_t h;

	if (!s->slot_cap)
		return NULL;
	h = slot_hash(s, enc, len) & (s->slot_cap - 1);
	while (s->slots[h].enc) {
		if (s->slots[h].len == len && !memcmp(s->slots[h].enc, enc, len))
			return s->slots[h].doc;
		h = (h + 1) & (s->slot_cap - 1);
	}
	return NULL;
}

void k8s_identity_of(const struct doc_node *root, struct k8s_identity *id)
{
	const struct doc_node *meta = k8s_map_get(root, "metadata");

	id->api_version = k8s_map_str(root, "apiVersion");
	id->kind = k8s_map_str(root, "kind");
	id->name = k8s_map_str(meta, "name");
	id->namespace = k8s_map_str(meta, "namespace");
}

/* A copy in the sources' arena; NULL stays NULL. */
static int keep_str(struct k8s_sources *s, const char **str)
{
	if (*str && !(*str = gs_arena_strndup(&s->kept.arena, *str, strlen(*str))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

/* What the index and the identity point to, moved into the sources'
 * arena: the file's trees are then released. */
static int keep_doc(struct k8s_sources *s, struct k8s_source_doc *sd)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < sd->ix.count; i++) {
		struct k8s_cipher *c = &sd->ix.items[i];

		c->enc = gs_arena_strndup(&s->kept.arena, c->enc, c->enc_len);
		c->plain = c->enc ? doc_clone(&s->kept, c->plain) : NULL;
		if (!c->plain)
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	if (!ret)
		ret = keep_str(s, &sd->id.api_version);
	if (!ret)
		ret = keep_str(s, &sd->id.kind);
	if (!ret)
		ret = keep_str(s, &sd->id.name);
	return ret ? ret : keep_str(s, &sd->id.namespace);
}

static int unit_index(struct k8s_sources *s, const char *file, const struct doc *enc,
		      struct sops_file *dec_file, size_t first_doc)
{
	const struct doc *dec = sops_file_doc(dec_file);
	/* sops leaves unencrypted values out of the MAC with
	 * mac_only_encrypted: the namespace is then not authenticated */
	bool mac_covers_plaintext = !sops_file_keys(dec_file)->selection.mac_only_encrypted;
	int ret = 0;

	for (size_t b = 0; !ret && b < enc->count && b < dec->count; b++) {
		struct k8s_source_doc *sd;

		if ((ret = GS_ARRAY_GROW(s->docs, s->doc_count, s->doc_cap, 16)) < 0)
			return ret;
		if (!(sd = gs_calloc(1, sizeof(*sd))))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		s->docs[s->doc_count++] = sd;
		sd->file = file;
		sd->doc_number = first_doc + b + 1;
		k8s_identity_of(dec->branches[b], &sd->id);
		sd->namespace_authenticated = mac_covers_plaintext;
		k8s_cipher_index_init(&sd->ix);
		ret = k8s_cipher_index_add(&sd->ix, enc->branches[b], dec->branches[b]);
		if (!ret)
			ret = keep_doc(s, sd);
		if (ret)
			k8s_cipher_index_release(&sd->ix); /* it would point into the released trees */
		for (size_t i = 0; !ret && i < sd->ix.count; i++)
			ret = slot_put(s, sd->ix.items[i].enc, sd->ix.items[i].enc_len, sd);
	}
	return ret;
}

int k8s_doc_copy(struct doc *dst, const struct doc *src)
{
	for (size_t b = 0; b < src->count; b++) {
		struct doc_node *c = doc_clone(dst, src->branches[b]);
		int ret = c ? doc_add_branch(dst, c) : GS_FAIL(GS_ERR_NOMEM, "out of memory");

		if (ret)
			return ret;
	}
	return 0;
}

/* A copy of the unit's loaded document is opened through the file
 * pipeline (every MAC checked) for the plaintext; both are indexed. */
static int unit_add(struct k8s_sources *s, const char *file, const struct k8s_unit *unit,
		    enum doc_format format, const struct age_identity_list *ids)
{
	struct sops_open_opts oo = { .format = format, .ids = ids };
	struct sops_file *dec = NULL;
	struct doc copy;
	int ret;

	doc_init(&copy, format);
	if (!(ret = k8s_doc_copy(&copy, &unit->doc)) && !(ret = sops_file_open_doc(&copy, &oo, &dec)))
		ret = unit_index(s, file, &unit->doc, dec, unit->first_doc);
	sops_file_free(dec);
	doc_release(&copy);
	return ret;
}

int k8s_sources_add_file(struct k8s_sources *s, const struct k8s_root *root, const char *rel,
			 const struct age_identity_list *ids, struct k8s_failures *fails)
{
	enum doc_format format = store_format_for_path(rel);
	struct gs_buf text;
	struct k8s_unit *units = NULL;
	size_t count = 0, bad = 0;
	const char *file = NULL;
	int ret;

	if (format != DOC_FORMAT_YAML && format != DOC_FORMAT_JSON)
		return 0;
	gs_buf_init(&text, false);
	ret = k8s_root_read(root, rel, &text, K8S_MAX_FILE);
	if (ret) {
		ret = k8s_failure_add(fails, "%s", gs_error_message());
		goto out;
	}
	ret = k8s_units_load(text.data, text.len, format, &units, &count, &bad);
	if (ret) {
		/* kustomize reports what it cannot read; only sources matter here */
		ret = 0;
		goto out;
	}
	for (size_t i = 0; !ret && i < count; i++) {
		if (!units[i].encrypted)
			continue;
		if (!file && !(file = gs_arena_strndup(&s->kept.arena, rel, strlen(rel)))) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			break;
		}
		ret = unit_add(s, file, &units[i], format, ids);
		if (ret)
			ret = k8s_failure_add(fails, "'%s' document %zu: %s", gs_shown(rel), units[i].first_doc + 1,
					      gs_error_message());
	}
out:
	k8s_units_release(units, count);
	gs_buf_release(&text);
	return ret;
}

/* The same text, or both absent. */
static bool same_str(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* A name kustomize derived from the source's: prefixes and suffixes only. */
static bool name_derived(const char *built, const char *source)
{
	return built && source && *source && strstr(built, source);
}

struct enc_scan {
	const struct doc_node *first;
	const char *stray; /* a scalar holding ENC[ text that is not one value */
	int depth;
};

static void scan(const struct doc_node *n, struct enc_scan *sc, int depth)
{
	if (depth > K8S_MAX_DEPTH || sc->stray)
		return;
	if (n->kind == DOC_SCALAR) {
		if (k8s_is_enc_value(n)) {
			if (!sc->first)
				sc->first = n;
		} else if (n->type == DOC_STR && memmem(n->text, n->len, SOPS_ENC_AES256_GCM, strlen(SOPS_ENC_AES256_GCM))) {
			sc->stray = n->text;
		}
		return;
	}
	if (n->kind != DOC_MAP && n->kind != DOC_LIST)
		return;
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (e->removed || e->value->kind == DOC_COMMENT)
			continue;
		if (depth == 0 && sops_is_metadata_key(e->key, e->key_len))
			continue;
		scan(e->value, sc, depth + 1);
	}
}

int k8s_check_unauthenticated_kind(const struct doc_node *root)
{
	struct k8s_identity id;

	k8s_identity_of(root, &id);
	if (id.kind && !strcmp(id.kind, "Secret") && id.api_version && !strcmp(id.api_version, "v1"))
		return 0;
	return GS_FAIL(GS_ERR_CONFIG, "its file's MAC leaves its clear values out (mac_only_encrypted), so its "
				      "apiVersion and kind are not authenticated: only a v1 Secret is "
				      "rendered from such a file");
}

int k8s_check_no_ciphertext(const struct doc_node *root)
{
	struct enc_scan sc = { 0 };

	scan(root, &sc, 0);
	if (sc.first || sc.stray)
		return GS_FAIL(GS_ERR_NO_METADATA, "encrypted values without sops metadata");
	return 0;
}

/* One base64 value (kustomize wraps long ones over lines) holding the
 * ENC prefix once decoded; the decoded bytes may be a secret: secure
 * memory, libsodium's constant-time decoder. */
static int encoded_ciphertext(const struct doc_node *v, bool *found)
{
	size_t cap = v->len / 4 * 3 + 3, len = 0;
	uint8_t *bin;

	*found = false;
	if (v->kind != DOC_SCALAR || v->type != DOC_STR || !v->len)
		return 0;
	bin = gs_secure_alloc(cap);
	if (!bin)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (!sodium_base642bin(bin, cap, v->text, v->len, "\n\r ", &len, NULL,
			       sodium_base64_VARIANT_ORIGINAL))
		*found = memmem(bin, len, SOPS_ENC_AES256_GCM, strlen(SOPS_ENC_AES256_GCM)) != NULL;
	gs_secure_free(bin);
	return 0;
}

int k8s_check_no_encoded_ciphertext(const struct doc_node *root)
{
	const char *kind = k8s_map_str(root, "kind");
	const struct doc_node *data;
	int ret = 0;

	if (!kind || (strcmp(kind, "Secret") && strcmp(kind, "ConfigMap")))
		return 0;
	data = k8s_map_get(root, strcmp(kind, "Secret") ? "binaryData" : "data");
	for (size_t i = 0; !ret && data && data->kind == DOC_MAP && i < data->count; i++) {
		const struct doc_entry *e = &data->entries[i];
		bool found;

		if (e->removed || !e->key)
			continue;
		ret = encoded_ciphertext(e->value, &found);
		if (!ret && found)
			ret = GS_FAIL(GS_ERR_MAC_MISMATCH, "'%s' holds encrypted text: a generator "
							   "source gitseal did not read as a sops file",
				      gs_shown_n(e->key, e->key_len > 200 ? 200 : e->key_len));
	}
	return ret;
}

int k8s_sources_bind(const struct k8s_sources *s, struct doc *d, struct doc_node *root,
		     const struct k8s_source_doc **bound)
{
	struct enc_scan sc = { 0 };
	const struct k8s_source_doc *src;
	struct k8s_identity id;
	char bad[512];
	int ret;

	*bound = NULL;
	scan(root, &sc, 0);
	if (sc.stray)
		return GS_FAIL(GS_ERR_MAC_MISMATCH, "holds encrypted text that is not a sops value");
	if (!sc.first)
		return 0;
	src = slot_get(s, sc.first->text, sc.first->len);
	if (!src)
		return GS_FAIL(GS_ERR_MAC_MISMATCH, "holds encrypted values that are not from a "
						    "verified source of this kustomization");
	k8s_identity_of(root, &id);
	/* another apiVersion is another resource (a custom one of the same
	 * kind, which Argo CD does not mask and etcd keeps as no Secret) */
	if (!id.kind || !src->id.kind || strcmp(id.kind, src->id.kind) ||
	    !same_str(id.api_version, src->id.api_version) || !name_derived(id.name, src->id.name))
		return GS_FAIL(GS_ERR_MAC_MISMATCH, "holds the encrypted values of %s %s/%s in '%s' "
						    "document %zu",
			       gs_shown(src->id.api_version ? src->id.api_version : "?"),
			       gs_shown(src->id.kind ? src->id.kind : "?"), gs_shown(src->id.name ? src->id.name : "?"),
			       gs_shown(src->file), src->doc_number);
	ret = k8s_resource_decrypt(d, root, &src->ix, bad, sizeof(bad));
	if (ret) {
		gs_error_prefix("'%s' document %zu", gs_shown(src->file), src->doc_number);
		return ret;
	}
	*bound = src;
	return 0;
}
