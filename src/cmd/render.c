/* gitseal render [flags] [DIR]: the Argo CD config management plugin's
 * generate step (and, with --discover, its discover step). All or nothing:
 * the stream goes to stdout only when every document decrypted and
 * verified; otherwise one line per failure on stderr. */
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "options.h"
#include "gitseal/alloc.h"
#include "gitseal/k8s.h"
#include "gitseal/pgp.h"
#include "gitseal/shown.h"
#include "gitseal/sops.h"
#include "k8s_env.h"
#include "private_dir.h"

enum render_option { RO_ROOT, RO_BIND_NAMESPACE, RO_ALLOW_EMPTY, RO_DISCOVER, RO_COUNT };

static const struct opt render_options[RO_COUNT] = {
	[RO_ROOT] = { "root", NULL, OPT_STRING, "DIR", NULL,
		      "read nothing outside DIR (default: the repository root)", false },
	[RO_BIND_NAMESPACE] = { "bind-namespace", NULL, OPT_OPTIONAL, "NS,...", NULL,
				"decrypted resources only into their source's namespace, or into NS,...",
				false },
	[RO_ALLOW_EMPTY] = { "allow-empty", NULL, OPT_BOOL, NULL, NULL,
			     "succeed when DIR renders no manifests", false },
	[RO_DISCOVER] = { "discover", NULL, OPT_BOOL, NULL, NULL,
			  "print DIR when it uses encrypted files (Argo CD discovery)", false },
};

static const int render_accepted[] = { RO_ROOT, RO_BIND_NAMESPACE, RO_ALLOW_EMPTY, RO_DISCOVER, OPT_END };

static void usage(FILE *f)
{
	fputs("usage: gitseal render [flags] [DIR]\n"
	      "decrypt a directory or kustomization to a manifest stream (Argo CD plugin)\n"
	      "\n"
	      "Writes the manifests of DIR (default .) to stdout with every sops document\n"
	      "decrypted. A kustomization is built with $GITSEAL_KUSTOMIZE, else\n"
	      "'kustomize build', else 'kubectl kustomize'; otherwise every *.yaml, *.yml and\n"
	      "*.json file below DIR is read in sorted order. Keys come from the sops\n"
	      "environment (SOPS_AGE_KEY_FILE, ...) or its Argo CD form ARGOCD_ENV_SOPS_AGE_*;\n"
	      "PGP keys from the *.asc files of GITSEAL_PGP_KEY_DIR (or from GNUPGHOME).\n"
	      "Every file read lies beneath the root: the nearest directory holding .git, or\n"
	      "Argo CD's checkout directory, or --root. --bind-namespace alone: a decrypted\n"
	      "resource only into the namespace its encrypted source names; =NS,...: Secrets\n"
	      "and decrypted resources only into these (a resource naming none is in\n"
	      "$ARGOCD_APP_NAMESPACE).\n"
	      "\n"
	      "flags:\n",
	      f);
	opt_usage(f, render_options, render_accepted);
}

/* The sops key variables an Application may set (as ARGOCD_ENV_<NAME>),
 * and the sidecar's switch that allows each; NULL: always allowed. A key
 * itself only adds what its owner holds anyway; a file name or a command
 * chooses among the sidecar's own keys (another team's key file on a
 * shared repo-server) or runs code in it. */
static const struct {
	const char *name;
	const char *allow;
} mapped[] = {
	{ "SOPS_AGE_KEY", NULL },
	{ "SOPS_AGE_KEY_FILE", "GITSEAL_ALLOW_ARGOCD_KEY_FILE" },
	{ "SOPS_AGE_SSH_PRIVATE_KEY_FILE", "GITSEAL_ALLOW_ARGOCD_KEY_FILE" },
	{ "SOPS_AGE_KEY_CMD", "GITSEAL_ALLOW_ARGOCD_KEY_CMD" },
};

static bool allowed(const char *switch_name)
{
	const char *v = switch_name ? getenv(switch_name) : "1";

	return v && !strcmp(v, "1");
}

