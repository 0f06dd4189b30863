/* One thread kept for the work a command runs beside its own: libyaml's
 * events for a large load, half of a batch of values to decrypt. */
#ifndef GITSEAL_WORKER_H
#define GITSEAL_WORKER_H

#include <stdbool.h>

/* Makes the thread now, if it is not there yet: before another thread
 * opens a library (making a thread waits for the dynamic loader's lock). */
void gs_worker_prepare(void);

/* Hands fn(arg) to the thread; false if it cannot take it (busy with
 * another caller's job, or no thread could be made): the caller makes a
 * thread of its own or does the work itself. After true, the caller must
 * call gs_worker_wait before it hands over another job. */
bool gs_worker_run(void *(*fn)(void *), void *arg);

/* Returns once the job handed over has returned. */
void gs_worker_wait(void);

#endif
