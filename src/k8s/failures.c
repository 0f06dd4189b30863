#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "k8s_int.h"

int k8s_failure_add(struct k8s_failures *f, const char *fmt, ...)
{
	va_list ap;
	int ret, n;

	if ((ret = GS_ARRAY_GROW(f->lines, f->count, f->cap, 8)) < 0)
		return ret;
	va_start(ap, fmt);
	n = gs_vasprintf(&f->lines[f->count], fmt, ap);
	va_end(ap);
	if (n < 0)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	f->count++;
	return 0;
}

void k8s_failures_release(struct k8s_failures *f)
{
	for (size_t i = 0; i < f->count; i++)
		free(f->lines[i]);
	free(f->lines);
	f->lines = NULL;
	f->count = 0;
	f->cap = 0;
}
