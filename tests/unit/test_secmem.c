/* gitseal/secmem.h: a large secure block is a mapping of its own, locked,
 * left out of core dumps, between two guard pages, and wiped before it is
 * unmapped; where the lock is refused it comes from sodium_malloc; an
 * arena given a reservation takes one mapping for it. */
#include <linux/capability.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitseal/asan_poison.h"
#include "gitseal/secmem.h"

/* Under ASan (the test build) each arena allocation starts on an 8-byte
 * boundary and is followed by a red zone of 16 bytes or more
 * (src/util/secmem.c): a 101-byte string then takes 120. */
#ifdef GS_ASAN
enum { STRING_COST = 120 };
#else
enum { STRING_COST = 101 };
#endif

enum { LARGE = 100000, HUGE = 3 * 1024 * 1024 + 5, HEADER = 16, HUGE_PAGE = 2 * 1024 * 1024 };

/* The VmFlags line of the mapping that holds p, "" if none. */
static void mapping_flags(const void *p, char *flags, size_t size)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool inside = false;

	flags[0] = '\0';
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			inside = (uintptr_t)p >= start && (uintptr_t)p < end;
			continue;
		}
		if (inside && strncmp(line, "VmFlags:", 8) == 0) {
			strncpy(flags, line + 8, size - 1);
			flags[size - 1] = '\0';
			break;
		}
	}
	fclose(f);
}

static bool has_flag(const char *flags, const char *flag)
{
	char padded[8];

	snprintf(padded, sizeof(padded), " %s", flag);
	return strstr(flags, padded) != NULL;
}

/* True if reading *p kills a child process (a guard page). */
static bool read_faults(const volatile uint8_t *p)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		volatile uint8_t sink;

		/* cmocka (and ASan) catch the fault; the child must die of it */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		sink = *p;

		(void)sink;
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The length of the mapping that holds p, 0 if none. */
static size_t mapping_length(const void *p)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	size_t len = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && (uintptr_t)p >= start && (uintptr_t)p < end) {
			len = end - start;
			break;
		}
	}
	fclose(f);
	return len;
}

/* A block of 2 MiB or more is mapped in whole huge pages where the lock
 * allows it (here it does: the process locks far below its limit) and
 * its last huge page would be at least half used; else exactly, its 4 KiB
 * tail after the huge pages it fills. */
