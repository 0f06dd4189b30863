/* gitseal/dynlib.h: a library's symbols resolved by its resolve function,
 * every one or the first missing named, the outcome kept for later callers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gitseal/dynlib.h"
#include "gitseal/error.h"

static size_t (*p_strlen)(const char *s);
static int (*p_strcmp)(const char *a, const char *b);
static void (*p_gitseal_no_such_function)(void);
static size_t (*p_strnlen)(const char *s, size_t max);

static void resolve_present(struct gs_dynload *l)
{
	GS_DYNSYM(strlen)
	GS_DYNSYM(strcmp)
}

/* the missing one between two present ones: the second is not resolved */
static void resolve_missing(struct gs_dynload *l)
{
	GS_DYNSYM(strlen)
	GS_DYNSYM(gitseal_no_such_function)
	GS_DYNSYM(strnlen)
}

static void test_every_symbol(void **state)
{
	static struct gs_dynlib lib = GS_DYNLIB("libc.so.6", resolve_present);

	(void)state;
	p_strlen = NULL;
	p_strcmp = NULL;
	assert_int_equal(gs_dynlib_open(&lib), 0);
	assert_non_null(p_strlen);
	assert_non_null(p_strcmp);
	assert_int_equal(p_strlen("four"), 4);
	assert_int_equal(p_strcmp("a", "a"), 0);
	assert_int_equal(gs_dynlib_open(&lib), 0);
}

static void test_missing_symbol_named(void **state)
{
	static struct gs_dynlib lib = GS_DYNLIB("libc.so.6", resolve_missing);

	(void)state;
	p_strnlen = NULL;
	assert_int_equal(gs_dynlib_open(&lib), GS_ERR_GENERIC);
	assert_non_null(strstr(gs_error_message(), "libc.so.6 has no gitseal_no_such_function"));
	assert_null(p_strnlen);
	/* the same outcome, message included, for a later caller */
	gs_error_clear();
	assert_int_equal(gs_dynlib_open(&lib), GS_ERR_GENERIC);
	assert_non_null(strstr(gs_error_message(), "has no gitseal_no_such_function"));
}

static void test_missing_library_named(void **state)
{
	static struct gs_dynlib lib = GS_DYNLIB("libgitseal-no-such-library.so.0", resolve_present);

	(void)state;
	assert_int_equal(gs_dynlib_open(&lib), GS_ERR_GENERIC);
	assert_non_null(strstr(gs_error_message(), "cannot load libgitseal-no-such-library.so.0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_symbol),
		cmocka_unit_test(test_missing_symbol_named),
		cmocka_unit_test(test_missing_library_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
