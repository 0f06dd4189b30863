/* A private 0700 directory for the rare moments plaintext must be a file
 * (edit, exec-file; render's staged tree through private_dir_guard). It is
 * removed with everything in it on release, and by a signal handler if the
 * process is interrupted or terminated meanwhile (after the editor or
 * command reading it, which the signal stops too). */
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
/* Writes data to the private file (0600), overwriting it. */
int private_dir_write(struct private_dir *p, const uint8_t *data, size_t len) __attribute__((warn_unused_result));
/* fork() for the editor (editor: Ctrl-C and Ctrl-\ are its own, as in
 * git) or the command that reads the private file. Until it is reaped,
 * SIGHUP and SIGTERM (for a command SIGINT and SIGQUIT too) go on to it,
 * and this process dies of that signal in private_dir_remove, once the
 * directory is gone: nothing it edited is written. */
pid_t private_dir_fork(bool editor);
/* The child of private_dir_fork was waited for. */
void private_dir_reaped(void);
/* Scrubs and removes the directory and all in it; dies there of a signal
 * caught meanwhile (see private_dir_fork). */
void private_dir_remove(struct private_dir *p);
/* Puts a private directory another module made (render's staged tree) in
 * the same care: a signal removes it with all in it, after the child of
 * private_dir_fork exited. NULL: it was removed (nothing is then, but a
 * signal caught meanwhile is kept for private_dir_finish). */
void private_dir_guard(const char *dir);
/* Dies of a signal caught while a child ran, if any. */
void private_dir_finish(void);

#endif
