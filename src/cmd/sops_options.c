/* sops 3.13.2's flags (cmd/sops/main.go), each declared once. Help lines
 * are gitseal's; names, aliases, kinds and variables are sops's. */
#include <string.h>

#include "sops_options.h"

#define TYPES "yaml, json, dotenv, ini or binary (default: from the file name)"
/* Flags sops has and gitseal refuses (cloud KMS keys, remote key
 * services) are hidden: taken, to say why they cannot work, not listed. */
#define KMS_NOTE "; gitseal cannot wrap for these keys"

const struct opt sops_options[SO_COUNT] = {
	[SO_IN_PLACE] = { "in-place", "i", OPT_BOOL, NULL, NULL, "write the result back to the file", false },
	[SO_OUTPUT] = { "output", NULL, OPT_STRING, "FILE", NULL, "write the result to FILE", false },
	[SO_INPUT_TYPE] = { "input-type", NULL, OPT_STRING, "TYPE", NULL, "the input format: " TYPES, false },
	[SO_OUTPUT_TYPE] = { "output-type", NULL, OPT_STRING, "TYPE", NULL, "the output format: " TYPES, false },
	[SO_FILENAME_OVERRIDE] = { "filename-override", NULL, OPT_STRING, "NAME", NULL,
				   "use NAME for the format and the creation rule (needed for stdin)", false },
	[SO_EXTRACT] = { "extract", NULL, OPT_STRING, "PATH", NULL,
			 "print one value or branch: --extract '[\"key\"][0]'", false },
	[SO_IGNORE_MAC] = { "ignore-mac", NULL, OPT_BOOL, NULL, NULL, "do not check the MAC", false },
	[SO_DECRYPTION_ORDER] = { "decryption-order", NULL, OPT_STRING, "TYPES", "SOPS_DECRYPTION_ORDER",
				  "key types to try first, comma-separated (age,pgp,hc_vault)", false },
	[SO_INDENT] = { "indent", NULL, OPT_INT, "N", NULL, "indent YAML and JSON output by N spaces", false },
	[SO_CONFIG] = { "config", NULL, OPT_STRING, "PATH", "SOPS_CONFIG",
			"the .sops.yaml to use (else searched from the current directory up)", false },
	[SO_VERBOSE] = { "verbose", NULL, OPT_BOOL, NULL, NULL, "say on stderr what is done", false },

	[SO_AGE] = { "age", "a", OPT_LIST, "RECIPIENTS", "SOPS_AGE_RECIPIENTS", "age recipients, comma-separated", false },
	[SO_PGP] = { "pgp", "p", OPT_LIST, "FINGERPRINTS", "SOPS_PGP_FP", "PGP fingerprints, comma-separated", false },
	[SO_HC_VAULT_TRANSIT] = { "hc-vault-transit", NULL, OPT_LIST, "URIS", "SOPS_VAULT_URIS",
				  "Vault transit key URIs, comma-separated", false },
	[SO_KMS] = { "kms", "k", OPT_STRING, "ARNS", "SOPS_KMS_ARN", "AWS KMS ARNs" KMS_NOTE, true },
	[SO_GCP_KMS] = { "gcp-kms", NULL, OPT_STRING, "IDS", "SOPS_GCP_KMS_IDS", "GCP KMS key IDs" KMS_NOTE, true },
	[SO_AZURE_KV] = { "azure-kv", NULL, OPT_STRING, "URLS", "SOPS_AZURE_KEYVAULT_URLS",
			  "Azure Key Vault key URLs" KMS_NOTE, true },
	[SO_HCKMS] = { "hckms", NULL, OPT_STRING, "IDS", "SOPS_HUAWEICLOUD_KMS_IDS",
		       "Huawei Cloud KMS key IDs" KMS_NOTE, true },
	[SO_AWS_PROFILE] = { "aws-profile", NULL, OPT_STRING, "NAME", NULL, "the AWS profile for KMS" KMS_NOTE, true },
	[SO_ENCRYPTION_CONTEXT] = { "encryption-context", NULL, OPT_STRING, "PAIRS", NULL,
				    "AWS KMS encryption context" KMS_NOTE, true },
	[SO_SHAMIR_THRESHOLD] = { "shamir-secret-sharing-threshold", NULL, OPT_INT, "N", NULL,
				  "how many key groups are needed to decrypt", false },

	[SO_GROUP_AGE] = { "age", NULL, OPT_LIST, "RECIPIENT", NULL, "an age recipient of the new group (repeatable)", false },
	[SO_GROUP_PGP] = { "pgp", NULL, OPT_LIST, "FINGERPRINT", NULL, "a PGP key of the new group (repeatable)", false },
	[SO_GROUP_HC_VAULT_TRANSIT] = { "hc-vault-transit", NULL, OPT_LIST, "URI", NULL,
					"a Vault transit key of the new group (repeatable)", false },
	[SO_GROUP_KMS] = { "kms", NULL, OPT_LIST, "ARN", NULL, "an AWS KMS key" KMS_NOTE, true },
	[SO_GROUP_GCP_KMS] = { "gcp-kms", NULL, OPT_LIST, "ID", NULL, "a GCP KMS key" KMS_NOTE, true },
	[SO_GROUP_AZURE_KV] = { "azure-kv", NULL, OPT_LIST, "URL", NULL, "an Azure Key Vault key" KMS_NOTE, true },
	[SO_GROUP_HCKMS] = { "hckms", NULL, OPT_LIST, "ID", NULL, "a Huawei Cloud KMS key" KMS_NOTE, true },
	[SO_GROUP_FILE] = { "file", "f", OPT_STRING, "FILE", NULL, "the sops file", false },

	[SO_ADD_AGE] = { "add-age", NULL, OPT_LIST, "RECIPIENTS", NULL, "add age recipients", false },
	[SO_RM_AGE] = { "rm-age", NULL, OPT_LIST, "RECIPIENTS", NULL, "remove age recipients", false },
	[SO_ADD_PGP] = { "add-pgp", NULL, OPT_LIST, "FINGERPRINTS", NULL, "add PGP keys", false },
	[SO_RM_PGP] = { "rm-pgp", NULL, OPT_LIST, "FINGERPRINTS", NULL, "remove PGP keys", false },
	[SO_ADD_HC_VAULT_TRANSIT] = { "add-hc-vault-transit", NULL, OPT_LIST, "URIS", NULL, "add Vault transit keys", false },
	[SO_RM_HC_VAULT_TRANSIT] = { "rm-hc-vault-transit", NULL, OPT_LIST, "URIS", NULL,
				     "remove Vault transit keys", false },
	[SO_ADD_KMS] = { "add-kms", NULL, OPT_STRING, "ARNS", NULL, "add AWS KMS keys" KMS_NOTE, true },
	[SO_RM_KMS] = { "rm-kms", NULL, OPT_STRING, "ARNS", NULL, "remove AWS KMS keys" KMS_NOTE, true },
	[SO_ADD_GCP_KMS] = { "add-gcp-kms", NULL, OPT_STRING, "IDS", NULL, "add GCP KMS keys" KMS_NOTE, true },
	[SO_RM_GCP_KMS] = { "rm-gcp-kms", NULL, OPT_STRING, "IDS", NULL, "remove GCP KMS keys" KMS_NOTE, true },
	[SO_ADD_AZURE_KV] = { "add-azure-kv", NULL, OPT_STRING, "URLS", NULL, "add Azure Key Vault keys" KMS_NOTE, true },
	[SO_RM_AZURE_KV] = { "rm-azure-kv", NULL, OPT_STRING, "URLS", NULL, "remove Azure Key Vault keys" KMS_NOTE, true },
	[SO_ADD_HCKMS] = { "add-hckms", NULL, OPT_STRING, "IDS", NULL, "add Huawei Cloud KMS keys" KMS_NOTE, true },
	[SO_RM_HCKMS] = { "rm-hckms", NULL, OPT_STRING, "IDS", NULL, "remove Huawei Cloud KMS keys" KMS_NOTE, true },

	[SO_UNENCRYPTED_SUFFIX] = { "unencrypted-suffix", NULL, OPT_STRING, "SUFFIX", NULL,
				    "leave values under keys ending in SUFFIX in plaintext", false },
	[SO_ENCRYPTED_SUFFIX] = { "encrypted-suffix", NULL, OPT_STRING, "SUFFIX", NULL,
				  "encrypt only values under keys ending in SUFFIX", false },
	[SO_UNENCRYPTED_REGEX] = { "unencrypted-regex", NULL, OPT_STRING, "REGEX", NULL,
				   "leave values under keys matching REGEX in plaintext", false },
	[SO_ENCRYPTED_REGEX] = { "encrypted-regex", NULL, OPT_STRING, "REGEX", NULL,
				 "encrypt only values under keys matching REGEX", false },
	[SO_UNENCRYPTED_COMMENT_REGEX] = { "unencrypted-comment-regex", NULL, OPT_STRING, "REGEX", NULL,
					   "leave values after a comment matching REGEX in plaintext", false },
	[SO_ENCRYPTED_COMMENT_REGEX] = { "encrypted-comment-regex", NULL, OPT_STRING, "REGEX", NULL,
					 "encrypt only values after a comment matching REGEX", false },
	[SO_MAC_ONLY_ENCRYPTED] = { "mac-only-encrypted", NULL, OPT_BOOL, NULL, NULL,
				    "compute the MAC over the encrypted values only", false },

	[SO_SHOW_MASTER_KEYS] = { "show-master-keys", "s", OPT_BOOL, NULL, NULL,
				  "show the sops metadata in the editor (read-only)", false },
	[SO_VALUE_FILE] = { "value-file", NULL, OPT_BOOL, NULL, NULL, "VALUE is a file holding the value", false },
	[SO_VALUE_STDIN] = { "value-stdin", NULL, OPT_BOOL, NULL, NULL, "read the value from standard input", false },
	[SO_IDEMPOTENT] = { "idempotent", NULL, OPT_BOOL, NULL, NULL,
			    "do nothing when the value is already so (set) or absent (unset)", false },

	[SO_YES] = { "yes", "y", OPT_BOOL, NULL, NULL, "do not ask: approve the changes", false },

	[SO_BACKGROUND] = { "background", NULL, OPT_BOOL, NULL, NULL,
			    "do not wait for the command (deprecated in sops)", false },
	[SO_PRISTINE] = { "pristine", NULL, OPT_BOOL, NULL, NULL,
			  "give the command only the decrypted values as its environment", false },
	[SO_KEEP_FILE_RULE] = { "keep-file-rule", NULL, OPT_BOOL, NULL, NULL,
				"new or changed values in clear where the file's own rule (or a comment under "
				"unencrypted_comment_regex) says so, though encrypting the file afresh (.sops.yaml's "
				"rule, else the default) would encrypt them", false },
	[SO_ALLOW_UNENCRYPTED_ENV] = { "allow-unencrypted-env", NULL, OPT_BOOL, NULL, NULL,
				       "export values in clear too (whoever edits the file chooses their names)", false },
	[SO_USER] = { "user", NULL, OPT_STRING, "NAME", NULL, "run the command as user NAME (as root)", false },
	[SO_SAME_PROCESS] = { "same-process", NULL, OPT_BOOL, NULL, NULL,
			      "run the command in place of gitseal (exec), not as a child", false },
	[SO_NO_FIFO] = { "no-fifo", NULL, OPT_BOOL, NULL, NULL, "a private regular file instead of a FIFO", false },
	[SO_FILENAME] = { "filename", NULL, OPT_STRING, "NAME", NULL,
			  "the name of the plaintext file in its private directory", false },

	[SO_KEYSERVICE] = { "keyservice", NULL, OPT_LIST, "URI", "SOPS_KEYSERVICE",
			    "a remote key service: not supported by gitseal", true },
	[SO_ENABLE_LOCAL_KEYSERVICE] = { "enable-local-keyservice", NULL, OPT_BOOL, NULL,
					 "SOPS_ENABLE_LOCAL_KEYSERVICE",
					 "use the local key service (gitseal's only one; always on)", true },
	[SO_DISABLE_VERSION_CHECK] = { "disable-version-check", NULL, OPT_BOOL, NULL, "SOPS_DISABLE_VERSION_CHECK",
				       "accepted: gitseal never checks for updates", true },
	[SO_CHECK_FOR_UPDATES] = { "check-for-updates", NULL, OPT_BOOL, NULL, NULL,
				   "accepted: gitseal never checks for updates", true },

	[SO_DECRYPT] = { "decrypt", "d", OPT_BOOL, NULL, NULL, "decrypt FILE to standard output", false },
	[SO_ENCRYPT] = { "encrypt", "e", OPT_BOOL, NULL, NULL, "encrypt FILE to standard output", false },
	[SO_ROTATE] = { "rotate", "r", OPT_BOOL, NULL, NULL, "a new data key for FILE", false },
	[SO_SET] = { "set", NULL, OPT_STRING, "'PATH VALUE'", NULL,
		     "set one value of FILE: --set '[\"key\"] \"value\"'", false },

	[SO_VERSION] = { "version", "v", OPT_BOOL, NULL, NULL, "print the version", false },

	[SO_RECURSIVE] = { "recursive", "r", OPT_BOOL, NULL, NULL,
			   "every sops file below the directories given (gitseal)", false },
	[SO_DROP_UNSUPPORTED_KEYS] = { "drop-unsupported-keys", NULL, OPT_BOOL, NULL, NULL,
				       "go on without key entries gitseal cannot wrap for, once confirmed (gitseal)", false },
};

