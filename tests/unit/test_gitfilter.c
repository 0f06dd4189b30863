/* The git filter's in-process memos (src/git/filter.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "gitseal/secmem.h"
#include "../../src/git/gitfilter_int.h"

/* A memo's hash of a plaintext is keyed per filter: the same plaintext
 * hashes alike in one filter, differently in another, and never as
 * unkeyed BLAKE2b, which anyone could compute from a guess. */
static void test_memo_hash_keyed(void **state)
{
	static const uint8_t pin[] = "pin: 1234\n";
	uint8_t a[GITFILTER_PLAIN_HASH_SIZE], again[GITFILTER_PLAIN_HASH_SIZE];
	uint8_t b[GITFILTER_PLAIN_HASH_SIZE], plain[GITFILTER_PLAIN_HASH_SIZE];
	struct gitfilter *f1, *f2;

	(void)state;
	assert_int_equal(gitfilter_open(NULL, &f1), 0);
	assert_int_equal(gitfilter_open(NULL, &f2), 0);
	assert_true(gitfilter_memo_hash(f1, pin, sizeof(pin) - 1, a));
	assert_true(gitfilter_memo_hash(f1, pin, sizeof(pin) - 1, again));
	assert_true(gitfilter_memo_hash(f2, pin, sizeof(pin) - 1, b));
	crypto_generichash(plain, sizeof(plain), pin, sizeof(pin) - 1, NULL, 0);
	assert_memory_equal(a, again, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, plain, sizeof(a));
	assert_memory_not_equal(b, plain, sizeof(b));
	gitfilter_free(f1);
	gitfilter_free(f2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memo_hash_keyed),
	};

	if (gs_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
