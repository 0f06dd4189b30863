/* Memory for secrets: keys, data keys, plaintext values.
 *
 * Everything here is guarded (a guard page at each end of each mapping),
 * locked (mlock; where RLIMIT_MEMLOCK refuses the lock, libsodium's
 * sodium_malloc, which goes on unlocked), left out of core dumps, and
 * wiped when it is freed. A secret is wiped on release; callers never
 * memset or free it themselves. Under AddressSanitizer what is not handed
 * out (a slot's tail, a freed slot, an arena block's end and the red zone
 * after each arena allocation) is poisoned: an overflow inside a pool
 * region or an arena block is reported as one between heap blocks is. */
#ifndef GITSEAL_SECMEM_H
#define GITSEAL_SECMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Must be called once before any other gitseal function (sodium_init). */
int gs_crypto_init(void) __attribute__((warn_unused_result));

/* Disables core dumps and ptrace attach for a process that holds keys. */
void gs_harden_process(void);

void *gs_secure_alloc(size_t size);
void gs_secure_free(void *p);

/* A growable byte buffer. With secure set, storage is gs_secure_alloc'd and
 * wiped when it moves or is released. The data is always NUL-terminated
 * (not counted in len), so text can be handed to string functions. */
struct gs_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool secure;
};

void gs_buf_init(struct gs_buf *b, bool secure);
int gs_buf_reserve(struct gs_buf *b, size_t extra) __attribute__((warn_unused_result));
/* As gs_buf_reserve, but growth never makes the capacity (the terminating
 * NUL included) larger than most, unless the request itself needs more. */
int gs_buf_reserve_upto(struct gs_buf *b, size_t extra, size_t most)
	__attribute__((warn_unused_result));
int gs_buf_append(struct gs_buf *b, const void *p, size_t n) __attribute__((warn_unused_result));
int gs_buf_append_str(struct gs_buf *b, const char *s) __attribute__((warn_unused_result));
int gs_buf_printf(struct gs_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), warn_unused_result));
void gs_buf_reset(struct gs_buf *b);   /* wipes, keeps storage */
void gs_buf_release(struct gs_buf *b); /* wipes and frees */
/* Hands the storage to the caller (free with gs_secure_free or free()). */
uint8_t *gs_buf_detach(struct gs_buf *b, size_t *len);

/* A bump allocator in secure memory, for the many small strings of a parsed
 * document: one guarded mapping per block instead of per string. Freed and
 * wiped all at once. */
struct gs_arena_block;
struct gs_arena {
	struct gs_arena_block *head;
	size_t reserve; /* the next block holds at least this much */
};

void gs_arena_init(struct gs_arena *a);
/* The next block is made to hold at least size bytes (up to a bound): a
 * caller that can tell how much the arena will hold saves the mappings of
 * growing to it. A block holding less than a pool slot costs nothing. */
void gs_arena_reserve(struct gs_arena *a, size_t size);
void *gs_arena_alloc(struct gs_arena *a, size_t size);
char *gs_arena_strndup(struct gs_arena *a, const char *s, size_t n);
void gs_arena_release(struct gs_arena *a);

#ifdef GITSEAL_TEST_HOOKS
/* Test builds: called with each mapping of its own (a large block) just
 * before it is unmapped, after the wipe; and a lock refused as
 * RLIMIT_MEMLOCK would, so that the sodium_malloc path can be tested. */
extern void (*gs_secmem_unmap_hook)(const void *p, size_t len);
extern bool gs_secmem_refuse_lock;
#endif

#endif
