/* The sops engine: encrypts and decrypts document trees value by value
 * (AES-256-GCM, path as AAD), computes and checks the MAC, reads and writes
 * the metadata, and re-encrypts against a previous version (reuse).
 * Format: ../shared/spec/sops-format.md. */
#ifndef GITSEAL_SOPS_H
#define GITSEAL_SOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gitseal/age.h"
#include "gitseal/doc.h"
#include "gitseal/secmem.h"

#define SOPS_VERSION "3.13.2" /* the metadata layout gitseal writes */

enum {
	SOPS_DATA_KEY_SIZE = 32,
	SOPS_IV_SIZE = 32,
	SOPS_TAG_SIZE = 16,
};

/* Which leaves are encrypted; at most one option is set. */
enum sops_selection_kind {
	SOPS_SEL_NONE,
	SOPS_SEL_UNENCRYPTED_SUFFIX,
	SOPS_SEL_ENCRYPTED_SUFFIX,
	SOPS_SEL_UNENCRYPTED_REGEX,
	SOPS_SEL_ENCRYPTED_REGEX,
	SOPS_SEL_UNENCRYPTED_COMMENT_REGEX,
	SOPS_SEL_ENCRYPTED_COMMENT_REGEX,
};

/* The metadata key (and .sops.yaml option) of a selection kind, e.g.
 * "encrypted_regex"; NULL for SOPS_SEL_NONE. */
const char *sops_selection_key(enum sops_selection_kind kind);

struct sops_selection {
	enum sops_selection_kind kind;
	char *value; /* malloc'd; suffix or regex */
	bool mac_only_encrypted;
};

/* One key group, as strings: age recipients (written to the metadata as
 * they are), Vault transit URIs (https://HOST/v1/ENGINE/keys/NAME), PGP
 * fingerprints, and keys of types gitseal cannot wrap for ("foreign":
 * sops_foreign_key_describe's "TYPE ID" form). A foreign key can only be
 * kept from the previous version of a file while its data key stays. */
struct sops_key_group {
	char **age;          /* recipient strings, trimmed, de-duplicated within key_groups */
	size_t age_count;
	char **vault_uris;   /* hc_vault_transit_uri */
	size_t vault_count;
	char **pgp;          /* fingerprints, spaces removed (sops) */
	size_t pgp_count;
	char **foreign;      /* "kms ARN", "gcp_kms ID", "azure_kv URL", "hckms ID", "TYPE #N" */
	size_t foreign_count;
};

/* "TYPE ID" for one metadata entry of a key type gitseal cannot wrap for
 * (type as in the metadata: kms, gcp_kms, azure_kv, hckms, or another
 * name; index tells an entry of an unknown type apart). *out malloc'd. */
int sops_foreign_key_describe(const char *type, const struct doc_node *entry, size_t index, char **out)
	__attribute__((warn_unused_result));

/* Who may read a file and which values to seal. With several key groups
 * the data key is split with Shamir (spec 9): shamir_threshold groups
 * (0: all of them) are needed to decrypt. */
struct sops_encrypt_opts {
	const struct sops_key_group *groups; /* NULL: the one group of recipients below */
	size_t group_count;
	const struct age_recipient_list *recipients; /* shorthand for one age-only group */
	char **recipient_strings;                     /* as written to metadata, same order */
	struct sops_selection selection;
	int shamir_threshold;
	/* With previous: a new data key all the same (rotate); previous only
	 * tells which key entries would be lost. */
	bool new_data_key;
	/* Key entries gitseal cannot wrap for (kms, gcp_kms, azure_kv, hckms,
	 * unknown types) are kept from previous while the data key stays and
	 * the key groups are not split anew; otherwise, and for such keys named
	 * by the groups but absent from previous, encryption fails with
	 * GS_ERR_UNSUPPORTED_KEY unless this is set (then they are left out). */
	bool drop_unsupported_keys;
};

/* Identities for decryption, gathered from the sops environment
 * (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD,
 * SOPS_AGE_SSH_PRIVATE_KEY_FILE, the default keys.txt). */
int sops_identities_load(struct age_identity_list *ids) __attribute__((warn_unused_result));

/* Reading an encrypted document without its data key (inspect.c). The
 * metadata is outside the MAC: these are claims, the caller decides what
 * to trust. */
