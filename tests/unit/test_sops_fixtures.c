/* The sops engine against real sops files (shared/testdata/sops) with their
 * known data keys, and encrypt/decrypt/reuse round trips under a key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitseal/error.h"
#include "gitseal/io.h"
#include "../../src/sops/sops_int.h"
#include "shared_data.h"

/* ---- a minimal YAML block reader, enough for the fixtures' shape ---- */

struct lines {
	char **v;
	size_t n;
};

static size_t indent_of(const char *s)
{
	size_t i = 0;

	while (s[i] == ' ')
		i++;
	return i;
}

static char *unquote(char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && ((v[0] == '"' && v[n - 1] == '"') || (v[0] == '\'' && v[n - 1] == '\''))) {
		v[n - 1] = '\0';
		return v + 1;
	}
	return v;
}

static void skip_deeper(const struct lines *l, size_t *i, size_t ind, bool dash_same)
{
	while (*i < l->n) {
		const char *s = l->v[*i];
		size_t in = indent_of(s);

		if (s[in] == '\0' || in > ind || (dash_same && in == ind && s[in] == '-'))
			(*i)++;
		else
			break;
	}
}

static struct doc_node *parse_block(struct doc *d, const struct lines *l, size_t *i, size_t ind)
{
	struct doc_node *map = doc_new_map(d);

	while (*i < l->n) {
		char *s = l->v[*i];
		size_t in = indent_of(s);
		char *key, *colon, *val;
		struct doc_node *v;

		if (s[in] == '\0') {
			(*i)++;
			continue;
		}
		if (in < ind)
			break;
		if (s[in] == '#') {
			assert_non_null(doc_append(d, map, NULL, 0, doc_new_comment(d, s + in + 1,
										    strlen(s + in + 1))));
			(*i)++;
			continue;
		}
		key = s + in;
		colon = strstr(key, ": ");
		if (!colon && key[strlen(key) - 1] == ':')
			colon = key + strlen(key) - 1;
		assert_non_null(colon);
		*colon = '\0';
		val = colon[1] ? colon + 2 : colon + 1;
		(*i)++;
		if (!*val) {
			size_t next = *i < l->n ? indent_of(l->v[*i]) : 0;

			if (*i < l->n && (l->v[*i][next] == '-')) {
				skip_deeper(l, i, in, true);
				v = doc_new_list(d);
			} else if (*i < l->n && next > in) {
				v = parse_block(d, l, i, next);
			} else {
				v = doc_new_scalar(d, DOC_NULL, "", 0);
			}
		} else if (strcmp(val, "|") == 0 || strcmp(val, "|-") == 0) {
			skip_deeper(l, i, in, false);
			v = doc_new_scalar(d, DOC_STR, "", 0);
		} else if (strcmp(val, "{}") == 0) {
			v = doc_new_map(d);
		} else if (strcmp(val, "[]") == 0) {
			v = doc_new_list(d);
		} else {
			val = unquote(val);
			v = doc_new_scalar(d, DOC_STR, val, strlen(val));
		}
		assert_non_null(doc_append(d, map, key, strlen(key), v));
	}
	return map;
}

static char *fixture_path(const char *rel)
{
	static char path[1024];

	return shared_data_path(path, sizeof(path), "testdata/sops/%s", rel);
}

