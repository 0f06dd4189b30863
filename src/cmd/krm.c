/* gitseal krm: a KRM function (ResourceList on stdin and stdout) taking
 * KSOPS generator configs; `gitseal krm --legacy CONFIG`, or the binary
 * invoked as `ksops CONFIG`, is KSOPS's legacy exec-plugin mode. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "flags.h"
#include "gitseal/io.h"
#include "gitseal/k8s.h"
#include "gitseal/pgp.h"
#include "gitseal/sops.h"
#include "k8s_env.h"

static const char usage_text[] =
	"usage: gitseal krm [--root DIR]                  (ResourceList on stdin and stdout)\n"
	"       gitseal krm [--root DIR] --legacy CONFIG  (kustomize legacy exec plugin)\n"
	"The functionConfig is a KSOPS generator (apiVersion: viaduct.ai/v1 or v2, kind:\n"
	"ksops) or apiVersion: gitseal.dev/v1, kind: SecretGenerator, with files and\n"
	"secretFrom. Every file read lies beneath --root DIR (default: the repository,\n"
	"the nearest directory holding .git, or Argo CD's checkout directory).\n";

static const char *root_flag;

/* --root, else the root gitseal render sets for the plugins it runs (its
 * staged copy): an Application cannot set it, Argo CD prefixes its
 * variables ARGOCD_ENV_. */
static const char *root_dir(void)
{
	const char *r = getenv("GITSEAL_K8S_ROOT");

	if (root_flag)
		return root_flag;
	return r && *r ? r : NULL;
}

static int run(const char *legacy_config)
{
	struct age_identity_list ids = { 0 };
	struct k8s_failures fails = { 0 };
	struct pgp_home pgp;
	struct gs_buf in, out;
	char cwd[PATH_MAX];
	int ret, code = EXIT_OK;

	gs_harden_process();
	/* items from earlier functions may be plaintext Secrets */
	gs_buf_init(&in, true);
	gs_buf_init(&out, true);
	cmd_k8s_import_argocd_env();
	pgp.path[0] = '\0';
	ret = getcwd(cwd, sizeof(cwd)) ? 0 : GS_FAIL(GS_ERR_IO, "cannot get the working directory");
	if (!ret)
		ret = cmd_k8s_pgp_home(&pgp);
	if (!ret)
		ret = sops_identities_load(&ids);
	if (!ret && legacy_config) {
		ret = k8s_krm_legacy(legacy_config, cwd, root_dir(), &ids, &out, &fails);
	} else if (!ret) {
		ret = gs_read_file("-", &in, 256 * 1024 * 1024);
		if (!ret)
			ret = k8s_krm_run(in.data, in.len, cwd, root_dir(), &ids, &out, &fails);
	}
	cmd_k8s_pgp_home_remove(&pgp);
	/* a KRM function reports errors in the ResourceList it writes */
	if (!legacy_config || !ret) {
		if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
			ret = ret ? ret : GS_FAIL(GS_ERR_IO, "cannot write to stdout");
		fflush(stdout);
	}
	if (ret)
		code = cmd_k8s_report(&fails);
	k8s_failures_release(&fails);
	age_identity_list_release(&ids);
	gs_buf_release(&in);
	gs_buf_release(&out);
	return code;
}

int cmd_krm(int argc, char **argv)
{
	const char *legacy = NULL;
	struct flag_iter it;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	flag_iter_init(&it, argc, argv);
	while (flag_next(&it)) {
		const char **slot = flag_is(&it, NULL, "root")	   ? &root_flag
				    : flag_is(&it, NULL, "legacy") ? &legacy
								   : NULL;

		if (!slot || !(*slot = flag_value(&it))) {
			if (!slot)
				gs_error_set(GS_ERR_USAGE, "unknown flag: %s", argv[it.i - 1]);
			cmd_print_error();
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (it.i != argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	return run(legacy);
}

/* As KSOPS: one argument is the legacy plugin mode, none is KRM. */
int cmd_ksops(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h"))
		return run(argv[1]);
	if (argc == 1)
		return run(NULL);
	fputs("usage: ksops [CONFIG]   (gitseal's KSOPS-compatible generator)\n", stderr);
	return EXIT_USAGE;
}
