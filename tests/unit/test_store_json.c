#include "test_store_util.h"
#include "shared_data.h"

static const char *const roundtrip_inputs[] = {
	"{\n\t\"foo\": \"bar\"\n}\n",
	"{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":{}}",
	"{\n  \"a\": \"\\u00e9\\n\",\n  \"b\": -0.5e10,\n  \"c\": true\n}\n",
	"  {  }  ",
};

/* 100,000 keys load in linear time; a duplicate after them is still found. */
static void test_many_keys_and_late_duplicate(void **state)
{
	enum { N = 100000 };
	struct gs_buf text;
	struct doc d;

	(void)state;
	gs_buf_init(&text, false);
	assert_int_equal(gs_buf_append_str(&text, "{"), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(gs_buf_printf(&text, "\"key%d\": %d,", i, i), 0);
	assert_int_equal(gs_buf_append_str(&text, "\"last\": 0}"), 0);
	load_ok(DOC_FORMAT_JSON, (const char *)text.data, &d);
	assert_int_equal(d.branches[0]->count, N + 1);
	doc_release(&d);
	text.len -= strlen("\"last\": 0}");
	assert_int_equal(gs_buf_append_str(&text, "\"key77\": 1}"), 0);
	assert_int_equal(load_err(DOC_FORMAT_JSON, (const char *)text.data), GS_ERR_PARSE);
	assert_non_null(strstr(gs_error_message(), "duplicate key"));
	assert_int_equal(load_err(DOC_FORMAT_JSON, "{\"a\": {\"x\": 1}, \"b\": {\"x\": 2}}"), 0);
	assert_int_equal(load_err(DOC_FORMAT_JSON, "{\"a\": {\"x\": 1, \"x\": 2}}"), GS_ERR_PARSE);
	/* empty keys (fuzz_json: an empty key reached memcmp as a NULL pointer) */
	assert_int_equal(load_err(DOC_FORMAT_JSON, "{\"\": 1, \"\": 2}"), GS_ERR_PARSE);
	gs_buf_reset(&text);
	assert_int_equal(gs_buf_append_str(&text, "{\"\": 0"), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(gs_buf_printf(&text, ", \"k%d\": %d", i, i), 0);
	assert_int_equal(gs_buf_append_str(&text, "}"), 0);
	assert_int_equal(load_err(DOC_FORMAT_JSON, (const char *)text.data), 0);
	text.len--;
	assert_int_equal(gs_buf_append_str(&text, ", \"\": 1}"), 0);
	assert_int_equal(load_err(DOC_FORMAT_JSON, (const char *)text.data), GS_ERR_PARSE);
	gs_buf_release(&text);
}

static void test_roundtrip_identical(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(roundtrip_inputs) / sizeof(roundtrip_inputs[0]); i++) {
		struct doc d;
		struct gs_buf out;

		load_ok(DOC_FORMAT_JSON, roundtrip_inputs[i], &d);
		emit_ok(&d, DOC_FORMAT_JSON, -1, &out);
		assert_text(&out, roundtrip_inputs[i]);
		gs_buf_release(&out);
		doc_release(&d);
	}
}

static void test_patch_encrypt_decrypt_identical(void **state)
{
	const char *in = "{\n\t\"a\": \"x<y>&z\",\n\t\"n\": 3,\n\t\"l\": [\"p\", 2.5, false],\n\t\"m\": {\"k\": \"v\\n\"}\n}\n";
	struct doc d, d2;
	struct scalar_list l = { 0 }, l2 = { 0 };
	struct gs_buf enc, dec;
	struct doc_node **orig;

	(void)state;
	load_ok(DOC_FORMAT_JSON, in, &d);
	collect(d.branches[0], &l, false);
	orig = calloc(l.n, sizeof(*orig));
	for (size_t k = 0; k < l.n; k++) {
		orig[k] = doc_clone(&d, l.v[k]);
		assert_int_equal(doc_scalar_set(&d, l.v[k], DOC_STR, ENC_SAMPLE, strlen(ENC_SAMPLE)), 0);
	}
	emit_ok(&d, DOC_FORMAT_JSON, -1, &enc);
	load_ok(DOC_FORMAT_JSON, (const char *)enc.data, &d2);
	collect(d2.branches[0], &l2, false);
	assert_int_equal(l2.n, l.n);
	for (size_t k = 0; k < l2.n; k++) {
		assert_string_equal(l2.v[k]->text, ENC_SAMPLE);
		assert_int_equal(doc_scalar_set(&d2, l2.v[k], orig[k]->type, orig[k]->text, orig[k]->len), 0);
	}
	emit_ok(&d2, DOC_FORMAT_JSON, -1, &dec);
	/* patched values escape only what JSON needs: the round trip is exact */
	assert_text(&dec, "{\n\t\"a\": \"x<y>&z\",\n\t\"n\": 3,\n\t\"l\": [\"p\", 2.5, false],\n\t\"m\": {\"k\": \"v\\n\"}\n}\n");
	free(orig);
	free(l.v);
	free(l2.v);
	gs_buf_release(&enc);
	gs_buf_release(&dec);
	doc_release(&d);
	doc_release(&d2);
}

static void test_typing_and_escapes(void **state)
{
	struct doc d;
	struct doc_node *r;

	(void)state;
	load_ok(DOC_FORMAT_JSON,
		"{\"i\": 42, \"neg\": -0, \"big\": 9223372036854775808, \"f\": 1e21, \"g\": 1.5e-7,"
		" \"h\": 2.0, \"s\": \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0041\\ud83d\\ude00x\","
		" \"t\": true, \"n\": null}",
		&d);
	r = d.branches[0];
	assert_int_equal(find(r, "i")->value->type, DOC_INT);
	assert_string_equal(find(r, "i")->value->text, "42");
	/* kept as spelled: Atoi (sops's decrypt) reads "-0" as 0 */
	assert_int_equal(find(r, "neg")->value->type, DOC_INT);
	assert_string_equal(find(r, "neg")->value->text, "-0");
	assert_int_equal(find(r, "big")->value->type, DOC_FLOAT);
	assert_string_equal(find(r, "big")->value->text, "9223372036854775808");
	assert_string_equal(find(r, "f")->value->text, "1e21");
	assert_string_equal(find(r, "g")->value->text, "1.5e-7");
	assert_int_equal(find(r, "h")->value->type, DOC_FLOAT);
	assert_string_equal(find(r, "h")->value->text, "2.0");
	assert_string_equal(find(r, "s")->value->text, "a\"b\\c/d\b\f\n\r\tA\xF0\x9F\x98\x80x");
	assert_int_equal(find(r, "t")->value->type, DOC_BOOL);
	assert_int_equal(find(r, "n")->value->type, DOC_NULL);
	/* key spans include the quotes, string value spans too */
	assert_int_equal(r->entries[0].key_span.start, 1);
	assert_int_equal(r->entries[0].key_span.end, 4);
	doc_release(&d);
}

static void test_fresh_layout(void **state)
{
	struct doc d;
	struct gs_buf out;
	struct doc_node *r;

	(void)state;
	doc_init(&d, DOC_FORMAT_JSON);
	r = doc_new_map(&d);
	assert_int_equal(doc_add_branch(&d, r), 0);
	assert_non_null(doc_append(&d, r, "s", 1, doc_new_scalar(&d, DOC_STR, "<a>\x01\n", 5)));
	assert_non_null(doc_append(&d, r, "e", 1, doc_new_map(&d)));
	assert_non_null(doc_append(&d, r, "l", 1, doc_new_list(&d)));
	assert_non_null(doc_append(&d, r, "f", 1, doc_new_scalar(&d, DOC_FLOAT, "0.00000015", 10)));
	assert_non_null(doc_append(&d, r, "b", 1, doc_new_scalar(&d, DOC_FLOAT, "1000000000000000000000", 22)));
	assert_non_null(doc_append(&d, r->entries[2].value, NULL, 0, doc_new_scalar(&d, DOC_INT, "1", 1)));
	emit_ok(&d, DOC_FORMAT_JSON, -1, &out);
	assert_text(&out, "{\n\t\"s\": \"\\u003ca\\u003e\\u0001\\n\",\n\t\"e\": {},\n\t\"l\": [\n\t\t1\n\t],\n"
			  "\t\"f\": 1.5e-7,\n\t\"b\": 1e+21\n}\n");
	gs_buf_release(&out);
	emit_ok(&d, DOC_FORMAT_JSON, 2, &out);
	assert_text(&out, "{\n  \"s\": \"\\u003ca\\u003e\\u0001\\n\",\n  \"e\": {},\n  \"l\": [\n    1\n  ],\n"
			  "  \"f\": 1.5e-7,\n  \"b\": 1e+21\n}\n");
	gs_buf_release(&out);
	doc_release(&d);
}

static void test_fresh_matches_sops(void **state)
{
	char path[4096];
	static char buf[65536];
	struct doc d, fresh;
	struct gs_buf out;
	FILE *f;
	size_t n;

	(void)state;
	shared_data_path(path, sizeof(path), "testdata/sops/getsops-sops/functional-tests/res/format.enc.json");
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	load_ok(DOC_FORMAT_JSON, buf, &d);
	doc_init(&fresh, DOC_FORMAT_JSON);
	assert_int_equal(doc_add_branch(&fresh, doc_clone(&fresh, d.branches[0])), 0);
	emit_ok(&fresh, DOC_FORMAT_JSON, -1, &out);
	assert_text(&out, buf);
	gs_buf_release(&out);

	/* remove the metadata, then append it again: the same bytes */
	find(d.branches[0], "sops")->removed = true;
	emit_ok(&d, DOC_FORMAT_JSON, -1, &out);
	assert_text(&out, "{\n\t\"foo\": \"ENC[AES256_GCM,data:fvD/,iv:k3Mzfy+W8e3JGCaehDIOwoJDFGOWGoV+peBYbWdmb70=,tag:FeziVN+GUFROjEiQl+RsSw==,type:str]\"\n}\n");
	gs_buf_release(&out);
	assert_non_null(doc_append(&d, d.branches[0], "sops", 4,
				   doc_clone(&d, d.branches[0]->entries[1].value)));
	emit_ok(&d, DOC_FORMAT_JSON, -1, &out);
	assert_text(&out, buf);
	gs_buf_release(&out);
	doc_release(&fresh);
	doc_release(&d);
}

static void test_remove_and_append(void **state)
{
	struct doc d;
	struct gs_buf out;

	(void)state;
	load_ok(DOC_FORMAT_JSON, "{\n  \"sops\": 1,\n  \"a\": 2,\n  \"b\": 3\n}\n", &d);
	find(d.branches[0], "sops")->removed = true;
	emit_ok(&d, DOC_FORMAT_JSON, -1, &out);
	assert_text(&out, "{\n  \"a\": 2,\n  \"b\": 3\n}\n");
	gs_buf_release(&out);
	doc_release(&d);

	load_ok(DOC_FORMAT_JSON, "{\"a\": {\"x\": 1, \"y\": 2}, \"b\": 3}", &d);
	find(find(d.branches[0], "a")->value, "y")->removed = true;
	find(d.branches[0], "b")->removed = true;
	emit_ok(&d, DOC_FORMAT_JSON, -1, &out);
	assert_text(&out, "{\"a\": {\"x\": 1}}");
	gs_buf_release(&out);
	doc_release(&d);

	load_ok(DOC_FORMAT_JSON, "{\n    \"only\": 1\n}\n", &d);
	find(d.branches[0], "only")->removed = true;
	assert_non_null(doc_append(&d, d.branches[0], "sops", 4, doc_new_scalar(&d, DOC_STR, "m", 1)));
	emit_ok(&d, DOC_FORMAT_JSON, -1, &out);
	assert_text(&out, "{\n    \"sops\": \"m\"\n}\n");
	gs_buf_release(&out);
	doc_release(&d);

	load_ok(DOC_FORMAT_JSON, "{}\n", &d);
	{
		struct doc_node *m = doc_new_map(&d);

		assert_non_null(doc_append(&d, m, "k", 1, doc_new_scalar(&d, DOC_INT, "1", 1)));
		assert_non_null(doc_append(&d, d.branches[0], "sops", 4, m));
	}
	/* on the '{' line: taken out again, the '{}' comes back (not "{",
	 * a tab, "}") */
	emit_ok(&d, DOC_FORMAT_JSON, -1, &out);
	assert_text(&out, "{\"sops\": {\n\t\"k\": 1\n}}\n");
	doc_release(&d);
	load_ok(DOC_FORMAT_JSON, (const char *)out.data, &d);
	gs_buf_release(&out);
	find(d.branches[0], "sops")->removed = true;
	emit_ok(&d, DOC_FORMAT_JSON, -1, &out);
	assert_text(&out, "{}\n");
	gs_buf_release(&out);
	doc_release(&d);
}

static void test_errors_and_limits(void **state)
{
	static const char *const bad[] = {
		"[1]", "\"s\"", "{", "{\"a\" 1}", "{\"a\": 1,}", "{\"a\": 01}", "{\"a\": 1.}",
		"{\"a\": -}", "{\"a\": tru}", "{\"a\": \"\x01\"}", "{\"a\": \"\\x\"}", "{\"a\": 1} x",
		"{\"a\": \"\xff\"}", "{\"a\": 1e999}", "{'a': 1}", "{\"a\": [1,]}", "{\"a\": \"\\u12\"}",
		/* unpaired surrogates: no UTF-8 form to give back */
		"{\"a\": \"\\ud800\"}", "{\"a\": \"\\udc00\\ud800\"}", "{\"\\ud800x\": 1}",
	};
	char *deep;
	size_t n = 10000;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (load_err(DOC_FORMAT_JSON, bad[i]) != GS_ERR_PARSE)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(load_err(DOC_FORMAT_JSON, "{\"a\": 1, \"a\": 2}"), GS_ERR_PARSE);
	assert_int_equal(load_err(DOC_FORMAT_JSON, " \n"), GS_ERR_EMPTY_INPUT);
	deep = malloc(2 * n + 16);
	strcpy(deep, "{\"a\": ");
	for (size_t i = 0; i < n; i++)
		deep[6 + i] = '[';
	for (size_t i = 0; i < n; i++)
		deep[6 + n + i] = ']';
	strcpy(deep + 6 + 2 * n, "}");
	assert_int_equal(load_err(DOC_FORMAT_JSON, deep), GS_ERR_LIMIT);
	free(deep);
}

/* A UTF-8 byte-order mark is ignored on input (RFC 8259 8.1) and kept in
 * patch-mode output; it was refused as "the top level must be an object". */
static void test_bom_ignored_and_kept(void **state)
{
	struct doc d;
	struct gs_buf out;

	(void)state;
	load_ok(DOC_FORMAT_JSON, "\xEF\xBB\xBF{\"a\": \"x\"}\n", &d);
	assert_int_equal(doc_scalar_set(&d, d.branches[0]->entries[0].value, DOC_STR, "ENC[y]", 6), 0);
	emit_ok(&d, DOC_FORMAT_JSON, -1, &out);
	assert_text(&out, "\xEF\xBB\xBF{\"a\": \"ENC[y]\"}\n");
	gs_buf_release(&out);
	doc_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_identical),
		cmocka_unit_test(test_bom_ignored_and_kept),
		cmocka_unit_test(test_patch_encrypt_decrypt_identical),
		cmocka_unit_test(test_typing_and_escapes),
		cmocka_unit_test(test_fresh_layout),
		cmocka_unit_test(test_fresh_matches_sops),
		cmocka_unit_test(test_remove_and_append),
		cmocka_unit_test(test_errors_and_limits),
		cmocka_unit_test(test_many_keys_and_late_duplicate),
	};

	if (gs_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
