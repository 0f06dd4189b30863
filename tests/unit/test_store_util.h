/* Helpers shared by the store tests. */
#ifndef TEST_STORE_UTIL_H
#define TEST_STORE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/store.h"

#define ENC_SAMPLE "ENC[AES256_GCM,data:abc=,iv:def=,tag:ghi=,type:str]"

static inline void load_ok(enum doc_format f, const char *text, struct doc *d)
{
	int ret;

	doc_init(d, f);
	ret = store_load(f, (const uint8_t *)text, strlen(text), d);
	if (ret)
		fail_msg("load failed: %s\n---\n%s", gs_error_message(), text);
}

static inline int load_err(enum doc_format f, const char *text)
{
	struct doc d;
	int ret;

	doc_init(&d, f);
	ret = store_load(f, (const uint8_t *)text, strlen(text), &d);
	doc_release(&d);
	return ret;
}

/* Emits d into a fresh secure buffer; caller releases. */
static inline void emit_ok(const struct doc *d, enum doc_format f, int indent, struct gs_buf *out)
{
	struct store_emit_opts o = { .indent = indent };
	int ret;

	gs_buf_init(out, true);
	ret = store_emit(d, f, &o, out);
	if (ret)
		fail_msg("emit failed: %s", gs_error_message());
}

static inline void assert_text(const struct gs_buf *b, const char *want)
{
	if (b->len != strlen(want) || memcmp(b->data, want, b->len) != 0)
		fail_msg("output differs\n--- got\n%.*s\n--- want\n%s", (int)b->len,
			 (const char *)b->data, want);
}

/* Every scalar, in walk order. */
struct scalar_list {
	struct doc_node **v;
	size_t n;
};

static inline void collect(struct doc_node *n, struct scalar_list *l, bool comments)
{
	for (size_t i = 0; i < n->count; i++) {
		struct doc_node *v = n->entries[i].value;

		if (n->entries[i].removed)
			continue;
		if (v->kind == DOC_MAP || v->kind == DOC_LIST) {
			collect(v, l, comments);
			continue;
		}
		if (v->kind == DOC_COMMENT && !comments)
			continue;
		l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = v;
	}
}

static inline struct doc_entry *find(struct doc_node *map, const char *key)
{
	struct doc_entry *e = doc_map_find(map, key);

	if (!e)
		fail_msg("no key '%s'", key);
	return e;
}

#endif
