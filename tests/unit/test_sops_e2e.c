/* End to end with the real age and YAML/JSON stores: sops+age fixtures,
 * file-level encrypt/decrypt, byte-identical reuse, identity sources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitseal/config.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"
#include "../../src/sops/sops_int.h"
#include "shared_data.h"

static char *fixture(const char *rel)
{
	static char path[4][1024];
	static int slot;

	slot = (slot + 1) % 4;
	return shared_data_path(path[slot], sizeof(path[slot]), "testdata/sops/%s", rel);
}

static void read_file(const char *path, struct gs_buf *b)
{
	gs_buf_init(b, true);
	assert_int_equal(gs_read_file(path, b, 1 << 20), 0);
}

static void load_ids(const char *rel, struct age_identity_list *ids)
{
	struct gs_buf t;

	read_file(fixture(rel), &t);
	memset(ids, 0, sizeof(*ids));
	assert_int_equal(age_identity_list_add_text(ids, (char *)t.data, t.len, rel), 0);
	gs_buf_release(&t);
}

static void load_doc(const char *path, enum doc_format f, struct doc *d)
{
	struct gs_buf t;

	read_file(path, &t);
	doc_init(d, f);
	assert_int_equal(store_load(f, t.data, t.len, d), 0);
	gs_buf_release(&t);
}

/* Same keys, scalars and order, comments and removed entries aside. */
static void assert_same_tree(const struct doc_node *a, const struct doc_node *b)
{
	size_t i = 0, j = 0;

	assert_int_equal(a->kind, b->kind);
	if (a->kind == DOC_SCALAR) {
		assert_int_equal(a->type, b->type);
		assert_int_equal(a->len, b->len);
		assert_memory_equal(a->text, b->text, a->len);
		return;
	}
	for (;;) {
		while (i < a->count && (a->entries[i].removed || a->entries[i].value->kind == DOC_COMMENT))
			i++;
		while (j < b->count && (b->entries[j].removed || b->entries[j].value->kind == DOC_COMMENT))
			j++;
		if (i == a->count || j == b->count)
			break;
		if (a->entries[i].key || b->entries[j].key)
			assert_string_equal(a->entries[i].key, b->entries[j].key);
		assert_same_tree(a->entries[i].value, b->entries[j].value);
		i++;
		j++;
	}
	assert_int_equal(i, a->count);
	assert_int_equal(j, b->count);
}

static void decrypt_compare(const char *enc, const char *plain, const char *keyfile)
{
	struct age_identity_list ids;
	struct doc d, want;

	load_ids(keyfile, &ids);
	load_doc(fixture(enc), DOC_FORMAT_YAML, &d);
	assert_int_equal(sops_decrypt_doc(&d, &ids, NULL), 0);
	if (plain) {
		load_doc(fixture(plain), DOC_FORMAT_YAML, &want);
		assert_int_equal(d.count, want.count);
		for (size_t b = 0; b < d.count; b++)
			assert_same_tree(d.branches[b], want.branches[b]);
		doc_release(&want);
	}
	doc_release(&d);
	age_identity_list_release(&ids);
}

static int setup(void **state)
{
	(void)state;
	return gs_crypto_init();
}