static void check_locked_and_guarded(size_t size, size_t align)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *p = gs_secure_alloc(size);
	uint8_t *start = p - HEADER;
	size_t mapped = (size + HEADER + page - 1) / page * page;
	char flags[256];

	if (mapped >= HUGE_PAGE && (mapped + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE - mapped <= HUGE_PAGE / 2)
		mapped = (mapped + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;

	assert_non_null(p);
	memset(p, 0xa5, size);
	/* a mapping of its own: its header starts a page (a huge page's
	 * boundary from 2 MiB on) */
	assert_int_equal((uintptr_t)start % align, 0);
	mapping_flags(p, flags, sizeof(flags));
	assert_true(has_flag(flags, "lo")); /* locked */
	assert_true(has_flag(flags, "dd")); /* not in core dumps */
	assert_false(read_faults(p + size - 1));
	assert_int_equal(mapping_length(p), mapped);
	assert_true(read_faults(start - 1));
	assert_true(read_faults(start + mapped));
	gs_secure_free(p);
}

static void test_large_block_locked_and_guarded(void **state)
{
	(void)state;
	check_locked_and_guarded(LARGE, (size_t)sysconf(_SC_PAGESIZE));
	check_locked_and_guarded(HUGE, 2 * 1024 * 1024);
	check_locked_and_guarded(2 * 1024 * 1024 - HEADER, 2 * 1024 * 1024);
	/* 4 KiB into a second huge page: that one is not taken whole */
	check_locked_and_guarded(2 * 1024 * 1024 + 5, 2 * 1024 * 1024);
}

/* This process, a test's child, drops CAP_IPC_LOCK and then locks at most
 * limit bytes; false if it cannot. */
static bool lock_at_most(rlim_t limit)
{
	struct __user_cap_header_struct head = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[2];
	struct rlimit now;

	if (syscall(SYS_capget, &head, caps) != 0 || getrlimit(RLIMIT_MEMLOCK, &now) != 0)
		return false;
	caps[0].effective &= ~(1u << CAP_IPC_LOCK);
	caps[0].permitted &= ~(1u << CAP_IPC_LOCK);
	caps[0].inheritable &= ~(1u << CAP_IPC_LOCK);
	now.rlim_cur = limit; /* the hard limit stays: the soft one decides */
	return syscall(SYS_capset, &head, caps) == 0 && setrlimit(RLIMIT_MEMLOCK, &now) == 0;
}

/* A process that may not lock memory (no CAP_IPC_LOCK, RLIMIT_MEMLOCK 0)
 * still gets its large blocks and buffers, from sodium_malloc, and frees
 * them. */
static void test_lock_refused_falls_back(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct gs_buf b;
		uint8_t *p;
		char flags[256];

		if (!lock_at_most(0))
			_exit(11);
		p = gs_secure_alloc(LARGE);
		if (!p)
			_exit(12);
		memset(p, 0xa5, LARGE);
		mapping_flags(p, flags, sizeof(flags));
		if (has_flag(flags, "lo"))
			_exit(13); /* the lock was refused: not our locked mapping */
		gs_secure_free(p);
		p = gs_secure_alloc(HUGE);
		if (!p)
			_exit(15);
		memset(p, 0xa5, HUGE);
		mapping_flags(p, flags, sizeof(flags));
		if (has_flag(flags, "lo"))
			_exit(16);
		gs_secure_free(p);
		gs_buf_init(&b, true);
		for (int i = 0; i < 5000; i++)
			if (gs_buf_append_str(&b, "secret value ") != 0)
				_exit(14);
		gs_buf_release(&b);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Without CAP_IPC_LOCK, a block is rounded up to whole huge pages only
 * where RLIMIT_MEMLOCK leaves room for another block as large besides:
 * else a second tree (a proof's) that fits today would not be locked. */
static void test_huge_rounding_within_limit(void **state)
{
	enum { BLOCK = 3 * 1024 * 1024 + 5, MIB = 1024 * 1024, SKIP = 20 };
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t exact = (BLOCK + HEADER + page - 1) / page * page;
	int status;
	pid_t pid;

	(void)state;
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit now;
		uint8_t *p;

		if (getrlimit(RLIMIT_MEMLOCK, &now) != 0)
			_exit(10);
		/* the hard limit cannot be raised (no CAP_SYS_RESOURCE here) */
		if (now.rlim_max != RLIM_INFINITY && now.rlim_max < 8 * MIB)
			_exit(SKIP);
		if (!lock_at_most(5 * MIB))
			_exit(11);
		/* 4 MiB rounded and 3 MiB for the next: over 5 MiB, within 8 */
		if (!(p = gs_secure_alloc(BLOCK)) || mapping_length(p) != exact)
			_exit(12);
		memset(p, 0xa5, BLOCK);
		gs_secure_free(p);
		if (!lock_at_most(8 * MIB))
			_exit(13);
		if (!(p = gs_secure_alloc(BLOCK)) || mapping_length(p) != 2 * HUGE_PAGE)
			_exit(14);
		memset(p, 0xa5, BLOCK);
		gs_secure_free(p);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == SKIP) {
		printf("skipped: RLIMIT_MEMLOCK's hard limit is below 8 MiB\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

#ifdef GITSEAL_TEST_HOOKS
static size_t unmapped, unmapped_dirty;

static void count_unmap(const void *p, size_t len)
{
	const uint8_t *b = p;

	unmapped++;
	for (size_t i = 0; i < len; i++)
		if (b[i])
			unmapped_dirty++;
}
#endif

static void test_large_block_wiped_before_unmap(void **state)
{
	(void)state;
#ifdef GITSEAL_TEST_HOOKS
	struct gs_buf b;
	uint8_t *p;

	gs_secmem_unmap_hook = count_unmap;
	unmapped = unmapped_dirty = 0;
	p = gs_secure_alloc(LARGE);
	assert_non_null(p);
	memset(p, 0xa5, LARGE);
	gs_secure_free(p);
	assert_int_equal(unmapped, 1);
	assert_int_equal(unmapped_dirty, 0);
	p = gs_secure_alloc(HUGE);
	assert_non_null(p);
	memset(p, 0xa5, HUGE);
	gs_secure_free(p);
	assert_int_equal(unmapped, 2);
	assert_int_equal(unmapped_dirty, 0);

	/* a buffer grown past the pool: each copy it leaves is wiped */
	unmapped = 0;
	gs_buf_init(&b, true);
	for (int i = 0; i < 20000; i++)
		assert_int_equal(gs_buf_append_str(&b, "secret value "), 0);
	gs_buf_release(&b);
	assert_true(unmapped >= 2);
	assert_int_equal(unmapped_dirty, 0);
	gs_secmem_unmap_hook = NULL;
#else
	skip();
#endif
}

static void test_lock_refused_hook(void **state)
{
	(void)state;
#ifdef GITSEAL_TEST_HOOKS
	uint8_t *p;

	gs_secmem_unmap_hook = count_unmap;
	gs_secmem_refuse_lock = true;
	unmapped = 0;
	p = gs_secure_alloc(LARGE);
	assert_non_null(p);
	memset(p, 0xa5, LARGE);
	gs_secure_free(p); /* sodium_free's, not an unmap of ours */
	gs_secmem_refuse_lock = false;
	assert_int_equal(unmapped, 0);
	gs_secmem_unmap_hook = NULL;
#else
	skip();
#endif
}

static void test_arena_reservation(void **state)
{
	(void)state;
#ifdef GITSEAL_TEST_HOOKS
	struct gs_arena a;
	char text[100];

	memset(text, 'S', sizeof(text));
	gs_secmem_unmap_hook = count_unmap;

	/* one mapping for what was reserved, wiped as far as it was used */
	unmapped = unmapped_dirty = 0;
	gs_arena_init(&a);
	gs_arena_reserve(&a, 1 << 20);
	for (int i = 0; i < (1 << 20) / 100 * 96 / STRING_COST; i++)
		assert_non_null(gs_arena_strndup(&a, text, sizeof(text)));
	gs_arena_release(&a);
	assert_int_equal(unmapped, 1);
	assert_int_equal(unmapped_dirty, 0);

	/* without it, the arena grows block by block */
	unmapped = 0;
	gs_arena_init(&a);
	for (int i = 0; i < 10000; i++)
		assert_non_null(gs_arena_strndup(&a, text, sizeof(text)));
	gs_arena_release(&a);
	assert_true(unmapped > 2);
	assert_int_equal(unmapped_dirty, 0);

	/* a reservation rounded up to whole huge pages is used to its end:
	 * 3 MiB reserved, 3.9 MiB allocated, one mapping */
	unmapped = unmapped_dirty = 0;
	gs_arena_init(&a);
	gs_arena_reserve(&a, 3 << 20);
	for (int i = 0; i < (4 << 20) / 100 * 94 / STRING_COST; i++)
		assert_non_null(gs_arena_strndup(&a, text, sizeof(text)));
	gs_arena_release(&a);
	assert_int_equal(unmapped, 1);
	assert_int_equal(unmapped_dirty, 0);

	/* a small reservation maps nothing: pool slots serve it */
	unmapped = 0;
	gs_arena_init(&a);
	gs_arena_reserve(&a, 1000);
	for (int i = 0; i < 100; i++)
		assert_non_null(gs_arena_strndup(&a, text, sizeof(text)));
	gs_arena_release(&a);
	assert_int_equal(unmapped, 0);
	gs_secmem_unmap_hook = NULL;
#else
	skip();
#endif
}

static void test_arena_strings_kept(void **state)
{
	struct gs_arena a;
	char *s[3000];

	(void)state;
	gs_arena_init(&a);
	gs_arena_reserve(&a, 64 * 1024);
	for (int i = 0; i < 3000; i++) {
		char text[32];
		int n = snprintf(text, sizeof(text), "value-%d", i);

		s[i] = gs_arena_strndup(&a, text, (size_t)n);
		assert_non_null(s[i]);
	}
	for (int i = 0; i < 3000; i++) {
		char text[32];

		snprintf(text, sizeof(text), "value-%d", i);
		assert_string_equal(s[i], text);
	}
	gs_arena_release(&a);
}

#ifdef GS_ASAN
/* What a child that makes one access at `at` wrote to its stderr (ASan's
 * report, if any), and whether it exited 0 after the access. */
static bool access_reported(volatile uint8_t *at, bool write, char *report, size_t size)
{
	int fds[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 2);
		if (write)
			*at = 0x5a;
		else
			(void)*at;
		_exit(0);
	}
	close(fds[1]);
	while (got < size - 1 && (n = read(fds[0], report + got, size - 1 - got)) > 0)
		got += (size_t)n;
	report[got] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The access is reported by ASan as one into poisoned memory. */
static void assert_poisoned(volatile uint8_t *at, bool write)
{
	static char report[8192];

	assert_true(access_reported(at, write, report, sizeof(report)));
	assert_non_null(strstr(report, "AddressSanitizer: use-after-poison"));
}

static void assert_open(volatile uint8_t *at, bool write)
{
	static char report[8192];

	assert_false(access_reported(at, write, report, sizeof(report)));
	assert_string_equal(report, "");
}
#endif

/* Under ASan, a one-byte overflow inside the pool or an arena block (no
 * heap block ASan knows of) is reported: from an arena string into the
 * next, from a structure, past a slot's size, into a slot's header; a
 * freed slot, a block's unused end and a large block's tail too. */
static void test_overflow_inside_secure_memory_reported(void **state)
{
	(void)state;
#ifdef GS_ASAN
	struct gs_arena a;
	char *first, *second;
	uint8_t *st, *p;

	gs_arena_init(&a);
	first = gs_arena_strndup(&a, "abc", 3);
	second = gs_arena_strndup(&a, "defgh", 5);
	st = gs_arena_alloc(&a, 24);
	assert_non_null(first);
	assert_non_null(second);
	assert_non_null(st);
	assert_open((uint8_t *)first + 3, true); /* its NUL */
	assert_poisoned((uint8_t *)first + 4, true);
	assert_poisoned((uint8_t *)first + 4, false);
	assert_poisoned((uint8_t *)second - 1, false);
	assert_open((uint8_t *)second + 5, false);
	assert_poisoned((uint8_t *)second + 6, true);
	assert_open(st + 23, true);
	assert_poisoned(st + 24, true);
	assert_poisoned(st + 200, false); /* the block's end, never handed out */
	assert_string_equal(first, "abc");
	assert_string_equal(second, "defgh");
	gs_arena_release(&a);

	p = gs_secure_alloc(10);
	assert_non_null(p);
	assert_open(p + 9, true);
	assert_poisoned(p + 10, true);
	assert_poisoned(p - 1, true); /* its header */
	gs_secure_free(p);
	assert_poisoned(p, false);    /* freed */
	p = gs_secure_alloc(LARGE);
	assert_non_null(p);
	assert_open(p + LARGE - 1, true);
	assert_poisoned(p + LARGE, true);
	gs_secure_free(p);
#else
	skip();
#endif
}

/* A plain buffer made large at once (a file read whole) is aligned for
 * huge pages; it grows from there and keeps its bytes. */
static void test_plain_buffer_made_large(void **state)
{
	struct gs_buf b;
	size_t first = 1500 * 1000;

	(void)state;
	gs_buf_init(&b, false);
	assert_int_equal(gs_buf_reserve(&b, first), 0);
	assert_true(b.cap > first);
	for (size_t i = 0; i < first; i++)
		b.data[i] = (uint8_t)(i * 7);
	b.len = first;
	for (int i = 0; i < 100000; i++)
		assert_int_equal(gs_buf_append_str(&b, "more text "), 0);
	assert_int_equal(b.len, first + 100000 * 10);
	for (size_t i = 0; i < first; i++)
		assert_int_equal(b.data[i], (uint8_t)(i * 7));
	assert_memory_equal(b.data + b.len - 10, "more text ", 10);
	gs_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_large_block_locked_and_guarded),
		cmocka_unit_test(test_lock_refused_falls_back),
		cmocka_unit_test(test_huge_rounding_within_limit),
		cmocka_unit_test(test_large_block_wiped_before_unmap),
		cmocka_unit_test(test_lock_refused_hook),
		cmocka_unit_test(test_arena_reservation),
		cmocka_unit_test(test_arena_strings_kept),
		cmocka_unit_test(test_plain_buffer_made_large),
		cmocka_unit_test(test_overflow_inside_secure_memory_reported),
	};

	if (gs_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
