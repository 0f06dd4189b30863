/* INI store (sops stores/ini on go-ini gopkg.in/ini.v1 v1.67; spec 3.4,
 * 5.8, 6.4). Each section is a top-level mapping of string values; keys
 * before the first header form the section DEFAULT. The parser follows
 * go-ini's rules (key delimiters '=' and ':', inline comments at the first
 * '#' or ';', "..."/'...' stripped, `...` and \"\"\"...\"\"\" quoting, '\'
 * continuation lines, non-unique sections). The sops metadata is a final
 * [sops] section of flattened keys, newlines written as \n; both that and
 * the \"\"\"-quoted multi-line form of sops 3.13.0/3.13.1 are read.
 *
 * Comments: a run of consecutive comment lines is one comment item (go-ini
 * joins them), its text without the leading ';'/'#' and blanks
 * (stripCommentChar). It is an item of the section it precedes (a section
 * comment) or of the section it stands in (before a key, or trailing).
 * Comments right before [sops] stay with the section they stand in.
 *
 * Differences from go-ini, on purpose: a key given twice in one section is
 * an error (go-ini keeps the last value in the first place, which patch
 * output could not honour); an empty DEFAULT section is not a mapping of
 * the document; blank lines split comment runs. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "store_int.h"

enum ini_style { INI_PLAIN, INI_DQ, INI_SQ, INI_BACKTICK, INI_TRIPLE, INI_CONT };

enum { INI_SECTION_COMMENT = 1 }; /* comment node style: written above the header */

static int puts_(struct gs_buf *out, const char *s)
{
	return store_put(out, s, strlen(s));
}

