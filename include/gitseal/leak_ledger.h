/* The test build's LeakSanitizer ledger (src/util/leak_ledger.c). */
#ifndef GITSEAL_LEAK_LEDGER_H
#define GITSEAL_LEAK_LEDGER_H

#ifdef GITSEAL_TEST_HOOKS
/* The process's signature from its command line, at the start of main. */
void gs_leak_ledger_begin(int argc, char **argv);
/* main's return value, part of the signature (an exit() elsewhere: -1). */
void gs_leak_ledger_end(int code);
#endif

#endif
