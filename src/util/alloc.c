/* gitseal's plain allocations, and the test build's hook that fails one. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"

#ifdef GITSEAL_TEST_HOOKS
#include <execinfo.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

/* The test build's hook. GITSEAL_TEST_FAIL_ALLOC=N refuses the process's
 * Nth plain allocation (counted over all threads); a sweep over every N is
 * long (a `git add` makes hundreds), so GITSEAL_TEST_FAIL_ALLOC_SITE=K
 * refuses instead the first allocation made from the Kth call site (a
 * return address, in the order first used): one run per line of code that
 * allocates. GITSEAL_TEST_FAIL_LIB_ALLOC=N and GITSEAL_TEST_FAIL_LIB_ALLOC_SITE=K
 * do the same, on a count of their own, for the allocations made inside
 * libyaml, OpenSSL and libgit2 (gs_lib_alloc_refused, which their
 * allocators call in this build). GITSEAL_TEST_COUNT_ALLOC=FILE appends
 * "ALLOCATIONS SITES LIB_ALLOCATIONS LIB_SITES" to FILE at exit, so that a
 * sweep knows where to stop. GITSEAL_TEST_SITE_LOG=FILE: a process that
 * counts (the counting run) or fails a site (_SITE) appends at exit
 * "plain SITES sites ORDERED ID..." (each site's identity,
 * gs_test_stack_id, in the order first used; the first ORDERED were made
 * before the process ran a second thread, so another run makes them in
 * the same order), "plain SITES refused ID" or "plain SITES none": a sweep
 * skips a site whose path from main an earlier one failed and checked the
 * same way, where it knows which site a run would fail (tests/helpers.bash,
 * sweep_oom). */
struct alloc_counter {
	atomic_long made;
	atomic_long fail_at, fail_site;
	pthread_mutex_t lock;
	/* a site: a return address, or a library's file name and line */
	struct alloc_site {
		const void *where;
		int line;
		unsigned long long id; /* gs_test_stack_id, where logged */
	} sites[4096];
	long nsites;
	long refused; /* the site refused (from 1), or 0 */
	long ordered; /* sites made before a second thread was seen */
	bool threaded;
};
static struct alloc_counter own = { .lock = PTHREAD_MUTEX_INITIALIZER };
static struct alloc_counter libs = { .lock = PTHREAD_MUTEX_INITIALIZER };
static bool track_sites;
static bool log_sites, counting;

/* GITSEAL_TEST_LEAK_LEDGER (src/main.c): each call site of the process's
 * own plain allocations once (a return address: the test build is linked
 * without PIE), so that a process that allocates where no process of the
 * suite run did before has its leaks checked. Open addressing, no lock:
 * every allocation passes here. */
enum { LEAK_SITES = 2048 };
static _Atomic uintptr_t leak_sites[LEAK_SITES];
static atomic_bool leak_sites_full;
static bool note_leak_sites;

static void note_leak_site(const void *where)
{
	uintptr_t a = (uintptr_t)where;
	size_t h = (size_t)((a * 0x9E3779B97F4A7C15ULL) >> 53);

	for (size_t i = 0; i < LEAK_SITES / 2; i++) {
		_Atomic uintptr_t *slot = &leak_sites[(h + i) % LEAK_SITES];
		uintptr_t seen = atomic_load_explicit(slot, memory_order_relaxed);

		if (seen == a)
			return;
		if (!seen && (atomic_compare_exchange_strong(slot, &seen, a) || seen == a))
			return;
	}
	atomic_store(&leak_sites_full, true);
}

size_t gs_test_own_sites(const void **out, size_t max)
{
	size_t n = 0;

	if (atomic_load(&leak_sites_full))
		return (size_t)-1;
	for (size_t i = 0; i < LEAK_SITES; i++) {
		uintptr_t a = atomic_load(&leak_sites[i]);

		if (a && n < max)
			out[n++] = (const void *)a;
	}
	return n;
}

/* A site's identity for GITSEAL_TEST_SITE_LOG: the return addresses on the
 * stack of its first allocation that lie in gitseal's own text, hashed.
 * The test build is linked without PIE, so the same path from main gives
 * the same identity in every process (libc's frames move with ASLR and are
 * left out). */
extern const char __executable_start[], etext[];
unsigned long long gs_test_stack_id(void)
{
	void *frames[128];
	int n = backtrace(frames, 128);
	unsigned long long h = 14695981039346656037ULL;

	for (int i = 0; i < n; i++) {
		uintptr_t a = (uintptr_t)frames[i];

		if (a < (uintptr_t)__executable_start || a >= (uintptr_t)etext)
			continue;
		h = (h ^ a) * 1099511628211ULL;
		h ^= h >> 29;
	}
	return h;
}

/* Whether the process runs, or has run, a thread besides the calling one
 * (/proc/self/stat's num_threads; true where it cannot be read): from
 * then on the order in which threads reach new sites can change from run
 * to run. A thread started and joined between two calls is not seen: its
 * allocations all came from sites made before, and do again. */
static atomic_bool seen_threads;     /* sticky: gs_test_threaded's answer */
static atomic_long quiet_threads;     /* running, or about to */
static atomic_bool quiet_allocated;   /* a quiet thread made an own allocation */
static _Thread_local bool on_quiet_thread;

void gs_test_quiet_threads(int delta)
{
	atomic_fetch_add(&quiet_threads, delta);
}

void gs_test_quiet_thread(void)
{
	on_quiet_thread = true;
}

