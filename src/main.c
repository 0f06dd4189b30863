/* gitseal: sops-compatible secrets encryption, a git filter, and an
 * in-cluster decryptor, in one binary.
 *
 * The command line is sops's (urfave/cli): the application's flags first
 * (`gitseal --config X decrypt F`), then a command and its flags. When the
 * first word after those flags is not a command, it is a file for sops's
 * legacy mode (`gitseal -d F`, `gitseal F` to edit). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "cmd/prompt.h"
#include "cmd/sops_options.h"
#include "gitseal/age.h"
#include "gitseal/dynlib.h"
#include "gitseal/error.h"
#include "gitseal/leak_ledger.h"
#include "gitseal/secmem.h"
#include "gitseal/shown.h"
#include "gitseal/sops.h"
/* GITSEAL_VERSION: `git describe` at build time (Makefile, scripts/version.sh) */
#include "version.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;  /* NULL: not listed by --help */
	bool sops;            /* takes sops's global flags */
	const char *refusal;  /* a sops command gitseal does not have: why, in one line */
};

static const struct command commands[] = {
	{ "encrypt", cmd_encrypt, NULL, true, NULL },
	{ "decrypt", cmd_decrypt, NULL, true, NULL },
	{ "edit", cmd_edit, NULL, true, NULL },
	{ "set", cmd_set, NULL, true, NULL },
	{ "unset", cmd_unset, NULL, true, NULL },
	{ "rotate", cmd_rotate, NULL, true, NULL },
	{ "updatekeys", cmd_updatekeys, NULL, true, NULL },
	{ "groups", cmd_groups, "add or delete a key group: groups add --file F --age R, groups delete --file F N",
	  true, NULL },
	{ "filestatus", cmd_filestatus, NULL, true, NULL },
	{ "exec-env", cmd_exec_env, NULL, true, NULL },
	{ "exec-file", cmd_exec_file, NULL, true, NULL },
	{ "age", cmd_age, "encrypt and decrypt files with age v1 (compatible with the age CLI)", false, NULL },
	{ "git", cmd_git,
	  "the git filter: init, status, lock, unlock, trust, check; git runs filter-process, textconv, merge",
	  false, NULL },
	{ "render", cmd_render, "decrypt a directory or kustomization to a manifest stream (Argo CD plugin)", false,
	  NULL },
	{ "krm", cmd_krm, "KRM function / KSOPS-compatible secret generator (kustomize, kpt)", false, NULL },
	{ "keygen", cmd_keygen, "generate an age identity, or print the recipients of one (-y)", false, NULL },
	/* sops's commands that gitseal leaves out (docs/sops-parity.md) */
	{ "publish", NULL, NULL, true,
	  "publish is not supported: it uploads secrets to S3, GCS or Vault KV (see docs/sops-parity.md)" },
	{ "keyservice", NULL, NULL, true,
	  "keyservice is not supported: gitseal unwraps data keys in-process only (see docs/sops-parity.md)" },
	{ "completion", NULL, NULL, true,
	  "completion is not supported: the bash, zsh and fish completions are installed files (make install)" },
};

enum { COMMAND_COUNT = sizeof(commands) / sizeof(commands[0]) };

/* Optimal string alignment distance of a and b, both short: a mistyped
 * command is one or two edits away. */
