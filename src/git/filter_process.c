/* git's long-running filter protocol, version 2, server side
 * (gitprotocol-long-running-process(5); gitattributes(5), "Long Running
 * Filter Process"). One process serves every file of a git command.
 *
 * Delay: in a checkout or a clone git lets a smudge wait ("can-delay=1").
 * Such a file is answered "status=delayed" at once and smudged by a
 * worker thread while git goes on; when git has sent every file it asks
 * which are ready ("list_available_blobs", answered when at least one
 * is) and fetches each with an empty request. The X25519 work of opening
 * the files then runs beside git's own work instead of between its
 * requests.
 *
 * The fetch is a second request for the file: when a smudge is cheap, the
 * handler may have it answered at once instead (smudge_at_once, told
 * whether git named a tree-ish; filter.c says when). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/gitfilter.h"
#include "gitseal/shown.h"
#include "git_int.h"

struct filter_request {
	enum filter_command cmd;
	bool known_cmd;
	char *path;
	struct gs_buf content; /* secure: plaintext on clean */
	bool too_large;
	bool can_delay;
	bool from_tree; /* git named a tree-ish ("treeish=") */
};

/* ---- delayed smudges ---- */

enum job_state { JOB_PENDING, JOB_RUNNING, JOB_DONE, JOB_DELIVERED };

struct job {
	char *path;
	struct gs_buf content;
	struct gs_buf out;      /* secure: plaintext */
	int err;
	char message[512];      /* the error message, from the worker's thread */
	enum job_state state;
	bool listed;
};

struct delay {
	const struct filter_handler *h;
	bool enabled;           /* git offered "delay" and the handler has workers */
	pthread_mutex_t lock;
	pthread_cond_t work;    /* a job to run, or stop */
	pthread_cond_t done;    /* a job finished */
	struct job **jobs;      /* in git's order */
	size_t count, cap;
	size_t next_pending;    /* the first job not yet given to a worker */
	size_t first_unlisted;  /* every job before it was listed */
	size_t ready;           /* jobs done and not yet listed */
	size_t first_undelivered; /* every job before it was delivered */
	size_t held, bytes;     /* not yet delivered */
	bool stop;
	pthread_t threads[FILTER_SMUDGE_WORKERS];
	unsigned nthreads;
};

static void job_free(struct job *j)
{
	if (!j)
		return;
	free(j->path);
	gs_buf_release(&j->content);
	gs_buf_release(&j->out);
	free(j);
}

static void *delay_worker(void *arg)
{
	struct delay *d = arg;

	pthread_mutex_lock(&d->lock);
	for (;;) {
		struct job *j;

		while (!d->stop && d->next_pending == d->count)
			pthread_cond_wait(&d->work, &d->lock);
		if (d->stop)
			break;
		j = d->jobs[d->next_pending++];
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&d->lock);
		j->err = d->h->run(d->h->ctx, FILTER_SMUDGE, j->path, j->content.data, j->content.len, &j->out);
		if (j->err)
			snprintf(j->message, sizeof(j->message), "%s", gs_error_message());
		gs_error_clear();
		pthread_mutex_lock(&d->lock);
		d->bytes += j->out.len;
		d->bytes -= j->content.len < d->bytes ? j->content.len : d->bytes;
		gs_buf_release(&j->content);
		j->state = JOB_DONE;
		d->ready++;
		pthread_cond_broadcast(&d->done);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

static void delay_init(struct delay *d, const struct filter_handler *h)
{
	memset(d, 0, sizeof(*d));
	d->h = h;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->work, NULL);
	pthread_cond_init(&d->done, NULL);
}

static void delay_release(struct delay *d)
{
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_broadcast(&d->work);
	pthread_mutex_unlock(&d->lock);
	for (unsigned i = 0; i < d->nthreads; i++)
		pthread_join(d->threads[i], NULL);
	for (size_t i = 0; i < d->count; i++)
		job_free(d->jobs[i]);
	free(d->jobs);
	pthread_cond_destroy(&d->work);
	pthread_cond_destroy(&d->done);
	pthread_mutex_destroy(&d->lock);
}

/* Takes the request's file as a delayed job; false when it must be
 * answered now (no room, or no thread could start). */
