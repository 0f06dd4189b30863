/* The PGP key source: GnuPG driven as sops drives it (pgp/keysource.go,
 * encryptWithGnuPG / decryptWithGnuPG / gpgExec), and a private GnuPG home
 * for the cluster commands. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/pgp.h"
#include "gitseal/shown.h"
#include "gitseal/spawn.h"

extern char **environ;

enum {
	GPG_OUT_MAX = 1024 * 1024, /* stdout: an armored key or a data key */
	GPG_ERR_MAX = 16 * 1024,   /* stderr kept; the rest is read and dropped */
	FPR_MIN = 16,              /* a long key ID */
	FPR_MAX = 64,              /* a v5 fingerprint */
	HOME_MAX_KEYS = 256,
};

/* ---- fingerprints ---- */

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int pgp_fingerprint_parse(const char *text, char **out)
{
	size_t n = 0, i, start = 0;
	bool bang;
	char *fp;

	*out = NULL;
	if (!text)
		text = "";
	if (!(fp = gs_malloc(strlen(text) + 1)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	/* sops: strings.Replace(fingerprint, " ", "", -1) */
	for (const char *p = text; *p; p++)
		if (*p != ' ')
			fp[n++] = *p;
	fp[n] = '\0';
	if (n > 2 && fp[0] == '0' && (fp[1] == 'x' || fp[1] == 'X'))
		start = 2;
	for (i = start; i < n && is_hex(fp[i]); i++)
		;
	bang = i + 1 == n && fp[i] == '!';
	if (i - start < FPR_MIN || i - start > FPR_MAX || i + bang != n) {
		free(fp);
		return GS_FAIL(GS_ERR_KEY, "invalid PGP fingerprint '%s': expected 16 to 64 hexadecimal digits",
			       gs_shown(text));
	}
	*out = fp;
	return 0;
}

/* sops shortenFingerprint: the last 16 digits (and a final '!') for
 * --trusted-key. */
static const char *short_key_id(const char *fp)
{
	size_t n = strlen(fp), want = 16 + (n && fp[n - 1] == '!');

	return n > want ? fp + n - want : fp;
}

/* ---- armor (RFC 4880 6.2) ---- */

static bool is_base64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/' || c == '=';
}

struct lines {
	const char *p, *end;
};

/* The next line without its end of line and trailing blanks; false at the end. */
static bool next_line(struct lines *l, const char **s, size_t *n)
{
	const char *nl;

	if (l->p >= l->end)
		return false;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	*s = l->p;
	*n = (size_t)((nl ? nl : l->end) - l->p);
	l->p = nl ? nl + 1 : l->end;
	while (*n && ((*s)[*n - 1] == '\r' || (*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
	return true;
}

static bool line_is(const char *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

static bool all_base64(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_base64(s[i]))
			return false;
	return n > 0;
}

/* An armor header: "Key: value", printable ASCII. */
static bool is_armor_header(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);

	if (!colon || colon == s || (size_t)(colon - s) + 1 >= n || colon[1] != ' ')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

int pgp_armor_check(const char *text, size_t len)
{
	struct lines l = { text, text + len };
	const char *s;
	size_t n, body = 0;
	bool in_body = false, have_crc = false, ended = false;

	if (len > PGP_ARMOR_MAX)
		return GS_FAIL(GS_ERR_PARSE, "PGP message too large");
	/* leading blank lines are whitespace */
	while (next_line(&l, &s, &n) && !n)
		;
	if (!n || !line_is(s, n, "-----BEGIN PGP MESSAGE-----"))
		return GS_FAIL(GS_ERR_PARSE, "not an armored PGP message");
	while (!ended && next_line(&l, &s, &n)) {
		if (!in_body) {
			if (!n)
				in_body = true;
			else if (!is_armor_header(s, n))
				return GS_FAIL(GS_ERR_PARSE, "PGP message: malformed armor header");
			continue;
		}
		if (line_is(s, n, "-----END PGP MESSAGE-----")) {
			ended = true;
		} else if (have_crc) {
			return GS_FAIL(GS_ERR_PARSE, "PGP message: data after the checksum");
		} else if (n == 5 && s[0] == '=' && all_base64(s + 1, 4)) {
			have_crc = true;
		} else if (n <= 1024 && all_base64(s, n)) {
			body++;
		} else {
			return GS_FAIL(GS_ERR_PARSE, "PGP message: malformed base64 line");
		}
	}
	if (!ended || !body)
		return GS_FAIL(GS_ERR_PARSE, "PGP message: incomplete");
	while (next_line(&l, &s, &n))
		if (n)
			return GS_FAIL(GS_ERR_PARSE, "PGP message: data after the end");
	return 0;
}

/* ---- running gpg ---- */

void pgp_stderr_reason(const char *err, size_t len, char *out, size_t cap)
{
	struct lines l = { err, err + len };
	const char *s, *best = NULL;
	size_t n, best_n = 0, o = 0;

	if (!cap)
		return;
	/* not the statistics of --import ("gpg: Total number processed: 1",
	 * "gpg:       secret keys read: 1") */
	while (next_line(&l, &s, &n))
		if (n > 5 && !memcmp(s, "gpg: ", 5) && s[5] != ' ' &&
		    !(n >= 27 && !memcmp(s + 5, "Total number processed", 22))) {
			best = s + 5;
			best_n = n - 5;
		}
	for (size_t i = 0; best && i < best_n && o + 1 < cap && o < PGP_REASON_MAX; i++)
		out[o++] = (unsigned char)best[i] >= 0x20 && (unsigned char)best[i] <= 0x7e ? best[i] : '?';
	out[o] = '\0';
}

static const char *gpg_binary(void)
{
	const char *env = getenv("SOPS_GPG_EXEC");

	return env && *env ? env : "gpg";
}

struct tool_run {
	const char *binary;
	const char *const *args;   /* argv[1..], NULL-terminated */
	const uint8_t *in;         /* given on stdin (may be NULL) */
	size_t in_len;
	struct gs_buf *out;        /* stdout, or NULL to drop it */
	char reason[PGP_REASON_MAX + 1];
	int status;                /* exit status, -1 for a signal */
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Spawns binary with stdin on one end of a socket pair (written with
 * MSG_NOSIGNAL: a gpg that exits early cannot raise SIGPIPE in a library
 * caller) and stdout and stderr on pipes. fds: our ends. */
static int tool_spawn(struct tool_run *r, pid_t *pid, int fds[3])
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	const char *argv[32];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	size_t argc = 0;
	int rc;

	argv[argc++] = r->binary;
	for (size_t i = 0; r->args[i] && argc < sizeof(argv) / sizeof(argv[0]) - 1; i++)
		argv[argc++] = r->args[i];
	argv[argc] = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0) {
		rc = errno;
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[1], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
	gs_spawnattr_init(&attr);
	rc = posix_spawnp(pid, r->binary, &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc)
		goto fail;
	close(in[1]);
	close(out[1]);
	close(err[1]);
	fds[0] = in[0];
	fds[1] = out[0];
	fds[2] = err[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&out[i]);
		close_fd(&err[i]);
	}
	if (rc == ENOENT)
		return GS_FAIL(GS_ERR_KEY, "%s not found: install GnuPG or set SOPS_GPG_EXEC", r->binary);
	return GS_FAIL(GS_ERR_IO, "cannot run %s: %s", r->binary, strerror(rc));
}

/* Reads what fd has into b (NULL, or past max: dropped); false at EOF.
 * Where b cannot grow, *nomem is set and the rest is dropped: the tool
 * still runs to its end, and its output, cut short, is not used. */
static bool drain(int fd, struct gs_buf *b, size_t max, bool *nomem)
{
	uint8_t scratch[4096];
	ssize_t n;

	if (b && b->len <= max && !*nomem && gs_buf_reserve(b, sizeof(scratch)) != 0)
		*nomem = true;
	if (b && b->len <= max && !*nomem) {
		n = read(fd, b->data + b->len, sizeof(scratch));
		if (n > 0) {
			b->len += (size_t)n;
			b->data[b->len] = '\0';
		}
	} else {
		n = read(fd, scratch, sizeof(scratch));
		sodium_memzero(scratch, sizeof(scratch));
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	return n > 0;
}

/* Feeds stdin, collects stdout and stderr until the tool exits. */
static int tool_exchange(struct tool_run *r, pid_t pid, int fds[3], struct gs_buf *err)
{
	size_t sent = 0;
	int status = 0;
	bool nomem = false;

	if (!r->in_len)
		close_fd(&fds[0]);
	while (fds[0] >= 0 || fds[1] >= 0 || fds[2] >= 0) {
		struct pollfd p[3];

		for (int i = 0; i < 3; i++) {
			p[i].fd = fds[i];
			p[i].events = i == 0 ? POLLOUT : POLLIN;
			p[i].revents = 0;
		}
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[0] >= 0 && p[0].revents) {
			ssize_t n = send(fds[0], r->in + sent, r->in_len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n > 0)
				sent += (size_t)n;
			if ((n < 0 && errno != EINTR && errno != EAGAIN) || sent == r->in_len)
				close_fd(&fds[0]);
		}
		if (fds[1] >= 0 && p[1].revents && !drain(fds[1], r->out, GPG_OUT_MAX, &nomem))
			close_fd(&fds[1]);
		/* past the limit: stop gpg rather than read on (a compressed
		 * literal packet in a file's enc can expand to gigabytes) */
		if (fds[1] >= 0 && r->out && r->out->len > GPG_OUT_MAX) {
			kill(pid, SIGKILL);
			close_fd(&fds[0]);
			close_fd(&fds[1]);
		}
		if (fds[2] >= 0 && p[2].revents && !drain(fds[2], err, GPG_ERR_MAX, &nomem))
			close_fd(&fds[2]);
	}
	for (int i = 0; i < 3; i++)
		close_fd(&fds[i]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return GS_FAIL(GS_ERR_IO, "cannot wait for %s: %s", r->binary, strerror(errno));
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (nomem)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (r->out && r->out->len > GPG_OUT_MAX)
		return GS_FAIL(GS_ERR_LIMIT, "%s: output too large", r->binary);
	return 0;
}

/* Runs a tool to completion; 0 when it ran (look at r->status). */
static int tool_run(struct tool_run *r)
{
	struct gs_buf err;
	int fds[3] = { -1, -1, -1 };
	pid_t pid;
	int ret;

	r->reason[0] = '\0';
	r->status = -1;
	if ((ret = tool_spawn(r, &pid, fds)) < 0)
		return ret;
	gs_buf_init(&err, false);
	ret = tool_exchange(r, pid, fds, &err);
	if (ret == 0 && r->status != 0)
		pgp_stderr_reason((const char *)err.data, err.len, r->reason, sizeof(r->reason));
	gs_buf_release(&err);
	return ret;
}

static int gpg_failed(const struct tool_run *r, const char *what)
{
	if (r->reason[0])
		return GS_FAIL(GS_ERR_KEY, "%s: gpg: %s", what, r->reason);
	if (r->status < 0)
		return GS_FAIL(GS_ERR_KEY, "%s: gpg was killed by a signal", what);
	return GS_FAIL(GS_ERR_KEY, "%s: gpg exited with status %d", what, r->status);
}

int pgp_encrypt(const char *fingerprint, const uint8_t *plain, size_t len, struct gs_buf *armored)
{
	/* sops encryptWithGnuPG: the same arguments, in the same order */
	const char *args[] = {
		"--no-default-recipient", "--yes", "--encrypt", "-a", "-r", fingerprint,
		"--trusted-key", short_key_id(fingerprint), "--no-encrypt-to", NULL,
	};
	struct tool_run r = { .binary = gpg_binary(), .args = args, .in = plain, .in_len = len };
	struct gs_buf out;
	size_t start, end;
	int ret;

	gs_buf_init(&out, false);
	r.out = &out;
	if ((ret = tool_run(&r)) < 0)
		goto out;
	if (r.status != 0) {
		ret = gpg_failed(&r, "cannot encrypt for PGP key");
		goto out;
	}
	start = 0;
	end = out.len;
	while (start < end && strchr(" \t\r\n", out.data[start]))
		start++;
	while (end > start && strchr(" \t\r\n", out.data[end - 1]))
		end--;
	if ((ret = pgp_armor_check((const char *)out.data + start, end - start)) < 0) {
		ret = GS_FAIL(GS_ERR_KEY, "cannot encrypt for PGP key: gpg wrote no armored message");
		goto out;
	}
	ret = gs_buf_append(armored, out.data + start, end - start);
out:
	gs_buf_release(&out);
	return ret;
}

int pgp_decrypt(const char *armored, size_t len, struct gs_buf *plain)
{
	/* sops decryptWithGnuPG's "-d", with the user's auto-key-retrieve
	 * off: an enc signed by a key the user lacks (metadata is outside the
	 * MAC) made gpg ask a keyserver, or the signer's own domain (WKD), for
	 * it: a sign of life to whoever planted it. A data key needs no
	 * signature checked. */
	static const char *const args[] = { "--no-auto-key-retrieve", "-d", NULL };
	struct tool_run r = { .binary = gpg_binary(), .args = args, .in = (const uint8_t *)armored,
			      .in_len = len };
	int ret;

	gs_buf_reset(plain);
	/* only a well-formed armored message reaches gpg's parsers */
	if ((ret = pgp_armor_check(armored, len)) < 0)
		return ret;
	r.out = plain;
	if ((ret = tool_run(&r)) < 0)
		goto fail;
	if (r.status != 0) {
		ret = gpg_failed(&r, "cannot decrypt");
		goto fail;
	}
	/* an old gpg can drop AEAD packets it does not know and succeed with
	 * nothing (sops issue 896) */
	if (!plain->len) {
		ret = GS_FAIL(GS_ERR_KEY, "cannot decrypt: gpg returned no data");
		goto fail;
	}
	return 0;
fail:
	gs_buf_reset(plain);
	return ret;
}

/* ---- a private GnuPG home ---- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.asc regular files of dir (symbolic links followed: a mounted
 * Kubernetes Secret is made of them), sorted; hidden names skipped. */
static int list_key_files(const char *dir, char ***out, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int ret = 0;

	*out = NULL;
	*count = 0;
	if (!d)
		return GS_FAIL(GS_ERR_IO, "cannot read the PGP key directory '%s': %s", gs_shown(dir), strerror(errno));
	while (!ret && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		struct stat st;
		char *path = NULL, **grown;

		if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".asc"))
			continue;
		if (gs_asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
			break;
		}
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || n >= HOME_MAX_KEYS ||
		    !(grown = gs_realloc(names, (n + 1) * sizeof(*names)))) {
			if (n >= HOME_MAX_KEYS)
				ret = GS_FAIL(GS_ERR_LIMIT, "'%s': more than %d key files", gs_shown(dir),
					      HOME_MAX_KEYS);
			free(path);
			continue;
		}
		names = grown;
		names[n++] = path;
	}
	closedir(d);
	if (ret < 0) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return ret;
	}
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	*out = names;
	*count = n;
	return 0;
}

