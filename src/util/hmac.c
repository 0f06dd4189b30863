/* HMAC-SHA-256 through OpenSSL's digest when libcrypto is loaded
 * (include/gitseal/hmac.h). RFC 2104: H(K ^ opad || H(K ^ ipad || m)),
 * K padded with zeros to the block, or hashed first when longer. */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "gitseal/dynlib.h"
#include "gitseal/error.h"
#include "gitseal/hmac.h"

/* Fetched once: EVP_sha256() would look the algorithm up at every init. */
static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* OpenSSL's SHA-256 when libcrypto is already there, else NULL. */
static const EVP_MD *openssl_sha256(void)
{
	if (!gs_libcrypto_loaded())
		return NULL;
	pthread_once(&sha256_once, fetch_sha256);
	return sha256;
}

/* The default provider always has SHA-256; a digest context is made on
 * its first init: only a lack of memory makes these fail. */
static int evp_fail(void)
{
	return GS_FAIL(GS_ERR_NOMEM, "OpenSSL SHA-256: out of memory");
}

static int evp_init(struct gs_hmac_sha256 *h, const EVP_MD *md, const uint8_t *key, size_t key_len)
{
	uint8_t pad[GS_HMAC_SHA256_BLOCK] = { 0 };
	int ret = 0;

	/* a key longer than a block is hashed first (RFC 2104) */
	if (key_len > sizeof(pad)) {
		if (EVP_DigestInit_ex2(h->evp, md, NULL) != 1 ||
		    EVP_DigestUpdate(h->evp, key, key_len) != 1 ||
		    EVP_DigestFinal_ex(h->evp, pad, NULL) != 1) {
			ret = evp_fail();
			goto out;
		}
	} else if (key_len) {
		memcpy(pad, key, key_len);
	}
	for (size_t i = 0; i < sizeof(pad); i++) {
		h->outer[i] = pad[i] ^ 0x5c;
		pad[i] ^= 0x36;
	}
	if (EVP_DigestInit_ex2(h->evp, md, NULL) != 1 ||
	    EVP_DigestUpdate(h->evp, pad, sizeof(pad)) != 1)
		ret = evp_fail();
out:
	sodium_memzero(pad, sizeof(pad));
	return ret;
}

int gs_hmac_sha256_init(struct gs_hmac_sha256 *h, const uint8_t *key, size_t key_len)
{
	const EVP_MD *md = h->evp ? sha256 : openssl_sha256();

	if (md && !h->evp && !(h->evp = EVP_MD_CTX_new()))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (h->evp)
		return evp_init(h, md, key, key_len);
	crypto_auth_hmacsha256_init(&h->sodium, key, key_len);
	return 0;
}

int gs_hmac_sha256_update(struct gs_hmac_sha256 *h, const void *data, size_t len)
{
	if (!h->evp) {
		crypto_auth_hmacsha256_update(&h->sodium, data, len);
		return 0;
	}
	return len && EVP_DigestUpdate(h->evp, data, len) != 1 ? evp_fail() : 0;
}

int gs_hmac_sha256_final(struct gs_hmac_sha256 *h, uint8_t out[GS_HMAC_SHA256_SIZE])
{
	uint8_t inner[GS_HMAC_SHA256_SIZE];
	int ret = 0;

	if (!h->evp) {
		crypto_auth_hmacsha256_final(&h->sodium, out);
		return 0;
	}
	if (EVP_DigestFinal_ex(h->evp, inner, NULL) != 1 || EVP_DigestInit_ex2(h->evp, sha256, NULL) != 1 ||
	    EVP_DigestUpdate(h->evp, h->outer, sizeof(h->outer)) != 1 ||
	    EVP_DigestUpdate(h->evp, inner, sizeof(inner)) != 1 || EVP_DigestFinal_ex(h->evp, out, NULL) != 1)
		ret = evp_fail();
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(h->outer, sizeof(h->outer));
	return ret;
}

void gs_hmac_sha256_release(struct gs_hmac_sha256 *h)
{
	/* OpenSSL's SHA-256 wipes its state when freed */
	EVP_MD_CTX_free(h->evp);
	sodium_memzero(h, sizeof(*h));
}
