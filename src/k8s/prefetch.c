/* Independent items prepared ahead, used in order. The caller's thread
 * and up to K8S_PREFETCH_WORKERS others take the next unclaimed item
 * (never more than `ahead` past the one in use, which bounds what is held
 * decrypted), while only the caller's thread consumes, in item order. So
 * the caller's thread does its share of the preparing whenever the item
 * it needs is not ready: on two cores the two threads split the work
 * whatever its balance between the two steps. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "k8s_int.h"

#include "gitseal/alloc.h"

enum { K8S_PREFETCH_WORKERS = 3 };

struct prefetch {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	const struct k8s_prefetch_ops *ops;
	void *ctx;
	size_t count, ahead;
	size_t next;     /* the first item nobody claimed */
	size_t consumed; /* items consumed */
	bool *ready;
	bool stop;
};

/* Called locked: the next item to prepare for a thread that may run up to
 * limit (exclusive), if any. */
static bool claim(struct prefetch *p, size_t limit, size_t *item)
{
	if (p->stop || p->next >= p->count || p->next >= limit)
		return false;
	*item = p->next++;
	return true;
}

/* Called locked; returns locked. */
static void prepare_unlocked(struct prefetch *p, size_t item)
{
	pthread_mutex_unlock(&p->lock);
	p->ops->prepare(p->ctx, item);
	pthread_mutex_lock(&p->lock);
	p->ready[item] = true;
	pthread_cond_broadcast(&p->changed);
}

static void *worker_main(void *arg)
{
	struct prefetch *p = arg;
	size_t item;

	pthread_mutex_lock(&p->lock);
	while (!p->stop && p->next < p->count) {
		if (claim(p, p->consumed + p->ahead, &item))
			prepare_unlocked(p, item);
		else
			pthread_cond_wait(&p->changed, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static int run_serial(size_t count, const struct k8s_prefetch_ops *ops, void *ctx)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < count; i++) {
		ops->prepare(ctx, i);
		ret = ops->consume(ctx, i);
	}
	return ret;
}

/* One thread per CPU this process may run on (its affinity: a cpuset
 * limits it, a CFS quota does not), the caller's included. */
static size_t worker_count(void)
{
	cpu_set_t set;
	long cpus = sched_getaffinity(0, sizeof(set), &set) ? sysconf(_SC_NPROCESSORS_ONLN)
							     : CPU_COUNT(&set);

	if (cpus < 2)
		return 0;
	return cpus - 1 < K8S_PREFETCH_WORKERS ? (size_t)cpus - 1 : K8S_PREFETCH_WORKERS;
}

static int consume_in_order(struct prefetch *p)
{
	size_t item;
	int ret = 0;

	for (size_t i = 0; !ret && i < p->count; i++) {
		pthread_mutex_lock(&p->lock);
		while (!p->ready[i]) {
			if (claim(p, i + p->ahead, &item))
				prepare_unlocked(p, item);
			else
				pthread_cond_wait(&p->changed, &p->lock);
		}
		pthread_mutex_unlock(&p->lock);
		ret = p->ops->consume(p->ctx, i);
		pthread_mutex_lock(&p->lock);
		p->consumed = i + 1;
		pthread_cond_broadcast(&p->changed);
		pthread_mutex_unlock(&p->lock);
	}
	return ret;
}

int k8s_prefetch_run(size_t count, size_t ahead, const struct k8s_prefetch_ops *ops, void *ctx)
{
	struct prefetch p = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER,
			      .ops = ops, .ctx = ctx, .count = count, .ahead = ahead ? ahead : 1 };
	pthread_t threads[K8S_PREFETCH_WORKERS];
	size_t want = count < 2 ? 0 : worker_count(), started = 0;
	int ret;

	if (want && !(p.ready = gs_calloc(count, sizeof(*p.ready))))
		want = 0;
	while (started < want && !pthread_create(&threads[started], NULL, worker_main, &p))
		started++;
	if (!started) {
		/* no second thread: the same work, one item after the other */
		free(p.ready);
		return run_serial(count, ops, ctx);
	}
	ret = consume_in_order(&p);
	pthread_mutex_lock(&p.lock);
	p.stop = true;
	pthread_cond_broadcast(&p.changed);
	pthread_mutex_unlock(&p.lock);
	for (size_t t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	free(p.ready);
	return ret;
}
