/* A private 0700 directory for the rare moments plaintext must be a file
 * (edit, exec-file; render's staged tree through private_dir_guard). It is
 * removed with everything in it on release, and by a signal handler if the
 * process is interrupted or terminated meanwhile (after the editor or
 * command reading it, which the signal stops too); a private_dir's by a
 * sweeper process if this one dies of SIGKILL or a crash. */
#ifndef GITSEAL_CMD_PRIVATE_DIR_H
#define GITSEAL_CMD_PRIVATE_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

struct private_dir {
	char path[4096];
	char file[4096];
};

int private_dir_create(struct private_dir *p, const char *file_name) __attribute__((warn_unused_result));
/* Where private directories go: TMPDIR when set; else the user's runtime
 * directory when it is theirs alone; else /tmp. */
const char *private_dir_base(void);
/* Writes data to the private file (0600), overwriting it. */
int private_dir_write(struct private_dir *p, const uint8_t *data, size_t len) __attribute__((warn_unused_result));
/* Who private_dir_fork starts. */
enum private_child {
	/* Ctrl-C and Ctrl-\ are its own (as in git): a SIGINT or SIGQUIT this
	 * process gets is not passed on */
	PRIVATE_CHILD_EDITOR,
	/* exec-env, exec-file */
	PRIVATE_CHILD_COMMAND,
	/* render's kustomize: in this process's group (Argo CD signals the
	 * plugin's group, SIGKILL too), never given the terminal */
	PRIVATE_CHILD_BUILD,
};
/* fork() for the editor, the command or the build that reads plaintext;
 * the editor and the command into a process group of their own, given the
 * terminal (stdin) when this process's group has it. Until it is reaped,
 * SIGHUP and SIGTERM (but for the editor SIGINT and SIGQUIT too) go on to
 * its group (the build: to it), and this process dies of that signal in
 * private_dir_remove or private_dir_finish, once the directory is gone:
 * nothing it edited is written. */
pid_t private_dir_fork(enum private_child kind);
/* waitpid for the child of private_dir_fork (block: until it exits; else
 * 0 while it runs). A command stopped from the terminal (Ctrl-Z) stops
 * this process's job too, and has the terminal again once it is resumed. */
pid_t private_dir_wait(pid_t pid, int *status, bool block);
/* The child of private_dir_fork was waited for. Whatever it left running (its group; what left the group and was
 * orphaned, this process being their subreaper) gets SIGTERM, then after
 * a short bounded wait SIGKILL; the terminal comes back. */
void private_dir_reaped(void);
/* Ends the child as private_dir_reaped does if it was not reaped (an
 * error); scrubs and removes the directory and all in it; dies there of a
 * signal caught meanwhile (see private_dir_fork). */
void private_dir_remove(struct private_dir *p);
/* Puts a private directory another module made (render's staged tree) in
 * the same care: a signal removes it with all in it, after the child of
 * private_dir_fork exited. NULL: it was removed (nothing is then, but a
 * signal caught meanwhile is kept for private_dir_finish). */
void private_dir_guard(const char *dir);
/* Ends the child as private_dir_reaped does if it was not reaped; dies
 * of a signal caught while it ran, if any. */
void private_dir_finish(void);

#endif
