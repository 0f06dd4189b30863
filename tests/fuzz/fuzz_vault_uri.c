/* libFuzzer: a Vault transit key as a file names it (outside the MAC):
 * its URI (vault_key_parse_uri, .sops.yaml's hc_vault_transit_uri and the
 * metadata's), or its three metadata fields (vault_key_init). Byte 0 picks
 * one; the fields are split at NUL bytes. A key that is made:
 *   - names only safe path segments: the engine path's of letters, digits,
 *     '-', '_' and '.', joined by single '/', none "." or ".."; the key
 *     name one such segment; the address a scheme and no path;
 *   - gives a URI (vault_key_uri) that parses back to the same three parts;
 *   - gives a request URL that is exactly address "/v1/" engine "/decrypt/"
 *     key: nothing there to escape, so no other endpoint of the Vault the
 *     token goes to. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/secmem.h"
#include "gitseal/vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool segment_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
	       c == '.';
}

static bool safe_path(const char *s, bool segments)
{
	size_t n = strlen(s), start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '/') {
			if (!segment_char(s[i]))
				return false;
			continue;
		}
		if (i < n && !segments)
			return false;
		if (i == start || (i - start == 1 && s[start] == '.') ||
		    (i - start == 2 && s[start] == '.' && s[start + 1] == '.'))
			return false;
		start = i + 1;
	}
	return true;
}

static void check_key(const struct vault_key *k)
{
	struct vault_key again;
	char *uri, *url, *want = NULL;
	size_t alen;

	if (!safe_path(k->engine_path, true) || !safe_path(k->key_name, false))
		abort();
	alen = strlen(k->address);
	if (!alen || k->address[alen - 1] == '/')
		abort();
	if (!(uri = vault_key_uri(k)) || !(url = vault_transit_url(k, "decrypt")))
		abort();
	/* an address with a '/' of its own (vault_key_init takes it whole)
	 * does not parse back: the URI's path would start there */
	if (!strncmp(k->address, "https://", 8) || !strncmp(k->address, "http://", 7)) {
		const char *host = strstr(k->address, "://") + 3;

		if (*host && !strchr(host, '/')) {
			if (vault_key_parse_uri(uri, &again))
				abort();
			if (strcmp(again.address, k->address) || strcmp(again.engine_path, k->engine_path) ||
			    strcmp(again.key_name, k->key_name))
				abort();
			vault_key_release(&again);
		}
	}
	if (gs_asprintf(&want, "%s/v1/%s/decrypt/%s", k->address, k->engine_path, k->key_name) < 0 ||
	    strcmp(url, want))
		abort();
	free(want);
	free(uri);
	free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct vault_key k;
	char *text, *f[3];
	size_t n = 0;

	if (!ready) {
		if (gs_crypto_init() != 0)
			abort();
		/* a URI of "/v1/..." takes its address from VAULT_ADDR */
		setenv("VAULT_ADDR", "https://vault.example:8200", 1);
		ready = 1;
	}
	if (size < 1 || size > 4096 || !(text = malloc(size + 1)))
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] & 1) {
		f[n++] = text;
		for (size_t i = 0; i + 1 < size && n < 3; i++)
			if (!text[i])
				f[n++] = text + i + 1;
		if (n == 3 && vault_key_init(&k, f[0], f[1], f[2]) == 0) {
			check_key(&k);
			vault_key_release(&k);
		}
	} else if (vault_key_parse_uri(text, &k) == 0) {
		if (strncmp(k.address, "https://", 8) && strncmp(k.address, "http://", 7))
			abort();
		if (strchr(strstr(k.address, "://") + 3, '/'))
			abort();
		check_key(&k);
		vault_key_release(&k);
	}
	gs_error_clear();
	free(text);
	return 0;
}
