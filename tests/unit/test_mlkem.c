/* ML-KEM-768 against the CCTV vectors in shared/testdata/ml-kem (read its
 * NOTE.md: they were made for the 2023 draft, so their key-generation
 * values do not apply, their encapsulation, decapsulation, implicit
 * rejection and modulus-check values do) and the accumulated 10,000-test
 * digest for FIPS 203 final. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <zlib.h>

#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/pq.h"
#include "gitseal/secmem.h"

#include "../../src/pq/pq_int.h"

/* shared/spec/age-pq.md 6.4 and testdata/ml-kem/NOTE.md */
#define ACCUMULATED_10000 "f959d18d3d1180121433bf0e05f11e7908cf9d03edc150b2b07cb90bef5bc1c1"
#define ACCUMULATED_100 "8d65b902f28edc683cebee2872962fd165a4d197c9e24ec74caa4470270df0b7"

static const char *vector_dir(void)
{
	static char dir[4096];
	const char *shared = getenv("GITSEAL_SHARED");

	snprintf(dir, sizeof(dir), "%s/testdata/ml-kem", shared ? shared : "../shared");
	return dir;
}

/* Reads a "name = hex" vector file; returns false when shared is absent. */
static bool read_vector_file(const char *rel, struct gs_buf *text)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", vector_dir(), rel);
	gs_buf_init(text, false);
	if (gs_read_file(path, text, 16 << 20) != 0) {
		print_message("skipped: %s is absent (no ../shared)\n", path);
		gs_error_clear();
		return false;
	}
	return true;
}

/* The hex value of "name = ..." (the first occurrence), decoded. */
static void field(const struct gs_buf *text, const char *name, uint8_t *out, size_t want)
{
	char key[64];
	const char *p, *eol;
	size_t n;

	snprintf(key, sizeof(key), "\n%s = ", name);
	p = strstr((const char *)text->data, key + 1) == (const char *)text->data
		    ? (const char *)text->data
		    : strstr((const char *)text->data, key);
	if (!p)
		fail_msg("no field '%s'", name);
	p = strstr(p, " = ") + 3;
	eol = strchr(p, '\n');
	if (!eol)
		eol = p + strlen(p);
	if (sodium_hex2bin(out, want, p, (size_t)(eol - p), NULL, &n, NULL) != 0 || n != want)
		fail_msg("field '%s' is not %zu bytes of hex", name, want);
}

/* The modulus check at its boundary, for both values of a 3-byte pair. */
static void test_modulus_check_boundary(void **state)
{
	uint8_t ek[MLKEM768_EK_SIZE] = { 0 };

	(void)state;
	assert_true(mlkem768_ek_is_valid(ek));
	ek[1] = 0x0d; /* first value 0xd00 = 3328 = q - 1 */
	assert_true(mlkem768_ek_is_valid(ek));
	ek[0] = 0x01; /* 0xd01 = q */
	assert_false(mlkem768_ek_is_valid(ek));
	memset(ek, 0, sizeof(ek));
	ek[1151] = 0xd0; /* last value of t: 0xd00 */
	assert_true(mlkem768_ek_is_valid(ek));
	ek[1150] = 0x10; /* 0xd01 */
	assert_false(mlkem768_ek_is_valid(ek));
	memset(ek, 0, sizeof(ek));
	memset(ek + 1152, 0xff, 32); /* rho is not checked */
	assert_true(mlkem768_ek_is_valid(ek));
}

/* Encaps(ek, m) = (K, c) and Decaps(dk, c) = K for a file that has
 * ek, dk, m, K and c; a changed c is implicitly rejected. */
static void check_encaps_decaps(const char *rel)
{
	struct gs_buf text;
	uint8_t *ek = malloc(MLKEM768_EK_SIZE), *dk = gs_secure_alloc(MLKEM768_DK_SIZE);
	uint8_t m[32], k[32], got_k[32], c[MLKEM768_CT_SIZE], got_c[MLKEM768_CT_SIZE];

	if (!read_vector_file(rel, &text)) {
		free(ek);
		gs_secure_free(dk);
		skip();
	}
	field(&text, "ek", ek, MLKEM768_EK_SIZE);
	field(&text, "dk", dk, MLKEM768_DK_SIZE);
	field(&text, "m", m, 32);
	field(&text, "K", k, 32);
	field(&text, "c", c, MLKEM768_CT_SIZE);
	assert_int_equal(mlkem768_encaps(ek, m, got_c, got_k), 0);
	assert_memory_equal(got_c, c, sizeof(c));
	assert_memory_equal(got_k, k, 32);
	assert_int_equal(mlkem768_decaps(dk, c, got_k), 0);
	assert_memory_equal(got_k, k, 32);
	c[0] ^= 1;
	assert_int_equal(mlkem768_decaps(dk, c, got_k), 0);
	assert_memory_not_equal(got_k, k, 32);
	free(ek);
	gs_secure_free(dk);
	gs_buf_release(&text);
}

