/* Kubernetes manifests as kustomize (kyaml) and KSOPS write them: block
 * style, maps indented by 2, a list under a key at the key's own column
 * ("compact" sequences), no comments.
 *
 * Scalars are written by the YAML store's writers (gitseal/yaml_scalar.h),
 * the one home of yaml.v3's quoting rules, which kyaml and KSOPS's Go
 * marshaller follow too. What differs from the store's fresh writer
 * (yaml_fresh.c, sops's layout: maps by 4, list items indented under their
 * key) is only the layout above, which kubectl and KSOPS's want.yaml
 * fixtures show; so the layout stays here. */
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/store.h"
#include "gitseal/yaml_scalar.h"
#include "k8s_int.h"

/* yaml.v3 writes a key longer than this as "? key" (not a simple key:
 * yaml_emitter_check_simple_key) */
enum { SIMPLE_KEY_MAX = 128 };

/* A node's tag, written before it: libyaml's resolved core tags as "!!x",
 * local tags as written, any other URI verbatim ("!<...>"). */
static int emit_tag(struct gs_buf *out, const struct doc_node *n)
{
	static const char core[] = "tag:yaml.org,2002:";
	int ret;

	if (!n->tag || !*n->tag)
		return 0;
	if (!strncmp(n->tag, core, sizeof(core) - 1))
		ret = gs_buf_printf(out, "!!%s", n->tag + sizeof(core) - 1);
	else if (n->tag[0] == '!')
		ret = gs_buf_append_str(out, n->tag);
	else
		ret = gs_buf_printf(out, "!<%s>", n->tag);
	return ret;
}

static int indent_to(struct gs_buf *out, int indent)
{
	static const char spaces[] = "                                ";
	while (indent > 0) {
		int k = indent > 32 ? 32 : indent;
		int ret = gs_buf_append(out, spaces, (size_t)k);

		if (ret)
			return ret;
		indent -= k;
	}
	return 0;
}

/* sops keeps a float's positional text ("1000000000000000000000"), which a
 * reader would take for an integer: such a text gets a ".0". */
static int emit_float(struct gs_buf *out, const struct doc_node *n)
{
	int64_t iv;
	double fv;
	int ret;

	if (n->len == 3 && !memcmp(n->text, "NaN", 3))
		return gs_buf_append_str(out, ".nan");
	if (n->len == 4 && !memcmp(n->text + 1, "Inf", 3))
		return gs_buf_append_str(out, n->text[0] == '-' ? "-.inf" : ".inf");
	ret = gs_buf_append(out, n->text, n->len);
	if (ret)
		return ret;
	if (yaml_resolve_plain(n->text, n->len, &iv, &fv) != YAML_RESOLVED_FLOAT)
		return gs_buf_append_str(out, ".0");
	return 0;
}

/* A value whose lines, as a literal block, start at column indent; parent
 * is the column of the key or dash it belongs to. */
static int emit_scalar(struct gs_buf *out, const struct doc_node *n, int indent, int parent)
{
	struct yaml_str_place place = { .block_indent = (size_t)indent, .parent_indent = (size_t)parent,
					.final_break = true };

	switch (n->type) {
	case DOC_NULL:
		return gs_buf_append_str(out, "null");
	case DOC_BOOL:
	case DOC_INT:
		return gs_buf_append(out, n->text, n->len);
	case DOC_FLOAT:
		return emit_float(out, n);
	case DOC_STR:
	default:
		return yaml_write_str(out, n->text, n->len, &place);
	}
}

static int emit_key(struct gs_buf *out, const struct doc_entry *e, int indent)
{
	struct yaml_str_place place = { .key = true };
	int ret;

	if (e->key_len > SIMPLE_KEY_MAX) {
		if ((ret = gs_buf_append_str(out, "? ")) ||
		    (ret = yaml_write_str(out, e->key, e->key_len, &place)) ||
		    (ret = gs_buf_append(out, "\n", 1)))
			return ret;
		return indent_to(out, indent);
	}
	return yaml_write_str(out, e->key, e->key_len, &place);
}

/* A literal block already ends its last line. */
static int end_line(struct gs_buf *out)
{
	if (out->len && out->data[out->len - 1] == '\n')
		return 0;
	return gs_buf_append(out, "\n", 1);
}

static size_t live_count(const struct doc_node *n)
{
	size_t c = 0;

	for (size_t i = 0; i < n->count; i++) {
		if (!n->entries[i].removed && n->entries[i].value->kind != DOC_COMMENT)
			c++;
	}
	return c;
}

static int emit_node(struct gs_buf *out, const struct doc_node *n, int indent, bool inline_start,
		     int depth);

/* A value after "key:" or "- ": scalars and empty collections stay on the
 * line; maps and lists start on the next. */
