/* The post-quantum hybrid recipient type mlkem768x25519 (age-pq.md
 * section 5): HPKE base mode over MLKEM768-X25519 wraps the file key. */
#include <string.h>

#include "gitseal/error.h"

#include "age_int.h"

#define PQ_TYPE "mlkem768x25519"
#define PQ_INFO "age-encryption.org/" PQ_TYPE

enum { ENC_B64_SIZE = GS_BASE64_RAW_LEN(MLKEM768X25519_ENC_SIZE) + 1 };

int age_pq_wrap(const struct age_recipient *r, const uint8_t *file_key, struct age_header *h)
{
	uint8_t enc[MLKEM768X25519_ENC_SIZE], body[AGE_WRAPPED_KEY_SIZE];
	char enc_b64[ENC_B64_SIZE];
	const char *args[2] = { PQ_TYPE, enc_b64 };
	int ret;

	ret = hpke_seal(r->pq_pk, PQ_INFO, file_key, AGE_FILE_KEY_SIZE, enc, body);
	if (ret)
		return ret;
	gs_base64_encode_raw(enc, sizeof(enc), enc_b64, sizeof(enc_b64));
	return age_stanza_add(h, args, 2, body, sizeof(body));
}

/* The checks of age-pq.md 5.2, in its order. */
int age_pq_unwrap(const struct age_identity *id, const struct age_stanza *s, uint8_t *file_key)
{
	uint8_t enc[MLKEM768X25519_ENC_SIZE];
	size_t n;
	int ret;

	if (strcmp(s->args[0], PQ_TYPE) != 0)
		return AGE_UNWRAP_SKIP;
	if (s->argc != 2)
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid %s stanza: wrong number of arguments", PQ_TYPE);
	if (gs_base64_decode_raw(s->args[1], strlen(s->args[1]), enc, sizeof(enc), &n) != 0 || n != sizeof(enc))
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid %s stanza: encapsulated key is not %d bytes", PQ_TYPE,
			       MLKEM768X25519_ENC_SIZE);
	/* the body length is checked before any decryption (partitioning oracles) */
	if (s->body_len != AGE_WRAPPED_KEY_SIZE)
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid %s stanza: wrapped key is not 32 bytes", PQ_TYPE);
	ret = hpke_open(id->pq, PQ_INFO, enc, s->body, s->body_len, file_key);
	if (ret == HPKE_OPEN_MISMATCH)
		return AGE_UNWRAP_SKIP;
	if (ret == GS_ERR_KEY)
		return GS_FAIL(GS_ERR_AGE_HEADER, "invalid %s stanza: low-order X25519 share", PQ_TYPE);
	return ret;
}
