/* RE2 patterns on POSIX ERE (src/util/re2posix.c): the regexes of
 * .sops.yaml and of a file's metadata (encrypted_regex and the other
 * selectors sit outside the MAC). Byte 0 picks the mode, the rest up to
 * the first NUL is the pattern, what follows the subject (NUL bytes in it
 * are a key's):
 *   0: any pattern, compiled and matched (a refusal is allowed);
 *   1: the pattern's letters, digits, '_' and '-' only (REGEX_MAX_LEN of
 *      them at most), a literal: it matches exactly when the subject
 *      holds it; with (?i) before it
 *      (bit 0x10), an ASCII subject ignoring case;
 *   2: "^.{n}$", n the pattern's length: it matches exactly when the
 *      subject is n runes as Go counts them (an invalid byte is one) and
 *      holds no line feed ('.' in RE2 takes any rune but '\n'). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/re2posix.h"
#include "gitseal/secmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Go's utf8.DecodeRune: the length of the rune at s, 1 for an invalid
 * byte. Decoded by value here (no overlong form, no surrogate, nothing past
 * U+10FFFF), not by the ranges of the second byte as re2posix.c checks. */
static size_t rune_len(const uint8_t *s, size_t n)
{
	static const uint32_t least[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len = s[0] >= 0xf0 && s[0] < 0xf8 ? 4 : s[0] >= 0xe0 && s[0] < 0xf0 ? 3
		   : s[0] >= 0xc0 && s[0] < 0xe0 ? 2 : 1;
	uint32_t c = s[0] & (0xff >> (len + 1));

	if (len == 1 || n < len)
		return 1;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
		c = c << 6 | (s[i] & 0x3f);
	}
	return c < least[len] || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff ? 1 : len;
}

static size_t rune_count(const uint8_t *s, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i += rune_len(s + i, n - i))
		count++;
	return count;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool holds(const uint8_t *s, size_t n, const char *lit, size_t lit_len, bool fold)
{
	for (size_t i = 0; i + lit_len <= n; i++) {
		size_t j = 0;

		while (j < lit_len && (fold ? lower(s[i + j]) == lower((unsigned char)lit[j])
					    : s[i + j] == (uint8_t)lit[j]))
			j++;
		if (j == lit_len)
			return true;
	}
	return false;
}

static void check(const char *pattern, const uint8_t *subject, size_t n, int want)
{
	regex_t re;
	char *copy;
	int got;

	if (re2posix_compile(&re, pattern) < 0) {
		if (want >= 0) {
			fprintf(stderr, "refused '%s': %s\n", pattern, gs_error_message());
			abort();
		}
		gs_error_clear();
		return;
	}
	/* NUL-terminated as a doc key is: the sanitizers' regexec reads to a
	 * NUL whatever REG_STARTEND says */
	copy = malloc(n + 1);
	if (!copy)
		abort();
	memcpy(copy, subject, n);
	copy[n] = '\0';
	got = re2posix_match_n(&re, copy, n);
	free(copy);
	regfree(&re);
	if (got < 0)
		abort();
	if (want >= 0 && got != want) {
		fprintf(stderr, "'%s' %s the subject (%zu bytes)\n", pattern,
			got ? "matches" : "does not match", n);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	const uint8_t *p, *nul, *subject;
	size_t plen, n;
	char *pattern;
	int mode;

	if (!init) {
		if (gs_crypto_init() < 0)
			abort();
		init = true;
	}
	if (size < 1 || size > 4096)
		return 0;
	mode = data[0] % 3;
	p = data + 1;
	nul = memchr(p, 0, size - 1);
	plen = nul ? (size_t)(nul - p) : size - 1;
	subject = nul ? nul + 1 : p + plen;
	n = (size_t)(data + size - subject);
	pattern = malloc(plen + 32);
	if (!pattern)
		abort();
	if (mode == 0) {
		memcpy(pattern, p, plen);
		pattern[plen] = '\0';
		check(pattern, subject, n, -1);
	} else if (mode == 1) {
		bool fold = data[0] & 0x10, ascii = true;
		size_t k = fold ? 4 : 0;

		memcpy(pattern, "(?i)", 4);
		for (size_t i = 0; i < plen && k - (fold ? 4 : 0) < REGEX_MAX_LEN; i++)
			if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
			    (p[i] >= '0' && p[i] <= '9') || p[i] == '_' || p[i] == '-')
				pattern[k++] = (char)p[i];
		pattern[k] = '\0';
		for (size_t i = 0; i < n; i++)
			ascii = ascii && subject[i] < 0x80;
		if (!fold || ascii)
			check(pattern, subject, n,
			      holds(subject, n, pattern + (fold ? 4 : 0), k - (fold ? 4 : 0), fold));
	} else {
		size_t want = plen % 40;

		snprintf(pattern, plen + 32, "^.{%zu}$", want);
		check(pattern, subject, n, !memchr(subject, '\n', n) && rune_count(subject, n) == want);
	}
	free(pattern);
	return 0;
}