/* Length of a Unicode white space character (Go unicode.IsSpace) at p. */
static size_t space_at(const char *p, size_t n)
{
	const uint8_t *u = (const uint8_t *)p;

	if (!n)
		return 0;
	if (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r'))
		return 1;
	if (n >= 2 && u[0] == 0xC2 && (u[1] == 0x85 || u[1] == 0xA0))
		return 2;
	if (n >= 3 && u[0] == 0xE1 && u[1] == 0x9A && u[2] == 0x80)
		return 3;
	if (n >= 3 && u[0] == 0xE2 && u[1] == 0x80 &&
	    ((u[2] >= 0x80 && u[2] <= 0x8A) || u[2] == 0xA8 || u[2] == 0xA9 || u[2] == 0xAF))
		return 3;
	if (n >= 3 && u[0] == 0xE2 && u[1] == 0x81 && u[2] == 0x9F)
		return 3;
	if (n >= 3 && u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80)
		return 3;
	return 0;
}

static size_t skip_space(const char *s, size_t pos, size_t end)
{
	size_t k;

	while (pos < end && (k = space_at(s + pos, end - pos)))
		pos += k;
	return pos;
}

/* End of [start, end) with trailing white space removed. */
static size_t trim_end(const char *s, size_t start, size_t end)
{
	for (;;) {
		size_t k = 0;

		for (size_t w = 1; w <= 3 && w <= end - start; w++)
			if (space_at(s + end - w, w) == w) {
				k = w;
				break;
			}
		if (!k)
			return end;
		end -= k;
	}
}

static const char *find_any(const char *s, size_t start, size_t end, const char *set)
{
	bool in_set[256] = { false };

	/* a table, not strchr for every byte: that was a third of the proof's
	 * reload of a sealed INI file */
	for (; *set; set++)
		in_set[(unsigned char)*set] = true;
	for (size_t i = start; i < end; i++)
		if (in_set[(unsigned char)s[i]])
			return s + i;
	return NULL;
}

static const char *find_str(const char *s, size_t start, size_t end, const char *needle, bool last)
{
	size_t n = strlen(needle);
	const char *hit = NULL;

	for (size_t i = start; i + n <= end; i++)
		if (memcmp(s + i, needle, n) == 0) {
			hit = s + i;
			if (!last)
				break;
		}
	return hit;
}

/* ---- loading ---- */

struct pending {
	size_t line_start, text_start, text_end;
};

struct iparser {
	const char *s;
	size_t len, pos, line_no;
	struct doc *d;
	struct doc_node *root;
	struct doc_node *sec;       /* current section */
	struct pending *pend;
	size_t npend, cappend;
	bool in_block;              /* the previous line was a comment */
	long auto_count;
	struct gs_buf val;
	/* the keys of the section keys_of, for the duplicate check: a scan
	 * per key made a section of n keys cost n^2 comparisons */
	struct store_keyset keys;
	const struct doc_node *keys_of;
};

static int ifail(struct iparser *p, const char *what)
{
	return GS_FAIL(GS_ERR_PARSE, "invalid INI at line %zu: %s", p->line_no, what);
}

/* stripCommentChar: a ';' comment loses its leading ';' and ' ', a '#'
 * comment its leading '#' and ' '. */
static size_t strip_comment_char(const char *s, size_t pos, size_t end)
{
	char c = s[pos];

	while (pos < end && (s[pos] == c || s[pos] == ' '))
		pos++;
	return pos;
}

static struct doc_node *comment_node(struct iparser *p, size_t ts, size_t te)
{
	struct doc_node *n;

	if (te < ts)
		te = ts;
	n = doc_new_comment(p->d, p->s + ts, te - ts);
	if (n)
		n->span = (struct doc_span){ ts, te };
	return n;
}

static int ensure_section(struct iparser *p, size_t at)
{
	struct doc_node *m;

	if (p->sec)
		return 0;
	m = doc_new_map(p->d);
	if (!m || !doc_append(p->d, p->root, "DEFAULT", 7, m))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	m->span = (struct doc_span){ at, p->len };
	p->sec = m;
	return 0;
}

static int flush_pending(struct iparser *p, struct doc_node *into, int style)
{
	for (size_t i = 0; i < p->npend; i++) {
		struct doc_node *n = comment_node(p, p->pend[i].text_start, p->pend[i].text_end);

		if (!n || !doc_append(p->d, into, NULL, 0, n))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		n->style = style;
	}
	p->npend = 0;
	return 0;
}

static int comment_line(struct iparser *p, size_t ls, size_t t, size_t le)
{
	size_t te = trim_end(p->s, t, le);
	int ret;

	if (p->in_block && p->npend) {
		p->pend[p->npend - 1].text_end = te;
		return 0;
	}
	if ((ret = GS_ARRAY_GROW(p->pend, p->npend, p->cappend, 8)) < 0)
		return ret;
	p->pend[p->npend++] = (struct pending){ ls, strip_comment_char(p->s, t, le), te };
	p->in_block = true;
	return 0;
}

static int inline_comment(struct iparser *p, size_t start, size_t end)
{
	struct doc_node *n = comment_node(p, strip_comment_char(p->s, start, end), trim_end(p->s, start, end));

	if (!n || !doc_append(p->d, p->sec, NULL, 0, n))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	n->inline_comment = true;
	return 0;
}

static int header(struct iparser *p, size_t ls, size_t t, size_t le)
{
	const char *close = NULL, *c;
	struct doc_node *m;
	struct doc_entry *e;
	bool sops;
	int ret;

	for (size_t i = t; i < le; i++)
		if (p->s[i] == ']')
			close = p->s + i;
	if (!close)
		return ifail(p, "unclosed section");
	if (close == p->s + t + 1)
		return ifail(p, "empty section name");
	sops = sops_is_metadata_key(p->s + t + 1, (size_t)(close - (p->s + t + 1)));
	if (sops || !p->npend) {
		if (p->npend && (ret = ensure_section(p, p->pend[0].line_start)) < 0)
			return ret;
		if (p->sec && (ret = flush_pending(p, p->sec, 0)) < 0)
			return ret;
		if (p->sec)
			p->sec->span.end = ls;
	} else if (p->sec) {
		p->sec->span.end = p->pend[0].line_start;
	}
	m = doc_new_map(p->d);
	e = m ? doc_append(p->d, p->root, p->s + t + 1, (size_t)(close - p->s) - t - 1, m) : NULL;
	if (!e)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	e->key_span = (struct doc_span){ t + 1, (size_t)(close - p->s) };
	m->span = (struct doc_span){ p->npend ? p->pend[0].line_start : ls, p->len };
	p->sec = m;
	p->auto_count = 1;
	if ((ret = flush_pending(p, m, INI_SECTION_COMMENT)) < 0)
		return ret;
	c = find_any(p->s, (size_t)(close - p->s) + 1, le, "#;");
	if (c)
		return inline_comment(p, (size_t)(c - p->s), le);
	return 0;
}

/* go-ini hasSurroundedQuote */
static bool surrounded(const char *s, size_t a, size_t b, char q)
{
	if (b - a < 2 || s[a] != q || s[b - 1] != q)
		return false;
	for (size_t i = a + 1; i < b - 1; i++)
		if (s[i] == q)
			return false;
	return true;
}

/* One "key = value" line (and the lines a value continues on), as
 * go-ini reads them. */
struct ikv {
	const char *delim;        /* the '=' or ':' */
	const char *key;
	size_t key_len;
	char autokey[32];         /* "-" keys are numbered: "#1", "#2"... */
	size_t v;                 /* where the value's text starts */
	size_t value_start, value_end, span_end;
	enum ini_style style;
	const char *comment_at;   /* an end-of-line comment */
	size_t comment_end;
	bool built;               /* the value is in p->val */
};

/* readKeyName */
static int read_key_name(struct iparser *p, size_t t, size_t le, size_t next, struct ikv *kv)
{
	const char *s = p->s;
	size_t ks = t, ke;

	if (s[t] == '"' || s[t] == '`') {
		size_t q = s[t] == '"' && next - t > 6 && le - t >= 3 && !memcmp(s + t, "\"\"\"", 3) ? 3 : 1;
		char quote[4] = { 0 };
		const char *pos;

		memcpy(quote, s + t, q);
		if (!(pos = find_str(s, t + q, le, quote, false)))
			return ifail(p, "missing closing key quote");
		kv->delim = find_any(s, (size_t)(pos - s) + q, le, "=:");
		ks = t + q;
		ke = (size_t)(pos - s);
	} else {
		kv->delim = find_any(s, t, le, "=:");
		ke = kv->delim ? (size_t)(kv->delim - s) : le;
	}
	if (!kv->delim)
		return ifail(p, "no '=' or ':' after the key");
	ks = skip_space(s, ks, ke);
	ke = trim_end(s, ks, ke);
	if (ke == ks)
		return ifail(p, "empty key name");
	kv->key = s + ks;
	kv->key_len = ke - ks;
	if (kv->key_len == 1 && kv->key[0] == '-') {
		kv->key_len = (size_t)snprintf(kv->autokey, sizeof(kv->autokey), "#%ld", p->auto_count++);
		kv->key = kv->autokey;
	}
	return 0;
}

/* The next line of a value that goes on: [*start, *end). */
static void next_line_of_value(struct iparser *p, size_t *start, size_t *end)
{
	const char *nl = memchr(p->s + p->pos, '\n', p->len - p->pos);

	*start = p->pos;
	*end = nl ? (size_t)(nl - p->s) : p->len;
	p->pos = nl ? *end + 1 : p->len;
	p->line_no++;
}

/* A value in """...""" or `...`, maybe over several lines. */
static int read_quoted_value(struct iparser *p, size_t le, struct ikv *kv)
{
	const char *s = p->s;
	size_t q = s[kv->v] == '`' ? 1 : 3;
	const char *quote = q == 1 ? "`" : "\"\"\"";
	const char *close = find_str(s, kv->v + q, le, quote, true);

	kv->style = q == 1 ? INI_BACKTICK : INI_TRIPLE;
	kv->value_start = kv->v + q;
	while (!close) {
		size_t l2, e2;
		const char *c;

		if (p->pos >= p->len)
			return ifail(p, "missing closing quote of a multi-line value");
		next_line_of_value(p, &l2, &e2);
		if ((close = find_str(s, l2, e2, quote, true)) &&
		    (c = find_any(s, (size_t)(close - s), e2, "#;"))) {
			kv->comment_at = c;
			kv->comment_end = e2;
		}
	}
	kv->value_end = (size_t)(close - s);
	kv->span_end = kv->value_end + q;
	return 0;
}

/* readContinuationLines: a value whose line ends in a backslash goes on,
 * each line trimmed, into p->val. */
static int read_continued_value(struct iparser *p, size_t vend, struct ikv *kv)
{
	const char *s = p->s;
	int ret;

	kv->style = INI_CONT;
	kv->built = true;
	gs_buf_reset(&p->val);
	if ((ret = store_put(&p->val, s + kv->v, vend - 1 - kv->v)))
		return ret;
	kv->span_end = vend;
	while (p->pos < p->len) {
		size_t l2, e2, a, b;

		next_line_of_value(p, &l2, &e2);
		a = skip_space(s, l2, e2);
		b = trim_end(s, a, e2);
		if (a == b)
			break;
		if ((ret = store_put(&p->val, s + a, b - a)))
			return ret;
		kv->span_end = b;
		if (p->val.data[p->val.len - 1] != '\\')
			break;
		p->val.len--;
	}
	kv->value_start = kv->v;
	kv->value_end = kv->span_end;
	return 0;
}

/* readValue */
static int read_value(struct iparser *p, size_t le, size_t next, struct ikv *kv)
{
	const char *s = p->s, *c;
	size_t v = kv->v, vend;

	if (v == le) {
		kv->value_start = kv->value_end = kv->span_end = v;
		return 0;
	}
	if ((next - v > 3 && le - v >= 3 && !memcmp(s + v, "\"\"\"", 3)) || s[v] == '`')
		return read_quoted_value(p, le, kv);
	vend = trim_end(s, v, le);
	if (s[vend - 1] == '\\')
		return read_continued_value(p, vend, kv);
	if ((c = find_any(s, v, vend, "#;"))) {
		kv->comment_at = c;
		kv->comment_end = vend;
		vend = trim_end(s, v, (size_t)(c - s));
	}
	kv->value_start = v;
	kv->value_end = kv->span_end = vend;
	if (surrounded(s, v, vend, '"') || surrounded(s, v, vend, '\'')) {
		kv->style = s[v] == '"' ? INI_DQ : INI_SQ;
		kv->value_start++;
		kv->value_end--;
	}
	return 0;
}

/* The key and its value into the current section; a key may appear once. */
static int add_key(struct iparser *p, size_t t, const struct ikv *kv)
{
	struct doc_node *n;
	struct doc_entry *e;
	int ret;

	if ((ret = ensure_section(p, t)))
		return ret;
	if (p->keys_of != p->sec) {
		store_keyset_release(&p->keys);
		store_keyset_init(&p->keys);
		p->keys_of = p->sec;
	}
	if ((ret = store_keyset_has(&p->keys, p->sec, kv->key, kv->key_len)) != 0)
		return ret > 0 ? ifail(p, "duplicate key in a section") : ret;
	if ((ret = flush_pending(p, p->sec, 0)))
		return ret;
	n = kv->built ? doc_new_scalar(p->d, DOC_STR, (const char *)p->val.data, p->val.len)
		      : doc_new_scalar_at(p->d, DOC_STR, kv->value_start, kv->value_end - kv->value_start);
	e = n ? doc_append(p->d, p->sec, kv->key, kv->key_len, n) : NULL;
	if (!e)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	n->style = kv->style;
	n->span = (struct doc_span){ kv->style == INI_PLAIN || kv->style == INI_CONT ? kv->value_start
										   : kv->v,
				     kv->span_end };
	e->key_span = (struct doc_span){ t, (size_t)(kv->delim - p->s) };
	if (kv->comment_at)
		ret = inline_comment(p, (size_t)(kv->comment_at - p->s), kv->comment_end);
	return ret;
}

static int key_line(struct iparser *p, size_t t, size_t le, size_t next)
{
	struct ikv kv;
	int ret;

	memset(&kv, 0, sizeof(kv));
	kv.style = INI_PLAIN;
	if ((ret = read_key_name(p, t, le, next, &kv)))
		return ret;
	kv.v = skip_space(p->s, (size_t)(kv.delim - p->s) + 1, le);
	if (!(ret = read_value(p, le, next, &kv)))
		ret = add_key(p, t, &kv);
	if (kv.built)
		gs_buf_reset(&p->val);
	return ret;
}

static int parse(struct iparser *p)
{
	const uint8_t *u = (const uint8_t *)p->s;
	int ret = 0;

	if (p->len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		p->pos = 3;
	else if (p->len >= 2 && ((u[0] == 0xFE && u[1] == 0xFF) || (u[0] == 0xFF && u[1] == 0xFE)))
		/* Skipping a UTF-16 byte order mark without decoding would misread
		 * the file, and a key that starts with these bytes would not
		 * survive a round trip (found by fuzz_ini). */
		return GS_FAIL(GS_ERR_PARSE, "invalid INI: only UTF-8 is supported");
	while (p->pos < p->len && !ret) {
		const char *nl = memchr(p->s + p->pos, '\n', p->len - p->pos);
		size_t ls = p->pos, le = nl ? (size_t)(nl - p->s) : p->len, t;

		p->pos = nl ? le + 1 : p->len;
		p->line_no++;
		t = skip_space(p->s, ls, le);
		if (t == le) {
			p->in_block = false;
			continue;
		}
		if (p->s[t] == '#' || p->s[t] == ';') {
			ret = comment_line(p, ls, t, le);
			continue;
		}
		p->in_block = false;
		if (p->s[t] == '[')
			ret = header(p, ls, t, le);
		else
			ret = key_line(p, t, le, p->pos);
	}
	if (ret || !p->npend)
		goto out;
	/* comment lines at the end of the file: into the last section (or a first one) */
	if ((ret = ensure_section(p, p->pend[0].line_start)))
		goto out;
	ret = flush_pending(p, p->sec, 0);
out:
	return ret;
}

static bool key_is(const struct doc_entry *e, const char *k)
{
	size_t n = strlen(k);

	return e->key && e->key_len == n && memcmp(e->key, k, n) == 0;
}

/* The [sops] section becomes the metadata map (ExtractMetadata with
 * MetadataFlattenBelowTop and EscapeNewlines). */
static int extract_metadata(struct doc *d, struct doc_node *root)
{
	struct doc_entry *e = NULL;
	struct store_flat_item *items = NULL;
	struct gs_buf v;
	struct doc_node *m;
	size_t n = 0, start;
	const char *s = (const char *)d->source.data;
	int ret = 0;

	for (size_t i = 0; i < root->count; i++) {
		if (!key_is(&root->entries[i], SOPS_METADATA_KEY))
			continue;
		if (e)
			return GS_FAIL(GS_ERR_PARSE, "found duplicate sops section");
		e = &root->entries[i];
	}
	if (!e)
		return 0;
	gs_buf_init(&v, false);
	items = gs_calloc(e->value->count ? e->value->count : 1, sizeof(*items));
	if (!items) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < e->value->count; i++) {
		const struct doc_entry *k = &e->value->entries[i];
		struct doc_node *x;

		if (!k->key)
			continue;
		gs_buf_reset(&v);
		for (size_t j = 0; j < k->value->len; j++) {
			if (k->value->text[j] == '\\' && j + 1 < k->value->len && k->value->text[j + 1] == 'n') {
				if ((ret = store_put(&v, "\n", 1)))
					goto out;
				j++;
			} else {
				if ((ret = store_put(&v, k->value->text + j, 1)))
					goto out;
			}
		}
		x = doc_new_scalar(d, DOC_STR, (const char *)v.data, v.len);
		if (!x) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			goto out;
		}
		items[n++] = (struct store_flat_item){ k->key, k->key_len, x };
	}
	if ((ret = store_unflatten(d, items, n, &m)))
		goto out;
	/* the cut: the header line to the section's end, and the one blank
	 * line that separates it from the section before */
	start = e->key_span.start;
	while (start > 0 && s[start - 1] != '\n')
		start--;
	if (start >= 2 && s[start - 1] == '\n' && s[start - 2] == '\n')
		start--;
	if ((ret = store_meta_ranges_add(d, start, e->value->span.end)))
		goto out;
	m->span = (struct doc_span){ start, start };
	e->value = m;
out:
	free(items);
	gs_buf_release(&v);
	return ret;
}

