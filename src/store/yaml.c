/* YAML store (sops stores/yaml over yaml.v3): libyaml's event parser builds
 * the doc tree, typing plain scalars as yaml.v3 does (spec 6.1); comments,
 * which libyaml does not report, are recovered from the source between
 * event marks and placed as sops places them (spec 3.4). Output either
 * patches the source (format preservation) or writes yaml.v3's layout. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "gitseal/error.h"
#include "gitseal/store.h"
#include "store_int.h"

enum {
	YSTYLE_PLAIN = 0,
	YSTYLE_SINGLE = 1,
	YSTYLE_DOUBLE = 2,
	YSTYLE_LITERAL = 3,
	YSTYLE_FOLDED = 4,
	YSTYLE_MASK = 7,
	YSTYLE_NULL_TILDE = 8, /* a null written "~" */
	YSTYLE_NULL_EMPTY = 16, /* a null written as nothing */
	/* nodes copied for an alias expansion */
	ALIAS_BUDGET = 1000000,
	DEFAULT_INDENT = 4,
};

static int put_str(struct gs_buf *out, const char *s)
{
	return store_put(out, s, strlen(s));
}

static int put_spaces(struct gs_buf *out, size_t n)
{
	static const char sp[] = "                                ";
	int ret = 0;

	while (n && !ret) {
		size_t k = n > 32 ? 32 : n;

		ret = store_put(out, sp, k);
		n -= k;
	}
	return ret;
}

/* A byte-order mark takes no column: the first line starts after it. */
static size_t line_start(const uint8_t *s, size_t pos)
{
	size_t end = pos;

	while (pos > 0 && s[pos - 1] != '\n' && s[pos - 1] != '\r')
		pos--;
	if (pos == 0 && end >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
		return 3;
	return pos;
}

/* ====================================================================
 * Scalar analysis, after yaml.v3's emitter (yaml_emitter_analyze_scalar)
 * ==================================================================== */

struct scalar_analysis {
	bool multiline;
	bool flow_plain;
	bool block_plain;
	bool single_quoted;
	bool block;
};

/* yaml.v3 is_printable: 4-byte sequences, C1 controls, tab and BOM are not */
static bool is_printable(const uint8_t *b, size_t n)
{
	if (n == 1)
		return b[0] == 0x0A || (b[0] >= 0x20 && b[0] <= 0x7E);
	if (n == 2)
		return b[0] > 0xC2 || (b[0] == 0xC2 && b[1] >= 0xA0);
	if (n == 3) {
		if (b[0] == 0xED)
			return b[1] < 0xA0;
		if (b[0] == 0xEF)
			return !(b[1] == 0xBB && b[2] == 0xBF) &&
			       !(b[1] == 0xBF && (b[2] == 0xBE || b[2] == 0xBF));
		return true;
	}
	return false;
}

static bool is_break_at(const uint8_t *s, size_t len, size_t i)
{
	return s[i] == '\n' || s[i] == '\r' ||
	       (i + 1 < len && s[i] == 0xC2 && s[i + 1] == 0x85) ||
	       (i + 2 < len && s[i] == 0xE2 && s[i + 1] == 0x80 &&
		(s[i + 2] == 0xA8 || s[i + 2] == 0xA9));
}

static void analyze(const char *text, size_t len, struct scalar_analysis *a)
{
	const uint8_t *s = (const uint8_t *)text;
	bool flow_ind = false, block_ind = false, special = false, line_breaks = false;
	bool leading_space = false, leading_break = false, trailing_space = false,
	     trailing_break = false, break_space = false, space_break = false;
	bool prev_space = false, prev_break = false, preceded_ws = true;
	/* \r, NEL, LS and PS break lines for a YAML reader, but a literal block
	 * is written line by line at '\n' only (fuzz_yaml: an LS inside a
	 * block ended its indentation) */
	bool odd_break = false;

	memset(a, 0, sizeof(*a));
	if (len == 0) {
		a->single_quoted = true;
		return;
	}
	if (len >= 3 && ((s[0] == '-' && s[1] == '-' && s[2] == '-') ||
			 (s[0] == '.' && s[1] == '.' && s[2] == '.')))
		flow_ind = block_ind = true;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		bool first = i == 0, last, followed_ws;
		uint8_t c = s[i];

		if (!n) {
			special = true;
			n = 1;
		}
		last = i + n >= len;
		followed_ws = last || s[i + n] == ' ' || s[i + n] == '\t' ||
			      is_break_at(s, len, i + n);
		if (first) {
			if (strchr("#,[]{}&*!|>'\"%@`", c) && c) {
				flow_ind = block_ind = true;
			} else if (c == '?' || c == ':') {
				flow_ind = true;
				if (followed_ws)
					block_ind = true;
			} else if (c == '-' && followed_ws) {
				flow_ind = block_ind = true;
			}
		} else {
			if (c && strchr(",?[]{}", c)) {
				flow_ind = true;
			} else if (c == ':') {
				flow_ind = true;
				if (followed_ws)
					block_ind = true;
			} else if (c == '#' && preceded_ws) {
				flow_ind = block_ind = true;
			}
		}
		if (!is_printable(s + i, n) && !is_break_at(s, len, i))
			special = true;
		if (is_break_at(s, len, i)) {
			line_breaks = true;
			if (c != '\n')
				odd_break = true;
		}
		if (c == ' ') {
			if (first)
				leading_space = true;
			if (last)
				trailing_space = true;
			if (prev_break)
				break_space = true;
			prev_space = true;
			prev_break = false;
		} else if (is_break_at(s, len, i)) {
			if (first)
				leading_break = true;
			if (last)
				trailing_break = true;
			if (prev_space)
				space_break = true;
			prev_break = true;
			prev_space = false;
		} else {
			prev_space = prev_break = false;
		}
		preceded_ws = c == ' ' || c == '\t' || is_break_at(s, len, i);
		i += n;
	}
	a->multiline = line_breaks;
	a->flow_plain = a->block_plain = a->single_quoted = a->block = true;
	if (leading_space || leading_break || trailing_space || trailing_break)
		a->flow_plain = a->block_plain = false;
	if (trailing_space || odd_break)
		a->block = false;
	if (break_space)
		a->flow_plain = a->block_plain = a->single_quoted = false;
	if (space_break || special)
		a->flow_plain = a->block_plain = a->single_quoted = a->block = false;
	if (line_breaks)
		a->flow_plain = a->block_plain = false;
	if (flow_ind)
		a->flow_plain = false;
	if (block_ind)
		a->block_plain = false;
}

static bool is_old_bool(const char *s, size_t len)
{
	static const char *const words[] = { "y", "Y", "yes", "Yes", "YES", "n", "N", "no",
					     "No", "NO", "on", "On", "ON", "off", "Off", "OFF" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == len && memcmp(words[i], s, len) == 0)
			return true;
	return false;
}

/* yaml.v3 isBase60Float: [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)? */
static bool is_base60_float(const char *s, size_t len)
{
	size_t i = 0;
	int groups = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i >= len || s[i] < '0' || s[i] > '9')
		return false;
	while (i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
		i++;
	while (i < len && s[i] == ':') {
		size_t d = ++i;

		if (i < len && s[i] >= '0' && s[i] <= '5' && i + 1 < len && s[i + 1] >= '0' &&
		    s[i + 1] <= '9')
			i += 2;
		else if (i < len && s[i] >= '0' && s[i] <= '9')
			i += 1;
		if (i == d)
			return false;
		groups++;
	}
	if (!groups)
		return false;
	if (i < len && s[i] == '.')
		for (i++; i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'); i++)
			;
	return i == len;
}

/* A str that a plain scalar would turn into another type (yaml.v3
 * forceQuoting, plus its isOldBool/isBase60Float checks). */
static bool retypes(const char *s, size_t len)
{
	int64_t iv;
	double fv;

	return yaml_resolve_plain(s, len, &iv, &fv) != YAML_RESOLVED_STR || is_old_bool(s, len) ||
	       is_base60_float(s, len);
}

/* ---- scalar writers ---- */

static int write_double(struct gs_buf *out, const char *text, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const uint8_t *s = (const uint8_t *)text;
	int ret = 0;

	TRY(store_put(out, "\"", 1));
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		char esc[12];
		const char *e = NULL;

		if (!n) {
			/* not UTF-8: no YAML string holds it exactly */
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[s[i] >> 4];
			esc[3] = hex[s[i] & 15];
			TRY(store_put(out, esc, 4));
			i++;
			continue;
		}
		/* line separators are printable but break a line: a key holding
		 * one raw no longer loads (fuzz_yaml) */
		if (is_printable(s + i, n) && cp != '\n' && cp != '"' && cp != '\\' && cp != 0x2028 &&
		    cp != 0x2029) {
			TRY(store_put(out, text + i, n));
			i += n;
			continue;
		}
		switch (cp) {
		case 0: e = "\\0"; break;
		case 7: e = "\\a"; break;
		case 8: e = "\\b"; break;
		case 9: e = "\\t"; break;
		case 10: e = "\\n"; break;
		case 11: e = "\\v"; break;
		case 12: e = "\\f"; break;
		case 13: e = "\\r"; break;
		case 27: e = "\\e"; break;
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case 0x85: e = "\\N"; break;
		case 0xA0: e = "\\_"; break;
		case 0x2028: e = "\\L"; break;
		case 0x2029: e = "\\P"; break;
		default:
			break;
		}
		if (e) {
			TRY(put_str(out, e));
		} else if (cp <= 0xFF) {
			TRY(gs_buf_printf(out, "\\x%02X", (unsigned)cp));
		} else if (cp <= 0xFFFF) {
			TRY(gs_buf_printf(out, "\\u%04X", (unsigned)cp));
		} else {
			TRY(gs_buf_printf(out, "\\U%08X", (unsigned)cp));
		}
		i += n;
	}
	TRY(store_put(out, "\"", 1));
out:
	return ret;
}

