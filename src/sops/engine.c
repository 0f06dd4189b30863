/* Whole-document entry points with key wrapping: decrypt with identities,
 * encrypt for key groups (Shamir across several, spec 9), re-encrypt
 * against a previous version (reuse, spec 2.5): the data key is kept, and
 * the wrapped entries too where the keys did not change. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/pgp.h"
#include "gitseal/shown.h"
#include "gitseal/vault.h"
#include "sops_int.h"

int sops_decrypt_doc(struct doc *d, const struct age_identity_list *ids,
		     const struct sops_decrypt_opts *opts)
{
	struct sops_metadata m;
	uint8_t *key = gs_secure_alloc(SOPS_DATA_KEY_SIZE);
	int ret;

	if (!key)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if ((ret = sops_metadata_read(d, &m)) < 0)
		goto out_key;
	ret = sops_data_key_unwrap(&m, ids, NULL, key);
	sops_metadata_release(&m);
	if (ret == 0)
		ret = sops_decrypt_doc_with_key(d, key, opts);
out_key:
	gs_secure_free(key);
	return ret;
}

/* The error is cleared when the version cannot be used. */
bool sops_previous_for_reuse(struct doc *previous, const struct age_identity_list *ids,
			     struct sops_previous *p)
{
	struct sops_metadata m;
	uint8_t *key = gs_secure_alloc(SOPS_DATA_KEY_SIZE);
	bool ok = false;

	memset(p, 0, sizeof(*p));
	if (!key || sops_metadata_read(previous, &m) < 0)
		goto out;
	if (sops_data_key_unwrap(&m, ids, NULL, key) == 0 && sops_previous_open_with_key(previous, key, p) == 0)
		ok = true;
	sops_metadata_release(&m);
out:
	gs_secure_free(key);
	if (!ok)
		sops_previous_release(p);
	gs_error_clear();
	return ok;
}

/* The keys of one group, parsed. */
struct enc_group {
	struct age_recipient **age;
	const char *const *age_str;
	size_t age_count;
	struct vault_key *vault;
	size_t vault_count;
	const char **pgp;              /* fingerprints, checked (plan strings) */
	size_t pgp_count;
	const char *const *foreign;    /* keys only kept from the previous version */
	size_t foreign_count;
};

struct enc_plan {
	struct enc_group *groups;
	size_t count;
	struct age_recipient_list owned_age;   /* recipients parsed here */
	struct sops_meta_group *out;           /* what is written */
	char **strings;                        /* wrapped keys and vault fields made here */
	size_t string_count;
	bool keep_unnamed;                     /* age entries with no recipient stay (set, edit) */
};

static void plan_release(struct enc_plan *p)
{
	for (size_t g = 0; g < p->count; g++) {
		for (size_t i = 0; p->groups && i < p->groups[g].vault_count; i++)
			vault_key_release(&p->groups[g].vault[i]);
		if (p->groups)
			free(p->groups[g].vault), free(p->groups[g].age), free(p->groups[g].pgp);
		if (p->out)
			free(p->out[g].age), free(p->out[g].vault), free(p->out[g].pgp);
	}
	free(p->groups);
	free(p->out);
	age_recipient_list_release(&p->owned_age);
	for (size_t i = 0; i < p->string_count; i++)
		free(p->strings[i]);
	free(p->strings);
	memset(p, 0, sizeof(*p));
}

static const char *plan_keep(struct enc_plan *p, char *s)
{
	char **grown;

	if (!s)
		return NULL;
	grown = gs_realloc(p->strings, (p->string_count + 1) * sizeof(*grown));
	if (!grown) {
		free(s);
		return NULL;
	}
	p->strings = grown;
	grown[p->string_count++] = s;
	return s;
}

/* A file with more keys than decrypt tries could not be read back. */
static int plan_check_counts(const struct enc_plan *p)
{
	size_t age = 0, runs = 0;

	for (size_t g = 0; g < p->count; g++) {
		age += p->groups[g].age_count;
		runs += p->groups[g].pgp_count + p->groups[g].vault_count;
	}
	return sops_key_counts_check(age, runs);
}

