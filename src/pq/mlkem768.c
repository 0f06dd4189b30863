/* ML-KEM-768 (FIPS 203, August 2024): key generation from (d, z),
 * encapsulation with the modulus check, decapsulation with implicit
 * rejection. Section and algorithm numbers are FIPS 203's.
 *
 * Coefficients are kept fully reduced in [0, q) as uint16_t between
 * steps. Every operation on secret values is branch-free arithmetic: the
 * NTT works on signed 16-bit values with Montgomery multiplication and
 * lazy reduction (Barrett's method brings them back), other products are
 * reduced with Barrett's method, a conditional subtraction is a mask,
 * Compress divides by q with a multiply and a shift. Signed right shifts
 * are arithmetic (GCC and Clang define them so). Table indexes (the
 * NTT's powers of zeta, byte positions) depend on loop counters only. The
 * public matrix A is the one thing sampled with data-dependent control
 * flow (rejection sampling of a public seed, as FIPS 203 specifies). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/pq.h"
#include "gitseal/secmem.h"

#include "pq_int.h"

enum {
	N = 256,
	Q = 3329,
	K = 3,
	DU = 10,
	DV = 4,
	POLY_BYTES = 384,                   /* ByteEncode12 of one polynomial */
	PKE_DK_SIZE = K * POLY_BYTES,       /* 1152 */
	C1_SIZE = K * 32 * DU,              /* 960 */
	C2_SIZE = 32 * DV,                  /* 128 */
	CBD_BYTES = 64 * 2,                 /* PRF output for eta = 2 */
	XOF_BLOCK = 168,                    /* SHAKE128 rate */
	/* floor(2^32 / q), for Barrett reduction of values below 2^32 */
	BARRETT_M = 1290167,
	/* ceil(2^36 / q): (n * DIV_M) >> 36 == n / q for n < 2^23 (Compress) */
	DIV_M = 20642679,
	DIV_SHIFT = 36,
	QINV = 62209,                       /* q^-1 mod 2^16 */
	MONT = 2285,                        /* 2^16 mod q */
	BARRETT_V = ((1 << 26) + Q / 2) / Q,
	INV128_MONT = 512,                  /* 128^-1 2^16 mod q: ends NTT^-1 */
};

struct poly {
	uint16_t c[N];
};

/* A decapsulation key in the form decapsulation uses: s-hat, t-hat and
 * A-hat decoded or sampled once, h = H(ek) and z (secure memory). */
struct mlkem768_dk {
	struct poly a[K][K];  /* A-hat, public but large */
	struct poly s[K], t[K];
	uint8_t h[32], z[32];
};

/* The secret working set of one operation (pq_scratch_open). */
struct work {
	struct pq_hash hash;  /* first */
	struct mlkem768_dk key;  /* the key of a byte-form call */
	struct poly y[K], e[K], u[K];
	struct poly v, w;
	uint8_t prf[CBD_BYTES];
	uint8_t g[64];        /* G output: (rho, sigma) or (K, r) */
	uint8_t m[32];
	uint8_t ct[MLKEM768_CT_SIZE];
	uint8_t k_bar[32];
};

/* zeta^BitRev7(i) 2^16 (Montgomery form, for the NTT) and zeta^(2
 * BitRev7(i) + 1) mod q, zeta = 17 (4.3). */
static int16_t zetas[128];
static uint16_t gammas[128];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static uint32_t pow_mod_q(uint32_t base, uint32_t e)
{
	uint32_t r = 1;

	while (e--)
		r = r * base % Q;
	return r;
}

static unsigned bitrev7(unsigned i)
{
	unsigned r = 0;

	for (int b = 0; b < 7; b++)
		r |= ((i >> b) & 1) << (6 - b);
	return r;
}

static void make_tables(void)
{
	for (unsigned i = 0; i < 128; i++) {
		zetas[i] = (int16_t)(pow_mod_q(17, bitrev7(i)) * MONT % Q);
		gammas[i] = (uint16_t)pow_mod_q(17, 2 * bitrev7(i) + 1);
	}
}

