/* gitseal git: init, filter-process, textconv, merge, check. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "once.h"
#include "options.h"
#include "gitseal/alloc.h"
#include "gitseal/gitfilter.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"

enum { GIT_PREPARED_HEADERS = 16 };

static const char git_usage[] =
	"usage: gitseal git init [--no-hook] [PATTERN...]\n"
	"       gitseal git status\n"
	"       gitseal git lock [--force]\n"
	"       gitseal git unlock\n"
	"       gitseal git check [--commits [REV...] | --pre-push [REMOTE [URL]]]\n"
	"       gitseal git trust [-y] FILE...\n"
	"       gitseal git filter-process\n"
	"       gitseal git textconv FILE\n"
	"       gitseal git merge BASE OURS THEIRS PATH\n"
	"files under the filter: gitseal updatekeys [-y] [--rotate] FILE... | -r [DIR]\n";

/* The subcommands' flags, declared once (options.h), as every command's. */
enum git_option { GO_HOOK, GO_NO_HOOK, GO_FORCE, GO_YES, GO_RECURSIVE, GO_ROTATE, GO_COMMITS, GO_PRE_PUSH, GO_COUNT };

static const struct opt git_options[GO_COUNT] = {
	[GO_HOOK] = { "hook", NULL, OPT_BOOL, NULL, NULL, "install the pre-commit, pre-merge-commit and pre-push hooks (the default)", true },
	[GO_NO_HOOK] = { "no-hook", NULL, OPT_BOOL, NULL, NULL, "do not install the hooks", false },
	[GO_FORCE] = { "force", "f", OPT_BOOL, NULL, NULL,
		       "lock even files with changes not yet committed (they are lost)", false },
	[GO_YES] = { "yes", "y", OPT_BOOL, NULL, NULL, "do not ask for confirmation", false },
	[GO_RECURSIVE] = { "recursive", "r", OPT_BOOL, NULL, NULL, "every file under the filter below DIR",
			   false },
	[GO_ROTATE] = { "rotate", NULL, OPT_BOOL, NULL, NULL, "give each file a new data key", false },
	[GO_COMMITS] = { "commits", NULL, OPT_BOOL, NULL, NULL,
			 "check the commits of REV... (A..B, ^A, A; none: those of HEAD on no remote-tracking ref), "
			 "each against its first parent",
			 false },
	[GO_PRE_PUSH] = { "pre-push", NULL, OPT_BOOL, NULL, NULL,
			  "check the commits git's pre-push input names that the remote lacks (the hook's)", false },
};

static const int init_accepted[] = { GO_HOOK, GO_NO_HOOK, OPT_END };
static const int lock_accepted[] = { GO_FORCE, OPT_END };
static const int check_accepted[] = { GO_COMMITS, GO_PRE_PUSH, OPT_END };
static const int trust_accepted[] = { GO_YES, OPT_END };
static const int updatekeys_accepted[] = { GO_YES, GO_RECURSIVE, GO_ROTATE, OPT_END };
static const int none_accepted[] = { OPT_END };

/* Parses a subcommand's flags and words (argv[0] is the subcommand);
 * -h/--help prints the usage: *code is then set and the caller returns
 * it, as it does on an error. Quiet (updatekeys deciding whether the
 * filter's updatekeys applies) prints neither: cmd_updatekeys answers
 * every spelling of -h before (opt_is_help; tests/git/updatekeys.bats). */
static int parse_sub(int argc, char **argv, const int *accepted, struct opt_value *values, struct opt_parser *p,
		     bool quiet, int *code)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->table = git_options;
	p->table_len = GO_COUNT;
	p->accepted = accepted;
	p->values = values;
	ret = opt_parse(p, argc, argv, 1);
	if (!ret && !p->help)
		return 0;
	if (p->help && quiet) {
		*code = EXIT_OK;
	} else if (p->help) {
		fputs(git_usage, stdout);
		if (accepted[0] != OPT_END) {
			fprintf(stdout, "\n'%s' flags:\n", gs_shown(argv[0]));
			opt_usage(stdout, git_options, accepted);
		}
		*code = EXIT_OK;
	} else {
		if (!quiet) {
			cmd_errorf("git %s: %s", argv[0], gs_error_message());
			fputs(git_usage, stderr);
		}
		gs_error_clear();
		*code = EXIT_USAGE;
	}
	opt_parser_release(p);
	return -1;
}

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
		cmd_warnf("git will run '%s', not this gitseal ('%s')", gs_shown(found), gs_shown(self));
}

/* The files a passphrase-protected key alone opens, a line for each of
 * the first keys with its reason (which names it through gs_shown). */
static void show_locked_keys(const struct gitfilter_init_result *res, const char *where, const char *then)
{
	for (size_t i = 0; i < GITFILTER_LOCKED_SHOWN && res->locked[i].files; i++)
		cmd_warnf("%zu file(s) left encrypted%s: %s%s", res->locked[i].files, where, res->locked[i].why,
			  then);
	if (res->locked_more)
		cmd_warnf("and %zu more file(s) left encrypted%s for other passphrase-protected keys", res->locked_more,
			  where);
}