int store_ini_load(const uint8_t *text, size_t len, struct doc *d)
{
	struct iparser p;
	int ret;

	d->format = DOC_FORMAT_INI;
	if ((ret = store_take_source(d, text, len)) < 0)
		return ret;
	memset(&p, 0, sizeof(p));
	p.s = (const char *)d->source.data;
	p.len = len;
	p.d = d;
	p.auto_count = 1;
	gs_buf_init(&p.val, true);
	store_keyset_init(&p.keys);
	p.root = doc_new_map(d);
	if (!p.root) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	p.root->span = (struct doc_span){ 0, len };
	if ((ret = parse(&p)) < 0)
		goto out;
	if ((ret = extract_metadata(d, p.root)) < 0)
		goto out;
	ret = doc_add_branch(d, p.root);
out:
	free(p.pend);
	gs_buf_release(&p.val);
	store_keyset_release(&p.keys);
	return ret;
}

/* ---- output ---- */

static bool has(const char *s, size_t n, char c)
{
	return memchr(s, c, n) != NULL;
}

static bool has_triple(const char *s, size_t n)
{
	return find_str(s, 0, n, "\"\"\"", false) != NULL;
}

static bool spaced(const char *s, size_t n)
{
	return n && (space_at(s, n) || trim_end(s, 0, n) != n);
}

/* Whether go-ini's readValue gives v back when it is written in style. */
/* A plain value; one that ends its line may not end in '\\' (it would
 * go on on the next line). */
static bool plain_ok(const char *v, size_t n, bool ends_line)
{
	return !has(v, n, '\n') && !has(v, n, '#') && !has(v, n, ';') && !spaced(v, n) &&
	       !(n >= 3 && !memcmp(v, "\"\"\"", 3)) && !(n && v[0] == '`') &&
	       !(ends_line && n && v[n - 1] == '\\') && !surrounded(v, 0, n, '"') &&
	       !surrounded(v, 0, n, '\'');
}

static bool style_ok(const char *v, size_t n, enum ini_style style)
{
	switch (style) {
	case INI_PLAIN:
		return plain_ok(v, n, true);
	case INI_DQ:
	case INI_SQ:
		return !has(v, n, style == INI_DQ ? '"' : '\'') && !has(v, n, '\n') &&
		       !has(v, n, '#') && !has(v, n, ';');
	case INI_BACKTICK:
	case INI_TRIPLE: {
		/* readValue closes at the last quote of the first line that has
		 * one: every line but the last must be free of it; the last may
		 * hold it (the text the reader dropped after the closing quote
		 * holds none, fuzz_ini) */
		const char *last = NULL;

		for (size_t i = 0; i < n; i++)
			if (v[i] == '\n')
				last = v + i;
		if (!last)
			return true;
		return style == INI_TRIPLE ? !has_triple(v, (size_t)(last - v)) : !has(v, (size_t)(last - v), '`');
	}
	default:
		return false;
	}
}

/* go-ini writeToBuffer's choice, made safe for values it would garble:
 * when its style would not give the value back, the first that does
 * (a multi-line value with """ on a line but the last goes backquoted,
 * fuzz_ini). */