static void test_age_fixtures(void **state)
{
	struct age_identity_list ids;
	struct doc d;
	struct gs_buf out;

	(void)state;
	decrypt_compare("reconstructed/k8s-secret.enc.yaml", "reconstructed/k8s-secret.plain.yaml",
			"reconstructed/example-age-key.txt");
	decrypt_compare("kaweezle-iknite/data_with_key_complete_encrypted.yaml",
			"kaweezle-iknite/data_with_key_complete_plain.yaml", "kaweezle-iknite/age-key.txt");
	decrypt_compare("kaweezle-iknite/data_with_key_invalid_encrypted.yaml",
			"kaweezle-iknite/data_with_key_invalid_plain.yaml", "kaweezle-iknite/age-key.txt");
	decrypt_compare("kaweezle-iknite/empty_data_encrypted.yaml", NULL, "kaweezle-iknite/age-key.txt");
	decrypt_compare("kaweezle-iknite/empty_encrypted.yaml", NULL, "kaweezle-iknite/age-key.txt");
	decrypt_compare("kaweezle-iknite/signing-key.sops.yaml", NULL, "kaweezle-iknite/age-key.txt");

	/* the wrong identity: no data key, and the message gives only counts */
	load_ids("reconstructed/example-age-key.txt", &ids);
	load_doc(fixture("kaweezle-iknite/signing-key.sops.yaml"), DOC_FORMAT_YAML, &d);
	assert_int_equal(sops_decrypt_doc(&d, &ids, NULL), GS_ERR_NO_DATA_KEY);
	assert_non_null(strstr(gs_error_message(), "tried 1 age key)"));
	doc_release(&d);

	/* file level: the emitted plaintext has no sops block */
	read_file(fixture("reconstructed/k8s-secret.enc.yaml"), &out);
	{
		struct gs_buf plain;

		gs_buf_init(&plain, true);
		age_identity_list_release(&ids);
		load_ids("reconstructed/example-age-key.txt", &ids);
		assert_int_equal(sops_file_decrypt(out.data, out.len, DOC_FORMAT_YAML, &ids, NULL, &plain),
				 0);
		assert_null(strstr((char *)plain.data, "sops:"));
		assert_non_null(strstr((char *)plain.data, "password: t0p-s3cr3t"));
		gs_buf_release(&plain);
	}
	gs_buf_release(&out);
	age_identity_list_release(&ids);
}

static void test_pgp_fixture_json(void **state)
{
	struct doc d;
	uint8_t key[SOPS_DATA_KEY_SIZE];
	static const char hex[] = "9f6aeda6383502c38f7dae6fbbb8cb6890582adb0335effa8952fe590d7a9596";

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++) {
		unsigned int b;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		key[i] = (uint8_t)b;
	}
	load_doc(fixture("getsops-sops/functional-tests/res/format.enc.json"), DOC_FORMAT_JSON, &d);
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), 0);
	assert_string_equal(doc_map_find(d.branches[0], "foo")->value->text, "bar");
	doc_release(&d);
}

struct keypair {
	struct age_identity_list ids;
	char recipient[128];
};

static void make_keypair(struct keypair *k)
{
	struct age_identity *id;

	memset(k, 0, sizeof(*k));
	assert_int_equal(age_identity_generate(&id), 0);
	assert_int_equal(age_identity_recipient_string(id, k->recipient, sizeof(k->recipient)), 0);
	assert_int_equal(age_identity_list_add(&k->ids, id), 0);
}

static int encrypt_text(const char *plain, const char *recipient, const struct gs_buf *prev,
			const struct age_identity_list *ids, struct gs_buf *out)
{
	const char *recips[1] = { recipient };
	struct sops_file_encrypt_opts o;

	memset(&o, 0, sizeof(o));
	o.format = DOC_FORMAT_YAML;
	o.rule_path = "x.yaml";
	o.age_recipients = recips;
	o.age_recipient_count = 1;
	if (prev) {
		o.previous = prev->data;
		o.previous_len = prev->len;
		o.identities = ids;
	}
	gs_buf_init(out, false);
	return sops_file_encrypt((const uint8_t *)plain, strlen(plain), &o, out);
}

static size_t count_diff_lines(const char *a, const char *b)
{
	size_t diff = 0;

	while (*a || *b) {
		const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
		size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);

		if (la != lb || memcmp(a, b, la) != 0)
			diff++;
		a += la + (ea ? 1 : 0);
		b += lb + (eb ? 1 : 0);
	}
	return diff;
}