static void load_fixture(const char *rel, struct doc *d)
{
	struct gs_buf text;
	struct lines l = { NULL, 0 };
	size_t i = 0;
	char *save = NULL, *line;

	gs_buf_init(&text, false);
	assert_int_equal(gs_read_file(fixture_path(rel), &text, 1 << 20), 0);
	l.v = calloc(text.len + 1, sizeof(char *));
	for (line = strtok_r((char *)text.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		l.v[l.n++] = line;
	doc_init(d, DOC_FORMAT_YAML);
	assert_int_equal(doc_add_branch(d, parse_block(d, &l, &i, 0)), 0);
	free(l.v);
	gs_buf_release(&text);
}

static void hex_key(const char *hex, uint8_t key[SOPS_DATA_KEY_SIZE])
{
	for (size_t i = 0; i < SOPS_DATA_KEY_SIZE; i++) {
		unsigned int b;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		key[i] = (uint8_t)b;
	}
}

/* The node at a path of map keys in branch b. */
static struct doc_node *at(const struct doc *d, size_t b, const char *path)
{
	char buf[256], *save = NULL;
	struct doc_node *n = d->branches[b];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		struct doc_entry *e;

		assert_int_equal(n->kind, DOC_MAP);
		e = doc_map_find(n, k);
		if (!e)
			return NULL;
		n = e->value;
	}
	return n;
}

static void assert_text(const struct doc *d, const char *path, const char *want)
{
	struct doc_node *n = at(d, 0, path);

	assert_non_null(n);
	assert_string_equal(n->text, want);
}

static int decrypt_fixture(const char *rel, const char *hexkey, bool ignore_mac, struct doc *d)
{
	uint8_t key[SOPS_DATA_KEY_SIZE];
	struct sops_decrypt_opts o = { .ignore_mac = ignore_mac };

	hex_key(hexkey, key);
	load_fixture(rel, d);
	return sops_decrypt_doc_with_key(d, key, &o);
}

static int setup(void **state)
{
	(void)state;
	return gs_crypto_init();
}

static void test_format_yaml(void **state)
{
	struct doc d;
	struct sops_mac m;
	char hex[129];

	(void)state;
	assert_int_equal(decrypt_fixture("getsops-sops/functional-tests/res/format.enc.yaml",
					 "af5e68dd342b72c6a0475f81a50da4fde898f4b7742c92cbcf1668211411f4e4",
					 false, &d), 0);
	assert_text(&d, "foo", "bar");
	assert_false(sops_doc_is_encrypted(&d));
	doc_release(&d);
	/* its MAC is SHA-512("bar") (spec 4.3) */
	assert_int_equal(sops_mac_init(&m, false), 0);
	assert_int_equal(sops_mac_update(&m, (const uint8_t *)"bar", 3), 0);
	assert_int_equal(sops_mac_final(&m, hex), 0);
	assert_memory_equal(hex, "D82C4EB5", 8);
	assert_memory_equal(hex + 122, "E6C181", 6);
}

static void test_format_yaml_wrong_key_and_aad(void **state)
{
	struct doc d;
	struct doc_node *foo;
	uint8_t key[SOPS_DATA_KEY_SIZE];

	(void)state;
	assert_int_equal(decrypt_fixture("getsops-sops/functional-tests/res/format.enc.yaml",
					 "af5e68dd342b72c6a0475f81a50da4fde898f4b7742c92cbcf1668211411f4e5",
					 false, &d), GS_ERR_DECRYPT_VALUE);
	doc_release(&d);
	/* the same ciphertext under another key name (AAD) fails */
	hex_key("af5e68dd342b72c6a0475f81a50da4fde898f4b7742c92cbcf1668211411f4e4", key);
	load_fixture("getsops-sops/functional-tests/res/format.enc.yaml", &d);
	d.branches[0]->entries[0].key = "fo0";
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), GS_ERR_DECRYPT_VALUE);
	doc_release(&d);
	/* a plaintext value where an encrypted one is expected */
	load_fixture("getsops-sops/functional-tests/res/format.enc.yaml", &d);
	foo = at(&d, 0, "foo");
	assert_int_equal(doc_scalar_set(&d, foo, DOC_INT, "3", 1), 0);
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), GS_ERR_DECRYPT_VALUE);
	doc_release(&d);
}

static void test_k8s_secret(void **state)
{
	struct doc d;

	(void)state;
	assert_int_equal(decrypt_fixture("reconstructed/k8s-secret.enc.yaml",
					 "e169696ebcacd2b42bfcb475ccbcc61a221a0b54a560f37395b11ac2d7e4ce71",
					 false, &d), 0);
	assert_text(&d, "stringData.username", "admin");
	assert_text(&d, "stringData.password", "t0p-s3cr3t");
	assert_text(&d, "metadata.name", "db-credentials");
	doc_release(&d);
}

static void test_comments(void **state)
{
	struct doc d;
	struct doc_node *root;

	(void)state;
	assert_int_equal(decrypt_fixture("getsops-sops/functional-tests/res/comments.enc.yaml",
					 "61bec946f5783fd4cea3d1b1ce407fce2b6e81fc301cc539c422015e27f6d1be",
					 false, &d), 0);
	root = d.branches[0];
	assert_int_equal(root->entries[0].value->kind, DOC_COMMENT);
	assert_string_equal(root->entries[0].value->text, " first comment in file");
	assert_string_equal(root->entries[2].value->text, " this-is-a-comment");
	assert_text(&d, "lorem", "ipsum");
	assert_text(&d, "dolor", "sit");
	doc_release(&d);

	assert_int_equal(decrypt_fixture("getsops-sops/functional-tests/res/comments_unencrypted_comments.yaml",
					 "70f645aec88418dff72ac2a7a5503209cf00beda80706e6e157fd94ae53885a0",
					 false, &d), 0);
	assert_text(&d, "lorem", "ipsum");
	doc_release(&d);
}

