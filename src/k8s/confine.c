/* Confinement: every file render and krm read is opened beneath one root
 * directory. Paths are joined and cleaned lexically (as kustomize does);
 * the kernel then resolves them from the root's descriptor with
 * openat2(RESOLVE_BENEATH), which refuses any '..' or symbolic link that
 * would leave the root (absolute links included) at the moment of the open,
 * so there is no window between a check and the use. Kernels without
 * openat2 get a plain open whose descriptor is checked afterwards through
 * /proc/self/fd. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gitseal/alloc.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "k8s_int.h"

/* Argo CD's cmp-server extracts each request under
 * $TMPDIR/_cmp_server/<uuid>/ (common.GetCMPWorkDir, files.CreateTempDir):
 * that directory is the checkout root. */
#define CMP_WORKDIR_NAME "_cmp_server"

static bool is_dir_entry(const char *dir, const char *name)
{
	char p[PATH_MAX];
	struct stat st;

	if (snprintf(p, sizeof(p), "%s/%s", strcmp(dir, "/") ? dir : "", name) >= (int)sizeof(p))
		return false;
	return lstat(p, &st) == 0;
}

static bool parent_is_cmp_workdir(const char *dir)
{
	const char *slash = strrchr(dir, '/');
	const char *prev;

	if (!slash || slash == dir)
		return false;
	prev = slash - 1;
	while (prev > dir && *prev != '/')
		prev--;
	return (size_t)(slash - prev - 1) == strlen(CMP_WORKDIR_NAME) &&
	       !strncmp(prev + 1, CMP_WORKDIR_NAME, strlen(CMP_WORKDIR_NAME));
}

/* ARGOCD_APP_SOURCE_PATH is the app's path inside the repository: the
 * root is what is left of the app directory without it. */
static bool strip_source_path(const char *app, const char *source_path, char *out, size_t cap)
{
	char clean[PATH_MAX];
	size_t n, alen = strlen(app);

	if (!source_path || !*source_path || source_path[0] == '/' ||
	    k8s_path_clean(source_path, clean, sizeof(clean)) || !strcmp(clean, "."))
		return false;
	n = strlen(clean);
	if (n >= alen || app[alen - n - 1] != '/' || strcmp(app + alen - n, clean))
		return false;
	if (alen - n - 1 >= cap)
		return false;
	memcpy(out, app, alen - n - 1);
	out[alen - n - 1] = '\0';
	if (!out[0])
		strcpy(out, "/");
	return true;
}

static bool is_symlink(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0 && S_ISLNK(st.st_mode);
}

/* The checkout holding app (a path as named, links kept): the nearest
 * directory with .git, or Argo CD's work directory. Past a symbolic link
 * on the way up, a checkout further up wins: what lies beyond a link inside
 * a checkout is that checkout's content, so a link to another checkout (or
 * a submodule of it) never becomes the root. */
static int root_guess(const char *app, char *out, size_t cap)
{
	char d[PATH_MAX], found[PATH_MAX] = "";
	bool past_link = false;

	if (strlen(app) >= sizeof(d))
		return GS_FAIL(GS_ERR_LIMIT, "path too long");
	strcpy(d, app);
	for (;;) {
		char *slash;

		if ((!found[0] || past_link) && (is_dir_entry(d, ".git") || parent_is_cmp_workdir(d))) {
			strcpy(found, d);
			past_link = false;
		}
		if (found[0] && is_symlink(d))
			past_link = true;
		slash = strrchr(d, '/');
		if (!slash || slash == d)
			break;
		*slash = '\0';
	}
	/* none found: Argo CD's variable, else the app directory alone */
	if (!found[0] && !strip_source_path(app, getenv("ARGOCD_APP_SOURCE_PATH"), found, sizeof(found)))
		strcpy(found, app);
	if (strlen(found) >= cap)
		return GS_FAIL(GS_ERR_LIMIT, "path too long");
	strcpy(out, found);
	return 0;
}

static bool path_below(const char *root, const char *p)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return p[0] == '/';
	return !strncmp(p, root, n) && (p[n] == '/' || p[n] == '\0');
}

/* p cleaned by its words alone, as Go's filepath.Clean on Unix:
 * empty and "." words go, ".." takes back the word before it. Above the
 * top ".." stays at "/" in an absolute path and is refused in a relative
 * one; an empty relative result is ".". */