static bool has_control_byte(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int plan_parse(struct enc_plan *p, const struct sops_encrypt_opts *opts)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->count = opts->groups ? opts->group_count : 1;
	if (!p->count || p->count > 255)
		return GS_FAIL(GS_ERR_USAGE, "%zu key groups: between 1 and 255 are needed", p->count);
	p->groups = gs_calloc(p->count, sizeof(*p->groups));
	p->out = gs_calloc(p->count, sizeof(*p->out));
	if (!p->groups || !p->out)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (!opts->groups) {
		if (!opts->recipients || !opts->recipients->count || !opts->recipient_strings)
			return GS_FAIL(GS_ERR_USAGE, "no age recipients to encrypt to");
		p->groups[0].age = gs_calloc(opts->recipients->count, sizeof(*p->groups[0].age));
		if (!p->groups[0].age)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		memcpy(p->groups[0].age, opts->recipients->items,
		       opts->recipients->count * sizeof(*p->groups[0].age));
		p->groups[0].age_str = (const char *const *)opts->recipient_strings;
		p->groups[0].age_count = opts->recipients->count;
		return sops_key_counts_check(p->groups[0].age_count, 0);
	}
	for (size_t g = 0; g < p->count; g++) {
		const struct sops_key_group *kg = &opts->groups[g];
		struct enc_group *eg = &p->groups[g];

		/* (a group whose one entry names no recipient: see plan_groups_held) */
		if (!kg->age_count && !kg->vault_count && !kg->pgp_count && !opts->keep_unnamed &&
		    (!kg->foreign_count || opts->drop_unsupported_keys))
			return GS_FAIL(GS_ERR_USAGE, "key group %zu has no keys", g);
		eg->age = gs_calloc(kg->age_count + 1, sizeof(*eg->age));
		eg->vault = gs_calloc(kg->vault_count + 1, sizeof(*eg->vault));
		eg->pgp = gs_calloc(kg->pgp_count + 1, sizeof(*eg->pgp));
		if (!eg->age || !eg->vault || !eg->pgp)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		eg->foreign = (const char *const *)kg->foreign;
		eg->foreign_count = kg->foreign_count;
		for (size_t i = 0; i < kg->pgp_count; i++, eg->pgp_count++) {
			char *fp;

			if ((ret = pgp_fingerprint_parse(kg->pgp[i], &fp)) < 0)
				return ret;
			if (!(eg->pgp[i] = plan_keep(p, fp)))
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		}
		eg->age_str = (const char *const *)kg->age;
		for (size_t i = 0; i < kg->age_count; i++, eg->age_count++) {
			if ((ret = age_recipient_parse(kg->age[i], &eg->age[i])) < 0) {
				char why[256];

				/* a key that cannot be used, not input that cannot be read */
				snprintf(why, sizeof(why), "%s", gs_error_message());
				if (ret != GS_ERR_PARSE)
					return ret;
				/* named by its place when its text is a secret, or holds a
				 * control byte (metadata's: it could rewrite the terminal) */
				if (age_recipient_text_is_secret(kg->age[i]) || has_control_byte(kg->age[i]))
					return GS_FAIL(GS_ERR_KEY, "age recipient %zu: %s", i + 1, why);
				return GS_FAIL(GS_ERR_KEY, "age recipient '%s': %s", gs_shown(kg->age[i]), why);
			}
			if ((ret = age_recipient_list_add(&p->owned_age, eg->age[i])) < 0) {
				age_recipient_free(eg->age[i]);
				return ret;
			}
		}
		for (size_t i = 0; i < kg->vault_count; i++, eg->vault_count++)
			if ((ret = vault_key_parse_uri(kg->vault_uris[i], &eg->vault[i])) < 0)
				return ret;
	}
	return plan_check_counts(p);
}

