/* A private 0700 directory for the rare moments plaintext must be a file
 * (edit, exec-file). It is removed with everything in it on release, and by
 * a signal handler if the process is interrupted or terminated meanwhile. */
#ifndef GITSEAL_CMD_PRIVATE_DIR_H
#define GITSEAL_CMD_PRIVATE_DIR_H

#include <stddef.h>
#include <stdint.h>

struct private_dir {
	char path[4096];
	char file[4096];
};

int private_dir_create(struct private_dir *p, const char *file_name) __attribute__((warn_unused_result));
/* Writes data to the private file (0600), overwriting it. */
int private_dir_write(struct private_dir *p, const uint8_t *data, size_t len) __attribute__((warn_unused_result));
void private_dir_remove(struct private_dir *p);

#endif
