/* The program's own code and constants mapped in one go at start-up. */
#ifndef GITSEAL_PREFAULT_H
#define GITSEAL_PREFAULT_H

/* Maps every page of the executable's read-only segments (code, constants)
 * with one system call; best effort, a kernel before Linux 5.14 leaves
 * them to fault in one by one. Call first thing in main. */
void gs_prefault_program(void);

#endif
