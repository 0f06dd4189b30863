/* malloc's heap in huge pages for a large input.
 *
 * On the virtual machines gitseal is measured on, the first touch of a
 * 4 KiB page costs about 10 us; loading the 1.4 MB file of the sops bench
 * touched some 900 pages of malloc's memory (the lexer's tokens, the cut
 * list, the leaves to decrypt), a fifth of decrypt's time. glibc can keep
 * its heap in transparent huge pages (the tunable glibc.malloc.hugetlb),
 * but only when set in the environment at start-up. This does the same
 * from inside, once a large input is known: blocks up to 32 MiB stay in
 * the heap (not an mmap each, touched page by page), the heap grows once
 * by several times the input, and what it grew by is advised for huge
 * pages (one fault for each 2 MiB). Nothing here holds secrets: those
 * live in gs_secure_alloc's locked mappings. */
#include <malloc.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gitseal/alloc.h"
#include "gitseal/heap.h"

#define HUGE_PAGE ((uintptr_t)2 * 1024 * 1024)

enum {
	HEAP_MIN_INPUT = 256 * 1024,      /* below it, 4 KiB pages cost less */
	HEAP_MMAP_THRESHOLD = 32 << 20,   /* glibc's most on 64-bit systems */
	/* A load takes about 4x its input, and up to 7x with the fast YAML
	 * path's event list (branch yfast: its doubling array outgrew a
	 * step of 6x, and the heap past the step grew in 4 KiB pages, 700
	 * page faults more): room above it. What is not touched costs
	 * nothing but address space. */
	HEAP_GROWTH_PER_BYTE = 12,
	HEAP_MAX_STEP = 64 << 20,
	HEAP_USE_PER_BYTE = 3,            /* the bench's decrypt: 4.6 MB for 1.4 MB, the input's block in */
	/* A block given back faults in again where malloc reuses it (about
	 * 10 us a 4 KiB page on the bench's VM): only blocks of a size the
	 * 16 MiB of slack in the memory bound (docs/threat-model.md) would
	 * not absorb; the sops bench's 1.4 MB input stays as it was. */
	HEAP_GIVE_BACK_MIN = 4 << 20,
};

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/* Held for the life of the process, never touched past its header: the
 * heap's free top then starts on a huge page's boundary, where the blocks
 * that come next are carved (else up to 2 MiB of them in small pages). */
static void *volatile align_filler; /* volatile: else unread, its malloc goes */

/* The huge pages of the heap a load is expected to fill (gs_heap_prefault):
 * set before any thread that populates them is made. */
static uintptr_t expected_lo;
static size_t expected_len;
/* The part advised for huge pages, [advised_lo, advised_hi). */
static _Atomic uintptr_t advised_lo, advised_hi;

void gs_heap_expect(size_t bytes)
{
	static atomic_bool done;
	size_t step;
	uintptr_t top, lo, hi;
	void *grow;

	if (bytes < HEAP_MIN_INPUT || atomic_exchange(&done, true))
		return;
	step = bytes < HEAP_MAX_STEP / HEAP_GROWTH_PER_BYTE ? bytes * HEAP_GROWTH_PER_BYTE : HEAP_MAX_STEP;
	(void)mallopt(M_MMAP_THRESHOLD, HEAP_MMAP_THRESHOLD);
	(void)mallopt(M_TRIM_THRESHOLD, (int)(2 * step));
	/* the free top of the heap: [top, the break) */
	top = (uintptr_t)sbrk(0) - mallinfo2().keepcost;
	lo = (top + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	if (lo - top > 4096)
		align_filler = gs_malloc(lo - top - 4 * sizeof(size_t));
	/* one block of the whole step, freed: the heap's top is that large */
	if (!(grow = gs_malloc(step)))
		return;
	free(grow);
	hi = (uintptr_t)sbrk(0) & ~(HUGE_PAGE - 1);
	/* the heap could not grow where it is (malloc took an mmap): nothing
	 * to advise */
	if (hi > lo) {
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
		atomic_store(&advised_lo, lo);
		atomic_store(&advised_hi, hi);
		expected_lo = lo;
		/* the huge pages the load will touch: the last one too */
		expected_len = (bytes * HEAP_USE_PER_BYTE + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		if (expected_len > hi - lo)
			expected_len = hi - lo;
	}
}

/* On this VM the first touch of a huge page costs 0.1-0.3 ms, and 2-4 ms
 * once free page reporting (virtio-balloon) has given the block back to
 * the host after a few seconds idle: paid by whichever thread touches it
 * first. A thread with nothing else to do yet (libcrypto's warming)
 * populates the ones the load will fill, while the caller reads its
 * input: off the load's path when the two run on two CPUs, the same CPU
 * time when they share one. The heap's free top holds nothing: populated
 * pages are zero, as malloc expects of fresh memory. */
void gs_heap_prefault(void)
{
	if (expected_len)
		(void)madvise((void *)expected_lo, expected_len, MADV_POPULATE_WRITE);
}

bool gs_heap_advised(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p, lo = atomic_load(&advised_lo), hi = atomic_load(&advised_hi);

	return lo && a >= lo && a <= hi && n <= hi - a;
}

void gs_heap_give_back(void *p, size_t n)
{
	uintptr_t page = 4096, lo = ((uintptr_t)p + page - 1) & ~(page - 1),
		  hi = ((uintptr_t)p + n) & ~(page - 1);

	/* a block mapped apart (past the mmap threshold) is unmapped by
	 * free: the call is only wasted there */
	if (n >= HEAP_GIVE_BACK_MIN && hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* A thread's first malloc makes it an arena of its own: a heap mapped
 * apart and touched 4 KiB at a time. libyaml's thread in the sops bench's
 * 10,000-value decrypt faulted in some 130 pages of it (368 page faults
 * against 235 with one arena, as many as with no second thread; futex
 * calls alike, 91-132 either way). One arena for the process: threads
 * made from here on share the main heap. Set before they are made, as a
 * thread keeps the arena its first malloc took. */
void gs_heap_share(void)
{
	(void)mallopt(M_ARENA_MAX, 1);
}