static bool delay_take(struct delay *d, struct filter_request *req)
{
	struct job *j;
	bool taken = false;

	if (!d->enabled || !req->can_delay || req->cmd != FILTER_SMUDGE || !req->path)
		return false;
	/* at once: one request for the file, not two */
	if (d->h->smudge_at_once && d->h->smudge_at_once(d->h->ctx, req->from_tree))
		return false;
	pthread_mutex_lock(&d->lock);
	if (d->held >= FILTER_DELAY_MAX_JOBS || d->bytes + req->content.len > FILTER_DELAY_MAX_BYTES)
		goto out;
	while (d->nthreads < d->h->workers && d->nthreads < FILTER_SMUDGE_WORKERS &&
	       pthread_create(&d->threads[d->nthreads], NULL, delay_worker, d) == 0)
		d->nthreads++;
	if (!d->nthreads)
		goto out;
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		struct job **grown = gs_realloc(d->jobs, cap * sizeof(*grown));

		if (!grown)
			goto out;
		d->jobs = grown;
		d->cap = cap;
	}
	if (!(j = gs_calloc(1, sizeof(*j))))
		goto out;
	j->path = req->path;
	j->content = req->content;
	gs_buf_init(&j->out, true);
	req->path = NULL;
	gs_buf_init(&req->content, false);
	d->jobs[d->count++] = j;
	d->held++;
	d->bytes += j->content.len;
	/* Waking a worker for each small file cost more than smudging it:
	 * git writes the next request about as fast as a worker opens a
	 * file, so the worker slept and was woken (a futex call and two
	 * context switches, each dear on a virtual machine) for every file.
	 * Git wants none of them before it asks which are ready. */
	if (d->count - d->next_pending >= FILTER_DELAY_WAKE_JOBS || j->content.len >= FILTER_DELAY_WAKE_BYTES)
		pthread_cond_signal(&d->work);
	taken = true;
out:
	pthread_mutex_unlock(&d->lock);
	return taken;
}

/* Waits for at least one delayed file to be ready (none when every one
 * was listed), then lists the ready ones. */
static int delay_list(struct delay *d, struct pkt_writer *w)
{
	struct gs_buf line;
	int ret = 0;

	gs_buf_init(&line, false);
	pthread_mutex_lock(&d->lock);
	while (d->first_unlisted < d->count && d->jobs[d->first_unlisted]->listed)
		d->first_unlisted++;
	/* the files still waiting for a worker (delay_take wakes one per few) */
	if (d->next_pending < d->count)
		pthread_cond_broadcast(&d->work);
	/* an empty list once every file was listed */
	while (!d->ready && d->first_unlisted < d->count)
		pthread_cond_wait(&d->done, &d->lock);
	/* jobs finish about in order: the ready ones are near the first unlisted */
	for (size_t i = d->first_unlisted; i < d->count && d->ready && !ret; i++) {
		struct job *j = d->jobs[i];

		if (j->state != JOB_DONE || j->listed)
			continue;
		j->listed = true;
		d->ready--;
		gs_buf_reset(&line);
		/* appended, not printed: vsnprintf was an eighth of this thread's
		 * work per file, on git's path */
		if ((ret = gs_buf_append_str(&line, "pathname=")) || (ret = gs_buf_append_str(&line, j->path)))
			break;
		ret = pkt_write_text(w, (const char *)line.data);
	}
	pthread_mutex_unlock(&d->lock);
	gs_buf_release(&line);
	if ((ret = ret ? ret : pkt_write_flush(w)) || (ret = pkt_write_text(w, "status=success")) ||
	    (ret = pkt_write_flush(w)))
		return ret;
	return pkt_writer_push(w);
}

/* The finished job for a path git fetches again (an empty request), or NULL. */
static struct job *delay_fetch(struct delay *d, const char *path)
{
	struct job *found = NULL;

	if (!d->count)
		return NULL;
	pthread_mutex_lock(&d->lock);
	/* git fetches in the order they were listed */
	while (d->first_undelivered < d->count && d->jobs[d->first_undelivered]->state == JOB_DELIVERED)
		d->first_undelivered++;
	for (size_t i = d->first_undelivered; i < d->count && !found; i++)
		if (d->jobs[i]->state == JOB_DONE && d->jobs[i]->listed && !strcmp(d->jobs[i]->path, path))
			found = d->jobs[i];
	if (found) {
		found->state = JOB_DELIVERED;
		d->held--;
		d->bytes -= found->out.len < d->bytes ? found->out.len : d->bytes;
	}
	pthread_mutex_unlock(&d->lock);
	return found;
}

/* Reads text packets up to a flush, calling fn for each one. */
static int read_list(struct pkt_reader *r, int (*fn)(void *ctx, const char *text), void *ctx)
{
	bool flush;
	int ret;

	for (;;) {
		ret = pkt_read_text(r, true, &flush);
		if (ret || flush)
			return ret;
		if (fn) {
			ret = fn(ctx, (const char *)r->data);
			if (ret)
				return ret;
		}
	}
}

