/* JSON store (sops stores/json): a strict RFC 8259 recursive-descent parser
 * that keeps every value's span, and an emitter that either patches the
 * source or writes Go json.Indent layout (spec 5.6, 6.2). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/store.h"
#include "store_int.h"

struct jparser {
	const uint8_t *s;
	size_t len;
	size_t pos;
	struct doc *d;
	struct gs_buf tmp; /* unescaped string being read (plaintext) */
};

static int jfail(struct jparser *p, const char *what)
{
	size_t line = 1;

	for (size_t i = 0; i < p->pos && i < p->len; i++)
		line += p->s[i] == '\n';
	return GS_FAIL(GS_ERR_PARSE, "invalid JSON at line %zu: %s", line, what);
}

static void skip_ws(struct jparser *p)
{
	while (p->pos < p->len) {
		uint8_t c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int hex4(struct jparser *p, uint32_t *out)
{
	uint32_t v = 0;

	if (p->len - p->pos < 4)
		return jfail(p, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		uint8_t c = p->s[p->pos++];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return jfail(p, "bad \\u escape");
	}
	*out = v;
	return 0;
}

/* Where the string at p->pos (on the quote) ends: its raw length, which
 * its decoded bytes never exceed, so the output is sized once. */
static int string_extent(const struct jparser *p, size_t *raw)
{
	size_t i = p->pos + 1;

	while (i < p->len) {
		const uint8_t *q = memchr(p->s + i, '"', p->len - i);
		size_t slashes = 0;

		if (!q)
			break;
		i = (size_t)(q - p->s);
		while (i - slashes > p->pos + 1 && p->s[i - slashes - 1] == '\\')
			slashes++;
		if (!(slashes & 1)) {
			*raw = i - p->pos - 1;
			return 0;
		}
		i++;
	}
	*raw = p->len - p->pos;
	return 0;
}

/* A unicode escape (a backslash, u and four hex digits; the u already
 * read), a surrogate pair taken as one: its UTF-8 in u, n bytes. */
static int decode_u_escape(struct jparser *p, char u[4], size_t *n)
{
	uint32_t cp;
	int ret = hex4(p, &cp);

	if (ret)
		return ret;
	if (cp >= 0xD800 && cp < 0xDC00 && p->len - p->pos >= 6 && p->s[p->pos] == '\\' &&
	    p->s[p->pos + 1] == 'u') {
		size_t save = p->pos;
		uint32_t lo;

		p->pos += 2;
		if ((ret = hex4(p, &lo)))
			return ret;
		if (lo >= 0xDC00 && lo < 0xE000)
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		else
			p->pos = save;
	}
	/* Go decodes an unpaired surrogate to U+FFFD: sealed so, the string
	 * would come back as another one (rule 1: refuse) */
	if (cp >= 0xD800 && cp < 0xE000)
		return jfail(p, "an unpaired surrogate (\\u escape) has no UTF-8 form");
	utf8_encode(cp, u, n);
	return 0;
}

/* Decodes the string at p->pos (on the quote) into dst, which holds its
 * raw length plus one; *len is the decoded length. */
static int decode_string(struct jparser *p, uint8_t *dst, size_t *len)
{
	size_t o = 0;

	p->pos++;
	for (;;) {
		uint8_t c;
		uint32_t cp;
		size_t n;
		char u[4];

		if (p->pos >= p->len)
			return jfail(p, "unterminated string");
		c = p->s[p->pos];
		if (c == '"') {
			p->pos++;
			dst[o] = '\0';
			*len = o;
			return 0;
		}
		if (c < 0x20)
			return jfail(p, "control character in string");
		if (c < 0x80 && c != '\\') {
			/* a run of ASCII up to the next quote, backslash or control
			 * character in one copy: a byte at a time through the UTF-8
			 * decoder was two thirds of the proof's reload */
			size_t end = p->pos + 1;

			while (end < p->len && (uint8_t)p->s[end] >= 0x20 && (uint8_t)p->s[end] < 0x80 &&
			       p->s[end] != '"' && p->s[end] != '\\')
				end++;
			memcpy(dst + o, p->s + p->pos, end - p->pos);
			o += end - p->pos;
			p->pos = end;
			continue;
		}
		if (c != '\\') {
			n = utf8_decode(p->s + p->pos, p->len - p->pos, &cp);
			if (!n)
				return jfail(p, "invalid UTF-8 in string");
			memcpy(dst + o, p->s + p->pos, n);
			o += n;
			p->pos += n;
			continue;
		}
		if (++p->pos >= p->len)
			return jfail(p, "unterminated string");
		c = p->s[p->pos++];
		switch (c) {
		case '"': case '\\': case '/':
			u[0] = (char)c;
			n = 1;
			break;
		case 'b': u[0] = '\b'; n = 1; break;
		case 'f': u[0] = '\f'; n = 1; break;
		case 'n': u[0] = '\n'; n = 1; break;
		case 'r': u[0] = '\r'; n = 1; break;
		case 't': u[0] = '\t'; n = 1; break;
		case 'u': {
			int ret = decode_u_escape(p, u, &n);

			if (ret)
				return ret;
			break;
		}
		default:
			return jfail(p, "bad escape");
		}
		/* an escape is at least as long as what it decodes to */
		memcpy(dst + o, u, n);
		o += n;
	}
}

/* Reads a string at p->pos (on the quote) into p->tmp. */
static int parse_string(struct jparser *p)
{
	size_t raw, len;
	int ret;

	gs_buf_reset(&p->tmp);
	if ((ret = string_extent(p, &raw)) < 0 || (ret = gs_buf_reserve(&p->tmp, raw + 4)) < 0)
		return ret;
	if ((ret = decode_string(p, p->tmp.data, &len)) < 0)
		return ret;
	p->tmp.len = len;
	return 0;
}

/* A string value. A large one is decoded straight into the document's
 * memory: not into p->tmp and then copied (a large value held twice). */
enum { JSON_DIRECT_STRING = 64 * 1024 };

/* Whether the string at p->pos (on the quote) with raw bytes before its
 * closing quote is its own value: no escape, no control character, valid
 * UTF-8 (what decode_string would copy as it is). */
static bool string_as_is(const struct jparser *p, size_t raw)
{
	const uint8_t *s = p->s + p->pos + 1;
	uint32_t cp;

	if (p->pos + 1 + raw >= p->len || s[raw] != '"')
		return false;
	for (size_t i = 0, n; i < raw; i += n) {
		n = 1;
		if (s[i] < 0x20 || s[i] == '\\')
			return false;
		if (s[i] >= 0x80 && !(n = utf8_decode(s + i, raw - i, &cp)))
			return false;
	}
	return true;
}

static int string_node(struct jparser *p, struct doc_node **out)
{
	size_t raw, len;
	uint8_t *dst;
	int ret;

	*out = NULL;
	if ((ret = string_extent(p, &raw)) < 0)
		return ret;
	/* a document that shares its source: the value stays there */
	if (p->d->share_source && raw >= DOC_SHARE_MIN && string_as_is(p, raw)) {
		*out = doc_new_scalar_at(p->d, DOC_STR, p->pos + 1, raw);
		p->pos += raw + 2;
		return *out ? 0 : GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	if (raw < JSON_DIRECT_STRING) {
		if ((ret = parse_string(p)) < 0)
			return ret;
		*out = doc_new_scalar(p->d, DOC_STR, (char *)p->tmp.data, p->tmp.len);
		return *out ? 0 : GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	if (!(dst = gs_arena_alloc(&p->d->arena, raw + 4)) || !(*out = doc_new_scalar(p->d, DOC_STR, "", 0)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if ((ret = decode_string(p, dst, &len)) < 0)
		return ret;
	(*out)->text = (char *)dst;
	(*out)->len = len;
	return 0;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* The end of the JSON number (RFC 8259 6) that starts at s[pos], or 0
 * when none does; *integer: it has no fraction and no exponent. */
static size_t number_end(const uint8_t *s, size_t len, size_t pos, bool *integer)
{
	size_t d;

	*integer = true;
	if (pos < len && s[pos] == '-')
		pos++;
	if (pos < len && s[pos] == '0') {
		pos++;
	} else {
		for (d = pos; pos < len && is_digit(s[pos]); pos++)
			;
		if (pos == d)
			return 0;
	}
	if (pos < len && s[pos] == '.') {
		*integer = false;
		for (d = ++pos; pos < len && is_digit(s[pos]); pos++)
			;
		if (pos == d)
			return 0;
	}
	if (pos < len && (s[pos] == 'e' || s[pos] == 'E')) {
		*integer = false;
		if (++pos < len && (s[pos] == '+' || s[pos] == '-'))
			pos++;
		for (d = pos; pos < len && is_digit(s[pos]); pos++)
			;
		if (pos == d)
			return 0;
	}
	return pos;
}

/* An integer literal that fits int64 (what sops 6.2 reads as an int). */
static bool fits_int64(const char *lexeme)
{
	errno = 0;
	(void)strtoll(lexeme, NULL, 10);
	return errno == 0;
}

bool store_json_float_text(const char *s, size_t len)
{
	char buf[JSON_NUMBER_MAX];
	bool integer;
	double v;

	if (len == 0 || len >= sizeof(buf) || number_end((const uint8_t *)s, len, 0, &integer) != len)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	v = strtod(buf, NULL);
	return !isinf(v) && !(integer && fits_int64(buf));
}

/* sops 6.2: an integer literal that fits int64 is an int, anything else a
 * float64. A float keeps its text as the file spells it ("1.0", "-2.5e3"):
 * it is encrypted as written (sops and sops-age read it with ParseFloat /
 * parseFloat) and comes back byte for byte; its value is what counts as
 * data (doc_equal). */
static int parse_number(struct jparser *p, struct doc_node **out)
{
	size_t start = p->pos, len;
	bool integer;
	char buf[JSON_NUMBER_MAX];

	p->pos = number_end(p->s, p->len, p->pos, &integer);
	if (!p->pos) {
		p->pos = start;
		return jfail(p, "bad number");
	}
	len = p->pos - start;
	if (len >= sizeof(buf))
		return jfail(p, "number too long");
	memcpy(buf, p->s + start, len);
	buf[len] = '\0';
	if (integer && fits_int64(buf)) {
		/* as spelled: only "-0" differs from sops's form, and Atoi
		 * reads it as 0 (store_int_spelling_kept) */
		*out = doc_new_scalar(p->d, DOC_INT, buf, len);
	} else {
		if (isinf(strtod(buf, NULL)))
			return jfail(p, "number out of range");
		*out = doc_new_scalar(p->d, DOC_FLOAT, buf, len);
	}
	sodium_memzero(buf, sizeof(buf));
	return *out ? 0 : GS_FAIL(GS_ERR_NOMEM, "out of memory");
}

static int parse_value(struct jparser *p, struct doc_node **out, int depth);

static int parse_container_items(struct jparser *p, struct doc_node *n, int depth,
				 struct store_keyset *keys)
{
	bool map = n->kind == DOC_MAP;
	uint8_t close = map ? '}' : ']';
	int ret;

	if (depth >= STORE_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "JSON nested deeper than %d levels", STORE_MAX_DEPTH);
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		struct doc_entry *e;
		struct doc_node *v;
		struct doc_span ks = { DOC_NO_POS, DOC_NO_POS };
		char *key = NULL;
		size_t klen = 0;

		skip_ws(p);
		if (map) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return jfail(p, "expected a string key");
			ks.start = p->pos;
			ret = parse_string(p);
			if (ret)
				return ret;
			ks.end = p->pos;
			key = (char *)p->tmp.data;
			klen = p->tmp.len;
			ret = store_keyset_has(keys, n, key, klen);
			if (ret < 0)
				return ret;
			if (ret)
				return jfail(p, "duplicate key");
			key = gs_arena_strndup(&p->d->arena, key, klen);
			if (!key)
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return jfail(p, "expected ':'");
			p->pos++;
		}
		ret = parse_value(p, &v, depth + 1);
		if (ret)
			return ret;
		e = doc_append(p->d, n, key, klen, v);
		if (!e)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		e->key_span = ks;
		skip_ws(p);
		if (p->pos >= p->len)
			return jfail(p, "unterminated container");
		if (p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos] == close) {
			p->pos++;
			return 0;
		}
		return jfail(p, "expected ',' or a closing bracket");
	}
}

static int parse_container(struct jparser *p, struct doc_node *n, int depth)
{
	struct store_keyset keys;
	int ret;

	store_keyset_init(&keys);
	ret = parse_container_items(p, n, depth, &keys);
	store_keyset_release(&keys);
	return ret;
}

static bool literal(struct jparser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return false;
	p->pos += n;
	return true;
}

static int parse_value(struct jparser *p, struct doc_node **out, int depth)
{
	size_t start;
	struct doc_node *n = NULL;
	int ret = 0;
	uint8_t c;

	skip_ws(p);
	if (p->pos >= p->len)
		return jfail(p, "unexpected end of input");
	start = p->pos;
	c = p->s[p->pos];
	if (c == '{' || c == '[') {
		n = c == '{' ? doc_new_map(p->d) : doc_new_list(p->d);
		if (!n)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		ret = parse_container(p, n, depth);
	} else if (c == '"') {
		ret = string_node(p, &n);
	} else if (c == '-' || is_digit(c)) {
		ret = parse_number(p, &n);
	} else if (literal(p, "true") || literal(p, "false")) {
		bool t = p->s[start] == 't';

		n = doc_new_scalar(p->d, DOC_BOOL, t ? "true" : "false", t ? 4 : 5);
	} else if (literal(p, "null")) {
		n = doc_new_scalar(p->d, DOC_NULL, "", 0);
	} else {
		return jfail(p, "unexpected character");
	}
	if (ret)
		return ret;
	if (!n)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	n->span.start = start;
	n->span.end = p->pos;
	*out = n;
	return 0;
}

int store_json_load(const uint8_t *text, size_t len, struct doc *d)
{
	struct jparser p = { .s = NULL, .len = len, .d = d };
	struct doc_node *root = NULL;
	int ret;

	d->format = DOC_FORMAT_JSON;
	if ((ret = store_take_source(d, text, len)) < 0)
		return ret;
	p.s = d->source.data;
	gs_buf_init(&p.tmp, true);
	/* a UTF-8 byte-order mark may be ignored (RFC 8259 8.1); patch-mode
	 * output keeps it, as it keeps all text outside the values */
	if (len >= 3 && p.s[0] == 0xEF && p.s[1] == 0xBB && p.s[2] == 0xBF)
		p.pos = 3;
	skip_ws(&p);
	if (p.pos >= len) {
		ret = GS_FAIL(GS_ERR_EMPTY_INPUT, "empty JSON document");
		goto out;
	}
	if (p.s[p.pos] != '{') {
		ret = jfail(&p, "the top level must be an object");
		goto out;
	}
	ret = parse_value(&p, &root, 0);
	if (ret)
		goto out;
	skip_ws(&p);
	if (p.pos != len) {
		ret = jfail(&p, "trailing data after the top-level object");
		goto out;
	}
	ret = doc_add_branch(d, root);
out:
	gs_buf_release(&p.tmp);
	return ret;
}

/* ---- output ---- */

struct jemit {
	struct gs_buf *out;
	const char *unit; /* one level of indentation */
	size_t unit_len;
	const struct doc_node *root; /* the patched document's */
};

/* Go json.Marshal string escaping (HTML-safe, \b \f since Go 1.22) for
 * fresh output, as sops writes. A value patched into the user's own text
 * escapes only what JSON requires, so decrypt(encrypt(file)) gives back
 * "<", ">" and "&" as the user wrote them. */
/* The bytes json_string writes as they are (outside html_safe). */
static bool json_plain_byte(uint8_t c)
{
	return c >= 0x20 && c != '"' && c != '\\' && c < 0x80;
}

static bool json_needs_escape(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!json_plain_byte((uint8_t)s[i]))
			return true;
	return false;
}

static int json_string(struct gs_buf *out, const char *s, size_t len, bool html_safe)
{
	static const char hex[] = "0123456789abcdef";
	int ret = 0;
	size_t i = 0, run = 0;

	if ((ret = store_put(out, "\"", 1)))
		goto out;
	while (i < len) {
		uint8_t c = (uint8_t)s[i];
		char esc[8];
		size_t en = 0, n;
		uint32_t cp;

		if (json_plain_byte(c) &&
		    (!html_safe || (c != '<' && c != '>' && c != '&'))) {
			i++;
			run++;
			continue;
		}
		if ((ret = store_put(out, s + i - run, run)))
			goto out;
		run = 0;
		if (c < 0x80) {
			esc[0] = '\\';
			switch (c) {
			case '"': esc[1] = '"'; en = 2; break;
			case '\\': esc[1] = '\\'; en = 2; break;
			case '\n': esc[1] = 'n'; en = 2; break;
			case '\r': esc[1] = 'r'; en = 2; break;
			case '\t': esc[1] = 't'; en = 2; break;
			case '\b': esc[1] = 'b'; en = 2; break;
			case '\f': esc[1] = 'f'; en = 2; break;
			default:
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				en = 6;
			}
			if ((ret = store_put(out, esc, en)))
				goto out;
			i++;
			continue;
		}
		n = utf8_decode((const uint8_t *)s + i, len - i, &cp);
		if (!n) {
			if ((ret = store_put(out, "\\ufffd", 6)))
				goto out;
			i++;
		} else if (html_safe && (cp == 0x2028 || cp == 0x2029)) {
			if ((ret = store_put(out, cp == 0x2028 ? "\\u2028" : "\\u2029", 6)))
				goto out;
			i += n;
		} else {
			if ((ret = store_put(out, s + i, n)))
				goto out;
			i += n;
		}
	}
	if ((ret = store_put(out, s + i - run, run)))
		goto out;
	if ((ret = store_put(out, "\"", 1)))
		goto out;
out:
	return ret;
}

/* A float. Patched into the user's text, it is written as its text spells
 * it when that is a JSON number that reads back as a float, so it comes
 * back byte for byte. Otherwise, and in the fresh layout, it is written
 * as Go's encoding/json writes it (sops), with ".0" where that would read
 * back as an integer ("7"), as the YAML store does: readers keep seeing
 * a float. */
static int json_float(struct gs_buf *out, const struct doc_node *n, bool as_spelled)
{
	size_t mark = out->len;
	bool integer;
	double v;
	int ret;

	if (as_spelled && store_json_float_text(n->text, n->len))
		return store_put(out, n->text, n->len);
	if (!float_from_text(n->text, n->len, &v))
		return GS_FAIL(GS_ERR_PARSE, "invalid float value");
	if ((ret = float_format_go_json(v, out)))
		return ret;
	if (number_end(out->data + mark, out->len - mark, 0, &integer) && integer)
		ret = store_put(out, ".0", 2);
	return ret;
}

/* An int as spelled where that is a JSON integer ("-0") and the layout is
 * the file's, else in sops's form (json.Marshal of the int): a YAML
 * spelling ("+5", "007") is no JSON. */
static int json_int(struct gs_buf *out, const struct doc_node *n, bool as_spelled)
{
	bool integer;

	if (as_spelled && n->len && number_end((const uint8_t *)n->text, n->len, 0, &integer) == n->len && integer)
		return store_put(out, n->text, n->len);
	return store_append_int_canonical(out, n->text, n->len);
}

/* fresh: Go's json.Marshal, as sops writes; else patched into the user's
 * text, in its own terms. */
static int json_scalar(struct gs_buf *out, const struct doc_node *n, bool fresh)
{
	switch (n->type) {
	case DOC_STR:
		return json_string(out, n->text, n->len, fresh);
	case DOC_INT:
		return json_int(out, n, !fresh);
	case DOC_FLOAT:
		return json_float(out, n, !fresh);
	case DOC_BOOL:
		return store_put(out, n->text, n->len);
	case DOC_NULL:
		return store_put(out, "null", 4);
	case DOC_TIME: /* a Go time.Time: json.Marshal writes its RFC 3339 text as a string */
		return json_string(out, n->text, n->len, fresh);
	}
	return GS_FAIL(GS_ERR_PARSE, "unknown value type");
}

static int newline_indent(struct jemit *em, const char *base, size_t base_len, int depth)
{
	int ret = 0;

	if ((ret = store_put(em->out, "\n", 1)))
		goto out;
	if ((ret = store_put(em->out, base, base_len)))
		goto out;
	for (int i = 0; i < depth; i++)
		if ((ret = store_put(em->out, em->unit, em->unit_len)))
			goto out;
out:
	return ret;
}

/* Go json.Indent of json.Marshal: "key": value, empty containers compact. */
static int json_fresh(struct jemit *em, const struct doc_node *n, const char *base,
		      size_t base_len, int depth)
{
	int ret = 0;
	size_t written = 0;

	if (n->kind == DOC_SCALAR)
		return json_scalar(em->out, n, true);
	if (n->kind != DOC_MAP && n->kind != DOC_LIST)
		return 0;
	if ((ret = store_put(em->out, n->kind == DOC_MAP ? "{" : "[", 1)))
		goto out;
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (e->removed || e->value->kind == DOC_COMMENT)
			continue;
		if (written++)
			if ((ret = store_put(em->out, ",", 1)))
				goto out;
		if ((ret = newline_indent(em, base, base_len, depth + 1)))
			goto out;
		if (n->kind == DOC_MAP) {
			if ((ret = json_string(em->out, e->key, e->key_len, true)))
				goto out;
			if ((ret = store_put(em->out, ": ", 2)))
				goto out;
		}
		if ((ret = json_fresh(em, e->value, base, base_len, depth + 1)))
			goto out;
	}
	if (written)
		if ((ret = newline_indent(em, base, base_len, depth)))
			goto out;
	if ((ret = store_put(em->out, n->kind == DOC_MAP ? "}" : "]", 1)))
		goto out;
out:
	return ret;
}

static bool is_new(const struct doc_entry *e, const struct doc_node *parent)
{
	return parent->kind == DOC_MAP ? e->key_span.start == DOC_NO_POS
				       : e->value->span.start == DOC_NO_POS;
}

/* Where an entry's text starts: a member's key, an element's value. */
static size_t entry_start(const struct doc_entry *e, const struct doc_node *parent)
{
	return parent->kind == DOC_MAP ? e->key_span.start : e->value->span.start;
}

/* A document that can be written back by patching: every dirty or removed
 * node has a span, and containers with spans get new entries only when
 * their source is known. New entries are written after the last one kept:
 * in a list, where they stand (a new element before one the file holds,
 * as a value replaced by a container, is not). */
static bool patchable(const struct doc_node *n)
{
	bool any_new = false;

	if (n->kind == DOC_SCALAR)
		return !n->dirty || n->span.start != DOC_NO_POS;
	if (n->kind != DOC_MAP && n->kind != DOC_LIST)
		return true;
	if (n->span.start == DOC_NO_POS)
		return false;
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (is_new(e, n)) {
			if (e->removed)
				return false;
			any_new = true;
			continue;
		}
		if (n->kind == DOC_LIST && any_new && !e->removed)
			return false;
		if (!patchable(e->value))
			return false;
	}
	return true;
}

static size_t line_start(const uint8_t *s, size_t pos)
{
	while (pos > 0 && s[pos - 1] != '\n')
		pos--;
	return pos;
}

static int patch_node(struct store_edits *ed, const uint8_t *src, const struct doc_node *n,
		      const struct jemit *tmpl);

/* The loaded entries of an object or a list: its first, its last and the
 * last one still there; whether new ones follow. */
struct map_bounds {
	const struct doc_entry *first, *last, *last_kept;
	bool any_new;
};

static void map_bounds(const struct doc_node *n, struct map_bounds *b)
{
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (is_new(e, n)) {
			b->any_new = true;
			continue;
		}
		if (!b->first)
			b->first = e;
		b->last = e;
		if (!e->removed)
			b->last_kept = e;
	}
}

