/* Passphrases: from $GITSEAL_PASSPHRASE (automation) or the terminal; a
 * passphrase-protected ssh key's from $GITSEAL_SSH_PASSPHRASE or the terminal. */
#ifndef GITSEAL_CMD_PROMPT_H
#define GITSEAL_CMD_PROMPT_H

#include <stdbool.h>

#include "gitseal/secmem.h"

/* Reads a passphrase into out (secure). With confirm, asks twice on the
 * terminal and fails on a mismatch. Never reads standard input. */
int prompt_passphrase(const char *question, bool confirm, struct gs_buf *out)
	__attribute__((warn_unused_result));

/* The passphrase of the ssh key file key_name (age_ssh_passphrase_source):
 * $GITSEAL_SSH_PASSPHRASE, else the terminal; the second never asks (the
 * git filter, render and krm run without a user to answer); the third asks
 * only when standard input is a terminal too (`gitseal git unlock`, typed
 * by hand, never when git runs it). */
int prompt_ssh_passphrase(const char *key_name, struct gs_buf *out) __attribute__((warn_unused_result));
int prompt_ssh_passphrase_no_terminal(const char *key_name, struct gs_buf *out)
	__attribute__((warn_unused_result));
int prompt_ssh_passphrase_typed(const char *key_name, struct gs_buf *out) __attribute__((warn_unused_result));

#endif
