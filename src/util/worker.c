/* One thread kept for the jobs that run beside the caller: a sops decrypt
 * of 10,000 values made four threads (libcrypto's warming, the events of
 * its load, half of its values, the events of its proof). On the bench's
 * VM making one cost 0.1 to 0.3 ms, and 2 to 3.7 ms while the warming
 * thread was in dlopen (a new thread's TLS waits for the dynamic loader's
 * lock); each new thread also faulted in a malloc arena of its own. The
 * jobs of one command follow each other, so one thread serves them all,
 * made once, before the warming starts. A job that comes while another
 * runs is refused: its caller makes a thread as before. */
#include <pthread.h>
#include <stdbool.h>

#include "gitseal/worker.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t handed = PTHREAD_COND_INITIALIZER, returned = PTHREAD_COND_INITIALIZER;
static bool made, failed; /* the thread exists; making it failed (not tried again) */
static bool busy;         /* a job is handed over and not yet waited for */
static bool running;      /* the job has not returned yet */
static void *(*job)(void *);
static void *job_arg;

static void *worker_main(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&lock);
	for (;;) {
		void *(*fn)(void *);
		void *arg;

		while (!job)
			pthread_cond_wait(&handed, &lock);
		fn = job;
		arg = job_arg;
		job = NULL;
		pthread_mutex_unlock(&lock);
		fn(arg);
		pthread_mutex_lock(&lock);
		running = false;
		pthread_cond_broadcast(&returned);
	}
	return NULL;
}

/* A child of fork has no worker (and the lock may have been held by it):
 * it starts afresh, and makes its own when it needs one. */
static void forget_in_child(void)
{
	pthread_mutex_init(&lock, NULL);
	pthread_cond_init(&handed, NULL);
	pthread_cond_init(&returned, NULL);
	made = failed = busy = running = false;
	job = NULL;
}

/* Under the lock. The thread is never joined: it waits for jobs until the
 * process exits. */
static bool make_thread(void)
{
	static bool at_fork;
	pthread_attr_t attr;
	pthread_t thread;

	if (made || failed)
		return made;
	if (!at_fork && pthread_atfork(NULL, NULL, forget_in_child) != 0) {
		failed = true;
		return false;
	}
	at_fork = true;
	if (pthread_attr_init(&attr) != 0) {
		failed = true;
		return false;
	}
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	made = pthread_create(&thread, &attr, worker_main, NULL) == 0;
	failed = !made;
	pthread_attr_destroy(&attr);
	return made;
}

void gs_worker_prepare(void)
{
	pthread_mutex_lock(&lock);
	(void)make_thread();
	pthread_mutex_unlock(&lock);
}

bool gs_worker_run(void *(*fn)(void *), void *arg)
{
	bool taken = false;

	pthread_mutex_lock(&lock);
	if (!busy && make_thread()) {
		busy = running = true;
		job = fn;
		job_arg = arg;
		pthread_cond_signal(&handed);
		taken = true;
	}
	pthread_mutex_unlock(&lock);
	return taken;
}

void gs_worker_wait(void)
{
	pthread_mutex_lock(&lock);
	while (running)
		pthread_cond_wait(&returned, &lock);
	busy = false;
	pthread_mutex_unlock(&lock);
}
