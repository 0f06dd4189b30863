/* The proof's reload (store_load_data: the YAML tree without its syntax
 * layer where the text allows) against the reader of record (store_load):
 * the same verdict, the same error message, the same tree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/secmem.h"
#include "gitseal/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct doc full, tree;
	char msg[1024], where[256];
	int a, b;

	if (!ready) {
		if (gs_crypto_init())
			abort();
		ready = 1;
	}
	doc_init(&full, DOC_FORMAT_YAML);
	doc_init(&tree, DOC_FORMAT_YAML);
	a = store_load(DOC_FORMAT_YAML, data, size, &full);
	snprintf(msg, sizeof(msg), "%s", a ? gs_error_message() : "");
	gs_error_clear();
	b = store_load_data(DOC_FORMAT_YAML, data, size, &tree);
	if (a != b || (a && strcmp(msg, gs_error_message()) != 0)) {
		fprintf(stderr, "store_load %d (%s), store_load_data %d (%s)\n", a, msg, b,
			b ? gs_error_message() : "");
		abort();
	}
	if (!a && !doc_equal(&full, &tree, where, sizeof(where))) {
		fprintf(stderr, "the trees differ at %s\n", where);
		abort();
	}
	gs_error_clear();
	doc_release(&full);
	doc_release(&tree);
	return 0;
}