static int git_init(int argc, char **argv)
{
	struct gitfilter_init_opts o = { .hook = true };
	struct gitfilter_init_result res;
	struct opt_value v[GO_COUNT] = { 0 };
	struct opt_parser p;
	int code, ret;

	if (parse_sub(argc, argv, init_accepted, v, &p, false, &code))
		return code;
	/* --hook: the default; taken for older scripts */
	o.hook = !v[GO_NO_HOOK].on;
	/* init decrypts the files already checked out */
	gs_harden_process();
	o.patterns = (const char *const *)p.words;
	o.pattern_count = (size_t)p.word_count;
	ret = gitfilter_init(".", &o, &res);
	opt_parser_release(&p);
	if (ret) {
		free(res.recipients_shown);
		free(res.paths_refused);
		free(res.pins_shown);
		cmd_print_error();
		return EXIT_GENERIC;
	}
	warn_path();
	for (size_t h = 0; h < GITFILTER_HOOKS; h++)
		if (res.hook_messages[h][0])
			cmd_warnf("%s", res.hook_messages[h]);
	if (res.attributes_added)
		fprintf(stderr, "gitseal: added %zu line(s) to .gitattributes\n", res.attributes_added);
	for (char *line = res.pins_shown, *end; line && (end = strchr(line, '\n')); line = end + 1)
		fprintf(stderr, "gitseal: kept in .git/info/attributes: %.*s\n", (int)(end - line), line);
	free(res.pins_shown);
	if (res.no_pattern)
		fprintf(stderr, "gitseal: no line of .gitattributes puts files under the filter: name them, as in "
			"gitseal git init 'secrets/**'\n");
	if (res.no_config)
		fprintf(stderr, "gitseal: no .sops.yaml at the repository root: 'git add' of a file under the "
			"filter fails until a creation rule there names its recipients (docs/git.md)\n");
	if (res.recipients_accepted)
		fprintf(stderr, "gitseal: this clone seals files for %zu recipient(s), those of .sops.yaml and "
				"the committed files; 'gitseal updatekeys' shows and accepts changes:\n",
			res.recipients_accepted);
	for (char *line = res.recipients_shown, *end; line && (end = strchr(line, '\n')); line = end + 1)
		fprintf(stderr, "gitseal:     %.*s\n", (int)(end - line), line);
	free(res.recipients_shown);
	for (char *line = res.paths_refused, *end; line && (end = strchr(line, '\n')); line = end + 1)
		fprintf(stderr, "gitseal: %.*s\n", (int)(end - line), line);
	free(res.paths_refused);
	if (res.files_smudged)
		fprintf(stderr, "gitseal: decrypted %zu checked-out file(s)\n", res.files_smudged);
	show_locked_keys(&res, " in the work tree", " (then 'gitseal git unlock')");
	if (res.files_locked > res.files_locked_key)
		cmd_warnf("%zu file(s) left encrypted in the work tree: none of your identities opens them",
			  res.files_locked - res.files_locked_key);
	if (res.files_failed) {
		cmd_errorf("%zu file(s) could not be decrypted; last: %s", res.files_failed, res.failed_message);
		return EXIT_GENERIC;
	}
	return EXIT_OK;
}

struct filter_report {
	bool warned;
	bool compared; /* a refused edit compared: said once */
};

static void report_failed(void *ctx, const char *path, bool clean)
{
	(void)ctx;
	(void)path;
	(void)clean;
	cmd_print_error();
}

/* called from the filter's worker threads too */
static void report_passed(void *ctx, const char *path, const char *reason)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct filter_report *rep = ctx;

	pthread_mutex_lock(&lock);
	/* once per process, and once per git command with textconv's (git
	 * log -p smudges a version for its textconv, which finds it sealed) */
	if (!rep->warned && once_per_git_command("encrypted"))
		cmd_warnf("'%s' is checked out encrypted (other files may be too): %s", gs_shown(path), reason);
	rep->warned = true;
	pthread_mutex_unlock(&lock);
}

/* git status or diff of an edit the filter refuses: the command goes on,
 * and says once why the edit cannot be added */
static void report_compared(void *ctx, const char *path, bool unaccepted)
{
	struct filter_report *rep = ctx;

	(void)path;
	if (!rep->compared)
		cmd_warnf("%s; %s", gs_error_message(),
			  unaccepted ? "until then git shows the file changed but cannot add or stash the edit"
				     : "git shows the file changed but cannot add or stash the edit until it loads");
	rep->compared = true;
}

