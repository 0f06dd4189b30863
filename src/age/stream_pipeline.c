/* The STREAM payload of a large file, in batches of chunks over two
 * threads: the calling thread reads batches in order, an output thread
 * writes them in order, and whichever of the two is free seals (or opens)
 * the oldest batch that is read and not yet sealed. On a fast cipher the
 * system's copies in and out cost more than the cipher itself; sharing the
 * cipher balances the two threads. A ring of AGE_PIPELINE_BATCHES batches
 * in secure memory (they hold plaintext) keeps memory constant.
 *
 * Errors keep the order of the input: a batch is written only when every
 * batch before it was, so what reaches the output before a failure is
 * exactly what a one-chunk-at-a-time loop would have written. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/secmem.h"

#include "age_int.h"

enum { RING = AGE_PIPELINE_BATCHES, MAIN = 0, OUTPUT = 1 };

enum batch_state { FREE, FILLED, BUSY, READY };

struct pipeline {
	const struct age_pipeline_ops *ops;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t to_main, to_output;
	bool main_waits, output_waits;
	struct age_batch batch[RING];
	enum batch_state state[RING];
	/* batches filled and drained so far; batch n lives in batch[n % RING] */
	unsigned long filled, drained;
	uint64_t counter;            /* the next batch's first chunk number */
	bool input_done;             /* a batch had end set, or fill failed */
	bool stopped;                /* drain completed or failed */
	int fill_error;              /* fill's error, for the batch marked failed */
	int result;
	char message[1024];          /* result's message (errors live per thread) */
};

/* With the lock held: wakes a waiting thread, signalling after letting go
 * of the lock, so that it does not wake only to wait for the lock. */
static void wake(struct pipeline *p, pthread_cond_t *cond)
{
	pthread_mutex_unlock(&p->lock);
	pthread_cond_signal(cond);
	pthread_mutex_lock(&p->lock);
}

/* With the lock held. */
static struct age_batch *oldest_filled(struct pipeline *p)
{
	for (unsigned long n = p->drained; n < p->filled; n++)
		if (p->state[n % RING] == FILLED)
			return &p->batch[n % RING];
	return NULL;
}

static enum batch_state *state_of(struct pipeline *p, struct age_batch *b)
{
	return &p->state[b - p->batch];
}

/* Seals or opens b outside the lock; with the lock held on return. */
static void transform(struct pipeline *p, struct age_batch *b, int worker)
{
	*state_of(p, b) = BUSY;
	pthread_mutex_unlock(&p->lock);
	p->ops->transform(p->ctx, worker, b);
	pthread_mutex_lock(&p->lock);
	*state_of(p, b) = READY;
}

static void fill_next(struct pipeline *p)
{
	struct age_batch *b = &p->batch[p->filled % RING];
	int ret;

	pthread_mutex_unlock(&p->lock);
	*b = (struct age_batch){ .data = b->data, .counter = p->counter };
	/* allocated on first use: the rest of a file may need fewer */
	if (!b->data && !(b->data = gs_secure_alloc(AGE_PIPELINE_BATCH_ALLOC)))
		ret = GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	else
		ret = p->ops->fill(p->ctx, b);
	pthread_mutex_lock(&p->lock);
	if (ret) {
		/* reported when the batches before it are written */
		b->failed = true;
		b->end = true;
		p->fill_error = ret;
		snprintf(p->message, sizeof(p->message), "%s", gs_error_message());
	}
	p->counter += b->count;
	p->state[p->filled % RING] = ret ? READY : FILLED;
	p->filled++;
	p->input_done = b->end;
}

static void *output_main(void *arg)
{
	struct pipeline *p = arg;
	struct age_batch *b;
	int ret;

	pthread_mutex_lock(&p->lock);
	while (!p->stopped) {
		b = &p->batch[p->drained % RING];
		if (p->drained < p->filled && p->state[p->drained % RING] == READY) {
			pthread_mutex_unlock(&p->lock);
			ret = b->failed ? 0 : p->ops->drain(p->ctx, b);
			pthread_mutex_lock(&p->lock);
			p->state[p->drained % RING] = FREE;
			p->drained++;
			if (b->failed) {
				p->result = p->fill_error;
				p->stopped = true;
			} else if (ret < 0 || ret == AGE_PIPELINE_COMPLETE || b->end) {
				p->result = ret < 0 ? ret : 0;
				if (ret < 0)
					snprintf(p->message, sizeof(p->message), "%s", gs_error_message());
				p->stopped = true;
			}
			if (p->main_waits)
				wake(p, &p->to_main);
		} else if ((b = oldest_filled(p))) {
			transform(p, b, OUTPUT);
		} else {
			p->output_waits = true;
			pthread_cond_wait(&p->to_output, &p->lock);
			p->output_waits = false;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* With the lock held, once the input is read: frees the buffers of the
 * batches written, which nothing fills again. */
static void release_drained(struct pipeline *p)
{
	uint8_t *data;

	for (int i = 0; i < RING; i++) {
		if (p->state[i] != FREE || !p->batch[i].data)
			continue;
		data = p->batch[i].data;
		p->batch[i].data = NULL;
		pthread_mutex_unlock(&p->lock);
		gs_secure_free(data);
		pthread_mutex_lock(&p->lock);
	}
}

/* The calling thread: reads while a batch is free, seals otherwise. */
static void main_loop(struct pipeline *p)
{
	struct age_batch *b;

	pthread_mutex_lock(&p->lock);
	while (!p->stopped) {
		if (!p->input_done && p->filled - p->drained < RING) {
			fill_next(p);
		} else if ((b = oldest_filled(p))) {
			transform(p, b, MAIN);
		} else if (p->input_done) {
			/* the output thread writes what is left; meanwhile the
			 * buffers it is done with are wiped and unmapped here
			 * rather than one after the other once it ends */
			release_drained(p);
			if (p->stopped)
				break;
			p->main_waits = true;
			pthread_cond_wait(&p->to_main, &p->lock);
			p->main_waits = false;
			continue;
		} else {
			p->main_waits = true;
			pthread_cond_wait(&p->to_main, &p->lock);
			p->main_waits = false;
			continue;
		}
		if (p->output_waits)
			wake(p, &p->to_output);
	}
	pthread_mutex_unlock(&p->lock);
}

static void release_ring(struct pipeline *p)
{
	for (int i = 0; i < RING; i++)
		gs_secure_free(p->batch[i].data);
}

int age_pipeline_run(const struct age_pipeline_ops *ops, void *ctx, uint64_t counter)
{
	struct pipeline p = { .ops = ops, .ctx = ctx, .counter = counter };
	pthread_t output;
	int ret = 0;

	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.to_main, NULL);
	pthread_cond_init(&p.to_output, NULL);
	if (pthread_create(&output, NULL, output_main, &p) != 0) {
		ret = GS_FAIL(GS_ERR_GENERIC, "cannot start the output thread");
	} else {
		main_loop(&p);
		pthread_join(output, NULL);
		if (p.result)
			ret = GS_FAIL(p.result, "%s", p.message);
	}
	pthread_cond_destroy(&p.to_output);
	pthread_cond_destroy(&p.to_main);
	pthread_mutex_destroy(&p.lock);
	release_ring(&p);
	return ret;
}