/* r in [0, 2q) -> r mod q, without a branch */
static uint16_t csub_q(uint32_t r)
{
	uint32_t t = r - Q;

	t += Q & (0u - (t >> 31));
	return (uint16_t)t;
}

/* x mod q for any x below 2^32: the Barrett estimate is at most one short */
static uint16_t reduce(uint32_t x)
{
	uint32_t t = (uint32_t)(((uint64_t)x * BARRETT_M) >> 32);

	return csub_q(x - t * Q);
}

static uint16_t fq_add(uint16_t a, uint16_t b)
{
	return csub_q((uint32_t)a + b);
}

static uint16_t fq_sub(uint16_t a, uint16_t b)
{
	return csub_q((uint32_t)a + Q - b);
}

static uint16_t fq_mul(uint16_t a, uint16_t b)
{
	return reduce((uint32_t)a * b);
}

/* a 2^-16 mod q, in (-q, q), for |a| < q 2^15 */
static int16_t montgomery_reduce(int32_t a)
{
	int16_t t = (int16_t)(uint16_t)((uint32_t)a * QINV);

	return (int16_t)((a - (int32_t)t * Q) >> 16);
}

/* a mod q in [-(q-1)/2, (q-1)/2], for any 16-bit a */
static int16_t barrett_reduce(int16_t a)
{
	int16_t t = (int16_t)((BARRETT_V * a + (1 << 25)) >> 26);

	return (int16_t)(a - t * Q);
}

/* a mod q in [0, q) */
static uint16_t freeze(int16_t a)
{
	a = barrett_reduce(a);
	return (uint16_t)(a + (Q & (a >> 15)));
}

/* Algorithm 9. The coefficients are read as int16_t (signed and unsigned
 * variants of a type may alias); each layer adds less than q to their
 * magnitude, so after seven they stay below 8q < 2^15. */
static void ntt(struct poly *f)
{
	int16_t *r = (int16_t *)f->c, zeta, t;
	unsigned i = 1, len, start, j;

	for (len = 128; len >= 2; len /= 2) {
		for (start = 0; start < N; start += 2 * len) {
			zeta = zetas[i++];
			for (j = start; j < start + len; j++) {
				t = montgomery_reduce((int32_t)zeta * r[j + len]);
				r[j + len] = (int16_t)(r[j] - t);
				r[j] = (int16_t)(r[j] + t);
			}
		}
	}
	for (j = 0; j < N; j++)
		f->c[j] = freeze(r[j]);
}

/* Algorithm 10; the sums are brought back below q/2 at every layer */
static void ntt_inverse(struct poly *f)
{
	int16_t *r = (int16_t *)f->c, zeta, t;
	unsigned i = 127, len, start, j;

	for (len = 2; len <= 128; len *= 2) {
		for (start = 0; start < N; start += 2 * len) {
			zeta = zetas[i--];
			for (j = start; j < start + len; j++) {
				t = r[j];
				r[j] = barrett_reduce((int16_t)(t + r[j + len]));
				r[j + len] = montgomery_reduce((int32_t)zeta * (r[j + len] - t));
			}
		}
	}
	for (j = 0; j < N; j++)
		f->c[j] = freeze(montgomery_reduce((int32_t)r[j] * INV128_MONT));
}

/* h = the sum over j of f[j] x g[j] in the NTT domain (Algorithms 11
 * and 12), reduced once per coefficient: K sums of products of values
 * below q stay below 2^32. */
static void inner_product(struct poly *h, const struct poly *const f[K], const struct poly g[K])
{
	for (unsigned i = 0; i < 128; i++) {
		uint32_t c0 = 0, c1 = 0;

		for (unsigned j = 0; j < K; j++) {
			uint32_t a0 = f[j]->c[2 * i], a1 = f[j]->c[2 * i + 1];
			uint32_t b0 = g[j].c[2 * i], b1 = g[j].c[2 * i + 1];

			c0 += a0 * b0 + (uint32_t)fq_mul((uint16_t)a1, (uint16_t)b1) * gammas[i];
			c1 += a0 * b1 + a1 * b0;
		}
		h->c[2 * i] = reduce(c0);
		h->c[2 * i + 1] = reduce(c1);
	}
}