static int write_single(struct gs_buf *out, const char *s, size_t len)
{
	int ret = 0;
	size_t run = 0;

	TRY(store_put(out, "'", 1));
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\'') {
			TRY(store_put(out, s + i - run, run + 1));
			TRY(store_put(out, "'", 1));
			run = 0;
		} else {
			run++;
		}
	}
	TRY(store_put(out, s + len - run, run));
	TRY(store_put(out, "'", 1));
out:
	return ret;
}

/* A literal block: header ("|", chomping, an indentation indicator when
 * the text starts with a blank), then the lines at `indent` columns. The
 * final line break is not written when `drop_last_break` (the source
 * supplies it in patch mode). */
static int write_literal(struct gs_buf *out, const char *text, size_t len, size_t indent,
			 size_t indicator, bool drop_last_break)
{
	const uint8_t *s = (const uint8_t *)text;
	bool at_line_start = true;
	int ret = 0;

	TRY(store_put(out, "|", 1));
	if (len && (s[0] == ' ' || is_break_at(s, len, 0)))
		TRY(gs_buf_printf(out, "%zu", indicator));
	if (len == 0 || s[len - 1] != '\n')
		TRY(store_put(out, "-", 1));
	else if (len == 1 || s[len - 2] == '\n')
		TRY(store_put(out, "+", 1));
	TRY(store_put(out, "\n", 1));
	if (drop_last_break && len && s[len - 1] == '\n')
		len--;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n') {
			TRY(store_put(out, "\n", 1));
			at_line_start = true;
			continue;
		}
		if (at_line_start) {
			TRY(put_spaces(out, indent));
			at_line_start = false;
		}
		TRY(store_put(out, text + i, 1));
	}
out:
	return ret;
}

static int write_float(struct gs_buf *out, const struct doc_node *n, bool go_style)
{
	int64_t iv;
	double v, fv;

	if (!float_from_text(n->text, n->len, &v))
		return GS_FAIL(GS_ERR_PARSE, "invalid float value");
	if (isnan(v))
		return put_str(out, ".nan");
	if (isinf(v))
		return put_str(out, v > 0 ? ".inf" : "-.inf");
	/* positional text without a '.' ("3", "16737886033851100000") would
	 * come back as an integer: only text that resolves as a float stays */
	if (go_style || yaml_resolve_plain(n->text, n->len, &iv, &fv) != YAML_RESOLVED_FLOAT)
		return float_format_go_g(v, out);
	return store_put(out, n->text, n->len);
}

static int write_null(struct gs_buf *out, int style)
{
	if (style & YSTYLE_NULL_TILDE)
		return store_put(out, "~", 1);
	if (style & YSTYLE_NULL_EMPTY)
		return 0;
	return store_put(out, "null", 4);
}

/* ====================================================================
 * Loading
 * ==================================================================== */

struct ycomment {
	size_t start, end; /* '#' .. end of line */
};

struct comment_list {
	struct ycomment *v;
	size_t n, cap;
};

struct frame {
	struct doc_node *node;
	bool block;
	bool col_known;
	size_t col;          /* block: column of its keys or dashes */
	bool have_key;
	char *key;
	size_t key_len;
	struct doc_span key_span;
	size_t content_end;  /* end of the last thing inside it */
	struct store_keyset keys; /* of a mapping: its keys so far */
};

struct anchor {
	char *name;
	struct doc_node *node;
};

struct yloader {
	struct doc *d;
	const uint8_t *src;
	size_t len;
	/* libyaml marks count characters; this converts them to bytes */
	size_t base;
	size_t cur_char, cur_byte;
	struct frame *stack;
	int depth;
	size_t scan_pos;
	struct comment_list carry;  /* comments waiting for a container */
	struct comment_list gap;
	/* the entry a same-line comment would belong to */
	struct doc_node *last_value_parent;
	size_t last_value_end;
	bool last_was_value;
	struct doc_node *root;
	bool in_document;
	struct anchor *anchors;
	size_t n_anchors, cap_anchors;
	long budget;
	bool ascii;
};

static size_t to_byte(struct yloader *l, size_t ch)
{
	/* libyaml counts characters; in ASCII text they are bytes */
	if (l->ascii)
		return ch < l->len ? ch : l->len;
	if (ch < l->cur_char) {
		while (l->cur_char > ch && l->cur_byte > l->base) {
			l->cur_byte--;
			while (l->cur_byte > l->base && (l->src[l->cur_byte] & 0xC0) == 0x80)
				l->cur_byte--;
			l->cur_char--;
		}
	}
	while (l->cur_char < ch && l->cur_byte < l->len) {
		l->cur_byte++;
		while (l->cur_byte < l->len && (l->src[l->cur_byte] & 0xC0) == 0x80)
			l->cur_byte++;
		l->cur_char++;
	}
	return l->cur_byte;
}

static size_t column(const struct yloader *l, size_t pos)
{
	return pos - line_start(l->src, pos);
}

/* Past a node's anchor and tag, to the node itself. */
static size_t skip_props(const struct yloader *l, size_t pos, size_t limit)
{
	for (;;) {
		while (pos < limit && (l->src[pos] == ' ' || l->src[pos] == '\t' ||
				       l->src[pos] == '\n' || l->src[pos] == '\r'))
			pos++;
		if (pos < limit && l->src[pos] == '#') {
			while (pos < limit && l->src[pos] != '\n' && l->src[pos] != '\r')
				pos++;
			continue;
		}
		if (pos < limit && (l->src[pos] == '&' || l->src[pos] == '!')) {
			while (pos < limit && l->src[pos] != ' ' && l->src[pos] != '\t' &&
			       l->src[pos] != '\n' && l->src[pos] != '\r')
				pos++;
			continue;
		}
		return pos;
	}
}

static int comment_push(struct comment_list *c, size_t start, size_t end)
{
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 8;
		struct ycomment *v = realloc(c->v, ncap * sizeof(*v));

		if (!v)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		c->v = v;
		c->cap = ncap;
	}
	c->v[c->n++] = (struct ycomment){ start, end };
	return 0;
}

/* Comments in [scan_pos, upto): a '#' at a line start or after a blank,
 * outside any scalar (scalars are never inside a gap). */
static int scan_gap(struct yloader *l, size_t upto)
{
	size_t i = l->scan_pos;
	int ret;

	if (upto > l->len)
		upto = l->len;
	while (i < upto) {
		uint8_t c = l->src[i];

		if (c == '#' && (i == 0 || l->src[i - 1] == ' ' || l->src[i - 1] == '\t' ||
				 l->src[i - 1] == '\n' || l->src[i - 1] == '\r')) {
			size_t e = i;

			while (e < l->len && l->src[e] != '\n' && l->src[e] != '\r')
				e++;
			ret = comment_push(&l->gap, i, e);
			if (ret)
				return ret;
			i = e;
			continue;
		}
		i++;
	}
	if (upto > l->scan_pos)
		l->scan_pos = upto;
	return 0;
}

