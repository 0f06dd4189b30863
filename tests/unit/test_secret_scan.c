/* gitseal/secret_scan.h: values and their base64 found anywhere in text,
 * base64 also wrapped over lines; short values skipped; each form once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitseal/error.h"
#include "gitseal/secmem.h"
#include "gitseal/secret_scan.h"

static bool finds(struct gs_secret_set *s, const char *text)
{
	bool found = false;

	assert_int_equal(gs_secret_set_find(s, text, strlen(text), &found), 0);
	return found;
}

static void test_value_and_base64(void **state)
{
	struct gs_secret_set *s;

	(void)state;
	assert_int_equal(gs_secret_set_new(&s), 0);
	assert_false(finds(s, "anything at all"));
	assert_int_equal(gs_secret_set_add(s, (const uint8_t *)"tok-SECRET-999", 14), 0);
	assert_true(finds(s, "tok-SECRET-999"));
	assert_true(finds(s, "prefix tok-SECRET-999 suffix"));
	assert_true(finds(s, "dG9rLVNFQ1JFVC05OTk="));
	assert_true(finds(s, "x: dG9rLVNFQ1J\n  FVC05OTk=\n"));   /* wrapped over lines */
	assert_false(finds(s, "tok-SECRET-99"));                 /* a part */
	assert_false(finds(s, "tok-SECRET-\n999"));              /* raw values are not unwrapped */
	assert_false(finds(s, "dG9rLVNFQ1JFVC05OTk"));           /* base64 is padded */
	/* the same value again is one value; a short one is none */
	assert_int_equal(gs_secret_set_add(s, (const uint8_t *)"tok-SECRET-999", 14), 0);
	assert_int_equal(gs_secret_set_add(s, (const uint8_t *)"admin", GS_SECRET_MIN_LEN - 1), 0);
	assert_int_equal(gs_secret_set_count(s), 1);
	assert_false(finds(s, "admin"));
	gs_secret_set_free(s);
}

/* Many values sharing their first bytes, and more than one bucket's
 * worth: each found, nothing else. */
static void test_many_values(void **state)
{
	struct gs_secret_set *s;
	char v[32];

	(void)state;
	assert_int_equal(gs_secret_set_new(&s), 0);
	for (int i = 0; i < 500; i++) {
		snprintf(v, sizeof(v), "shared-prefix-%d", i);
		assert_int_equal(gs_secret_set_add(s, (const uint8_t *)v, strlen(v)), 0);
	}
	assert_int_equal(gs_secret_set_count(s), 500);
	for (int i = 0; i < 500; i += 37) {
		snprintf(v, sizeof(v), "[shared-prefix-%d]", i);
		assert_true(finds(s, v));
	}
	assert_false(finds(s, "shared-prefix-"));
	assert_false(finds(s, "shared-prefix-x500"));
	gs_secret_set_free(s);
}

/* A value found in clear text is dropped with its base64, and counted no
 * more; the others stay. */
static void test_drop_found(void **state)
{
	const char *clear = "host: postgres.prod.svc\nnote: c2VjcmV0LXZhbHVl\n";
	struct gs_secret_set *s;

	(void)state;
	assert_int_equal(gs_secret_set_new(&s), 0);
	assert_int_equal(gs_secret_set_add(s, (const uint8_t *)"postgres.prod.svc", 17), 0);
	assert_int_equal(gs_secret_set_add(s, (const uint8_t *)"secret-value", 12), 0);
	assert_int_equal(gs_secret_set_add(s, (const uint8_t *)"tok-SECRET-999", 14), 0);
	assert_int_equal(gs_secret_set_drop_found(s, clear, strlen(clear)), 0);
	assert_int_equal(gs_secret_set_count(s), 1);
	assert_false(finds(s, "postgres.prod.svc"));
	assert_false(finds(s, "cG9zdGdyZXMucHJvZC5zdmM="));
	assert_false(finds(s, "secret-value"));
	assert_true(finds(s, "tok-SECRET-999"));
	assert_int_equal(gs_secret_set_add(s, (const uint8_t *)"postgres.prod.svc", 17), 0);
	assert_int_equal(gs_secret_set_count(s), 1);
	gs_secret_set_free(s);
}

/* Values that share their first bytes, and so one prefix bucket: each
 * added once (a duplicate counts once), each found with its base64, and
 * nothing else. */
