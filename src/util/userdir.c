/* include/gitseal/userdir.h */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitseal/userdir.h"

static bool is_private(const struct stat *st)
{
	return S_ISDIR(st->st_mode) && st->st_uid == geteuid() && !(st->st_mode & 077);
}

bool gs_userdir_is_private(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && is_private(&st);
}

int gs_userdir_open_private(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (fd >= 0 && fstat(fd, &st) == 0 && is_private(&st))
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}
