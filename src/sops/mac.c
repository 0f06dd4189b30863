/* The MAC (spec 4; sops.go Tree.Encrypt/Decrypt, common.go EncryptTree and
 * DecryptTree): SHA-512 over the typed plaintext of the leaves, uppercase
 * hex, stored encrypted under the data key with lastmodified as AAD. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "gitseal/dynlib.h"
#include "gitseal/error.h"
#include "sops_int.h"

/* SHA-512 fetched once, by the warming thread when there is one
 * (sops_crypto_warm): OpenSSL's first fetch of a digest sets up all of
 * the provider's digests, 0.6 M instructions that were the caller's
 * before its first value; EVP_sha512() would also look it up again at
 * every init. */
static EVP_MD *sha512;
static pthread_once_t sha512_once = PTHREAD_ONCE_INIT;

static void sha512_fetch(void)
{
	sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
}

void sops_mac_warm(void)
{
	pthread_once(&sha512_once, sha512_fetch);
}

int sops_mac_init(struct sops_mac *m, bool only_encrypted)
{
	EVP_MD_CTX *ctx;
	uint8_t prefix[32];
	unsigned int plen = 0;
	int ret;

	m->md = NULL;
	m->only_encrypted = only_encrypted;
	if ((ret = gs_libcrypto_load()) < 0)
		return ret;
	sops_mac_warm();
	ctx = EVP_MD_CTX_new();
	if (!ctx || !sha512 || EVP_DigestInit_ex(ctx, sha512, NULL) != 1)
		goto fail;
	/* sops MACOnlyEncryptedInitialization = SHA-256("sops"), so the two
	 * modes never give the same MAC (spec 4.2). */
	if (only_encrypted &&
	    (EVP_Digest("sops", 4, prefix, &plen, EVP_sha256(), NULL) != 1 ||
	     EVP_DigestUpdate(ctx, prefix, plen) != 1))
		goto fail;
	m->md = ctx;
	return 0;
fail:
	/* the default provider always has SHA-512 and SHA-256: only a lack
	 * of memory makes them fail */
	EVP_MD_CTX_free(ctx);
	return GS_FAIL(GS_ERR_NOMEM, "cannot initialise SHA-512: out of memory");
}

int sops_mac_update(struct sops_mac *m, const uint8_t *p, size_t n)
{
	if (n && EVP_DigestUpdate(m->md, p, n) != 1)
		return GS_FAIL(GS_ERR_GENERIC, "SHA-512 update failed");
	return 0;
}

int sops_mac_final(struct sops_mac *m, char hex[129])
{
	static const char digits[] = "0123456789ABCDEF";
	uint8_t md[64];
	unsigned int len = 0;
	int ret = 0;

	if (EVP_DigestFinal_ex(m->md, md, &len) != 1 || len != 64) {
		ret = GS_FAIL(GS_ERR_GENERIC, "SHA-512 failed");
	} else {
		for (size_t i = 0; i < 64; i++) {
			hex[2 * i] = digits[md[i] >> 4];
			hex[2 * i + 1] = digits[md[i] & 15];
		}
		hex[128] = '\0';
	}
	sops_mac_release(m);
	return ret;
}

void sops_mac_release(struct sops_mac *m)
{
	EVP_MD_CTX_free(m->md);
	m->md = NULL;
}

