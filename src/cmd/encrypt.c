/* gitseal encrypt: plaintext -> sops file (sops's `encrypt`). */
#include <stdio.h>
#include <string.h>

#include "gitseal/shown.h"

#include "cmd.h"
#include "session.h"

int cmd_encrypt(int argc, char **argv)
{
	struct sops_cli c;
	struct sops_config *config = NULL;
	struct gs_buf in, out;
	bool k8s_default = false;
	int ret, code = EXIT_OK;

	gs_harden_process();
	sops_cli_init(&c, "encrypt");
	c.plaintext_input = true;
	gs_buf_init(&in, true);
	gs_buf_init(&out, false);
	if ((ret = sops_cli_parse(&c, argc, argv)) < 0)
		goto out;
	if (!c.file && !c.filename_override) {
		ret = GS_FAIL(GS_ERR_CONFLICT, "must specify --filename-override when reading from stdin");
		goto out;
	}
	sops_cli_one_file(&c);
	if ((ret = sops_cli_require_file(&c)) < 0)
		goto out;
	sops_cli_warm(&c);
	if ((ret = sops_cli_read_input(&c, &in)) < 0 || (ret = sops_cli_load_config(&c, &config)) < 0)
		goto out;
	/* a key type gitseal cannot wrap for, named by a flag or variable */
	if ((ret = sops_cli_check_foreign_keys(&c, true)) == GS_ERR_UNSUPPORTED_KEY &&
	    sops_cli_confirm_drop(&c, sops_cli_rule_path(&c)))
		ret = 0;
	if (ret < 0 || (ret = cmd_check_new_file_place(&c, config, c.in_place ? c.file : c.output, false)) < 0 ||
	    (ret = cmd_encrypt_text(&c, config, &in, &out, &k8s_default)) < 0 ||
	    (ret = cmd_check_new_file_place(&c, config, c.in_place ? c.file : c.output, true)) < 0)
		goto out;
	if (k8s_default)
		fprintf(stderr, "gitseal: '%s' is a Kubernetes Secret: using encrypted_regex "
				"^(data|stringData)$ so apiVersion, kind and metadata stay readable\n",
			gs_shown(sops_cli_rule_path(&c)));
	if ((ret = sops_cli_write(&c, out.data, out.len)) == 0)
		sops_cli_verbose(&c, "'%s': encrypted", gs_shown(sops_cli_rule_path(&c)));
out:
	if (ret)
		code = sops_cli_fail(&c, ret);
	sops_config_free(config);
	gs_buf_release(&in);
	gs_buf_release(&out);
	sops_cli_release(&c);
	return code;
}
