#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "gitseal/userdir.h"
#include "private_dir.h"

/* What the signal handler removes; one private directory at a time: a
 * private_dir's, or one another module made (render's staged tree),
 * its path copied here. */
static const char *volatile active;
static char guarded[4096];
/* The editor, command or build that has the plaintext open, while it
 * runs: a signal goes on to it and the directory is removed once it has
 * exited (removed under it, the file would go but a copy it made beside
 * would stay, a vim swap file). Its pid; whom a signal goes to: its
 * process group (-pid), so that what it started gets the signal too, not
 * a shell alone; the build alone (pid), as it stays in this process's
 * group, where Argo CD's SIGKILL to the plugin's group reaches it. */
static volatile pid_t child, target;
static volatile sig_atomic_t child_kind, caught;
/* The editor or command shares this process's controlling terminal
 * (stdin): it is given the terminal in the foreground, and its stops on
 * the terminal are this process's job's (job_stop). */
static bool job_control;
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
		if (child_kind == PRIVATE_CHILD_EDITOR && (sig == SIGINT || sig == SIGQUIT))
			return;
		caught = sig;
		/* a stopped member acts on it once continued */
		kill(target, sig);
		kill(target, SIGCONT);
		return;
	}
	if (active)
		remove_all(active);
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int forwarded[] = { SIGHUP, SIGINT, SIGTERM, SIGQUIT };

static void handlers_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
}

/* The terminal's foreground group; SIGTTOU held off, as this process may
 * be in the background when it takes the terminal back. */