void cmd_k8s_import_argocd_env(void)
{
	for (size_t i = 0; i < sizeof(mapped) / sizeof(mapped[0]); i++) {
		char name[64];
		const char *v;

		snprintf(name, sizeof(name), "ARGOCD_ENV_%s", mapped[i].name);
		v = getenv(name);
		if (!v || !*v || getenv(mapped[i].name))
			continue;
		if (allowed(mapped[i].allow))
			setenv(mapped[i].name, v, 0);
		else
			cmd_warnf("%s is ignored: the sidecar does not set %s=1", name, mapped[i].allow);
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

struct render_args {
	struct k8s_render_opts opts;
	const char *dir;
	char *ns_list;        /* the --bind-namespace list, split in place */
	const char **ns_items;
	size_t ns_count;
	bool discover;
	char self[PATH_MAX];
};

static int split_namespaces(struct render_args *a, const char *list)
{
	char *save = NULL;

	free(a->ns_list);
	a->ns_list = gs_strdup(list);
	if (!a->ns_list)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (char *t = strtok_r(a->ns_list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (cmd_push_arg(&a->ns_items, &a->ns_count, t))
			return GS_ERR_NOMEM;
	}
	if (!a->ns_count)
		return GS_FAIL(GS_ERR_USAGE, "--bind-namespace= needs at least one namespace");
	a->opts.ns_policy = K8S_NS_ALLOW_LIST;
	return 0;
}

/* A usage error is GS_ERR_USAGE (exit 1, as the sops commands); --help
 * sets *help. */
static int parse_args(int argc, char **argv, struct render_args *a, bool *help)
{
	struct opt_value values[RO_COUNT] = { 0 };
	struct opt_parser p = { .table = render_options, .table_len = RO_COUNT,
				.accepted = render_accepted, .values = values };
	int ret = opt_parse(&p, argc, argv, 1);

	*help = p.help;
	if (ret || p.help)
		goto out;
	a->opts.root = values[RO_ROOT].text;
	a->opts.allow_empty = values[RO_ALLOW_EMPTY].on;
	a->discover = values[RO_DISCOVER].on;
	if (values[RO_BIND_NAMESPACE].text)
		ret = split_namespaces(a, values[RO_BIND_NAMESPACE].text);
	else if (values[RO_BIND_NAMESPACE].on)
		a->opts.ns_policy = K8S_NS_SOURCE;
	if (!ret && p.word_count > 1)
		ret = GS_FAIL(GS_ERR_USAGE, "more than one directory: '%s' and '%s'", gs_shown(p.words[0]),
			      gs_shown(p.words[1]));
	if (!ret && p.word_count == 1)
		a->dir = p.words[0];
out:
	opt_parser_release(&p);
	return ret;
}

static pid_t fork_build(void)
{
	return private_dir_fork(PRIVATE_CHILD_BUILD);
}

/* SIGTERM (Argo CD's timeout), SIGINT, SIGHUP, SIGQUIT while plaintext is
 * staged: kustomize is stopped, the staged tree scrubbed and removed, and
 * this process ends of the signal (exit status 128 + its number), as edit
 * and exec-file do. */
static const struct k8s_signal_care render_care = { private_dir_guard, fork_build, private_dir_reaped };

/* kustomize runs this same program as the ksops plugin of KSOPS
 * generators. */
static void find_self(struct render_args *a)
{
	ssize_t n = readlink("/proc/self/exe", a->self, sizeof(a->self) - 1);

	if (n > 0) {
		a->self[n] = '\0';
		a->opts.self_exe = a->self;
	}
}

static int render_out(const struct gs_buf *out)
{
	if (fwrite(out->data, 1, out->len, stdout) != out->len || fflush(stdout))
		return GS_FAIL(GS_ERR_IO, "cannot write to stdout");
	return 0;
}

/* The render itself, with the identities of the environment; a pgp key
 * is opened through a private GnuPG home, removed after. */
static int render_with_keys(const struct render_args *a, struct age_identity_list *ids, struct gs_buf *out,
			    struct k8s_failures *fails)
{
	struct pgp_home pgp = { .path = "" };
	int ret;

	if ((ret = cmd_k8s_pgp_home(&pgp)) || (ret = sops_identities_load(ids)))
		goto out;
	ret = k8s_render(a->dir, ids, &a->opts, out, fails);
out:
	cmd_k8s_pgp_home_remove(&pgp);
	return ret;
}

int cmd_render(int argc, char **argv)
{
	struct render_args a = { .dir = "." };
	struct age_identity_list ids = { 0 };
	struct k8s_failures fails = { 0 };
	struct gs_buf out;
	bool found = false, help = false;
	int ret, code = EXIT_OK;

	if (parse_args(argc, argv, &a, &help) || help) {
		if (help)
			usage(stdout);
		else
			cmd_print_error();
		free(a.ns_items);
		free(a.ns_list);
		return help ? EXIT_OK : EXIT_GENERIC;
	}
	a.opts.kustomize_cmd = getenv("GITSEAL_KUSTOMIZE");
	a.opts.default_namespace = getenv("ARGOCD_APP_NAMESPACE");
	if (a.opts.default_namespace && !*a.opts.default_namespace)
		a.opts.default_namespace = NULL;
	a.opts.ns_allow = a.ns_items;
	a.opts.ns_allow_count = a.ns_count;
	find_self(&a);
	/* thousands of small documents: keep freed memory instead of giving it
	 * back to the system after each one (brk shrink, page faults) */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
	gs_harden_process();
	gs_buf_init(&out, true);
	if (a.discover) {
		ret = k8s_discover(a.dir, a.opts.root, &found);
		if (!ret && found && (printf("%s\n", a.dir) < 0 || fflush(stdout)))
			ret = GS_FAIL(GS_ERR_IO, "cannot write to stdout");
		goto out;
	}
	cmd_k8s_import_argocd_env();
	a.opts.care = &render_care;
	ret = render_with_keys(&a, &ids, &out, &fails);
	/* a signal caught while kustomize ran ends the process now, the
	 * staged tree and the PGP home gone */
	private_dir_finish();
	if (ret)
		goto out;
	ret = render_out(&out);
out:
	if (ret)
		code = cmd_k8s_report(&fails);
	k8s_failures_release(&fails);
	age_identity_list_release(&ids);
	gs_buf_release(&out);
	free(a.ns_items);
	free(a.ns_list);
	return code;
}
