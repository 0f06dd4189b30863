/* The file pipeline end to end with a fixed age key: encrypt -> decrypt ->
 * set -> decrypt, for YAML, JSON, dotenv and INI documents, comparing the
 * data with doc_equal() at each step. The pipeline may refuse a document
 * (GS_ERR_VERIFY: no layout would give it back) but must never succeed
 * with bytes that decrypt to anything else: that is the crash condition,
 * with any sanitizer report. The expected tree is the caller's after
 * sealing (the tags of encrypted values go, as sops drops them).
 *
 * Input: byte 0 picks the format (bits 0-1), the selection rule (bits
 * 2-3) and whether the document is loaded as encrypt loads it (bit 4: its
 * large values left in the source text, doc.share_source, the source
 * dropped after the first layout; large is 8 bytes in the fuzz build) and
 * mac_only_encrypted (bit 5), byte 1 picks the leaf `set` changes; the rest is the document. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/age.h"
#include "gitseal/alloc.h"
#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/secmem.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the demo test key of keys/ (public in this repository) */
static const char identity_text[] =
	"AGE-SECRET-KEY-1EH2MRMPJQYUGK4GZJJFJVA5ZQ4E4X52KJDTYFRECCJLXW2KCW94S24NCT3\n";
static char recipient[128], recipient2[128], recipient3[128];
/* ids: the three keys; ids_two: the first two groups' only; ids_first:
 * the first recipient's only */
static struct age_identity_list ids, ids_two, ids_first;

static const enum doc_format formats[] = { DOC_FORMAT_YAML, DOC_FORMAT_JSON, DOC_FORMAT_DOTENV,
					   DOC_FORMAT_INI };

static void setup(void)
{
	struct age_identity *second, *third;
	char *text = gs_secure_alloc(AGE_X25519_IDENTITY_LEN + 2);

	if (!text || gs_crypto_init() < 0 ||
	    age_identity_list_add_text(&ids, identity_text, sizeof(identity_text) - 1, "fuzz") < 0 ||
	    age_identity_list_add_text(&ids_two, identity_text, sizeof(identity_text) - 1, "fuzz") < 0 ||
	    age_identity_list_add_text(&ids_first, identity_text, sizeof(identity_text) - 1, "fuzz") < 0 ||
	    !ids.count || age_identity_recipient_string(ids.items[0], recipient, sizeof(recipient)) < 0 ||
	    age_identity_generate(&second) < 0 || age_identity_generate(&third) < 0 ||
	    age_identity_recipient_string(second, recipient2, sizeof(recipient2)) < 0 ||
	    age_identity_recipient_string(third, recipient3, sizeof(recipient3)) < 0 ||
	    age_identity_encode(second, text, AGE_X25519_IDENTITY_LEN + 2) < 0 ||
	    age_identity_list_add_text(&ids_two, text, strlen(text), "fuzz") < 0 ||
	    age_identity_list_add(&ids, second) < 0 || age_identity_list_add(&ids, third) < 0)
		abort();
	gs_secure_free(text);
}

static void selection_for(uint8_t pick, struct sops_selection *sel)
{
	static const struct {
		enum sops_selection_kind kind;
		const char *value;
	} rules[] = {
		{ SOPS_SEL_NONE, NULL },
		{ SOPS_SEL_ENCRYPTED_REGEX, "^(a|data|k)" },
		{ SOPS_SEL_UNENCRYPTED_SUFFIX, "_u" },
		{ SOPS_SEL_ENCRYPTED_COMMENT_REGEX, "s" },
		{ SOPS_SEL_UNENCRYPTED_COMMENT_REGEX, "n" },
		{ SOPS_SEL_UNENCRYPTED_REGEX, "^(b|p)" },
		{ SOPS_SEL_ENCRYPTED_SUFFIX, "_e" },
		{ SOPS_SEL_UNENCRYPTED_COMMENT_REGEX, "^ *[0-9]" },
	};
	unsigned r = (pick & 3) | ((pick >> 2) & 4); /* bits 2-3 and 6 of byte 0 */

	sel->kind = rules[r].kind;
	sel->value = (char *)rules[r].value;
	/* bit 5 of byte 0: a value left in clear is then checked by the
	 * comparison of the trees alone */
	sel->mac_only_encrypted = (pick & 8) != 0;
}

static size_t count_scalars(const struct doc_node *n, int depth)
{
	size_t c = 0;

	for (size_t i = 0; n && i < n->count && depth < 300; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (!e->removed && e->value)
			c += e->value->kind == DOC_SCALAR ? 1 : count_scalars(e->value, depth + 1);
	}
	return c;
}

/* The n-th scalar leaf in document order, or NULL. */
static struct doc_node *nth_scalar(struct doc_node *n, size_t *left, int depth)
{
	for (size_t i = 0; n && i < n->count && depth < 300; i++) {
		struct doc_entry *e = &n->entries[i];
		struct doc_node *hit;

		if (e->removed || !e->value)
			continue;
		if (e->value->kind == DOC_SCALAR) {
			if ((*left)-- == 0)
				return e->value;
		} else if ((hit = nth_scalar(e->value, left, depth + 1))) {
			return hit;
		}
	}
	return NULL;
}

