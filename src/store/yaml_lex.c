/* The YAML syntax layer: tokens with exact byte spans for everything
 * between and around the scalars libyaml reports (indicators, properties,
 * comments) and for the scalars' own text. It follows libyaml 0.2's scanner
 * (scanner.c) where the two must agree: what a line break is, which bytes
 * an anchor or a tag takes, where a block scalar ends. The loader checks
 * the anchors, aliases and scalar spans against libyaml's events; where
 * the lexer meets a byte it cannot place, it says so (failed) and the
 * document is written afresh instead of patched. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/array.h"
#include "gitseal/error.h"
#include "yaml_int.h"

void ylex_init(struct ylex *lx, const uint8_t *src, size_t len, size_t base)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = src;
	lx->len = len;
	lx->base = base;
	lx->pos = base;
}

void ylex_release(struct ylex *lx)
{
	free(lx->v);
	lx->v = NULL;
	lx->n = lx->cap = 0;
}

static int push(struct ylex *lx, enum ytok_kind kind, size_t start, size_t end)
{
	int ret;

	/* the test first: a token is pushed for every few bytes of input */
	if (lx->n == lx->cap && (ret = GS_ARRAY_GROW(lx->v, lx->n, lx->cap, 256)))
		return ret;
	lx->v[lx->n].start = (uint32_t)start;
	lx->v[lx->n].end = (uint32_t)end;
	lx->v[lx->n].kind = (uint8_t)kind;
	lx->n++;
	return 0;
}

/* ---- lines ---- */

size_t ysrc_break_len(const uint8_t *s, size_t len, size_t i)
{
	if (i >= len)
		return 0;
	if (s[i] == '\n')
		return 1;
	if (s[i] == '\r')
		return i + 1 < len && s[i + 1] == '\n' ? 2 : 1;
	if (s[i] == 0xC2 && i + 1 < len && s[i + 1] == 0x85)
		return 2;
	if (s[i] == 0xE2 && i + 2 < len && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
		return 3;
	return 0;
}

/* Whether a line break ends just before pos. */
static bool break_before(const uint8_t *s, size_t pos)
{
	if (pos == 0)
		return false;
	if (s[pos - 1] == '\n' || s[pos - 1] == '\r')
		return true;
	if (pos >= 2 && s[pos - 2] == 0xC2 && s[pos - 1] == 0x85)
		return true;
	return pos >= 3 && s[pos - 3] == 0xE2 && s[pos - 2] == 0x80 &&
	       (s[pos - 1] == 0xA8 || s[pos - 1] == 0xA9);
}

bool ysrc_break_before(const struct ylex *lx, size_t pos)
{
	return pos > lx->base && break_before(lx->src, pos);
}

size_t ysrc_line_start(const struct ylex *lx, size_t pos)
{
	while (pos > lx->base && !break_before(lx->src, pos))
		pos--;
	return pos < lx->base ? lx->base : pos;
}

/* Only '\n', '\r', 0xC2 (NEL) and 0xE2 (LS, PS) can start a break: every
 * other byte is stepped over without asking ysrc_break_len (a call per
 * byte was the lexer's largest cost in loading an age stanza's armor). */
size_t ysrc_line_end(const struct ylex *lx, size_t pos)
{
	const uint8_t *s = lx->src;

	for (; pos < lx->len; pos++) {
		uint8_t c = s[pos];

		if (c > '\r' && c != 0xC2 && c != 0xE2)
			continue;
		if (ysrc_break_len(s, lx->len, pos))
			break;
	}
	return pos;
}

size_t ysrc_next_line(const struct ylex *lx, size_t pos)
{
	pos = ysrc_line_end(lx, pos);
	return pos + ysrc_break_len(lx->src, lx->len, pos);
}

size_t ysrc_column(const struct ylex *lx, size_t pos)
{
	size_t col = 0;

	for (size_t i = ysrc_line_start(lx, pos); i < pos; i++)
		col += (lx->src[i] & 0xC0) != 0x80;
	return col;
}

bool ysrc_same_line(const struct ylex *lx, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++)
		if (ysrc_break_len(lx->src, lx->len, i))
			return false;
	return true;
}

bool ysrc_blank(const struct ylex *lx, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++)
		if (lx->src[i] != ' ' && lx->src[i] != '\t')
			return false;
	return true;
}

/* ---- tokens ---- */

static bool blankz_at(const struct ylex *lx, size_t i)
{
	return i >= lx->len || lx->src[i] == ' ' || lx->src[i] == '\t' ||
	       ysrc_break_len(lx->src, lx->len, i);
}

static bool at_line_start(const struct ylex *lx, size_t i)
{
	return i == lx->base || break_before(lx->src, i);
}

/* libyaml: anchor and alias names are [0-9A-Za-z_-] */
static bool anchor_char(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
	       c == '-';
}

/* libyaml yaml_parser_scan_tag_uri: outside "!<...>" these only */
static bool tag_char(uint8_t c)
{
	return anchor_char(c) || (c && strchr(";/?:@&=+$.%!~*'()", c));
}