static int git_filter_process(void)
{
	struct filter_report rep = { false, false };
	struct gitfilter_events ev = { report_failed, report_passed, report_compared, &rep };
	struct gitfilter *f = NULL;
	int ret;

	gs_harden_process();
	/* a clone whose pins a pulled macro can undo is told so; one that
	 * cannot even be checked (out of memory) is not served */
	if (gitfilter_open(".", &f) || gitfilter_warn_pins(f)) {
		cmd_print_error();
		gitfilter_free(f);
		return EXIT_GENERIC;
	}
	/* the X25519 work of new files' headers, done while git works */
	if (age_prepare_start(GIT_PREPARED_HEADERS))
		gs_error_clear();
	ret = gitfilter_serve(f, stdin, stdout, &ev);
	age_prepare_stop();
	if (ret)
		cmd_print_error();
	gitfilter_free(f);
	return ret ? EXIT_GENERIC : EXIT_OK;
}

/* what `git commit -v` shows of a sealed file (it keeps the text in
 * .git/COMMIT_EDITMSG) */
#define TEXTCONV_IN_COMMIT                                                                                     \
	"(gitseal: a sealed file's plaintext is not shown here: git keeps this text in .git/COMMIT_EDITMSG; "     \
	"'git diff --cached' shows it)\n"
/* what textconv shows where git would keep it as notes in .git */
#define TEXTCONV_CACHED                                                                                        \
	"(gitseal: a sealed file's plaintext is not shown here: diff.gitseal.cachetextconv keeps it in .git "    \
	"(refs/notes/textconv/gitseal); unset it)\n"

static int git_textconv(const char *file)
{
	struct gitfilter *f = NULL;
	struct gs_buf in, out, shown;
	const char *passed = NULL;
	int ret;

	gs_harden_process();
	/* a blob that is not a sops file is plaintext */
	gs_buf_init(&in, true);
	gs_buf_init(&out, true);
	gs_buf_init(&shown, true);
	if (!(ret = gs_read_file(file, &in, STORE_MAX_INPUT))) {
		if ((ret = gitfilter_textconv_kept_in_git()) < 0)
			gs_error_prefix("cannot show '%s'", gs_shown(file));
		else if (ret)
			ret = gs_buf_append(&out, TEXTCONV_IN_COMMIT, sizeof(TEXTCONV_IN_COMMIT) - 1)
				      ? GS_FAIL(GS_ERR_NOMEM, "out of memory")
				      : 0;
		else if (once_answer("cachetextconv", gitfilter_textconv_cached))
			ret = gs_buf_append(&out, TEXTCONV_CACHED, sizeof(TEXTCONV_CACHED) - 1)
				      ? GS_FAIL(GS_ERR_NOMEM, "out of memory")
				      : 0;
		else if (!(ret = gitfilter_open(NULL, &f)))
			ret = gitfilter_smudge(f, file, in.data, in.len, &out, &passed);
	}
	/* a value a pull request sealed must not steer the terminal of git
	 * diff (dotenv, INI and binary files hold control bytes as they are) */
	if (!ret)
		ret = gs_shown_append_text(&shown, out.data, out.len);
	if (ret) {
		cmd_print_error();
		goto out;
	}
	/* git runs a textconv per version shown: one warning a command */
	if (passed && once_per_git_command("encrypted")) {
		/* git hands an older version over as $TMPDIR/git-blob-XXXXXX/NAME:
		 * the directory means nothing to the user */
		const char *blob = strstr(file, "/git-blob-"), *name = blob ? strchr(blob + 1, '/') : NULL;

		if (name && !strchr(name + 1, '/'))
			cmd_warnf("a committed version of '%s' shown encrypted (other versions may be too): %s",
				  gs_shown(name + 1), passed);
		else
			cmd_warnf("'%s' shown encrypted (other versions may be too): %s", gs_shown(file), passed);
	}
	if (fwrite(shown.data, 1, shown.len, stdout) != shown.len || fflush(stdout) != 0) {
		cmd_errorf("cannot write to stdout");
		ret = -1;
	}
out:
	gitfilter_free(f);
	gs_buf_release(&in);
	gs_buf_release(&out);
	gs_buf_release(&shown);
	return ret ? EXIT_GENERIC : EXIT_OK;
}

static int git_merge(char **argv)
{
	struct gitfilter_merge_result res = { 0 };
	struct gitfilter *f = NULL;
	int ret;

	gs_harden_process();
	if ((ret = gitfilter_open(".", &f)))
		goto out;
	ret = gitfilter_merge(f, argv[0], argv[1], argv[2], argv[3], &res);
out:
	gitfilter_free(f);
	if (ret) {
		cmd_print_error();
		gs_buf_release(&res.where);
		gs_buf_release(&res.reason);
		return EXIT_GENERIC;
	}
	/* the key paths are the repository's (a key of a pull request's may
	 * hold control bytes): shown as paths are */
	if (res.conflict) {
		/* no side taken silently: the markers stay (docs/git.md) */
		const char *x = gitfilter_merge_asks_strategy_option()
					? "; -X ours and -X theirs reach no merge driver: edit the markers "
					  "('git checkout --ours' takes ours whole, dropping their other changes)"
					: "";

		if (res.reason.len)
			cmd_errorf("conflict in '%s': %s; merged as lines%s", gs_shown(argv[3]),
				   gs_shown((const char *)res.reason.data), x);
		else if (res.where.len)
			cmd_errorf("conflict in '%s': changed on both sides: %s%s", gs_shown(argv[3]),
				   gs_shown((const char *)res.where.data), x);
		else
			cmd_errorf("conflict in '%s': the file changed on both sides%s", gs_shown(argv[3]), x);
	}
	gs_buf_release(&res.where);
	gs_buf_release(&res.reason);
	return res.conflict ? EXIT_GENERIC : EXIT_OK;
}