static void test_file_roundtrip_and_reuse(void **state)
{
	static const char v1[] = "db:\n    user: admin\n    password: hunter2\n    port: 5432\n"
				 "list:\n    - a\n    - b\n";
	static const char v2[] = "db:\n    user: admin\n    password: hunter3\n    port: 5432\n"
				 "list:\n    - a\n    - b\n";
	struct keypair k, other;
	struct gs_buf e1, e2, e3, e4, plain;

	(void)state;
	make_keypair(&k);
	make_keypair(&other);
	assert_int_equal(encrypt_text(v1, k.recipient, NULL, NULL, &e1), 0);
	assert_non_null(strstr((char *)e1.data, "-----END AGE ENCRYPTED FILE-----\n"));
	assert_non_null(strstr((char *)e1.data, "version: " SOPS_VERSION));
	assert_null(strstr((char *)e1.data, "hunter2"));

	gs_buf_init(&plain, true);
	assert_int_equal(sops_file_decrypt(e1.data, e1.len, DOC_FORMAT_YAML, &k.ids, NULL, &plain), 0);
	assert_string_equal((char *)plain.data, v1);
	gs_buf_reset(&plain);
	assert_int_equal(sops_file_decrypt(e1.data, e1.len, DOC_FORMAT_YAML, &other.ids, NULL,
					   &plain), GS_ERR_NO_DATA_KEY);

	/* unchanged plaintext + previous: byte-identical */
	assert_int_equal(encrypt_text(v1, k.recipient, &e1, &k.ids, &e2), 0);
	assert_int_equal(e2.len, e1.len);
	assert_memory_equal(e2.data, e1.data, e1.len);

	/* one value changed: its line, lastmodified and mac differ (at most) */
	assert_int_equal(encrypt_text(v2, k.recipient, &e2, &k.ids, &e3), 0);
	assert_true(count_diff_lines((char *)e2.data, (char *)e3.data) <= 3);
	assert_true(count_diff_lines((char *)e2.data, (char *)e3.data) >= 2);
	gs_buf_reset(&plain);
	assert_int_equal(sops_file_decrypt(e3.data, e3.len, DOC_FORMAT_YAML, &k.ids, NULL, &plain), 0);
	assert_string_equal((char *)plain.data, v2);

	/* another recipient: a new data key, nothing reused */
	assert_int_equal(encrypt_text(v2, other.recipient, &e3, &k.ids, &e4), 0);
	assert_true(count_diff_lines((char *)e3.data, (char *)e4.data) > 5);
	gs_buf_reset(&plain);
	assert_int_equal(sops_file_decrypt(e4.data, e4.len, DOC_FORMAT_YAML, &other.ids, NULL,
					   &plain), 0);

	/* already encrypted, empty input */
	gs_buf_release(&e4);
	assert_int_equal(encrypt_text((char *)e3.data, k.recipient, NULL, NULL, &e4),
			 GS_ERR_ALREADY_ENCRYPTED);
	gs_buf_release(&e4);
	assert_int_equal(encrypt_text("", k.recipient, NULL, NULL, &e4), GS_ERR_EMPTY_INPUT);
	gs_buf_release(&e4);

	gs_buf_release(&plain);
	gs_buf_release(&e1);
	gs_buf_release(&e2);
	gs_buf_release(&e3);
	age_identity_list_release(&k.ids);
	age_identity_list_release(&other.ids);
}

/* The default selection for Kubernetes Secrets is the commands' policy
 * (tests/cli/sops.bats): the library seals every value it is not told to
 * leave readable. */
static void test_k8s_secret_no_library_default(void **state)
{
	static const char secret[] = "apiVersion: v1\nkind: Secret\nmetadata:\n    name: s\n"
				     "stringData:\n    password: pw\n";
	struct keypair k;
	struct gs_buf e;

	(void)state;
	make_keypair(&k);
	assert_int_equal(encrypt_text(secret, k.recipient, NULL, NULL, &e), 0);
	assert_null(strstr((char *)e.data, "name: s\n"));
	assert_null(strstr((char *)e.data, "encrypted_regex"));
	assert_non_null(strstr((char *)e.data, "unencrypted_suffix: _unencrypted"));
	assert_null(strstr((char *)e.data, "password: pw"));
	gs_buf_release(&e);
	age_identity_list_release(&k.ids);
}