static size_t comment_end(const struct ylex *lx, size_t i)
{
	return ysrc_line_end(lx, i);
}

static size_t tag_end(const struct ylex *lx, size_t i)
{
	if (i + 1 < lx->len && lx->src[i + 1] == '<') {
		for (i += 2; i < lx->len && lx->src[i] != '>'; i++)
			if (blankz_at(lx, i))
				return 0;
		return i < lx->len ? i + 1 : 0;
	}
	for (i++; i < lx->len && tag_char(lx->src[i]); i++)
		;
	return i;
}

static size_t name_end(const struct ylex *lx, size_t i)
{
	for (i++; i < lx->len && anchor_char(lx->src[i]); i++)
		;
	return i;
}

/* "---" or "..." at the start of a line, followed by a blank */
static bool marker_at(const struct ylex *lx, size_t i, uint8_t c)
{
	return at_line_start(lx, i) && i + 2 < lx->len && lx->src[i] == c && lx->src[i + 1] == c &&
	       lx->src[i + 2] == c && blankz_at(lx, i + 3);
}

static enum ytok_kind indicator_kind(uint8_t c)
{
	switch (c) {
	case '?': return YT_QUESTION;
	case ':': return YT_COLON;
	case ',': return YT_COMMA;
	case '[': return YT_SEQ_OPEN;
	case ']': return YT_SEQ_CLOSE;
	case '{': return YT_MAP_OPEN;
	default: return YT_MAP_CLOSE;
	}
}

static void refuse(struct ylex *lx, size_t pos, const char *what)
{
	if (!lx->invalid) {
		lx->invalid = what;
		lx->invalid_pos = pos;
	}
}

/* A directive, up to a comment: never edited, so not kept. "%YAML 1.1#x"
 * glues a comment to the version, which libyaml lets through. */
static size_t directive_end(struct ylex *lx, size_t i)
{
	const uint8_t *s = lx->src;
	size_t e = i + 5;

	if (lx->len - i > 5 && memcmp(s + i, "%YAML", 5) == 0) {
		while (e < lx->len && (s[e] == ' ' || s[e] == '\t'))
			e++;
		while (e < lx->len && ((s[e] >= '0' && s[e] <= '9') || s[e] == '.'))
			e++;
		if (!blankz_at(lx, e))
			refuse(lx, e, "a %YAML directive's version must end with a space or the line");
	}
	for (e = i; e < lx->len && !ysrc_break_len(s, lx->len, e); e++)
		if (s[e] == '#' && (s[e - 1] == ' ' || s[e - 1] == '\t'))
			break;
	return e;
}

/* One token (or skipped syntax) at i; returns where the next starts, or 0
 * when the byte cannot start anything here. */
static size_t lex_one(struct ylex *lx, size_t i, int *ret)
{
	const uint8_t *s = lx->src;
	size_t n, e;

	*ret = 0;
	if (s[i] == ' ' || s[i] == '\t')
		return i + 1;
	if ((n = ysrc_break_len(s, lx->len, i)))
		return i + n;
	switch (s[i]) {
	case '#':
		if (!at_line_start(lx, i) && s[i - 1] != ' ' && s[i - 1] != '\t')
			refuse(lx, i, "a comment must be separated from what precedes it by a space");
		e = comment_end(lx, i);
		*ret = push(lx, YT_COMMENT, i, e);
		return e;
	case '%':
		return at_line_start(lx, i) ? directive_end(lx, i) : 0;
	case '.':
		return marker_at(lx, i, '.') ? i + 3 : 0;
	case '-':
		if (marker_at(lx, i, '-')) {
			*ret = push(lx, YT_DOC_START, i, i + 3);
			return i + 3;
		}
		if (!blankz_at(lx, i + 1))
			return 0;
		*ret = push(lx, YT_DASH, i, i + 1);
		return i + 1;
	case '?': case ':': case ',': case '[': case ']': case '{': case '}':
		*ret = push(lx, indicator_kind(s[i]), i, i + 1);
		return i + 1;
	case '&': case '*':
		e = name_end(lx, i);
		if (e == i + 1)
			return 0;
		*ret = push(lx, s[i] == '&' ? YT_ANCHOR : YT_ALIAS, i, e);
		return e;
	case '!':
		e = tag_end(lx, i);
		if (!e)
			return 0;
		*ret = push(lx, YT_TAG, i, e);
		return e;
	default:
		return 0;
	}
}

int ylex_gap(struct ylex *lx, size_t upto)
{
	size_t i = lx->pos;
	int ret = 0;

	if (upto > lx->len)
		upto = lx->len;
	while (i < upto && !ret) {
		size_t next = lex_one(lx, i, &ret);

		if (!next) {
			lx->failed = true;
			i = upto;
			break;
		}
		i = next;
	}
	if (i > lx->pos)
		lx->pos = i;
	return ret;
}

/* ---- scalars ---- */

/* Properties before a node's text, and comments between them; returns
 * where the text starts. */
