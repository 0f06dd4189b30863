/* gitseal/cmdline.h: command lines split as sops splits SOPS_AGE_KEY_CMD
 * (google/shlex), word by word. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitseal/cmdline.h"
#include "gitseal/error.h"

/* words is the expected words joined by '|' */
static void split_is(const char *line, const char *words)
{
	char **argv = NULL, joined[256] = "";
	size_t argc = 0;

	assert_int_equal(cmdline_split("TEST_CMD", line, 0, &argv, &argc), 0);
	for (size_t i = 0; i < argc; i++) {
		if (i)
			strcat(joined, "|");
		strcat(joined, argv[i]);
	}
	assert_null(argv[argc]);
	assert_string_equal(joined, words);
	free(argv);
}

static void test_words(void **state)
{
	(void)state;
	split_is("age-keys", "age-keys");
	split_is("  pass show  age/key \t", "pass|show|age/key");
	split_is("a\r\nb\n", "a|b");
	split_is("cat '/my keys/k.txt'", "cat|/my keys/k.txt");
	split_is("echo \"a b\"c'd e'", "echo|a bcd e");
	/* a backslash takes any next character, outside quotes and in "..." */
	split_is("a\\ b \"x\\\"y\\n\"", "a b|x\"yn");
	/* '...' keeps a backslash */
	split_is("'a\\b'", "a\\b");
	/* "" is an empty word */
	split_is("cmd \"\" ''", "cmd||");
	/* '#' comments out the rest of the line only at a word's start */
	split_is("a#b # c d\ne", "a#b|e");
	split_is("printf %s\\n x=1", "printf|%sn|x=1");
}

static void test_refused(void **state)
{
	char **argv = (char **)1;
	size_t argc = 7;

	(void)state;
	assert_int_equal(cmdline_split("TEST_CMD", "", 0, &argv, &argc), GS_ERR_USAGE);
	assert_string_equal(gs_error_message(), "TEST_CMD is empty");
	assert_null(argv);
	assert_int_equal(argc, 0);
	assert_int_equal(cmdline_split("TEST_CMD", "  # only a comment", 0, &argv, &argc), GS_ERR_USAGE);
	assert_int_equal(cmdline_split("TEST_CMD", "echo 'a", 0, &argv, &argc), GS_ERR_USAGE);
	assert_string_equal(gs_error_message(), "TEST_CMD: unterminated quote");
	assert_int_equal(cmdline_split("TEST_CMD", "echo \"a\\\"", 0, &argv, &argc), GS_ERR_USAGE);
	assert_string_equal(gs_error_message(), "TEST_CMD: unterminated quote");
	assert_int_equal(cmdline_split("TEST_CMD", "echo a\\", 0, &argv, &argc), GS_ERR_USAGE);
	assert_string_equal(gs_error_message(), "TEST_CMD: a backslash ends the line");
}

/* The room asked for stays free after the words, before the NULL. */
static void test_spare_room(void **state)
{
	static const char *const lines[] = { "a", "a b", "\"\" \"\" \"\" \"\"", "x y z w v u t" };

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char **argv;
		size_t argc;

		assert_int_equal(cmdline_split("TEST_CMD", lines[i], 2, &argv, &argc), 0);
		argv[argc++] = (char *)"--more";
		argv[argc++] = (char *)"dir";
		argv[argc] = NULL;
		assert_string_equal(argv[argc - 1], "dir");
		free(argv);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_spare_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
