/* ENC[...] parser and value decryption (spec 2.1), and the value round
 * trip: the input (byte 0 the type, byte 1 the IV length, the rest the
 * plaintext, not empty: sops leaves an empty value as it is) encrypted under two IV lengths with one reused cipher must
 * parse and decrypt back to exactly that plaintext and type by every
 * decrypt path (a copy, in place, a fresh cipher), must not decrypt under
 * another AAD, and with one character of its text changed must either
 * fail or give the same plaintext. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "../../src/sops/sops_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t key[SOPS_DATA_KEY_SIZE];

/* dec decrypted by every path gives plain and type, or (must_fail) by none */
static void decrypts_to(struct sops_cipher *c, const struct gs_buf *enc, const char *aad,
			const uint8_t *plain, size_t len, enum sops_value_type type, bool may_fail)
{
	struct gs_buf got;
	enum sops_value_type got_type;
	size_t in_place_len = 0;
	char *copy;
	int ret, in_place;

	gs_buf_init(&got, true);
	ret = sops_value_decrypt_with(c, key, (const char *)enc->data, enc->len, aad, strlen(aad),
				      &got, &got_type);
	if (ret == 0 && (got.len != len || (len && memcmp(got.data, plain, len) != 0)))
		abort();
	if (ret == 0 && !may_fail && got_type != type)
		abort();
	if (ret < 0 && !may_fail)
		abort();
	copy = malloc(enc->len + 1);
	if (!copy)
		abort();
	memcpy(copy, enc->data, enc->len);
	copy[enc->len] = '\0';
	in_place = sops_value_decrypt_in_place(c, key, copy, enc->len, aad, strlen(aad),
					       &in_place_len, &got_type);
	if (in_place == 0 && (ret < 0 || in_place_len != got.len ||
			      memcmp(copy, got.data, in_place_len) != 0 || copy[in_place_len]))
		abort();
	if (in_place < 0 && ret == 0)
		abort();
	free(copy);
	gs_buf_release(&got);
}

static void round_trip(const uint8_t *data, size_t size)
{
	enum sops_value_type type = (enum sops_value_type)(data[0] % 7);
	size_t iv_len = 1 + data[1] % 40, len = size - 2;
	const uint8_t *plain = data + 2;
	uint8_t iv[40];
	struct sops_cipher c;
	struct gs_buf enc, enc2;
	struct sops_enc_fields f;

	for (size_t i = 0; i < sizeof(iv); i++)
		iv[i] = (uint8_t)(i * 7 + data[1]);
	sops_cipher_init(&c);
	gs_buf_init(&enc, false);
	gs_buf_init(&enc2, false);
	if (sops_value_encrypt_with(&c, key, plain, len, type, "bar:", 4, iv, iv_len, &enc) < 0 ||
	    sops_value_encrypt_with(&c, key, plain, len, type, "bar:", 4, iv, SOPS_IV_SIZE, &enc2) < 0)
		abort();
	if (sops_enc_parse((const char *)enc.data, enc.len, &f) < 0 || f.data_len == 0 ||
	    f.iv_len == 0 || f.type + f.type_len != (const char *)enc.data + enc.len - 1)
		abort();
	decrypts_to(&c, &enc, "bar:", plain, len, type, false);
	decrypts_to(&c, &enc2, "bar:", plain, len, type, false);
	{
		struct gs_buf got;
		enum sops_value_type t;

		gs_buf_init(&got, true);
		if (sops_value_decrypt(key, (const char *)enc.data, enc.len, "baz:", 4, &got, &t) == 0)
			abort();
		gs_buf_release(&got);
	}
	/* one character changed: no other plaintext comes out */
	if (enc.len > 4) {
		size_t at = 4 + (size_t)data[1] * 31 % (enc.len - 4);

		enc.data[at] ^= (uint8_t)(1 + data[0] % 0x3f);
		decrypts_to(&c, &enc, "bar:", plain, len, type, true);
	}
	gs_buf_release(&enc);
	gs_buf_release(&enc2);
	sops_cipher_release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct sops_enc_fields f;
	struct gs_buf plain, canon;
	enum sops_value_type type;
	char *s;

	if (!init) {
		if (gs_crypto_init() < 0)
			abort();
		memset(key, 'f', sizeof(key));
		init = true;
	}
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (sops_enc_parse(s, size, &f) == 0) {
		if (f.data < s + 20 || f.type + f.type_len > s + size)
			abort();
	}
	gs_buf_init(&plain, true);
	gs_buf_init(&canon, true);
	if (sops_value_decrypt(key, s, size, "bar:", 4, &plain, &type) == 0)
		(void)sops_plaintext_canonical(type, plain.data, plain.len, &canon);
	/* typed plaintext conversion on arbitrary text */
	(void)sops_plaintext_canonical((enum sops_value_type)(size % 7), data, size, &canon);
	gs_buf_release(&plain);
	gs_buf_release(&canon);
	free(s);
	if (size > 2)
		round_trip(data, size);
	return 0;
}
