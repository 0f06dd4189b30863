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

#include "gitseal/proc.h"
#include "gitseal/userdir.h"
#include "once.h"
#include "private_dir.h"

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
		    gs_proc_stat_field(pid, GS_PROC_START_TIME) != t)
			unlinkat(dfd, e->d_name, 0);
	}
	if (d)
		closedir(d);
}

/* The directory of the markers, opened, and this git command's marker
 * name for kind (prefix: the part before the command); -1 where it
 * cannot be told. */
static int marker_dir(const char *kind, char prefix[64], char name[128])
{
	char dir[4096];
	long git = (long)getppid();
	unsigned long long t;

	if (!getenv("GIT_EXEC_PATH") || !(t = gs_proc_stat_field(git, GS_PROC_START_TIME)) ||
	    (size_t)snprintf(dir, sizeof(dir), "%s/gitseal-once-%lu", private_dir_base(),
			     (unsigned long)geteuid()) >= sizeof(dir) ||
	    (size_t)snprintf(prefix, 64, "%s-", kind) >= 64 ||
	    (size_t)snprintf(name, 128, "%s%ld-%llu", prefix, git, t) >= 128)
		return -1;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	/* another user's directory, or a link, is not ours to trust */
	return gs_userdir_open_private(dir);
}

bool once_per_git_command(const char *kind)
{
	char prefix[64], name[128];
	int dfd, fd;

	if ((dfd = marker_dir(kind, prefix, name)) < 0)
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

bool once_answer(const char *kind, bool (*ask)(void))
{
	char prefix[64], name[128], kept[136];
	bool answer;
	int dfd, fd;

	if ((dfd = marker_dir(kind, prefix, name)) < 0)
		return ask();
	/* the marker's name ends in the answer */
	for (int a = 0; a < 2; a++) {
		snprintf(kept, sizeof(kept), "%s-%c", name, a ? '1' : '0');
		if (!faccessat(dfd, kept, F_OK, AT_SYMLINK_NOFOLLOW)) {
			close(dfd);
			return a;
		}
	}
	answer = ask();
	snprintf(kept, sizeof(kept), "%s-%c", name, answer ? '1' : '0');
	if ((fd = openat(dfd, kept, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0) {
		close(fd);
		sweep(dfd, prefix);
	}
	close(dfd);
	return answer;
}