#define KEYSERVICE SO_ENABLE_LOCAL_KEYSERVICE, SO_KEYSERVICE
#define NEW_FILE_KEYS SO_AGE, SO_PGP, SO_HC_VAULT_TRANSIT, SO_KMS, SO_AWS_PROFILE, SO_GCP_KMS, SO_HCKMS, \
	SO_AZURE_KV, SO_ENCRYPTION_CONTEXT, SO_SHAMIR_THRESHOLD
#define SELECTION SO_UNENCRYPTED_SUFFIX, SO_ENCRYPTED_SUFFIX, SO_UNENCRYPTED_REGEX, SO_ENCRYPTED_REGEX
#define COMMENT_SELECTION SO_UNENCRYPTED_COMMENT_REGEX, SO_ENCRYPTED_COMMENT_REGEX, SO_MAC_ONLY_ENCRYPTED

/* cmd/sops/main.go, the Flags of each command */
static const int decrypt_own[] = { SO_IN_PLACE, SO_EXTRACT, SO_OUTPUT, SO_INPUT_TYPE, SO_OUTPUT_TYPE, SO_IGNORE_MAC,
				   SO_FILENAME_OVERRIDE, SO_DECRYPTION_ORDER, KEYSERVICE, OPT_END };
static const int encrypt_own[] = { SO_IN_PLACE, SO_OUTPUT, NEW_FILE_KEYS, SO_INPUT_TYPE, SO_OUTPUT_TYPE, SELECTION,
				   SO_FILENAME_OVERRIDE, KEYSERVICE, SO_DROP_UNSUPPORTED_KEYS, SO_YES, OPT_END };
