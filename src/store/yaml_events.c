/* libyaml's events for the loader, parsed on a second thread (gs_worker) for a
 * large input: libyaml's scanner is four fifths of a load, and the proof
 * of every write loads the whole output again, so the loader's own work
 * (the lexer, the tree) runs beside it instead of after it. The events are
 * the ones libyaml gives, in its order: handed over in blocks, under a
 * lock, so a block costs one hand-over and the parser is only ever used
 * by one thread at a time. The parser thread also deletes the events, when
 * it takes a block back: libyaml's strings are then freed by the thread
 * that allocated them (freed by the reader, each went back to the other
 * thread's malloc arena under its lock: 6 ms of CPU time in the 1.4 MB
 * load of a 10,000-value proof, against libyaml's own 20 ms). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/store.h"
#include "gitseal/worker.h"
#include "yaml_int.h"

/* Below this a thread costs more than it overlaps. A block ends at
 * BLOCK_EVENTS events or once its scalars hold BLOCK_BYTES: the events of
 * all BLOCKS are alive at once, and a document of large values must not
 * hold thousands of them (peak memory stays a few blocks of text). */
enum {
	BLOCK_EVENTS = 2048,
	BLOCK_BYTES = 256 * 1024,
	BLOCKS = 3,
};

struct event_block {
	yaml_event_t ev[BLOCK_EVENTS];
	size_t count;       /* events in ev, not yet deleted */
	bool failed; /* libyaml refused what follows the events */
	bool end;    /* the last is the stream's end */
};

struct yaml_events {
	yaml_parser_t *parser;
	bool threaded;
	bool on_worker; /* parse_main runs on gs_worker, not on thread */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t filled, emptied;
	struct event_block *blocks; /* BLOCKS of them, only when threaded */
	size_t head, tail; /* blocks [head, tail) are published, head's is read */
	bool stop;         /* the reader wants no more */
	struct event_block *cur; /* head's block, the reader's (NULL before the first) */
	size_t pos;        /* next event of cur */
};

static void delete_events(struct event_block *b)
{
	for (size_t k = 0; k < b->count; k++)
		yaml_event_delete(&b->ev[k]);
	b->count = 0;
}

static void fill_block(yaml_parser_t *parser, struct event_block *b)
{
	/* the reader is done with what the block held */
	delete_events(b);
	b->failed = b->end = false;
	for (size_t bytes = 0; b->count < BLOCK_EVENTS && bytes < BLOCK_BYTES;) {
		yaml_event_t *ev = &b->ev[b->count];

		if (!yaml_parser_parse(parser, ev)) {
			b->failed = true;
			return;
		}
		b->count++;
		if (ev->type == YAML_STREAM_END_EVENT) {
			b->end = true;
			return;
		}
		if (ev->type == YAML_SCALAR_EVENT)
			bytes += ev->data.scalar.length;
	}
}

static void *parse_main(void *arg)
{
	struct yaml_events *e = arg;

	for (;;) {
		struct event_block *b;

		pthread_mutex_lock(&e->lock);
		while (e->tail - e->head == BLOCKS && !e->stop)
			pthread_cond_wait(&e->emptied, &e->lock);
		if (e->stop) {
			pthread_mutex_unlock(&e->lock);
			return NULL;
		}
		b = &e->blocks[e->tail % BLOCKS];
		pthread_mutex_unlock(&e->lock);
		/* not yet published: the reader does not touch it */
		fill_block(e->parser, b);
		pthread_mutex_lock(&e->lock);
		e->tail++;
		pthread_cond_signal(&e->filled);
		pthread_mutex_unlock(&e->lock);
		if (b->failed || b->end)
			return NULL;
	}
}

/* The lock, its conditions and the thread (the worker's, else one of its
 * own), or none of them. */
static bool start_thread(struct yaml_events *e)
{
	if (pthread_mutex_init(&e->lock, NULL))
		return false;
	if (pthread_cond_init(&e->filled, NULL))
		goto no_filled;
	if (pthread_cond_init(&e->emptied, NULL))
		goto no_emptied;
	if ((e->on_worker = gs_worker_run(parse_main, e)) || pthread_create(&e->thread, NULL, parse_main, e) == 0)
		return true;
	pthread_cond_destroy(&e->emptied);
no_emptied:
	pthread_cond_destroy(&e->filled);
no_filled:
	pthread_mutex_destroy(&e->lock);
	return false;
}

int yaml_events_start(struct yaml_events **out, yaml_parser_t *parser, size_t input_len)
{
	struct yaml_events *e = gs_calloc(1, sizeof(*e));

	*out = e;
	if (!e)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	e->parser = parser;
	/* without a thread the reader parses itself, as before; the blocks
	 * (over half a MiB) are made only for a thread: clearing them for
	 * every small document cost more than loading it */
	if (input_len < STORE_THREADED_MIN_INPUT)
		return 0;
	e->blocks = gs_calloc(BLOCKS, sizeof(*e->blocks));
	e->threaded = e->blocks && start_thread(e);
	return 0;
}

/* The block to read from once cur's events are read: the lock is taken
 * here only, once a block (not once an event: a published block is not
 * touched by the parser thread, and the lock made its events visible). */
static struct event_block *next_block(struct yaml_events *e)
{
	struct event_block *b;

	pthread_mutex_lock(&e->lock);
	if (e->cur) {
		/* read to its end: back to the parser */
		e->head++;
		e->pos = 0;
		pthread_cond_signal(&e->emptied);
	}
	while (e->tail == e->head)
		pthread_cond_wait(&e->filled, &e->lock);
	b = e->cur = &e->blocks[e->head % BLOCKS];
	pthread_mutex_unlock(&e->lock);
	return b;
}

bool yaml_events_next(struct yaml_events *e, yaml_event_t *ev)
{
	struct event_block *b = e->cur;

	if (!e->threaded)
		return yaml_parser_parse(e->parser, ev) != 0;
	if (!b || (e->pos == b->count && !b->failed && !b->end))
		b = next_block(e);
	if (e->pos == b->count)
		return false; /* b->failed: the parser's problem is set and stays */
	/* lent until the reader's next call: the block is taken back only
	 * after the reader asks for an event past it */
	*ev = b->ev[e->pos++];
	return true;
}

void yaml_events_done(struct yaml_events *e, yaml_event_t *ev)
{
	/* threaded, the parser thread deletes the block's events when it
	 * takes the block back (BLOCK_BYTES bounds what is held meanwhile) */
	if (!e->threaded)
		yaml_event_delete(ev);
}

void yaml_events_stop(struct yaml_events *e)
{
	if (!e)
		return;
	if (e->threaded) {
		pthread_mutex_lock(&e->lock);
		e->stop = true;
		pthread_cond_signal(&e->emptied);
		pthread_mutex_unlock(&e->lock);
		if (e->on_worker)
			gs_worker_wait();
		else
			pthread_join(e->thread, NULL);
		/* read or not, every event the blocks still hold */
		for (size_t i = 0; i < BLOCKS; i++)
			delete_events(&e->blocks[i]);
		pthread_cond_destroy(&e->filled);
		pthread_cond_destroy(&e->emptied);
		pthread_mutex_destroy(&e->lock);
	}
	free(e->blocks);
	free(e);
}
