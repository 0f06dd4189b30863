/* gitseal/heap.h: told of a large input, malloc keeps large blocks in its
 * heap and the heap's new part is advised for huge pages; a small input
 * changes nothing. Each test runs in a child process of its own: the
 * heap is set up once per process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitseal/heap.h"
#include "gitseal/secmem.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED_MALLOC 1 /* ASan's malloc has no brk heap to advise */
#else
#define SANITIZED_MALLOC 0
#endif

enum { LARGE_INPUT = 2 * 1024 * 1024, BLOCK = 1024 * 1024 };

/* The VmFlags of the mapping that holds p ("" if none), and whether that
 * mapping is part of the [heap]: the heap's lines come one after another,
 * the first named [heap], an advised part split off without a name. */
static void mapping_of(const void *p, char *flags, size_t size, bool *in_heap)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool inside = false;
	unsigned long heap_start = 0, start, end;

	flags[0] = '\0';
	*in_heap = false;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			if (strstr(line, "[heap]"))
				heap_start = start;
			inside = (uintptr_t)p >= start && (uintptr_t)p < end;
			if (inside)
				*in_heap = heap_start && start >= heap_start && (uintptr_t)p < (uintptr_t)sbrk(0);
			continue;
		}
		if (inside && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(flags, size, "%s", line + 8);
			break;
		}
	}
	fclose(f);
}

/* Runs check in a child process; the test fails when the child does. */
static void in_child(void (*check)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		check();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void large_input_heap(void)
{
	char flags[512];
	bool in_heap;
	void *block;

	gs_heap_expect(LARGE_INPUT);
	block = malloc(BLOCK);
	if (!block)
		_exit(1);
	memset(block, 1, BLOCK);
	mapping_of(block, flags, sizeof(flags), &in_heap);
	/* in the heap (not an mmap of its own), advised for huge pages */
	if (!in_heap || !strstr(flags, " hg")) {
		fprintf(stderr, "block of 1 MiB: heap %d, flags%s", in_heap, flags);
		_exit(1);
	}
	free(block);
}

static void test_large_input_keeps_blocks_in_huge_pages(void **state)
{
	(void)state;
	if (SANITIZED_MALLOC)
		skip();
	in_child(large_input_heap);
}

static void small_input_heap(void)
{
	char flags[512];
	bool in_heap;
	void *block;

	gs_heap_expect(LARGE_INPUT / 64);
	block = malloc(BLOCK);
	if (!block)
		_exit(1);
	mapping_of(block, flags, sizeof(flags), &in_heap);
	/* glibc's default: a block this large is a mapping of its own */
	if (in_heap) {
		fprintf(stderr, "block of 1 MiB in the heap after a small input\n");
		_exit(1);
	}
	free(block);
}

static void test_small_input_changes_nothing(void **state)
{
	(void)state;
	if (SANITIZED_MALLOC)
		skip();
	in_child(small_input_heap);
}

/* The Rss of the heap, in KiB: its lines from [heap] to the break. */
static unsigned long heap_rss_kib(void)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	unsigned long start, end, kib, total = 0;
	bool inside = false, seen = false;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			if (strstr(line, "[heap]"))
				seen = true;
			inside = seen && start < (uintptr_t)sbrk(0);
			continue;
		}
		if (inside && sscanf(line, "Rss: %lu kB", &kib) == 1)
			total += kib;
	}
	fclose(f);
	return total;
}

/* The huge pages a large load is expected to fill (3x the input) are made
 * resident by gs_heap_prefault, before anything is allocated in them (the
 * first may be already: malloc wrote its free top's header there). */
static void prefault_heap(void)
{
	unsigned long before, after;

	gs_heap_expect(LARGE_INPUT);
	before = heap_rss_kib();
	gs_heap_prefault();
	after = heap_rss_kib();
	if (after < 3 * LARGE_INPUT / 1024 || before >= 3 * LARGE_INPUT / 1024) {
		fprintf(stderr, "heap Rss %lu KiB before, %lu KiB after\n", before, after);
		_exit(1);
	}
}

static void test_prefault_populates_expected_use(void **state)
{
	(void)state;
	if (SANITIZED_MALLOC)
		skip();
	in_child(prefault_heap);
}

/* A large buffer made at once (a file read whole): in a heap laid out
 * for its input it takes the pages it needs, on a huge page's boundary,
 * and the rest of its last huge page stays the heap's; without, whole
 * huge pages of its own. */
enum { READ = 1400 * 1000, HUGE_PAGE = 2 * 1024 * 1024 };

static void read_buffer(bool expect)
{
	size_t want = (READ + 1 + 4095) / 4096 * 4096;
	struct gs_buf b;

	if (expect)
		gs_heap_expect(LARGE_INPUT);
	gs_buf_init(&b, false);
	if (gs_buf_reserve(&b, READ) != 0 || (uintptr_t)b.data % HUGE_PAGE ||
	    gs_heap_advised(b.data, b.cap) != expect || b.cap != (expect ? want : (size_t)HUGE_PAGE)) {
		fprintf(stderr, "buffer of %d bytes: capacity %zu, advised heap %d\n", READ, b.cap,
			gs_heap_advised(b.data, b.cap));
		_exit(1);
	}
	memset(b.data, 1, b.cap);
	gs_buf_release(&b);
}

static void read_buffer_laid_out(void)
{
	read_buffer(true);
}

static void read_buffer_alone(void)
{
	read_buffer(false);
}

static void test_read_buffer_sized(void **state)
{
	(void)state;
	if (SANITIZED_MALLOC)
		skip();
	in_child(read_buffer_laid_out);
	in_child(read_buffer_alone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_large_input_keeps_blocks_in_huge_pages),
		cmocka_unit_test(test_small_input_changes_nothing),
		cmocka_unit_test(test_read_buffer_sized),
		cmocka_unit_test(test_prefault_populates_expected_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
