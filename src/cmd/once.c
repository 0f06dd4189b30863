/* Once per git command: git runs a textconv command per version it shows
 * (`git log -p` over a hundred commits: a hundred processes), and a
 * warning from each would bury the diff. The first process of a command
 * leaves an empty marker named after git's process (its id and start
 * time: a later command given the same id is another one) in a directory
 * of the user's alone, beside the private directories; the others find
 * it. The first process of a command also removes the markers of commands
 * that ended. Where it cannot tell (not run by git, no /proc, no private
 * directory), every process is the first: a warning too many, never one
 * too few. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitseal/userdir.h"
#include "once.h"
#include "private_dir.h"

/* The start time of process pid (field 22 of /proc/PID/stat), or 0. */
static unsigned long long start_time(long pid)
{
	char path[64], text[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	/* the command name (field 2) may hold spaces and ')': fields count
	 * from the last ')' */
	p = strrchr(text, ')');
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* Removes the markers of kind whose git process is gone. */
static void sweep(int dfd, const char *prefix)
{
	size_t plen = strlen(prefix);
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d && fd >= 0)
		close(fd);
	while (d && (e = readdir(d))) {
		long pid;
		unsigned long long t;

		if (!strncmp(e->d_name, prefix, plen) && sscanf(e->d_name + plen, "%ld-%llu", &pid, &t) == 2 &&
		    start_time(pid) != t)
			unlinkat(dfd, e->d_name, 0);
	}
	if (d)
		closedir(d);
}

bool once_per_git_command(const char *kind)
{
	char dir[4096], prefix[64], name[128];
	long git = (long)getppid();
	unsigned long long t;
	int dfd, fd;

	if (!getenv("GIT_EXEC_PATH") || !(t = start_time(git)) ||
	    (size_t)snprintf(dir, sizeof(dir), "%s/gitseal-once-%lu", private_dir_base(),
			     (unsigned long)geteuid()) >= sizeof(dir) ||
	    (size_t)snprintf(prefix, sizeof(prefix), "%s-", kind) >= sizeof(prefix) ||
	    (size_t)snprintf(name, sizeof(name), "%s%ld-%llu", prefix, git, t) >= sizeof(name))
		return true;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return true;
	/* another user's directory, or a link, is not ours to trust */
	if ((dfd = gs_userdir_open_private(dir)) < 0)
		return true;
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		close(dfd);
		return errno != EEXIST;
	}
	close(fd);
	sweep(dfd, prefix);
	close(dfd);
	return true;
}
