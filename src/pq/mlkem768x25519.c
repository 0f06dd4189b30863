/* The MLKEM768-X25519 hybrid KEM (age-pq.md section 3; the X-Wing
 * combiner of draft-ietf-hpke-pq-03 and FiloSottile/hpke pq.go). The
 * private key is a 32-byte seed, expanded with SHAKE256 into the ML-KEM
 * seed (d, z) and the X25519 scalar; the public key is ek || X25519 pk. */
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/pq.h"
#include "gitseal/secmem.h"

#include "pq_int.h"

/* "\./" followed by "/^\" */
static const uint8_t combiner_label[6] = { 0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c };

enum { X25519_SIZE = 32, COMBINER_INPUT = 4 * 32 + sizeof(combiner_label) };

struct mlkem768x25519_key {
	struct mlkem768_dk *dk;           /* the ML-KEM key, decoded; never written anywhere */
	uint8_t sk_x[X25519_SIZE];
	uint8_t pk[MLKEM768X25519_PK_SIZE];
};

/* The secrets of one encapsulation or decapsulation (pq_scratch_open). */
struct kem_work {
	struct pq_hash hash; /* first */
	uint8_t eseed[MLKEM768X25519_ESEED_SIZE];
	uint8_t combiner[COMBINER_INPUT];   /* ss_M || ss_X || ct_X || pk_X || label */
};

int mlkem768x25519_key_expand(const uint8_t seed[static MLKEM768X25519_SEED_SIZE],
			      struct mlkem768x25519_key **out)
{
	struct mlkem768x25519_key *k = gs_secure_alloc(sizeof(*k));
	uint8_t *x = gs_secure_alloc(96); /* d || z || X25519 scalar */
	uint8_t *dk = gs_secure_alloc(MLKEM768_DK_SIZE);
	struct pq_hash h = { 0 };
	int ret;

	*out = NULL;
	if (k)
		k->dk = NULL;
	if (!k || !x || !dk) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
		goto out;
	}
	if ((ret = pq_hash_init(&h)) ||
	    (ret = pq_hash(&h, PQ_SHAKE256, seed, MLKEM768X25519_SEED_SIZE, NULL, 0, x, 96)) ||
	    (ret = mlkem768_keygen(x, x + 32, k->pk, dk)) || (ret = mlkem768_dk_load(dk, &k->dk)))
		goto out;
	memcpy(k->sk_x, x + 64, X25519_SIZE);
	crypto_scalarmult_base(k->pk + MLKEM768_EK_SIZE, k->sk_x);
	*out = k;
	k = NULL;
out:
	pq_hash_release(&h);
	gs_secure_free(x);
	gs_secure_free(dk);
	mlkem768x25519_key_free(k);
	return ret;
}

void mlkem768x25519_key_free(struct mlkem768x25519_key *k)
{
	if (!k)
		return;
	mlkem768_dk_free(k->dk);
	gs_secure_free(k);
}

const uint8_t *mlkem768x25519_key_public(const struct mlkem768x25519_key *k)
{
	return k->pk;
}

/* ss = SHA3-256(ss_M || ss_X || ct_X || pk_X || label): the combiner
 * input is laid out in w->combiner with ss_M and ss_X already in place. */
static int combine(struct kem_work *w, const uint8_t ct_x[X25519_SIZE], const uint8_t pk_x[X25519_SIZE],
		   uint8_t ss[MLKEM768X25519_SS_SIZE])
{
	memcpy(w->combiner + 64, ct_x, X25519_SIZE);
	memcpy(w->combiner + 96, pk_x, X25519_SIZE);
	memcpy(w->combiner + 128, combiner_label, sizeof(combiner_label));
	return pq_hash(&w->hash, PQ_SHA3_256, w->combiner, sizeof(w->combiner), NULL, 0, ss,
		       MLKEM768X25519_SS_SIZE);
}

int mlkem768x25519_encap(const uint8_t pk[static MLKEM768X25519_PK_SIZE], const uint8_t *eseed,
			 uint8_t enc[static MLKEM768X25519_ENC_SIZE], uint8_t ss[static MLKEM768X25519_SS_SIZE])
{
	const uint8_t *pk_x = pk + MLKEM768_EK_SIZE;
	uint8_t *ct_x = enc + MLKEM768_CT_SIZE;
	void *scratch;
	int ret = pq_scratch_open(sizeof(struct kem_work), &scratch);
	struct kem_work *w = scratch;

	if (ret)
		return ret;
	if (eseed)
		memcpy(w->eseed, eseed, sizeof(w->eseed));
	else
		randombytes_buf(w->eseed, sizeof(w->eseed));
	ret = mlkem768_encaps(pk, w->eseed, enc, w->combiner);
	if (ret)
		goto out;
	crypto_scalarmult_base(ct_x, w->eseed + 32);
	/* age-pq.md 3.4: an all-zero X25519 output (a low-order public key)
	 * is refused; libsodium checks it in constant time */
	if (crypto_scalarmult(w->combiner + 32, w->eseed + 32, pk_x) != 0) {
		ret = GS_FAIL(GS_ERR_KEY, "invalid mlkem768x25519 recipient: low-order X25519 key");
		goto out;
	}
	ret = combine(w, ct_x, pk_x, ss);
out:
	pq_scratch_close(w);
	return ret;
}

int mlkem768x25519_decap(const struct mlkem768x25519_key *k, const uint8_t enc[static MLKEM768X25519_ENC_SIZE],
			 uint8_t ss[static MLKEM768X25519_SS_SIZE])
{
	const uint8_t *ct_x = enc + MLKEM768_CT_SIZE;
	void *scratch;
	int ret = pq_scratch_open(sizeof(struct kem_work), &scratch);
	struct kem_work *w = scratch;

	if (ret)
		return ret;
	if (crypto_scalarmult(w->combiner + 32, k->sk_x, ct_x) != 0) {
		ret = GS_FAIL(GS_ERR_KEY, "low-order X25519 share");
		goto out;
	}
	/* never fails on a bad ciphertext: implicit rejection */
	ret = mlkem768_decaps_loaded(k->dk, enc, w->combiner);
	if (ret)
		goto out;
	ret = combine(w, ct_x, k->pk + MLKEM768_EK_SIZE, ss);
out:
	pq_scratch_close(w);
	return ret;
}
