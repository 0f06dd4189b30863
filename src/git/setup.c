/* `git init` (config, .gitattributes, hook, re-checkout) and `git check`. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <git2.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "git_int.h"
#include "gitfilter_int.h"

enum { ATTRIBUTES_MAX = 1024 * 1024 };

/* The attributes of a protected path. Line ends are LF in the work tree
 * too (text eol=lf), whatever core.autocrlf says: git converts line ends
 * before the smudge filter, and a dotenv or INI sops file read with CRLF
 * is no longer the file that was sealed. The conflict-marker size is not
 * the one the merge driver writes (7): rerere records a conflict only
 * where it finds markers of that size in the work tree, and a conflict of
 * secrets must not be recorded in plaintext under .git/rr-cache. */
#define ATTR_SUFFIX                                                                                    \
	" filter=gitseal diff=gitseal merge=gitseal text eol=lf conflict-marker-size="                  \
	GITFILTER_RERERE_MARKER_SIZE
/* The same attributes as pinned in $GIT_DIR/info/attributes: the filter,
 * diff and merge drivers last. git applies a line's attributes from the
 * last one back, each only when not yet set, and a set attribute that is a
 * macro expands there: a top-level .gitattributes defining
 * "[attr]text -filter" unset the filter of a line naming `text` after it,
 * in this clone's info/attributes too. Named before `text`, they are set
 * when it expands. */
#define PIN_SUFFIX                                                                                     \
	" text eol=lf conflict-marker-size=" GITFILTER_RERERE_MARKER_SIZE                            \
	" filter=gitseal diff=gitseal merge=gitseal"
/* older lines, brought up to date */
static const char *const attr_suffix_old[] = {
	" filter=gitseal diff=gitseal merge=gitseal",
	" filter=gitseal diff=gitseal merge=gitseal conflict-marker-size=" GITFILTER_RERERE_MARKER_SIZE,
};

/* git runs these through the shell. The binary is found on PATH, so an
 * upgrade or a move does not break every git command; when it is not
 * there, git shows this one line instead of a broken pipe. */
static int shell_command(struct gs_buf *b, const char *args)
{
	return gs_buf_printf(b,
			     "command -v gitseal >/dev/null 2>&1 || { echo 'gitseal: command not found: "
			     "install it or add its directory to PATH (git config filter.gitseal.process)' >&2; "
			     "exit 127; }; exec gitseal %s",
			     args);
}

static int set_config(git_repository *repo)
{
	/* strings inline, not pointers: a table of pointers is relocated at
	 * start-up, a page of relro for every command (tests/cli/startup.bats) */
	static const struct {
		char key[24];
		char args[24]; /* empty: value is literal */
		char value[40];
	} entries[] = {
		{ "filter.gitseal.process", "git filter-process", "" },
		{ "filter.gitseal.required", "", "true" },
		{ "diff.gitseal.textconv", "git textconv", "" },
		/* `git add -p` and friends cannot split a sealed file into
		 * hunks (a partial blob fails its MAC); diffs still go through
		 * textconv. */
		{ "diff.gitseal.binary", "", "true" },
		{ "merge.gitseal.name", "", "gitseal three-way merge of sops files" },
		{ "merge.gitseal.driver", "git merge %O %A %B %P", "" },
	};
	git_config *cfg = NULL, *local = NULL;
	struct gs_buf cmd;
	int ret = 0;

	gs_buf_init(&cmd, false);
	if (git_repository_config(&cfg, repo) < 0 ||
	    git_config_open_level(&local, cfg, GIT_CONFIG_LEVEL_LOCAL) < 0) {
		ret = gitrepo_fail("cannot open the repository's config");
		goto out;
	}
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]) && !ret; i++) {
		const char *value = entries[i].value;

		if (entries[i].args[0]) {
			gs_buf_reset(&cmd);
			ret = shell_command(&cmd, entries[i].args);
			if (ret)
				break;
			value = (const char *)cmd.data;
		}
		if (git_config_set_string(local, entries[i].key, value) < 0)
			ret = gitrepo_fail("cannot write the git config");
	}
out:
	gs_buf_release(&cmd);
	git_config_free(local);
	git_config_free(cfg);
	return ret;
}

/* Where line (trailing blanks aside) starts in text, or -1. */
static long find_line(const struct gs_buf *text, const char *line, size_t *len_out)
{
	size_t n = strlen(line);
	const char *start = (const char *)text->data, *p = start, *end = p + text->len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((eol ? eol : end) - p), full = len;

		while (len && (p[len - 1] == '\r' || p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == n && !memcmp(p, line, n)) {
			*len_out = full;
			return (long)(p - start);
		}
		p = eol ? eol + 1 : end;
	}
	return -1;
}

/* Replaces text[at, at + len) with repl. */
static int splice(struct gs_buf *text, size_t at, size_t len, const char *repl)
{
	struct gs_buf out;
	int ret;

	gs_buf_init(&out, false);
	if ((ret = gs_buf_append(&out, text->data, at)) || (ret = gs_buf_append_str(&out, repl)) ||
	    (ret = gs_buf_append(&out, text->data + at + len, text->len - at - len))) {
		gs_buf_release(&out);
		goto out;
	}
	gs_buf_release(text);
	*text = out;
out:
	return ret;
}

/* Appends the line for each pattern, or brings an older gitseal line for
 * it up to date. */
/* The work tree's .gitattributes into text (empty when there is none).
 * It is repository content: committed as a symbolic link (which git does
 * not follow) it could point out of the clone, and init would append its
 * line to whatever file that is. */
static int read_attributes(const char *path, struct gs_buf *text)
{
	struct stat st;
	int ret;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0
				       : GS_FAIL(GS_ERR_IO, "cannot read '%s': %s", gs_shown(path), strerror(errno));
	if (!S_ISREG(st.st_mode))
		return GS_FAIL(GS_ERR_CONFIG, "'.gitattributes' is not a regular file (%s): git does not follow "
			       "it, and gitseal writes nothing outside the repository",
			       S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISDIR(st.st_mode) ? "a directory"
											: "a special file");
	if ((ret = gs_read_file(path, text, ATTRIBUTES_MAX)) == GS_ERR_NOT_FOUND) {
		gs_error_clear();
		ret = 0;
	}
	return ret;
}

