/* YAML written afresh, in the layout yaml.v3 gives sops: block style,
 * maps indented by the step (default 4; a file's own step where it has
 * one), list items by 2 from their dash, strings quoted only when they
 * must be, multi-line strings as literal blocks; where a source was
 * loaded, an unchanged key or string keeps its text. The patcher also
 * uses these writers for what it adds. */
#include <math.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/sops_format.h"
#include "yaml_int.h"

static int put(struct gs_buf *out, const char *s, size_t n)
{
	return store_put(out, s, n);
}

static int put_str(struct gs_buf *out, const char *s)
{
	return store_put(out, s, strlen(s));
}

bool yfresh_is_empty(const struct doc_node *n)
{
	if (n->kind != DOC_MAP && n->kind != DOC_LIST)
		return false;
	for (size_t i = 0; i < n->count; i++)
		if (!n->entries[i].removed)
			return false;
	return true;
}

/* A tag's text as libyaml's scanner reads it back: the characters it
 * takes in a tag as they are (',', '[', ']' and '!' only inside "!<>"),
 * every other byte %-escaped, which it decodes (a tag loaded from "!%11"
 * holds a control character, written raw it did not load: fuzz_yaml). */
static int put_tag_text(struct gs_buf *out, const char *s, bool verbatim)
{
	static const char hex[] = "0123456789ABCDEF";
	int ret = 0;

	for (; *s && !ret; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
		bool as_is = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     strchr("-_;/?:@&=+$.~*'()", c) || (verbatim && strchr(",[]!", c));

		ret = as_is ? put(out, s, 1) : put(out, esc, 3);
	}
	return ret;
}

int yfresh_tag(struct yfresh *f, const char *tag)
{
	static const char core[] = "tag:yaml.org,2002:";
	size_t n = sizeof(core) - 1;
	bool core_short = strncmp(tag, core, n) == 0 && tag[n];
	bool verbatim = !core_short && tag[0] != '!';
	int ret;

	if ((ret = put_str(f->out, core_short ? "!!" : verbatim ? "!<" : "!")) ||
	    (ret = put_tag_text(f->out, core_short ? tag + n : verbatim ? tag : tag + 1, verbatim)))
		return ret;
	return put_str(f->out, verbatim ? "> " : " ");
}

static bool reads_as_float(const char *s, size_t len)
{
	int64_t iv;
	double fv;

	return yaml_resolve_plain(s, len, &iv, &fv) == YAML_RESOLVED_FLOAT;
}

/* yaml.v3 writes floats with strconv 'g'; a patched value keeps sops's
 * positional text. Either way the text must read back as a float: "3",
 * "3000" or "16737886033851100000" would come back as integers (fuzz_yaml),
 * so such a text gets a ".0". */
static int write_float(struct yfresh *f, const struct doc_node *n)
{
	size_t mark = f->out->len;
	double v;
	int ret;

	if (!float_from_text(n->text, n->len, &v))
		return GS_FAIL(GS_ERR_PARSE, "invalid float value");
	if (isnan(v))
		return put_str(f->out, ".nan");
	if (isinf(v))
		return put_str(f->out, v > 0 ? ".inf" : "-.inf");
	if (f->keep_positional && reads_as_float(n->text, n->len))
		return put(f->out, n->text, n->len);
	if ((ret = float_format_go_g(v, f->out)))
		return ret;
	if (!reads_as_float((const char *)f->out->data + mark, f->out->len - mark))
		ret = put(f->out, ".0", 2);
	return ret;
}

/* In flow context an encrypted value cannot be plain, and is
 * single-quoted where the value was plain: a single-quoted value there is
 * written plain again when it can be. */
enum yaml_style yfresh_style_of(uint8_t kind, bool flow)
{
	switch (kind) {
	case YT_SINGLE: return flow ? YAML_STYLE_PLAIN : YAML_STYLE_SINGLE;
	case YT_DOUBLE: return YAML_STYLE_DOUBLE;
	case YT_PLAIN: return YAML_STYLE_PLAIN;
	default: return YAML_STYLE_ANY;
	}
}

/* The source's text of token tok, a scalar on one line (plain, single-
 * or double-quoted), or NULL: text that loaded as a key or value reads
 * back as the same on any line of a block collection, so an unchanged
 * key or string keeps its bytes ("y", "\u00e9", 'x') where a collection is
 * written afresh. */
