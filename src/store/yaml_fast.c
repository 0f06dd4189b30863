/* PROTOTYPE (issue 12, branch proto12; not for merging as is): libyaml's
 * events for the one shape gitseal writes, without libyaml. Block maps of
 * plain keys, plain one-line values, double-quoted values without escapes,
 * "|"/"|-" block scalars, block sequences of maps indented under their key;
 * every line ends in '\n', no comments, tabs, blank lines, flow, anchors,
 * tags or documents markers. Anything else: the caller reads it with libyaml.
 * Only the marks' index is set (the loader reads nothing else of a mark);
 * yfast_check compares the events with libyaml's (GITSEAL_YFAST_CHECK=1). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "gitseal/alloc.h"
#include "yaml_int.h"

struct yfast {
	const uint8_t *s;
	size_t len, p;
	yaml_event_t *ev;
	size_t n, cap;
	bool nomem;
};

static yaml_event_t *push(struct yfast *f, size_t start, size_t end)
{
	yaml_event_t *e;

	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 32;
		yaml_event_t *v = gs_realloc(f->ev, cap * sizeof(*v));

		if (!v) {
			f->nomem = true;
			return NULL;
		}
		f->ev = v;
		f->cap = cap;
	}
	e = &f->ev[f->n++];
	memset(e, 0, sizeof(*e));
	e->start_mark.index = start;
	e->end_mark.index = end;
	return e;
}

static bool simple(struct yfast *f, yaml_event_type_t type, size_t start, size_t end)
{
	yaml_event_t *e = push(f, start, end);

	if (!e)
		return false;
	e->type = type;
	if (type == YAML_STREAM_START_EVENT)
		e->data.stream_start.encoding = YAML_UTF8_ENCODING;
	else if (type == YAML_DOCUMENT_START_EVENT)
		e->data.document_start.implicit = 1;
	else if (type == YAML_DOCUMENT_END_EVENT)
		e->data.document_end.implicit = 1;
	return true;
}

static bool collection(struct yfast *f, bool map, size_t at)
{
	yaml_event_t *e = push(f, at, at);

	if (!e)
		return false;
	if (map) {
		e->type = YAML_MAPPING_START_EVENT;
		e->data.mapping_start.implicit = 1;
		e->data.mapping_start.style = YAML_BLOCK_MAPPING_STYLE;
	} else {
		e->type = YAML_SEQUENCE_START_EVENT;
		e->data.sequence_start.implicit = 1;
		e->data.sequence_start.style = YAML_BLOCK_SEQUENCE_STYLE;
	}
	return true;
}

/* value: len bytes, copied (libyaml frees it with the event) */
static bool scalar(struct yfast *f, size_t start, size_t end, const uint8_t *v, size_t len,
		   yaml_scalar_style_t style)
{
	yaml_event_t *e = push(f, start, end);
	yaml_char_t *c;

	if (!e)
		return false;
	if (!(c = gs_malloc(len + 1))) {
		f->n--;
		f->nomem = true;
		return false;
	}
	memcpy(c, v, len);
	c[len] = '\0';
	e->type = YAML_SCALAR_EVENT;
	e->data.scalar.value = c;
	e->data.scalar.length = len;
	e->data.scalar.style = style;
	e->data.scalar.plain_implicit = style == YAML_PLAIN_SCALAR_STYLE;
	e->data.scalar.quoted_implicit = style != YAML_PLAIN_SCALAR_STYLE;
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
	       (!first && (c == '-' || c == '.'));
}

/* a plain one-line value [a, b): nothing that ends or changes it in block context */
static bool plain_ok(const uint8_t *s, size_t a, size_t b)
{
	if (a == b || s[a] == ' ' || strchr("-?:,[]{}#&*!|>'\"%@`", s[a]) || s[b - 1] == ' ' || s[b - 1] == ':')
		return false;
	for (size_t i = a; i < b; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
		if (s[i] == ':' && s[i + 1] == ' ')
			return false;
		if (s[i] == '#' && s[i - 1] == ' ')
			return false;
	}
	return true;
}

static bool parse_map(struct yfast *f, size_t indent, size_t first);

/* a block scalar after "|" or "|-" and its break; f->p at its first line */
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
		size_t sp = indent_at(f, f->p), e;

		if (f->p + sp >= f->len || (sp < ind && f->s[f->p + sp] != '\n'))
			break; /* the next line is not the scalar's */
		if (sp > ind && f->s[f->p + sp] != '\n')
			goto out; /* more indented: kept as is by libyaml, not here */
		e = f->p + sp;
		while (e < f->len && f->s[e] != '\n') {
			if (f->s[e] < 0x20 || f->s[e] > 0x7e)
				goto out;
			e++;
		}
		if (e == f->len)
			goto out;
		if (sp < ind)
			goto out; /* a blank line shorter than the indent: not here */
		if (n + (e - f->p - sp) + 1 > cap) {
			uint8_t *w;

			cap = 2 * (n + (e - f->p - sp) + 1);
			if (!(w = gs_realloc(v, cap))) {
				f->nomem = true;
				goto out;
			}
			v = w;
		}
		memcpy(v + n, f->s + f->p + sp, e - f->p - sp);
		n += e - f->p - sp;
		v[n++] = '\n';
		f->p = e + 1;
	}
	/* a blank last line: libyaml's chomping, not here */
	if (n >= 2 && v[n - 2] == '\n')
		goto out;
	if (strip)
		n--;
	ok = scalar(f, start, f->p, v, n, YAML_LITERAL_SCALAR_STYLE);
out:
	free(v);
	return ok;
}

