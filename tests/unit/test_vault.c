/* Vault transit client: URI parsing, the response reader, and the checks
 * made before any request (no plain http off loopback, a token needed).
 * The HTTP round trip is covered by tests/cli/vault.bats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitseal/error.h"
#include "gitseal/vault.h"

static int setup(void **state)
{
	(void)state;
	return gs_crypto_init();
}

static void test_parse_uri(void **state)
{
	struct vault_key k;
	char *uri;

	(void)state;
	assert_int_equal(vault_key_parse_uri("https://vault.example.org:8200/v1/transit/keys/dev", &k), 0);
	assert_string_equal(k.address, "https://vault.example.org:8200");
	assert_string_equal(k.engine_path, "transit");
	assert_string_equal(k.key_name, "dev");
	uri = vault_key_uri(&k);
	assert_string_equal(uri, "https://vault.example.org:8200/v1/transit/keys/dev");
	free(uri);
	vault_key_release(&k);

	/* an engine mounted at a nested path; the last /keys/ splits */
	assert_int_equal(vault_key_parse_uri("http://127.0.0.1:8200/v1/team/keys/transit/keys/k-1", &k), 0);
	assert_string_equal(k.engine_path, "team/keys/transit");
	assert_string_equal(k.key_name, "k-1");
	vault_key_release(&k);

	setenv("VAULT_ADDR", "https://v.example:8200/", 1);
	assert_int_equal(vault_key_parse_uri("/v1/transit/keys/a", &k), 0);
	assert_string_equal(k.address, "https://v.example:8200");
	vault_key_release(&k);
	unsetenv("VAULT_ADDR");
	assert_int_equal(vault_key_parse_uri("/v1/transit/keys/a", &k), GS_ERR_KEY);

	static const char *const bad[] = {
		"", "vault:8200/v1/transit/keys/a", "ftp://h/v1/transit/keys/a", "https://h/transit/keys/a",
		"https://h/v1/transit/keys/", "https://h/v1/keys/a", "https://h/v1/transit/keys/a/b",
		"https://h/v1/transit/keys/a?x=1", "https:///v1/transit/keys/a",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vault_key_parse_uri(bad[i], &k), GS_ERR_KEY);
}

static void test_response_field(void **state)
{
	static const char ok[] = "{\"request_id\":\"x\",\"lease_id\":\"\",\"renewable\":false,\"wrap_info\":null,"
				 "\"warnings\":[1,{\"a\":[]}],\"data\":{\"key_version\":1,"
				 "\"ciphertext\":\"vault:v1:ab\\/c\\u0041=\"},\"auth\":null}";
	static const char *const bad[] = {
		"", "{", "[]", "{\"data\":{}}", "{\"data\":{\"ciphertext\":1}}", "{\"data\":\"x\"}",
		"{\"ciphertext\":\"x\"}", "{\"data\":{\"ciphertext\":\"\"}}", "{\"data\":{\"ciphertext\":\"x}}", "{\"data\":{\"ciphertext\":\"\\q\"}}",
		"{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	};
	struct gs_buf out;

	(void)state;
	gs_buf_init(&out, false);
	assert_int_equal(vault_response_field(ok, strlen(ok), "ciphertext", &out), 0);
	assert_string_equal((char *)out.data, "vault:v1:ab/cA=");
	gs_buf_reset(&out);
	assert_int_equal(vault_response_field(ok, strlen(ok), "plaintext", &out), GS_ERR_PARSE);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vault_response_field(bad[i], strlen(bad[i]), "ciphertext", &out), GS_ERR_PARSE);
		assert_int_equal(out.len, 0);
	}
	gs_buf_release(&out);
}

/* engine_path and key_name come from metadata outside the MAC: only safe
 * names become a key; the URL is percent-encoded whatever a key holds. */
