/* libyaml's events for the one shape gitseal and sops write, without
 * libyaml (issue 12: a checkout spent half its loads' instructions in
 * libyaml's scanner). Block maps of plain keys; plain one-line values,
 * double-quoted ones without escapes, "|" and "|-" block scalars, "[]";
 * block sequences indented under their key of maps or of plain and
 * double-quoted one-line scalars. Every line ends in '\n';
 * no comments, tabs, blank lines, flow collections, anchors, aliases,
 * tags, directives or document markers; ASCII only. Anything else is
 * declined and libyaml reads it (yaml_load.c). The events are the list
 * libyaml gives for the same text, field for field where the loader reads
 * it: types, values, lengths, styles, implicit flags, no tags or anchors,
 * and the marks' index (the loader reads no other part of a mark).
 * fuzz_yaml_fast holds it to that for any input; yfast_compare is its
 * oracle. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "gitseal/alloc.h"
#include "gitseal/store.h"
#include "yaml_int.h"

/* libyaml drops a simple key's chance 1,024 characters after its start
 * (yaml_parser_stale_simple_keys): a longer key is an error there. A key
 * longer than this is declined, well short of it. */
#define YFAST_KEY_MAX 512

struct yfast {
	const uint8_t *s;
	size_t len, p;
	struct yfast_event *ev;
	size_t n, cap;
	int depth;
	bool nomem;
};

/* Marks and lengths fit the event's 32 bits: yfast_parse declines a
 * longer text (the stores take at most STORE_MAX_INPUT). */
_Static_assert(sizeof(struct yfast_event) <= 24, "an event of yfast_parse in 24 bytes");

static struct yfast_event *push(struct yfast *f, yaml_event_type_t type, size_t start, size_t end)
{
	struct yfast_event *e;

	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 32;
		struct yfast_event *v = gs_realloc(f->ev, cap * sizeof(*v));

		if (!v) {
			f->nomem = true;
			return NULL;
		}
		f->ev = v;
		f->cap = cap;
	}
	e = &f->ev[f->n++];
	*e = (struct yfast_event){ .type = (uint8_t)type, .start = (uint32_t)start, .end = (uint32_t)end };
	return e;
}

static bool simple(struct yfast *f, yaml_event_type_t type, size_t at)
{
	return push(f, type, at, at) != NULL;
}

static bool collection(struct yfast *f, bool map, size_t at)
{
	struct yfast_event *e = push(f, map ? YAML_MAPPING_START_EVENT : YAML_SEQUENCE_START_EVENT, at, at);

	if (!e)
		return false;
	e->style = map ? YAML_BLOCK_MAPPING_STYLE : YAML_BLOCK_SEQUENCE_STYLE;
	return true;
}

/* "[]" at s[at]: an empty flow sequence (sops 3.9 and earlier write its
 * empty key lists so: "kms: []") */
static bool empty_flow_seq(struct yfast *f, size_t at)
{
	struct yfast_event *e = push(f, YAML_SEQUENCE_START_EVENT, at, at + 1);

	if (!e)
		return false;
	e->style = YAML_FLOW_SEQUENCE_STYLE;
	return push(f, YAML_SEQUENCE_END_EVENT, at + 1, at + 2) != NULL;
}

/* A scalar whose value is v[0, len): a block scalar's, made here, is the
 * event's own (yfast_free frees it); any other points into the text,
 * which outlives the events, and is not NUL-terminated (the loader reads
 * a value by its length, as it does one taken from the text past a cut). */
static bool scalar(struct yfast *f, size_t start, size_t end, const uint8_t *v, size_t len,
		   yaml_scalar_style_t style)
{
	struct yfast_event *e = push(f, YAML_SCALAR_EVENT, start, end);

	if (!e)
		return false;
	e->value = v;
	e->length = (uint32_t)len;
	e->style = (uint8_t)style;
	return true;
}

static size_t indent_at(const struct yfast *f, size_t p)
{
	size_t q = p;

	while (q < f->len && f->s[q] == ' ')
		q++;
	return q - p;
}

static bool key_char(uint8_t c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       (!first && (c == '-' || c == '.' || c == '/'));
}

/* a plain one-line value s[a, b), s[b] its line's break: nothing that
 * ends it, continues it or makes it something else in block context */
static bool plain_ok(const uint8_t *s, size_t a, size_t b)
{
	if (a == b || strchr(" -?:,[]{}#&*!|>'\"%@`", s[a]) || s[b - 1] == ' ' || s[b - 1] == ':')
		return false;
	for (size_t i = a; i < b; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
		if (s[i] == ':' && s[i + 1] == ' ')
			return false;
	}
	return true;
}