static int choose_style(const char *v, size_t n, int preferred, enum ini_style *out)
{
	static const enum ini_style others[] = { INI_BACKTICK, INI_TRIPLE, INI_DQ, INI_SQ };

	if (preferred != INI_CONT && style_ok(v, n, (enum ini_style)preferred)) {
		*out = (enum ini_style)preferred;
		return 0;
	}
	if (has(v, n, '\n') || has(v, n, '`'))
		*out = INI_TRIPLE;
	else if (has(v, n, '#') || has(v, n, ';'))
		*out = INI_BACKTICK;
	else if (spaced(v, n))
		*out = style_ok(v, n, INI_DQ) ? INI_DQ : INI_BACKTICK;
	else
		*out = style_ok(v, n, INI_PLAIN) ? INI_PLAIN : INI_BACKTICK;
	for (size_t i = 0; !style_ok(v, n, *out) && i < sizeof(others) / sizeof(others[0]); i++)
		*out = others[i];
	if (!style_ok(v, n, *out))
		return GS_FAIL(GS_ERR_PARSE, "a value cannot be written in an INI file");
	return 0;
}

static const char *const ini_quote[] = { "", "\"", "'", "`", "\"\"\"" };

static int put_styled(struct gs_buf *out, const char *v, size_t n, enum ini_style st)
{
	int ret;

	if ((ret = puts_(out, ini_quote[st])) || (ret = store_put(out, v, n)))
		return ret;
	return puts_(out, ini_quote[st]);
}

static int put_value(struct gs_buf *out, const struct doc_node *n, int preferred, enum ini_style *st)
{
	char num[STORE_INT_TEXT_MAX];
	const char *text = n->text;
	size_t len = n->len;
	int ret;

	if (n->kind != DOC_SCALAR)
		return GS_FAIL(GS_ERR_PARSE, "INI values must be scalars below a section");
	/* a YAML spelling of an int ("+5") as sops writes the int */
	if (n->type == DOC_INT && (ret = store_int_canonical(n->text, n->len, num, &len)) < 0)
		return ret;
	if (n->type == DOC_INT)
		text = num;
	if ((ret = choose_style(text, len, preferred, st)) >= 0)
		ret = put_styled(out, text, len, *st);
	sodium_memzero(num, sizeof(num));
	return ret;
}

/* Whether readValue takes the end-of-line comment c back after the value
 * v written in st: after a plain or quoted one; after a backquoted or
 * triple-quoted one only when it ends on a later line (readMultilines:
 * on its first line the rest of the line is dropped), and when c holds
 * no such quote (the value closes at the last one of its line; fuzz_ini). */
static bool takes_inline_comment(enum ini_style st, const char *v, size_t n, const struct doc_node *c)
{
	/* a line that ends in '\\' goes on on the next */
	if (st == INI_PLAIN || st == INI_DQ || st == INI_SQ)
		return !(c->len && c->text[c->len - 1] == '\\');
	if ((st != INI_BACKTICK && st != INI_TRIPLE) || !has(v, n, '\n'))
		return false;
	return st == INI_TRIPLE ? !has_triple(c->text, c->len) : !has(c->text, c->len, '`');
}

/* A style that writes the string v and keeps the end-of-line comment c
 * after it, or -1 when none does. Before a comment a plain value may end
 * in '\\'. */
static int style_with_comment(const char *v, size_t n, const struct doc_node *c)
{
	static const enum ini_style order[] = { INI_PLAIN, INI_DQ, INI_SQ, INI_TRIPLE, INI_BACKTICK };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if ((order[i] == INI_PLAIN ? plain_ok(v, n, false) : style_ok(v, n, order[i])) &&
		    takes_inline_comment(order[i], v, n, c))
			return (int)order[i];
	return -1;
}

/* How a key is written: plain, `key` or """key""" (go-ini's choice), or
 * -1 when readKeyName could not give it back (go-ini writes it anyway). */
static int key_quote(const char *k, size_t n)
{
	const uint8_t *u = (const uint8_t *)k;
	/* bytes that would read as a byte order mark at the start of a file */
	bool bom = (n >= 2 && ((u[0] == 0xFE && u[1] == 0xFF) || (u[0] == 0xFF && u[1] == 0xFE))) ||
		   (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF);

	if (!n || has(k, n, '\n') || spaced(k, n) || (n == 1 && k[0] == '-'))
		return -1;
	if (!has(k, n, '=') && !has(k, n, ':') && !has(k, n, '"') && !has(k, n, '`') &&
	    k[0] != '[' && k[0] != '#' && k[0] != ';' && !bom)
		return 0;
	if (!has(k, n, '`'))
		return 1;
	if (!has_triple(k, n) && k[n - 1] != '"')
		return 3;
	return -1;
}

static int put_key(struct gs_buf *out, const char *k, size_t n, size_t align)
{
	int q = key_quote(k, n), ret;
	const char *qs = q == 1 ? "`" : q == 3 ? "\"\"\"" : "";
	size_t w = n + 2 * (size_t)q;

	if (q < 0)
		return GS_FAIL(GS_ERR_PARSE, "a key cannot be written in an INI file");
	if ((ret = puts_(out, qs)) || (ret = store_put(out, k, n)) || (ret = puts_(out, qs)))
		return ret;
	for (; w < align; w++)
		if ((ret = store_put(out, " ", 1)))
			return ret;
	return puts_(out, " = ");
}

/* Whether what out holds ends with a comment line. */
static bool ends_with_comment(const struct gs_buf *out)
{
	const char *s = (const char *)out->data;
	size_t end, start;

	if (!out->len || s[out->len - 1] != '\n')
		return false;
	end = out->len - 1;
	for (start = end; start > 0 && s[start - 1] != '\n'; start--)
		;
	start = skip_space(s, start, end);
	return start < end && (s[start] == ';' || s[start] == '#');
}

/* The comment character a text is written after: the file's (lead, see
 * file_comment_char); the reader strips the comment's own character and
 * spaces (stripCommentChar), so a text that starts with it goes after the
 * other one. */
static const char *comment_lead(char lead, const char *t, size_t n)
{
	bool hash = lead == '#';

	if (n && t[0] == (hash ? '#' : ';'))
		hash = !hash;
	return hash ? "# " : "; ";
}

/* A comment, one line per line of its text (put_comment_lines: without
 * the final line break). Its first line is the text
 * after the comment character; the lines after it are comment lines as
 * the file had them (a run of comment lines loads as one comment, its
 * text running on over them), written as they are. Comment lines that
 * follow each other read back as one comment: after another comment a
 * blank line keeps this one apart (found by fuzz_ini). after_char: the
 * comment character is written already, and the text does not start with
 * it or a space. */
static int put_comment_lines(struct gs_buf *out, char lead, const char *t, size_t n, bool after_char)
{
	size_t pos = 0;
	int ret = 0;

	do {
		const char *nl = memchr(t + pos, '\n', n - pos);
		size_t le = nl ? (size_t)(nl - t) : n, a = pos, b, c;

		/* the reader drops leading spaces, and white space at the end of
		 * the comment (not of the lines it runs on over) */
		while (a < le && t[a] == ' ')
			a++;
		b = le == n ? trim_end(t, a, le) : le;
		c = skip_space(t, pos, le);
		if ((pos && c < le && (t[c] == ';' || t[c] == '#')) || (!pos && after_char))
			ret = store_put(out, t + pos, b - pos);
		else if (!(ret = puts_(out, comment_lead(lead, t + a, b - a))))
			ret = store_put(out, t + a, b - a);
		if (ret || (pos = le + 1) > n)
			return ret;
		if ((ret = store_put(out, "\n", 1)))
			return ret;
	} while (pos <= n);
	return 0;
}

/* A comment on lines of its own, apart from a comment line that ends
 * what out holds from `from` on. */
static int put_comment(struct gs_buf *out, char lead, size_t from, const char *t, size_t n)
{
	int ret = 0;

	if (out->len > from && ends_with_comment(out) && (ret = store_put(out, "\n", 1)))
		return ret;
	if ((ret = put_comment_lines(out, lead, t, n, false)))
		return ret;
	return store_put(out, "\n", 1);
}

/* A comment the reader takes back whole at the end of a line (a key's
 * value or a section header): one line, and after a header no ']' (the
 * header closes at its last ']', as go-ini reads it). */
