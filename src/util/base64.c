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
	for (size_t i = 0; i < len; i += 4) {
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
