/* gitseal decrypt: sops file -> plaintext (sops's `decrypt`). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "gitseal/store.h"
#include "session.h"
#include "treepath.h"

/* Each list is printed only once proven as printed (sops_plain_prove_value):
 * sub, a document whose root holds the list under the key "k", is what
 * the printed text must give back; out is empty when they start. */

/* A YAML sequence as a document of its own: the store writes a mapping at
 * the root, so sub is written (proven, the fresh layout if need be) and
 * the list taken out, its lines moved left by the indentation of the
 * key's content. */
static int emit_yaml_list(const struct sops_cli *c, struct doc *sub, struct gs_buf *out)
{
	const char *p, *end, *frame = "k:\n";
	struct gs_buf wrapped;
	size_t indent = 0;
	int ret;

	gs_buf_init(&wrapped, true);
	if ((ret = cmd_plain_emit(c->file, sub, DOC_FORMAT_YAML, cmd_indent(c, NULL, DOC_FORMAT_YAML),
				  CMD_EMIT_VERIFIED_DROP, &wrapped)) < 0)
		goto out;
	if (!(p = memchr(wrapped.data, '\n', wrapped.len)) || (size_t)(p - (char *)wrapped.data) < 2) {
		ret = GS_FAIL(GS_ERR_VERIFY, "cannot write the list");
		goto out;
	}
	end = (const char *)wrapped.data + wrapped.len;
	if ((size_t)(p - (char *)wrapped.data) > 2) {
		/* a flow list on the key's line ("k: []"): the value is what follows "k:" */
		const char *v = (const char *)wrapped.data + 2;

		v += strspn(v, " ");
		frame = "k: ";
		ret = gs_buf_append(out, v, (size_t)(p + 1 - v)) ? GS_FAIL(GS_ERR_NOMEM, "out of memory") : 0;
		p = end;
	} else {
		p++;
		indent = strspn(p, " ");
	}
	while (ret == 0 && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) + 1 : (size_t)(end - p), skip = strspn(p, " ");

		skip = skip < indent ? skip : indent;
		ret = gs_buf_append(out, p + skip, len - skip) ? GS_FAIL(GS_ERR_NOMEM, "out of memory") : 0;
		p += len;
	}
	if (ret == 0)
		ret = sops_plain_prove_value(sub, DOC_FORMAT_YAML, c->extract, frame, out, "");
out:
	gs_buf_release(&wrapped);
	return ret;
}

/* A list as JSON (EmitValue: json.Marshal, re-indented for the JSON store,
 * compact for INI), without a final newline: a value, not a file. No
 * store reads a list as a file: it is proven inside an object. */
static int emit_json_list(const struct sops_cli *c, struct doc *sub, struct doc_node *list, bool compact,
			  struct gs_buf *out)
{
	struct store_emit_opts eo = { .indent = compact ? SOPS_INDENT_NONE : cmd_indent(c, NULL, DOC_FORMAT_JSON) };
	struct doc bare; /* the list as the root; its node stays sub's */
	size_t w = 0;
	int ret;

	doc_init(&bare, DOC_FORMAT_JSON);
	if ((ret = doc_add_branch(&bare, list)) < 0 || (ret = store_emit(&bare, DOC_FORMAT_JSON, &eo, out)) < 0)
		goto out;
	/* compact: no line breaks at all; else none at the end */
	for (size_t r = 0; r < out->len; r++)
		if (!(compact || r + 1 == out->len) || out->data[r] != '\n')
			out->data[w++] = out->data[r];
	out->len = w;
	ret = sops_plain_prove_value(sub, DOC_FORMAT_JSON, c->extract, "{\"k\":", out, "}");
out:
	doc_release(&bare);
	return ret;
}

/* sops's extract (decrypt.go:75): a string leaf raw; a map as a document
 * of the output format; anything else as the output store's EmitValue
 * writes a value: YAML ends it with a newline (yaml.Marshal), JSON and INI
 * do not (json.Marshal), dotenv and binary cannot (4). */
static int emit_extract(const struct sops_cli *c, const struct tree_path *path, struct doc *d,
			struct gs_buf *out)
{
	enum doc_format format = sops_cli_output_format(c);
	struct doc_entry *e = d->count ? tree_path_find(d->branches[0], path, NULL) : NULL;
	struct doc_node *value, *copy, *root;
	struct doc sub;
	int ret;

