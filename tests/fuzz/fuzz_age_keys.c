/* libFuzzer target: identity files and recipients files (keys.c): native
 * X25519 and post-quantum hybrid keys, SSH keys, skipped lines of unknown
 * types. Every identity that parses must give its recipient, and a native
 * one must encode back to a line that parses to the same secret. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/age.h"
#include "gitseal/error.h"
#include "gitseal/secmem.h"

#include "../../src/age/age_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_identity(const struct age_identity *id)
{
	struct age_identity_list again = { 0 };
	char *text = malloc(16384), *line = gs_secure_alloc(AGE_PQ_IDENTITY_LEN + 1);

	if (!text || !line || age_identity_recipient_string(id, text, 16384) != 0)
		abort();
	if (id->type == AGE_KEY_X25519 || id->type == AGE_KEY_MLKEM768X25519) {
		if (age_identity_encode(id, line, AGE_PQ_IDENTITY_LEN + 1) != 0 ||
		    age_identity_list_add_text(&again, line, strlen(line), "again") != 0 || again.count != 1 ||
		    again.items[0]->type != id->type || again.items[0]->secret_len != id->secret_len ||
		    memcmp(again.items[0]->secret, id->secret, id->secret_len) != 0)
			abort();
		age_identity_list_release(&again);
	}
	gs_secure_free(line);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	struct age_identity_list ids = { 0 };
	struct age_recipient_list rl = { 0 };
	char *text;
	int ret;

	if (!initialised) {
		if (gs_crypto_init() != 0)
			abort();
		initialised = 1;
	}
	/* the parsers take NUL-free text of a known length */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ret = age_identity_list_add_text(&ids, text, size, "fuzz");
	if (ret == 0)
		for (size_t i = 0; i < ids.count; i++)
			check_identity(ids.items[i]);
	else if (ids.count != 0 && ret != GS_ERR_PARSE && ret != GS_ERR_KEY && ret != GS_ERR_LIMIT)
		abort();
	age_identity_list_release(&ids);
	(void)age_recipient_list_add_file_text(&rl, text, size, "fuzz");
	age_recipient_list_release(&rl);
	gs_error_clear();
	free(text);
	return 0;
}