static void poly_add(struct poly *r, const struct poly *a)
{
	for (unsigned i = 0; i < N; i++)
		r->c[i] = fq_add(r->c[i], a->c[i]);
}

/* ByteEncode_d (Algorithm 5) for d < 12: little-endian bit packing of
 * 256 values below 2^d into 32 d bytes */
static void encode_bits(const struct poly *f, unsigned d, uint8_t *out)
{
	uint32_t acc = 0;
	unsigned bits = 0, i;
	size_t o = 0;

	for (i = 0; i < N; i++) {
		acc |= (uint32_t)f->c[i] << bits;
		bits += d;
		while (bits >= 8) {
			out[o++] = (uint8_t)acc;
			acc >>= 8;
			bits -= 8;
		}
	}
}

/* ByteDecode_d (Algorithm 6) for d < 12 */
static void decode_bits(const uint8_t *in, unsigned d, struct poly *f)
{
	uint32_t acc = 0, mask = (1u << d) - 1;
	unsigned bits = 0, i;
	size_t o = 0;

	for (i = 0; i < N; i++) {
		while (bits < d) {
			acc |= (uint32_t)in[o++] << bits;
			bits += 8;
		}
		f->c[i] = (uint16_t)(acc & mask);
		acc >>= d;
		bits -= d;
	}
}

/* ByteEncode12 */
static void encode12(const struct poly *f, uint8_t out[POLY_BYTES])
{
	for (unsigned i = 0; i < N / 2; i++) {
		uint16_t a = f->c[2 * i], b = f->c[2 * i + 1];

		out[3 * i] = (uint8_t)a;
		out[3 * i + 1] = (uint8_t)((a >> 8) | (b << 4));
		out[3 * i + 2] = (uint8_t)(b >> 4);
	}
}

/* ByteDecode12, reducing mod q as FIPS 203 says (a 12-bit value is below
 * 2q). Returns a non-zero mask when a value was not below q (the
 * modulus check, 7.2). */
static uint32_t decode12(const uint8_t in[POLY_BYTES], struct poly *f)
{
	uint32_t bad = 0;

	for (unsigned i = 0; i < N / 2; i++) {
		uint32_t a = in[3 * i] | ((uint32_t)(in[3 * i + 1] & 0x0f) << 8);
		uint32_t b = (in[3 * i + 1] >> 4) | ((uint32_t)in[3 * i + 2] << 4);

		bad |= ((Q - 1) - a) | ((Q - 1) - b);
		f->c[2 * i] = csub_q(a);
		f->c[2 * i + 1] = csub_q(b);
	}
	return bad >> 31;
}

/* Compress_d (4.7): round(2^d x / q) mod 2^d; q is odd, so adding
 * floor(q/2) before the division rounds exactly as FIPS 203 does */
static uint16_t compress(uint16_t x, unsigned d)
{
	uint64_t n = ((uint64_t)x << d) + Q / 2;

	return (uint16_t)(((n * DIV_M) >> DIV_SHIFT) & ((1u << d) - 1));
}

/* Decompress_d: round(q y / 2^d) */
static uint16_t decompress(uint16_t y, unsigned d)
{
	return (uint16_t)(((uint32_t)y * Q + (1u << (d - 1))) >> d);
}

static void poly_compress(struct poly *f, unsigned d)
{
	for (unsigned i = 0; i < N; i++)
		f->c[i] = compress(f->c[i], d);
}

static void poly_decompress(struct poly *f, unsigned d)
{
	for (unsigned i = 0; i < N; i++)
		f->c[i] = decompress(f->c[i], d);
}

/* SamplePolyCBD_2 (Algorithm 8) from 128 PRF bytes: each byte gives two
 * coefficients, (b0 + b1) - (b2 + b3) and (b4 + b5) - (b6 + b7) */