static struct doc_node *make_comment(struct yloader *l, const struct ycomment *c)
{
	struct doc_node *n =
		doc_new_comment(l->d, (const char *)l->src + c->start + 1, c->end - c->start - 1);

	if (n) {
		n->span.start = c->start;
		n->span.end = c->end;
	}
	return n;
}

static void extend(struct frame *f, size_t end)
{
	if (end != DOC_NO_POS && (f->content_end == DOC_NO_POS || end > f->content_end))
		f->content_end = end;
}

static int add_comment(struct yloader *l, struct frame *f, const struct ycomment *c, bool inline_c)
{
	struct doc_node *n = make_comment(l, c);
	struct doc_entry *e;

	if (!n)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	n->inline_comment = inline_c;
	e = doc_append(l->d, f->node, NULL, 0, n);
	if (!e)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (inline_c && f->node->count >= 2) {
		/* sops 3.4: a value's end-of-line comment goes before its entry */
		struct doc_entry tmp = f->node->entries[f->node->count - 1];

		f->node->entries[f->node->count - 1] = f->node->entries[f->node->count - 2];
		f->node->entries[f->node->count - 2] = tmp;
	}
	extend(f, c->end);
	return 0;
}

static bool same_line(const struct yloader *l, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++)
		if (l->src[i] == '\n' || l->src[i] == '\r')
			return false;
	return true;
}

static struct frame *top(struct yloader *l)
{
	return l->depth > 0 ? &l->stack[l->depth - 1] : NULL;
}

/* Places the comments found before an event (spec 3.4). `container_start`
 * is set when the event opens the value of a pending key. */
static int place_comments(struct yloader *l, size_t ev_start, yaml_event_type_t type)
{
	struct comment_list all = { 0 };
	struct frame *f = top(l);
	size_t i = 0;
	int ret;

	l->gap.n = 0;
	ret = scan_gap(l, ev_start);
	if (ret)
		return ret;
	/* the carried comments come first: they precede this gap */
	for (size_t k = 0; k < l->carry.n; k++)
		if ((ret = comment_push(&all, l->carry.v[k].start, l->carry.v[k].end)))
			goto out;
	for (size_t k = 0; k < l->gap.n; k++)
		if ((ret = comment_push(&all, l->gap.v[k].start, l->gap.v[k].end)))
			goto out;
	l->carry.n = 0;
	if (!all.n)
		goto out;
	if (!f) {
		for (; i < all.n; i++)
			if ((ret = comment_push(&l->carry, all.v[i].start, all.v[i].end)))
				goto out;
		goto out;
	}
	if (l->last_was_value && l->last_value_parent == f->node &&
	    same_line(l, l->last_value_end, all.v[0].start)) {
		ret = add_comment(l, f, &all.v[0], true);
		if (ret)
			goto out;
		i = 1;
	}
	if (f->node->kind == DOC_MAP && f->have_key) {
		/* the key's own line comment goes before the entry */
		for (; i < all.n && same_line(l, f->key_span.end, all.v[i].start); i++)
			if ((ret = add_comment(l, f, &all.v[i], false)))
				goto out;
		if (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT) {
			/* head comments of the nested container's first entry */
			for (; i < all.n; i++)
				if ((ret = comment_push(&l->carry, all.v[i].start, all.v[i].end)))
					goto out;
		}
	}
	if ((type == YAML_MAPPING_END_EVENT || type == YAML_SEQUENCE_END_EVENT) && f->block) {
		bool deferring = false;

		for (; i < all.n; i++) {
			bool full_line = true;

			for (size_t k = line_start(l->src, all.v[i].start); k < all.v[i].start; k++)
				if (l->src[k] != ' ' && l->src[k] != '\t')
					full_line = false;

			if (!deferring && f->col_known && full_line &&
			    column(l, all.v[i].start) < f->col)
				deferring = true;
			if (!f->col_known && full_line && l->depth > 1)
				deferring = true;
			if (deferring)
				ret = comment_push(&l->carry, all.v[i].start, all.v[i].end);
			else
				ret = add_comment(l, f, &all.v[i], false);
			if (ret)
				goto out;
		}
	}
	for (; i < all.n; i++)
		if ((ret = add_comment(l, f, &all.v[i], false)))
			goto out;
out:
	free(all.v);
	return ret;
}

static int flush_carry(struct yloader *l, struct frame *f)
{
	int ret = 0;

	for (size_t i = 0; i < l->carry.n && !ret; i++)
		ret = add_comment(l, f, &l->carry.v[i], false);
	l->carry.n = 0;
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

static int add_anchor(struct yloader *l, const yaml_char_t *name, struct doc_node *n)
{
	if (!name)
		return 0;
	if (l->n_anchors == l->cap_anchors) {
		size_t ncap = l->cap_anchors ? l->cap_anchors * 2 : 8;
		struct anchor *v = realloc(l->anchors, ncap * sizeof(*v));

		if (!v)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		l->anchors = v;
		l->cap_anchors = ncap;
	}
	l->anchors[l->n_anchors].name = strdup((const char *)name);
	if (!l->anchors[l->n_anchors].name)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	l->anchors[l->n_anchors++].node = n;
	return 0;
}

static int yfail(const struct yloader *l, size_t pos, const char *what)
{
	size_t line = 1;

	for (size_t i = 0; i < pos && i < l->len; i++)
		line += l->src[i] == '\n';
	return GS_FAIL(GS_ERR_PARSE, "invalid YAML at line %zu: %s", line, what);
}

/* Adds a finished node to the open container (or as a document root). */
static int attach(struct yloader *l, struct doc_node *n, size_t start, size_t end, bool is_scalar,
		  bool *was_key)
{
	struct frame *f = top(l);
	struct doc_entry *e;
	int ret;

	*was_key = false;
	if (!f) {
		if (l->root)
			return yfail(l, start, "several nodes in one document");
		if (n->kind == DOC_SCALAR && n->type == DOC_NULL) {
			n = doc_new_map(l->d);
			if (!n)
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		} else if (n->kind != DOC_MAP) {
			return yfail(l, start, "a document must be a mapping");
		}
		l->root = n;
		return doc_add_branch(l->d, n);
	}
	if (f->block && !f->col_known) {
		if (f->node->kind == DOC_MAP) {
			f->col = column(l, start);
		} else {
			size_t p = start;

			while (p > 0 && (l->src[p - 1] == ' ' || l->src[p - 1] == '\t'))
				p--;
			f->col = column(l, p > 0 && l->src[p - 1] == '-' ? p - 1 : start);
		}
		f->col_known = true;
	}
	if (f->node->kind == DOC_MAP && !f->have_key) {
		int64_t iv;
		double fv;

		if (!is_scalar)
			return yfail(l, start, "a mapping key must be a string");
		if ((n->style & YSTYLE_MASK) == YSTYLE_PLAIN &&
		    n->type != DOC_STR)
			return yfail(l, start, "a mapping key must be a string");
		(void)iv;
		(void)fv;
		ret = store_keyset_has(&f->keys, f->node, n->text, n->len);
		if (ret < 0)
			return ret;
		if (ret)
			return yfail(l, start, "duplicate mapping key");
		f->have_key = true;
		f->key = n->text;
		f->key_len = n->len;
		f->key_span.start = start;
		f->key_span.end = end;
		extend(f, end);
		*was_key = true;
		return 0;
	}
	e = doc_append(l->d, f->node, f->node->kind == DOC_MAP ? f->key : NULL,
		       f->node->kind == DOC_MAP ? f->key_len : 0, n);
	if (!e)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (f->node->kind == DOC_MAP) {
		e->key_span = f->key_span;
		f->have_key = false;
	}
	/* an empty value's marks are the next token's, maybe past the end of
	 * this map (fuzz_yaml: a cut map took the next entry's line along);
	 * an empty list item still has its "-" to hold the list's end */
	if (!(is_scalar && start == end && f->node->kind == DOC_MAP))
		extend(f, end);
	return 0;
}

static int scalar_node(struct yloader *l, const yaml_event_t *ev, size_t start, size_t end,
		       struct doc_node **out)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	enum doc_type type = DOC_STR;
	struct gs_buf txt;
	struct doc_node *n;
	int style = YSTYLE_PLAIN;
	int ret = 0;

	gs_buf_init(&txt, true);
	switch (ev->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = YSTYLE_SINGLE; break;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = YSTYLE_DOUBLE; break;
	case YAML_LITERAL_SCALAR_STYLE: style = YSTYLE_LITERAL; break;
	case YAML_FOLDED_SCALAR_STYLE: style = YSTYLE_FOLDED; break;
	default: break;
	}
	if (style == YSTYLE_PLAIN &&
	    !(ev->data.scalar.tag && strcmp((const char *)ev->data.scalar.tag,
					    "tag:yaml.org,2002:str") == 0)) {
		int64_t iv = 0;
		double fv = 0;

		switch (yaml_resolve_plain(v, len, &iv, &fv)) {
		case YAML_RESOLVED_NULL:
			type = DOC_NULL;
			if (len == 1)
				style |= YSTYLE_NULL_TILDE;
			else if (len == 0)
				style |= YSTYLE_NULL_EMPTY;
			v = "";
			len = 0;
			break;
		case YAML_RESOLVED_BOOL:
			type = DOC_BOOL;
			v = iv ? "true" : "false";
			len = strlen(v);
			break;
		case YAML_RESOLVED_INT:
			type = DOC_INT;
			TRY(gs_buf_printf(&txt, "%" PRId64, iv));
			v = (const char *)txt.data;
			len = txt.len;
			break;
		case YAML_RESOLVED_UINT:
			ret = yfail(l, start, "integer out of the int64 range");
			goto out;
		case YAML_RESOLVED_FLOAT:
			type = DOC_FLOAT;
			TRY(float_format_positional(fv, &txt));
			v = (const char *)txt.data;
			len = txt.len;
			break;
		default:
			break;
		}
	}
	n = doc_new_scalar(l->d, type, v, len);
	if (!n) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	n->style = style;
	n->span.start = start;
	n->span.end = end;
	*out = n;
out:
	gs_buf_release(&txt);
	return ret;
}

