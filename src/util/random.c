/* Random bytes drawn ahead per thread (include/gitseal/random.h).
 * libsodium's randombytes_buf makes one getrandom system call per request,
 * whatever its size: sealing one small file asked eight times (the data
 * key, an IV per value and the MAC's, the age file key, the ephemeral
 * X25519 key, the payload nonce). Here each thread draws GS_RANDOM_AHEAD
 * bytes at once and hands them out from the end, wiping each byte as it
 * leaves; the bytes are libsodium's all the same. A fork() child would
 * otherwise hand out the very bytes its parent does: the child handler
 * drops the forking thread's pool (the child's only thread), the others
 * do not exist in the child. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/random.h"
#include "gitseal/secmem.h"

enum { GS_RANDOM_AHEAD = 512 };

struct pool {
	uint8_t *bytes; /* secure; NULL until this thread first asks */
	size_t left;    /* bytes[0 .. left) not handed out yet */
};

static _Thread_local struct pool mine;
static pthread_key_t pool_key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool ready; /* the key and the fork handler are in place */

static void pool_free(void *p)
{
	struct pool *pl = p;

	if (pl && pl->bytes) {
		gs_secure_free(pl->bytes); /* wiped there */
		pl->bytes = NULL;
		pl->left = 0;
	}
}

/* In the child, the forking thread's bytes were its parent's too. */
static void after_fork_child(void)
{
	if (mine.bytes)
		sodium_memzero(mine.bytes, GS_RANDOM_AHEAD);
	mine.left = 0;
}

static void setup(void)
{
	ready = pthread_key_create(&pool_key, pool_free) == 0 &&
		pthread_atfork(NULL, NULL, after_fork_child) == 0;
}

/* This thread's pool with bytes in it, or NULL (then ask libsodium). */
static struct pool *filled(void)
{
	pthread_once(&once, setup);
	if (!ready)
		return NULL;
	if (!mine.bytes) {
		if (!(mine.bytes = gs_secure_alloc(GS_RANDOM_AHEAD)))
			return NULL;
		/* freed when the thread ends; the main thread's at exit */
		if (pthread_setspecific(pool_key, &mine)) {
			gs_secure_free(mine.bytes);
			mine.bytes = NULL;
			return NULL;
		}
	}
	if (!mine.left) {
		randombytes_buf(mine.bytes, GS_RANDOM_AHEAD);
		mine.left = GS_RANDOM_AHEAD;
	}
	return &mine;
}

void gs_random_buf(void *buf, size_t n)
{
	uint8_t *out = buf;

	while (n) {
		struct pool *p = n <= GS_RANDOM_AHEAD / 4 ? filled() : NULL;
		size_t take;

		if (!p) {
			randombytes_buf(out, n);
			return;
		}
		take = n < p->left ? n : p->left;
		p->left -= take;
		memcpy(out, p->bytes + p->left, take);
		sodium_memzero(p->bytes + p->left, take);
		out += take;
		n -= take;
	}
}
