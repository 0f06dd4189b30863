/* Starting other programs (gpg, git) with posix_spawn. */
#ifndef GITSEAL_SPAWN_H
#define GITSEAL_SPAWN_H

#include <spawn.h>

/* Initialises attr (posix_spawnattr_destroy after) so that the child
 * starts with no signal blocked and SIGPIPE at its default action,
 * whatever the caller blocks or ignores. */
void gs_spawnattr_init(posix_spawnattr_t *attr);

#endif
