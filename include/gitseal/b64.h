/* Input checks for base64 before it reaches libsodium. */
#ifndef GITSEAL_B64_H
#define GITSEAL_B64_H

#include <stdbool.h>
#include <stddef.h>

/* True when s is padded standard base64 text (RFC 4648 section 4, as Go's
 * base64.StdEncoding takes it): a multiple of 4 characters from the
 * standard alphabet, with at most two '=' and only at the end.
 * libsodium 1.0.18's sodium_base642bin decodes bytes >= 0x80 as '/', so
 * text must pass this check before it is decoded. */
bool gs_b64_std_padded_ok(const char *s, size_t len);

#endif
