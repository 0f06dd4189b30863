/* The sops side of the filter and the merge driver: opening a version
 * git holds, and sealing a plaintext for a file's keys, proven before it
 * is handed to git (loaded again, decrypted, compared). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "gitfilter_int.h"

int gitseal_load_sealed(enum doc_format format, const uint8_t *data, size_t len, struct doc *d)
{
	int ret;

	doc_init(d, format);
	/* every sops format carries a "sops" key (sops_* in dotenv, [sops]
	 * in INI): skip parsing what cannot hold one */
	if (!len || !memmem(data, len, SOPS_METADATA_KEY, SOPS_METADATA_KEY_LEN))
		return 0;
	if ((ret = store_load(format, data, len, d)) == 0 && sops_doc_is_encrypted(d))
		return 1;
	doc_release(d);
	doc_init(d, format);
	if (ret == GS_ERR_NOMEM)
		return ret;
	gs_error_clear();
	return 0;
}

int gitseal_committed_load(struct gitfilter *f, const char *path, enum doc_format format, struct doc *d,
			   bool *sealed)
{
	struct gs_buf blob;
	bool found = false;
	int ret;

	doc_init(d, format);
	*sealed = false;
	gs_buf_init(&blob, false);
	ret = gitrepo_committed(f, path, &blob, &found);
	if (!ret && found && (ret = gitseal_load_sealed(format, blob.data, blob.len, d)) >= 0) {
		*sealed = ret == 1;
		ret = 0;
	}
	gs_buf_release(&blob);
	return ret;
}

int gitseal_worktree_load(struct gitfilter *f, const char *path, enum doc_format format, struct doc *d,
			  enum gitseal_worktree *state)
{
	char full[PATH_MAX];
	struct gs_buf text;
	int ret;

	doc_init(d, format);
	*state = GITSEAL_WT_MISSING;
	if ((size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, path) >= sizeof(full))
		return GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", gs_shown(path));
	gs_buf_init(&text, true);
	ret = gs_read_file(full, &text, STORE_MAX_INPUT);
	if (ret == GS_ERR_NOT_FOUND) {
		gs_error_clear();
		ret = 0;
	} else if (!ret && (ret = gitseal_load_sealed(format, text.data, text.len, d)) >= 0) {
		*state = ret ? GITSEAL_WT_SEALED : GITSEAL_WT_PLAIN;
		ret = 0;
	}
	gs_buf_release(&text);
	return ret;
}

/* A plaintext that does not end its last line seals to a file that does
 * not either, and opens back to it: the stores end the file with the
 * metadata they append (YAML, dotenv, INI), which says nothing of the
 * author's last byte. JSON and binary files keep it by themselves. */
static bool ends_open(enum doc_format format, const struct gs_buf *text)
{
	return sops_text_ends_open(format, text->data, text->len);
}

/* A CRLF file's line break goes whole: a CR left alone ended the text. */
static void end_open(struct gs_buf *text)
{
	size_t n = sops_text_line_end(text->data, text->len);

	if (n) {
		text->len -= n;
		text->data[text->len] = '\0';
	}
}

/* This clone's age identities (NULL: none); GS_ERR_NO_DATA_KEY, the
 * reason recorded, when loading them failed. Without an age identity, a
 * PGP or Vault entry may still open a file. A key file that could not be
 * read for want of memory is no missing key: out of memory. */
static int open_identities(struct gitfilter *f, const struct age_identity_list **ids)
{
	*ids = gitfilter_identities(f);
	if (!*ids && f->ids_code == GS_ERR_NOMEM)
		return GS_FAIL(GS_ERR_NOMEM, "%s", f->ids_error ? f->ids_error : "out of memory");
	if (!*ids && f->ids_error)
		return GS_FAIL(GS_ERR_NO_DATA_KEY, "no identity to decrypt with (%s)", f->ids_error);
	return 0;
}

int gitseal_open_text_doc(struct gitfilter *f, struct doc *cipher, struct gs_buf *plain)
{
	enum doc_format format = cipher->format;
	struct sops_open_opts oo = { .format = format };
	struct sops_emit_opts eo = { .drop_source = true };
	bool open_end = ends_open(format, &cipher->source);
	struct sops_file *sf = NULL;
	int ret;

	if ((ret = open_identities(f, &oo.ids)))
		return ret;
	/* the document the caller parsed, not its text again */
	if (!(ret = sops_file_open_doc(cipher, &oo, &sf)))
		ret = sops_plain_emit(sops_file_doc(sf), format, &eo, plain);
	sops_file_free(sf);
	doc_init(cipher, format);
	if (!ret && open_end)
		end_open(plain);
	return ret;
}