/* The spaces that indent a block scalar's content: those of its first line
 * with more than spaces on it; 0 (not known) after an explicit indentation
 * indicator. */
static size_t block_indent(const struct yloader *l, size_t start, size_t end)
{
	size_t p = start + 1;

	for (int i = 0; i < 2 && p < end; i++, p++) {
		if (l->src[p] >= '1' && l->src[p] <= '9')
			return 0;
		if (l->src[p] != '+' && l->src[p] != '-')
			break;
	}
	while (p < end && l->src[p] != '\n' && l->src[p] != '\r')
		p++;
	while (p < end) {
		size_t n = 0;

		p += l->src[p] == '\r' && p + 1 < end && l->src[p + 1] == '\n' ? 2 : 1;
		while (p + n < end && l->src[p + n] == ' ')
			n++;
		if (p + n < end && l->src[p + n] != '\n' && l->src[p + n] != '\r')
			return n;
		p += n;
	}
	return 0;
}

/* Block scalars end, in libyaml's marks, at the next token; the span ends
 * with the last line that holds content. Past the indentation, spaces and
 * tabs are content too (fuzz_yaml: a trailing " \t" line was left behind
 * when the value was rewritten). */
static size_t block_scalar_end(const struct yloader *l, size_t start, size_t end)
{
	size_t p = end, indent = block_indent(l, start, end);

	for (;;) {
		size_t q, ls;
		bool blank = true;

		if (p <= start || (l->src[p - 1] != '\n' && l->src[p - 1] != '\r'))
			return p;
		q = p - 1;
		if (q > start && l->src[q] == '\n' && l->src[q - 1] == '\r')
			q--;
		ls = line_start(l->src, q);
		for (size_t i = ls; i < q; i++)
			if (l->src[i] != ' ' || (indent && i - ls >= indent))
				blank = false;
		if (!blank || ls <= start)
			return q;
		p = ls;
	}
}

static int on_event(struct yloader *l, yaml_event_t *ev)
{
	size_t start = to_byte(l, ev->start_mark.index);
	size_t end = to_byte(l, ev->end_mark.index);
	struct doc_node *n = NULL;
	const yaml_char_t *anchor = NULL;
	bool was_key = false;
	int ret = 0;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		ret = place_comments(l, start, ev->type);
		/* anchors belong to their document (fuzz_yaml: an alias in the
		 * next one was accepted, and that document was not patchable) */
		for (size_t i = 0; i < l->n_anchors; i++)
			free(l->anchors[i].name);
		l->n_anchors = 0;
		l->root = NULL;
		l->in_document = true;
		break;
	case YAML_DOCUMENT_END_EVENT:
		ret = place_comments(l, start, ev->type);
		if (!ret && l->carry.n && l->root) {
			struct frame f = { .node = l->root, .content_end = l->root->span.end };

			ret = flush_carry(l, &f);
			store_keyset_release(&f.keys);
			if (l->root->span.start != DOC_NO_POS && !l->root->flow)
				l->root->span.end = f.content_end;
		}
		l->in_document = false;
		l->last_was_value = false;
		break;
	case YAML_ALIAS_EVENT: {
		struct doc_node *target = NULL;
		size_t size;

		ret = place_comments(l, start, ev->type);
		if (ret)
			break;
		for (size_t i = l->n_anchors; i-- > 0 && !target;)
			if (strcmp(l->anchors[i].name, (const char *)ev->data.alias.anchor) == 0)
				target = l->anchors[i].node;
		if (!target) {
			ret = yfail(l, start, "unknown alias");
			break;
		}
		for (int i = 0; i < l->depth; i++)
			if (l->stack[i].node == target) {
				ret = yfail(l, start, "an anchor contains its own alias");
				break;
			}
		if (ret)
			break;
		size = count_nodes(target, (size_t)l->budget + 1);
		if ((long)size > l->budget) {
			ret = GS_FAIL(GS_ERR_LIMIT, "YAML aliases expand to too many nodes");
			break;
		}
		l->budget -= (long)size;
		n = doc_clone(l->d, target);
		if (!n) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			break;
		}
		if (n->kind == DOC_SCALAR) {
			/* a changed value is written where the alias was */
			n->span.start = start;
			n->span.end = end;
			n->style = YSTYLE_PLAIN;
		}
		/* A key written "*x" would change with the value it names once
		 * that is encrypted (fuzz_yaml); sops reads such a key as the
		 * anchor's name. Neither is a key anyone means: refused. */
		if (top(l) && top(l)->node->kind == DOC_MAP && !top(l)->have_key) {
			ret = yfail(l, start, "an alias cannot be a mapping key");
			break;
		}
		ret = attach(l, n, start, end, n->kind == DOC_SCALAR, &was_key);
		if (!ret && !was_key && top(l)) {
			l->last_was_value = true;
			l->last_value_parent = top(l)->node;
			l->last_value_end = end;
		} else {
			l->last_was_value = false;
		}
		l->scan_pos = end > l->scan_pos ? end : l->scan_pos;
		break;
	}
	case YAML_SCALAR_EVENT: {
		size_t s = start;

		anchor = ev->data.scalar.anchor;
		if (anchor || ev->data.scalar.tag)
			s = skip_props(l, start, end);
		if (ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
		    ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE)
			end = block_scalar_end(l, s, end);
		ret = place_comments(l, s, ev->type);
		if (ret)
			break;
		ret = scalar_node(l, ev, s, end, &n);
		if (ret)
			break;
		if (top(l) && top(l)->node->kind == DOC_MAP && top(l)->have_key)
			ret = flush_carry(l, top(l));
		if (!ret)
			ret = attach(l, n, s, end, true, &was_key);
		if (!ret)
			ret = add_anchor(l, anchor, n);
		if (!ret && !was_key && top(l)) {
			l->last_was_value = true;
			l->last_value_parent = top(l)->node;
			l->last_value_end = end;
		} else {
			l->last_was_value = false;
		}
		if (end > l->scan_pos)
			l->scan_pos = end;
		break;
	}
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT: {
		bool map = ev->type == YAML_MAPPING_START_EVENT;
		bool flow = map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
				: ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
		size_t s = start;
		struct frame *f;

		anchor = map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
		if (anchor || (map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag))
			s = skip_props(l, start, l->len);
		if (l->depth >= STORE_MAX_DEPTH) {
			ret = GS_FAIL(GS_ERR_LIMIT, "YAML nested deeper than %d levels",
				      STORE_MAX_DEPTH);
			break;
		}
		ret = place_comments(l, s, ev->type);
		if (ret)
			break;
		n = map ? doc_new_map(l->d) : doc_new_list(l->d);
		if (!n) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			break;
		}
		n->flow = flow;
		n->span.start = s;
		ret = attach(l, n, s, s, false, &was_key);
		if (!ret)
			ret = add_anchor(l, anchor, n);
		if (ret)
			break;
		f = &l->stack[l->depth++];
		memset(f, 0, sizeof(*f));
		f->node = n;
		f->block = !flow;
		f->content_end = s;
		l->last_was_value = false;
		/* head comments of the first entry, waiting since the key */
		ret = flush_carry(l, f);
		break;
	}
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT: {
		struct frame *f = top(l);

		ret = place_comments(l, start, ev->type);
		if (ret)
			break;
		if (f->node->kind == DOC_MAP && f->have_key) {
			ret = yfail(l, start, "mapping key without a value");
			break;
		}
		f->node->span.end = f->block ? f->content_end : end;
		store_keyset_release(&f->keys);
		l->depth--;
		if (top(l))
			extend(top(l), f->node->span.end);
		l->last_was_value = false;
		if (end > l->scan_pos && !f->block)
			l->scan_pos = end;
		break;
	}
	case YAML_STREAM_END_EVENT:
		ret = place_comments(l, start, ev->type);
		break;
	default:
		break;
	}
	return ret;
}

