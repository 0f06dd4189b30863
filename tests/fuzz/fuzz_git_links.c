/* Where a symbolic link of a pull request leads (gitfilter_link_resolve,
 * links.c: git status and check), against the kernel. The input's entries
 * are made in a private directory, as a checkout makes them; then a file
 * is opened for writing through the first entry, a link, as an editor
 * would. Where the kernel wrote inside the repository, the walk must name
 * that very path; where it wrote outside, the walk must say so (it may say
 * "outside" where the kernel stays in: a walk above the top and back in,
 * which the check refuses as well).
 *
 * Input: lines of "path<TAB>text" (a link) or "path" (a file), at most 8;
 * the first must be a link. Paths are as git allows them (relative, no
 * empty, "." or ".." word, no entry below another); no text may be
 * absolute, and all texts together hold at most four ".." words, so that
 * nothing is made above the four directories the repository sits in. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitseal/secmem.h"
#include "../../src/git/gitfilter_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { ENTRIES_MAX = 8, UP_MAX = 4 };

struct entry {
	char path[128];
	char text[256];
	bool link;
};

struct entries {
	struct entry e[ENTRIES_MAX];
	size_t n;
};

static char base[PATH_MAX], top[PATH_MAX], root[PATH_MAX];

static bool link_text(void *ctx, const char *path, struct gs_buf *text)
{
	const struct entries *es = ctx;

	for (size_t i = 0; i < es->n; i++)
		if (es->e[i].link && !strcmp(es->e[i].path, path))
			return gs_buf_append(text, es->e[i].text, strlen(es->e[i].text)) == 0;
	return false;
}

static size_t words_up(const char *t)
{
	size_t n = 0;

	for (const char *s = t; *s;) {
		size_t w = strcspn(s, "/");

		n += w == 2 && s[0] == '.' && s[1] == '.';
		s += w + (s[w] ? 1 : 0);
	}
	return n;
}

static bool path_ok(const char *p)
{
	if (!*p || strlen(p) >= 100)
		return false;
	for (const char *s = p;;) {
		size_t w = strcspn(s, "/");

		if (!w || (w == 1 && s[0] == '.') || (w == 2 && s[0] == '.' && s[1] == '.') ||
		    (w == 4 && !strncmp(s, ".git", 4)))
			return false;
		if (!s[w])
			return true;
		s += w + 1;
	}
}

static bool below(const char *dir, const char *p)
{
	size_t n = strlen(dir);

	return !strncmp(dir, p, n) && p[n] == '/';
}

static bool parse(const uint8_t *data, size_t size, struct entries *es)
{
	size_t up = 0;

	if (memchr(data, '\0', size))
		return false;
	es->n = 0;
	for (size_t i = 0; i < size;) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t len = nl ? (size_t)(nl - data - i) : size - i;
		const uint8_t *tab = memchr(data + i, '\t', len);
		struct entry *e;

		if (es->n == ENTRIES_MAX)
			return false;
		e = &es->e[es->n++];
		e->link = tab != NULL;
		if (snprintf(e->path, sizeof(e->path), "%.*s", (int)(tab ? (size_t)(tab - data - i) : len),
			     (const char *)data + i) >= (int)sizeof(e->path) ||
		    snprintf(e->text, sizeof(e->text), "%.*s", tab ? (int)(len - (size_t)(tab - data - i) - 1) : 0,
			     tab ? (const char *)tab + 1 : "") >= (int)sizeof(e->text))
			return false;
		if (!path_ok(e->path) || (e->link && (!*e->text || e->text[0] == '/')))
			return false;
		up += words_up(e->text);
		i += len + 1;
	}
	if (!es->n || !es->e[0].link || up > UP_MAX)
		return false;
	for (size_t i = 0; i < es->n; i++)
		for (size_t j = 0; j < es->n; j++)
			if (!strcmp(es->e[i].path, es->e[j].path) ? i != j : below(es->e[i].path, es->e[j].path))
				return false;
	return true;
}

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static bool make_dirs(char *p)
{
	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			*s = '/';
			return false;
		}
		*s = '/';
	}
	return true;
}

static bool make(const struct entries *es)
{
	char p[PATH_MAX];

	if (nftw(top, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		abort();
	if (mkdir(top, 0700) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/2", top);
	if (mkdir(p, 0700) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/2/3", top);
	if (mkdir(p, 0700) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/2/3/4", top);
	if (mkdir(p, 0700) < 0 || mkdir(root, 0700) < 0)
		abort();
	for (size_t i = 0; i < es->n; i++) {
		int fd;

		snprintf(p, sizeof(p), "%s/%s", root, es->e[i].path);
		if (!make_dirs(p))
			return false;
		if (es->e[i].link) {
			if (symlink(es->e[i].text, p) < 0)
				return false;
		} else if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
			return false;
		} else {
			close(fd);
		}
	}
	return true;
}

/* The private directory goes when the run ends. */
static void remove_base(void)
{
	nftw(base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct entries es;
	char p[PATH_MAX], dir[PATH_MAX], out[PATH_MAX], fdlink[64], real[PATH_MAX];
	const char *slash;
	bool inside;
	ssize_t n;
	int fd;

	if (!ready) {
		snprintf(base, sizeof(base), "%s/fuzz_git_links.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(base) || !realpath(base, p))
			abort();
		snprintf(base, sizeof(base), "%s", p);
		snprintf(top, sizeof(top), "%s/1", base);
		snprintf(root, sizeof(root), "%s/2/3/4/r", top);
		atexit(remove_base);
		ready = true;
	}
	if (size > 2048 || !parse(data, size, &es))
		return 0;
	slash = strrchr(es.e[0].path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - es.e[0].path) : 0, es.e[0].path);
	inside = gitfilter_link_resolve(dir, es.e[0].text, strlen(es.e[0].text), link_text, &es, out, sizeof(out));
	if (!make(&es))
		return 0;
	snprintf(p, sizeof(p), "%s/%s", root, es.e[0].path);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600)) < 0)
		return 0; /* the kernel writes nowhere */
	snprintf(fdlink, sizeof(fdlink), "/proc/self/fd/%d", fd);
	n = readlink(fdlink, real, sizeof(real) - 1);
	close(fd);
	if (n < 0)
		abort();
	real[n] = '\0';
	if (!strncmp(real, root, strlen(root)) && real[strlen(root)] == '/') {
		if (inside && strcmp(out, real + strlen(root) + 1) != 0)
			abort(); /* another file of the repository than the one written */
	} else if (inside) {
		abort(); /* written outside the repository, named as a file in it */
	}
	return 0;
}
