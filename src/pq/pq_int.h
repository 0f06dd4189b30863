/* Private to src/pq/. */
#ifndef GITSEAL_PQ_INT_H
#define GITSEAL_PQ_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "gitseal/pq.h"

/* FIPS 202 functions from OpenSSL, through one reusable digest context. */
enum pq_md { PQ_SHA3_256, PQ_SHA3_512, PQ_SHAKE128, PQ_SHAKE256 };

struct pq_hash {
	EVP_MD_CTX *ctx;
};

int pq_hash_init(struct pq_hash *h) __attribute__((warn_unused_result));
void pq_hash_release(struct pq_hash *h);
/* out = md(a || b), out_len bytes (32 and 64 for the SHA3 hashes; any
 * length for SHAKE). b may be NULL when b_len is 0. */
int pq_hash(struct pq_hash *h, enum pq_md md, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
	    uint8_t *out, size_t out_len) __attribute__((warn_unused_result));

/* Scratch space for the secrets of one operation: size bytes of secure
 * memory, zeroed, whose first member is a struct pq_hash, ready. */
int pq_scratch_open(size_t size, void **out) __attribute__((warn_unused_result));
/* Releases the hash and wipes and frees the memory; NULL is ignored. */
void pq_scratch_close(void *scratch);

/* An ML-KEM-768 decapsulation key decoded once (s-hat, t-hat, A-hat), in
 * secure memory, for a dk this process derived from a seed: no hash check
 * of FIPS 203 7.3 (mlkem768.c). */
struct mlkem768_dk;

int mlkem768_dk_load(const uint8_t dk[MLKEM768_DK_SIZE], struct mlkem768_dk **out)
	__attribute__((warn_unused_result));
void mlkem768_dk_free(struct mlkem768_dk *key);
int mlkem768_decaps_loaded(const struct mlkem768_dk *key, const uint8_t ct[MLKEM768_CT_SIZE],
			   uint8_t ss[MLKEM768_SS_SIZE]) __attribute__((warn_unused_result));

#endif
