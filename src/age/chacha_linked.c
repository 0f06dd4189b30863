/* ChaCha20-Poly1305 (RFC 8439) for a large payload, from OpenSSL's own
 * ChaCha20 and Poly1305 code (its x86_64 assembly: AVX-512 or AVX2 as the
 * CPU has them) linked into the binary from libcrypto.a, when the build
 * finds it (Makefile, LINKED_CHACHA).
 *
 * Why not OpenSSL's EVP, as before: it needs the shared libcrypto, and
 * opening it and fetching the cipher cost a 256 MiB `age -e` 4-7 ms before
 * the pipeline could start (dlopen 3.5-5 ms, the provider's fetch about 2),
 * while the payload went on at libsodium's third of the speed. The code
 * that runs per byte is the one EVP runs (openssl speed's limit is its
 * speed); what this file adds is RFC 8439's composition around it: the
 * one-time Poly1305 key from block 0, the data from block 1, the tag over
 * the ciphertext, its padding and the two lengths. Opening checks the tag
 * before decrypting, so a chunk that does not authenticate is left as it
 * was.
 *
 * The symbols are weak: a build without the archive (make deb links the
 * shared libraries, so that Debian's updates reach them) has none of them,
 * and stream.c goes through EVP as before. OpenSSL's x86_64cpuid.o would
 * run its CPU detection (cpuid, which this VM traps) in every process from
 * .init: the build takes that section out, and the detection runs here,
 * once, when a large payload starts. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"

#include "age_int.h"

/* OpenSSL's internal interface (include/crypto/chacha.h, poly1305.h), as
 * the archive of the build defines it; x86_64cpuid.o's capability vector
 * and detection (crypto/cpuid.c does what cpu_setup does, less the
 * OPENSSL_ia32cap override from the environment). */
struct poly1305_context;
extern void ChaCha20_ctr32(unsigned char *out, const unsigned char *inp, size_t len, const unsigned int key[8],
			   const unsigned int counter[4]) __attribute__((weak));
extern size_t Poly1305_ctx_size(void) __attribute__((weak));
extern void Poly1305_Init(struct poly1305_context *ctx, const unsigned char key[32]) __attribute__((weak));
extern void Poly1305_Update(struct poly1305_context *ctx, const unsigned char *inp, size_t len)
	__attribute__((weak));
extern void Poly1305_Final(struct poly1305_context *ctx, unsigned char mac[16]) __attribute__((weak));
extern uint64_t OPENSSL_ia32_cpuid(unsigned int *cap) __attribute__((weak));
extern unsigned int OPENSSL_ia32cap_P[4] __attribute__((weak));

enum { POLY_CONTEXT_MAX = 512 }; /* OpenSSL 3.0's context is 248 bytes */

struct age_linked_aead {
	unsigned int key[8];
	/* the one-time Poly1305 key, then the lengths block and the tag */
	uint8_t block[64];
	_Alignas(16) uint8_t poly[POLY_CONTEXT_MAX]; /* as OPENSSL_malloc would give */
};

static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;
static bool turned_off;
/* the self-test's verdict: the archive's code does not give libsodium's bytes */
static bool disagrees;

static void cpu_setup(void)
{
	uint64_t vec = OPENSSL_ia32_cpuid(OPENSSL_ia32cap_P);

	/* bit 10: the vector is set (crypto/cpuid.c) */
	OPENSSL_ia32cap_P[0] = (unsigned int)vec | (1u << 10);
	OPENSSL_ia32cap_P[1] = (unsigned int)(vec >> 32);
}

static void seal_and_open_agree(void);

bool age_linked_aead_available(void)
{
	if (!ChaCha20_ctr32 || !Poly1305_ctx_size || !Poly1305_Init || !Poly1305_Update || !Poly1305_Final ||
	    !OPENSSL_ia32_cpuid || !OPENSSL_ia32cap_P || Poly1305_ctx_size() > POLY_CONTEXT_MAX)
		return false;
	pthread_once(&cpu_once, seal_and_open_agree);
	return !turned_off && !disagrees;
}

