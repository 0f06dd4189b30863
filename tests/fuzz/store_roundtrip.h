/* The body of the store fuzz targets (fuzz_yaml, fuzz_json, fuzz_dotenv,
 * fuzz_ini); the including file defines FUZZ_FORMAT.
 *
 * Loads arbitrary bytes, writes them back unchanged (the source must come
 * back byte for byte), then with every value and comment changed and the
 * sops metadata entry replaced (what encryption does), then in the fresh
 * layout; every output must load again: whatever a store accepts it must
 * write as text it accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/doc.h"
#include "gitseal/secmem.h"
#include "gitseal/store.h"

static void change_all(struct doc *d, struct doc_node *n, int depth)
{
	static const char enc[] = "ENC[AES256_GCM,data:abc=,iv:def=,tag:ghi=,type:str]";

	for (size_t i = 0; i < n->count && depth < 300; i++) {
		struct doc_node *v = n->entries[i].value;

		if (v->kind == DOC_MAP || v->kind == DOC_LIST) {
			change_all(d, v, depth + 1);
		} else if (v->len) {
			/* cycle the value through the text it had, or a sample */
			if (doc_scalar_set(d, v, (i & 1) ? v->type : DOC_STR, (i & 1) ? v->text : enc,
					   (i & 1) ? v->len : sizeof(enc) - 1))
				abort();
		}
	}
}

static void reload(const struct gs_buf *out)
{
	struct doc again;

	doc_init(&again, FUZZ_FORMAT);
	if (store_load(FUZZ_FORMAT, out->data, out->len, &again))
		abort();
	doc_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct gs_buf out;
	struct doc d;

	if (!ready) {
		if (gs_crypto_init())
			abort();
		ready = 1;
	}
	doc_init(&d, FUZZ_FORMAT);
	if (store_load(FUZZ_FORMAT, data, size, &d) == 0 && d.count > 0) {
		struct doc_entry *meta = doc_map_find(d.branches[0], "sops");

		gs_buf_init(&out, true);
		if (store_emit(&d, FUZZ_FORMAT, NULL, &out) == 0) {
			if (out.len != size || memcmp(out.data, data, size) != 0)
				abort();
			reload(&out);
		}
		gs_buf_reset(&out);
		for (size_t b = 0; b < d.count; b++)
			change_all(&d, d.branches[b], 0);
		if (meta) {
			struct doc_node *copy = doc_clone(&d, meta->value);

			meta->removed = true;
			if (!copy || !doc_append(&d, d.branches[0], "sops", 4, copy))
				abort();
		}
		if (store_emit(&d, FUZZ_FORMAT, NULL, &out) == 0)
			reload(&out);
		gs_buf_release(&out);
		/* fresh layout */
		gs_buf_init(&out, true);
		gs_buf_release(&d.source);
		if (store_emit(&d, FUZZ_FORMAT, NULL, &out) == 0)
			reload(&out);
		gs_buf_release(&out);
	}
	doc_release(&d);
	return 0;
}
