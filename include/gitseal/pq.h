/* Post-quantum key encapsulation for age's mlkem768x25519 recipients:
 * ML-KEM-768 (FIPS 203), the MLKEM768-X25519 hybrid KEM ("X-Wing" as
 * draft-ietf-hpke-pq-03 and age 1.3 use it) and HPKE base mode (RFC 9180)
 * for the one suite age uses. shared/spec/age-pq.md restates every rule.
 *
 * SHA-3 and SHAKE come from OpenSSL (libcrypto, loaded on first use: its
 * 3.0 has no ML-KEM); X25519, HMAC and ChaCha20-Poly1305 from libsodium.
 * Every function returns 0 or a negative gs_err with a message. Secret
 * inputs are never branched on or used as table indexes. */
#ifndef GITSEAL_PQ_H
#define GITSEAL_PQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	MLKEM768_EK_SIZE = 1184,
	MLKEM768_DK_SIZE = 2400,
	MLKEM768_CT_SIZE = 1088,
	MLKEM768_SS_SIZE = 32,
	MLKEM768_RANDOM_SIZE = 32, /* each of d, z (key generation) and m (encapsulation) */

	MLKEM768X25519_SEED_SIZE = 32,   /* the private key */
	MLKEM768X25519_PK_SIZE = 1216,   /* ML-KEM ek || X25519 public key */
	MLKEM768X25519_ENC_SIZE = 1120,  /* ML-KEM ciphertext || X25519 ephemeral key */
	MLKEM768X25519_SS_SIZE = 32,
	MLKEM768X25519_ESEED_SIZE = 64,  /* ML-KEM m || X25519 ephemeral scalar */

	HPKE_KEY_SIZE = 32,
	HPKE_NONCE_SIZE = 12,
	HPKE_TAG_SIZE = 16,
};

/* ML-KEM-768, FIPS 203 Algorithms 16-18 (the "internal" forms: the caller
 * supplies the randomness). keygen writes the expanded 2400-byte dk.
 * encaps fails with GS_ERR_KEY when ek fails the modulus check (7.2).
 * decaps never fails on a bad ciphertext: implicit rejection gives a
 * pseudo-random ss. */
int mlkem768_keygen(const uint8_t d[static MLKEM768_RANDOM_SIZE], const uint8_t z[static MLKEM768_RANDOM_SIZE],
		    uint8_t ek[static MLKEM768_EK_SIZE], uint8_t dk[static MLKEM768_DK_SIZE])
	__attribute__((warn_unused_result));
int mlkem768_encaps(const uint8_t ek[static MLKEM768_EK_SIZE], const uint8_t m[static MLKEM768_RANDOM_SIZE],
		    uint8_t ct[static MLKEM768_CT_SIZE], uint8_t ss[static MLKEM768_SS_SIZE])
	__attribute__((warn_unused_result));
int mlkem768_decaps(const uint8_t dk[static MLKEM768_DK_SIZE], const uint8_t ct[static MLKEM768_CT_SIZE],
		    uint8_t ss[static MLKEM768_SS_SIZE]) __attribute__((warn_unused_result));
/* The encapsulation-key modulus check: every 12-bit value is below q. */
bool mlkem768_ek_is_valid(const uint8_t ek[static MLKEM768_EK_SIZE]);

/* An MLKEM768-X25519 private key expanded from its 32-byte seed
 * (SHAKE256(seed, 96) = d || z || X25519 scalar), in secure memory. */
struct mlkem768x25519_key;

int mlkem768x25519_key_expand(const uint8_t seed[static MLKEM768X25519_SEED_SIZE],
			      struct mlkem768x25519_key **out) __attribute__((warn_unused_result));
void mlkem768x25519_key_free(struct mlkem768x25519_key *k);
/* The 1216-byte public key (ek || X25519 public key). */
const uint8_t *mlkem768x25519_key_public(const struct mlkem768x25519_key *k);

/* Encap to a public key with fresh randomness (eseed NULL) or the given
 * 64 bytes. GS_ERR_KEY when the ML-KEM part fails the modulus check or
 * the X25519 part gives an all-zero shared secret. */
int mlkem768x25519_encap(const uint8_t pk[static MLKEM768X25519_PK_SIZE], const uint8_t *eseed,
			 uint8_t enc[static MLKEM768X25519_ENC_SIZE], uint8_t ss[static MLKEM768X25519_SS_SIZE])
	__attribute__((warn_unused_result));
/* GS_ERR_KEY when the X25519 share gives an all-zero shared secret. */
int mlkem768x25519_decap(const struct mlkem768x25519_key *k, const uint8_t enc[static MLKEM768X25519_ENC_SIZE],
			 uint8_t ss[static MLKEM768X25519_SS_SIZE]) __attribute__((warn_unused_result));

/* HPKE base mode for MLKEM768-X25519 / HKDF-SHA256 / ChaCha20Poly1305,
 * one message (sequence number 0), empty AAD. ct is pt_len + 16 bytes. */
void hpke_key_schedule(const uint8_t ss[static MLKEM768X25519_SS_SIZE], const char *info,
		       uint8_t key[static HPKE_KEY_SIZE], uint8_t nonce[static HPKE_NONCE_SIZE]);
int hpke_seal(const uint8_t pk[static MLKEM768X25519_PK_SIZE], const char *info, const uint8_t *pt,
	      size_t pt_len, uint8_t enc[static MLKEM768X25519_ENC_SIZE], uint8_t *ct)
	__attribute__((warn_unused_result));
/* 0 with pt, HPKE_OPEN_MISMATCH when the tag does not verify (pt zeroed),
 * or a negative error. */
enum { HPKE_OPEN_MISMATCH = 1 };
int hpke_open(const struct mlkem768x25519_key *k, const char *info,
	      const uint8_t enc[static MLKEM768X25519_ENC_SIZE], const uint8_t *ct, size_t ct_len, uint8_t *pt)
	__attribute__((warn_unused_result));

#endif
