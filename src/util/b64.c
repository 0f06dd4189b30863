#include "gitseal/b64.h"

static bool b64_alphabet(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/';
}

bool gs_b64_std_padded_ok(const char *s, size_t len)
{
	size_t pad = 0;

	if (len % 4 != 0)
		return false;
	while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++) {
		if (!b64_alphabet(s[i]))
			return false;
	}
	return true;
}