static void test_no_mac_and_multiple_keys(void **state)
{
	struct doc d;

	(void)state;
	assert_int_equal(decrypt_fixture("getsops-sops/functional-tests/res/no_mac.yaml",
					 "87f9ee7ab041cfd1946fb50e6166b29858fcb4224ae3816186a129248558461f",
					 false, &d), GS_ERR_MAC_MISMATCH);
	assert_string_equal(gs_error_message(), "no MAC");
	doc_release(&d);
	assert_int_equal(decrypt_fixture("getsops-sops/functional-tests/res/no_mac.yaml",
					 "87f9ee7ab041cfd1946fb50e6166b29858fcb4224ae3816186a129248558461f",
					 true, &d), 0);
	assert_text(&d, "myapp1", "t00m4nys3cr3tzupdated");
	doc_release(&d);
	assert_int_equal(decrypt_fixture("getsops-sops/functional-tests/res/multiple_keys.yaml",
					 "1e1db61c6b93c001caa9ce34a9d68448eee8a3c69336697eab36bb92327ce786",
					 false, &d), 0);
	assert_text(&d, "message", "hello");
	doc_release(&d);
}

static void test_kaweezle(void **state)
{
	struct doc d;
	struct doc_node *pk;

	(void)state;
	assert_int_equal(decrypt_fixture("kaweezle-iknite/data_with_key_complete_encrypted.yaml",
					 "52cabd2ff0d3356a8e4d28b3401528a139c61e91bf92606eba7e72835003e1c8",
					 false, &d), 0);
	assert_text(&d, "data.apk_signing_key.name", "test-signing-key");
	assert_text(&d, "data.apk_signing_key.private_key", "private_key_value");
	doc_release(&d);
	assert_int_equal(decrypt_fixture("kaweezle-iknite/data_with_key_invalid_encrypted.yaml",
					 "9b03e462e8a8a708aebbb656334a81bffe62754dedcf4d18ac226d48f659dfb2",
					 false, &d), 0);
	assert_text(&d, "data.apk_signing_key", "value");
	doc_release(&d);
	assert_int_equal(decrypt_fixture("kaweezle-iknite/empty_data_encrypted.yaml",
					 "1b7cfbdddc06fb312d812aed35f1460dbafce05fdad528a9bbdcf92c299d4580",
					 false, &d), 0);
	doc_release(&d);
	assert_int_equal(decrypt_fixture("kaweezle-iknite/empty_encrypted.yaml",
					 "5e585312f0e50a076665050b02e85e40dbef519f7bad5e9d7b6f6d98b1c57aa7",
					 false, &d), 0);
	doc_release(&d);
	assert_int_equal(decrypt_fixture("kaweezle-iknite/signing-key.sops.yaml",
					 "9bba8012dc618907fd323f90cae96bde8c1d6b74b7a75673a026ffc31f24e148",
					 false, &d), 0);
	assert_text(&d, "apk_signing_key.name", "test-signing-key");
	pk = at(&d, 0, "apk_signing_key.private_key");
	assert_non_null(strstr(pk->text, "-----BEGIN"));
	doc_release(&d);
}

/* ---- encryption under a key ---- */

static const char *const LM = "2020-01-01T00:00:00Z";

static void build_sample(struct doc *d, const char *password)
{
	struct doc_node *root, *db, *ports, *empty;

	doc_init(d, DOC_FORMAT_YAML);
	root = doc_new_map(d);
	assert_int_equal(doc_add_branch(d, root), 0);
	assert_non_null(doc_append(d, root, NULL, 0, doc_new_comment(d, " top", 4)));
	db = doc_new_map(d);
	assert_non_null(doc_append(d, root, "db", 2, db));
	assert_non_null(doc_append(d, db, "user", 4, doc_new_scalar(d, DOC_STR, "admin", 5)));
	assert_non_null(doc_append(d, db, "password", 8,
				   doc_new_scalar(d, DOC_STR, password, strlen(password))));
	assert_non_null(doc_append(d, db, "port", 4, doc_new_scalar(d, DOC_INT, "5432", 4)));
	assert_non_null(doc_append(d, db, "ratio", 5, doc_new_scalar(d, DOC_FLOAT, "0.5", 3)));
	assert_non_null(doc_append(d, db, "tls", 3, doc_new_scalar(d, DOC_BOOL, "true", 4)));
	assert_non_null(doc_append(d, db, "nothing", 7, doc_new_scalar(d, DOC_NULL, "", 0)));
	assert_non_null(doc_append(d, db, "blank", 5, doc_new_scalar(d, DOC_STR, "", 0)));
	assert_non_null(doc_append(d, db, "host_unencrypted", 16,
				   doc_new_scalar(d, DOC_STR, "db.local", 8)));
	ports = doc_new_list(d);
	assert_non_null(doc_append(d, root, "ports", 5, ports));
	assert_non_null(doc_append(d, ports, NULL, 0, doc_new_scalar(d, DOC_INT, "80", 2)));
	assert_non_null(doc_append(d, ports, NULL, 0, doc_new_comment(d, " in list", 8)));
	assert_non_null(doc_append(d, ports, NULL, 0, doc_new_scalar(d, DOC_INT, "443", 3)));
	empty = doc_new_map(d);
	assert_non_null(doc_append(d, root, "empty", 5, empty));
}

