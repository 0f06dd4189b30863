/* HMAC-SHA-256 (RFC 2104) for the age header and its HKDF: through
 * OpenSSL's SHA-256 (SHA-NI or AVX2, about four times libsodium's plain C
 * per HMAC of a stanza) once this process has loaded libcrypto, else
 * through libsodium. A process that seals or opens many small sops files
 * (the git filter, render) has libcrypto loaded for the values; a small
 * `gitseal age` never loads it for this alone. Both give the same bytes. */
#ifndef GITSEAL_HMAC_H
#define GITSEAL_HMAC_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

enum { GS_HMAC_SHA256_SIZE = 32, GS_HMAC_SHA256_BLOCK = 64 };

/* Holds key material (the padded key, the inner hash): keep it where a
 * key may be (secure memory or the stack), and release it. */
struct gs_hmac_sha256 {
	void *evp;                              /* OpenSSL's digest context, or NULL */
	uint8_t outer[GS_HMAC_SHA256_BLOCK];     /* the key XOR opad (OpenSSL) */
	crypto_auth_hmacsha256_state sodium;
};

/* The first init picks the implementation; a state may be initialised
 * again (with any key) after final. */
int gs_hmac_sha256_init(struct gs_hmac_sha256 *h, const uint8_t *key, size_t key_len)
	__attribute__((warn_unused_result));
int gs_hmac_sha256_update(struct gs_hmac_sha256 *h, const void *data, size_t len)
	__attribute__((warn_unused_result));
int gs_hmac_sha256_final(struct gs_hmac_sha256 *h, uint8_t out[GS_HMAC_SHA256_SIZE])
	__attribute__((warn_unused_result));
/* Frees OpenSSL's context and wipes the state. */
void gs_hmac_sha256_release(struct gs_hmac_sha256 *h);

#endif
