/* Standard base64 (RFC 4648 section 4), every use of it in gitseal:
 *
 * - sops's ENC[...] fields: padded, as Go's base64.StdEncoding reads them
 *   (gs_base64_decode, gs_base64_append);
 * - the age header (spec section 2): canonical and unpadded, Go's
 *   RawStdEncoding.Strict (gs_base64_decode_raw, gs_base64_encode_raw);
 * - age armor and SSH public keys: canonical and padded, StdEncoding.Strict
 *   (gs_base64_decode_strict, gs_base64_encode);
 * - a secret (a Vault data key, an OpenSSH private key blob):
 *   gs_base64_decode_secret and gs_base64_append, libsodium's constant-time
 *   code.
 *
 * The table-driven decoders are several times faster than libsodium's
 * constant-time one (long hybrid stanza arguments, armor, large files of
 * ENC values) and are for public bytes only: ciphertexts, IVs, tags, MACs,
 * stanza arguments, public keys. Every decoder refuses bytes outside the
 * alphabet, bytes >= 0x80 included (libsodium 1.0.18 accepted them). */
#ifndef GITSEAL_BASE64_H
#define GITSEAL_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gitseal/secmem.h"

/* The length of the padded encoding of len bytes, and of the unpadded one
 * (neither counts a terminating NUL). */
#define GS_BASE64_LEN(len) (((len) + 2) / 3 * 4)
#define GS_BASE64_RAW_LEN(len) (((len) * 4 + 2) / 3)

/* Padded, not canonical (Go's StdEncoding): len characters (a multiple of
 * 4) into out, which holds at least len / 4 * 3 bytes. Returns 0, or -1 on
 * any invalid input. out may be in itself (decoding moves bytes forward). */
int gs_base64_decode(const char *in, size_t len, uint8_t *out, size_t *out_len)
	__attribute__((warn_unused_result));

/* Canonical (no bits set past the data), unpadded and padded: at most cap
 * bytes into out. Returns 0, or -1 on any invalid input or when the data
 * would not fit. */
int gs_base64_decode_raw(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
	__attribute__((warn_unused_result));
int gs_base64_decode_strict(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
	__attribute__((warn_unused_result));

/* Padded, for a secret: constant-time (libsodium), the characters of
 * ignore skipped (NULL: none). Returns 0, or -1 on invalid input or when
 * the data would not fit in cap bytes. */
int gs_base64_decode_secret(const char *in, size_t len, const char *ignore, uint8_t *out, size_t cap,
			    size_t *out_len) __attribute__((warn_unused_result));

/* True when s holds only alphabet bytes or bytes from extra (NULL: none). */
bool gs_base64_chars_ok(const char *s, size_t len, const char *extra);

/* NUL-terminated encodings into out[cap]; out is "" when cap is too small
 * (GS_BASE64_LEN / GS_BASE64_RAW_LEN plus one). Constant-time (libsodium). */
void gs_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap);
void gs_base64_encode_raw(const uint8_t *in, size_t len, char *out, size_t cap);

/* Appends the padded encoding of p[n] to out. Constant-time (libsodium):
 * fit for a secret. */
int gs_base64_append(struct gs_buf *out, const uint8_t *p, size_t n) __attribute__((warn_unused_result));

#endif
