/* gitseal/base64.h: every decoder against its rule (canonical or not,
 * padded or not, the alphabet) and against libsodium's decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "gitseal/base64.h"
#include "gitseal/secmem.h"

static void test_canonical(void **state)
{
	uint8_t out[64];
	size_t n;

	(void)state;
	assert_int_equal(gs_base64_decode_raw("QUE", 3, out, sizeof(out), &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(gs_base64_decode_raw("", 0, out, sizeof(out), &n), 0);
	assert_int_equal(n, 0);
	/* Non-canonical trailing bits, padding, bad length, whitespace. */
	assert_int_not_equal(gs_base64_decode_raw("QUF", 3, out, sizeof(out), &n), 0);
	assert_int_not_equal(gs_base64_decode_raw("QUE=", 4, out, sizeof(out), &n), 0);
	assert_int_not_equal(gs_base64_decode_raw("QUEBQ", 5, out, sizeof(out), &n), 0);
	assert_int_not_equal(gs_base64_decode_raw("QU E", 4, out, sizeof(out), &n), 0);
	/* libsodium 1.0.18 alone would accept bytes >= 0x80. */
	assert_int_not_equal(gs_base64_decode_raw("q\x98Ny", 4, out, sizeof(out), &n), 0);
	assert_int_not_equal(gs_base64_decode_strict("q\xffNy", 4, out, sizeof(out), &n), 0);
	assert_int_equal(gs_base64_decode_strict("AA==", 4, out, sizeof(out), &n), 0);
	assert_int_equal(n, 1);
	assert_int_not_equal(gs_base64_decode_strict("AB==", 4, out, sizeof(out), &n), 0);
	assert_int_not_equal(gs_base64_decode_strict("AA", 2, out, sizeof(out), &n), 0);
	assert_int_not_equal(gs_base64_decode_strict("AA==AA==", 8, out, sizeof(out), &n), 0);
}

/* The table-driven decoder agrees with libsodium's (after the alphabet
 * check) on every string of up to 6 characters over values that differ in
 * their low bits, padding included, and on every output capacity. */
static void test_matches_libsodium(void **state)
{
	static const char chars[] = "ABEQg/=";
	char s[6];
	uint8_t a[8], b[8];
	size_t na, nb, total, k, agree = 0;
	int ra, rb;

	(void)state;
	for (size_t len = 0; len <= sizeof(s); len++) {
		for (total = 1, k = 0; k < len; k++)
			total *= sizeof(chars) - 1;
		for (size_t code = 0; code < total; code++) {
			size_t c = code;

			for (k = 0; k < len; k++, c /= sizeof(chars) - 1)
				s[k] = chars[c % (sizeof(chars) - 1)];
			for (int padded = 0; padded < 2; padded++) {
				for (size_t cap = len / 4 * 3 - (len >= 4); cap <= len / 4 * 3 + 2; cap++) {
					int variant = padded ? sodium_base64_VARIANT_ORIGINAL
							     : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;

					ra = padded ? gs_base64_decode_strict(s, len, a, cap, &na)
						    : gs_base64_decode_raw(s, len, a, cap, &na);
					rb = len == 0 ? 0
						      : !gs_base64_chars_ok(s, len, padded ? "=" : NULL)
								? -1
								: sodium_base642bin(b, cap, s, len, NULL, &nb, NULL, variant);
					if (len == 0)
						nb = 0;
					assert_int_equal(ra, rb);
					if (ra == 0) {
						assert_int_equal(na, nb);
						assert_memory_equal(a, b, na);
						agree++;
					}
				}
			}
		}
	}
	assert_true(agree > 1000);
}

/* sops's ENC fields: Go's StdEncoding, padding required, extra bits past
 * the data not refused (Go only refuses them in Strict mode). */
static void test_sops_fields(void **state)
{
	uint8_t out[16];
	size_t n;

	(void)state;
	assert_int_equal(gs_base64_decode("QUJD", 4, out, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "ABC", 3);
	assert_int_equal(gs_base64_decode("QUI=", 4, out, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(gs_base64_decode("QUJ=", 4, out, &n), 0);
	assert_int_equal(n, 2);
	assert_int_not_equal(gs_base64_decode("QUI", 3, out, &n), 0);
	assert_int_not_equal(gs_base64_decode("Q=I=", 4, out, &n), 0);
	assert_int_not_equal(gs_base64_decode("QQ==QUJD", 8, out, &n), 0);
	assert_int_not_equal(gs_base64_decode("QU\x80=", 4, out, &n), 0);
}

/* Encoders and the decoders give each other's input back, for every
 * length around the block size. */
static void test_round_trip(void **state)
{
	uint8_t in[40], out[40];
	char text[64];
	size_t n;
	struct gs_buf b;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(in); len++) {
		gs_base64_encode(in, len, text, sizeof(text));
		assert_int_equal(strlen(text), GS_BASE64_LEN(len));
		assert_int_equal(gs_base64_decode_strict(text, strlen(text), out, len, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, in, len);
		assert_int_equal(gs_base64_decode_secret(text, strlen(text), NULL, out, len, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, in, len);

		gs_base64_encode_raw(in, len, text, sizeof(text));
		assert_int_equal(strlen(text), GS_BASE64_RAW_LEN(len));
		assert_int_equal(gs_base64_decode_raw(text, strlen(text), out, len, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, in, len);
		/* one byte of room short: refused, not written past */
		if (len)
			assert_int_not_equal(gs_base64_decode_raw(text, strlen(text), out, len - 1, &n), 0);

		gs_buf_init(&b, true);
		assert_int_equal(gs_base64_append(&b, in, len), 0);
		gs_base64_encode(in, len, text, sizeof(text));
		assert_int_equal(b.len, strlen(text));
		assert_string_equal((char *)b.data, text);
		gs_buf_release(&b);
	}
	/* too small an output: the empty string */
	gs_base64_encode(in, 3, text, 4);
	assert_string_equal(text, "");
}

/* A secret may be wrapped over lines (an OpenSSH private key). */
static void test_secret_ignores_blanks(void **state)
{
	uint8_t out[8];
	size_t n;

	(void)state;
	assert_int_equal(gs_base64_decode_secret("QUJD\nREVG\n", 10, " \t\r\n", out, sizeof(out), &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "ABCDEF", 6);
	assert_int_not_equal(gs_base64_decode_secret("QUJD\nREVG\n", 10, NULL, out, sizeof(out), &n), 0);
	assert_int_not_equal(gs_base64_decode_secret("QU\xc3\x80", 4, NULL, out, sizeof(out), &n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_matches_libsodium),
		cmocka_unit_test(test_sops_fields),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_secret_ignores_blanks),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
