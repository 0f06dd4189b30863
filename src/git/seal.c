/* The sops side of the filter and the merge driver: opening a version
 * git holds, and sealing a plaintext for a file's keys, proven before it
 * is handed to git (loaded again, decrypted, compared). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/store.h"
#include "gitfilter_int.h"

bool gitseal_load_sealed(enum doc_format format, const uint8_t *data, size_t len, struct doc *d)
{
	doc_init(d, format);
	/* every sops format carries a "sops" key (sops_* in dotenv, [sops]
	 * in INI): skip parsing what cannot hold one */
	if (!len || !memmem(data, len, "sops", 4))
		return false;
	if (store_load(format, data, len, d) == 0 && sops_doc_is_encrypted(d))
		return true;
	gs_error_clear();
	doc_release(d);
	doc_init(d, format);
	return false;
}

static const struct age_identity_list *need_identities(struct gitfilter *f)
{
	const struct age_identity_list *ids = gitfilter_identities(f);

	if (!ids)
		gs_error_set(GS_ERR_NO_DATA_KEY, "no identity to decrypt with (%s)",
			     f->ids_error ? f->ids_error : "none found");
	return ids;
}

int gitseal_open_text(struct gitfilter *f, const struct doc *cipher, struct gs_buf *plain)
{
	const struct age_identity_list *ids = gitfilter_identities(f);
	struct sops_decrypt_opts o = { 0 };

	/* without an age identity, a PGP or Vault entry may still open it */
	if (!ids && f->ids_error) {
		(void)need_identities(f); /* records the reason */
		return GS_ERR_NO_DATA_KEY;
	}
	return sops_file_decrypt(cipher->source.data, cipher->source.len, cipher->format, ids, &o, plain);
}

int gitseal_open_doc(struct gitfilter *f, const struct doc *cipher, struct doc *plain,
		     uint8_t key_id[GITSEAL_KEY_ID_SIZE])
{
	const struct age_identity_list *ids = gitfilter_identities(f);
	struct sops_decrypt_opts o = { 0 };
	int ret;

	doc_init(plain, cipher->format);
	/* without an age identity, a PGP or Vault entry may still open it */
	if (!ids && f->ids_error) {
		(void)need_identities(f); /* records the reason */
		return GS_ERR_NO_DATA_KEY;
	}
	ret = sops_doc_key_id(cipher, ids, key_id);
	if (!ret)
		ret = store_load(cipher->format, cipher->source.data, cipher->source.len, plain);
	if (!ret)
		ret = sops_decrypt_doc(plain, ids, &o);
	return ret;
}

/* Emits d, proven by loading the bytes again; the fresh layout when the
 * document's own does not prove. */
static int emit_proven(struct doc *d, struct gs_buf *out, const struct doc *want)
{
	char where[256];
	int ret;

	for (int fresh = 0; fresh < 2; fresh++) {
		struct gs_buf source = d->source;
		struct doc back;

		if (fresh)
			gs_buf_init(&d->source, true);
		gs_buf_reset(out);
		ret = store_emit(d, d->format, NULL, out);
		if (fresh)
			d->source = source;
		if (ret)
			return ret;
		doc_init(&back, d->format);
		ret = store_load(d->format, out->data, out->len, &back);
		if (!ret && doc_equal(&back, want ? want : d, where, sizeof(where))) {
			doc_release(&back);
			return 0;
		}
		gs_error_clear();
		doc_release(&back);
	}
	gs_buf_reset(out);
	return GS_FAIL(GS_ERR_ENCRYPT, "the output would not read back as written (at %s)", where);
}

int gitseal_plain_emit(struct doc *d, struct gs_buf *out)
{
	return emit_proven(d, out, NULL);
}

static bool same_strings(char **a, size_t na, char **b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		size_t j = 0;

		while (j < nb && strcmp(a[i], b[j]))
			j++;
		if (j == nb)
			return false;
	}
	return true;
}

bool gitseal_keys_equal(const struct sops_key_summary *a, const struct sops_key_summary *b)
{
	return gitseal_keys_equal_groups(a, b) && a->selection.kind == b->selection.kind &&
	       a->selection.mac_only_encrypted == b->selection.mac_only_encrypted &&
	       !strcmp(a->selection.value ? a->selection.value : "", b->selection.value ? b->selection.value : "");
}