static bool parse_map(struct yfast *f, size_t indent, size_t first);

/* A "|" or "|-" block scalar; f->p at its first line. Only lines at one
 * indentation, the first not empty, none empty at its end: no more
 * indented line, no blank line shorter than the indentation (libyaml's
 * rules for those are its own). */
static bool block_scalar(struct yfast *f, size_t start, size_t parent, bool strip)
{
	size_t ind = indent_at(f, f->p), cap = 256, n = 0;
	uint8_t *v;
	bool ok = false;

	if (ind <= parent || f->p + ind >= f->len || f->s[f->p + ind] == '\n')
		return false;
	if (!(v = gs_malloc(cap)))
		return !(f->nomem = true);
	for (;;) {
		size_t sp = indent_at(f, f->p), e, k;

		if (f->p + sp >= f->len || (sp < ind && f->s[f->p + sp] != '\n'))
			break; /* the next line is not the scalar's */
		if (sp != ind)
			goto out;
		for (e = f->p + sp; e < f->len && f->s[e] != '\n'; e++)
			if (f->s[e] < 0x20 || f->s[e] > 0x7e)
				goto out;
		if (e == f->len)
			goto out;
		k = e - f->p - sp;
		if (n + k + 1 > cap) {
			uint8_t *w;

			cap = 2 * (n + k + 1);
			if (!(w = gs_realloc(v, cap))) {
				f->nomem = true;
				goto out;
			}
			v = w;
		}
		memcpy(v + n, f->s + f->p + sp, k);
		n += k;
		v[n++] = '\n';
		f->p = e + 1;
	}
	if (n >= 2 && v[n - 2] == '\n')
		goto out; /* an empty last line: chomping, libyaml's */
	if (strip)
		n--;
	if ((ok = scalar(f, start, f->p, v, n, YAML_LITERAL_SCALAR_STYLE)))
		return true; /* the event's own now */
out:
	free(v);
	return ok;
}

/* value()'s key_indent for a sequence's scalar entry: plain or quoted only */
#define SEQ_ENTRY ((size_t)-1)

