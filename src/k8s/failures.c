#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "k8s_int.h"

int k8s_failure_add(struct k8s_failures *f, const char *fmt, ...)
{
	va_list ap;
	char *line = NULL;
	char **grown;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	grown = realloc(f->lines, (f->count + 1) * sizeof(*grown));
	if (!grown) {
		free(line);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	f->lines = grown;
	f->lines[f->count++] = line;
	return 0;
}

void k8s_failures_release(struct k8s_failures *f)
{
	for (size_t i = 0; i < f->count; i++)
		free(f->lines[i]);
	free(f->lines);
	f->lines = NULL;
	f->count = 0;
}
