/* The merge driver: three versions decrypted, merged key by key, the
 * result re-encrypted against ours so unchanged values keep their
 * ciphertext. */
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"
#include "gitfilter_int.h"

enum { MERGE_MAX_FILE = 256 * 1024 * 1024 };

static bool node_equal(const struct doc_node *a, const struct doc_node *b);

static bool is_item(const struct doc_entry *e)
{
	return !e->removed && !(e->value && e->value->kind == DOC_COMMENT);
}

static size_t item_count(const struct doc_node *n)
{
	size_t c = 0;

	for (size_t i = 0; i < n->count; i++)
		c += is_item(&n->entries[i]) && (n->kind == DOC_LIST || n->entries[i].key);
	return c;
}

static const struct doc_node *map_get(const struct doc_node *map, const char *key)
{
	const struct doc_entry *e;

	if (!map || map->kind != DOC_MAP)
		return NULL;
	e = doc_map_find(map, key);
	return e ? e->value : NULL;
}

static bool node_equal(const struct doc_node *a, const struct doc_node *b)
{
	size_t i, j;

	if (!a || !b)
		return a == b;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case DOC_SCALAR:
	case DOC_COMMENT:
		return a->type == b->type && a->len == b->len && !memcmp(a->text, b->text, a->len);
	case DOC_MAP:
		if (item_count(a) != item_count(b))
			return false;
		for (i = 0; i < a->count; i++) {
			const struct doc_entry *e = &a->entries[i];

			if (!is_item(e) || !e->key)
				continue;
			if (!node_equal(e->value, map_get(b, e->key)))
				return false;
		}
		return true;
	case DOC_LIST:
		if (item_count(a) != item_count(b))
			return false;
		for (i = 0, j = 0; i < a->count; i++) {
			if (!is_item(&a->entries[i]))
				continue;
			while (!is_item(&b->entries[j]))
				j++;
			if (!node_equal(a->entries[i].value, b->entries[j].value))
				return false;
			j++;
		}
		return true;
	}
	return false;
}

/* Makes ours' entry for key hold src (NULL: remove it). */
static int take(struct doc *d, struct doc_node *map, const char *key, const struct doc_node *src)
{
	struct doc_entry *e = doc_map_find(map, key);
	struct doc_node *n;

	if (!src) {
		if (e)
			e->removed = true;
		return 0;
	}
	/* A scalar keeps its place and presentation in ours' text. */
	if (e && e->value->kind == DOC_SCALAR && src->kind == DOC_SCALAR)
		return doc_scalar_set(d, e->value, src->type, src->text, src->len);
	n = doc_clone(d, src);
	if (!n)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (e) {
		e->value = n;
		return 0;
	}
	return doc_append(d, map, key, strlen(key), n) ? 0 : GS_FAIL(GS_ERR_NOMEM, "out of memory");
}

static int merge_map(struct doc *d, struct doc_node *ours, const struct doc_node *base,
		     const struct doc_node *theirs, int pick, size_t *conflicts);

static int merge_key(struct doc *d, struct doc_node *ours, const struct doc_node *base,
		     const struct doc_node *theirs, const char *key, int pick, size_t *conflicts)
{
	const struct doc_node *b = map_get(base, key), *t = map_get(theirs, key);
	struct doc_node *o = (struct doc_node *)map_get(ours, key);

	if (node_equal(o, t) || node_equal(b, t))
		return 0;
	if (node_equal(b, o))
		return take(d, ours, key, t);
	if (o && t && o->kind == DOC_MAP && t->kind == DOC_MAP && (!b || b->kind == DOC_MAP))
		return merge_map(d, o, b, t, pick, conflicts);
	(*conflicts)++;
	if (pick == MERGE_PICK_THEIRS)
		return take(d, ours, key, t);
	if (pick == MERGE_PICK_BASE)
		return take(d, ours, key, b);
	return 0;
}

