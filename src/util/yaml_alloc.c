/* The test build's hook into libyaml's allocations.
 *
 * libyaml allocates with malloc, realloc and strdup (its api.c, the only
 * file of it that calls them) and takes no allocator. The test build
 * (SAN=1) links libyaml's archive as one object made with `ld -r --wrap`
 * (the Makefile's YAML_HOOKED): its calls to those three come here, and
 * gs_lib_alloc_refused may refuse one. gitseal's own code and libsodium
 * still call the C library's. The site is the return address: yaml_malloc
 * and its siblings end in a tail call, so it is the line of libyaml that
 * asked. */
#ifdef GITSEAL_TEST_HOOKS
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"

/* the names `ld --wrap` gives the calls */
void *__wrap_malloc(size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);

void *__wrap_malloc(size_t size)
{
	return gs_lib_alloc_refused(__builtin_return_address(0), 0) ? NULL : malloc(size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return gs_lib_alloc_refused(__builtin_return_address(0), 0) ? NULL : realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	return gs_lib_alloc_refused(__builtin_return_address(0), 0) ? NULL : strdup(s);
}
#endif