static size_t lex_properties(struct ylex *lx, size_t i, size_t end, int *ret)
{
	*ret = 0;
	while (i < end && !*ret) {
		uint8_t c = lx->src[i];
		size_t next;

		if (c != '&' && c != '!' && c != '#' && c != ' ' && c != '\t' &&
		    !ysrc_break_len(lx->src, lx->len, i))
			break;
		next = lex_one(lx, i, ret);
		if (!next) {
			lx->failed = true;
			return end;
		}
		i = next;
	}
	return i;
}

/* The spaces that start the line at i, and whether more than spaces follow. */
static size_t leading_spaces(const struct ylex *lx, size_t i, bool *content)
{
	size_t k = 0;

	while (i + k < lx->len && lx->src[i + k] == ' ')
		k++;
	*content = i + k < lx->len && !ysrc_break_len(lx->src, lx->len, i + k);
	return k;
}

/* A block scalar's content indentation (libyaml
 * yaml_parser_scan_block_scalar and _breaks): an explicit indicator
 * counts from the parent's indentation; else the deepest of the leading
 * blank lines and the first line with content, at least parent + 1. */
static size_t block_indent(struct ylex *lx, size_t header, size_t header_end, size_t body,
			   long parent)
{
	long indent = 0;

	for (size_t i = header + 1; i < header_end; i++)
		if (lx->src[i] >= '1' && lx->src[i] <= '9')
			return (size_t)((parent >= 0 ? parent : 0) + (lx->src[i] - '0'));
	for (size_t i = body; i < lx->len;) {
		bool content;
		long k = (long)leading_spaces(lx, i, &content);

		/* YAML 1.2 8.1.1.1: leading empty lines deeper than the first
		 * line of the text are an error (libyaml takes them as the
		 * indentation, and what was text for others becomes a comment) */
		if (content && k > parent && k < indent)
			refuse(lx, i, "a block scalar's leading blank lines are deeper than its first line");
		if (k > indent)
			indent = k;
		if (content)
			break;
		i = ysrc_next_line(lx, i);
	}
	if (indent < parent + 1)
		indent = parent + 1;
	return (size_t)(indent < 1 ? 1 : indent);
}

/* Where a block scalar's text ends: after its last line with content
 * (past the indentation, spaces and tabs are content too); with keep
 * chomping ("+"), after its last blank line but before that line's break,
 * since those lines are its value's trailing line breaks. Only lines that
 * start before libyaml's end of the scalar count. */
static size_t block_end(struct ylex *lx, size_t header, size_t header_end, size_t end,
			long parent)
{
	size_t line = ysrc_next_line(lx, header_end), indent, last = ysrc_line_end(lx, header_end);
	bool keep = false;

	for (size_t i = header + 1; i < header_end; i++)
		keep |= lx->src[i] == '+';
	indent = block_indent(lx, header, header_end, line, parent);
	while (line < end && line < lx->len) {
		bool content;
		size_t k = leading_spaces(lx, line, &content), eol = ysrc_line_end(lx, line + k);

		if (content && k < indent)
			break; /* less indented: what follows the scalar */
		if (content || keep || k > indent)
			last = eol;
		line = eol + ysrc_break_len(lx->src, lx->len, eol);
	}
	return last;
}

int ylex_scalar(struct ylex *lx, size_t start, size_t end, enum ytok_kind style, long parent_indent)
{
	size_t text, header_end;
	int ret;

	if ((ret = ylex_gap(lx, start)) < 0)
		return ret;
	text = lex_properties(lx, start, end, &ret);
	if (ret < 0)
		return ret;
	if (style != YT_LITERAL && style != YT_FOLDED) {
		if (text < end && (ret = push(lx, style, text, end)) < 0)
			return ret;
		lx->pos = end > lx->pos ? end : lx->pos;
		return 0;
	}
	if (text >= lx->len || (lx->src[text] != '|' && lx->src[text] != '>')) {
		lx->failed = true;
		lx->pos = end > lx->pos ? end : lx->pos;
		return 0;
	}
	for (header_end = text + 1; header_end < lx->len && header_end < text + 3 &&
				    strchr("+-123456789", lx->src[header_end]) && lx->src[header_end];
	     header_end++)
		;
	if ((ret = push(lx, style, text, header_end)) < 0)
		return ret;
	lx->pos = header_end;
	/* a comment on the header line */
	if ((ret = ylex_gap(lx, ysrc_line_end(lx, header_end))) < 0)
		return ret;
	{
		size_t body = ysrc_line_end(lx, header_end);
		size_t stop = block_end(lx, text, header_end, end, parent_indent);

		if (stop < body)
			stop = body;
		if ((ret = push(lx, YT_BODY, body, stop)) < 0)
			return ret;
		lx->pos = stop;
	}
	return 0;
}

int ylex_alias(struct ylex *lx, size_t start, size_t end)
{
	int ret = ylex_gap(lx, start);

	if (ret < 0)
		return ret;
	if (end <= start || lx->src[start] != '*') {
		lx->failed = true;
		return 0;
	}
	ret = push(lx, YT_ALIAS, start, end);
	lx->pos = end;
	return ret;
}
