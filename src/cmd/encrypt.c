/* gitseal encrypt: plaintext -> sops file (sops's `encrypt`). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "gitseal/store.h"
#include "sops_cli.h"

static const char usage_text[] =
	"usage: gitseal encrypt [--age R,...] [--pgp FPR,...] [--hc-vault-transit URI,...]\n"
	"                       [--shamir-secret-sharing-threshold N] [-i | --output F] [--input-type T] [--output-type T]\n"
	"                       [--filename-override NAME] [--config PATH] [--drop-unsupported-keys]\n"
	"                       [selection flags] [FILE]\n"
	"Encrypts the values of FILE (stdin if omitted) for the keys from --age, --pgp,\n"
	"--hc-vault-transit (or SOPS_AGE_RECIPIENTS, SOPS_PGP_FP, SOPS_VAULT_URIS), else\n"
	"the matching .sops.yaml creation rule.\n";

int cmd_encrypt(int argc, char **argv)
{
	struct sops_cli c;
	struct sops_config *config = NULL;
	struct age_identity_list ids = { 0 };
	struct sops_file_encrypt_opts o = { 0 };
	struct gs_buf in, out;
	char **recipients = NULL, **vault = NULL, **pgp = NULL;
	size_t recipient_count = 0, vault_count = 0, pgp_count = 0;
	bool k8s_default = false;
	int ret, code = EXIT_OK;

	gs_harden_process();
	sops_cli_init(&c, "encrypt");
	gs_buf_init(&in, true);
	gs_buf_init(&out, false);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	ret = sops_cli_parse(&c, argc, argv);
	if (!ret && !c.file && !c.filename_override)
		ret = GS_FAIL(GS_ERR_CONFLICT, "reading from standard input needs --filename-override");
	if (!ret)
		ret = sops_cli_read_input(&c, &in);
	if (!ret)
		ret = sops_cli_load_config(&c, &config);
	if (!ret)
		ret = sops_cli_age_recipients(&c, &recipients, &recipient_count);
	if (!ret)
		ret = sops_cli_vault_uris(&c, &vault, &vault_count);
	if (!ret)
		ret = sops_cli_pgp_fingerprints(&c, &pgp, &pgp_count);
	if (!ret && (ret = sops_cli_check_foreign_keys(&c, true)) == GS_ERR_UNSUPPORTED_KEY &&
	    sops_cli_confirm_drop(&c, sops_cli_rule_path(&c)))
		ret = 0;
	if (ret)
		goto out;
	o.format = sops_cli_input_format(&c);
	o.rule_path = sops_cli_rule_path(&c);
	o.config = config;
	o.age_recipients = (const char *const *)recipients;
	o.age_recipient_count = recipient_count;
	o.vault_uris = (const char *const *)vault;
	o.vault_uri_count = vault_count;
	o.pgp_fingerprints = (const char *const *)pgp;
	o.pgp_count = pgp_count;
	o.shamir_threshold = c.shamir_threshold;
	o.selection = c.selection;
	o.indent = c.indent;
	o.convert = c.output_type != NULL;
	o.output_format = sops_cli_output_format(&c);
	o.used_k8s_default = &k8s_default;
	ret = sops_file_encrypt(in.data, in.len, &o, &out);
	if (ret == GS_ERR_UNSUPPORTED_KEY && sops_cli_confirm_drop(&c, sops_cli_rule_path(&c))) {
		o.drop_unsupported_keys = true;
		gs_buf_reset(&out);
		ret = sops_file_encrypt(in.data, in.len, &o, &out);
	}
	if (!ret && k8s_default)
		fprintf(stderr, "gitseal: '%s' is a Kubernetes Secret: using encrypted_regex "
				"^(data|stringData)$ so apiVersion, kind and metadata stay readable\n",
			sops_cli_rule_path(&c));
	if (!ret)
		ret = sops_cli_write(&c, out.data, out.len);
out:
	if (ret)
		code = sops_cli_fail(&c, ret);
	sops_cli_free_strings(recipients, recipient_count);
	sops_cli_free_strings(vault, vault_count);
	sops_cli_free_strings(pgp, pgp_count);
	age_identity_list_release(&ids);
	sops_config_free(config);
	gs_buf_release(&in);
	gs_buf_release(&out);
	sops_cli_release(&c);
	return code;
}
