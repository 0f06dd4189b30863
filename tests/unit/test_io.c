/* Whole-file reads: a regular file is read in one piece sized from its
 * length, a pipe in growing blocks; both must give back every byte, in a
 * secure or a plain buffer, and refuse input past the limit. The
 * descriptor and stream writers: every byte through a pipe's partial
 * writes, and the error of a file that cannot be written. A temporary
 * file's name that is taken every time fails the write, and touches
 * neither the file that holds the name nor the target. A write in place
 * lands only on the file read or found, never through a link put in its
 * place or pointed elsewhere since. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <fcntl.h>

#include <cmocka.h>
#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/secmem.h"

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131 + (i >> 8));
}

static void check_read(const char *path, const uint8_t *want, size_t n, bool secure, size_t max)
{
	struct gs_buf b;

	gs_buf_init(&b, secure);
	assert_int_equal(gs_read_file(path, &b, max), 0);
	assert_int_equal(b.len, n);
	if (n) {
		assert_memory_equal(b.data, want, n);
		assert_int_equal(b.data[n], 0);
	}
	gs_buf_release(&b);
}

static void test_regular_files(void **state)
{
	static const size_t sizes[] = { 0, 1, 100, 16320, 16321, 70000, 3 << 20 };
	char dir[] = "/tmp/gitseal-io-XXXXXX", path[64];
	uint8_t *data = malloc(3 << 20);

	(void)state;
	assert_non_null(data);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	fill(data, 3 << 20);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(gs_atomic_write(path, data, sizes[i], 0600), 0);
		check_read(path, data, sizes[i], true, 4 << 20);
		check_read(path, data, sizes[i], false, 4 << 20);
	}
	/* one byte over the limit fails before anything is read */
	{
		struct gs_buf b;

		gs_buf_init(&b, true);
		assert_int_equal(gs_read_file(path, &b, (3 << 20) - 1), GS_ERR_LIMIT);
		gs_buf_release(&b);
	}
	unlink(path);
	rmdir(dir);
	free(data);
}

/* A pipe has no length: it is read in blocks that double in size. */
static void read_pipe(size_t n, bool secure, size_t max, int expect)
{
	uint8_t *data = malloc(n ? n : 1);
	char path[32];
	int fds[2];
	pid_t child;
	struct gs_buf b;
	int status;

	assert_non_null(data);
	fill(data, n);
	assert_int_equal(pipe(fds), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		size_t done = 0;

		close(fds[0]);
		while (done < n) {
			ssize_t w = write(fds[1], data + done, n - done);

			if (w <= 0)
				_exit(0); /* the reader stopped at the limit */
			done += (size_t)w;
		}
		_exit(0);
	}
	close(fds[1]);
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	gs_buf_init(&b, secure);
	assert_int_equal(gs_read_file(path, &b, max), expect);
	if (expect == 0) {
		assert_int_equal(b.len, n);
		if (n)
			assert_memory_equal(b.data, data, n);
	}
	gs_buf_release(&b);
	close(fds[0]);
	assert_int_equal(waitpid(child, &status, 0), child);
	free(data);
}

static void test_pipes(void **state)
{
	(void)state;
	read_pipe(0, true, 1 << 20, 0);
	read_pipe(10, true, 1 << 20, 0);
	read_pipe(3 << 20, true, 4 << 20, 0);
	read_pipe(3 << 20, false, 4 << 20, 0);
	read_pipe(3 << 20, true, 2 << 20, GS_ERR_LIMIT);
}

static void test_missing_file(void **state)
{
	struct gs_buf b;

	(void)state;
	gs_buf_init(&b, false);
	assert_int_equal(gs_read_file("/nonexistent/gitseal/file", &b, 100), GS_ERR_NOT_FOUND);
	gs_buf_release(&b);
}

/* 1 MiB into a pipe whose buffer is made one page: write(2) takes part
 * of it at a time while a child drains it. */
