/* The scrypt passphrase recipient type (spec §4.2). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"

#include "age_int.h"

#define SCRYPT_LABEL "age-encryption.org/v1/scrypt"

enum { SCRYPT_SALT_SIZE = 16 };

/* spec §4.2: ^[1-9][0-9]*$, bounded, by hand. */
int age_scrypt_parse_log_n(const char *s, int *log_n)
{
	long v = 0;

	if (*s < '1' || *s > '9')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > 1000)
			return -1;
	}
	*log_n = (int)v;
	return 0;
}

static int derive(const uint8_t *pass, size_t pass_len, const uint8_t *salt, int log_n, uint8_t *key)
{
	uint8_t full_salt[sizeof(SCRYPT_LABEL) - 1 + SCRYPT_SALT_SIZE];

	memcpy(full_salt, SCRYPT_LABEL, sizeof(SCRYPT_LABEL) - 1);
	memcpy(full_salt + sizeof(SCRYPT_LABEL) - 1, salt, SCRYPT_SALT_SIZE);
	if (crypto_pwhash_scryptsalsa208sha256_ll(pass, pass_len, full_salt, sizeof(full_salt),
						  (uint64_t)1 << log_n, 8, 1, key, 32) != 0)
		return GS_FAIL(GS_ERR_NOMEM, "scrypt failed (out of memory?)");
	return 0;
}

int age_scrypt_wrap(const struct age_recipient *r, const uint8_t *file_key, struct age_header *h)
{
	uint8_t salt[SCRYPT_SALT_SIZE], body[AGE_WRAPPED_KEY_SIZE];
	uint8_t *key = gs_secure_alloc(32);
	char salt_b64[32], work[16];
	const char *args[3] = { "scrypt", salt_b64, work };
	int ret;

	if (!key)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	randombytes_buf(salt, sizeof(salt));
	if ((ret = derive(r->passphrase, r->passphrase_len, salt, r->log_n, key)))
		goto out;
	age_aead_wrap(key, file_key, body);
	gs_base64_encode_raw(salt, sizeof(salt), salt_b64, sizeof(salt_b64));
	snprintf(work, sizeof(work), "%d", r->log_n);
	ret = age_stanza_add(h, args, 3, body, sizeof(body));
out:
	gs_secure_free(key);
	return ret;
}

int age_scrypt_unwrap(const struct age_identity *id, const struct age_stanza *s, uint8_t *file_key)
{
	uint8_t salt[SCRYPT_SALT_SIZE];
	uint8_t *key;
	size_t n;
	int log_n, ret;

	if (strcmp(s->args[0], "scrypt") != 0)
		return AGE_UNWRAP_SKIP;
	if (s->argc != 3 || gs_base64_decode_raw(s->args[1], strlen(s->args[1]), salt, sizeof(salt), &n) != 0 ||
	    n != sizeof(salt))
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid scrypt stanza");
	if (age_scrypt_parse_log_n(s->args[2], &log_n) != 0)
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid scrypt stanza: malformed work factor");
	if (log_n > AGE_SCRYPT_LOG_N_MAX)
		return GS_FAIL(GS_ERR_AGE_HEADER, "scrypt work factor %d is too large (maximum %d)", log_n,
			       AGE_SCRYPT_LOG_N_MAX);
	if (s->body_len != AGE_WRAPPED_KEY_SIZE)
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid scrypt stanza: wrapped key is not 32 bytes");
	key = gs_secure_alloc(32);
	if (!key)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	if ((ret = derive(id->secret, id->secret_len, salt, log_n, key)))
		goto out;
	ret = age_aead_unwrap(key, s->body, s->body_len, file_key, "scrypt");
out:
	gs_secure_free(key);
	return ret;
}
