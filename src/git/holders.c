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
 *
 * git runs the merge driver once per file, a process each: a merge of M
 * files opened the index's N files M times. So what opened is kept across
 * processes in .git/gitseal/holder-keys: a blob that opened here (its MAC
 * checked) with a data key, by blob id, which never changes (a sops file
 * opens with its own data key only: its values and MAC are sealed under
 * it). A blob that did not open is not kept (with other identities, or gpg
 * at hand, it may): it is opened again. Fixed-size records, each with a
 * digest of itself, appended whole; a record whose digest does not match
 * is not used, and a file of another size than whole records, or past
 * HOLDER_KEYS_MAX records, starts again empty. .git is this clone's own:
 * a pull request cannot write there. Main thread only (the copy check runs
 * for a file git holds a version of, never on the read-ahead workers). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/array.h"
#include "gitseal/error.h"
#include "gitseal/store.h"
#include "gitfilter_int.h"

enum {
	HOLDER_OID_SIZE = GIT_OID_RAWSZ,
	HOLDER_CHECK_SIZE = 8,
	HOLDER_RECORD_SIZE = GITHOLDERS_RECORD_SIZE,
	HOLDER_KEYS_MAX = GITHOLDERS_MAX,
};
_Static_assert(HOLDER_OID_SIZE + GITSEAL_KEY_ID_SIZE + HOLDER_CHECK_SIZE == GITHOLDERS_RECORD_SIZE,
	       "a holder-keys record: blob id, key id, digest");

/* A record of holder-keys: a blob and the id of the data key it opened with. */
struct known {
	uint8_t oid[HOLDER_OID_SIZE];
	uint8_t id[GITSEAL_KEY_ID_SIZE];
};

/* whether a path has the filter attribute: asked only of holders (libgit2's
 * attribute lookup, about 30 K instructions a path, was half of a merge
 * driver's work when asked of every file of the index) */
enum filtered { FILTERED_UNKNOWN, FILTERED_YES, FILTERED_NO };

struct holder {
	uint8_t id[GITSEAL_KEY_ID_SIZE];
	size_t pos; /* in paths */
	enum filtered filtered;
};

struct githolders {
	unsigned long index_reads; /* f->index_reads when made */
	char **paths;              /* the regular files of the index, in its order */
	size_t path_count;
	git_oid *blobs;            /* their versions there */
	size_t blob_cap;
	struct holder *held;       /* those that open here (or did), by id, then position */
	size_t held_count, held_cap;
	struct known *known;       /* holder-keys as read, by blob */
	size_t known_count;
	uint8_t *fresh;            /* records to append */
	size_t fresh_len, fresh_cap;
	bool restart;              /* holder-keys unusable: written again from empty */
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
	free(h->known);
	free(h->fresh);
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

static void record_check(const uint8_t *record, uint8_t check[HOLDER_CHECK_SIZE])
{
	static const char domain[] = "gitseal: a holder-keys record";

	crypto_generichash(check, HOLDER_CHECK_SIZE, record, HOLDER_OID_SIZE + GITSEAL_KEY_ID_SIZE,
			   (const uint8_t *)domain, sizeof(domain) - 1);
}

static int by_oid(const void *a, const void *b)
{
	return memcmp(((const struct known *)a)->oid, ((const struct known *)b)->oid, HOLDER_OID_SIZE);
}

static bool holder_keys_path(struct gitfilter *f, char *path, size_t size)
{
	return f->statedir && (size_t)snprintf(path, size, "%sholder-keys", f->statedir) < size;
}

/* The records of data (len bytes) whose digest matches into h->known, by
 * blob; h->restart when data is not whole records or too many. */
static int known_parse(struct githolders *h, const uint8_t *data, size_t len)
{
	size_t n = len / HOLDER_RECORD_SIZE;

	if (len % HOLDER_RECORD_SIZE || n > HOLDER_KEYS_MAX) {
		h->restart = true;
		return 0;
	}
	if (n && !(h->known = gs_calloc(n, sizeof(*h->known))))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = data + i * HOLDER_RECORD_SIZE;
		uint8_t check[HOLDER_CHECK_SIZE];

		record_check(r, check);
		if (sodium_memcmp(check, r + HOLDER_OID_SIZE + GITSEAL_KEY_ID_SIZE, sizeof(check)))
			continue;
		memcpy(h->known[h->known_count].oid, r, HOLDER_OID_SIZE);
		memcpy(h->known[h->known_count].id, r + HOLDER_OID_SIZE, GITSEAL_KEY_ID_SIZE);
		h->known_count++;
	}
	if (h->known_count)
		qsort(h->known, h->known_count, sizeof(*h->known), by_oid);
	return 0;
}

/* holder-keys into h->known; nothing when there is none or it cannot be
 * read (it only saves opening files again). */