static int add_attributes(const char *workdir, const char *const *patterns, size_t count, size_t *added)
{
	char path[PATH_MAX];
	struct gs_buf text, line, old;
	bool changed = false;
	int ret;

	*added = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s.gitattributes", workdir) >= sizeof(path))
		return GS_FAIL(GS_ERR_LIMIT, "work tree path too long");
	gs_buf_init(&text, false);
	gs_buf_init(&line, false);
	gs_buf_init(&old, false);
	ret = read_attributes(path, &text);
	for (size_t i = 0; i < count && !ret; i++) {
		size_t len;
		long at;

		if (!patterns[i][0] || strpbrk(patterns[i], " \t\r\n")) {
			ret = GS_FAIL(GS_ERR_USAGE, "'%s': not a single gitattributes pattern", gs_shown(patterns[i]));
			break;
		}
		gs_buf_reset(&line);
		if ((ret = gs_buf_printf(&line, "%s" ATTR_SUFFIX, patterns[i])))
			break;
		if (find_line(&text, (const char *)line.data, &len) >= 0)
			continue;
		changed = true;
		at = -1;
		for (size_t k = 0; k < sizeof(attr_suffix_old) / sizeof(attr_suffix_old[0]) && at < 0 && !ret; k++) {
			gs_buf_reset(&old);
			if (!(ret = gs_buf_printf(&old, "%s%s", patterns[i], attr_suffix_old[k])))
				at = find_line(&text, (const char *)old.data, &len);
		}
		if (ret)
			break;
		if (at >= 0) {
			ret = splice(&text, (size_t)at, len, (const char *)line.data);
			continue;
		}
		if ((text.len && text.data[text.len - 1] != '\n' && (ret = gs_buf_append_str(&text, "\n"))) ||
		    (ret = gs_buf_printf(&text, "%s\n", line.data)))
			break;
		(*added)++;
	}
	if (!ret && changed)
		ret = gs_atomic_write(path, text.data, text.len, 0644);
	gs_buf_release(&text);
	gs_buf_release(&line);
	gs_buf_release(&old);
	return ret;
}

/* The length of line's pattern when it is one init writes or wrote (an
 * older gitseal's: a repository set up then holds it, and a clone that ran
 * init since was left without the copy, so a pulled `-filter` took the
 * filter off its new files: red team 30), a single pattern and the
 * filter's attributes, nothing after them; else 0. Pinned, a line has the
 * last word over every .gitattributes, so one that also unsets the filter
 * (the filter's attributes, then "-filter" or "filter=none") would take it
 * off for good in this clone, where no commit can put it back. */
static size_t pinnable(const char *line)
{
	size_t n = strlen(line), pattern = 0;

	if (line[0] == '#' || line[0] == '!' || !strncmp(line, "[attr]", 6))
		return 0;
	for (size_t k = 0; k <= sizeof(attr_suffix_old) / sizeof(attr_suffix_old[0]) && !pattern; k++) {
		const char *suffix = k ? attr_suffix_old[k - 1] : ATTR_SUFFIX;
		size_t len = strlen(suffix);

		if (n > len && !strcmp(line + n - len, suffix))
			pattern = n - len;
	}
	return pattern && gitpins_pattern_token(line) == pattern ? pattern : 0;
}

/* Whether line (not a comment or a macro) sets filter=gitseal. */
static bool sets_filter(const char *line)
{
	const char *p = line + strcspn(line, " \t");

	if (line[0] == '#' || !strncmp(line, "[attr]", 6))
		return false;
	for (p += strspn(p, " \t"); *p; p += strspn(p, " \t")) {
		size_t len = strcspn(p, " \t");

		if (len == strlen("filter=gitseal") && !strncmp(p, "filter=gitseal", len))
			return true;
		p += len;
	}
	return false;
}

/* The filter's lines of pinned (an info/attributes) that a pulled macro
 * can take the filter off (pins.c): written before the drivers were named
 * last, or followed by a line setting an attribute. Each pattern's line is
 * written again at the end, in the pinned order; a quoted pattern is left
 * to the user. */
static int repin_exposed(struct gs_buf *pinned, bool *changed)
{
	struct gs_buf patterns;
	int ret;

	gs_buf_init(&patterns, false);
	ret = gitpins_exposed(pinned, &patterns);
	for (size_t at = 0; !ret && at < patterns.len; at += strlen((const char *)patterns.data + at) + 1) {
		const char *pattern = (const char *)patterns.data + at;

		if (*pattern == '"') {
			gs_warn(".git/info/attributes: " GITPINS_EXPOSED, gs_shown(pattern));
			continue;
		}
		if (pinned->len && pinned->data[pinned->len - 1] != '\n')
			ret = gs_buf_append_str(pinned, "\n");
		if (!ret)
			ret = gs_buf_printf(pinned, "%s" PIN_SUFFIX "\n", pattern);
		*changed = true;
	}
	gs_buf_release(&patterns);
	return ret;
}

/* The .gitattributes git will read: the work tree's, or, in a clone made
 * with --no-checkout (none in the work tree nor in the index), HEAD's,
 * which the checkout after init brings (docs/git.md, "Team workflow"). */
static int attributes_text(struct gitfilter *f, struct gs_buf *text)
{
	char path[PATH_MAX];
	struct stat st;
	git_index *idx = NULL;
	bool indexed, found;
	int ret;

	if ((size_t)snprintf(path, sizeof(path), "%s.gitattributes", f->workdir) >= sizeof(path))
		return GS_FAIL(GS_ERR_LIMIT, "work tree path too long");
	if ((ret = read_attributes(path, text)) || text->len || lstat(path, &st) == 0)
		return ret;
	if (git_repository_index(&idx, f->repo) < 0)
		return gitrepo_fail("cannot open the index");
	indexed = git_index_get_bypath(idx, ".gitattributes", 0) != NULL;
	git_index_free(idx);
	if (indexed)
		return 0;
	/* as the work tree's (read_attributes): git reads no link's target,
	 * and the blob holds the target's path, not attributes */
	if (gitrepo_head_is_link(f, ".gitattributes"))
		return GS_FAIL(GS_ERR_CONFIG, "HEAD's '.gitattributes' is not a regular file (a symbolic link): git does not "
					      "follow it, and gitseal writes nothing outside the repository");
	/* the work tree's limit (read_attributes) holds for HEAD's too */
	if (!(ret = gitrepo_head_blob(f, ".gitattributes", text, &found)) && text->len > ATTRIBUTES_MAX) {
		gs_buf_reset(text);
		ret = GS_FAIL(GS_ERR_LIMIT, "HEAD's '.gitattributes' is larger than %d bytes", ATTRIBUTES_MAX);
	}
	return ret;
}

/* The line at *p (up to end) without its line end nor trailing blanks,
 * malloc'd (NULL: out of memory); *p moved past it. */
static char *next_line(const char **p, const char *end)
{
	const char *eol = memchr(*p, '\n', (size_t)(end - *p));
	char *line = gs_strndup(*p, (size_t)((eol ? eol : end) - *p));

	*p = eol ? eol + 1 : end;
	for (size_t at = line ? strlen(line) : 0; at && (line[at - 1] == '\r' || line[at - 1] == ' '); at--)
		line[at - 1] = '\0';
	return line;
}

/* Whether git ignores the line from start to next (the next line's start)
 * for its length, as it reads a file: its end and a CR before it dropped,
 * up to a NUL byte. */