static void loader_release(struct yloader *l)
{
	for (size_t i = 0; i < l->n_anchors; i++)
		free(l->anchors[i].name);
	free(l->anchors);
	free(l->carry.v);
	free(l->gap.v);
	for (int i = 0; l->stack && i < l->depth; i++)
		store_keyset_release(&l->stack[i].keys);
	free(l->stack);
}

int store_yaml_load(const uint8_t *text, size_t len, struct doc *d)
{
	struct yloader l;
	yaml_parser_t parser;
	yaml_event_t ev;
	bool parser_ready = false;
	int ret = 0;

	memset(&l, 0, sizeof(l));
	if (len > STORE_MAX_INPUT)
		return GS_FAIL(GS_ERR_LIMIT, "input larger than %d bytes", STORE_MAX_INPUT);
	if (len >= 2 && ((text[0] == 0xFE && text[1] == 0xFF) || (text[0] == 0xFF && text[1] == 0xFE)))
		return GS_FAIL(GS_ERR_PARSE, "invalid YAML: only UTF-8 is supported");
	d->format = DOC_FORMAT_YAML;
	if ((ret = store_take_source(d, text, len)) < 0)
		return ret;
	l.d = d;
	l.src = d->source.data;
	l.len = len;
	l.base = len >= 3 && text[0] == 0xEF && text[1] == 0xBB && text[2] == 0xBF ? 3 : 0;
	l.cur_byte = l.base;
	l.budget = ALIAS_BUDGET;
	l.ascii = true;
	for (size_t i = 0; i < len && l.ascii; i++)
		l.ascii = text[i] < 0x80;
	l.stack = calloc(STORE_MAX_DEPTH + 1, sizeof(*l.stack));
	if (!l.stack)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (!yaml_parser_initialize(&parser)) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	parser_ready = true;
	/* libyaml, told the encoding, would read a byte-order mark as a
	 * character in column 0: every position after it one byte late and
	 * the first line one column deeper than the next (fuzz_yaml: a file
	 * with a BOM could not be encrypted). It reads what follows the mark. */
	yaml_parser_set_input_string(&parser, d->source.data + l.base, len - l.base);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	for (;;) {
		yaml_event_type_t type;

		if (!yaml_parser_parse(&parser, &ev)) {
			size_t line = parser.problem_mark.line + 1;

			ret = GS_FAIL(GS_ERR_PARSE, "invalid YAML at line %zu: %s", line,
				      parser.problem ? parser.problem : "syntax error");
			goto out;
		}
		ret = on_event(&l, &ev);
		type = ev.type;
		yaml_event_delete(&ev);
		if (ret || type == YAML_STREAM_END_EVENT)
			break;
	}
out:
	if (parser_ready)
		yaml_parser_delete(&parser);
	loader_release(&l);
	return ret;
}

/* ====================================================================
 * Fresh output: yaml.v3's layout as sops writes it
 * ==================================================================== */

struct yemit {
	struct gs_buf *out;
	size_t best; /* indentation step */
};

static size_t round_indent(const struct yemit *em, size_t indent)
{
	/* yaml.v3 yaml_emitter_increase_indent: align to the step */
	return em->best * ((indent + em->best) / em->best);
}

/* A str as yaml.v3 writes it; `key` for mapping keys (no block scalars).
 * `block_indent`: the content column of a literal block; `parent`: the
 * column its indentation indicator is relative to. */
static int fresh_str(struct yemit *em, const char *s, size_t len, bool key, size_t block_indent,
		     size_t parent)
{
	struct scalar_analysis a;

	analyze(s, len, &a);
	if (a.multiline) {
		/* an indentation indicator is a single digit */
		if (!key && a.block && block_indent - parent <= 9)
			return write_literal(em->out, s, len, block_indent, block_indent - parent,
					     false);
		return write_double(em->out, s, len);
	}
	if (retypes(s, len))
		return write_double(em->out, s, len);
	if (a.block_plain)
		return store_put(em->out, s, len);
	if (a.single_quoted)
		return write_single(em->out, s, len);
	return write_double(em->out, s, len);
}

/* A key and its ':'. A YAML reader looks at most 1024 characters ahead for
 * the ':' of a "key:", so a longer key is explicit, "? key" and then ":" on
 * the next line at the map's column; like yaml.v3, from 129 bytes on
 * (fuzz_yaml: a 1,100-byte key did not load). */
static int fresh_key(struct yemit *em, const char *key, size_t len, size_t col)
{
	int ret = 0;

	if (len <= 128) {
		TRY(fresh_str(em, key, len, true, 0, 0));
		return store_put(em->out, ":", 1);
	}
	TRY(store_put(em->out, "? ", 2));
	TRY(fresh_str(em, key, len, true, 0, 0));
	TRY(store_put(em->out, "\n", 1));
	TRY(put_spaces(em->out, col));
	TRY(store_put(em->out, ":", 1));
out:
	return ret;
}

static int fresh_scalar(struct yemit *em, const struct doc_node *n, size_t block_indent,
			size_t parent)
{
	switch (n->type) {
	case DOC_STR:
		return fresh_str(em, n->text, n->len, false, block_indent, parent);
	case DOC_FLOAT:
		return write_float(em->out, n, true);
	case DOC_NULL:
		return store_put(em->out, "null", 4);
	default:
		return store_put(em->out, n->text, n->len);
	}
}

static int fresh_list(struct yemit *em, const struct doc_node *list, size_t indent, bool inline_first);

static bool is_empty_container(const struct doc_node *n)
{
	if (n->kind != DOC_MAP && n->kind != DOC_LIST)
		return false;
	for (size_t i = 0; i < n->count; i++)
		if (!n->entries[i].removed)
			return false;
	return true;
}

/* Writes `node` after "key:" or "- " (the caller wrote it, without the
 * space). `indent`: the column of the key or the dash; `in_list`: the node
 * is a list item (yaml.v3 indents its content by 2, not to the step). */
static int fresh_value(struct yemit *em, const struct doc_node *v, size_t indent, bool in_list,
		       const char *line_comment, size_t lc_len);

static int fresh_map(struct yemit *em, const struct doc_node *map, size_t indent, bool inline_first)
{
	bool at_inline = inline_first;
	const char *lc = NULL;
	size_t lc_len = 0;
	int ret = 0;

	for (size_t i = 0; i < map->count; i++) {
		const struct doc_entry *e = &map->entries[i];

		if (e->removed)
			continue;
		if (e->value->kind == DOC_COMMENT) {
			const struct doc_node *c = e->value;
			bool next_scalar = false;

			for (size_t j = i + 1; j < map->count; j++) {
				if (map->entries[j].removed)
					continue;
				/* a multi-line value may be a block scalar: a comment
				 * after its last line would become part of it */
				next_scalar = map->entries[j].value->kind == DOC_SCALAR &&
					      !memchr(map->entries[j].value->text, '\n',
						      map->entries[j].value->len);
				break;
			}
			if (c->inline_comment && next_scalar && !lc) {
				lc = c->text;
				lc_len = c->len;
				continue;
			}
			if (!at_inline)
				TRY(put_spaces(em->out, indent));
			TRY(store_put(em->out, "#", 1));
			TRY(store_put(em->out, c->text, c->len));
			TRY(store_put(em->out, "\n", 1));
			/* the next entry starts a line of its own, indented as usual */
			at_inline = false;
			continue;
		}
		if (!at_inline)
			TRY(put_spaces(em->out, indent));
		at_inline = false;
		TRY(fresh_key(em, e->key, e->key_len, indent));
		TRY(fresh_value(em, e->value, indent, false, lc, lc_len));
		lc = NULL;
	}
out:
	return ret;
}

