#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/file.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "gitseal/spawn.h"

static int file_read(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
	FILE *f = ctx;

	/* the end was seen: C11's end-of-file indicator is sticky, but glibc's
	 * fread on an unbuffered stream asks the file again (a read(2) more
	 * for every input, and a second Ctrl-D on a terminal) */
	if (feof(f)) {
		*got = 0;
		return 0;
	}
	*got = fread(buf, 1, cap, f);
	if (*got == 0 && ferror(f))
		return GS_FAIL(GS_ERR_IO, "read error: %s", strerror(errno));
	return 0;
}

static int file_write(void *ctx, const uint8_t *buf, size_t n)
{
	FILE *f = ctx;

	if (n && fwrite(buf, 1, n, f) != n)
		return GS_FAIL(GS_ERR_IO, "write error: %s", strerror(errno));
	return 0;
}

static int mem_read(void *ctx, uint8_t *buf, size_t cap, size_t *got)
{
	struct gs_mem_source *src = ctx;
	size_t n = src->len - src->pos;

	if (n > cap)
		n = cap;
	if (n)
		memcpy(buf, src->data + src->pos, n);
	src->pos += n;
	*got = n;
	return 0;
}

static int buf_write(void *ctx, const uint8_t *buf, size_t n)
{
	return gs_buf_append(ctx, buf, n);
}

/* Advances iov past done bytes; returns how many entries are left. */
static int iov_advance(struct iovec **iov, int n, size_t done)
{
	while (n > 0 && done >= (*iov)->iov_len) {
		done -= (*iov)->iov_len;
		(*iov)++;
		n--;
	}
	if (n > 0) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + done;
		(*iov)->iov_len -= done;
	}
	return n;
}

/* Fills iov with read, one entry after the other, until the input ends. */
static int read_each(int (*read)(void *ctx, uint8_t *buf, size_t cap, size_t *got), void *ctx,
		     struct iovec *iov, int n, size_t *got)
{
	size_t total = 0, step;
	int ret = 0;

	for (; n > 0; n = iov_advance(&iov, n, step), total += step)
		if ((ret = read(ctx, iov->iov_base, iov->iov_len, &step)) || step == 0)
			break;
	*got = total;
	return ret;
}

/* One readv(2) for all of iov, where stdio holds nothing back: an
 * unbuffered stream (glibc's buffer of one byte) has no read-ahead that a
 * read of the descriptor would skip. */
