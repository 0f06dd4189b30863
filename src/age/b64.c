/* Base64 for the age header (canonical, unpadded: spec §2) and for the
 * armor and SSH public keys (padded, canonical). Everything decoded here
 * is public (stanza arguments and bodies, the MAC, armor lines, public
 * keys), so the decoding is the table-driven gs_base64_decode, several
 * times faster than libsodium's constant-time one on the long hybrid
 * stanza argument and armor; the canonical rule (no bits set past the
 * data) is checked here. Encoding stays libsodium's. */
#include <string.h>

#include <sodium.h>

#include "gitseal/base64.h"

#include "age_int.h"

/* Bytes >= 0x80 and any other byte outside the alphabet are refused
 * first (libsodium 1.0.18's decoder accepted them: fuzz_age_header). */
bool age_b64_chars_ok(const char *s, size_t len, const char *extra)
{
	unsigned bad = 0;
	size_t i;

	/* Arithmetic, not branches: no branch per character (long stanza
	 * arguments and armor lines), and nothing depends on the values. */
	for (i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i];
		unsigned ok = (c - 'A' < 26) | (c - 'a' < 26) | (c - '0' < 10) | (c == '+') | (c == '/');

		bad |= ok ^ 1;
	}
	if (!bad)
		return true;
	if (!extra)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
		      c == '/' || (c != '\0' && strchr(extra, c))))
			return false;
	}
	return true;
}

/* the 6-bit value of an alphabet character */
static unsigned value(char ch)
{
	unsigned c = (unsigned char)ch;

	return c >= 'a' ? c - 'a' + 26 : c >= 'A' ? c - 'A' : c >= '0' ? c - '0' + 52 : c == '+' ? 62 : 63;
}

int age_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t full = len / 4 * 4, rem = len % 4, n = 0;
	unsigned a, b, c;

	if (!age_b64_chars_ok(s, len, NULL) || rem == 1 || full / 4 * 3 + (rem ? rem - 1 : 0) > cap)
		return -1;
	if (full && gs_base64_decode(s, full, out, &n) != 0)
		return -1;
	/* the last 2 or 3 characters: 1 or 2 bytes, and zero bits after them */
	if (rem) {
		a = value(s[full]);
		b = value(s[full + 1]);
		c = rem == 3 ? value(s[full + 2]) : 0;
		if ((rem == 2 && (b & 0x0f)) || (rem == 3 && (c & 0x03)))
			return -1;
		out[n++] = (uint8_t)(a << 2 | b >> 4);
		if (rem == 3)
			out[n++] = (uint8_t)(b << 4 | c >> 2);
	}
	*out_len = n;
	return 0;
}

int age_b64_decode_padded(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t pad = len >= 2 ? (s[len - 1] == '=') + (s[len - 2] == '=') : 0;

	if (!age_b64_chars_ok(s, len, "=") || len % 4 || len / 4 * 3 - pad > cap)
		return -1;
	if (len == 0) {
		*out_len = 0;
		return 0;
	}
	/* canonical: the character before the padding carries no extra bits */
	if ((pad == 1 && (value(s[len - 2]) & 0x03)) || (pad == 2 && (value(s[len - 3]) & 0x0f)))
		return -1;
	return gs_base64_decode(s, len, out, out_len);
}

size_t age_b64_encoded_len(size_t len)
{
	return (len * 4 + 2) / 3;
}

static void encode(const uint8_t *in, size_t len, char *out, size_t cap, int variant)
{
	if (cap < sodium_base64_ENCODED_LEN(len, variant)) {
		if (cap)
			out[0] = '\0';
		return;
	}
	sodium_bin2base64(out, cap, in, len, variant);
}

void age_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	encode(in, len, out, cap, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

void age_b64_encode_padded(const uint8_t *in, size_t len, char *out, size_t cap)
{
	encode(in, len, out, cap, sodium_base64_VARIANT_ORIGINAL);
}
