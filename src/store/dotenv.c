/* dotenv store (sops stores/dotenv; spec 5.7, 6.3): one line per value,
 * split at the first '='; key and value verbatim except that the two
 * characters \n stand for a newline; '#' lines are comments. The sops
 * metadata is flattened into sops_* keys after the data. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/store.h"
#include "store_int.h"

static const char prefix[] = SOPS_DOTENV_PREFIX;
#define PREFIX_LEN (sizeof(prefix) - 1)

/* Appends s with every newline written as the two characters \n. */
static int put_escaped(struct gs_buf *out, const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\n')
			continue;
		if (store_put(out, s + run, i - run) || store_put(out, "\\n", 2))
			return GS_ERR_NOMEM;
		run = i + 1;
	}
	return store_put(out, s + run, n - run);
}

/* One load: the document, its map, the source, and the sops_ lines met
 * (sops ExtractMetadata, MetadataFlattenFull), unflattened at the end. */
struct dotenv_loader {
	struct doc *d;
	struct doc_node *root;
	const char *s;
	struct store_flat_item *meta;
	size_t meta_count, meta_cap;
	size_t meta_start;          /* where the first sops_ line starts */
	struct gs_buf val;          /* one value, its \n escapes undone */
};

static int load_comment(struct dotenv_loader *l, size_t ls, size_t le)
{
	struct doc_node *n = doc_new_comment(l->d, l->s + ls + 1, le - ls - 1);

	if (!n || !doc_append(l->d, l->root, NULL, 0, n))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	n->span = (struct doc_span){ ls, le };
	return 0;
}

/* The value after '=' up to le, "\n" read as a line break (sops
 * dotenv: the only escape). */
