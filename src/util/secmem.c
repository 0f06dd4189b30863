#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sodium.h>

#include "gitseal/asan_poison.h"
#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/heap.h"
#include "gitseal/secmem.h"

/* Under AddressSanitizer (the test build, the fuzzers) the pool's slots and
 * the arena's blocks are poisoned where nothing is handed out: a slot past
 * its size and its header, a region not yet carved, a freed slot, a block's
 * unused end, and a red zone after each arena allocation, which then starts
 * on an 8-byte boundary (ASan's granule). An overflow from one allocation
 * into the next inside a block is then reported: ASan sees the block only
 * as memory this file mapped. */
#ifdef GS_ASAN
enum { ARENA_REDZONE = 16, ARENA_GRANULE = 8 };
#else
enum { ARENA_REDZONE = 0, ARENA_GRANULE = 1 };
#endif

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

/*
 * Small secrets come from a pool carved out of large regions (locked,
 * excluded from core dumps, a guard page at each end), one free list per
 * size class; large ones get a guarded mapping of their own. A guarded
 * mapping costs several system calls, which for the many short-lived
 * buffers of a git filter run dominated the time. Every slot is wiped when
 * it is freed. Each allocation carries a 16-byte header saying where it
 * came from.
 */
enum {
	POOL_CLASSES = 9,            /* 64 .. 16384 bytes, header included */
	POOL_MIN_SHIFT = 6,
	POOL_FIRST_REGION = 8 * 1024,
	POOL_REGION = 64 * 1024,
	HEADER = 16,
	LARGE_SODIUM = 0xff,         /* sodium_malloc: the lock was refused */
	LARGE_MAPPED = 0xfe,         /* a locked mapping of its own (locked_map) */
	LARGE_MAPPED_HUGE = 0xfd,    /* the same, in whole huge pages (huge_size) */
};

#define HUGE_PAGE ((size_t)2 * 1024 * 1024)

struct slot_header {
	uint32_t magic;
	uint32_t size_class;
	uint64_t size;               /* requested size, for large allocations */
};

#define SLOT_MAGIC 0x67736d31u /* "gsm1" */

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static void *free_slots[POOL_CLASSES];
static uint8_t *region_next;
static size_t region_left;
static size_t region_size = POOL_FIRST_REGION;

#ifdef GITSEAL_TEST_HOOKS
void (*gs_secmem_unmap_hook)(const void *p, size_t len);
bool gs_secmem_refuse_lock;

/* GITSEAL_TEST_FAIL_SECURE_ALLOC=N: the process's Nth secure allocation
 * (counted from 1, over all threads) fails, so a test can walk every
 * out-of-memory path of a command. A walk over every N is long and
 * repeats itself (a value's buffer is made once per value), so
 * GITSEAL_TEST_FAIL_SECURE_ALLOC_SITE=K fails instead the first secure
 * allocation made from the Kth call site (in the order first used): one
 * run per line of code that allocates, as GITSEAL_TEST_FAIL_ALLOC_SITE
 * does for plain ones. The site is the line outside this file that called
 * in (ENTRY: gs_buf_append, the arena), not the line in here that maps.
 * GITSEAL_TEST_COUNT_SECURE_ALLOC=FILE appends "ALLOCATIONS SITES" to FILE
 * at exit, so that such a walk knows where to stop. */
static atomic_long secure_allocations;
static _Thread_local const void *entry_site;
static pthread_mutex_t sites_lock = PTHREAD_MUTEX_INITIALIZER;
static const void *sites[1024];
static unsigned long long site_ids[1024]; /* GITSEAL_TEST_SITE_LOG */
static long nsites, fail_site, refused_site;
static long ordered_sites; /* made before a second thread was seen */
static bool track_sites, log_sites, counting, threaded;

static const void *site_enter(const void *caller)
{
	if (entry_site)
		return NULL;
	entry_site = caller;
	return caller;
}

static void site_leave(const void **entered)
{
	if (*entered)
		entry_site = NULL;
}

/* the first line of a function that can make a secure allocation */
#define ENTRY() __attribute__((cleanup(site_leave))) const void *entered_ = site_enter(__builtin_return_address(0))

static void write_secure_count(void)
{
	FILE *f = fopen(getenv("GITSEAL_TEST_COUNT_SECURE_ALLOC"), "a");

	if (f) {
		fprintf(f, "%ld %ld\n", atomic_load(&secure_allocations), nsites);
		fclose(f);
	}
}

