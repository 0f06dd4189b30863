/* bcrypt_pbkdf against the vectors of OpenBSD's regress test
 * (regress/lib/libutil/bcrypt_pbkdf); keys ssh-keygen encrypted are read
 * in test_age_keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "gitseal/error.h"

#include "../../src/age/age_int.h"

static void check(const char *pass, size_t pass_len, const char *salt, size_t salt_len, unsigned rounds,
		  const char *want_hex)
{
	uint8_t key[64], want[64];
	size_t want_len;

	assert_int_equal(sodium_hex2bin(want, sizeof(want), want_hex, strlen(want_hex), NULL, &want_len, NULL), 0);
	assert_int_equal(age_bcrypt_pbkdf((const uint8_t *)pass, pass_len, (const uint8_t *)salt, salt_len, rounds,
					  key, want_len),
			 0);
	assert_memory_equal(key, want, want_len);
}

static void test_openbsd_vectors(void **state)
{
	(void)state;
	check("password", 8, "salt", 4, 4, "5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9");
	check("password", 8, "\0", 1, 4, "c12b566235eee04c212598970a579a67");
	check("\0", 1, "salt", 4, 4, "6051be18c2f4f82cbf0efee5471b4bb9");
	check("password\0", 9, "salt\0", 5, 4, "7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050");
}

/* A key longer than one 32-byte block: the blocks' bytes interleaved. The
 * first 16 bytes of a 48-byte key are not those of a 16-byte key. */
static void test_interleaved_output(void **state)
{
	uint8_t k16[16], k48[48], k32[32];

	(void)state;
	assert_int_equal(age_bcrypt_pbkdf((const uint8_t *)"pw", 2, (const uint8_t *)"salty", 5, 2, k16, 16), 0);
	assert_int_equal(age_bcrypt_pbkdf((const uint8_t *)"pw", 2, (const uint8_t *)"salty", 5, 2, k48, 48), 0);
	assert_int_equal(age_bcrypt_pbkdf((const uint8_t *)"pw", 2, (const uint8_t *)"salty", 5, 2, k32, 32), 0);
	/* 16 and 32 bytes are one block: a prefix of each other */
	assert_memory_equal(k16, k32, 16);
	/* 48 bytes: stride 2, block 1 at the even offsets */
	for (size_t i = 0; i < 24; i++)
		assert_int_equal(k48[2 * i], k32[i]);
}

static void test_bad_parameters(void **state)
{
	uint8_t key[32];

	(void)state;
	assert_int_equal(age_bcrypt_pbkdf((const uint8_t *)"pw", 2, (const uint8_t *)"s", 1, 0, key, 32), GS_ERR_KEY);
	assert_int_equal(age_bcrypt_pbkdf((const uint8_t *)"pw", 2, (const uint8_t *)"s", 0, 1, key, 32), GS_ERR_KEY);
	assert_int_equal(age_bcrypt_pbkdf((const uint8_t *)"pw", 2, (const uint8_t *)"s", 1, 1, key, 0), GS_ERR_KEY);
	gs_error_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openbsd_vectors),
		cmocka_unit_test(test_interleaved_output),
		cmocka_unit_test(test_bad_parameters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