static bool vault_same(const struct sops_vault_entry *e, const struct vault_key *k)
{
	size_t alen = strlen(e->address);

	while (alen && e->address[alen - 1] == '/')
		alen--;
	return alen == strlen(k->address) && !strncmp(e->address, k->address, alen) &&
	       !strcmp(e->engine_path, k->engine_path) && !strcmp(e->key_name, k->key_name);
}

static const struct sops_age_entry *find_age(const struct sops_meta_group *g, const char *recipient)
{
	for (size_t j = 0; j < g->age_count; j++)
		if (g->age[j].enc && !strcmp(g->age[j].recipient, recipient))
			return &g->age[j];
	return NULL;
}

static const struct sops_vault_entry *find_vault(const struct sops_meta_group *g, const struct vault_key *k)
{
	for (size_t j = 0; j < g->vault_count; j++)
		if (g->vault[j].enc && vault_same(&g->vault[j], k))
			return &g->vault[j];
	return NULL;
}

static const struct sops_pgp_entry *find_pgp(const struct sops_meta_group *g, const char *fp)
{
	for (size_t j = 0; j < g->pgp_count; j++)
		if (g->pgp[j].enc && !strcasecmp(g->pgp[j].fp, fp))
			return &g->pgp[j];
	return NULL;
}

/* Same keys in the same groups as before (order inside a group aside). */
static bool same_groups(const struct enc_plan *p, const struct sops_metadata *m, int threshold)
{
	if (m->group_count != p->count ||
	    (m->shamir_threshold ? m->shamir_threshold : (int)m->group_count) != threshold)
		return false;
	for (size_t g = 0; g < p->count; g++) {
		const struct enc_group *eg = &p->groups[g];

		if (m->groups[g].age_count != eg->age_count || m->groups[g].vault_count != eg->vault_count ||
		    m->groups[g].pgp_count != eg->pgp_count)
			return false;
		for (size_t i = 0; i < eg->pgp_count; i++)
			if (!find_pgp(&m->groups[g], eg->pgp[i]))
				return false;
		for (size_t i = 0; i < eg->age_count; i++)
			if (!find_age(&m->groups[g], eg->age_str[i]))
				return false;
		for (size_t i = 0; i < eg->vault_count; i++)
			if (!find_vault(&m->groups[g], &eg->vault[i]))
				return false;
	}
	return true;
}

/* One pgp entry: kept from old, else payload encrypted through gpg. */
static int wrap_pgp(struct enc_plan *p, const char *fp, const uint8_t *payload, size_t len,
		    const struct sops_meta_group *old, const char *now, struct sops_meta_group *out)
{
	const struct sops_pgp_entry *kept = old ? find_pgp(old, fp) : NULL;
	struct sops_pgp_entry *e = &out->pgp[out->pgp_count];
	struct gs_buf w;
	int ret;

	if (kept) {
		*e = *kept;
		out->pgp_count++;
		return 0;
	}
	gs_buf_init(&w, false);
	if ((ret = pgp_encrypt(fp, payload, len, &w)) < 0) {
		gs_buf_release(&w);
		gs_error_prefix("PGP key '%s'", gs_shown(fp));
		return ret;
	}
	e->enc_len = w.len;
	e->enc = plan_keep(p, (char *)gs_buf_detach(&w, NULL));
	e->fp = fp;
	e->created_at = plan_keep(p, gs_strdup(now));
	if (!e->enc || !e->created_at)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	out->pgp_count++;
	return 0;
}

