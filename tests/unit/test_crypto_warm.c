/* sops_crypto_warm: the kept worker thread is made early only for a large
 * input; a small command makes no thread it will not use (made for every
 * input, it cost a small decrypt 8%). Threads are counted in
 * /proc/self/task, once the warming thread has been joined. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gitseal/dynlib.h"
#include "gitseal/sops.h"

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
	sops_crypto_warm(false);
	gs_libcrypto_warm_wait();
	assert_int_equal(threads(), 1);
}

static void test_large_input_makes_the_worker(void **state)
{
	(void)state;
	sops_crypto_warm(true);
	gs_libcrypto_warm_wait();
	assert_int_equal(threads(), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_input_makes_no_worker),
		cmocka_unit_test(test_large_input_makes_the_worker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