static bool fits_inline(const struct doc_node *c, bool after_header)
{
	return c->kind == DOC_COMMENT && c->inline_comment && !has(c->text, c->len, '\n') &&
	       !(after_header && has(c->text, c->len, ']')) && trim_end(c->text, 0, c->len) == c->len &&
	       !(c->len && c->text[0] == ' ');
}

/* An end-of-line comment of a section's header that cannot stay there
 * (encrypted, it holds a ']', where go-ini ends the header): on a line of
 * its own it would come back there, so the file is not written. */
static int header_comment_fail(const char *name, size_t name_len)
{
	return GS_FAIL(GS_ERR_PARSE,
		       "the comment at the end of section '%s''s header cannot stay there encrypted in an INI "
		       "file: put it on a line of its own",
		       gs_shown_n(name, name_len > 64 ? 64 : name_len));
}

static int put_inline_comment(struct gs_buf *out, char lead, const struct doc_node *c)
{
	int ret;

	if ((ret = store_put(out, " ", 1)) || (ret = puts_(out, comment_lead(lead, c->text, c->len))) ||
	    (ret = store_put(out, c->text, c->len)))
		return ret;
	return 0;
}

static bool is_key(const struct doc_entry *e)
{
	return e->key && !e->removed && e->value->kind != DOC_COMMENT;
}

/* The next entry after i that is not removed, or NULL. */
static const struct doc_entry *next_live(const struct doc_node *sec, size_t i)
{
	while (++i < sec->count)
		if (!sec->entries[i].removed)
			return &sec->entries[i];
	return NULL;
}

/* Whether a key not removed follows sec's entry i. */
static bool key_follows(const struct doc_node *sec, size_t i)
{
	while (++i < sec->count)
		if (is_key(&sec->entries[i]))
			return true;
	return false;
}

/* Whether comments follow the section's last key (or it has only
 * comments): before another section's header they would read back as
 * that section's comments. */
static bool ends_with_comments(const struct doc_node *sec)
{
	for (size_t i = sec->count; i-- > 0;) {
		const struct doc_entry *e = &sec->entries[i];

		if (!e->removed)
			return !e->key && e->value->kind == DOC_COMMENT;
	}
	return false;
}

/* A key line: the key, its value, and an end-of-line comment after it when
 * the reader takes it back there (*took). */
static int put_key_line(struct gs_buf *out, char lead, const struct doc_entry *e, size_t align,
			const struct doc_entry *next, bool *took)
{
	const struct doc_node *v = e->value;
	bool inline_next = next && !next->key && fits_inline(next->value, false);
	/* a string in a style that keeps the comment on its line */
	int with = inline_next && v->kind == DOC_SCALAR && v->type == DOC_STR
			   ? style_with_comment(v->text, v->len, next->value) : -1;
	enum ini_style st = (enum ini_style)with;
	int ret;

	*took = false;
	if ((ret = put_key(out, e->key, e->key_len, align)))
		return ret;
	if (with >= 0)
		ret = put_styled(out, v->text, v->len, st);
	else
		ret = put_value(out, v, INI_PLAIN, &st);
	if (ret)
		return ret;
	if (inline_next && takes_inline_comment(st, v->text, v->len, next->value)) {
		if ((ret = put_inline_comment(out, lead, next->value)))
			return ret;
		*took = true;
	}
	return store_put(out, "\n", 1);
}

/* A section in go-ini layout: section comments, header, aligned keys.
 * more: other sections follow. */
static int put_section(struct gs_buf *out, char lead, const char *name, size_t name_len,
		       const struct doc_node *sec, bool first, bool more)
{
	size_t align = 0, i = 0, keys = 0;
	bool header = !first || name_len != 7 || memcmp(name, "DEFAULT", 7) != 0;
	int ret = 0;

	if (sec->kind != DOC_MAP)
		return GS_FAIL(GS_ERR_PARSE, "INI top-level values must be sections");
	for (size_t k = 0; k < sec->count; k++) {
		const struct doc_entry *e = &sec->entries[k];
		size_t w;

		if (!is_key(e))
			continue;
		if (key_quote(e->key, e->key_len) < 0)
			return GS_FAIL(GS_ERR_PARSE, "a key cannot be written in an INI file");
		w = e->key_len + 2 * (size_t)key_quote(e->key, e->key_len);
		align = w > align ? w : align;
		keys++;
	}
	/* the section comments above the header; a comment the file had
	 * below it, before the first key, stays there (in a section without
	 * keys it would be the next section's: all go above), one at the end
	 * of the header's line stays there */
	for (; i < sec->count; i++) {
		const struct doc_entry *e = &sec->entries[i];

		if (e->removed)
			continue;
		if (e->key || e->value->kind != DOC_COMMENT || (keys && e->value->style != INI_SECTION_COMMENT) ||
		    (header && e->value->inline_comment && e->value->style != INI_SECTION_COMMENT))
			break;
		if ((ret = put_comment(out, lead, 0, e->value->text, e->value->len)))
			goto out;
	}
	if (!name_len || memchr(name, '\n', name_len))
		return GS_FAIL(GS_ERR_PARSE, "a section name cannot be written in an INI file");
	if (header) {
		const struct doc_node *c = i < sec->count && !sec->entries[i].key ? sec->entries[i].value : NULL;

		if ((ret = store_put(out, "[", 1)))
			goto out;
		if ((ret = store_put(out, name, name_len)))
			goto out;
		if ((ret = store_put(out, "]", 1)))
			goto out;
		if (c && c->kind == DOC_COMMENT && c->inline_comment && c->style != INI_SECTION_COMMENT) {
			if (!fits_inline(c, true))
				return header_comment_fail(name, name_len);
			if ((ret = put_inline_comment(out, lead, c)))
				goto out;
			i++;
		}
		if ((ret = store_put(out, "\n", 1)))
			goto out;
	} else if (!keys && !next_live(sec, (size_t)-1)) {
		/* an empty DEFAULT the tree holds: the reader makes one from its
		 * header only (fuzz_ini) */
		return puts_(out, "[DEFAULT]\n");
	} else if (!keys) {
		/* comments alone, with no header: only the end of the file or
		 * [sops] keeps them in this section */
		if (more && ends_with_comments(sec))
			return GS_FAIL(GS_ERR_PARSE, "a comment at the end of section '%s' cannot be "
				       "written in an INI file", gs_shown_n(name, name_len > 64 ? 64 : name_len));
		return 0;
	}
	for (; i < sec->count; i++) {
		const struct doc_entry *e = &sec->entries[i];
		const struct doc_entry *next;
		bool took;

		if (e->removed)
			continue;
		if (!e->key) {
			if (e->value->kind != DOC_COMMENT)
				continue;
			if (more && !next_live(sec, i) && ends_with_comments(sec))
				return GS_FAIL(GS_ERR_PARSE,
					       "a comment at the end of section '%s' cannot be "
					       "written in an INI file",
					       gs_shown_n(name, name_len > 64 ? 64 : name_len));
			if ((ret = put_comment(out, lead, 0, e->value->text, e->value->len)))
				goto out;
			continue;
		}
		/* an end-of-line comment goes on a line of its own, as go-ini
		 * writes it, unless it would end up before the next header */
		next = next_live(sec, i);
		if (next && (!more || key_follows(sec, (size_t)(next - sec->entries))))
			next = NULL;
		if ((ret = put_key_line(out, lead, e, align, next, &took)))
			goto out;
		while (took && &sec->entries[i] != next)
			i++;
	}
out:
	return ret;
}

/* The [sops] section: flattened keys, newlines escaped, aligned. */
struct flat_collect {
	struct doc *tmp;
	struct doc_node *sec;
	struct gs_buf esc;
};

