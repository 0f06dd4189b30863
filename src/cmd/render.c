/* gitseal render [DIR]: the Argo CD config management plugin's generate
 * step. All or nothing: the stream goes to stdout only when every document
 * decrypted and verified; otherwise one line per failure on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "gitseal/k8s.h"
#include "gitseal/pgp.h"
#include "gitseal/sops.h"
#include "k8s_env.h"

static const char usage_text[] =
	"usage: gitseal render [DIR]\n"
	"Writes the manifests of DIR (default .) to stdout with every sops document\n"
	"decrypted. A kustomization is built with $GITSEAL_KUSTOMIZE, else\n"
	"'kustomize build', else 'kubectl kustomize'; otherwise every *.yaml, *.yml and\n"
	"*.json file below DIR is read in sorted order. Keys come from the sops\n"
	"environment (SOPS_AGE_KEY_FILE, ...) or its Argo CD form ARGOCD_ENV_SOPS_AGE_*;\n"
	"PGP keys from the *.asc files of GITSEAL_PGP_KEY_DIR (or from GNUPGHOME).\n";

static const char *const mapped[] = {
	"SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_SSH_PRIVATE_KEY_FILE", "SOPS_AGE_KEY_CMD",
};

void cmd_k8s_import_argocd_env(void)
{
	const char *allow_cmd = getenv("GITSEAL_ALLOW_ARGOCD_KEY_CMD");

	for (size_t i = 0; i < sizeof(mapped) / sizeof(mapped[0]); i++) {
		char name[64];
		const char *v;

		if (!strcmp(mapped[i], "SOPS_AGE_KEY_CMD") && !(allow_cmd && !strcmp(allow_cmd, "1")))
			continue;
		snprintf(name, sizeof(name), "ARGOCD_ENV_%s", mapped[i]);
		v = getenv(name);
		if (v && *v && !getenv(mapped[i]))
			setenv(mapped[i], v, 0);
	}
}

int cmd_k8s_pgp_home(struct pgp_home *h)
{
	const char *dir = getenv("GITSEAL_PGP_KEY_DIR");
	int ret;

	h->path[0] = '\0';
	if (!dir || !*dir)
		return 0;
	if ((ret = pgp_home_create(h, dir)) < 0)
		return ret;
	if (setenv("GNUPGHOME", h->path, 1) != 0) {
		pgp_home_remove(h);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

void cmd_k8s_pgp_home_remove(struct pgp_home *h)
{
	if (h->path[0])
		unsetenv("GNUPGHOME");
	pgp_home_remove(h);
}

int cmd_k8s_report(const struct k8s_failures *fails)
{
	for (size_t i = 0; i < fails->count; i++)
		cmd_errorf("%s", fails->lines[i]);
	if (!fails->count)
		cmd_print_error();
	return EXIT_GENERIC;
}

int cmd_render(int argc, char **argv)
{
	struct age_identity_list ids = { 0 };
	struct k8s_failures fails = { 0 };
	struct k8s_render_opts opts = { .kustomize_cmd = getenv("GITSEAL_KUSTOMIZE") };
	struct pgp_home pgp;
	struct gs_buf out;
	const char *dir = ".";
	int ret, code = EXIT_OK;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1])) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (argc == 2)
		dir = argv[1];
	gs_harden_process();
	gs_buf_init(&out, true);
	cmd_k8s_import_argocd_env();
	ret = cmd_k8s_pgp_home(&pgp);
	if (!ret)
		ret = sops_identities_load(&ids);
	if (!ret)
		ret = k8s_render(dir, &ids, &opts, &out, &fails);
	cmd_k8s_pgp_home_remove(&pgp);
	if (!ret && fwrite(out.data, 1, out.len, stdout) != out.len)
		ret = GS_FAIL(GS_ERR_IO, "cannot write to stdout");
	if (!ret && fflush(stdout))
		ret = GS_FAIL(GS_ERR_IO, "cannot write to stdout");
	if (ret)
		code = cmd_k8s_report(&fails);
	k8s_failures_release(&fails);
	age_identity_list_release(&ids);
	gs_buf_release(&out);
	return code;
}
