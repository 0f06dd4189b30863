/* The encrypted string values of a document decrypted ahead of the walk
 * that hashes them, on two threads: the proof of a sealed file decrypts
 * every value it wrote, and a value costs more in AES-GCM set-up than the
 * walk costs to visit it. The walk then takes each value's outcome in its
 * own order (sops_batch_take); the MAC, the types and every check stay in
 * the walk. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/dynlib.h"
#include "gitseal/error.h"
#include "gitseal/worker.h"
#include "sops_int.h"

/* Below this many values a thread costs more than it saves. The threads
 * take the values in runs of BATCH_RUN, in order, each the next run left:
 * halves fixed in advance left the caller waiting for the second thread
 * (1 to 2 ms of 10,000 values on the bench's VM: that thread starts late
 * and its first allocations fault in a malloc arena of its own). */
enum { BATCH_MIN_VALUES = 512, BATCH_RUN = 64 };

enum item_state { ITEM_PENDING, ITEM_DONE, ITEM_NOT_IN_PLACE, ITEM_FAILED };

struct batch_item {
	struct doc_node *node;
	size_t aad_at, aad_len;  /* in aads: the walk's AAD buffer is reused */
	size_t plain_len;
	enum sops_value_type type;
	enum item_state state;
	unsigned char by;         /* the share that decrypted it */
};

/* One thread's share of the work: runs taken in turn; it stops at its
 * first failure, whose message it keeps (error messages are per thread).
 * Every value before the first failure in walk order is decrypted: runs
 * are taken in order, and each is finished unless its thread fails in it. */
struct batch_share {
	struct sops_batch *batch;
	unsigned char index;
	int code;
	char message[1024];       /* as error.c keeps one */
};

struct sops_batch {
	const struct doc *doc;
	const uint8_t *key;
	struct batch_item *items;
	size_t count, cap, next;
	char *aads;
	size_t aads_len, aads_cap;
	atomic_size_t taken;      /* values handed out, a run at a time */
	struct batch_share share[2];
};

bool sops_batch_candidate(const struct doc *d, const struct sops_leaf *leaf)
{
	const struct doc_node *n = leaf->node;
	const char *src = (const char *)d->source.data;

	/* as decrypt_leaf and decrypt_value: a selected, non-empty, untagged
	 * string value in memory of its own (not in the source text) */
	return leaf->selected && !leaf->is_comment && n->kind == DOC_SCALAR && n->type == DOC_STR &&
	       n->len > 0 && !n->tag && (!src || n->text < src || n->text >= src + d->source.len);
}

static int collect_leaf(void *ctx, struct sops_leaf *leaf)
{
	struct sops_batch *b = ctx;
	struct batch_item *it;
	int ret;

	if (!sops_batch_candidate(b->doc, leaf))
		return 0;
	if ((ret = GS_ARRAY_GROW(b->items, b->count, b->cap, 1024)) < 0)
		return ret;
	while (b->aads_cap - b->aads_len < leaf->aad_len) {
		size_t cap = b->aads_cap ? b->aads_cap * 2 : 64 * 1024;
		char *p = gs_realloc(b->aads, cap);

		if (!p || cap < b->aads_cap)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		b->aads = p;
		b->aads_cap = cap;
	}
	memcpy(b->aads + b->aads_len, leaf->aad, leaf->aad_len);
	it = &b->items[b->count++];
	memset(it, 0, sizeof(*it));
	it->node = leaf->node;
	it->aad_at = b->aads_len;
	it->aad_len = leaf->aad_len;
	b->aads_len += leaf->aad_len;
	return 0;
}