static void test_intermediate(void **state)
{
	(void)state;
	check_encaps_decaps("intermediate/ML-KEM-768.txt");
}

/* Implicit rejection returns J(z || c) = SHAKE256(z || c, 32), z being
 * the last 32 bytes of dk: the file's KBar is that value for its c, and
 * a changed c decapsulates to the same function of itself. */
static void test_implicit_rejection_key(void **state)
{
	struct gs_buf text;
	uint8_t *dk = gs_secure_alloc(MLKEM768_DK_SIZE), c[MLKEM768_CT_SIZE], k_bar[32], want[32], got[32];
	struct pq_hash h;

	(void)state;
	if (!read_vector_file("intermediate/ML-KEM-768.txt", &text)) {
		gs_secure_free(dk);
		skip();
	}
	field(&text, "dk", dk, MLKEM768_DK_SIZE);
	field(&text, "c", c, MLKEM768_CT_SIZE);
	field(&text, "KBar", k_bar, 32);
	assert_int_equal(pq_hash_init(&h), 0);
	assert_int_equal(pq_hash(&h, PQ_SHAKE256, dk + MLKEM768_DK_SIZE - 32, 32, c, sizeof(c), want, 32), 0);
	assert_memory_equal(want, k_bar, 32);
	c[MLKEM768_CT_SIZE - 1] ^= 0x80;
	assert_int_equal(pq_hash(&h, PQ_SHAKE256, dk + MLKEM768_DK_SIZE - 32, 32, c, sizeof(c), want, 32), 0);
	assert_int_equal(mlkem768_decaps(dk, c, got), 0);
	assert_memory_equal(got, want, 32);
	pq_hash_release(&h);
	gs_secure_free(dk);
	gs_buf_release(&text);
}

static void test_strcmp(void **state)
{
	struct gs_buf text;
	uint8_t *dk = gs_secure_alloc(MLKEM768_DK_SIZE), c[MLKEM768_CT_SIZE], k[32], got[32];

	(void)state;
	if (!read_vector_file("strcmp/ML-KEM-768.txt", &text)) {
		gs_secure_free(dk);
		skip();
	}
	field(&text, "dk", dk, MLKEM768_DK_SIZE);
	field(&text, "c", c, MLKEM768_CT_SIZE);
	field(&text, "K", k, 32);
	assert_int_equal(mlkem768_decaps(dk, c, got), 0);
	assert_memory_equal(got, k, 32);
	gs_secure_free(dk);
	gs_buf_release(&text);
}

/* A-hat of this ek needs more than 575 XOF bytes for one entry */
static void test_unlucky_sample(void **state)
{
	(void)state;
	check_encaps_decaps("unluckysample/ML-KEM-768.txt");
}

/* A dk whose stored H(ek) does not match its ek is refused (7.3). */
static void test_decaps_key_hash_check(void **state)
{
	uint8_t d[32] = { 1 }, z[32] = { 2 }, m[32] = { 3 }, ek[MLKEM768_EK_SIZE], ct[MLKEM768_CT_SIZE];
	uint8_t k[32], got[32], *dk = gs_secure_alloc(MLKEM768_DK_SIZE);

	(void)state;
	assert_int_equal(mlkem768_keygen(d, z, ek, dk), 0);
	assert_int_equal(mlkem768_encaps(ek, m, ct, k), 0);
	assert_int_equal(mlkem768_decaps(dk, ct, got), 0);
	assert_memory_equal(got, k, 32);
	dk[1152 + 1184] ^= 1;
	assert_int_equal(mlkem768_decaps(dk, ct, got), GS_ERR_KEY);
	assert_string_equal(gs_error_message(), "invalid ML-KEM-768 decapsulation key (hash check)");
	gs_secure_free(dk);
}

