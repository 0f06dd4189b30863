/* gitseal: sops-compatible secrets encryption, a git filter, and an
 * in-cluster decryptor, in one binary. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "gitseal/error.h"
#include "gitseal/secmem.h"
/* GITSEAL_VERSION: `git describe` at build time (Makefile, scripts/version.sh) */
#include "version.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "encrypt", cmd_encrypt, "encrypt the values of a YAML/JSON/dotenv/INI/binary file (sops format)" },
	{ "decrypt", cmd_decrypt, "decrypt a sops file (--extract for one value)" },
	{ "edit", cmd_edit, "edit a sops file in $SOPS_EDITOR/$EDITOR; only changed values change" },
	{ "set", cmd_set, "set one value: gitseal set FILE '[\"key\"]' JSON-VALUE" },
	{ "unset", cmd_unset, "remove one value: gitseal unset FILE '[\"key\"]'" },
	{ "rotate", cmd_rotate, "new data key, every value re-encrypted (--add-age, --rm-age; -r DIR: a tree)" },
	{ "updatekeys", cmd_updatekeys, "re-wrap the data key for the keys of the matching creation rule (-r DIR -y: a tree)" },
	{ "groups", cmd_groups, "add or delete a key group: groups add --file F --age R, groups delete --file F N" },
	{ "filestatus", cmd_filestatus, "print {\"encrypted\":true|false}" },
	{ "exec-env", cmd_exec_env, "run a command with the top-level values in its environment" },
	{ "exec-file", cmd_exec_file, "run a command with the plaintext in a FIFO ({} in the command)" },
	{ "age", cmd_age, "encrypt and decrypt files with age v1 (compatible with the age CLI)" },
	{ "git", cmd_git, "the git filter, diff and merge drivers: init, filter-process, textconv, merge, check" },
	{ "render", cmd_render, "decrypt a directory or kustomization to a manifest stream (Argo CD plugin)" },
	{ "krm", cmd_krm, "KRM function / KSOPS-compatible secret generator (kustomize, kpt)" },
	{ "keygen", cmd_keygen, "generate an age identity, or print the recipients of one (-y)" },
};

static void print_warning(const char *message)
{
	fprintf(stderr, "gitseal: warning: %s\n", message);
}

static void usage(FILE *f)
{
	fputs("usage: gitseal COMMAND [ARGS...]\n\ncommands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fputs("\nrun 'gitseal COMMAND --help' for a command's options\n", f);
}

int main(int argc, char **argv)
{
	if (gs_crypto_init() != 0) {
		cmd_print_error();
		return EXIT_GENERIC;
	}
	gs_warning_set_handler(print_warning);
	{
		const char *base = strrchr(argv[0], '/');

		if (!strcmp(base ? base + 1 : argv[0], "ksops"))
			return cmd_ksops(argc, argv);
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("gitseal %s (sops %s format, age v1)\n", GITSEAL_VERSION, "3.13.2");
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	}
	if (argv[1][0] == '-' || access(argv[1], F_OK) == 0)
		return cmd_legacy(argc, argv);
	cmd_errorf("unknown command '%s'", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
