/* What the kernel keeps of a process, read from /proc/PID/stat (Linux;
 * elsewhere nothing is known). */
#ifndef GITSEAL_PROC_H
#define GITSEAL_PROC_H

/* fields of /proc/PID/stat, counted as proc(5) counts them */
enum { GS_PROC_PARENT = 4, GS_PROC_START_TIME = 22 };

/* The number in field (3 or more) of /proc/PID/stat, or 0 when it cannot
 * be read (no /proc, the process gone). */
unsigned long long gs_proc_stat_field(long pid, int field);

#endif