static void test_identity_sources(void **state)
{
	struct age_identity_list ids;
	struct gs_buf key;
	char tmpl[] = "/tmp/gs-ids-XXXXXX", cmd[256];
	char *dir = mkdtemp(tmpl);

	(void)state;
	assert_non_null(dir);
	read_file(fixture("kaweezle-iknite/age-key.txt"), &key);
	setenv("HOME", dir, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("SOPS_AGE_KEY");
	unsetenv("SOPS_AGE_KEY_FILE");
	unsetenv("SOPS_AGE_KEY_CMD");
	unsetenv("SOPS_AGE_SSH_PRIVATE_KEY_FILE");

	memset(&ids, 0, sizeof(ids));
	assert_int_equal(sops_identities_load(&ids), 0);
	assert_int_equal(ids.count, 0);

	setenv("SOPS_AGE_KEY_FILE", fixture("kaweezle-iknite/age-key.txt"), 1);
	assert_int_equal(sops_identities_load(&ids), 0);
	assert_int_equal(ids.count, 1);
	unsetenv("SOPS_AGE_KEY_FILE");

	/* SOPS_AGE_KEY: every word of the non-comment lines */
	setenv("SOPS_AGE_KEY", (char *)key.data, 1);
	assert_int_equal(sops_identities_load(&ids), 0);
	assert_int_equal(ids.count, 2);
	unsetenv("SOPS_AGE_KEY");

	/* SOPS_AGE_KEY_CMD runs per recipient (SOPS_AGE_RECIPIENT set), once
	 * per recipient per process, not at load */
	snprintf(cmd, sizeof(cmd), "sh -c 'test \"$SOPS_AGE_RECIPIENT\" = age1x && cat \"$0\"' '%s'",
		 fixture("reconstructed/example-age-key.txt"));
	setenv("SOPS_AGE_KEY_CMD", cmd, 1);
	assert_int_equal(sops_identities_load(&ids), 0);
	assert_int_equal(ids.count, 2);
	{
		const struct age_identity_list *more = sops_identities_for_recipient("age1x");
		char problems[256];

		assert_non_null(more);
		assert_int_equal(more->count, 1);
		assert_ptr_equal(sops_identities_for_recipient("age1x"), more);
		/* the command refuses another recipient: noted, not fatal */
		more = sops_identities_for_recipient("age1y");
		assert_true(!more || more->count == 0);
		sops_identities_problems(problems, sizeof(problems));
		assert_non_null(strstr(problems, "SOPS_AGE_KEY_CMD 'sh' failed (exit status 1)"));
	}
	sops_identities_forget();
	unsetenv("SOPS_AGE_KEY_CMD");

	/* a bad key file is noted; the other sources still count (sops tries
	 * them all and fails only when no key opens the file) */
	setenv("SOPS_AGE_KEY_FILE", fixture("kaweezle-iknite/signing-key.sops.yaml"), 1);
	assert_int_equal(sops_identities_load(&ids), 0);
	assert_int_equal(ids.count, 2);
	{
		char problems[256];

		sops_identities_problems(problems, sizeof(problems));
		assert_non_null(strstr(problems, "SOPS_AGE_KEY_FILE"));
	}
	unsetenv("SOPS_AGE_KEY_FILE");

	/* the identities found, and the key command asked for the file's
	 * recipient, decrypt a fixture */
	snprintf(cmd, sizeof(cmd), "cat '%s'", fixture("reconstructed/example-age-key.txt"));
	setenv("SOPS_AGE_KEY_CMD", cmd, 1);
	{
		struct doc d;

		load_doc(fixture("reconstructed/k8s-secret.enc.yaml"), DOC_FORMAT_YAML, &d);
		assert_int_equal(sops_decrypt_doc(&d, &ids, NULL), 0);
		doc_release(&d);
	}
	sops_identities_forget();
	unsetenv("SOPS_AGE_KEY_CMD");
	age_identity_list_release(&ids);
	gs_buf_release(&key);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age_fixtures),
		cmocka_unit_test(test_pgp_fixture_json),
		cmocka_unit_test(test_file_roundtrip_and_reuse),
		cmocka_unit_test(test_k8s_secret_no_library_default),
		cmocka_unit_test(test_identity_sources),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