static int fresh_list(struct yemit *em, const struct doc_node *list, size_t indent, bool inline_first)
{
	bool at_inline = inline_first;
	int ret = 0;

	for (size_t i = 0; i < list->count; i++) {
		const struct doc_entry *e = &list->entries[i];

		if (e->removed)
			continue;
		if (!at_inline)
			TRY(put_spaces(em->out, indent));
		if (e->value->kind == DOC_COMMENT) {
			TRY(store_put(em->out, "#", 1));
			TRY(store_put(em->out, e->value->text, e->value->len));
			TRY(store_put(em->out, "\n", 1));
			at_inline = false;
			continue;
		}
		at_inline = false;
		TRY(store_put(em->out, "-", 1));
		TRY(fresh_value(em, e->value, indent, true, NULL, 0));
	}
out:
	return ret;
}

static int fresh_value(struct yemit *em, const struct doc_node *v, size_t indent, bool in_list,
		       const char *line_comment, size_t lc_len)
{
	size_t child = in_list ? indent + 2 : round_indent(em, indent);
	int ret = 0;

	if (v->kind == DOC_SCALAR) {
		TRY(store_put(em->out, " ", 1));
		TRY(fresh_scalar(em, v, child, indent));
		if (line_comment) {
			TRY(store_put(em->out, " #", 2));
			TRY(store_put(em->out, line_comment, lc_len));
		}
		if (em->out->len == 0 || em->out->data[em->out->len - 1] != '\n')
			TRY(store_put(em->out, "\n", 1));
		goto out;
	}
	if (is_empty_container(v)) {
		TRY(put_str(em->out, v->kind == DOC_MAP ? " {}\n" : " []\n"));
		goto out;
	}
	if (in_list) {
		TRY(store_put(em->out, " ", 1));
		if (v->kind == DOC_MAP)
			TRY(fresh_map(em, v, child, true));
		else
			TRY(fresh_list(em, v, child, true));
		goto out;
	}
	TRY(store_put(em->out, "\n", 1));
	if (v->kind == DOC_MAP)
		TRY(fresh_map(em, v, child, false));
	else
		TRY(fresh_list(em, v, child, false));
out:
	return ret;
}

static int fresh_document(struct yemit *em, const struct doc_node *root)
{
	if (is_empty_container(root))
		return put_str(em->out, "{}\n");
	return fresh_map(em, root, 0, false);
}

/* ====================================================================
 * Patch output
 * ==================================================================== */

struct patcher {
	const struct doc *d;
	const uint8_t *src;
	size_t len;
	struct store_edits ed;
	struct yemit em;    /* fresh rendering into ed.pool */
	size_t doc_indent;  /* the source's indentation step */
};

static bool entry_is_new(const struct doc_entry *e, const struct doc_node *parent)
{
	if (e->value->kind == DOC_COMMENT)
		return e->value->span.start == DOC_NO_POS;
	if (parent->kind == DOC_MAP)
		return e->key_span.start == DOC_NO_POS;
	return e->value->span.start == DOC_NO_POS && e->value->kind != DOC_MAP &&
	       e->value->kind != DOC_LIST;
}

static bool has_spanned_key(const struct doc_node *map)
{
	for (size_t i = 0; i < map->count; i++)
		if (map->entries[i].key_span.start != DOC_NO_POS)
			return true;
	return false;
}

static bool any_change(const struct doc_node *n)
{
	if (n->kind == DOC_SCALAR || n->kind == DOC_COMMENT)
		return n->dirty;
	for (size_t i = 0; i < n->count; i++)
		if (n->entries[i].removed || any_change(n->entries[i].value))
			return true;
	return false;
}

/* Whether src[start, end) defines an anchor ("&name" starting a token). A
 * '&' inside a quoted string counts too: the caller then only writes the
 * document afresh when it did not need to. */
static bool defines_anchor(const uint8_t *src, size_t start, size_t end)
{
	for (size_t i = start; i + 1 < end; i++)
		if (src[i] == '&' && src[i + 1] != ' ' && src[i + 1] != '\t' && src[i + 1] != '\n' &&
		    src[i + 1] != '\r' &&
		    (i == start || strchr(" \t\n\r[{,-:", src[i - 1])))
			return true;
	return false;
}

static bool yaml_patchable(const uint8_t *src, const struct doc_node *n)
{
	if (n->kind == DOC_SCALAR || n->kind == DOC_COMMENT)
		return !n->dirty || n->span.start != DOC_NO_POS;
	/* a copy made for an alias has no source of its own */
	if (n->span.start == DOC_NO_POS)
		return !any_change(n);
	/* Comments inside a flow collection run to the end of their line, so
	 * text patched in around them can end up commented out (fuzz_yaml):
	 * such a collection, once changed, is written afresh. */
	if (n->flow && any_change(n))
		for (size_t i = 0; i < n->count; i++)
			if (n->entries[i].value->kind == DOC_COMMENT)
				return false;
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (entry_is_new(e, n)) {
			if (e->removed)
				continue;
			if (n->kind != DOC_MAP || n->flow || !has_spanned_key(n))
				return false;
			continue;
		}
		if (e->removed) {
			if (n->kind != DOC_MAP || e->key_span.start == DOC_NO_POS)
				return false;
			/* an alias elsewhere may name an anchor cut with the entry
			 * (fuzz_yaml): written afresh, aliases are expanded */
			if (e->value->span.end != DOC_NO_POS &&
			    defines_anchor(src, e->key_span.start, e->value->span.end))
				return false;
			/* nor does a map or list copied for an alias say where the
			 * alias was, so a cut would leave it (fuzz_yaml) */
			if (e->value->span.start == DOC_NO_POS && e->value->kind != DOC_SCALAR)
				return false;
			continue;
		}
		if (!yaml_patchable(src, e->value))
			return false;
	}
	return true;
}

/* Where a comment starts in src[from, to): a '#' at the start or after a
 * space or tab; to when there is none. A '#' inside quotes counts too:
 * the caller then only places a value more conservatively. */
static size_t comment_start(const uint8_t *src, size_t from, size_t to)
{
	for (size_t k = from; k < to; k++) {
		if (src[k] == '#' && (k == from || src[k - 1] == ' ' || src[k - 1] == '\t'))
			return k;
	}
	return to;
}

/* Where a key's node starts: before its tag and anchor, if any (fuzz_yaml:
 * "!t\tkey: v" put appended entries at the key's column, not the tag's). */
static size_t node_start(const struct patcher *p, size_t key_start)
{
	size_t ls = line_start(p->src, key_start), pos = key_start;

	for (;;) {
		size_t q = pos, t;

		while (q > ls && (p->src[q - 1] == ' ' || p->src[q - 1] == '\t'))
			q--;
		t = q;
		while (t > ls && p->src[t - 1] != ' ' && p->src[t - 1] != '\t')
			t--;
		if (t == q || (p->src[t] != '!' && p->src[t] != '&'))
			return pos;
		pos = t;
	}
}

/* Whether only indentation (and "- " of list items) precedes pos on its
 * line: a "?" there indicates an explicit key; elsewhere it is text
 * ("a: b ?" is a value). */
static bool only_indent(const struct patcher *p, size_t pos)
{
	for (size_t i = line_start(p->src, pos); i < pos; i++)
		if (p->src[i] != ' ' && p->src[i] != '\t' && p->src[i] != '-')
			return false;
	return true;
}

/* Where an entry starts: at the "?" of an explicit key, if it has one,
 * past line breaks and comments (fuzz_yaml: "? sops" cut from its key on
 * left "? " behind, a null key). */
