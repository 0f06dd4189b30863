/* dotenv store: byte-exact round trips, patch output, flattened metadata,
 * and sops's format.enc.env decrypted with its data key. */
#include "test_store_util.h"
#include "gitseal/io.h"
#include "../../src/sops/sops_int.h"
#include "../../src/store/store_int.h"
#include "shared_data.h"

static void hex_key(const char *hex, uint8_t key[SOPS_DATA_KEY_SIZE])
{
	for (size_t i = 0; i < SOPS_DATA_KEY_SIZE; i++) {
		unsigned b;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		key[i] = (uint8_t)b;
	}
}

static void load_fixture(const char *rel, enum doc_format f, struct doc *d)
{
	char path[1024];
	struct gs_buf text;

	shared_data_path(path, sizeof(path), "testdata/sops/%s", rel);
	gs_buf_init(&text, false);
	assert_int_equal(gs_read_file(path, &text, 1 << 20), 0);
	doc_init(d, f);
	assert_int_equal(store_load(f, text.data, text.len, d), 0);
	gs_buf_release(&text);
}

static const char *const identity_inputs[] = {
	"",
	"A=1\n",
	"# comment\nA=1\n\n\nB = two words \n#\nC=\n",
	"NO_NEWLINE=x",
	"CRLF=v\r\nK=\\n\\n\r\n",
	"K==a=b\n=empty key\n",
};

static void test_identity(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(identity_inputs) / sizeof(identity_inputs[0]); i++) {
		struct doc d;
		struct gs_buf out;

		load_ok(DOC_FORMAT_DOTENV, identity_inputs[i], &d);
		emit_ok(&d, DOC_FORMAT_DOTENV, 0, &out);
		assert_text(&out, identity_inputs[i]);
		gs_buf_release(&out);
		doc_release(&d);
	}
}

static void test_parse_rules(void **state)
{
	struct doc d;
	struct doc_node *root;

	(void)state;
	load_ok(DOC_FORMAT_DOTENV, "#c1\nfoo = bar\nK=a\\nb=c\n\nE=\n", &d);
	root = d.branches[0];
	assert_int_equal(root->count, 4);
	assert_int_equal(root->entries[0].value->kind, DOC_COMMENT);
	assert_string_equal(root->entries[0].value->text, "c1");
	/* key verbatim with its trailing space, value verbatim */
	assert_string_equal(root->entries[1].key, "foo ");
	assert_string_equal(root->entries[1].value->text, " bar");
	/* split at the first '=', \n unescaped */
	assert_string_equal(find(root, "K")->value->text, "a\nb=c");
	assert_int_equal(find(root, "E")->value->len, 0);
	assert_int_equal(find(root, "E")->value->type, DOC_STR);
	doc_release(&d);
	assert_int_equal(load_err(DOC_FORMAT_DOTENV, "A=1\nno equals here\n"), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "invalid dotenv input at line 2: no '='");
}

static void test_patch(void **state)
{
	struct doc d;
	struct gs_buf out;
	struct doc_node *root;

	(void)state;
	load_ok(DOC_FORMAT_DOTENV, "#note\nA=1\n\nB=2\nC=3", &d);
	root = d.branches[0];
	assert_int_equal(doc_scalar_set(&d, find(root, "A")->value, DOC_STR, "x\ny", 3), 0);
	assert_int_equal(doc_scalar_set(&d, root->entries[0].value, DOC_STR, "ENC", 3), 0);
	find(root, "B")->removed = true;
	assert_non_null(doc_append(&d, root, "NEW", 3, doc_new_scalar(&d, DOC_STR, "v", 1)));
	emit_ok(&d, DOC_FORMAT_DOTENV, 0, &out);
	assert_text(&out, "#ENC\nA=x\\ny\n\nC=3\nNEW=v\n");
	gs_buf_release(&out);
	/* a fresh document (no source): sops's layout */
	gs_buf_release(&d.source);
	emit_ok(&d, DOC_FORMAT_DOTENV, 0, &out);
	assert_text(&out, "#ENC\nA=x\\ny\nC=3\nNEW=v\n");
	gs_buf_release(&out);
	doc_release(&d);
}

