/* libFuzzer: the Vault response reader (data.<field> of a JSON reply). */
#include <stdint.h>
#include <stdlib.h>

#include "gitseal/secmem.h"
#include "gitseal/vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct gs_buf out;

	if (!ready) {
		if (gs_crypto_init() != 0)
			abort();
		ready = 1;
	}
	gs_buf_init(&out, true);
	if (vault_response_field((const char *)data, size, "plaintext", &out) == 0 && !out.data)
		abort();
	gs_buf_release(&out);
	return 0;
}
