/* git's long-running filter protocol, version 2, server side
 * (gitprotocol-long-running-process(5); gitattributes(5), "Long Running
 * Filter Process"). One process serves every file of a git command. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "git_int.h"

struct filter_request {
	enum filter_command cmd;
	bool known_cmd;
	char *path;
	struct gs_buf content; /* secure: plaintext on clean */
	bool too_large;
};

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
	return 0;
}

static int handshake(struct pkt_reader *r, struct pkt_writer *w)
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
	if ((ret = pkt_write_flush(w)))
		return ret;
	return pkt_writer_push(w);
}

static int note_request_key(void *ctx, const char *text)
{
	struct filter_request *req = ctx;

	if (!strncmp(text, "pathname=", 9)) {
		free(req->path);
		req->path = strdup(text + 9);
		if (!req->path)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	/* Other keys (ref, treeish, blob, can-delay) do not change how a
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
			ret = gs_buf_reserve_upto(&req->content, r->len, FILTER_MAX_CONTENT + 1);
			if (!ret)
				ret = gs_buf_append(&req->content, r->data, r->len);
			if (ret)
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

	if (!ret)
		ret = pkt_write_flush(w);
	return ret;
}

static int answer(struct pkt_writer *w, const struct filter_handler *h, struct filter_request *req)
{
	struct gs_buf out;
	int ret, err;

	gs_buf_init(&out, true);
	if (!req->known_cmd)
		err = GS_FAIL(GS_ERR_USAGE, "filter protocol: unsupported command");
	else if (!req->path)
		err = GS_FAIL(GS_ERR_PARSE, "filter protocol: request without a pathname");
	else if (req->too_large)
		err = GS_FAIL(GS_ERR_LIMIT, "'%s' is larger than %d bytes", req->path, FILTER_MAX_CONTENT);
	else
		err = h->run(h->ctx, req->cmd, req->path, req->content.data, req->content.len, &out);
	if (err) {
		if (h->failed)
			h->failed(h->ctx, req->cmd, req->path ? req->path : "", err);
		ret = answer_error(w);
		goto out;
	}
	/* status, content, flush, then an empty list: the status stands. */
	if ((ret = pkt_write_text(w, "status=success")) || (ret = pkt_write_flush(w)) ||
	    (ret = pkt_write_stream(w, out.data, out.len)) || (ret = pkt_write_flush(w)))
		goto out;
	ret = pkt_write_flush(w);
out:
	if (!ret)
		ret = pkt_writer_push(w);
	gs_buf_release(&out);
	return ret;
}

/* One request. *done is set when git closed the pipe before it. */
static int serve_one(struct pkt_reader *r, struct pkt_writer *w, const struct filter_handler *h,
		     bool *done)
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
	ret = answer(w, h, &req);
out:
	free(req.path);
	gs_buf_release(&req.content);
	return ret;
}

int filter_process_serve(struct gs_reader *in, struct pkt_writer *out, const struct filter_handler *h)
{
	/* content packets (plaintext on clean) pass through it */
	struct pkt_reader *r = gs_secure_alloc(sizeof(*r));
	bool done = false;
	int ret;

	if (!r)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	pkt_reader_init(r, in);
	ret = handshake(r, out);
	while (!ret && !done)
		ret = serve_one(r, out, h, &done);
	gs_secure_free(r);
	return ret;
}