static const int rotate_own[] = {
	SO_IN_PLACE, SO_OUTPUT, SO_INPUT_TYPE, SO_OUTPUT_TYPE, SO_ENCRYPTION_CONTEXT,
	SO_ADD_AGE, SO_RM_AGE, SO_ADD_PGP, SO_RM_PGP, SO_ADD_HC_VAULT_TRANSIT, SO_RM_HC_VAULT_TRANSIT,
	SO_ADD_KMS, SO_RM_KMS, SO_ADD_GCP_KMS, SO_RM_GCP_KMS, SO_ADD_AZURE_KV, SO_RM_AZURE_KV, SO_ADD_HCKMS, SO_RM_HCKMS,
	SO_FILENAME_OVERRIDE, SO_DECRYPTION_ORDER, KEYSERVICE, SO_RECURSIVE, SO_YES, SO_DROP_UNSUPPORTED_KEYS,
	SO_SHAMIR_THRESHOLD, /* gitseal's: the user's own, instead of the metadata's (outside the MAC) */
	OPT_END
};
static const int edit_own[] = { NEW_FILE_KEYS, SO_KEEP_FILE_RULE, SO_INPUT_TYPE, SO_OUTPUT_TYPE, SELECTION, SO_SHOW_MASTER_KEYS,
				SO_IGNORE_MAC, SO_DECRYPTION_ORDER, KEYSERVICE, SO_DROP_UNSUPPORTED_KEYS, SO_YES, OPT_END };
