/* gitseal/hmac.h: RFC 4231's HMAC-SHA-256 vectors through libsodium (before
 * libcrypto is loaded) and through OpenSSL (after), a key longer than a
 * block, updates split anywhere, a state used again after final. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "gitseal/dynlib.h"
#include "gitseal/hmac.h"

struct vector {
	uint8_t key[131];
	size_t key_len;
	const char *data;
	uint8_t mac[GS_HMAC_SHA256_SIZE];
};

static struct vector vectors[3];

/* RFC 4231 test cases 1, 2 and 6 (a 131-byte key, hashed first) */
static void make_vectors(void)
{
	static const char *const macs[] = {
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	};
	size_t n;

	memset(vectors[0].key, 0x0b, 20);
	vectors[0].key_len = 20;
	vectors[0].data = "Hi There";
	memcpy(vectors[1].key, "Jefe", 4);
	vectors[1].key_len = 4;
	vectors[1].data = "what do ya want for nothing?";
	memset(vectors[2].key, 0xaa, 131);
	vectors[2].key_len = 131;
	vectors[2].data = "Test Using Larger Than Block-Size Key - Hash Key First";
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(sodium_hex2bin(vectors[i].mac, sizeof(vectors[i].mac), macs[i], 64, NULL, &n, NULL), 0);
}

/* Every vector through one state, the data in two updates split at each
 * place; *evp says which implementation served. */
static void check_vectors(bool *evp)
{
	struct gs_hmac_sha256 h = { 0 };
	uint8_t mac[GS_HMAC_SHA256_SIZE];

	for (size_t i = 0; i < 3; i++) {
		size_t len = strlen(vectors[i].data);

		for (size_t cut = 0; cut <= len; cut++) {
			assert_int_equal(gs_hmac_sha256_init(&h, vectors[i].key, vectors[i].key_len), 0);
			assert_int_equal(gs_hmac_sha256_update(&h, vectors[i].data, cut), 0);
			assert_int_equal(gs_hmac_sha256_update(&h, vectors[i].data + cut, len - cut), 0);
			assert_int_equal(gs_hmac_sha256_final(&h, mac), 0);
			assert_memory_equal(mac, vectors[i].mac, sizeof(mac));
		}
	}
	*evp = h.evp != NULL;
	gs_hmac_sha256_release(&h);
	assert_null(h.evp);
}

static void test_libsodium_before_libcrypto(void **state)
{
	bool evp = true;

	(void)state;
	assert_false(gs_libcrypto_loaded());
	check_vectors(&evp);
	assert_false(evp);
}

static void test_openssl_once_loaded(void **state)
{
	bool evp = false;

	(void)state;
	assert_int_equal(gs_libcrypto_load(), 0);
	assert_true(gs_libcrypto_loaded());
	check_vectors(&evp);
	assert_true(evp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libsodium_before_libcrypto),
		cmocka_unit_test(test_openssl_once_loaded),
	};

	if (sodium_init() < 0)
		return 1;
	make_vectors();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