/* Removed entries go with a comma: a run at the end with the comma
 * before it, any other entry with the comma after it. */
static int cut_removed(struct store_edits *ed, const struct doc_node *n, const struct map_bounds *b)
{
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i], *next = NULL, *prev = NULL;
		size_t end = i + 1;

		if (is_new(e, n) || !e->removed)
			continue;
		for (size_t j = i + 1; j < n->count && !next; j++)
			if (!is_new(&n->entries[j], n) && !n->entries[j].removed)
				next = &n->entries[j];
		if (next) {
			while (is_new(&n->entries[end], n))
				end++;
			int ret = store_edits_push(ed, entry_start(e, n), entry_start(&n->entries[end], n),
						   ed->pool.len);

			if (ret)
				return ret;
			continue;
		}
		for (size_t j = i; j-- > 0 && !prev;)
			if (!is_new(&n->entries[j], n) && !n->entries[j].removed)
				prev = &n->entries[j];
		/* the trailing run is cut in one edit */
		return store_edits_push(ed, prev ? prev->value->span.end : entry_start(b->first, n),
					b->last->value->span.end, ed->pool.len);
	}
	return 0;
}

/* What starts a new entry's line: the first entry's indentation, or
 * nothing when the object or list sits on one line. */
static bool entry_prefix(const uint8_t *src, const struct doc_node *n, const struct map_bounds *b,
			 const char **prefix, size_t *prefix_len)
{
	size_t ls, first;

	*prefix = "";
	*prefix_len = 0;
	if (!b->first)
		return false;
	first = entry_start(b->first, n);
	ls = line_start(src, first);
	if (ls <= n->span.start)
		return true;
	for (size_t i = ls; i < first; i++)
		if (src[i] != ' ' && src[i] != '\t')
			return true;
	*prefix = (const char *)src + ls;
	*prefix_len = first - ls;
	return false;
}

