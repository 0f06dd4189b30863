/* Private to src/keysrc/. */
#ifndef GITSEAL_KEYSRC_INT_H
#define GITSEAL_KEYSRC_INT_H

/* Opens libcurl on first use (libcurl.c); every curl call comes after. */
int keysrc_libcurl_load(void) __attribute__((warn_unused_result));

#endif
