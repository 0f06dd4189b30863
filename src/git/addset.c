/* Which files of a directory `git add` will send through the gitseal
 * filter, asked of git itself for many names at once (readahead.c).
 *
 * libgit2 answers one path at a time and keeps nothing between calls:
 * `git_attr_get` resolves the path (realpath, a readlink per directory)
 * and checks every attribute file on disk again, and so does
 * `git_ignore_path_is_ignored`, about 57 us a file while git waits
 * (docs/development.md). git's own `check-attr` and `check-ignore` read
 * those files once per run and answer a few hundred names in a few
 * milliseconds, by git's rules rather than libgit2's copy of them. The
 * answers only choose which files are sealed ahead: git still decides
 * which files it sends, and a result is handed over only for the path and
 * bytes git sends. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gitseal/alloc.h"
#include "gitseal/spawn.h"
#include "gitfilter_int.h"

extern char **environ;

enum {
	ADDSET_MAX_OUTPUT = 16 << 20,
	ADDSET_MAX_LIST = 64 << 10, /* what a pipe holds by default on Linux */
};

/* A pipe holding in whole, its write end closed: git's stdin. Written
 * before git starts, so no thread is needed to feed it while its output
 * is read; -1 when in does not fit (a pipe holds 64 KiB). */
static int filled_pipe(const struct gs_buf *in)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	/* git reads a blocking stdin (its end shares the flag) */
	if (write(fds[1], in->data, in->len) != (ssize_t)in->len || fcntl(fds[0], F_SETFL, 0) < 0) {
		close(fds[0]);
		fds[0] = -1;
	}
	close(fds[1]);
	return fds[0];
}

