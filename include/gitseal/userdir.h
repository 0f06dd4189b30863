/* Whether a directory is the user's alone, for what keeps plaintext or
 * the key cache there (the private directory's base, the user's key
 * cache). One check, so that the two cannot drift apart. */
#ifndef GITSEAL_USERDIR_H
#define GITSEAL_USERDIR_H

#include <stdbool.h>

/* True when path is a directory itself (not a symbolic link to one: what
 * a link names can change between this check and its use), owned by the
 * effective user, with no permission for group or others: no one else
 * can enter it, list it, or put or replace anything in it. */
bool gs_userdir_is_private(const char *path) __attribute__((warn_unused_result));

/* The same check made on the directory opened (not followed through a
 * link), so that later use through the descriptor (openat) reaches what
 * was checked even when the name is swapped: the descriptor, or -1. */
int gs_userdir_open_private(const char *path) __attribute__((warn_unused_result));

#endif