/* Wraps payload for every key of group g that has no kept entry in old. */
static int wrap_group(struct enc_plan *p, size_t g, const uint8_t *payload, size_t len,
		      const struct sops_meta_group *old, const char *now)
{
	const struct enc_group *eg = &p->groups[g];
	struct sops_meta_group *out = &p->out[g];
	int ret = 0;

	out->age = gs_calloc(eg->age_count + (old ? old->age_count : 0) + 1, sizeof(*out->age));
	out->vault = gs_calloc(eg->vault_count + 1, sizeof(*out->vault));
	out->pgp = gs_calloc(eg->pgp_count + 1, sizeof(*out->pgp));
	if (!out->age || !out->vault || !out->pgp)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < eg->age_count; i++) {
		const struct sops_age_entry *kept = old ? find_age(old, eg->age_str[i]) : NULL;
		struct gs_buf w;

		if (kept) {
			out->age[out->age_count++] = *kept;
			continue;
		}
		gs_buf_init(&w, false);
		ret = sops_key_wrap(eg->age[i], payload, len, &w);
		if (ret < 0) {
			gs_buf_release(&w);
			gs_error_prefix("cannot wrap the data key for '%s'", gs_shown(eg->age_str[i]));
			return ret;
		}
		if (sops_key_cache_current())
			sops_key_cache_current()->wrapped(sops_key_cache_current()->ctx, eg->age_str[i],
							  (const char *)w.data, w.len, payload, len);
		out->age[out->age_count].recipient = eg->age_str[i];
		out->age[out->age_count].enc_len = w.len;
		out->age[out->age_count].enc = plan_keep(p, (char *)gs_buf_detach(&w, NULL));
		if (!out->age[out->age_count++].enc)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	/* an entry that names no recipient wraps the same key as before: it
	 * stays as it is, as sops keeps it (plan_carry decided it may) */
	for (size_t i = 0; old && p->keep_unnamed && i < old->age_count; i++)
		if (old->age[i].enc_len && !old->age[i].recipient[0])
			out->age[out->age_count++] = old->age[i];
	for (size_t i = 0; i < eg->pgp_count; i++)
		if ((ret = wrap_pgp(p, eg->pgp[i], payload, len, old, now, out)) < 0)
			return ret;
	for (size_t i = 0; i < eg->vault_count; i++) {
		const struct sops_vault_entry *kept = old ? find_vault(old, &eg->vault[i]) : NULL;
		struct sops_vault_entry *v = &out->vault[out->vault_count];
		struct gs_buf w;

		if (kept) {
			*v = *kept;
			out->vault_count++;
			continue;
		}
		gs_buf_init(&w, false);
		if ((ret = vault_encrypt(&eg->vault[i], payload, len, &w)) < 0) {
			gs_buf_release(&w);
			return ret;
		}
		v->enc_len = w.len;
		v->enc = plan_keep(p, (char *)gs_buf_detach(&w, NULL));
		v->address = plan_keep(p, gs_strdup(eg->vault[i].address));
		v->engine_path = plan_keep(p, gs_strdup(eg->vault[i].engine_path));
		v->key_name = plan_keep(p, gs_strdup(eg->vault[i].key_name));
		v->created_at = plan_keep(p, gs_strdup(now));
		if (!v->enc || !v->address || !v->engine_path || !v->key_name || !v->created_at)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		out->vault_count++;
	}
	return 0;
}

/* ---- keys gitseal cannot wrap for (issue 18: never drop a key entry) ---- */

static size_t foreign_entries(const struct sops_meta_group *groups, size_t count)
{
	size_t n = 0;

	for (size_t g = 0; g < count; g++)
		n += groups[g].other_key_count;
	return n;
}

/* True when group old holds the foreign key named want ("TYPE ID"). */
static int raw_holds(const struct sops_meta_group *old, const char *want, bool *found)
{
	*found = false;
	for (size_t r = 0; old && r < old->raw_count && !*found; r++) {
		const struct doc_node *list = old->raw[r].node;

		for (size_t i = 0, k = 0; i < list->count && !*found; i++) {
			const struct doc_node *e = list->entries[i].value;
			char *name;
			int ret;

			if (list->entries[i].removed || !e || e->kind == DOC_COMMENT)
				continue;
			if ((ret = sops_foreign_key_describe(old->raw[r].type, e, k++, &name)) < 0)
				return ret;
			*found = !strcmp(name, want);
			free(name);
		}
	}
	return 0;
}

/* Every foreign key group g of the plan names must be among the entries
 * it keeps (gitseal cannot add one). */