static void test_fresh_from_json(void **state)
{
	struct doc d;
	struct gs_buf out;
	struct store_emit_opts o = { 0 };

	(void)state;
	load_ok(DOC_FORMAT_JSON, "{\"a\": \"x\\ny\", \"n\": 3, \"b\": true, \"f\": 1.5, \"z\": null}", &d);
	emit_ok(&d, DOC_FORMAT_DOTENV, 0, &out);
	assert_text(&out, "a=x\\ny\nn=3\nb=true\nf=1.5\nz=\n");
	gs_buf_release(&out);
	doc_release(&d);
	load_ok(DOC_FORMAT_JSON, "{\"a\": {\"b\": 1}}", &d);
	gs_buf_init(&out, true);
	assert_int_equal(store_emit(&d, DOC_FORMAT_DOTENV, &o, &out), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "cannot use complex value in dotenv file");
	gs_buf_release(&out);
	doc_release(&d);
	load_ok(DOC_FORMAT_JSON, "{\"a=b\": \"x\"}", &d);
	gs_buf_init(&out, true);
	assert_int_equal(store_emit(&d, DOC_FORMAT_DOTENV, &o, &out), GS_ERR_PARSE);
	gs_buf_release(&out);
	doc_release(&d);
}

/* Metadata from YAML, flattened into a dotenv file and read back. */
static void test_metadata_flatten_roundtrip(void **state)
{
	static const char yaml[] =
		"k: v\n"
		"sops:\n"
		"    key_groups:\n"
		"        - age:\n"
		"            - enc: |\n"
		"                line1\n"
		"                line2\n"
		"              recipient: age1a\n"
		"          hc_vault: []\n"
		"        - age:\n"
		"            - recipient: age1b\n"
		"    l: [a, b, c, d, e, f, g, h, i, j, k, l]\n"
		"    lastmodified: \"2026-01-01T00:00:00Z\"\n"
		"    mac_only_encrypted: true\n"
		"    shamir_threshold: 2\n"
		"    version: 3.13.2\n";
	static const char want[] =
		"k=v\n"
		"sops_key_groups__list_0__map_age__list_0__map_enc=line1\\nline2\\n\n"
		"sops_key_groups__list_0__map_age__list_0__map_recipient=age1a\n"
		"sops_key_groups__list_1__map_age__list_0__map_recipient=age1b\n"
		"sops_l__list_0=a\nsops_l__list_1=b\nsops_l__list_2=c\nsops_l__list_3=d\n"
		"sops_l__list_4=e\nsops_l__list_5=f\nsops_l__list_6=g\nsops_l__list_7=h\n"
		"sops_l__list_8=i\nsops_l__list_9=j\nsops_l__list_10=k\nsops_l__list_11=l\n"
		"sops_lastmodified=2026-01-01T00:00:00Z\n"
		"sops_mac_only_encrypted=true\n"
		"sops_shamir_threshold=2\n"
		"sops_version=3.13.2\n";
	struct doc y, d;
	struct gs_buf out, again;
	struct sops_metadata m;
	struct doc_node *meta, *l;

	(void)state;
	load_ok(DOC_FORMAT_YAML, yaml, &y);
	emit_ok(&y, DOC_FORMAT_DOTENV, 0, &out);
	assert_text(&out, want);
	load_ok(DOC_FORMAT_DOTENV, (const char *)out.data, &d);
	assert_true(sops_doc_is_encrypted(&d));
	meta = find(d.branches[0], "sops")->value;
	l = find(meta, "l")->value;
	assert_int_equal(l->kind, DOC_LIST);
	assert_int_equal(l->count, 12);
	assert_string_equal(l->entries[10].value->text, "k");
	assert_string_equal(find(find(find(meta, "key_groups")->value->entries[0].value, "age")
					 ->value->entries[0].value, "enc")->value->text,
			    "line1\nline2\n");
	/* strings as mapstructure reads them: "true", "2" */
	assert_int_equal(sops_metadata_read(&d, &m), 0);
	assert_int_equal(m.shamir_threshold, 2);
	assert_true(m.selection.mac_only_encrypted);
	assert_int_equal(m.group_count, 2);
	assert_string_equal(m.groups[1].age[0].recipient, "age1b");
	sops_metadata_release(&m);
	/* unchanged: the same bytes; metadata removed: its lines go */
	emit_ok(&d, DOC_FORMAT_DOTENV, 0, &again);
	assert_text(&again, want);
	gs_buf_release(&again);
	find(d.branches[0], "sops")->removed = true;
	emit_ok(&d, DOC_FORMAT_DOTENV, 0, &again);
	assert_text(&again, "k=v\n");
	gs_buf_release(&again);
	/* a replaced entry is cut and the new one written at the end */
	assert_non_null(doc_append(&d, d.branches[0], "sops", 4, doc_clone(&d, meta)));
	assert_non_null(doc_append(&d, d.branches[0], "z", 1, doc_new_scalar(&d, DOC_STR, "1", 1)));
	emit_ok(&d, DOC_FORMAT_DOTENV, 0, &again);
	assert_int_equal(memcmp(again.data, "k=v\nz=1\nsops_key_groups__list_0", 30), 0);
	assert_int_equal(again.len, strlen(want) + 4);
	gs_buf_release(&again);
	gs_buf_release(&out);
	doc_release(&d);
	doc_release(&y);
}

