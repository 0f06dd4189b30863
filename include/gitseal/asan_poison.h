/* Marking memory a module hands out itself (arenas, spare arrays) as not
 * addressable under AddressSanitizer, so that a stale pointer into it is
 * reported; nothing in other builds. */
#ifndef GITSEAL_ASAN_POISON_H
#define GITSEAL_ASAN_POISON_H

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GS_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(GS_ASAN)
#define GS_ASAN 1
#endif

#ifdef GS_ASAN
#include <sanitizer/asan_interface.h>
#define GS_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define GS_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define GS_POISON(p, n) ((void)0)
#define GS_UNPOISON(p, n) ((void)0)
#endif

#endif