void age_linked_aead_turn_off(bool off)
{
	turned_off = off;
}

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int age_linked_aead_new(struct age_linked_aead **out, const uint8_t key[32])
{
	struct age_linked_aead *a = gs_secure_alloc(sizeof(*a));

	*out = NULL;
	if (!a)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	pthread_once(&cpu_once, seal_and_open_agree);
	for (int i = 0; i < 8; i++)
		a->key[i] = load_le32(key + 4 * i);
	*out = a;
	return 0;
}

void age_linked_aead_free(struct age_linked_aead *a)
{
	gs_secure_free(a);
}

static struct poly1305_context *poly(struct age_linked_aead *a)
{
	return (struct poly1305_context *)a->poly;
}

/* The block counter and the nonce as ChaCha20_ctr32 takes them. */
static void counter_words(const uint8_t nonce[12], unsigned int block, unsigned int ctr[4])
{
	ctr[0] = block;
	for (int i = 0; i < 3; i++)
		ctr[i + 1] = load_le32(nonce + 4 * i);
}

/* Poly1305 over the len bytes of ciphertext at ct (no associated data):
 * the tag into a->block. */
static void authenticate(struct age_linked_aead *a, const uint8_t nonce[12], const uint8_t *ct, size_t len)
{
	static const uint8_t zeros[16];
	unsigned int ctr[4];

	counter_words(nonce, 0, ctr);
	memset(a->block, 0, sizeof(a->block));
	ChaCha20_ctr32(a->block, a->block, sizeof(a->block), a->key, ctr);
	Poly1305_Init(poly(a), a->block);
	Poly1305_Update(poly(a), ct, len);
	if (len % 16)
		Poly1305_Update(poly(a), zeros, 16 - len % 16);
	/* the associated data's length (0), then the ciphertext's, little-endian */
	memset(a->block, 0, sizeof(a->block));
	for (int i = 0; i < 8; i++)
		a->block[8 + i] = (uint8_t)((uint64_t)len >> (8 * i));
	Poly1305_Update(poly(a), a->block, 16);
	/* Final wipes the context */
	Poly1305_Final(poly(a), a->block);
}

void age_linked_seal(struct age_linked_aead *a, const uint8_t nonce[12], uint8_t *buf, size_t len)
{
	unsigned int ctr[4];

	counter_words(nonce, 1, ctr);
	ChaCha20_ctr32(buf, buf, len, a->key, ctr);
	authenticate(a, nonce, buf, len);
	memcpy(buf + len, a->block, AGE_TAG_SIZE);
}

int age_linked_open(struct age_linked_aead *a, const uint8_t nonce[12], uint8_t *buf, size_t ct_len)
{
	size_t len = ct_len - AGE_TAG_SIZE;
	unsigned int ctr[4];

	authenticate(a, nonce, buf, len);
	if (crypto_verify_16(a->block, buf + len) != 0)
		return 1;
	counter_words(nonce, 1, ctr);
	ChaCha20_ctr32(buf, buf, len, a->key, ctr);
	return 0;
}

/* Once, before the first use: the internal interface above is declared by
 * hand, so an archive from another OpenSSL whose functions take other
 * arguments must not seal a single payload. A known answer from libsodium's
 * ChaCha20-Poly1305 over a length that takes OpenSSL's widest code path
 * (several 64-byte blocks, a partial 16-byte block) decides; any
 * difference sends every payload through EVP. */
static void seal_and_open_agree(void)
{
	enum { LEN = 4096 + 7 };
	uint8_t want[LEN + AGE_TAG_SIZE], got[LEN + AGE_TAG_SIZE];
	struct age_linked_aead test;
	uint8_t key[32], nonce[12];

	cpu_setup();
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x80 + i);
	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(0x40 + i);
	for (size_t i = 0; i < LEN; i++)
		got[i] = (uint8_t)(i * 7 + 3);
	crypto_aead_chacha20poly1305_ietf_encrypt(want, NULL, got, LEN, NULL, 0, NULL, nonce, key);
	for (int i = 0; i < 8; i++)
		test.key[i] = load_le32(key + 4 * i);
	age_linked_seal(&test, nonce, got, LEN);
	disagrees = memcmp(got, want, sizeof(want)) != 0;
	if (!disagrees)
		disagrees = age_linked_open(&test, nonce, got, sizeof(got)) != 0 || got[LEN - 1] != (uint8_t)((LEN - 1) * 7 + 3);
}