static const uint8_t *source_token(const struct yfresh *f, uint32_t tok, size_t *len)
{
	const struct ylex *lx = f->syn ? &f->syn->lx : NULL;
	const struct ytok *t;

	if (!lx || !f->syn->trusted || tok == YNONE || tok >= lx->n)
		return NULL;
	t = &lx->v[tok];
	if (t->kind != YT_PLAIN && t->kind != YT_SINGLE && t->kind != YT_DOUBLE)
		return NULL;
	for (size_t i = t->start; i < t->end; i++)
		if (ysrc_break_len(lx->src, lx->len, i))
			return NULL;
	*len = t->end - t->start;
	return lx->src + t->start;
}

/* An unchanged string's own text, for block context: a plain one from a
 * flow collection has none of its indicators, and reads the same in a
 * block; in flow context only a quoted one is taken. The source kept a
 * YAML 1.1 boolean such as y plain: it stays plain, read as it was by
 * every reader (yaml.v3 and sops, gitseal: the string "y"), where
 * quoting it would change what a YAML 1.1 reader makes of the file. */
static const uint8_t *unchanged_text(const struct yfresh *f, const struct doc_node *n, bool flow, size_t *len)
{
	const struct ynode *r = ysyn_node(f->syn, n);
	const uint8_t *s;

	if (!r || n->dirty || n->kind != DOC_SCALAR || n->type != DOC_STR || r->body != r->last ||
	    (r->flags & YN_ALIAS))
		return NULL;
	s = source_token(f, r->body, len);
	if (!s || (flow && f->syn->lx.v[r->body].kind == YT_PLAIN))
		return NULL;
	return s;
}

static void scalar_place(const struct yfresh *f, const struct doc_node *n, bool flow, size_t block_indent,
			 size_t parent, enum yaml_style prefer, bool final_break, struct yaml_str_place *p)
{
	const struct ynode *r = ysyn_node(f->syn, n);

	if (prefer == YAML_STYLE_ANY && r && !(r->flags & YN_IN_COPY))
		prefer = yfresh_style_of(r->style, flow);
	*p = (struct yaml_str_place){ .flow = flow, .block_indent = block_indent,
				      .parent_indent = parent, .final_break = final_break,
				      .prefer = prefer };
}

bool yfresh_scalar_as_is(const struct yfresh *f, const struct doc_node *n, bool flow, size_t block_indent,
			 size_t parent, enum yaml_style prefer)
{
	struct yaml_str_place p;

	if (n->kind != DOC_SCALAR || n->type != DOC_STR || n->tag)
		return false;
	scalar_place(f, n, flow, block_indent, parent, prefer, false, &p);
	return yaml_str_written_plain(n->text, n->len, &p);
}

int yfresh_scalar(struct yfresh *f, const struct doc_node *n, bool flow, size_t block_indent,
		  size_t parent, enum yaml_style prefer, bool final_break)
{
	struct yaml_str_place p;

	scalar_place(f, n, flow, block_indent, parent, prefer, final_break, &p);
	size_t mark = f->out->len;
	int ret;

	switch (n->type) {
	case DOC_STR: {
		size_t len;
		const uint8_t *same = unchanged_text(f, n, flow, &len);

		if (same)
			return put(f->out, (const char *)same, len);
		ret = yaml_write_str(f->out, n->text, n->len, &p);
		if (ret)
			return ret;
		if (f->out->len > mark && f->out->data[mark] == '|') {
			const uint8_t *nl = memchr(f->out->data + mark, '\n', f->out->len - mark);

			f->block_end = f->out->len;
			f->block_indent = block_indent;
			f->block_keep = memchr(f->out->data + mark, '+',
					       nl ? (size_t)(nl - f->out->data) - mark : f->out->len - mark) != NULL;
		}
		return 0;
	}
	case DOC_FLOAT:
		return write_float(f, n);
	case DOC_NULL:
		return put_str(f->out, "null");
	default:
		return put(f->out, n->text, n->len);
	}
}

/* A key and its ':'. A YAML reader looks at most 1024 characters ahead for
 * the ':' of a "key:", so a longer key is explicit, "? key" and then ":"
 * on the next line at the map's column; like yaml.v3, from 129 bytes on
 * (fuzz_yaml: a 1,100-byte key did not load). */