/* One line for the files whose decrypt check was not made: the first
 * few named, then how many more. */
static void show_unopened(const struct gitfilter_findings *fs)
{
	char names[1024] = "";
	size_t used = 0, shown = fs->unopened < GITFILTER_UNOPENED_SHOWN ? fs->unopened : GITFILTER_UNOPENED_SHOWN;

	if (!fs->unopened)
		return;
	for (size_t i = 0; i < shown && used < sizeof(names); i++)
		used += (size_t)snprintf(names + used, sizeof(names) - used, "%s'%s'", i ? ", " : "",
					 gs_shown(fs->unopened_paths[i]));
	if (fs->unopened > shown && used < sizeof(names))
		snprintf(names + used, sizeof(names) - used, " and %zu more", fs->unopened - shown);
	if (fs->unopened_locked == fs->unopened)
		cmd_warnf("%zu file(s) not checked: the passphrase-protected key '%s' opens them, and git asks for no "
			  "passphrase (set GITSEAL_SSH_PASSPHRASE to check them) (%s)",
			  fs->unopened, gs_shown(fs->locked_key), names);
	else if (fs->unopened_locked)
		cmd_warnf("%zu file(s) not checked: none of your keys opens them, or for %zu of them only the "
			  "passphrase-protected key '%s', which git asks no passphrase for (%s)",
			  fs->unopened, fs->unopened_locked, gs_shown(fs->locked_key), names);
	else
		cmd_warnf("%zu file(s) not checked: none of your keys opens them (%s)", fs->unopened, names);
}

/* git's pre-push input: a line per ref, four words each */
enum { PRE_PUSH_INPUT_MAX = 1 << 20 };

static int git_check(int argc, char **argv)
{
	struct opt_value v[GO_COUNT] = { 0 };
	struct gitfilter_findings fs;
	struct opt_parser p;
	struct gs_buf lines;
	bool files = false;
	size_t count;
	int code, ret;

	if (parse_sub(argc, argv, check_accepted, v, &p, false, &code))
		return code;
	if ((v[GO_COMMITS].on && v[GO_PRE_PUSH].on) || (!v[GO_COMMITS].on && !v[GO_PRE_PUSH].on && p.word_count) ||
	    (v[GO_PRE_PUSH].on && p.word_count > 2)) {
		cmd_errorf("git check: %s", v[GO_COMMITS].on && v[GO_PRE_PUSH].on ? "--commits and --pre-push exclude each other"
									  : "unexpected argument");
		fputs(git_usage, stderr);
		opt_parser_release(&p);
		return EXIT_USAGE;
	}
	/* the blobs it reads may be staged plaintext */
	gs_harden_process();
	gs_buf_init(&lines, false);
	if (v[GO_PRE_PUSH].on)
		ret = gs_read_file("-", &lines, PRE_PUSH_INPUT_MAX) ? -1 : gitfilter_check_push(".", &lines, &fs);
	else if (v[GO_COMMITS].on)
		ret = gitfilter_check_commits(".", p.words, (size_t)p.word_count, &fs);
	else
		ret = gitfilter_check(".", &fs);
	gs_buf_release(&lines);
	opt_parser_release(&p);
	if (ret) {
		cmd_print_error();
		return EXIT_GENERIC;
	}
	for (size_t i = 0; i < fs.count; i++) {
		if (fs.items[i].commit[0])
			cmd_errorf("'%s' in commit %s: %s", gs_shown(fs.items[i].path), fs.items[i].commit,
				   fs.items[i].problem);
		else
			cmd_errorf("'%s': %s", gs_shown(fs.items[i].path), fs.items[i].problem);
		files |= !fs.items[i].submodule;
	}
	/* a submodule's line says what to do: git add seals none of its files */
	if (v[GO_COMMITS].on || v[GO_PRE_PUSH].on) {
		if (fs.count)
			fputs("hint: those commits were made without the pre-commit hook (a rebase, cherry-pick, revert "
			      "or merge): rewrite them ('git rebase -i', 'git commit --amend') before they leave the "
			      "clone\n",
			      stderr);
	} else if (files) {
		fputs("hint: 'git add FILE' seals a file under the filter ('gitseal git init' sets it up); "
		      "'gitseal git status' shows every file\n",
		      stderr);
	}
	show_unopened(&fs);
	count = fs.count;
	gitfilter_findings_release(&fs);
	return count ? EXIT_GENERIC : EXIT_OK;
}

