/* New files cleaned before git asks for them (gitfilter_int.h).
 *
 * `git add` hands a clean filter one file at a time and waits for each
 * answer, so sealing (the sops tree, the data key's age header, the
 * proof) runs while git waits, and git's own work while the filter
 * waits. Once two new files of one directory came in the order of their
 * names (git sends a directory's new files sorted: dir.c sorts its walk,
 * the index is sorted), the files that follow them are read from the
 * work tree and sealed on worker threads, a few ahead. A result goes to
 * git only for the path git names, made from exactly the bytes git sends,
 * for a file git still holds no version of (the same question, asked
 * again on the main thread); otherwise the file is cleaned as it comes.
 * What was sealed ahead and never asked for is dropped (its data key was
 * remembered as made here, and is never used). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "git_int.h"
#include "gitfilter_int.h"

enum {
	READAHEAD_WORKERS = 2,
	READAHEAD_DEPTH = 12,          /* files sealed ahead of git's request */
	READAHEAD_BATCH = 4,           /* queued at once, for one wake of the workers */
	READAHEAD_MAX_FILE = 1 << 20,  /* larger files are cleaned as they come */
	READAHEAD_MAX_NAMES = 1 << 20, /* a directory's names listed at most */
	/* names asked of git at once (addset.c: a pipe's worth). Each ask
	 * starts two git processes, about 5 ms of CPU each here; libgit2
	 * costs about 57 us a name: with fewer names left, libgit2 is asked */
	READAHEAD_ASK_MIN = 256,
	READAHEAD_ASK_MAX = 4096,
};

/* What git said of a listed name (addset.c). */
enum ahead_sends { SENDS_UNKNOWN, SENDS_YES, SENDS_NO };

enum ahead_state { AHEAD_PENDING, AHEAD_RUNNING, AHEAD_DONE };

struct ahead_job {
	char *path;
	struct gs_buf in; /* secure: the plaintext read from the work tree */
	struct gs_buf out;
	int err;
	enum ahead_state state;
};

struct readahead {
	struct gitfilter *f;
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job to run, or stop */
	pthread_cond_t done; /* a job finished */
	pthread_t threads[READAHEAD_WORKERS];
	unsigned nthreads;
	bool stop;
	struct ahead_job *jobs[READAHEAD_DEPTH]; /* NULL: a free slot */
	/* main thread only: the directory of the last new file ("" or
	 * "a/b/"), its regular files sorted, the next one not yet planned */
	char *dir;
	char **names;
	uint8_t *sends;  /* enum ahead_sends, per name */
	uint8_t *attr_ids; /* per name: its id in attrs, 0 when git was not asked */
	struct gitattrs_batch attrs; /* what git printed for the names' GITATTRS_NAMES */
	size_t count, next;
	bool ask_git;    /* false once git could not answer: libgit2 asked per file */
	char *last; /* the last new file cleaned */
	char *answered; /* the last new file, planned from once git has its answer */
};

static void job_free(struct ahead_job *j)
{
	if (!j)
		return;
	free(j->path);
	gs_buf_release(&j->in);
	gs_buf_release(&j->out);
	free(j);
}

/* The pending job git will ask for first (the least path). Called locked. */
static struct ahead_job *first_pending(struct readahead *ra)
{
	struct ahead_job *first = NULL;

	for (size_t i = 0; i < READAHEAD_DEPTH; i++) {
		struct ahead_job *j = ra->jobs[i];

		if (j && j->state == AHEAD_PENDING && (!first || strcmp(j->path, first->path) < 0))
			first = j;
	}
	return first;
}

/* The test build can make the file change after it was read ahead
 * (GITSEAL_TEST_READAHEAD=stale: a line is added to what was read), to
 * show that git gets the sealing of the bytes it sent. Release builds
 * compile this out. */
static void test_stale(struct gs_buf *in)
{
#ifdef GITSEAL_TEST_HOOKS
	const char *how = getenv("GITSEAL_TEST_READAHEAD");
	static const char line[] = "stale: read ahead\n";

	if (how && !strcmp(how, "stale") && gs_buf_append(in, line, sizeof(line) - 1))
		gs_error_clear();
#else
	(void)in;
#endif
}

/* A regular file of the work tree, never through a symbolic link (git
 * stores a link itself and never cleans what it points to); not empty
 * (git passes it untouched) nor larger than READAHEAD_MAX_FILE. */