static void terminal_give(pid_t group)
{
	sigset_t ttou, old;

	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	tcsetpgrp(STDIN_FILENO, group);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static bool foreground(void)
{
	return tcgetpgrp(STDIN_FILENO) == getpgrp();
}

pid_t private_dir_fork(enum private_child kind)
{
	bool terminal;
	sigset_t all, old;
	pid_t pid;

	/* what leaves the group (setsid) and is orphaned comes back to this
	 * process, to be ended with the rest (private_dir_reaped) */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	/* exec-env has no directory, but the same care for signals */
	handlers_install();
	/* tcgetpgrp fails on a terminal that is not this process's own */
	job_control = kind != PRIVATE_CHILD_BUILD && isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) > 0;
	terminal = job_control && foreground();
	/* no signal between the fork and knowing whom to pass it on to */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		/* in both processes, whichever runs first (as shells do); the
		 * terminal before the command can read it, SIGTTOU blocked */
		if (kind != PRIVATE_CHILD_BUILD)
			setpgid(0, 0);
		if (terminal)
			tcsetpgrp(STDIN_FILENO, getpid());
		for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
			signal(forwarded[i], SIG_DFL);
	} else if (pid > 0) {
		if (kind != PRIVATE_CHILD_BUILD)
			setpgid(pid, pid);
		target = kind != PRIVATE_CHILD_BUILD ? -pid : pid;
		if (terminal)
			tcsetpgrp(STDIN_FILENO, pid);
		child_kind = kind;
		child = pid;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

/* The command stopped on the terminal: Ctrl-Z, or it read the terminal
 * from the background (SIGTTIN, SIGTTOU). This process's job (the
 * shell's) stops as the command did, and the command goes on once the
 * job does: with the terminal after `fg`, without it after `bg`. */
static void job_stop(pid_t group, int sig)
{
	struct timespec pause = { 0, 100L * 1000L * 1000L };
	bool had = tcgetpgrp(STDIN_FILENO) == group;

	if (had)
		terminal_give(getpgrp());
	if (had || !foreground())
		kill(0, sig == SIGTSTP ? SIGTSTP : SIGTTIN);
	if (foreground())
		terminal_give(group);
	else if (!had)
		/* still in the background (the stop of an orphaned group is
		 * dropped): not a busy loop of stops */
		nanosleep(&pause, NULL);
	kill(target, SIGCONT);
}

pid_t private_dir_wait(pid_t pid, int *status, bool block)
{
	for (;;) {
		pid_t got = waitpid(pid, status, (block ? 0 : WNOHANG) | (job_control ? WUNTRACED : 0));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got;
		if (!WIFSTOPPED(*status)) {
			/* Ctrl-C ended it: this process ends of SIGINT too once
			 * all is removed, so that a calling script stops, as it
			 * would have with the terminal its own (as sudo does) */
			if (job_control && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGINT)
				caught = SIGINT;
			return got;
		}
		/* a SIGSTOP from elsewhere is not the terminal's */
		if (WSTOPSIG(*status) != SIGSTOP)
			job_stop(pid, WSTOPSIG(*status));
		if (!block)
			return 0;
	}
}

enum {
	/* how long what the command left has after SIGTERM, then SIGKILL */
	GROUP_GRACE_MS = 1000,
	GROUP_TICK_MS = 10,
};

/* This process's children: with PR_SET_CHILD_SUBREAPER, the command's
 * descendants whose parent died, wherever they went (setsid). Signals
 * each (the kernel's list; without it, they are only waited for). */
static void orphans_signal(int sig)
{
	DIR *tasks = opendir("/proc/self/task");
	struct dirent *t;

	while (tasks && (t = readdir(tasks))) {
		char path[64];
		FILE *f;
		long pid;

		if (t->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/children", t->d_name);
		if (!(f = fopen(path, "re")))
			continue;
		while (fscanf(f, "%ld", &pid) == 1)
			if (pid > 0)
				kill((pid_t)pid, sig);
		fclose(f);
	}
	if (tasks)
		closedir(tasks);
}

/* Reaps what exited; true once no child is left and the group (if the
 * child has one) is empty. */
static bool group_gone(void)
{
	pid_t got;
	int status;

	while ((got = waitpid(-1, &status, WNOHANG)) > 0)
		;
	return got < 0 && errno == ECHILD && (target > 0 || (kill(target, 0) < 0 && errno == ESRCH));
}

static void group_signal(int sig)
{
	if (target < 0)
		kill(target, sig);
	orphans_signal(sig);
}

/* SIGTERM (and SIGCONT, for what is stopped) to everything the command
 * left, then SIGKILL each tick to what is left after GROUP_GRACE_MS (an
 * orphan appears when its parent dies). Bounded: a process that other
 * rights (setuid) or an uninterruptible sleep keep alive is left. */
static void group_end(void)
{
	struct timespec tick = { 0, GROUP_TICK_MS * 1000L * 1000L };

	if (!group_gone()) {
		group_signal(SIGTERM);
		group_signal(SIGCONT);
		for (int t = 0; t < GROUP_GRACE_MS / GROUP_TICK_MS && !group_gone(); t++)
			nanosleep(&tick, NULL);
		for (int t = 0; t < GROUP_GRACE_MS / GROUP_TICK_MS && !group_gone(); t++) {
			group_signal(SIGKILL);
			nanosleep(&tick, NULL);
		}
	}
	if (job_control && tcgetpgrp(STDIN_FILENO) == child)
		terminal_give(getpgrp());
	job_control = false;
}

void private_dir_reaped(void)
{
	/* a signal meanwhile still goes on to the group */
	if (child > 0)
		group_end();
	child = 0;
}

/* TMPDIR when set (the user's choice); else the user's runtime directory
 * when it is theirs alone (a tmpfs removed at logout: what a SIGKILL or a
 * crash leaves is not on a disk-backed /tmp); else /tmp. */
const char *private_dir_base(void)
{
	const char *base = getenv("TMPDIR");

	if (base && *base)
		return base;
	base = getenv("XDG_RUNTIME_DIR");
	if (base && base[0] == '/' && gs_userdir_is_private(base))
		return base;
	return "/tmp";
}

/* The test build can make a step of the sweeper's start fail, to show
 * that the command then fails closed: GITSEAL_TEST_FAIL_AT=sweeper (the
 * fork, EAGAIN) or sweeper-open (the open of the directory, EACCES).
 * Release builds compile this out. */
static bool sweeper_fails_at(const char *step, int err)
{
#ifdef GITSEAL_TEST_HOOKS
	const char *at = getenv("GITSEAL_TEST_FAIL_AT");

	if (at && !strcmp(at, step)) {
		errno = err;
		return true;
	}
#else
	(void)step;
	(void)err;
#endif
	return false;
}

static pid_t sweeper_fork(void)
{
	return sweeper_fails_at("sweeper", EAGAIN) ? -1 : fork();
}

static int sweeper_open(const char *where)
{
	if (sweeper_fails_at("sweeper-open", EACCES))
		return -1;
	return open(where, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

/* The write end of the sweeper's pipe while a private_dir's directory
 * exists; -1 when none. */
static int sweeper_pipe = -1;

static void sweeper_stop(void)
{
	if (sweeper_pipe >= 0)
		close(sweeper_pipe);
	sweeper_pipe = -1;
}

/* A SIGKILL (or a crash) gives this process no chance to remove the
 * directory: a process of its own watches for that. It is a shell (a
 * fresh image: nothing of this process's memory, no key, stays in it), in
 * a session of its own (no terminal's or group's signal reaches it), not
 * this process's child (nothing here waits for it or ends it with the
 * command's orphans), reading a pipe whose only write end is this
 * process's (close-on-exec: the command does not get it; --background's
 * keeper, a fork, does). At end of file, whatever the reason this process
 * ended, it removes what is still there, the files zeroed first when
 * shred is at hand; after an orderly end nothing is left to remove.
 * It works in the directory it was started in (its working directory,
 * opened here before this function returns), never through the name:
 * once this process removed the directory, anyone may make the name again
 * in a shared /tmp (mkdtemp's names are public there) with a link to a
 * file of the user's in it, and the name is acted on only while it is
 * still that directory. */
static int sweeper_start(const char *path)
{
	static const char script[] =
		"while read -r _; do :; done <&3; "
		"[ . -ef \"$1\" ] || exit 0; "
		"command -v shred >/dev/null 2>&1 && find . -xdev -type f -exec shred -n 0 -z {} + 2>/dev/null; "
		"rm -rf -- ./* ./.[!.]* ./..?* 2>/dev/null; "
		"cd / && rmdir -- \"$1\"";
	int fds[2], reaper = 0, status, dir;
	char where[PATH_MAX];
	sigset_t none;
	pid_t middle;

	/* absolute: '-x' or a later chdir would name something else */
	if (!realpath(path, where))
		return GS_FAIL(GS_ERR_WRITE, "cannot watch the private directory: %s", strerror(errno));
	if ((dir = sweeper_open(where)) < 0)
		return GS_FAIL(GS_ERR_WRITE, "cannot watch the private directory: %s", strerror(errno));
	if (pipe2(fds, O_CLOEXEC) != 0) {
		close(dir);
		return GS_FAIL(GS_ERR_WRITE, "cannot watch the private directory: %s", strerror(errno));
	}
	/* orphaned, the sweeper goes to init (or a session manager), never
	 * back to this process as a subreaper */
	prctl(PR_GET_CHILD_SUBREAPER, &reaper, 0, 0, 0);
	if (reaper)
		prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	middle = sweeper_fork();
	if (middle == 0) {
		/* above the low numbers first: any of them may be one of these */
		int null = open("/dev/null", O_RDWR), in = fcntl(fds[0], F_DUPFD, 10);

		if (null < 0 || (null = fcntl(null, F_DUPFD, 10)) < 0 || in < 0 || fchdir(dir) != 0 || setsid() < 0 ||
		    fork() != 0)
			_exit(0);
		if (dup2(in, 3) != 3 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(0);
		close_range(4, ~0U, 0);
		for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
			signal(forwarded[i], SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl("/bin/sh", "sh", "-c", script, "sh", where, (char *)NULL);
		_exit(0);
	}
	while (middle > 0 && waitpid(middle, &status, 0) < 0 && errno == EINTR)
		;
	if (reaper)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	close(fds[0]);
	close(dir);
	if (middle < 0) {
		close(fds[1]);
		return GS_FAIL(GS_ERR_WRITE, "cannot watch the private directory: %s", strerror(errno));
	}
	sweeper_stop(); /* one directory at a time */
	sweeper_pipe = fds[1];
	return 0;
}

int private_dir_create(struct private_dir *p, const char *file_name)
{
	const char *base = private_dir_base();

	memset(p, 0, sizeof(*p));
	/* the file stays inside the directory it is removed with */
	if (!*file_name || strchr(file_name, '/') || !strcmp(file_name, ".") || !strcmp(file_name, ".."))
		return GS_FAIL(GS_ERR_USAGE, "'%s' is not a file name", gs_shown(file_name));
	snprintf(p->path, sizeof(p->path), "%s/gitseal-XXXXXX", base);
	if (!mkdtemp(p->path))
		return GS_FAIL(GS_ERR_WRITE, "cannot create a private directory in '%s': %s", gs_shown(base),
			       strerror(errno));
	if (snprintf(p->file, sizeof(p->file), "%s/%s", p->path, file_name) >= (int)sizeof(p->file)) {
		rmdir(p->path);
		return GS_FAIL(GS_ERR_WRITE, "file name too long");
	}
	if (sweeper_start(p->path) < 0) {
		rmdir(p->path);
		return GS_ERR_WRITE;
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

	private_dir_reaped();
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
		return GS_FAIL(GS_ERR_WRITE, "cannot create a private file: %s", strerror(errno));
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return GS_FAIL(GS_ERR_WRITE, "cannot write a private file: %s", strerror(errno));
		}
		done += (size_t)n;
	}
	if (close(fd) != 0)
		return GS_FAIL(GS_ERR_WRITE, "cannot write a private file: %s", strerror(errno));
	return 0;
}

/* Everything goes; a signal that stopped the editor or command stops this
 * process now, before anything it edited is written. */
void private_dir_remove(struct private_dir *p)
{
	private_dir_reaped();
	if (p->path[0]) {
		remove_all(p->path);
		sweeper_stop();
	}
	if (active == p->path)
		active = NULL;
	memset(p, 0, sizeof(*p));
	private_dir_finish();
}
