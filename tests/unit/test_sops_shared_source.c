/* The encrypt pipeline on a document that shares its source (encrypt's,
 * doc.share_source): a large value left in clear stays in the input text,
 * and the proof of a write must still compare the bytes written with the
 * tree meant, not the text with itself. A value in clear under
 * mac_only_encrypted is the hard case: the MAC does not cover it, the GCM
 * tag neither; only the comparison of the trees catches a byte changed in
 * it. Every store, the source dropped after the first layout (as encrypt
 * does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitseal/age.h"
#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/secmem.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"

/* the demo test key of keys/ (public in this repository) */
static const char identity_text[] =
	"AGE-SECRET-KEY-1EH2MRMPJQYUGK4GZJJFJVA5ZQ4E4X52KJDTYFRECCJLXW2KCW94S24NCT3\n";
static char recipient[128];
static struct age_identity_list ids;

/* the byte after it is the one a test changes */
#define MARK "MARK"

/* A document per store: "big_u" a value of 300 bytes and more, left in
 * clear by the suffix rule ("_u"); '@' stands for it. */
static const struct {
	enum doc_format format;
	const char *text;
	const char *key;  /* where big_u is: the path in a difference */
} cases[] = {
	{ DOC_FORMAT_YAML, "big_u: @\nsecret: s\n", "[\"big_u\"]" },
	{ DOC_FORMAT_JSON, "{\"big_u\": \"@\", \"secret\": \"s\"}\n", "[\"big_u\"]" },
	{ DOC_FORMAT_DOTENV, "big_u=@\nsecret=s\n", "[\"big_u\"]" },
	{ DOC_FORMAT_INI, "[s]\nbig_u = @\nsecret = s\n", "[\"s\"][\"big_u\"]" },
};

static void make_text(const char *pattern, struct gs_buf *text)
{
	for (const char *p = pattern; *p; p++) {
		if (*p != '@') {
			assert_int_equal(gs_buf_append(text, p, 1), 0);
			continue;
		}
		for (int i = 0; i < 300; i++)
			assert_int_equal(gs_buf_append(text, i == 150 ? MARK : "x", i == 150 ? 4 : 1), 0);
	}
}

static const struct doc_node *big_node(const struct doc *d)
{
	const struct doc_node *root = d->branches[0];
	const struct doc_entry *e;

	if (d->format == DOC_FORMAT_INI)
		root = doc_map_find(root, "s")->value;
	e = doc_map_find(root, "big_u");
	assert_non_null(e);
	return e->value;
}

static bool inside(const struct gs_buf *b, const struct doc_node *n)
{
	return b->data && n->text >= (const char *)b->data && n->text < (const char *)b->data + b->len;
}

/* A plaintext document as encrypt loads it (the text handed over) and a
 * file for the demo key with the suffix rule and mac_only_encrypted. */
static void load_shared(size_t i, struct doc *d, struct sops_file **f)
{
	struct sops_key_group group = { 0 };
	struct sops_key_summary keys = { 0 };
	char *age[1] = { recipient };
	struct gs_buf text;

	gs_buf_init(&text, true);
	make_text(cases[i].text, &text);
	doc_init(d, cases[i].format);
	d->share_source = true;
	assert_int_equal(store_load_buf(cases[i].format, &text, d), 0);
	assert_true(d->source_shared);
	assert_true(inside(&d->source, big_node(d)));
	group.age = age;
	group.age_count = 1;
	keys.groups = &group;
	keys.group_count = 1;
	keys.selection.kind = SOPS_SEL_UNENCRYPTED_SUFFIX;
	keys.selection.value = (char *)"_u";
	keys.selection.mac_only_encrypted = true;
	assert_int_equal(sops_file_create(cases[i].format, &keys, NULL, NULL, f), 0);
	gs_buf_release(&text);
}

/* Opens sealed bytes; whether they hold the data of want (where: the
 * first difference). */
