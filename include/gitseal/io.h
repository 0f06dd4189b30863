/* Byte sources and sinks, whole-file reads, and crash-safe writes. */
#ifndef GITSEAL_IO_H
#define GITSEAL_IO_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "gitseal/secmem.h"

/* A source of bytes. read() fills up to cap bytes and sets *got; *got == 0
 * means end of input. Returns 0 or a negative gs_err. */
struct gs_reader {
	int (*read)(void *ctx, uint8_t *buf, size_t cap, size_t *got);
	void *ctx;
	/* optional: fills iov[0..n) in order, as read would one after the
	 * other, in as few system calls as it can */
	int (*readv)(void *ctx, struct iovec *iov, int n, size_t *got);
};

/* A sink of bytes. Returns 0 or a negative gs_err. */
struct gs_writer {
	int (*write)(void *ctx, const uint8_t *buf, size_t n);
	void *ctx;
	/* optional: writes iov[0..n) in order, as write would one after the
	 * other, in as few system calls as it can (iov is used up) */
	int (*writev)(void *ctx, struct iovec *iov, int n);
};

struct gs_mem_source {
	const uint8_t *data;
	size_t len;
	size_t pos;
};

struct gs_reader gs_reader_from_file(FILE *f);
struct gs_reader gs_reader_from_mem(struct gs_mem_source *src, const uint8_t *data, size_t len);
struct gs_writer gs_writer_to_file(FILE *f);
struct gs_writer gs_writer_to_buf(struct gs_buf *b);
/* Writes straight to *fd with write(2): no stdio buffer, so plaintext is
 * not copied to unlocked memory on its way out. */
struct gs_writer gs_writer_to_fd(const int *fd);

/* Reads exactly n bytes unless the input ends first; *got says how many. */
int gs_read_full(struct gs_reader *r, uint8_t *buf, size_t n, size_t *got)
	__attribute__((warn_unused_result));

/* Fills iov[0..n) in order, exactly, unless the input ends first; *got
 * says how many bytes. iov is used up (its entries are advanced). */
int gs_read_vec(struct gs_reader *r, struct iovec *iov, int n, size_t *got)
	__attribute__((warn_unused_result));

/* Writes iov[0..n) in order (iov is used up). */
int gs_write_vec(struct gs_writer *w, struct iovec *iov, int n) __attribute__((warn_unused_result));

/* Reads a whole file (path "-" is stdin) into b, failing past max bytes. */
int gs_read_file(const char *path, struct gs_buf *b, size_t max)
	__attribute__((warn_unused_result));

/* A regular file as lstat found it: device and inode. */
struct gs_file_id {
	dev_t dev;
	ino_t ino;
};

/* Crash-safe replacement of a file: the new content goes to a temporary
 * file in the directory of the target (through symbolic links: the link
 * stays and its target is replaced), which is renamed over it only when
 * complete, so the target never holds a partial file. When the target
 * exists (a write in place), the temporary file is fsynced before the
 * rename and the directory after it, so a crash at any point leaves the
 * old or the new content, never neither. A new file is not fsynced: there
 * is nothing to lose, and fsync would cost more than the whole job. The
 * syncs stay for `gitseal age -o` over an existing file too, where Go age
 * truncates and rewrites unsynced (2026-12-02, this VM, 100-byte file):
 * on tmpfs they cost nothing measurable; on ext4 a replacement took 12.6
 * ms with them and 5.9 without, and age's rewrite 11.0 (ext4 flushes a
 * truncated file rewritten, auto_da_alloc, so age pays a flush without
 * the guarantee). The
 * target's mode (and owner, for root) is kept, or mode is used for a new
 * file. A target with other hard links is refused (they would keep the old
 * content). On failure the target is untouched and the temporary file is
 * removed. A target this process read with gs_read_file is replaced only
 * if it is still what was read (device, inode, size, times), checked under
 * a lock on its directory: of two writers of one file, the second fails
 * ("it changed since it was read") instead of undoing the first. A target
 * this process read through a name is replaced only where the name led
 * then: a link changed since, or put in the file's place, is refused ("it
 * leads to ... now"), nothing written; the check and the rename go through
 * the directory opened once, never through a link found there. */
