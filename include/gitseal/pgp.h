/* PGP keys through GnuPG, as sops's PGP key source (pgp/keysource.go, which
 * drives the gpg binary): the data key (or a Shamir share) is encrypted to
 * a fingerprint with `gpg --encrypt -a` and recovered with `gpg -d`.
 *
 * The binary is $SOPS_GPG_EXEC, else `gpg` on PATH; GNUPGHOME is gpg's own
 * business. gitseal never asks for a PGP passphrase: gpg-agent and its
 * pinentry do. gpg is spawned without a shell; the key crosses to and from
 * it through pipes only; its stderr is kept for the one line that explains
 * a failure (never key material: gpg does not print it). Thread-safe. */
#ifndef GITSEAL_PGP_H
#define GITSEAL_PGP_H

#include <stddef.h>
#include <stdint.h>

#include "gitseal/secmem.h"

enum {
	PGP_ARMOR_MAX = 64 * 1024, /* an `enc` entry; one for an RSA-4096 key is ~1 KiB */
	PGP_REASON_MAX = 200,      /* the stderr line kept for a message */
};

/* A fingerprint as sops keeps it (NewMasterKeyFromFingerprint: spaces
 * removed), checked: hexadecimal digits (an optional 0x), 16 to 64 of
 * them, an optional final '!' (a subkey). *out is malloc'd. */
int pgp_fingerprint_parse(const char *text, char **out) __attribute__((warn_unused_result));

/* 0 when text is one ASCII-armored "PGP MESSAGE" block (RFC 4880 6.2):
 * header line, armor headers, a blank line, base64 lines, an optional
 * checksum line, the tail line; whitespace around it. GS_ERR_PARSE else. */
int pgp_armor_check(const char *text, size_t len) __attribute__((warn_unused_result));

/* The line of gpg's stderr that explains a failure: the last line that
 * starts with "gpg: ", without that prefix, printable ASCII only, at most
 * PGP_REASON_MAX bytes. Empty when there is none. */
void pgp_stderr_reason(const char *err, size_t len, char *out, size_t cap);

/* Encrypts plain for fingerprint (sops's gpg arguments); armored receives
 * the ASCII-armored message, surrounding whitespace trimmed. */
int pgp_encrypt(const char *fingerprint, const uint8_t *plain, size_t len, struct gs_buf *armored)
	__attribute__((warn_unused_result));

/* Decrypts an armored message with `gpg -d`; plain (a secure buffer) is
 * reset and receives the bytes. GS_ERR_KEY when gpg fails or cannot be
 * run (the message gives gpg's reason, or says that gpg is missing). */
int pgp_decrypt(const char *armored, size_t len, struct gs_buf *plain) __attribute__((warn_unused_result));

/* A private GnuPG home for one run (the cluster commands): a new 0700
 * directory under $TMPDIR into which every *.asc file of key_dir is
 * imported (`gpg --batch --import`), as Flux reads PGP keys from a mounted
 * Secret. Point GNUPGHOME at path; pgp_home_remove stops its gpg-agent and
 * removes it. */
struct pgp_home {
	char path[4096];
	size_t imported; /* key files */
};

int pgp_home_create(struct pgp_home *h, const char *key_dir) __attribute__((warn_unused_result));
void pgp_home_remove(struct pgp_home *h);

#endif