static bool git_ignores(const char *start, const char *next)
{
	size_t len = (size_t)(next - start);

	if (len && start[len - 1] == '\n')
		len--;
	if (len && start[len - 1] == '\r')
		len--;
	return strnlen(start, len) >= GITPINS_LINE_MAX;
}

/* The filter's lines of every .gitattributes git reads, each as a line of
 * info/attributes (pin_lines): init keeps those not there yet, status and
 * the hooks name the first. */
struct pin_run {
	struct gs_buf pinned, pin, shown;
	char **macros; /* the top-level file's macros that set filter=gitseal */
	size_t macro_count;
	bool init, changed;
	char *missing, *missing_file; /* !init: the first line not kept, its file */
};

/* A macro of the top-level .gitattributes (git reads them there alone)
 * that sets filter=gitseal: "[attr]sealed filter=gitseal diff=gitseal". */
static int note_macro(struct pin_run *r, const char *line)
{
	size_t len;

	if (strncmp(line, "[attr]", 6) || !sets_filter(line + 6))
		return 0;
	len = strcspn(line + 6, " \t");
	return gs_strings_push(&r->macros, &r->macro_count, line + 6, len) ? GS_FAIL(GS_ERR_NOMEM, "out of memory")
									   : 0;
}

/* Each such macro of text (the top-level file), wherever it is defined. */
static int note_macros(struct pin_run *r, const struct gs_buf *text)
{
	int ret = 0;

	for (const char *p = (const char *)text->data, *end = p + text->len; !ret && p < end;) {
		char *line = next_line(&p, end);

		if (!line)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		ret = note_macro(r, line + strspn(line, " \t"));
		free(line);
	}
	return ret;
}

/* Whether the attribute tok (len bytes) is one of r's filter macros. */
static bool filter_macro(const struct pin_run *r, const char *tok, size_t len)
{
	for (size_t i = 0; i < r->macro_count; i++)
		if (strlen(r->macros[i]) == len && !memcmp(r->macros[i], tok, len))
			return true;
	return false;
}

/* The length of line's pattern when it is one pattern and a filter macro
 * alone ("secrets/ sealed"): kept as init's line for the pattern, since
 * a pull request redefining the macro takes the filter off; else 0. A
 * line naming one among other attributes sets the filter too (*uses). */
static size_t macro_pinnable(const struct pin_run *r, const char *line, bool *uses)
{
	size_t pattern = gitpins_pattern_token(line), n = 0;
	const char *p = line + pattern;

	*uses = false;
	if (!r->macro_count || line[0] == '#' || line[0] == '!' || !strncmp(line, "[attr]", 6))
		return 0;
	for (p += strspn(p, " \t"); *p; p += strspn(p, " \t"), n++) {
		size_t len = strcspn(p, " \t");

		*uses |= filter_macro(r, p, len);
		p += len;
	}
	return *uses && n == 1 ? pattern : 0;
}

/* The line's pattern (its first at bytes) as dir's file means it, with
 * the pinned attributes, into r->pin: 1, or 0 when it cannot be written. */
static int pin_line_for(struct pin_run *r, const char *dir, const char *line, size_t at)
{
	int ret;

	gs_buf_reset(&r->pin);
	if ((ret = gitpins_pattern_at_top(dir, line, at, &r->pin)) <= 0)
		return ret;
	if (gs_buf_append_str(&r->pin, PIN_SUFFIX))
		return GS_ERR_NOMEM;
	return r->pin.len < GITPINS_LINE_MAX;
}

static int pin_lines(struct gitfilter *f, const char *dir, const struct gs_buf *text, void *ctx)
{
	struct pin_run *r = ctx;
	int ret = 0;

	(void)f;
	for (const char *p = (const char *)text->data, *end = p + text->len; !ret && !r->missing && p < end;) {
		const char *start = p;
		char *line = next_line(&p, end);
		size_t at, len;
		bool uses = false;

		if (!line)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		if (git_ignores(start, p)) {
			free(line);
			continue;
		}
		if (!(at = pinnable(line)))
			at = macro_pinnable(r, line, &uses);
		if (r->init && !at && (sets_filter(line) || uses))
			gs_warn("not kept in .git/info/attributes: '%s' in %s" GITPINS_NAME " is not a line "
				"'gitseal git init' writes (one pattern and the filter's attributes)",
				gs_shown(line), gs_shown(dir));
		if (at && (ret = pin_line_for(r, dir, line, at)) == 0 && r->init)
			gs_warn("not kept in .git/info/attributes: '%s' in %s" GITPINS_NAME ": its pattern "
				"cannot be written there (a negative or empty pattern, or a line of %d bytes or "
				"more, which git ignores; or a '**' after a literal start below a directory named "
				"with a wildcard)", gs_shown(line), gs_shown(dir), GITPINS_LINE_MAX);
		if (ret == 1 && find_line(&r->pinned, (const char *)r->pin.data, &len) < 0) {
			ret = 0;
			if (!r->init) {
				r->missing = line;
				line = NULL;
				if (!(r->missing_file = gs_malloc(strlen(dir) + sizeof(GITPINS_NAME))))
					ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
				else
					sprintf(r->missing_file, "%s" GITPINS_NAME, dir);
			} else {
				if (r->pinned.len && r->pinned.data[r->pinned.len - 1] != '\n')
					ret = gs_buf_append_str(&r->pinned, "\n");
				if (!ret)
					ret = gs_buf_printf(&r->pinned, "%s\n", (const char *)r->pin.data);
				r->changed = true;
				/* below the top the pattern is rewritten: say how */
				if (!ret && *dir)
					ret = gs_buf_printf(&r->shown, "'%s' (%s" GITPINS_NAME ": ",
							    gs_shown_n((const char *)r->pin.data,
									r->pin.len - strlen(PIN_SUFFIX)),
							    gs_shown(dir));
				if (!ret && *dir)
					ret = gs_buf_printf(&r->shown, "'%s')\n", gs_shown_n(line, at));
			}
		}
		ret = ret == 1 ? 0 : ret;
		free(line);
	}
	return ret;
}

/* The pins r brings up to date: the top-level .gitattributes, then each
 * below it (a team's config/.gitattributes), against this clone's
 * info/attributes (read into r->pinned first). */
static int pin_all(struct gitfilter *f, struct pin_run *r, const char *info)
{
	struct gs_buf text;
	int ret;

	gs_buf_init(&text, false);
	if ((ret = gs_read_file(info, &r->pinned, ATTRIBUTES_MAX)) == GS_ERR_NOT_FOUND) {
		gs_error_clear();
		ret = 0;
	}
	if (!ret && !(ret = attributes_text(f, &text))) {
		gitpins_drop_bom(&text); /* git reads it as a file */
		if (!(ret = note_macros(r, &text)))
			ret = pin_lines(f, "", &text, r);
	}
	if (!ret && !r->missing)
		ret = gitpins_each_below(f, pin_lines, r);
	gs_buf_release(&text);
	return ret;
}