static void sample_cbd2(const uint8_t in[CBD_BYTES], struct poly *f)
{
	for (unsigned i = 0; i < CBD_BYTES; i++) {
		uint32_t b = in[i];
		uint32_t s = (b & 0x55) + ((b >> 1) & 0x55); /* four 2-bit sums */

		for (unsigned h = 0; h < 2; h++) {
			uint32_t x = (s >> (4 * h)) & 3, y = (s >> (4 * h + 2)) & 3;

			f->c[2 * i + h] = csub_q(x + Q - y);
		}
	}
}

/* PRF_2(sigma, n) = SHAKE256(sigma || n, 128), then CBD */
static int sample_noise(struct work *w, const uint8_t sigma[32], uint8_t n, struct poly *f)
{
	int ret = pq_hash(&w->hash, PQ_SHAKE256, sigma, 32, &n, 1, w->prf, sizeof(w->prf));

	if (ret)
		return ret;
	sample_cbd2(w->prf, f);
	return 0;
}

/* Parses 12-bit candidates from buf[*pos..len) into f until 256 are
 * accepted; returns the count so far. */
static unsigned parse_candidates(const uint8_t *buf, size_t len, size_t *pos, struct poly *f, unsigned count)
{
	size_t p = *pos;

	while (count < N && p + 3 <= len) {
		uint16_t d1 = (uint16_t)(buf[p] | ((buf[p + 1] & 0x0f) << 8));
		uint16_t d2 = (uint16_t)((buf[p + 1] >> 4) | (buf[p + 2] << 4));

		p += 3;
		if (d1 < Q)
			f->c[count++] = d1;
		if (d2 < Q && count < N)
			f->c[count++] = d2;
	}
	*pos = p;
	return count;
}

/* SampleNTT (Algorithm 7) of rho || j || i: rejection sampling of public
 * data. The XOF is read for as long as it takes: three blocks almost
 * always suffice; otherwise a longer output is asked for (same prefix)
 * and parsing goes on where it stopped. */
static int sample_ntt(struct pq_hash *h, const uint8_t rho[32], uint8_t j, uint8_t i, struct poly *f)
{
	uint8_t seed[34], first[3 * XOF_BLOCK], *buf = first, *grown;
	size_t len = sizeof(first), pos = 0;
	unsigned count = 0;
	int ret;

	memcpy(seed, rho, 32);
	seed[32] = j;
	seed[33] = i;
	for (;;) {
		ret = pq_hash(h, PQ_SHAKE128, seed, sizeof(seed), NULL, 0, buf, len);
		if (ret)
			break;
		count = parse_candidates(buf, len, &pos, f, count);
		if (count == N)
			break;
		grown = gs_realloc(buf == first ? NULL : buf, len + 2 * XOF_BLOCK);
		if (!grown) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			break;
		}
		buf = grown;
		len += 2 * XOF_BLOCK;
	}
	if (buf != first)
		free(buf);
	return ret;
}

/* A-hat[i][j] = SampleNTT(rho || j || i) (K-PKE.KeyGen step 6) */
static int sample_matrix(struct work *w, const uint8_t rho[32], struct poly a[K][K])
{
	for (uint8_t i = 0; i < K; i++) {
		for (uint8_t j = 0; j < K; j++) {
			int ret = sample_ntt(&w->hash, rho, j, i, &a[i][j]);

			if (ret)
				return ret;
		}
	}
	return 0;
}

static int work_open(struct work **out)
{
	void *scratch;
	int ret;

	pthread_once(&tables_once, make_tables);
	ret = pq_scratch_open(sizeof(struct work), &scratch);
	*out = scratch;
	return ret;
}

/* K-PKE.KeyGen (Algorithm 13): ek = ByteEncode12(t-hat) || rho and the
 * K-PKE decryption key ByteEncode12(s-hat). FIPS 203 final hashes d || k
 * (the 2023 draft hashed d alone). */
