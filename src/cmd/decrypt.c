/* gitseal decrypt: sops file -> plaintext (sops's `decrypt`). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "session.h"
#include "treepath.h"

static const char usage_text[] =
	"usage: gitseal decrypt [--extract '[\"key\"][0]'] [--ignore-mac] [-i | --output F]\n"
	"                       [--input-type T] [--output-type T] [FILE]\n"
	"Decrypts FILE (stdin if omitted) with the identities sops would use\n"
	"(SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, ~/.config/sops/age/keys.txt, ...).\n";

/* A file written (-i, --output) is proven; standard output replaces
 * nothing and is not read back (the encrypted file stays as it was). */
static enum cmd_emit decrypt_emit(const struct sops_cli *c)
{
	return c->in_place || c->output ? CMD_EMIT_VERIFIED_DROP : CMD_EMIT_TO_READER;
}

/* sops prints a string leaf raw, anything else as a document of its own. */
static int emit_extract(const struct sops_cli *c, struct doc *d, struct gs_buf *out)
{
	struct tree_path path;
	struct doc_entry *e;
	struct doc sub;
	struct doc_node *root;
	int ret = tree_path_parse(c->extract, &path);

	if (ret)
		return ret;
	e = d->count ? tree_path_find(d->branches[0], &path, NULL) : NULL;
	tree_path_release(&path);
	if (!e)
		return GS_FAIL(GS_ERR_TREE_PATH, "component %s not found", c->extract);
	if (e->value->kind == DOC_SCALAR)
		return gs_buf_append(out, e->value->text, e->value->len);
	doc_init(&sub, sops_cli_output_format(c));
	root = doc_clone(&sub, e->value);
	ret = root ? doc_add_branch(&sub, root) : GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (!ret)
		ret = cmd_plain_emit(c->file, &sub, sub.format, c->indent, decrypt_emit(c), out);
	doc_release(&sub);
	return ret;
}

int cmd_decrypt(int argc, char **argv)
{
	struct sops_cli c;
	struct sops_session s;
	struct gs_buf out;
	enum doc_format format;
	int ret, code = EXIT_OK;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	gs_harden_process();
	sops_cli_init(&c, "decrypt");
	sops_session_init(&s);
	gs_buf_init(&out, true);
	if ((ret = sops_cli_parse(&c, argc, argv)) < 0 || (ret = sops_session_open(&s, &c, false)) < 0)
		goto out;
	format = sops_cli_output_format(&c);
	if (c.extract)
		ret = emit_extract(&c, s.plain, &out);
	else /* 0 is the store's default; for JSON that is a tab (-1) */
		ret = cmd_plain_emit(s.name, s.plain, format,
				     c.indent ? c.indent : format == DOC_FORMAT_JSON ? -1 : 0,
				     decrypt_emit(&c), &out);
	if (ret == 0)
		ret = sops_cli_write(&c, out.data, out.len);
out:
	if (ret)
		code = sops_cli_fail(&c, ret);
	sops_session_release(&s);
	gs_buf_release(&out);
	sops_cli_release(&c);
	return code;
}
