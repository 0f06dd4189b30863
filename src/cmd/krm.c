/* gitseal krm: a KRM function (ResourceList on stdin and stdout) taking
 * KSOPS generator configs; `gitseal krm --legacy CONFIG`, or the binary
 * invoked as `ksops CONFIG`, is KSOPS's legacy exec-plugin mode. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "options.h"
#include "gitseal/io.h"
#include "gitseal/k8s.h"
#include "gitseal/pgp.h"
#include "gitseal/shown.h"
#include "gitseal/sops.h"
#include "k8s_env.h"

enum krm_option { KO_ROOT, KO_LEGACY, KO_COUNT };

static const struct opt krm_options[KO_COUNT] = {
	[KO_ROOT] = { "root", NULL, OPT_STRING, "DIR", NULL,
		      "read nothing outside DIR (default: the repository root)", false },
	[KO_LEGACY] = { "legacy", NULL, OPT_STRING, "CONFIG", NULL,
			"kustomize's legacy exec-plugin mode: the generator config CONFIG",
			false },
};

static const int krm_accepted[] = { KO_ROOT, KO_LEGACY, OPT_END };

static void usage(FILE *f)
{
	fputs("usage: gitseal krm [flags]         (a ResourceList on stdin and stdout)\n"
	      "       gitseal krm [flags] --legacy CONFIG\n"
	      "KRM function / KSOPS-compatible secret generator (kustomize, kpt)\n"
	      "\n"
	      "The functionConfig is a KSOPS generator (apiVersion: viaduct.ai/v1 or v2, kind:\n"
	      "ksops) or apiVersion: gitseal.dev/v1, kind: SecretGenerator, with files and\n"
	      "secretFrom. Every file it names lies beneath the root: the nearest directory\n"
	      "holding .git, or Argo CD's checkout directory, or --root.\n"
	      "\n"
	      "flags:\n",
	      f);
	opt_usage(f, krm_options, krm_accepted);
}

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

/* The function's output in out: a ResourceList, or the legacy plugin's
 * manifests. */
static int generate(const char *legacy_config, struct pgp_home *pgp,
		    struct age_identity_list *ids, struct gs_buf *in, struct gs_buf *out,
		    struct k8s_failures *fails)
{
	char cwd[PATH_MAX];
	int ret;

	if (!getcwd(cwd, sizeof(cwd)))
		return GS_FAIL(GS_ERR_IO, "cannot get the working directory");
	if ((ret = cmd_k8s_pgp_home(pgp)) || (ret = sops_identities_load(ids)))
		return ret;
	if (legacy_config)
		return k8s_krm_legacy(legacy_config, cwd, root_dir(), ids, out, fails);
	ret = gs_read_file("-", in, 256 * 1024 * 1024);
	if (ret)
		return ret;
	return k8s_krm_run(in->data, in->len, cwd, root_dir(), ids, out, fails);
}

static int run(const char *legacy_config)
{
	struct age_identity_list ids = { 0 };
	struct k8s_failures fails = { 0 };
	struct pgp_home pgp;
	struct gs_buf in, out;
	int ret, code = EXIT_OK;

	gs_harden_process();
	/* items from earlier functions may be plaintext Secrets */
	gs_buf_init(&in, true);
	gs_buf_init(&out, true);
	cmd_k8s_import_argocd_env();
	pgp.path[0] = '\0';
	ret = generate(legacy_config, &pgp, &ids, &in, &out, &fails);
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
	struct opt_value values[KO_COUNT] = { 0 };
	struct opt_parser p = { .table = krm_options, .table_len = KO_COUNT, .accepted = krm_accepted,
				.values = values };
	int ret = opt_parse(&p, argc, argv, 1);

	if (!ret && !p.help && p.word_count)
		ret = GS_FAIL(GS_ERR_USAGE, "unexpected argument '%s' (the config of the legacy mode is "
					    "given with --legacy)", gs_shown(p.words[0]));
	opt_parser_release(&p);
	if (p.help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (ret) {
		cmd_print_error();
		return EXIT_GENERIC;
	}
	root_flag = values[KO_ROOT].text;
	return run(values[KO_LEGACY].text);
}

/* As KSOPS: one argument is the legacy plugin mode, none is KRM. */
int cmd_ksops(int argc, char **argv)
{
	static const char ksops_usage[] = "usage: ksops [CONFIG]   (gitseal's KSOPS-compatible generator)\n";
	bool help = argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));

	if (argc == 2 && !help)
		return run(argv[1]);
	if (argc == 1)
		return run(NULL);
	fputs(ksops_usage, help ? stdout : stderr);
	return help ? EXIT_OK : EXIT_GENERIC;
}