static const struct sops_age_entry fake_age = { "age1example", "-----BEGIN AGE ENCRYPTED FILE-----\n"
							       "x\n-----END AGE ENCRYPTED FILE-----\n", 71 };
static const struct sops_meta_group fake_group = { .age = (struct sops_age_entry *)&fake_age, .age_count = 1 };

static void test_encrypt_roundtrip(void **state)
{
	struct doc d;
	uint8_t key[SOPS_DATA_KEY_SIZE];
	struct sops_selection none = { SOPS_SEL_NONE, NULL, false };
	struct doc_node *sops, *ports;
	struct doc_entry *e;
	static const char *const order[] = { "age", "lastmodified", "mac", "unencrypted_suffix",
					     "version" };

	(void)state;
	memset(key, 7, sizeof(key));
	build_sample(&d, "s3cret");
	assert_int_equal(sops_encrypt_with_key(&d, key, &fake_group, 1, 0, &none, NULL, LM), 0);
	assert_true(sops_doc_is_encrypted(&d));
	assert_int_equal(strncmp(at(&d, 0, "db.password")->text, "ENC[AES256_GCM,data:", 20), 0);
	assert_non_null(strstr(at(&d, 0, "db.port")->text, "type:int]"));
	assert_non_null(strstr(at(&d, 0, "db.ratio")->text, "type:float]"));
	assert_non_null(strstr(at(&d, 0, "db.tls")->text, "type:bool]"));
	assert_string_equal(at(&d, 0, "db.blank")->text, "");
	assert_int_equal(at(&d, 0, "db.nothing")->type, DOC_NULL);
	assert_string_equal(at(&d, 0, "db.host_unencrypted")->text, "db.local");
	/* comments: a map comment stays a comment, a list comment becomes an item */
	assert_int_equal(d.branches[0]->entries[0].value->kind, DOC_COMMENT);
	assert_non_null(strstr(d.branches[0]->entries[0].value->text, "type:comment]"));
	ports = at(&d, 0, "ports");
	assert_int_equal(ports->entries[1].value->kind, DOC_SCALAR);
	assert_non_null(strstr(ports->entries[1].value->text, "type:comment]"));
	/* metadata in the 3.13 layout: sorted keys, enc before recipient */
	sops = at(&d, 0, "sops");
	assert_int_equal(sops->count, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(sops->entries[i].key, order[i]);
	assert_string_equal(sops->entries[0].value->entries[0].value->entries[0].key, "enc");
	assert_string_equal(at(&d, 0, "sops.lastmodified")->text, LM);
	assert_string_equal(at(&d, 0, "sops.version")->text, SOPS_VERSION);

	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), 0);
	assert_false(sops_doc_is_encrypted(&d));
	assert_text(&d, "db.password", "s3cret");
	assert_text(&d, "db.port", "5432");
	assert_int_equal(at(&d, 0, "db.port")->type, DOC_INT);
	assert_text(&d, "db.ratio", "0.5");
	assert_int_equal(at(&d, 0, "db.ratio")->type, DOC_FLOAT);
	assert_text(&d, "db.tls", "true");
	assert_int_equal(at(&d, 0, "db.tls")->type, DOC_BOOL);
	assert_string_equal(d.branches[0]->entries[0].value->text, " top");
	assert_int_equal(ports->entries[1].value->kind, DOC_COMMENT);
	assert_string_equal(ports->entries[1].value->text, " in list");
	e = doc_map_find(d.branches[0], "sops");
	assert_null(e);
	doc_release(&d);
}

/* Enough values for the decryption ahead of the walk on two threads
 * (batch.c): every value comes back, a bad value in either thread's half
 * is named as the walk would name it, and a selection by key applies. */
enum { MANY = 2000 };

