/* The test build's LeakSanitizer ledger: which processes of a suite run
 * check for leaks as they exit (make check's ASan suites), and the leak
 * scan's pages mapped in one system call. Compiled only with
 * GITSEAL_TEST_HOOKS; the release build has none of it. */
#ifdef GITSEAL_TEST_HOOKS
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/leak_ledger.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif

static int populate_writable_segments(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	for (size_t i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t begin = info->dlpi_addr + ph->p_vaddr, end = begin + ph->p_memsz;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
			continue;
		begin &= ~(uintptr_t)4095;
		end = (end + 4095) & ~(uintptr_t)4095;
		(void)madvise((void *)begin, end - begin, MADV_POPULATE_READ);
	}
	return 1; /* the first module is the executable */
}

/* The test build: LeakSanitizer's check at exit (an atexit handler of the
 * sanitizer runtime, registered before this destructor and so run after
 * it) reads every writable segment of the executable, 5.8 MB of it the
 * statically linked runtime's .bss (4.4 MB of stack depot), most of it
 * never written: a page fault for each 4 KiB page, 1,150 of the 2,300
 * that trap in a `gitseal --version`. Mapped here in one system call, the
 * scan reads the same zero pages: that --version 58.7 -> 49.7 ms of CPU,
 * system time 27.2 -> 19.8 (getrusage, medians of 8 alternating rounds on
 * the 2-core VM). What the scan reads and finds is unchanged; a kernel
 * without MADV_POPULATE_READ (5.14) refuses, and the scan faults them in
 * as before. */
static void populate_before_leak_scan(void)
{
	dl_iterate_phdr(populate_writable_segments, NULL);
}

/* Which processes LeakSanitizer checks. Its check costs a process 11-18
 * ms of CPU whatever it finds (it stops the world: a tracer thread that
 * ptraces the process, dear on this VM), and the suites start thousands
 * of gitseal processes that run the same path again (git starts the
 * filter, the merge driver and the hooks for each command). With
 * GITSEAL_TEST_LEAK_LEDGER=DIR (make check's ASan suites, a directory per
 * suite run) a process is checked only if it is the first of the run
 * with its signature, or the first to allocate at one of gitseal's own
 * call sites (src/util/alloc.c): each is a file made with O_EXCL in DIR.
 * The signature: the command words and flags (argv without paths and
 * values, a file's extension kept), the other test hooks' settings (an
 * out-of-memory run fails its own site: always checked), the call sites
 * that raised its errors and warnings (src/util/error.c) and its exit
 * status. A sanitizer report is also appended to DIR/reports, which fails
 * the suite even where the test ignores the exit status (a hook's).
 * Without the variable every process is checked. */
static struct {
	char signature[1024];
	size_t len;
	int code;    /* main's return value; -1: exit() called elsewhere */
	int checked; /* 0: not yet decided, 1: checked, 2: left out */
} leak = { .code = -1 };

static void signature_add(const char *word, size_t n)
{
	if (leak.len + n + 2 >= sizeof(leak.signature))
		n = sizeof(leak.signature) - leak.len - 2;
	for (size_t i = 0; i < n; i++) /* one line in DIR/processes */
		leak.signature[leak.len++] = word[i] > ' ' && word[i] < 127 ? word[i] : '?';
	leak.signature[leak.len++] = ' ';
	leak.signature[leak.len] = 0;
}

static bool is_word(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 24)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

/* argv as a path's kind: a flag's name, a command word or value kept, a
 * file's extension, anything else (paths, keys, JSON paths) a `*` */