int yfresh_key(struct yfresh *f, const char *key, size_t len, size_t col)
{
	struct yaml_str_place p = { .key = true };
	int ret;

	if (len <= 128) {
		if ((ret = yaml_write_str(f->out, key, len, &p)))
			return ret;
		return put(f->out, ":", 1);
	}
	if ((ret = put(f->out, "? ", 2)) || (ret = yaml_write_str(f->out, key, len, &p)) ||
	    (ret = put(f->out, "\n", 1)) || (ret = store_put_spaces(f->out, col)))
		return ret;
	return put(f->out, ":", 1);
}

int yfresh_entry_key(struct yfresh *f, const struct doc_entry *e, size_t col)
{
	const struct ynode *r = f->syn && e->origin && e->origin <= f->syn->n ? &f->syn->v[e->origin - 1] : NULL;
	const uint8_t *same = NULL;
	size_t len = 0;
	int ret;

	/* an implicit key of one token: explicit ones ("? k") and keys with
	 * properties are written afresh */
	if (r && !(r->flags & YN_ALIAS) && e->key_len <= 128 && r->lead == r->key_last)
		same = source_token(f, r->lead, &len);
	/* a plain key is its own text (a check that the record is this key's) */
	if (same && f->syn->lx.v[r->lead].kind == YT_PLAIN && (len != e->key_len || memcmp(same, e->key, len)))
		same = NULL;
	if (!same)
		return yfresh_key(f, e->key, e->key_len, col);
	if ((ret = put(f->out, (const char *)same, len)))
		return ret;
	return put(f->out, ":", 1);
}

int yfresh_comment_text(struct yfresh *f, const struct doc_node *c)
{
	const uint8_t *s = (const uint8_t *)c->text;

	/* a line break would end the comment and make the rest YAML */
	for (size_t i = 0; i < c->len;) {
		size_t n = ysrc_break_len(s, c->len, i);
		int ret = n ? put(f->out, " ", 1) : put(f->out, c->text + i, 1);

		if (ret)
			return ret;
		i += n ? n : 1;
	}
	return 0;
}

static int write_comment_line(struct yfresh *f, const struct doc_node *c)
{
	int ret;

	if ((ret = put(f->out, "#", 1)) || (ret = yfresh_comment_text(f, c)))
		return ret;
	return put(f->out, "\n", 1);
}

/* yaml.v3 yaml_emitter_increase_indent: align to the step */
static size_t round_indent(const struct yfresh *f, size_t indent)
{
	return f->step * ((indent + f->step) / f->step);
}

bool yfresh_holds_items(const struct doc_node *n)
{
	for (size_t i = 0; i < n->count; i++)
		if (!n->entries[i].removed && n->entries[i].value->kind != DOC_COMMENT)
			return true;
	return false;
}

static int fresh_value_at(struct yfresh *f, const struct doc_node *v, size_t col, bool in_list,
			  const struct doc_node *line_comment);

/* A value's end-of-line comment after the value written from mark on; a
 * literal block's goes on its header line. */
static int add_line_comment(struct yfresh *f, size_t mark, const struct doc_node *c)
{
	const uint8_t *nl = memchr(f->out->data + mark, '\n', f->out->len - mark);
	struct gs_buf tail;
	size_t at;
	int ret;

	if (!nl) {
		if ((ret = put(f->out, " #", 2)))
			return ret;
		return yfresh_comment_text(f, c);
	}
	at = (size_t)(nl - f->out->data);
	gs_buf_init(&tail, true);
	if (gs_buf_append(&tail, nl, f->out->len - at)) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	f->out->len = at;
	if ((ret = put(f->out, " #", 2)) || (ret = yfresh_comment_text(f, c)))
		goto out;
	/* the literal block written from mark on now ends that much later */
	if (f->block_end > at)
		f->block_end += f->out->len - at;
	ret = put(f->out, (const char *)tail.data, tail.len);
out:
	gs_buf_release(&tail);
	return ret;
}

/* The next entry after i that is not removed, or NULL. */
static const struct doc_entry *next_entry(const struct doc_node *n, size_t i)
{
	for (size_t j = i + 1; j < n->count; j++)
		if (!n->entries[j].removed)
			return &n->entries[j];
	return NULL;
}

static bool has_break(const struct doc_node *c)
{
	for (size_t i = 0; i < c->len; i++)
		if (ysrc_break_len((const uint8_t *)c->text, c->len, i))
			return true;
	return false;
}