static void build_many(struct doc *d)
{
	struct doc_node *root;
	char key[32], value[48];

	doc_init(d, DOC_FORMAT_YAML);
	root = doc_new_map(d);
	assert_int_equal(doc_add_branch(d, root), 0);
	for (int i = 0; i < MANY; i++) {
		int kl = snprintf(key, sizeof(key), i % 3 ? "k%d" : "k%d_secret", i);
		int vl = snprintf(value, sizeof(value), "value-%d-%s", i, i % 7 ? "x" : "a longer value");
		enum doc_type type = i % 5 ? DOC_STR : DOC_INT;

		if (type == DOC_INT)
			vl = snprintf(value, sizeof(value), "%d", i);
		assert_non_null(doc_append(d, root, key, (size_t)kl,
					   doc_new_scalar(d, type, value, (size_t)vl)));
	}
}

static void assert_many(const struct doc *d)
{
	const struct doc_node *root = d->branches[0];
	char want[48];

	/* the sops entry after them is marked removed */
	assert_int_equal(root->count, MANY + 1);
	assert_true(root->entries[MANY].removed);
	for (int i = 0; i < MANY; i++) {
		const struct doc_node *n = root->entries[i].value;

		if (i % 5)
			snprintf(want, sizeof(want), "value-%d-%s", i, i % 7 ? "x" : "a longer value");
		else
			snprintf(want, sizeof(want), "%d", i);
		assert_int_equal(n->type, i % 5 ? DOC_STR : DOC_INT);
		assert_int_equal(n->len, strlen(want));
		assert_memory_equal(n->text, want, n->len);
	}
}

static void break_value(struct doc *d, size_t i)
{
	struct doc_node *n = d->branches[0]->entries[i].value;
	char *data = strstr(n->text, "data:") + 5;

	*data = *data == 'A' ? 'B' : 'A';
}

static void test_decrypt_many_values(void **state)
{
	struct doc d;
	uint8_t key[SOPS_DATA_KEY_SIZE];
	struct sops_selection none = { SOPS_SEL_NONE, NULL, false };
	struct sops_selection secret = { SOPS_SEL_ENCRYPTED_SUFFIX, "_secret", false };
	static const size_t bad[] = { 10, MANY - 10 };

	(void)state;
	memset(key, 5, sizeof(key));
	build_many(&d);
	assert_int_equal(sops_encrypt_with_key(&d, key, &fake_group, 1, 0, &none, NULL, LM), 0);
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), 0);
	assert_many(&d);
	doc_release(&d);

	for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
		char want[128];

		build_many(&d);
		assert_int_equal(sops_encrypt_with_key(&d, key, &fake_group, 1, 0, &none, NULL, LM), 0);
		break_value(&d, bad[b]);
		assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), GS_ERR_DECRYPT_VALUE);
		snprintf(want, sizeof(want), "value at 'k%zu%s:': cannot decrypt value: authentication failed",
			 bad[b], bad[b] % 3 ? "" : "_secret");
		assert_string_equal(gs_error_message(), want);
		doc_release(&d);
	}

	build_many(&d);
	assert_int_equal(sops_encrypt_with_key(&d, key, &fake_group, 1, 0, &secret, NULL, LM), 0);
	assert_string_equal(d.branches[0]->entries[1].value->text, "value-1-x");
	assert_int_equal(strncmp(d.branches[0]->entries[3].value->text, "ENC[", 4), 0);
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), 0);
	assert_many(&d);
	doc_release(&d);
}

