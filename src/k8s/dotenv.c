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

int k8s_dotenv_parse(struct doc *d, struct doc_node *map, const char *text, size_t len)
{
	size_t pos = 0;
	int line_no = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len, next = nl ? end + 1 : len;
		size_t ks, ke, vs, ve;
		int ret;

		line_no++;
		while (pos < end && is_blank(text[pos]))
			pos++;
		if (pos == end || text[pos] == '#') {
			pos = next;
			continue;
		}
		if (end - pos > 7 && !memcmp(text + pos, "export", 6) && is_blank(text[pos + 6])) {
			pos += 7;
			while (pos < end && is_blank(text[pos]))
				pos++;
		}
		ks = pos;
		while (pos < end && text[pos] != '=' && text[pos] != ':')
			pos++;
		if (pos == end)
			return GS_FAIL(GS_ERR_PARSE, "line %d: no '=' after the key", line_no);
		ke = pos;
		while (ke > ks && is_blank(text[ke - 1]))
			ke--;
		if (ke == ks)
			return GS_FAIL(GS_ERR_PARSE, "line %d: empty key", line_no);
		pos++;
		while (pos < end && is_blank(text[pos]))
			pos++;
		vs = pos;
		ve = end;
		if (vs < end && (text[vs] == '"' || text[vs] == '\'')) {
			char q = text[vs];
			size_t i = vs + 1;
			size_t close = 0;
			bool found = false;

			/* a quoted value may span lines */
			while (i < len) {
				if (q == '"' && text[i] == '\\' && i + 1 < len) {
					i += 2;
					continue;
				}
				if (text[i] == q) {
					close = i;
					found = true;
					break;
				}
				i++;
			}
			if (!found)
				return GS_FAIL(GS_ERR_PARSE, "line %d: unterminated quote", line_no);
			if (q == '"')
				ret = put_double_quoted(d, map, text + ks, ke - ks, text + vs + 1,
							close - vs - 1);
			else
				ret = put(d, map, text + ks, ke - ks, text + vs + 1, close - vs - 1);
			if (ret)
				return ret;
			nl = memchr(text + close, '\n', len - close);
			pos = nl ? (size_t)(nl - text) + 1 : len;
			continue;
		}
		/* unquoted: an inline comment starts at " #" */
		for (size_t i = vs; i < end; i++) {
			if (text[i] == '#' && i > vs && is_blank(text[i - 1])) {
				ve = i;
				break;
			}
		}
		while (ve > vs && is_blank(text[ve - 1]))
			ve--;
		ret = put(d, map, text + ks, ke - ks, text + vs, ve - vs);
		if (ret)
			return ret;
		pos = next;
	}
	return 0;
}