static int pke_keygen(struct work *w, const uint8_t d[32], uint8_t ek[MLKEM768_EK_SIZE],
		      uint8_t dk_pke[PKE_DK_SIZE])
{
	struct mlkem768_dk *key = &w->key;
	const uint8_t k = K;
	const uint8_t *rho = w->g, *sigma = w->g + 32;
	uint8_t n = 0;
	int ret;

	if ((ret = pq_hash(&w->hash, PQ_SHA3_512, d, 32, &k, 1, w->g, 64)) ||
	    (ret = sample_matrix(w, rho, key->a)))
		return ret;
	/* s then e: the PRF counter n runs on across both */
	for (unsigned i = 0; i < K; i++) {
		if ((ret = sample_noise(w, sigma, n++, &key->s[i])))
			return ret;
	}
	for (unsigned i = 0; i < K; i++) {
		if ((ret = sample_noise(w, sigma, n++, &w->e[i])))
			return ret;
	}
	for (unsigned i = 0; i < K; i++) {
		ntt(&key->s[i]);
		ntt(&w->e[i]);
	}
	for (unsigned i = 0; i < K; i++) {
		const struct poly *row[K] = { &key->a[i][0], &key->a[i][1], &key->a[i][2] };

		inner_product(&key->t[i], row, key->s);
		poly_add(&key->t[i], &w->e[i]);
		encode12(&key->t[i], ek + i * POLY_BYTES);
		encode12(&key->s[i], dk_pke + i * POLY_BYTES);
	}
	memcpy(ek + PKE_DK_SIZE, rho, 32);
	return 0;
}

/* K-PKE.Encrypt (Algorithm 14) of m with randomness r into ct, for the
 * key's A-hat and t-hat (ek already passed the modulus check). */
static int pke_encrypt(struct work *w, const struct mlkem768_dk *key, const uint8_t m[32], const uint8_t r[32],
		       uint8_t ct[MLKEM768_CT_SIZE])
{
	struct poly *y = w->y, *e1 = w->e, *e2 = &w->w;
	const struct poly *t[K] = { &key->t[0], &key->t[1], &key->t[2] };
	uint8_t n = 0;
	int ret;

	/* y, e1 then e2: the PRF counter n runs on across them */
	for (unsigned i = 0; i < K; i++) {
		if ((ret = sample_noise(w, r, n++, &y[i])))
			return ret;
	}
	for (unsigned i = 0; i < K; i++) {
		if ((ret = sample_noise(w, r, n++, &e1[i])))
			return ret;
	}
	if ((ret = sample_noise(w, r, n++, e2)))
		return ret;
	for (unsigned i = 0; i < K; i++)
		ntt(&y[i]);
	/* u = NTT^-1(A-hat^T o y-hat) + e1 */
	for (unsigned i = 0; i < K; i++) {
		const struct poly *column[K] = { &key->a[0][i], &key->a[1][i], &key->a[2][i] };

		inner_product(&w->u[i], column, y);
		ntt_inverse(&w->u[i]);
		poly_add(&w->u[i], &e1[i]);
	}
	/* v = NTT^-1(t-hat^T o y-hat) + e2 + Decompress_1(m) */
	inner_product(&w->v, t, y);
	ntt_inverse(&w->v);
	poly_add(&w->v, e2);
	decode_bits(m, 1, e2);
	poly_decompress(e2, 1);
	poly_add(&w->v, e2);
	for (unsigned i = 0; i < K; i++) {
		poly_compress(&w->u[i], DU);
		encode_bits(&w->u[i], DU, ct + i * 32 * DU);
	}
	poly_compress(&w->v, DV);
	encode_bits(&w->v, DV, ct + C1_SIZE);
	return 0;
}