static size_t entry_start(const struct patcher *p, size_t key_start)
{
	size_t q = key_start;

	for (;;) {
		size_t props;

		while (q > 0 && (p->src[q - 1] == ' ' || p->src[q - 1] == '\t'))
			q--;
		if (q < key_start && q > 0 && p->src[q - 1] == '?' && only_indent(p, q - 1))
			return q - 1;
		/* past a tag or anchor on the "?" line ("? !\n sops") */
		if (q < key_start && (props = node_start(p, q)) < q) {
			q = props;
			continue;
		}
		if (q == 0 || (p->src[q - 1] != '\n' && p->src[q - 1] != '\r'))
			return key_start;
		q--;
		if (q > 0 && p->src[q] == '\n' && p->src[q - 1] == '\r')
			q--;
		q = comment_start(p->src, line_start(p->src, q), q);
	}
}

static size_t first_key_col(const struct patcher *p, const struct doc_node *map)
{
	for (size_t i = 0; i < map->count; i++) {
		size_t start = map->entries[i].key_span.start;

		if (start != DOC_NO_POS) {
			start = entry_start(p, node_start(p, start));
			return start - line_start(p->src, start);
		}
	}
	return 0;
}

static size_t find_indent(const struct patcher *p, const struct doc_node *n, size_t depth)
{
	if (depth > STORE_MAX_DEPTH || (n->kind != DOC_MAP && n->kind != DOC_LIST))
		return 0;
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];
		size_t r;

		if (n->kind == DOC_MAP && !n->flow && e->key_span.start != DOC_NO_POS &&
		    e->value->kind == DOC_MAP && !e->value->flow && has_spanned_key(e->value)) {
			size_t a = e->key_span.start - line_start(p->src, e->key_span.start);
			size_t b = first_key_col(p, e->value);

			if (b > a)
				return b - a;
		}
		r = find_indent(p, e->value, depth + 1);
		if (r)
			return r;
	}
	return 0;
}

/* The column of a list item's dash, or of the key. */
static size_t owner_col(const struct patcher *p, const struct doc_entry *e, const struct doc_node *v)
{
	size_t q;

	if (e->key)
		return e->key_span.start - line_start(p->src, e->key_span.start);
	q = v->span.start;
	while (q > 0 && (p->src[q - 1] == ' ' || p->src[q - 1] == '\t'))
		q--;
	if (q > 0 && p->src[q - 1] == '-')
		q--;
	if (q > 0 && q == line_start(p->src, q)) {
		/* a value on a line of its own, below its "-" (fuzz_yaml: "- #"
		 * then the value: the block was indented from column 0) */
		size_t vcol = v->span.start - q;

		for (size_t l = q; l > 0;) {
			size_t pl = line_start(p->src, l - 1), k = pl;

			while (k < l && (p->src[k] == ' ' || p->src[k] == '\t'))
				k++;
			if (k < l && p->src[k] == '-' && k - pl < vcol)
				return k - pl;
			l = pl;
		}
	}
	return q - line_start(p->src, q);
}

static bool followed_by_break(const struct patcher *p, size_t pos)
{
	return pos < p->len && (p->src[pos] == '\n' || p->src[pos] == '\r');
}

/* Whether render_dirty writes this scalar as a literal block. */
static bool written_as_block(const struct doc_node *v, bool in_flow)
{
	struct scalar_analysis a;

	if (v->type != DOC_STR || in_flow || !memchr(v->text, '\n', v->len))
		return false;
	analyze(v->text, v->len, &a);
	return a.multiline && a.block;
}

/* A plain scalar swallows the blank lines after it, tabs and all, up to a
 * comment; once it is written another way, moved or cut, a tab on such a
 * line is an error (fuzz_yaml), so those lines are emptied, and a comment
 * line loses its indentation. */
static int clear_tabbed_blank_lines(struct patcher *p, size_t end)
{
	size_t q = end;

	while (q < p->len && (p->src[q] == ' ' || p->src[q] == '\t'))
		q++;
	while (q < p->len && (p->src[q] == '\n' || p->src[q] == '\r')) {
		size_t ls, k;
		bool tab = false;

		q += p->src[q] == '\r' && q + 1 < p->len && p->src[q + 1] == '\n' ? 2 : 1;
		for (ls = k = q; k < p->len && (p->src[k] == ' ' || p->src[k] == '\t'); k++)
			tab |= p->src[k] == '\t';
		if (k < p->len && p->src[k] == '#' && tab)
			return store_edits_push(&p->ed, ls, k, p->ed.pool.len);
		if (k < p->len && p->src[k] != '\n' && p->src[k] != '\r')
			return 0;
		if (tab) {
			int ret = store_edits_push(&p->ed, ls, k, p->ed.pool.len);

			if (ret)
				return ret;
		}
		q = k;
	}
	return 0;
}

/* A changed scalar, written in place (the patch rules of the store). */
static int render_dirty(struct patcher *p, const struct doc_entry *e, const struct doc_node *v,
			bool in_flow)
{
	struct gs_buf *out = &p->ed.pool;
	size_t mark = out->len, start = v->span.start, end = v->span.end;
	int style = v->style & YSTYLE_MASK;
	bool verbatim = false;
	int ret = 0;

	if (v->kind == DOC_COMMENT) {
		if (p->src[start] != '#') {
			/* a list element that becomes a comment again */
			while (start > 0 && p->src[start - 1] == ' ')
				start--;
			if (start > 0 && p->src[start - 1] == '-')
				start--;
		}
		TRY(store_put(out, "#", 1));
		for (size_t i = 0; i < v->len; i++)
			TRY(store_put(out, v->text[i] == '\n' || v->text[i] == '\r' ? " " : &v->text[i], 1));
		return store_edits_push(&p->ed, start, v->span.end, mark);
	}
	if (p->src[start] == '#' && !e->key) {
		TRY(store_put(out, "- ", 2)); /* a list comment stored as an element (3.4) */
	} else if (!written_as_block(v, in_flow)) {
		/* a value on a line of its own (after "key:" or "-"): a plain
		 * scalar there could read as something else, and a quoted one
		 * may sit where only a block scalar could (column 0), so it
		 * moves up */
		size_t q = start, ls = line_start(p->src, start);
		/* inside [...] or {...} a value may stay on its own line, and
		 * moving it up could land it in a "#..." that is a comment only
		 * on that line (fuzz_yaml) */
		bool own_line = ls > 0 && !in_flow;

		for (size_t k = ls; k < start; k++)
			if (p->src[k] != ' ' && p->src[k] != '\t')
				own_line = false;
		if (own_line) {
			bool past_comment = false;

			/* up to the end of the content before it, past comment
			 * lines; before a comment that ends that content's line */
			for (;;) {
				size_t ls2, cs, k;

				while (q > 0 && (p->src[q - 1] == ' ' || p->src[q - 1] == '\t' ||
						 p->src[q - 1] == '\n' || p->src[q - 1] == '\r'))
					q--;
				if (q == 0)
					break;
				ls2 = line_start(p->src, q - 1);
				cs = comment_start(p->src, ls2, q);
				if (cs == q)
					break;
				past_comment = true;
				for (k = ls2; k < cs && (p->src[k] == ' ' || p->src[k] == '\t'); k++)
					;
				if (k == cs) {
					q = ls2;
					continue;
				}
				while (p->src[cs - 1] == ' ' || p->src[cs - 1] == '\t')
					cs--;
				q = cs;
				break;
			}
			if (q == 0) {
				q = start;
			} else if (past_comment) {
				/* the value's own line goes, up to what follows the
				 * value on it (a tab left alone on a line is an error) */
				size_t e2 = end;

				while (e2 < p->len && (p->src[e2] == ' ' || p->src[e2] == '\t'))
					e2++;
				TRY(store_edits_push(&p->ed, ls, e2, mark));
				end = q;
			}
			start = q;
			TRY(store_put(out, " ", 1));
		}
	}
	switch (v->type) {
	case DOC_STR: {
		struct scalar_analysis a;

		analyze(v->text, v->len, &a);
		if (a.multiline) {
			size_t col = owner_col(p, e, v);
			/* an indentation indicator is one digit (fuzz_yaml: a file
			 * indented by 10 got "|10", which does not load) */
			size_t ind = e->key && p->doc_indent <= 9 ? col + p->doc_indent : col + 2;

			if (!in_flow && a.block) {
				/* blanks that end the old value's line would start
				 * the line after the block, where a tab is an error
				 * (fuzz_yaml) */
				size_t b = end;

				while (b < p->len && (p->src[b] == ' ' || p->src[b] == '\t'))
					b++;
				if (b == p->len || followed_by_break(p, b))
					end = b;
				TRY(write_literal(out, v->text, v->len, ind, ind - col,
						  followed_by_break(p, end)));
			} else
				TRY(write_double(out, v->text, v->len));
		} else if (style == YSTYLE_DOUBLE) {
			TRY(write_double(out, v->text, v->len));
		} else if (style == YSTYLE_SINGLE && a.single_quoted) {
			TRY(write_single(out, v->text, v->len));
		} else if (retypes(v->text, v->len) || !(in_flow ? a.flow_plain : a.block_plain)) {
			TRY(write_double(out, v->text, v->len));
		} else {
			verbatim = true;
		}
		break;
	}
	case DOC_FLOAT:
		TRY(write_float(out, v, false));
		break;
	case DOC_NULL:
		TRY(write_null(out, v->style));
		break;
	default:
		verbatim = true;
	}
	if (verbatim && out->len == mark)
		/* the value's own text, not copied (it is most of a large
		 * encrypted file) */
		ret = store_edits_push_text(&p->ed, start, end, (const uint8_t *)v->text, v->len);
	else if (!verbatim || !(ret = store_put(out, v->text, v->len)))
		ret = store_edits_push(&p->ed, start, end, mark);
	if (!ret && style == YSTYLE_PLAIN && !in_flow)
		ret = clear_tabbed_blank_lines(p, v->span.end);
out:
	return ret;
}

