/* gitseal git: init, filter-process, textconv, merge, check. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "gitseal/gitfilter.h"
#include "gitseal/io.h"
#include "gitseal/store.h"

static const char git_usage[] =
	"usage: gitseal git init [--no-hook] [PATTERN...]\n"
	"       gitseal git filter-process\n"
	"       gitseal git textconv FILE\n"
	"       gitseal git merge BASE OURS THEIRS PATH\n"
	"       gitseal git check\n";

/* The gitseal that git will run: the first one on PATH. */
static bool find_on_path(char *out, size_t cap)
{
	const char *path = getenv("PATH");

	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);

		if ((size_t)snprintf(out, cap, "%.*s/gitseal", (int)len, len ? path : ".") < cap &&
		    access(out, X_OK) == 0)
			return true;
		path = end ? end + 1 : NULL;
	}
	return false;
}

static void warn_path(void)
{
	char found[PATH_MAX], real_found[PATH_MAX], self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (!find_on_path(found, sizeof(found))) {
		cmd_warnf("'gitseal' is not on PATH: git runs the filter by that name; add its directory to PATH");
		return;
	}
	if (n <= 0 || (size_t)n >= sizeof(self) - 1)
		return;
	self[n] = '\0';
	if (!realpath(found, real_found) || strcmp(real_found, self))
		cmd_warnf("git will run '%s', not this gitseal ('%s')", found, self);
}

static int git_init(int argc, char **argv)
{
	struct gitfilter_init_opts o = { .hook = true };
	struct gitfilter_init_result res;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--no-hook")) {
			o.hook = false;
		} else if (!strcmp(argv[i], "--hook")) {
			o.hook = true; /* the default; accepted for older scripts */
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			cmd_errorf("git init: unknown option '%s'", argv[i]);
			fputs(git_usage, stderr);
			return EXIT_USAGE;
		}
	}
	/* init decrypts the files already checked out */
	gs_harden_process();
	o.patterns = (const char *const *)(argv + i);
	o.pattern_count = (size_t)(argc - i);
	if (gitfilter_init(".", &o, &res)) {
		cmd_print_error();
		return EXIT_GENERIC;
	}
	warn_path();
	if (res.attributes_added)
		fprintf(stderr, "gitseal: added %zu line(s) to .gitattributes\n", res.attributes_added);
	if (res.files_smudged)
		fprintf(stderr, "gitseal: decrypted %zu checked-out file(s)\n", res.files_smudged);
	if (res.files_locked)
		cmd_warnf("%zu file(s) left encrypted in the work tree: none of your identities opens them",
			  res.files_locked);
	if (res.files_failed) {
		cmd_errorf("%zu file(s) could not be decrypted; last: %s", res.files_failed,
			   gs_error_message());
		return EXIT_GENERIC;
	}
	return EXIT_OK;
}

struct filter_report {
	bool warned;
};

static void report_failed(void *ctx, const char *path, bool clean)
{
	(void)ctx;
	(void)path;
	(void)clean;
	cmd_print_error();
}

static void report_passed(void *ctx, const char *path, const char *reason)
{
	struct filter_report *rep = ctx;

	if (rep->warned)
		return;
	rep->warned = true;
	cmd_warnf("'%s' and other sops files stay encrypted in the work tree: %s", path, reason);
}

static int git_filter_process(void)
{
	struct filter_report rep = { false };
	struct gitfilter_events ev = { report_failed, report_passed, &rep };
	struct gitfilter *f = NULL;
	int ret;

	gs_harden_process();
	if (gitfilter_open(".", &f)) {
		cmd_print_error();
		return EXIT_GENERIC;
	}
	ret = gitfilter_serve(f, stdin, stdout, &ev);
	if (ret)
		cmd_print_error();
	gitfilter_free(f);
	return ret ? EXIT_GENERIC : EXIT_OK;
}

static int git_textconv(const char *file)
{
	struct gitfilter *f = NULL;
	struct gs_buf in, out;
	bool passed = false;
	int ret;

	gs_harden_process();
	/* a blob that is not a sops file is plaintext */
	gs_buf_init(&in, true);
	gs_buf_init(&out, true);
	ret = gs_read_file(file, &in, 256u * 1024 * 1024);
	if (!ret)
		ret = gitfilter_open(NULL, &f);
	if (!ret)
		ret = gitfilter_smudge(f, file, in.data, in.len, &out, &passed);
	if (ret) {
		cmd_print_error();
	} else {
		if (passed)
			cmd_warnf("'%s' shown encrypted: %s", file, gitfilter_pass_reason(f));
		if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
			cmd_errorf("cannot write to stdout");
			ret = -1;
		}
	}
	gitfilter_free(f);
	gs_buf_release(&in);
	gs_buf_release(&out);
	return ret ? EXIT_GENERIC : EXIT_OK;
}

static int git_merge(char **argv)
{
	struct gitfilter *f = NULL;
	bool conflict = false;
	int ret;

	gs_harden_process();
	ret = gitfilter_open(".", &f);
	if (!ret)
		ret = gitfilter_merge(f, argv[0], argv[1], argv[2], argv[3], &conflict);
	gitfilter_free(f);
	if (ret) {
		cmd_print_error();
		return EXIT_GENERIC;
	}
	if (conflict) {
		cmd_errorf("conflicting changes to the same keys in '%s'", argv[3]);
		return EXIT_GENERIC;
	}
	return EXIT_OK;
}

static int git_check(void)
{
	char **paths;
	size_t count;

	/* the blobs it reads may be staged plaintext */
	gs_harden_process();
	if (gitfilter_check(".", &paths, &count)) {
		cmd_print_error();
		return EXIT_GENERIC;
	}
	for (size_t i = 0; i < count; i++)
		cmd_errorf("'%s' is staged unencrypted", paths[i]);
	gitfilter_paths_free(paths, count);
	if (count) {
		fputs("hint: run 'gitseal git init' (the filter encrypts on 'git add'), then 'git add' again\n",
		      stderr);
		return EXIT_GENERIC;
	}
	return EXIT_OK;
}

int cmd_git(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		fputs(git_usage, sub ? stdout : stderr);
		return sub ? EXIT_OK : EXIT_USAGE;
	}
	if (!strcmp(sub, "init"))
		return git_init(argc - 1, argv + 1);
	if (!strcmp(sub, "filter-process") && argc == 2)
		return git_filter_process();
	if (!strcmp(sub, "textconv") && argc == 3)
		return git_textconv(argv[2]);
	if (!strcmp(sub, "merge") && argc == 6)
		return git_merge(argv + 2);
	if (!strcmp(sub, "check") && argc == 2)
		return git_check();
	cmd_errorf("git: bad subcommand or arguments");
	fputs(git_usage, stderr);
	return EXIT_USAGE;
}
