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
	char **recipients;       /* from the file's metadata */
	size_t recipient_count;
	struct sops_selection selection; /* from the file's metadata */
};

void sops_session_init(struct sops_session *s);
/* Reads and decrypts the file named on the command line; the MAC is checked. */
int sops_session_open(struct sops_session *s, const struct sops_cli *c) __attribute__((warn_unused_result));
/* Re-encrypts doc (a plaintext document of the same file) for the given
 * recipients (NULL: the file's own) against the encrypted original, so
 * unchanged values keep their ciphertext; with fresh_key, everything is
 * encrypted anew under a new data key (rotate). */
int sops_session_seal(struct sops_session *s, struct doc *doc, char **recipients, size_t count,
		      bool fresh_key, struct gs_buf *out) __attribute__((warn_unused_result));
void sops_session_release(struct sops_session *s);

#endif