static void test_fd_writer(void **state)
{
	enum { N = 1 << 20 };
	uint8_t *data = malloc(N), *got = malloc(N);
	struct gs_writer w;
	size_t done = 0;
	ssize_t r;
	int fds[2], status, bad = -1;
	pid_t child;

	(void)state;
	assert_non_null(data);
	assert_non_null(got);
	fill(data, N);
	assert_int_equal(pipe(fds), 0);
	(void)fcntl(fds[1], F_SETPIPE_SZ, 4096);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(fds[0]);
		w = gs_writer_to_fd(&fds[1]);
		_exit(w.write(w.ctx, data, N) == 0 ? 0 : 1);
	}
	close(fds[1]);
	while (done < N && (r = read(fds[0], got + done, N - done)) > 0)
		done += (size_t)r;
	close(fds[0]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(done, N);
	assert_memory_equal(got, data, N);
	w = gs_writer_to_fd(&bad);
	assert_int_equal(w.write(w.ctx, data, 1), GS_ERR_IO);
	assert_string_equal(gs_error_message(), "write error: Bad file descriptor");
	free(got);
	free(data);
}

/* writev(2) as the kernel may answer it: interrupted before the first
 * byte once, then at most WRITEV_CAP bytes a call (ending inside a
 * piece); the most pieces asked for at once is kept. This definition
 * takes the place of libc's for io.c's calls in this program. */
enum { WRITEV_CAP = 1000 };
static bool writev_short;
static int writev_most;

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	static bool interrupted;
	struct iovec part[8];
	size_t left = WRITEV_CAP;
	int k = 0;

	if (n > writev_most)
		writev_most = n;
	if (!writev_short)
		return syscall(SYS_writev, fd, iov, n);
	if (!interrupted) {
		interrupted = true;
		errno = EINTR;
		return -1;
	}
	for (; k < n && k < 8 && left; k++) {
		part[k] = iov[k];
		if (part[k].iov_len > left)
			part[k].iov_len = left;
		left -= part[k].iov_len;
	}
	return syscall(SYS_writev, fd, part, k);
}

/* A stream without a buffer goes out with writev(2): more pieces than
 * IOV_MAX (given in turns), short and interrupted writes, then a device
 * that takes nothing. */
static void test_stream_writev(void **state)
{
	enum { PIECES = 1500 };
	char path[] = "/tmp/gitseal-io-XXXXXX";
	struct iovec iov[PIECES];
	size_t total = 0, done = 0;
	uint8_t *data, *got;
	struct gs_writer w;
	ssize_t r;
	int fd;
	FILE *f;

	(void)state;
	for (size_t i = 0; i < PIECES; i++)
		total += 1 + (i * 37) % 1999;
	data = malloc(total);
	got = malloc(total);
	assert_non_null(data);
	assert_non_null(got);
	fill(data, total);
	for (size_t i = 0, at = 0; i < PIECES; at += iov[i].iov_len, i++)
		iov[i] = (struct iovec){ data + at, 1 + (i * 37) % 1999 };

	for (int pass = 0; pass < 2; pass++) {
		struct iovec copy[PIECES];

		memcpy(copy, iov, sizeof(copy));
		fd = mkstemp(path);
		assert_true(fd >= 0);
		f = fdopen(fd, "w+b");
		assert_non_null(f);
		assert_int_equal(setvbuf(f, NULL, _IONBF, 0), 0);
		writev_short = pass == 1;
		writev_most = 0;
		w = gs_writer_to_file(f);
		assert_int_equal(gs_write_vec(&w, copy, PIECES), 0);
		writev_short = false;
		assert_true(writev_most > 0 && writev_most <= IOV_MAX);
		done = 0;
		while (done < total && (r = pread(fd, got + done, total - done, (off_t)done)) > 0)
			done += (size_t)r;
		assert_int_equal(done, total);
		assert_int_equal(lseek(fd, 0, SEEK_END), (off_t)total);
		assert_memory_equal(got, data, total);
		fclose(f);
		unlink(path);
		memcpy(path + strlen(path) - 6, "XXXXXX", 6);
	}

	f = fopen("/dev/full", "wb");
	assert_non_null(f);
	assert_int_equal(setvbuf(f, NULL, _IONBF, 0), 0);
	w = gs_writer_to_file(f);
	assert_int_equal(gs_write_vec(&w, iov, 3), GS_ERR_IO);
	assert_string_equal(gs_error_message(), "write error: No space left on device");
	fclose(f);
	free(got);
	free(data);
}

