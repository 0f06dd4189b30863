/* Shamir secret sharing of the data key across key groups (spec 9; sops
 * shamir/shamir.go): GF(2^8) with the AES polynomial 0x11B, share i
 * evaluated at x = i + 1 and encoded as 32 y bytes then x. */
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "sops_int.h"

/* Multiplication without data-dependent branches. */
static uint8_t gf_mul(uint8_t a, uint8_t b)
{
	uint8_t r = 0;

	for (int i = 0; i < 8; i++) {
		r ^= (uint8_t)(-(b & 1) & a);
		a = (uint8_t)((a << 1) ^ (-(a >> 7) & 0x1B));
		b >>= 1;
	}
	return r;
}

static uint8_t gf_inv(uint8_t a)
{
	uint8_t r = 1, p = a;

	/* a^254 = a^-1 (and 0 -> 0) */
	for (int e = 254; e; e >>= 1) {
		if (e & 1)
			r = gf_mul(r, p);
		p = gf_mul(p, p);
	}
	return r;
}

int sops_shamir_split(const uint8_t secret[SOPS_DATA_KEY_SIZE], int n, int threshold, uint8_t *shares)
{
	uint8_t coef[255];

	if (threshold < 2 || n < threshold || n > 255)
		return GS_FAIL(GS_ERR_USAGE, "invalid shamir threshold %d for %d key groups", threshold, n);
	for (int j = 0; j < SOPS_DATA_KEY_SIZE; j++) {
		coef[0] = secret[j];
		randombytes_buf(coef + 1, (size_t)threshold - 1);
		for (int i = 0; i < n; i++) {
			uint8_t x = (uint8_t)(i + 1), y = 0;

			for (int k = threshold - 1; k >= 0; k--)
				y = gf_mul(y, x) ^ coef[k];
			shares[i * SOPS_SHARE_SIZE + j] = y;
			shares[i * SOPS_SHARE_SIZE + SOPS_DATA_KEY_SIZE] = x;
		}
	}
	sodium_memzero(coef, sizeof(coef));
	return 0;
}

int sops_shamir_combine(const uint8_t *shares, size_t count, uint8_t secret[SOPS_DATA_KEY_SIZE])
{
	uint8_t out[SOPS_DATA_KEY_SIZE] = { 0 };

	if (count < 2 || count > 255)
		return GS_FAIL(GS_ERR_NO_DATA_KEY, "not enough key shares");
	for (size_t i = 0; i < count; i++) {
		uint8_t xi = shares[i * SOPS_SHARE_SIZE + SOPS_DATA_KEY_SIZE];

		for (size_t k = 0; k < i; k++)
			if (shares[k * SOPS_SHARE_SIZE + SOPS_DATA_KEY_SIZE] == xi)
				return GS_FAIL(GS_ERR_NO_DATA_KEY, "duplicate key shares");
	}
	for (size_t i = 0; i < count; i++) {
		uint8_t xi = shares[i * SOPS_SHARE_SIZE + SOPS_DATA_KEY_SIZE], basis = 1;

		/* Lagrange basis at 0: prod x_k / (x_i - x_k), '-' being XOR */
		for (size_t k = 0; k < count; k++) {
			uint8_t xk = shares[k * SOPS_SHARE_SIZE + SOPS_DATA_KEY_SIZE];

			if (k != i)
				basis = gf_mul(basis, gf_mul(xk, gf_inv(xi ^ xk)));
		}
		for (int j = 0; j < SOPS_DATA_KEY_SIZE; j++)
			out[j] ^= gf_mul(shares[i * SOPS_SHARE_SIZE + j], basis);
	}
	memcpy(secret, out, sizeof(out));
	sodium_memzero(out, sizeof(out));
	return 0;
}
