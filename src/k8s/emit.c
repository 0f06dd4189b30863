#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/store.h"
#include "k8s_int.h"

static bool all_of(const char *s, size_t n, const char *set)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!strchr(set, s[i]))
			return false;
	}
	return true;
}

/* YAML 1.1 and 1.2 numbers: 0x/0o/0b integers, decimal integers and
 * floats with '_' separators and an exponent, sexagesimal (1:20:30). */
static bool is_number(const char *s, size_t n)
{
	size_t i = 0, digits = 0;

	if (n && (s[0] == '-' || s[0] == '+'))
		i++;
	if (n - i > 2 && s[i] == '0' && strchr("xXoObB", s[i + 1]))
		return all_of(s + i + 2, n - i - 2, "0123456789abcdefABCDEF_");
	if (memchr(s + i, ':', n - i))
		return all_of(s + i, n - i, "0123456789_:") && s[i] != ':';
	while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
		digits += s[i++] != '_';
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			digits += s[i++] != '_';
	}
	if (!digits)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		if (i == n)
			return false;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == n;
}

/* YAML 1.1 timestamps (yaml.v3 resolves them): a date, maybe a time. */
static bool is_timestamp(const char *s, size_t n)
{
	return n >= 8 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' &&
	       s[2] <= '9' && s[3] >= '0' && s[3] <= '9' && s[4] == '-';
}

/* Plain scalars that YAML 1.1 or 1.2 resolvers (kyaml, yaml.v3, PyYAML)
 * would read as null, bool, a number or a time must be quoted when they
 * are strings. */
static bool resolves_to_non_string(const char *s, size_t n)
{
	static const char *const words[] = {
		"null", "~", "true", "false", "yes", "no", "on", "off", "y", "n",
		".inf", "-.inf", "+.inf", ".nan",
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i]) == n && !strncasecmp(s, words[i], n))
			return true;
	}
	return is_number(s, n) || is_timestamp(s, n);
}

static bool plain_ok(const char *s, size_t n)
{
	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ')
		return false;
	if (strchr("-?:,[]{}#&*!|>'\"%@`", s[0]))
		return n > 1 && s[0] == '-' && s[1] != ' ' && !resolves_to_non_string(s, n) &&
		       plain_ok(s + 1, n - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == ':' && (i + 1 == n || s[i + 1] == ' '))
			return false;
		if (c == '#' && s[i - 1] == ' ')
			return false;
	}
	return !resolves_to_non_string(s, n);
}

static int emit_quoted(struct gs_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int ret = gs_buf_append(out, "\"", 1);

	for (size_t i = 0; !ret && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[4] = { '\\', 0, 0, 0 };
		size_t elen = 2;

		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\t': esc[1] = 't'; break;
		case '\r': esc[1] = 'r'; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				esc[1] = 'x';
				esc[2] = hex[c >> 4];
				esc[3] = hex[c & 15];
				elen = 4;
			} else {
				elen = 0;
			}
		}
		ret = elen ? gs_buf_append(out, esc, elen) : gs_buf_append(out, &s[i], 1);
	}
	return ret ? ret : gs_buf_append(out, "\"", 1);
}

/* A node's tag, written before it: libyaml's resolved core tags as "!!x",
 * local tags as written, any other URI verbatim ("!<...>"). */
static int emit_tag(struct gs_buf *out, const struct doc_node *n)
{
	static const char core[] = "tag:yaml.org,2002:";
	int ret;

	if (!n->tag || !*n->tag)
		return 0;
	if (!strncmp(n->tag, core, sizeof(core) - 1))
		ret = gs_buf_printf(out, "!!%s", n->tag + sizeof(core) - 1);
	else if (n->tag[0] == '!')
		ret = gs_buf_append_str(out, n->tag);
	else
		ret = gs_buf_printf(out, "!<%s>", n->tag);
	return ret;
}

static int indent_to(struct gs_buf *out, int indent)
{
	int ret = 0;

	for (int i = 0; !ret && i < indent; i++)
		ret = gs_buf_append(out, " ", 1);
	return ret;
}