/* Every random byte 5: every temporary name is .gitseal-tmp-FFFFFF. */
static void same_bytes(void *buf, size_t n)
{
	memset(buf, 5, n);
}

static uint32_t same_word(void)
{
	return 0x05050505u;
}

static const struct randombytes_implementation same_random = {
	.implementation_name = NULL,
	.random = same_word,
	.buf = same_bytes,
};

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void test_temp_name_taken(void **state)
{
	char dir[] = "/tmp/gitseal-io-XXXXXX", target[64], blocker[64], held[8] = { 0 };
	struct gs_atomic_file af;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(target, sizeof(target), "%s/target", dir);
	snprintf(blocker, sizeof(blocker), "%s/.gitseal-tmp-FFFFFF", dir);
	f = fopen(blocker, "wb");
	assert_non_null(f);
	fputs("held", f);
	fclose(f);

	assert_int_equal(randombytes_set_implementation((struct randombytes_implementation *)&same_random), 0);
	assert_int_equal(gs_atomic_write(target, (const uint8_t *)"new", 3, 0600), GS_ERR_WRITE);
	assert_non_null(strstr(gs_error_message(), "cannot create a temporary file beside"));
	assert_non_null(strstr(gs_error_message(), "File exists"));
	assert_int_equal(gs_atomic_open(&af, target, 0600), GS_ERR_WRITE);
	assert_non_null(strstr(gs_error_message(), "File exists"));
	assert_int_equal(access(target, F_OK), -1);
	assert_int_equal(entries(dir), 1);
	f = fopen(blocker, "rb");
	assert_non_null(f);
	assert_int_equal(fread(held, 1, sizeof(held) - 1, f), 4);
	fclose(f);
	assert_string_equal(held, "held");

	/* the name free again: written, and nothing left beside it */
	assert_int_equal(unlink(blocker), 0);
	assert_int_equal(gs_atomic_write(target, (const uint8_t *)"new", 3, 0600), 0);
	assert_int_equal(randombytes_set_implementation(&randombytes_sysrandom_implementation), 0);
	assert_int_equal(entries(dir), 1);
	assert_int_equal(unlink(target), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void assert_holds(const char *path, const char *text)
{
	struct gs_buf b;

	gs_buf_init(&b, false);
	assert_int_equal(gs_read_file(path, &b, 1 << 10), 0);
	assert_int_equal(b.len, strlen(text));
	assert_memory_equal(b.data, text, b.len);
	gs_buf_release(&b);
}

/* A name read through a symbolic link is written where it led then: the
 * link pointed elsewhere between the read and the write, nothing is
 * written; read again, the write goes ahead, and the link stays. */
static void test_link_retargeted(void **state)
{
	char dir[] = "/tmp/gitseal-io-XXXXXX", a[64], b[64], link[64];
	struct gs_buf in;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	snprintf(link, sizeof(link), "%s/l", dir);
	put(a, "A");
	put(b, "B");
	assert_int_equal(symlink("a", link), 0);
	gs_buf_init(&in, false);
	assert_int_equal(gs_read_file(link, &in, 1 << 10), 0);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("b", link), 0);
	assert_int_equal(gs_atomic_write(link, (const uint8_t *)"new", 3, 0600), GS_ERR_WRITE);
	assert_non_null(strstr(gs_error_message(), "now, not to"));
	assert_true(gs_changed_since_read(link));
	assert_holds(a, "A");
	assert_holds(b, "B");
	gs_buf_reset(&in);
	assert_int_equal(gs_read_file(link, &in, 1 << 10), 0);
	gs_buf_release(&in);
	assert_int_equal(gs_atomic_write(link, (const uint8_t *)"new", 3, 0600), 0);
	assert_holds(b, "new");
	assert_holds(a, "A");
	assert_int_equal(entries(dir), 3);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(unlink(a), 0);
	assert_int_equal(unlink(b), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* gs_replace_found replaces the file found and nothing else: not a link
 * put in its place (to anywhere), not another file. */
static void test_replace_found(void **state)
{
	char dir[] = "/tmp/gitseal-io-XXXXXX", f[64], out[64], moved[64];
	struct gs_file_id id;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(f, sizeof(f), "%s/f", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(moved, sizeof(moved), "%s/moved", dir);
	put(f, "F");
	put(out, "OUT");
	assert_int_equal(lstat(f, &st), 0);
	id = (struct gs_file_id){ st.st_dev, st.st_ino };
	assert_int_equal(gs_replace_found(f, &id, NULL, (const uint8_t *)"new", 3), 0);
	assert_holds(f, "new");
	/* replaced: another inode, the one found is gone */
	assert_int_equal(gs_replace_found(f, &id, NULL, (const uint8_t *)"x", 1), GS_ERR_WRITE);
	assert_non_null(strstr(gs_error_message(), "it is another file now"));
	assert_int_equal(lstat(f, &st), 0);
	id = (struct gs_file_id){ st.st_dev, st.st_ino };
	assert_int_equal(rename(f, moved), 0);
	assert_int_equal(symlink("out", f), 0);
	assert_int_equal(gs_replace_found(f, &id, NULL, (const uint8_t *)"x", 1), GS_ERR_WRITE);
	assert_non_null(strstr(gs_error_message(), "it is a symbolic link now"));
	assert_holds(out, "OUT");
	assert_holds(moved, "new");
	assert_int_equal(entries(dir), 3);
	assert_int_equal(unlink(f), 0);
	assert_int_equal(unlink(out), 0);
	assert_int_equal(unlink(moved), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Where a write puts a file: through a directory link and a dangling
 * link, every link resolved; standard output and devices put none. */
static void test_write_lands(void **state)
{
	char dir[] = "/tmp/gitseal-io-XXXXXX", real[PATH_MAX], path[64], sub[64], dangling[64];
	char want[PATH_MAX + 16], got[PATH_MAX];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(realpath(dir, real));
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/l", dir);
	assert_int_equal(symlink("sub", path), 0);
	snprintf(path, sizeof(path), "%s/l/new.yaml", dir);
	assert_true(gs_write_lands(path, got));
	snprintf(want, sizeof(want), "%s/sub/new.yaml", real);
	assert_string_equal(got, want);
	snprintf(dangling, sizeof(dangling), "%s/d", dir);
	assert_int_equal(symlink("sub/later.yaml", dangling), 0);
	assert_true(gs_write_lands(dangling, got));
	snprintf(want, sizeof(want), "%s/sub/later.yaml", real);
	assert_string_equal(got, want);
	assert_false(gs_write_lands("-", got));
	assert_false(gs_write_lands("/dev/null", got));
	snprintf(path, sizeof(path), "%s/l", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(unlink(dangling), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regular_files),
		cmocka_unit_test(test_pipes),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_fd_writer),
		cmocka_unit_test(test_stream_writev),
		cmocka_unit_test(test_temp_name_taken),
		cmocka_unit_test(test_link_retargeted),
		cmocka_unit_test(test_replace_found),
		cmocka_unit_test(test_write_lands),
	};

	if (gs_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