static int clean_words(const char *p, char *out, size_t cap)
{
	bool absolute = *p == '/';
	size_t top = absolute ? 1 : 0, o = top;

	if (cap < 2)
		return GS_FAIL(GS_ERR_LIMIT, "path too long");
	if (absolute)
		out[0] = '/';
	for (const char *s = p; *s;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n == 0 || (n == 1 && s[0] == '.')) {
			/* skip */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (o == top && !absolute)
				return GS_FAIL(GS_ERR_USAGE, "'%s' leads outside the root", gs_shown(p));
			while (o > top && out[o - 1] != '/')
				o--;
			if (o > top)
				o--;
		} else {
			size_t sep = o > top ? 1 : 0;

			if (o + sep + n + 1 > cap)
				return GS_FAIL(GS_ERR_LIMIT, "path too long");
			if (sep)
				out[o++] = '/';
			memcpy(out + o, s, n);
			o += n;
		}
		s += n + (e ? 1 : 0);
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	return 0;
}

/* app_dir made absolute from the working directory and cleaned by its
 * words alone, symbolic links kept: the path as named, where the root is
 * looked for. */
static int path_as_named(const char *app_dir, char *out, size_t cap)
{
	char joined[PATH_MAX * 2];

	if (app_dir[0] == '/') {
		if (strlen(app_dir) >= sizeof(joined))
			return GS_FAIL(GS_ERR_LIMIT, "path too long");
		strcpy(joined, app_dir);
	} else {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)))
			return GS_FAIL(GS_ERR_IO, "cannot get the working directory: %s", strerror(errno));
		if (snprintf(joined, sizeof(joined), "%s/%s", cwd, app_dir) >= (int)sizeof(joined))
			return GS_FAIL(GS_ERR_LIMIT, "path too long");
	}
	return clean_words(joined, out, cap);
}

/* The root is looked for along the directory as named, and the directory,
 * resolved, must lie beneath the root, resolved: an app directory (or a
 * directory above it) that is a symbolic link into another checkout never
 * makes that checkout the root. */
static int root_find(const char *app_dir, const char *app, char *r, size_t cap)
{
	char named[PATH_MAX], guess[PATH_MAX];
	int ret;

	if ((ret = path_as_named(app_dir, named, sizeof(named))) || (ret = root_guess(named, guess, sizeof(guess))))
		return ret;
	if (!realpath(guess, r) || strlen(r) >= cap)
		return GS_FAIL(GS_ERR_NOT_FOUND, "root '%s': %s", gs_shown(guess), strerror(errno));
	if (!path_below(r, app))
		return GS_FAIL(GS_ERR_USAGE, "'%s' leads outside the root '%s' through a symbolic link",
			       gs_shown(app_dir), gs_shown(guess));
	return 0;
}