static void test_mac_detects_changes(void **state)
{
	struct doc d;
	uint8_t key[SOPS_DATA_KEY_SIZE];
	struct sops_selection none = { SOPS_SEL_NONE, NULL, false };
	struct sops_decrypt_opts ignore = { .ignore_mac = true };
	struct doc_node *host, *ports;
	struct doc_entry tmp;

	(void)state;
	memset(key, 9, sizeof(key));
	/* a plaintext leaf is part of the MAC */
	build_sample(&d, "pw");
	assert_int_equal(sops_encrypt_with_key(&d, key, &fake_group, 1, 0, &none, NULL, LM), 0);
	host = at(&d, 0, "db.host_unencrypted");
	assert_int_equal(doc_scalar_set(&d, host, DOC_STR, "evil", 4), 0);
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), GS_ERR_MAC_MISMATCH);
	doc_release(&d);
	/* reordering two list items changes the MAC */
	build_sample(&d, "pw");
	assert_int_equal(sops_encrypt_with_key(&d, key, &fake_group, 1, 0, &none, NULL, LM), 0);
	ports = at(&d, 0, "ports");
	tmp = ports->entries[0];
	ports->entries[0] = ports->entries[2];
	ports->entries[2] = tmp;
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), GS_ERR_MAC_MISMATCH);
	doc_release(&d);
	build_sample(&d, "pw");
	assert_int_equal(sops_encrypt_with_key(&d, key, &fake_group, 1, 0, &none, NULL, LM), 0);
	ports = at(&d, 0, "ports");
	tmp = ports->entries[0];
	ports->entries[0] = ports->entries[2];
	ports->entries[2] = tmp;
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, &ignore), 0);
	doc_release(&d);
	/* a changed lastmodified breaks the mac's AAD */
	build_sample(&d, "pw");
	assert_int_equal(sops_encrypt_with_key(&d, key, &fake_group, 1, 0, &none, NULL, LM), 0);
	assert_int_equal(doc_scalar_set(&d, at(&d, 0, "sops.lastmodified"), DOC_STR,
					"2020-01-01T00:00:01Z", 20), 0);
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), GS_ERR_MAC_MISMATCH);
	doc_release(&d);
	/* lastmodified with an offset of zero and a fraction is re-formatted */
	build_sample(&d, "pw");
	assert_int_equal(sops_encrypt_with_key(&d, key, &fake_group, 1, 0, &none, NULL, LM), 0);
	assert_int_equal(doc_scalar_set(&d, at(&d, 0, "sops.lastmodified"), DOC_STR,
					"2020-01-01T00:00:00.123+00:00", 29), 0);
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), 0);
	doc_release(&d);
}

static void test_selection_options(void **state)
{
	struct doc d;
	uint8_t key[SOPS_DATA_KEY_SIZE];
	struct sops_selection re = { SOPS_SEL_ENCRYPTED_REGEX, "^(data|stringData)$", false };
	struct sops_selection mac_only = { SOPS_SEL_ENCRYPTED_REGEX, "^pass\\w+$", true };
	struct doc_node *root, *data;

	(void)state;
	memset(key, 3, sizeof(key));
	doc_init(&d, DOC_FORMAT_YAML);
	root = doc_new_map(&d);
	assert_int_equal(doc_add_branch(&d, root), 0);
	assert_non_null(doc_append(&d, root, NULL, 0, doc_new_comment(&d, " top", 4)));
	assert_non_null(doc_append(&d, root, "kind", 4, doc_new_scalar(&d, DOC_STR, "Secret", 6)));
	data = doc_new_map(&d);
	assert_non_null(doc_append(&d, root, "data", 4, data));
	assert_non_null(doc_append(&d, data, "x", 1, doc_new_scalar(&d, DOC_STR, "secret", 6)));
	assert_int_equal(sops_encrypt_with_key(&d, key, &fake_group, 1, 0, &re, NULL, LM), 0);
	assert_string_equal(at(&d, 0, "kind")->text, "Secret");
	assert_string_equal(root->entries[0].value->text, " top");
	assert_int_equal(strncmp(at(&d, 0, "data.x")->text, "ENC[", 4), 0);
	assert_string_equal(at(&d, 0, "sops.encrypted_regex")->text, "^(data|stringData)$");
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), 0);
	assert_text(&d, "data.x", "secret");
	doc_release(&d);

	doc_init(&d, DOC_FORMAT_YAML);
	root = doc_new_map(&d);
	assert_int_equal(doc_add_branch(&d, root), 0);
	assert_non_null(doc_append(&d, root, "password", 8, doc_new_scalar(&d, DOC_STR, "a", 1)));
	assert_non_null(doc_append(&d, root, "user", 4, doc_new_scalar(&d, DOC_STR, "b", 1)));
	assert_int_equal(sops_encrypt_with_key(&d, key, &fake_group, 1, 0, &mac_only, NULL, LM), 0);
	assert_string_equal(at(&d, 0, "sops.mac_only_encrypted")->text, "true");
	assert_int_equal(at(&d, 0, "sops.mac_only_encrypted")->type, DOC_BOOL);
	/* with mac_only_encrypted, plaintext leaves may change */
	assert_int_equal(doc_scalar_set(&d, at(&d, 0, "user"), DOC_STR, "c", 1), 0);
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), 0);
	assert_text(&d, "password", "a");
	doc_release(&d);
}

