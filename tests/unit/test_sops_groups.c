/* Key groups and Shamir through the engine: a data key split across three
 * age groups, a quorum of two opens it, one group alone does not; reuse
 * keeps the data key and re-splits only when the groups change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitseal/config.h"
#include "gitseal/error.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"
#include "../../src/sops/sops_int.h"

enum { N_IDS = 4 };

static struct age_identity *ids[N_IDS];
static char rec[N_IDS][128];
static char *rec_ptr[N_IDS];

static const char plain_yaml[] = "user: alice\npassword: hunter2\nport: 5432\n";

static int setup(void **state)
{
	(void)state;
	if (gs_crypto_init() != 0)
		return -1;
	for (int i = 0; i < N_IDS; i++) {
		if (age_identity_generate(&ids[i]) != 0 ||
		    age_identity_recipient_string(ids[i], rec[i], sizeof(rec[i])) != 0)
			return -1;
		rec_ptr[i] = rec[i];
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < N_IDS; i++)
		age_identity_free(ids[i]);
	return 0;
}

/* An identity list holding the identities whose bit is set in mask (the
 * list borrows them: released by hand, not with age_identity_list_release). */
static void ids_for(unsigned mask, struct age_identity_list *l, struct age_identity **storage)
{
	l->items = storage;
	l->count = 0;
	for (int i = 0; i < N_IDS; i++)
		if (mask & (1u << i))
			storage[l->count++] = ids[i];
}

static void load(struct doc *d, const char *text, size_t len)
{
	doc_init(d, DOC_FORMAT_YAML);
	assert_int_equal(store_load(DOC_FORMAT_YAML, (const uint8_t *)text, len, d), 0);
}

static void emit(struct doc *d, struct gs_buf *out)
{
	struct store_emit_opts eo = { 0 };

	gs_buf_init(out, false);
	assert_int_equal(store_emit(d, DOC_FORMAT_YAML, &eo, out), 0);
}

/* Encrypts plain_yaml to groups {0}, {1}, {2} with the given threshold. */
static void encrypt_three(int threshold, struct gs_buf *out)
{
	struct sops_key_group g[3] = {
		{ .age = &rec_ptr[0], .age_count = 1 },
		{ .age = &rec_ptr[1], .age_count = 1 },
		{ .age = &rec_ptr[2], .age_count = 1 },
	};
	struct sops_encrypt_opts o = { .groups = g, .group_count = 3, .shamir_threshold = threshold };
	struct doc d;

	load(&d, plain_yaml, sizeof(plain_yaml) - 1);
	assert_int_equal(sops_encrypt_doc(&d, &o, NULL, NULL), 0);
	emit(&d, out);
	doc_release(&d);
}

static int decrypt_with(const struct gs_buf *cipher, unsigned mask, struct gs_buf *plain)
{
	struct age_identity *storage[N_IDS];
	struct age_identity_list l;
	struct sops_decrypt_opts o = { 0 };

	ids_for(mask, &l, storage);
	gs_buf_init(plain, true);
	return sops_file_decrypt(cipher->data, cipher->len, DOC_FORMAT_YAML, &l, &o, plain);
}