static const int set_own[] = { SO_KEEP_FILE_RULE, SO_INPUT_TYPE, SO_OUTPUT_TYPE, SO_VALUE_FILE, SO_VALUE_STDIN, SO_SHAMIR_THRESHOLD,
			       SO_IGNORE_MAC, SO_DECRYPTION_ORDER, SO_IDEMPOTENT, KEYSERVICE, OPT_END };
static const int unset_own[] = { SO_INPUT_TYPE, SO_OUTPUT_TYPE, SO_SHAMIR_THRESHOLD, SO_IGNORE_MAC,
				 SO_DECRYPTION_ORDER, SO_IDEMPOTENT, KEYSERVICE, OPT_END };
static const int updatekeys_own[] = { SO_YES, SO_INPUT_TYPE, KEYSERVICE, SO_RECURSIVE, SO_DROP_UNSUPPORTED_KEYS,
				      OPT_END };
static const int groups_add_own[] = { SO_GROUP_FILE, SO_GROUP_PGP, SO_GROUP_KMS, SO_AWS_PROFILE, SO_GROUP_GCP_KMS,
				      SO_GROUP_HCKMS, SO_GROUP_AZURE_KV, SO_GROUP_HC_VAULT_TRANSIT, SO_GROUP_AGE,
				      SO_IN_PLACE, SO_SHAMIR_THRESHOLD, SO_ENCRYPTION_CONTEXT, KEYSERVICE,
				      SO_DROP_UNSUPPORTED_KEYS, SO_YES, OPT_END };