static struct doc_node *pick_scalar(struct doc *d, uint8_t pick)
{
	size_t count = 0, left;

	for (size_t b = 0; b < d->count; b++)
		count += count_scalars(d->branches[b], 0);
	if (!count)
		return NULL;
	left = pick % count;
	for (size_t b = 0; b < d->count; b++) {
		struct doc_node *n = nth_scalar(d->branches[b], &left, 0);

		if (n)
			return n;
	}
	return NULL;
}

/* Opens sealed bytes and requires exactly the data of want. */
static void open_must_equal(const struct gs_buf *sealed, enum doc_format format, const struct doc *want,
			    struct sops_file **out)
{
	struct sops_open_opts oo = { .format = format, .ids = &ids, .reseal = true };

	if (sops_file_open(sealed->data, sealed->len, &oo, out) < 0)
		abort(); /* sealed and proven, yet it does not open */
	if (!doc_equal(sops_file_doc(*out), want, NULL, 0))
		abort(); /* exit 0 would have lied */
}

/* The values a sealed text holds in clear (not ENC[...], not empty),
 * outside the metadata (top-level keys beginning with "sops"). */
struct clear_values {
	const struct doc_node **items;
	size_t count, cap;
};

static void collect_clear(const struct doc_node *n, int depth, struct clear_values *c)
{
	static const char enc[] = "ENC[AES256_GCM,";

	for (size_t i = 0; n && i < n->count && depth < 300; i++) {
		const struct doc_entry *e = &n->entries[i];
		const struct doc_node *v = e->value;

		if (e->removed || !v || (depth == 0 && e->key && e->key_len >= 4 && !memcmp(e->key, "sops", 4)))
			continue;
		if (v->kind == DOC_MAP || v->kind == DOC_LIST) {
			collect_clear(v, depth + 1, c);
			continue;
		}
		if (v->kind != DOC_SCALAR || !v->len || (v->len >= sizeof(enc) - 1 && !memcmp(v->text, enc, sizeof(enc) - 1)))
			continue;
		if (c->count == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 64;
			if (!(c->items = gs_realloc(c->items, c->cap * sizeof(*c->items))))
				abort();
		}
		c->items[c->count++] = v;
	}
}

static bool clear_loaded(enum doc_format format, const struct gs_buf *text, struct doc *d, struct clear_values *c)
{
	doc_init(d, format);
	if (store_load(format, text->data, text->len, d) < 0)
		return false;
	for (size_t b = 0; b < d->count; b++)
		collect_clear(d->branches[b], 0, c);
	return true;
}

/* Under unencrypted_comment_regex: every value after holds in clear is
 * one before held in clear (the check that let set write promises it,
 * at the same path; this oracle looks at the value alone). */
static void no_new_clear(enum doc_format format, const struct gs_buf *before, const struct gs_buf *after)
{
	struct clear_values was = { 0 }, now = { 0 };
	struct doc db, da;

	if (!clear_loaded(format, before, &db, &was) || !clear_loaded(format, after, &da, &now))
		abort(); /* both opened */
	for (size_t i = 0; i < now.count && was.count < 4096; i++) {
		size_t j = 0;

		while (j < was.count && (was.items[j]->len != now.items[i]->len ||
					 memcmp(was.items[j]->text, now.items[i]->text, now.items[i]->len)))
			j++;
		if (j == was.count)
			abort(); /* a value in clear that no kept version held so */
	}
	free(was.items);
	free(now.items);
	doc_release(&db);
	doc_release(&da);
}

/* set: the same change to the opened tree and to the expected one, as the
 * command checks it (before: the sealed text f was opened from). */
static void set_and_check(struct sops_file *f, struct doc *want, enum doc_format format, uint8_t pick,
			  const struct gs_buf *before, const uint8_t *text, size_t len)
{
	struct doc_node *got = pick_scalar(sops_file_doc(f), pick), *exp = pick_scalar(want, pick);
	const struct sops_selection *sel = &sops_file_keys(f)->selection;
	bool comments = sel->kind == SOPS_SEL_UNENCRYPTED_COMMENT_REGEX;
	struct sops_seal_opts so = { .fresh_key = (pick & 0x20) != 0 };
	struct sops_file *g = NULL;
	struct gs_buf sealed;

	if (!got || !exp)
		return;
	if (doc_scalar_set(sops_file_doc(f), got, DOC_STR, (const char *)text, len) < 0 ||
	    doc_scalar_set(want, exp, DOC_STR, (const char *)text, len) < 0)
		abort();
	if (comments) {
		struct doc kept, *kp = &kept;
		char where[256];
		int ret;

		doc_init(&kept, format);
		if (store_load(format, before->data, before->len, &kept) < 0)
			abort();
		ret = sops_doc_check_narrowed(sops_file_doc(f), sel, sel, &kp, 1, where, sizeof(where));
		doc_release(&kept);
		if (ret)
			return; /* set refuses */
	}
	gs_buf_init(&sealed, false);
	if (sops_file_seal(f, sops_file_doc(f), &so, &sealed) == 0) {
		open_must_equal(&sealed, format, want, &g);
		sops_file_free(g);
		g = NULL;
		/* three groups, threshold 3 (as written, whatever the text
		 * said after): two groups' keys never open it */
		if (sops_file_keys(f)->group_count == 3) {
			struct sops_open_opts oo = { .format = format, .ids = &ids_two };

			if (sops_file_open(sealed.data, sealed.len, &oo, &g) == 0)
				abort();
			sops_file_free(g);
		} else {
			/* one group of two recipients: the first still opens
			 * it alone (its entry was not dropped) */
			struct sops_open_opts oo = { .format = format, .ids = &ids_first };

			if (sops_file_open(sealed.data, sealed.len, &oo, &g) < 0)
				abort();
			sops_file_free(g);
		}
		if (comments)
			no_new_clear(format, before, &sealed);
	}
	gs_error_clear();
	gs_buf_release(&sealed);
}

