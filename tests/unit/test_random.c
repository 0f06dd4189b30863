/* gitseal/random.h: bytes drawn ahead per thread are each handed out
 * once, on every thread; a child of fork never hands out the bytes its
 * parent hands out next. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "gitseal/random.h"

enum { DRAWS = 64, SIZE = 32 };

/* No two 32-byte draws alike, across several refills of the pool, and
 * never all zeros (a byte wiped before it was handed out). */
static void assert_all_distinct(uint8_t draws[][SIZE], size_t n)
{
	static const uint8_t zero[SIZE];

	for (size_t i = 0; i < n; i++) {
		assert_false(sodium_memcmp(draws[i], zero, SIZE) == 0);
		for (size_t j = 0; j < i; j++)
			assert_false(memcmp(draws[i], draws[j], SIZE) == 0);
	}
}

static void test_draws_differ(void **state)
{
	uint8_t draws[DRAWS][SIZE], big[4096], odd[DRAWS][SIZE];

	(void)state;
	for (size_t i = 0; i < DRAWS; i++)
		gs_random_buf(draws[i], SIZE);
	assert_all_distinct(draws, DRAWS);
	/* sizes that do not divide the pool: a draw split across a refill */
	for (size_t i = 0; i < DRAWS; i++) {
		uint8_t skip[7];

		gs_random_buf(skip, sizeof(skip));
		gs_random_buf(odd[i], SIZE);
	}
	assert_all_distinct(odd, DRAWS);
	/* a large request (libsodium's directly) */
	memset(big, 0, sizeof(big));
	gs_random_buf(big, sizeof(big));
	assert_false(memcmp(big, big + 2048, 2048) == 0);
	gs_random_buf(NULL, 0);
}

static void *draw_on_thread(void *arg)
{
	gs_random_buf(arg, SIZE);
	return NULL;
}

static void test_threads_differ(void **state)
{
	uint8_t draws[8][SIZE];
	pthread_t t[7];

	(void)state;
	gs_random_buf(draws[0], SIZE);
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(pthread_create(&t[i], NULL, draw_on_thread, draws[i + 1]), 0);
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_all_distinct(draws, 8);
}

/* The parent's pool holds bytes when it forks: the child must not hand
 * out the ones the parent hands out next. Forked several times: the pool
 * may happen to be empty at one fork (a refill differs anyway), not at
 * all of them. */
static void test_fork_child_draws_its_own(void **state)
{
	(void)state;
	for (int round = 0; round < 8; round++) {
		uint8_t mine[SIZE], theirs[SIZE];
		int fds[2], status;
		pid_t pid;

		gs_random_buf(mine, 1); /* the pool filled, most of it left */
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			gs_random_buf(theirs, SIZE);
			_exit(write(fds[1], theirs, SIZE) == SIZE ? 0 : 1);
		}
		gs_random_buf(mine, SIZE);
		assert_int_equal(read(fds[0], theirs, SIZE), SIZE);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		assert_false(memcmp(mine, theirs, SIZE) == 0);
		close(fds[0]);
		close(fds[1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_draws_differ),
		cmocka_unit_test(test_threads_differ),
		cmocka_unit_test(test_fork_child_draws_its_own),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
