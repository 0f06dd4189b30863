/* sops's names and defaults, in one place: what a sops file says and what
 * sops does when nothing is said. Format: ../shared/spec/sops-format.md;
 * each name cites where sops keeps it. No dependency: the stores, the
 * engine, the git filter and the Kubernetes code all include it. */
#ifndef GITSEAL_SOPS_FORMAT_H
#define GITSEAL_SOPS_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define SOPS_VERSION "3.13.2" /* the metadata layout gitseal writes */

enum {
	SOPS_DATA_KEY_SIZE = 32,
	SOPS_IV_SIZE = 32,
	SOPS_TAG_SIZE = 16,
};

/* The top-level entry that holds the metadata (stores.go SopsMetadata's
 * key "sops"); dotenv files flatten it into keys with SOPS_DOTENV_PREFIX
 * (stores/dotenv SopsPrefix), INI files into a [sops] section. */
#define SOPS_METADATA_KEY "sops"
#define SOPS_METADATA_KEY_LEN 4
#define SOPS_DOTENV_PREFIX "sops_"

static inline bool sops_is_metadata_key(const char *key, size_t len)
{
	return key && len == SOPS_METADATA_KEY_LEN && memcmp(key, SOPS_METADATA_KEY, len) == 0;
}

/* An encrypted value, ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]
 * (aes/cipher.go encryptedValueRegex). SOPS_ENC_OPEN is what marks a value
 * as meant to be encrypted, whatever follows. */
#define SOPS_ENC_OPEN "ENC["
#define SOPS_ENC_AES256_GCM "ENC[AES256_GCM,"
#define SOPS_ENC_DATA "ENC[AES256_GCM,data:"

/* Indentation, one convention from the --indent flag and .sops.yaml's
 * stores.<format>.indent down to the stores:
 * - SOPS_INDENT_DEFAULT (0, what a zeroed options struct says): the store's
 *   default, as sops writes it: YAML SOPS_YAML_INDENT spaces
 *   (stores/yaml IndentDefault), JSON a tab (stores/json reindentJSON);
 * - n > 0: n spaces;
 * - SOPS_INDENT_NONE: JSON with no indentation, what sops writes for an
 *   indent of 0 (YAML: the default, as sops's YAML store reads 0).
 * sops's JSON indent -1 (a tab) is the default. */
enum {
	SOPS_INDENT_DEFAULT = 0,
	SOPS_INDENT_NONE = -2,
	SOPS_YAML_INDENT = 4,
	/* more is refused: a .sops.yaml is repository content, and an indent
	 * of 200,000,000 took a minute and 3.5 GB to write a three-line file */
	SOPS_INDENT_MAX = 64,
};

/* sops's number for an indent (--indent, stores.<format>.indent) in the
 * convention above: for JSON -1 is the default (a tab) and 0 no
 * indentation (config.go NewStoresConfig, stores/json reindentJSON); for
 * YAML 0 is the default (stores/yaml getIndentation). What sops refuses (a
 * JSON indent below -1, a negative YAML one) is taken as the default. */
static inline int sops_indent_from_sops(int n, bool json)
{
	if (n > 0)
		return n;
	return json && n == 0 ? SOPS_INDENT_NONE : SOPS_INDENT_DEFAULT;
}

#endif