static void test_threshold_two_of_three(void **state)
{
	struct gs_buf cipher, plain;
	struct doc d;
	struct sops_metadata m;
	static const unsigned ok[] = { 0x3, 0x5, 0x6, 0x7 }, bad[] = { 0x1, 0x2, 0x4, 0x8, 0x0 };

	(void)state;
	encrypt_three(2, &cipher);
	/* 3.13 layout: key_groups with age and hc_vault in each, threshold on top */
	assert_non_null(strstr((char *)cipher.data, "    key_groups:\n        - age:\n"));
	assert_non_null(strstr((char *)cipher.data, "          hc_vault: []\n"));
	assert_non_null(strstr((char *)cipher.data, "    shamir_threshold: 2\n"));
	assert_null(strstr((char *)cipher.data, "\n    age:"));
	load(&d, (char *)cipher.data, cipher.len);
	assert_int_equal(sops_metadata_read(&d, &m), 0);
	assert_true(m.from_key_groups);
	assert_int_equal(m.group_count, 3);
	assert_int_equal(m.shamir_threshold, 2);
	for (size_t g = 0; g < 3; g++) {
		assert_int_equal(m.groups[g].age_count, 1);
		assert_string_equal(m.groups[g].age[0].recipient, rec[g]);
	}
	sops_metadata_release(&m);
	doc_release(&d);

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(decrypt_with(&cipher, ok[i], &plain), 0);
		assert_string_equal((char *)plain.data, plain_yaml);
		gs_buf_release(&plain);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(decrypt_with(&cipher, bad[i], &plain), GS_ERR_NO_DATA_KEY);
		gs_buf_release(&plain);
	}
	gs_buf_release(&cipher);
}

static void test_threshold_default_is_all_groups(void **state)
{
	struct gs_buf cipher, plain;

	(void)state;
	encrypt_three(0, &cipher);
	assert_non_null(strstr((char *)cipher.data, "    shamir_threshold: 3\n"));
	assert_int_equal(decrypt_with(&cipher, 0x3, &plain), GS_ERR_NO_DATA_KEY);
	gs_buf_release(&plain);
	assert_int_equal(decrypt_with(&cipher, 0x7, &plain), 0);
	gs_buf_release(&plain);
	gs_buf_release(&cipher);
}

static void test_invalid_thresholds(void **state)
{
	struct sops_key_group g[2] = {
		{ .age = &rec_ptr[0], .age_count = 1 },
		{ .age = &rec_ptr[1], .age_count = 1 },
	};
	struct sops_key_group empty[2] = { { .age = &rec_ptr[0], .age_count = 1 }, { 0 } };
	struct sops_encrypt_opts o = { .groups = g, .group_count = 2 };
	const int bad[] = { 1, 3, -1 };
	struct doc d;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		o.shamir_threshold = bad[i];
		load(&d, plain_yaml, sizeof(plain_yaml) - 1);
		assert_int_equal(sops_encrypt_doc(&d, &o, NULL, NULL), GS_ERR_CONFIG);
		doc_release(&d);
	}
	o.groups = empty;
	o.shamir_threshold = 0;
	load(&d, plain_yaml, sizeof(plain_yaml) - 1);
	assert_int_equal(sops_encrypt_doc(&d, &o, NULL, NULL), GS_ERR_USAGE);
	doc_release(&d);
}

/* The data key of an encrypted YAML text, recovered with all identities. */
static void data_key_of(const struct gs_buf *cipher, uint8_t key[SOPS_DATA_KEY_SIZE])
{
	struct age_identity *storage[N_IDS];
	struct age_identity_list l;
	struct sops_metadata m;
	struct doc d;

	ids_for(0xF, &l, storage);
	load(&d, (char *)cipher->data, cipher->len);
	assert_int_equal(sops_metadata_read(&d, &m), 0);
	assert_int_equal(sops_data_key_unwrap(&m, &l, NULL, key), 0);
	sops_metadata_release(&m);
	doc_release(&d);
}

static void reencrypt(const struct gs_buf *prev_text, const struct sops_key_group *g, size_t n, int t,
		      struct gs_buf *out)
{
	struct age_identity *storage[N_IDS];
	struct age_identity_list l;
	struct sops_encrypt_opts o = { .groups = g, .group_count = n, .shamir_threshold = t };
	struct doc d, prev;

	ids_for(0xF, &l, storage);
	load(&d, plain_yaml, sizeof(plain_yaml) - 1);
	load(&prev, (char *)prev_text->data, prev_text->len);
	assert_int_equal(sops_encrypt_doc(&d, &o, &prev, &l), 0);
	emit(&d, out);
	doc_release(&prev);
	doc_release(&d);
}