int gitrepo_spawn(char *const *argv, int in, int out, char *const *env, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int rc;

	posix_spawn_file_actions_init(&fa);
	if (in >= 0)
		posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	gs_spawnattr_init(&attr);
	rc = posix_spawnp(pid, "git", &fa, &attr, argv, env ? env : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return rc;
}

/* A git run: its pid and the read end of its stdout. */
struct git_run {
	pid_t pid;
	int out;
};

/* Starts git with argv (argv[0] "git") from the filter's directory (git
 * starts a filter at the top of the work tree), stdin from in, stderr on
 * /dev/null; 0, or -1 when it could not start. */
static int git_start(char *const *argv, const struct gs_buf *in, struct git_run *run)
{
	int fds[2], rc, fd_in = filled_pipe(in);

	run->out = -1;
	if (fd_in < 0 || pipe2(fds, O_CLOEXEC) < 0) {
		if (fd_in >= 0)
			close(fd_in);
		return -1;
	}
	rc = gitrepo_spawn(argv, fd_in, fds[1], NULL, &run->pid);
	close(fd_in);
	close(fds[1]);
	if (rc) {
		close(fds[0]);
		return -1;
	}
	run->out = fds[0];
	return 0;
}

/* Reads a started git's whole output into out and waits for it: 0, or -1
 * when it could not be read or git died; *status: its exit code. */
static int git_finish(struct git_run *run, struct gs_buf *out, int *status)
{
	int rc = 0, ws;
	ssize_t n;

	*status = -1;
	if (run->out < 0)
		return -1;
	for (;;) {
		if (out->len > ADDSET_MAX_OUTPUT || gs_buf_reserve(out, 4096)) {
			rc = -1;
			break;
		}
		n = read(run->out, out->data + out->len, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -1 : 0;
			break;
		}
		out->len += (size_t)n;
	}
	/* closed first: a git still writing gets EPIPE and ends */
	close(run->out);
	run->out = -1;
	while (waitpid(run->pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -1;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	return rc;
}

int gitrepo_run(char *const *argv, struct gs_buf *out, int *status)
{
	static const struct gs_buf none;
	struct git_run run;

	return git_start(argv, &none, &run) ? -1 : git_finish(&run, out, status);
}

/* The next NUL-ended field of out at *pos, or NULL at its end. */
static const char *field(const struct gs_buf *out, size_t *pos)
{
	const char *s = (const char *)out->data + *pos;
	const uint8_t *nul;

	if (*pos >= out->len || !(nul = memchr(s, '\0', out->len - *pos)))
		return NULL;
	*pos = (size_t)((const char *)nul - (const char *)out->data) + 1;
	return s;
}

/* The paths dir + names[i], each ended by a NUL, as --stdin -z reads
 * them, as many as a pipe holds, up to one that check-ignore would take
 * for pathspec magic (":(exclude)x" or ":/x" at the top; it supports no
 * literal mode): how many, or -1. */
static long path_list(const char *dir, char *const *names, size_t n, struct gs_buf *list)
{
	size_t dlen = strlen(dir), i;

	for (i = 0; i < n && list->len + dlen + strlen(names[i]) + 1 <= ADDSET_MAX_LIST; i++) {
		if (!dlen && names[i][0] == ':')
			break;
		if (gs_buf_append(list, dir, dlen) || gs_buf_append(list, names[i], strlen(names[i]) + 1))
			return -1;
	}
	return (long)i;
}

/* Whether the next path of the list at *pos is field, the list's cursor
 * moved past it. */
static bool next_path_is(const struct gs_buf *list, size_t *pos, const char *field)
{
	const char *path = (const char *)list->data + *pos;
	size_t len = strlen(path);

	*pos += len + 1;
	return !strcmp(path, field);
}

/* The value of the attribute name for path, the next fields of out at
 * *pos ("path NUL name NUL value NUL"), or NULL. */
static const char *attr_field(const struct gs_buf *out, size_t *pos, const char *path, const char *name)
{
	const char *p = field(out, pos), *attr = field(out, pos), *value = field(out, pos);

	return p && attr && value && !strcmp(p, path) && !strcmp(attr, name) ? value : NULL;
}

/* want[i] = whether path i has filter=gitseal, and attr_ids[i] its
 * GITATTRS_NAMES, by the kept `git check-attr --stdin -z` (attrs.c: for
 * each path in order, "path NUL attribute NUL value NUL" for filter and
 * each of those). */
static int ask_attributes(struct gitfilter *f, const struct gs_buf *list, size_t n, bool *want,
			  struct gitattrs_batch *attrs, uint8_t *attr_ids)
{
	static const char *const names[GITATTRS_COUNT] = { GITATTRS_NAMES };
	const char *printed[GITATTRS_COUNT];
	struct gs_buf out;
	size_t pos = 0, at = 0;
	int ret;

	gs_buf_init(&out, false);
	ret = gitattrs_ask_many(f, list, n, &out);
	for (size_t i = 0; !ret && i < n; i++) {
		const char *path = (const char *)list->data + at, *filter = attr_field(&out, &pos, path, "filter");
		unsigned k;

		at += strlen(path) + 1;
		for (k = 0; filter && k < GITATTRS_COUNT && (printed[k] = attr_field(&out, &pos, path, names[k])); k++)
			;
		if (!filter || k < GITATTRS_COUNT) {
			ret = -1;
		} else {
			want[i] = !strcmp(filter, "gitseal");
			attr_ids[i] = gitattrs_batch_id(attrs, printed);
		}
	}
	if (!ret && pos != out.len)
		ret = -1;
	if (ret) /* none of a run that failed is kept */
		memset(attr_ids, 0, n * sizeof(*attr_ids));
	gs_buf_release(&out);
	return ret;
}

/* want[i] cleared for the paths `git check-ignore --stdin -z` prints: the
 * ignored ones, in order (exit 0: some, 1: none). */
static int drop_ignored(struct git_run *run, const struct gs_buf *list, size_t n, bool *want)
{
	struct gs_buf out;
	size_t pos = 0, at = 0, i = 0;
	const char *path;
	int status, ret;

	gs_buf_init(&out, false);
	ret = git_finish(run, &out, &status);
	if (!ret && status != 0 && status != 1)
		ret = -1;
	while (!ret && (path = field(&out, &pos))) {
		while (i < n && !next_path_is(list, &at, path))
			i++;
		if (i == n)
			ret = -1; /* not one of ours, or out of order */
		else
			want[i++] = false;
	}
	if (!ret && pos != out.len)
		ret = -1;
	gs_buf_release(&out);
	return ret;
}

long gitrepo_add_sends(struct gitfilter *f, const char *dir, char *const *names, size_t n, bool *want,
		       struct gitattrs_batch *attrs, uint8_t *attr_ids)
{
	/* On the stack, not static: a static table of pointers is relocated, and
	 * written, by the loader at every start (relro, tests/cli/startup.bats) */
	char *const ignore_argv[] = { "git", "check-ignore", "--stdin", "-z", NULL };
	struct git_run ignore = { 0, -1 };
	struct gs_buf list;
	long got;
	int a, b;

	gs_buf_init(&list, false);
	got = n ? path_list(dir, names, n, &list) : 0;
	if (got > 0) {
		/* check-ignore starts while the kept check-attr (the clean's
		 * refusal asked it the first files' attributes already) answers;
		 * the attributes attrs.c reads come with the filter's, sparing it
		 * a question per file */
		b = git_start(ignore_argv, &list, &ignore);
		a = ask_attributes(f, &list, (size_t)got, want, attrs, attr_ids);
		b = b ? b : drop_ignored(&ignore, &list, (size_t)got, want);
		if (a || b)
			got = -1;
	}
	gs_buf_release(&list);
	return got;
}
