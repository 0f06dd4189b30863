/* The STREAM payload of a large file, in batches of chunks over two
 * threads, each taking a batch through all three steps: it reads the next
 * batch (the threads take turns, in order), seals (or opens) it on its own
 * while the other thread reads or writes, and writes it (in turns again,
 * in order). A batch stays on the core that read it: with one thread
 * reading, whichever free sealing and another writing, every batch crossed
 * cores once or twice on its way, and each hand-over cost a wake-up. Each
 * thread's batch lives in secure memory (it holds plaintext), so memory
 * stays constant.
 *
 * Errors keep the order of the input: a batch is written only when every
 * batch before it was, so what reaches the output before a failure is
 * exactly what a one-chunk-at-a-time loop would have written. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/secmem.h"

#include "age_int.h"

enum {
	WORKERS = AGE_PIPELINE_WORKERS,
	/* pauses before sleeping on a turn (tens of microseconds): on a quiet
	 * machine the other thread, running, hands the turn over within a
	 * write's time, and a sleep and wake-up cost this VM 40-60 us of CPU */
	SPIN = 1000,
};

struct pipeline {
	const struct age_pipeline_ops *ops;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t turn;         /* the read or write turn moved, or the pipeline stopped */
	int waiting;                 /* threads waiting on turn */
	atomic_ulong moves;          /* turns moved so far: what a spinning thread watches */
	bool reading;                /* a thread is reading the batch numbered filled */
	unsigned long filled;        /* batches read so far: the next read's number */
	unsigned long drained;       /* batches written so far: the next write's number */
	uint64_t counter;            /* the next batch's first chunk number */
	bool input_done;             /* a batch had end set, or fill failed */
	bool stopped;                /* drain completed or failed */
	int result;
	char message[1024];          /* result's message (errors live per thread) */
};

struct worker {
	struct pipeline *p;
	int id;
	struct age_batch batch;
};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* With the lock held: returns when a turn may have moved. */
static void wait_turn(struct pipeline *p)
{
	unsigned long seen = atomic_load_explicit(&p->moves, memory_order_relaxed);

	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < SPIN && atomic_load_explicit(&p->moves, memory_order_relaxed) == seen; i++)
		cpu_relax();
	pthread_mutex_lock(&p->lock);
	if (atomic_load_explicit(&p->moves, memory_order_relaxed) != seen)
		return;
	p->waiting++;
	pthread_cond_wait(&p->turn, &p->lock);
	p->waiting--;
}

/* With the lock held: wakes the other thread if it waits, signalling after
 * letting go of the lock so that it does not wake only to wait for it. */
static void pass_turn(struct pipeline *p)
{
	atomic_fetch_add_explicit(&p->moves, 1, memory_order_relaxed);
	if (!p->waiting)
		return;
	pthread_mutex_unlock(&p->lock);
	pthread_cond_broadcast(&p->turn);
	pthread_mutex_lock(&p->lock);
}

/* With the lock held and the read turn taken: reads batch number
 * p->filled into b; false when it failed (reported at its write turn). */
static bool read_batch(struct pipeline *p, struct age_batch *b, int *fill_error, char *why, size_t why_size)
{
	int ret;

	pthread_mutex_unlock(&p->lock);
	*b = (struct age_batch){ .data = b->data, .counter = p->counter };
	/* allocated on first use: the rest of a file may need one batch */
	if (!b->data && !(b->data = gs_secure_alloc(AGE_PIPELINE_BATCH_ALLOC)))
		ret = GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	else
		ret = p->ops->fill(p->ctx, b);
	if (ret) {
		b->failed = true;
		b->end = true;
		*fill_error = ret;
		snprintf(why, why_size, "%s", gs_error_message());
	}
	pthread_mutex_lock(&p->lock);
	p->counter += b->count;
	p->filled++;
	p->input_done = b->end;
	return !ret;
}

static void run_worker(struct worker *w)
{
	struct pipeline *p = w->p;
	struct age_batch *b = &w->batch;
	unsigned long n;
	int ret, fill_error = 0;
	char why[sizeof(p->message)];
	bool ok;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->reading && !p->stopped)
			wait_turn(p);
		if (p->stopped || p->input_done)
			break;
		n = p->filled;
		p->reading = true;
		ok = read_batch(p, b, &fill_error, why, sizeof(why));
		p->reading = false;
		pass_turn(p);
		if (ok) {
			pthread_mutex_unlock(&p->lock);
			p->ops->transform(p->ctx, w->id, b);
			pthread_mutex_lock(&p->lock);
		}
		while (p->drained != n && !p->stopped)
			wait_turn(p);
		if (p->stopped)
			break; /* a batch before this one failed */
		pthread_mutex_unlock(&p->lock);
		ret = ok ? p->ops->drain(p->ctx, b) : fill_error;
		if (ok && ret < 0)
			snprintf(why, sizeof(why), "%s", gs_error_message());
		pthread_mutex_lock(&p->lock);
		p->drained++;
		if (!ok || ret < 0 || ret == AGE_PIPELINE_COMPLETE || b->end) {
			p->result = ret < 0 ? ret : 0;
			if (ret < 0)
				memcpy(p->message, why, sizeof(p->message));
			p->stopped = true;
		}
		pass_turn(p);
		if (p->stopped)
			break;
	}
	/* input_done with no batch left for this thread: the other one ends it */
	pthread_mutex_unlock(&p->lock);
}

static void *worker_main(void *arg)
{
	run_worker(arg);
	return NULL;
}

int age_pipeline_run(const struct age_pipeline_ops *ops, void *ctx, uint64_t counter)
{
	struct pipeline p = { .ops = ops, .ctx = ctx, .counter = counter };
	struct worker w[WORKERS];
	pthread_t other;
	int ret = 0;

	for (int i = 0; i < WORKERS; i++)
		w[i] = (struct worker){ .p = &p, .id = i };
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.turn, NULL);
	if (pthread_create(&other, NULL, worker_main, &w[1]) != 0) {
		ret = GS_FAIL(GS_ERR_GENERIC, "cannot start the payload's second thread");
	} else {
		run_worker(&w[0]);
		pthread_join(other, NULL);
		if (p.result)
			ret = GS_FAIL(p.result, "%s", p.message);
	}
	pthread_cond_destroy(&p.turn);
	pthread_mutex_destroy(&p.lock);
	for (int i = 0; i < WORKERS; i++)
		gs_secure_free(w[i].batch.data);
	return ret;
}
