/* sops_crypto_warm: the kept worker thread is made early only for a large
 * input; a small command makes no thread it will not use (made for every
 * input, it cost a small decrypt 8%). Threads are counted in
 * /proc/self/task, once the warming thread has been joined. And what the
 * warming sets OpenSSL up without: its legacy table of ciphers by name,
 * which the first fetch copied whole into the providers' names (a quarter
 * of opening libcrypto and fetching AES-256-GCM); the digests' table, which
 * a TLS peer's certificate is checked through, stays. */
#include <dirent.h>
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gitseal/dynlib.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"

static int threads(void)
{
	DIR *dir = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	assert_non_null(dir);
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* runs first: the warming starts once per process */
static void test_small_input_makes_no_worker(void **state)
{
	(void)state;
	assert_int_equal(threads(), 1);
	sops_crypto_warm(STORE_THREADED_MIN_INPUT - 1);
	gs_libcrypto_warm_wait();
	assert_int_equal(threads(), 1);
}

static void test_large_input_makes_the_worker(void **state)
{
	(void)state;
	sops_crypto_warm(STORE_THREADED_MIN_INPUT);
	gs_libcrypto_warm_wait();
	assert_int_equal(threads(), 2);
}

/* the real libcrypto's functions: the binary's own forwarders do not
 * include these two */
static void test_legacy_cipher_names_left_out(void **state)
{
	const void *(*cipher_by_name)(const char *);
	const void *(*digest_by_name)(const char *);
	void *lib;

	(void)state;
	assert_int_equal(gs_libcrypto_load(), 0);
	lib = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(lib);
	*(void **)&cipher_by_name = dlsym(lib, "EVP_get_cipherbyname");
	*(void **)&digest_by_name = dlsym(lib, "EVP_get_digestbyname");
	assert_non_null(cipher_by_name);
	assert_non_null(digest_by_name);
	assert_null(cipher_by_name("AES-256-GCM"));
	assert_null(cipher_by_name("ChaCha20-Poly1305"));
	assert_non_null(digest_by_name("SHA256"));
	dlclose(lib);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_input_makes_no_worker),
		cmocka_unit_test(test_large_input_makes_the_worker),
		cmocka_unit_test(test_legacy_cipher_names_left_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
