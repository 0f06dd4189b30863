/* Headers made ahead of time.
 *
 * A process that seals many small files for the same few recipients (the
 * git filter: one data key per file, wrapped for each recipient) spends
 * most of each file on the X25519 work of its header, two scalar
 * multiplications per recipient. With preparation on, a background thread
 * does that work while the process waits for its next file: a prepared
 * header is a fresh random file key and the header (the X25519 stanza
 * with its fresh ephemeral share, and the MAC) that wraps it for one
 * recipient, exactly what encrypt_to would make on the spot. Each one
 * serves one file and is wiped when taken or dropped. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/random.h"

#include "age_int.h"

enum { PREPARE_MAX_RECIPIENTS = 16 };

struct prepared {
	uint8_t *file_key; /* secure, AGE_FILE_KEY_SIZE bytes */
	struct age_header h;
};

struct prepare_queue {
	uint8_t pk[32];                  /* the X25519 recipient */
	struct prepared *items;
	size_t count;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running, stopping;
	size_t depth;
	struct prepare_queue queues[PREPARE_MAX_RECIPIENTS];
	size_t nqueues;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

static void prepared_release(struct prepared *p)
{
	gs_secure_free(p->file_key);
	age_header_release(&p->h);
	memset(p, 0, sizeof(*p));
}

static int prepare_one(const uint8_t pk[32], struct prepared *p)
{
	struct age_recipient r = { .type = AGE_KEY_X25519 };
	int ret;

	memset(p, 0, sizeof(*p));
	memcpy(r.pk, pk, sizeof(r.pk));
	if (!(p->file_key = gs_secure_alloc(AGE_FILE_KEY_SIZE)))
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	gs_random_buf(p->file_key, AGE_FILE_KEY_SIZE);
	if ((ret = age_x25519_wrap(&r, p->file_key, &p->h)) ||
	    (ret = age_header_compute_mac(&p->h, p->file_key, p->h.mac)))
		prepared_release(p);
	return ret;
}

/* The queue with the fewest headers, if one has room. Called locked. */
static struct prepare_queue *hungriest(void)
{
	struct prepare_queue *q = NULL;

	for (size_t i = 0; i < pool.nqueues; i++)
		if (pool.queues[i].count < pool.depth && (!q || pool.queues[i].count < q->count))
			q = &pool.queues[i];
	return q;
}

static void *prepare_loop(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool.lock);
	while (!pool.stopping) {
		struct prepare_queue *q = hungriest();
		uint8_t pk[32];
		struct prepared p;
		int ret;

		if (!q) {
			pthread_cond_wait(&pool.wake, &pool.lock);
			continue;
		}
		memcpy(pk, q->pk, sizeof(pk));
		pthread_mutex_unlock(&pool.lock);
		ret = prepare_one(pk, &p);
		pthread_mutex_lock(&pool.lock);
		if (ret) {
			/* the foreground does the work itself, and reports */
			gs_error_clear();
			break;
		}
		if (q->count < pool.depth && !pool.stopping)
			q->items[q->count++] = p;
		else
			prepared_release(&p);
	}
	pthread_mutex_unlock(&pool.lock);
	return NULL;
}

int age_prepare_start(size_t depth)
{
	int ret = 0;

	pthread_mutex_lock(&pool.lock);
	if (!pool.running && depth) {
		pool.depth = depth;
		pool.stopping = false;
		if (pthread_create(&pool.thread, NULL, prepare_loop, NULL) != 0)
			ret = GS_FAIL(GS_ERR_GENERIC, "cannot start a thread");
		else
			pool.running = true;
	}
	pthread_mutex_unlock(&pool.lock);
	return ret;
}

void age_prepare_stop(void)
{
	pthread_mutex_lock(&pool.lock);
	if (!pool.running) {
		pthread_mutex_unlock(&pool.lock);
		return;
	}
	pool.stopping = true;
	pthread_cond_signal(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
	pthread_join(pool.thread, NULL);
	pthread_mutex_lock(&pool.lock);
	for (size_t i = 0; i < pool.nqueues; i++) {
		for (size_t k = 0; k < pool.queues[i].count; k++)
			prepared_release(&pool.queues[i].items[k]);
		free(pool.queues[i].items);
	}
	memset(pool.queues, 0, sizeof(pool.queues));
	pool.nqueues = 0;
	pool.running = false;
	pthread_mutex_unlock(&pool.lock);
}

bool age_prepared_take(const struct age_recipient *r, uint8_t *file_key, struct age_header *h)
{
	struct prepare_queue *q = NULL;
	bool taken = false;

	if (r->type != AGE_KEY_X25519)
		return false;
	pthread_mutex_lock(&pool.lock);
	if (!pool.running || pool.stopping) {
		pthread_mutex_unlock(&pool.lock);
		return false;
	}
	for (size_t i = 0; i < pool.nqueues && !q; i++)
		if (!sodium_memcmp(pool.queues[i].pk, r->pk, sizeof(r->pk)))
			q = &pool.queues[i];
	if (!q && pool.nqueues < PREPARE_MAX_RECIPIENTS &&
	    (pool.queues[pool.nqueues].items = gs_calloc(pool.depth, sizeof(struct prepared)))) {
		/* a recipient seen for the first time: headers for the next files */
		q = &pool.queues[pool.nqueues++];
		memcpy(q->pk, r->pk, sizeof(q->pk));
	} else if (q && q->count) {
		struct prepared *p = &q->items[--q->count];

		memcpy(file_key, p->file_key, AGE_FILE_KEY_SIZE);
		*h = p->h;
		memset(&p->h, 0, sizeof(p->h));
		prepared_release(p);
		taken = true;
	}
	/* woken when half the headers are gone, to make them all again: one
	 * wake (a system call here, a switch there) for every few files */
	if (!q || q->count <= pool.depth / 2)
		pthread_cond_signal(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
	return taken;
}
