/* gitseal/worker.h: one kept thread runs each job handed to it, one at a
 * time, on a thread other than the caller's; a job handed over while
 * another runs is refused; a child of fork makes a worker of its own. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitseal/worker.h"

struct job {
	pthread_t ran_on;
	atomic_int state; /* 0 handed, 1 started, 2 may return */
	int result;
};

static void *record(void *arg)
{
	struct job *j = arg;

	j->ran_on = pthread_self();
	j->result = 42;
	return NULL;
}

/* Holds the worker until the test lets it return. */
static void *hold(void *arg)
{
	struct job *j = arg;

	atomic_store(&j->state, 1);
	while (atomic_load(&j->state) != 2)
		usleep(100);
	return NULL;
}

static void test_jobs_run_on_one_other_thread(void **state)
{
	struct job a = { 0 }, b = { 0 };

	(void)state;
	gs_worker_prepare();
	assert_true(gs_worker_run(record, &a));
	gs_worker_wait();
	assert_int_equal(a.result, 42);
	assert_false(pthread_equal(a.ran_on, pthread_self()));
	assert_true(gs_worker_run(record, &b));
	gs_worker_wait();
	assert_int_equal(b.result, 42);
	assert_true(pthread_equal(a.ran_on, b.ran_on)); /* the same thread, kept */
}

static void test_busy_worker_refuses(void **state)
{
	struct job held = { 0 }, other = { 0 };

	(void)state;
	assert_true(gs_worker_run(hold, &held));
	while (atomic_load(&held.state) != 1)
		usleep(100);
	/* its caller then makes a thread of its own */
	assert_false(gs_worker_run(record, &other));
	assert_int_equal(other.result, 0);
	atomic_store(&held.state, 2);
	gs_worker_wait();
	assert_true(gs_worker_run(record, &other));
	gs_worker_wait();
	assert_int_equal(other.result, 42);
}

/* A child of fork has no thread of the parent's: its jobs run on a worker
 * it makes (else gs_worker_wait would wait forever). */
static void test_child_of_fork_makes_its_own(void **state)
{
	struct job parent = { 0 };
	int status;
	pid_t pid;

	(void)state;
	assert_true(gs_worker_run(record, &parent));
	gs_worker_wait();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct job child = { 0 };

		alarm(10); /* a hang fails the test instead of blocking it */
		if (!gs_worker_run(record, &child))
			_exit(1);
		gs_worker_wait();
		_exit(child.result == 42 && !pthread_equal(child.ran_on, pthread_self()) ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs_run_on_one_other_thread),
		cmocka_unit_test(test_busy_worker_refuses),
		cmocka_unit_test(test_child_of_fork_makes_its_own),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
