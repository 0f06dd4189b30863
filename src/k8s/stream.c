#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "k8s_int.h"

bool k8s_text_is_blank(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r'))
			i++;
		if (i < len && text[i] == '#') {
			while (i < len && text[i] != '\n')
				i++;
		}
		if (i < len && text[i] != '\n')
			return false;
		i++;
	}
	return true;
}

/* YAML 1.2, 9.1.1: a document marker is "---" or "..." at the start of a
 * line, followed by a blank or the end of the line. */
static bool is_marker(const char *p, size_t left, char c)
{
	if (left < 3 || p[0] != c || p[1] != c || p[2] != c)
		return false;
	return left == 3 || p[3] == ' ' || p[3] == '\t' || p[3] == '\n' || p[3] == '\r';
}

static int push(struct k8s_span **v, size_t *count, size_t *cap, const char *text, size_t start,
		size_t end)
{
	if (k8s_text_is_blank(text + start, end - start))
		return 0;
	if (*count >= K8S_MAX_DOCS)
		return GS_FAIL(GS_ERR_LIMIT, "more than %d documents in one stream", K8S_MAX_DOCS);
	if (*count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct k8s_span *g = realloc(*v, ncap * sizeof(*g));

		if (!g)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		*v = g;
		*cap = ncap;
	}
	(*v)[*count].start = start;
	(*v)[*count].end = end;
	(*count)++;
	return 0;
}

int k8s_stream_split(const char *text, size_t len, struct k8s_span **out, size_t *count)
{
	struct k8s_span *v = NULL;
	size_t n = 0, cap = 0, start = 0, pos = 0;
	int ret = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t line_end = nl ? (size_t)(nl - text) + 1 : len;
		bool dashes = is_marker(text + pos, len - pos, '-');

		if (dashes || is_marker(text + pos, len - pos, '.')) {
			ret = push(&v, &n, &cap, text, start, pos);
			if (ret)
				goto out;
			/* "--- value" keeps its content with the new document */
			start = dashes ? pos + 3 : line_end;
		}
		pos = line_end;
	}
	ret = push(&v, &n, &cap, text, start, len);
out:
	if (ret) {
		free(v);
		return ret;
	}
	*out = v;
	*count = n;
	return 0;
}