/* a value after "key: " at f->p, to its line's end */
static bool value(struct yfast *f, size_t key_indent)
{
	size_t a = f->p, e = a;

	while (e < f->len && f->s[e] != '\n')
		e++;
	if (e == f->len)
		return false;
	if (f->s[a] == '|') {
		bool strip = e - a == 2 && f->s[a + 1] == '-';

		if (e - a != 1 && !strip)
			return false;
		f->p = e + 1;
		return block_scalar(f, a, key_indent, strip);
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

/* a block sequence of maps, its "-" at column indent of the line at f->p */
static bool parse_seq(struct yfast *f, size_t indent)
{
	if (!collection(f, false, f->p + indent))
		return false;
	for (;;) {
		size_t sp = indent_at(f, f->p), at = f->p + sp;

		if (at >= f->len || sp < indent)
			return simple(f, YAML_SEQUENCE_END_EVENT, at < f->len ? at : f->len, at < f->len ? at : f->len);
		if (sp != indent || f->s[at] != '-' || at + 2 >= f->len || f->s[at + 1] != ' ' ||
		    !key_char(f->s[at + 2], true))
			return false;
		/* the entry's map starts on the dash's line, two columns in */
		if (!parse_map(f, indent + 2, at + 2))
			return false;
	}
}

/* a block map at column indent; its first key at first (on the line at
 * f->p); returns with f->p at the start of the line after it */
static bool parse_map(struct yfast *f, size_t indent, size_t first)
{
	size_t k = first;

	if (!collection(f, true, first))
		return false;
	for (;;) {
		size_t e = k, sp, at;

		while (e < f->len && key_char(f->s[e], e == k))
			e++;
		if (e == k || e + 1 >= f->len || f->s[e] != ':' || !scalar(f, k, e, f->s + k, e - k, YAML_PLAIN_SCALAR_STYLE))
			return false;
		if (f->s[e + 1] == ' ') {
			f->p = e + 2;
			if (!value(f, indent))
				return false;
		} else if (f->s[e + 1] == '\n') {
			/* a nested collection, deeper on the next line */
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
		/* f->p: a line start */
		sp = indent_at(f, f->p);
		at = f->p + sp;
		if (at >= f->len || sp < indent) {
			size_t m = at < f->len ? at : f->len;

			return simple(f, YAML_MAPPING_END_EVENT, m, m);
		}
		if (sp != indent || !key_char(f->s[at], true))
			return false;
		k = at;
	}
}

void yfast_free(yaml_event_t *ev, size_t n)
{
	for (size_t i = 0; i < n; i++)
		yaml_event_delete(&ev[i]);
	free(ev);
}

/* 1: events[0, n) are libyaml's for s[0, len); 0: not the shape; <0: out of memory */
int yfast_parse(const uint8_t *s, size_t len, yaml_event_t **events, size_t *n)
{
	struct yfast f = { .s = s, .len = len };
	size_t sp;

	*events = NULL;
	*n = 0;
	if (!len || s[len - 1] != '\n' || memchr(s, '#', len) || memchr(s, '\t', len) || memchr(s, '\r', len))
		return 0;
	sp = indent_at(&f, 0);
	if (sp || !key_char(s[0], true))
		return 0;
	if (simple(&f, YAML_STREAM_START_EVENT, 0, 0) && simple(&f, YAML_DOCUMENT_START_EVENT, 0, 0) &&
	    parse_map(&f, 0, 0) && f.p == len && simple(&f, YAML_DOCUMENT_END_EVENT, len, len) &&
	    simple(&f, YAML_STREAM_END_EVENT, len, len)) {
		*events = f.ev;
		*n = f.n;
		return 1;
	}
	yfast_free(f.ev, f.n);
	return f.nomem ? -1 : 0;
}

/* GITSEAL_YFAST_CHECK: libyaml's events for the same text, compared (type,
 * marks' index, scalar value and style); a difference aborts */
size_t yfast_checked; /* how many event lists were compared (the harness reads it) */

void yfast_check(const uint8_t *s, size_t len, const yaml_event_t *ev, size_t n)
{
	yaml_parser_t parser;
	yaml_event_t e;

	yfast_checked++;
	if (!yaml_parser_initialize(&parser))
		return;
	yaml_parser_set_input_string(&parser, s, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	for (size_t i = 0; i < n; i++) {
		if (!yaml_parser_parse(&parser, &e)) {
			fprintf(stderr, "yfast: libyaml refused at event %zu\n", i);
			abort();
		}
		if (e.type != ev[i].type || e.start_mark.index != ev[i].start_mark.index ||
		    e.end_mark.index != ev[i].end_mark.index) {
			fprintf(stderr, "yfast: event %zu: type %d/%d start %zu/%zu end %zu/%zu\n", i, e.type, ev[i].type,
				e.start_mark.index, ev[i].start_mark.index, e.end_mark.index, ev[i].end_mark.index);
			abort();
		}
		if (e.type == YAML_SCALAR_EVENT &&
		    (e.data.scalar.length != ev[i].data.scalar.length || e.data.scalar.style != ev[i].data.scalar.style ||
		     e.data.scalar.plain_implicit != ev[i].data.scalar.plain_implicit ||
		     e.data.scalar.quoted_implicit != ev[i].data.scalar.quoted_implicit ||
		     memcmp(e.data.scalar.value, ev[i].data.scalar.value, e.data.scalar.length))) {
			fprintf(stderr, "yfast: event %zu: scalar [%s] style %d / [%s] style %d\n", i, e.data.scalar.value,
				e.data.scalar.style, ev[i].data.scalar.value, ev[i].data.scalar.style);
			abort();
		}
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&parser);
}