static void pin_run_release(struct pin_run *r)
{
	gs_buf_release(&r->pinned);
	gs_buf_release(&r->pin);
	gs_buf_release(&r->shown);
	for (size_t i = 0; i < r->macro_count; i++)
		free(r->macros[i]);
	free(r->macros);
	free(r->missing);
	free(r->missing_file);
}

/* .gitattributes is repository content: a pull request could take the
 * filter off (`secrets/... -filter`) and the next `git add` would store
 * plaintext. $GIT_DIR/info/attributes, which git reads last and which no
 * commit changes, keeps the filter's lines this clone was set up with,
 * those of a subdirectory's .gitattributes too, their patterns as that
 * file means them. */
static int pin_attributes(struct gitfilter *f, char **shown)
{
	char info[PATH_MAX];
	struct pin_run r = { .init = true };
	int ret = 0;

	gs_buf_init(&r.pinned, false);
	gs_buf_init(&r.pin, false);
	gs_buf_init(&r.shown, false);
	if ((size_t)snprintf(info, sizeof(info), "%sinfo", git_repository_commondir(f->repo)) >= sizeof(info)) {
		ret = GS_FAIL(GS_ERR_LIMIT, "git directory path too long");
		goto out;
	}
	if (mkdir(info, 0755) != 0 && errno != EEXIST) {
		ret = GS_FAIL(GS_ERR_WRITE, "cannot create '%s': %s", gs_shown(info), strerror(errno));
		goto out;
	}
	if ((size_t)snprintf(info + strlen(info), sizeof(info) - strlen(info), "/attributes") >=
	    sizeof(info) - strlen(info)) {
		ret = GS_FAIL(GS_ERR_LIMIT, "git directory path too long");
		goto out;
	}
	if (!(ret = pin_all(f, &r, info)))
		ret = repin_exposed(&r.pinned, &r.changed);
	if (!ret && r.changed)
		ret = gs_atomic_write(info, r.pinned.data, r.pinned.len, 0644);
	if (!ret && r.shown.len && !(ret = gs_buf_append(&r.shown, "", 1)))
		*shown = (char *)gs_buf_detach(&r.shown, NULL);
out:
	pin_run_release(&r);
	return ret;
}

int gitfilter_pins_missing(struct gitfilter *f, char **kept_line, char **file)
{
	char info[PATH_MAX];
	struct pin_run r = { .init = false };
	int ret;

	*kept_line = *file = NULL;
	gs_buf_init(&r.pinned, false);
	gs_buf_init(&r.pin, false);
	gs_buf_init(&r.shown, false);
	if (!(ret = gitpins_path(f->repo, info, sizeof(info))))
		ret = pin_all(f, &r, info);
	/* what git itself cannot read (a linked .gitattributes) is said elsewhere */
	if (ret && ret != GS_ERR_NOMEM)
		ret = 0;
	if (!ret) {
		gs_error_clear();
		*kept_line = r.missing;
		*file = r.missing_file;
		r.missing = r.missing_file = NULL;
	}
	pin_run_release(&r);
	return ret;
}

#define HOOK_MARK "# gitseal: refuse to commit plaintext secrets"

/* The hooks init installs: git runs pre-commit for `git commit` only,
 * pre-merge-commit for a merge that commits without conflicts, and no
 * hook for the commits of rebase, cherry-pick and revert, which pre-push
 * checks before they leave the clone. call: what a hook of the user's runs
 * to check (found in it); line: the line to add to one. */
static const struct hook {
	const char *name, *args, *call, *line;
} hooks[GITFILTER_HOOKS] = {
	[GITFILTER_HOOK_PRE_COMMIT] = { "pre-commit", "git check\n", "gitseal git check", "gitseal git check" },
	[GITFILTER_HOOK_PRE_MERGE_COMMIT] = { "pre-merge-commit", "git check\n", "gitseal git check",
					      "gitseal git check" },
	[GITFILTER_HOOK_PRE_PUSH] = { "pre-push", "git check --pre-push \"$@\"\n", "gitseal git check --pre-push",
				      "gitseal git check --pre-push \"$@\"" },
};

const char *gitfilter_hook_name(enum gitfilter_hook h)
{
	return hooks[h].name;
}

const char *gitfilter_hook_line(enum gitfilter_hook h)
{
	return hooks[h].line;
}

static int install_hook(git_repository *repo, const struct hook *h)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct gs_buf text;
	int ret;

	if ((size_t)snprintf(dir, sizeof(dir), "%shooks", git_repository_commondir(repo)) >= sizeof(dir) ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, h->name) >= sizeof(path))
		return GS_FAIL(GS_ERR_LIMIT, "hook path too long");
	gs_buf_init(&text, false);
	ret = gs_read_file(path, &text, ATTRIBUTES_MAX);
	if (ret == 0) {
		ret = strstr((const char *)text.data, HOOK_MARK)
			      ? 0
			      : GS_FAIL(GS_ERR_CONFLICT, "'%s' exists: add '%s' to it yourself, or use --no-hook",
					gs_shown(path), h->line);
		goto out;
	}
	if (ret != GS_ERR_NOT_FOUND)
		goto out;
	gs_error_clear();
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		ret = GS_FAIL(GS_ERR_IO, "cannot create '%s': %s", gs_shown(dir), strerror(errno));
		goto out;
	}
	gs_buf_reset(&text);
	if ((ret = gs_buf_append_str(&text, "#!/bin/sh\n" HOOK_MARK "\n")) || (ret = shell_command(&text, h->args)))
		goto out;
	ret = gs_atomic_write(path, text.data, text.len, 0755);
out:
	gs_buf_release(&text);
	return ret;
}

/* Whether the hook at path calls call (the one init writes does; so may a
 * hook of the user's own). */
static bool hook_checks(const char *path, const char *call)
{
	struct gs_buf text;
	bool yes;

	gs_buf_init(&text, false);
	yes = gs_read_file(path, &text, ATTRIBUTES_MAX) == 0 && memmem(text.data, text.len, call, strlen(call));
	gs_error_clear();
	gs_buf_release(&text);
	return yes;
}

bool gitfilter_hook_missing(struct gitfilter *f, enum gitfilter_hook h)
{
	char ours[PATH_MAX], path[PATH_MAX];
	struct stat st;

	return (size_t)snprintf(ours, sizeof(ours), "%shooks/%s", git_repository_commondir(f->repo),
				hooks[GITFILTER_HOOK_PRE_COMMIT].name) < sizeof(ours) &&
	       (size_t)snprintf(path, sizeof(path), "%shooks/%s", git_repository_commondir(f->repo), hooks[h].name) <
		       sizeof(path) &&
	       hook_checks(ours, HOOK_MARK) && lstat(path, &st) != 0;
}