/* GITSEAL_TEST_SITE_LOG=FILE: "secure SITES ..." as alloc.c writes "plain" */
static void write_site_log(void)
{
	gs_test_site_log("secure", nsites, site_ids, refused_site, threaded ? ordered_sites : nsites, counting);
}

static void read_count_setting(void)
{
	const char *site = getenv("GITSEAL_TEST_FAIL_SECURE_ALLOC_SITE");

	fail_site = site ? atol(site) : 0;
	counting = getenv("GITSEAL_TEST_COUNT_SECURE_ALLOC");
	track_sites = site || counting;
	if (counting)
		atexit(write_secure_count);
	log_sites = track_sites && getenv("GITSEAL_TEST_SITE_LOG");
	if (log_sites)
		atexit(write_site_log);
}

/* Whether the calling site is new, and the Kth new one. */
static bool new_site_refused(void)
{
	bool refuse = false;
	long i;

	pthread_mutex_lock(&sites_lock);
	for (i = 0; i < nsites && sites[i] != entry_site; i++)
		;
	if (i == nsites && nsites < (long)(sizeof(sites) / sizeof(sites[0]))) {
		if (log_sites && counting && !threaded && (threaded = gs_test_threaded()))
			ordered_sites = nsites;
		sites[nsites++] = entry_site;
		refuse = nsites == fail_site;
		if (refuse)
			refused_site = nsites;
		if (log_sites && (refuse || counting))
			site_ids[nsites - 1] = gs_test_stack_id();
	}
	pthread_mutex_unlock(&sites_lock);
	return refuse;
}

static bool refuse_this_alloc(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const char *at = getenv("GITSEAL_TEST_FAIL_SECURE_ALLOC");
	long n = atomic_fetch_add(&secure_allocations, 1) + 1;

	pthread_once(&once, read_count_setting);
	gs_test_note_own_alloc();
	if (track_sites && new_site_refused())
		return true;
	return at && atol(at) == n;
}
#else
#define ENTRY() (void)0
#endif

static int size_class(size_t total)
{
	for (int c = 0; c < POOL_CLASSES; c++)
		if (total <= (size_t)1 << (POOL_MIN_SHIFT + c))
			return c;
	return -1;
}

static size_t guard_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return page > 0 ? (size_t)page : 4096;
}

/* One mapping with a guard page at each end, locked and populated as it is
 * mapped, left out of core dumps; NULL where the lock is refused
 * (RLIMIT_MEMLOCK, checked before anything is mapped over the reserved
 * range). sodium_malloc makes six system calls for such a block (mmap,
 * three mprotect, madvise, mlock), fills every byte with garbage and
 * sodium_free wipes every byte again; this makes three and fills nothing
 * (the pages come zeroed): a fresh process's first 8 KiB pool region took
 * 13 us instead of 30 on the 2-core VM of bench/age_bench.sh, and decrypt
 * of 10,000 values spent 17 M instructions in the fill and wipe of its
 * arena blocks. What sodium_malloc adds besides is a canary that
 * sodium_free checks: the slot header's magic does that here. */