static void *decrypt_share(void *arg)
{
	struct batch_share *s = arg;
	struct sops_batch *b = s->batch;
	struct sops_cipher cipher;

	sops_cipher_init(&cipher);
	for (size_t start; (start = atomic_fetch_add(&b->taken, BATCH_RUN)) < b->count;) {
		size_t end = b->count - start > BATCH_RUN ? start + BATCH_RUN : b->count;

		for (size_t i = start; i < end; i++) {
			struct batch_item *it = &b->items[i];
			int ret = sops_value_decrypt_in_place(&cipher, b->key, it->node->text, it->node->len,
							      b->aads + it->aad_at, it->aad_len, &it->plain_len,
							      &it->type);

			/* 1: the value does not fit its own memory, the walk
			 * decrypts it elsewhere (its text is as it was) */
			it->state = ret == 0 ? ITEM_DONE : ret == 1 ? ITEM_NOT_IN_PLACE : ITEM_FAILED;
			it->by = s->index;
			if (ret < 0) {
				s->code = ret;
				snprintf(s->message, sizeof(s->message), "%s", gs_error_message());
				goto out;
			}
		}
	}
out:
	sops_cipher_release(&cipher);
	gs_error_clear();
	return NULL;
}

/* Decrypts the items on this thread and a second one. Without a second
 * thread this one takes every run. */
static int batch_run(struct sops_batch *b)
{
	pthread_t worker;
	bool on_worker, threaded;
	int ret;

	/* loaded before the threads: libcrypto's symbols are then only read */
	if ((ret = gs_libcrypto_load()) < 0)
		return ret;
	for (int i = 0; i < 2; i++) {
		b->share[i].batch = b;
		b->share[i].index = (unsigned char)i;
	}
	atomic_init(&b->taken, 0);
	on_worker = gs_worker_run(decrypt_share, &b->share[1]);
	threaded = !on_worker && pthread_create(&worker, NULL, decrypt_share, &b->share[1]) == 0;
	decrypt_share(&b->share[0]);
	if (on_worker)
		gs_worker_wait();
	else if (threaded)
		pthread_join(worker, NULL);
	return 0;
}

int sops_batch_decrypt(struct doc *d, const struct sops_selection *sel, const uint8_t *key,
		       struct sops_batch **out)
{
	struct sops_selector selector;
	struct sops_batch *b;
	int ret;

	*out = NULL;
	/* a comment can select the values after it, and the walk changes
	 * comments as it decrypts them: the walk alone decides there */
	if (sel->kind == SOPS_SEL_ENCRYPTED_COMMENT_REGEX || sel->kind == SOPS_SEL_UNENCRYPTED_COMMENT_REGEX)
		return 0;
	/* fewer nodes than a batch needs values: no second walk for it */
	if (d->nodes < BATCH_MIN_VALUES)
		return 0;
	if (!(b = gs_calloc(1, sizeof(*b))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	b->doc = d;
	b->key = key;
	memset(&selector, 0, sizeof(selector));
	if ((ret = sops_selector_init(&selector, sel)) == 0)
		ret = sops_walk(d, &selector, collect_leaf, b);
	sops_selector_release(&selector);
	if (ret == 0 && b->count >= BATCH_MIN_VALUES)
		ret = batch_run(b);
	if (ret < 0 || b->count < BATCH_MIN_VALUES) {
		sops_batch_free(b);
		return ret;
	}
	*out = b;
	return 0;
}

int sops_batch_take(struct sops_batch *b, const struct doc_node *n, size_t *plain_len,
		    enum sops_value_type *type)
{
	const struct batch_item *it;
	const struct batch_share *s;

	/* the walk visits the values in the order they were collected; any
	 * other order is refused rather than decrypting a value twice */
	if (b->next >= b->count || b->items[b->next].node != n)
		return GS_FAIL(GS_ERR_GENERIC, "internal error: the values were not visited in order");
	it = &b->items[b->next++];
	switch (it->state) {
	case ITEM_DONE:
		*plain_len = it->plain_len;
		*type = it->type;
		return 0;
	case ITEM_NOT_IN_PLACE:
		return 1;
	case ITEM_FAILED:
		s = &b->share[it->by];
		return GS_FAIL(s->code, "%s", s->message);
	default:
		/* after the first failure: never reached, the walk stops at
		 * that failure */
		return GS_FAIL(GS_ERR_GENERIC, "internal error: a value was not decrypted");
	}
}

int sops_batch_finish(const struct sops_batch *b)
{
	if (b->next != b->count)
		return GS_FAIL(GS_ERR_GENERIC, "internal error: %zu values decrypted but not visited",
			       b->count - b->next);
	return 0;
}

void sops_batch_free(struct sops_batch *b)
{
	if (!b)
		return;
	free(b->items);
	free(b->aads);
	free(b);
}
