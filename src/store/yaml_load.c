/* YAML loading (sops stores/yaml over yaml.v3): libyaml's events build the
 * doc tree, typed as yaml.v3 types scalars (spec 6.1); the syntax layer
 * (yaml_lex.c) gives every node its tokens, kept per node in a record
 * (struct ynode) that the patcher writes changes through. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/store.h"
#include "yaml_int.h"

enum {
	ALIAS_BUDGET = 1000000, /* nodes copied for alias expansions */
};

/* A load that does not decide, positive: the tree-only loader hands the
 * text to the full one (TREE_GIVE_UP, below), and the full loader with
 * runs left out of what libyaml reads (yaml_elide.c) to itself reading
 * every byte (CUT_GIVE_UP, on_scalar). */
enum { TREE_GIVE_UP = 1, CUT_GIVE_UP = 2 };

static const char core_prefix[] = "tag:yaml.org,2002:";

/* ====================================================================
 * Records
 * ==================================================================== */

static void syntax_free(void *p)
{
	struct yaml_syntax *syn = p;

	ylex_release(&syn->lx);
	free(syn->v);
	free(syn);
}

const struct yaml_syntax *yaml_syntax_of(const struct doc *d)
{
	return d->store_data && d->store_data_free == syntax_free ? d->store_data : NULL;
}

bool yaml_records_equal(const struct yaml_syntax *a, const struct yaml_syntax *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct ynode *x = &a->v[i], *y = &b->v[i];

		if (x->lead != y->lead || x->key_last != y->key_last || x->ind != y->ind || x->first != y->first ||
		    x->body != y->body || x->last != y->last || x->target != y->target || x->col != y->col ||
		    x->end_rec != y->end_rec || x->kind != y->kind || x->flags != y->flags || x->style != y->style ||
		    x->anchored != y->anchored || !x->tag != !y->tag || (x->tag && strcmp(x->tag, y->tag) != 0))
			return false;
	}
	return true;
}

const struct ynode *ysyn_node(const struct yaml_syntax *syn, const struct doc_node *n)
{
	return syn && n->origin && n->origin <= syn->n ? &syn->v[n->origin - 1] : NULL;
}

static uint32_t later(uint32_t a, uint32_t b)
{
	if (a == YNONE)
		return b;
	if (b == YNONE)
		return a;
	return a > b ? a : b;
}

uint32_t ysyn_entry_last(const struct ynode *r)
{
	return later(later(r->last, r->ind), r->key_last);
}

struct ynode *yload_new_record(struct yloader *l, struct doc_node *n)
{
	struct yaml_syntax *syn = l->syn;
	struct ynode *r;

	if (syn->n == syn->cap && GS_ARRAY_GROW(syn->v, syn->n, syn->cap, 64))
		return NULL;
	r = &syn->v[syn->n++];
	memset(r, 0, sizeof(*r));
	r->lead = r->key_last = r->ind = r->first = r->body = r->last = r->target = YNONE;
	r->kind = (uint8_t)n->kind;
	r->end_rec = (uint32_t)syn->n;
	n->origin = syn->n;
	return r;
}

struct ynode *yload_rec(struct yloader *l, uint32_t i)
{
	return &l->syn->v[i];
}

struct yframe *yload_top(struct yloader *l)
{
	return l->depth > 0 ? &l->stack[l->depth - 1] : NULL;
}

void yload_extend(struct yloader *l, struct yframe *f, uint32_t tok)
{
	struct ynode *r = yload_rec(l, f->rec);

	r->last = later(r->last, tok);
}

static int yfail(const struct yloader *l, size_t pos, const char *what)
{
	size_t line = 1;

	/* a lone CR ends a line too */
	for (size_t i = 0; i < pos && i < l->len; i++)
		line += l->src[i] == '\n' || (l->src[i] == '\r' && (i + 1 >= l->len || l->src[i + 1] != '\n'));
	return GS_FAIL(GS_ERR_PARSE, "invalid YAML at line %zu: %s", line, what);
}

/* libyaml's marks count characters; in ASCII text they are bytes */
static size_t to_byte(struct yloader *l, size_t ch)
{
	if (l->ascii) {
		size_t b = l->cuts.n ? ycuts_real(&l->cuts, ch) : l->base + ch;

		return b < l->len ? b : l->len;
	}
	while (l->cur_char > ch && l->cur_byte > l->base) {
		l->cur_byte--;
		while (l->cur_byte > l->base && (l->src[l->cur_byte] & 0xC0) == 0x80)
			l->cur_byte--;
		l->cur_char--;
	}
	while (l->cur_char < ch && l->cur_byte < l->len) {
		l->cur_byte++;
		while (l->cur_byte < l->len && (l->src[l->cur_byte] & 0xC0) == 0x80)
			l->cur_byte++;
		l->cur_char++;
	}
	return l->cur_byte;
}

/* ====================================================================
 * Tokens of the node being read
 * ==================================================================== */

static bool is_text(uint8_t kind)
{
	return kind >= YT_PLAIN && kind <= YT_FOLDED;
}

/* The first property token in [from, to), or YNONE. */
static uint32_t first_property(const struct yloader *l, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (l->lx->v[i].kind == YT_ANCHOR || l->lx->v[i].kind == YT_TAG)
			return (uint32_t)i;
	return YNONE;
}

static uint32_t first_of(const struct yloader *l, size_t from, size_t to, uint8_t kind)
{
	for (size_t i = from; i < to; i++)
		if (l->lx->v[i].kind == kind)
			return (uint32_t)i;
	return YNONE;
}

/* libyaml reported an anchor: the lexer must have found "&name" */
static void check_anchor(struct yloader *l, const yaml_char_t *anchor, size_t from, size_t to)
{
	uint32_t t = first_of(l, from, to, YT_ANCHOR);
	size_t n = anchor ? strlen((const char *)anchor) : 0;

	if (!anchor)
		return;
	if (t == YNONE || l->lx->v[t].end - l->lx->v[t].start != n + 1 ||
	    memcmp(l->src + l->lx->v[t].start + 1, anchor, n) != 0)
		l->syn->trusted = false;
}

/* The column of a block frame's entries, known once its first entry's
 * first token ('-', '?' or the key) is lexed. */
static void settle_col(struct yloader *l, struct yframe *f, uint32_t lead)
{
	struct ynode *r;

	if (!f || !f->block || f->col_known || lead == YNONE)
		return;
	f->col = ysrc_column(l->lx, l->lx->v[lead].start);
	f->col_known = true;
	r = yload_rec(l, f->rec);
	r->col = (uint32_t)f->col;
	if (r->body == YNONE || lead < r->body)
		r->body = lead;
	if (r->first == YNONE || lead < r->first)
		r->first = lead;
	if (l->depth >= 2) {
		struct yframe *parent = &l->stack[l->depth - 2];

		if (parent->block && parent->node->kind == DOC_MAP && parent->col_known) {
			if (f->node->kind == DOC_LIST && f->col == parent->col)
				r->flags |= YN_INDENTLESS;
			/* the file's indentation step: a block map under a key */
			if (f->node->kind == DOC_MAP && f->col > parent->col && !l->syn->step)
				l->syn->step = f->col - parent->col;
		}
	}
}

/* The first token of the entry being read: its '-' or '?', else the key's
 * (or the item's) first token. */
static uint32_t entry_lead(const struct yloader *l, const struct yframe *f, uint32_t node_first)
{
	size_t to = node_first == YNONE ? l->lx->n : node_first;

	for (size_t i = f->entry_from; i < to; i++)
		if (l->lx->v[i].kind == YT_DASH || l->lx->v[i].kind == YT_QUESTION)
			return (uint32_t)i;
	return node_first;
}

