/* gitseal/path.h: the walk up to the nearest directory holding an entry
 * (the repository's top, a clone's .git/config), and what lies inside a
 * tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitseal/path.h"

static char top[128]; /* a real path: the walk compares real paths */

static void make(const char *rel, bool dir)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	if (dir) {
		assert_int_equal(mkdir(p, 0700), 0);
	} else {
		assert_non_null(f = fopen(p, "w"));
		fclose(f);
	}
}

static int tree_setup(void **state)
{
	char tmpl[] = "/tmp/gitseal-path-XXXXXX", real[PATH_MAX];

	(void)state;
	if (!mkdtemp(tmpl) || !realpath(tmpl, real) || strlen(real) >= sizeof(top))
		return -1;
	strcpy(top, real);
	return 0;
}

static int tree_teardown(void **state)
{
	char cmd[sizeof(top) + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_find_up(void **state)
{
	char dir[PATH_MAX], want[PATH_MAX];

	(void)state;
	make("repo", true);
	make("repo/.git", true);
	make("repo/.git/config", false);
	make("repo/a", true);
	make("repo/a/b", true);
	make("repo/a/wt", true);
	make("repo/a/wt/.git", false); /* a linked work tree: .git is a file */
	snprintf(want, sizeof(want), "%s/repo", top);
	snprintf(dir, sizeof(dir), "%s/repo/a/b", top);
	assert_true(gs_path_find_up(dir, ".git"));
	assert_string_equal(dir, want);
	/* the nearest: the work tree's .git file */
	snprintf(dir, sizeof(dir), "%s/repo/a/wt", top);
	assert_true(gs_path_find_up(dir, ".git"));
	snprintf(want, sizeof(want), "%s/repo/a/wt", top);
	assert_string_equal(dir, want);
	/* a path under the entry: the work tree's .git holds no config */
	assert_true(gs_path_find_up(dir, ".git/config"));
	snprintf(want, sizeof(want), "%s/repo", top);
	assert_string_equal(dir, want);
	/* none up to the root: "" */
	snprintf(dir, sizeof(dir), "%s/repo/a", top);
	assert_false(gs_path_find_up(dir, "no-such-entry-gitseal"));
	assert_string_equal(dir, "");
	strcpy(dir, "/");
	assert_false(gs_path_find_up(dir, "no-such-entry-gitseal"));
	assert_string_equal(dir, "");
}

static void test_inside(void **state)
{
	(void)state;
	assert_true(gs_path_inside("/repo", "/repo"));
	assert_true(gs_path_inside("/repo", "/repo/a/b"));
	assert_false(gs_path_inside("/repo", "/repository"));
	assert_false(gs_path_inside("/repo", "/other/repo"));
	assert_false(gs_path_inside("/repo/a", "/repo"));
	assert_true(gs_path_inside("/", "/anything"));
}

static void test_absolute(void **state)
{
	char out[PATH_MAX], cwd[PATH_MAX], want[PATH_MAX + 8];

	(void)state;
	assert_int_equal(gs_path_absolute("/a/./b//c/../d", out), 0);
	assert_string_equal(out, "/a/b/d");
	assert_int_equal(gs_path_absolute("/..", out), 0);
	assert_string_equal(out, "/");
	assert_int_equal(gs_path_absolute("/a/..", out), 0);
	assert_string_equal(out, "/");
	/* relative: against the current directory's real path, no link followed after it */
	assert_non_null(realpath(".", cwd));
	assert_int_equal(gs_path_absolute("x/../y", out), 0);
	snprintf(want, sizeof(want), "%s/y", strcmp(cwd, "/") ? cwd : "");
	assert_string_equal(out, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_find_up, tree_setup, tree_teardown),
		cmocka_unit_test(test_inside),
		cmocka_unit_test(test_absolute),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