struct handshake {
	bool version2;
	bool clean;
	bool smudge;
	bool delay;
};

static int note_version(void *ctx, const char *text)
{
	struct handshake *hs = ctx;

	if (!strcmp(text, "version=2"))
		hs->version2 = true;
	return 0;
}

static int note_capability(void *ctx, const char *text)
{
	struct handshake *hs = ctx;

	if (!strcmp(text, "capability=clean"))
		hs->clean = true;
	else if (!strcmp(text, "capability=smudge"))
		hs->smudge = true;
	else if (!strcmp(text, "capability=delay"))
		hs->delay = true;
	return 0;
}

static int handshake(struct pkt_reader *r, struct pkt_writer *w, struct delay *d)
{
	struct handshake hs = { 0 };
	int ret;

	ret = pkt_read_text(r, false, NULL);
	if (ret)
		return ret;
	if (strcmp((const char *)r->data, "git-filter-client"))
		return GS_FAIL(GS_ERR_PARSE, "filter protocol: expected 'git-filter-client'");
	ret = read_list(r, note_version, &hs);
	if (ret)
		return ret;
	if (!hs.version2)
		return GS_FAIL(GS_ERR_PARSE, "filter protocol: git does not offer version 2");
	if ((ret = pkt_write_text(w, "git-filter-server")) || (ret = pkt_write_text(w, "version=2")) ||
	    (ret = pkt_write_flush(w)) || (ret = pkt_writer_push(w)))
		return ret;
	ret = read_list(r, note_capability, &hs);
	if (ret)
		return ret;
	if (hs.clean && (ret = pkt_write_text(w, "capability=clean")))
		return ret;
	if (hs.smudge && (ret = pkt_write_text(w, "capability=smudge")))
		return ret;
	d->enabled = hs.delay && hs.smudge && d->h->workers;
	if (d->enabled && (ret = pkt_write_text(w, "capability=delay")))
		return ret;
	if ((ret = pkt_write_flush(w)))
		return ret;
	return pkt_writer_push(w);
}

static int note_request_key(void *ctx, const char *text)
{
	struct filter_request *req = ctx;

	if (!strncmp(text, "pathname=", 9)) {
		free(req->path);
		req->path = gs_strdup(text + 9);
		if (!req->path)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	} else if (!strcmp(text, "can-delay=1")) {
		req->can_delay = true;
	} else if (!strncmp(text, "treeish=", 8)) {
		req->from_tree = true;
	}
	/* Other keys (ref, blob) and the tree-ish itself do not change how a
	 * sops file is cleaned or smudged. */
	return 0;
}

static int read_content(struct pkt_reader *r, struct filter_request *req)
{
	enum pkt_kind kind;
	int ret;

	for (;;) {
		ret = pkt_read(r, &kind);
		if (ret)
			break;
		if (kind == PKT_EOF) {
			ret = GS_FAIL(GS_ERR_PARSE, "filter protocol: input ends inside a file's content");
			break;
		}
		if (kind == PKT_FLUSH)
			break;
		if (req->too_large || req->content.len + r->len > FILTER_MAX_CONTENT) {
			/* Stay in step with git: read to the flush, then answer error. */
			req->too_large = true;
		} else {
			if ((ret = gs_buf_reserve_upto(&req->content, r->len, FILTER_MAX_CONTENT + 1)) ||
			    (ret = gs_buf_append(&req->content, r->data, r->len)))
				break;
		}
		sodium_memzero(r->data, r->len);
	}
	sodium_memzero(r->data, r->len);
	return ret;
}

static int answer_error(struct pkt_writer *w)
{
	int ret = pkt_write_text(w, "status=error");

	if (ret)
		return ret;
	return pkt_write_flush(w);
}

/* A file's answer: status, content, flush, then an empty list (the
 * status stands); status=error when err is set. */
static int answer_result(struct pkt_writer *w, const struct filter_handler *h, enum filter_command cmd,
			 const char *path, int err, const struct gs_buf *out)
{
	int ret;

	if (err) {
		if (h->failed)
			h->failed(h->ctx, cmd, path ? path : "", err);
		ret = answer_error(w);
	} else if (!(ret = pkt_write_text(w, "status=success")) && !(ret = pkt_write_flush(w)) &&
		   !(ret = pkt_write_stream(w, out->data, out->len)) && !(ret = pkt_write_flush(w))) {
		ret = pkt_write_flush(w);
	}
	return ret ? ret : pkt_writer_push(w);
}