int gitseal_open(struct gitfilter *f, const struct doc *cipher, struct sops_file **out)
{
	struct sops_open_opts o = { .format = cipher->format, .reseal = true };
	int ret;

	*out = NULL;
	if ((ret = open_identities(f, &o.ids)))
		return ret;
	return sops_file_open(cipher->source.data, cipher->source.len, &o, out);
}

/* An opened version's plaintext bytes: verified, unless only compared */
static int opened_text(struct sops_file *sf, const struct doc *cipher, bool unverified, struct gs_buf *out)
{
	struct sops_emit_opts o = { .unverified = unverified };
	int ret = sops_plain_emit(sops_file_doc(sf), sops_file_format(sf), &o, out);

	if (!ret && ends_open(cipher->format, &cipher->source))
		end_open(out);
	return ret;
}

int gitseal_open_with_text(struct gitfilter *f, const struct doc *cipher, struct sops_file **out,
			   struct gs_buf *plain)
{
	int ret = gitseal_open(f, cipher, out);

	if (!ret && (ret = opened_text(*out, cipher, false, plain))) {
		sops_file_free(*out);
		*out = NULL;
	}
	return ret;
}

int gitseal_open_keys(struct gitfilter *f, enum doc_format format, struct gs_buf *text, struct sops_file **out)
{
	struct sops_open_opts o = { .format = format };
	int ret;

	*out = NULL;
	if ((ret = open_identities(f, &o.ids)))
		return ret;
	if (!text->len || !memmem(text->data, text->len, SOPS_METADATA_KEY, SOPS_METADATA_KEY_LEN))
		return GS_FAIL(GS_ERR_NO_METADATA, "sops metadata not found");
	return sops_file_open_buf(text, &o, out);
}

int gitseal_opened_text(struct sops_file *sf, const struct doc *cipher, struct gs_buf *out)
{
	/* compared with what git hands over, never written */
	return opened_text(sf, cipher, true, out);
}

int gitseal_open_doc(struct gitfilter *f, const struct doc *cipher, struct doc *plain,
		     uint8_t key_id[GITSEAL_KEY_ID_SIZE])
{
	struct sops_file *sf;
	int ret;

	doc_init(plain, cipher->format);
	if ((ret = gitseal_open(f, cipher, &sf)))
		return ret;
	if (!sops_file_key_id(sf, key_id))
		memset(key_id, 0, GITSEAL_KEY_ID_SIZE);
	/* the tree moves out; the file's metadata pointed into it and goes first */
	doc_release(plain);
	*plain = *sops_file_doc(sf);
	doc_init(sops_file_doc(sf), cipher->format);
	sops_file_free(sf);
	return 0;
}

