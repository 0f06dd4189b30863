/* HashiCorp Vault transit as a key source (sops hcvault/keysource.go): the
 * data key (or a Shamir share) is encrypted by Vault's transit engine with
 * a named key; the file stores Vault's "vault:v1:..." ciphertext.
 *
 * Token: VAULT_TOKEN, else ~/.vault-token. TLS is verified (VAULT_CACERT
 * adds a CA bundle); plain http:// is accepted for loopback addresses only.
 * Timeout: GITSEAL_VAULT_TIMEOUT seconds (default 30). Thread-safe. */
#ifndef GITSEAL_VAULT_H
#define GITSEAL_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "gitseal/secmem.h"

struct vault_key {
	char *address;     /* scheme://host[:port], no trailing slash */
	char *engine_path; /* "transit", may contain slashes */
	char *key_name;
};

/* "https://vault:8200/v1/transit/keys/NAME" (sops's hc_vault_transit_uri);
 * a URI starting with "/v1/" takes its address from VAULT_ADDR. */
int vault_key_parse_uri(const char *uri, struct vault_key *out) __attribute__((warn_unused_result));
/* Builds a key from the metadata fields (copies them). engine_path and
 * key_name come from a file's metadata (outside the MAC), so only segments
 * of letters, digits, '-', '_' and '.' are accepted (not "." or ".."), the
 * engine path joining several with single '/'; anything else (?, #, %,
 * "..", an empty segment, ...) fails with GS_ERR_KEY. */
int vault_key_init(struct vault_key *k, const char *address, const char *engine_path,
		   const char *key_name) __attribute__((warn_unused_result));
/* The canonical URI of a key (malloc'd), NULL when out of memory. */
char *vault_key_uri(const struct vault_key *k);
void vault_key_release(struct vault_key *k);

/* "{address}/v1/{engine}/{op}/{key}", every part percent-encoded (RFC 3986
 * unreserved characters kept, '/' kept between engine segments); malloc'd,
 * NULL when out of memory. */
char *vault_transit_url(const struct vault_key *k, const char *op);

/* POST {address}/v1/{engine}/encrypt/{key}; ciphertext receives "vault:v1:...". */
int vault_encrypt(const struct vault_key *k, const uint8_t *plain, size_t len, struct gs_buf *ciphertext)
	__attribute__((warn_unused_result));
/* POST {address}/v1/{engine}/decrypt/{key}; plain (a secure buffer) receives the bytes. */
int vault_decrypt(const struct vault_key *k, const char *ciphertext, size_t len, struct gs_buf *plain)
	__attribute__((warn_unused_result));

/* Finds the string value at data.<field> in a Vault JSON response and
 * appends it (JSON escapes decoded) to out. GS_ERR_PARSE when absent or
 * empty.
 * Exposed for tests and the fuzz target. */
int vault_response_field(const char *json, size_t len, const char *field, struct gs_buf *out)
	__attribute__((warn_unused_result));

#endif
