/* Passphrases: from $GITSEAL_PASSPHRASE (automation) or the terminal. */
#ifndef GITSEAL_CMD_PROMPT_H
#define GITSEAL_CMD_PROMPT_H

#include <stdbool.h>

#include "gitseal/secmem.h"

/* Reads a passphrase into out (secure). With confirm, asks twice on the
 * terminal and fails on a mismatch. Never reads standard input. */
int prompt_passphrase(const char *question, bool confirm, struct gs_buf *out)
	__attribute__((warn_unused_result));

#endif
