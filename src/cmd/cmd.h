/* Commands: one file per command, each a cmd_NAME(argc, argv) returning
 * the process exit code. Only main.c and this directory print. */
#ifndef GITSEAL_CMD_H
#define GITSEAL_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "gitseal/error.h"

/* Exit codes, documented in docs/exit-codes.md. The sops-compatible
 * commands use sops's numbers (a usage error is 1 there, as in sops; an
 * input that cannot be read is 2); age and keygen have their own small
 * set, one per failure class, with 1 for usage as age; render and krm
 * exit 1 for any failure; EXIT_USAGE is the usage error of `gitseal git`. */
enum exit_code {
	EXIT_OK = 0,
	EXIT_GENERIC = 1,
	EXIT_USAGE = 2,
	/* age: one per category of failure */
	EXIT_AGE_ARMOR = 10,
	EXIT_AGE_HEADER = 11,
	EXIT_AGE_NO_MATCH = 12,
	EXIT_AGE_HMAC = 13,
	EXIT_AGE_PAYLOAD = 14,
	EXIT_AGE_KEY = 15,
	/* sops (cmd/sops/codes/codes.go) */
	EXIT_SOPS_READ_INPUT = 2,
	EXIT_SOPS_WRITE_OUTPUT = 3,
	EXIT_SOPS_DUMP_TREE = 4,
	EXIT_SOPS_SET_FORMAT = 7,
	EXIT_SOPS_CONFLICT = 8,
	EXIT_SOPS_ENCRYPT_TREE = 23,
	EXIT_SOPS_DECRYPT_TREE = 25,
	EXIT_SOPS_KEYS_OF_MISSING_FILE = 49,
	EXIT_SOPS_MAC_MISMATCH = 51,
	EXIT_SOPS_TREE_PATH = 91,
	EXIT_SOPS_NEED_DOCUMENT = 92,
	EXIT_SOPS_NO_FILE = 100,
	EXIT_SOPS_DUPLICATE_KEY_TYPE = 112,
	EXIT_SOPS_NO_KEY = 128,
	EXIT_SOPS_NOT_MODIFIED = 200,
	EXIT_SOPS_NO_EDITOR = 201,
	EXIT_SOPS_ALREADY_ENCRYPTED = 203,
};

/* Prints "gitseal: error: <current error message>" on stderr. */
void cmd_print_error(void);
void cmd_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cmd_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Appends a command-line word to a growing list (for repeatable flags). */
int cmd_push_arg(const char ***list, size_t *count, const char *value)
	__attribute__((warn_unused_result));

/* Maps an age-layer error to the age command's exit code. */
int cmd_age_exit_code(int err);
/* Maps an error to sops's exit code. */
int cmd_sops_exit_code(int err);

int cmd_age(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_encrypt(int argc, char **argv);
int cmd_decrypt(int argc, char **argv);
int cmd_edit(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_unset(int argc, char **argv);
int cmd_rotate(int argc, char **argv);
int cmd_updatekeys(int argc, char **argv);
int cmd_filestatus(int argc, char **argv);
int cmd_groups(int argc, char **argv);
int cmd_exec_env(int argc, char **argv);
int cmd_exec_file(int argc, char **argv);
/* sops's legacy top-level form: gitseal -e|-d|-r [-i] FILE, gitseal FILE (edit). */
int cmd_legacy(int argc, char **argv);
int cmd_git(int argc, char **argv);
/* updatekeys on files under the git filter (git.c): whether the arguments
 * name such files, and the command for them. */
bool git_updatekeys_applies(int argc, char **argv);
int git_updatekeys(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_krm(int argc, char **argv);
/* The binary invoked as "ksops" (KSOPS's name; argv[0] is the program). */
int cmd_ksops(int argc, char **argv);

#endif