static void test_comment_regex(void **state)
{
	struct doc d;
	uint8_t key[SOPS_DATA_KEY_SIZE];
	struct sops_selection sel = { SOPS_SEL_ENCRYPTED_COMMENT_REGEX, "sops:enc", false };
	struct doc_node *root;

	(void)state;
	memset(key, 4, sizeof(key));
	doc_init(&d, DOC_FORMAT_YAML);
	root = doc_new_map(&d);
	assert_int_equal(doc_add_branch(&d, root), 0);
	assert_non_null(doc_append(&d, root, "a", 1, doc_new_scalar(&d, DOC_STR, "plain", 5)));
	assert_non_null(doc_append(&d, root, NULL, 0, doc_new_comment(&d, " sops:enc", 9)));
	assert_non_null(doc_append(&d, root, NULL, 0, doc_new_comment(&d, " note", 5)));
	assert_non_null(doc_append(&d, root, "b", 1, doc_new_scalar(&d, DOC_STR, "hidden", 6)));
	assert_non_null(doc_append(&d, root, "c", 1, doc_new_scalar(&d, DOC_STR, "plain2", 6)));
	assert_int_equal(sops_encrypt_with_key(&d, key, &fake_group, 1, 0, &sel, NULL, LM), 0);
	assert_string_equal(root->entries[0].value->text, "plain");
	/* the marker stays plaintext, the comment after it and the value are sealed */
	assert_string_equal(root->entries[1].value->text, " sops:enc");
	assert_int_equal(strncmp(root->entries[2].value->text, "ENC[", 4), 0);
	assert_int_equal(strncmp(root->entries[3].value->text, "ENC[", 4), 0);
	assert_string_equal(root->entries[4].value->text, "plain2");
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), 0);
	assert_string_equal(root->entries[2].value->text, " note");
	assert_string_equal(root->entries[3].value->text, "hidden");
	doc_release(&d);
}

static void test_multi_branch(void **state)
{
	struct doc d;
	uint8_t key[SOPS_DATA_KEY_SIZE];
	struct sops_selection none = { SOPS_SEL_NONE, NULL, false };
	struct doc_node *a = NULL, *b = NULL;

	(void)state;
	memset(key, 5, sizeof(key));
	doc_init(&d, DOC_FORMAT_YAML);
	a = doc_new_map(&d);
	b = doc_new_map(&d);
	assert_int_equal(doc_add_branch(&d, a), 0);
	assert_int_equal(doc_add_branch(&d, b), 0);
	assert_non_null(doc_append(&d, a, "k", 1, doc_new_scalar(&d, DOC_STR, "one", 3)));
	assert_non_null(doc_append(&d, b, "k", 1, doc_new_scalar(&d, DOC_STR, "two", 3)));
	assert_int_equal(sops_encrypt_with_key(&d, key, &fake_group, 1, 0, &none, NULL, LM), 0);
	assert_non_null(at(&d, 0, "sops.mac"));
	assert_non_null(at(&d, 1, "sops.mac"));
	assert_string_equal(at(&d, 0, "sops.mac")->text, at(&d, 1, "sops.mac")->text);
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), 0);
	assert_null(doc_map_find(a, "sops"));
	assert_null(doc_map_find(b, "sops"));
	assert_string_equal(at(&d, 1, "k")->text, "two");
	doc_release(&d);
}

/* ---- reuse ---- */

static void reencrypt(struct doc *prev, const uint8_t *key, const char *password, struct doc *out)
{
	struct sops_previous p;
	struct sops_selection none = { SOPS_SEL_NONE, NULL, false };

	assert_int_equal(sops_previous_open_with_key(prev, key, &p), 0);
	build_sample(out, password);
	assert_int_equal(sops_encrypt_with_key(out, key, &p.meta.groups[0], 1, 0, &none, &p, NULL), 0);
	sops_previous_release(&p);
}

