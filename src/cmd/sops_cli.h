/* Shared plumbing of the sops-compatible commands: flags, reading the
 * input, identities, writing the output (stdout, --output, or in place). */
#ifndef GITSEAL_CMD_SOPS_CLI_H
#define GITSEAL_CMD_SOPS_CLI_H

#include <stdbool.h>

#include "gitseal/age.h"
#include "gitseal/config.h"
#include "gitseal/doc.h"
#include "gitseal/sops.h"
#include "sops_options.h"

struct sops_command;

/* A sops-compatible command line, parsed through the command's option
 * table (sops_options.h). The fields are the flags' values; values[] keeps
 * them all as parsed. */
struct sops_cli {
	const char *command;       /* "decrypt", "groups add": names the option table */
	const struct sops_command *spec;
	struct opt_value values[SO_COUNT];
	char **words;              /* positional words (malloc'd array of argv strings) */
	int word_count;
	int code;                  /* an exit code the command line decides (sops's), else 0 */
	bool plaintext_input;      /* the input is plaintext (encrypt): a parse error is 2, not 1 */
	const char *file;          /* positional FILE, NULL = stdin */
	char **rest;               /* further positional words */
	int rest_count;
	bool in_place;
	const char *output;
	const char *input_type, *output_type;
	const char *filename_override;
	const char *config_path;
	const char **age;          /* --age values (each may hold commas) */
	size_t age_count;
	struct sops_selection selection;
	int selection_flags;       /* how many selection flags were given */
	int indent;
	const char *extract;
	bool ignore_mac;
	bool idempotent;
	bool yes;
	const char **add_age, **rm_age;
	size_t add_age_count, rm_age_count;
	const char **vault;        /* --hc-vault-transit values (each may hold commas) */
	size_t vault_count;
	const char **add_vault, **rm_vault;
	size_t add_vault_count, rm_vault_count;
	const char **pgp;          /* --pgp values (each may hold commas) */
	size_t pgp_count;
	const char **add_pgp, **rm_pgp;
	size_t add_pgp_count, rm_pgp_count;
	const char *foreign_flag;  /* a key flag of a type gitseal cannot wrap for (--kms, ...) */
	bool drop_unsupported_keys;
	const char *group_file;    /* groups add/delete --file */
	bool recursive;            /* updatekeys/rotate -r DIR */
	bool value_file;           /* set: VALUE names a file */
	bool value_stdin;
	bool pristine, no_fifo;
	bool allow_unencrypted_env; /* exec-env: values in clear too */
	bool keep_file_rule;        /* edit, set: new or changed values in clear by the file's own rule */
	const char *exec_filename;
	bool background, same_process;
	const char *user;          /* exec-*: run the command as this user */
	bool show_master_keys;
	const char *decryption_order; /* validated: no type twice */
	int shamir_threshold;
	bool verbose;
};

void sops_cli_init(struct sops_cli *c, const char *command);
void sops_cli_release(struct sops_cli *c);
/* Parses the command's flags (before or after the positional words, as
 * urfave/cli lets sops take them), the global flags given before the
 * command (main.c), and the variables bound to flags. -h prints the usage
 * and exits 0. Errors: GS_ERR_USAGE (exit 1, as sops), c->code for sops's
 * own codes (112 for a type named twice in --decryption-order, ...). */
int sops_cli_parse(struct sops_cli *c, int argc, char **argv) __attribute__((warn_unused_result));
/* sops's check of FILE before anything is read (encrypt, decrypt, rotate:
 * main.go:843): a missing file is 100, or 49 with rotate's --add/--rm. */
int sops_cli_require_file(struct sops_cli *c) __attribute__((warn_unused_result));
/* Commands that take one FILE: more words are warned about and ignored,
 * as sops does (main.go:62). */
void sops_cli_one_file(const struct sops_cli *c);
/* With --verbose: "gitseal: <message>" on stderr. */
void sops_cli_verbose(const struct sops_cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The path used for format detection and creation rules. */
const char *sops_cli_rule_path(const struct sops_cli *c);
enum doc_format sops_cli_input_format(const struct sops_cli *c);
enum doc_format sops_cli_output_format(const struct sops_cli *c);

/* sops_crypto_warm for the input sops_cli_read_input is about to read:
 * its size when it is a regular file. */
void sops_cli_warm(const struct sops_cli *c);
int sops_cli_read_input(const struct sops_cli *c, struct gs_buf *out) __attribute__((warn_unused_result));
/* Loads .sops.yaml (--config, SOPS_CONFIG, else searched from the CWD up);
 * *out may be NULL when there is none. */
int sops_cli_load_config(const struct sops_cli *c, struct sops_config **out)
	__attribute__((warn_unused_result));
/* Splits the --age values and SOPS_AGE_RECIPIENTS on commas into a
 * NULL-terminated malloc'd array of trimmed strings. */
int sops_cli_age_recipients(const struct sops_cli *c, char ***out, size_t *count)
	__attribute__((warn_unused_result));
/* Likewise for --hc-vault-transit and SOPS_VAULT_URIS. */
int sops_cli_vault_uris(const struct sops_cli *c, char ***out, size_t *count)
	__attribute__((warn_unused_result));
/* Likewise for --pgp and SOPS_PGP_FP. */
int sops_cli_pgp_fingerprints(const struct sops_cli *c, char ***out, size_t *count)
	__attribute__((warn_unused_result));
/* Keys of types gitseal cannot wrap for, asked by a flag (--kms, ...) or,
 * with env, by sops's variables (SOPS_KMS_ARN, ...): GS_ERR_UNSUPPORTED_KEY
 * (sops_cli_confirm_drop then tells whether to go on without them). */
int sops_cli_check_foreign_keys(const struct sops_cli *c, bool env) __attribute__((warn_unused_result));
/* After GS_ERR_UNSUPPORTED_KEY: true when --drop-unsupported-keys was
 * given and the user confirms (on the terminal, or -y) that the key entries
 * named in the error may go. */
bool sops_cli_confirm_drop(const struct sops_cli *c, const char *file);
/* Splits comma-separated values onto a NULL-terminated list. */
int sops_cli_split(const char *const *values, size_t n, char ***out, size_t *count)
	__attribute__((warn_unused_result));
void sops_cli_free_strings(char **list, size_t count);

/* Writes the result: in place, to --output, or stdout (gs_output_write). */
int sops_cli_write(const struct sops_cli *c, const uint8_t *data, size_t len)
	__attribute__((warn_unused_result));

/* Prints the error with the file name and returns sops's exit code. */
int sops_cli_fail(const struct sops_cli *c, int err);

#endif
