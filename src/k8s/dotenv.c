#include <string.h>

#include "gitseal/error.h"
#include "k8s_int.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Sets map[key] = value, replacing an earlier value of the same key (a
 * later line wins, as in godotenv). */
static int put(struct doc *d, struct doc_node *map, const char *k, size_t klen, const char *v,
	       size_t vlen)
{
	for (size_t i = 0; i < map->count; i++) {
		struct doc_entry *e = &map->entries[i];

		if (!e->removed && e->key && e->key_len == klen && !memcmp(e->key, k, klen))
			return doc_scalar_set(d, e->value, DOC_STR, v, vlen);
	}
	struct doc_node *s = doc_new_scalar(d, DOC_STR, v, vlen);

	if (!s || !doc_append(d, map, k, klen, s))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

/* A double-quoted value: \n, \r, \t, \\, \" and \$ are unescaped; the value
 * is rebuilt in secure memory since it is plaintext. */
static int put_double_quoted(struct doc *d, struct doc_node *map, const char *k, size_t klen,
			     const char *v, size_t vlen)
{
	char *buf = gs_arena_alloc(&d->arena, vlen + 1);
	size_t o = 0;

	if (!buf)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < vlen; i++) {
		char c = v[i];

		if (c == '\\' && i + 1 < vlen) {
			c = v[++i];
			if (c == 'n')
				c = '\n';
			else if (c == 'r')
				c = '\r';
			else if (c == 't')
				c = '\t';
		}
		buf[o++] = c;
	}
	return put(d, map, k, klen, buf, o);
}

static size_t skip_blanks(const char *text, size_t pos, size_t end)
{
	while (pos < end && is_blank(text[pos]))
		pos++;
	return pos;
}

/* The key of the line text[*pos, end), after an optional "export ", up to
 * '=' or ':' (godotenv takes both), trailing blanks trimmed; *pos is left at
 * the value, past the separator and the blanks after it. */
static int read_key(const char *text, size_t *pos, size_t end, int line_no, size_t *ks,
		    size_t *ke)
{
	size_t p = *pos;

	if (end - p > 7 && !memcmp(text + p, "export", 6) && is_blank(text[p + 6]))
		p = skip_blanks(text, p + 7, end);
	*ks = p;
	while (p < end && text[p] != '=' && text[p] != ':')
		p++;
	if (p == end)
		return GS_FAIL(GS_ERR_PARSE, "line %d: no '=' after the key", line_no);
	*ke = p;
	while (*ke > *ks && is_blank(text[*ke - 1]))
		(*ke)--;
	if (*ke == *ks)
		return GS_FAIL(GS_ERR_PARSE, "line %d: empty key", line_no);
	*pos = skip_blanks(text, p + 1, end);
	return 0;
}

/* A value quoted with text[vs] that may span lines; *next is set to the
 * line after the closing quote's. */
static int put_quoted(struct doc *d, struct doc_node *map, const char *k, size_t klen,
		      const char *text, size_t len, size_t vs, int line_no, size_t *next)
{
	const char q = text[vs];
	size_t close = vs + 1;
	const char *nl;
	int ret;

	while (close < len && text[close] != q)
		close += (q == '"' && text[close] == '\\' && close + 1 < len) ? 2 : 1;
	if (close >= len)
		return GS_FAIL(GS_ERR_PARSE, "line %d: unterminated quote", line_no);
	if (q == '"')
		ret = put_double_quoted(d, map, k, klen, text + vs + 1, close - vs - 1);
	else
		ret = put(d, map, k, klen, text + vs + 1, close - vs - 1);
	nl = memchr(text + close, '\n', len - close);
	*next = nl ? (size_t)(nl - text) + 1 : len;
	return ret;
}

/* An unquoted value: an inline comment starts at " #"; blanks are trimmed. */
static int put_unquoted(struct doc *d, struct doc_node *map, const char *k, size_t klen,
			const char *v, size_t vlen)
{
	for (size_t i = 1; i < vlen; i++) {
		if (v[i] == '#' && is_blank(v[i - 1])) {
			vlen = i;
			break;
		}
	}
	while (vlen && is_blank(v[vlen - 1]))
		vlen--;
	return put(d, map, k, klen, v, vlen);
}

int k8s_dotenv_parse(struct doc *d, struct doc_node *map, const char *text, size_t len)
{
	size_t pos = 0;
	int line_no = 0;
	int ret = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len, next = nl ? end + 1 : len;
		size_t ks, ke;

		line_no++;
		pos = skip_blanks(text, pos, end);
		if (pos == end || text[pos] == '#') {
			pos = next;
			continue;
		}
		ret = read_key(text, &pos, end, line_no, &ks, &ke);
		if (ret)
			break;
		if (pos < end && (text[pos] == '"' || text[pos] == '\''))
			ret = put_quoted(d, map, text + ks, ke - ks, text, len, pos, line_no, &next);
		else
			ret = put_unquoted(d, map, text + ks, ke - ks, text + pos, end - pos);
		if (ret)
			break;
		pos = next;
	}
	return ret;
}
