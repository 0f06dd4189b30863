/* Growable arrays: the one way gitseal makes room in a malloc'd array
 * (`items`, `count` used, `cap` allocated), so that the doubling, its
 * first size and the overflow check are written once. */
#ifndef GITSEAL_ARRAY_H
#define GITSEAL_ARRAY_H

#include <stddef.h>

/* Makes room for one more item: when count has reached *cap, the array at
 * *array_ptr (the address of the array pointer, of any item type) grows to
 * twice its capacity, or to first items the first time. GS_ERR_NOMEM, the
 * array unchanged, when it cannot. */
int gs_array_grow(void *array_ptr, size_t *cap, size_t count, size_t item_size, size_t first)
	__attribute__((warn_unused_result));

/* gs_array_grow for an array expression whose items' size is known. */
#define GS_ARRAY_GROW(items, count, cap, first) gs_array_grow(&(items), &(cap), (count), sizeof(*(items)), (first))

/* Appends a malloc'd copy of the len bytes at s (a string is made of
 * them) to the string list *list of *count items. GS_ERR_NOMEM, the list
 * unchanged, when it cannot. */
int gs_strings_push(char ***list, size_t *count, const char *s, size_t len)
	__attribute__((warn_unused_result));

#endif
