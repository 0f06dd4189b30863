/* Which files of the index hold a data key (gitfilter_check_copied_key):
 * a file whose key this clone did not make is checked against every other
 * file holding that key (a ciphertext copied). Asked once per file cleaned,
 * opening every file of the index each time made a `git add` of N edited
 * files in a teammate's clone open N x N files. Here each filtered file of
 * the index is opened once, at the first file that asks, and kept as a map
 * of key id -> files for as long as the index is the one read: git writes
 * a new index (a new file) between commands, and between the picks of a
 * rebase while one filter process serves them all, so the map is made again
 * whenever gitrepo_index_now reads the index file again. The holders found
 * are checked as before, each opened again: the map only says which.
 * Main thread only (the copy check runs for a file git holds a version of,
 * never on the read-ahead workers). */
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/store.h"
#include "gitfilter_int.h"

struct holder {
	uint8_t id[GITSEAL_KEY_ID_SIZE];
	size_t pos; /* in paths */
};

struct githolders {
	unsigned long index_reads; /* f->index_reads when made */
	char **paths;              /* the filtered files of the index, in its order */
	size_t path_count;
	git_oid *blobs;            /* their versions there */
	size_t blob_cap;
	struct holder *held;       /* the files that open here, by id, then position */
	size_t held_count, held_cap;
};

void githolders_free(struct githolders *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->path_count; i++)
		free(h->paths[i]);
	free(h->paths);
	free(h->blobs);
	free(h->held);
	free(h);
}

static int by_id_then_pos(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;
	int c = memcmp(x->id, y->id, sizeof(x->id));

	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* The data key id of the blob, a sops file of format that opens here (as
 * check_holder opens a holder's committed version); false otherwise. */
static bool blob_key_id(struct gitfilter *f, const git_oid *blob, enum doc_format format,
			uint8_t id[GITSEAL_KEY_ID_SIZE])
{
	struct sops_file *sf = NULL;
	struct gs_buf text;
	struct doc cipher;
	bool yes = false;

	gs_buf_init(&text, false);
	doc_init(&cipher, format);
	if (!gitrepo_read_blob(f, blob, &text) && gitseal_load_sealed(format, text.data, text.len, &cipher) == 1 &&
	    !gitseal_open(f, &cipher, &sf))
		yes = sops_file_key_id(sf, id);
	gs_error_clear();
	sops_file_free(sf);
	doc_release(&cipher);
	gs_buf_release(&text);
	return yes;
}

/* The filtered files of f->index (stage 0, regular: git runs no filter on
 * a link or a submodule) and their blobs. */
static int list_files(struct gitfilter *f, struct githolders *h)
{
	int ret = 0;

	for (size_t i = 0; i < git_index_entrycount(f->index) && !ret; i++) {
		const git_index_entry *e = git_index_get_byindex(f->index, i);

		if (git_index_entry_stage(e) != 0 || (e->mode & 0170000) != 0100000 || !gitrepo_filtered(f, e->path))
			continue;
		if (!(ret = GS_ARRAY_GROW(h->blobs, h->path_count, h->blob_cap, 64)) &&
		    !(ret = gs_strings_push(&h->paths, &h->path_count, e->path, strlen(e->path))))
			h->blobs[h->path_count - 1] = e->id;
	}
	return ret;
}

static int make(struct gitfilter *f, struct githolders **out)
{
	struct githolders *h = gs_calloc(1, sizeof(*h));
	int ret;

	if (!h)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	h->index_reads = f->index_reads;
	/* listed first: opening a file reads no index, but nothing here
	 * relies on that */
	ret = list_files(f, h);
	for (size_t k = 0; k < h->path_count && !ret; k++) {
		struct holder one = { .pos = k };

		if (!blob_key_id(f, &h->blobs[k], store_format_for_path(h->paths[k]), one.id))
			continue;
		if (!(ret = GS_ARRAY_GROW(h->held, h->held_count, h->held_cap, 64)))
			h->held[h->held_count++] = one;
	}
	if (ret) {
		githolders_free(h);
		return ret;
	}
	if (h->held_count)
		qsort(h->held, h->held_count, sizeof(*h->held), by_id_then_pos);
	*out = h;
	return 0;
}

int githolders_find(struct gitfilter *f, const uint8_t id[GITSEAL_KEY_ID_SIZE], const char ***paths,
		    size_t *count)
{
	struct githolders *h;
	size_t lo = 0, hi, n = 0;
	int ret;

	*paths = NULL;
	*count = 0;
	if (!f->repo)
		return 0;
	if ((ret = gitrepo_index_now(f)))
		return ret;
	if (f->holders && f->holders->index_reads != f->index_reads) {
		githolders_free(f->holders);
		f->holders = NULL;
	}
	if (!f->holders && (ret = make(f, &f->holders)))
		return ret;
	h = f->holders;
	/* the first of id's run */
	hi = h->held_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(h->held[mid].id, id, GITSEAL_KEY_ID_SIZE) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo + n < h->held_count && !memcmp(h->held[lo + n].id, id, GITSEAL_KEY_ID_SIZE))
		n++;
	if (!n)
		return 0;
	if (!(*paths = gs_calloc(n, sizeof(**paths))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		(*paths)[i] = h->paths[h->held[lo + i].pos];
	*count = n;
	return 0;
}
