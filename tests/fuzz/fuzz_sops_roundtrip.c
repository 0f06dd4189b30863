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
#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the demo test key of keys/ (public in this repository) */
static const char identity_text[] =
	"AGE-SECRET-KEY-1EH2MRMPJQYUGK4GZJJFJVA5ZQ4E4X52KJDTYFRECCJLXW2KCW94S24NCT3\n";
static char recipient[128];
static struct age_identity_list ids;

static const enum doc_format formats[] = { DOC_FORMAT_YAML, DOC_FORMAT_JSON, DOC_FORMAT_DOTENV,
					   DOC_FORMAT_INI };

static void setup(void)
{
	if (gs_crypto_init() < 0 ||
	    age_identity_list_add_text(&ids, identity_text, sizeof(identity_text) - 1, "fuzz") < 0 ||
	    !ids.count || age_identity_recipient_string(ids.items[0], recipient, sizeof(recipient)) < 0)
		abort();
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
	};

	sel->kind = rules[pick & 3].kind;
	sel->value = (char *)rules[pick & 3].value;
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

/* set: the same change to the opened tree and to the expected one. */
static void set_and_check(struct sops_file *f, struct doc *want, enum doc_format format, uint8_t pick,
			  const uint8_t *text, size_t len)
{
	struct doc_node *got = pick_scalar(sops_file_doc(f), pick), *exp = pick_scalar(want, pick);
	struct sops_file *g = NULL;
	struct gs_buf sealed;

	if (!got || !exp)
		return;
	if (doc_scalar_set(sops_file_doc(f), got, DOC_STR, (const char *)text, len) < 0 ||
	    doc_scalar_set(want, exp, DOC_STR, (const char *)text, len) < 0)
		abort();
	gs_buf_init(&sealed, false);
	if (sops_file_seal(f, sops_file_doc(f), NULL, &sealed) == 0) {
		open_must_equal(&sealed, format, want, &g);
		sops_file_free(g);
	}
	gs_error_clear();
	gs_buf_release(&sealed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct sops_key_summary keys = { 0 };
	struct sops_key_group group = { 0 };
	char *age[1] = { recipient };
	enum doc_format format;
	struct sops_file *f = NULL, *opened = NULL;
	struct gs_buf sealed;
	struct doc plain;
	struct sops_seal_opts so = { 0 };
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
	if (store_load(format, data + 2, size - 2, &plain) < 0 || sops_doc_check_plain(&plain) < 0)
		goto out;
	group.age = age;
	group.age_count = 1;
	keys.groups = &group;
	keys.group_count = 1;
	selection_for((uint8_t)(data[0] >> 2), &keys.selection);
	if (sops_file_create(format, &keys, NULL, NULL, &f) < 0)
		abort();
	/* encrypt -> decrypt; sealing leaves the caller's tree as it was, but
	 * for the tags of the values it encrypts (dropped, as sops does): that
	 * tree is what must decrypt */
	if (sops_file_seal(f, &plain, &so, &sealed) < 0)
		goto out;
	open_must_equal(&sealed, format, &plain, &opened);
	/* set one value (text from the input), sealed against the opened file */
	set_and_check(opened, &plain, format, pick, data + 2, (size - 2) % 17);
out:
	gs_error_clear();
	sops_file_free(opened);
	sops_file_free(f);
	gs_buf_release(&sealed);
	doc_release(&plain);
	return 0;
}