const struct doc_entry *yfresh_line_comment_owner(const struct doc_node *map, size_t i)
{
	const struct doc_node *c = map->entries[i].value;
	const struct doc_entry *next = next_entry(map, i);

	/* sops 3.4: an inline comment is the next value's line comment (a
	 * text with a line break, which no loaded comment has, stays on a
	 * line of its own) */
	if (c->kind != DOC_COMMENT || !c->inline_comment || has_break(c))
		return NULL;
	return next && next->value->kind == DOC_SCALAR ? next : NULL;
}

/* Whether a collection holds a comment, at any depth. */
static bool holds_comment(const struct doc_node *n)
{
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_node *v = n->entries[i].value;

		if (n->entries[i].removed)
			continue;
		if (v->kind == DOC_COMMENT || ((v->kind == DOC_MAP || v->kind == DOC_LIST) && holds_comment(v)))
			return true;
	}
	return false;
}

/* A collection the source wrote in flow style stays in it, when no
 * comment in it would need a line of its own; also one another version of
 * the file wrote so, where the document asks for that (keep_new_flow: a
 * merge takes theirs' value whole). The layout sops writes (no source
 * kept) is block style. */
bool yfresh_stays_flow(const struct yfresh *f, const struct doc_node *v)
{
	return v->flow && f->syn && (f->keep_new_flow || ysyn_node(f->syn, v)) && !holds_comment(v);
}

/* `at_line` when the first entry goes where the caller left off (after
 * "- " or at a column the source already indents to). */
static int fresh_map(struct yfresh *f, const struct doc_node *map, size_t col, bool at_line)
{
	const struct doc_node *lc = NULL;
	int ret;

	for (size_t i = 0; i < map->count; i++) {
		const struct doc_entry *e = &map->entries[i];

		if (e->removed)
			continue;
		if (e->value->kind == DOC_COMMENT) {
			if (yfresh_line_comment_owner(map, i) && !lc) {
				lc = e->value;
				continue;
			}
			if ((!at_line && (ret = store_put_spaces(f->out, col))) ||
			    (ret = write_comment_line(f, e->value)))
				return ret;
			at_line = false;
			continue;
		}
		/* the metadata as sops writes it, the data in the file's step */
		size_t step = f->step;

		if (col == 0 && f->meta_step && sops_is_metadata_key(e->key, e->key_len))
			f->step = f->meta_step;
		if ((at_line || !(ret = store_put_spaces(f->out, col))) &&
		    !(ret = yfresh_entry_key(f, e, col)))
			ret = fresh_value_at(f, e->value, col, false, lc);
		f->step = step;
		if (ret)
			return ret;
		at_line = false;
		lc = NULL;
	}
	return 0;
}

static int fresh_list(struct yfresh *f, const struct doc_node *list, size_t col, bool at_line)
{
	int ret;

	for (size_t i = 0; i < list->count; i++) {
		const struct doc_entry *e = &list->entries[i];

		if (e->removed)
			continue;
		if (!at_line && (ret = store_put_spaces(f->out, col)))
			return ret;
		at_line = false;
		if (e->value->kind == DOC_COMMENT) {
			if ((ret = write_comment_line(f, e->value)))
				return ret;
			continue;
		}
		if ((ret = put(f->out, "-", 1)) ||
		    (ret = fresh_value_at(f, e->value, col, true, NULL)))
			return ret;
	}
	return 0;
}

int yfresh_block(struct yfresh *f, const struct doc_node *n, size_t col)
{
	return n->kind == DOC_MAP ? fresh_map(f, n, col, true) : fresh_list(f, n, col, true);
}

/* Writes `v` after "key:" or "-" (written by the caller, without the
 * space); col is the column of the key or the dash; a list item's content
 * is indented by 2 from its dash, a map's by the step (yaml.v3). */
