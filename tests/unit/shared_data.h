/* The shared test data: GITSEAL_SHARED, else ../shared (make check sets
 * it). A clone made outside the workspace has none, and a test reading it
 * then skips with one line instead of failing. Include after cmocka.h. */
#ifndef GITSEAL_TEST_SHARED_DATA_H
#define GITSEAL_TEST_SHARED_DATA_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* out: the path under the shared data that fmt names; skips the calling
 * test when the shared directory itself is absent (a file missing under
 * it is the test's failure, not a skip). */
static inline char *shared_data_path(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline char *shared_data_path(char *out, size_t size, const char *fmt, ...)
{
	const char *root = getenv("GITSEAL_SHARED");
	va_list ap;
	int n;

	if (!root)
		root = "../shared";
	if (access(root, F_OK)) {
		print_message("skipped: %s is absent (no ../shared)\n", root);
		skip();
	}
	n = snprintf(out, size, "%s/", root);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < size)
		vsnprintf(out + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	return out;
}

#endif
