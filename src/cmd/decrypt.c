/* gitseal decrypt: sops file -> plaintext (sops's `decrypt`). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "gitseal/store.h"
#include "sops_cli.h"
#include "treepath.h"

static const char usage_text[] =
	"usage: gitseal decrypt [--extract '[\"key\"][0]'] [--ignore-mac] [-i | --output F]\n"
	"                       [--input-type T] [--output-type T] [FILE]\n"
	"Decrypts FILE (stdin if omitted) with the identities sops would use\n"
	"(SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, ~/.config/sops/age/keys.txt, ...).\n";

/* sops prints a string leaf raw, anything else as a document of its own. */
static int emit_extract(const struct sops_cli *c, struct doc *d, struct gs_buf *out)
{
	struct tree_path path;
	struct doc_entry *e;
	struct doc sub;
	struct doc_node *root;
	struct store_emit_opts eo = { .indent = c->indent };
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
		ret = store_emit(&sub, sub.format, &eo, out);
	doc_release(&sub);
	return ret;
}

int cmd_decrypt(int argc, char **argv)
{
	struct sops_cli c;
	struct age_identity_list ids = { 0 };
	struct sops_decrypt_opts dopts = { 0 };
	struct store_emit_opts eo = { 0 };
	struct gs_buf in, out;
	struct doc d;
	int ret, code = EXIT_OK;

	gs_harden_process();
	sops_cli_init(&c, "decrypt");
	gs_buf_init(&in, false);
	gs_buf_init(&out, true);
	doc_init(&d, DOC_FORMAT_YAML);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	ret = sops_cli_parse(&c, argc, argv);
	if (!ret)
		ret = sops_cli_read_input(&c, &in);
	if (!ret)
		ret = store_load(sops_cli_input_format(&c), in.data, in.len, &d);
	if (!ret && !sops_doc_is_encrypted(&d))
		ret = GS_FAIL(GS_ERR_NO_METADATA, "sops metadata not found");
	if (!ret)
		ret = sops_identities_load(&ids);
	dopts.ignore_mac = c.ignore_mac;
	if (!ret)
		ret = sops_decrypt_doc(&d, &ids, &dopts);
	/* 0 is the store's default; for JSON that is a tab (-1) */
	eo.indent = c.indent ? c.indent : sops_cli_output_format(&c) == DOC_FORMAT_JSON ? -1 : 0;
	if (!ret && c.extract)
		ret = emit_extract(&c, &d, &out);
	else if (!ret)
		ret = store_emit(&d, sops_cli_output_format(&c), &eo, &out);
	if (!ret)
		ret = sops_cli_write(&c, out.data, out.len);
	if (ret)
		code = sops_cli_fail(&c, ret);
	doc_release(&d);
	age_identity_list_release(&ids);
	gs_buf_release(&in);
	gs_buf_release(&out);
	sops_cli_release(&c);
	return code;
}
