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
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
	char *pattern = NULL, *line = NULL, *file = NULL;
	int ret = gitfilter_pins_exposed(f, &pattern);

	if (!ret && pattern)
		gs_warn(".git/info/attributes: " GITPINS_EXPOSED, gs_shown(pattern));
	if (!ret && !(ret = gitfilter_pins_missing(f, &line, &file)) && line)
		gs_warn("%s: " GITPINS_MISSING, gs_shown(file), gs_shown(line));
	free(pattern);
	free(line);
	free(file);
	return ret;
}

/* ---- the .gitattributes of subdirectories ---- */

/* git's unquote_c_style (quote.c), which attr.c applies to a pattern
 * opening with '"': the bytes of the quoted string at s (len at most) it
 * spans, the closing quote included, its text in out (n bytes, out of
 * len bytes at least; NULL: not wanted), or 0 when it is not one (git then
 * reads the pattern as it stands, up to a blank). */
static size_t unquote(const char *s, size_t len, char *out, size_t *n)
{
	size_t i = 1;

	*n = 0;
	if (!len || *s != '"')
		return 0;
	while (i < len && s[i]) {
		unsigned char c = (unsigned char)s[i++];

		if (c == '"')
			return i;
		if (c == '\\') {
			static const char named[] = "abfnrtv\\\"", byte[] = "\a\b\f\n\r\t\v\\\"";
			const char *at;

			if (i >= len || !s[i])
				return 0;
			c = (unsigned char)s[i++];
			if (c >= '0' && c <= '3') {
				if (i + 1 >= len || s[i] < '0' || s[i] > '7' || s[i + 1] < '0' || s[i + 1] > '7')
					return 0;
				c = (unsigned char)((c - '0') << 6 | (s[i] - '0') << 3 | (s[i + 1] - '0'));
				i += 2;
			} else if ((at = strchr(named, c))) {
				c = (unsigned char)byte[at - named];
			} else {
				return 0;
			}
		}
		if (out)
			out[*n] = (char)c;
		(*n)++;
	}
	return 0;
}

size_t gitpins_pattern_token(const char *line)
{
	size_t n, quoted = unquote(line, strlen(line), NULL, &n);

	return quoted ? quoted : strcspn(line, GITPINS_BLANKS);
}

void gitpins_drop_bom(struct gs_buf *text)
{
	if (text->len >= 3 && !memcmp(text->data, "\xef\xbb\xbf", 3)) {
		memmove(text->data, text->data + 3, text->len - 3);
		text->len -= 3;
	}
}

/* pattern (n bytes) written into a line of attributes as git reads it
 * back: as it stands, or C-quoted where a blank, a control byte or a
 * quote first would be read otherwise. */
static int write_pattern(const char *pattern, size_t n, struct gs_buf *out)
{
	bool quote = *pattern == '"';
	int ret = 0;

	for (size_t i = 0; i < n && !quote; i++)
		quote = (unsigned char)pattern[i] <= ' ' || pattern[i] == 0x7f;
	if (!quote)
		return gs_buf_append(out, pattern, n);
	ret = gs_buf_append_str(out, "\"");
	for (size_t i = 0; i < n && !ret; i++) {
		unsigned char c = (unsigned char)pattern[i];

		if (c == '"' || c == '\\')
			ret = gs_buf_printf(out, "\\%c", c);
		else if (c < ' ' || c == 0x7f)
			ret = gs_buf_printf(out, "\\%03o", c);
		else
			ret = gs_buf_append(out, &c, 1);
	}
	return ret ? ret : gs_buf_append_str(out, "\"");
}

/* Whether git reads text (n bytes, a pattern with a slash) otherwise once
 * a literal start is written before it that ends in an escape: git
 * compares a pattern's start up to its first special byte as it stands,
 * then matches the rest (wildmatch), where a "**" opening the rest crosses
 * directories ("x/ab**" in config/: "x/ab" then any depth); after a
 * directory written "c\[1]/" the rest opens earlier and "b**" is a '*'. */
static bool stars_after_literal(const char *text, size_t n)
{
	size_t at = *text == '/', end = n - (n && text[n - 1] == '/');
	size_t k = at;

	while (k < end && !strchr("*?[\\", text[k]))
		k++;
	if (k == at || k + 1 >= end || text[k - 1] == '/' || text[k] != '*' || text[k + 1] != '*')
		return false;
	while (k < n && text[k] == '*')
		k++;
	return k == end || text[k] == '/' || (text[k] == '\\' && k + 1 < n && text[k + 1] == '/');
}

