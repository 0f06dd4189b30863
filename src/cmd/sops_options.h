/* The options of the sops-compatible commands, declared once (options.h):
 * sops 3.13.2's flags as cmd/sops/main.go declares them, command by
 * command, its global flags, and gitseal's few additions. */
#ifndef GITSEAL_CMD_SOPS_OPTIONS_H
#define GITSEAL_CMD_SOPS_OPTIONS_H

#include "options.h"

enum sops_option {
	/* input and output */
	SO_IN_PLACE,
	SO_OUTPUT,
	SO_INPUT_TYPE,
	SO_OUTPUT_TYPE,
	SO_FILENAME_OVERRIDE,
	SO_EXTRACT,
	SO_IGNORE_MAC,
	SO_DECRYPTION_ORDER,
	SO_INDENT,
	SO_CONFIG,
	SO_VERBOSE,
	/* keys of a new file (encrypt, edit; env-bound, comma-separated) */
	SO_AGE,
	SO_PGP,
	SO_HC_VAULT_TRANSIT,
	SO_KMS,
	SO_GCP_KMS,
	SO_AZURE_KV,
	SO_HCKMS,
	SO_AWS_PROFILE,
	SO_ENCRYPTION_CONTEXT,
	SO_SHAMIR_THRESHOLD,
	/* keys of a new group (groups add: repeatable, no variable) */
	SO_GROUP_AGE,
	SO_GROUP_PGP,
	SO_GROUP_HC_VAULT_TRANSIT,
	SO_GROUP_KMS,
	SO_GROUP_GCP_KMS,
	SO_GROUP_AZURE_KV,
	SO_GROUP_HCKMS,
	SO_GROUP_FILE,
	/* rotate: keys added and removed */
	SO_ADD_AGE,
	SO_RM_AGE,
	SO_ADD_PGP,
	SO_RM_PGP,
	SO_ADD_HC_VAULT_TRANSIT,
	SO_RM_HC_VAULT_TRANSIT,
	SO_ADD_KMS,
	SO_RM_KMS,
	SO_ADD_GCP_KMS,
	SO_RM_GCP_KMS,
	SO_ADD_AZURE_KV,
	SO_RM_AZURE_KV,
	SO_ADD_HCKMS,
	SO_RM_HCKMS,
	/* which values are encrypted */
	SO_UNENCRYPTED_SUFFIX,
	SO_ENCRYPTED_SUFFIX,
	SO_UNENCRYPTED_REGEX,
	SO_ENCRYPTED_REGEX,
	SO_UNENCRYPTED_COMMENT_REGEX,
	SO_ENCRYPTED_COMMENT_REGEX,
	SO_MAC_ONLY_ENCRYPTED,
	/* edit, set, unset */
	SO_SHOW_MASTER_KEYS,
	SO_VALUE_FILE,
	SO_VALUE_STDIN,
	SO_IDEMPOTENT,
	/* updatekeys, publish */
	SO_YES,
	/* exec-env, exec-file */
	SO_BACKGROUND,
	SO_PRISTINE,
	SO_ALLOW_UNENCRYPTED_ENV,
	SO_KEEP_FILE_RULE,
	SO_USER,
	SO_SAME_PROCESS,
	SO_NO_FIFO,
	SO_FILENAME,
	/* key services, version check */
	SO_KEYSERVICE,
	SO_ENABLE_LOCAL_KEYSERVICE,
	SO_DISABLE_VERSION_CHECK,
	SO_CHECK_FOR_UPDATES,
	/* the legacy top-level mode: sops -d|-e|-r|--set FILE */
	SO_DECRYPT,
	SO_ENCRYPT,
	SO_ROTATE,
	SO_SET,
	/* urfave/cli's application flags */
	SO_VERSION,
	/* gitseal's own */
	SO_RECURSIVE,
	SO_DROP_UNSUPPORTED_KEYS,
	SO_COUNT
};

extern const struct opt sops_options[SO_COUNT];

/* A sops-compatible command: the flags it declares (own, as sops does,
 * plus gitseal's additions), and the global flags sops reads for it
 * through the command line's lineage (urfave's lookup walks to the
 * application's flags when the command does not declare a flag): those
 * work before the command, and gitseal also takes them after it. */
struct sops_command {
	const char *name;     /* "decrypt", "groups add" */
	const char *args;     /* "[FILE]" */
	const char *summary;  /* one line, as in `gitseal --help` */
	const int *own;
	const int *inherits;
};

/* The command named name ("groups add" for a subcommand), or NULL. */
const struct sops_command *sops_command_find(const char *name);
/* sops's application flags, accepted before a command (and the legacy mode's). */
extern const int sops_global_options[];

/* The global flags given before the command (main.c parses them): read by
 * the sops-compatible commands. NULL when there were none. */
void sops_globals_set(const struct opt_value *values);
const struct opt_value *sops_globals(void);

/* Prints "usage: gitseal NAME [flags] ARGS", the summary and the flags. */
void sops_command_usage(FILE *f, const struct sops_command *cmd);

#endif