int k8s_root_open_for(const char *app_dir, const char *explicit_root, struct k8s_root *root,
		      char **app_rel)
{
	char app[PATH_MAX], r[PATH_MAX];
	int ret;

	memset(root, 0, sizeof(*root));
	root->fd = -1;
	*app_rel = NULL;
	if (!realpath(app_dir, app))
		return GS_FAIL(GS_ERR_NOT_FOUND, "'%s': %s", gs_shown(app_dir), strerror(errno));
	if (explicit_root) {
		if (!realpath(explicit_root, r))
			return GS_FAIL(GS_ERR_NOT_FOUND, "root '%s': %s", gs_shown(explicit_root), strerror(errno));
		if (!path_below(r, app))
			return GS_FAIL(GS_ERR_USAGE, "'%s' is outside the root '%s'", gs_shown(app_dir),
				       gs_shown(explicit_root));
	} else {
		ret = root_find(app_dir, app, r, sizeof(r));
		if (ret)
			return ret;
	}
	root->fd = open(r, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root->fd < 0)
		return GS_FAIL(GS_ERR_IO, "cannot open '%s': %s", gs_shown(r), strerror(errno));
	root->path = gs_strdup(r);
	*app_rel = gs_strdup(app[strlen(r)] ? app + strlen(r) + (strcmp(r, "/") ? 1 : 0) : ".");
	if (!root->path || !*app_rel || !**app_rel) {
		k8s_root_release(root);
		free(*app_rel);
		*app_rel = NULL;
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

void k8s_root_release(struct k8s_root *root)
{
	if (root->fd >= 0)
		close(root->fd);
	free(root->path);
	root->fd = -1;
	root->path = NULL;
}

int k8s_path_clean(const char *p, char *out, size_t cap)
{
	if (*p == '/')
		return GS_FAIL(GS_ERR_USAGE, "'%s': absolute paths are not allowed", gs_shown(p));
	return clean_words(p, out, cap);
}

char *k8s_rel_join(const char *dir_rel, const char *p)
{
	char buf[PATH_MAX * 2], clean[PATH_MAX];

	if (p[0] == '/') {
		gs_error_set(GS_ERR_USAGE, "'%s': absolute paths are not allowed", gs_shown(p));
		return NULL;
	}
	if (snprintf(buf, sizeof(buf), "%s/%s", dir_rel, p) >= (int)sizeof(buf)) {
		gs_error_set(GS_ERR_LIMIT, "path too long");
		return NULL;
	}
	if (k8s_path_clean(buf, clean, sizeof(clean))) {
		gs_error_set(GS_ERR_USAGE, "'%s' leads outside the root", gs_shown(p));
		return NULL;
	}
	char *r = gs_strdup(clean);

	if (!r)
		gs_error_set(GS_ERR_NOMEM, "out of memory");
	return r;
}

/* openat2 has no glibc wrapper on every system this builds on. */
static int open_beneath(int dirfd, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
}

/* Without openat2: open, then ask the kernel where the descriptor leads. */
static int open_checked(const struct k8s_root *root, const char *rel, int flags)
{
	char p[PATH_MAX], link[64], real[PATH_MAX];
	ssize_t n;
	int fd;

	if (snprintf(p, sizeof(p), "%s/%s", root->path, rel) >= (int)sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(p, flags | O_CLOEXEC);
	if (fd < 0)
		return -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	if (n < 0) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	real[n] = '\0';
	if (!path_below(root->path, real)) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	return fd;
}

int k8s_root_open(const struct k8s_root *root, const char *rel, int flags, int *fd_out)
{
	/* render prepares files on several threads */
	static _Atomic int have_openat2 = 1;
	int fd = -1;

	*fd_out = -1;
	if (have_openat2) {
		fd = open_beneath(root->fd, rel, flags);
		if (fd < 0 && errno == ENOSYS)
			have_openat2 = 0;
	}
	if (!have_openat2)
		fd = open_checked(root, rel, flags);
	if (fd < 0) {
		if (errno == EXDEV || errno == ELOOP)
			return GS_FAIL(GS_ERR_USAGE, "'%s' leads outside the root '%s'", gs_shown(rel),
				       gs_shown(root->path));
		if (errno == ENOENT || errno == ENOTDIR)
			return GS_FAIL(GS_ERR_NOT_FOUND, "'%s' not found", gs_shown(rel));
		return GS_FAIL(GS_ERR_IO, "cannot open '%s': %s", gs_shown(rel), strerror(errno));
	}
	*fd_out = fd;
	return 0;
}

int k8s_root_stat(const struct k8s_root *root, const char *rel, struct stat *st)
{
	int fd, ret = k8s_root_open(root, rel, O_PATH, &fd);

	if (ret)
		return ret;
	if (fstat(fd, st))
		ret = GS_FAIL(GS_ERR_IO, "cannot stat '%s': %s", gs_shown(rel), strerror(errno));
	close(fd);
	return ret;
}

int k8s_fd_read(int fd, const char *name, struct gs_buf *out, size_t max)
{
	for (;;) {
		size_t room = out->cap > out->len + 1 ? out->cap - out->len - 1 : 0;
		ssize_t n;
		int ret;

		if (room == 0) {
			ret = gs_buf_reserve(out, out->len < 65536 ? 65536 : out->len);
			if (ret)
				return ret;
			room = out->cap - out->len - 1;
		}
		n = read(fd, out->data + out->len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return GS_FAIL(GS_ERR_IO, "cannot read '%s': %s", gs_shown(name), strerror(errno));
		if (n == 0)
			return 0;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		if (out->len > max)
			return GS_FAIL(GS_ERR_LIMIT, "'%s' is larger than %zu bytes", gs_shown(name), max);
	}
}

int k8s_root_read(const struct k8s_root *root, const char *rel, struct gs_buf *out, size_t max)
{
	struct stat st;
	int fd, ret = k8s_root_open(root, rel, O_RDONLY | O_NOCTTY, &fd);

	if (ret)
		return ret;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = GS_FAIL(GS_ERR_USAGE, "'%s' is not a regular file", gs_shown(rel));
		goto out;
	}
	/* EOF read needs no growth */
	if (st.st_size > 0 && (size_t)st.st_size <= max && (ret = gs_buf_reserve(out, (size_t)st.st_size + 512)))
		goto out;
	ret = k8s_fd_read(fd, rel, out, max);
out:
	close(fd);
	return ret;
}