static int check_named_foreign(const struct enc_plan *p, size_t g)
{
	const struct enc_group *eg = &p->groups[g];
	int ret;

	for (size_t i = 0; i < eg->foreign_count; i++) {
		const char *name = eg->foreign[i];
		size_t type_len = strcspn(name, " ");
		bool found;

		if ((ret = raw_holds(&p->out[g], name, &found)) < 0)
			return ret;
		if (!found)
			return GS_FAIL(GS_ERR_UNSUPPORTED_KEY,
				       "cannot encrypt for the %s key '%s': gitseal cannot wrap for %s keys "
				       "(--drop-unsupported-keys leaves it out, after a confirmation)",
				       gs_shown_n(name, type_len), gs_shown(name + type_len + (name[type_len] != '\0')),
				       gs_shown_n(name, type_len));
	}
	return 0;
}

/* Entries of the previous version that are not carried over would be
 * lost: refused unless the caller asked to drop them. */
static int check_lost(const struct enc_plan *p, const struct sops_metadata *prev_meta, bool new_key,
		      bool drop)
{
	size_t before = foreign_entries(prev_meta->groups, prev_meta->group_count);
	char types[256] = "";
	size_t n = 0;

	if (drop || !before || foreign_entries(p->out, p->count) >= before)
		return 0;
	/* every type named once: "kms, gcp_kms" */
	for (size_t g = 0; g < prev_meta->group_count; g++)
		for (size_t r = 0; r < prev_meta->groups[g].raw_count; r++) {
			/* the list's name in the file, outside the MAC */
			const char *t = gs_shown(prev_meta->groups[g].raw[r].type);
			const char *at = strstr(types, t);
			size_t tl = strlen(t);

			if (at && (at == types || at[-1] == ' ') && (at[tl] == ',' || !at[tl]))
				continue;
			if (n + tl + 3 < sizeof(types))
				n += (size_t)snprintf(types + n, sizeof(types) - n, "%s%s", n ? ", " : "", t);
		}
	return GS_FAIL(GS_ERR_UNSUPPORTED_KEY,
		       "the file's %s keys would be lost: gitseal cannot wrap for them and %s "
		       "(--drop-unsupported-keys removes them, after a confirmation)",
		       types, new_key ? "a new data key is needed" : "the key groups change");
}

/* An age or PGP entry of the previous version that wraps the key but
 * names no recipient or fingerprint: entries are carried by that name, so
 * it would be left out and whoever holds its key lose the file without a
 * word (when it was the only one, no key would open what is written). */
static int check_unnamed(const struct sops_metadata *prev_meta, bool drop, bool keep_age)
{
	for (size_t g = 0; g < prev_meta->group_count && !drop; g++) {
		const struct sops_meta_group *old = &prev_meta->groups[g];

		for (size_t i = 0; i < old->age_count + old->pgp_count; i++) {
			bool age = i < old->age_count;
			size_t k = age ? i : i - old->age_count;
			bool unnamed = age ? !keep_age && old->age[k].enc_len && !old->age[k].recipient[0]
					   : old->pgp[k].enc_len && !old->pgp[k].fp[0];

			if (unnamed)
				return GS_FAIL(GS_ERR_UNSUPPORTED_KEY,
					       "the file's %s key entry %zu of group %zu names no %s: it would be "
					       "lost (--drop-unsupported-keys leaves it out, after a confirmation)",
					       age ? "age" : "pgp", k + 1, g + 1, age ? "recipient" : "fingerprint");
		}
	}
	return 0;
}

/* Every group written holds a key entry (with keep_unnamed, a group of
 * the file's own keys may have had only one that names no recipient). */
static int plan_groups_held(const struct enc_plan *p)
{
	for (size_t g = 0; g < p->count; g++)
		if (!p->out[g].age_count && !p->out[g].vault_count && !p->out[g].pgp_count && !p->out[g].raw_count)
			return GS_FAIL(GS_ERR_USAGE, "key group %zu has no keys", g);
	return 0;
}

/* How the key entries of the previous version can be kept. */
enum carry_mode {
	CARRY_ONE,   /* one group, same data key: its entries stay */
	CARRY_SAME,  /* the same groups, same data key: the shares stay */
	CARRY_NONE,  /* a new key or a new split: every entry is made anew */
};

