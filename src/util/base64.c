/* Standard base64, every use of it in gitseal (see gitseal/base64.h for
 * which function serves which format). */
#include <string.h>

#include <sodium.h>

#include "gitseal/base64.h"

/* value + 1 for the alphabet, 65 for '=', 0 for anything else (this also
 * rejects bytes >= 0x80, which libsodium 1.0.18's decoder accepts). */
static const uint8_t decode_table[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
	['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
	['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
	['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
	['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
	['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
	['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
	['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
	['='] = 65,
};

int gs_base64_decode(const char *in, size_t len, uint8_t *out, size_t *out_len)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t n = 0;

	if (len % 4 != 0)
		return -1;
	/* every quad but the last holds no padding: one check for all four */
	for (size_t i = 0; i + 4 < len; i += 4) {
		uint8_t a = (uint8_t)(decode_table[s[i]] - 1), b = (uint8_t)(decode_table[s[i + 1]] - 1);
		uint8_t c = (uint8_t)(decode_table[s[i + 2]] - 1), d = (uint8_t)(decode_table[s[i + 3]] - 1);

		if ((a | b | c | d) > 63)
			return -1;
		out[n++] = (uint8_t)(a << 2 | b >> 4);
		out[n++] = (uint8_t)(b << 4 | c >> 2);
		out[n++] = (uint8_t)(c << 6 | d);
	}
	for (size_t i = len >= 4 ? len - 4 : len; i < len; i += 4) {
		/* 255 after the subtraction marks an invalid byte */
		uint8_t a = (uint8_t)(decode_table[s[i]] - 1), b = (uint8_t)(decode_table[s[i + 1]] - 1);
		uint8_t c = (uint8_t)(decode_table[s[i + 2]] - 1), d = (uint8_t)(decode_table[s[i + 3]] - 1);
		int pad = (c == 64) + (d == 64);

		if (a > 63 || b > 63 || (c == 64 && d != 64) || c == 255 || d == 255)
			return -1;
		if (pad && i + 4 != len)
			return -1; /* padding only at the very end */
		out[n++] = (uint8_t)(a << 2 | b >> 4);
		if (pad < 2)
			out[n++] = (uint8_t)(b << 4 | c >> 2);
		if (pad < 1)
			out[n++] = (uint8_t)(c << 6 | d);
	}
	*out_len = n;
	return 0;
}

bool gs_base64_chars_ok(const char *s, size_t len, const char *extra)
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

/* the 6-bit value of an alphabet character (checked before) */
static unsigned value(char ch)
{
	return (unsigned)decode_table[(unsigned char)ch] - 1;
}

int gs_base64_decode_raw(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t full = len / 4 * 4, rem = len % 4, n = 0;
	unsigned a, b, c;

	if (!gs_base64_chars_ok(in, len, NULL) || rem == 1 || full / 4 * 3 + (rem ? rem - 1 : 0) > cap)
		return -1;
	if (full && gs_base64_decode(in, full, out, &n) != 0)
		return -1;
	/* the last 2 or 3 characters: 1 or 2 bytes, and zero bits after them */
	if (rem) {
		a = value(in[full]);
		b = value(in[full + 1]);
		c = rem == 3 ? value(in[full + 2]) : 0;
		if ((rem == 2 && (b & 0x0f)) || (rem == 3 && (c & 0x03)))
			return -1;
		out[n++] = (uint8_t)(a << 2 | b >> 4);
		if (rem == 3)
			out[n++] = (uint8_t)(b << 4 | c >> 2);
	}
	*out_len = n;
	return 0;
}

int gs_base64_decode_strict(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t pad = len >= 2 ? (in[len - 1] == '=') + (in[len - 2] == '=') : 0;

	if (!gs_base64_chars_ok(in, len, "=") || len % 4 || len / 4 * 3 - pad > cap)
		return -1;
	if (len == 0) {
		*out_len = 0;
		return 0;
	}
	/* canonical: the character before the padding carries no extra bits */
	if ((pad == 1 && (value(in[len - 2]) & 0x03)) || (pad == 2 && (value(in[len - 3]) & 0x0f)))
		return -1;
	return gs_base64_decode(in, len, out, out_len);
}

int gs_base64_decode_secret(const char *in, size_t len, const char *ignore, uint8_t *out, size_t cap,
			    size_t *out_len)
{
	char extra[8] = "=";

	if (ignore && strlen(ignore) < sizeof(extra) - 1)
		strcat(extra, ignore);
	else if (ignore)
		return -1;
	/* the alphabet check is not constant-time in the bytes it refuses,
	 * only in the ones it accepts: a refused input is no secret's encoding */
	if (!gs_base64_chars_ok(in, len, extra))
		return -1;
	return sodium_base642bin(out, cap, in, len, ignore, out_len, NULL, sodium_base64_VARIANT_ORIGINAL) == 0
		       ? 0
		       : -1;
}

static void encode(const uint8_t *in, size_t len, char *out, size_t cap, int variant)
{
	size_t need = sodium_base64_ENCODED_LEN(len, variant);

	if (cap < need) {
		if (cap)
			out[0] = '\0';
		return;
	}
	/* sodium_bin2base64 zeroes the whole buffer past the text: an armor
	 * line written into a 64 KiB buffer cleared the rest of it each time */
	sodium_bin2base64(out, need, in, len, variant);
}

void gs_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	encode(in, len, out, cap, sodium_base64_VARIANT_ORIGINAL);
}

void gs_base64_encode_raw(const uint8_t *in, size_t len, char *out, size_t cap)
{
	encode(in, len, out, cap, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

int gs_base64_append(struct gs_buf *out, const uint8_t *p, size_t n)
{
	size_t size = GS_BASE64_LEN(n) + 1;
	int ret = gs_buf_reserve(out, size);

	if (ret < 0)
		return ret;
	sodium_bin2base64((char *)out->data + out->len, size, p, n, sodium_base64_VARIANT_ORIGINAL);
	out->len += size - 1;
	out->data[out->len] = '\0';
	return 0;
}