static int git_status(void)
{
	struct gitfilter_findings fs;

	gs_harden_process();
	if (gitfilter_status(".", &fs)) {
		cmd_print_error();
		return EXIT_GENERIC;
	}
	for (size_t i = 0; i < fs.count; i++)
		printf("%s: %s\n", gs_shown(fs.items[i].path), fs.items[i].problem);
	gitfilter_findings_release(&fs);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_GENERIC;
}

/* parse_sub for a subcommand that takes flags only, no words. */
static int parse_flags_only(int argc, char **argv, const int *accepted, struct opt_value *values, int *code)
{
	struct opt_parser p;
	int words;

	if (parse_sub(argc, argv, accepted, values, &p, false, code))
		return -1;
	words = p.word_count;
	opt_parser_release(&p);
	if (words) {
		cmd_errorf("git %s: unexpected argument", argv[0]);
		fputs(git_usage, stderr);
		*code = EXIT_USAGE;
		return -1;
	}
	return 0;
}

static int git_lock(int argc, char **argv)
{
	struct opt_value v[GO_COUNT] = { 0 };
	size_t locked;
	int code;

	if (parse_flags_only(argc, argv, lock_accepted, v, &code))
		return code;
	/* it opens each committed version to compare it with the work tree */
	gs_harden_process();
	if (gitfilter_lock(".", v[GO_FORCE].on, &locked)) {
		cmd_print_error();
		return EXIT_GENERIC;
	}
	fprintf(stderr, "gitseal: locked: %zu file(s) back to ciphertext; checkouts leave ciphertext until "
			"'gitseal git unlock'\n",
		locked);
	return EXIT_OK;
}

static int git_unlock(void)
{
	struct gitfilter_init_result res;

	gs_harden_process();
	if (gitfilter_unlock(".", &res)) {
		cmd_print_error();
		return EXIT_GENERIC;
	}
	fprintf(stderr, "gitseal: unlocked: %zu file(s) decrypted\n", res.files_smudged);
	show_locked_keys(&res, "", "");
	if (res.files_locked > res.files_locked_key)
		cmd_warnf("%zu file(s) left encrypted: none of your identities opens them",
			  res.files_locked - res.files_locked_key);
	if (res.files_failed) {
		cmd_errorf("%zu file(s) could not be decrypted; last: %s", res.files_failed, res.failed_message);
		return EXIT_GENERIC;
	}
	return EXIT_OK;
}

static int git_trust(int argc, char **argv);

/* A subcommand without flags or words, whose --help is still answered. */
static int git_plain(int argc, char **argv, int (*run)(void))
{
	struct opt_value v[GO_COUNT] = { 0 };
	int code;

	return parse_flags_only(argc, argv, none_accepted, v, &code) ? code : run();
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
	/* git runs those three with paths, which may start with '-' */
	if (!strcmp(sub, "check"))
		return git_check(argc - 1, argv + 1);
	if (!strcmp(sub, "status"))
		return git_plain(argc - 1, argv + 1, git_status);
	if (!strcmp(sub, "lock"))
		return git_lock(argc - 1, argv + 1);
	if (!strcmp(sub, "unlock"))
		return git_plain(argc - 1, argv + 1, git_unlock);
	if (!strcmp(sub, "trust"))
		return git_trust(argc - 1, argv + 1);
	cmd_errorf("git: bad subcommand or arguments");
	fputs(git_usage, stderr);
	return EXIT_USAGE;
}

/* ---- updatekeys on files under the filter ---- */

struct git_updatekeys_args {
	bool yes, recursive, rotate;
	const char **paths;
	size_t count;
};

/* quiet: while deciding whether the files are under the filter at all (a
 * flag of sops's updatekeys is not an error then); *code is set on -1. */
static int parse_updatekeys(int argc, char **argv, struct git_updatekeys_args *a, bool quiet, int *code)
{
	struct opt_value v[GO_COUNT] = { 0 };
	struct opt_parser p;

	memset(a, 0, sizeof(*a));
	if (parse_sub(argc, argv, updatekeys_accepted, v, &p, quiet, code))
		return -1;
	a->yes = v[GO_YES].on;
	a->recursive = v[GO_RECURSIVE].on;
	a->rotate = v[GO_ROTATE].on;
	/* the words are argv's strings: they outlive the parser */
	for (int i = 0; i < p.word_count; i++)
		if (cmd_push_arg(&a->paths, &a->count, p.words[i])) {
			cmd_print_error();
			free(a->paths);
			a->paths = NULL;
			opt_parser_release(&p);
			*code = EXIT_GENERIC;
			return -1;
		}
	opt_parser_release(&p);
	return 0;
}