static void test_path_names(void **state)
{
	static const char *const good_engines[] = { "transit", "team-a/transit.v2", "a_b/c-d/E.9", "x" };
	static const char *const bad_engines[] = {
		"sys/seal?", "transit#", "tr%61nsit", "../sys", "transit/..", "a/./b", ".", "/transit",
		"transit/", "a//b", "trans it", "transit\n", "caf\xc3\xa9", "a\\b",
	};
	static const char *const bad_names[] = { "a/b", "..", ".", "a?b", "a#b", "a%2F", "a b", "a\r", "" };
	struct vault_key k;
	char *url;

	(void)state;
	for (size_t i = 0; i < sizeof(good_engines) / sizeof(good_engines[0]); i++) {
		assert_int_equal(vault_key_init(&k, "https://v", good_engines[i], "key-1.x_y"), 0);
		vault_key_release(&k);
	}
	for (size_t i = 0; i < sizeof(bad_engines) / sizeof(bad_engines[0]); i++) {
		assert_int_equal(vault_key_init(&k, "https://v", bad_engines[i], "k"), GS_ERR_KEY);
		assert_non_null(strstr(gs_error_message(), "invalid engine_path"));
		/* never a control character in a message */
		for (const char *m = gs_error_message(); *m; m++)
			assert_true((unsigned char)*m >= 0x20);
	}
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		assert_int_equal(vault_key_init(&k, "https://v", "transit", bad_names[i]), GS_ERR_KEY);
	assert_int_equal(vault_key_parse_uri("https://h/v1/a/../keys/x", &k), GS_ERR_KEY);
	assert_int_equal(vault_key_parse_uri("https://h/v1/tr%61nsit/keys/x", &k), GS_ERR_KEY);

	/* an address of slashes alone is none (fuzz_vault_uri: it was kept as "") */
	assert_int_equal(vault_key_init(&k, "//", "transit", "app"), GS_ERR_KEY);
	assert_int_equal(vault_key_init(&k, "/", "transit", "app"), GS_ERR_KEY);
	assert_int_equal(vault_key_init(&k, "https://v:8200/", "team/transit", "app"), 0);
	url = vault_transit_url(&k, "decrypt");
	assert_string_equal(url, "https://v:8200/v1/team/transit/decrypt/app");
	free(url);
	vault_key_release(&k);
	/* a key made by hand, past the checks: every unsafe byte is escaped */
	k.address = (char *)"https://v";
	k.engine_path = (char *)"sys/seal?#";
	k.key_name = (char *)"../x%/y";
	url = vault_transit_url(&k, "decrypt");
	assert_string_equal(url, "https://v/v1/sys/seal%3F%23/decrypt/..%2Fx%25%2Fy");
	free(url);
}

static void test_checks_before_requests(void **state)
{
	struct vault_key k;
	struct gs_buf out;
	const uint8_t key[32] = { 0 };

	(void)state;
	gs_buf_init(&out, false);
	setenv("VAULT_TOKEN", "t", 1);
	assert_int_equal(vault_key_parse_uri("http://vault.example.org/v1/transit/keys/a", &k), 0);
	assert_int_equal(vault_encrypt(&k, key, sizeof(key), &out), GS_ERR_KEY);
	assert_non_null(strstr(gs_error_message(), "only allowed for loopback"));
	vault_key_release(&k);

	/* the token goes only to an address the user named, whatever the
	 * file says: refused before reading the token or connecting */
	unsetenv("VAULT_ADDR");
	unsetenv("GITSEAL_VAULT_ADDRS");
	assert_int_equal(vault_key_parse_uri("https://vault.example.org/v1/transit/keys/a", &k), 0);
	assert_int_equal(vault_encrypt(&k, key, sizeof(key), &out), GS_ERR_KEY);
	assert_non_null(strstr(gs_error_message(), "is not trusted: set VAULT_ADDR"));
	setenv("VAULT_ADDR", "https://vault.example.org:8200", 1);
	assert_int_equal(vault_encrypt(&k, key, sizeof(key), &out), GS_ERR_KEY);
	assert_non_null(strstr(gs_error_message(), "it is not in VAULT_ADDR"));
	setenv("GITSEAL_VAULT_ADDRS", "https://other.example.org, https://Vault.Example.ORG:443/", 1);
	unsetenv("VAULT_TOKEN");
	setenv("HOME", "/nonexistent-gitseal-home", 1);
	/* trusted now (case and default port aside): it goes on to the token */
	assert_int_equal(vault_encrypt(&k, key, sizeof(key), &out), GS_ERR_KEY);
	assert_non_null(strstr(gs_error_message(), "no vault token"));
	vault_key_release(&k);
	unsetenv("GITSEAL_VAULT_ADDRS");
	setenv("VAULT_ADDR", "http://127.0.0.1:9", 1);

	/* no token anywhere: refused before connecting (port 9 would not answer) */
	assert_int_equal(vault_key_parse_uri("http://127.0.0.1:9/v1/transit/keys/a", &k), 0);
	assert_int_equal(vault_encrypt(&k, key, sizeof(key), &out), GS_ERR_KEY);
	assert_non_null(strstr(gs_error_message(), "no vault token"));
	/* a ciphertext that would break the JSON body is rejected */
	assert_int_equal(vault_decrypt(&k, "vault:v1:\"x", 11, &out), GS_ERR_PARSE);
	vault_key_release(&k);
	gs_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_uri),
		cmocka_unit_test(test_response_field),
		cmocka_unit_test(test_path_names),
		cmocka_unit_test(test_checks_before_requests),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
