/* Known secret values found again in text (gitseal/secret_scan.h).
 *
 * Each form (a value, its base64) is indexed by a keyed hash (SipHash) of
 * its first GS_SECRET_MIN_LEN bytes; text is hashed at every position and
 * only the forms whose prefix hash is the same are compared whole, with
 * sodium_memcmp (its time depends on the length only). That is one hash a
 * byte of text, whatever the number of values: a few hundred values need
 * no automaton, and the random key leaves no one able to aim text at a
 * bucket. What stays quadratic is text that repeats the first bytes of
 * many long values without holding them: the budget bounds it.
 *
 * Values often share their first bytes (`pass-0001`, `pass-0002`, and
 * then their base64 forms too), so one prefix bucket can hold most of the
 * set. A form added is looked for among those already there through a
 * second table, by a keyed hash of the whole form (a key of its own):
 * adding n values stays near-linear where walking the prefix chain made
 * it quadratic. The hashes sit in ordinary memory: without the keys,
 * which are in secure memory, they tell nothing of the values. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/base64.h"
#include "gitseal/error.h"
#include "gitseal/secmem.h"
#include "gitseal/secret_scan.h"

/* Bytes compared whole before a search fails closed: about a second of
 * sodium_memcmp, more than any honest build needs (a full comparison
 * happens only where text starts like a value). */
#define SCAN_BUDGET ((size_t)1 << 30)

struct form {
	size_t off, len; /* in values */
	uint64_t hash;   /* of its first GS_SECRET_MIN_LEN bytes */
	size_t next;     /* the next form of its bucket, plus one (0: none) */
	uint64_t whole_hash; /* of all its bytes, with the second key */
	size_t whole_next; /* the next form of its bucket of whole_buckets, plus one */
	size_t group;    /* gs_secret_set_group: the file it came from */
	bool base64;
	bool dropped;    /* no longer looked for (gs_secret_set_drop_found) */
};

/* A value shorter than GS_SECRET_MIN_LEN, or its base64: never searched
 * for by scan, only by gs_secret_set_short_unpaired. */
struct short_form {
	size_t off, len; /* in shorts */
	size_t group;
	uint64_t hash;   /* of all its bytes, with the second key */
};

struct gs_secret_set {
	struct gs_buf values;  /* secure: every form, one after another */
	struct gs_buf compact; /* secure: text without blanks, while searched */
	struct form *forms;
	size_t form_count, form_cap;
	size_t *buckets;       /* first form of each bucket, plus one */
	size_t *whole_buckets; /* the same by whole_hash: a form added is looked for there */
	size_t bucket_count;   /* of each table: a power of two, at least twice form_count */
	size_t value_count;
	size_t short_count;    /* values added that were too short to be looked for */
	struct gs_buf shorts;  /* secure: each short value and its base64 */
	struct short_form *short_forms;
	size_t short_form_count, short_form_cap;
	size_t group;          /* of the values added now */
	size_t compared;       /* bytes compared whole, against SCAN_BUDGET */
	uint8_t *key;          /* secure: crypto_shorthash_KEYBYTES, then the whole forms' */
};