static bool opens_to(const struct gs_buf *sealed, enum doc_format format, const struct doc *want, char *where,
		     size_t where_size)
{
	struct sops_open_opts oo = { .format = format, .ids = &ids };
	struct sops_file *g = NULL;
	bool same;

	assert_int_equal(sops_file_open(sealed->data, sealed->len, &oo, &g), 0);
	same = doc_equal(sops_file_doc(g), want, where, where_size);
	sops_file_free(g);
	return same;
}

/* What the proof checks, step by step: sealed with the source dropped,
 * the value is still in the input text (held) and in clear in the
 * output; the output opens to the tree meant; the same output with one
 * byte of that value changed still opens (neither the MAC nor a tag
 * covers it) and the comparison names the value. */
static void test_clear_shared_value_changed_differs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sops_seal_opts so = { .drop_source = true };
		struct sops_file *f = NULL;
		struct gs_buf out;
		char where[256];
		uint8_t *p;
		struct doc d;

		load_shared(i, &d, &f);
		gs_buf_init(&out, false);
		assert_int_equal(sops_file_seal(f, &d, &so, &out), 0);
		assert_null(d.source.data);
		assert_true(inside(&d.held_source, big_node(&d)));
		assert_true(opens_to(&out, cases[i].format, &d, NULL, 0));
		p = memmem(out.data, out.len, MARK, strlen(MARK));
		assert_non_null(p);
		p[strlen(MARK)] = 'A';
		assert_false(opens_to(&out, cases[i].format, &d, where, sizeof(where)));
		assert_non_null(strstr(where, cases[i].key));
		gs_buf_release(&out);
		sops_file_free(f);
		doc_release(&d);
	}
}

/* The proof itself (the test build's hook changes the byte after MARK in
 * each output before it is checked): every layout damaged, nothing is
 * returned and the error names the value; the first one damaged, the
 * fresh layout is written from the held text and opens to the tree. */
static void test_proof_catches_changed_shared_value(void **state)
{
	(void)state;
#ifndef GITSEAL_TEST_HOOKS
	skip(); /* needs the test build's hooks (make SAN=1 unit) */
#else
	setenv("GITSEAL_TEST_CORRUPT_MARK", MARK, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[SOPS_WHY_SIZE];
		struct sops_seal_opts so = { .drop_source = true, .fell_back = why };
		struct sops_file *f = NULL;
		struct gs_buf out;
		char expect[64];
		struct doc d;

		snprintf(expect, sizeof(expect), "%s differs", cases[i].key);
		load_shared(i, &d, &f);
		gs_buf_init(&out, false);
		setenv("GITSEAL_TEST_CORRUPT", "all", 1);
		assert_int_equal(sops_file_seal(f, &d, &so, &out), GS_ERR_VERIFY);
		assert_non_null(strstr(gs_error_message(), "would not give back the data given"));
		assert_non_null(strstr(gs_error_message(), expect));
		assert_int_equal(out.len, 0);
		gs_error_clear();
		sops_file_free(f);
		doc_release(&d);

		load_shared(i, &d, &f);
		setenv("GITSEAL_TEST_CORRUPT", "first", 1);
		assert_int_equal(sops_file_seal(f, &d, &so, &out), 0);
		assert_non_null(strstr(why, expect));
		assert_true(inside(&d.held_source, big_node(&d)));
		assert_non_null(memmem(out.data, out.len, MARK "x", strlen(MARK) + 1));
		assert_true(opens_to(&out, cases[i].format, &d, NULL, 0));
		gs_buf_release(&out);
		sops_file_free(f);
		doc_release(&d);
	}
	unsetenv("GITSEAL_TEST_CORRUPT");
	unsetenv("GITSEAL_TEST_CORRUPT_MARK");
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clear_shared_value_changed_differs),
		cmocka_unit_test(test_proof_catches_changed_shared_value),
	};
	int failed;

	if (gs_crypto_init() < 0 ||
	    age_identity_list_add_text(&ids, identity_text, sizeof(identity_text) - 1, "test") < 0 ||
	    age_identity_recipient_string(ids.items[0], recipient, sizeof(recipient)) < 0)
		return 1;
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	age_identity_list_release(&ids);
	return failed;
}