void gs_leak_ledger_begin(int argc, char **argv)
{
	extern char **environ;
	const char *base = strrchr(argv[0], '/');

	signature_add(base ? base + 1 : argv[0], strlen(base ? base + 1 : argv[0]));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *dot = strrchr(a, '.'), *slash = strrchr(a, '/');

		if (a[0] == '-' && a[1])
			signature_add(a, strcspn(a, "="));
		else if (is_word(a))
			signature_add(a, strlen(a));
		else if (dot && (!slash || dot > slash) && dot[1] && is_word(dot + 1) && strlen(dot) <= 6)
			signature_add(dot, strlen(dot));
		else
			signature_add("*", 1);
	}
	for (char **e = environ; *e; e++) {
		if (strncmp(*e, "GITSEAL_TEST_", 13) || !strncmp(*e, "GITSEAL_TEST_HOOKS=", 19) ||
		    !strncmp(*e, "GITSEAL_TEST_LEAK_LEDGER=", 25))
			continue;
		/* a log file's path names the test, not the path run */
		signature_add(*e, strchr(*e, '/') ? strcspn(*e, "=") : strlen(*e));
	}
}

static int compare_sites(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(const void *const *)a, y = (uintptr_t)*(const void *const *)b;

	return x < y ? -1 : x > y;
}

/* O_EXCL: whether this process is the first of the suite run to make
 * DIR/NAME, which then holds TEXT */
static bool first_to_make(const char *dir, const char *name, const char *text)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno != EEXIST; /* no ledger: checked */
	(void)!write(fd, text, strlen(text));
	close(fd);
	return true;
}

static void append_line(const char *dir, const char *name, const char *a, const char *b)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dprintf(fd, "%s %s\n", a, b); /* one write: the processes of a git command append whole lines */
		close(fd);
	}
}

static bool leak_check_wanted(void)
{
	enum { MAX_SITES = 2048 };
	static const void *sites[MAX_SITES];
	const char *dir = getenv("GITSEAL_TEST_LEAK_LEDGER");
	char line[1200], name[32];
	unsigned long long h = 14695981039346656037ull;
	size_t n;
	bool first;

	if (leak.checked)
		return leak.checked == 1;
	leak.checked = 1;
	if (!dir || !*dir || !leak.len)
		return true;
	n = gs_test_raised(sites, 64);
	qsort(sites, n, sizeof(sites[0]), compare_sites);
	for (size_t i = 0; i < n; i++)
		signature_add(name, (size_t)snprintf(name, sizeof(name), "@%lx", (unsigned long)(uintptr_t)sites[i]));
	snprintf(line, sizeof(line), "%d %s", leak.code, leak.signature);
	for (const char *p = line; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	snprintf(name, sizeof(name), "%016llx", h);
	first = first_to_make(dir, name, line);
	/* and the first to allocate at one of gitseal's own call sites (each
	 * tried: the sites a checked process reached need no other) */
	n = gs_test_own_sites(sites, MAX_SITES);
	if (n == (size_t)-1)
		first = true;
	for (size_t i = 0; i < n && n != (size_t)-1; i++) {
		snprintf(name, sizeof(name), "a%lx", (unsigned long)(uintptr_t)sites[i]);
		first |= first_to_make(dir, name, "");
	}
	leak.checked = first ? 1 : 2;
	append_line(dir, "processes", first ? "checked" : "skipped", line);
	return first;
}

/* LeakSanitizer asks this before it checks (lsan_common: CheckForLeaks) */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return !leak_check_wanted();
}

/* every sanitizer report's last line: a leak found is kept in the ledger */
void __sanitizer_report_error_summary(const char *summary);
void __sanitizer_report_error_summary(const char *summary)
{
	const char *dir = getenv("GITSEAL_TEST_LEAK_LEDGER");

	fprintf(stderr, "%s\n", summary);
	if (dir && *dir)
		append_line(dir, "reports", leak.signature, summary);
}

__attribute__((destructor)) static void before_leak_check(void)
{
	if (leak_check_wanted())
		populate_before_leak_scan();
}

void gs_leak_ledger_end(int code)
{
	leak.code = code;
}
#else
typedef int gs_leak_ledger_release_build; /* ISO C: no empty translation unit */
#endif
