/* gitseal/array.h: growth by doubling from a first size, items kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "gitseal/array.h"
#include "gitseal/error.h"

struct point {
	int x, y;
};

static void test_grows_and_keeps(void **state)
{
	struct point *items = NULL;
	size_t count = 0, cap = 0;

	(void)state;
	for (int i = 0; i < 100; i++) {
		size_t before = cap;

		assert_int_equal(GS_ARRAY_GROW(items, count, cap, 4), 0);
		/* room is made only when the array is full, by doubling */
		assert_int_equal(cap, count < before ? before : before ? before * 2 : 4);
		items[count++] = (struct point){ i, -i };
	}
	assert_int_equal(cap, 128);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(items[i].x, i);
		assert_int_equal(items[i].y, -i);
	}
	free(items);
}

static void test_refuses_overflow(void **state)
{
	struct point *items = NULL;
	size_t cap = SIZE_MAX / sizeof(*items) / 2 + 1;

	(void)state;
	assert_int_equal(GS_ARRAY_GROW(items, cap, cap, 4), GS_ERR_NOMEM);
	assert_null(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_and_keeps),
		cmocka_unit_test(test_refuses_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