struct gs_atomic_file {
	char *path;
	char *tmp_path;
	FILE *f;
	int mode;
	bool replacing; /* the target existed: fsync */
	/* the target's directory, opened once: the temporary file is made, the
	 * target checked and the rename done through it (openat, renameat), so
	 * a directory swapped for a link after the checks changes nothing */
	int dir_fd;
	bool dir_open;
	const char *name, *tmp_name; /* in path and tmp_path: the names in dir_fd */
	const struct gs_file_id *found; /* gs_replace_found */
	const char *beneath;            /* gs_replace_found: the directory dir_fd must lie beneath */
};

int gs_atomic_open(struct gs_atomic_file *af, const char *path, int mode)
	__attribute__((warn_unused_result));
/* What gs_atomic_open refuses of an existing target, asked before work
 * that should not be lost (edit, before the editor): a target (through
 * symbolic links) with more than one hard link, whose other links would
 * keep the old content. 0 or GS_ERR_WRITE. */
int gs_check_replaceable(const char *path) __attribute__((warn_unused_result));
int gs_atomic_commit(struct gs_atomic_file *af) __attribute__((warn_unused_result));
void gs_atomic_abort(struct gs_atomic_file *af);
/* true when path (through symbolic links) was read by this process with
 * gs_read_file and has changed since, or leads elsewhere now: a write in
 * place failed because another writer went first. */
bool gs_changed_since_read(const char *path);
/* Writes data to a new file beside path's target (the one read through
 * path, if this process read it), named PATH<infix>XXXXXX,
 * with the target's mode: complete or not at all, never replacing anything
 * (a finished temporary file is hard-linked to the new name). *made gets
 * its name (free it). */
int gs_write_beside(const char *path, const char *infix, const uint8_t *data, size_t len, char **made)
	__attribute__((warn_unused_result));
/* Replaces path, a regular file found by lstat (a walk of a directory for
 * updatekeys -r and rotate -r, an index entry's work-tree file for git
 * lock and unlock), with data as gs_atomic_write does, following no
 * symbolic link: what is put in the file's place since it was checked (a
 * link, to anywhere, or another file) is refused, nothing written, as is
 * a file this process read that was not the one found. With beneath (a
 * real path; NULL: anywhere), its directory must still lie beneath that
 * directory when it is replaced (one moved whole out of the repository
 * keeps its inode: refused, nothing written). */
int gs_replace_found(const char *path, const struct gs_file_id *found, const char *beneath, const uint8_t *data,
		     size_t len) __attribute__((warn_unused_result));
/* One-shot convenience. */
int gs_atomic_write(const char *path, const uint8_t *data, size_t len, int mode)
	__attribute__((warn_unused_result));

/* Writes a command's whole output, once it is complete and verified: "-"
 * is standard output; a regular file (or a new one) is replaced as above;
 * anything else (a FIFO, a character device, and /dev/stdout, /dev/fd/N
 * and every path under /proc, whatever they lead to) is opened and written
 * directly, never replaced. */
int gs_output_write(const char *path, const uint8_t *data, size_t len, int mode)
	__attribute__((warn_unused_result));
/* Whether gs_output_write writes path directly (the "anything else"
 * above), and the descriptor it writes to (or GS_ERR_WRITE): for output
 * that streams, as `gitseal age -o` does. */
bool gs_output_is_direct(const char *path);
int gs_output_open_direct(const char *path) __attribute__((warn_unused_result));

/* Where gs_output_write(path) puts a file: its real path in real (every
 * symbolic link resolved, through a dangling one to the file it names;
 * the file itself need not exist). false when it writes no file there
 * ("-", a device, a FIFO) or the place does not resolve. */
bool gs_write_lands(const char *path, char real[static PATH_MAX]) __attribute__((warn_unused_result));

#endif