/* libyaml's parser->indent while it reads the node: the column of the
 * innermost block collection (-1 at the top). */
static long parent_indent(const struct yloader *l)
{
	for (int i = l->depth - 1; i >= 0; i--)
		if (l->stack[i].block)
			return l->stack[i].col_known ? (long)l->stack[i].col : -1;
	return -1;
}

/* YAML 1.2 7.x: in block context, the lines a flow collection or a quoted
 * scalar continues on are indented deeper than the block around them
 * (libyaml takes them at any column). Lines holding only blanks, a comment
 * or a closing bracket pass. */
static int check_continuation(struct yloader *l, size_t from, size_t to, long n)
{
	if (n < 0)
		return 0;
	for (size_t line = ysrc_next_line(l->lx, from); line < to && line < l->len;
	     line = ysrc_next_line(l->lx, line)) {
		size_t k = 0, c;

		while (line + k < l->len && l->src[line + k] == ' ')
			k++;
		for (c = line + k; c < l->len && (l->src[c] == ' ' || l->src[c] == '\t'); c++)
			;
		if (c >= l->len || ysrc_break_len(l->src, l->len, c) || strchr("#]}", l->src[c]))
			continue;
		if ((long)k <= n)
			return yfail(l, line, "a line inside a flow collection or a quoted scalar must be "
					      "indented deeper than the block around it");
	}
	return 0;
}

/* ====================================================================
 * Scalars
 * ==================================================================== */

enum tag_class { TAG_NONE, TAG_STR, TAG_INT, TAG_FLOAT, TAG_BOOL, TAG_NULL, TAG_OTHER };

static enum tag_class classify_tag(const char *tag)
{
	static const struct {
		const char *name;
		enum tag_class cls;
	} core[] = { { "str", TAG_STR },     { "int", TAG_INT },   { "float", TAG_FLOAT },
		     { "bool", TAG_BOOL },   { "null", TAG_NULL } };

	/* the non-specific tag "!": yaml.v3 (parser.go node) resolves such a
	 * scalar as if it had no tag, as sops, Flux, kubectl and PyYAML do
	 * ("! 1" the integer 1), though YAML 1.2 would make it a string */
	if (!tag || strcmp(tag, "!") == 0)
		return TAG_NONE;
	if (strncmp(tag, core_prefix, sizeof(core_prefix) - 1) != 0)
		return TAG_OTHER;
	for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++)
		if (strcmp(tag + sizeof(core_prefix) - 1, core[i].name) == 0)
			return core[i].cls;
	return TAG_OTHER;
}

struct typed {
	enum doc_type type;
	const char *text;
	size_t len;
	bool keep_tag;   /* the tag says more than the type */
	bool too_big;    /* an integer above int64 */
	struct gs_buf buf;
};

/* The doc type of a resolved plain scalar, and its text in sops's form. */
static int resolved_to_doc(enum yaml_resolved r, int64_t iv, double fv, struct typed *t)
{
	switch (r) {
	case YAML_RESOLVED_NULL:
		t->type = DOC_NULL;
		t->text = "";
		t->len = 0;
		return 0;
	case YAML_RESOLVED_BOOL:
		t->type = DOC_BOOL;
		t->text = iv ? "true" : "false";
		t->len = strlen(t->text);
		return 0;
	case YAML_RESOLVED_INT:
		t->type = DOC_INT;
		if (gs_buf_printf(&t->buf, "%" PRId64, iv))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		break;
	case YAML_RESOLVED_UINT:
		t->too_big = true;
		return 0;
	case YAML_RESOLVED_FLOAT:
		t->type = DOC_FLOAT;
		if (float_format_positional(fv, &t->buf))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		break;
	default:
		return 0;
	}
	t->text = (const char *)t->buf.data;
	t->len = t->buf.len;
	return 0;
}

static bool tag_accepts(enum tag_class cls, enum yaml_resolved r)
{
	switch (cls) {
	case TAG_INT: return r == YAML_RESOLVED_INT || r == YAML_RESOLVED_UINT;
	case TAG_FLOAT: return r == YAML_RESOLVED_FLOAT || r == YAML_RESOLVED_INT;
	case TAG_BOOL: return r == YAML_RESOLVED_BOOL;
	case TAG_NULL: return r == YAML_RESOLVED_NULL;
	default: return false;
	}
}

/* yaml.v3's typing (resolve.go): a plain scalar resolves; a quoted or
 * block one is a string; a core tag makes the text resolve as that type,
 * and a tag that does not fit its text, or any other tag, is kept. */
static int type_scalar(const yaml_event_t *ev, struct typed *t)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	enum tag_class cls = classify_tag((const char *)ev->data.scalar.tag);
	enum yaml_resolved r;
	int64_t iv = 0;
	double fv = 0;
	int ret;

	t->type = DOC_STR;
	t->text = v;
	t->len = len;
	if (cls == TAG_STR)
		return 0;
	if (cls == TAG_OTHER) {
		t->keep_tag = true;
		return 0;
	}
	if (cls == TAG_NONE && ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	r = yaml_resolve_plain(v, len, &iv, &fv);
	if (cls != TAG_NONE && !tag_accepts(cls, r)) {
		t->keep_tag = true;
		return 0;
	}
	if (cls == TAG_FLOAT && r == YAML_RESOLVED_INT) {
		fv = (double)iv;
		r = YAML_RESOLVED_FLOAT;
	}
	ret = resolved_to_doc(r, iv, fv, t);
	/* a number spelled as sops's ParseFloat or Atoi reads it stays so:
	 * encrypted and written back as the file has it (doc_equal compares
	 * values) */
	if (ret == 0 && ((r == YAML_RESOLVED_FLOAT && yaml_float_spelling_kept(v, len)) ||
			 (r == YAML_RESOLVED_INT && store_int_spelling_kept(v, len)))) {
		t->text = v;
		t->len = len;
	}
	return ret;
}

static enum ytok_kind style_kind(yaml_scalar_style_t style)
{
	switch (style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE: return YT_SINGLE;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return YT_DOUBLE;
	case YAML_LITERAL_SCALAR_STYLE: return YT_LITERAL;
	case YAML_FOLDED_SCALAR_STYLE: return YT_FOLDED;
	default: return YT_PLAIN;
	}
}

/* ====================================================================
 * Attaching nodes
 * ==================================================================== */

static int add_anchor(struct yloader *l, const yaml_char_t *name, struct doc_node *n)
{
	int ret;

	if (!name)
		return 0;
	if ((ret = GS_ARRAY_GROW(l->anchors, l->n_anchors, l->cap_anchors, 8)))
		return ret;
	l->anchors[l->n_anchors].name = gs_strdup((const char *)name);
	if (!l->anchors[l->n_anchors].name)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	l->anchors[l->n_anchors++].node = n;
	if (n->origin)
		l->syn->v[n->origin - 1].anchored = true;
	return 0;
}

static void forget_anchors(struct yloader *l)
{
	for (size_t i = 0; i < l->n_anchors; i++)
		free(l->anchors[i].name);
	l->n_anchors = 0;
}

