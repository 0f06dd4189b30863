/* Whole-file reads: a regular file is read in one piece sized from its
 * length, a pipe in growing blocks; both must give back every byte, in a
 * secure or a plain buffer, and refuse input past the limit. The
 * descriptor writer: every byte through a pipe's partial writes, and the
 * error of a descriptor that cannot be written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regular_files),
		cmocka_unit_test(test_pipes),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_fd_writer),
	};

	if (gs_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
