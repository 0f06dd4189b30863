/* ENC[...] parser and value decryption (spec 2.1). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "../../src/sops/sops_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	static uint8_t key[SOPS_DATA_KEY_SIZE];
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
	return 0;
}
