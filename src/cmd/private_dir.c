#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "private_dir.h"

/* What the signal handler removes; one private directory at a time. */
static struct private_dir *active;

static void on_signal(int sig)
{
	if (active) {
		unlink(active->file);
		rmdir(active->path);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

int private_dir_create(struct private_dir *p, const char *file_name)
{
	const char *base = getenv("TMPDIR");
	static const int signals[] = { SIGHUP, SIGINT, SIGTERM, SIGQUIT };

	if (!base || !*base)
		base = "/tmp";
	memset(p, 0, sizeof(*p));
	/* the file stays inside the directory it is removed with */
	if (!*file_name || strchr(file_name, '/') || !strcmp(file_name, ".") || !strcmp(file_name, ".."))
		return GS_FAIL(GS_ERR_USAGE, "'%s' is not a file name", file_name);
	snprintf(p->path, sizeof(p->path), "%s/gitseal-XXXXXX", base);
	if (!mkdtemp(p->path))
		return GS_FAIL(GS_ERR_IO, "cannot create a private directory in '%s': %s", base,
			       strerror(errno));
	if (snprintf(p->file, sizeof(p->file), "%s/%s", p->path, file_name) >= (int)sizeof(p->file)) {
		rmdir(p->path);
		return GS_FAIL(GS_ERR_IO, "file name too long");
	}
	active = p;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		signal(signals[i], on_signal);
	return 0;
}

int private_dir_write(struct private_dir *p, const uint8_t *data, size_t len)
{
	int fd = open(p->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	size_t done = 0;

	if (fd < 0)
		return GS_FAIL(GS_ERR_IO, "cannot create a private file: %s", strerror(errno));
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return GS_FAIL(GS_ERR_IO, "cannot write a private file: %s", strerror(errno));
		}
		done += (size_t)n;
	}
	if (close(fd) != 0)
		return GS_FAIL(GS_ERR_IO, "cannot write a private file: %s", strerror(errno));
	return 0;
}

/* Overwrites a file with zeros before it is unlinked: the editor may have
 * put it on a disk-backed /tmp. */
static void scrub(const char *path)
{
	char zeros[4096] = { 0 };
	struct stat st;
	off_t size;
	int fd;

	/* only regular files: opening the exec-file FIFO would block */
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, 0, SEEK_SET);
	for (off_t done = 0; done < size; done += (off_t)sizeof(zeros))
		if (write(fd, zeros, sizeof(zeros)) < 0)
			break;
	fsync(fd);
	close(fd);
}

void private_dir_remove(struct private_dir *p)
{
	char path[8192];
	struct dirent *de;
	DIR *dir;

	if (!p->path[0])
		return;
	/* the file, and whatever an editor left beside it (swap, backup files) */
	dir = opendir(p->path);
	while (dir && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", p->path, de->d_name);
		scrub(path);
		unlink(path);
	}
	if (dir)
		closedir(dir);
	rmdir(p->path);
	if (active == p)
		active = NULL;
	memset(p, 0, sizeof(*p));
}