bool gitfilter_hook_elsewhere(struct gitfilter *f, enum gitfilter_hook h, char *setting, size_t size)
{
	char ours[PATH_MAX], theirs[PATH_MAX], real_ours[PATH_MAX], real_theirs[PATH_MAX], tail[64];
	const char *home = getenv("HOME"), *name = hooks[h].name, *call = hooks[h].call;
	git_config *cfg = NULL;
	git_config_entry *e = NULL;
	bool elsewhere = false;
	int n;

	if ((size_t)snprintf(ours, sizeof(ours), "%shooks/%s", git_repository_commondir(f->repo), name) >=
		    sizeof(ours) ||
	    !hook_checks(ours, call) || git_repository_config(&cfg, f->repo) < 0 ||
	    git_config_get_entry(&e, cfg, "core.hooksPath") < 0 || !e->value[0])
		goto out;
	snprintf(setting, size, "%s", e->value);
	/* as git reads it: "~/" is HOME, a relative path is the work tree's */
	if (!strncmp(e->value, "~/", 2))
		n = home ? snprintf(theirs, sizeof(theirs), "%s/%s/%s", home, e->value + 2, name) : -1;
	else if (e->value[0] == '/' || !f->workdir)
		n = snprintf(theirs, sizeof(theirs), "%s/%s", e->value, name);
	else
		n = snprintf(theirs, sizeof(theirs), "%s%s/%s", f->workdir, e->value, name);
	if (n < 0 || (size_t)n >= sizeof(theirs))
		goto out;
	/* the same file under another name: git runs ours */
	if (realpath(ours, real_ours) && realpath(theirs, real_theirs) && !strcmp(real_ours, real_theirs))
		goto out;
	elsewhere = !hook_checks(theirs, call);
	/* husky 9: core.hooksPath .husky/_, whose generated hook runs the
	 * user's .husky/HOOK */
	snprintf(tail, sizeof(tail), "/_/%s", name);
	if (elsewhere && (size_t)n > strlen(tail) && !strcmp(theirs + n - strlen(tail), tail)) {
		strcpy(theirs + n - strlen(tail) + 1, name);
		elsewhere = !hook_checks(theirs, call);
	}
out:
	git_error_clear();
	git_config_entry_free(e);
	git_config_free(cfg);
	return elsewhere;
}

/* The blob as checked out: byte for byte, or with CRLF line ends where
 * git converted them (core.autocrlf, the text attribute). */
static bool same_but_crlf(const struct gs_buf *file, const struct gs_buf *blob)
{
	size_t i = 0, j = 0;

	if (file->len == blob->len)
		return !memcmp(file->data, blob->data, blob->len);
	while (i < file->len && j < blob->len) {
		if (file->data[i] == '\r' && i + 1 < file->len && file->data[i + 1] == '\n' && blob->data[j] == '\n')
			i++;
		if (file->data[i++] != blob->data[j++])
			return false;
	}
	return i == file->len && j == blob->len;
}

/* Whether a directory on path (the index's, below the work tree) is a
 * symbolic link: written through it, the file would go where the link
 * points, outside the repository perhaps (git itself does not check out
 * beyond a link). lock and unlock refuse such a path. */
static int refuse_linked_dirs(const struct gitfilter *f, const char *path)
{
	char full[PATH_MAX];
	size_t base = strlen(f->workdir);
	struct stat st;

	if ((size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, path) >= sizeof(full))
		return GS_FAIL(GS_ERR_GENERIC, "'%s': path too long", gs_shown(path));
	for (char *slash = strchr(full + base, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (lstat(full, &st) == 0 && S_ISLNK(st.st_mode))
			return GS_FAIL(GS_ERR_GENERIC, "'%s': a directory on its path is a symbolic link: not "
				       "written through", gs_shown(path));
		*slash = '/';
	}
	return 0;
}

/* One more file left encrypted for the reason why, which names the key:
 * counted under that reason, the first few reasons each shown. */
static void note_locked_key(struct gitfilter_init_result *res, const char *why)
{
	for (size_t i = 0; i < GITFILTER_LOCKED_SHOWN; i++) {
		struct gitfilter_locked_key *k = &res->locked[i];

		if (!k->why[0])
			snprintf(k->why, sizeof(k->why), "%s", why);
		if (strncmp(k->why, why, sizeof(k->why) - 1) == 0) {
			k->files++;
			return;
		}
	}
	res->locked_more++;
}

/* Until the clock is past the second of every file written so far (and a
 * filesystem's coarse clock, a tick behind, too). git takes an index
 * entry whose file changed in the second the index was written for racily
 * clean and cleans the file again to compare it; a file a protected key
 * opened with the passphrase unlock asked for is one the filter (which
 * asks for none) cannot open, so it would seal it afresh, a new data key:
 * every decrypted file would show as modified (red team 23, U1). */
static void wait_past_second(void)
{
	struct timespec now, until;

	if (clock_gettime(CLOCK_REALTIME, &now) != 0)
		return;
	until = (struct timespec){ now.tv_sec + 1, 20 * 1000 * 1000 };
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
}

/* A file checked out before the filter was configured still holds the
 * blob, that is ciphertext: decrypt it in place. libgit2 cannot run git's
 * process filters, so this cannot go through git_checkout. git notices the
 * new mtime and re-cleans the file, which (reuse) gives the same blob. */
static int smudge_worktree(struct gitfilter *f, struct gitfilter_init_result *res)
{
	git_index *idx = NULL;
	struct gs_buf blob, file, plain;
	char full[PATH_MAX];
	bool dirty = false;
	int ret = 0;

	if (git_repository_index(&idx, f->repo) < 0)
		return gitrepo_fail("cannot open the index");
	git_attr_cache_flush(f->repo);
	/* the work tree file and a blob that is not a sops file are plaintext */
	gs_buf_init(&blob, true);
	gs_buf_init(&file, true);
	gs_buf_init(&plain, true);
	for (size_t i = 0; i < git_index_entrycount(idx) && !ret; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);
		struct stat st;
		const char *passed;
		int err;

		if (git_index_entry_stage(e) != 0 || !gitrepo_filtered(f, e->path))
			continue;
		if ((size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, e->path) >= sizeof(full) ||
		    lstat(full, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if ((ret = refuse_linked_dirs(f, e->path)))
			break;
		gs_buf_reset(&blob);
		gs_buf_reset(&file);
		gs_buf_reset(&plain);
		if ((ret = gitrepo_read_blob(f, &e->id, &blob)) || (ret = gs_read_file(full, &file, FILTER_MAX_CONTENT)))
			break;
		if (!same_but_crlf(&file, &blob) ||
		    !gitfilter_is_sops(store_format_for_path(e->path), file.data, file.len))
			continue;
		err = gitfilter_smudge(f, e->path, file.data, file.len, &plain, &passed);
		if (err) {
			res->files_failed++;
			snprintf(res->failed_message, sizeof(res->failed_message), "%s", gs_error_message());
			continue;
		}
		if (passed) {
			/* a passphrase-protected key that alone opens it, not asked
			 * (git commands never ask) or given a wrong passphrase */
			const char *why = gitfilter_locked_failure_for(f, store_format_for_path(e->path), file.data,
								       file.len);

			if (why) {
				note_locked_key(res, why);
				res->files_locked_key++;
			}
			res->files_locked++;
			continue;
		}
		/* the file checked above, never a link put in its place: plaintext */
		if ((ret = gs_replace_found(full, &(struct gs_file_id){ st.st_dev, st.st_ino }, NULL, plain.data, plain.len)) ||
		    (ret = gitrepo_index_set(f, idx, e, NULL, full)))
			break;
		res->files_smudged++;
		dirty = true;
	}
	if (!ret && dirty && age_identity_list_unlocked_any(gitfilter_identities(f)))
		wait_past_second();
	if (!ret && dirty && git_index_write(idx) < 0)
		ret = gitrepo_fail("cannot write the index");
	gs_buf_release(&blob);
	gs_buf_release(&file);
	gs_buf_release(&plain);
	git_index_free(idx);
	return ret;
}

/* The recipients found, in order, each with where it was found: NULL for
 * .sops.yaml, else the committed file whose metadata names it. */
struct name_list {
	char **items;
	const char **sources;
	size_t count;
};

static int name_list_add(struct name_list *l, const struct sops_key_group *groups, size_t n, const char *source)
{
	for (size_t g = 0; g < n; g++) {
		size_t more = sops_key_group_size(&groups[g]);
		char **grown = gs_realloc(l->items, (l->count + more + 1) * sizeof(*grown));
		const char **grown_sources;

		if (grown)
			l->items = grown;
		grown_sources = grown ? gs_realloc(l->sources, (l->count + more + 1) * sizeof(*grown_sources)) : NULL;
		if (!grown_sources)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		l->sources = grown_sources;
		for (size_t i = 0; i < more; i++) {
			l->sources[l->count] = source;
			l->items[l->count++] = (char *)sops_key_group_key(&groups[g], i);
		}
	}
	return 0;
}

static bool seen_before(const struct name_list *l, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!strcmp(l->items[j], l->items[i]))
			return true;
	return false;
}

static size_t distinct(const struct name_list *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->count; i++)
		n += !seen_before(l, i);
	return n;
}

