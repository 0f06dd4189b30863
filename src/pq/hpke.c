/* HPKE base mode (RFC 9180 sections 4, 5.1, 5.2) for the one suite age
 * uses: KEM MLKEM768-X25519 (0x647a), KDF HKDF-SHA256 (0x0001), AEAD
 * ChaCha20Poly1305 (0x0003); one message, so the nonce is base_nonce.
 * HKDF is built on libsodium's HMAC-SHA256. */
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/pq.h"
#include "gitseal/secmem.h"

#define HPKE_VERSION "HPKE-v1"

/* "HPKE" || I2OSP(kem, 2) || I2OSP(kdf, 2) || I2OSP(aead, 2) */
static const uint8_t suite_id[10] = { 'H', 'P', 'K', 'E', 0x64, 0x7a, 0x00, 0x01, 0x00, 0x03 };

enum { HASH_SIZE = crypto_auth_hmacsha256_BYTES };

/* HKDF-Extract(salt, "HPKE-v1" || suite_id || label || ikm); an empty
 * salt is a zero-length HMAC key */
static void labeled_extract(const uint8_t *salt, size_t salt_len, const char *label, const uint8_t *ikm,
			    size_t ikm_len, uint8_t prk[HASH_SIZE])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, salt_len ? salt : (const uint8_t *)"", salt_len);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)HPKE_VERSION, strlen(HPKE_VERSION));
	crypto_auth_hmacsha256_update(&st, suite_id, sizeof(suite_id));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)label, strlen(label));
	crypto_auth_hmacsha256_update(&st, ikm, ikm_len);
	crypto_auth_hmacsha256_final(&st, prk);
	sodium_memzero(&st, sizeof(st));
}

/* HKDF-Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L)
 * for L up to one hash: T(1) = HMAC(prk, labeled info || 0x01) */
static void labeled_expand(const uint8_t prk[HASH_SIZE], const char *label, const uint8_t *info, size_t info_len,
			   uint8_t *out, size_t out_len)
{
	const uint8_t length[2] = { 0, (uint8_t)out_len }, counter = 1;
	crypto_auth_hmacsha256_state st;
	uint8_t block[HASH_SIZE];

	crypto_auth_hmacsha256_init(&st, prk, HASH_SIZE);
	crypto_auth_hmacsha256_update(&st, length, sizeof(length));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)HPKE_VERSION, strlen(HPKE_VERSION));
	crypto_auth_hmacsha256_update(&st, suite_id, sizeof(suite_id));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)label, strlen(label));
	crypto_auth_hmacsha256_update(&st, info, info_len);
	crypto_auth_hmacsha256_update(&st, &counter, 1);
	crypto_auth_hmacsha256_final(&st, block);
	memcpy(out, block, out_len);
	sodium_memzero(block, sizeof(block));
	sodium_memzero(&st, sizeof(st));
}

/* KeySchedule(mode_base, ss, info, psk = "", psk_id = "") (5.1) */
void hpke_key_schedule(const uint8_t ss[static MLKEM768X25519_SS_SIZE], const char *info,
		       uint8_t key[static HPKE_KEY_SIZE], uint8_t nonce[static HPKE_NONCE_SIZE])
{
	uint8_t context[1 + 2 * HASH_SIZE], secret[HASH_SIZE];

	context[0] = 0x00; /* mode_base */
	labeled_extract(NULL, 0, "psk_id_hash", NULL, 0, context + 1);
	labeled_extract(NULL, 0, "info_hash", (const uint8_t *)info, strlen(info), context + 1 + HASH_SIZE);
	labeled_extract(ss, MLKEM768X25519_SS_SIZE, "secret", NULL, 0, secret);
	labeled_expand(secret, "key", context, sizeof(context), key, HPKE_KEY_SIZE);
	labeled_expand(secret, "base_nonce", context, sizeof(context), nonce, HPKE_NONCE_SIZE);
	sodium_memzero(secret, sizeof(secret));
}

/* ss, key and nonce of one message */
struct message_keys {
	uint8_t ss[MLKEM768X25519_SS_SIZE];
	uint8_t key[HPKE_KEY_SIZE];
	uint8_t nonce[HPKE_NONCE_SIZE];
};

int hpke_seal(const uint8_t pk[static MLKEM768X25519_PK_SIZE], const char *info, const uint8_t *pt,
	      size_t pt_len, uint8_t enc[static MLKEM768X25519_ENC_SIZE], uint8_t *ct)
{
	struct message_keys *mk = gs_secure_alloc(sizeof(*mk));
	int ret;

	if (!mk)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	ret = mlkem768x25519_encap(pk, NULL, enc, mk->ss);
	if (ret)
		goto out;
	hpke_key_schedule(mk->ss, info, mk->key, mk->nonce);
	crypto_aead_chacha20poly1305_ietf_encrypt(ct, NULL, pt, pt_len, NULL, 0, NULL, mk->nonce,
						  mk->key);
out:
	gs_secure_free(mk);
	return ret;
}

int hpke_open(const struct mlkem768x25519_key *k, const char *info,
	      const uint8_t enc[static MLKEM768X25519_ENC_SIZE], const uint8_t *ct, size_t ct_len, uint8_t *pt)
{
	struct message_keys *mk;
	int ret;

	if (ct_len < HPKE_TAG_SIZE)
		return HPKE_OPEN_MISMATCH;
	mk = gs_secure_alloc(sizeof(*mk));
	if (!mk)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	ret = mlkem768x25519_decap(k, enc, mk->ss);
	if (ret)
		goto out;
	hpke_key_schedule(mk->ss, info, mk->key, mk->nonce);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(pt, NULL, NULL, ct, ct_len, NULL, 0, mk->nonce,
						      mk->key) != 0) {
		sodium_memzero(pt, ct_len - HPKE_TAG_SIZE);
		ret = HPKE_OPEN_MISMATCH;
	}
out:
	gs_secure_free(mk);
	return ret;
}
