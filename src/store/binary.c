/* Binary store (sops stores/json: BinaryStore; spec 5.9): a plaintext file
 * is one string leaf `data` holding every byte; the encrypted form is a
 * JSON sops file {"data": "ENC[...]", "sops": {...}}. */
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/store.h"
#include "store_int.h"

static bool has_sops_map(const struct doc *d)
{
	const struct doc_entry *e;

	if (d->count != 1 || !d->branches[0] || d->branches[0]->kind != DOC_MAP)
		return false;
	e = doc_map_find(d->branches[0], SOPS_METADATA_KEY);
	return e && e->value->kind == DOC_MAP;
}

/* The store cannot be told whether it reads a plaintext or an encrypted
 * file: JSON with a top-level sops mapping is taken as encrypted (such a
 * file would count as already encrypted anyway), anything else as data. */
int store_binary_load(const uint8_t *text, size_t len, struct doc *d)
{
	struct doc_node *root, *data;
	struct gs_buf source;
	bool share = d->share_source;
	int ret;

	if (len > STORE_MAX_INPUT)
		return GS_FAIL(GS_ERR_LIMIT, "input larger than %d bytes", STORE_MAX_INPUT);
	if (len && memchr(text, '{', len) && store_json_load(text, len, d) == 0 && has_sops_map(d)) {
		d->format = DOC_FORMAT_BINARY;
		return 0;
	}
	gs_error_clear();
	/* the source handed over by store_load_buf outlives the JSON attempt */
	source = d->source;
	if (text && text == source.data)
		gs_buf_init(&d->source, source.secure);
	doc_release(d);
	doc_init(d, DOC_FORMAT_BINARY);
	d->share_source = share;
	if (text && text == source.data) {
		gs_buf_release(&d->source);
		d->source = source;
	}
	if ((ret = store_take_source(d, text, len)) < 0)
		return ret;
	root = doc_new_map(d);
	data = doc_new_scalar_at(d, DOC_STR, 0, len);
	if (!root || !data || !doc_append(d, root, "data", 4, data))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	data->span = (struct doc_span){ 0, len };
	ret = doc_add_branch(d, root);
	return ret;
}

int store_binary_emit(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out)
{
	const struct doc_entry *e;

	if (d->count == 0 || !d->branches[0] || d->branches[0]->kind != DOC_MAP)
		return GS_FAIL(GS_ERR_EMPTY_INPUT, "no document to write");
	/* encrypted: the JSON layout (EmitEncryptedFile) */
	if (has_sops_map(d)) {
		return store_json_emit(d, opts, out);
	}
	/* plaintext: the bytes of `data` (EmitPlainFile) */
	e = doc_map_find(d->branches[0], "data");
	if (!e || e->value->kind != DOC_SCALAR)
		return GS_FAIL(GS_ERR_PARSE, "no binary data found in tree");
	return gs_buf_append(out, e->value->text, e->value->len) ? GS_FAIL(GS_ERR_NOMEM, "out of memory")
								 : 0;
}