static enum carry_mode carry_mode(const struct enc_plan *p, const struct sops_previous *prev, int threshold)
{
	if (p->count == 1)
		return prev->key && prev->meta.group_count == 1 ? CARRY_ONE : CARRY_NONE;
	return prev->key && same_groups(p, &prev->meta, threshold) ? CARRY_SAME : CARRY_NONE;
}

/* Decides which entries of prev are kept, checks that nothing would be
 * lost (before any key is wrapped: a refusal costs no gpg or Vault call). */
static int plan_carry(struct enc_plan *p, const struct sops_previous *prev, enum carry_mode mode,
		      const struct sops_metadata *prev_meta, const struct sops_encrypt_opts *opts)
{
	bool drop = opts->drop_unsupported_keys;
	int ret;

	for (size_t g = 0; g < p->count; g++) {
		const struct sops_meta_group *old = mode == CARRY_ONE ? &prev->meta.groups[0]
						    : mode == CARRY_SAME ? &prev->meta.groups[g]
									 : NULL;

		if (old) {
			p->out[g].raw = old->raw;
			p->out[g].raw_count = old->raw_count;
			p->out[g].other_key_count = old->other_key_count;
		}
	}
	if ((ret = check_lost(p, prev_meta, !prev->key, drop)) < 0)
		return ret;
	for (size_t g = 0; g < p->count && !drop; g++)
		if ((ret = check_named_foreign(p, g)) < 0)
			return ret;
	return 0;
}

/* Wraps the data key (one group) or its Shamir shares (several) for every
 * group of the plan, keeping the entries of prev where the key or share
 * stays the same. */
static int wrap_all(struct enc_plan *p, const uint8_t *key, const struct sops_previous *prev,
		    enum carry_mode mode, int threshold, const char *now)
{
	uint8_t *shares = NULL;
	int ret = 0;

	if (mode == CARRY_ONE || (mode == CARRY_NONE && p->count == 1))
		return wrap_group(p, 0, key, SOPS_DATA_KEY_SIZE, mode == CARRY_ONE ? &prev->meta.groups[0] : NULL,
				  now);
	if (mode == CARRY_SAME) {
		for (size_t g = 0; g < p->count; g++)
			if ((ret = wrap_group(p, g, NULL, 0, &prev->meta.groups[g], now)) < 0)
				return ret;
		return 0;
	}
	shares = gs_secure_alloc(p->count * SOPS_SHARE_SIZE);
	if (!shares)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if ((ret = sops_shamir_split(key, (int)p->count, threshold, shares)) < 0)
		goto out;
	/* share i belongs to group i; every key of the group wraps it */
	for (size_t g = 0; g < p->count; g++)
		if ((ret = wrap_group(p, g, shares + g * SOPS_SHARE_SIZE, SOPS_SHARE_SIZE, NULL, now)) < 0)
			goto out;
out:
	gs_secure_free(shares);
	return ret;
}

/* The Shamir threshold for the plan (0 for one group). */
static int plan_threshold(const struct enc_plan *p, const struct sops_encrypt_opts *opts, int *threshold)
{
	*threshold = 0;
	if (p->count < 2)
		return 0;
	*threshold = opts->shamir_threshold ? opts->shamir_threshold : (int)p->count;
	if (*threshold < 2 || (size_t)*threshold > p->count)
		return GS_FAIL(GS_ERR_CONFIG, "shamir threshold %d is invalid for %zu key groups (2 to %zu)",
			       *threshold, p->count, p->count);
	return 0;
}

int sops_doc_check_plain(const struct doc *d)
{
	if (sops_doc_is_encrypted(d))
		return GS_FAIL(GS_ERR_ALREADY_ENCRYPTED, "file is already encrypted");
	if (!d->count)
		return GS_FAIL(GS_ERR_EMPTY_INPUT, "file has no document to encrypt");
	return 0;
}