/* The repository of a command-line path, and the path in its work tree. */
static int open_for_path(const char *arg, struct gitfilter **f, char **rel)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash;

	*f = NULL;
	*rel = NULL;
	if ((size_t)snprintf(dir, sizeof(dir), "%s", arg) >= sizeof(dir))
		return GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", gs_shown(arg));
	if (!(stat(arg, &st) == 0 && S_ISDIR(st.st_mode))) {
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			strcpy(dir, ".");
	}
	if (gitfilter_open(dir[0] ? dir : "/", f) || gitfilter_path_in_repo(*f, arg, rel)) {
		gitfilter_free(*f);
		*f = NULL;
		return gs_error_code();
	}
	return 0;
}

static bool is_sealed_file(const char *file, const char *rel)
{
	struct gs_buf b;
	bool yes;

	gs_buf_init(&b, false);
	yes = gs_read_file(file, &b, STORE_MAX_INPUT) == 0 && gitfilter_is_sops(store_format_for_path(rel), b.data, b.len);
	gs_error_clear();
	gs_buf_release(&b);
	return yes;
}

bool git_updatekeys_applies(int argc, char **argv)
{
	struct git_updatekeys_args a;
	struct gitfilter *f = NULL;
	const char *first;
	char *rel = NULL;
	struct stat st;
	bool yes = false;
	int code;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--rotate"))
			return true;
	if (parse_updatekeys(argc, argv, &a, true, &code) < 0)
		return false;
	first = a.count ? a.paths[0] : a.recursive ? "." : NULL;
	if (first && open_for_path(first, &f, &rel) == 0) {
		if (stat(first, &st) == 0 && S_ISDIR(st.st_mode)) {
			/* a tree with the filter set up, even with no sealed file yet */
			yes = a.recursive && gitfilter_configured(f);
		} else {
			/* a sops file in the work tree is updated as sops does it,
			 * unless it is new to the repository (its recipients are accepted) */
			yes = gitfilter_path_filtered(f, rel) &&
			      (!is_sealed_file(first, rel) || !gitfilter_committed_sealed(f, rel));
		}
	}
	gs_error_clear();
	free(rel);
	gitfilter_free(f);
	free(a.paths);
	return yes;
}

static bool confirm(const char *question)
{
	char answer[16];

	fprintf(stderr, "%s (y/n): ", question);
	fflush(stderr);
	if (!isatty(STDIN_FILENO) || !fgets(answer, sizeof(answer), stdin)) {
		fputc('\n', stderr);
		return false;
	}
	return answer[0] == 'y' || answer[0] == 'Y';
}

/* A change of trust is answered on a terminal only: a "y" piped in could
 * come from anything that runs the command. */
static int not_confirmed(void)
{
	return isatty(STDIN_FILENO) ? GS_FAIL(GS_ERR_GENERIC, "changes not confirmed (use -y)")
				    : GS_FAIL(GS_ERR_GENERIC, "changes not confirmed: no terminal to answer on (use -y)");
}

struct update_run {
	struct gitfilter *f;
	struct gitfilter_update *plans;
	size_t count;
	struct gitfilter_gone gone; /* -r: records of files gone below its directories */
};

static int add_plan(struct update_run *run, const char *path)
{
	struct gitfilter_update *grown = gs_realloc(run->plans, (run->count + 1) * sizeof(*grown));
	int ret;

	if (!grown)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	run->plans = grown;
	ret = gitfilter_update_plan(run->f, path, &run->plans[run->count]);
	run->count++;
	return ret;
}

static int plan_paths(struct update_run *run, const struct git_updatekeys_args *a)
{
	int ret = 0;

	for (size_t i = 0; i < (a->count ? a->count : 1) && !ret; i++) {
		const char *arg = a->count ? a->paths[i] : ".";
		char *rel = NULL, **paths = NULL;
		size_t n = 0;
		struct stat st;

		if ((ret = gitfilter_path_in_repo(run->f, arg, &rel)))
			break;
		/* a link is not followed (lstat): it is named, left as it is */
		if (lstat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
			ret = a->recursive ? gitfilter_filtered_paths(run->f, rel, &paths, &n)
					   : GS_FAIL(GS_ERR_USAGE, "'%s' is a directory: use -r", gs_shown(arg));
			if (!ret)
				ret = gitfilter_gone_plan(run->f, rel, &run->gone);
		} else if (!gitfilter_path_filtered(run->f, rel)) {
			ret = GS_FAIL(GS_ERR_USAGE, "'%s' is not under the gitseal filter", gs_shown(arg));
		} else if ((paths = gs_malloc(sizeof(*paths))) && (paths[0] = gs_strdup(rel))) {
			n = 1;
		} else {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		}
		for (size_t k = 0; k < n && !ret; k++)
			ret = add_plan(run, paths[k]);
		for (size_t k = 0; k < n; k++)
			free(paths[k]);
		free(paths);
		free(rel);
	}
	return ret;
}