static int read_regular(const char *full, struct gs_buf *in)
{
	int fd = open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	ssize_t n = 0;
	int ret = 0;

	if (fd < 0)
		return GS_ERR_IO;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > READAHEAD_MAX_FILE) {
		ret = GS_ERR_LIMIT;
		goto out;
	}
	if ((ret = gs_buf_reserve(in, (size_t)st.st_size + 1)))
		goto out;
	/* a byte more than fstat said, to see one that grew; no read for the
	 * end of the file: the result goes to git only for the bytes it sends */
	while (in->len < (size_t)st.st_size &&
	       (n = read(fd, in->data + in->len, (size_t)st.st_size + 1 - in->len)) > 0)
		in->len += (size_t)n;
	/* a file that grew or shrank meanwhile: git will send what it reads */
	if (n < 0 || in->len != (size_t)st.st_size) {
		ret = GS_ERR_IO;
		goto out;
	}
	in->data[in->len] = '\0';
out:
	close(fd);
	return ret;
}

static void run_job(struct gitfilter *f, struct ahead_job *j)
{
	static const struct gs_buf none = { 0 };
	char full[PATH_MAX];

	if ((size_t)snprintf(full, sizeof(full), "%s%s", f->workdir, j->path) >= sizeof(full))
		j->err = GS_ERR_LIMIT;
	else
		j->err = read_regular(full, &j->in);
	if (!j->err)
		test_stale(&j->in);
	if (!j->err)
		j->err = gitfilter_clean_given(f, j->path, j->in.data, j->in.len, &none, false, &j->out);
	/* a failure is found again, and reported, when git sends the file */
	gs_error_clear();
}

static void *worker(void *arg)
{
	struct readahead *ra = arg;

	pthread_mutex_lock(&ra->lock);
	for (;;) {
		struct ahead_job *j;

		while (!ra->stop && !(j = first_pending(ra)))
			pthread_cond_wait(&ra->work, &ra->lock);
		if (ra->stop)
			break;
		j->state = AHEAD_RUNNING;
		pthread_mutex_unlock(&ra->lock);
		run_job(ra->f, j);
		pthread_mutex_lock(&ra->lock);
		j->state = AHEAD_DONE;
		pthread_cond_broadcast(&ra->done);
	}
	pthread_mutex_unlock(&ra->lock);
	return NULL;
}

/* With one CPU, sealing ahead would only take turns with git. */
static unsigned worker_count(void)
{
	unsigned cpus = filter_cpus();

	return cpus < 2 ? 0 : cpus < READAHEAD_WORKERS ? cpus : READAHEAD_WORKERS;
}

/* Whether the filter runs at the top of the work tree, as git starts it:
 * the git processes asked (addset.c) then see the repository git sees. */
static bool at_top(const struct gitfilter *f)
{
	struct stat here, top;

	return !stat(".", &here) && !stat(f->workdir, &top) && here.st_dev == top.st_dev && here.st_ino == top.st_ino;
}

void readahead_start(struct gitfilter *f)
{
	unsigned workers = worker_count();
	struct readahead *ra;

	if (f->ahead || !workers || !(ra = gs_calloc(1, sizeof(*ra))))
		return;
	ra->f = f;
	ra->ask_git = at_top(f);
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->work, NULL);
	pthread_cond_init(&ra->done, NULL);
	while (ra->nthreads < workers &&
	       pthread_create(&ra->threads[ra->nthreads], NULL, worker, ra) == 0)
		ra->nthreads++;
	f->ahead = ra;
	if (!ra->nthreads)
		readahead_stop(f);
}

static void forget_dir(struct readahead *ra)
{
	for (size_t i = 0; i < ra->count; i++)
		free(ra->names[i]);
	free(ra->names);
	free(ra->sends);
	free(ra->attr_ids);
	free(ra->dir);
	gitattrs_batch_release(&ra->attrs);
	ra->names = NULL;
	ra->sends = NULL;
	ra->attr_ids = NULL;
	ra->dir = NULL;
	ra->count = ra->next = 0;
}

void readahead_stop(struct gitfilter *f)
{
	struct readahead *ra = f->ahead;

	if (!ra)
		return;
	pthread_mutex_lock(&ra->lock);
	ra->stop = true;
	pthread_cond_broadcast(&ra->work);
	pthread_mutex_unlock(&ra->lock);
	for (unsigned i = 0; i < ra->nthreads; i++)
		pthread_join(ra->threads[i], NULL);
	for (size_t i = 0; i < READAHEAD_DEPTH; i++)
		job_free(ra->jobs[i]);
	forget_dir(ra);
	free(ra->last);
	free(ra->answered);
	pthread_cond_destroy(&ra->work);
	pthread_cond_destroy(&ra->done);
	pthread_mutex_destroy(&ra->lock);
	free(ra);
	f->ahead = NULL;
}