void gs_test_note_own_alloc(void)
{
	if (on_quiet_thread)
		atomic_store(&quiet_allocated, true);
}

bool gs_test_threaded(void)
{
	char buf[1024], *p;
	ssize_t n;
	int fd, field;

	if (atomic_load(&seen_threads))
		return true;
	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* after the command's name in parentheses, field 3 (state) on; field
	 * 20 is num_threads */
	if (!(p = strrchr(buf, ')'))) {
		atomic_store(&seen_threads, true);
		return true;
	}
	for (field = 2; *p && field < 20; p++)
		field += *p == ' ';
	if (field < 20 || atol(p) - atomic_load(&quiet_threads) != 1)
		atomic_store(&seen_threads, true);
	return atomic_load(&seen_threads);
}

void gs_test_site_log(const char *kind, long nsites, const unsigned long long *ids, long refused, long ordered,
		      bool all)
{
	const char *path = getenv("GITSEAL_TEST_SITE_LOG");
	size_t cap = 64 + (size_t)nsites * 20, len;
	char *line;
	int fd;

	if (!path || !(line = malloc(cap)))
		return;
	len = (size_t)snprintf(line, cap, "%s %ld %s", kind, nsites, all ? "sites" : refused ? "refused" : "none");
	if (all)
		len += (size_t)snprintf(line + len, cap - len, " %ld", atomic_load(&quiet_allocated) ? 0 : ordered);
	for (long i = 0; i < nsites; i++)
		if (all || i + 1 == refused)
			len += (size_t)snprintf(line + len, cap - len, " %llx", ids[i]);
	line[len++] = '\n';
	/* one write to an O_APPEND file: the processes of one git command
	 * append whole lines */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, line, len) != (ssize_t)len)
			fprintf(stderr, "gitseal: test hook: cannot write %s\n", path);
		close(fd);
	}
	free(line);
}

static void write_site_log(void)
{
	unsigned long long ids[sizeof(own.sites) / sizeof(own.sites[0])];

	for (long i = 0; i < own.nsites; i++)
		ids[i] = own.sites[i].id;
	gs_test_site_log("plain", own.nsites, ids, own.refused, own.threaded ? own.ordered : own.nsites, counting);
}

static void write_count(void)
{
	FILE *f = fopen(getenv("GITSEAL_TEST_COUNT_ALLOC"), "a");

	if (f) {
		fprintf(f, "%ld %ld %ld %ld\n", atomic_load(&own.made), own.nsites, atomic_load(&libs.made),
			libs.nsites);
		fclose(f);
	}
}

static long env_long(const char *name)
{
	const char *v = getenv(name);

	return v ? atol(v) : 0;
}

static void read_settings(void)
{
	atomic_store(&own.fail_site, env_long("GITSEAL_TEST_FAIL_ALLOC_SITE"));
	atomic_store(&libs.fail_site, env_long("GITSEAL_TEST_FAIL_LIB_ALLOC_SITE"));
	track_sites = getenv("GITSEAL_TEST_FAIL_ALLOC_SITE") || getenv("GITSEAL_TEST_FAIL_LIB_ALLOC_SITE") ||
		      getenv("GITSEAL_TEST_COUNT_ALLOC");
	if (getenv("GITSEAL_TEST_COUNT_ALLOC"))
		atexit(write_count);
	counting = getenv("GITSEAL_TEST_COUNT_ALLOC");
	log_sites = getenv("GITSEAL_TEST_SITE_LOG") && (counting || getenv("GITSEAL_TEST_FAIL_ALLOC_SITE"));
	if (log_sites)
		atexit(write_site_log);
	note_leak_sites = getenv("GITSEAL_TEST_LEAK_LEDGER");
	atomic_store(&own.fail_at, env_long("GITSEAL_TEST_FAIL_ALLOC"));
	atomic_store(&libs.fail_at, env_long("GITSEAL_TEST_FAIL_LIB_ALLOC"));
}

/* Whether the site is new, and the Kth new one, K as the hook names it. */
static bool new_site_refused(struct alloc_counter *c, const void *where, int line)
{
	bool refuse = false;
	long i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->nsites && (c->sites[i].where != where || c->sites[i].line != line); i++)
		;
	if (i == c->nsites && c->nsites < (long)(sizeof(c->sites) / sizeof(c->sites[0]))) {
		struct alloc_site *s;

		if (c == &own && log_sites && counting && !c->threaded && (c->threaded = gs_test_threaded()))
			c->ordered = c->nsites;
		s = &c->sites[c->nsites++];

		*s = (struct alloc_site){ where, line, 0 };
		refuse = c->nsites == atomic_load(&c->fail_site);
		if (refuse)
			c->refused = c->nsites;
		if (c == &own && log_sites && (refuse || counting))
			s->id = gs_test_stack_id();
	}
	pthread_mutex_unlock(&c->lock);
	return refuse;
}

static bool counted_refused(struct alloc_counter *c, const void *where, int line)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, read_settings);
	if (c == &own)
		gs_test_note_own_alloc();
	if (c == &own && note_leak_sites)
		note_leak_site(where);
	if (track_sites && new_site_refused(c, where, line))
		return true;
	return atomic_fetch_add(&c->made, 1) + 1 == atomic_load(&c->fail_at);
}

static bool refused_at(const void *site)
{
	return counted_refused(&own, site, 0);
}

bool gs_alloc_refused(void)
{
	return refused_at(__builtin_return_address(0));
}

bool gs_lib_alloc_refused(const void *where, int line)
{
	return counted_refused(&libs, where, line);
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
