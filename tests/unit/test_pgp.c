/* The PGP key source's own parsing (fingerprints, the armor check, the
 * stderr line), the pgp metadata entries, and pgp/kms in .sops.yaml. The
 * round trips through the real gpg are in tests/cli/pgp.bats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitseal/config.h"
#include "gitseal/error.h"
#include "gitseal/pgp.h"
#include "gitseal/store.h"
#include "../../src/sops/sops_int.h"

#define BODY "hQEMAyUpShfNkFB/AQf+O/rt6uoAYgMtG1KFdqrGIxNdrB43h4eiUb8qCxfzovN0\n" \
	     "u7nFaf2k374CMcc0kwSfm8JPs4h7OOcG2wv7IN/58g==\n"
#define ARMOR "-----BEGIN PGP MESSAGE-----\n\n" BODY "=hWpc\n-----END PGP MESSAGE-----"

static int setup(void **state)
{
	(void)state;
	return gs_crypto_init();
}

static void test_fingerprints(void **state)
{
	static const char *const good[][2] = {
		{ "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4", "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4" },
		{ "FBC7 B9E2 A4F9 289A C0C1  D484 3D16 CEE4 A273 81B4", "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4" },
		{ "3d16cee4a27381b4", "3d16cee4a27381b4" },
		{ "0x3D16CEE4A27381B4", "0x3D16CEE4A27381B4" },
		{ "71D962851765394F76DB9CFC25294A17CD90507F!", "71D962851765394F76DB9CFC25294A17CD90507F!" },
	};
	static const char *const bad[] = {
		"", "   ", "3D16CEE4A27381B", "secops@mozilla.com", "--trusted-key", "-r",
		"FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4!!", "!FBC7B9E2A4F9289A", "FBC7B9E2A4F9289G",
		"0x", "0x!", "FBC7B9E2A4F9289A,FBC7B9E2A4F9289A",
		"0123456789012345678901234567890123456789012345678901234567890123456789",
	};
	char *fp;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(pgp_fingerprint_parse(good[i][0], &fp), 0);
		assert_string_equal(fp, good[i][1]);
		free(fp);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pgp_fingerprint_parse(bad[i], &fp), GS_ERR_KEY);
		assert_null(fp);
		assert_non_null(strstr(gs_error_message(), "invalid PGP fingerprint"));
	}
}

static void test_armor(void **state)
{
	static const char *const good[] = {
		ARMOR,
		ARMOR "\n",
		"\n\n" ARMOR "\n\n",
		"-----BEGIN PGP MESSAGE-----\r\nVersion: GnuPG v1\r\nComment: x: y\r\n\r\nhQEM\r\n=abcd\r\n"
		"-----END PGP MESSAGE-----\r\n",
		"-----BEGIN PGP MESSAGE-----\n\n" BODY "-----END PGP MESSAGE-----", /* no checksum */
		"-----BEGIN PGP MESSAGE-----  \n\nhQEM\n-----END PGP MESSAGE-----\t\n",
	};
	static const char *const bad[] = {
		"",
		"hQEM",
		"-----BEGIN PGP MESSAGE-----\nhQEM\n-----END PGP MESSAGE-----",            /* no blank line */
		"-----BEGIN PGP MESSAGE-----\n\n-----END PGP MESSAGE-----",                /* no body */
		"-----BEGIN PGP MESSAGE-----\n\nhQEM\n",                                   /* no tail */
		"-----BEGIN PGP SIGNATURE-----\n\nhQEM\n-----END PGP SIGNATURE-----",
		"-----BEGIN PGP MESSAGE, PART 1/2-----\n\nhQEM\n-----END PGP MESSAGE, PART 1/2-----",
		"-----BEGIN PGP MESSAGE-----\n\nhQ EM\n-----END PGP MESSAGE-----",
		"-----BEGIN PGP MESSAGE-----\n\nhQEM\n=abcd\nhQEM\n-----END PGP MESSAGE-----", /* after the crc */
		"-----BEGIN PGP MESSAGE-----\n\nhQEM\n-----END PGP MESSAGE-----\nmore",
		ARMOR "\n" ARMOR,
		"-----BEGIN PGP MESSAGE-----\nnot a header\n\nhQEM\n-----END PGP MESSAGE-----",
		"-----BEGIN PGP MESSAGE-----\nVersion:\n\nhQEM\n-----END PGP MESSAGE-----",
		"x-----BEGIN PGP MESSAGE-----\n\nhQEM\n-----END PGP MESSAGE-----",
	};
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (pgp_armor_check(good[i], strlen(good[i])) != 0)
			fail_msg("good armor %zu refused: %s", i, gs_error_message());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pgp_armor_check(bad[i], strlen(bad[i])) != GS_ERR_PARSE)
			fail_msg("bad armor %zu accepted", i);
	/* a NUL inside is no base64 */
	assert_int_equal(pgp_armor_check("-----BEGIN PGP MESSAGE-----\n\nhQ\0M\n-----END PGP MESSAGE-----", 55),
			 GS_ERR_PARSE);
	big = malloc(PGP_ARMOR_MAX + 2);
	assert_non_null(big);
	memset(big, 'A', PGP_ARMOR_MAX + 1);
	big[PGP_ARMOR_MAX + 1] = '\0';
	assert_int_equal(pgp_armor_check(big, PGP_ARMOR_MAX + 1), GS_ERR_PARSE);
	assert_non_null(strstr(gs_error_message(), "too large"));
	free(big);
}