int gitpins_pattern_at_top(const char *dir, const char *pattern, size_t len, struct gs_buf *out)
{
	bool escaped = false, relative, refused;
	struct gs_buf at_top;
	const char *slash;
	char *text;
	size_t n = 0, quoted;
	int ret = 0;

	if (!*dir)
		return gs_buf_append(out, pattern, len) ? GS_ERR_NOMEM : 1;
	if (!(text = gs_malloc(len + 1)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if ((quoted = unquote(pattern, len, text, &n)) && quoted != len) {
		free(text);
		return 0; /* not one pattern */
	}
	if (!quoted)
		memcpy(text, pattern, n = len);
	n = strnlen(text, n); /* git reads the pattern as a C string */
	/* a negative pattern: git ignores the line (attr.c) */
	if (!n || *text == '!') {
		free(text);
		return 0;
	}
	slash = memchr(text, '/', n);
	gs_buf_init(&at_top, false);
	for (const unsigned char *p = (const unsigned char *)dir; *p && !ret; p++) {
		/* a wildcard, or a line's first '!' or '#', is a literal */
		if (strchr("*?[\\", *p) || (p == (const unsigned char *)dir && strchr("!#", *p))) {
			escaped = true;
			ret = gs_buf_append_str(&at_top, "\\");
		}
		if (!ret)
			ret = gs_buf_append(&at_top, p, 1);
	}
	/* gitignore(5): a slash at the start or in the middle makes the
	 * pattern relative to dir; without one it matches a name at any depth */
	relative = *text == '/' || (slash && slash < text + n - 1);
	refused = escaped && relative && stars_after_literal(text, n);
	if (!ret && !refused) {
		if (*text == '/')
			ret = gs_buf_append(&at_top, text + 1, n - 1);
		else if (relative)
			ret = gs_buf_append(&at_top, text, n);
		else if (!(ret = gs_buf_append_str(&at_top, "**/")))
			ret = gs_buf_append(&at_top, text, n);
	}
	if (!ret && !refused)
		ret = write_pattern((const char *)at_top.data, at_top.len, out);
	gs_buf_release(&at_top);
	free(text);
	return ret ? ret : !refused;
}

struct below {
	struct gitfilter *f;
	gitpins_file_fn *fn;
	void *ctx;
	struct gs_buf text;
	int ret;
};

/* One subdirectory's .gitattributes at path (dir with the slash, then the
 * name), as git reads it for a path of the work tree: the work tree's
 * file, else (none there, or one git does not open: a symbolic link) the
 * index's blob, which for a link is its target's text: git 2.39 reads that
 * as attributes too. */
static int read_below(struct below *b, const char *path, const git_oid *id, bool work_tree)
{
	char full[PATH_MAX], dir[PATH_MAX];
	size_t dir_len = strlen(path) - strlen(GITPINS_NAME);
	struct stat st;
	int ret;

	gs_buf_reset(&b->text);
	if (dir_len >= sizeof(dir))
		return GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", gs_shown(path));
	memcpy(dir, path, dir_len);
	dir[dir_len] = '\0';
	if (work_tree && b->f->workdir) {
		if ((size_t)snprintf(full, sizeof(full), "%s%s", b->f->workdir, path) >= sizeof(full))
			return GS_FAIL(GS_ERR_LIMIT, "work tree path too long");
		if (lstat(full, &st) != 0) {
			if (errno != ENOENT && errno != ENOTDIR)
				return GS_FAIL(GS_ERR_IO, "cannot read '%s': %s", gs_shown(path), strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			return 0; /* git reads no line of it, nor the index's */
		} else if (S_ISREG(st.st_mode)) {
			if ((ret = gs_read_file(full, &b->text, PINS_MAX)) != GS_ERR_NOT_FOUND) {
				gitpins_drop_bom(&b->text);
				return ret ? ret : b->fn(b->f, dir, &b->text, b->ctx);
			}
			gs_error_clear();
		}
	}
	if ((ret = gitrepo_read_blob(b->f, id, &b->text)))
		return ret;
	if (b->text.len > PINS_MAX)
		return GS_FAIL(GS_ERR_LIMIT, "'%s' is larger than %d bytes", gs_shown(path), PINS_MAX);
	/* git reads the index's blob up to its first NUL and keeps a byte
	 * order mark; HEAD's (a clone made with --no-checkout) becomes a file */
	if (work_tree)
		b->text.len = strnlen((const char *)b->text.data, b->text.len);
	else
		gitpins_drop_bom(&b->text);
	return b->fn(b->f, dir, &b->text, b->ctx);
}

static bool names_attributes(const char *path)
{
	size_t n = strlen(path), k = strlen(GITPINS_NAME);

	return n > k && path[n - k - 1] == '/' && !strcmp(path + n - k, GITPINS_NAME);
}

static int below_in_tree(const char *root, const git_tree_entry *te, void *ctx)
{
	struct below *b = ctx;
	char path[PATH_MAX];

	if (!*root || git_tree_entry_type(te) != GIT_OBJECT_BLOB || strcmp(git_tree_entry_name(te), GITPINS_NAME))
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s%s", root, GITPINS_NAME) >= sizeof(path))
		b->ret = GS_FAIL(GS_ERR_LIMIT, "'%s': path too long", gs_shown(root));
	else
		b->ret = read_below(b, path, git_tree_entry_id(te), false);
	return b->ret ? -1 : 0;
}

int gitpins_each_below(struct gitfilter *f, gitpins_file_fn *fn, void *ctx)
{
	struct below b = { f, fn, ctx, { 0 }, 0 };
	git_index *idx = NULL;
	git_tree *head;
	size_t n;

	if (git_repository_index(&idx, f->repo) < 0)
		return gitrepo_fail("cannot open the index");
	gs_buf_init(&b.text, false);
	n = git_index_entrycount(idx);
	for (size_t i = 0; i < n && !b.ret; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);

		if (git_index_entry_stage(e) == 0 && (e->mode & 0170000) != 0160000 && names_attributes(e->path))
			b.ret = read_below(&b, e->path, &e->id, true);
	}
	/* a clone made with --no-checkout: HEAD's, which its checkout brings */
	if (!n && (head = gitrepo_head_tree(f)) && git_tree_walk(head, GIT_TREEWALK_PRE, below_in_tree, &b) < 0 &&
	    !b.ret)
		b.ret = gitrepo_fail("cannot read HEAD's tree");
	git_index_free(idx);
	gs_buf_release(&b.text);
	return b.ret;
}