bool gitseal_keys_equal_groups(const struct sops_key_summary *a, const struct sops_key_summary *b)
{
	int ta = a->group_count > 1 ? (a->shamir_threshold ? a->shamir_threshold : (int)a->group_count) : 0;
	int tb = b->group_count > 1 ? (b->shamir_threshold ? b->shamir_threshold : (int)b->group_count) : 0;

	if (a->group_count != b->group_count || ta != tb || a->other_keys != b->other_keys)
		return false;
	for (size_t g = 0; g < a->group_count; g++)
		if (!same_strings(a->groups[g].age, a->groups[g].age_count, b->groups[g].age, b->groups[g].age_count) ||
		    !same_strings(a->groups[g].vault_uris, a->groups[g].vault_count, b->groups[g].vault_uris,
				  b->groups[g].vault_count) ||
		    !same_strings(a->groups[g].pgp, a->groups[g].pgp_count, b->groups[g].pgp, b->groups[g].pgp_count) ||
		    !same_strings(a->groups[g].foreign, a->groups[g].foreign_count, b->groups[g].foreign,
				  b->groups[g].foreign_count))
			return false;
	return true;
}

static int copy_strings(char ***dst, size_t *n, char *const *src, size_t count)
{
	*dst = calloc(count + 1, sizeof(**dst));
	if (!*dst)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (*n = 0; *n < count; (*n)++)
		if (!((*dst)[*n] = strdup(src[*n])))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

static int rule_keys(struct gitfilter *f, const char *path, bool check_selection, struct sops_key_summary *out)
{
	const struct sops_config *config;
	const struct sops_rule *rule;
	char full[PATH_MAX];
	size_t keys = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = gitfilter_config(f, &config)))
		return ret;
	if ((size_t)snprintf(full, sizeof(full), "%s%s", f->workdir ? f->workdir : "", path) >= sizeof(full))
		return GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", path);
	if ((ret = sops_config_match(config, full, &rule)))
		return ret;
	if (check_selection && !gittrust_selection_accepted(f, path, &rule->selection))
		return GS_FAIL(GS_ERR_CONFIG, "the creation rule for '%s' changed what is encrypted (%s%s%s%s); "
					      "run 'gitseal updatekeys' to accept",
			       path, rule->selection.kind ? sops_selection_key(rule->selection.kind) : "",
			       rule->selection.kind ? " '" : "", rule->selection.value ? rule->selection.value : "",
			       rule->selection.kind ? "'" : "mac_only_encrypted");
	if (!(out->groups = calloc(rule->group_count + 1, sizeof(*out->groups))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	out->group_count = rule->group_count;
	for (size_t g = 0; !ret && g < rule->group_count; g++) {
		ret = copy_strings(&out->groups[g].age, &out->groups[g].age_count, rule->groups[g].age,
				   rule->groups[g].age_count);
		if (!ret)
			ret = copy_strings(&out->groups[g].vault_uris, &out->groups[g].vault_count,
					   rule->groups[g].vault_uris, rule->groups[g].vault_count);
		if (!ret)
			ret = copy_strings(&out->groups[g].pgp, &out->groups[g].pgp_count, rule->groups[g].pgp,
					   rule->groups[g].pgp_count);
		if (!ret)
			ret = copy_strings(&out->groups[g].foreign, &out->groups[g].foreign_count,
					   rule->groups[g].foreign, rule->groups[g].foreign_count);
		keys += rule->groups[g].age_count + rule->groups[g].vault_count + rule->groups[g].pgp_count +
			rule->groups[g].foreign_count;
		out->other_keys += rule->groups[g].foreign_count;
	}
	out->shamir_threshold = rule->shamir_threshold;
	out->selection.kind = rule->selection.kind;
	out->selection.mac_only_encrypted = rule->selection.mac_only_encrypted;
	if (!ret && rule->selection.value && !(out->selection.value = strdup(rule->selection.value)))
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (!ret && !keys)
		ret = GS_FAIL(GS_ERR_CONFIG, "the creation rule for '%s' names no recipients", path);
	if (ret)
		sops_key_summary_release(out);
	return ret;
}

int gitseal_new_file_keys(struct gitfilter *f, const char *path, struct sops_key_summary *out)
{
	return rule_keys(f, path, true, out);
}

int gitfilter_rule_keys_unchecked(struct gitfilter *f, const char *path, struct sops_key_summary *out)
{
	return rule_keys(f, path, false, out);
}

static bool scalar_is(const struct doc_node *root, const char *key, const char *want)
{
	const struct doc_entry *e = doc_map_find(root, key);

	return e && e->value && e->value->kind == DOC_SCALAR && !strcmp(e->value->text, want);
}

/* sops's default for a Kubernetes Secret without a selection rule (as
 * `gitseal encrypt` applies it): only data and stringData. */
static bool is_k8s_secret(const struct doc *d)
{
	for (size_t b = 0; b < d->count; b++) {
		const struct doc_node *root = d->branches[b];

		if (!root || root->kind != DOC_MAP || !scalar_is(root, "kind", "Secret") ||
		    !scalar_is(root, "apiVersion", "v1"))
			return false;
	}
	return d->count > 0;
}

/* previous lends its data key when its keys are exactly keys, it opens and
 * verifies, and this clone made the key. */
static bool may_reuse(struct gitfilter *f, const struct doc *previous, const struct sops_key_summary *keys)
{
	struct sops_key_summary pk;
	uint8_t id[GITSEAL_KEY_ID_SIZE];
	struct doc plain;
	bool ok;

	if (!previous || sops_doc_keys(previous, &pk)) {
		gs_error_clear();
		return false;
	}
	ok = gitseal_keys_equal(&pk, keys) && gitseal_open_doc(f, previous, &plain, id) == 0 &&
	     gittrust_key_made_here(f, id);
	doc_release(&plain);
	sops_key_summary_release(&pk);
	gs_error_clear();
	return ok;
}

/* Loads the sealed bytes again: they must decrypt (when an identity of
 * ours is a recipient) to want; without one, every value the keys' rule
 * seals must be sealed. */
static int prove_sealed(struct gitfilter *f, const struct gs_buf *out, const struct doc *want,
			const struct sops_selection *sel, uint8_t id[GITSEAL_KEY_ID_SIZE], bool *have_id)
{
	const struct age_identity_list *ids = gitfilter_identities(f);
	struct sops_decrypt_opts o = { 0 };
	struct doc back;
	char where[256];
	int ret;

	*have_id = false;
	doc_init(&back, want->format);
	ret = store_load(want->format, out->data, out->len, &back);
	if (!ret && !sops_doc_is_encrypted(&back))
		ret = GS_FAIL(GS_ERR_ENCRYPT, "the output holds no sops metadata");
	if (!ret && (ids || !f->ids_error) && sops_doc_key_id(&back, ids, id) == 0) {
		*have_id = true;
		ret = sops_decrypt_doc(&back, ids, &o);
		if (!ret && !doc_equal(&back, want, where, sizeof(where)))
			ret = GS_FAIL(GS_ERR_ENCRYPT, "the output would not decrypt to the input (at %s)", where);
	} else if (!ret) {
		gs_error_clear();
		ret = sops_doc_check_sealed(&back, sel, where, sizeof(where));
	}
	doc_release(&back);
	return ret;
}

int gitseal_seal(struct gitfilter *f, struct doc *plain, const struct sops_key_summary *keys,
		 const struct doc *previous, enum gitseal_key_policy policy, struct gs_buf *out)
{
	struct sops_encrypt_opts eo = { 0 };
	uint8_t id[GITSEAL_KEY_ID_SIZE];
	struct doc want, prev;
	bool reuse = previous && policy != GITSEAL_KEY_FRESH &&
		     (policy == GITSEAL_KEY_KEEP || may_reuse(f, previous, keys)),
	     have_id;
	int ret = 0;

	doc_init(&want, plain->format);
	doc_init(&prev, plain->format);
	if (!plain->count) {
		ret = GS_FAIL(GS_ERR_EMPTY_INPUT, "nothing to encrypt: the file holds no document");
		goto out;
	}
	/* the tree to prove the output against */
	for (size_t i = 0; i < plain->count && !ret; i++) {
		struct doc_node *n = plain->branches[i] ? doc_clone(&want, plain->branches[i]) : NULL;

		ret = plain->branches[i] && !n ? GS_FAIL(GS_ERR_NOMEM, "out of memory") : doc_add_branch(&want, n);
	}
	if (ret)
		goto out;
	if (reuse && (ret = store_load(previous->format, previous->source.data, previous->source.len, &prev)))
		goto out;
	eo.groups = keys->groups;
	eo.group_count = keys->group_count;
	eo.shamir_threshold = keys->shamir_threshold;
	eo.selection = keys->selection;
	if (eo.selection.kind == SOPS_SEL_NONE && is_k8s_secret(plain)) {
		eo.selection.kind = SOPS_SEL_ENCRYPTED_REGEX;
		eo.selection.value = (char *)"^(data|stringData)$";
	}
	ret = sops_encrypt_doc(plain, &eo, reuse ? &prev : NULL, reuse ? gitfilter_identities(f) : NULL);
	if (!ret)
		ret = emit_proven(plain, out, NULL);
	if (!ret)
		ret = prove_sealed(f, out, &want, &eo.selection, id, &have_id);
	if (!ret && have_id && !reuse)
		ret = gittrust_remember_key(f, id);
out:
	if (ret)
		gs_buf_reset(out);
	doc_release(&want);
	doc_release(&prev);
	return ret;
}
