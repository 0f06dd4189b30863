/* init's pins of a subdirectory's .gitattributes (gitpins_pattern_at_top,
 * pins.c), as a property: the input is a directory, a line and a path below
 * the directory, split at its first two NUL bytes. The line's pattern (a
 * token as git reads it: C-quoted or up to a blank) matches the path, read
 * from the directory's file as git 2.39 reads it, exactly when the pattern
 * init writes for it matches the path from info/attributes; a pattern init
 * does not write is one git ignores (negative, empty) or one git would read
 * otherwise there (pins.c, stars_after_literal). The matcher below is a
 * model of git 2.39's matching written from gitignore(5), glob(7) and the
 * behaviour of attr.c (a pattern's literal start compared apart): a
 * "[:class:]" is left out. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/secmem.h"
#include "../../src/git/gitfilter_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* C-quoted text at s into out: the bytes it spans, or 0 when it is not. */
static size_t model_unquote(const char *s, char *out, size_t *n)
{
	static const char from[] = "abfnrtv\\\"", to[] = "\a\b\f\n\r\t\v\\\"";
	size_t i = 1;

	*n = 0;
	if (s[0] != '"')
		return 0;
	for (; s[i]; (*n)++) {
		char c = s[i++];
		const char *k;

		if (c == '"')
			return i;
		if (c == '\\') {
			c = s[i++];
			if (c >= '0' && c <= '3' && s[i] >= '0' && s[i] <= '7' && s[i + 1] >= '0' && s[i + 1] <= '7') {
				c = (char)((c - '0') * 64 + (s[i] - '0') * 8 + (s[i + 1] - '0'));
				i += 2;
			} else if (c && (k = strchr(from, c))) {
				c = to[k - from];
			} else {
				return 0;
			}
		}
		out[*n] = c;
	}
	return 0;
}

/* "[...]" at *p (past its '['): whether c is in it; *p past its ']'; false
 * with *p NULL for one with no end. */
static bool in_class(const char **p, char c)
{
	const char *s = *p;
	bool negated = *s == '!' || *s == '^', found = false;

	s += negated;
	for (bool first = true; first || *s != ']'; first = false) {
		char lo = *s, hi;

		if (!*s) {
			*p = NULL;
			return false;
		}
		if (lo == '\\' && !(lo = *++s)) {
			*p = NULL;
			return false;
		}
		s++;
		hi = lo;
		if (*s == '-' && s[1] && s[1] != ']') {
			s++;
			if ((hi = *s) == '\\' && !(hi = *++s)) {
				*p = NULL;
				return false;
			}
			s++;
		}
		found |= (unsigned char)c >= (unsigned char)lo && (unsigned char)c <= (unsigned char)hi;
	}
	*p = s + 1;
	return found != negated;
}

/* p (from pattern's start at p0) matches all of t; pathname: '/' only by
 * a '/' or "**" between slashes */
static bool wm(const char *p0, const char *p, const char *t, bool pathname)
{
	for (; *p; p++, t++) {
		const char *stars = p;
		bool crosses;

		switch (*p) {
		case '\\':
			if (!*++p || *t != *p)
				return false;
			break;
		case '?':
			if (!*t || (pathname && *t == '/'))
				return false;
			break;
		case '[':
			p++;
			if (!*t || (pathname && *t == '/') || !in_class(&p, *t))
				return false;
			p--;
			break;
		case '*':
			while (p[1] == '*')
				p++;
			crosses = !pathname ||
				  (p > stars && (stars == p0 || stars[-1] == '/') &&
				   (!p[1] || p[1] == '/' || (p[1] == '\\' && p[2] == '/')));
			/* "**" then '/': no directory at all */
			if (crosses && pathname && p[1] == '/' && wm(p0, p + 2, t, pathname))
				return true;
			for (;; t++) {
				if (wm(p0, p + 1, t, pathname))
					return true;
				if (!*t || (!crosses && *t == '/'))
					return false;
			}
		default:
			if (*t != *p)
				return false;
		}
	}
	return !*t;
}

