/* The staging tree: when a build needs files changed before kustomize
 * reads them (generator sources decrypted, as Flux does; KSOPS configs
 * without their function annotation), the files the kustomization names
 * are copied, at their root-relative paths, into a private 0700 temporary
 * directory, and kustomize builds that copy. Plaintext exists only there,
 * and is overwritten and removed before the command returns. The
 * repository is never written. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "k8s_int.h"

#include "gitseal/alloc.h"
#include "gitseal/shown.h"

int k8s_stage_create(struct k8s_stage *st)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[PATH_MAX];

	memset(st, 0, sizeof(*st));
	if (snprintf(tmpl, sizeof(tmpl), "%s/gitseal-render-XXXXXX", tmp && *tmp ? tmp : "/tmp") >=
	    (int)sizeof(tmpl))
		return GS_FAIL(GS_ERR_LIMIT, "TMPDIR too long");
	/* mkdtemp makes the directory 0700: private to this process's user */
	if (!mkdtemp(tmpl))
		return GS_FAIL(GS_ERR_IO, "cannot create a temporary directory: %s", strerror(errno));
	st->dir = gs_strdup(tmpl);
	if (!st->dir || gs_asprintf(&st->tree, "%s/tree", tmpl) < 0 ||
	    gs_asprintf(&st->plugins, "%s/plugins", tmpl) < 0) {
		st->tree = st->plugins = NULL;
		k8s_stage_remove(st);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	if (mkdir(st->tree, 0700) || mkdir(st->plugins, 0700)) {
		int e = errno;

		k8s_stage_remove(st);
		return GS_FAIL(GS_ERR_IO, "cannot create a temporary directory: %s", strerror(e));
	}
	return 0;
}

static int mkdirs(const char *base, const char *rel_dir)
{
	char p[PATH_MAX];
	size_t n;

	if (snprintf(p, sizeof(p), "%s/%s", base, rel_dir) >= (int)sizeof(p))
		return GS_FAIL(GS_ERR_LIMIT, "path too long");
	n = strlen(base) + 1;
	for (char *s = p + n;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0700) && errno != EEXIST)
			return GS_FAIL(GS_ERR_IO, "cannot create '%s': %s", gs_shown(p), strerror(errno));
		*s = c;
		if (!c)
			break;
	}
	return 0;
}

static int parent_dirs(const struct k8s_stage *st, const char *rel)
{
	char d[PATH_MAX];
	char *slash;

	if (strlen(rel) >= sizeof(d))
		return GS_FAIL(GS_ERR_LIMIT, "path too long");
	strcpy(d, rel);
	slash = strrchr(d, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	return mkdirs(st->tree, d);
}

int k8s_stage_dir(const struct k8s_stage *st, const char *rel)
{
	return strcmp(rel, ".") ? mkdirs(st->tree, rel) : 0;
}

int k8s_stage_write(const struct k8s_stage *st, const char *rel, const uint8_t *data, size_t len)
{
	char p[PATH_MAX];
	size_t off = 0;
	int fd, ret = parent_dirs(st, rel);

	if (ret)
		return ret;
	if (snprintf(p, sizeof(p), "%s/%s", st->tree, rel) >= (int)sizeof(p))
		return GS_FAIL(GS_ERR_LIMIT, "path too long");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return GS_FAIL(GS_ERR_IO, "cannot write '%s': %s", gs_shown(p), strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = GS_FAIL(GS_ERR_IO, "cannot write '%s': %s", gs_shown(p), strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) && !ret)
		ret = GS_FAIL(GS_ERR_IO, "cannot write '%s': %s", gs_shown(p), strerror(errno));
	return ret;
}

int k8s_stage_copy(const struct k8s_stage *st, const struct k8s_root *root, const char *rel)
{
	struct gs_buf text;
	int ret;

	gs_buf_init(&text, false);
	if ((ret = k8s_root_read(root, rel, &text, K8S_MAX_FILE)))
		goto out;
	ret = k8s_stage_write(st, rel, text.data, text.len);
out:
	gs_buf_release(&text);
	return ret;
}

/* kustomize's legacy exec plugins: PLUGIN_HOME/<group>/<version>/<lower
 * kind>/<Kind> (api/internal/plugins/loader). Only these exist. */
int k8s_stage_plugins(const struct k8s_stage *st, const char *self_exe)
{
	static const char *const plugins[] = {
		"viaduct.ai/v1/ksops/ksops",
		"viaduct.ai/v2/ksops/ksops",
	};
	int ret = 0;

	for (size_t i = 0; !ret && i < sizeof(plugins) / sizeof(plugins[0]); i++) {
		char dir[PATH_MAX], link[PATH_MAX];
		const char *slash = strrchr(plugins[i], '/');

		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - plugins[i]), plugins[i]);
		ret = mkdirs(st->plugins, dir);
		if (ret)
			break;
		if (snprintf(link, sizeof(link), "%s/%s", st->plugins, plugins[i]) >= (int)sizeof(link))
			return GS_FAIL(GS_ERR_LIMIT, "path too long");
		if (symlink(self_exe, link))
			ret = GS_FAIL(GS_ERR_IO, "cannot create '%s': %s", gs_shown(link), strerror(errno));
	}
	return ret;
}

/* Staged files may hold plaintext: overwritten before they are removed. */
static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_F && S_ISREG(sb->st_mode) && sb->st_size > 0) {
		int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

		if (fd >= 0) {
			uint8_t zero[4096];
			off_t left = sb->st_size;

			sodium_memzero(zero, sizeof(zero));
			while (left > 0) {
				ssize_t n = write(fd, zero, left > (off_t)sizeof(zero) ? sizeof(zero)
										 : (size_t)left);
				if (n <= 0)
					break;
				left -= n;
			}
			close(fd);
		}
	}
	if (flag == FTW_DP)
		return rmdir(path) ? 0 : 0;
	unlink(path);
	return 0;
}

void k8s_stage_remove(struct k8s_stage *st)
{
	if (st->dir)
		nftw(st->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(st->dir);
	free(st->tree);
	free(st->plugins);
	memset(st, 0, sizeof(*st));
}