static int merge_map(struct doc *d, struct doc_node *ours, const struct doc_node *base,
		     const struct doc_node *theirs, int pick, size_t *conflicts)
{
	size_t n = ours->count;
	int ret = 0;

	/* Keys of ours first (in its order), then keys only theirs has. The
	 * entries array may grow while we walk it: index, never pointers. */
	for (size_t i = 0; i < n && !ret; i++) {
		if (!ours->entries[i].key || ours->entries[i].removed)
			continue;
		ret = merge_key(d, ours, base, theirs, ours->entries[i].key, pick, conflicts);
	}
	for (size_t i = 0; theirs && i < theirs->count && !ret; i++) {
		const struct doc_entry *e = &theirs->entries[i];

		if (!e->key || e->removed || doc_map_find(ours, e->key))
			continue;
		ret = merge_key(d, ours, base, theirs, e->key, pick, conflicts);
	}
	return ret;
}

static int load(enum doc_format format, const struct gs_buf *text, struct doc *d)
{
	doc_init(d, format);
	if (!text->len)
		return 0;
	return store_load(format, text->data, text->len, d);
}

int gitfilter_merge_text(enum doc_format format, const struct gs_buf *base, const struct gs_buf *ours,
			 const struct gs_buf *theirs, int pick, struct gs_buf *out, size_t *conflicts)
{
	struct doc b, o, t;
	int ret;

	*conflicts = 0;
	ret = load(format, base, &b);
	if (!ret)
		ret = load(format, ours, &o);
	else
		doc_init(&o, format);
	if (!ret)
		ret = load(format, theirs, &t);
	else
		doc_init(&t, format);
	if (ret)
		goto out;
	if (o.count != t.count || (b.count && b.count != o.count)) {
		ret = GS_FAIL(GS_ERR_CONFLICT, "the versions hold different numbers of documents");
		goto out;
	}
	for (size_t i = 0; i < o.count && !ret; i++) {
		if (o.branches[i]->kind != DOC_MAP || t.branches[i]->kind != DOC_MAP) {
			ret = GS_FAIL(GS_ERR_CONFLICT, "a document is not a map");
			break;
		}
		ret = merge_map(&o, o.branches[i], b.count ? b.branches[i] : NULL, t.branches[i], pick,
				conflicts);
	}
	if (!ret)
		ret = store_emit(&o, format, NULL, out);
out:
	doc_release(&b);
	doc_release(&o);
	doc_release(&t);
	return ret;
}

/* Plaintext of one version: decrypted when it is a sops file. */
static int version_plaintext(struct gitfilter *f, enum doc_format format, const struct gs_buf *raw,
			     struct gs_buf *plain)
{
	const struct age_identity_list *ids;
	struct sops_decrypt_opts o = { 0 };

	if (!gitfilter_is_sops(format, raw->data, raw->len))
		return gs_buf_append(plain, raw->data, raw->len);
	ids = gitfilter_identities(f);
	if (!ids)
		return GS_FAIL(GS_ERR_NO_DATA_KEY, "no age identity to decrypt with (%s)",
			       f->ids_error ? f->ids_error : "none found");
	return sops_file_decrypt(raw->data, raw->len, format, ids, &o, plain);
}

/* git-style markers around the conflicting values only: a text merge of
 * the key-merged results, which differ only where the keys conflict. */
static int conflict_text(const struct gs_buf *base, const struct gs_buf *ours, const struct gs_buf *theirs,
			 const char *path, struct gs_buf *out)
{
	git_merge_file_input in_b, in_o, in_t;
	git_merge_file_options opts;
	git_merge_file_result res;
	int ret;

	memset(&res, 0, sizeof(res));
	git_merge_file_input_init(&in_b, GIT_MERGE_FILE_INPUT_VERSION);
	git_merge_file_input_init(&in_o, GIT_MERGE_FILE_INPUT_VERSION);
	git_merge_file_input_init(&in_t, GIT_MERGE_FILE_INPUT_VERSION);
	git_merge_file_options_init(&opts, GIT_MERGE_FILE_OPTIONS_VERSION);
	in_b.ptr = (const char *)base->data;
	in_b.size = base->len;
	in_b.path = path;
	in_o.ptr = (const char *)ours->data;
	in_o.size = ours->len;
	in_o.path = path;
	in_t.ptr = (const char *)theirs->data;
	in_t.size = theirs->len;
	in_t.path = path;
	opts.our_label = "ours";
	opts.their_label = "theirs";
	if (git_merge_file(&res, &in_b, &in_o, &in_t, &opts) < 0)
		return gitrepo_fail("cannot merge the conflicting values");
	ret = gs_buf_append(out, res.ptr, res.len);
	sodium_memzero((void *)res.ptr, res.len);
	git_merge_file_result_free(&res);
	return ret;
}