static bool has_string(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

bool gitseal_group_has(const struct sops_key_group *g, const char *key)
{
	for (size_t i = 0; i < sops_key_group_size(g); i++)
		if (!strcmp(sops_key_group_key(g, i), key))
			return true;
	return false;
}

/* The same keys, order aside; keys of types gitseal cannot wrap for too. */
static bool same_group(const struct sops_key_group *a, const struct sops_key_group *b)
{
	if (sops_key_group_size(a) != sops_key_group_size(b) || a->foreign_count != b->foreign_count)
		return false;
	for (size_t i = 0; i < sops_key_group_size(a); i++)
		if (!gitseal_group_has(b, sops_key_group_key(a, i)))
			return false;
	for (size_t i = 0; i < a->foreign_count; i++)
		if (!has_string(b->foreign, b->foreign_count, a->foreign[i]))
			return false;
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
	if (a->group_count != b->group_count ||
	    sops_groups_needed(a->group_count, a->shamir_threshold) !=
		    sops_groups_needed(b->group_count, b->shamir_threshold))
		return false;
	for (size_t g = 0; g < a->group_count; g++)
		if (!same_group(&a->groups[g], &b->groups[g]))
			return false;
	return true;
}

static void load_id_recipients(struct gitfilter *f)
{
	const struct age_identity_list *ids = gitfilter_identities(f);
	char *one = NULL;

	f->id_recipients_tried = true;
	if (!ids || !(f->id_recipients = gs_calloc(ids->count, sizeof(*f->id_recipients))) ||
	    !(one = gs_malloc(AGE_PQ_RECIPIENT_LEN + 1)))
		return;
	for (size_t i = 0; i < ids->count; i++)
		if (age_identity_recipient_string(ids->items[i], one, AGE_PQ_RECIPIENT_LEN + 1) == 0)
			f->id_recipients[f->id_recipient_count++] = gs_strdup(one);
	gs_error_clear();
	free(one);
}

void gitseal_prepare_recipients(struct gitfilter *f)
{
	if (!f->id_recipients_tried)
		load_id_recipients(f);
}

bool gitseal_opens_by_age(struct gitfilter *f, const struct sops_key_summary *keys)
{
	gitseal_prepare_recipients(f);
	for (size_t g = 0; g < keys->group_count; g++)
		for (size_t i = 0; i < f->id_recipient_count; i++)
			if (f->id_recipients[i] &&
			    has_string(keys->groups[g].age, keys->groups[g].age_count, f->id_recipients[i]))
				return true;
	return false;
}

static int copy_strings(char ***dst, size_t *n, char *const *src, size_t count)
{
	*dst = gs_calloc(count + 1, sizeof(**dst));
	if (!*dst)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (*n = 0; *n < count; (*n)++)
		if (!((*dst)[*n] = gs_strdup(src[*n])))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

static int copy_group(struct sops_key_group *to, const struct sops_key_group *from)
{
	int ret;

	if ((ret = copy_strings(&to->age, &to->age_count, from->age, from->age_count)) ||
	    (ret = copy_strings(&to->vault_uris, &to->vault_count, from->vault_uris, from->vault_count)) ||
	    (ret = copy_strings(&to->pgp, &to->pgp_count, from->pgp, from->pgp_count)))
		return ret;
	return copy_strings(&to->foreign, &to->foreign_count, from->foreign, from->foreign_count);
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
		return GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", gs_shown(path));
	if ((ret = sops_config_match(config, full, &rule)))
		return ret;
	if (check_selection && !gittrust_selection_accepted(f, path, &rule->selection))
		return gittrust_refused_unaccepted(GS_FAIL(
			GS_ERR_CONFIG, "the creation rule for '%s' changed what is encrypted (%s%s%s%s); %s", gs_shown(path),
			rule->selection.kind ? sops_selection_key(rule->selection.kind) : "", rule->selection.kind ? " '" : "",
			rule->selection.value ? gs_shown(rule->selection.value) : "",
			rule->selection.kind ? "'" : "mac_only_encrypted", gittrust_accept_hint(path)));
	if (!(out->groups = gs_calloc(rule->group_count + 1, sizeof(*out->groups))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	out->group_count = rule->group_count;
	for (size_t g = 0; g < rule->group_count; g++) {
		if ((ret = copy_group(&out->groups[g], &rule->groups[g])))
			goto out;
		keys += sops_key_group_size(&rule->groups[g]) + rule->groups[g].foreign_count;
		out->other_keys += rule->groups[g].foreign_count;
	}
	out->shamir_threshold = rule->shamir_threshold;
	out->selection.kind = rule->selection.kind;
	out->selection.mac_only_encrypted = rule->selection.mac_only_encrypted;
	if (rule->selection.value && !(out->selection.value = gs_strdup(rule->selection.value))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!keys)
		ret = GS_FAIL(GS_ERR_CONFIG, "the creation rule for '%s' names no recipients", gs_shown(path));
out:
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

/* After the proof of the bytes with their final newline: dropping the
 * newline that ends the metadata's last line (its version) changes no
 * data in YAML, dotenv or INI; anything else keeps it. */
static void seal_end_open(struct gs_buf *out)
{
	static const char *const last[] = { "version:", "sops_version=", "version " };
	const uint8_t *end, *line;

	if (out->len < 2 || out->data[out->len - 1] != '\n')
		return;
	end = out->data + out->len - 1;
	for (line = end; line > out->data && line[-1] != '\n'; line--)
		;
	while (line < end && *line == ' ')
		line++;
	for (size_t i = 0; i < sizeof(last) / sizeof(last[0]); i++)
		if ((size_t)(end - line) > strlen(last[i]) && !memcmp(line, last[i], strlen(last[i]))) {
			end_open(out);
			return;
		}
}

/* remember_for: the path whose data key this is, to remember as made
 * here; NULL: nothing to remember. */
static int seal_with(struct gitfilter *f, struct sops_file *sf, struct doc *plain, bool fresh,
		     const char *remember_for, struct gs_buf *out)
{
	uint8_t id[GITSEAL_KEY_ID_SIZE];
	struct sops_seal_opts so = { .fresh_key = fresh, .key_id = id };
	bool open_end = ends_open(plain->format, &plain->source);
	int ret;

	if (plain->format == DOC_FORMAT_YAML)
		so.indent = store_yaml_flat_block_step(&plain->source);
	ret = sops_file_seal(sf, plain, &so, out);

	if (!ret && open_end)
		seal_end_open(out);
	if (!ret && remember_for)
		ret = gittrust_remember_key(f, remember_for, id, sops_file_keys(sf), !fresh);
	if (ret)
		gs_buf_reset(out);
	return ret;
}

int gitseal_seal_opened(struct gitfilter *f, struct sops_file *sf, struct doc *plain, struct gs_buf *out)
{
	return seal_with(f, sf, plain, false, NULL, out);
}

bool gitseal_key_keepable(struct gitfilter *f, const char *path, const struct sops_file *sf)
{
	uint8_t id[GITSEAL_KEY_ID_SIZE];

	/* the history last: it reads every version of the file */
	return sops_file_key_id(sf, id) && gittrust_key_made_here(f, path, id) && githistory_key_current(f, path, id);
}

bool gitseal_may_reuse(struct gitfilter *f, const char *path, const struct sops_file *sf,
		       const struct sops_key_summary *keys)
{
	return gitseal_keys_equal(sops_file_keys(sf), keys) && gitseal_key_keepable(f, path, sf);
}

/* updatekeys keeps the key, as sops does, only where the filter itself
 * could re-use it: a key this clone did not make for path (a ciphertext
 * copied from another file, a key someone else made) would otherwise be
 * wrapped for the added recipients. */
bool gitseal_keeps_key(struct gitfilter *f, const char *path, const struct doc *previous)
{
	struct sops_file *sf = NULL;
	bool yes = gitseal_open(f, previous, &sf) == 0 && gitseal_key_keepable(f, path, sf);

	sops_file_free(sf);
	gs_error_clear();
	return yes;
}

/* gitseal_seal, or with previous already opened (NULL: not opened here) */
static int seal_after(struct gitfilter *f, const char *path, struct doc *plain, const struct sops_key_summary *keys,
		      const struct doc *previous, struct sops_file *opened, enum gitseal_key_policy policy,
		      struct gs_buf *out)
{
	const struct age_identity_list *ids = gitfilter_identities(f);
	struct sops_key_summary k = *keys;
	struct sops_file *sf = NULL;
	struct doc prev;
	int ret = 0;

	doc_init(&prev, plain->format);
	if (!plain->count)
		return GS_FAIL(GS_ERR_EMPTY_INPUT, "nothing to encrypt: the file holds no document");
	/* sops's default for a Kubernetes Secret without a selection rule (as
	 * `gitseal encrypt` applies it): only data and stringData */
	if (k.selection.kind == SOPS_SEL_NONE && sops_config_is_k8s_secret(plain)) {
		k.selection.kind = SOPS_SEL_ENCRYPTED_REGEX;
		k.selection.value = (char *)GITSEAL_K8S_SECRET_REGEX;
	}
	if (policy == GITSEAL_KEY_IF_MADE_HERE && (opened || (previous && gitseal_open(f, previous, &sf) == 0))) {
		if (gitseal_may_reuse(f, path, opened ? opened : sf, &k)) {
			ret = gitseal_seal_opened(f, opened ? opened : sf, plain, out);
			goto out;
		}
		sops_file_free(sf);
		sf = NULL;
	}
	gs_error_clear();
	if (previous && policy == GITSEAL_KEY_KEEP && gitseal_keeps_key(f, path, previous)) {
		/* the key stays when the previous version opens (updatekeys) */
		if ((ret = store_load(previous->format, previous->source.data, previous->source.len, &prev)) ||
		    (ret = sops_file_create(plain->format, &k, &prev, ids, &sf)))
			goto out;
		/* the key kept is wrapped for whom keys names now: recorded, so
		 * that a reader removed later cannot have it re-used */
		ret = seal_with(f, sf, plain, false, path, out);
		goto out;
	}
	if (!(ret = sops_file_create(plain->format, &k, NULL, NULL, &sf)))
		ret = seal_with(f, sf, plain, true, path, out);
out:
	sops_file_free(sf);
	doc_release(&prev);
	return ret;
}

int gitseal_seal(struct gitfilter *f, const char *path, struct doc *plain, const struct sops_key_summary *keys,
		 const struct doc *previous, enum gitseal_key_policy policy, struct gs_buf *out)
{
	return seal_after(f, path, plain, keys, previous, NULL, policy, out);
}

int gitseal_seal_reusing(struct gitfilter *f, const char *path, struct doc *plain,
			 const struct sops_key_summary *keys, struct sops_file *opened, struct gs_buf *out)
{
	return seal_after(f, path, plain, keys, NULL, opened, GITSEAL_KEY_IF_MADE_HERE, out);
}
