/* Once per git command (src/cmd/once.c). */
#ifndef GITSEAL_CMD_ONCE_H
#define GITSEAL_CMD_ONCE_H

#include <stdbool.h>

/* Whether this process is the first of the git command that ran it to ask
 * for kind (git runs a textconv per version `git log -p` shows: one
 * warning a command); true where that cannot be told. */
bool once_per_git_command(const char *kind);
/* ask()'s answer, asked by the first process of the git command that ran
 * this one and kept for the others (beside the markers); asked each time
 * where that cannot be told. */
bool once_answer(const char *kind, bool (*ask)(void));

#endif
