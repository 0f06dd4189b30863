/* The native X25519 recipient type (spec §4.1). */
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/random.h"

#include "age_int.h"

#define X25519_LABEL "age-encryption.org/v1/X25519"

/* wrap key = HKDF(ss, salt = share || recipient, label) */
static int wrap_key(const uint8_t *ss, const uint8_t *share, const uint8_t *recipient, uint8_t *key)
{
	uint8_t salt[64];

	memcpy(salt, share, 32);
	memcpy(salt + 32, recipient, 32);
	return age_hkdf_sha256(ss, 32, salt, sizeof(salt), X25519_LABEL, key, 32);
}

int age_x25519_wrap(const struct age_recipient *r, const uint8_t *file_key, struct age_header *h)
{
	uint8_t *sec = gs_secure_alloc(32 + 32 + 32); /* ephemeral, ss, wrap key */
	uint8_t share[32], body[AGE_WRAPPED_KEY_SIZE];
	char share_b64[48];
	const char *args[2] = { "X25519", share_b64 };
	int ret;

	if (!sec)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	gs_random_buf(sec, 32);
	crypto_scalarmult_base(share, sec);
	if (crypto_scalarmult(sec + 32, sec, r->pk) != 0) {
		ret = GS_FAIL(GS_ERR_KEY, "invalid X25519 recipient");
		goto out;
	}
	ret = wrap_key(sec + 32, share, r->pk, sec + 64);
	if (ret)
		goto out;
	age_aead_wrap(sec + 64, file_key, body);
	gs_base64_encode_raw(share, sizeof(share), share_b64, sizeof(share_b64));
	ret = age_stanza_add(h, args, 2, body, sizeof(body));
out:
	gs_secure_free(sec);
	return ret;
}

int age_x25519_unwrap(const struct age_identity *id, const struct age_stanza *s, uint8_t *file_key)
{
	uint8_t *sec;
	uint8_t share[32], pk[32];
	bool hinted;
	size_t n;
	int ret;

	if (strcmp(s->args[0], "X25519") != 0)
		return AGE_UNWRAP_SKIP;
	if (s->argc != 2 || gs_base64_decode_raw(s->args[1], strlen(s->args[1]), share, sizeof(share), &n) != 0 ||
	    n != sizeof(share))
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid X25519 stanza");
	if (s->body_len != AGE_WRAPPED_KEY_SIZE)
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid X25519 stanza: wrapped key is not 32 bytes");
	sec = gs_secure_alloc(64);
	if (!sec)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	/* spec §4.1: an all-zero shared secret (low-order share) is an error. */
	if (crypto_scalarmult(sec, id->secret, share) != 0) {
		ret = GS_FAIL(GS_ERR_AGE_HEADER, "invalid X25519 stanza: low-order share");
		goto out;
	}
	hinted = age_identity_pk(id, pk);
	if ((ret = wrap_key(sec, share, pk, sec + 32)))
		goto out;
	ret = age_aead_unwrap(sec + 32, s->body, s->body_len, file_key, "X25519");
	/* a point taken from the key file's word and found wrong: once more */
	if (ret == AGE_UNWRAP_SKIP && hinted && age_identity_pk_recheck(id, pk) &&
	    !(ret = wrap_key(sec, share, pk, sec + 32)))
		ret = age_aead_unwrap(sec + 32, s->body, s->body_len, file_key, "X25519");
out:
	gs_secure_free(sec);
	return ret;
}