struct first_accept {
	struct gitfilter *f;
	struct sops_config *config; /* .sops.yaml's: names points into it */
	struct name_list names;
	struct sops_key_summary *files;
	char **paths; /* of files, each the source of its names */
	size_t nfiles;
	struct gs_buf refused; /* a line for each path no record can name */
	struct gs_buf blob;
	int ret;
};

static int note_file(struct first_accept *fa, const char *path, const git_oid *id)
{
	struct sops_key_summary *grown;
	char **grown_paths;
	struct doc d;
	int ret;

	if (!gitrepo_filtered(fa->f, path))
		return 0;
	if (!gittrust_path_recordable(path))
		return gs_buf_printf(&fa->refused, "'%s': %s\n", gs_shown(path), GITFILTER_PATH_REFUSED);
	gs_buf_reset(&fa->blob);
	if ((ret = gitrepo_read_blob(fa->f, id, &fa->blob)))
		return ret;
	if ((ret = gitseal_load_sealed(store_format_for_path(path), fa->blob.data, fa->blob.len, &d)) < 0)
		return ret;
	if (ret) {
		ret = 0;
		if ((grown = gs_realloc(fa->files, (fa->nfiles + 1) * sizeof(*grown))))
			fa->files = grown;
		if ((grown_paths = grown ? gs_realloc(fa->paths, (fa->nfiles + 1) * sizeof(*grown_paths)) : NULL))
			fa->paths = grown_paths;
		if (!grown_paths || !(grown_paths[fa->nfiles] = gs_strdup(path))) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		} else if (sops_doc_keys(&d, &grown[fa->nfiles]) == 0) {
			ret = name_list_add(&fa->names, grown[fa->nfiles].groups, grown[fa->nfiles].group_count,
					    grown_paths[fa->nfiles]);
			fa->nfiles++;
		} else {
			free(grown_paths[fa->nfiles]);
		}
		gs_error_clear();
	}
	doc_release(&d);
	return ret;
}

/* How many distinct files name l->items[i] (0: .sops.yaml names it),
 * each appended to text when text is not NULL. */
static int metadata_sources(const struct name_list *l, size_t i, struct gs_buf *text, size_t *n)
{
	int ret = 0;

	*n = 0;
	for (size_t j = 0; j < l->count; j++)
		if (!strcmp(l->items[j], l->items[i]) && !l->sources[j]) {
			*n = 0;
			return 0;
		}
	for (size_t j = 0; j < l->count && !ret; j++) {
		bool again = false;

		if (strcmp(l->items[j], l->items[i]))
			continue;
		for (size_t k = 0; k < j && !again; k++)
			again = !strcmp(l->items[k], l->items[i]) && !strcmp(l->sources[k], l->sources[j]);
		if (again)
			continue;
		if (text)
			ret = gs_buf_printf(text, "%s'%s'", *n ? ", " : "", gs_shown(l->sources[j]));
		++*n;
	}
	return ret;
}

/* What init accepted, one recipient a line with where it was found, for
 * the user to see (a recipient only a file's metadata names is outside
 * the MAC: anyone who could commit may have put it there), each file that
 * names it: it is accepted for each of them. */
