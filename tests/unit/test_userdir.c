/* gitseal/userdir.h: the one check the private directory's base
 * (XDG_RUNTIME_DIR) and the user's key cache directory go through. A
 * directory that the group or others may enter, list or write, one owned
 * by someone else, a symbolic link to a private directory, or something
 * that is not a directory is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitseal/userdir.h"

struct place {
	char top[64];
	char dir[96];
};

static int place_setup(void **state)
{
	struct place *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	snprintf(p->top, sizeof(p->top), "/tmp/gitseal-userdir-XXXXXX");
	if (!mkdtemp(p->top)) {
		free(p);
		return -1;
	}
	snprintf(p->dir, sizeof(p->dir), "%s/d", p->top);
	*state = p;
	return 0;
}

static int place_teardown(void **state)
{
	struct place *p = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/link", p->top);
	unlink(path);
	snprintf(path, sizeof(path), "%s/file", p->top);
	unlink(path);
	rmdir(p->dir);
	rmdir(p->top);
	free(p);
	return 0;
}

/* both forms of the check give the same answer: by name, and opened */
static void assert_private(const char *path, bool expected)
{
	int fd = gs_userdir_open_private(path);

	assert_int_equal(gs_userdir_is_private(path), expected);
	assert_int_equal(fd >= 0, expected);
	if (fd >= 0)
		close(fd);
}

static void test_mode(void **state)
{
	struct place *p = *state;

	assert_int_equal(mkdir(p->dir, 0700), 0);
	assert_int_equal(chmod(p->dir, 0700), 0); /* whatever the umask */
	assert_private(p->dir, true);
	/* each bit for the group or others alone is enough to refuse */
	for (mode_t bit = 01; bit <= 040; bit <<= 1) {
		assert_int_equal(chmod(p->dir, 0700 | bit), 0);
		assert_private(p->dir, false);
	}
	assert_int_equal(chmod(p->dir, 0770), 0);
	assert_private(p->dir, false);
	assert_int_equal(chmod(p->dir, 0700), 0);
	assert_private(p->dir, true);
}

static void test_owner(void **state)
{
	struct place *p = *state;

	assert_int_equal(mkdir(p->dir, 0700), 0);
	assert_int_equal(chmod(p->dir, 0700), 0);
	if (geteuid() != 0)
		skip(); /* only root can give a directory away */
	assert_int_equal(chown(p->dir, 65534, 65534), 0);
	assert_private(p->dir, false);
	assert_int_equal(chown(p->dir, 0, 0), 0);
	assert_private(p->dir, true);
}

static void test_not_a_directory(void **state)
{
	struct place *p = *state;
	char link[128], file[128];
	FILE *f;

	assert_int_equal(mkdir(p->dir, 0700), 0);
	assert_int_equal(chmod(p->dir, 0700), 0);
	snprintf(link, sizeof(link), "%s/link", p->top);
	snprintf(file, sizeof(file), "%s/file", p->top);
	assert_int_equal(symlink(p->dir, link), 0);
	assert_private(link, false);
	assert_non_null(f = fopen(file, "w"));
	fclose(f);
	assert_int_equal(chmod(file, 0700), 0);
	assert_private(file, false);
	assert_private("/nonexistent-gitseal-dir", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mode, place_setup, place_teardown),
		cmocka_unit_test_setup_teardown(test_owner, place_setup, place_teardown),
		cmocka_unit_test_setup_teardown(test_not_a_directory, place_setup, place_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