static size_t edit_distance(const char *a, const char *b)
{
	enum { MAX = 24 };
	size_t la = strlen(a), lb = strlen(b), d[MAX + 1][MAX + 1];

	if (la > MAX || lb > MAX)
		return MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

/* The command a first word that is no command and no file most likely
 * meant: a typo of one ('decryt'), or a git-crypt or age habit
 * ('unlock', 'age-keygen'). sops would edit a new file of that name.
 * Not inlined: edit_distance's 5 KiB table in run's frame pushed every
 * command's stack two pages deeper (docs/development.md, the small file). */
static __attribute__((noinline, cold)) const char *meant_command(const char *word)
{
	/* arrays, not pointers: no relocation in the relro pages */
	static const struct {
		char habit[12], meant[12];
	} habits[] = {
		{ "init", "git init" }, { "lock", "git lock" }, { "unlock", "git unlock" },
		{ "status", "git status" }, { "check", "git check" }, { "trust", "git trust" },
		{ "age-keygen", "keygen" }, { "ksops", "krm" },
	};
	struct stat st;

	if (strchr(word, '.') || strchr(word, '/') || strlen(word) < 3 || lstat(word, &st) == 0)
		return NULL;
	for (size_t i = 0; i < sizeof(habits) / sizeof(habits[0]); i++)
		if (!strcmp(word, habits[i].habit))
			return habits[i].meant;
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (commands[i].fn && edit_distance(word, commands[i].name) <= (strlen(commands[i].name) > 4 ? 2u : 1u))
			return commands[i].name;
	return NULL;
}

static void print_warning(const char *message)
{
	fprintf(stderr, "gitseal: warning: %s\n", message);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* A command's line in the usage: its own summary, else its option table's. */
static const char *summary_of(const struct command *c)
{
	const struct sops_command *s;

	if (c->summary || c->refusal)
		return c->summary;
	s = sops_command_find(c->name);
	return s ? s->summary : NULL;
}

static void usage(FILE *f)
{
	fputs("usage: gitseal [global flags] COMMAND [flags] [ARGS...]\n"
	      "       gitseal [flags] FILE          (sops's legacy mode: -d, -e, -r, --set; else edit FILE)\n"
	      "\ncommands:\n",
	      f);
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (summary_of(&commands[i]))
			fprintf(f, "  %-12s %s\n", commands[i].name, summary_of(&commands[i]));
	fputs("\nglobal flags (before the command; the sops commands also take them after it):\n", f);
	{
		static const int shown[] = { SO_CONFIG, SO_VERBOSE, SO_INDENT, SO_MAC_ONLY_ENCRYPTED,
					     SO_UNENCRYPTED_COMMENT_REGEX, SO_ENCRYPTED_COMMENT_REGEX, OPT_END };

		opt_usage(f, sops_options, shown);
	}
	fputs("  -h, --help                      print this help\n"
	      "  -v, --version                   print the version\n"
	      "\nrun 'gitseal COMMAND --help' for a command's flags; exit codes: docs/exit-codes.md\n",
	      f);
}

static int print_version(void)
{
	printf("gitseal %s (sops %s format, age v1)\n", GITSEAL_VERSION, SOPS_VERSION);
	return EXIT_OK;
}

/* `gitseal help [COMMAND]` (urfave/cli's help command). */
static int help(int argc, char **argv)
{
	const struct command *c = argc > 1 ? find_command(argv[1]) : NULL;
	char *args[] = { argc > 1 ? argv[1] : NULL, "--help", NULL };

	if (argc > 1 && (!c || !c->fn)) {
		cmd_errorf("no help for '%s': not a command", gs_shown(argv[1]));
		return EXIT_GENERIC;
	}
	if (!c) {
		usage(stdout);
		return EXIT_OK;
	}
	return c->fn(2, args);
}

static bool any_set(const struct opt_value *v)
{
	for (size_t i = 0; i < SO_COUNT; i++)
		if (v[i].set)
			return true;
	return false;
}

/* Runs the command at argv[first]. */
static int run_command(const struct command *c, const struct opt_value *globals, int argc, char **argv, int first)
{
	if (c->refusal) {
		cmd_errorf("%s", c->refusal);
		return EXIT_GENERIC;
	}
	if (!c->sops && any_set(globals)) {
		cmd_errorf("'%s' takes no global flags: put its flags after it", gs_shown(c->name));
		/* the command's own usage code (docs/exit-codes.md): 2 for git,
		 * 1 for age, keygen, render and krm */
		return strcmp(c->name, "git") ? EXIT_GENERIC : EXIT_USAGE;
	}
	if (c->sops)
		sops_globals_set(globals);
	/* no question in the middle of a git command's checkout or a render;
	 * `git unlock` decrypts in this process (no filter started) and is
	 * run by hand, as git-crypt's, whose gpg-agent asks; so is `git lock`,
	 * which opens each committed version to tell a file unchanged: without
	 * the key every file unlock decrypted read as changed (red team 23, L1) */
	if (!strcmp(c->name, "git") && argc - first >= 2 &&
	    ((argc - first == 2 && !strcmp(argv[first + 1], "unlock")) || !strcmp(argv[first + 1], "lock")))
		age_ssh_passphrase_source(prompt_ssh_passphrase_typed);
	else if (!strcmp(c->name, "git") || !strcmp(c->name, "render") || !strcmp(c->name, "krm"))
		age_ssh_passphrase_source(prompt_ssh_passphrase_no_terminal);
	return c->fn(argc - first, argv + first);
}

static void on_file_size_limit(int sig)
{
	(void)sig;
}

static int run(int argc, char **argv)
{
	/* on the stack, not in .bss: its 2.9 KiB there spread the variables a
	 * small file touches over one page more (docs/development.md, the
	 * small file) */
	struct opt_value globals[SO_COUNT] = { 0 };
	struct opt_parser p = {
		.table = sops_options,
		.table_len = SO_COUNT,
		.accepted = sops_global_options,
		.stop_at_word = true,
		.values = globals,
	};
	const struct command *c;
	const char *meant;
	int ret, code;

	/* past a file size limit (ulimit -f) a write fails with EFBIG and the
	 * temporary file is removed; the default action, a kill, would leave
	 * part of the output (plaintext, for decrypt -i) beside the target.
	 * Caught, not ignored: commands gitseal runs get the default back. */
	signal(SIGXFSZ, on_file_size_limit);
	if (gs_crypto_init() != 0) {
		cmd_print_error();
		return EXIT_GENERIC;
	}
	gs_warning_set_handler(print_warning);
	{
		const char *base = strrchr(argv[0], '/');

		if (!strcmp(base ? base + 1 : argv[0], "ksops")) {
			age_ssh_passphrase_source(prompt_ssh_passphrase_no_terminal);
			return cmd_ksops(argc, argv);
		}
	}
	age_ssh_passphrase_source(prompt_ssh_passphrase);
	if (argc < 2) {
		/* sops: no file given (main.go:1895) */
		usage(stderr);
		return EXIT_SOPS_NO_FILE;
	}
	ret = opt_parse(&p, argc, argv, 1);
	if (ret) {
		cmd_print_error();
		fputs("run 'gitseal --help' for the usage\n", stderr);
		code = EXIT_GENERIC;
	} else if (p.help) {
		usage(stdout);
		code = EXIT_OK;
	} else if (globals[SO_VERSION].on) {
		code = print_version();
	} else if (p.next < argc && (!strcmp(argv[p.next], "help") || !strcmp(argv[p.next], "h"))) {
		code = help(argc - p.next, argv + p.next);
	} else if (p.next < argc && !strcmp(argv[p.next], "version")) {
		code = print_version();
	} else if (p.next < argc && (c = find_command(argv[p.next]))) {
		code = run_command(c, globals, argc, argv, p.next);
	} else if (p.next < argc && (meant = meant_command(argv[p.next]))) {
		cmd_errorf("'%s' is not a command: did you mean 'gitseal %s'? (to edit a new file of that "
			   "name: gitseal edit %s)", gs_shown(argv[p.next]), meant, gs_shown(argv[p.next]));
		code = EXIT_GENERIC;
	} else {
		/* sops's legacy mode: the first word is a file, not a command */
		code = cmd_legacy(argc, argv);
	}
	opt_parser_release(&p);
	sops_identities_forget();
	gs_libcrypto_warm_wait();
	return code;
}

int main(int argc, char **argv)
{
#ifdef GITSEAL_TEST_HOOKS
	int code;

	gs_leak_ledger_begin(argc, argv);
	code = run(argc, argv);
	gs_leak_ledger_end(code);
	return code;
#else
	return run(argc, argv);
#endif
}