/* a value after "key: " (or "- ") at f->p, to its line's end */
static bool value(struct yfast *f, size_t key_indent)
{
	size_t a = f->p, e = a;

	while (e < f->len && f->s[e] != '\n')
		e++;
	if (e == f->len)
		return false;
	if (f->s[a] == '|' && key_indent != SEQ_ENTRY) {
		bool strip = e - a == 2 && f->s[a + 1] == '-';

		if (e - a != 1 && !strip)
			return false;
		f->p = e + 1;
		return block_scalar(f, a, key_indent, strip);
	}
	if (e - a == 2 && f->s[a] == '[' && f->s[a + 1] == ']' && key_indent != SEQ_ENTRY) {
		f->p = e + 1;
		return empty_flow_seq(f, a);
	}
	if (f->s[a] == '"') {
		if (e - a < 2 || f->s[e - 1] != '"')
			return false;
		for (size_t i = a + 1; i < e - 1; i++)
			if (f->s[i] < 0x20 || f->s[i] > 0x7e || f->s[i] == '"' || f->s[i] == '\\')
				return false;
		f->p = e + 1;
		return scalar(f, a, e, f->s + a + 1, e - a - 2, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	}
	if (!plain_ok(f->s, a, e))
		return false;
	f->p = e + 1;
	return scalar(f, a, e, f->s + a, e - a, YAML_PLAIN_SCALAR_STYLE);
}

/* Whether a map entry starts at s[k]: a key, then ':' and a space or the
 * line's break (else the entry is a scalar, "- a:b" or "- a b" too). */
static bool key_starts(const struct yfast *f, size_t k)
{
	size_t e = k;

	while (e < f->len && key_char(f->s[e], e == k))
		e++;
	return e > k && e + 1 < f->len && f->s[e] == ':' && (f->s[e + 1] == ' ' || f->s[e + 1] == '\n');
}

/* A block sequence of maps or of one-line plain and double-quoted
 * scalars, its "-" at column indent of the line at f->p. */
static bool parse_seq(struct yfast *f, size_t indent)
{
	if (++f->depth > STORE_MAX_DEPTH || !collection(f, false, f->p + indent))
		return false;
	for (;;) {
		size_t sp = indent_at(f, f->p), at = f->p + sp;

		if (at >= f->len || sp < indent) {
			f->depth--;
			return simple(f, YAML_SEQUENCE_END_EVENT, at < f->len ? at : f->len);
		}
		if (sp != indent || f->s[at] != '-' || at + 2 >= f->len || f->s[at + 1] != ' ')
			return false;
		if (key_starts(f, at + 2)) {
			/* the entry's map starts on the dash's line, two columns in */
			if (!parse_map(f, indent + 2, at + 2))
				return false;
		} else {
			f->p = at + 2;
			if (!value(f, SEQ_ENTRY))
				return false;
		}
	}
}

/* A block map at column indent, its first key at first (on the line at
 * f->p); returns with f->p at the start of the line after it. */
static bool parse_map(struct yfast *f, size_t indent, size_t first)
{
	size_t k = first;

	if (++f->depth > STORE_MAX_DEPTH || !collection(f, true, first))
		return false;
	for (;;) {
		size_t e = k, sp, at;

		while (e < f->len && key_char(f->s[e], e == k))
			e++;
		if (e == k || e - k > YFAST_KEY_MAX || e + 1 >= f->len || f->s[e] != ':' ||
		    !scalar(f, k, e, f->s + k, e - k, YAML_PLAIN_SCALAR_STYLE))
			return false;
		if (f->s[e + 1] == ' ') {
			f->p = e + 2;
			if (!value(f, indent))
				return false;
		} else if (f->s[e + 1] == '\n') {
			/* a collection, deeper on the next line */
			f->p = e + 2;
			sp = indent_at(f, f->p);
			at = f->p + sp;
			if (at >= f->len || sp <= indent)
				return false;
			if (f->s[at] == '-') {
				if (!parse_seq(f, sp))
					return false;
			} else if (!key_char(f->s[at], true) || !parse_map(f, sp, at)) {
				return false;
			}
		} else {
			return false;
		}
		/* f->p: a line's start */
		sp = indent_at(f, f->p);
		at = f->p + sp;
		if (at >= f->len || sp < indent) {
			f->depth--;
			return simple(f, YAML_MAPPING_END_EVENT, at < f->len ? at : f->len);
		}
		if (sp != indent || !key_char(f->s[at], true))
			return false;
		k = at;
	}
}

bool yfast_may_take(const uint8_t *s, size_t len)
{
	return len && s[len - 1] == '\n' && key_char(s[0], true) && !memchr(s, '#', len) &&
	       !memchr(s, '\t', len) && !memchr(s, '\r', len);
}

/* Only a block scalar's value was allocated (scalar()); no event has a
 * tag, an anchor or a directive. */
void yfast_free(struct yfast_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ev[i].type == YAML_SCALAR_EVENT && ev[i].style == YAML_LITERAL_SCALAR_STYLE)
			free((void *)(uintptr_t)ev[i].value);
	free(ev);
}

void yfast_event_get(const struct yfast_event *c, yaml_event_t *e)
{
	memset(e, 0, sizeof(*e));
	e->type = (yaml_event_type_t)c->type;
	e->start_mark.index = c->start;
	e->end_mark.index = c->end;
	switch (e->type) {
	case YAML_STREAM_START_EVENT:
		e->data.stream_start.encoding = YAML_UTF8_ENCODING;
		break;
	case YAML_DOCUMENT_START_EVENT:
		e->data.document_start.implicit = 1;
		break;
	case YAML_DOCUMENT_END_EVENT:
		e->data.document_end.implicit = 1;
		break;
	case YAML_MAPPING_START_EVENT:
		e->data.mapping_start.implicit = 1;
		e->data.mapping_start.style = (yaml_mapping_style_t)c->style;
		break;
	case YAML_SEQUENCE_START_EVENT:
		e->data.sequence_start.implicit = 1;
		e->data.sequence_start.style = (yaml_sequence_style_t)c->style;
		break;
	case YAML_SCALAR_EVENT:
		e->data.scalar.value = (yaml_char_t *)(uintptr_t)c->value;
		e->data.scalar.length = c->length;
		e->data.scalar.style = (yaml_scalar_style_t)c->style;
		e->data.scalar.plain_implicit = c->style == YAML_PLAIN_SCALAR_STYLE;
		e->data.scalar.quoted_implicit = c->style != YAML_PLAIN_SCALAR_STYLE;
		break;
	default:
		break;
	}
}

int yfast_parse(const uint8_t *s, size_t len, struct yfast_event **events, size_t *n)
{
	struct yfast f = { .s = s, .len = len };

	*events = NULL;
	*n = 0;
	if (len > UINT32_MAX || !yfast_may_take(s, len))
		return 0;
	if (simple(&f, YAML_STREAM_START_EVENT, 0) && simple(&f, YAML_DOCUMENT_START_EVENT, 0) &&
	    parse_map(&f, 0, 0) && f.p == len && simple(&f, YAML_DOCUMENT_END_EVENT, len) &&
	    simple(&f, YAML_STREAM_END_EVENT, len)) {
		*events = f.ev;
		*n = f.n;
		return 1;
	}
	yfast_free(f.ev, f.n);
	return f.nomem ? -1 : 0;
}