static int import_key_file(const char *home, const char *path)
{
	const char *args[] = { "--homedir", home, "--batch", "--import", "--", path, NULL };
	struct tool_run r = { .binary = gpg_binary(), .args = args };
	int ret = tool_run(&r);

	if (ret < 0)
		return ret;
	if (r.status != 0)
		return GS_FAIL(GS_ERR_KEY, "cannot import '%s': gpg: %s", gs_shown(path),
			       r.reason[0] ? r.reason : "import failed");
	return 0;
}

int pgp_home_create(struct pgp_home *h, const char *key_dir)
{
	const char *base = getenv("TMPDIR");
	char **files = NULL;
	size_t count = 0;
	int ret;

	memset(h, 0, sizeof(*h));
	if (!base || !*base)
		base = "/tmp";
	if ((ret = list_key_files(key_dir, &files, &count)) < 0)
		return ret;
	if (!count) {
		ret = GS_FAIL(GS_ERR_KEY, "no *.asc key files in the PGP key directory '%s'", gs_shown(key_dir));
		goto out;
	}
	if (snprintf(h->path, sizeof(h->path), "%s/gitseal-gnupg-XXXXXX", base) >= (int)sizeof(h->path) ||
	    !mkdtemp(h->path)) {
		h->path[0] = '\0';
		ret = GS_FAIL(GS_ERR_IO, "cannot create a private GnuPG home in '%s': %s", gs_shown(base),
			      strerror(errno));
		goto out;
	}
	for (size_t i = 0; ret == 0 && i < count; i++)
		if ((ret = import_key_file(h->path, files[i])) == 0)
			h->imported++;
	if (ret < 0)
		pgp_home_remove(h);
out:
	for (size_t i = 0; i < count; i++)
		free(files[i]);
	free(files);
	return ret;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* gpgconf beside $SOPS_GPG_EXEC when that is a path, else on PATH. */
static void kill_agent(const char *home)
{
	const char *args[] = { "--homedir", home, "--kill", "gpg-agent", NULL };
	const char *gpg = gpg_binary(), *slash = strrchr(gpg, '/');
	char sibling[4096];
	struct tool_run r = { .binary = "gpgconf", .args = args };

	if (slash && snprintf(sibling, sizeof(sibling), "%.*s/gpgconf", (int)(slash - gpg), gpg) <
			     (int)sizeof(sibling) &&
	    access(sibling, X_OK) == 0)
		r.binary = sibling;
	if (tool_run(&r) < 0)
		gs_error_clear(); /* the agent also quits once its socket is gone */
}

void pgp_home_remove(struct pgp_home *h)
{
	if (!h->path[0])
		return;
	kill_agent(h->path);
	nftw(h->path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	h->path[0] = '\0';
}
