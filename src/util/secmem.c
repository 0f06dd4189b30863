#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/secmem.h"

int gs_crypto_init(void)
{
	if (sodium_init() < 0)
		return GS_FAIL(GS_ERR_GENERIC, "cannot initialise libsodium");
	return 0;
}

void gs_harden_process(void)
{
	struct rlimit no_core = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void *gs_secure_alloc(size_t size)
{
	return sodium_malloc(size ? size : 1);
}

void gs_secure_free(void *p)
{
	if (p)
		sodium_free(p);
}

void gs_buf_init(struct gs_buf *b, bool secure)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->secure = secure;
}

int gs_buf_reserve(struct gs_buf *b, size_t extra)
{
	return gs_buf_reserve_upto(b, extra, SIZE_MAX);
}

int gs_buf_reserve_upto(struct gs_buf *b, size_t extra, size_t most)
{
	size_t want, cap;
	uint8_t *p;

	if (extra > SIZE_MAX - b->len - 1)
		return GS_FAIL(GS_ERR_NOMEM, "buffer size overflow");
	want = b->len + extra + 1;
	if (want <= b->cap)
		return 0;
	/* sodium_malloc hands out whole pages: start a secure buffer at one. */
	cap = b->cap ? b->cap : b->secure ? 4000 : 64;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	/* doubling past a known limit would map twice the memory ever needed */
	if (cap > most && want <= most)
		cap = most;
	if (b->secure) {
		p = sodium_malloc(cap);
		if (!p)
			return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
		if (b->data) {
			memcpy(p, b->data, b->len + 1);
			sodium_free(b->data);
		}
	} else {
		p = realloc(b->data, cap);
		if (!p)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int gs_buf_append(struct gs_buf *b, const void *p, size_t n)
{
	int ret = gs_buf_reserve(b, n);

	if (ret)
		return ret;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int gs_buf_append_str(struct gs_buf *b, const char *s)
{
	return gs_buf_append(b, s, strlen(s));
}

int gs_buf_printf(struct gs_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, ret;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return GS_FAIL(GS_ERR_GENERIC, "format error");
	ret = gs_buf_reserve(b, (size_t)n);
	if (ret)
		return ret;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void gs_buf_reset(struct gs_buf *b)
{
	if (b->data) {
		sodium_memzero(b->data, b->cap);
		b->data[0] = '\0';
	}
	b->len = 0;
}

void gs_buf_release(struct gs_buf *b)
{
	if (b->data) {
		if (b->secure) {
			sodium_free(b->data);
		} else {
			sodium_memzero(b->data, b->cap);
			free(b->data);
		}
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

uint8_t *gs_buf_detach(struct gs_buf *b, size_t *len)
{
	uint8_t *p = b->data;

	if (!p && gs_buf_reserve(b, 0) == 0)
		p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/* Arena blocks are at least this big, so a 10,000-value document needs a
 * handful of guarded mappings, not tens of thousands. */
enum { ARENA_BLOCK_MIN = 64 * 1024 };

struct gs_arena_block {
	struct gs_arena_block *next;
	size_t used;
	size_t cap;
	max_align_t data[];
};

void gs_arena_init(struct gs_arena *a)
{
	a->head = NULL;
}

void *gs_arena_alloc(struct gs_arena *a, size_t size)
{
	struct gs_arena_block *blk = a->head;
	size_t align = sizeof(max_align_t);
	size_t rounded, cap;
	void *p;

	if (size > SIZE_MAX / 2)
		return NULL;
	rounded = (size + align - 1) / align * align;
	if (!rounded)
		rounded = align;
	if (!blk || blk->cap - blk->used < rounded) {
		cap = rounded > ARENA_BLOCK_MIN ? rounded : ARENA_BLOCK_MIN;
		blk = sodium_malloc(sizeof(*blk) + cap);
		if (!blk)
			return NULL;
		blk->next = a->head;
		blk->used = 0;
		blk->cap = cap;
		a->head = blk;
	}
	p = (char *)blk->data + blk->used;
	blk->used += rounded;
	return p;
}

char *gs_arena_strndup(struct gs_arena *a, const char *s, size_t n)
{
	char *p = gs_arena_alloc(a, n + 1);

	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void gs_arena_release(struct gs_arena *a)
{
	struct gs_arena_block *blk = a->head, *next;

	while (blk) {
		next = blk->next;
		sodium_free(blk);
		blk = next;
	}
	a->head = NULL;
}
