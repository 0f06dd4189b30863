/* gitseal's plain allocations, and the test build's hook that fails one. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"

#ifdef GITSEAL_TEST_HOOKS
#include <pthread.h>

/* The test build's hook. GITSEAL_TEST_FAIL_ALLOC=N refuses the process's
 * Nth plain allocation (counted over all threads); a sweep over every N is
 * long (a `git add` makes hundreds), so GITSEAL_TEST_FAIL_ALLOC_SITE=K
 * refuses instead the first allocation made from the Kth call site (a
 * return address, in the order first used): one run per line of code that
 * allocates. GITSEAL_TEST_COUNT_ALLOC=FILE appends "ALLOCATIONS SITES" to
 * FILE at exit, so that a sweep knows where to stop. */
static atomic_long allocations;
static atomic_long fail_at = -1, fail_site;
static bool track_sites;
static pthread_mutex_t sites_lock = PTHREAD_MUTEX_INITIALIZER;
static const void *sites[4096];
static long nsites;

static void write_count(void)
{
	FILE *f = fopen(getenv("GITSEAL_TEST_COUNT_ALLOC"), "a");

	if (f) {
		fprintf(f, "%ld %ld\n", atomic_load(&allocations), nsites);
		fclose(f);
	}
}

static void read_settings(void)
{
	const char *n = getenv("GITSEAL_TEST_FAIL_ALLOC");
	const char *k = getenv("GITSEAL_TEST_FAIL_ALLOC_SITE");

	atomic_store(&fail_site, k ? atol(k) : 0);
	track_sites = k || getenv("GITSEAL_TEST_COUNT_ALLOC");
	if (getenv("GITSEAL_TEST_COUNT_ALLOC"))
		atexit(write_count);
	atomic_store(&fail_at, n ? atol(n) : 0);
}

/* Whether SITE is new, and the Kth new one, K as the hook names it. */
static bool new_site_refused(const void *site)
{
	bool refuse = false;
	long i;

	pthread_mutex_lock(&sites_lock);
	for (i = 0; i < nsites && sites[i] != site; i++)
		;
	if (i == nsites && nsites < (long)(sizeof(sites) / sizeof(sites[0]))) {
		sites[nsites++] = site;
		refuse = nsites == atomic_load(&fail_site);
	}
	pthread_mutex_unlock(&sites_lock);
	return refuse;
}

static bool refused_at(const void *site)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, read_settings);
	if (track_sites && new_site_refused(site))
		return true;
	return atomic_fetch_add(&allocations, 1) + 1 == atomic_load(&fail_at);
}

bool gs_alloc_refused(void)
{
	return refused_at(__builtin_return_address(0));
}
#define REFUSED() refused_at(__builtin_return_address(0))
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

	if (REFUSED())
		return -1;
	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	return n;
}