/* A new entry's key and colon (a list's element has none), then its
 * value in the fresh layout at base. */
static int write_entry(struct jemit *em, const struct doc_node *n, const struct doc_entry *e, const char *base,
		       size_t base_len)
{
	int ret;

	if (n->kind == DOC_MAP &&
	    ((ret = json_string(em->out, e->key, e->key_len, true)) || (ret = store_put(em->out, ": ", 2))))
		return ret;
	return json_fresh(em, e->value, base, base_len, 0);
}

/* An object or a list that had no entries: its new ones one unit deeper
 * than its '{' or '[' line, the '}' or ']' back on a line of that
 * indentation. */
static int write_into_empty(struct jemit *em, const uint8_t *src, const struct doc_node *n)
{
	size_t ls = line_start(src, n->span.start), k = ls, base_len;
	char *base = NULL;
	bool wrote = false;
	int ret = 0;

	while (k < n->span.start && (src[k] == ' ' || src[k] == '\t'))
		k++;
	base_len = k - ls + em->unit_len;
	if (!(base = gs_malloc(base_len + 1)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	memcpy(base, src + ls, k - ls);
	memcpy(base + (k - ls), em->unit, em->unit_len);
	for (size_t i = 0; i < n->count && !ret; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (!is_new(e, n))
			continue;
		if ((ret = store_put(em->out, wrote ? "," : "", wrote)) ||
		    (ret = store_put(em->out, "\n", 1)) || (ret = store_put(em->out, base, base_len)))
			break;
		ret = write_entry(em, n, e, base, base_len);
		wrote = true;
	}
	if (!ret && !(ret = store_put(em->out, "\n", 1)))
		ret = store_put(em->out, (const char *)src + ls, k - ls);
	free(base);
	return ret;
}

static int write_new_entries(struct jemit *em, const struct doc_node *n, const struct map_bounds *b,
			     const char *prefix, size_t prefix_len, bool one_line)
{
	bool wrote = false;
	int ret = 0;

	for (size_t i = 0; i < n->count && !ret; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (!is_new(e, n))
			continue;
		if ((b->last_kept || wrote) &&
		    ((ret = store_put(em->out, one_line ? ", " : ",\n", 2)) ||
		     (ret = store_put(em->out, prefix, prefix_len))))
			break;
		wrote = true;
		ret = write_entry(em, n, e, prefix, prefix_len);
	}
	return ret;
}

/* Removed entries cut, new ones written after the last one kept (after
 * the '{' or '[' when there is none), in the object's or list's own
 * layout. */
static int patch_tail(struct store_edits *ed, const uint8_t *src, const struct doc_node *n,
			  const struct jemit *tmpl)
{
	struct jemit em = *tmpl;
	struct map_bounds b;
	const char *prefix;
	size_t prefix_len, pos, mark = ed->pool.len;
	bool one_line;
	int ret;

	map_bounds(n, &b);
	if ((ret = cut_removed(ed, n, &b)) || !b.any_new)
		return ret;
	one_line = entry_prefix(src, n, &b, &prefix, &prefix_len);
	if (b.last_kept)
		pos = b.last_kept->value->span.end;
	else if (b.first)
		pos = entry_start(b.first, n);
	else
		pos = n->span.start + 1;
	em.out = &ed->pool;
	/* an empty document's new entries (the sops metadata that encrypt
	 * adds to {}) go on the '{' line: taken out again, they leave the
	 * '{}' as it was (it came back as "{", a tab, "}") */
	if (b.first)
		ret = write_new_entries(&em, n, &b, prefix, prefix_len, one_line);
	else if (n == em.root)
		ret = write_new_entries(&em, n, &b, "", 0, true);
	else
		ret = write_into_empty(&em, src, n);
	return ret ? ret : store_edits_push(ed, pos, pos, mark);
}

static int patch_node(struct store_edits *ed, const uint8_t *src, const struct doc_node *n,
		      const struct jemit *tmpl)
{
	int ret = 0;

	if (n->kind == DOC_SCALAR) {
		size_t mark = ed->pool.len;

		if (!n->dirty)
			return 0;
		/* a string with nothing to escape (every ENC[...] value) is
		 * not copied: a large one would be held once more */
		if (n->type == DOC_STR && !json_needs_escape(n->text, n->len))
			return store_edits_push_wrapped(ed, n->span.start, n->span.end, "\"",
							(const uint8_t *)n->text, n->len, "\"");
		if ((ret = json_scalar(&ed->pool, n, false)))
			goto out;
		return store_edits_push(ed, n->span.start, n->span.end, mark);
	}
	if (n->kind != DOC_MAP && n->kind != DOC_LIST)
		return 0;
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (!is_new(e, n) && !e->removed)
			if ((ret = patch_node(ed, src, e->value, tmpl)))
				goto out;
	}
	if ((ret = patch_tail(ed, src, n, tmpl)))
		goto out;
out:
	return ret;
}

/* One indentation unit as the source uses it: the blanks before the
 * top-level object's first key, else the option. */
static void detect_unit(const struct doc *d, struct jemit *em)
{
	const struct doc_node *root = d->branches[0];

	for (size_t i = 0; i < root->count; i++) {
		const struct doc_entry *e = &root->entries[i];
		size_t ls, k;

		if (e->key_span.start == DOC_NO_POS)
			continue;
		ls = line_start(d->source.data, e->key_span.start);
		if (ls <= root->span.start)
			return;
		for (k = ls; k < e->key_span.start; k++)
			if (d->source.data[k] != ' ' && d->source.data[k] != '\t')
				return;
		if (k > ls) {
			em->unit = (const char *)d->source.data + ls;
			em->unit_len = k - ls;
		}
		return;
	}
}

int store_json_emit(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out)
{
	static const char spaces[] = "                ";
	struct jemit em = { .out = out, .unit = "\t", .unit_len = 1 };
	struct store_edits ed;
	int ret = 0;

	if (opts && (opts->indent > 0 || opts->indent == SOPS_INDENT_NONE)) {
		em.unit = spaces;
		em.unit_len = opts->indent > 16 ? 16 : opts->indent > 0 ? (size_t)opts->indent : 0;
	}
	if (d->count == 0)
		return GS_FAIL(GS_ERR_EMPTY_INPUT, "no document to write");
	if (d->count > 1)
		return GS_FAIL(GS_ERR_VERIFY, "the output would not give back the data given: JSON holds one document, "
			       "not %zu; nothing written", d->count);
	store_edits_init(&ed);
	if (d->format == DOC_FORMAT_JSON && d->source.data && !(opts && opts->fresh) &&
	    patchable(d->branches[0])) {
		detect_unit(d, &em);
		em.root = d->branches[0];
		if ((ret = patch_node(&ed, d->source.data, d->branches[0], &em)))
			goto out;
		if ((ret = store_edits_apply(&ed, d->source.data, d->source.len, out)))
			goto out;
	} else {
		if ((ret = json_fresh(&em, d->branches[0], "", 0, 0)))
			goto out;
		if ((ret = store_put(out, "\n", 1)))
			goto out;
	}
out:
	store_edits_release(&ed);
	return ret;
}