static int collect_flat(void *ctx, const char *key, size_t key_len, const struct doc_node *v)
{
	struct flat_collect *c = ctx;
	struct doc_node *n;

	if (v->kind != DOC_SCALAR)
		return 0;
	gs_buf_reset(&c->esc);
	for (size_t i = 0; i < v->len; i++)
		if (v->text[i] == '\n' ? store_put(&c->esc, "\\n", 2) : store_put(&c->esc, v->text + i, 1))
			return GS_ERR_NOMEM;
	n = doc_new_scalar(c->tmp, DOC_STR, (const char *)c->esc.data, c->esc.len);
	if (!n || !doc_append(c->tmp, c->sec, key, key_len, n))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

static int put_sops_section(struct gs_buf *out, const struct doc_node *meta, bool first)
{
	struct flat_collect c;
	struct doc tmp;
	int ret;

	doc_init(&tmp, DOC_FORMAT_INI);
	gs_buf_init(&c.esc, false);
	c.tmp = &tmp;
	c.sec = doc_new_map(&tmp);
	if (!c.sec) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((ret = store_flatten(meta, "", collect_flat, &c)))
		goto out;
	ret = put_section(out, ';', SOPS_METADATA_KEY, SOPS_METADATA_KEY_LEN, c.sec, first, false);
out:
	gs_buf_release(&c.esc);
	doc_release(&tmp);
	return ret;
}

/* Whether put_sections writes a section other than [sops] after root's
 * entry i. */
static bool more_sections(const struct doc_node *root, size_t i, bool only_new)
{
	while (++i < root->count) {
		const struct doc_entry *e = &root->entries[i];

		if (!e->removed && e->key && !key_is(e, SOPS_METADATA_KEY) &&
		    !(only_new && e->value->span.start != DOC_NO_POS))
			return true;
	}
	return false;
}

static size_t comment_char_at(const char *src, size_t text_start);

/* The comment character of the file d was loaded from: that of its
 * first comment, ';' (go-ini's) when it has none. Comments written anew
 * take it, so that the file keeps looking like itself. */
static char file_comment_char(const struct doc *d, const struct doc_node *root)
{
	const char *src = (const char *)d->source.data;

	for (size_t i = 0; src && i < root->count; i++) {
		const struct doc_node *sec = root->entries[i].value;

		for (size_t j = 0; sec && sec->kind == DOC_MAP && j < sec->count; j++) {
			const struct doc_node *c = sec->entries[j].value;
			size_t at;

			if (!c || c->kind != DOC_COMMENT || c->span.start == DOC_NO_POS || c->span.start > d->source.len)
				continue;
			at = comment_char_at(src, c->span.start);
			if (at < d->source.len && (src[at] == '#' || src[at] == ';'))
				return src[at];
		}
	}
	return ';';
}

/* Where a new section at root's entry i goes in the file: before the next
 * section the file holds and keeps (at the start of its first line, the
 * comments above its header included), so that the sections keep the
 * tree's order; DOC_NO_POS when none follows (the end of the file). */
static size_t new_section_at(const struct doc_node *root, size_t i)
{
	while (++i < root->count) {
		const struct doc_entry *e = &root->entries[i];

		if (!e->removed && e->key && !key_is(e, SOPS_METADATA_KEY) && e->value->span.start != DOC_NO_POS)
			return e->value->span.start;
	}
	return DOC_NO_POS;
}

/* Sections with no source text (those patch_sections put before a
 * section of the file aside), and new metadata, at the end. */
static int put_sections(struct gs_buf *out, const struct doc *d, const struct doc_node *root, bool only_new,
			bool skip_loaded_meta, bool first)
{
	char lead = file_comment_char(d, root);
	size_t before;
	int ret = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < root->count; i++) {
			const struct doc_entry *e = &root->entries[i];
			bool sops = key_is(e, SOPS_METADATA_KEY);

			if (e->removed || !e->key || sops != (pass == 1))
				continue;
			if (only_new && e->value->span.start != DOC_NO_POS &&
			    (!sops || skip_loaded_meta))
				continue;
			if (only_new && !sops && new_section_at(root, i) != DOC_NO_POS)
				continue;
			before = out->len;
			if (!first)
				if ((ret = store_put(out, "\n", 1)))
					goto out;
			if (sops)
				ret = put_sops_section(out, e->value, first);
			else
				ret = put_section(out, lead, e->key, e->key_len, e->value, first,
						  more_sections(root, i, only_new));
			if (ret)
				goto out;
			if (out->len == before + !first) {
				out->len = before; /* an empty DEFAULT writes nothing */
				continue;
			}
			first = false;
		}
	}
out:
	return ret;
}

static size_t line_end(const char *s, size_t len, size_t pos)
{
	const char *nl = pos < len ? memchr(s + pos, '\n', len - pos) : NULL;

	return nl ? (size_t)(nl - s) + 1 : len;
}

static size_t line_begin(const char *s, size_t pos)
{
	while (pos > 0 && s[pos - 1] != '\n')
		pos--;
	return pos;
}

/* Where a loaded comment's text starts with its comment character: the
 * reader stripped that character, its repeats and spaces. */
static size_t comment_char_at(const char *src, size_t text_start)
{
	size_t at = text_start;
	char c = 0;

	while (at > 0 && (src[at - 1] == ' ' || src[at - 1] == ';' || src[at - 1] == '#')) {
		if (src[at - 1] != ' ' && c && src[at - 1] != c)
			break;
		if (src[at - 1] != ' ')
			c = src[at - 1];
		at--;
	}
	while (src[at] == ' ')
		at++;
	return at;
}

/* Whether text the reader dropped follows a quoted value on its line
 * (after "`...`" or a triple-quoted value the rest of the line is
 * ignored), before the end-of-line comment c if there is one: a value
 * written in another style would take it in, or close inside it
 * (fuzz_ini). */
static bool text_after(const char *src, size_t len, const struct doc_node *v, const struct doc_node *c)
{
	size_t end = c ? comment_char_at(src, c->span.start) : line_end(src, len, v->span.end);

	if (v->span.start == DOC_NO_POS || (v->style != INI_BACKTICK && v->style != INI_TRIPLE))
		return false;
	return skip_space(src, v->span.end, end) < end;
}

/* Whether the entry after sec's entry i is a comment at the end of its
 * line (after the value of entry i). */
static bool comment_on_line(const char *src, const struct doc_node *sec, size_t i)
{
	const struct doc_entry *next = next_live(sec, i);
	const struct doc_node *v = sec->entries[i].value;

	return next && !next->key && next->value->inline_comment && next->value->span.start != DOC_NO_POS &&
	       v->span.end != DOC_NO_POS &&
	       line_begin(src, next->value->span.start) == line_begin(src, v->span.end);
}

/* Whether the line at pos is a comment line. */
static bool comment_line_at(const char *src, size_t len, size_t pos)
{
	size_t end = line_end(src, len, pos);

	pos = skip_space(src, pos, end);
	return pos < end && (src[pos] == ';' || src[pos] == '#');
}

/* Whether the end-of-line comment, sec's entry i, holds the quote of the
 * unchanged quoted value before it: the value would close there (a
 * changed value is checked where it is written, patch_value). */
static bool closes_value_before(const struct doc_node *sec, size_t i)
{
	const struct doc_node *c = sec->entries[i].value, *v;

	while (i-- > 0 && sec->entries[i].removed)
		;
	if (i == (size_t)-1 || !sec->entries[i].key)
		return false;
	v = sec->entries[i].value;
	if (v->dirty || v->span.start == DOC_NO_POS)
		return false;
	return (v->style == INI_TRIPLE && has_triple(c->text, c->len)) ||
	       (v->style == INI_BACKTICK && has(c->text, c->len, '`'));
}

/* A changed comment, written from its comment character on. An end-of-line
 * comment must stay one line; after a header it cannot hold a ']' (the
 * header would close there): encrypted, it is refused (header_comment_fail),
 * since on a line of its own it would come back there. */