static void test_stderr_reason(void **state)
{
	char out[PGP_REASON_MAX + 1], small[8], long_line[400];
	const char *err;

	(void)state;
	err = "gpg: encrypted with 2048-bit RSA key, ID 25294A17CD90507F, created 2019-08-29\n"
	      "      \"SOPS Functional Tests Key 1 <secops@mozilla.com>\"\n"
	      "gpg: decryption failed: No secret key\n";
	pgp_stderr_reason(err, strlen(err), out, sizeof(out));
	assert_string_equal(out, "decryption failed: No secret key");
	/* import statistics are not the reason */
	err = "gpg: no valid OpenPGP data found.\ngpg: Total number processed: 0\n"
	      "gpg:       secret keys read: 0\n";
	pgp_stderr_reason(err, strlen(err), out, sizeof(out));
	assert_string_equal(out, "no valid OpenPGP data found.");
	/* control characters never reach a message; CRLF is an end of line */
	err = "gpg: bad \033[31mthing\x01\r\n";
	pgp_stderr_reason(err, strlen(err), out, sizeof(out));
	assert_string_equal(out, "bad ?[31mthing?");
	pgp_stderr_reason("no prefix here\n", 15, out, sizeof(out));
	assert_string_equal(out, "");
	pgp_stderr_reason(err, strlen(err), small, sizeof(small));
	assert_string_equal(small, "bad ?[3");
	memcpy(long_line, "gpg: ", 5);
	memset(long_line + 5, 'x', sizeof(long_line) - 5);
	pgp_stderr_reason(long_line, sizeof(long_line), out, sizeof(out));
	assert_int_equal(strlen(out), PGP_REASON_MAX);
}

static void load_yaml(const char *text, struct doc *d)
{
	doc_init(d, DOC_FORMAT_YAML);
	if (store_load(DOC_FORMAT_YAML, (const uint8_t *)text, strlen(text), d) != 0)
		fail_msg("load: %s", gs_error_message());
}