static int emit_value(struct gs_buf *out, const struct doc_node *v, int indent, bool in_list,
		      int depth)
{
	int ret;

	if (v->tag && ((ret = gs_buf_append(out, " ", 1)) || (ret = emit_tag(out, v))))
		return ret;
	if (v->kind == DOC_SCALAR) {
		if ((ret = gs_buf_append(out, " ", 1)) ||
		    (ret = emit_scalar(out, v, indent + 2, indent)))
			return ret;
		return end_line(out);
	}
	if (live_count(v) == 0)
		return gs_buf_append_str(out, v->kind == DOC_MAP ? " {}\n" : " []\n");
	if (in_list && v->tag) {
		/* "- !tag" then the collection on the next lines */
		ret = gs_buf_append(out, "\n", 1);
		return ret ? ret : emit_node(out, v, indent + 2, false, depth + 1);
	}
	if (in_list) {
		ret = gs_buf_append(out, " ", 1);
		return ret ? ret : emit_node(out, v, indent + 2, true, depth + 1);
	}
	ret = gs_buf_append(out, "\n", 1);
	if (ret)
		return ret;
	/* kustomize style: a list under a key is not indented */
	return emit_node(out, v, v->kind == DOC_LIST ? indent : indent + 2, false, depth + 1);
}

static int emit_node(struct gs_buf *out, const struct doc_node *n, int indent, bool inline_start,
		     int depth)
{
	bool first = true;
	int ret;

	if (depth > K8S_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "document nested too deeply");
	if (n->kind == DOC_SCALAR) {
		if (n->tag && ((ret = emit_tag(out, n)) || (ret = gs_buf_append(out, " ", 1))))
			return ret;
		ret = emit_scalar(out, n, indent, indent);
		return ret ? ret : end_line(out);
	}
	if (depth == 0 && n->tag &&
	    ((ret = emit_tag(out, n)) || (ret = gs_buf_append(out, "\n", 1))))
		return ret;
	if (live_count(n) == 0)
		return gs_buf_append_str(out, n->kind == DOC_MAP ? "{}\n" : "[]\n");
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (e->removed || e->value->kind == DOC_COMMENT)
			continue;
		if (!(first && inline_start) && (ret = indent_to(out, indent)))
			return ret;
		first = false;
		if (n->kind == DOC_LIST) {
			if ((ret = gs_buf_append(out, "-", 1)) ||
			    (ret = emit_value(out, e->value, indent, true, depth)))
				return ret;
			continue;
		}
		if ((ret = emit_key(out, e, indent)) || (ret = gs_buf_append(out, ":", 1)) ||
		    (ret = emit_value(out, e->value, indent, false, depth)))
			return ret;
	}
	return 0;
}

int k8s_yaml_emit(const struct doc_node *n, struct gs_buf *out)
{
	return emit_node(out, n, 0, false, 0);
}

/* The emitter writes no comments: they are dropped from the tree first so
 * that the comparison below is about data only. */
static void drop_comments(struct doc_node *n, int depth)
{
	if (depth > K8S_MAX_DEPTH || (n->kind != DOC_MAP && n->kind != DOC_LIST))
		return;
	for (size_t i = 0; i < n->count; i++) {
		struct doc_entry *e = &n->entries[i];

		if (e->value->kind == DOC_COMMENT)
			e->removed = true;
		else if (!e->removed)
			drop_comments(e->value, depth + 1);
	}
}

int k8s_yaml_emit_verified(struct doc_node *n, struct gs_buf *out)
{
	struct doc_node *branches[1] = { n };
	/* a view of n as a one-document doc, for doc_equal (nothing allocated) */
	struct doc tree = { .format = DOC_FORMAT_YAML, .branches = branches, .count = 1 };
	struct doc back;
	size_t start = out->len;
	char where[256];
	int ret;

	drop_comments(n, 0);
	doc_init(&back, DOC_FORMAT_YAML);
	ret = k8s_yaml_emit(n, out);
	if (ret)
		goto out;
	ret = store_load(DOC_FORMAT_YAML, out->data + start, out->len - start, &back);
	if (ret) {
		ret = GS_FAIL(GS_ERR_WRITE, "cannot write a document that reads back: %s",
			      gs_error_message());
		goto out;
	}
	if (!doc_equal(&tree, &back, where, sizeof(where)))
		ret = GS_FAIL(GS_ERR_WRITE, "the written document would read back differently at %s",
			      where);
out:
	if (ret && out->len > start) {
		/* nothing unproven stays in out */
		sodium_memzero(out->data + start, out->len - start);
		out->len = start;
		out->data[start] = '\0';
	}
	doc_release(&back);
	return ret;
}