static int fresh_value_at(struct yfresh *f, const struct doc_node *v, size_t col, bool in_list,
			  const struct doc_node *line_comment)
{
	size_t child = in_list ? col + 2 : round_indent(f, col);
	int ret = put(f->out, " ", 1);

	if (ret || (v->tag && (ret = yfresh_tag(f, v->tag))))
		return ret;
	if (v->kind == DOC_SCALAR || v->kind == DOC_COMMENT) {
		size_t mark = f->out->len;

		if ((ret = yfresh_scalar(f, v, false, child, col, YAML_STYLE_ANY, true)) ||
		    (line_comment && (ret = add_line_comment(f, mark, line_comment))))
			return ret;
		if (f->out->len == 0 || f->out->data[f->out->len - 1] != '\n')
			return put(f->out, "\n", 1);
		return 0;
	}
	if (yfresh_is_empty(v))
		return put_str(f->out, v->kind == DOC_MAP ? "{}\n" : "[]\n");
	/* comments alone in block style would leave a null (fuzz_yaml) */
	if (!yfresh_holds_items(v) || yfresh_stays_flow(f, v)) {
		ret = yfresh_flow_brackets(f, v, child);
		return ret ? ret : put(f->out, "\n", 1);
	}
	if (in_list && !v->tag)
		return yfresh_block(f, v, child);
	/* drop the space: "key:" (or "key: !tag") then the block on the
	 * next line, no blank at the end of the line */
	f->out->len--;
	if ((ret = put(f->out, "\n", 1)))
		return ret;
	return v->kind == DOC_MAP ? fresh_map(f, v, child, false) : fresh_list(f, v, child, false);
}

int yfresh_value(struct yfresh *f, const struct doc_node *v, size_t col, bool in_list,
		 const struct doc_node *line_comment)
{
	return fresh_value_at(f, v, col, in_list, line_comment);
}

/* A map with no entries is "{}" (comments alone are no document). */
int yfresh_document(struct yfresh *f, const struct doc_node *root)
{
	int ret;

	if (!yfresh_holds_items(root)) {
		for (size_t i = 0; i < root->count; i++) {
			if (!root->entries[i].removed &&
			    (ret = write_comment_line(f, root->entries[i].value)))
				return ret;
		}
		if (root->tag && (ret = yfresh_tag(f, root->tag)))
			return ret;
		return put_str(f->out, "{}\n");
	}
	if (root->tag) {
		if ((ret = yfresh_tag(f, root->tag)))
			return ret;
		f->out->data[f->out->len - 1] = '\n'; /* its space */
	}
	return fresh_map(f, root, 0, false);
}

/* ---- flow style ---- */

static int flow_key(struct yfresh *f, const char *key, size_t len)
{
	struct yaml_str_place p = { .flow = true, .key = true };
	int ret;

	if (len <= 128)
		return yaml_write_str(f->out, key, len, &p);
	/* explicit, as in the block layout */
	ret = put(f->out, "? ", 2);
	return ret ? ret : yaml_write_double(f->out, key, len);
}

/* Between flow entries: a comma, and each comment on a line of its own
 * (a comment runs to the end of its line). */
static int flow_entries(struct yfresh *f, const struct doc_node *n, size_t line_indent)
{
	bool wrote_item = false, at_line_start = false;
	int ret;

	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (e->removed)
			continue;
		if (e->value->kind == DOC_COMMENT) {
			if ((!at_line_start && ((ret = put(f->out, "\n", 1)) ||
						(ret = store_put_spaces(f->out, line_indent)))) ||
			    (ret = write_comment_line(f, e->value)) ||
			    (ret = store_put_spaces(f->out, line_indent)))
				return ret;
			at_line_start = true;
			continue;
		}
		if (wrote_item && !at_line_start && (ret = put(f->out, " ", 1)))
			return ret;
		at_line_start = false;
		if (n->kind == DOC_MAP &&
		    ((ret = flow_key(f, e->key, e->key_len)) || (ret = put(f->out, ": ", 2))))
			return ret;
		if ((ret = yfresh_flow(f, e->value, line_indent)))
			return ret;
		/* a comma before whatever comes next, comments included */
		if (next_entry(n, i)) {
			if ((ret = put(f->out, ",", 1)))
				return ret;
			wrote_item = true;
		}
	}
	return 0;
}

int yfresh_flow_brackets(struct yfresh *f, const struct doc_node *n, size_t line_indent)
{
	int ret;

	if ((ret = put(f->out, n->kind == DOC_MAP ? "{" : "[", 1)) ||
	    (ret = flow_entries(f, n, line_indent)))
		return ret;
	return put(f->out, n->kind == DOC_MAP ? "}" : "]", 1);
}

int yfresh_flow(struct yfresh *f, const struct doc_node *n, size_t line_indent)
{
	int ret;

	if (n->tag && (ret = yfresh_tag(f, n->tag)))
		return ret;
	if (n->kind == DOC_SCALAR)
		return yfresh_scalar(f, n, true, 0, 0, YAML_STYLE_ANY, false);
	return yfresh_flow_brackets(f, n, line_indent);
}
