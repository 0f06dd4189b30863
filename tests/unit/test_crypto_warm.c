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
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "gitseal/dynlib.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED_MALLOC 1 /* ASan's malloc has no brk heap */
#else
#define SANITIZED_MALLOC 0
#endif

enum { LARGE_INPUT = 1024 * 1024 }; /* above gs_heap_expect's 256 KiB */

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

/* and lays out malloc's heap for the input before it makes a thread: a
 * block another thread took from the heap while gs_heap_expect aligned it
 * left the first 2 MiB in 4 KiB pages (~480 page faults more, 2026-12-04).
 * Seen from here: a block of 1 MiB then comes from the heap, not from an
 * mmap of its own. */
static void test_large_input_makes_the_worker(void **state)
{
	size_t mapped;
	void *block;

	(void)state;
	sops_crypto_warm(LARGE_INPUT);
	if (!SANITIZED_MALLOC) {
		mapped = mallinfo2().hblks;
		block = malloc(1024 * 1024);
		assert_non_null(block);
		assert_int_equal(mallinfo2().hblks, mapped);
		free(block);
	}
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