static void test_reuse_keeps_key_and_shares(void **state)
{
	struct sops_key_group same[3] = {
		{ .age = &rec_ptr[0], .age_count = 1 },
		{ .age = &rec_ptr[1], .age_count = 1 },
		{ .age = &rec_ptr[2], .age_count = 1 },
	};
	struct sops_key_group four[4] = {
		{ .age = &rec_ptr[0], .age_count = 1 },
		{ .age = &rec_ptr[1], .age_count = 1 },
		{ .age = &rec_ptr[2], .age_count = 1 },
		{ .age = &rec_ptr[3], .age_count = 1 },
	};
	struct sops_key_group one = { .age = rec_ptr, .age_count = 2 };
	uint8_t k1[SOPS_DATA_KEY_SIZE], k2[SOPS_DATA_KEY_SIZE];
	struct gs_buf v1, v2, v3, v4, plain;

	(void)state;
	encrypt_three(2, &v1);
	/* unchanged groups: byte-identical output (shares and MAC kept) */
	reencrypt(&v1, same, 3, 2, &v2);
	assert_int_equal(v1.len, v2.len);
	assert_memory_equal(v1.data, v2.data, v1.len);

	/* a fourth group: same data key, values untouched, shares new */
	reencrypt(&v1, four, 4, 3, &v3);
	data_key_of(&v1, k1);
	data_key_of(&v3, k2);
	assert_memory_equal(k1, k2, sizeof(k1));
	assert_non_null(strstr((char *)v3.data, "    shamir_threshold: 3\n"));
	assert_non_null(strstr((char *)v3.data, rec[3]));
	assert_memory_equal(v1.data, v3.data, (size_t)(strstr((char *)v1.data, "sops:") - (char *)v1.data));
	assert_int_equal(decrypt_with(&v3, 0x7, &plain), 0);
	gs_buf_release(&plain);
	assert_int_equal(decrypt_with(&v3, 0x3, &plain), GS_ERR_NO_DATA_KEY);
	gs_buf_release(&plain);

	/* back to one group: the plain data key is wrapped, flat layout */
	reencrypt(&v3, &one, 1, 0, &v4);
	data_key_of(&v4, k2);
	assert_memory_equal(k1, k2, sizeof(k1));
	assert_null(strstr((char *)v4.data, "key_groups"));
	assert_null(strstr((char *)v4.data, "shamir_threshold"));
	assert_int_equal(decrypt_with(&v4, 0x2, &plain), 0);
	assert_string_equal((char *)plain.data, plain_yaml);
	gs_buf_release(&plain);
	gs_buf_release(&v1);
	gs_buf_release(&v2);
	gs_buf_release(&v3);
	gs_buf_release(&v4);
}

/* File level: the rule's key_groups and threshold; a flag threshold wins. */
static void test_file_level_rule(void **state)
{
	char cfg[2048];
	struct sops_config *c = NULL;
	struct sops_file_encrypt_opts o = { 0 };
	struct gs_buf out, plain;

	(void)state;
	snprintf(cfg, sizeof(cfg),
		 "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n"
		 "      - age: [%s]\n      - age: [%s]\n      - age: [%s, %s]\n",
		 rec[0], rec[1], rec[2], rec[3]);
	assert_int_equal(sops_config_parse(cfg, strlen(cfg), "/tmp", &c), 0);
	o.format = DOC_FORMAT_YAML;
	o.rule_path = "/tmp/x.yaml";
	o.config = c;
	gs_buf_init(&out, false);
	assert_int_equal(sops_file_encrypt((const uint8_t *)plain_yaml, sizeof(plain_yaml) - 1, &o, &out), 0);
	assert_non_null(strstr((char *)out.data, "    shamir_threshold: 2\n"));
	assert_int_equal(decrypt_with(&out, 0x9, &plain), 0); /* groups 0 and 2 (via id 3) */
	gs_buf_release(&plain);
	assert_int_equal(decrypt_with(&out, 0xC, &plain), GS_ERR_NO_DATA_KEY); /* group 2 twice */
	gs_buf_release(&plain);
	gs_buf_release(&out);

	o.shamir_threshold = 3;
	gs_buf_init(&out, false);
	assert_int_equal(sops_file_encrypt((const uint8_t *)plain_yaml, sizeof(plain_yaml) - 1, &o, &out), 0);
	assert_non_null(strstr((char *)out.data, "    shamir_threshold: 3\n"));
	assert_int_equal(decrypt_with(&out, 0x3, &plain), GS_ERR_NO_DATA_KEY);
	gs_buf_release(&plain);
	gs_buf_release(&out);
	sops_config_free(c);
}