/* A document's root. A null (an empty document) is an empty map. */
static int attach_root(struct yloader *l, struct doc_node *n, size_t start)
{
	struct ynode *r;

	if (l->root)
		return yfail(l, start, "several nodes in one document");
	if (n->kind == DOC_SCALAR && n->type == DOC_NULL) {
		struct ynode *nr = ysyn_node(l->syn, n) ? &l->syn->v[n->origin - 1] : NULL;
		uint32_t props = nr ? nr->first : YNONE;

		if (!(n = doc_new_map(l->d)))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		if (!l->tree_only) {
			if (!(r = yload_new_record(l, n)))
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			r->flags = YN_EMPTY_ROOT;
			r->lead = l->doc_start;
			r->first = props;
			r->last = later(props, l->doc_start);
		}
	} else if (n->kind != DOC_MAP) {
		return yfail(l, start, "a document must be a mapping");
	} else if (!l->tree_only) {
		r = &l->syn->v[n->origin - 1];
		r->lead = l->doc_start;
	}
	l->root = n;
	return doc_add_branch(l->d, n);
}

static int attach_key(struct yloader *l, struct yframe *f, const char *key, size_t len,
		      uint32_t first, uint32_t last, size_t key_end, size_t start)
{
	int ret = store_keyset_has(&f->keys, f->node, key, len);

	if (ret < 0)
		return ret;
	if (ret)
		return yfail(l, start, "duplicate mapping key");
	f->key = gs_arena_strndup(&l->d->arena, key, len);
	if (!f->key)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	f->key_len = len;
	f->have_key = true;
	f->key_first = entry_lead(l, f, first);
	f->key_last = last;
	f->key_end = key_end;
	settle_col(l, f, f->key_first);
	return 0;
}

/* Adds a finished value (its record made) to the open map or list. */
static int attach_value(struct yloader *l, struct yframe *f, struct doc_node *n)
{
	struct ynode *r = &l->syn->v[n->origin - 1];
	struct doc_entry *e;

	if (f->node->kind == DOC_MAP) {
		r->lead = f->key_first;
		r->key_last = f->key_last;
		r->ind = first_of(l, f->key_last != YNONE ? f->key_last + 1 : f->entry_from,
				  r->first == YNONE ? l->lx->n : r->first, YT_COLON);
		f->have_key = false;
	} else {
		r->lead = entry_lead(l, f, r->first);
		if (r->lead != YNONE && l->lx->v[r->lead].kind == YT_DASH)
			r->ind = r->lead;
		settle_col(l, f, r->lead);
	}
	e = doc_append(l->d, f->node, f->node->kind == DOC_MAP ? f->key : NULL,
		       f->node->kind == DOC_MAP ? f->key_len : 0, n);
	if (!e)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	e->origin = n->origin;
	yload_extend(l, f, ysyn_entry_last(r));
	f->entry_from = (uint32_t)l->lx->n;
	return 0;
}

static void note_value(struct yloader *l, bool is_value, size_t end)
{
	struct yframe *f = yload_top(l);

	l->last_was_value = is_value && f;
	if (l->last_was_value) {
		l->last_value_parent = f->node;
		l->last_value_end = end;
	}
}

/* ====================================================================
 * Events
 * ==================================================================== */