	if (!e)
		return GS_FAIL(GS_ERR_GENERIC, "component %s not found", c->extract);
	value = e->value;
	if (value->kind == DOC_SCALAR && value->type == DOC_STR)
		return gs_buf_append(out, value->text, value->len);
	if (value->kind != DOC_MAP && (format == DOC_FORMAT_DOTENV || format == DOC_FORMAT_BINARY))
		return GS_FAIL(GS_ERR_VERIFY, "the %s store cannot write a single %s value",
			       format == DOC_FORMAT_DOTENV ? "dotenv" : "binary",
			       value->kind == DOC_LIST ? "list" : "non-string");
	if (value->kind == DOC_SCALAR && value->type == DOC_NULL && value->len == 0) {
		/* an empty value ("k:") is a null: printed as yaml.Marshal and json.Marshal write it */
		ret = gs_buf_append(out, "null", 4);
		return ret || format != DOC_FORMAT_YAML ? ret : gs_buf_append(out, "\n", 1);
	}
	/* a time as json.Marshal writes it: its RFC 3339 text as a string */
	if (value->kind == DOC_SCALAR && value->type == DOC_TIME && format == DOC_FORMAT_JSON)
		return gs_buf_printf(out, "\"%.*s\"", (int)value->len, value->text);
	if (value->kind == DOC_SCALAR) {
		ret = gs_buf_append(out, value->text, value->len);
		return ret || format != DOC_FORMAT_YAML ? ret : gs_buf_append(out, "\n", 1);
	}
	/* in the tree's own format: proven as the output format holds it (no
	 * comments in JSON, text in dotenv and INI) */
	doc_init(&sub, d->format);
	copy = doc_clone(&sub, value);
	root = value->kind == DOC_LIST ? doc_new_map(&sub) : NULL;
	if (!copy || (value->kind == DOC_LIST && (!root || !doc_append(&sub, root, "k", 1, copy) ||
						  doc_add_branch(&sub, root) < 0)))
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	else if (value->kind == DOC_LIST && format == DOC_FORMAT_YAML)
		ret = emit_yaml_list(c, &sub, out);
	else if (value->kind == DOC_LIST)
		ret = emit_json_list(c, &sub, copy, format == DOC_FORMAT_INI, out);
	else if ((ret = doc_add_branch(&sub, copy)) == 0)
		ret = cmd_plain_emit(c->file, &sub, format, cmd_indent(c, NULL, format), CMD_EMIT_VERIFIED_DROP, out);
	doc_release(&sub);
	return ret;
}

int cmd_decrypt(int argc, char **argv)
{
	struct sops_cli c;
	struct sops_session s;
	struct tree_path path = { 0 };
	struct gs_buf out;
	enum doc_format format;
	int ret, code = EXIT_OK;

	gs_harden_process();
	sops_cli_init(&c, "decrypt");
	sops_session_init(&s);
	gs_buf_init(&out, true);
	if ((ret = sops_cli_parse(&c, argc, argv)) < 0 || (ret = sops_cli_require_file(&c)) < 0)
		goto out;
	sops_cli_one_file(&c);
	/* a malformed path is said before the file is opened (main.go:873) */
	if (c.extract && (ret = tree_path_parse(c.extract, &path)) < 0)
		goto out;
	if ((ret = sops_session_open(&s, &c, false)) < 0)
		goto out;
	format = sops_cli_output_format(&c);
	if (c.extract)
		ret = emit_extract(&c, &path, s.plain, &out);
	else
		ret = cmd_plain_emit(s.name, s.plain, format, cmd_indent(&c, NULL, format), CMD_EMIT_VERIFIED_DROP,
				     &out);
	/* sops: the plaintext cannot be written in that format (decrypt.go:70) */
	if (ret < 0 && ret != GS_ERR_NOMEM && ret != GS_ERR_GENERIC)
		c.code = EXIT_SOPS_DUMP_TREE;
	if (ret == 0)
		ret = sops_cli_write(&c, out.data, out.len);
out:
	if (ret)
		code = sops_cli_fail(&c, ret);
	tree_path_release(&path);
	sops_session_release(&s);
	gs_buf_release(&out);
	sops_cli_release(&c);
	return code;
}