static void test_reuse(void **state)
{
	struct doc v1, v2, v3;
	uint8_t key[SOPS_DATA_KEY_SIZE];
	struct sops_selection none = { SOPS_SEL_NONE, NULL, false };
	static const char *const leaves[] = { "db.user", "db.port", "db.ratio", "db.tls",
					      "sops.lastmodified", "sops.mac", "sops.version" };

	(void)state;
	memset(key, 1, sizeof(key));
	build_sample(&v1, "pw-1");
	assert_int_equal(sops_encrypt_with_key(&v1, key, &fake_group, 1, 0, &none, NULL, LM), 0);

	/* unchanged: every ciphertext, lastmodified and mac identical */
	reencrypt(&v1, key, "pw-1", &v2);
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
		assert_string_equal(at(&v1, 0, leaves[i])->text, at(&v2, 0, leaves[i])->text);
	assert_string_equal(at(&v1, 0, "db.password")->text, at(&v2, 0, "db.password")->text);
	assert_string_equal(v1.branches[0]->entries[0].value->text,
			    v2.branches[0]->entries[0].value->text);
	assert_string_equal(at(&v1, 0, "ports")->entries[1].value->text,
			    at(&v2, 0, "ports")->entries[1].value->text);

	/* one value changed: only it, lastmodified and mac differ */
	reencrypt(&v2, key, "pw-2", &v3);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(at(&v1, 0, leaves[i])->text, at(&v3, 0, leaves[i])->text);
	assert_string_not_equal(at(&v1, 0, "db.password")->text, at(&v3, 0, "db.password")->text);
	assert_string_not_equal(at(&v1, 0, "sops.mac")->text, at(&v3, 0, "sops.mac")->text);
	assert_string_not_equal(at(&v1, 0, "sops.lastmodified")->text,
				at(&v3, 0, "sops.lastmodified")->text);
	/* the previous version is left encrypted and intact */
	assert_true(sops_doc_is_encrypted(&v2));
	assert_int_equal(sops_decrypt_doc_with_key(&v3, key, NULL), 0);
	assert_text(&v3, "db.password", "pw-2");
	assert_int_equal(sops_decrypt_doc_with_key(&v2, key, NULL), 0);
	assert_text(&v2, "db.password", "pw-1");
	doc_release(&v1);
	doc_release(&v2);
	doc_release(&v3);
}

static void test_reuse_rejects_tampered_previous(void **state)
{
	struct doc v1;
	uint8_t key[SOPS_DATA_KEY_SIZE];
	struct sops_selection none = { SOPS_SEL_NONE, NULL, false };
	struct sops_previous p;

	(void)state;
	memset(key, 2, sizeof(key));
	build_sample(&v1, "pw");
	assert_int_equal(sops_encrypt_with_key(&v1, key, &fake_group, 1, 0, &none, NULL, LM), 0);
	assert_int_equal(doc_scalar_set(&v1, at(&v1, 0, "db.host_unencrypted"), DOC_STR, "x", 1), 0);
	assert_int_equal(sops_previous_open_with_key(&v1, key, &p), GS_ERR_MAC_MISMATCH);
	sops_previous_release(&p);
	doc_release(&v1);
}

static void test_shamir(void **state)
{
	uint8_t secret[SOPS_DATA_KEY_SIZE], got[SOPS_DATA_KEY_SIZE];
	uint8_t shares[5 * SOPS_SHARE_SIZE], pick[3 * SOPS_SHARE_SIZE];

	(void)state;

	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i * 37 + 11);
	assert_int_equal(sops_shamir_split(secret, 5, 3, shares), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(shares[i * SOPS_SHARE_SIZE + 32], i + 1);
	memcpy(pick, shares + 4 * SOPS_SHARE_SIZE, SOPS_SHARE_SIZE);
	memcpy(pick + SOPS_SHARE_SIZE, shares + 1 * SOPS_SHARE_SIZE, SOPS_SHARE_SIZE);
	memcpy(pick + 2 * SOPS_SHARE_SIZE, shares + 2 * SOPS_SHARE_SIZE, SOPS_SHARE_SIZE);
	assert_int_equal(sops_shamir_combine(pick, 3, got), 0);
	assert_memory_equal(got, secret, sizeof(secret));
	assert_int_equal(sops_shamir_combine(shares, 5, got), 0);
	assert_memory_equal(got, secret, sizeof(secret));
	/* below the threshold the result is not the secret */
	assert_int_equal(sops_shamir_combine(pick, 2, got), 0);
	assert_memory_not_equal(got, secret, sizeof(secret));
	memcpy(pick + SOPS_SHARE_SIZE, pick, SOPS_SHARE_SIZE);
	assert_int_equal(sops_shamir_combine(pick, 2, got), GS_ERR_NO_DATA_KEY);
	assert_int_equal(sops_shamir_split(secret, 2, 3, shares), GS_ERR_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_yaml),
		cmocka_unit_test(test_format_yaml_wrong_key_and_aad),
		cmocka_unit_test(test_k8s_secret),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_no_mac_and_multiple_keys),
		cmocka_unit_test(test_kaweezle),
		cmocka_unit_test(test_encrypt_roundtrip),
		cmocka_unit_test(test_mac_detects_changes),
		cmocka_unit_test(test_selection_options),
		cmocka_unit_test(test_comment_regex),
		cmocka_unit_test(test_multi_branch),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_reuse_rejects_tampered_previous),
		cmocka_unit_test(test_shamir),
		cmocka_unit_test(test_decrypt_many_values),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
