#include <signal.h>

#include "gitseal/spawn.h"

void gs_spawnattr_init(posix_spawnattr_t *attr)
{
	sigset_t none, deflt;

	posix_spawnattr_init(attr);
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGPIPE);
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &deflt);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}
