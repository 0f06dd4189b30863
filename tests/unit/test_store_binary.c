/* Binary store: raw bytes as the `data` leaf, the JSON encrypted form, and
 * an encrypt/decrypt round trip through the engine under a known key. */
#include "test_store_util.h"
#include <sodium.h>

#include "../../src/sops/sops_int.h"

static void test_plain(void **state)
{
	static const uint8_t bytes[] = { 0, 1, 0xff, '\n', '{', 0x80, 'x' };
	struct doc d;
	struct gs_buf out;
	struct doc_entry *e;

	(void)state;
	doc_init(&d, DOC_FORMAT_BINARY);
	assert_int_equal(store_load(DOC_FORMAT_BINARY, bytes, sizeof(bytes), &d), 0);
	assert_int_equal(d.format, DOC_FORMAT_BINARY);
	assert_int_equal(d.branches[0]->count, 1);
	e = find(d.branches[0], "data");
	assert_int_equal(e->value->type, DOC_STR);
	assert_int_equal(e->value->len, sizeof(bytes));
	assert_memory_equal(e->value->text, bytes, sizeof(bytes));
	emit_ok(&d, DOC_FORMAT_BINARY, 0, &out);
	assert_int_equal(out.len, sizeof(bytes));
	assert_memory_equal(out.data, bytes, sizeof(bytes));
	gs_buf_release(&out);
	doc_release(&d);
	/* JSON without sops metadata is data too */
	load_ok(DOC_FORMAT_BINARY, "{\"data\": \"x\"}", &d);
	assert_string_equal(find(d.branches[0], "data")->value->text, "{\"data\": \"x\"}");
	assert_false(sops_doc_is_encrypted(&d));
	doc_release(&d);
	/* an empty file is an empty string */
	load_ok(DOC_FORMAT_BINARY, "", &d);
	assert_int_equal(find(d.branches[0], "data")->value->len, 0);
	doc_release(&d);
}

static void test_roundtrip_under_key(void **state)
{
	uint8_t bytes[300], *key = sops_data_key_new();
	struct sops_meta_group group = { 0 };
	struct sops_selection sel = { .kind = SOPS_SEL_ENCRYPTED_REGEX, .value = (char *)"^nothing$" };
	struct doc d, e;
	struct gs_buf enc, dec;

	(void)state;
	assert_non_null(key);
	randombytes_buf(bytes, sizeof(bytes));
	doc_init(&d, DOC_FORMAT_BINARY);
	assert_int_equal(store_load(DOC_FORMAT_BINARY, bytes, sizeof(bytes), &d), 0);
	/* the selection given is dropped for binary (spec 3.2) */
	assert_int_equal(sops_encrypt_with_key(&d, key, &group, 1, 0, &sel, NULL, NULL), 0);
	emit_ok(&d, DOC_FORMAT_BINARY, 0, &enc);
	assert_int_equal(memcmp(enc.data, "{\n\t\"data\": \"ENC[AES256_GCM,data:", 32), 0);
	assert_null(strstr((const char *)enc.data, "unencrypted_suffix"));
	assert_null(strstr((const char *)enc.data, "encrypted_regex"));
	/* read back as the encrypted form and decrypted to the same bytes */
	doc_init(&e, DOC_FORMAT_BINARY);
	assert_int_equal(store_load(DOC_FORMAT_BINARY, enc.data, enc.len, &e), 0);
	assert_true(sops_doc_is_encrypted(&e));
	assert_int_equal(sops_decrypt_doc_with_key(&e, key, NULL), 0);
	emit_ok(&e, DOC_FORMAT_BINARY, 0, &dec);
	assert_int_equal(dec.len, sizeof(bytes));
	assert_memory_equal(dec.data, bytes, sizeof(bytes));
	gs_buf_release(&enc);
	gs_buf_release(&dec);
	doc_release(&d);
	doc_release(&e);
	gs_secure_free(key);
}

static void test_emit_errors(void **state)
{
	struct doc d;
	struct gs_buf out;
	struct store_emit_opts o = { 0 };

	(void)state;
	load_ok(DOC_FORMAT_JSON, "{\"other\": 1}", &d);
	gs_buf_init(&out, true);
	assert_int_equal(store_emit(&d, DOC_FORMAT_BINARY, &o, &out), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "no binary data found in tree");
	gs_buf_release(&out);
	doc_release(&d);
}

static int setup(void **state)
{
	(void)state;
	return gs_crypto_init();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_roundtrip_under_key),
		cmocka_unit_test(test_emit_errors),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