static int file_readv(void *ctx, struct iovec *iov, int n, size_t *got)
{
	FILE *f = ctx;
	size_t total = 0;
	ssize_t r;

	if (__fbufsize(f) > 1)
		return read_each(file_read, f, iov, n, got);
	while (n > 0 && !feof(f)) {
		r = readv(fileno(f), iov, n > IOV_MAX ? IOV_MAX : n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return GS_FAIL(GS_ERR_IO, "read error: %s", strerror(errno));
		if (r == 0)
			break;
		total += (size_t)r;
		n = iov_advance(&iov, n, (size_t)r);
	}
	*got = total;
	return 0;
}

struct gs_reader gs_reader_from_file(FILE *f)
{
	return (struct gs_reader){ file_read, f, file_readv };
}

int gs_read_vec(struct gs_reader *r, struct iovec *iov, int n, size_t *got)
{
	return r->readv ? r->readv(r->ctx, iov, n, got) : read_each(r->read, r->ctx, iov, n, got);
}

struct gs_reader gs_reader_from_mem(struct gs_mem_source *src, const uint8_t *data, size_t len)
{
	src->data = data;
	src->len = len;
	src->pos = 0;
	return (struct gs_reader){ mem_read, src, NULL };
}

/* One writev(2) for all of iov where stdio holds nothing back (an
 * unbuffered stream); through stdio's buffer otherwise. */
static int file_writev(void *ctx, struct iovec *iov, int n)
{
	FILE *f = ctx;
	ssize_t w;
	int ret = 0;

	if (__fbufsize(f) > 1) {
		for (; n > 0 && !ret; iov++, n--)
			ret = file_write(f, iov->iov_base, iov->iov_len);
		return ret;
	}
	while (n > 0) {
		w = writev(fileno(f), iov, n > IOV_MAX ? IOV_MAX : n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return GS_FAIL(GS_ERR_IO, "write error: %s", w < 0 ? strerror(errno) : "nothing written");
		n = iov_advance(&iov, n, (size_t)w);
	}
	return 0;
}

struct gs_writer gs_writer_to_file(FILE *f)
{
	return (struct gs_writer){ file_write, f, file_writev };
}

int gs_write_vec(struct gs_writer *w, struct iovec *iov, int n)
{
	int ret = 0;

	if (w->writev)
		return w->writev(w->ctx, iov, n);
	for (; n > 0 && !ret; iov++, n--)
		ret = w->write(w->ctx, iov->iov_base, iov->iov_len);
	return ret;
}

static int fd_write(void *ctx, const uint8_t *buf, size_t n)
{
	const int *fd = ctx;
	ssize_t w;

	while (n) {
		w = write(*fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return GS_FAIL(GS_ERR_IO, "write error: %s", w < 0 ? strerror(errno) : "nothing written");
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

struct gs_writer gs_writer_to_fd(const int *fd)
{
	return (struct gs_writer){ fd_write, (void *)fd, NULL };
}

struct gs_writer gs_writer_to_buf(struct gs_buf *b)
{
	return (struct gs_writer){ buf_write, b, NULL };
}

int gs_read_full(struct gs_reader *r, uint8_t *buf, size_t n, size_t *got)
{
	size_t total = 0, step;
	int ret;

	while (total < n) {
		ret = r->read(r->ctx, buf + total, n - total, &step);
		if (ret)
			return ret;
		if (step == 0)
			break;
		total += step;
	}
	*got = total;
	return 0;
}

/* Input of unknown length (a pipe) is gathered in blocks and copied once
 * at the end: growing one buffer by doubling would map up to three times
 * the input (old and new buffer) and, near the limit, twice the limit for
 * a file that is refused anyway. Blocks start small and double, so a short
 * input does not lock a megabyte; they are secure memory when the buffer is
 * (plaintext input). */
enum { FIRST_BLOCK = 16 * 1024 - 64, LAST_BLOCK = 1024 * 1024 };

struct read_block {
	struct read_block *next;
	size_t len;
	size_t cap;
	uint8_t data[];
};

static void read_blocks_free(struct read_block *head, bool secure)
{
	struct read_block *next;

	while (head) {
		next = head->next;
		if (secure) {
			gs_secure_free(head);
		} else {
			sodium_memzero(head->data, head->len);
			free(head);
		}
		head = next;
	}
}

/* A regular file is read straight into the buffer, sized once from its
 * length; *complete says the file ended there (it may have grown since). */
static int read_known_size(FILE *f, const char *path, struct gs_buf *b, size_t size, bool *complete)
{
	size_t n;
	int probe, ret;

	*complete = false;
	if ((ret = gs_buf_reserve_upto(b, size, b->len + size + 1)))
		return ret;
	n = fread(b->data + b->len, 1, size, f);
	b->len += n;
	b->data[b->len] = 0;
	if (n < size) {
		*complete = !ferror(f);
		return ferror(f) ? GS_FAIL(GS_ERR_IO, "cannot read '%s': %s", gs_shown(path), strerror(errno)) : 0;
	}
	probe = fgetc(f);
	if (probe == EOF) {
		*complete = !ferror(f);
		return ferror(f) ? GS_FAIL(GS_ERR_IO, "cannot read '%s': %s", gs_shown(path), strerror(errno)) : 0;
	}
	return ungetc(probe, f) == EOF ? GS_FAIL(GS_ERR_IO, "cannot read '%s'", gs_shown(path)) : 0;
}

static char *link_target(const char *path);

/* The regular files this process read, as they were when it read them. A
 * write in place replaces a file only while it is still the file that was
 * read: two writers of one file (two `gitseal set`, an edit and a rotate)
 * read the same version, and without this check both exit 0 and the first
 * one's change is gone. The check and the rename hold a lock on the
 * directory (flock), so two gitseal processes cannot both pass it. A table
 * of the last few files: a file that fell out of it is replaced unchecked,
 * as before. Paths are allocated, not kept in PATH_MAX arrays: a table of
 * 16 arrays is 66 KiB that each lookup walked, 16 pages faulted in by
 * every write (a fifth of a small `gitseal age -o`'s page faults). */
struct read_stamp {
	char *path;
	char *name; /* the name it was read by: a write to that name must land on path */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

enum { READ_STAMPS = 16 };
static struct read_stamp read_stamps[READ_STAMPS];
static size_t read_stamp_count, read_stamp_next;
static pthread_mutex_t read_stamps_lock = PTHREAD_MUTEX_INITIALIZER;

static bool stamp_same(const struct read_stamp *r, const struct stat *st)
{
	return r->dev == st->st_dev && r->ino == st->st_ino && r->size == st->st_size &&
	       r->mtime.tv_sec == st->st_mtim.tv_sec && r->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       r->ctime.tv_sec == st->st_ctim.tv_sec && r->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* Caller holds read_stamps_lock. */
static struct read_stamp *stamp_find(const char *resolved)
{
	for (size_t i = 0; i < read_stamp_count; i++)
		if (!strcmp(read_stamps[i].path, resolved))
			return &read_stamps[i];
	return NULL;
}

/* Caller holds read_stamps_lock. */
static struct read_stamp *stamp_find_name(const char *name)
{
	for (size_t i = 0; i < read_stamp_count; i++)
		if (read_stamps[i].name && !strcmp(read_stamps[i].name, name))
			return &read_stamps[i];
	return NULL;
}

/* Records (or, after a replacement, updates) what resolved holds now;
 * name (or NULL) is the name it was read by. */
static void stamp_record(const char *resolved, const char *name, const struct stat *st)
{
	struct read_stamp *r;
	char *copy, *name_copy = NULL;

	pthread_mutex_lock(&read_stamps_lock);
	if (name && (r = stamp_find_name(name)) && strcmp(r->path, resolved)) {
		free(r->name); /* the name leads elsewhere now */
		r->name = NULL;
	}
	if (name && !(name_copy = gs_strdup(name)))
		goto out;
	if (!(r = stamp_find(resolved))) {
		if (!(copy = gs_strdup(resolved)))
			goto out; /* unrecorded: replaced unchecked, as a file out of the table */
		r = &read_stamps[read_stamp_next];
		read_stamp_next = (read_stamp_next + 1) % READ_STAMPS;
		if (read_stamp_count < READ_STAMPS)
			read_stamp_count++;
		free(r->path);
		free(r->name);
		r->path = copy;
		r->name = NULL;
	}
	if (name_copy) {
		free(r->name);
		r->name = name_copy;
		name_copy = NULL;
	}
	r->dev = st->st_dev;
	r->ino = st->st_ino;
	r->size = st->st_size;
	r->mtime = st->st_mtim;
	r->ctime = st->st_ctim;
out:
	pthread_mutex_unlock(&read_stamps_lock);
	free(name_copy);
}

static void stamp_read(const char *path, const struct stat *st)
{
	char *resolved = link_target(path);

	if (resolved)
		stamp_record(resolved, path, st);
	free(resolved);
}

/* false when resolved was read by this process and has changed since. */
static bool stamp_unchanged(const char *resolved)
{
	struct read_stamp *r;
	struct stat st;
	bool same = true;

	pthread_mutex_lock(&read_stamps_lock);
	if ((r = stamp_find(resolved)))
		same = stat(resolved, &st) == 0 && stamp_same(r, &st);
	pthread_mutex_unlock(&read_stamps_lock);
	return same;
}

/* false when resolved was read by this process and st (what its name
 * holds now, no link followed) is not what was read; with found, also
 * when what was read is not the file found (gs_replace_found). */
static bool stamp_matches(const char *resolved, const struct stat *st, const struct gs_file_id *found)
{
	struct read_stamp *r;
	bool same = true;

	pthread_mutex_lock(&read_stamps_lock);
	if ((r = stamp_find(resolved)))
		same = stamp_same(r, st) && (!found || (r->dev == found->dev && r->ino == found->ino));
	pthread_mutex_unlock(&read_stamps_lock);
	return same;
}

/* Where name led when this process read it through name, if it did (*was
 * an allocated copy, else NULL): a write in place must land there. */
static int stamp_read_target(const char *name, char **was)
{
	struct read_stamp *r;
	int ret = 0;

	*was = NULL;
	pthread_mutex_lock(&read_stamps_lock);
	if ((r = stamp_find_name(name)) && !(*was = gs_strdup(r->path)))
		ret = -1;
	pthread_mutex_unlock(&read_stamps_lock);
	return ret;
}

int gs_read_file(const char *path, struct gs_buf *b, size_t max)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct read_block *head = NULL, **tail = &head, *cur = NULL;
	struct stat st;
	size_t n, total = 0, block = FIRST_BLOCK;
	bool complete = false;
	int ret = 0;

	if (!f)
		return GS_FAIL(errno == ENOENT ? GS_ERR_NOT_FOUND : GS_ERR_IO,
			       "cannot open '%s': %s", gs_shown_arg(path), strerror(errno));
	/* reads go straight to b: through stdio's buffer a key or a plaintext
	 * left a copy in unlocked heap memory, freed unwiped (and stdio paid a
	 * stat for the buffer's size) */
	if (f != stdin)
		setvbuf(f, NULL, _IONBF, 0);
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && f != stdin)
		stamp_read(path, &st);
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		/* a regular file that is too large fails before it is read */
		if ((uint64_t)st.st_size > max - b->len && b->len <= max) {
			ret = GS_FAIL(GS_ERR_LIMIT, "'%s' is larger than %zu bytes", gs_shown(path), max);
			goto out;
		}
		if ((ret = read_known_size(f, path, b, (size_t)st.st_size, &complete)) || complete)
			goto out;
	}
	for (;;) {
		if (!cur || cur->len == cur->cap) {
			/* blocks are as secret as the buffer they fill */
			size_t bytes = sizeof(*cur) + block;

			cur = b->secure ? gs_secure_alloc(bytes) : gs_malloc(bytes);
			if (!cur) {
				ret = GS_FAIL(GS_ERR_NOMEM, b->secure ? "out of secure memory" : "out of memory");
				goto out;
			}
			cur->next = NULL;
			cur->len = 0;
			cur->cap = block;
			*tail = cur;
			tail = &cur->next;
			if (block < LAST_BLOCK)
				block *= 2;
		}
		n = fread(cur->data + cur->len, 1, cur->cap - cur->len, f);
		if (n == 0)
			break;
		if (b->len + total + n > max) {
			ret = GS_FAIL(GS_ERR_LIMIT, "'%s' is larger than %zu bytes", gs_shown(path), max);
			goto out;
		}
		cur->len += n;
		total += n;
	}
	if (ferror(f)) {
		ret = GS_FAIL(GS_ERR_IO, "cannot read '%s': %s", gs_shown(path), strerror(errno));
		goto out;
	}
	if ((ret = gs_buf_reserve_upto(b, total, b->len + total + 1)))
		goto out;
	for (cur = head; cur; cur = cur->next) {
		if ((ret = gs_buf_append(b, cur->data, cur->len)))
			goto out;
	}
out:
	read_blocks_free(head, b->secure);
	if (f != stdin)
		fclose(f);
	return ret;
}

/* The test build lets a test make one step of a crash-safe write fail, to
 * show that the original file survives (GITSEAL_TEST_FAIL_AT=write|fsync|
 * rename|dirsync|beside). Release builds compile this out. */
static bool inject_failure(const char *step)
{
#ifdef GITSEAL_TEST_HOOKS
	const char *at = getenv("GITSEAL_TEST_FAIL_AT");

	return at && strcmp(at, step) == 0;
#else
	(void)step;
	return false;
#endif
}

/* strerror, but the words every out-of-memory message ends with (a
 * failed allocation reads the same wherever it happened). */
static const char *errno_text(int err)
{
	return err == ENOMEM ? "out of memory" : strerror(err);
}

static char *dir_of(const char *path)
{
	char *copy = gs_strdup(path), *dir;

	if (!copy)
		return NULL;
	dir = gs_strdup(dirname(copy));
	free(copy);
	return dir;
}

enum { MAX_LINKS = 40 }; /* as the kernel's limit on a path's symbolic links */

/* Creates dir/.gitseal-tmp-XXXXXX (random), 0600, as mkstemp would, in
 * dir_fd (dir opened) or AT_FDCWD; the fd, or -1 with errno set. glibc's
 * mkstemp mixes the clock into its name, and the first clock_gettime of a
 * process faults in two vDSO data pages, 10 us each on the bench's VM, a
 * tenth of a 100-byte `age -o`'s own time. */
static int open_temp_beside(int dir_fd, const char *dir, char **tmp)
{
	/* 64 letters: a random byte's low 6 bits pick one without bias */
	static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	static const char name[] = "/.gitseal-tmp-";
	size_t dir_len = strlen(dir), end = dir_len + sizeof(name) - 1;
	uint8_t random[6];
	int fd = -1;

	if (!(*tmp = gs_malloc(end + sizeof(random) + 1))) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(*tmp, dir, dir_len);
	memcpy(*tmp + dir_len, name, sizeof(name) - 1);
	for (int attempt = 0; fd < 0 && attempt < 100; attempt++) {
		randombytes_buf(random, sizeof(random));
		for (size_t i = 0; i < sizeof(random); i++)
			(*tmp)[end + i] = letters[random[i] & 63];
		(*tmp)[end + sizeof(random)] = '\0';
		fd = openat(dir_fd, dir_fd == AT_FDCWD ? *tmp : *tmp + dir_len + 1, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			    0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		int saved = errno;

		free(*tmp);
		*tmp = NULL;
		errno = saved;
	}
	return fd;
}

/* The path a symbolic link cur points to, made relative to cur's
 * directory, or NULL. Apart from link_target: its PATH_MAX buffer, on the
 * stack only for a link, had cost every file read a page of stack. */
static __attribute__((noinline)) char *link_next(const char *cur)
{
	char buf[PATH_MAX], *next = NULL, *dir;
	ssize_t n = readlink(cur, buf, sizeof(buf) - 1);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	if (buf[0] == '/') {
		next = gs_strdup(buf);
	} else if ((dir = dir_of(cur))) {
		if (gs_asprintf(&next, "%s/%s", dir, buf) < 0)
			next = NULL;
		free(dir);
	}
	return next;
}

/* Where a write to path lands: path itself, or the end of its chain of
 * symbolic links (which may not exist yet: writing through a dangling
 * link creates its target, as open(2) does). NULL with errno set on
 * failure. */
static char *link_target(const char *path)
{
	char *cur = gs_strdup(path), *next;

	for (int depth = 0; cur; depth++) {
		struct stat st;

		if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
			return cur;
		if (depth == MAX_LINKS) {
			errno = ELOOP;
			free(cur);
			return NULL;
		}
		next = link_next(cur);
		free(cur);
		if (!next)
			return NULL;
		cur = next;
	}
	errno = ENOMEM;
	return NULL;
}

/* A replacement by rename would leave another hard link with the old
 * bytes (after encrypt -i, the plaintext): refused while nothing is
 * written. name is the name the user gave. */
static int refuse_hard_links(const char *name, const struct stat *st)
{
	if (st->st_nlink <= 1)
		return 0;
	return GS_FAIL(GS_ERR_WRITE, "cannot replace '%s': it has %ju hard links, and the others would keep "
		       "the old content (to break the link: cp '%s' tmp && mv tmp '%s')", gs_shown(name),
		       (uintmax_t)st->st_nlink, gs_shown(name), gs_shown(name));
}

int gs_check_replaceable(const char *path)
{
	struct stat st;

	/* stat follows symbolic links: the target's count is what counts */
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	return refuse_hard_links(path, &st);
}

/* The test build runs GITSEAL_TEST_RUN (a shell command, with the path
 * as $1) at one step of a write (GITSEAL_TEST_RUN_AT=open: before the
 * target is looked at, as if between the read and the write; rename:
 * after the checks of gs_atomic_open, before the replacement), to show
 * what a file swapped at that moment does. Release builds compile this
 * out. */
static void test_run_at(const char *step, const char *path)
{
#ifdef GITSEAL_TEST_HOOKS
	const char *at = getenv("GITSEAL_TEST_RUN_AT"), *cmd = getenv("GITSEAL_TEST_RUN");
	char *argv[] = { "sh", "-c", (char *)cmd, "sh", (char *)path, NULL };
	posix_spawnattr_t attr;
	pid_t pid;
	int status;

	if (!at || !cmd || strcmp(at, step))
		return;
	gs_spawnattr_init(&attr);
	if (posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, environ) == 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	posix_spawnattr_destroy(&attr);
#else
	(void)step;
	(void)path;
#endif
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Where a write to path lands (af->path): for a file found, path itself,
 * never through a link; else the end of its chain of links, and for a
 * file this process read through path, where path led then. */
static int atomic_target(struct gs_atomic_file *af, const char *path)
{
	char *was = NULL;
	int ret = 0;

	if (af->found) {
		struct stat st;

		if (!(af->path = gs_strdup(path)))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			return GS_FAIL(GS_ERR_WRITE, "cannot replace '%s': it is a symbolic link now, not the file "
				       "checked; nothing written", gs_shown(path));
	} else if (!(af->path = link_target(path))) {
		return GS_FAIL(errno == ENOMEM ? GS_ERR_NOMEM : GS_ERR_WRITE, "cannot write '%s': %s",
			       gs_shown(path), errno_text(errno));
	}
	if (stamp_read_target(path, &was) < 0)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (was && strcmp(was, af->path))
		ret = GS_FAIL(GS_ERR_WRITE, "cannot replace '%s': it leads to '%s' now, not to '%s' as when it was read; "
			      "nothing written", gs_shown(path), gs_shown(af->path), gs_shown(was));
	free(was);
	return ret;
}

/* What a write in place may replace: a regular file with one link, and
 * for a file found, that one. st: what the target's name
 * holds, no link followed. */
static int check_replaceable(const struct gs_atomic_file *af, const char *path, const struct stat *st)
{
	if (af->found && (!S_ISREG(st->st_mode) || st->st_dev != af->found->dev || st->st_ino != af->found->ino))
		return GS_FAIL(GS_ERR_WRITE, "cannot replace '%s': it is %s now, not the file checked; "
			       "nothing written", gs_shown(path),
			       S_ISLNK(st->st_mode) ? "a symbolic link" : "another file");
	if (S_ISLNK(st->st_mode))
		return GS_FAIL(GS_ERR_WRITE, "cannot replace '%s': it is a symbolic link now, not the file it led "
			       "to; nothing written", gs_shown(path));
	if (!S_ISREG(st->st_mode))
		return GS_FAIL(GS_ERR_WRITE, "cannot replace '%s': not a regular file", gs_shown(path));
	return refuse_hard_links(path, st);
}

static int atomic_open(struct gs_atomic_file *af, const char *path, int mode, const struct gs_file_id *found)
{
	struct stat st;
	bool path_only = false;
	char *dir;
	int fd, ret;

	memset(af, 0, sizeof(*af));
	af->mode = mode;
	af->found = found;
	test_run_at("open", path);
	if ((ret = atomic_target(af, path)) < 0)
		goto fail;
	af->name = base_name(af->path);
	if (!(dir = dir_of(af->path))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto fail;
	}
	/* a directory that may be written but not listed: O_PATH is enough to
	 * make a new file in it (not to lock or sync it, which a replacement
	 * needs: refused below, before anything is written) */
	if ((af->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 && errno == EACCES &&
	    (af->dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0)
		path_only = true;
	if (af->dir_fd < 0) {
		ret = GS_FAIL(errno == ENOMEM ? GS_ERR_NOMEM : GS_ERR_WRITE,
			      "cannot create a temporary file beside '%s': %s", gs_shown(af->path), errno_text(errno));
		free(dir);
		goto fail;
	}
	af->dir_open = true;
	if (fstatat(af->dir_fd, af->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if ((ret = check_replaceable(af, path, &st)) < 0 ||
		    (path_only && (ret = GS_FAIL(GS_ERR_WRITE, "cannot open the directory of '%s': %s", gs_shown(path),
						 strerror(EACCES))) < 0)) {
			free(dir);
			goto fail;
		}
		af->mode = st.st_mode & 07777;
		af->replacing = true;
	} else if (found) {
		ret = GS_FAIL(GS_ERR_WRITE, "cannot replace '%s': it is gone since it was checked; nothing written",
			      gs_shown(path));
		free(dir);
		goto fail;
	}
	fd = open_temp_beside(af->dir_fd, dir, &af->tmp_path);
	free(dir);
	if (fd < 0) {
		ret = GS_FAIL(errno == ENOMEM ? GS_ERR_NOMEM : GS_ERR_WRITE,
			      "cannot create a temporary file beside '%s': %s", gs_shown(af->path), errno_text(errno));
		goto fail;
	}
	af->tmp_name = base_name(af->tmp_path);
	/* made 0600; the final mode is applied before the rename. */
	af->f = fdopen(fd, "wb");
	if (!af->f) {
		ret = GS_FAIL(GS_ERR_WRITE, "cannot open a temporary file: %s", strerror(errno));
		close(fd);
		goto fail;
	}
	/* st is still the target's, from above */
	if (af->replacing && fchown(fd, st.st_uid, st.st_gid) != 0) {
		/* Not fatal: only root can give a file away; the mode is still kept. */
	}
	return 0;
fail:
	gs_atomic_abort(af);
	return ret;
}

int gs_atomic_open(struct gs_atomic_file *af, const char *path, int mode)
{
	return atomic_open(af, path, mode, NULL);
}

/* renameat(2) through syscall(), which lies in libc beside open, fsync and
 * flock (the pages an atomic write runs anyway): libc's rename lies 700 KiB
 * away from them, 64 KiB of libc mapped by a page fault of its own in every
 * `age -e -o` (docs/development.md, the small file). */
static int rename_in(int dir_fd, const char *from, const char *to)
{
#ifdef SYS_renameat
	return (int)syscall(SYS_renameat, dir_fd, from, dir_fd, to);
#else /* riscv64, loongarch64: renameat2 alone (Linux 3.15) */
	return (int)syscall(SYS_renameat2, dir_fd, from, dir_fd, to, 0);
#endif
}

/* What the target's name holds now (st), checked as gs_atomic_open did,
 * and for a file this process read, still what was read. */
static int check_target(const struct gs_atomic_file *af, struct stat *st)
{
	int ret = fstatat(af->dir_fd, af->name, st, AT_SYMLINK_NOFOLLOW);

	if (ret == 0 && (ret = check_replaceable(af, af->path, st)) < 0)
		return ret;
	if (ret != 0 || !stamp_matches(af->path, st, af->found))
		return GS_FAIL(GS_ERR_WRITE, "cannot replace '%s': it changed since it was read; nothing written",
			       gs_shown(af->path));
	return 0;
}

/* Whether the directory dir_fd is root or lies below it now, told by
 * walking up through "..": a directory moved whole keeps its inode, and
 * dir_fd with it, wherever it went. */
static bool dir_beneath(int dir_fd, const char *root)
{
	struct stat top, st, up;
	int fd, next;
	bool in = false;

	if (stat(root, &top) != 0 || (fd = dup(dir_fd)) < 0)
		return false;
	for (int depth = 0; depth < PATH_MAX / 2 && fstat(fd, &st) == 0; depth++) {
		if (st.st_dev == top.st_dev && st.st_ino == top.st_ino) {
			in = true;
			break;
		}
		next = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (next < 0 || fstat(next, &up) != 0 || (up.st_dev == st.st_dev && up.st_ino == st.st_ino)) {
			if (next >= 0)
				close(next);
			break; /* the file system's root: not beneath */
		}
		close(fd);
		fd = next;
	}
	close(fd);
	return in;
}

/* Renames the finished temporary file over the target, in the directory
 * opened by gs_atomic_open: what the target's name holds is looked at
 * there, no link followed. A target this process read is replaced only if
 * it is still what was read; the directory lock makes the check and the
 * rename one step for every gitseal writer. */
static int replace_target(struct gs_atomic_file *af)
{
	/* best effort: where directories cannot be locked (some network file
	 * systems) the check still runs, without the lock */
	bool locked = af->replacing && flock(af->dir_fd, LOCK_EX) == 0;
	struct stat st;
	int ret = 0;

	if (af->replacing)
		ret = check_target(af, &st);
	if (!ret && af->beneath && !dir_beneath(af->dir_fd, af->beneath))
		ret = GS_FAIL(GS_ERR_WRITE, "cannot replace '%s': its directory is no longer beneath '%s' (moved since "
			      "it was found); nothing written", gs_shown(af->path), gs_shown(af->beneath));
	if (!ret && (inject_failure("rename") || rename_in(af->dir_fd, af->tmp_name, af->name) != 0))
		ret = GS_FAIL(GS_ERR_WRITE, "cannot replace '%s': %s", gs_shown(af->path), strerror(errno));
	else if (!ret && fstatat(af->dir_fd, af->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		stamp_record(af->path, NULL, &st);
	if (locked)
		flock(af->dir_fd, LOCK_UN);
	return ret;
}

int gs_atomic_commit(struct gs_atomic_file *af)
{
	const char *step = NULL;
	int ret = 0;

	if (fflush(af->f) != 0 || ferror(af->f) || inject_failure("write"))
		step = "write";
	else if (fchmod(fileno(af->f), (mode_t)af->mode) != 0)
		step = "chmod";
	else if (af->replacing && (fsync(fileno(af->f)) != 0 || inject_failure("fsync")))
		step = "fsync";
	if (step) {
		ret = GS_FAIL(GS_ERR_WRITE, "cannot %s '%s': %s", step, gs_shown(af->path), strerror(errno));
		gs_atomic_abort(af);
		return ret;
	}
	fclose(af->f);
	af->f = NULL;
	test_run_at("rename", af->path);
	if ((ret = replace_target(af)) < 0) {
		gs_atomic_abort(af);
		return ret;
	}
	free(af->tmp_path);
	af->tmp_path = NULL;
	if (af->replacing && (fsync(af->dir_fd) != 0 || inject_failure("dirsync")))
		ret = GS_FAIL(GS_ERR_WRITE, "cannot sync the directory of '%s'", gs_shown(af->path));
	close(af->dir_fd);
	af->dir_open = false;
	free(af->path);
	af->path = NULL;
	return ret;
}

void gs_atomic_abort(struct gs_atomic_file *af)
{
	if (af->f)
		fclose(af->f);
	if (af->tmp_path)
		(void)unlinkat(af->dir_open ? af->dir_fd : AT_FDCWD, af->dir_open ? af->tmp_name : af->tmp_path, 0);
	if (af->dir_open)
		close(af->dir_fd);
	free(af->tmp_path);
	free(af->path);
	memset(af, 0, sizeof(*af));
}

static int atomic_write(const char *path, const struct gs_file_id *found, const char *beneath, const uint8_t *data,
			size_t len, int mode)
{
	struct gs_atomic_file af;
	int ret = atomic_open(&af, path, mode, found);

	if (ret)
		return ret;
	af.beneath = beneath;
	if (len && fwrite(data, 1, len, af.f) != len) {
		ret = GS_FAIL(GS_ERR_WRITE, "cannot write '%s': %s", gs_shown(path), strerror(errno));
		gs_atomic_abort(&af);
		return ret;
	}
	return gs_atomic_commit(&af);
}

int gs_atomic_write(const char *path, const uint8_t *data, size_t len, int mode)
{
	return atomic_write(path, NULL, NULL, data, len, mode);
}

int gs_replace_found(const char *path, const struct gs_file_id *found, const char *beneath, const uint8_t *data,
		     size_t len)
{
	/* the mode is the file's own: it is there (or nothing is written) */
	return atomic_write(path, found, beneath, data, len, 0600);
}

/* The magic links of /dev/stdout, /dev/fd/N and /proc (self/fd/N) lead
 * to what a descriptor holds: written to, never replaced, even where that
 * is a regular file (its holder keeps the inode it has). Any other path,
 * under /dev too (the tmpfs at /dev/shm holds regular files, new ones
 * made there), is told by what it is. */
static bool is_descriptor_path(const char *path)
{
	return !strncmp(path, "/dev/std", 8) || !strncmp(path, "/dev/fd/", 8) || !strncmp(path, "/proc/", 6);
}

static int write_all(int fd, const char *path, const uint8_t *data, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return GS_FAIL(GS_ERR_WRITE, "cannot write '%s': %s", gs_shown(path),
				       n < 0 ? strerror(errno) : "nothing written");
		done += (size_t)n;
	}
	return 0;
}

bool gs_output_is_direct(const char *path)
{
	struct stat st;

	return is_descriptor_path(path) || (stat(path, &st) == 0 && !S_ISREG(st.st_mode));
}

int gs_output_open_direct(const char *path)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return GS_FAIL(GS_ERR_WRITE, "cannot open '%s': %s", gs_shown(path), strerror(errno));
	return fd;
}

static int write_direct(const char *path, const uint8_t *data, size_t len)
{
	int fd = gs_output_open_direct(path);
	int ret;

	if (fd < 0)
		return fd;
	ret = inject_failure("write") ? GS_FAIL(GS_ERR_WRITE, "cannot write '%s': injected", gs_shown(path))
				      : write_all(fd, path, data, len);
	if (close(fd) != 0 && !ret)
		ret = GS_FAIL(GS_ERR_WRITE, "cannot write '%s': %s", gs_shown(path), strerror(errno));
	return ret;
}

int gs_output_write(const char *path, const uint8_t *data, size_t len, int mode)
{
	if (!strcmp(path, "-")) {
		if (len && fwrite(data, 1, len, stdout) != len)
			return GS_FAIL(GS_ERR_WRITE, "cannot write to standard output: %s", strerror(errno));
		if (fflush(stdout) != 0)
			return GS_FAIL(GS_ERR_WRITE, "cannot write to standard output: %s", strerror(errno));
		return 0;
	}
	if (gs_output_is_direct(path))
		return write_direct(path, data, len);
	return gs_atomic_write(path, data, len, mode);
}

bool gs_write_lands(const char *path, char real[static PATH_MAX])
{
	char *target, *dir = NULL, dir_real[PATH_MAX];
	bool found = false;

	if (!strcmp(path, "-") || gs_output_is_direct(path) || !(target = link_target(path)))
		return false;
	if (realpath(target, real))
		found = true;
	else if (errno == ENOENT && (dir = dir_of(target)) && realpath(dir, dir_real))
		found = (size_t)snprintf(real, PATH_MAX, "%s/%s", strcmp(dir_real, "/") ? dir_real : "",
					 base_name(target)) < PATH_MAX;
	free(dir);
	free(target);
	return found;
}

bool gs_changed_since_read(const char *path)
{
	char *resolved = link_target(path), *was = NULL;
	bool changed = resolved && ((stamp_read_target(path, &was) == 0 && was && strcmp(was, resolved)) ||
				    !stamp_unchanged(resolved));

	free(was);
	free(resolved);
	return changed;
}

/* A finished temporary file in dir, mode applied and synced. */
static int write_temp(const char *dir, const char *name, const uint8_t *data, size_t len, int mode,
		      char **tmp)
{
	int fd, ret;

	if ((fd = open_temp_beside(AT_FDCWD, dir, tmp)) < 0)
		return GS_FAIL(errno == ENOMEM ? GS_ERR_NOMEM : GS_ERR_WRITE,
			       "cannot create a temporary file beside '%s': %s", gs_shown(name), errno_text(errno));
	ret = write_all(fd, name, data, len);
	if (!ret && (fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0))
		ret = GS_FAIL(GS_ERR_WRITE, "cannot write beside '%s': %s", gs_shown(name), strerror(errno));
	if (close(fd) != 0 && !ret)
		ret = GS_FAIL(GS_ERR_WRITE, "cannot write beside '%s': %s", gs_shown(name), strerror(errno));
	return ret;
}

/* Links tmp to a new name target<infix>XXXXXX (random letters); link(2)
 * never replaces an existing file. */
static int link_new_name(const char *tmp, const char *target, const char *infix, char **made)
{
	static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

	for (int attempt = 0; attempt < 100; attempt++) {
		char suffix[7];
		bool injected;

		for (size_t i = 0; i < 6; i++)
			suffix[i] = letters[randombytes_uniform(sizeof(letters) - 1)];
		suffix[6] = '\0';
		if (gs_asprintf(made, "%s%s%s", target, infix, suffix) < 0) {
			*made = NULL;
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		}
		injected = inject_failure("beside");
		if (!injected && link(tmp, *made) == 0)
			return 0;
		if (injected)
			errno = EIO;
		free(*made);
		*made = NULL;
		if (errno != EEXIST)
			return GS_FAIL(GS_ERR_WRITE, "cannot write beside '%s': %s", gs_shown(target), strerror(errno));
	}
	return GS_FAIL(GS_ERR_WRITE, "cannot write beside '%s': no free name", gs_shown(target));
}

int gs_write_beside(const char *path, const char *infix, const uint8_t *data, size_t len, char **made)
{
	char *target = NULL, *dir = NULL, *tmp = NULL;
	struct stat st;
	int ret, dfd;

	*made = NULL;
	/* beside the file read through path, wherever path leads now */
	if (stamp_read_target(path, &target) == 0 && !target)
		target = link_target(path);
	if (!target || !(dir = dir_of(target))) {
		free(target);
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	ret = write_temp(dir, path, data, len, stat(target, &st) == 0 ? (int)(st.st_mode & 07777) : 0600, &tmp);
	if (!ret)
		ret = link_new_name(tmp, target, infix, made);
	if (tmp)
		unlink(tmp);
	/* the new name is there; a directory that cannot be synced leaves it
	 * to the next sync of the file system, as a new file of gs_atomic_write */
	if (!ret && (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(tmp);
	free(dir);
	free(target);
	return ret;
}