static int known_read(struct gitfilter *f, struct githolders *h)
{
	char path[PATH_MAX];
	struct gs_buf data;
	struct stat st;
	int fd, ret = 0;

	/* not followed, nor waited on (a fifo) */
	if (!holder_keys_path(f, path, sizeof(path)) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0)
		return 0;
	gs_buf_init(&data, false);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > (size_t)HOLDER_KEYS_MAX * HOLDER_RECORD_SIZE) {
		h->restart = true;
	} else if (st.st_size > 0) {
		if ((ret = gs_buf_reserve(&data, (size_t)st.st_size)))
			goto out;
		while (data.len < (size_t)st.st_size) {
			ssize_t got = read(fd, data.data + data.len, (size_t)st.st_size - data.len);

			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				break;
			data.len += (size_t)got;
		}
		ret = known_parse(h, data.data, data.len);
	}
out:
	close(fd);
	gs_buf_release(&data);
	return ret;
}

long githolders_parse(const uint8_t *data, size_t len)
{
	struct githolders h = { 0 };
	long n;

	if (known_parse(&h, data, len))
		gs_error_clear();
	n = h.restart ? -1 : (long)h.known_count;
	free(h.known);
	return n;
}

static bool known_id(const struct githolders *h, const git_oid *blob, uint8_t id[GITSEAL_KEY_ID_SIZE])
{
	struct known what;
	const struct known *k;

	if (!h->known_count)
		return false;
	memcpy(what.oid, blob->id, HOLDER_OID_SIZE);
	k = bsearch(&what, h->known, h->known_count, sizeof(*h->known), by_oid);
	if (k)
		memcpy(id, k->id, GITSEAL_KEY_ID_SIZE);
	return k != NULL;
}

/* A record for a blob that opened now, to append. */
static int known_add(struct githolders *h, const git_oid *blob, const uint8_t id[GITSEAL_KEY_ID_SIZE])
{
	uint8_t *r;
	int ret;

	if ((ret = gs_array_grow(&h->fresh, &h->fresh_cap, h->fresh_len + HOLDER_RECORD_SIZE, 1, 4096)))
		return ret;
	r = h->fresh + h->fresh_len;
	memcpy(r, blob->id, HOLDER_OID_SIZE);
	memcpy(r + HOLDER_OID_SIZE, id, GITSEAL_KEY_ID_SIZE);
	record_check(r, r + HOLDER_OID_SIZE + GITSEAL_KEY_ID_SIZE);
	h->fresh_len += HOLDER_RECORD_SIZE;
	return 0;
}

/* The new records appended by one write (filters running at once never
 * mix theirs); the file emptied first when it was unusable or would grow
 * past HOLDER_KEYS_MAX records. Nothing said when it cannot be written. */
static void known_write(struct gitfilter *f, struct githolders *h)
{
	char path[PATH_MAX];
	int fd;

	if (!h->fresh_len || !holder_keys_path(f, path, sizeof(path)))
		return;
	if ((h->known_count + h->fresh_len / HOLDER_RECORD_SIZE) > HOLDER_KEYS_MAX)
		h->restart = true;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (h->restart ? O_TRUNC : 0),
		  0600);
	if (fd < 0)
		return;
	/* a short write leaves a torn record: emptied (failing that, the next
	 * reader finds no whole records and starts again) */
	if (write(fd, h->fresh, h->fresh_len) != (ssize_t)h->fresh_len && ftruncate(fd, 0) != 0)
		h->restart = true;
	close(fd);
}

/* The regular files of f->index (stage 0: git runs no filter on a link or
 * a submodule) and their blobs. */
static int list_files(struct gitfilter *f, struct githolders *h)
{
	int ret = 0;

	for (size_t i = 0; i < git_index_entrycount(f->index) && !ret; i++) {
		const git_index_entry *e = git_index_get_byindex(f->index, i);

		if (git_index_entry_stage(e) != 0 || (e->mode & 0170000) != 0100000)
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
	if (!(ret = list_files(f, h)))
		ret = known_read(f, h);
	for (size_t k = 0; k < h->path_count && !ret; k++) {
		struct holder one = { .pos = k };

		if (known_id(h, &h->blobs[k], one.id)) {
			/* opened before: whether it is filtered is asked if it
			 * is ever a holder */
		} else if (gitrepo_filtered(f, h->paths[k]) &&
			   blob_key_id(f, &h->blobs[k], store_format_for_path(h->paths[k]), one.id)) {
			one.filtered = FILTERED_YES;
			if ((ret = known_add(h, &h->blobs[k], one.id)))
				break;
		} else {
			continue;
		}
		if (!(ret = GS_ARRAY_GROW(h->held, h->held_count, h->held_cap, 64)))
			h->held[h->held_count++] = one;
	}
	if (!ret)
		known_write(f, h);
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
	for (size_t i = 0; i < n; i++) {
		struct holder *one = &h->held[lo + i];

		if (one->filtered == FILTERED_UNKNOWN)
			one->filtered = gitrepo_filtered(f, h->paths[one->pos]) ? FILTERED_YES : FILTERED_NO;
		if (one->filtered == FILTERED_YES)
			(*paths)[(*count)++] = h->paths[one->pos];
	}
	return 0;
}
