/* The data key: generation, wrapping for age recipients, unwrapping with
 * identities, and Shamir sharing across key groups (spec 5.1, 7.2, 8, 9). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/pgp.h"
#include "gitseal/random.h"
#include "gitseal/shown.h"
#include "gitseal/sops.h"
#include "gitseal/vault.h"
#include "sops_int.h"

uint8_t *sops_data_key_new(void)
{
	uint8_t *k = gs_secure_alloc(SOPS_DATA_KEY_SIZE);

	if (k)
		gs_random_buf(k, SOPS_DATA_KEY_SIZE);
	return k;
}

int sops_key_wrap(const struct age_recipient *r, const uint8_t *payload, size_t len, struct gs_buf *out)
{
	struct age_recipient *one = (struct age_recipient *)r;
	struct age_recipient_list l = { &one, 1 };
	int ret;

	/* sops: one armored age file per recipient, with a final newline. */
	if ((ret = age_encrypt_mem(&l, true, payload, len, out)) < 0)
		return ret;
	if (!out->len || out->data[out->len - 1] != '\n')
		return gs_buf_append(out, "\n", 1);
	return 0;
}

struct unwrap_stats {
	size_t age_tried, pgp_tried, vault_tried;
	char age_error[256];   /* the first identity that could not be used (a passphrase not given) */
	char pgp_error[256];   /* the first PGP failure, for the message */
	char vault_error[256]; /* the first Vault failure, for the message */
};

static int unwrap_vault(const struct sops_vault_entry *v, struct gs_buf *plain)
{
	struct vault_key k;
	int ret;

	if ((ret = vault_key_init(&k, v->address, v->engine_path, v->key_name)) < 0)
		return ret;
	ret = vault_decrypt(&k, v->enc, v->enc_len, plain);
	vault_key_release(&k);
	return ret;
}

static void note_failure(char *slot, size_t cap, const struct gs_buf *plain, size_t want)
{
	if (!slot[0])
		snprintf(slot, cap, "%s", plain->len && plain->len != want ? "a key of the wrong size"
									  : gs_error_message());
}

/* The identities SOPS_AGE_KEY_CMD / SOPS_AGE_SSH_PRIVATE_KEY_CMD give for
 * the entry's recipient (sops runs them per age key it tries). */
static int age_unwrap_by_command(const struct sops_age_entry *e, size_t want, struct gs_buf *plain)
{
	const struct age_identity_list *more = NULL;
	struct age_recipient *r = NULL;

	/* the recipient is the file's text (outside the MAC): a key command
	 * gets it in SOPS_AGE_RECIPIENT only if it is a recipient */
	if (sops_identities_have_commands() && age_recipient_parse(e->recipient, &r) == 0) {
		age_recipient_free(r);
		more = sops_identities_for_recipient(e->recipient);
	}

	if (more && more->count &&
	    age_decrypt_mem(more, (const uint8_t *)e->enc, e->enc_len, plain) == 0 && plain->len == want)
		return 0;
	gs_buf_reset(plain);
	return -1;
}

enum key_type { KEY_AGE, KEY_PGP, KEY_VAULT, KEY_TYPES };

/* Each pgp entry runs gpg, each hc_vault entry makes a request, and with
 * SOPS_AGE_KEY_CMD each age recipient runs the command: the entries are
 * outside the MAC, so a tampered file could otherwise make decrypt run
 * them hundreds of thousands of times (sops tries them all). */
enum { KEY_RUNS_MAX = 64 };

/* Each age entry costs an X25519 (about 0.1 ms) or an RSA decryption
 * (ten times more) per identity: a tampered file could hold 400,000 */
enum { KEY_AGE_MAX = 1024 };

int sops_key_counts_check(size_t age, size_t runs)
{
	if (runs > KEY_RUNS_MAX)
		return GS_FAIL(GS_ERR_LIMIT, "%zu pgp and vault keys, more than %d: refusing to run gpg "
					     "or ask Vault that many times", runs, KEY_RUNS_MAX);
	if (age > KEY_AGE_MAX)
		return GS_FAIL(GS_ERR_LIMIT, "%zu age keys, more than %d", age, KEY_AGE_MAX);
	return 0;
}