/* K-PKE.Decrypt (Algorithm 15) into w->m */
static void pke_decrypt(struct work *w, const struct mlkem768_dk *key, const uint8_t ct[MLKEM768_CT_SIZE])
{
	const struct poly *s[K] = { &key->s[0], &key->s[1], &key->s[2] };

	for (unsigned i = 0; i < K; i++) {
		decode_bits(ct + i * 32 * DU, DU, &w->u[i]);
		poly_decompress(&w->u[i], DU);
		ntt(&w->u[i]);
	}
	inner_product(&w->w, s, w->u);
	ntt_inverse(&w->w);
	decode_bits(ct + C1_SIZE, DV, &w->v);
	poly_decompress(&w->v, DV);
	for (unsigned i = 0; i < N; i++)
		w->v.c[i] = fq_sub(w->v.c[i], w->w.c[i]);
	poly_compress(&w->v, 1);
	encode_bits(&w->v, 1, w->m);
}

bool mlkem768_ek_is_valid(const uint8_t ek[static MLKEM768_EK_SIZE])
{
	struct poly f;
	uint32_t bad = 0;

	for (unsigned i = 0; i < K; i++)
		bad |= decode12(ek + i * POLY_BYTES, &f);
	return !bad;
}

/* ML-KEM.KeyGen_internal (Algorithm 16): dk = dk_pke || ek || H(ek) || z */
int mlkem768_keygen(const uint8_t d[static MLKEM768_RANDOM_SIZE], const uint8_t z[static MLKEM768_RANDOM_SIZE],
		    uint8_t ek[static MLKEM768_EK_SIZE], uint8_t dk[static MLKEM768_DK_SIZE])
{
	struct work *w;
	int ret = work_open(&w);

	if (ret)
		return ret;
	ret = pke_keygen(w, d, ek, dk);
	if (ret)
		goto out;
	memcpy(dk + PKE_DK_SIZE, ek, MLKEM768_EK_SIZE);
	ret = pq_hash(&w->hash, PQ_SHA3_256, ek, MLKEM768_EK_SIZE, NULL, 0,
		      dk + PKE_DK_SIZE + MLKEM768_EK_SIZE, 32);
	if (ret)
		goto out;
	memcpy(dk + MLKEM768_DK_SIZE - 32, z, 32);
out:
	if (ret)
		sodium_memzero(dk, MLKEM768_DK_SIZE);
	pq_scratch_close(w);
	return ret;
}

/* t-hat and A-hat of an encapsulation key that passed the modulus check */
static int load_ek(struct work *w, const uint8_t ek[MLKEM768_EK_SIZE], struct mlkem768_dk *key)
{
	for (unsigned i = 0; i < K; i++)
		decode12(ek + i * POLY_BYTES, &key->t[i]);
	return sample_matrix(w, ek + PKE_DK_SIZE, key->a);
}

/* The decoded form of a 2400-byte dk = dk_pke || ek || h || z */
static int load_dk(struct work *w, const uint8_t dk[MLKEM768_DK_SIZE], struct mlkem768_dk *key)
{
	const uint8_t *ek = dk + PKE_DK_SIZE;

	for (unsigned i = 0; i < K; i++)
		decode12(dk + i * POLY_BYTES, &key->s[i]);
	memcpy(key->h, ek + MLKEM768_EK_SIZE, 32);
	memcpy(key->z, ek + MLKEM768_EK_SIZE + 32, 32);
	return load_ek(w, ek, key);
}

/* ML-KEM.Encaps_internal (Algorithm 17) after the checks of 7.2:
 * (K, r) = G(m || H(ek)); c = K-PKE.Encrypt(ek, m, r); K is w->g[0..32) */
static int encaps(struct work *w, const struct mlkem768_dk *key, const uint8_t m[32], uint8_t ct[MLKEM768_CT_SIZE])
{
	int ret = pq_hash(&w->hash, PQ_SHA3_512, m, 32, key->h, 32, w->g, 64);

	if (ret)
		return ret;
	return pke_encrypt(w, key, m, w->g + 32, ct);
}

