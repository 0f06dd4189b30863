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

/* What the signal handler removes; one private directory at a time: a
 * private_dir's, or one another module made (render's staged tree),
 * its path copied here. */
static const char *volatile active;
static char guarded[4096];
/* The editor or command that has the plaintext open, while it runs: a
 * signal goes on to it and the directory is removed once it has exited
 * (removed under it, the file would go but a copy it made beside would
 * stay, a vim swap file). */
static volatile pid_t child;
static volatile sig_atomic_t child_is_editor, caught;

/* Zeros over a regular file, from a signal handler too (only calls that are
 * async-signal-safe): the editor may have put it on a disk-backed /tmp. */
static void scrub_at(int dir, const char *name)
{
	static const char zeros[4096];
	struct stat st;
	int fd = openat(dir, name, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);

	/* only regular files: opening the exec-file FIFO would block */
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		for (off_t done = 0; done < st.st_size; done += (off_t)sizeof(zeros))
			if (write(fd, zeros, sizeof(zeros)) < 0)
				break;
	fsync(fd);
	close(fd);
}

enum { REMOVE_DEPTH = 64 };

static bool is_dir_at(int dir, const struct dirent64 *e)
{
	struct stat st;

	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_DIR;
	return fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Scrubs and removes everything in the open directory dir, and in the
 * directories below it (render's staged tree mirrors the repository's),
 * down to REMOVE_DEPTH. getdents64, not readdir (which allocates), so that
 * the signal handler can do it; passes again from the start, as entries
 * removed while reading may hide others. */
static void empty_dir(int dir, int depth)
{
	/* aligned for struct dirent64 */
	union {
		struct dirent64 d;
		char bytes[2048];
	} buf;
	bool removed = true;
	ssize_t n;

	for (int pass = 0; removed && pass < 4 && lseek(dir, 0, SEEK_SET) == 0; pass++) {
		removed = false;
		while ((n = getdents64(dir, buf.bytes, sizeof(buf.bytes))) > 0) {
			for (ssize_t at = 0; at < n;) {
				const struct dirent64 *e = (const struct dirent64 *)(buf.bytes + at);
				int sub;

				at += e->d_reclen;
				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					continue;
				removed = true;
				if (!is_dir_at(dir, e)) {
					scrub_at(dir, e->d_name);
					unlinkat(dir, e->d_name, 0);
					continue;
				}
				sub = depth < REMOVE_DEPTH
					      ? openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
					      : -1;
				if (sub >= 0) {
					empty_dir(sub, depth + 1);
					close(sub);
				}
				unlinkat(dir, e->d_name, AT_REMOVEDIR);
			}
		}
	}
}

/* Scrubs and removes everything in path, then path: the file, and whatever
 * an editor or command left beside it (swap, backup files). */
static void remove_all(const char *path)
{
	int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (dir >= 0) {
		empty_dir(dir, 0);
		close(dir);
	}
	rmdir(path);
}

static void on_signal(int sig)
{
	if (child > 0) {
		/* Ctrl-C and Ctrl-\ belong to the editor on the terminal (as in
		 * git); anything else stops it, and this process after it */
		if (child_is_editor && (sig == SIGINT || sig == SIGQUIT))
			return;
		caught = sig;
		kill(child, sig);
		return;
	}
	if (active)
		remove_all(active);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void handlers_install(void)
{
	static const int signals[] = { SIGHUP, SIGINT, SIGTERM, SIGQUIT };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaction(signals[i], &sa, NULL);
}

pid_t private_dir_fork(bool editor)
{
	static const int signals[] = { SIGHUP, SIGINT, SIGTERM, SIGQUIT };
	sigset_t all, old;
	pid_t pid;

	/* no signal between the fork and knowing whom to pass it on to */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid > 0) {
		child_is_editor = editor;
		child = pid;
	} else if (pid == 0) {
		for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
			signal(signals[i], SIG_DFL);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

void private_dir_reaped(void)
{
	child = 0;
}

/* TMPDIR when set (the user's choice); else the user's runtime directory
 * when it is theirs alone (a tmpfs removed at logout: what a SIGKILL or a
 * crash leaves is not on a disk-backed /tmp); else /tmp. */
static const char *private_base(void)
{
	const char *base = getenv("TMPDIR");
	struct stat st;

	if (base && *base)
		return base;
	base = getenv("XDG_RUNTIME_DIR");
	if (base && base[0] == '/' && stat(base, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	    !(st.st_mode & 077))
		return base;
	return "/tmp";
}

int private_dir_create(struct private_dir *p, const char *file_name)
{
	const char *base = private_base();

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
	active = p->path;
	caught = 0;
	handlers_install();
	return 0;
}

void private_dir_guard(const char *dir)
{
	sigset_t all, old;

	/* the handler never sees half a path */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	active = NULL;
	if (dir && strlen(dir) < sizeof(guarded)) {
		strcpy(guarded, dir);
		active = guarded;
		caught = 0;
		handlers_install();
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

void private_dir_finish(void)
{
	int sig;

	child = 0;
	if ((sig = caught)) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
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

/* Everything goes; a signal that stopped the editor or command stops this
 * process now, before anything it edited is written. */
void private_dir_remove(struct private_dir *p)
{
	child = 0;
	if (p->path[0])
		remove_all(p->path);
	if (active == p->path)
		active = NULL;
	memset(p, 0, sizeof(*p));
	private_dir_finish();
}