static void test_modulus(void **state)
{
	char path[4200], *line = malloc(4096);
	uint8_t ek[MLKEM768_EK_SIZE], m[32] = { 0 }, c[MLKEM768_CT_SIZE], k[32];
	size_t count = 0, n;
	gzFile gz;

	(void)state;
	snprintf(path, sizeof(path), "%s/modulus/ML-KEM-768.txt.gz", vector_dir());
	gz = gzopen(path, "rb");
	if (!gz) {
		free(line);
		print_message("skipped: %s is absent (no ../shared)\n", path);
		skip();
	}
	while (gzgets(gz, line, 4096)) {
		size_t len = strcspn(line, "\r\n");

		if (!len)
			continue;
		assert_int_equal(sodium_hex2bin(ek, sizeof(ek), line, len, NULL, &n, NULL), 0);
		assert_int_equal(n, sizeof(ek));
		assert_false(mlkem768_ek_is_valid(ek));
		assert_int_equal(mlkem768_encaps(ek, m, c, k), GS_ERR_KEY);
		count++;
	}
	gzclose(gz);
	free(line);
	assert_int_equal(count, 780);
}

/* The accumulated vectors of CCTV's README: inputs from one SHAKE-128
 * stream, outputs absorbed into another. */
static void accumulated(size_t tests, const char *want_hex)
{
	const size_t per_test = 32 + 32 + 32 + MLKEM768_CT_SIZE;
	uint8_t *rng = malloc(tests * per_test), *ek = malloc(MLKEM768_EK_SIZE);
	uint8_t *dk = gs_secure_alloc(MLKEM768_DK_SIZE), ct[MLKEM768_CT_SIZE], k[32], k2[32], k_reject[32];
	uint8_t digest[32];
	char hex[65];
	struct pq_hash h;
	EVP_MD *shake128;
	EVP_MD_CTX *acc;

	assert_non_null(rng);
	assert_int_equal(pq_hash_init(&h), 0);
	assert_int_equal(pq_hash(&h, PQ_SHAKE128, (const uint8_t *)"", 0, NULL, 0, rng, tests * per_test), 0);
	pq_hash_release(&h);
	shake128 = EVP_MD_fetch(NULL, "SHAKE128", NULL);
	acc = EVP_MD_CTX_new();
	assert_non_null(shake128);
	assert_true(EVP_DigestInit_ex2(acc, shake128, NULL));
	for (size_t i = 0; i < tests; i++) {
		const uint8_t *d = rng + i * per_test, *z = d + 32, *m = z + 32, *bad_ct = m + 32;

		assert_int_equal(mlkem768_keygen(d, z, ek, dk), 0);
		assert_int_equal(mlkem768_encaps(ek, m, ct, k), 0);
		assert_int_equal(mlkem768_decaps(dk, ct, k2), 0);
		assert_memory_equal(k, k2, 32);
		assert_int_equal(mlkem768_decaps(dk, bad_ct, k_reject), 0);
		assert_true(EVP_DigestUpdate(acc, ek, MLKEM768_EK_SIZE));
		assert_true(EVP_DigestUpdate(acc, dk, MLKEM768_DK_SIZE));
		assert_true(EVP_DigestUpdate(acc, ct, sizeof(ct)));
		assert_true(EVP_DigestUpdate(acc, k, 32));
		assert_true(EVP_DigestUpdate(acc, k_reject, 32));
	}
	assert_true(EVP_DigestFinalXOF(acc, digest, sizeof(digest)));
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	print_message("accumulated %zu tests: %s\n", tests, hex);
	assert_string_equal(hex, want_hex);
	EVP_MD_CTX_free(acc);
	free(rng);
	free(ek);
	gs_secure_free(dk);
}

static void test_accumulated_100(void **state)
{
	(void)state;
	accumulated(100, ACCUMULATED_100);
}

/* On the release build only (make check's unit): under ASan its 10,000
 * rounds of the code the 100-test digest above takes through were 8 s of
 * CPU, nearly all of this file's. */
static void test_accumulated_10000(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	skip();
#endif
	accumulated(10000, ACCUMULATED_10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modulus_check_boundary),
		cmocka_unit_test(test_intermediate),
		cmocka_unit_test(test_implicit_rejection_key),
		cmocka_unit_test(test_strcmp),
		cmocka_unit_test(test_unlucky_sample),
		cmocka_unit_test(test_decaps_key_hash_check),
		cmocka_unit_test(test_modulus),
		cmocka_unit_test(test_accumulated_100),
		cmocka_unit_test(test_accumulated_10000),
	};

	if (gs_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