static int patch_comment(struct store_edits *ed, char lead, const char *src, const struct doc_entry *se,
			 size_t i)
{
	const struct doc_node *sec = se->value, *v = sec->entries[i].value;
	size_t mark = ed->pool.len, from = comment_char_at(src, v->span.start);
	bool after_header = v->inline_comment && se->key_span.start != DOC_NO_POS &&
			    line_begin(src, v->span.start) == line_begin(src, se->key_span.start);
	int ret;

	if (v->inline_comment && !after_header && closes_value_before(sec, i))
		return GS_FAIL(GS_ERR_PARSE, "a comment at the end of a line cannot hold this text in an INI file");
	if (v->inline_comment && !fits_inline(v, after_header))
		return after_header ? header_comment_fail(se->key, se->key_len)
				    : GS_FAIL(GS_ERR_PARSE, "a comment at the end of a line cannot hold this text in an INI file");
	/* the file's own comment character stays where the reader strips no
	 * more than it did */
	if (!v->len || (v->text[0] != src[from] && v->text[0] != ' '))
		from = v->span.start;
	if (from == v->span.start)
		ret = put_comment_lines(&ed->pool, lead, v->text, v->len, true);
	else if (!v->inline_comment)
		ret = put_comment_lines(&ed->pool, lead, v->text, v->len, false);
	else if (!(ret = puts_(&ed->pool, comment_lead(lead, v->text, v->len))))
		ret = store_put(&ed->pool, v->text, v->len);
	if (ret)
		return ret;
	return store_edits_push(ed, from, v->span.end, mark);
}

/* A changed or new value of sec's entry i, written in place of the old. */
static int patch_value(struct store_edits *ed, const char *src, size_t len, const struct doc_node *sec,
		       size_t i)
{
	const struct doc_entry *e = &sec->entries[i];
	const struct doc_node *v = e->value;
	/* a string goes in by reference (a large ENC[...] value is not
	 * copied), between its quotes */
	bool str = v->kind == DOC_SCALAR && v->type == DOC_STR;
	const struct doc_node *c = comment_on_line(src, sec, i) ? next_live(sec, i)->value : NULL;
	size_t mark = ed->pool.len;
	int key_len = (int)(e->key_len > 64 ? 64 : e->key_len);
	enum ini_style st;
	int with;
	int ret = str ? choose_style(v->text, v->len, v->style, &st)
		      : put_value(&ed->pool, v, v->style, &st);

	if (ret)
		goto out;
	/* a value before its comment goes in a style that keeps the comment
	 * (a multi-line one encrypted: plain; a value ending in '\\' decrypted:
	 * quoted, fuzz_ini) */
	if (str && c && !takes_inline_comment(st, v->text, v->len, c) &&
	    (with = style_with_comment(v->text, v->len, c)) >= 0)
		st = (enum ini_style)with;
	if (c && !takes_inline_comment(st, v->text, v->len, c)) {
		ret = GS_FAIL(GS_ERR_PARSE, "the value of '%s' cannot be written before its comment in an INI file",
			      gs_shown_n(e->key, key_len));
		goto out;
	}
	if (st != (enum ini_style)v->style && text_after(src, len, v, c)) {
		ret = GS_FAIL(GS_ERR_PARSE, "the value of '%s' cannot be written before the text after it in an "
			      "INI file", gs_shown_n(e->key, key_len));
		goto out;
	}
	if (str)
		ret = store_edits_push_wrapped(ed, v->span.start, v->span.end, ini_quote[st],
					       (const uint8_t *)v->text, v->len, ini_quote[st]);
	else
		ret = store_edits_push(ed, v->span.start, v->span.end, mark);
out:
	return ret;
}

/* Whether the line before pos (a line's start, or the end of a file
 * without a final line break) is a comment line. */
static bool comment_line_before(const char *src, size_t len, size_t pos)
{
	if (pos == 0)
		return false;
	return comment_line_at(src, len, line_begin(src, src[pos - 1] == '\n' ? pos - 1 : pos));
}

/* A removed key whose end-of-line comment stays (unset): the line up to
 * the comment character is cut, the comment keeps its line. Next to a
 * comment line it would read back as one comment with it: a blank line
 * keeps them apart. */
static int cut_key_before_comment(struct store_edits *ed, const char *src, size_t len,
				  const struct doc_entry *e, const struct doc_node *c)
{
	size_t from = line_begin(src, e->key_span.start), mark = ed->pool.len, after;
	int ret;

	if (comment_line_before(src, len, from) && (ret = store_put(&ed->pool, "\n", 1)))
		return ret;
	if ((ret = store_edits_push(ed, from, comment_char_at(src, c->span.start), mark)))
		return ret;
	after = line_end(src, len, c->span.end);
	if (!comment_line_at(src, len, after))
		return 0;
	mark = ed->pool.len;
	if ((ret = store_put(&ed->pool, "\n", 1)))
		return ret;
	return store_edits_push(ed, after, after, mark);
}

/* The edit for an entry of the file that was removed or changed, if any. */
static int patch_entry(struct store_edits *ed, char lead, const char *src, size_t len,
		       const struct doc_entry *se, size_t i)
{
	const struct doc_entry *e = &se->value->entries[i];
	const struct doc_node *v = e->value;
	size_t at = e->key ? e->key_span.start : v->span.start;

	if (e->removed && e->key && comment_on_line(src, se->value, i))
		return cut_key_before_comment(ed, src, len, e, next_live(se->value, i)->value);
	if (e->removed && (e->key || !v->inline_comment))
		return store_edits_push(ed, line_begin(src, at), line_end(src, len, v->span.end), ed->pool.len);
	if (e->removed)
		return store_edits_push(ed, v->span.start, v->span.end, ed->pool.len);
	if (v->dirty && v->kind == DOC_COMMENT)
		return patch_comment(ed, lead, src, se, i);
	if (v->dirty || v->span.start == DOC_NO_POS)
		return patch_value(ed, src, len, se->value, i);
	return 0;
}

static bool loaded(const struct doc_entry *e)
{
	return (e->key ? e->key_span.start : e->value->span.start) != DOC_NO_POS;
}

/* Where new entries that come before sec's entry j (one the file holds,
 * kept) are inserted: the start of its line, when it starts a line of its
 * own and, for a key, is below the header (above it, a key would be the
 * section's before). DOC_NO_POS when they cannot go there. */
static size_t insert_point(const char *src, const struct doc_entry *se, size_t j, bool key)
{
	const struct doc_entry *e = &se->value->entries[j];
	size_t at = e->key ? e->key_span.start : e->value->span.start;

	if (!e->key && e->value->inline_comment)
		return DOC_NO_POS;
	if (key && se->key_span.start != DOC_NO_POS && at < se->key_span.start)
		return DOC_NO_POS;
	return line_begin(src, at);
}

/* sec's new entries in [from, to), inserted at one place. A comment
 * right after a comment line, or right before one, would read back as
 * one comment with it: a blank line keeps them apart (as it does after a
 * line cut before them). */
static int insert_entries(struct store_edits *ed, char lead, const char *src, size_t len, const struct doc_node *sec,
			  size_t from, size_t to, size_t at)
{
	size_t mark = ed->pool.len;
	bool comment_last = false, cut = false;
	int ret = 0;

	for (size_t i = from; i < to; i++)
		cut = cut || (sec->entries[i].removed && loaded(&sec->entries[i]));
	for (size_t i = from; i < to; i++) {
		const struct doc_entry *e = &sec->entries[i], *next = next_live(sec, i);
		bool took = false;

		if (e->removed || loaded(e) || (!e->key && e->value->kind != DOC_COMMENT))
			continue;
		if (ed->pool.len == mark && at > 0 && src[at - 1] != '\n' && (ret = store_put(&ed->pool, "\n", 1)))
			goto out;
		/* a new key's own new end-of-line comment stays on its line */
		if (next && (next - sec->entries >= (ptrdiff_t)to || loaded(next)))
			next = NULL;
		if (e->key) {
			ret = put_key_line(&ed->pool, lead, e, 0, next, &took);
			if (took)
				i = (size_t)(next - sec->entries);
		} else if (ed->pool.len == mark + (at > 0 && src[at - 1] != '\n') &&
			   (comment_line_before(src, len, at) || cut)) {
			if (!(ret = store_put(&ed->pool, "\n", 1)))
				ret = put_comment(&ed->pool, lead, ed->pool.len, e->value->text, e->value->len);
		} else {
			ret = put_comment(&ed->pool, lead, mark, e->value->text, e->value->len);
		}
		if (ret)
			goto out;
		comment_last = !e->key;
	}
	if (comment_last && comment_line_at(src, len, at) && (ret = store_put(&ed->pool, "\n", 1)))
		goto out;
	if (ed->pool.len > mark)
		ret = store_edits_push(ed, at, at, mark);
out:
	return ret;
}

