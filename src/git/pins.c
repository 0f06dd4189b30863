/* The filter's lines in $GIT_DIR/info/attributes, which `gitseal git init`
 * writes: which of them a macro of a pulled .gitattributes can take the
 * filter off.
 *
 * git applies the lines matching a path from the last one back, and a
 * line's attributes from the last one back, each only when not yet set; an
 * attribute set bare (`text`) that a top-level .gitattributes defines as a
 * macro ("[attr]text -filter") expands where it is applied, in
 * info/attributes too. So a line's filter=gitseal holds only when no bare
 * attribute follows it, on its line or on a later line (which may match
 * the same paths: whether it does is not worked out here). The lines an
 * older init wrote (the drivers first, `text` after them), and any line
 * setting an attribute bare after the filter's, leave the filter to the
 * pulled macros. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "gitfilter_int.h"

enum { PINS_MAX = 1024 * 1024 };

struct pin_line {
	const char *pattern; /* into the line's copy */
	bool ours;           /* sets filter=gitseal */
	bool exposed;        /* a bare attribute after the first driver (ours), or any (others) */
};

static bool bare(const char *tok)
{
	return *tok != '-' && *tok != '!' && !strchr(tok, '=');
}

static bool driver(const char *tok)
{
	return !strcmp(tok, "filter=gitseal") || !strcmp(tok, "diff=gitseal") || !strcmp(tok, "merge=gitseal");
}

/* Splits line (modified) into its pattern and attributes; false for a
 * blank line, a comment or a macro definition. */
static bool read_line(char *line, struct pin_line *out)
{
	char *p = line + strspn(line, " \t\r"), *tok;
	bool seen_driver = false, any_bare = false, bare_after = false;

	memset(out, 0, sizeof(*out));
	if (!*p || *p == '#' || !strncmp(p, "[attr]", 6))
		return false;
	out->pattern = p;
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && p[1])
				p++;
		if (*p)
			p++;
	} else {
		p += strcspn(p, " \t\r");
	}
	if (*p)
		*p++ = '\0';
	for (p += strspn(p, " \t\r"); *p; p += strspn(p, " \t\r")) {
		tok = p;
		p += strcspn(p, " \t\r");
		if (*p)
			*p++ = '\0';
		out->ours |= !strcmp(tok, "filter=gitseal");
		any_bare |= bare(tok);
		bare_after |= bare(tok) && seen_driver;
		seen_driver |= driver(tok);
	}
	out->exposed = out->ours ? bare_after : any_bare;
	return true;
}

int gitpins_exposed(const struct gs_buf *text, struct gs_buf *patterns)
{
	struct pin_line *lines = NULL;
	char *copy = gs_malloc(text->len + 1);
	size_t count = 0, cap = 0, last_exposed = 0; /* one past the last exposed line */
	int ret = 0;

	if (!copy)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (text->len) /* an empty buffer may have no data at all */
		memcpy(copy, text->data, text->len);
	copy[text->len] = '\0';
	for (char *p = copy, *eol; p && *p; p = eol) {
		struct pin_line l;

		if ((eol = strchr(p, '\n')))
			*eol++ = '\0';
		if (!read_line(p, &l))
			continue;
		if (l.exposed)
			last_exposed = count + 1;
		if ((ret = GS_ARRAY_GROW(lines, count, cap, 16)) < 0)
			goto out;
		lines[count++] = l;
	}
	/* a pattern is held by a line of its own that nothing after exposes */
	for (size_t i = 0; i < count && !ret; i++) {
		bool held = false, listed = false;

		if (!lines[i].ours)
			continue;
		for (size_t j = last_exposed; j < count && !held; j++)
			held = lines[j].ours && !strcmp(lines[j].pattern, lines[i].pattern);
		for (size_t j = 0; j < i && !listed; j++)
			listed = lines[j].ours && !strcmp(lines[j].pattern, lines[i].pattern);
		if (!held && !listed)
			ret = gs_buf_append(patterns, lines[i].pattern, strlen(lines[i].pattern) + 1);
	}
out:
	free(lines);
	free(copy);
	return ret;
}

int gitpins_path(git_repository *repo, char *path, size_t size)
{
	if ((size_t)snprintf(path, size, "%sinfo/attributes", git_repository_commondir(repo)) >= size)
		return GS_FAIL(GS_ERR_LIMIT, "git directory path too long");
	return 0;
}

int gitfilter_pins_exposed(struct gitfilter *f, char **pattern)
{
	char path[PATH_MAX];
	struct gs_buf text, patterns;
	int ret;

	*pattern = NULL;
	if ((ret = gitpins_path(f->repo, path, sizeof(path))))
		return ret;
	gs_buf_init(&text, false);
	gs_buf_init(&patterns, false);
	if ((ret = gs_read_file(path, &text, PINS_MAX)) == GS_ERR_NOT_FOUND) {
		gs_error_clear();
		ret = 0;
	}
	if (!ret && !(ret = gitpins_exposed(&text, &patterns)) && patterns.len &&
	    !(*pattern = gs_strdup((const char *)patterns.data)))
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	gs_buf_release(&text);
	gs_buf_release(&patterns);
	return ret;
}

int gitfilter_warn_pins(struct gitfilter *f)
{
	char *pattern = NULL, *line = NULL;
	int ret = gitfilter_pins_exposed(f, &pattern);

	if (!ret && pattern)
		gs_warn(".git/info/attributes: " GITPINS_EXPOSED, gs_shown(pattern));
	if (!ret && !(ret = gitfilter_pins_missing(f, &line)) && line)
		gs_warn(".gitattributes: " GITPINS_MISSING, gs_shown(line));
	free(pattern);
	free(line);
	return ret;
}
