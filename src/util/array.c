#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"

int gs_array_grow(void *array_ptr, size_t *cap, size_t count, size_t item_size, size_t first)
{
	void *items, *grown;
	size_t ncap;

	if (count < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : first;
	if (ncap <= count || ncap > SIZE_MAX / item_size)
		return GS_FAIL(GS_ERR_NOMEM, "array too large");
	/* the pointer is copied, not read through a void **: any object
	 * pointer type has the representation of void * (POSIX) */
	memcpy(&items, array_ptr, sizeof(items));
	if (!(grown = gs_realloc(items, ncap * item_size)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	memcpy(array_ptr, &grown, sizeof(grown));
	*cap = ncap;
	return 0;
}

int gs_strings_push(char ***list, size_t *count, const char *s, size_t len)
{
	char **grown = gs_realloc(*list, (*count + 1) * sizeof(*grown));

	if (!grown)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	*list = grown;
	if (!(grown[*count] = gs_strndup(s, len)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	(*count)++;
	return 0;
}