static int digits_at(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* n as two (or four) decimal digits at out */
static char *put_digits(char *out, int n, int width)
{
	for (int i = width - 1; i >= 0; i--, n /= 10)
		out[i] = (char)('0' + n % 10);
	return out + width;
}

/* RFC 3339 as Go's time.Parse(time.RFC3339) reads it, written back as Go's
 * Format(time.RFC3339) would: no fraction, "Z" for a zero offset. Written
 * digit by digit: snprintf was a fifth of a small file's MAC check. */
int sops_time_canonical(const char *s, size_t len, char *out, size_t cap)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	size_t i = 19;
	char *o = out;

	if (len < 20 || digits_at(s, 4, &y) || s[4] != '-' || digits_at(s + 5, 2, &mo) ||
	    s[7] != '-' || digits_at(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    digits_at(s + 11, 2, &h) || s[13] != ':' || digits_at(s + 14, 2, &mi) ||
	    s[16] != ':' || digits_at(s + 17, 2, &sec))
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
		goto bad;
	if (s[i] == '.') {
		size_t start = ++i;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			goto bad;
	}
	if (!(i < len && (s[i] == 'Z' || s[i] == 'z') && i + 1 == len) &&
	    (i + 6 != len || (s[i] != '+' && s[i] != '-') || digits_at(s + i + 1, 2, &oh) ||
	     s[i + 3] != ':' || digits_at(s + i + 4, 2, &om) || oh > 23 || om > 59))
		goto bad;
	/* "YYYY-MM-DDTHH:MM:SS" then "Z" or "+hh:mm", and the NUL */
	if (cap < SOPS_TIME_CANONICAL_MAX)
		return GS_FAIL(GS_ERR_LIMIT, "no room for a timestamp");
	o = put_digits(o, y, 4);
	*o++ = '-';
	o = put_digits(o, mo, 2);
	*o++ = '-';
	o = put_digits(o, d, 2);
	*o++ = 'T';
	o = put_digits(o, h, 2);
	*o++ = ':';
	o = put_digits(o, mi, 2);
	*o++ = ':';
	o = put_digits(o, sec, 2);
	if (oh == 0 && om == 0) {
		*o++ = 'Z';
	} else {
		*o++ = s[i];
		o = put_digits(o, oh, 2);
		*o++ = ':';
		o = put_digits(o, om, 2);
	}
	*o = '\0';
	return 0;
bad:
	return GS_FAIL(GS_ERR_PARSE, "invalid lastmodified timestamp");
}

int sops_time_now(char out[32])
{
	/* clock_gettime, not time(): glibc's time() is resolved at start-up
	 * (an IFUNC), a page of libc's code faulted in by every process */
	struct timespec now;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &now) != 0 || !gmtime_r(&now.tv_sec, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return GS_FAIL(GS_ERR_GENERIC, "cannot format the current time");
	return 0;
}

int sops_mac_encrypt(const uint8_t key[SOPS_DATA_KEY_SIZE], const char hex[129],
		     const char *lastmodified, struct gs_buf *out)
{
	return sops_value_encrypt(key, (const uint8_t *)hex, 128, SOPS_TYPE_STR, lastmodified,
				  strlen(lastmodified), NULL, 0, out);
}

int sops_mac_check(struct sops_cipher *c, const uint8_t key[SOPS_DATA_KEY_SIZE], const char *stored, size_t stored_len,
		   const char *lastmodified, size_t lm_len, const char hex[129])
{
	char aad[64];
	struct gs_buf plain;
	enum sops_value_type type;
	int ret;

	if (!stored || !stored_len)
		return GS_FAIL(GS_ERR_MAC_MISMATCH, "no MAC");
	if (!lastmodified || (ret = sops_time_canonical(lastmodified, lm_len, aad, sizeof(aad))) < 0)
		return GS_FAIL(GS_ERR_MAC_MISMATCH, "MAC mismatch: invalid lastmodified");
	gs_buf_init(&plain, true);
	ret = sops_value_decrypt_with(c, key, stored, stored_len, aad, strlen(aad), &plain, &type);
	if (ret == GS_ERR_NOMEM)
		goto out; /* says nothing of the MAC */
	if (ret < 0) {
		ret = GS_FAIL(GS_ERR_MAC_MISMATCH, "MAC mismatch: stored MAC cannot be decrypted");
		goto out;
	}
	if (plain.len != 128 || sodium_memcmp(plain.data, hex, 128) != 0) {
		ret = GS_FAIL(GS_ERR_MAC_MISMATCH, "MAC mismatch");
		goto out;
	}
	ret = 0;
out:
	gs_buf_release(&plain);
	return ret;
}