static int read_version(const char *file, struct gs_buf *b)
{
	return gs_read_file(file, b, MERGE_MAX_FILE);
}

/* Neither side merged key by key: one side changed, or a conflict. */
static int merge_whole(const struct gs_buf *raw_t, const struct gs_buf *pb,
		       const struct gs_buf *po, const struct gs_buf *pt, const char *ours_file,
		       const char *path, bool *conflict)
{
	struct gs_buf marked;
	int ret;

	if ((po->len == pt->len && !memcmp(po->data, pt->data, po->len)) ||
	    (pb->len == pt->len && !memcmp(pb->data, pt->data, pb->len)))
		return 0;
	if (pb->len == po->len && !memcmp(pb->data, po->data, pb->len))
		return gs_atomic_write(ours_file, raw_t->data, raw_t->len, 0644);
	gs_buf_init(&marked, true);
	ret = conflict_text(pb, po, pt, path, &marked);
	if (!ret)
		ret = gs_atomic_write(ours_file, marked.data, marked.len, 0644);
	gs_buf_release(&marked);
	*conflict = true;
	return ret;
}

int gitfilter_merge(struct gitfilter *f, const char *base_file, const char *ours_file,
		    const char *theirs_file, const char *path, bool *conflict)
{
	enum doc_format format = store_format_for_path(path);
	struct gs_buf raw_b, raw_o, raw_t, pb, po, pt, mo, mt, mb, enc;
	size_t conflicts = 0, ignored;
	int ret;

	*conflict = false;
	/* a version that is not a sops file is plaintext */
	gs_buf_init(&raw_b, true);
	gs_buf_init(&raw_o, true);
	gs_buf_init(&raw_t, true);
	gs_buf_init(&pb, true);
	gs_buf_init(&po, true);
	gs_buf_init(&pt, true);
	gs_buf_init(&mo, true);
	gs_buf_init(&mt, true);
	gs_buf_init(&mb, true);
	gs_buf_init(&enc, false);
	if ((ret = read_version(base_file, &raw_b)) || (ret = read_version(ours_file, &raw_o)) ||
	    (ret = read_version(theirs_file, &raw_t)))
		goto out;
	if ((ret = version_plaintext(f, format, &raw_b, &pb)) ||
	    (ret = version_plaintext(f, format, &raw_o, &po)) ||
	    (ret = version_plaintext(f, format, &raw_t, &pt)))
		goto out;
	if (format != DOC_FORMAT_YAML && format != DOC_FORMAT_JSON) {
		ret = merge_whole(&raw_t, &pb, &po, &pt, ours_file, path, conflict);
		goto out;
	}
	ret = gitfilter_merge_text(format, &pb, &po, &pt, MERGE_PICK_OURS, &mo, &conflicts);
	if (ret)
		goto out;
	if (!conflicts) {
		ret = gitfilter_encrypt_for_path(f, path, mo.data, mo.len,
						 gitfilter_is_sops(format, raw_o.data, raw_o.len) ? raw_o.data : NULL,
						 raw_o.len, &enc);
		if (!ret)
			ret = gs_atomic_write(ours_file, enc.data, enc.len, 0644);
		goto out;
	}
	*conflict = true;
	if ((ret = gitfilter_merge_text(format, &pb, &po, &pt, MERGE_PICK_THEIRS, &mt, &ignored)) ||
	    (ret = gitfilter_merge_text(format, &pb, &po, &pt, MERGE_PICK_BASE, &mb, &ignored)))
		goto out;
	gs_buf_reset(&pb);
	ret = conflict_text(&mb, &mo, &mt, path, &pb);
	if (!ret)
		ret = gs_atomic_write(ours_file, pb.data, pb.len, 0644);
out:
	if (ret)
		gs_error_prefix("cannot merge '%s'", path);
	gs_buf_release(&raw_b);
	gs_buf_release(&raw_o);
	gs_buf_release(&raw_t);
	gs_buf_release(&pb);
	gs_buf_release(&po);
	gs_buf_release(&pt);
	gs_buf_release(&mo);
	gs_buf_release(&mt);
	gs_buf_release(&mb);
	gs_buf_release(&enc);
	return ret;
}