static bool is_section_comment(const struct doc_entry *e)
{
	return !e->key && e->value->kind == DOC_COMMENT && e->value->style == INI_SECTION_COMMENT;
}

/* How many of sec's first entries are new section comments (or removed
 * ones) that go above its header: 0 when the section has no header, or
 * keeps a section comment of the file (a new one would join its run). */
static size_t new_section_comments(const struct doc_entry *se)
{
	const struct doc_node *sec = se->value;
	size_t n = 0;
	bool any = false;

	if (se->key_span.start == DOC_NO_POS)
		return 0;
	for (size_t i = 0; i < sec->count; i++) {
		const struct doc_entry *e = &sec->entries[i];

		if (!e->removed && loaded(e) && is_section_comment(e))
			return 0;
	}
	while (n < sec->count && (sec->entries[n].removed || is_section_comment(&sec->entries[n]))) {
		any = any || !sec->entries[n].removed;
		n++;
	}
	return any ? n : 0;
}

/* The entries the file does not hold yet: new section comments above the
 * header; each run of the others before the next entry it keeps, on that
 * entry's line; the rest (and all after one that cannot go so) after the
 * section's last kept line, `end`. */
static int insert_new_entries(struct store_edits *ed, char lead, const char *src, size_t len, const struct doc_entry *se,
			      size_t end)
{
	const struct doc_node *sec = se->value;
	size_t from = new_section_comments(se);
	int ret = 0;

	if (from && (ret = insert_entries(ed, lead, src, len, sec, 0, from, line_begin(src, se->key_span.start))))
		return ret;
	for (size_t j = from; j < sec->count; j++) {
		const struct doc_entry *e = &sec->entries[j];
		bool any = false, key = false;
		size_t at;

		if (e->removed || !loaded(e))
			continue;
		for (size_t i = from; i < j; i++) {
			const struct doc_entry *n = &sec->entries[i];

			any = any || (!n->removed && !loaded(n));
			key = key || (!n->removed && !loaded(n) && n->key);
		}
		if (any && (at = insert_point(src, se, j, key)) == DOC_NO_POS)
			break;
		if (any && (ret = insert_entries(ed, lead, src, len, sec, from, j, at)))
			return ret;
		from = j + 1;
	}
	return insert_entries(ed, lead, src, len, sec, from, sec->count, end);
}

/* One section of the file: its entries' edits, then the new entries. */
static int patch_section(struct store_edits *ed, char lead, const char *src, size_t len,
			 const struct doc_entry *se)
{
	const struct doc_node *sec = se->value;
	size_t insert = DOC_NO_POS;
	int ret = 0;

	if (sec->kind != DOC_MAP)
		return GS_FAIL(GS_ERR_PARSE, "INI top-level values must be sections");
	if (se->removed)
		return store_edits_push(ed, sec->span.start, sec->span.end, ed->pool.len);
	if (se->key_span.start != DOC_NO_POS)
		insert = line_end(src, len, se->key_span.start);
	for (size_t i = 0; i < sec->count; i++) {
		const struct doc_entry *e = &sec->entries[i];

		if (!loaded(e))
			continue;
		if (!e->removed) {
			size_t end = line_end(src, len, e->value->span.end);

			insert = insert == DOC_NO_POS || end > insert ? end : insert;
		}
		if ((ret = patch_entry(ed, lead, src, len, se, i)))
			goto out;
	}
	if ((ret = insert_new_entries(ed, lead, src, len, se, insert == DOC_NO_POS ? sec->span.start : insert)))
		goto out;
	/* the keys before the first header, all gone: the reader makes an
	 * empty DEFAULT from its header only (as put_section writes it) */
	if (se->key_span.start == DOC_NO_POS && key_is(se, "DEFAULT") && !next_live(sec, (size_t)-1)) {
		size_t mark = ed->pool.len;

		if (!(ret = puts_(&ed->pool, "[DEFAULT]\n")))
			ret = store_edits_push(ed, sec->span.start, sec->span.start, mark);
	}
out:
	return ret;
}

/* Whether a section ends with a comment on a line of its own below its
 * header (a new comment goes there too). A comment above the header is
 * the section comment: the reader gives it to this section whatever
 * follows, so a section that keeps only such comments does not end with
 * one (issue 11: '; a\n[sec1]\n\n; b\n[sec2]\n...' could not be
 * written back). */
static bool ends_with_comment_line(const struct doc_entry *se)
{
	const struct doc_node *sec = se->value;

	for (size_t i = sec->count; i-- > 0;) {
		const struct doc_entry *e = &sec->entries[i];
		const struct doc_node *v = e->value;

		if (e->removed)
			continue;
		if (e->key || v->kind != DOC_COMMENT)
			return false;
		if (v->span.start == DOC_NO_POS)
			return true;
		return !v->inline_comment &&
		       !(se->key_span.start != DOC_NO_POS && v->span.start < se->key_span.start);
	}
	return false;
}

/* A new section written before the file's section at at (new_section_at),
 * a blank line after it. */
static int insert_section(struct store_edits *ed, char lead, const struct doc_entry *e, size_t at)
{
	size_t mark = ed->pool.len;
	int ret;

	if ((ret = put_section(&ed->pool, lead, e->key, e->key_len, e->value, false, true)) ||
	    (ret = store_put(&ed->pool, "\n", 1)))
		return ret;
	return store_edits_push(ed, at, at, mark);
}

static int patch_sections(const struct doc *d, const struct doc_node *root, struct store_edits *ed)
{
	char lead = file_comment_char(d, root);
	int ret;

	for (size_t i = 0; i < root->count; i++) {
		const struct doc_entry *e = &root->entries[i];
		size_t at;

		if (!e->key || key_is(e, SOPS_METADATA_KEY))
			continue;
		/* a section the file holds, its map replaced by one it does not:
		 * written as new, it would stand beside the old text and read
		 * back merged with it */
		if (e->value->span.start == DOC_NO_POS && !e->removed && e->key_span.start != DOC_NO_POS)
			return GS_FAIL(GS_ERR_PARSE, "section '%s' was replaced as a whole",
				       gs_shown_n(e->key, e->key_len > 64 ? 64 : e->key_len));
		if (e->value->span.start == DOC_NO_POS) {
			if (!e->removed && (at = new_section_at(root, i)) != DOC_NO_POS &&
			    (ret = insert_section(ed, lead, e, at)) < 0)
				return ret;
			continue;
		}
		/* such comments stood before [sops] (the loader gives comments
		 * before any other header to that section): with [sops] cut or
		 * sections added after them, they would go to the next section */
		if (!e->removed && ends_with_comment_line(e) && more_sections(root, i, false))
			return GS_FAIL(GS_ERR_PARSE, "a comment at the end of section '%s' cannot be "
				       "written in an INI file", gs_shown_n(e->key, e->key_len > 64 ? 64 : e->key_len));
		if ((ret = patch_section(ed, lead, (const char *)d->source.data, d->source.len, e)) < 0)
			return ret;
	}
	return 0;
}

int store_ini_emit(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out)
{
	static const struct store_flat_writer writer = {
		.format = DOC_FORMAT_INI, .patch = patch_sections, .put_rest = put_sections,
	};

	return store_flat_emit(d, &writer, opts, out);
}
