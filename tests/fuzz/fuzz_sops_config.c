/* .sops.yaml parser and rule matching (spec 10). The input up to its
 * first NUL byte is the config; what follows, when there is a NUL, is a
 * file path below the config's directory, matched as well as a fixed one.
 * A match is one of the config's rules; only a rule with no path_regex
 * (or an empty one) matches every path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/config.h"
#include "gitseal/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void match(const struct sops_config *c, const char *path)
{
	const struct sops_rule *r = NULL;
	int ret = sops_config_match(c, path, &r);

	if (ret == 0 && (!r || r < c->rules || r >= c->rules + c->rule_count))
		abort();
	if (ret != 0 && r)
		abort();
	/* a rule before the match that matches every path would have won */
	for (size_t i = 0; ret == 0 && c->rules + i < r; i++)
		if (!c->rules[i].path_regex || !c->rules[i].path_regex[0])
			abort();
	gs_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct sops_config *c = NULL;
	const uint8_t *nul = memchr(data, 0, size);
	size_t config_len = nul ? (size_t)(nul - data) : size;

	if (!init) {
		if (gs_crypto_init() < 0)
			abort();
		init = true;
	}
	if (sops_config_parse((const char *)data, config_len, "/repo", &c) == 0) {
		match(c, "/repo/secrets/app.dev.yaml");
		if (nul) {
			size_t rest = size - config_len - 1;
			char *path = malloc(rest + 7);

			if (!path)
				abort();
			memcpy(path, "/repo/", 6);
			memcpy(path + 6, nul + 1, rest);
			path[6 + rest] = '\0';
			match(c, path);
			free(path);
		}
		sops_config_free(c);
	}
	gs_error_clear();
	return 0;
}
