/* Write-behind for the STREAM payload: a thread writes finished buffers
 * while the caller reads and seals the next ones, so that on a large file
 * the system's copy into the output overlaps with the cipher. A fixed ring
 * of buffers keeps memory constant; buffers go out in the order they were
 * handed over, and on the caller's failure the ones already handed over
 * are still written (decryption releases each authenticated chunk, as
 * before). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/secmem.h"

#include "age_int.h"

enum { RING = AGE_WRITE_BEHIND_BUFFERS };

struct age_write_behind {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t queued;       /* a buffer was handed over, or closing */
	pthread_cond_t written;      /* a buffer came back, or the writer failed */
	struct gs_writer *out;
	uint8_t *buf[RING];
	size_t len[RING];
	size_t size;
	bool secure;
	/* filled counts buffers handed over, done those written; the caller
	 * fills buf[filled % RING] while filled - done < RING. */
	unsigned long filled, done;
	bool closing;
	int err;                     /* the writer's error, its message below */
	char message[512];
};

static void *writer_main(void *arg)
{
	struct age_write_behind *wb = arg;
	unsigned long i;
	int ret = 0;

	pthread_mutex_lock(&wb->lock);
	for (;;) {
		while (wb->done == wb->filled && !wb->closing)
			pthread_cond_wait(&wb->queued, &wb->lock);
		if (wb->done == wb->filled)
			break;
		i = wb->done % RING;
		pthread_mutex_unlock(&wb->lock);
		ret = wb->out->write(wb->out->ctx, wb->buf[i], wb->len[i]);
		pthread_mutex_lock(&wb->lock);
		if (ret) {
			/* the error lives in this thread: hand its text over */
			wb->err = ret;
			snprintf(wb->message, sizeof(wb->message), "%s", gs_error_message());
			pthread_cond_signal(&wb->written);
			break;
		}
		wb->done++;
		pthread_cond_signal(&wb->written);
	}
	pthread_mutex_unlock(&wb->lock);
	return NULL;
}

static void free_buffers(struct age_write_behind *wb)
{
	for (int i = 0; i < RING; i++) {
		if (wb->secure)
			gs_secure_free(wb->buf[i]);
		else
			free(wb->buf[i]);
	}
}

int age_write_behind_start(struct age_write_behind **out, struct gs_writer *dst, size_t size, bool secure)
{
	struct age_write_behind *wb = calloc(1, sizeof(*wb));
	int ret = 0;

	*out = NULL;
	if (!wb)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	wb->out = dst;
	wb->size = size;
	wb->secure = secure;
	for (int i = 0; i < RING; i++) {
		wb->buf[i] = secure ? gs_secure_alloc(size) : malloc(size);
		if (!wb->buf[i])
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	if (ret)
		goto fail;
	pthread_mutex_init(&wb->lock, NULL);
	pthread_cond_init(&wb->queued, NULL);
	pthread_cond_init(&wb->written, NULL);
	if (pthread_create(&wb->thread, NULL, writer_main, wb) != 0) {
		pthread_cond_destroy(&wb->written);
		pthread_cond_destroy(&wb->queued);
		pthread_mutex_destroy(&wb->lock);
		ret = GS_FAIL(GS_ERR_GENERIC, "cannot start the output thread");
		goto fail;
	}
	*out = wb;
	return 0;
fail:
	free_buffers(wb);
	free(wb);
	return ret;
}

/* Records the writer's error in the calling thread. */
static int writer_failed(struct age_write_behind *wb)
{
	return GS_FAIL(wb->err, "%s", wb->message);
}

int age_write_behind_buffer(struct age_write_behind *wb, uint8_t **buf, size_t *size)
{
	int err;

	pthread_mutex_lock(&wb->lock);
	while (wb->filled - wb->done == RING && !wb->err)
		pthread_cond_wait(&wb->written, &wb->lock);
	err = wb->err;
	pthread_mutex_unlock(&wb->lock);
	if (err)
		return writer_failed(wb);
	*buf = wb->buf[wb->filled % RING];
	*size = wb->size;
	return 0;
}

int age_write_behind_submit(struct age_write_behind *wb, size_t len)
{
	int err;

	pthread_mutex_lock(&wb->lock);
	err = wb->err;
	if (!err) {
		wb->len[wb->filled % RING] = len;
		wb->filled++;
		pthread_cond_signal(&wb->queued);
	}
	pthread_mutex_unlock(&wb->lock);
	return err ? writer_failed(wb) : 0;
}

int age_write_behind_finish(struct age_write_behind *wb, int ret)
{
	if (!wb)
		return ret;
	pthread_mutex_lock(&wb->lock);
	wb->closing = true;
	pthread_cond_signal(&wb->queued);
	pthread_mutex_unlock(&wb->lock);
	pthread_join(wb->thread, NULL);
	if (!ret && wb->err)
		ret = writer_failed(wb);
	pthread_cond_destroy(&wb->written);
	pthread_cond_destroy(&wb->queued);
	pthread_mutex_destroy(&wb->lock);
	free_buffers(wb);
	free(wb);
	return ret;
}