static void show_plan(const struct gitfilter_update *u, bool rotate)
{
	if (u->refused) {
		fprintf(stderr, "gitseal: '%s': %s\n", gs_shown(u->path), GITFILTER_PATH_REFUSED);
		return;
	}
	if (u->link) {
		fprintf(stderr, "gitseal: '%s': a symbolic link: left as it is (git runs no filter on it)\n",
			gs_shown(u->path));
		return;
	}
	if (u->no_rule) {
		fprintf(stderr, "gitseal: '%s': no creation rule of .sops.yaml matches it: 'git add' refuses it until "
				"one does\n",
			gs_shown(u->path));
		return;
	}
	if (!u->changes && !rotate) {
		fprintf(stderr, "gitseal: '%s': already up to date\n", gs_shown(u->path));
		return;
	}
	fprintf(stderr, "%s:\n%s", gs_shown(u->path), (const char *)u->diff.data);
	if (u->adds && !u->is_new && !u->accept_only && !rotate && !u->fresh_key)
		fprintf(stderr, "    the added recipients can read every earlier version of '%s' too: its data key "
				"stays (--rotate gives it a new one)\n",
			gs_shown(u->path));
	else if (u->adds && !u->is_new && !u->accept_only && !rotate)
		fprintf(stderr, "    a new data key: this clone did not make the current one for '%s' (the added "
				"recipients read only what is sealed from now on)\n",
			gs_shown(u->path));
	if (rotate && !u->is_new)
		fprintf(stderr, "    a new data key (rotation)\n");
}

/* Each plan re-sealed and proven in turn, then all staged in one write of
 * the index (gitfilter_update_finish). When a file fails, the files
 * before it are staged and accepted still, the failing one and those
 * after it left as they were, and the error names it. */
static int apply_plans(struct update_run *run, const struct git_updatekeys_args *a, bool *declined)
{
	enum gs_err code = GS_ERR_GENERIC;
	size_t done = 0;
	char *why = NULL;
	int ret = 0, staged;

	for (; done < run->count && !ret; done++) {
		struct gitfilter_update *u = &run->plans[done];
		char question[PATH_MAX + 64];

		if (!u->changes && !(a->rotate && !u->is_new)) {
			ret = gitfilter_update_refresh(run->f, u);
			continue;
		}
		snprintf(question, sizeof(question), "Is this okay for '%s'?", gs_shown(u->path));
		if (!a->yes && !a->recursive && !confirm(question)) {
			*declined = true;
			continue;
		}
		ret = gitfilter_update_apply(run->f, u, a->rotate);
	}
	/* the files before a failing one staged still: its error kept, told last */
	if (ret) {
		code = gs_error_code();
		why = gs_strdup(gs_error_message());
	}
	if (!(staged = gitfilter_update_finish(run->f, run->plans, done)))
		for (size_t i = 0; i < done; i++)
			if (run->plans[i].applied)
				fprintf(stderr, "gitseal: '%s': %s\n", gs_shown(run->plans[i].path),
					run->plans[i].is_new || run->plans[i].accept_only
						? "recipients accepted"
						: "keys updated and staged; commit to share the change");
	if (ret) {
		if (staged)
			cmd_print_error();
		gs_error_set(code, "%s", why ? why : "out of memory");
	}
	free(why);
	return ret ? ret : staged;
}

/* Shows what the run would change; whether it would change anything. */
static bool show_changes(const struct update_run *run, bool rotate, const struct gs_buf *config_diff,
			 const struct gs_buf *rule_diff)
{
	bool any = false;

	for (size_t i = 0; i < run->count; i++) {
		show_plan(&run->plans[i], rotate);
		any = any || run->plans[i].changes || (rotate && !run->plans[i].is_new);
	}
	/* a file gone: whom its path was accepted for beyond its rule */
	if (run->gone.count) {
		fwrite(run->gone.shown.data, 1, run->gone.shown.len, stderr);
		any = true;
	}
	/* what accepting .sops.yaml changes for new files: its whole rules
	 * are accepted with its recipients; a change of rules alone too (a
	 * reader a teammate revoked stays accepted here until it is) */
	if (config_diff->len || rule_diff->len) {
		fputs(".sops.yaml:\n", stderr);
		if (config_diff->len)
			fprintf(stderr, "    new files are sealed for: %s\n", (const char *)config_diff->data);
		if (rule_diff->len)
			fwrite(rule_diff->data, 1, rule_diff->len, stderr);
		any = true;
	}
	return any;
}

static int forget_gone(struct update_run *run)
{
	int ret = gitfilter_gone_apply(run->f, &run->gone);

	for (size_t i = 0; !ret && i < run->gone.count; i++)
		fprintf(stderr, "gitseal: '%s': accepted recipients forgotten (file gone)\n",
			gs_shown(run->gone.paths[i]));
	return ret;
}

