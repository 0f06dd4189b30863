/* The YAML loaders against the reader of record, yaml_load_whole (libyaml
 * reading every byte, the syntax layer; never yaml_fast.c):
 * - the proof's reload (store_load_data: the tree without its syntax layer
 *   where the text allows; libyaml's events only): the same verdict, the
 *   same error message, the same tree;
 * - yaml_load (runs of base64 left out of what libyaml reads where it can,
 *   yaml_elide.c; the events from yaml_fast.c where the text has the shape
 *   gitseal writes): all that, and the same tokens and records, and the
 *   same bytes written with every string value changed. The seeds include
 *   files gitseal and sops wrote, which yaml_fast.c takes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/secmem.h"
#include "gitseal/store.h"

#include "../../src/store/yaml_int.h"

static void fail(const char *what)
{
	fprintf(stderr, "%s\n", what);
	abort();
}

static void set_strings(struct doc *d, struct doc_node *n)
{
	if (n->kind == DOC_MAP || n->kind == DOC_LIST) {
		for (size_t i = 0; i < n->count; i++)
			set_strings(d, n->entries[i].value);
	} else if (n->kind == DOC_SCALAR && n->type == DOC_STR && doc_scalar_set(d, n, DOC_STR, "ENC[x]", 6)) {
		fail("doc_scalar_set failed");
	}
}

static void same_output(struct doc *a, struct doc *b)
{
	struct store_emit_opts opts = { 0 };
	struct gs_buf x, y;
	int rx, ry;

	gs_buf_init(&x, true);
	gs_buf_init(&y, true);
	rx = store_emit(a, DOC_FORMAT_YAML, &opts, &x);
	gs_error_clear();
	ry = store_emit(b, DOC_FORMAT_YAML, &opts, &y);
	gs_error_clear();
	if (rx != ry || x.len != y.len || (x.len && memcmp(x.data, y.data, x.len) != 0))
		fail("yaml_load and yaml_load_whole: the bytes written differ");
	gs_buf_release(&x);
	gs_buf_release(&y);
}

static void same_syntax(struct doc *cut, struct doc *whole)
{
	const struct yaml_syntax *a = yaml_syntax_of(cut), *b = yaml_syntax_of(whole);
	char where[256];

	if (!a || !b || cut->count != whole->count || !doc_equal(cut, whole, where, sizeof(where)))
		fail("yaml_load and yaml_load_whole: the trees differ");
	if (a->lx.n != b->lx.n || a->trusted != b->trusted || a->step != b->step || !yaml_records_equal(a, b))
		fail("yaml_load and yaml_load_whole: the records differ");
	for (size_t i = 0; i < a->lx.n; i++)
		if (a->lx.v[i].start != b->lx.v[i].start || a->lx.v[i].end != b->lx.v[i].end ||
		    a->lx.v[i].kind != b->lx.v[i].kind)
			fail("yaml_load and yaml_load_whole: the tokens differ");
	same_output(cut, whole);
	for (size_t i = 0; i < cut->count; i++) {
		set_strings(cut, cut->branches[i]);
		set_strings(whole, whole->branches[i]);
	}
	same_output(cut, whole);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct doc full, tree, cut;
	char msg[1024], where[256];
	int a, b, c;

	if (!ready) {
		if (gs_crypto_init())
			abort();
		ready = 1;
	}
	doc_init(&full, DOC_FORMAT_YAML);
	doc_init(&tree, DOC_FORMAT_YAML);
	doc_init(&cut, DOC_FORMAT_YAML);
	a = yaml_load_whole(data, size, &full);
	snprintf(msg, sizeof(msg), "%s", a ? gs_error_message() : "");
	gs_error_clear();
	b = yaml_load_data(data, size, &tree);
	if (a != b || (a && strcmp(msg, gs_error_message()) != 0)) {
		fprintf(stderr, "yaml_load_whole %d (%s), yaml_load_data %d (%s)\n", a, msg, b,
			b ? gs_error_message() : "");
		abort();
	}
	if (!a && !doc_equal(&full, &tree, where, sizeof(where))) {
		fprintf(stderr, "the trees differ at %s\n", where);
		abort();
	}
	gs_error_clear();
	c = yaml_load(data, size, &cut);
	if (a != c || (a && strcmp(msg, gs_error_message()) != 0)) {
		fprintf(stderr, "yaml_load_whole %d (%s), yaml_load %d (%s)\n", a, msg, c,
			c ? gs_error_message() : "");
		abort();
	}
	gs_error_clear();
	if (!a)
		same_syntax(&cut, &full);
	doc_release(&full);
	doc_release(&tree);
	doc_release(&cut);
	return 0;
}