static const int groups_delete_own[] = { SO_GROUP_FILE, SO_IN_PLACE, SO_SHAMIR_THRESHOLD, KEYSERVICE, OPT_END };
static const int filestatus_own[] = { SO_INPUT_TYPE, OPT_END };
static const int exec_env_own[] = { SO_BACKGROUND, SO_PRISTINE, SO_ALLOW_UNENCRYPTED_ENV, SO_USER, SO_SAME_PROCESS, SO_DECRYPTION_ORDER,
				    KEYSERVICE, OPT_END };
static const int exec_file_own[] = { SO_BACKGROUND, SO_NO_FIFO, SO_USER, SO_INPUT_TYPE, SO_OUTPUT_TYPE, SO_FILENAME,
				     SO_DECRYPTION_ORDER, KEYSERVICE, OPT_END };

/* The global flags each command reads without declaring them (c.String,
 * c.Bool, c.GlobalString... in main.go and the subcommand packages). */
static const int common_inherits[] = { SO_CONFIG, SO_VERBOSE, SO_INDENT, OPT_END };
static const int new_file_inherits[] = { SO_CONFIG, SO_VERBOSE, SO_INDENT, COMMENT_SELECTION, OPT_END };
static const int rotate_inherits[] = { SO_CONFIG, SO_VERBOSE, SO_INDENT, SO_IGNORE_MAC, OPT_END };
static const int updatekeys_inherits[] = { SO_CONFIG, SO_VERBOSE, SO_SHAMIR_THRESHOLD, OPT_END };
static const int groups_inherits[] = { SO_CONFIG, SO_VERBOSE, SO_INDENT, SO_INPUT_TYPE, SO_OUTPUT_TYPE, OPT_END };
static const int filestatus_inherits[] = { SO_CONFIG, SO_VERBOSE, OPT_END };
static const int exec_env_inherits[] = { SO_CONFIG, SO_VERBOSE, SO_IGNORE_MAC, SO_INPUT_TYPE, OPT_END };
static const int exec_file_inherits[] = { SO_CONFIG, SO_VERBOSE, SO_INDENT, SO_IGNORE_MAC, OPT_END };