static int check_key_runs(const struct sops_metadata *m)
{
	size_t runs = 0, age = 0;
	int ret;

	for (size_t g = 0; g < m->group_count; g++) {
		runs += m->groups[g].pgp_count + m->groups[g].vault_count;
		age += m->groups[g].age_count;
	}
	if ((ret = sops_key_counts_check(age, runs)) < 0)
		return ret;
	if (age > KEY_RUNS_MAX && sops_identities_have_commands())
		return GS_FAIL(GS_ERR_LIMIT, "%zu age keys with SOPS_AGE_KEY_CMD set, more than %d: "
					     "refusing to run the command that many times", age, KEY_RUNS_MAX);
	return 0;
}

/* The order in which a group's key types are tried: sops's default is
 * age, pgp, then the others in the file's order (sops.go
 * DefaultDecryptionOrder); --decryption-order puts the named types
 * (sops's identifiers: age, pgp, hc_vault) first, the rest after, in the
 * default order. Unknown names are ignored, as sops ignores them. */
static void order_types(const char *order, enum key_type out[KEY_TYPES])
{
	static const char *const names[KEY_TYPES] = { "age", "pgp", "hc_vault" };
	bool placed[KEY_TYPES] = { false };
	size_t n = 0;

	for (const char *p = order; p && *p;) {
		size_t len = strcspn(p, ",");

		for (int t = 0; t < KEY_TYPES; t++)
			if (!placed[t] && strlen(names[t]) == len && !strncmp(p, names[t], len)) {
				placed[t] = true;
				out[n++] = (enum key_type)t;
			}
		p += len + (p[len] == ',');
	}
	for (int t = 0; t < KEY_TYPES; t++)
		if (!placed[t])
			out[n++] = (enum key_type)t;
}

static const struct sops_key_cache *key_cache;

void sops_key_cache_use(const struct sops_key_cache *c)
{
	key_cache = c;
}

const struct sops_key_cache *sops_key_cache_current(void)
{
	return key_cache;
}

/* Opens one age file. With a cache, each identity is tried alone, so that
 * what is recorded is bound to the identity that opened it. */
static int age_open(const struct age_identity_list *ids, const struct sops_age_entry *e, size_t want,
		    struct gs_buf *plain)
{
	const struct sops_key_cache *c = key_cache;
	int ret = GS_ERR_AGE_NO_MATCH;

	if (!c)
		return age_decrypt_mem(ids, (const uint8_t *)e->enc, e->enc_len, plain);
	if (c->lookup(c->ctx, ids, e->enc, e->enc_len, want, plain) == 1)
		return 0;
	for (size_t i = 0; i < ids->count; i++) {
		struct age_identity_list one = { &ids->items[i], 1 };

		gs_buf_reset(plain);
		ret = age_decrypt_mem(&one, (const uint8_t *)e->enc, e->enc_len, plain);
		if (ret == 0 && plain->len == want) {
			c->opened(c->ctx, ids->items[i], e->enc, e->enc_len, plain->data, want);
			return 0;
		}
		if (ret == GS_ERR_NOMEM)
			return ret;
		if (ret == 0)
			ret = GS_ERR_AGE_PAYLOAD;
	}
	return ret;
}

static int unwrap_age(const struct sops_meta_group *g, const struct age_identity_list *ids, size_t want,
		      struct gs_buf *plain, struct unwrap_stats *st)
{
	int ret;

	for (size_t i = 0; i < g->age_count; i++) {
		if (!g->age[i].enc || !g->age[i].enc_len)
			continue;
		st->age_tried++;
		gs_buf_reset(plain);
		ret = age_open(ids, &g->age[i], want, plain);
		if (ret == 0 && plain->len == want)
			return 0;
		if (ret == GS_ERR_NOMEM)
			return ret;
		if (ret == GS_ERR_KEY && !st->age_error[0])
			snprintf(st->age_error, sizeof(st->age_error), "%s", gs_error_message());
		gs_buf_reset(plain);
		if (age_unwrap_by_command(&g->age[i], want, plain) == 0)
			return 0;
	}
	return -1;
}

static int unwrap_pgp(const struct sops_meta_group *g, size_t want, struct gs_buf *plain, struct unwrap_stats *st)
{
	int ret;

	for (size_t i = 0; i < g->pgp_count; i++) {
		if (!g->pgp[i].enc || !g->pgp[i].enc_len)
			continue;
		st->pgp_tried++;
		ret = pgp_decrypt(g->pgp[i].enc, g->pgp[i].enc_len, plain);
		if (ret == 0 && plain->len == want)
			return 0;
		if (ret == GS_ERR_NOMEM)
			return ret;
		note_failure(st->pgp_error, sizeof(st->pgp_error), plain, want);
		gs_buf_reset(plain);
	}
	return -1;
}