/* Whether pattern (from a line of the .gitattributes in base, "" or
 * ending in '/') matches path, a file's, as git 2.39's attr.c decides. */
static bool matches(const char *pattern, const char *base, const char *path)
{
	size_t n = strlen(pattern), baselen = strlen(base);
	char *p = strdup(pattern);
	const char *slash = strrchr(path, '/');
	bool nodir, ret = false;

	if (!p)
		abort();
	if (n && p[n - 1] == '/') {
		free(p);
		return false; /* a directory's: no file */
	}
	nodir = !strchr(p, '/');
	if (strncmp(path, base, baselen)) {
		free(p);
		return false;
	}
	if (nodir) {
		ret = wm(p, p, slash ? slash + 1 : path, false);
	} else {
		/* the start up to the first special byte compared as it stands,
		 * the rest matched on its own: a "**" opening it crosses '/' */
		const char *rel = p + (*p == '/'), *name = path + baselen;
		size_t k = strcspn(rel, "*?[\\");

		ret = !strncmp(rel, name, k) && wm(rel + k, rel + k, name + k, true);
	}
	free(p);
	return ret;
}

/* The pattern of a line token: unquoted, to its first NUL; NULL when git
 * ignores it (negative) or a class is "[:...:]" (left out of the model). */
static char *read_token(const char *token, size_t len)
{
	char *out = calloc(len + 1, 1), *alone = strndup(token, len);
	size_t n;

	if (!out || !alone)
		abort();
	if (model_unquote(alone, out, &n) != len)
		memcpy(out, token, len);
	free(alone);
	if (*out == '!' || strstr(out, "[:")) {
		free(out);
		return NULL;
	}
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *end = (const char *)data + size, *dir_in = (const char *)data, *line, *rest;
	char dir[256], path[512], *line_copy, *pattern, *pin;
	size_t len, token;
	struct gs_buf out;
	int ret;

	if (!(line = memchr(dir_in, '\0', size)))
		return 0;
	line++;
	if (!(rest = memchr(line, '\0', (size_t)(end - line))))
		return 0;
	rest++;
	/* a directory: components of no '/' nor NUL, none empty, '/' last */
	len = (size_t)(line - 1 - dir_in);
	if (!len || len >= sizeof(dir) - 1 || dir_in[0] == '/' || strstr(dir_in, "//"))
		return 0;
	memcpy(dir, dir_in, len);
	dir[len] = '\0';
	if (dir[len - 1] != '/')
		strcat(dir, "/");
	len = (size_t)(end - rest);
	if (!len || len + strlen(dir) >= sizeof(path) || memchr(rest, '\0', len) || *rest == '/' || rest[len - 1] == '/')
		return 0;
	memcpy(path, dir, strlen(dir) + 1);
	strncat(path, rest, len);
	if (strstr(path, "//"))
		return 0;
	if (!(line_copy = strndup(line, (size_t)(rest - 1 - line))))
		abort();
	token = gitpins_pattern_token(line_copy);
	if (!token || !(pattern = read_token(line_copy, token))) {
		free(line_copy);
		return 0;
	}
	gs_buf_init(&out, false);
	ret = gitpins_pattern_at_top(dir, line_copy, token, &out);
	if (ret < 0)
		abort();
	if (ret == 0) {
		/* not written: a pattern git ignores, or one with "**" after its
		 * literal start below a directory written with an escape */
		if (*pattern && !strstr(pattern, "**"))
			abort();
	} else {
		const char *text;

		if (gs_buf_append(&out, "", 1))
			abort();
		text = (const char *)out.data;
		if ((pin = read_token(text, gitpins_pattern_token(text)))) {
			if (gitpins_pattern_token(text) != strlen(text) || matches(pattern, dir, path) != matches(pin, "", path))
				abort();
			free(pin);
		}
	}
	gs_buf_release(&out);
	free(pattern);
	free(line_copy);
	return 0;
}
