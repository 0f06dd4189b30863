/* A large regular input file read through mmap: the cipher takes the
 * plaintext straight from the page cache, where read(2) would first copy
 * it into the ring (on tmpfs that copy was a sixth of an encryption's CPU
 * time, perf record, 2026-12-01).
 *
 * The file is mapped from where its reader stopped to its size when
 * mapped. Pages are faulted in by the cipher (the kernel maps 64 KiB
 * around each fault) and unmapped again once sealed (MADV_DONTNEED), so
 * the resident set holds only the batches being sealed.
 *
 * A file that shrinks while mapped makes an access past its new end raise
 * SIGBUS (so does a read error on a disk). While the mapping is open, a
 * SIGBUS handler turns such a fault, on a thread inside age_map_guard and
 * at an address in the mapping, into an error return of age_map_guard;
 * any other SIGBUS goes to the disposition there was before. The guarded
 * code only computes into memory the pipeline owns (no locks, no
 * allocation), so leaving it by siglongjmp leaves nothing half done but
 * the cipher context, which the pipeline then frees unused. A file that
 * grows is found at the end of the mapping (age_map_grew). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitseal/error.h"

#include "age_int.h"

/* The mapping the handler answers for: one at a time (the command line's
 * one input file). */
static struct {
	uintptr_t start, end;
	struct sigaction previous;
} active;

/* Set by age_map_guard on its thread while the guarded code runs. */
static _Thread_local sigjmp_buf *armed;

static void on_sigbus(int sig, siginfo_t *info, void *uc)
{
	uintptr_t at = (uintptr_t)info->si_addr;

	(void)sig;
	(void)uc;
	if (armed && at >= active.start && at < active.end)
		siglongjmp(*armed, 1);
	/* not ours: the fault repeats on return, under the old disposition */
	sigaction(SIGBUS, &active.previous, NULL);
}

int age_map_open(struct age_map *m, int fd, uint64_t min_size)
{
	struct sigaction sa = { 0 };
	struct stat st;
	off_t from;
	long page = sysconf(_SC_PAGESIZE);
	size_t skip;
	void *base;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	from = lseek(fd, 0, SEEK_CUR);
	if (from < 1 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || page <= 0 ||
	    (uint64_t)st.st_size < (uint64_t)from + min_size || (uint64_t)st.st_size > SIZE_MAX)
		return AGE_MAP_UNAVAILABLE;
	/* from the byte before the reader's position: the encryption's
	 * look-ahead byte (stream.c) */
	from--;
	skip = (size_t)from % (size_t)page;
	m->base_len = (size_t)(st.st_size - from) + skip;
	base = mmap(NULL, m->base_len, PROT_READ, MAP_SHARED, fd, from - (off_t)skip);
	if (base == MAP_FAILED)
		return AGE_MAP_UNAVAILABLE;
	m->base = base;
	m->data = m->base + skip;
	m->len = m->base_len - skip;
	m->fd = fd;
	m->page = (size_t)page;
	m->end = (uint64_t)st.st_size;
	(void)madvise(m->base, m->base_len, MADV_SEQUENTIAL);

	active.start = (uintptr_t)m->base;
	active.end = active.start + m->base_len;
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &active.previous) != 0) {
		munmap(m->base, m->base_len);
		memset(m, 0, sizeof(*m));
		m->fd = -1;
		return AGE_MAP_UNAVAILABLE;
	}
	return 0;
}

int age_map_close(struct age_map *m)
{
	int ret = 0;

	if (!m->base)
		return 0;
	sigaction(SIGBUS, &active.previous, NULL);
	memset(&active, 0, sizeof(active));
	munmap(m->base, m->base_len);
	/* leave the descriptor where a reader would have: at the end */
	if (lseek(m->fd, (off_t)m->end, SEEK_SET) < 0)
		ret = GS_FAIL(GS_ERR_IO, "read error: %s", strerror(errno));
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	return ret;
}

int age_map_guard(void (*fn)(void *arg), void *arg)
{
	sigjmp_buf env;

	/* SA_NODEFER: the handler leaves the signal mask as it was, so
	 * there is no mask to save (which would cost a system call) */
	if (sigsetjmp(env, 0)) {
		armed = NULL;
		return -1;
	}
	armed = &env;
	fn(arg);
	armed = NULL;
	return 0;
}

void age_map_done(const struct age_map *m, const uint8_t *from, size_t len)
{
	uintptr_t base = (uintptr_t)m->base, page = (uintptr_t)m->page;
	uintptr_t start = (uintptr_t)from, end = start + len;

	/* whole pages only: the last one may hold the next batch's first
	 * bytes (and the first the previous batch's last: dropping a page
	 * still in use only makes its next access fault it in again) */
	start -= (start - base) % page;
	end -= (end - base) % page;
	if (end > start)
		(void)madvise((void *)start, end - start, MADV_DONTNEED);
}

bool age_map_grew(const struct age_map *m)
{
	uint8_t probe;

	return pread(m->fd, &probe, 1, (off_t)m->end) != 0;
}