int mlkem768_encaps(const uint8_t ek[static MLKEM768_EK_SIZE], const uint8_t m[static MLKEM768_RANDOM_SIZE],
		    uint8_t ct[static MLKEM768_CT_SIZE], uint8_t ss[static MLKEM768_SS_SIZE])
{
	struct work *w;
	int ret;

	if (!mlkem768_ek_is_valid(ek))
		return GS_FAIL(GS_ERR_KEY, "invalid ML-KEM-768 encapsulation key (modulus check)");
	ret = work_open(&w);
	if (ret)
		return ret;
	if ((ret = pq_hash(&w->hash, PQ_SHA3_256, ek, MLKEM768_EK_SIZE, NULL, 0, w->key.h, 32)) ||
	    (ret = load_ek(w, ek, &w->key)) || (ret = encaps(w, &w->key, m, ct)))
		goto out;
	memcpy(ss, w->g, 32);
out:
	pq_scratch_close(w);
	return ret;
}

/* An all-ones mask when the n bytes differ, zero when they are equal. */
static uint8_t differ_mask(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint32_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= (uint32_t)(a[i] ^ b[i]);
	/* keep the compiler from turning the select below into a branch */
	__asm__("" : "+r"(acc));
	return (uint8_t)(0u - ((0u - acc) >> 31));
}

/* ML-KEM.Decaps_internal (Algorithm 18). The ciphertext check and the
 * choice between K' and K-bar = J(z || c) are constant-time. */
static int decaps(struct work *w, const struct mlkem768_dk *key, const uint8_t ct[MLKEM768_CT_SIZE],
		  uint8_t ss[MLKEM768_SS_SIZE])
{
	uint8_t mask;
	int ret;

	pke_decrypt(w, key, ct);
	if ((ret = pq_hash(&w->hash, PQ_SHAKE256, key->z, 32, ct, MLKEM768_CT_SIZE, w->k_bar, 32)) ||
	    (ret = encaps(w, key, w->m, w->ct)))
		return ret;
	mask = differ_mask(ct, w->ct, MLKEM768_CT_SIZE);
	for (unsigned i = 0; i < 32; i++)
		ss[i] = (uint8_t)(w->g[i] ^ (mask & (w->g[i] ^ w->k_bar[i])));
	return 0;
}

/* With the decapsulation key's hash check of 7.3: H(ek) is stored in dk. */
int mlkem768_decaps(const uint8_t dk[static MLKEM768_DK_SIZE], const uint8_t ct[static MLKEM768_CT_SIZE],
		    uint8_t ss[static MLKEM768_SS_SIZE])
{
	const uint8_t *ek = dk + PKE_DK_SIZE;
	struct work *w;
	int ret = work_open(&w);

	if (ret)
		return ret;
	if ((ret = pq_hash(&w->hash, PQ_SHA3_256, ek, MLKEM768_EK_SIZE, NULL, 0, w->k_bar, 32)))
		goto out;
	if (sodium_memcmp(w->k_bar, ek + MLKEM768_EK_SIZE, 32) != 0) {
		ret = GS_FAIL(GS_ERR_KEY, "invalid ML-KEM-768 decapsulation key (hash check)");
		goto out;
	}
	if ((ret = load_dk(w, dk, &w->key)))
		goto out;
	ret = decaps(w, &w->key, ct, ss);
out:
	pq_scratch_close(w);
	return ret;
}

int mlkem768_dk_load(const uint8_t dk[MLKEM768_DK_SIZE], struct mlkem768_dk **out)
{
	struct mlkem768_dk *key = gs_secure_alloc(sizeof(*key));
	struct work *w = NULL;
	int ret;

	*out = NULL;
	if (!key)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	ret = work_open(&w);
	if (ret)
		goto out;
	ret = load_dk(w, dk, key);
out:
	pq_scratch_close(w);
	if (ret) {
		gs_secure_free(key);
		return ret;
	}
	*out = key;
	return 0;
}

void mlkem768_dk_free(struct mlkem768_dk *key)
{
	gs_secure_free(key);
}

int mlkem768_decaps_loaded(const struct mlkem768_dk *key, const uint8_t ct[MLKEM768_CT_SIZE],
			   uint8_t ss[MLKEM768_SS_SIZE])
{
	struct work *w;
	int ret = work_open(&w);

	if (ret)
		goto out;
	ret = decaps(w, key, ct, ss);
out:
	pq_scratch_close(w);
	return ret;
}
