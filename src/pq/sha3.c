/* SHA3-256, SHA3-512, SHAKE128 and SHAKE256 (FIPS 202) from OpenSSL 3.
 * The algorithms are fetched once: an implicit fetch on every
 * initialisation would cost more than a Keccak permutation. OpenSSL 3.0
 * squeezes a SHAKE once (EVP_DigestFinalXOF); callers that need more
 * output ask again for a longer one, whose prefix is the same. */
#include <pthread.h>
#include <string.h>

#include "gitseal/dynlib.h"
#include "gitseal/error.h"
#include "gitseal/secmem.h"

#include "pq_int.h"

static const char *const md_names[] = {
	[PQ_SHA3_256] = "SHA3-256",
	[PQ_SHA3_512] = "SHA3-512",
	[PQ_SHAKE128] = "SHAKE128",
	[PQ_SHAKE256] = "SHAKE256",
};

static EVP_MD *mds[4];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch(void)
{
	for (size_t i = 0; i < sizeof(mds) / sizeof(mds[0]); i++)
		mds[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
}

int pq_hash_init(struct pq_hash *h)
{
	int ret;

	h->ctx = NULL;
	ret = gs_libcrypto_load();
	if (ret)
		return ret;
	pthread_once(&fetch_once, fetch);
	for (size_t i = 0; i < sizeof(mds) / sizeof(mds[0]); i++)
		if (!mds[i]) /* OpenSSL 3's default provider has them all */
			return GS_FAIL(GS_ERR_NOMEM, "cannot fetch %s: out of memory", md_names[i]);
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

void pq_hash_release(struct pq_hash *h)
{
	/* OpenSSL wipes the Keccak state when it frees the context
	 * (keccak_freectx in its sha3_prov.c: OPENSSL_clear_free) */
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int pq_hash(struct pq_hash *h, enum pq_md md, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
	    uint8_t *out, size_t out_len)
{
	unsigned int n;
	int ok;

	ok = EVP_DigestInit_ex2(h->ctx, mds[md], NULL) && EVP_DigestUpdate(h->ctx, a, a_len) &&
	     (!b_len || EVP_DigestUpdate(h->ctx, b, b_len));
	if (ok && (md == PQ_SHAKE128 || md == PQ_SHAKE256))
		ok = EVP_DigestFinalXOF(h->ctx, out, out_len);
	else if (ok)
		ok = EVP_DigestFinal_ex(h->ctx, out, &n) && n == out_len;
	/* the digest's context is made at its init: only that can fail */
	return ok ? 0 : GS_FAIL(GS_ERR_NOMEM, "%s: out of memory", md_names[md]);
}

int pq_scratch_open(size_t size, void **out)
{
	struct pq_hash *h = gs_secure_alloc(size);
	int ret;

	*out = NULL;
	if (!h)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	memset(h, 0, size);
	ret = pq_hash_init(h);
	if (ret) {
		gs_secure_free(h);
		return ret;
	}
	*out = h;
	return 0;
}

void pq_scratch_close(void *scratch)
{
	if (!scratch)
		return;
	pq_hash_release(scratch);
	gs_secure_free(scratch); /* wipes */
}
