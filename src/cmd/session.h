/* An opened sops file for commands that change it (edit, set, unset,
 * rotate, updatekeys, exec-*): the encrypted original (kept for reuse),
 * its plaintext document, and the identities that opened it. */
#ifndef GITSEAL_CMD_SESSION_H
#define GITSEAL_CMD_SESSION_H

#include "gitseal/age.h"
#include "gitseal/doc.h"
#include "gitseal/sops.h"
#include "sops_cli.h"

struct sops_session {
	enum doc_format format;
	struct gs_buf cipher_text;
	struct doc encrypted;    /* as read */
	struct doc plain;        /* decrypted, sops entry removed */
	struct age_identity_list ids;
	struct sops_key_group *groups; /* from the file's metadata: age and vault keys */
	size_t group_count;
	int shamir_threshold;
	struct sops_selection selection; /* from the file's metadata */
	bool drop_unsupported_keys;      /* given to sops_session_seal (--drop-unsupported-keys) */
};

void sops_session_init(struct sops_session *s);
/* Reads and decrypts the file named on the command line; the MAC is checked. */
int sops_session_open(struct sops_session *s, const struct sops_cli *c) __attribute__((warn_unused_result));
/* Re-encrypts doc (a plaintext document of the same file) for the given
 * key groups and threshold (groups NULL: the file's own) against the
 * encrypted original, so the data key and unchanged values are kept; with
 * fresh_key, everything is encrypted anew under a new data key (rotate). */
int sops_session_seal(struct sops_session *s, struct doc *doc, const struct sops_key_group *groups,
		      size_t group_count, int shamir_threshold, bool fresh_key, struct gs_buf *out)
	__attribute__((warn_unused_result));
void sops_session_release(struct sops_session *s);

/* Key group lists owned by commands. */
int key_group_add_age(struct sops_key_group *g, const char *recipient) __attribute__((warn_unused_result));
int key_group_add_vault(struct sops_key_group *g, const char *uri) __attribute__((warn_unused_result));
int key_group_add_pgp(struct sops_key_group *g, const char *fingerprint) __attribute__((warn_unused_result));
int key_group_add_foreign(struct sops_key_group *g, const char *key) __attribute__((warn_unused_result));
bool key_group_has(const struct sops_key_group *g, const char *key);
/* Deep copy of n groups into *out. */
int key_groups_copy(const struct sops_key_group *src, size_t n, struct sops_key_group **out)
	__attribute__((warn_unused_result));
/* True when b holds a's keys in the same groups: the same age, Vault and
 * PGP keys, and at least a's keys of other types (gitseal keeps those it
 * cannot wrap for and never removes one). */
bool key_groups_equal(const struct sops_key_group *a, size_t na, const struct sops_key_group *b,
		      size_t nb);
void key_groups_free(struct sops_key_group *g, size_t n);

#endif