static int unwrap_vaults(const struct sops_meta_group *g, size_t want, struct gs_buf *plain,
			 struct unwrap_stats *st)
{
	int ret;

	for (size_t i = 0; i < g->vault_count; i++) {
		if (!g->vault[i].enc || !g->vault[i].enc_len)
			continue;
		st->vault_tried++;
		gs_buf_reset(plain);
		ret = unwrap_vault(&g->vault[i], plain);
		if (ret == 0 && plain->len == want)
			return 0;
		if (ret == GS_ERR_NOMEM)
			return ret;
		note_failure(st->vault_error, sizeof(st->vault_error), plain, want);
		gs_buf_reset(plain);
	}
	return -1;
}

/* Tries the entries of a group type by type, in order (spec 8); plain
 * receives the first payload of the wanted size. Out of memory ends the
 * search (GS_ERR_NOMEM): it says nothing of whether a key would open it. */
static int unwrap_group(const struct sops_meta_group *g, const struct age_identity_list *ids,
			const enum key_type order[KEY_TYPES], size_t want, struct gs_buf *plain,
			struct unwrap_stats *st)
{
	for (int t = 0; t < KEY_TYPES; t++) {
		int ret = order[t] == KEY_AGE ? unwrap_age(g, ids, want, plain, st)
			  : order[t] == KEY_PGP ? unwrap_pgp(g, want, plain, st)
						: unwrap_vaults(g, want, plain, st);

		if (ret == 0 || ret == GS_ERR_NOMEM)
			return ret;
	}
	return -1;
}

static int describe_count(char *out, size_t cap, int n, size_t count, const char *type, const char *error)
{
	if (!count || n < 0 || (size_t)n >= cap)
		return n;
	return n + snprintf(out + n, cap - (size_t)n, "%s%zu %s key%s%s%s",
			    strcmp(out, "tried ") ? ", " : "", count, type,
			    count == 1 ? "" : "s", error && error[0] ? ": " : "", error ? error : "");
}

/* Whether raw entry r of group g has a type an earlier entry has. */
static bool raw_type_seen(const struct sops_metadata *m, size_t g, size_t r)
{
	for (size_t h = 0; h <= g; h++)
		for (size_t q = 0; q < (h == g ? r : m->groups[h].raw_count); q++)
			if (!strcmp(m->groups[h].raw[q].type, m->groups[g].raw[r].type))
				return true;
	return false;
}

/* "; 2 keys gitseal has no client for: kms, gcp_kms": the types of m's
 * entries that sops opens through a cloud KMS (or a type gitseal does not
 * know), each named once, shown as a name from a file is. */
static int describe_other(const struct sops_metadata *m, size_t other, char *out, size_t cap, int n)
{
	size_t named = 0;

	if (!other || n < 0 || (size_t)n >= cap)
		return n;
	n += snprintf(out + n, cap - (size_t)n, "; %zu key%s gitseal has no client for: ", other,
		      other == 1 ? "" : "s");
	for (size_t g = 0; g < m->group_count; g++)
		for (size_t r = 0; r < m->groups[g].raw_count; r++)
			if (!raw_type_seen(m, g, r) && n >= 0 && (size_t)n < cap)
				n += snprintf(out + n, cap - (size_t)n, "%s%s", named++ ? ", " : "",
					      gs_shown(m->groups[g].raw[r].type));
	return n;
}

/* "tried 1 age key, 2 pgp keys: gpg: ...; 1 key gitseal has no client for:
 * kms"; with no age identity anywhere, where sops looks for one. */
static void describe_tried(const struct unwrap_stats *st, const struct sops_metadata *m, size_t other,
			   bool no_identity, char *out, size_t cap)
{
	int n = snprintf(out, cap, "tried ");
	const char *xdg = getenv("XDG_CONFIG_HOME");

	n = describe_count(out, cap, n, st->age_tried, "age", st->age_error);
	n = describe_count(out, cap, n, st->pgp_tried, "pgp", st->pgp_error);
	n = describe_count(out, cap, n, st->vault_tried, "vault", st->vault_error);
	if (!st->age_tried && !st->pgp_tried && !st->vault_tried && n >= 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, "no key");
	n = describe_other(m, other, out, cap, n);
	if (no_identity && st->age_tried && n >= 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n,
			 "; no age identity found: set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or put the key in %s%s",
			 xdg && *xdg ? "$XDG_CONFIG_HOME" : "~/.config", "/sops/age/keys.txt");
}

