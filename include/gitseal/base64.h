/* Padded standard base64 (RFC 4648 section 4), as Go's base64.StdEncoding
 * reads and writes it: the encoding of sops's ENC[...] fields. Table-driven
 * and strict about the alphabet and padding. Not constant-time: use it for
 * ciphertexts, IVs and tags, never for secrets. */
#ifndef GITSEAL_BASE64_H
#define GITSEAL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Decodes len characters (a multiple of 4) into out, which holds at least
 * len / 4 * 3 bytes. Returns 0, or -1 on any invalid input. */
int gs_base64_decode(const char *in, size_t len, uint8_t *out, size_t *out_len)
	__attribute__((warn_unused_result));

#endif
