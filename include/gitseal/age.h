/* age v1 (age-encryption.org/v1): recipients, identities, streaming
 * encryption and decryption, ASCII armor.
 *
 * Supported recipient types: X25519 (age1...), the post-quantum hybrid
 * mlkem768x25519 (age1pq1...), scrypt passphrases, ssh-ed25519 and
 * ssh-rsa (OpenSSH public keys). Identities: native identity lines
 * (the X25519 and hybrid "AGE-SECRET-KEY-" Bech32 forms), OpenSSH private
 * keys (passphrase-protected ones too), unencrypted PEM private keys,
 * passphrases. Unknown stanza types are skipped. */
#ifndef GITSEAL_AGE_H
#define GITSEAL_AGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gitseal/io.h"

enum {
	AGE_FILE_KEY_SIZE = 16,
	AGE_CHUNK_SIZE = 64 * 1024,
	AGE_SCRYPT_LOG_N_DEFAULT = 18,
	AGE_SCRYPT_LOG_N_MAX = 22,
	AGE_X25519_RECIPIENT_LEN = 62,
	AGE_X25519_IDENTITY_LEN = 74,
	AGE_PQ_RECIPIENT_LEN = 1959,
	AGE_PQ_IDENTITY_LEN = 77,
};

struct age_recipient;
struct age_identity;

struct age_recipient_list {
	struct age_recipient **items;
	size_t count;
};

struct age_identity_list {
	struct age_identity **items;
	size_t count;
};

/* Recipients. text is "age1...", "age1pq1...", "ssh-ed25519 AAAA...
 * [comment]" or "ssh-rsa AAAA... [comment]". */
int age_recipient_parse(const char *text, struct age_recipient **out)
	__attribute__((warn_unused_result));
/* Whether text given as a recipient is a secret instead (an age or plugin
 * identity, a private key), which no message may repeat. */
bool age_recipient_text_is_secret(const char *text);
/* A passphrase recipient (scrypt, work factor 2^log_n). */
int age_recipient_scrypt(const char *passphrase, size_t len, int log_n, struct age_recipient **out)
	__attribute__((warn_unused_result));
void age_recipient_free(struct age_recipient *r);

int age_recipient_list_add(struct age_recipient_list *l, struct age_recipient *r)
	__attribute__((warn_unused_result));
/* Parses a recipients file (-R): one recipient per line, # comments. */
int age_recipient_list_add_file_text(struct age_recipient_list *l, const char *text, size_t len,
				     const char *source_name) __attribute__((warn_unused_result));
void age_recipient_list_release(struct age_recipient_list *l);

/* Identities. */
int age_identity_list_add(struct age_identity_list *l, struct age_identity *id)
	__attribute__((warn_unused_result));
/* Parses identity-file text: native identity lines (with # comments and
 * CRLF), or a whole OpenSSH / PEM private key. source_name is used in
 * messages only. A well-formed Bech32 key of a type gitseal does not know
 * (AGE-PLUGIN-..., a future AGE-SECRET-KEY-...- type) is skipped with a
 * warning (gs_warn) naming its type and line; a file whose key lines are
 * all skipped adds nothing and is not an error (decryption then finds no
 * match). Any other line that is not a valid identity is an error. */
int age_identity_list_add_text(struct age_identity_list *l, const char *text, size_t len,
			       const char *source_name) __attribute__((warn_unused_result));
/* The same for the text of the file at path (also its name in messages):
 * a passphrase-protected PEM key's public key is read from path.pub. */
int age_identity_list_add_file_text(struct age_identity_list *l, const char *text, size_t len, const char *path)
	__attribute__((warn_unused_result));
int age_identity_list_add_passphrase(struct age_identity_list *l, const char *passphrase, size_t len)
	__attribute__((warn_unused_result));
void age_identity_list_release(struct age_identity_list *l);

/* A passphrase-protected OpenSSH key is an identity by its public key,
 * which the file keeps in the clear; the first stanza for it asks ask for
 * the passphrase (key_name: the file's name), which fills out (secure) or
 * fails with a message, then the key is decrypted. Without a source, such
 * a stanza fails (GS_ERR_KEY). Set once, before any decryption. */
struct gs_buf;
void age_ssh_passphrase_source(int (*ask)(const char *key_name, struct gs_buf *out));
/* Why the first passphrase-protected key of l that was tried did not open
 * (no passphrase to be had, a wrong one), or NULL: for a message that
 * would otherwise say only that no identity matched. Valid as long as l. */
const char *age_identity_list_locked_failure(const struct age_identity_list *l);
/* Whether a passphrase-protected key of l was decrypted in this process:
 * files it opened are ones a process that asks for no passphrase cannot. */