static int load_value(struct dotenv_loader *l, const char *eq, size_t le, struct doc_node **out)
{
	size_t start = (size_t)(eq + 1 - l->s);
	int ret;

	/* no escape: the value is its text (shared with the source or copied
	 * once, not built in l->val first) */
	if (!memchr(eq + 1, '\\', le - start)) {
		if (!(*out = doc_new_scalar_at(l->d, DOC_STR, start, le - start)))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		(*out)->span = (struct doc_span){ start, le };
		return 0;
	}
	gs_buf_reset(&l->val);
	/* the text between escapes in one piece: a byte at a time was most of
	 * the proof's reload of a sealed file */
	for (const char *p = eq + 1, *end = l->s + le; p < end;) {
		const char *bs = memchr(p, '\\', (size_t)(end - p));
		const char *run_end = bs ? bs : end;
		bool escape = bs && bs + 1 < end && bs[1] == 'n';

		if ((ret = store_put(&l->val, p, (size_t)(run_end - p))) < 0 ||
		    (bs && (ret = store_put(&l->val, escape ? "\n" : bs, 1)) < 0))
			return ret;
		p = bs ? bs + 1 + escape : end;
	}
	if (!(*out = doc_new_scalar(l->d, DOC_STR, (const char *)l->val.data, l->val.len)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	(*out)->span = (struct doc_span){ (size_t)(eq + 1 - l->s), le };
	return 0;
}

/* KEY=VALUE on [ls, le); next is where the following line starts. */
static int load_pair(struct dotenv_loader *l, size_t ls, size_t le, size_t next, size_t line_no)
{
	const char *eq = memchr(l->s + ls, '=', le - ls);
	size_t key_len = eq ? (size_t)(eq - l->s) - ls : 0;
	struct doc_node *n;
	struct doc_entry *e;
	int ret;

	if (!eq)
		return GS_FAIL(GS_ERR_PARSE, "invalid dotenv input at line %zu: no '='", line_no);
	if ((ret = load_value(l, eq, le, &n)) < 0)
		return ret;
	if (key_len >= PREFIX_LEN && memcmp(l->s + ls, prefix, PREFIX_LEN) == 0) {
		if ((ret = GS_ARRAY_GROW(l->meta, l->meta_count, l->meta_cap, 8)) < 0 ||
		    (ret = store_meta_ranges_add(l->d, ls, next)) < 0)
			return ret;
		l->meta[l->meta_count++] = (struct store_flat_item){ l->s + ls + PREFIX_LEN, key_len - PREFIX_LEN, n };
		if (l->meta_start == DOC_NO_POS)
			l->meta_start = ls;
		return 0;
	}
	if (!(e = doc_append(l->d, l->root, l->s + ls, key_len, n)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	e->key_span = (struct doc_span){ ls, ls + key_len };
	return 0;
}

/* The sops_ lines become the "sops" entry, placed where the first was. */
static int load_metadata(struct dotenv_loader *l)
{
	struct doc_node *m;
	int ret;

	if (!l->meta_count)
		return 0;
	if ((ret = store_unflatten(l->d, l->meta, l->meta_count, &m)) < 0)
		return ret;
	m->span = (struct doc_span){ l->meta_start, l->meta_start };
	if (!doc_append(l->d, l->root, SOPS_METADATA_KEY, SOPS_METADATA_KEY_LEN, m))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

int store_dotenv_load(const uint8_t *text, size_t len, struct doc *d)
{
	struct dotenv_loader l = { .d = d, .meta_start = DOC_NO_POS };
	size_t pos = 0, line_no = 0;
	int ret = 0;

	d->format = DOC_FORMAT_DOTENV;
	if ((ret = store_take_source(d, text, len)) < 0)
		return ret;
	l.s = (const char *)d->source.data;
	if (!(l.root = doc_new_map(d)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	l.root->span = (struct doc_span){ 0, len };
	gs_buf_init(&l.val, true);
	while (pos < len && ret == 0) {
		const char *nl = memchr(l.s + pos, '\n', len - pos);
		size_t ls = pos, le = nl ? (size_t)(nl - l.s) : len;

		pos = nl ? le + 1 : len;
		line_no++;
		if (le == ls)
			continue;
		ret = l.s[ls] == '#' ? load_comment(&l, ls, le) : load_pair(&l, ls, le, pos, line_no);
	}
	if (ret < 0 || (ret = load_metadata(&l)) < 0)
		goto out;
	ret = doc_add_branch(d, l.root);
out:
	free(l.meta);
	gs_buf_release(&l.val);
	return ret;
}

/* ---- output ---- */

static bool is_sops(const struct doc_entry *e)
{
	return sops_is_metadata_key(e->key, e->key_len);
}

static int put_value(struct gs_buf *out, const struct doc_node *n)
{
	if (n->kind != DOC_SCALAR)
		return GS_FAIL(GS_ERR_PARSE, "cannot use complex value in dotenv file");
	if (n->type == DOC_STR)
		return put_escaped(out, n->text, n->len);
	if (n->type == DOC_INT) /* a YAML spelling ("+5") as sops writes the int */
		return store_append_int_canonical(out, n->text, n->len);
	return store_put(out, n->text, n->len); /* ValueToString: true, 3, 1.5, "" for null */
}

static int put_line(struct gs_buf *out, const struct doc_entry *e)
{
	int ret;

	if (!e->key) {
		if (e->value->kind != DOC_COMMENT)
			return 0;
		if ((ret = store_put(out, "#", 1)) || (ret = store_put(out, e->value->text, e->value->len)))
			return ret;
		return store_put(out, "\n", 1);
	}
	/* a key that would not read back as itself */
	if (memchr(e->key, '=', e->key_len) || memchr(e->key, '\n', e->key_len) ||
	    (e->key_len && e->key[0] == '#'))
		return GS_FAIL(GS_ERR_PARSE, "key cannot be written in a dotenv file");
	if ((ret = store_put(out, e->key, e->key_len)) || (ret = store_put(out, "=", 1)) ||
	    (ret = put_value(out, e->value)))
		return ret;
	return store_put(out, "\n", 1);
}

static int meta_line(void *ctx, const char *key, size_t key_len, const struct doc_node *v)
{
	struct gs_buf *out = ctx;
	int ret;

	if ((ret = store_put(out, key, key_len)) || (ret = store_put(out, "=", 1)) || (ret = put_value(out, v)))
		return ret;
	return store_put(out, "\n", 1);
}

static int put_metadata(struct gs_buf *out, const struct doc_node *root, bool skip_loaded)
{
	int ret = 0;

	for (size_t i = 0; i < root->count && !ret; i++) {
		const struct doc_entry *e = &root->entries[i];

		if (e->removed || !is_sops(e))
			continue;
		if (skip_loaded && e->value->span.start != DOC_NO_POS)
			continue;
		ret = store_flatten(e->value, prefix, meta_line, out);
	}
	return ret;
}

static size_t entry_start(const struct doc_entry *e)
{
	return e->key ? e->key_span.start : e->value->span.start;
}

static size_t line_end(const uint8_t *s, size_t len, size_t pos)
{
	const uint8_t *nl = memchr(s + pos, '\n', len - pos);

	return nl ? (size_t)(nl - s) + 1 : len;
}

static size_t line_begin(const uint8_t *s, size_t pos)
{
	while (pos > 0 && s[pos - 1] != '\n')
		pos--;
	return pos;
}

/* The loaded lines: a removed entry's line is cut, a changed value or
 * comment replaced in place. */
static int patch_lines(const struct doc *d, const struct doc_node *root, struct store_edits *ed)
{
	const uint8_t *src = d->source.data;
	size_t len = d->source.len;
	int ret = 0;

	for (size_t i = 0; i < root->count && !ret; i++) {
		const struct doc_entry *e = &root->entries[i];
		const struct doc_node *v = e->value;
		size_t at = entry_start(e), mark = ed->pool.len;

		if (is_sops(e) || at == DOC_NO_POS)
			continue;
		if (e->removed) {
			ret = store_edits_push(ed, line_begin(src, at), line_end(src, len, at), mark);
		} else if (v->dirty && v->kind == DOC_COMMENT) {
			if (!(ret = store_put(&ed->pool, v->text, v->len)))
				ret = store_edits_push(ed, v->span.start + 1, v->span.end, mark);
		} else if (v->dirty || v->span.start == DOC_NO_POS) {
			if (v->span.start == DOC_NO_POS)
				ret = GS_FAIL(GS_ERR_PARSE, "cannot use complex value in dotenv file");
			else if (v->kind == DOC_SCALAR && v->type == DOC_STR && !memchr(v->text, '\n', v->len))
				ret = store_edits_push_text(ed, v->span.start, v->span.end,
							    (const uint8_t *)v->text, v->len);
			else if (!(ret = put_value(&ed->pool, v)))
				ret = store_edits_push(ed, v->span.start, v->span.end, mark);
		}
	}
	return ret;
}

/* sops EmitPlainFile (the first document only): the entries, then the
 * metadata flattened into sops_ keys. */
static int put_rest(struct gs_buf *out, const struct doc *d, const struct doc_node *root, bool only_new, bool kept,
		    bool first)
{
	int ret = 0;

	(void)d;
	(void)first;
	for (size_t i = 0; i < root->count && !ret; i++) {
		const struct doc_entry *e = &root->entries[i];

		if (!e->removed && !is_sops(e) && !(only_new && entry_start(e) != DOC_NO_POS))
			ret = put_line(out, e);
	}
	return ret < 0 ? ret : put_metadata(out, root, only_new && kept);
}

int store_dotenv_emit(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out)
{
	static const struct store_flat_writer writer = {
		.format = DOC_FORMAT_DOTENV, .patch = patch_lines, .put_rest = put_rest,
	};

	return store_flat_emit(d, &writer, opts, out);
}