static void test_shared_prefix_values(void **state)
{
	struct gs_secret_set *s;
	char v[32];

	(void)state;
	assert_int_equal(gs_secret_set_new(&s), 0);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 2000; i++) {
			snprintf(v, sizeof(v), "pass-%05d", i);
			assert_int_equal(gs_secret_set_add(s, (const uint8_t *)v, strlen(v)), 0);
		}
		assert_int_equal(gs_secret_set_count(s), 2000);
	}
	for (int i = 0; i < 2000; i++) {
		snprintf(v, sizeof(v), "[pass-%05d]", i);
		assert_true(finds(s, v));
	}
	assert_true(finds(s, "cGFzcy0wMTIzNA=="));  /* pass-01234 */
	assert_true(finds(s, "cGFzcy0wMTk5OQ=="));  /* pass-01999 */
	assert_false(finds(s, "cGFzcy0wMjAwMA==")); /* pass-02000 */
	assert_false(finds(s, "pass-02000"));
	assert_false(finds(s, "pass-0123"));
	gs_secret_set_free(s);
}

static bool unpaired(struct gs_secret_set *s, const char *text)
{
	bool yes = true;

	assert_int_equal(gs_secret_set_short_unpaired(s, text, strlen(text), &yes), 0);
	return yes;
}

/* A short value in text is unpaired unless a longer value of its own
 * group (its file) is there too, as it is or as base64, and not dropped. */
static void test_short_unpaired(void **state)
{
	struct gs_secret_set *s;

	(void)state;
	assert_int_equal(gs_secret_set_new(&s), 0);
	assert_false(unpaired(s, "5432"));
	gs_secret_set_group(s);
	assert_int_equal(gs_secret_set_add(s, (const uint8_t *)"5432", 4), 0);
	assert_int_equal(gs_secret_set_add(s, (const uint8_t *)"s3cret-pw", 9), 0);
	gs_secret_set_group(s);
	assert_int_equal(gs_secret_set_add(s, (const uint8_t *)"known-to-me", 11), 0);
	assert_int_equal(gs_secret_set_short_count(s), 1);
	assert_false(unpaired(s, "host: db\n"));
	assert_true(unpaired(s, "port: 5432\n"));
	assert_true(unpaired(s, "v: NTQzMg==\n"));                 /* its base64 */
	assert_true(unpaired(s, "x.5432.y known-to-me"));          /* a part; another file's value */
	assert_false(unpaired(s, "5432 s3cret-pw"));
	assert_false(unpaired(s, "NTQzMg== czNjcmV0LXB3"));        /* both as base64 */
	/* a longer value the repository holds in clear hides nothing */
	assert_int_equal(gs_secret_set_drop_found(s, "s3cret-pw", 9), 0);
	assert_true(unpaired(s, "5432 s3cret-pw"));
	gs_secret_set_free(s);
}

/* Many short values and a large text holding none: no comparison budget
 * is spent (each offset is hashed, not compared with every value). */
static void test_short_unpaired_large(void **state)
{
	size_t len = (size_t)4 << 20;
	struct gs_secret_set *s;
	char value[16], *text = malloc(len + 1);
	bool yes = true;

	(void)state;
	assert_non_null(text);
	memset(text, 'z', len);
	text[len] = '\0';
	assert_int_equal(gs_secret_set_new(&s), 0);
	gs_secret_set_group(s);
	for (int i = 0; i < 500; i++) {
		snprintf(value, sizeof(value), "%d", 10000 + i);
		assert_int_equal(gs_secret_set_add(s, (const uint8_t *)value, strlen(value)), 0);
	}
	assert_int_equal(gs_secret_set_short_unpaired(s, text, len, &yes), 0);
	assert_false(yes);
	memcpy(text + len - 5, "10499", 5);
	assert_int_equal(gs_secret_set_short_unpaired(s, text, len, &yes), 0);
	assert_true(yes);
	gs_secret_set_free(s);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_and_base64),
		cmocka_unit_test(test_many_values),
		cmocka_unit_test(test_drop_found),
		cmocka_unit_test(test_shared_prefix_values),
		cmocka_unit_test(test_short_unpaired),
		cmocka_unit_test(test_short_unpaired_large),
	};

	if (gs_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