/* A literal block keeps a multi-line string readable; the chomping
 * indicator restores its exact trailing newlines. Strings it cannot carry
 * (control characters, a leading space or newline) are quoted instead. */
static bool literal_ok(const char *s, size_t n)
{
	if (n == 0 || !memchr(s, '\n', n) || s[0] == ' ' || s[0] == '\n' || s[0] == '\t')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static int emit_literal(struct gs_buf *out, const char *s, size_t n, int indent)
{
	size_t trail = 0, pos = 0;
	int ret;

	while (trail < n && s[n - 1 - trail] == '\n')
		trail++;
	ret = gs_buf_append_str(out, trail == 0 ? "|-\n" : trail == 1 ? "|\n" : "|+\n");
	while (!ret && pos < n - trail) {
		const char *nl = memchr(s + pos, '\n', n - trail - pos);
		size_t end = nl ? (size_t)(nl - s) : n - trail;

		if (end > pos)
			ret = indent_to(out, indent);
		if (!ret)
			ret = gs_buf_append(out, s + pos, end - pos);
		if (!ret)
			ret = gs_buf_append(out, "\n", 1);
		pos = end + 1;
	}
	for (size_t i = 1; !ret && i < trail; i++)
		ret = gs_buf_append(out, "\n", 1);
	return ret;
}

static int emit_scalar(struct gs_buf *out, const struct doc_node *n, int indent)
{
	switch (n->type) {
	case DOC_NULL:
		return gs_buf_append_str(out, "null");
	case DOC_BOOL:
		return gs_buf_append(out, n->text, n->len);
	case DOC_INT:
		return gs_buf_append(out, n->text, n->len);
	case DOC_FLOAT:
		if (n->len == 3 && !memcmp(n->text, "NaN", 3))
			return gs_buf_append_str(out, ".nan");
		if (n->len == 4 && !memcmp(n->text + 1, "Inf", 3))
			return gs_buf_append_str(out, n->text[0] == '-' ? "-.inf" : ".inf");
		return gs_buf_append(out, n->text, n->len);
	case DOC_STR:
	default:
		if (literal_ok(n->text, n->len))
			return emit_literal(out, n->text, n->len, indent);
		if (plain_ok(n->text, n->len))
			return gs_buf_append(out, n->text, n->len);
		return emit_quoted(out, n->text, n->len);
	}
}

/* A literal block already ends its last line. */
static int end_line(struct gs_buf *out)
{
	if (out->len && out->data[out->len - 1] == '\n')
		return 0;
	return gs_buf_append(out, "\n", 1);
}

static size_t live_count(const struct doc_node *n)
{
	size_t c = 0;

	for (size_t i = 0; i < n->count; i++) {
		if (!n->entries[i].removed && n->entries[i].value->kind != DOC_COMMENT)
			c++;
	}
	return c;
}

static int emit_node(struct gs_buf *out, const struct doc_node *n, int indent, bool inline_start,
		     int depth);

/* A value after "key:" or "- ": scalars and empty collections stay on the
 * line; maps and lists start on the next. */
static int emit_value(struct gs_buf *out, const struct doc_node *v, int indent, bool in_list,
		      int depth)
{
	int ret;

	if (v->tag) {
		ret = gs_buf_append(out, " ", 1);
		if (!ret)
			ret = emit_tag(out, v);
		if (ret)
			return ret;
	}
	if (v->kind == DOC_SCALAR) {
		ret = gs_buf_append(out, " ", 1);
		if (!ret)
			ret = emit_scalar(out, v, indent + 2);
		return ret ? ret : end_line(out);
	}
	if (live_count(v) == 0)
		return gs_buf_append_str(out, v->kind == DOC_MAP ? " {}\n" : " []\n");
	if (in_list && v->tag) {
		/* "- !tag" then the collection on the next lines */
		ret = gs_buf_append(out, "\n", 1);
		return ret ? ret : emit_node(out, v, indent + 2, false, depth + 1);
	}
	if (in_list) {
		ret = gs_buf_append(out, " ", 1);
		return ret ? ret : emit_node(out, v, indent + 2, true, depth + 1);
	}
	ret = gs_buf_append(out, "\n", 1);
	if (ret)
		return ret;
	/* kustomize style: a list under a key is not indented */
	return emit_node(out, v, v->kind == DOC_LIST ? indent : indent + 2, false, depth + 1);
}

static int emit_node(struct gs_buf *out, const struct doc_node *n, int indent, bool inline_start,
		     int depth)
{
	bool first = true;
	int ret = 0;

	if (depth > K8S_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "document nested too deeply");
	if (n->kind == DOC_SCALAR) {
		if (n->tag && ((ret = emit_tag(out, n)) || (ret = gs_buf_append(out, " ", 1))))
			return ret;
		ret = emit_scalar(out, n, indent);
		return ret ? ret : end_line(out);
	}
	if (depth == 0 && n->tag) {
		ret = emit_tag(out, n);
		if (!ret)
			ret = gs_buf_append(out, "\n", 1);
		if (ret)
			return ret;
	}
	if (live_count(n) == 0)
		return gs_buf_append_str(out, n->kind == DOC_MAP ? "{}\n" : "[]\n");
	for (size_t i = 0; !ret && i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (e->removed || e->value->kind == DOC_COMMENT)
			continue;
		if (!(first && inline_start))
			ret = indent_to(out, indent);
		first = false;
		if (ret)
			break;
		if (n->kind == DOC_LIST) {
			ret = gs_buf_append(out, "-", 1);
			if (!ret)
				ret = emit_value(out, e->value, indent, true, depth);
			continue;
		}
		if (plain_ok(e->key, e->key_len))
			ret = gs_buf_append(out, e->key, e->key_len);
		else
			ret = emit_quoted(out, e->key, e->key_len);
		if (!ret)
			ret = gs_buf_append(out, ":", 1);
		if (!ret)
			ret = emit_value(out, e->value, indent, false, depth);
	}
	return ret;
}

int k8s_yaml_emit(const struct doc_node *n, struct gs_buf *out)
{
	return emit_node(out, n, 0, false, 0);
}

/* The emitter writes no comments: they are dropped from the tree first so
 * that the comparison below is about data only. */
static void drop_comments(struct doc_node *n, int depth)
{
	if (depth > K8S_MAX_DEPTH || (n->kind != DOC_MAP && n->kind != DOC_LIST))
		return;
	for (size_t i = 0; i < n->count; i++) {
		struct doc_entry *e = &n->entries[i];

		if (e->value->kind == DOC_COMMENT)
			e->removed = true;
		else if (!e->removed)
			drop_comments(e->value, depth + 1);
	}
}

int k8s_yaml_emit_verified(struct doc_node *n, struct gs_buf *out)
{
	struct doc_node *branches[1] = { n };
	/* a view of n as a one-document doc, for doc_equal (nothing allocated) */
	struct doc tree = { .format = DOC_FORMAT_YAML, .branches = branches, .count = 1 };
	struct doc back;
	size_t start = out->len;
	char where[256];
	int ret;

	drop_comments(n, 0);
	doc_init(&back, DOC_FORMAT_YAML);
	ret = k8s_yaml_emit(n, out);
	if (!ret) {
		ret = store_load(DOC_FORMAT_YAML, out->data + start, out->len - start, &back);
		if (ret)
			ret = GS_FAIL(GS_ERR_WRITE, "cannot write a document that reads back: %s",
				      gs_error_message());
	}
	if (!ret && !doc_equal(&tree, &back, where, sizeof(where)))
		ret = GS_FAIL(GS_ERR_WRITE, "the written document would read back differently at %s",
			      where);
	if (ret && out->len > start) {
		/* nothing unproven stays in out */
		sodium_memzero(out->data + start, out->len - start);
		out->len = start;
		out->data[start] = '\0';
	}
	doc_release(&back);
	return ret;
}
