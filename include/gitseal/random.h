/* Random bytes for the secrets made once a file (data keys, IVs, age file
 * keys, nonces and ephemeral keys): libsodium's randombytes_buf, drawn a
 * few hundred bytes at a time per thread. Sealing a small file took eight
 * getrandom calls, ~1.6 us each on the bench's VM (docs/development.md). */
#ifndef GITSEAL_RANDOM_H
#define GITSEAL_RANDOM_H

#include <stddef.h>

/* Fills buf with n random bytes. The bytes drawn ahead wait in this
 * thread's secure memory, each handed out once and wiped as it goes; a
 * child of fork() drops what its parent drew. Large requests go to
 * randombytes_buf directly. */
void gs_random_buf(void *buf, size_t n);

#endif