bool age_identity_list_unlocked_any(const struct age_identity_list *l);
/* The name of the passphrase-protected key of l, not opened yet, whose public
 * key is one of the recipients (age recipient strings; an ssh key's comment
 * aside) when no other identity of l is one: a file only that key opens,
 * which a command that asks for no passphrase leaves closed. NULL otherwise
 * (or out of memory). why (unless NULL): why that key did not open, NULL
 * when it was not tried. Valid as long as l. */
const char *age_identity_list_locked_only(const struct age_identity_list *l, const char *const *recipients,
					  size_t count, const char **why);

/* Native keys: X25519, or the post-quantum hybrid (pq). */
int age_identity_generate(struct age_identity **out) __attribute__((warn_unused_result));
int age_identity_generate_pq(struct age_identity **out) __attribute__((warn_unused_result));
/* Writes the native identity string (AGE_X25519_IDENTITY_LEN or
 * AGE_PQ_IDENTITY_LEN chars + NUL) into out, which must be secure memory.
 * Only for native identities. */
int age_identity_encode(const struct age_identity *id, char *out, size_t cap)
	__attribute__((warn_unused_result));
/* The recipient of an identity, as text (age1..., age1pq1... of
 * AGE_PQ_RECIPIENT_LEN characters, or the ssh public key). */
int age_identity_recipient_string(const struct age_identity *id, char *out, size_t cap)
	__attribute__((warn_unused_result));
void age_identity_free(struct age_identity *id);

/* Encrypts the whole of in to out. With armor, the output is PEM-style
 * ASCII armor. A scrypt recipient must be the only one; post-quantum and
 * classic recipients are refused together (GS_ERR_KEY), as age 1.3 does. */
int age_encrypt(const struct age_recipient_list *recipients, bool armor, struct gs_reader *in,
		struct gs_writer *out) __attribute__((warn_unused_result));

struct age_encrypt_opts {
	bool armor;
	/* Encrypt to post-quantum and classic recipients together, which
	 * age 1.3 refuses: the classic stanza is open to a quantum computer. */
	bool allow_mixed;
};

int age_encrypt_with(const struct age_recipient_list *recipients, const struct age_encrypt_opts *opts,
		     struct gs_reader *in, struct gs_writer *out) __attribute__((warn_unused_result));

/* Decrypts in to out, detecting armor by itself. The header MAC is checked
 * before any plaintext is written; each 64 KiB chunk is written only after
 * it authenticated, so on a payload failure the authenticated prefix has
 * already reached out (callers that must release nothing on failure write
 * to a buffer or a temporary file and discard it). Errors are
 * GS_ERR_AGE_{ARMOR,HEADER,NO_MATCH,HMAC,PAYLOAD} or GS_ERR_IO. */
int age_decrypt(const struct age_identity_list *identities, struct gs_reader *in,
		struct gs_writer *out) __attribute__((warn_unused_result));

/* For a caller that knows the size of the file it is about to encrypt or
 * decrypt (a regular file): when it is large enough for the payload to
 * change to OpenSSL's cipher, the payload goes to it from its first chunk
 * where the build links that cipher in; else OpenSSL is loaded now on
 * another thread (about 3 ms of CPU), beside the header and the first
 * chunks, instead of between them and the rest. The next age_encrypt* or
 * age_decrypt* call waits for it before it returns; call it right before
 * that call, on the same thread (one file at a time: the command line's). */
void age_expect_payload(uint64_t file_size);

/* True when the input starts (after optional whitespace) like an age file
 * or an armored one. */
bool age_looks_like_age(const uint8_t *data, size_t len);
/* True when the file's header holds an scrypt stanza (needs a passphrase). */
bool age_is_passphrase_file(const uint8_t *data, size_t len);

/* Headers made ahead of time (prepare.c), for a process that encrypts many
 * small files to the same few X25519 recipients, each file alone (the git
 * filter): a background thread prepares up to depth headers per recipient
 * seen, each a fresh file key wrapped for it, while the process waits for
 * work. Each serves one file, as if made on the spot. Stop wipes the rest. */
int age_prepare_start(size_t depth) __attribute__((warn_unused_result));
void age_prepare_stop(void);

/* In-memory helpers; the plaintext buffer of age_decrypt_mem is secure. */
int age_encrypt_mem(const struct age_recipient_list *recipients, bool armor, const uint8_t *in,
		    size_t len, struct gs_buf *out) __attribute__((warn_unused_result));
int age_decrypt_mem(const struct age_identity_list *identities, const uint8_t *in, size_t len,
		    struct gs_buf *out) __attribute__((warn_unused_result));

#endif