/* ---- the oracle: libyaml's list for the same text ---- */

static bool same_bytes(const yaml_char_t *a, const yaml_char_t *b)
{
	return (!a && !b) || (a && b && strcmp((const char *)a, (const char *)b) == 0);
}

static const char *event_differs(const yaml_event_t *a, const yaml_event_t *b)
{
	if (a->type != b->type)
		return "type";
	if (a->start_mark.index != b->start_mark.index || a->end_mark.index != b->end_mark.index)
		return "mark";
	switch (a->type) {
	case YAML_STREAM_START_EVENT:
		return a->data.stream_start.encoding != b->data.stream_start.encoding ? "encoding" : NULL;
	case YAML_DOCUMENT_START_EVENT:
		return a->data.document_start.implicit != b->data.document_start.implicit ||
				       a->data.document_start.version_directive ||
				       b->data.document_start.version_directive ||
				       a->data.document_start.tag_directives.start !=
					       a->data.document_start.tag_directives.end ||
				       b->data.document_start.tag_directives.start !=
					       b->data.document_start.tag_directives.end
			       ? "document start"
			       : NULL;
	case YAML_DOCUMENT_END_EVENT:
		return a->data.document_end.implicit != b->data.document_end.implicit ? "document end" : NULL;
	case YAML_ALIAS_EVENT:
		return same_bytes(a->data.alias.anchor, b->data.alias.anchor) ? NULL : "alias";
	case YAML_SCALAR_EVENT:
		if (a->data.scalar.length != b->data.scalar.length ||
		    memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length) != 0)
			return "value";
		if (a->data.scalar.style != b->data.scalar.style ||
		    a->data.scalar.plain_implicit != b->data.scalar.plain_implicit ||
		    a->data.scalar.quoted_implicit != b->data.scalar.quoted_implicit)
			return "style";
		return same_bytes(a->data.scalar.tag, b->data.scalar.tag) &&
				       same_bytes(a->data.scalar.anchor, b->data.scalar.anchor)
			       ? NULL
			       : "tag or anchor";
	case YAML_SEQUENCE_START_EVENT:
		return a->data.sequence_start.style != b->data.sequence_start.style ||
				       a->data.sequence_start.implicit != b->data.sequence_start.implicit ||
				       !same_bytes(a->data.sequence_start.tag, b->data.sequence_start.tag) ||
				       !same_bytes(a->data.sequence_start.anchor, b->data.sequence_start.anchor)
			       ? "sequence start"
			       : NULL;
	case YAML_MAPPING_START_EVENT:
		return a->data.mapping_start.style != b->data.mapping_start.style ||
				       a->data.mapping_start.implicit != b->data.mapping_start.implicit ||
				       !same_bytes(a->data.mapping_start.tag, b->data.mapping_start.tag) ||
				       !same_bytes(a->data.mapping_start.anchor, b->data.mapping_start.anchor)
			       ? "mapping start"
			       : NULL;
	default:
		return NULL;
	}
}

int yfast_compare(const uint8_t *s, size_t len, const struct yfast_event *ev, size_t n, char *why,
		  size_t why_size)
{
	yaml_parser_t parser;
	yaml_event_t e, mine;
	int ret = 0;

	if (!yaml_parser_initialize(&parser))
		return -1;
	yaml_parser_set_input_string(&parser, s, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	for (size_t i = 0; i < n && !ret; i++) {
		const char *what;

		if (!yaml_parser_parse(&parser, &e)) {
			ret = parser.error == YAML_MEMORY_ERROR ? -1 : 1;
			snprintf(why, why_size, "event %zu: libyaml refuses the text at line %zu (%s)", i,
				 parser.problem_mark.line + 1, parser.problem ? parser.problem : "?");
			break;
		}
		yfast_event_get(&ev[i], &mine);
		if ((what = event_differs(&e, &mine))) {
			ret = 1;
			snprintf(why, why_size,
				 "event %zu (type %d, at %zu-%zu): the %s differs from libyaml's (type %d, at %zu-%zu)", i,
				 mine.type, mine.start_mark.index, mine.end_mark.index, what, e.type,
				 e.start_mark.index, e.end_mark.index);
		}
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&parser);
	return ret;
}
