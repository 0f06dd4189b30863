/* Plain (not secret) heap memory: every malloc, calloc, realloc, strdup,
 * strndup and asprintf of gitseal's own code goes through these, so that
 * the test build can make any one of them fail (GITSEAL_TEST_FAIL_ALLOC=N,
 * tests/cli/oom.bats). They behave exactly as the C library's; memory is
 * given back with free(). Secrets use gs_secure_alloc (gitseal/secmem.h). */
#ifndef GITSEAL_ALLOC_H
#define GITSEAL_ALLOC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define GS_ALLOC_FN __attribute__((malloc, warn_unused_result))

void *gs_malloc(size_t size) GS_ALLOC_FN;
void *gs_calloc(size_t count, size_t size) GS_ALLOC_FN;
void *gs_realloc(void *p, size_t size) __attribute__((warn_unused_result));
char *gs_strdup(const char *s) GS_ALLOC_FN;
char *gs_strndup(const char *s, size_t n) GS_ALLOC_FN;
/* As asprintf: the length, or -1 (out of memory) with *out undefined. */
int gs_asprintf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int gs_vasprintf(char **out, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#ifdef GITSEAL_TEST_HOOKS
/* Whether this allocation is the one GITSEAL_TEST_FAIL_ALLOC names (the
 * Nth of the process, counted from 1 over all threads): for an allocator
 * other than the above (posix_memalign). */
bool gs_alloc_refused(void);
/* The same for an allocation made inside libyaml, OpenSSL or libgit2, on a
 * count of its own (GITSEAL_TEST_FAIL_LIB_ALLOC=N): their allocators call
 * it in the test build. The site is the library's file name and line where
 * it passes them (OpenSSL, libgit2), else a return address and 0. */
bool gs_lib_alloc_refused(const void *where, int line);
/* GITSEAL_TEST_SITE_LOG (src/util/alloc.c): the identity of the calling
 * path, whether the process has run a second thread (the order of new
 * sites is then not fixed), and the line a process appends at exit for
 * sweep_oom's ledger. */
unsigned long long gs_test_stack_id(void);
bool gs_test_threaded(void);
/* A thread that makes no allocation of gitseal's own (libcrypto's warming)
 * does not count for gs_test_threaded: its maker counts it in (+1) before
 * it starts, it counts itself out (-1) as it ends, and marks itself
 * (gs_test_quiet_thread) so that an own allocation made on it after all
 * (gs_test_note_own_alloc) leaves no site of the process in a known order. */
void gs_test_quiet_threads(int delta);
void gs_test_quiet_thread(void);
void gs_test_note_own_alloc(void);
/* GITSEAL_TEST_LEAK_LEDGER: the call sites of the process's own plain
 * allocations so far, each once, or (size_t)-1 if there were too many */
size_t gs_test_own_sites(const void **out, size_t max);
void gs_test_site_log(const char *kind, long nsites, const unsigned long long *ids, long refused, long ordered,
		      bool all);
#endif

#endif