static size_t node_end(const struct doc_node *v)
{
	return v->span.end;
}

static int cut_entry(struct patcher *p, const struct doc_node *map, const struct doc_entry *e)
{
	/* the key's tag and anchor go with it (fuzz_yaml: "!\tsops:" left "!\t") */
	size_t start = entry_start(p, node_start(p, e->key_span.start)), end = node_end(e->value);
	/* a "?" inside the previous value is text, not this entry's indicator
	 * (fuzz_yaml: "d: l\n ?\nsops:") */
	for (size_t i = (size_t)(e - map->entries); i-- > 0;) {
		const struct doc_node *pv = map->entries[i].value;
		size_t prev_end = pv->kind == DOC_SCALAR && pv->span.start == pv->span.end
					  ? map->entries[i].key_span.end : node_end(pv);

		if (pv->kind == DOC_COMMENT || prev_end == DOC_NO_POS)
			continue;
		if (start < prev_end)
			start = node_start(p, e->key_span.start);
		break;
	}
	size_t ls = line_start(p->src, start);
	bool only_blanks = true;
	size_t eol;
	int ret;

	/* an empty value's marks are those of the next token, maybe the next
	 * entry's key (fuzz_yaml: "? sops" cut "a:" on the next line too),
	 * unless it has a tag or anchor to end at ("sops:\n  !" left "!") */
	if (e->value->kind == DOC_SCALAR && e->value->span.start == e->value->span.end &&
	    end != DOC_NO_POS)
		end = node_start(p, end) < end ? end : e->key_span.end;
	if (end == DOC_NO_POS || end < start)
		end = e->key_span.end;
	if (map->flow) {
		size_t q = end;

		while (q < p->len && (p->src[q] == ' ' || p->src[q] == '\t'))
			q++;
		if (q < p->len && p->src[q] == ',') {
			q++;
			while (q < p->len && (p->src[q] == ' ' || p->src[q] == '\t'))
				q++;
			end = q;
		} else {
			size_t b = start;

			while (b > 0 && (p->src[b - 1] == ' ' || p->src[b - 1] == '\t' ||
					 p->src[b - 1] == '\n' || p->src[b - 1] == '\r'))
				b--;
			if (b > 0 && p->src[b - 1] == ',')
				start = b - 1;
		}
		return store_edits_push(&p->ed, start, end, p->ed.pool.len);
	}
	for (size_t i = ls; i < start; i++)
		if (p->src[i] != ' ' && p->src[i] != '\t')
			only_blanks = false;
	if (only_blanks)
		start = ls;
	while (end < p->len && p->src[end] != '\n' && p->src[end] != '\r')
		end++;
	eol = end;
	if (end < p->len && p->src[end] == '\r')
		end++;
	if (end < p->len && p->src[end] == '\n')
		end++;
	ret = store_edits_push(&p->ed, start, end, p->ed.pool.len);
	return ret ? ret : clear_tabbed_blank_lines(p, eol);
}

static int append_new(struct patcher *p, const struct doc_node *map)
{
	size_t col = first_key_col(p, map);
	size_t pos = map->span.end, mark = p->ed.pool.len, eol;
	int ret = 0;

	while (pos < p->len && p->src[pos] != '\n' && p->src[pos] != '\r')
		pos++;
	eol = pos;
	if (pos < p->len && p->src[pos] == '\r')
		pos++;
	if (pos < p->len && p->src[pos] == '\n')
		pos++;
	if (pos == 0 || (p->src[pos - 1] != '\n' && p->src[pos - 1] != '\r'))
		TRY(store_put(&p->ed.pool, "\n", 1));
	for (size_t i = 0; i < map->count; i++) {
		const struct doc_entry *e = &map->entries[i];

		if (!entry_is_new(e, map) || e->removed)
			continue;
		if (e->value->kind == DOC_COMMENT) {
			TRY(put_spaces(&p->ed.pool, col));
			TRY(store_put(&p->ed.pool, "#", 1));
			TRY(store_put(&p->ed.pool, e->value->text, e->value->len));
			TRY(store_put(&p->ed.pool, "\n", 1));
			continue;
		}
		TRY(put_spaces(&p->ed.pool, col));
		TRY(fresh_key(&p->em, e->key, e->key_len, col));
		TRY(fresh_value(&p->em, e->value, col, false, NULL, 0));
	}
	ret = store_edits_push(&p->ed, pos, pos, mark);
	/* blank lines after the map's last value now follow the new entries,
	 * where a tab in them is an error (fuzz_yaml) */
	if (!ret)
		ret = clear_tabbed_blank_lines(p, eol);
out:
	return ret;
}

static int patch_node(struct patcher *p, const struct doc_node *n, bool in_flow)
{
	bool any_new = false;
	int ret = 0;

	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];
		const struct doc_node *v = e->value;

		if (entry_is_new(e, n)) {
			any_new |= !e->removed;
			continue;
		}
		if (e->removed) {
			TRY(cut_entry(p, n, e));
			continue;
		}
		if ((v->kind == DOC_MAP || v->kind == DOC_LIST) && v->span.start != DOC_NO_POS)
			TRY(patch_node(p, v, in_flow || v->flow));
		else if (v->dirty)
			TRY(render_dirty(p, e, v, in_flow));
	}
	if (any_new)
		TRY(append_new(p, n));
out:
	return ret;
}

/* An empty document has no span: patchable while it holds nothing but the
 * comments found in it. */
static bool branch_patchable(const uint8_t *src, const struct doc_node *root)
{
	if (root->span.start != DOC_NO_POS)
		return yaml_patchable(src, root);
	for (size_t i = 0; i < root->count; i++)
		if (root->entries[i].removed || root->entries[i].value->kind != DOC_COMMENT ||
		    root->entries[i].value->span.start == DOC_NO_POS)
			return false;
	return true;
}

int store_yaml_emit(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out)
{
	struct patcher p;
	bool patch = d->format == DOC_FORMAT_YAML && d->source.data != NULL && d->count > 0;
	size_t best = opts && opts->indent > 0 ? (size_t)opts->indent : DEFAULT_INDENT;
	int ret = 0;

	memset(&p, 0, sizeof(p));
	store_edits_init(&p.ed);
	for (size_t i = 0; i < d->count && patch; i++)
		if (!branch_patchable(d->source.data, d->branches[i]))
			patch = false;
	if (patch) {
		p.d = d;
		p.src = d->source.data;
		p.len = d->source.len;
		p.em.out = &p.ed.pool;
		p.em.best = best;
		for (size_t i = 0; i < d->count && !p.doc_indent; i++)
			p.doc_indent = find_indent(&p, d->branches[i], 0);
		if (!p.doc_indent)
			p.doc_indent = DEFAULT_INDENT;
		for (size_t i = 0; i < d->count; i++)
			TRY(patch_node(&p, d->branches[i], d->branches[i]->flow));
		TRY(store_edits_apply(&p.ed, p.src, p.len, out));
	} else {
		struct yemit em = { .out = out, .best = best };

		for (size_t i = 0; i < d->count; i++) {
			if (i)
				TRY(store_put(out, "---\n", 4));
			TRY(fresh_document(&em, d->branches[i]));
		}
	}
out:
	store_edits_release(&p.ed);
	return ret;
}
