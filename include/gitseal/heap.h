/* malloc's heap sized for a large input before it is loaded. */
#ifndef GITSEAL_HEAP_H
#define GITSEAL_HEAP_H

#include <stdbool.h>
#include <stddef.h>

/* Tells malloc a text of `bytes` is about to be loaded: for a large one
 * the heap grows once, in transparent huge pages, instead of page by
 * page. Once per process; nothing for a small input. */
void gs_heap_expect(size_t bytes);

/* Populates the huge pages of the heap a load of the size gs_heap_expect
 * was told is expected to fill; for a thread that would wait otherwise.
 * Nothing when gs_heap_expect did nothing. */
void gs_heap_prefault(void);

/* Whether the n bytes at p lie in the part of the heap gs_heap_expect
 * advised for huge pages. */
bool gs_heap_advised(const void *p, size_t n);

/* Gives the pages inside the n bytes at p (a block of malloc's, about to
 * be freed) back to the system when the block is large: gs_heap_expect
 * keeps blocks up to 32 MiB in the heap and never trims it, so a large
 * input freed after its load stayed resident beside all that came after
 * (the proof's second tree and output are in locked memory, not the
 * heap): a step of 1x the input in the peak of inputs up to 32 MiB. */
void gs_heap_give_back(void *p, size_t n);

/* Threads made after this take their blocks from the main heap (the one
 * gs_heap_expect lays in huge pages), not from an arena of their own. */
void gs_heap_share(void);

#endif