/* The last occurrence of s in b (the metadata comes last in every
 * store; a key of the document may hold the same text), or NULL. */
static uint8_t *last_of(struct gs_buf *b, const char *s)
{
	size_t n = strlen(s);
	uint8_t *p = NULL, *q = b->data;

	while (q && (q = memmem(q, (size_t)(b->data + b->len - q), s, n)))
		p = q++;
	return p;
}

/* What anyone may write in the metadata (outside the MAC), by byte 1:
 * bit 7 misspells the first recipient's key, bit 6 lowers a threshold of 3
 * to 2. False when nothing changed. */
static bool edit_metadata(const struct gs_buf *in, uint8_t pick, struct gs_buf *out)
{
	uint8_t *p, *end;
	bool changed = false;

	gs_buf_init(out, false);
	if (gs_buf_append(out, in->data, in->len))
		abort();
	end = out->data + out->len;
	if ((pick & 0x40) && (p = last_of(out, "shamir_threshold"))) {
		for (p += 16; p < end && (*p == ' ' || *p == '"' || *p == ':' || *p == '=');
		     p++)
			;
		if (p < end && *p == '3') {
			*p = '2';
			changed = true;
		}
	}
	/* the key of the entry naming the first recipient misspelt: read as
	 * an entry naming none */
	if ((pick & 0x80) && (p = last_of(out, recipient))) {
		for (uint8_t *k = p; k >= out->data + 9 && (size_t)(p - k) < 32; k--)
			if (!memcmp(k - 9, "recipient", 9)) {
				k[-1] = 'x';
				changed = true;
				break;
			}
	}
	return changed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct sops_key_summary keys = { 0 };
	struct sops_key_group group[3] = { 0 };
	char *age[3] = { recipient, recipient2, recipient3 };
	enum doc_format format;
	struct sops_file *f = NULL, *opened = NULL;
	struct gs_buf sealed, edited;
	struct doc plain;
	struct sops_seal_opts so = { 0 };
	const struct gs_buf *before = &sealed;
	uint8_t pick;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 2 || size > 64 * 1024)
		return 0;
	format = formats[data[0] & 3];
	pick = data[1];
	doc_init(&plain, format);
	plain.share_source = so.drop_source = (data[0] & 0x10) != 0;
	gs_buf_init(&sealed, false);
	gs_buf_init(&edited, false);
	if (store_load(format, data + 2, size - 2, &plain) < 0 || sops_doc_check_plain(&plain) < 0)
		goto out;
	keys.group_count = data[0] & 0x80 ? 3 : 1;
	/* one group holds the first two recipients */
	for (size_t g = 0; g < keys.group_count; g++) {
		group[g].age = &age[g];
		group[g].age_count = keys.group_count == 1 ? 2 : 1;
	}
	keys.groups = group;
	keys.shamir_threshold = keys.group_count == 3 ? 3 : 0;
	selection_for((uint8_t)(data[0] >> 2), &keys.selection);
	if (sops_file_create(format, &keys, NULL, NULL, &f) < 0)
		abort();
	/* encrypt -> decrypt; sealing leaves the caller's tree as it was, but
	 * for the tags of the values it encrypts (dropped, as sops does): that
	 * tree is what must decrypt */
	if (sops_file_seal(f, &plain, &so, &sealed) < 0)
		goto out;
	open_must_equal(&sealed, format, &plain, &opened);
	if (edit_metadata(&sealed, pick, &edited)) {
		struct sops_open_opts oo = { .format = format, .ids = &ids, .reseal = true };

		sops_file_free(opened);
		opened = NULL;
		if (sops_file_open(edited.data, edited.len, &oo, &opened) < 0)
			goto out; /* the edit is refused as it is read */
		if (!doc_equal(sops_file_doc(opened), &plain, NULL, 0))
			abort();
		before = &edited;
	}
	/* set one value (text from the input), sealed against the opened file */
	set_and_check(opened, &plain, format, pick, before, data + 2, (size - 2) % 17);
out:
	gs_error_clear();
	sops_file_free(opened);
	sops_file_free(f);
	gs_buf_release(&sealed);
	gs_buf_release(&edited);
	doc_release(&plain);
	return 0;
}
