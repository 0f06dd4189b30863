#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/sops.h"
#include "k8s_int.h"

/* Kubernetes manifests are indented by 2 (kubectl, kustomize) */
enum { K8S_INDENT = 2 };

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
		struct k8s_span *g = gs_realloc(*v, ncap * sizeof(*g));

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
			start = dashes && !k8s_text_is_blank(text + pos + 3, line_end - pos - 3) ? pos + 3
												 : line_end;
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

/* The joint before a document's text: none first; "---" starts the next
 * document unless the text starts with its own marker; directives
 * ("%YAML") may only follow a document ended with "...". */
static const char *joint(size_t docs, const uint8_t *text, size_t len)
{
	if (!docs || is_marker((const char *)text, len, '-'))
		return "";
	return len && text[0] == '%' ? "...\n" : "---\n";
}

int k8s_stream_append(struct gs_buf *out, size_t *docs, const uint8_t *text, size_t len,
		      size_t text_docs)
{
	int ret;

	/* a line break added after a block scalar at the end would become its
	 * text: such a document is written again (k8s_stream_append_plain) */
	if (!len || text[len - 1] != '\n')
		return GS_FAIL(GS_ERR_VERIFY, "a document that does not end with a line break");
	if ((ret = gs_buf_append_str(out, joint(*docs, text, len))) || (ret = gs_buf_append(out, text, len)))
		return ret;
	*docs += text_docs;
	return 0;
}

int k8s_stream_plain_text(struct doc *plain, struct gs_buf *text)
{
	struct sops_emit_opts eo = { .indent = K8S_INDENT, .drop_source = true };
	int ret = sops_plain_emit(plain, DOC_FORMAT_YAML, &eo, text);

	/* the file's own layout without a final line break: the fresh one
	 * (drop_source left no source to lay out) ends every line */
	if (!ret && text->len && text->data[text->len - 1] != '\n') {
		gs_buf_release(&plain->source);
		gs_buf_init(&plain->source, true);
		ret = sops_plain_emit(plain, DOC_FORMAT_YAML, &eo, text);
	}
	return ret;
}

int k8s_stream_append_plain(struct gs_buf *out, size_t *docs, struct doc *plain)
{
	struct gs_buf text;
	int ret;

	gs_buf_init(&text, true);
	if ((ret = k8s_stream_plain_text(plain, &text)))
		goto out;
	ret = k8s_stream_append(out, docs, text.data, text.len, plain->count);
out:
	gs_buf_release(&text);
	return ret;
}

/* A document of the input as it was written; one that does not end with
 * a line break is written again, proven (a line break added after a block
 * scalar at its end would become its text). */
int k8s_stream_append_source(struct gs_buf *out, size_t *docs, struct doc *d, const uint8_t *text,
			     size_t len)
{
	if (len && text[len - 1] == '\n')
		return k8s_stream_append(out, docs, text, len, d->count);
	return k8s_stream_append_plain(out, docs, d);
}