int gs_secret_set_new(struct gs_secret_set **out)
{
	struct gs_secret_set *s = gs_calloc(1, sizeof(*s));

	*out = NULL;
	if (!s || !(s->key = gs_secure_alloc(2 * crypto_shorthash_KEYBYTES))) {
		free(s);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	randombytes_buf(s->key, 2 * crypto_shorthash_KEYBYTES);
	gs_buf_init(&s->values, true);
	gs_buf_init(&s->compact, true);
	gs_buf_init(&s->shorts, true);
	*out = s;
	return 0;
}

void gs_secret_set_free(struct gs_secret_set *s)
{
	if (!s)
		return;
	gs_buf_release(&s->values);
	gs_buf_release(&s->compact);
	gs_buf_release(&s->shorts);
	gs_secure_free(s->key);
	free(s->short_forms);
	free(s->forms);
	free(s->buckets);
	free(s->whole_buckets);
	free(s);
}

size_t gs_secret_set_count(const struct gs_secret_set *s)
{
	return s->value_count;
}

size_t gs_secret_set_short_count(const struct gs_secret_set *s)
{
	return s->short_count;
}

static uint64_t prefix_hash(const struct gs_secret_set *s, const uint8_t *p)
{
	uint64_t h;

	crypto_shorthash((unsigned char *)&h, p, GS_SECRET_MIN_LEN, s->key);
	return h;
}

static uint64_t whole_hash(const struct gs_secret_set *s, const uint8_t *p, size_t len)
{
	uint64_t h;

	crypto_shorthash((unsigned char *)&h, p, len, s->key + crypto_shorthash_KEYBYTES);
	return h;
}

static void bucket_put(struct gs_secret_set *s, size_t i)
{
	size_t b = s->forms[i].hash & (s->bucket_count - 1);
	size_t w = s->forms[i].whole_hash & (s->bucket_count - 1);

	s->forms[i].next = s->buckets[b];
	s->buckets[b] = i + 1;
	s->forms[i].whole_next = s->whole_buckets[w];
	s->whole_buckets[w] = i + 1;
}

static int buckets_grow(struct gs_secret_set *s)
{
	size_t count = s->bucket_count ? s->bucket_count * 2 : 64;
	size_t *b = gs_calloc(count, sizeof(*b));
	size_t *w = gs_calloc(count, sizeof(*w));

	if (!b || !w) {
		free(b);
		free(w);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	free(s->buckets);
	free(s->whole_buckets);
	s->buckets = b;
	s->whole_buckets = w;
	s->bucket_count = count;
	for (size_t i = 0; i < s->form_count; i++)
		bucket_put(s, i);
	return 0;
}

/* The form at p (its own bytes, or already in values) in the set? */
static bool form_known(const struct gs_secret_set *s, const uint8_t *p, size_t len, uint64_t hash,
		       bool base64)
{
	for (size_t e = s->whole_buckets[hash & (s->bucket_count - 1)]; e;
	     e = s->forms[e - 1].whole_next) {
		const struct form *f = &s->forms[e - 1];

		if (f->whole_hash == hash && f->len == len && f->base64 == base64 && f->group == s->group &&
		    !sodium_memcmp(s->values.data + f->off, p, len))
			return true;
	}
	return false;
}

/* The last len bytes of values, just appended, become a form (or are
 * dropped again when the set has them). */
static int form_add(struct gs_secret_set *s, size_t len, bool base64)
{
	size_t off = s->values.len - len;
	uint64_t whole = whole_hash(s, s->values.data + off, len);
	int ret;

	if (form_known(s, s->values.data + off, len, whole, base64)) {
		sodium_memzero(s->values.data + off, len);
		s->values.len = off;
		return 0;
	}
	if ((ret = GS_ARRAY_GROW(s->forms, s->form_count, s->form_cap, 16)) < 0)
		return ret;
	s->forms[s->form_count++] = (struct form){ .off = off, .len = len,
						   .hash = prefix_hash(s, s->values.data + off),
						   .whole_hash = whole, .group = s->group, .base64 = base64 };
	if (s->form_count * 2 > s->bucket_count)
		return buckets_grow(s);
	bucket_put(s, s->form_count - 1);
	return 0;
}

void gs_secret_set_group(struct gs_secret_set *s)
{
	s->group++;
}

/* The last len bytes of shorts, just appended, become a short form. */
static int short_form_add(struct gs_secret_set *s, size_t len)
{
	int ret = GS_ARRAY_GROW(s->short_forms, s->short_form_count, s->short_form_cap, 8);

	if (ret < 0)
		return ret;
	s->short_forms[s->short_form_count++] = (struct short_form){
		.off = s->shorts.len - len, .len = len, .group = s->group,
		.hash = whole_hash(s, s->shorts.data + s->shorts.len - len, len) };
	return 0;
}

static int short_add(struct gs_secret_set *s, const uint8_t *value, size_t len)
{
	int ret;

	s->short_count++;
	if ((ret = gs_buf_append(&s->shorts, value, len)) || (ret = short_form_add(s, len)))
		return ret;
	if ((ret = gs_base64_append(&s->shorts, value, len)))
		return ret;
	return short_form_add(s, GS_BASE64_LEN(len));
}

int gs_secret_set_add(struct gs_secret_set *s, const uint8_t *value, size_t len)
{
	size_t before = s->values.len;
	int ret;

	if (len < GS_SECRET_MIN_LEN)
		return len ? short_add(s, value, len) : 0;
	if (!s->bucket_count && (ret = buckets_grow(s)))
		return ret;
	if ((ret = gs_buf_append(&s->values, value, len)) || (ret = form_add(s, len, false)))
		return ret;
	if ((ret = gs_base64_append(&s->values, value, len)) ||
	    (ret = form_add(s, GS_BASE64_LEN(len), true)))
		return ret;
	s->value_count += s->values.len > before;
	return 0;
}

/* The forms of one value are added together, its base64 right after it
 * (a value the set has already has its base64 too): a pair. */
static void pair_drop(struct gs_secret_set *s, size_t i)
{
	size_t first = i - (i % 2);

	if (s->forms[first].dropped)
		return;
	s->forms[first].dropped = s->forms[first + 1].dropped = true;
	s->value_count--;
}

/* base64_only: text had its blanks taken out, which only base64 may
 * have had inside it. drop: every form found is dropped with its pair,
 * and the search goes on; groups (not NULL): every form found marks its
 * group there, and the search goes on; else it stops at the first
 * (*found). */
static int scan(struct gs_secret_set *s, const uint8_t *text, size_t len, bool base64_only,
		bool drop, bool *groups, bool *found)
{
	for (size_t i = 0; !*found && i + GS_SECRET_MIN_LEN <= len; i++) {
		uint64_t hash = prefix_hash(s, text + i);

		for (size_t e = s->buckets[hash & (s->bucket_count - 1)]; e; e = s->forms[e - 1].next) {
			const struct form *f = &s->forms[e - 1];

			if (f->dropped || f->hash != hash || f->len > len - i || (base64_only && !f->base64))
				continue;
			if (f->len > SCAN_BUDGET - s->compared)
				return GS_FAIL(GS_ERR_LIMIT, "too much text that starts like a decrypted "
							     "value to compare");
			s->compared += f->len;
			if (sodium_memcmp(s->values.data + f->off, text + i, f->len))
				continue;
			if (groups) {
				groups[f->group] = true;
				continue;
			}
			if (!drop) {
				*found = true;
				break;
			}
			pair_drop(s, e - 1);
		}
	}
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

int gs_secret_set_find(struct gs_secret_set *s, const char *text, size_t len, bool *found)
{
	bool blanks = false;
	int ret;

	*found = false;
	if (!s->form_count || len < GS_SECRET_MIN_LEN)
		return 0;
	if ((ret = scan(s, (const uint8_t *)text, len, false, false, NULL, found)) || *found)
		return ret;
	for (size_t i = 0; i < len && !blanks; i++)
		blanks = is_blank(text[i]);
	if (!blanks)
		return 0;
	gs_buf_reset(&s->compact);
	if ((ret = gs_buf_reserve(&s->compact, len)))
		return ret;
	for (size_t i = 0; i < len; i++) {
		if (!is_blank(text[i]))
			s->compact.data[s->compact.len++] = (uint8_t)text[i];
	}
	s->compact.data[s->compact.len] = '\0';
	ret = scan(s, s->compact.data, s->compact.len, true, false, NULL, found);
	gs_buf_reset(&s->compact);
	return ret;
}

int gs_secret_set_drop_found(struct gs_secret_set *s, const char *text, size_t len)
{
	bool found = false;

	if (!s->value_count || len < GS_SECRET_MIN_LEN)
		return 0;
	return scan(s, (const uint8_t *)text, len, false, true, NULL, &found);
}

/* A short form of a group not in paired (NULL: none) that text holds.
 * Each offset is hashed once for each length the forms have (at most 8:
 * a value under GS_SECRET_MIN_LEN bytes, its base64), and only forms of
 * the same hash are compared: a search of a large Secret for many short
 * values stays linear. */
static int short_find(struct gs_secret_set *s, const uint8_t *text, size_t len, const bool *paired,
		      bool *held)
{
	enum { MAX_SHORT = GS_BASE64_LEN(GS_SECRET_MIN_LEN - 1) };
	size_t count = 16, *buckets, *next;
	bool lengths[MAX_SHORT + 1] = { false };
	int ret = 0;

	*held = false;
	while (count < 2 * s->short_form_count)
		count *= 2;
	buckets = gs_calloc(count, sizeof(*buckets));
	next = gs_calloc(s->short_form_count, sizeof(*next));
	if (!buckets || !next) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < s->short_form_count; i++) {
		const struct short_form *f = &s->short_forms[i];

		if (paired[f->group])
			continue;
		lengths[f->len] = true;
		next[i] = buckets[f->hash & (count - 1)];
		buckets[f->hash & (count - 1)] = i + 1;
	}
	for (size_t i = 0; !*held && i < len; i++) {
		for (size_t l = 1; !*held && l <= MAX_SHORT && i + l <= len; l++) {
			uint64_t hash;

			if (!lengths[l])
				continue;
			hash = whole_hash(s, text + i, l);
			for (size_t e = buckets[hash & (count - 1)]; e; e = next[e - 1]) {
				const struct short_form *f = &s->short_forms[e - 1];

				if (f->hash == hash && f->len == l &&
				    !sodium_memcmp(s->shorts.data + f->off, text + i, l)) {
					*held = true;
					break;
				}
			}
		}
	}
out:
	free(buckets);
	free(next);
	return ret;
}

int gs_secret_set_short_unpaired(struct gs_secret_set *s, const char *text, size_t len, bool *unpaired)
{
	bool *groups, found = false;
	int ret = 0;

	*unpaired = false;
	if (!s->short_form_count)
		return 0;
	if (!(groups = gs_calloc(s->group + 1, sizeof(*groups))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (s->form_count && len >= GS_SECRET_MIN_LEN)
		ret = scan(s, (const uint8_t *)text, len, false, false, groups, &found);
	if (!ret)
		ret = short_find(s, (const uint8_t *)text, len, groups, unpaired);
	free(groups);
	return ret;
}