static int show_accepted(const struct name_list *l, char **out)
{
	struct gs_buf text;
	size_t files;
	int ret = 0;

	gs_buf_init(&text, false);
	for (size_t i = 0; i < l->count && !ret; i++) {
		if (seen_before(l, i))
			continue;
		if ((ret = gs_shown_append(&text, l->items[i])) ||
		    (ret = metadata_sources(l, i, NULL, &files)))
			break;
		if (!files)
			ret = gs_buf_append_str(&text, " (.sops.yaml)\n");
		else if (files == 1)
			ret = gs_buf_printf(&text, " (only in the metadata of '%s', which the MAC does not cover)\n",
					    gs_shown(l->sources[i]));
		else if (!(ret = gs_buf_printf(&text, " (only in the metadata of %zu files, which the MAC does not "
						      "cover: ", files)) &&
			 !(ret = metadata_sources(l, i, &text, &files)))
			ret = gs_buf_append_str(&text, ")\n");
	}
	if (ret || (ret = gs_buf_append(&text, "", 1))) {
		gs_buf_release(&text);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	*out = (char *)gs_buf_detach(&text, NULL);
	return 0;
}

static int note_head_file(const char *root, const git_tree_entry *te, void *ctx)
{
	struct first_accept *fa = ctx;
	char path[4096];

	if (git_tree_entry_type(te) != GIT_OBJECT_BLOB ||
	    (size_t)snprintf(path, sizeof(path), "%s%s", root, git_tree_entry_name(te)) >= sizeof(path))
		return 0;
	fa->ret = note_file(fa, path, git_tree_entry_id(te));
	return fa->ret ? -1 : 0;
}

/* .sops.yaml as the work tree has it, else as HEAD has it (a clone made
 * with --no-checkout, set up before its first checkout). */
static int config_text(struct gitfilter *f, struct gs_buf *text)
{
	char path[PATH_MAX];
	bool found;
	int ret;

	if ((ret = gitrepo_config_path(f, path, sizeof(path))) == 0)
		ret = gs_read_file(path, text, ATTRIBUTES_MAX);
	if (ret != GS_ERR_NOT_FOUND)
		return ret;
	gs_error_clear();
	return gitrepo_head_blob(f, ".sops.yaml", text, &found);
}

static void first_accept_release(struct first_accept *fa)
{
	for (size_t i = 0; i < fa->nfiles; i++) {
		sops_key_summary_release(&fa->files[i]);
		free(fa->paths[i]);
	}
	free(fa->files);
	free(fa->paths);
	free(fa->names.items);
	free(fa->names.sources);
	if (fa->config)
		sops_config_free(fa->config);
	gs_buf_release(&fa->blob);
	gs_buf_release(&fa->refused);
}

/* The recipients of .sops.yaml's rules (text): a .sops.yaml that does not
 * parse adds none (updatekeys says so later); an age entry that is not a
 * recipient stops init, as it stops encryption by its rule. */
static int note_config(struct first_accept *fa, struct gs_buf *text)
{
	int ret;

	if (!text->len || gittrust_parse_config(fa->f, text, &fa->config)) {
		gs_error_clear();
		return 0;
	}
	if ((ret = gittrust_check_config_recipients(fa->config)))
		gs_error_prefix("'.sops.yaml'");
	for (size_t r = 0; r < fa->config->rule_count && !ret; r++)
		ret = name_list_add(&fa->names, fa->config->rules[r].groups, fa->config->rules[r].group_count, NULL);
	return ret;
}

/* The sops files of the index; when nothing is checked out yet, HEAD's. */
static int note_committed_files(struct first_accept *fa)
{
	git_index *idx = NULL;
	git_tree *head;
	size_t staged = 0;
	int ret = 0;

	if (git_repository_index(&idx, fa->f->repo) < 0)
		return gitrepo_fail("cannot open the index");
	for (size_t i = 0; i < git_index_entrycount(idx) && !ret; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);

		staged++;
		if (git_index_entry_stage(e) == 0)
			ret = note_file(fa, e->path, &e->id);
	}
	if (!ret && !staged && (head = gitrepo_head_tree(fa->f)) &&
	    git_tree_walk(head, GIT_TREEWALK_PRE, note_head_file, fa) < 0)
		ret = fa->ret ? fa->ret : gitrepo_fail("cannot read HEAD's tree");
	git_index_free(idx);
	return ret;
}

/* The first time, a clone accepts whom its repository seals files for
 * now: the recipients of .sops.yaml and of the committed files. Later
 * changes go through `gitseal updatekeys`, which shows them. */
static int accept_first_time(struct gitfilter *f, struct gitfilter_init_result *res)
{
	struct first_accept fa = { .f = f };
	struct gs_buf text;
	int ret;

	if ((ret = gittrust_load(f)) || f->trust.have_record)
		return ret;
	gs_buf_init(&fa.blob, false);
	gs_buf_init(&fa.refused, false);
	gs_buf_init(&text, false);
	/* a .sops.yaml that cannot be read stops init */
	if ((ret = config_text(f, &text)) || (ret = note_config(&fa, &text)) || (ret = note_committed_files(&fa)))
		goto out;
	/* .sops.yaml's rules first: a file records only what its rule lacks */
	if ((ret = gittrust_accept_config(f, &text)) ||
	    (ret = gittrust_accept_files(f, fa.paths, fa.files, fa.nfiles)))
		goto out;
	res->recipients_accepted = distinct(&fa.names);
	if (!(ret = show_accepted(&fa.names, &res->recipients_shown)) && fa.refused.len &&
	    !(ret = gs_buf_append(&fa.refused, "", 1)))
		res->paths_refused = (char *)gs_buf_detach(&fa.refused, NULL);
out:
	first_accept_release(&fa);
	gs_buf_release(&text);
	return ret;
}

/* What a newcomer is told after init: nothing is under the filter yet, or
 * nothing says whom a new file is sealed for. */
static int note_missing_setup(struct gitfilter *f, struct gitfilter_init_result *res)
{
	struct gs_buf text;
	char path[PATH_MAX];
	int ret;

	gs_buf_init(&text, false);
	if ((ret = attributes_text(f, &text)) < 0)
		goto out;
	res->no_pattern = !memmem(text.data ? (const char *)text.data : "", text.len, "filter=gitseal", 14);
	gs_buf_reset(&text);
	/* this clone's own lines count too */
	if (res->no_pattern &&
	    snprintf(path, sizeof(path), "%sinfo/attributes", git_repository_commondir(f->repo)) < (int)sizeof(path) &&
	    gs_read_file(path, &text, ATTRIBUTES_MAX) == 0)
		res->no_pattern = !memmem(text.data ? (const char *)text.data : "", text.len, "filter=gitseal", 14);
	gs_error_clear();
	gs_buf_reset(&text);
	/* a .sops.yaml that cannot be read is said by git add and status */
	if (config_text(f, &text) == 0)
		res->no_config = text.len == 0;
	else if (gs_error_code() == GS_ERR_NOMEM)
		ret = GS_ERR_NOMEM;
	else
		gs_error_clear();
out:
	gs_buf_release(&text);
	return ret;
}

int gitfilter_init(const char *start_dir, const struct gitfilter_init_opts *o,
		   struct gitfilter_init_result *res)
{
	struct gitfilter *f = NULL;
	char setting[PATH_MAX];
	int ret;

	memset(res, 0, sizeof(*res));
	ret = gitfilter_open(start_dir, &f);
	if (ret)
		return ret;
	if ((ret = set_config(f->repo)) ||
	    (ret = add_attributes(f->workdir, o->patterns, o->pattern_count, &res->attributes_added)) ||
	    (ret = pin_attributes(f, &res->pins_shown)))
		goto out;
	/* a hook of the user's own stays: init goes on and says what to add */
	for (size_t h = 0; o->hook && h < GITFILTER_HOOKS && !ret; h++)
		if ((ret = install_hook(f->repo, &hooks[h])) == GS_ERR_CONFLICT) {
			snprintf(res->hook_messages[h], sizeof(res->hook_messages[h]), "%s", gs_error_message());
			gs_error_clear();
			ret = 0;
		}
	if (ret)
		goto out;
	/* core.hooksPath elsewhere (husky sets one): git never runs ours */
	for (size_t h = 0; h < GITFILTER_HOOKS; h++)
		if (h != GITFILTER_HOOK_PRE_MERGE_COMMIT && !res->hook_messages[h][0] &&
		    gitfilter_hook_elsewhere(f, h, setting, sizeof(setting)))
			snprintf(res->hook_messages[h], sizeof(res->hook_messages[h]), GITFILTER_HOOK_ELSEWHERE,
				 hooks[h].name, gs_shown(setting), hooks[h].name, hooks[h].line, hooks[h].name);
	if ((ret = accept_first_time(f, res)) || (ret = note_missing_setup(f, res)))
		goto out;
	ret = smudge_worktree(f, res);
out:
	gitfilter_free(f);
	return ret;
}

