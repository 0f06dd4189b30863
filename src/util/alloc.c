/* gitseal's plain allocations, and the test build's hook that fails one. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"

#ifdef GITSEAL_TEST_HOOKS
static atomic_long allocations;

/* GITSEAL_TEST_COUNT_ALLOC=FILE: the process appends to FILE how many
 * plain allocations it made, so that a sweep knows where to stop. */
static void write_count(void)
{
	FILE *f = fopen(getenv("GITSEAL_TEST_COUNT_ALLOC"), "a");

	if (f) {
		fprintf(f, "%ld\n", atomic_load(&allocations));
		fclose(f);
	}
}

bool gs_alloc_refused(void)
{
	static atomic_long at = -1;
	long n = atomic_load(&at);

	if (n < 0) {
		const char *env = getenv("GITSEAL_TEST_FAIL_ALLOC");
		long none = -1;

		n = env ? atol(env) : 0;
		if (atomic_compare_exchange_strong(&at, &none, n) && getenv("GITSEAL_TEST_COUNT_ALLOC"))
			atexit(write_count);
	}
	return atomic_fetch_add(&allocations, 1) + 1 == n;
}
#define REFUSED() gs_alloc_refused()
#else
#define REFUSED() false
#endif

void *gs_malloc(size_t size)
{
	return REFUSED() ? NULL : malloc(size);
}

void *gs_calloc(size_t count, size_t size)
{
	return REFUSED() ? NULL : calloc(count, size);
}

/* A refused realloc leaves p as it was, as a failed one does. */
void *gs_realloc(void *p, size_t size)
{
	return REFUSED() ? NULL : realloc(p, size);
}

char *gs_strdup(const char *s)
{
	return REFUSED() ? NULL : strdup(s);
}

char *gs_strndup(const char *s, size_t n)
{
	return REFUSED() ? NULL : strndup(s, n);
}

int gs_vasprintf(char **out, const char *fmt, va_list ap)
{
	return REFUSED() ? -1 : vasprintf(out, fmt, ap);
}

int gs_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = gs_vasprintf(out, fmt, ap);
	va_end(ap);
	return n;
}