int git_updatekeys(int argc, char **argv)
{
	struct git_updatekeys_args a;
	struct update_run run = { 0 };
	struct gs_buf config_diff, rule_diff;
	bool declined = false, any, narrows = false, retired = false;
	char *first = NULL;
	int ret, code = EXIT_GENERIC;

	if (parse_updatekeys(argc, argv, &a, false, &code) < 0)
		return code;
	gs_harden_process();
	gs_buf_init(&config_diff, false);
	gs_buf_init(&rule_diff, false);
	gitfilter_gone_init(&run.gone);
	if (!a.count && !a.recursive) {
		cmd_errorf("updatekeys needs at least one file");
		free(a.paths);
		return EXIT_SOPS_NO_FILE;
	}
	if ((ret = open_for_path(a.count ? a.paths[0] : ".", &run.f, &first)) ||
	    (ret = plan_paths(&run, &a)) || (ret = gitfilter_update_check_copies(run.f, run.plans, run.count, a.rotate)) ||
	    (ret = gitfilter_accept_config(run.f, &config_diff)) ||
	    (ret = gitfilter_config_changes(run.f, &rule_diff)) || (ret = gitfilter_config_narrows(run.f, &narrows)))
		goto out;
	any = show_changes(&run, a.rotate, &config_diff, &rule_diff);
	if (any && a.recursive && !a.yes && !confirm("Is this okay for these files?")) {
		ret = not_confirmed();
		goto out;
	}
	if ((ret = apply_plans(&run, &a, &declined)))
		goto out;
	if (declined) {
		ret = not_confirmed();
		goto out;
	}
	if ((ret = forget_gone(&run)) || (any && (ret = gitfilter_accept_config(run.f, NULL))) ||
	    (ret = gitfilter_retire_keys(run.f, any && narrows, &retired)))
		goto out;
	/* the history check sees only HEAD's history, which a branch forked
	 * before the reader was added lets another choose */
	if (retired)
		fputs("gitseal: a reader removed: data keys made here retired: each file gets a new one on its next "
		      "change\n", stderr);
	code = EXIT_OK;
out:
	if (ret)
		cmd_print_error();
	for (size_t i = 0; i < run.count; i++)
		gitfilter_update_release(&run.plans[i]);
	free(run.plans);
	gitfilter_gone_release(&run.gone);
	gitfilter_free(run.f);
	gs_buf_release(&config_diff);
	gs_buf_release(&rule_diff);
	free(first);
	free(a.paths);
	return code;
}

/* ---- trust: vouch for a file's data key ---- */

static int trust_one(struct gitfilter *f, const char *arg, bool yes)
{
	struct gitfilter_vouch v;
	char question[PATH_MAX + 64];
	char *rel = NULL;
	int ret;

	memset(&v, 0, sizeof(v));
	if ((ret = gitfilter_path_in_repo(f, arg, &rel)))
		goto out;
	if (!gitfilter_path_filtered(f, rel)) {
		ret = GS_FAIL(GS_ERR_USAGE, "'%s' is not under the gitseal filter", gs_shown(arg));
		goto out;
	}
	if ((ret = gitfilter_vouch_plan(f, rel, &v)))
		goto out;
	if (v.already) {
		fprintf(stderr, "gitseal: '%s': its data key was made or trusted in this clone already\n",
			gs_shown(rel));
		goto out;
	}
	fprintf(stderr,
		"%s: sealed for\n%s"
		"    its data key was made in another clone: whoever made it can read every value sealed with it,\n"
		"    and the filter will re-use it for what you write into this file\n",
		gs_shown(rel), (const char *)v.shown.data);
	snprintf(question, sizeof(question), "Trust the data key of '%s'?", gs_shown(rel));
	if (!yes && !confirm(question)) {
		ret = GS_FAIL(GS_ERR_GENERIC, "'%s': not trusted (use -y)", gs_shown(rel));
		goto out;
	}
	if (!(ret = gitfilter_vouch_apply(f, &v)))
		fprintf(stderr, "gitseal: '%s': data key trusted; 'git add' re-uses it\n", gs_shown(rel));
out:
	gitfilter_vouch_release(&v);
	free(rel);
	return ret;
}

static int git_trust(int argc, char **argv)
{
	struct opt_value v[GO_COUNT] = { 0 };
	struct opt_parser p;
	struct gitfilter *f = NULL;
	char *first = NULL;
	int i = 0, ret = 0, code;

	if (parse_sub(argc, argv, trust_accepted, v, &p, false, &code))
		return code;
	if (!p.word_count) {
		opt_parser_release(&p);
		cmd_errorf("git trust needs at least one file");
		fputs(git_usage, stderr);
		return EXIT_USAGE;
	}
	gs_harden_process();
	ret = open_for_path(p.words[0], &f, &first);
	for (; !ret && i < p.word_count; i++)
		ret = trust_one(f, p.words[i], v[GO_YES].on);
	if (ret)
		cmd_print_error();
	opt_parser_release(&p);
	gitfilter_free(f);
	free(first);
	return ret ? EXIT_GENERIC : EXIT_OK;
}