bool readahead_take(struct readahead *ra, const char *path, const uint8_t *in, size_t len, struct gs_buf *out)
{
	struct ahead_job *j = NULL;
	bool taken = false;
	size_t i;

	if (!ra)
		return false;
	readahead_answered(ra); /* a plan left over: the jobs in git's order */
	pthread_mutex_lock(&ra->lock);
	for (i = 0; i < READAHEAD_DEPTH; i++)
		if (ra->jobs[i] && !strcmp(ra->jobs[i]->path, path)) {
			j = ra->jobs[i];
			break;
		}
	if (!j) {
		pthread_mutex_unlock(&ra->lock);
		return false;
	}
	/* taken off the queue; one not started yet is cleaned here, as it comes */
	while (j->state == AHEAD_RUNNING)
		pthread_cond_wait(&ra->done, &ra->lock);
	ra->jobs[i] = NULL;
	pthread_mutex_unlock(&ra->lock);
	if (j->state == AHEAD_DONE && !j->err && j->in.len == len && !memcmp(j->in.data, in, len))
		taken = gs_buf_append(out, j->out.data, j->out.len) == 0;
	if (!taken)
		gs_buf_reset(out);
	gs_error_clear();
	job_free(j);
	return taken;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists dir's regular files, sorted as git sends them; none on failure. */
static void list_dir(struct readahead *ra, const char *dir, size_t dlen)
{
	char full[PATH_MAX];
	struct dirent *e;
	size_t cap = 0;
	DIR *d;

	forget_dir(ra);
	if ((size_t)snprintf(full, sizeof(full), "%s%.*s", ra->f->workdir, (int)dlen, dir) >= sizeof(full) ||
	    !(ra->dir = gs_strndup(dir, dlen)) || !(d = opendir(full)))
		return;
	while ((e = readdir(d)) && ra->count < READAHEAD_MAX_NAMES) {
		if (e->d_type != DT_REG || e->d_name[0] == '.')
			continue;
		if (ra->count == cap) {
			char **grown = gs_realloc(ra->names, (cap = cap ? cap * 2 : 64) * sizeof(*grown));

			if (!grown)
				break;
			ra->names = grown;
		}
		if (!(ra->names[ra->count] = gs_strdup(e->d_name)))
			break;
		ra->count++;
	}
	closedir(d);
	if (ra->count)
		qsort(ra->names, ra->count, sizeof(*ra->names), cmp_name);
	if (ra->count && (!(ra->sends = gs_calloc(ra->count, sizeof(*ra->sends))) ||
			  !(ra->attr_ids = gs_calloc(ra->count, sizeof(*ra->attr_ids)))))
		forget_dir(ra);
}

/* The first name after base in the listing. */
static size_t after(const struct readahead *ra, const char *base)
{
	size_t lo = 0, hi = ra->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ra->names[mid], base) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* What git says of the names from i on, asked for the next few at once
 * (addset.c): whether each is under the filter and not ignored. */
static void ask_git(struct readahead *ra, size_t i)
{
	size_t n = ra->count - i < READAHEAD_ASK_MAX ? ra->count - i : READAHEAD_ASK_MAX;
	bool *want;
	long got;

	if (!(want = gs_calloc(n, sizeof(*want))))
		return;
	if ((got = gitrepo_add_sends(ra->f, ra->dir, ra->names + i, n, want, &ra->attrs, ra->attr_ids + i)) > 0) {
		for (size_t k = 0; k < (size_t)got; k++)
			ra->sends[i + k] = want[k] ? SENDS_YES : SENDS_NO;
	} else if (got < 0) {
		ra->ask_git = false;
	}
	free(want);
}

bool readahead_attrs(const struct readahead *ra, const char *path, const char *printed[GITATTRS_COUNT])
{
	size_t dlen, i;

	if (!ra || !ra->dir)
		return false;
	dlen = strlen(ra->dir);
	if (strncmp(path, ra->dir, dlen) || strchr(path + dlen, '/'))
		return false;
	i = after(ra, path + dlen);
	if (!i || strcmp(ra->names[i - 1], path + dlen) || !ra->attr_ids[i - 1])
		return false;
	gitattrs_batch_get(&ra->attrs, ra->attr_ids[i - 1], printed);
	return true;
}

/* Whether git will send the i-th listed name (path) as a new file to
 * clean: held nowhere in git yet, under the filter, not ignored (listed
 * as a regular file; the worker reads it only if it still is one, with
 * bytes to seal). The cheap question first; the other two git answers
 * for many names at once, else libgit2 for this one (about twenty system
 * calls: it checks the attribute and ignore files on disk at every
 * call); a file git holds needs neither. */
static bool worth_sealing(struct readahead *ra, size_t i, const char *path)
{
	struct gitfilter *f = ra->f;
	int ignored = 0;

	if (gitrepo_has_committed(f, path))
		return false;
	if (ra->ask_git && ra->sends[i] == SENDS_UNKNOWN && ra->count - i >= READAHEAD_ASK_MIN)
		ask_git(ra, i);
	if (ra->sends[i] != SENDS_UNKNOWN)
		return ra->sends[i] == SENDS_YES;
	if (!gitrepo_filtered(f, path) || git_ignore_path_is_ignored(&ignored, f->repo, path) < 0 || ignored) {
		git_error_clear();
		return false;
	}
	return true;
}

/* Drops the jobs git went past (or never asked for), and counts the rest. */
static size_t drop_passed(struct readahead *ra, const char *path)
{
	size_t left = 0;

	for (size_t i = 0; i < READAHEAD_DEPTH; i++) {
		struct ahead_job *j = ra->jobs[i];

		if (!j)
			continue;
		if (j->state != AHEAD_RUNNING && strcmp(j->path, path) <= 0) {
			job_free(j);
			ra->jobs[i] = NULL;
		} else {
			left++;
		}
	}
	return left;
}

/* Queued for the workers, woken by the caller. */
static bool queue(struct readahead *ra, char *path)
{
	for (size_t i = 0; i < READAHEAD_DEPTH; i++)
		if (!ra->jobs[i]) {
			struct ahead_job *j = gs_calloc(1, sizeof(*j));

			if (!j)
				break;
			j->path = path;
			gs_buf_init(&j->in, true);
			gs_buf_init(&j->out, false);
			ra->jobs[i] = j;
			return true;
		}
	free(path);
	return false;
}

void readahead_plan(struct readahead *ra, const char *path)
{
	if (!ra)
		return;
	free(ra->answered);
	ra->answered = gs_strdup(path);
}

static void plan(struct readahead *ra, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dlen = (size_t)(base - path), left, want, queued = 0;
	bool in_order;

	/* a run of new files: this one and the last, in one directory, in order */
	in_order = ra->last && strlen(ra->last) > dlen && !memcmp(ra->last, path, dlen) &&
		   !strchr(ra->last + dlen, '/') && strcmp(ra->last + dlen, base) < 0;
	free(ra->last);
	ra->last = gs_strdup(path);
	if (!in_order)
		return;
	if (!ra->dir || strlen(ra->dir) != dlen || memcmp(ra->dir, path, dlen))
		list_dir(ra, path, dlen);
	if (ra->next < after(ra, base))
		ra->next = after(ra, base);
	pthread_mutex_lock(&ra->lock);
	left = drop_passed(ra, path);
	pthread_mutex_unlock(&ra->lock);
	/* topped up a few at a time: a wake of the workers (a system call,
	 * and a switch to each) for every few files, not for each */
	if (left > READAHEAD_DEPTH - READAHEAD_BATCH)
		return;
	for (want = READAHEAD_DEPTH - left; want && ra->next < ra->count; ra->next++) {
		char *next = gs_malloc(dlen + strlen(ra->names[ra->next]) + 1);

		if (!next)
			break;
		memcpy(next, path, dlen);
		strcpy(next + dlen, ra->names[ra->next]);
		if (!worth_sealing(ra, ra->next, next)) {
			free(next);
			continue;
		}
		pthread_mutex_lock(&ra->lock);
		queued += queue(ra, next);
		pthread_mutex_unlock(&ra->lock);
		want--;
	}
	if (queued) {
		pthread_mutex_lock(&ra->lock);
		pthread_cond_broadcast(&ra->work);
		pthread_mutex_unlock(&ra->lock);
	}
}

void readahead_answered(struct readahead *ra)
{
	char *path;

	if (!ra || !ra->answered)
		return;
	path = ra->answered;
	ra->answered = NULL;
	plan(ra, path);
	free(path);
}