static int answer(struct pkt_writer *w, const struct filter_handler *h, struct delay *d,
		  struct filter_request *req)
{
	struct job *j = NULL;
	struct gs_buf out;
	int ret, err;

	gs_buf_init(&out, true);
	if (!req->known_cmd) {
		err = GS_FAIL(GS_ERR_USAGE, "filter protocol: unsupported command");
	} else if (!req->path) {
		err = GS_FAIL(GS_ERR_PARSE, "filter protocol: request without a pathname");
	} else if (req->too_large) {
		err = GS_FAIL(GS_ERR_LIMIT, "'%s' is larger than %d bytes", gs_shown(req->path), FILTER_MAX_CONTENT);
	} else if (req->cmd == FILTER_SMUDGE && !req->content.len && (j = delay_fetch(d, req->path))) {
		/* a delayed file, fetched */
		err = j->err ? GS_FAIL(j->err, "%s", j->message) : 0;
		ret = answer_result(w, h, req->cmd, req->path, err, &j->out);
		gs_buf_release(&j->out);
		goto out;
	} else if (req->cmd == FILTER_SMUDGE && h->smudge_check &&
		   (err = h->smudge_check(h->ctx, req->path, req->content.data, req->content.len))) {
		/* answered below, as a failed run */
	} else if (delay_take(d, req)) {
		if (!(ret = pkt_write_text(w, "status=delayed")) && !(ret = pkt_write_flush(w)))
			ret = pkt_writer_push(w);
		goto out;
	} else {
		err = h->run(h->ctx, req->cmd, req->path, req->content.data, req->content.len, &out);
	}
	ret = answer_result(w, h, req->cmd, req->path, err, &out);
out:
	gs_buf_release(&out);
	return ret;
}

/* One request. *done is set when git closed the pipe before it. */
static int serve_one(struct pkt_reader *r, struct pkt_writer *w, const struct filter_handler *h,
		     struct delay *d, bool *done)
{
	struct filter_request req = { 0 };
	enum pkt_kind kind;
	const char *cmd;
	int ret;

	gs_buf_init(&req.content, true);
	ret = pkt_read(r, &kind);
	if (ret)
		goto out;
	if (kind == PKT_EOF) {
		*done = true;
		goto out;
	}
	if (kind != PKT_DATA) {
		ret = GS_FAIL(GS_ERR_PARSE, "filter protocol: expected a command");
		goto out;
	}
	if (r->len && r->data[r->len - 1] == '\n')
		r->data[--r->len] = '\0';
	cmd = (const char *)r->data;
	if (strncmp(cmd, "command=", 8) || memchr(cmd, '\0', r->len)) {
		ret = GS_FAIL(GS_ERR_PARSE, "filter protocol: expected a command");
		goto out;
	}
	req.known_cmd = true;
	/* the rest of the request follows at once: poll for it (pktline.c) */
	if (h->pipe)
		h->pipe->within = true;
	if (!strcmp(cmd + 8, "list_available_blobs") && d->enabled) {
		/* no keys, no content */
		if ((ret = read_list(r, NULL, NULL)))
			goto out;
		if (h->pipe)
			h->pipe->within = false;
		ret = delay_list(d, w);
		goto out;
	}
	if (!strcmp(cmd + 8, "clean"))
		req.cmd = FILTER_CLEAN;
	else if (!strcmp(cmd + 8, "smudge"))
		req.cmd = FILTER_SMUDGE;
	else
		req.known_cmd = false;
	ret = read_list(r, note_request_key, &req);
	if (ret)
		goto out;
	ret = read_content(r, &req);
	if (ret)
		goto out;
	if (h->pipe)
		h->pipe->within = false;
	ret = answer(w, h, d, &req);
out:
	if (h->pipe)
		h->pipe->within = false;
	free(req.path);
	gs_buf_release(&req.content);
	return ret;
}

int filter_process_serve(struct gs_reader *in, struct pkt_writer *out, const struct filter_handler *h)
{
	/* content packets (plaintext on clean) pass through it */
	struct pkt_reader *r = gs_secure_alloc(sizeof(*r));
	struct delay d;
	bool done = false;
	int ret;

	if (!r)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	delay_init(&d, h);
	pkt_reader_init(r, in);
	ret = handshake(r, out, &d);
	while (!ret && !done)
		ret = serve_one(r, out, h, &d, &done);
	delay_release(&d);
	gs_secure_free(r);
	return ret;
}