/* The shares of one split are points of one polynomial: when more opened
 * than m's threshold, that many give the key all of them give, unless the
 * threshold was lowered (it is outside the MAC: a pull request wrote 2 for
 * three groups that all had to open the file). m then takes the number
 * the shares need, so that a new split (groups add, rotate) does not let
 * fewer groups open the file; a different number is the user's flag. */
static int shares_threshold(struct sops_metadata *m, const uint8_t *shares, size_t got,
			    const uint8_t key[SOPS_DATA_KEY_SIZE])
{
	size_t t = m->shamir_threshold > 2 ? (size_t)m->shamir_threshold : 2;
	uint8_t *probe;

	/* 0 is every group: all opened */
	if (!m->shamir_threshold || got <= t)
		return 0;
	if (!(probe = gs_secure_alloc(SOPS_DATA_KEY_SIZE)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	/* the first t shares of the got: t = got always gives the key */
	for (; t < got; t++)
		if (sops_shamir_combine(shares, t, probe) == 0 && !sodium_memcmp(probe, key, SOPS_DATA_KEY_SIZE))
			break;
	gs_secure_free(probe);
	if (t > (size_t)m->shamir_threshold)
		m->shamir_threshold = (int)t;
	return 0;
}

int sops_data_key_unwrap(struct sops_metadata *m, const struct age_identity_list *ids, const char *order,
			 uint8_t key[SOPS_DATA_KEY_SIZE])
{
	enum key_type types[KEY_TYPES];
	static const struct age_identity_list no_ids = { NULL, 0 };
	struct gs_buf plain;
	uint8_t *shares = NULL;
	struct unwrap_stats st;
	size_t other = 0, got = 0;
	int threshold, ret = GS_ERR_NO_DATA_KEY;

	if (!ids)
		ids = &no_ids;
	if (check_key_runs(m) < 0)
		return GS_ERR_LIMIT;
	memset(&st, 0, sizeof(st));
	order_types(order, types);
	gs_buf_init(&plain, true);
	for (size_t g = 0; g < m->group_count; g++)
		other += m->groups[g].other_key_count;
	if (m->group_count == 1) {
		int r = unwrap_group(&m->groups[0], ids, types, SOPS_DATA_KEY_SIZE, &plain, &st);

		if (r == 0)
			memcpy(key, plain.data, SOPS_DATA_KEY_SIZE);
		ret = r == 0 || r == GS_ERR_NOMEM ? r : ret;
		goto out;
	}
	if (m->group_count < 2)
		goto out;
	shares = gs_secure_alloc(m->group_count * SOPS_SHARE_SIZE);
	if (!shares) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t g = 0; g < m->group_count; g++) {
		int r = unwrap_group(&m->groups[g], ids, types, SOPS_SHARE_SIZE, &plain, &st);

		if (r == GS_ERR_NOMEM) {
			ret = r;
			goto out;
		}
		if (r == 0)
			memcpy(shares + got++ * SOPS_SHARE_SIZE, plain.data, SOPS_SHARE_SIZE);
	}
	threshold = m->shamir_threshold ? m->shamir_threshold : (int)m->group_count;
	if (got >= 2 && got >= (size_t)threshold && sops_shamir_combine(shares, got, key) == 0)
		ret = shares_threshold(m, shares, got, key);
out:
	gs_buf_release(&plain);
	gs_secure_free(shares);
	if (ret == GS_ERR_NO_DATA_KEY) {
		char tried[700], problems[512];
		size_t n;

		/* what went wrong with the identity sources (age/keysource.go
		 * formatError): a missing key file, a failing key command */
		sops_identities_problems(problems, sizeof(problems));
		describe_tried(&st, m, other, !ids->count && !sops_identities_have_commands() && !problems[0],
			       tried, sizeof(tried));
		n = strlen(tried);
		if (problems[0] && n < sizeof(tried))
			snprintf(tried + n, sizeof(tried) - n, "; key sources: %s", problems);
		if (m->group_count > 1)
			return GS_FAIL(GS_ERR_NO_DATA_KEY,
				       "cannot recover the data key: %zu of %zu key groups opened, "
				       "%d needed (%s)",
				       got, m->group_count,
				       m->shamir_threshold ? m->shamir_threshold : (int)m->group_count, tried);
		return GS_FAIL(GS_ERR_NO_DATA_KEY, "cannot recover the data key: no key opened it (%s)", tried);
	}
	if (ret == 0)
		gs_error_clear();
	return ret;
}