int sops_encrypt_doc(struct doc *d, const struct sops_encrypt_opts *opts, struct doc *previous,
		     const struct age_identity_list *ids)
{
	struct sops_previous prev;
	struct sops_metadata prev_meta;
	bool reuse = false;
	int ret;

	memset(&prev, 0, sizeof(prev));
	memset(&prev_meta, 0, sizeof(prev_meta));
	/* The previous version's metadata tells which key entries it holds,
	 * whether or not it can be reused. */
	if (previous && sops_doc_is_encrypted(previous) && sops_metadata_read(previous, &prev_meta) < 0)
		gs_error_clear();
	if (previous && opts && !opts->new_data_key && prev_meta.group_count)
		reuse = sops_previous_for_reuse(previous, ids, &prev);
	ret = sops_encrypt_doc_reusing(d, opts, &prev_meta, reuse ? &prev : NULL, NULL, NULL);
	sops_previous_release(&prev);
	sops_metadata_release(&prev_meta);
	return ret;
}

int sops_encrypt_doc_reusing(struct doc *d, const struct sops_encrypt_opts *opts,
			     const struct sops_metadata *prev_meta, const struct sops_previous *prev_in,
			     uint8_t *key_out, struct sops_undo *undo)
{
	static const struct sops_metadata no_meta;
	struct sops_previous prev;
	struct enc_plan plan;
	enum carry_mode mode;
	uint8_t *key = NULL;
	char now[32];
	int threshold = 0;
	int ret;

	memset(&plan, 0, sizeof(plan));
	/* a copy of the handle: the key and stash stay the caller's */
	memset(&prev, 0, sizeof(prev));
	if ((ret = sops_doc_check_plain(d)) < 0)
		return ret;
	if (!opts)
		return GS_FAIL(GS_ERR_USAGE, "no age recipients to encrypt to");
	if (!prev_meta)
		prev_meta = &no_meta;
	/* Reuse keeps the data key even when the keys changed (as sops's
	 * updatekeys and groups do): entries of keys that stay are kept, new
	 * keys get the same key (or a fresh split of it) wrapped. Removing a
	 * key is therefore no revocation; `rotate` (new_data_key) is. */
	if (prev_in && prev_in->key && !opts->new_data_key)
		prev = *prev_in;
	if ((!opts->keep_unnamed && (ret = check_unnamed(prev_meta, opts->drop_unsupported_keys, false)) < 0) ||
	    (ret = plan_parse(&plan, opts)) < 0 || (ret = plan_threshold(&plan, opts, &threshold)) < 0 ||
	    (ret = sops_time_now(now)) < 0)
		goto out;
	key = prev.key ? gs_secure_alloc(SOPS_DATA_KEY_SIZE) : sops_data_key_new();
	if (!key) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (prev.key)
		memcpy(key, prev.key, SOPS_DATA_KEY_SIZE);
	mode = carry_mode(&plan, &prev, threshold);
	/* with the file's own keys and data key, an age entry that names no
	 * recipient is kept: it lets read whoever read before, no one else.
	 * Where keys change or the key is new, it cannot be carried, nor
	 * compared with a rule: refused, or left out with
	 * --drop-unsupported-keys (check_unnamed) */
	plan.keep_unnamed = opts->keep_unnamed && mode != CARRY_NONE && prev_meta == &prev_in->meta;
	if ((opts->keep_unnamed && (ret = check_unnamed(prev_meta, opts->drop_unsupported_keys, plan.keep_unnamed)) < 0) ||
	    (ret = plan_carry(&plan, &prev, mode, prev_meta, opts)) < 0 ||
	    (ret = wrap_all(&plan, key, &prev, mode, threshold, now)) < 0 || (ret = plan_groups_held(&plan)) < 0)
		goto out;
	ret = sops_encrypt_with_key_undo(d, key, plan.out, plan.count,
					 plan.count > 1 ? threshold : opts->shamir_threshold,
					 &opts->selection, prev.key ? &prev : NULL, NULL, undo);
	if (ret == 0 && key_out)
		memcpy(key_out, key, SOPS_DATA_KEY_SIZE);
out:
	gs_secure_free(key);
	plan_release(&plan);
	return ret;
}
