/* google/shlex's Split, the splitter sops uses for SOPS_AGE_KEY_CMD (see
 * gitseal/cmdline.h for the rules). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/cmdline.h"
#include "gitseal/error.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Reads the word at *src into *dst (both move on); returns 0, or a
 * negative error for an unterminated quote or a final backslash. */
static int read_word(const char *what, const char **src, char **dst)
{
	const char *s = *src;
	char *d = *dst, quote = 0;

	for (; *s && (quote || !is_blank(*s)); s++) {
		if (quote == '\'' && *s == '\'') {
			quote = 0;
		} else if (quote == '\'') {
			*d++ = *s;
		} else if (*s == '\\') {
			if (!s[1])
				return GS_FAIL(GS_ERR_USAGE, "%s: a backslash ends the line", what);
			*d++ = *++s;
		} else if (quote == '"' && *s == '"') {
			quote = 0;
		} else if (!quote && (*s == '\'' || *s == '"')) {
			quote = *s;
		} else {
			*d++ = *s;
		}
	}
	if (quote)
		return GS_FAIL(GS_ERR_USAGE, "%s: unterminated quote", what);
	*d++ = '\0';
	*src = s;
	*dst = d;
	return 0;
}

int cmdline_split(const char *what, const char *line, size_t spare, char ***argv, size_t *argc)
{
	/* at most one word per two bytes, each a NUL-terminated copy */
	size_t len = strlen(line), slots = len / 2 + 2 + spare, n = 0;
	char **words = gs_malloc(slots * sizeof(char *) + len + 1), *text;
	const char *s = line;
	int ret;

	*argv = NULL;
	*argc = 0;
	if (!words)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	text = (char *)(words + slots);
	for (;;) {
		while (is_blank(*s))
			s++;
		if (!*s)
			break;
		if (*s == '#') {
			s += strcspn(s, "\n");
			continue;
		}
		words[n++] = text;
		ret = read_word(what, &s, &text);
		if (ret)
			goto fail;
	}
	if (!n) {
		ret = GS_FAIL(GS_ERR_USAGE, "%s is empty", what);
		goto fail;
	}
	words[n] = NULL;
	*argv = words;
	*argc = n;
	return 0;
fail:
	free(words);
	return ret;
}
