/* Shared libraries opened on first use. gitseal's git and Vault code need
 * libgit2 and libcurl, whose dependency trees cost milliseconds of start-up
 * in every process, and only the sops and ssh-rsa code needs libcrypto; the
 * binary links none of them and opens them when a command needs them
 * (src/git/libgit2.c, src/keysrc/libcurl.c, src/util/libcrypto.c define the
 * functions gitseal calls, forwarding to the library). */
#ifndef GITSEAL_DYNLIB_H
#define GITSEAL_DYNLIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct gs_dynsym {
	const char *name;
	void **slot; /* receives the function's address */
};

#define GS_DYNSYM(fn) { #fn, (void **)&p_##fn }

/* Opens soname and resolves every symbol; GS_ERR_GENERIC with a message
 * naming the library (and the missing symbol) on failure. */
int gs_dynlib_load(const char *soname, const struct gs_dynsym *syms, size_t count)
	__attribute__((warn_unused_result));

/* A library opened once per process (the first caller opens it): the
 * outcome, its message included, is kept for every later caller. */
struct gs_dynlib {
	const char *soname;
	const struct gs_dynsym *syms;
	size_t count;
	pthread_mutex_t lock;
	atomic_bool done;
	int result;
	char error[256];
};

#define GS_DYNLIB(soname, syms) \
	{ (soname), (syms), sizeof(syms) / sizeof((syms)[0]), PTHREAD_MUTEX_INITIALIZER, false, 0, "" }

/* 0 once lib is open; its error (the same each time) when it cannot be. */
int gs_dynlib_open(struct gs_dynlib *lib) __attribute__((warn_unused_result));

/* Loads libcrypto; GS_ERR_GENERIC with a message naming it on failure.
 * Code that can fail cleanly calls this before its first OpenSSL call;
 * an OpenSSL call made without it loads libcrypto too, but ends the
 * process with a message if it cannot. */
int gs_libcrypto_load(void) __attribute__((warn_unused_result));
/* Starts opening libcrypto on a thread of its own, then calling fetch
 * there (OpenSSL's first fetch sets up its providers), for a command that
 * will need it after reading its input; gs_libcrypto_load waits for it.
 * first, when given, runs on that thread before libcrypto is opened.
 * Once per process; nothing when libcrypto is open already (nor first). */
void gs_libcrypto_warm(void (*first)(void), void (*fetch)(void));
/* Waits for that thread: before the process exits (a command that failed
 * before it needed OpenSSL), so that no exit comes in the middle of it. */
void gs_libcrypto_warm_wait(void);
/* Whether libcrypto was loaded (by an earlier gs_libcrypto_load): code
 * with an equal libsodium path uses OpenSSL only then. */
bool gs_libcrypto_loaded(void);
#ifdef GITSEAL_TEST_HOOKS
/* The test build's allocator given to OpenSSL (gitseal/alloc.h), before
 * another library that sets OpenSSL up (libgit2) does: libcrypto is
 * opened (not set up) for it. */
void gs_libcrypto_hook_allocator(void);
#endif

#endif
