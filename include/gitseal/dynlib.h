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

/* A library's symbols are resolved by a function of its module, one
 * GS_DYNSYM(fn) a symbol, not read from a table of names and addresses:
 * such a table held 290 pointers that the dynamic loader relocated, a page
 * of relro written, in every process (docs/development.md, the small file). */
struct gs_dynload {
	void *handle;
	const char *soname;
	int result; /* 0, or the error of the first symbol missing */
};

/* Resolves name into *slot (POSIX: a function's address read through a
 * void *, dlsym's idiom); after a symbol is missing, nothing more. */
void gs_dynsym(struct gs_dynload *l, const char *name, void **slot);

/* One statement (an X-macro's entry): within a resolve function, whose
 * struct gs_dynload * is named l, fn's address into p_fn. */
#define GS_DYNSYM(fn) gs_dynsym(l, #fn, (void **)&p_##fn);

/* A library opened once per process (the first caller opens it): resolve
 * calls GS_DYNSYM for each of its symbols. The outcome, its message
 * included, is kept for every later caller. */
struct gs_dynlib {
	const char *soname;
	void (*resolve)(struct gs_dynload *l);
	pthread_mutex_t lock;
	atomic_bool done;
	int result;
	char error[256];
};

#define GS_DYNLIB(soname, resolve) { (soname), (resolve), PTHREAD_MUTEX_INITIALIZER, false, 0, "" }

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