struct sops_key_summary {
	struct sops_key_group *groups; /* malloc'd strings */
	size_t group_count;
	int shamir_threshold;
	struct sops_selection selection; /* value malloc'd */
	size_t other_keys;               /* entries of types gitseal cannot wrap (kms, ...): the groups' foreign */
};

/* A group's keys as one list (age recipients, PGP fingerprints, Vault
 * URIs: the names a user accepts); keys of other types are not in it. */
size_t sops_key_group_size(const struct sops_key_group *g);
const char *sops_key_group_key(const struct sops_key_group *g, size_t i);

/* The keys and selection rule the metadata names. */
int sops_doc_keys(const struct doc *d, struct sops_key_summary *out) __attribute__((warn_unused_result));
void sops_key_summary_release(struct sops_key_summary *k);
/* 0 when every value that sel (the default rule when its kind is NONE)
 * seals is a well-formed ENC[...] value; GS_ERR_DECRYPT_VALUE and the key
 * path of the first one in clear (in sops's AAD form, "db:password")
 * written to where otherwise. */
int sops_doc_check_sealed(struct doc *d, const struct sops_selection *sel, char *where, size_t where_size)
	__attribute__((warn_unused_result));
/* sops_decrypt_doc, also giving a public name for the data key (a keyed
 * BLAKE2b of it, which tells nothing about the key), so that a caller can
 * recognise keys it made without keeping them. */
enum { SOPS_KEY_ID_SIZE = 32 };
struct sops_decrypt_opts;
int sops_decrypt_doc_id(struct doc *d, const struct age_identity_list *ids, const struct sops_decrypt_opts *opts,
			uint8_t id[SOPS_KEY_ID_SIZE]) __attribute__((warn_unused_result));

/* Encrypts a plaintext document in place (values become ENC[...], the
 * sops metadata entry is appended to every branch). With previous (an
 * encrypted document of the same file, may be NULL) and identities that
 * open it, the reuse rules apply: same data key, unchanged values keep
 * their ciphertext, lastmodified/mac kept when nothing changed. */
int sops_encrypt_doc(struct doc *d, const struct sops_encrypt_opts *opts, struct doc *previous,
		     const struct age_identity_list *ids) __attribute__((warn_unused_result));

struct sops_decrypt_opts {
	bool ignore_mac;
};

/* Decrypts an encrypted document in place: values become plaintext, the
 * sops entry is removed. The MAC is checked before this returns success;
 * on any failure the document must be discarded. */
int sops_decrypt_doc(struct doc *d, const struct age_identity_list *ids,
		     const struct sops_decrypt_opts *opts) __attribute__((warn_unused_result));

/* True when the document has a sops metadata entry. */
bool sops_doc_is_encrypted(const struct doc *d);

/* File level: store + rules + engine, for commands, the git filter and the
 * cluster renderer. */
struct sops_config;

struct sops_file_encrypt_opts {
	enum doc_format format;
	const char *rule_path;              /* matched against the creation rules */
	const struct sops_config *config;   /* may be NULL */
	const char *const *age_recipients;  /* from flags or env: replace the rule's keys */
	size_t age_recipient_count;
	const char *const *vault_uris;      /* likewise (--hc-vault-transit) */
	size_t vault_uri_count;
	const char *const *pgp_fingerprints; /* likewise (--pgp) */
	size_t pgp_count;
	bool drop_unsupported_keys;         /* see sops_encrypt_opts */
	int shamir_threshold;               /* non-zero: beats the rule's */
	struct sops_selection selection;    /* from flags: overrides the rule's */
	const uint8_t *previous;            /* previous encrypted version (reuse), or NULL */
	size_t previous_len;
	const struct age_identity_list *identities; /* to open previous */
	int indent;                         /* 0 = the store's default */
	bool convert;                       /* write output_format instead of format */
	enum doc_format output_format;
	bool *used_k8s_default;             /* if set: told whether the Secret default applied */
};

int sops_file_encrypt(const uint8_t *plain, size_t len, const struct sops_file_encrypt_opts *o,
		      struct gs_buf *out) __attribute__((warn_unused_result));
int sops_file_decrypt(const uint8_t *cipher, size_t len, enum doc_format format,
		      const struct age_identity_list *ids, const struct sops_decrypt_opts *o,
		      struct gs_buf *out) __attribute__((warn_unused_result));

#endif