static void test_metadata(void **state)
{
	static const char yaml[] =
		"a: ENC[AES256_GCM,data:abc=,iv:def=,tag:ghi=,type:str]\n"
		"sops:\n"
		"    kms:\n"
		"        - arn: arn:aws:kms:us-east-1:1:key/x\n"
		"          created_at: \"2026-01-01T00:00:00Z\"\n"
		"          enc: AQICAH\n"
		"    pgp:\n"
		"        - created_at: \"2026-01-02T00:00:00Z\"\n"
		"          enc: |-\n"
		"            -----BEGIN PGP MESSAGE-----\n"
		"\n"
		"            hQEM\n"
		"            -----END PGP MESSAGE-----\n"
		"          fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n"
		"        - created_at: \"2026-01-02T00:00:00Z\"\n"
		"          enc: x\n"
		"          fp: D7229043384BCC60326C6FB9D8720D957C3D3074\n"
		"    lastmodified: \"2026-01-02T00:00:00Z\"\n"
		"    mac: m\n"
		"    unencrypted_suffix: _unencrypted\n"
		"    version: 3.13.2\n";
	struct doc d, out;
	struct sops_metadata m;
	struct sops_metadata_out mo = { 0 };
	struct gs_buf text;
	char *name;

	(void)state;
	load_yaml(yaml, &d);
	assert_int_equal(sops_metadata_read(&d, &m), 0);
	assert_int_equal(m.group_count, 1);
	assert_int_equal(m.groups[0].pgp_count, 2);
	assert_string_equal(m.groups[0].pgp[0].fp, "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4");
	assert_string_equal(m.groups[0].pgp[0].enc, "-----BEGIN PGP MESSAGE-----\n\nhQEM\n-----END PGP MESSAGE-----");
	assert_int_equal(m.groups[0].raw_count, 1);
	assert_string_equal(m.groups[0].raw[0].type, "kms");
	assert_int_equal(m.groups[0].other_key_count, 1);
	assert_int_equal(sops_foreign_key_describe("kms", m.groups[0].raw[0].node->entries[0].value, 0, &name), 0);
	assert_string_equal(name, "kms arn:aws:kms:us-east-1:1:key/x");
	free(name);

	/* written back: the same lists in sops 3.13's sorted layout */
	doc_init(&out, DOC_FORMAT_YAML);
	assert_int_equal(doc_add_branch(&out, doc_new_map(&out)), 0);
	assert_non_null(doc_append(&out, out.branches[0], "a", 1, doc_new_scalar(&out, DOC_STR, "x", 1)));
	mo.groups = m.groups;
	mo.group_count = 1;
	mo.selection = &m.selection;
	mo.lastmodified = "2026-01-02T00:00:00Z";
	mo.mac = "m";
	assert_int_equal(sops_metadata_write(&out, &mo), 0);
	gs_buf_init(&text, false);
	assert_int_equal(store_emit(&out, DOC_FORMAT_YAML, &(struct store_emit_opts){ 0 }, &text), 0);
	assert_non_null(strstr((char *)text.data,
			       "    kms:\n        - arn: arn:aws:kms:us-east-1:1:key/x\n"));
	assert_non_null(strstr((char *)text.data,
			       "    pgp:\n        - created_at: \"2026-01-02T00:00:00Z\"\n          enc: |-\n"
			       "            -----BEGIN PGP MESSAGE-----\n\n            hQEM\n"
			       "            -----END PGP MESSAGE-----\n"
			       "          fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n"));
	gs_buf_release(&text);
	doc_release(&out);
	sops_metadata_release(&m);
	doc_release(&d);

	/* an invalid created_at is refused, as sops's time.Parse does */
	load_yaml("sops:\n    pgp:\n        - created_at: yesterday\n          enc: x\n          fp: A\n"
		  "    mac: m\n    version: 3.13.2\n",
		  &d);
	assert_int_equal(sops_metadata_read(&d, &m), GS_ERR_PARSE);
	assert_non_null(strstr(gs_error_message(), "pgp entry has an invalid created_at"));
	doc_release(&d);
}

static void test_config(void **state)
{
	static const char text[] =
		"creation_rules:\n"
		"  - path_regex: flat\n"
		"    pgp: 'FBC7 B9E2 A4F9 289A C0C1  D484 3D16 CEE4 A273 81B4, D7229043384BCC60326C6FB9D8720D957C3D3074'\n"
		"    kms: arn:aws:kms:us-east-1:1:key/x+arn:aws:iam::1:role/r\n"
		"    azure_keyvault: https://v.vault.azure.net/keys/k/0123\n"
		"  - key_groups:\n"
		"      - pgp: [FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4]\n"
		"        gcp_kms:\n"
		"          - resource_id: projects/p/locations/l/keyRings/r/cryptoKeys/k\n"
		"        hckms:\n"
		"          - key_id: tr-west-1:0000\n"
		"        azure_keyvault:\n"
		"          - vaultUrl: https://v.vault.azure.net\n"
		"            key: k\n"
		"            version: \"\"\n";
	struct sops_config *c = NULL;
	const struct sops_key_group *g;
	const char *text2;

	(void)state;
	assert_int_equal(sops_config_parse(text, strlen(text), "/repo", &c), 0);
	g = &c->rules[0].groups[0];
	assert_int_equal(g->pgp_count, 2);
	assert_string_equal(g->pgp[0], "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4");
	assert_int_equal(g->foreign_count, 2);
	assert_string_equal(g->foreign[0], "kms arn:aws:kms:us-east-1:1:key/x");
	assert_string_equal(g->foreign[1], "azure_kv https://v.vault.azure.net/keys/k");
	g = &c->rules[1].groups[0];
	assert_int_equal(g->pgp_count, 1);
	assert_int_equal(g->foreign_count, 3);
	assert_non_null(strstr(g->foreign[0], "gcp_kms projects/p/"));
	assert_string_equal(g->foreign[1], "azure_kv https://v.vault.azure.net/keys/k");
	assert_string_equal(g->foreign[2], "hckms tr-west-1:0000");
	sops_config_free(c);
	c = NULL;
	text2 = "creation_rules:\n  - azure_keyvault: http://x/keys/k\n";
	assert_int_equal(sops_config_parse(text2, strlen(text2), "/repo", &c), GS_ERR_CONFIG);
	assert_non_null(strstr(gs_error_message(), "invalid azure_keyvault URL"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprints),
		cmocka_unit_test(test_armor),
		cmocka_unit_test(test_stderr_reason),
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
