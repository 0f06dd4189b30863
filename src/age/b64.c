/* Base64 for the age header (canonical, unpadded: spec §2) and for the
 * armor and SSH keys (padded). libsodium rejects non-zero trailing bits;
 * b64_end must stay NULL so that a decode never stops early at '='. */
#include <string.h>

#include <sodium.h>

#include "age_int.h"

/* libsodium 1.0.18's decoder accepts every byte >= 0x80 as if it were a
 * base64 character (found by fuzz_age_header), so the alphabet is checked
 * here first. */
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

static int decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len, int variant)
{
	uint8_t dummy;

	if (!age_b64_chars_ok(s, len, variant == sodium_base64_VARIANT_ORIGINAL ? "=" : NULL))
		return -1;
	if (len == 0) {
		*out_len = 0;
		return 0;
	}
	if (sodium_base642bin(cap ? out : &dummy, cap, s, len, NULL, out_len, NULL, variant) != 0)
		return -1;
	return 0;
}

int age_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	return decode(s, len, out, cap, out_len, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

int age_b64_decode_padded(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	return decode(s, len, out, cap, out_len, sodium_base64_VARIANT_ORIGINAL);
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