static bool is_regular(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* refuse_linked_dirs for every file smudge_worktree would write: unlock
 * refuses before it records the state (a refused unlock leaves the clone
 * locked, as it was). */
static int refuse_linked_worktree(struct gitfilter *f)
{
	git_index *idx = NULL;
	char full[PATH_MAX];
	int ret = 0;

	if (git_repository_index(&idx, f->repo) < 0)
		return gitrepo_fail("cannot open the index");
	for (size_t i = 0; i < git_index_entrycount(idx) && !ret; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);

		if (git_index_entry_stage(e) == 0 && gitrepo_filtered(f, e->path) &&
		    (size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, e->path) < sizeof(full) &&
		    is_regular(full))
			ret = refuse_linked_dirs(f, e->path);
	}
	git_index_free(idx);
	return ret;
}

int gitfilter_unlock(const char *start_dir, struct gitfilter_init_result *res)
{
	struct gitfilter *f = NULL;
	int ret;

	memset(res, 0, sizeof(*res));
	if ((ret = gitfilter_open(start_dir, &f)))
		return ret;
	/* git-crypt's unlock sets its filter up; plaintext in a clone without
	 * gitseal's would go into the next 'git commit -a' as it is */
	if (!gitfilter_configured(f)) {
		ret = GS_FAIL(GS_ERR_CONFIG, "this clone has no gitseal filter: run 'gitseal git init', which sets "
			      "it up and decrypts what your keys open");
		goto out;
	}
	if ((ret = refuse_linked_worktree(f)) || (ret = gittrust_set_locked(f, false)))
		goto out;
	ret = smudge_worktree(f, res);
out:
	gitfilter_free(f);
	return ret;
}

/* Whether the work tree file holds what is staged: its ciphertext, or a
 * plaintext the filter cleans to it. */
static bool worktree_matches(struct gitfilter *f, const char *path, const struct gs_buf *file,
			     const struct gs_buf *blob)
{
	struct gs_buf cleaned;
	bool same;

	if (same_but_crlf(file, blob))
		return true;
	gs_buf_init(&cleaned, false);
	same = gitfilter_clean(f, path, file->data, file->len, &cleaned) == 0 && same_but_crlf(&cleaned, blob);
	gs_error_clear();
	gs_buf_release(&cleaned);
	return same;
}

/* Every decrypted file under the filter, or the first that has changes
 * (unless force). */
static int lock_plan(struct gitfilter *f, git_index *idx, bool force, size_t **which, size_t *count)
{
	struct gs_buf blob, file;
	char full[PATH_MAX];
	int ret = 0;

	gs_buf_init(&blob, false);
	gs_buf_init(&file, true);
	for (size_t i = 0; i < git_index_entrycount(idx) && !ret; i++) {
		const git_index_entry *e = git_index_get_byindex(idx, i);
		size_t *grown;

		if (git_index_entry_stage(e) != 0 || !gitrepo_filtered(f, e->path))
			continue;
		gs_buf_reset(&blob);
		gs_buf_reset(&file);
		/* only files: a link (tracked, or put in a file's place) is left
		 * as it is, never read or written through */
		if ((e->mode & 0170000) != 0100000 ||
		    (size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, e->path) >= sizeof(full) ||
		    !is_regular(full) || gs_read_file(full, &file, FILTER_MAX_CONTENT) != 0) {
			gs_error_clear();
			continue;
		}
		if ((ret = refuse_linked_dirs(f, e->path)))
			break;
		if ((ret = gitrepo_read_blob(f, &e->id, &blob)))
			break;
		if (!blob.len || !gitfilter_is_sops(store_format_for_path(e->path), blob.data, blob.len) ||
		    same_but_crlf(&file, &blob))
			continue;
		if (!force && !worktree_matches(f, e->path, &file, &blob)) {
			/* the committed version did not open: changed or not is not known */
			const char *why = gitfilter_locked_failure_for(f, store_format_for_path(e->path), blob.data,
								       blob.len);

			if (why)
				ret = GS_FAIL(GS_ERR_CONFLICT, "cannot tell whether '%s' has changes that are not "
							       "committed: %s", gs_shown(e->path), why);
			else
				ret = GS_FAIL(GS_ERR_CONFLICT, "'%s' has changes that are not committed: commit or "
							       "stash them first (--force locks it anyway, and they are "
							       "lost)", gs_shown(e->path));
			break;
		}
		if (!(grown = gs_realloc(*which, (*count + 1) * sizeof(*grown)))) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			break;
		}
		*which = grown;
		grown[(*count)++] = i;
	}
	gs_buf_release(&blob);
	gs_buf_release(&file);
	return ret;
}

int gitfilter_lock(const char *start_dir, bool force, size_t *locked)
{
	struct gitfilter *f = NULL;
	git_index *idx = NULL;
	struct gs_buf blob;
	size_t *which = NULL, count = 0;
	char full[PATH_MAX];
	int ret;

	*locked = 0;
	if ((ret = gitfilter_open(start_dir, &f)))
		return ret;
	gs_buf_init(&blob, false);
	if (git_repository_index(&idx, f->repo) < 0 || git_index_read(idx, 0) < 0) {
		ret = gitrepo_fail("cannot read the index");
		goto out;
	}
	/* the state first: a checkout from now on leaves ciphertext */
	if ((ret = lock_plan(f, idx, force, &which, &count)) || (ret = gittrust_set_locked(f, true)))
		goto out;
	for (size_t k = 0; k < count && !ret; k++) {
		const git_index_entry *e = git_index_get_byindex(idx, which[k]);
		struct stat st;

		gs_buf_reset(&blob);
		snprintf(full, sizeof(full), "%s%s", f->workdir, e->path);
		if (!(ret = gitrepo_read_blob(f, &e->id, &blob)) && lstat(full, &st) == 0 && S_ISREG(st.st_mode) &&
		    !(ret = gs_replace_found(full, &(struct gs_file_id){ st.st_dev, st.st_ino }, NULL, blob.data, blob.len)))
			ret = gitrepo_index_set(f, idx, e, NULL, full);
		*locked += !ret;
	}
	if (!ret && count && git_index_write(idx) < 0)
		ret = gitrepo_fail("cannot write the index");
out:
	free(which);
	gs_buf_release(&blob);
	git_index_free(idx);
	gitfilter_free(f);
	return ret;
}
