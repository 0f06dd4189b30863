/* The MAC as a file is opened: the timestamp it is bound to (written
 * digit by digit) and the stored MAC, decrypted with the cipher context
 * that decrypted the values (one key schedule per file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"
#include "../../src/sops/sops_int.h"
#include "shared_data.h"

static const char *fixture(const char *rel)
{
	static char path[2][1024];
	static int slot;

	slot = (slot + 1) % 2;
	return shared_data_path(path[slot], sizeof(path[slot]), "testdata/sops/%s", rel);
}

static void test_time_canonical(void **state)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "2026-07-01T12:00:00Z", "2026-07-01T12:00:00Z" },
		{ "2026-07-01t12:00:00z", "2026-07-01T12:00:00Z" },
		{ "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z" },
		{ "9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59Z" },
		{ "2026-07-01T12:00:00+00:00", "2026-07-01T12:00:00Z" },
		{ "2026-07-01T12:00:00-00:00", "2026-07-01T12:00:00Z" },
		{ "2026-07-01T12:00:00.5-07:30", "2026-07-01T12:00:00-07:30" },
		{ "2026-07-01T08:09:07+23:59", "2026-07-01T08:09:07+23:59" },
	};
	static const char *const bad[] = {
		"2026-07-01T12:00:00",      "2026-07-01T12:00:00.Z",  "2026-13-01T12:00:00Z",
		"2026-07-00T12:00:00Z",     "2026-07-01T24:00:00Z",   "2026-07-01T12:60:00Z",
		"2026-07-01T12:00:60Z",     "2026-07-01 12:00:00Z",   "2026-07-01T12:00:00+24:00",
		"2026-07-01T12:00:00+01:60", "2026-07-01T12:00:00ZZ", "2026-07-01T12:00:00+0100",
		"2026-07-01T12:00:00+01:00x", "2O26-07-01T12:00:00Z",
	};
	char out[SOPS_TIME_CANONICAL_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(sops_time_canonical(good[i].in, strlen(good[i].in), out, sizeof(out)), 0);
		assert_string_equal(out, good[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sops_time_canonical(bad[i], strlen(bad[i]), out, sizeof(out)), GS_ERR_PARSE);
	/* the longest form needs every byte, and no fewer */
	assert_int_equal(sops_time_canonical("2026-07-01T12:00:00+01:00", 25, out, sizeof(out) - 1), GS_ERR_LIMIT);
	gs_error_clear();
}

struct opened {
	struct age_identity_list ids;
	struct gs_buf text;
};

static void load(struct opened *o)
{
	struct gs_buf key;

	gs_buf_init(&key, true);
	assert_int_equal(gs_read_file(fixture("reconstructed/example-age-key.txt"), &key, 1 << 20), 0);
	memset(&o->ids, 0, sizeof(o->ids));
	assert_int_equal(age_identity_list_add_text(&o->ids, (char *)key.data, key.len, "key"), 0);
	gs_buf_release(&key);
	gs_buf_init(&o->text, true);
	assert_int_equal(gs_read_file(fixture("reconstructed/k8s-secret.enc.yaml"), &o->text, 1 << 20), 0);
}

static int open_text(struct opened *o, bool ignore_mac)
{
	struct sops_open_opts oo = { .format = DOC_FORMAT_YAML, .ids = &o->ids, .ignore_mac = ignore_mac };
	struct sops_file *f = NULL;
	int ret = sops_file_open(o->text.data, o->text.len, &oo, &f);

	sops_file_free(f);
	gs_error_clear();
	return ret;
}

/* the byte `skip` bytes after `after` in the text, made another base64 or
 * digit character */
static void flip_after(struct gs_buf *t, const char *after, size_t skip)
{
	char *at = strstr((char *)t->data, after);

	assert_non_null(at);
	at += strlen(after) + skip;
	*at = *at == '1' ? '2' : '1';
}