static void test_unflatten_errors(void **state)
{
	(void)state;
	assert_int_equal(load_err(DOC_FORMAT_DOTENV, "sops_a__list_1=x\n"), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "sops metadata: incomplete list in flattened keys");
	assert_int_equal(load_err(DOC_FORMAT_DOTENV, "sops_a=x\nsops_a__map_b=y\n"), GS_ERR_PARSE);
	assert_int_equal(load_err(DOC_FORMAT_DOTENV, "sops_a__map_b=y\nsops_a=x\n"), GS_ERR_PARSE);
	assert_int_equal(load_err(DOC_FORMAT_DOTENV, "sops_a=x\nsops_a=y\n"), GS_ERR_PARSE);
	assert_int_equal(load_err(DOC_FORMAT_DOTENV, "sops_a__map_b=y\nsops_a__list_0=x\n"), GS_ERR_PARSE);
}

static void test_fixture_format_enc_env(void **state)
{
	struct doc d;
	struct gs_buf out;
	uint8_t key[SOPS_DATA_KEY_SIZE];
	struct doc_node *meta;

	(void)state;
	hex_key("322d9a97997823fb2bf42f55a6c26100cbaf0520cf88bb7ebee1cf47dd6d318d", key);
	load_fixture("getsops-sops/functional-tests/res/format.enc.env", DOC_FORMAT_DOTENV, &d);
	meta = find(d.branches[0], "sops")->value;
	assert_string_equal(find(find(meta, "pgp")->value->entries[0].value, "fp")->value->text,
			    "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4");
	assert_non_null(strstr(find(find(meta, "pgp")->value->entries[0].value, "enc")->value->text,
			       "-----BEGIN PGP MESSAGE-----\n\nwcBM"));
	/* the key is "foo " (AAD "foo :"), the MAC verified */
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), 0);
	assert_string_equal(find(d.branches[0], "foo ")->value->text, " bar");
	emit_ok(&d, DOC_FORMAT_DOTENV, 0, &out);
	assert_text(&out, "foo = bar\n");
	gs_buf_release(&out);
	doc_release(&d);
	/* another key fails */
	key[0] ^= 1;
	load_fixture("getsops-sops/functional-tests/res/format.enc.env", DOC_FORMAT_DOTENV, &d);
	assert_true(sops_decrypt_doc_with_key(&d, key, NULL) < 0);
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
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_parse_rules),
		cmocka_unit_test(test_patch),
		cmocka_unit_test(test_fresh_from_json),
		cmocka_unit_test(test_metadata_flatten_roundtrip),
		cmocka_unit_test(test_unflatten_errors),
		cmocka_unit_test(test_fixture_format_enc_env),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