static void test_shamir_any_quorum(void **state)
{
	uint8_t secret[SOPS_DATA_KEY_SIZE], got[SOPS_DATA_KEY_SIZE];
	uint8_t shares[5 * SOPS_SHARE_SIZE], pick[3 * SOPS_SHARE_SIZE];

	(void)state;
	for (int i = 0; i < SOPS_DATA_KEY_SIZE; i++)
		secret[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(sops_shamir_split(secret, 5, 3, shares), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(shares[i * SOPS_SHARE_SIZE + SOPS_DATA_KEY_SIZE], i + 1);
	for (int a = 0; a < 5; a++)
		for (int b = a + 1; b < 5; b++)
			for (int c = b + 1; c < 5; c++) {
				memcpy(pick, shares + a * SOPS_SHARE_SIZE, SOPS_SHARE_SIZE);
				memcpy(pick + SOPS_SHARE_SIZE, shares + b * SOPS_SHARE_SIZE, SOPS_SHARE_SIZE);
				memcpy(pick + 2 * SOPS_SHARE_SIZE, shares + c * SOPS_SHARE_SIZE, SOPS_SHARE_SIZE);
				assert_int_equal(sops_shamir_combine(pick, 3, got), 0);
				assert_memory_equal(got, secret, sizeof(secret));
				/* two shares of a degree-2 polynomial give something else */
				assert_int_equal(sops_shamir_combine(pick, 2, got), 0);
				assert_memory_not_equal(got, secret, sizeof(secret));
			}
}

/* What updatekeys shows besides the keys: a threshold of 0 is all groups,
 * one group needs one. */
static void test_groups_change_described(void **state)
{
	static const struct {
		size_t from_groups;
		int from_threshold;
		size_t to_groups;
		int to_threshold;
		const char *text;
	} cases[] = {
		{ 3, 3, 3, 2, "  groups needed: 3 -> 2\n" },
		{ 3, 0, 3, 2, "  groups needed: 3 -> 2\n" },
		{ 3, 2, 2, 2, "  key groups: 3 -> 2\n" },
		{ 3, 0, 2, 0, "  key groups: 3 -> 2\n  groups needed: 3 -> 2\n" },
		{ 1, 0, 3, 2, "  key groups: 1 -> 3\n  groups needed: 1 -> 2\n" },
		{ 3, 0, 3, 3, "" },
		{ 1, 0, 1, 0, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gs_buf out;

		gs_buf_init(&out, false);
		assert_int_equal(sops_groups_change_describe(cases[i].from_groups, cases[i].from_threshold,
							     cases[i].to_groups, cases[i].to_threshold, "  ", &out),
				 0);
		assert_int_equal(out.len, strlen(cases[i].text));
		assert_memory_equal(out.data, cases[i].text, out.len);
		gs_buf_release(&out);
	}
	assert_int_equal(sops_groups_needed(1, 0), 1);
	assert_int_equal(sops_groups_needed(4, 0), 4);
	assert_int_equal(sops_groups_needed(4, 2), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threshold_two_of_three),
		cmocka_unit_test(test_threshold_default_is_all_groups),
		cmocka_unit_test(test_invalid_thresholds),
		cmocka_unit_test(test_reuse_keeps_key_and_shares),
		cmocka_unit_test(test_file_level_rule),
		cmocka_unit_test(test_shamir_any_quorum),
		cmocka_unit_test(test_groups_change_described),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