static const struct sops_command commands[] = {
	{ "encrypt", "[FILE]", "encrypt the values of a YAML/JSON/dotenv/INI/binary file (sops format)",
	  encrypt_own, new_file_inherits },
	{ "decrypt", "[FILE]", "decrypt a sops file (--extract for one value)", decrypt_own, common_inherits },
	{ "edit", "FILE", "edit a sops file in $SOPS_EDITOR/$EDITOR; only changed values change", edit_own,
	  new_file_inherits },
	{ "set", "FILE PATH VALUE", "set one value: gitseal set FILE '[\"key\"]' JSON-VALUE", set_own,
	  common_inherits },
	{ "unset", "FILE PATH", "remove one value: gitseal unset FILE '[\"key\"]'", unset_own, common_inherits },
	{ "rotate", "FILE", "new data key, every value re-encrypted (--add-age, --rm-age; -r DIR: a tree)",
	  rotate_own, rotate_inherits },
	{ "updatekeys", "FILE...",
	  "re-wrap the data key for the keys of the matching creation rule (-r DIR -y: a tree)", updatekeys_own,
	  updatekeys_inherits },
	{ "groups add", "", "add a key group to a sops file", groups_add_own, groups_inherits },
	{ "groups delete", "INDEX", "delete the key group at INDEX (0-based)", groups_delete_own, groups_inherits },
	{ "filestatus", "FILE", "print {\"encrypted\":true|false}", filestatus_own, filestatus_inherits },
	{ "exec-env", "FILE COMMAND", "run a command (one argument, run by sh) with the top-level values in its "
	  "environment", exec_env_own, exec_env_inherits },
	{ "exec-file", "FILE COMMAND", "run a command (one argument, run by sh) with the plaintext in a FIFO ({} in "
	  "the command)", exec_file_own, exec_file_inherits },
};

/* app.Flags in cmd/sops/main.go */
const int sops_global_options[] = {
	SO_DECRYPT, SO_ENCRYPT, SO_ROTATE, SO_DISABLE_VERSION_CHECK, SO_CHECK_FOR_UPDATES,
	SO_KMS, SO_AWS_PROFILE, SO_GCP_KMS, SO_HCKMS, SO_AZURE_KV, SO_HC_VAULT_TRANSIT, SO_PGP, SO_AGE,
	SO_IN_PLACE, SO_EXTRACT, SO_INPUT_TYPE, SO_OUTPUT_TYPE, SO_SHOW_MASTER_KEYS,
	SO_ADD_GCP_KMS, SO_RM_GCP_KMS, SO_ADD_HCKMS, SO_RM_HCKMS, SO_ADD_AZURE_KV, SO_RM_AZURE_KV, SO_ADD_KMS, SO_RM_KMS,
	SO_ADD_HC_VAULT_TRANSIT, SO_RM_HC_VAULT_TRANSIT, SO_ADD_AGE, SO_RM_AGE, SO_ADD_PGP, SO_RM_PGP,
	SO_IGNORE_MAC, SO_MAC_ONLY_ENCRYPTED, SELECTION, SO_UNENCRYPTED_COMMENT_REGEX, SO_ENCRYPTED_COMMENT_REGEX,
	SO_CONFIG, SO_ENCRYPTION_CONTEXT, SO_SET, SO_SHAMIR_THRESHOLD, SO_INDENT, SO_VERBOSE, SO_OUTPUT,
	SO_FILENAME_OVERRIDE, SO_DECRYPTION_ORDER, KEYSERVICE, SO_VERSION,
	/* gitseal's, for the legacy mode */
	SO_DROP_UNSUPPORTED_KEYS, SO_YES, OPT_END
};

static const struct opt_value *globals;

void sops_globals_set(const struct opt_value *values)
{
	globals = values;
}

const struct opt_value *sops_globals(void)
{
	return globals;
}

const struct sops_command *sops_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

void sops_command_usage(FILE *f, const struct sops_command *cmd)
{
	fprintf(f, "usage: gitseal %s [flags]%s%s\n%s\n\nflags:\n", cmd->name, *cmd->args ? " " : "", cmd->args,
		cmd->summary);
	opt_usage(f, sops_options, cmd->own);
	fputs("  -h, --help                      print this help\n"
	      "\nglobal flags (before the command, as in sops, or after it):\n", f);
	opt_usage(f, sops_options, cmd->inherits);
	fputs("\nsops's cloud KMS and key-service flags are refused: gitseal cannot use those keys.\n"
	      "exit codes as sops (docs/exit-codes.md); every difference from sops: docs/sops-parity.md\n", f);
}
