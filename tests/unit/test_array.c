/* gitseal/array.h: growth by doubling from a first size, items kept;
 * string lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

static void test_strings_push_copies(void **state)
{
	char **list = NULL;
	size_t count = 0;
	char word[] = "age1xyz trailing";

	(void)state;
	assert_int_equal(gs_strings_push(&list, &count, word, 7), 0);
	assert_int_equal(gs_strings_push(&list, &count, "", 0), 0);
	word[0] = 'X'; /* the list holds copies */
	assert_int_equal(count, 2);
	assert_string_equal(list[0], "age1xyz");
	assert_string_equal(list[1], "");
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_and_keeps),
		cmocka_unit_test(test_refuses_overflow),
		cmocka_unit_test(test_strings_push_copies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
