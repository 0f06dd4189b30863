/* .sops.yaml parser and rule matching (spec 10). */
#include <stdint.h>
#include <stdlib.h>

#include "gitseal/config.h"
#include "gitseal/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct sops_config *c = NULL;
	const struct sops_rule *r;

	if (!init) {
		if (gs_crypto_init() < 0)
			abort();
		init = true;
	}
	if (sops_config_parse((const char *)data, size, "/repo", &c) == 0) {
		(void)sops_config_match(c, "/repo/secrets/app.dev.yaml", &r);
		sops_config_free(c);
	}
	return 0;
}