static int on_key_scalar(struct yloader *l, const yaml_event_t *ev, struct yframe *f, uint32_t first,
			 uint32_t last, size_t start, size_t end)
{
	struct typed t;
	int ret;

	memset(&t, 0, sizeof(t));
	gs_buf_init(&t.buf, true);
	if ((ret = type_scalar(ev, &t)))
		goto out;
	if (t.type != DOC_STR || t.too_big) {
		ret = yfail(l, start, "a mapping key must be a string");
		goto out;
	}
	if ((ret = attach_key(l, f, t.text, t.len, first, last, end, start)))
		goto out;
	if (ev->data.scalar.anchor) {
		/* an alias may name a key: it gets a node of its own, with no
		 * record (its aliases are expanded whenever the file changes) */
		struct doc_node *n = doc_new_scalar(l->d, DOC_STR, t.text, t.len);

		ret = n ? add_anchor(l, ev->data.scalar.anchor, n) : GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
out:
	gs_buf_release(&t.buf);
	l->last_was_value = false;
	return ret;
}

/* Whether a string's value is the source's bytes at `at` (DOC_NO_POS:
 * unknown), for a document that shares its source: then the node points
 * there (a value is what its bytes are, however the scalar was quoted). */
static bool value_in_source(const struct yloader *l, const struct typed *t, size_t at)
{
	return l->d->share_source && t->type == DOC_STR && t->len >= DOC_SHARE_MIN && at != DOC_NO_POS &&
	       at <= l->len && t->len <= l->len - at && memcmp(l->src + at, t->text, t->len) == 0;
}

/* at: where the scalar's text starts in the source, inside its quotes
 * (DOC_NO_POS when not known). */
static int make_scalar(struct yloader *l, const yaml_event_t *ev, size_t start, size_t at,
		       struct doc_node **out)
{
	struct typed t;
	struct doc_node *n = NULL;
	int ret;

	memset(&t, 0, sizeof(t));
	gs_buf_init(&t.buf, true);
	if ((ret = type_scalar(ev, &t)))
		goto out;
	if (t.too_big) {
		ret = yfail(l, start, "integer out of the int64 range");
		goto out;
	}
	n = value_in_source(l, &t, at) ? doc_new_scalar_at(l->d, t.type, at, t.len)
				       : doc_new_scalar(l->d, t.type, t.text, t.len);
	if (!n) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (t.keep_tag)
		ret = doc_node_set_tag(l->d, n, (const char *)ev->data.scalar.tag);
out:
	gs_buf_release(&t.buf);
	*out = n;
	return ret;
}

/* The tokens ylex_scalar gave a scalar: [mark, lx->n). */
struct scalar_tokens {
	uint32_t first, text, body, last, header_comment;
};

static void find_scalar_tokens(struct yloader *l, size_t mark, struct scalar_tokens *st)
{
	st->first = st->text = st->body = st->last = st->header_comment = YNONE;
	for (size_t i = mark; i < l->lx->n; i++) {
		uint8_t k = l->lx->v[i].kind;

		if (k == YT_COMMENT) {
			if (st->text != YNONE)
				st->header_comment = (uint32_t)i;
			continue;
		}
		if (st->first == YNONE)
			st->first = (uint32_t)i;
		if (is_text(k))
			st->text = (uint32_t)i;
		st->last = (uint32_t)i;
	}
	st->body = st->text;
}

/* Where a scalar's text starts, inside its quotes. */
static size_t text_start(const struct yloader *l, const struct scalar_tokens *st)
{
	uint8_t k;

	if (st->text == YNONE)
		return DOC_NO_POS;
	k = l->lx->v[st->text].kind;
	if (k == YT_PLAIN)
		return l->lx->v[st->text].start;
	return k == YT_SINGLE || k == YT_DOUBLE ? l->lx->v[st->text].start + 1 : DOC_NO_POS;
}

/* The lexer and libyaml must agree on where the text starts. */
static void check_text(struct yloader *l, const yaml_event_t *ev, const struct scalar_tokens *st,
		       size_t start)
{
	enum ytok_kind kind = style_kind(ev->data.scalar.style);

	/* without properties, libyaml's scalar starts with its text */
	if (!ev->data.scalar.anchor && !ev->data.scalar.tag && st->text != YNONE &&
	    l->lx->v[st->text].start != start)
		l->syn->trusted = false;

	if (st->text == YNONE) {
		if (ev->data.scalar.length || kind != YT_PLAIN)
			l->syn->trusted = false;
		return;
	}
	if (l->lx->v[st->text].kind != kind ||
	    (kind == YT_SINGLE && l->src[l->lx->v[st->text].start] != '\'') ||
	    (kind == YT_DOUBLE && l->src[l->lx->v[st->text].start] != '"'))
		l->syn->trusted = false;
}

/* The value of a scalar libyaml read with cuts in it (yaml_elide.c), as
 * libyaml reading every byte would have given it, into *value (pointing
 * into the text, or into lit): a value without properties that is no
 * key, either plain on one line, whose text less the cuts is what libyaml
 * read (it is then its text), or a "|" or "|-" block scalar of the shape
 * ycuts_literal_value takes (an age stanza's armor). Anything else:
 * CUT_GIVE_UP (the full loader reads the whole text again, the tree-only
 * one hands it to the full one). */
static int cut_value(struct yloader *l, const yaml_event_t *ev, const struct yframe *f, size_t start,
		     size_t end, size_t cuts, struct gs_buf *lit, const char **value, size_t *len)
{
	yaml_scalar_style_t style = ev->data.scalar.style;
	int ret;

	if ((style != YAML_PLAIN_SCALAR_STYLE && style != YAML_LITERAL_SCALAR_STYLE) || ev->data.scalar.tag ||
	    ev->data.scalar.anchor || (f && f->node->kind == DOC_MAP && !f->have_key))
		return CUT_GIVE_UP;
	if (style == YAML_LITERAL_SCALAR_STYLE) {
		if ((ret = ycuts_literal_value(&l->cuts, (const char *)ev->data.scalar.value, ev->data.scalar.length,
					       start, end, lit)))
			return ret < 0 ? ret : CUT_GIVE_UP;
		*value = (const char *)lit->data;
		*len = lit->len;
	} else {
		if (!ycuts_value_is_text(&l->cuts, (const char *)ev->data.scalar.value, ev->data.scalar.length,
					 start, end))
			return CUT_GIVE_UP;
		*value = (const char *)l->src + start;
		*len = end - start;
	}
	if (ycuts_take(&l->cuts, start, end) != cuts)
		return CUT_GIVE_UP;
	l->cuts.covered += cuts;
	return 0;
}

static int on_scalar_read(struct yloader *l, const yaml_event_t *ev, size_t start, size_t end);

/* In the full loader: ev, with a value cut_value gives when libyaml read it
 * with cuts in it. */
static int on_scalar(struct yloader *l, const yaml_event_t *ev, size_t start, size_t end)
{
	size_t cuts = l->cuts.n ? ycuts_within(&l->cuts, start, end) : 0;
	yaml_event_t whole;
	struct gs_buf lit;
	const char *value;
	size_t len;
	int ret;

	if (!cuts)
		return on_scalar_read(l, ev, start, end);
	gs_buf_init(&lit, true);
	if (!(ret = cut_value(l, ev, yload_top(l), start, end, cuts, &lit, &value, &len))) {
		whole = *ev;
		whole.data.scalar.value = (yaml_char_t *)(uintptr_t)value;
		whole.data.scalar.length = len;
		ret = on_scalar_read(l, &whole, start, end);
	}
	gs_buf_release(&lit);
	return ret;
}

static int on_scalar_read(struct yloader *l, const yaml_event_t *ev, size_t start, size_t end)
{
	struct yframe *f = yload_top(l);
	struct scalar_tokens st;
	struct doc_node *n;
	struct ynode *r;
	size_t mark;
	int ret;

	if ((ret = ylex_gap(l->lx, start)) < 0)
		return ret;
	if (f && f->block && !f->col_known && f->node->kind == DOC_LIST)
		settle_col(l, f, entry_lead(l, f, YNONE));
	mark = l->lx->n;
	if ((ret = ylex_scalar(l->lx, start, end, style_kind(ev->data.scalar.style),
			       parent_indent(l))) < 0)
		return ret;
	find_scalar_tokens(l, mark, &st);
	check_text(l, ev, &st, start);
	if ((!f || f->block) && (ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
				 ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) &&
	    (ret = check_continuation(l, start, end, parent_indent(l))))
		return ret;
	check_anchor(l, ev->data.scalar.anchor, mark, l->lx->n);
	if ((ret = ycomments_place(l, st.text == YNONE ? l->lx->n : st.text, YPLACE_NODE)))
		return ret;
	if (f && f->node->kind == DOC_MAP && !f->have_key)
		return on_key_scalar(l, ev, f, st.first, st.last,
				     st.text == YNONE ? end : l->lx->v[st.text].start, end);
	if ((ret = make_scalar(l, ev, start, text_start(l, &st), &n)))
		return ret;
	if (!(r = yload_new_record(l, n)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	r->first = st.first;
	r->body = st.body;
	r->last = st.last;
	r->style = (uint8_t)style_kind(ev->data.scalar.style);
	if (f && f->node->kind == DOC_MAP && f->have_key && (ret = ycomments_flush(l, f)))
		return ret;
	if ((ret = f ? attach_value(l, f, n) : attach_root(l, n, start)) ||
	    (ret = add_anchor(l, ev->data.scalar.anchor, n)))
		goto out;
	if (f && st.header_comment != YNONE)
		ret = ycomments_add_inline(l, f, st.header_comment);
out:
	note_value(l, !ret, st.last == YNONE ? end : l->lx->v[st.last].end);
	return ret;
}

static size_t count_nodes(const struct doc_node *n, size_t limit)
{
	size_t c = 1;

	if (n->kind != DOC_MAP && n->kind != DOC_LIST)
		return c;
	for (size_t i = 0; i < n->count && c <= limit; i++)
		c += count_nodes(n->entries[i].value, limit - c);
	return c;
}

static int find_alias_target(struct yloader *l, const yaml_event_t *ev, size_t start,
			     struct doc_node **out)
{
	struct doc_node *target = NULL;
	size_t size;

	for (size_t i = l->n_anchors; i-- > 0 && !target;)
		if (strcmp(l->anchors[i].name, (const char *)ev->data.alias.anchor) == 0)
			target = l->anchors[i].node;
	if (!target)
		return yfail(l, start, "unknown alias");
	for (int i = 0; i < l->depth; i++)
		if (l->stack[i].node == target)
			return yfail(l, start, "an anchor contains its own alias");
	size = count_nodes(target, (size_t)l->budget + 1);
	if ((long)size > l->budget)
		return GS_FAIL(GS_ERR_LIMIT, "YAML aliases expand to too many nodes");
	l->budget -= (long)size;
	*out = target;
	return 0;
}

/* Every node of an alias's copy gets a record pointing at the alias
 * token, so that nothing in it reads as new. */
static int copy_records(struct yloader *l, struct doc_node *n, uint32_t alias)
{
	struct ynode *r = yload_new_record(l, n);
	uint32_t self;
	int ret = 0;

	if (!r)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	r->first = r->body = r->last = alias;
	r->flags = YN_ALIAS | YN_IN_COPY;
	/* the copy's tag as loaded: else a tagged collection's alias reads
	 * as retagged and is written out unchanged (fuzz_yaml) */
	r->tag = n->tag;
	self = (uint32_t)(n->origin - 1);
	for (size_t i = 0; i < n->count && !ret; i++) {
		ret = copy_records(l, n->entries[i].value, alias);
		n->entries[i].origin = n->entries[i].value->origin;
	}
	yload_rec(l, self)->end_rec = (uint32_t)l->syn->n;
	return ret;
}

static int on_alias(struct yloader *l, const yaml_event_t *ev, size_t start, size_t end)
{
	struct yframe *f = yload_top(l);
	struct doc_node *target, *n;
	struct ynode *r;
	size_t name = strlen((const char *)ev->data.alias.anchor);
	int ret;

	if ((ret = ylex_alias(l->lx, start, end)) < 0)
		return ret;
	if (end - start != name + 1 || memcmp(l->src + start + 1, ev->data.alias.anchor, name) != 0)
		l->syn->trusted = false;
	if ((ret = ycomments_place(l, l->lx->n - 1, YPLACE_NODE)))
		return ret;
	/* A key written "*x" would change with the value it names once that
	 * is encrypted (fuzz_yaml); sops reads such a key as the anchor's
	 * name. Neither is a key anyone means: refused. */
	if (f && f->node->kind == DOC_MAP && !f->have_key)
		return yfail(l, start, "an alias cannot be a mapping key");
	if ((ret = find_alias_target(l, ev, start, &target)))
		return ret;
	if (!(n = doc_clone(l->d, target)) || (ret = copy_records(l, n, (uint32_t)(l->lx->n - 1))))
		return ret ? ret : GS_FAIL(GS_ERR_NOMEM, "out of memory");
	r = yload_rec(l, (uint32_t)(n->origin - 1));
	r->flags = YN_ALIAS;
	r->target = target->origin ? (uint32_t)(target->origin - 1) : YNONE;
	if (f && f->node->kind == DOC_MAP && f->have_key && (ret = ycomments_flush(l, f)))
		return ret;
	ret = f ? attach_value(l, f, n) : attach_root(l, n, start);
	note_value(l, !ret && n->kind == DOC_SCALAR, end);
	return ret;
}

static int push_frame(struct yloader *l, struct doc_node *n, bool flow, uint32_t entry_from)
{
	struct yframe *f = &l->stack[l->depth++];

	memset(f, 0, sizeof(*f));
	f->node = n;
	f->rec = (uint32_t)(n->origin - 1);
	f->block = !flow;
	f->entry_from = entry_from;
	store_keyset_init(&f->keys);
	l->last_was_value = false;
	/* head comments of the first entry, waiting since the key */
	return ycomments_flush(l, f);
}

/* A tag on a map or list is data unless it only says "map" or "list". */
static int keep_collection_tag(struct yloader *l, struct doc_node *n, const yaml_char_t *tag)
{
	const char *t = (const char *)tag;

	if (!t || strcmp(t, "!") == 0 ||
	    (strncmp(t, core_prefix, sizeof(core_prefix) - 1) == 0 &&
	     strcmp(t + sizeof(core_prefix) - 1, n->kind == DOC_MAP ? "map" : "seq") == 0))
		return 0;
	return doc_node_set_tag(l->d, n, t);
}

static int on_collection_start(struct yloader *l, const yaml_event_t *ev, size_t start, size_t end)
{
	bool map = ev->type == YAML_MAPPING_START_EVENT;
	bool flow = map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
			: ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	const yaml_char_t *anchor = map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
	struct yframe *f = yload_top(l);
	struct doc_node *n;
	struct ynode *r;
	uint32_t open;
	size_t mark;
	int ret;

	if (l->depth >= STORE_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "YAML nested deeper than %d levels", STORE_MAX_DEPTH);
	if (f && f->node->kind == DOC_MAP && !f->have_key)
		return yfail(l, start, "a mapping key must be a string");
	if ((ret = ylex_gap(l->lx, start)) < 0)
		return ret;
	if (f && f->block && !f->col_known && f->node->kind == DOC_LIST)
		settle_col(l, f, entry_lead(l, f, YNONE));
	mark = l->lx->n;
	if ((ret = ylex_gap(l->lx, end)) < 0)
		return ret;
	check_anchor(l, anchor, mark, l->lx->n);
	l->item_dash = f && f->block && f->node->kind == DOC_LIST ? entry_lead(l, f, YNONE) : YNONE;
	ret = ycomments_place(l, l->lx->n, YPLACE_CONTAINER_START);
	l->item_dash = YNONE;
	if (ret)
		return ret;
	n = map ? doc_new_map(l->d) : doc_new_list(l->d);
	if (!n || !(r = yload_new_record(l, n)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	n->flow = flow;
	if ((ret = keep_collection_tag(l, n, map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag)))
		return ret;
	r->tag = n->tag;
	open = first_of(l, mark, l->lx->n, map ? YT_MAP_OPEN : YT_SEQ_OPEN);
	r->first = first_property(l, mark, l->lx->n);
	if (flow) {
		r->flags = YN_FLOW | (open != YNONE ? YN_BRACKETS : 0);
		r->body = open;
		if (r->first == YNONE)
			r->first = open;
		r->last = open;
	} else {
		r->last = r->first;
	}
	if ((ret = f ? attach_value(l, f, n) : attach_root(l, n, start)) || (ret = add_anchor(l, anchor, n)))
		return ret;
	return push_frame(l, n, flow, flow ? (uint32_t)l->lx->n : (uint32_t)mark);
}

static int on_collection_end(struct yloader *l, size_t start, size_t end)
{
	struct yframe *f = yload_top(l);
	uint32_t last;
	int ret;

	if ((ret = ylex_gap(l->lx, f->block ? start : end)) < 0)
		return ret;
	if (!f->block) {
		uint8_t kind = f->node->kind == DOC_MAP ? YT_MAP_CLOSE : YT_SEQ_CLOSE;

		for (size_t i = l->lx->n; i-- > f->entry_from;) {
			if (l->lx->v[i].kind == kind) {
				yload_extend(l, f, (uint32_t)i);
				break;
			}
		}
	}
	if ((ret = ycomments_place(l, l->lx->n, f->block ? YPLACE_BLOCK_END : YPLACE_OTHER)))
		return ret;
	if (f->node->kind == DOC_MAP && f->have_key)
		return yfail(l, start, "mapping key without a value");
	if (!f->block && (l->depth < 2 || l->stack[l->depth - 2].block)) {
		struct ynode *r = yload_rec(l, f->rec);
		long n = l->depth >= 2 && l->stack[l->depth - 2].col_known ? (long)l->stack[l->depth - 2].col : -1;

		if (r->body != YNONE && (ret = check_continuation(l, l->lx->v[r->body].start, end, n)))
			return ret;
	}
	last = yload_rec(l, f->rec)->last;
	yload_rec(l, f->rec)->end_rec = (uint32_t)l->syn->n;
	store_keyset_release(&f->keys);
	l->depth--;
	if (yload_top(l)) {
		yload_extend(l, yload_top(l), last);
		/* what follows is the outer collection's next entry */
		yload_top(l)->entry_from = (uint32_t)l->lx->n;
	}
	l->last_was_value = false;
	return 0;
}

static int on_document_start(struct yloader *l, size_t end)
{
	size_t mark = l->lx->n;
	int ret = ylex_gap(l->lx, end);

	if (ret < 0)
		return ret;
	l->doc_start = first_of(l, mark, l->lx->n, YT_DOC_START);
	ret = ycomments_place(l, l->lx->n, YPLACE_OTHER);
	/* anchors belong to their document (fuzz_yaml: an alias in the next
	 * one was accepted, and that document was not patchable) */
	forget_anchors(l);
	l->root = NULL;
	return ret;
}

static int on_document_end(struct yloader *l, size_t end)
{
	int ret;

	if ((ret = ylex_gap(l->lx, end)) || (ret = ycomments_place(l, l->lx->n, YPLACE_OTHER)))
		goto out;
	if (l->carry.n && l->root) {
		struct yframe f;

		memset(&f, 0, sizeof(f));
		f.node = l->root;
		f.rec = (uint32_t)(l->root->origin - 1);
		ret = ycomments_flush(l, &f);
		yload_rec(l, f.rec)->end_rec = (uint32_t)l->syn->n;
	}
out:
	l->last_was_value = false;
	return ret;
}

static int dispatch(struct yloader *l, const yaml_event_t *ev, size_t start, size_t end);
static int tree_dispatch(struct yloader *l, const yaml_event_t *ev, size_t start, size_t end);

static int on_event(struct yloader *l, const yaml_event_t *ev)
{
	size_t start = to_byte(l, ev->start_mark.index);
	size_t end = to_byte(l, ev->end_mark.index);
	int ret = l->tree_only ? tree_dispatch(l, ev, start, end) : dispatch(l, ev, start, end);

	if (ret || !l->lx->invalid)
		return ret;
	return yfail(l, l->lx->invalid_pos, l->lx->invalid);
}

static int dispatch(struct yloader *l, const yaml_event_t *ev, size_t start, size_t end)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		/* YAML 1.2 9.2: directives start a stream or follow a "..." */
		if ((ev->data.document_start.version_directive ||
		     ev->data.document_start.tag_directives.start != ev->data.document_start.tag_directives.end) &&
		    l->open_ended)
			return yfail(l, start, "a directive after a document needs a \"...\" before it");
		return on_document_start(l, end);
	case YAML_DOCUMENT_END_EVENT:
		l->open_ended = ev->data.document_end.implicit;
		return on_document_end(l, end);
	case YAML_ALIAS_EVENT:
		return on_alias(l, ev, start, end);
	case YAML_SCALAR_EVENT:
		return on_scalar(l, ev, start, end);
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		return on_collection_start(l, ev, start, end);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		return on_collection_end(l, start, end);
	case YAML_STREAM_END_EVENT: {
		int ret = ylex_gap(l->lx, l->len);

		return ret ? ret : ycomments_place(l, l->lx->n, YPLACE_OTHER);
	}
	default:
		return 0;
	}
}

/* ====================================================================
 * The tree alone (yaml_load_data)
 * ====================================================================
 *
 * A proof compares trees: it needs neither the tokens nor the records,
 * which are a third of the loader's work. Without the lexer, what it
 * decides must be decided otherwise or not at all: the text has no '#'
 * (no comment entries, no comment glued to a value) and, as the events
 * come, whatever the lexer or check_continuation could refuse gives up
 * (TREE_GIVE_UP): a directive, a quoted scalar or a flow collection over
 * several lines in block context, a block scalar with properties or with
 * a blank line first. Giving up, or any error, hands the text to the full
 * loader, which decides and names the error. test_store_yaml checks both
 * loaders agree over the conformance suite and the fixtures. */

static bool has_break(const struct yloader *l, size_t from, size_t to)
{
	for (size_t i = from; i < to && i < l->len; i++)
		if (ysrc_break_len(l->src, l->len, i))
			return true;
	return false;
}

/* A block scalar whose header stands where libyaml starts it (no
 * properties) and whose next line has text: the lexer's one refusal
 * there (block_indent: leading blank lines deeper than the first line)
 * needs a blank line first. */
static bool block_header_then_text(const struct yloader *l, size_t start)
{
	size_t i = start, b;

	if (start >= l->len || (l->src[start] != '|' && l->src[start] != '>'))
		return false;
	while (i < l->len && !(b = ysrc_break_len(l->src, l->len, i)))
		i++;
	if (i >= l->len)
		return true;
	for (i += b; i < l->len && l->src[i] == ' '; i++)
		;
	return i >= l->len || !ysrc_break_len(l->src, l->len, i);
}

static int tree_attach(struct yloader *l, struct yframe *f, struct doc_node *n, size_t start)
{
	if (!f)
		return attach_root(l, n, start);
	if (!doc_append(l->d, f->node, f->node->kind == DOC_MAP ? f->key : NULL,
			f->node->kind == DOC_MAP ? f->key_len : 0, n))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	f->have_key = false;
	return 0;
}

/* A scalar libyaml read with cuts in it (yaml_elide.c): a string whose
 * value cut_value gives; anything else is read again whole. */
static int tree_on_cut_scalar(struct yloader *l, const yaml_event_t *ev, struct yframe *f, size_t start,
			      size_t end, size_t cuts)
{
	struct doc_node *n;
	struct gs_buf lit;
	const char *value;
	size_t len;
	int64_t iv;
	double fv;
	int ret;

	gs_buf_init(&lit, true);
	if ((ret = cut_value(l, ev, f, start, end, cuts, &lit, &value, &len))) {
		ret = ret < 0 ? ret : TREE_GIVE_UP;
		goto out;
	}
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    yaml_resolve_plain(value, len, &iv, &fv) != YAML_RESOLVED_STR) {
		ret = TREE_GIVE_UP;
		goto out;
	}
	if (!(n = doc_new_scalar(l->d, DOC_STR, value, len))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	ret = tree_attach(l, f, n, start);
out:
	gs_buf_release(&lit);
	return ret;
}

static int tree_on_scalar(struct yloader *l, const yaml_event_t *ev, size_t start, size_t end)
{
	struct yframe *f = yload_top(l);
	yaml_scalar_style_t style = ev->data.scalar.style;
	size_t cuts = l->cuts.n ? ycuts_within(&l->cuts, start, end) : 0;
	struct doc_node *n;
	int ret;

	if (cuts)
		return tree_on_cut_scalar(l, ev, f, start, end, cuts);
	if ((style == YAML_SINGLE_QUOTED_SCALAR_STYLE || style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) &&
	    (!f || f->block) && has_break(l, start, end))
		return TREE_GIVE_UP;
	if ((style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE) &&
	    !block_header_then_text(l, start))
		return TREE_GIVE_UP;
	/* no tokens: the key's lead and column stay unknown (attach_key) */
	if (f && f->node->kind == DOC_MAP && !f->have_key)
		return on_key_scalar(l, ev, f, YNONE, YNONE, start, end);
	if ((ret = make_scalar(l, ev, start, DOC_NO_POS, &n)) || (ret = tree_attach(l, f, n, start)))
		return ret;
	return add_anchor(l, ev->data.scalar.anchor, n);
}

static int tree_on_alias(struct yloader *l, const yaml_event_t *ev, size_t start)
{
	struct yframe *f = yload_top(l);
	struct doc_node *target, *n;
	int ret;

	if (f && f->node->kind == DOC_MAP && !f->have_key)
		return yfail(l, start, "an alias cannot be a mapping key");
	if ((ret = find_alias_target(l, ev, start, &target)))
		return ret;
	if (!(n = doc_clone(l->d, target)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return tree_attach(l, f, n, start);
}

static int tree_on_collection_start(struct yloader *l, const yaml_event_t *ev, size_t start)
{
	bool map = ev->type == YAML_MAPPING_START_EVENT;
	bool flow = map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
			: ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	struct yframe *f = yload_top(l), *g;
	struct doc_node *n;
	int ret;

	if (l->depth >= STORE_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "YAML nested deeper than %d levels", STORE_MAX_DEPTH);
	if (f && f->node->kind == DOC_MAP && !f->have_key)
		return yfail(l, start, "a mapping key must be a string");
	if (!(n = map ? doc_new_map(l->d) : doc_new_list(l->d)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	n->flow = flow;
	if ((ret = keep_collection_tag(l, n, map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag)) ||
	    (ret = tree_attach(l, f, n, start)) ||
	    (ret = add_anchor(l, map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor, n)))
		return ret;
	g = &l->stack[l->depth++];
	memset(g, 0, sizeof(*g));
	g->node = n;
	g->block = !flow;
	g->flow_start = start;
	store_keyset_init(&g->keys);
	return 0;
}

static int tree_on_collection_end(struct yloader *l, size_t start, size_t end)
{
	struct yframe *f = yload_top(l);

	if (f->node->kind == DOC_MAP && f->have_key)
		return yfail(l, start, "mapping key without a value");
	/* check_continuation's lines: a flow collection in block context */
	if (!f->block && (l->depth < 2 || l->stack[l->depth - 2].block) && has_break(l, f->flow_start, end))
		return TREE_GIVE_UP;
	store_keyset_release(&f->keys);
	l->depth--;
	return 0;
}

static int tree_dispatch(struct yloader *l, const yaml_event_t *ev, size_t start, size_t end)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		/* the lexer checks a %YAML directive's text */
		if (ev->data.document_start.version_directive ||
		    ev->data.document_start.tag_directives.start != ev->data.document_start.tag_directives.end)
			return TREE_GIVE_UP;
		forget_anchors(l);
		l->root = NULL;
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		l->open_ended = ev->data.document_end.implicit;
		return 0;
	case YAML_ALIAS_EVENT:
		return tree_on_alias(l, ev, start);
	case YAML_SCALAR_EVENT:
		return tree_on_scalar(l, ev, start, end);
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		return tree_on_collection_start(l, ev, start);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		return tree_on_collection_end(l, start, end);
	default:
		return 0;
	}
}

/* ====================================================================
 * The load
 * ==================================================================== */

/* Eight bytes at a time: this runs over the whole file. */
static bool is_ascii(const uint8_t *s, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		if (w & UINT64_C(0x8080808080808080))
			return false;
	}
	for (; i < len; i++)
		if (s[i] & 0x80)
			return false;
	return true;
}

static void loader_release(struct yloader *l)
{
	forget_anchors(l);
	free(l->anchors);
	ycomments_release(l);
	ycuts_release(&l->cuts);
	for (int i = 0; l->stack && i < l->depth; i++)
		store_keyset_release(&l->stack[i].keys);
	free(l->stack);
}

static int loader_init(struct yloader *l, struct doc *d, size_t len)
{
	const uint8_t *text = d->source.data;
	struct yaml_syntax *syn = gs_calloc(1, sizeof(*syn));

	memset(l, 0, sizeof(*l));
	if (!syn)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (d->store_data && d->store_data_free)
		d->store_data_free(d->store_data);
	d->store_data = syn;
	d->store_data_free = syntax_free;
	l->d = d;
	l->syn = syn;
	l->lx = &syn->lx;
	l->src = text;
	l->len = len;
	l->base = len >= 3 && text[0] == 0xEF && text[1] == 0xBB && text[2] == 0xBF ? 3 : 0;
	l->cur_byte = l->base;
	l->budget = ALIAS_BUDGET;
	l->doc_start = l->item_dash = YNONE;
	l->ascii = is_ascii(text, len);
	syn->trusted = true;
	ylex_init(&syn->lx, text, len, l->base);
	/* push_frame clears each frame it uses: zeroing 257 frames (31 KiB) on
	 * every load cost more than loading a small document */
	l->stack = gs_malloc((STORE_MAX_DEPTH + 1) * sizeof(*l->stack));
	return l->stack ? 0 : GS_FAIL(GS_ERR_NOMEM, "out of memory");
}

/* YAML 1.2 (5.2, 9.1) lets a byte-order mark start the stream and no
 * other line. libyaml and yaml.v3 skip one at the start of any line,
 * which moves what follows into a column the text does not show; every
 * such file fuzz_yaml found gave a writer something it could not put back
 * (docs/fuzzing.md). Refused with its line; inside a line it is the
 * value's own character and stays. */
static int refuse_inner_bom(const struct yloader *l)
{
	const uint8_t *s = l->src, *p = s + l->base;
	const uint8_t *end = s + l->len;

	if (l->ascii)
		return 0;
	while ((p = memchr(p, 0xEF, (size_t)(end - p)))) {
		size_t i = (size_t)(p - s);

		if (end - p >= 3 && p[1] == 0xBB && p[2] == 0xBF && i > 0 &&
		    (i == l->base || ysrc_break_before(l->lx, i)))
			return yfail(l, i, "a byte-order mark may only start the file, not a later line");
		p++;
	}
	return 0;
}

static int run_parser(struct yloader *l, yaml_parser_t *parser, size_t len)
{
	struct yaml_events *events;
	yaml_event_t ev;
	int ret;

	/* libyaml's events come from a thread of their own for a large input
	 * (yaml_events.c, perf2's: the proof of a write loads its output) */
	if ((ret = yaml_events_start(&events, parser, len)) < 0)
		goto out;
	for (;;) {
		yaml_event_type_t type;

		if (!yaml_events_next(events, &ev)) {
			/* libyaml ran out of memory: no fault of the text's (every
			 * other failure sets its error type) */
			ret = parser->error == YAML_MEMORY_ERROR || parser->error == YAML_NO_ERROR
				? GS_FAIL(GS_ERR_NOMEM, "out of memory")
				: GS_FAIL(GS_ERR_PARSE, "invalid YAML at line %zu: %s", parser->problem_mark.line + 1,
					  parser->problem ? parser->problem : "syntax error");
			goto out;
		}
		ret = on_event(l, &ev);
		type = ev.type;
		yaml_events_done(events, &ev);
		if (ret || type == YAML_STREAM_END_EVENT)
			goto out;
	}
out:
	yaml_events_stop(events);
	return ret;
}

/* The full loader: a cut inside a comment changes nothing libyaml reads
 * (it skips a comment to the end of its line) and the comment is the
 * lexer's, from the text itself. A cut inside a scalar was counted by it
 * (taken, or the load gave up): the comment tokens do not overlap scalars,
 * and a cut is counted once. Without this, a comment holding a URL with
 * a port and a path ("# http://host:8080/api/v1/x") had the whole file
 * read twice. */
static void comment_cuts(struct yloader *l)
{
	for (size_t i = 0; i < l->lx->n && l->cuts.covered < l->cuts.n; i++)
		if (l->lx->v[i].kind == YT_COMMENT)
			l->cuts.covered += ycuts_take(&l->cuts, l->lx->v[i].start, l->lx->v[i].end);
}

/* libyaml's events for what it reads of the text, handed to the loader:
 * the text whole or less the cuts (a read handler, nothing copied). */
static int libyaml_events(struct yloader *l, const uint8_t *vtext, size_t vlen)
{
	yaml_parser_t parser;
	int ret;

	if (!yaml_parser_initialize(&parser))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	/* libyaml, told the encoding, would read a byte-order mark as a
	 * character in column 0: every position after it one byte late and
	 * the first line one column deeper than the next (fuzz_yaml). It
	 * reads what follows the mark. */
	if (vtext)
		yaml_parser_set_input_string(&parser, vtext, vlen);
	else if (l->cuts.n)
		yaml_parser_set_input(&parser, ycuts_read, &l->cuts);
	else
		yaml_parser_set_input_string(&parser, l->src + l->base, l->len - l->base);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	ret = run_parser(l, &parser, vlen);
	yaml_parser_delete(&parser);
	return ret;
}

/* The test build tells which reader gave a load its events
 * (GITSEAL_TEST_YFAST_LOG=FILE: a line "fast" or "libyaml" each,
 * appended), and with GITSEAL_TEST_YFAST_CHECK=1 compares every list
 * yaml_fast.c gives with libyaml's (a difference aborts). */
static void test_log(const char *what, const uint8_t *vtext, size_t vlen, const struct yfast_event *ev,
		     size_t n)
{
#ifdef GITSEAL_TEST_HOOKS
	const char *path = getenv("GITSEAL_TEST_YFAST_LOG");
	FILE *f = path && *path ? fopen(path, "a") : NULL;
	char why[256];

	if (f) {
		fprintf(f, "%s\n", what);
		fclose(f);
	}
	if (ev && getenv("GITSEAL_TEST_YFAST_CHECK") && yfast_compare(vtext, vlen, ev, n, why, sizeof(why))) {
		fprintf(stderr, "yaml_fast: %s\n", why);
		abort();
	}
#else
	(void)what, (void)vtext, (void)vlen, (void)ev, (void)n;
#endif
}

/* Whether the text holds a top-level "sops:" key: only a sealed file is
 * read by yaml_fast.c. There a wrong event list cannot pass unseen (the
 * values' AES-GCM takes the key path as data, the MAC covers every value);
 * a plaintext's first load has nothing after it but the fuzzers, as the
 * proof of its seal compares with the tree that load built. */
static bool sealed_text(const uint8_t *s, size_t len)
{
	static const char key[] = "\nsops:\n";

	return (len >= sizeof(key) - 2 && memcmp(s, key + 1, sizeof(key) - 2) == 0) ||
	       memmem(s, len, key, sizeof(key) - 1);
}

/* The events, from yaml_fast.c where fast is set and the text is a sealed
 * file of the shape gitseal writes (the same list libyaml gives:
 * fuzz_yaml_fast), else from libyaml. A proof's reload never takes them
 * from yaml_fast.c: what checks a write does not share the parser of the
 * load it checks. */
static int read_events(struct yloader *l, bool fast)
{
	size_t vlen = l->cuts.n ? l->cuts.vlen : l->len - l->base, n = 0, got = 0;
	struct gs_buf cut_text;
	const uint8_t *vtext = l->src;
	struct yfast_event *ev = NULL;
	int ret;

	if (!fast || !l->ascii || l->base || !yfast_may_take(l->src, l->len) || !sealed_text(l->src, l->len)) {
		test_log("libyaml", NULL, 0, NULL, 0);
		return libyaml_events(l, NULL, vlen);
	}
	/* the text less the cuts, as libyaml would read it: a copy, in the
	 * source's kind of memory (it may be plaintext) */
	gs_buf_init(&cut_text, l->d->source.secure);
	if (l->cuts.n) {
		if (gs_buf_reserve(&cut_text, vlen)) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			goto out;
		}
		(void)ycuts_read(&l->cuts, cut_text.data, vlen, &got);
		cut_text.len = got;
		vtext = cut_text.data;
	}
	if ((ret = yfast_parse(vtext, vlen, &ev, &n)) < 0) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (ret == 0) {
		test_log("libyaml", NULL, 0, NULL, 0);
		ret = libyaml_events(l, vtext, vlen);
		goto out;
	}
	test_log("fast", vtext, vlen, ev, n);
	ret = 0;
	for (size_t i = 0; i < n && !ret; i++) {
		yaml_event_t e;

		yfast_event_get(&ev[i], &e);
		ret = on_event(l, &e);
	}
out:
	yfast_free(ev, n);
	gs_buf_release(&cut_text);
	return ret;
}

/* cut: leave runs of base64 out of what libyaml reads (yaml_elide.c);
 * fast: the events from yaml_fast.c where it can give them. */
static int load(const uint8_t *text, size_t len, struct doc *d, bool tree_only, bool cut, bool fast)
{
	struct yloader l;
	int ret;

	if (len > STORE_MAX_INPUT)
		return GS_FAIL(GS_ERR_LIMIT, "input larger than %d bytes", STORE_MAX_INPUT);
	if (len >= 2 && ((text[0] == 0xFE && text[1] == 0xFF) || (text[0] == 0xFF && text[1] == 0xFE)))
		return GS_FAIL(GS_ERR_PARSE, "invalid YAML: only UTF-8 is supported");
	d->format = DOC_FORMAT_YAML;
	if ((ret = store_take_source(d, text, len)) < 0)
		return ret;
	if ((ret = loader_init(&l, d, len)))
		goto out;
	l.tree_only = tree_only;
	if ((ret = refuse_inner_bom(&l)))
		goto out;
	ycuts_init(&l.cuts, d->source.data, len);
	if (cut && l.ascii && !l.base && (ret = ycuts_find(&l.cuts)) < 0)
		goto out;
	ret = read_events(&l, fast);
	/* every cut inside a value taken from the text, or all is read again;
	 * the full loader's errors are decided reading every byte (the same
	 * message and line whatever was cut) */
	if (ret == 0 && !tree_only && l.cuts.covered != l.cuts.n)
		comment_cuts(&l);
	if (ret == 0 && l.cuts.covered != l.cuts.n)
		ret = tree_only ? TREE_GIVE_UP : CUT_GIVE_UP;
	else if (ret && l.cuts.n && !tree_only)
		ret = CUT_GIVE_UP;
	l.syn->read_cut = ret == 0 && l.cuts.n;
	if (l.lx->failed)
		l.syn->trusted = false;
out:
	loader_release(&l);
	return ret;
}

/* The document as it was before a load that did not decide (its source
 * kept: it may be the text itself, which is then not copied again; a text
 * refused before it was taken, fuzz_yaml_load_data, is read again), for
 * another load. */
static void load_again(struct doc *d)
{
	struct gs_buf source = d->source;
	size_t limit = d->node_limit;
	bool share = d->share_source;

	gs_error_clear();
	gs_buf_init(&d->source, true);
	doc_release(d);
	doc_init(d, DOC_FORMAT_YAML);
	d->source = source;
	d->node_limit = limit;
	d->share_source = share;
}

/* With the runs of base64 after a ':' (the data, iv and tag of ENC[...]
 * values) and long ones left out of what libyaml reads, where the loader
 * can take the values they are in from the text: the same tree, tokens
 * and records and the same verdict as reading every byte
 * (test_yaml_load_data and fuzz_yaml_load_data check it against
 * yaml_load_whole); else the whole text is read. Only on a document that
 * holds nothing yet (one that does is read whole). */
static int load_cut(const uint8_t *text, size_t len, struct doc *d, bool fast)
{
	int ret;

	if (d->count || d->nodes || d->held_source.len)
		return load(text, len, d, false, false, fast);
	ret = load(text, len, d, false, true, fast);
	if (ret != CUT_GIVE_UP)
		return ret;
	load_again(d);
	return load(text, len, d, false, false, fast);
}

int yaml_load(const uint8_t *text, size_t len, struct doc *d)
{
	return load_cut(text, len, d, true);
}

int yaml_load_whole(const uint8_t *text, size_t len, struct doc *d)
{
	return load(text, len, d, false, false, false);
}

/* libyaml's events only, whatever the text: the proof's reload */
int yaml_load_data(const uint8_t *text, size_t len, struct doc *d)
{
	int ret;

	if (memchr(text, '#', len) || d->count || d->nodes)
		return load_cut(text, len, d, false);
	ret = load(text, len, d, true, true, false);
	/* the tree needs no records: none are kept */
	if (d->store_data && d->store_data_free)
		d->store_data_free(d->store_data);
	d->store_data = NULL;
	d->store_data_free = NULL;
	if (ret == 0)
		return 0;
	/* the full loader decides, reading every byte (what made the tree-only
	 * load give up would most often make the cuts give up too) */
	load_again(d);
	return load(text, len, d, false, false, false);
}
