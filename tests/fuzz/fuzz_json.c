/* Loads arbitrary bytes as JSON, writes them back (patch mode, then with
 * every scalar changed, then fresh), and reloads each output: whatever the
 * store accepts it must write as text it accepts again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/doc.h"
#include "gitseal/store.h"

static void change_all(struct doc *d, struct doc_node *n, int depth)
{
	static const char enc[] = "ENC[AES256_GCM,data:abc=,iv:def=,tag:ghi=,type:str]";

	for (size_t i = 0; i < n->count && depth < 300; i++) {
		struct doc_node *v = n->entries[i].value;

		if (v->kind == DOC_MAP || v->kind == DOC_LIST) {
			change_all(d, v, depth + 1);
		} else if (v->kind == DOC_SCALAR && v->len) {
			/* cycle the value through the text it had */
			if (doc_scalar_set(d, v, (i & 1) ? v->type : DOC_STR, (i & 1) ? v->text : enc,
					   (i & 1) ? v->len : sizeof(enc) - 1))
				abort();
		}
	}
}

static void reload(const struct gs_buf *out)
{
	struct doc again;

	doc_init(&again, DOC_FORMAT_JSON);
	if (store_load(DOC_FORMAT_JSON, out->data, out->len, &again))
		abort();
	doc_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct store_emit_opts opts = { .indent = -1 };
	struct gs_buf out;
	struct doc d;

	if (!ready) {
		if (gs_crypto_init())
			abort();
		ready = 1;
	}
	doc_init(&d, DOC_FORMAT_JSON);
	if (store_load(DOC_FORMAT_JSON, data, size, &d) == 0 && d.count > 0) {
		gs_buf_init(&out, true);
		if (store_emit(&d, DOC_FORMAT_JSON, &opts, &out) == 0) {
			/* unchanged: the source comes back byte for byte */
			if (out.len != size || memcmp(out.data, data, size) != 0)
				abort();
			reload(&out);
		}
		gs_buf_reset(&out);
		out.len = 0;
		for (size_t b = 0; b < d.count; b++)
			change_all(&d, d.branches[b], 0);
		if (store_emit(&d, DOC_FORMAT_JSON, &opts, &out) == 0)
			reload(&out);
		gs_buf_release(&out);
		/* fresh layout */
		gs_buf_init(&out, true);
		gs_buf_release(&d.source);
		if (store_emit(&d, DOC_FORMAT_JSON, &opts, &out) == 0)
			reload(&out);
		gs_buf_release(&out);
	}
	doc_release(&d);
	return 0;
}
