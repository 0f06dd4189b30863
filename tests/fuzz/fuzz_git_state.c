/* Text the git side reads from places a clone, another tool or a pull
 * request fills, beside the filter's own files:
 *   byte 0 even: .git/info/attributes (gitpins_exposed, pins.c): each
 *     pattern it reports is the pattern of a line setting filter=gitseal,
 *     reported once, and an added line of bare attributes (which a pulled
 *     macro can expand) leaves no such pattern unreported;
 *   byte 0 odd: a path, regex or key from the repository as a terminal
 *     shows it (gitfilter_shown, gitfilter_append_shown; shown.c): the two
 *     agree, nothing shown is a control byte, DEL, C1 control or broken
 *     UTF-8, and undoing the \xNN escapes gives the text back whenever it
 *     held no "\x" of its own. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/secmem.h"
#include "../../src/git/gitfilter_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The pattern of line (modified) when a later word of it is
 * filter=gitseal, as git splits a line of attributes; NULL otherwise. */
static char *pinned_pattern(char *line)
{
	char *save, *tok, *pattern = strtok_r(line, " \t\r", &save);
	bool ours = false;

	if (!pattern || *pattern == '#' || !strncmp(pattern, "[attr]", 6))
		return NULL;
	while ((tok = strtok_r(NULL, " \t\r", &save)))
		ours |= !strcmp(tok, "filter=gitseal");
	return ours ? pattern : NULL;
}

/* Some line of text pins pattern. */
static bool line_sets_filter(const char *text, size_t len, const char *pattern)
{
	if (*pattern == '"') /* quoted: git's own rules, not split here */
		return memmem(text, len, pattern, strlen(pattern)) != NULL;
	for (const char *p = text, *end = text + len; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		char line[512], *pin;

		snprintf(line, sizeof(line), "%.*s", (int)((eol ? eol : end) - p), p);
		p = eol ? eol + 1 : end;
		if (strlen(line) < sizeof(line) - 1 && (pin = pinned_pattern(line)) && !strcmp(pin, pattern))
			return true;
		if (strlen(line) >= sizeof(line) - 1 && memmem(text, len, pattern, strlen(pattern)))
			return true; /* too long to split here */
	}
	return false;
}

static void pins(const uint8_t *data, size_t size)
{
	struct gs_buf text, found, again;
	const char *s;
	size_t count = 0;

	if (memchr(data, '\0', size))
		return; /* the file is read as text */
	gs_buf_init(&text, false);
	gs_buf_init(&found, false);
	gs_buf_init(&again, false);
	if (gs_buf_append(&text, data, size) < 0 || gitpins_exposed(&text, &found) < 0)
		abort();
	for (s = (const char *)found.data; found.len && s < (const char *)found.data + found.len;
	     s += strlen(s) + 1, count++) {
		if (!line_sets_filter((const char *)data, size, s))
			abort(); /* a pattern no line pins */
		for (const char *t = (const char *)found.data; t < s; t += strlen(t) + 1)
			if (!strcmp(s, t))
				abort(); /* reported twice */
	}
	/* a line of bare attributes after all: every pinned pattern exposed */
	if (gs_buf_append(&text, "\n* text\n", 8) < 0 || gitpins_exposed(&text, &again) < 0)
		abort();
	for (const char *p = (const char *)data, *end = p + size; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		char line[512], *pattern;
		bool listed = false;

		snprintf(line, sizeof(line), "%.*s", (int)((eol ? eol : end) - p), p);
		p = eol ? eol + 1 : end;
		if (strlen(line) >= sizeof(line) - 1 || !(pattern = pinned_pattern(line)) || *pattern == '"')
			continue;
		for (s = (const char *)again.data; again.len && s < (const char *)again.data + again.len;
		     s += strlen(s) + 1)
			listed |= !strcmp(s, pattern);
		if (!listed)
			abort(); /* a macro could take the filter off it, unsaid */
	}
	(void)count;
	gs_buf_release(&text);
	gs_buf_release(&found);
	gs_buf_release(&again);
}

/* Valid UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) without C0, DEL or C1 controls. */
static bool safe_text(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t c = s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;

		if (!len || i + len > n)
			return false;
		c &= len == 1 ? 0x7f : len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
		    (c >= 0xd800 && c <= 0xdfff) || c < 0x20 || (c >= 0x7f && c <= 0x9f))
			return false;
		i += len;
	}
	return true;
}

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void shown(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *back = malloc(size + 1);
	const char *one;
	struct gs_buf out;
	size_t n = 0;

	if (!s || !back)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	gs_buf_init(&out, false);
	if (gitfilter_append_shown(&out, s) < 0 || gs_buf_append(&out, "", 1) < 0)
		abort();
	one = gitfilter_shown(s);
	if (out.len - 1 < 4 * 4096 && strcmp(one, (const char *)out.data) != 0)
		abort(); /* the two forms differ */
	if (!safe_text(out.data, out.len - 1))
		abort(); /* a byte that steers the terminal */
	if (!strstr(s, "\\x")) {
		for (const char *p = (const char *)out.data; *p;) {
			if (p[0] == '\\' && p[1] == 'x' && hex(p[2]) >= 0 && hex(p[3]) >= 0) {
				back[n++] = (char)(hex(p[2]) << 4 | hex(p[3]));
				p += 4;
			} else {
				back[n++] = *p++;
			}
			if (n > strlen(s))
				abort();
		}
		if (n != strlen(s) || memcmp(back, s, n) != 0)
			abort(); /* shown as another text */
	}
	gs_buf_release(&out);
	free(s);
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 16 * 1024)
		return 0;
	if (data[0] & 1)
		shown(data + 1, size - 1);
	else
		pins(data + 1, size - 1);
	return 0;
}