static void test_mac_checked_on_open(void **state)
{
	struct opened o;

	(void)state;
	load(&o);
	assert_int_equal(open_text(&o, false), 0);

	/* the stored MAC's ciphertext: it no longer decrypts */
	flip_after(&o.text, "mac: ENC[AES256_GCM,data:", 5);
	assert_int_equal(open_text(&o, false), GS_ERR_MAC_MISMATCH);
	/* what fails is the MAC, nothing else in the file */
	assert_int_equal(open_text(&o, true), 0);
	gs_buf_release(&o.text);
	age_identity_list_release(&o.ids);

	/* lastmodified is the MAC's AAD: a second later, it fails too */
	load(&o);
	flip_after(&o.text, "lastmodified: \"2026-07-01T12:00:0", 0);
	assert_int_equal(open_text(&o, false), GS_ERR_MAC_MISMATCH);
	assert_int_equal(open_text(&o, true), 0);
	gs_buf_release(&o.text);
	age_identity_list_release(&o.ids);

	/* a value changed under a MAC that still decrypts: the hash differs */
	load(&o);
	flip_after(&o.text, "password: ENC[AES256_GCM,data:", 3);
	assert_int_not_equal(open_text(&o, false), 0);
	gs_buf_release(&o.text);
	age_identity_list_release(&o.ids);
}

/* The MAC is decrypted on the context that decrypted the values: its IV
 * may have another length (a hand-made file), its key may differ, and the
 * values decrypt on that context again afterwards. */
static void test_mac_on_the_values_context(void **state)
{
	static const char lm[] = "2026-07-01T12:00:00Z";
	uint8_t key[SOPS_DATA_KEY_SIZE], other[SOPS_DATA_KEY_SIZE], iv12[12];
	char hex[129], wrong[129];
	struct gs_buf value, mac12, mac32, plain;
	struct sops_cipher c;
	enum sops_value_type type;

	(void)state;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(other, sizeof(other));
	randombytes_buf(iv12, sizeof(iv12));
	for (size_t i = 0; i < 128; i++)
		hex[i] = "0123456789ABCDEF"[(i * 7) % 16];
	hex[128] = '\0';
	memcpy(wrong, hex, sizeof(hex));
	wrong[77] = wrong[77] == 'A' ? 'B' : 'A';
	gs_buf_init(&value, false);
	gs_buf_init(&mac12, false);
	gs_buf_init(&mac32, false);
	gs_buf_init(&plain, true);
	assert_int_equal(sops_value_encrypt(key, (const uint8_t *)"v1", 2, SOPS_TYPE_STR, "a:", 2, NULL, 0, &value), 0);
	assert_int_equal(sops_value_encrypt(key, (const uint8_t *)hex, 128, SOPS_TYPE_STR, lm, strlen(lm), iv12,
					    sizeof(iv12), &mac12), 0);
	assert_int_equal(sops_mac_encrypt(key, hex, lm, &mac32), 0);

	sops_cipher_init(&c);
	assert_int_equal(sops_value_decrypt_with(&c, key, (char *)value.data, value.len, "a:", 2, &plain, &type), 0);
	assert_string_equal((char *)plain.data, "v1");
	assert_int_equal(sops_mac_check(&c, key, (char *)mac12.data, mac12.len, lm, strlen(lm), hex), 0);
	assert_int_equal(sops_mac_check(&c, key, (char *)mac12.data, mac12.len, lm, strlen(lm), wrong),
			 GS_ERR_MAC_MISMATCH);
	assert_int_equal(sops_mac_check(&c, key, (char *)mac32.data, mac32.len, lm, strlen(lm), hex), 0);
	/* another key on the same context: the MAC does not open under it */
	assert_int_equal(sops_mac_check(&c, other, (char *)mac32.data, mac32.len, lm, strlen(lm), hex),
			 GS_ERR_MAC_MISMATCH);
	assert_int_equal(sops_mac_check(&c, key, (char *)mac12.data, mac12.len, lm, strlen(lm), hex), 0);
	assert_int_equal(sops_value_decrypt_with(&c, key, (char *)value.data, value.len, "a:", 2, &plain, &type), 0);
	assert_string_equal((char *)plain.data, "v1");
	/* the AAD: another lastmodified */
	assert_int_equal(sops_mac_check(&c, key, (char *)mac32.data, mac32.len, "2026-07-01T12:00:01Z", 20, hex),
			 GS_ERR_MAC_MISMATCH);
	sops_cipher_release(&c);
	gs_error_clear();
	gs_buf_release(&value);
	gs_buf_release(&mac12);
	gs_buf_release(&mac32);
	gs_buf_release(&plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_canonical),
		cmocka_unit_test(test_mac_checked_on_open),
		cmocka_unit_test(test_mac_on_the_values_context),
	};

	if (gs_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