static uint8_t *map_locked(size_t size)
{
	const int anonymous = MAP_PRIVATE | MAP_ANONYMOUS;
	size_t guard = guard_size(), slack, reserved;
	uint8_t *base, *p, *end;

	slack = size >= HUGE_PAGE ? HUGE_PAGE : 0;
	reserved = size + 2 * guard + slack;
	base = mmap(NULL, reserved, PROT_NONE, anonymous | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	if (!slack) {
		p = base + guard;
		if (mmap(p, size, PROT_READ | PROT_WRITE, anonymous | MAP_FIXED | MAP_LOCKED | MAP_POPULATE, -1,
			 0) == MAP_FAILED) {
			munmap(base, reserved);
			return NULL;
		}
		(void)madvise(p, size, MADV_DONTDUMP);
		return p;
	}
	/* A block of 2 MiB or more starts on a huge page's boundary and asks
	 * for huge pages before it is locked (which populates it): the first
	 * write to each 4 KiB page of fresh memory cost about 5 us on the
	 * bench's VM, MAP_POPULATE or not (8 MiB: 11 ms, 1 ms in huge pages),
	 * and a real machine saves the page faults and TLB misses. The
	 * reservation's slack beyond the guard pages is given back. */
	p = (uint8_t *)(((uintptr_t)base + guard + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	end = base + reserved;
	if (p - guard > base)
		munmap(base, (size_t)(p - guard - base));
	if (p + size + guard < end)
		munmap(p + size + guard, (size_t)(end - (p + size + guard)));
	if (mmap(p, size, PROT_READ | PROT_WRITE, anonymous | MAP_FIXED, -1, 0) == MAP_FAILED) {
		munmap(p - guard, size + 2 * guard);
		return NULL;
	}
	(void)madvise(p, size, MADV_HUGEPAGE);
	(void)madvise(p, size, MADV_DONTDUMP);
	/* the system call itself: ASan's mlock does nothing */
	if (syscall(SYS_mlock, p, size) != 0) {
		munmap(p - guard, size + 2 * guard);
		return NULL;
	}
	return p;
}

/* Bytes locked by the mappings below, for huge_size's rule. */
static atomic_size_t locked_total;

/* Whether this process may lock past RLIMIT_MEMLOCK (CAP_IPC_LOCK). */
static bool may_lock_any(void)
{
	struct __user_cap_header_struct head = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[2];

	return syscall(SYS_capget, &head, caps) == 0 && (caps[0].effective & (1u << CAP_IPC_LOCK));
}

/* The size to map for a block of size bytes (a whole number of pages): a
 * block of 2 MiB or more takes whole huge pages when the lock allows it
 * and its last huge page would be at least half used. Its tail in 4 KiB
 * pages cost 1-10 us a page to populate on the bench's VM (the 0.4 MiB
 * past 4 MiB of decrypt's 10,000-value tree: 1 ms of its 32 one day, 1-3
 * us a page in a probe another); the rest of the last huge page is what
 * it costs instead, and on a VM with free page reporting (virtio-balloon)
 * a huge page taken after a few seconds idle faults in the host, 2-4 ms
 * each: a huge page mostly empty is dearer than its tail in small pages
 * (the 4.6 MB once reserved for the bench's encrypted tree: a third huge page
 * for 0.6 MB). Under
 * RLIMIT_MEMLOCK the rounding must leave room for another block as large
 * (the proof of a write loads a second tree beside the first): else a
 * lock that fits today would be refused. */
static size_t huge_size(size_t size)
{
	size_t rounded = (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	struct rlimit r;

	if (size < HUGE_PAGE || rounded < size || rounded - size > HUGE_PAGE / 2 ||
	    getrlimit(RLIMIT_MEMLOCK, &r) != 0)
		return size;
	if (r.rlim_cur == RLIM_INFINITY || may_lock_any())
		return rounded;
	return atomic_load(&locked_total) <= r.rlim_cur && rounded + size <= r.rlim_cur - atomic_load(&locked_total)
		       ? rounded
		       : size;
}

/* size bytes or more (*mapped says how many), locked and guarded; NULL
 * where the lock is refused. */
static uint8_t *locked_map(size_t size, size_t *mapped)
{
	size_t guard = guard_size(), want;
	uint8_t *p = NULL;

#ifdef GITSEAL_TEST_HOOKS
	if (gs_secmem_refuse_lock)
		return NULL;
#endif
	if (size > SIZE_MAX - 3 * guard - 2 * HUGE_PAGE)
		return NULL;
	size = (size + guard - 1) / guard * guard;
	want = huge_size(size);
	if (want > size)
		p = map_locked(want);
	if (!p)
		p = map_locked(want = size);
	if (p) {
		atomic_fetch_add(&locked_total, want);
		*mapped = want;
	}
	return p;
}

/* Undoes locked_map at p, which mapped size bytes, its first wipe bytes
 * wiped: the rest were never written (or the caller wiped them). */
static void locked_unmap(uint8_t *p, size_t size, size_t wipe)
{
	size_t guard = guard_size();

	GS_UNPOISON(p, size); /* the wipe and the hook read it all; unmapped next */
	sodium_memzero(p, wipe < size ? wipe : size);
#ifdef GITSEAL_TEST_HOOKS
	if (gs_secmem_unmap_hook)
		gs_secmem_unmap_hook(p, size);
#endif
	atomic_fetch_sub(&locked_total, size);
	munmap(p - guard, size + 2 * guard);
}

/* What locked_map mapped for a block of size bytes that a header says was
 * mapped exactly (LARGE_MAPPED) or in whole huge pages. */
static size_t mapped_size(size_t size, bool huge)
{
	size_t guard = guard_size();

	size = (size + guard - 1) / guard * guard;
	return huge ? (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1) : size;
}

/* A pool region. Where the lock is refused it comes from sodium_malloc,
 * which goes on unlocked. Regions are never freed. */
static uint8_t *region_map(size_t size)
{
	size_t mapped;
	uint8_t *p = locked_map(size, &mapped); /* far below 2 MiB: exactly size */

	if (!p)
		p = sodium_malloc(size);
	if (p)
		GS_POISON(p, size); /* carved slot by slot */
	return p;
}

static void *pool_take(int c)
{
	size_t slot = (size_t)1 << (POOL_MIN_SHIFT + c);
	void *p = free_slots[c];

	if (p) {
		GS_UNPOISON(p, slot);
		memcpy(&free_slots[c], p, sizeof(void *));
		return p;
	}
	if (region_left < slot) {
		/* Regions are never returned: the pool is bounded by the peak.
		 * They grow from 8 KiB, what a small file needs, because mlock
		 * populates every page of a region: a 64 KiB first region cost
		 * a small `gitseal age` 17 page allocations it never used. */
		size_t size = region_size < slot ? slot : region_size;

		region_next = region_map(size);
		if (!region_next) {
			region_left = 0;
			return NULL;
		}
		region_left = size;
		if (region_size < POOL_REGION)
			region_size *= 2;
	}
	p = region_next;
	region_next += slot;
	region_left -= slot;
	GS_UNPOISON(p, slot);
	return p;
}

/* size bytes of secure memory; *usable says how many the block holds (a
 * mapping of whole huge pages holds more). */
static void *secure_alloc_usable(size_t size, size_t *usable)
{
	struct slot_header h = { SLOT_MAGIC, LARGE_MAPPED, size };
	size_t mapped = 0;
	uint8_t *p;
	int c;

	*usable = size;
	if (size > SIZE_MAX - 2 * HEADER)
		return NULL;
#ifdef GITSEAL_TEST_HOOKS
	if (refuse_this_alloc())
		return NULL;
#endif
	c = size_class(size + HEADER);
	if (c >= 0) {
		pthread_mutex_lock(&pool_lock);
		p = pool_take(c);
		pthread_mutex_unlock(&pool_lock);
		h.size_class = (uint32_t)c;
	} else {
		p = locked_map(size + HEADER, &mapped);
		if (p && mapped != mapped_size(size + HEADER, false)) {
			h.size_class = LARGE_MAPPED_HUGE;
			*usable = mapped - HEADER;
		}
		if (!p) {
			/* sodium_malloc aligns the end of a block to its guard
			 * page: a multiple of 16 keeps the start aligned too */
			p = sodium_malloc((size + HEADER + 15) & ~(size_t)15);
			h.size_class = LARGE_SODIUM;
		}
	}
	if (!p)
		return NULL;
	memcpy(p, &h, sizeof(h));
	/* the header (an underflow reaches it first) and what follows size,
	 * up to the slot's or the mapping's end; what *usable adds is the
	 * caller's to unpoison (the arena) */
	GS_POISON(p, HEADER);
	GS_POISON(p + HEADER + size, (c >= 0 ? (size_t)1 << (POOL_MIN_SHIFT + c)
			       : h.size_class == LARGE_SODIUM ? (size + HEADER + 15) & ~(size_t)15
			       : mapped) - HEADER - size);
	return p + HEADER;
}

void *gs_secure_alloc(size_t size)
{
	ENTRY();
	size_t usable;

	return secure_alloc_usable(size, &usable);
}

/* Frees what gs_secure_alloc gave; of a block with a mapping of its own
 * only the first wipe bytes can hold anything (at most its size). */
static void secure_free_wiping(void *ptr, size_t wipe)
{
	struct slot_header h;
	uint8_t *p = ptr;

	if (!p)
		return;
	p -= HEADER;
	GS_UNPOISON(p, HEADER);
	memcpy(&h, p, sizeof(h));
	if (h.magic != SLOT_MAGIC)
		abort(); /* not ours, or a buffer underflow: never continue */
	if (h.size_class == LARGE_MAPPED || h.size_class == LARGE_MAPPED_HUGE) {
		/* a block in whole huge pages was used to its end (the arena) */
		size_t mapped = mapped_size(h.size + HEADER, h.size_class == LARGE_MAPPED_HUGE);

		locked_unmap(p, mapped, HEADER + (wipe < mapped - HEADER ? wipe : mapped - HEADER));
		return;
	}
	if (h.size_class == LARGE_SODIUM) {
		GS_UNPOISON(p, (h.size + HEADER + 15) & ~(size_t)15);
		sodium_free(p);
		return;
	}
	if (h.size_class >= POOL_CLASSES)
		abort();
	GS_UNPOISON(p, (size_t)1 << (POOL_MIN_SHIFT + h.size_class));
	sodium_memzero(p, (size_t)1 << (POOL_MIN_SHIFT + h.size_class));
	pthread_mutex_lock(&pool_lock);
	memcpy(p, &free_slots[h.size_class], sizeof(void *));
	free_slots[h.size_class] = p;
	GS_POISON(p, (size_t)1 << (POOL_MIN_SHIFT + h.size_class)); /* a use after free */
	pthread_mutex_unlock(&pool_lock);
}

void gs_secure_free(void *ptr)
{
	secure_free_wiping(ptr, SIZE_MAX);
}

enum { SECURE_GROWTH_SLOW = 1024 * 1024 };

/* posix_memalign on a huge page's boundary, counted as a plain allocation
 * (gitseal/alloc.h) by the test build's hook. */
static int posix_memalign_counted(void **p, size_t size)
{
#ifdef GITSEAL_TEST_HOOKS
	if (gs_alloc_refused())
		return ENOMEM;
#endif
	return posix_memalign(p, HUGE_PAGE, size);
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
	ENTRY();
	return gs_buf_reserve_upto(b, extra, SIZE_MAX);
}

int gs_buf_reserve_upto(struct gs_buf *b, size_t extra, size_t most)
{
	ENTRY();
	size_t want, cap;
	uint8_t *p;

	if (extra > SIZE_MAX - b->len - 1)
		return GS_FAIL(GS_ERR_NOMEM, "buffer size overflow");
	want = b->len + extra + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : b->secure ? 112 : 64;
	/* A secure buffer is resident to its last byte of capacity
	 * (sodium_malloc fills it) and is copied to grow, the old one alive
	 * meanwhile: past SECURE_GROWTH_SLOW it grows by a quarter, not
	 * double, so that a value of n bytes held in one takes about 2.25n at
	 * the copy instead of 3n, and 1.25n once grown instead of 2n. */
	while (cap < want) {
		if (cap > SIZE_MAX / 2)
			cap = want;
		else
			cap += b->secure && cap >= SECURE_GROWTH_SLOW ? cap / 4 : cap;
	}
	/* doubling past a known limit would map twice the memory ever needed */
	if (cap > most && want <= most)
		cap = most;
	if (b->secure) {
		p = gs_secure_alloc(cap);
		if (!p)
			return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
		if (b->data) {
			memcpy(p, b->data, b->len + 1);
			gs_secure_free(b->data);
		}
	} else if (!b->data && cap >= HUGE_PAGE / 2) {
		/* A large buffer made at once (a file read whole) is written
		 * to its last byte straight away: in huge pages, for the
		 * reason locked_map gives (1.4 MB read into 4 KiB pages: 2 ms
		 * of page faults on the bench's VM). In a heap laid out in
		 * huge pages for it (gitseal/heap.h) it takes what it needs,
		 * not its doubled capacity: the rest of its last huge page
		 * goes to the load's other blocks (the bench's 1.4 MB input in
		 * a 2 MiB block: 8 huge pages a decrypt, 7 without it). Else
		 * whole huge pages of its own. */
		size_t exact = (want + 4095) & ~(size_t)4095;
		size_t rounded = (cap + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		void *q;

		if (exact < want || rounded < cap || posix_memalign_counted(&q, exact) != 0)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		if (gs_heap_advised(q, exact)) {
			cap = exact;
		} else {
			free(q);
			if (posix_memalign_counted(&q, rounded) != 0)
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			(void)madvise(q, rounded, MADV_HUGEPAGE);
			cap = rounded;
		}
		p = q;
	} else {
		p = gs_realloc(b->data, cap);
		if (!p)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int gs_buf_append(struct gs_buf *b, const void *p, size_t n)
{
	ENTRY();
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
	ENTRY();
	return gs_buf_append(b, s, strlen(s));
}

int gs_buf_printf(struct gs_buf *b, const char *fmt, ...)
{
	ENTRY();
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
			gs_secure_free(b->data);
		} else {
			sodium_memzero(b->data, b->cap);
			gs_heap_give_back(b->data, b->cap);
			free(b->data);
		}
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

uint8_t *gs_buf_detach(struct gs_buf *b, size_t *len)
{
	ENTRY();
	uint8_t *p = b->data;

	if (!p && gs_buf_reserve(b, 0) == 0)
		p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/* An arena's first blocks fit the pool's slots (a small document costs no
 * system call); later ones double. */
enum { ARENA_BLOCK_MIN = 4096 - 64 };

/* Each new block is twice the last, up to ARENA_BLOCK_MAX: a large
 * document costs a few guarded mappings, a small one a single block, and
 * little locked memory is left unused at the end. */
enum { ARENA_BLOCK_MAX = 512 * 1024 };

/* The most a reservation (gs_arena_reserve) makes a block hold: past it the
 * blocks grow as above. An estimate from attacker input (a file of empty
 * lines) must not lock much more than a large document would use: the
 * 10,000 values of bench/sops_bench.sh reserve 3.9 MB. */
enum { ARENA_RESERVE_MAX = 16 * 1024 * 1024 };

struct gs_arena_block {
	struct gs_arena_block *next;
	size_t used;
	size_t cap;
	max_align_t data[];
};

void gs_arena_init(struct gs_arena *a)
{
	a->head = NULL;
	a->reserve = 0;
}

void gs_arena_reserve(struct gs_arena *a, size_t size)
{
	/* blocks up to the pool's largest slot cost no system call: a small
	 * document goes on growing through them */
	if (size <= ((size_t)1 << (POOL_MIN_SHIFT + POOL_CLASSES - 1)) - HEADER - sizeof(struct gs_arena_block))
		size = 0;
	a->reserve = size < ARENA_RESERVE_MAX ? size : ARENA_RESERVE_MAX;
}

/* Strings need no alignment: a document is mostly short strings, and
 * rounding each up to a max_align_t took a third of its memory. */
static void *arena_alloc_aligned(struct gs_arena *a, size_t size, size_t align)
{
	struct gs_arena_block *blk = a->head;
	size_t start, rounded, cap;
	void *p;

	if (size > SIZE_MAX / 2)
		return NULL;
	if (align < ARENA_GRANULE)
		align = ARENA_GRANULE;
	rounded = (size ? size : 1) + ARENA_REDZONE;
	start = blk ? (blk->used + align - 1) / align * align : 0;
	if (!blk || start > blk->cap || blk->cap - start < rounded) {
		cap = blk ? (blk->cap < ARENA_BLOCK_MAX / 2 ? blk->cap * 2 : ARENA_BLOCK_MAX) : ARENA_BLOCK_MIN;
		if (cap < a->reserve)
			cap = a->reserve;
		/* A string larger than a block gets a block of its own behind the
		 * current one: later small allocations go on filling the current
		 * block, and no block is sized after the large one (which took
		 * twice a large value's memory). */
		if (blk && rounded > cap) {
			struct gs_arena_block *big = gs_secure_alloc(sizeof(*big) + rounded);

			if (!big)
				return NULL;
			big->cap = big->used = rounded;
			big->next = blk->next;
			blk->next = big;
			GS_POISON((char *)big->data + size, rounded - size);
			return big->data;
		}
		if (cap < rounded)
			cap = rounded;
		blk = secure_alloc_usable(sizeof(*blk) + cap, &cap);
		if (!blk)
			return NULL;
		blk->next = a->head;
		blk->used = 0;
		blk->cap = cap - sizeof(*blk); /* a block in huge pages holds more */
		GS_POISON(blk->data, blk->cap);
		a->head = blk;
		a->reserve = 0;
		start = 0;
	}
	p = (char *)blk->data + start;
	blk->used = start + rounded;
	GS_UNPOISON(p, size);
	return p;
}

void *gs_arena_alloc(struct gs_arena *a, size_t size)
{
	ENTRY();
	return arena_alloc_aligned(a, size, alignof(max_align_t));
}

char *gs_arena_strndup(struct gs_arena *a, const char *s, size_t n)
{
	ENTRY();
	char *p = arena_alloc_aligned(a, n + 1, 1);

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
		/* nothing past used was ever handed out */
		secure_free_wiping(blk, sizeof(*blk) + blk->used);
		blk = next;
	}
	a->head = NULL;
	a->reserve = 0;
}
