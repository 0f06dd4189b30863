/* age identities from the sops environment (spec 7.3; sops age/keysource.go
 * loadIdentities). All sources are combined. Key text is read into secure
 * memory and wiped after parsing. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/sops.h"

enum { KEY_TEXT_MAX = 1024 * 1024, CMD_MAX_WORDS = 64 };

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int add_file(struct age_identity_list *ids, const char *path, const char *what)
{
	struct gs_buf text;
	int ret;

	gs_buf_init(&text, true);
	ret = gs_read_file(path, &text, KEY_TEXT_MAX);
	if (ret == 0)
		ret = age_identity_list_add_text(ids, (const char *)text.data, text.len, path);
	if (ret < 0)
		gs_error_prefix("%s '%s'", what, path);
	gs_buf_release(&text);
	return ret;
}

/* SOPS_AGE_KEY: every whitespace-separated word of non-comment lines is an
 * identity; each is handed to the parser on a line of its own. Comment and
 * blank lines stay (empty), so that a warning or an error names the
 * variable's own line number when its lines hold one key each, as sops's
 * do (age.ParseIdentities). */
static int add_key_words(struct age_identity_list *ids, const char *env)
{
	struct gs_buf lines;
	const char *p = env;
	bool any = false;
	int ret = 0;

	gs_buf_init(&lines, true);
	while (*p && ret == 0) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *q = p, *end = p + len;
		bool words = false;

		while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (q < end && *q != '#') {
			while (q < end && ret == 0) {
				const char *w = q;

				while (q < end && *q != ' ' && *q != '\t' && *q != '\r')
					q++;
				if (q > w && ((ret = gs_buf_append(&lines, w, (size_t)(q - w))) < 0 ||
					      (ret = gs_buf_append(&lines, "\n", 1)) < 0))
					break;
				words = true;
				while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
					q++;
			}
		}
		if (!words && ret == 0)
			ret = gs_buf_append(&lines, "\n", 1);
		any |= words;
		p = eol ? eol + 1 : end;
	}
	if (ret == 0 && any)
		ret = age_identity_list_add_text(ids, (const char *)lines.data, lines.len,
						 "SOPS_AGE_KEY");
	gs_buf_release(&lines);
	return ret;
}

/* Splits a command line like a shell would for words and quotes (no
 * expansion). words point into buf. */
static int split_words(char *buf, char **words, size_t max, size_t *count)
{
	char *src = buf, *dst = buf;

	*count = 0;
	while (*src) {
		char quote = 0;

		while (*src == ' ' || *src == '\t' || *src == '\n')
			src++;
		if (!*src)
			break;
		if (*count + 1 >= max)
			return GS_FAIL(GS_ERR_USAGE, "SOPS_AGE_KEY_CMD: too many words");
		words[(*count)++] = dst;
		while (*src && (quote || (*src != ' ' && *src != '\t' && *src != '\n'))) {
			if (quote) {
				if (*src == quote) {
					quote = 0;
					src++;
					continue;
				}
				if (quote == '"' && *src == '\\' && src[1] &&
				    strchr("\"\\$`", src[1]))
					src++;
			} else if (*src == '\'' || *src == '"') {
				quote = *src++;
				continue;
			} else if (*src == '\\' && src[1]) {
				src++;
			}
			*dst++ = *src++;
		}
		if (quote)
			return GS_FAIL(GS_ERR_USAGE, "SOPS_AGE_KEY_CMD: unterminated quote");
		if (*src)
			src++;
		*dst++ = '\0';
	}
	words[*count] = NULL;
	return *count ? 0 : GS_FAIL(GS_ERR_USAGE, "SOPS_AGE_KEY_CMD is empty");
}

static int run_key_cmd(struct age_identity_list *ids, const char *cmdline)
{
	char *buf = strdup(cmdline), *words[CMD_MAX_WORDS];
	struct gs_buf out;
	size_t nwords;
	int pipefd[2] = { -1, -1 }, status = 0, ret;
	pid_t pid;

	gs_buf_init(&out, true);
	if (!buf)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if ((ret = split_words(buf, words, CMD_MAX_WORDS, &nwords)) < 0)
		goto out;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		ret = GS_FAIL(GS_ERR_IO, "SOPS_AGE_KEY_CMD: cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		ret = GS_FAIL(GS_ERR_IO, "SOPS_AGE_KEY_CMD: cannot fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execvp(words[0], words);
		_exit(127);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	for (;;) {
		ssize_t n;

		if ((ret = gs_buf_reserve(&out, 4096)) < 0)
			break;
		n = read(pipefd[0], out.data + out.len, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		out.len += (size_t)n;
		out.data[out.len] = '\0';
		if (out.len > KEY_TEXT_MAX) {
			ret = GS_FAIL(GS_ERR_LIMIT, "SOPS_AGE_KEY_CMD: output too large");
			kill(pid, SIGTERM);
			break;
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret < 0)
		goto out;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ret = GS_FAIL(GS_ERR_KEY, "SOPS_AGE_KEY_CMD '%s' failed", words[0]);
		goto out;
	}
	ret = age_identity_list_add_text(ids, (const char *)out.data, out.len, "SOPS_AGE_KEY_CMD");
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	gs_buf_release(&out);
	free(buf);
	return ret;
}

static int add_home_file(struct age_identity_list *ids, const char *base, const char *rel,
			 const char *what)
{
	size_t n = strlen(base) + strlen(rel) + 2;
	char *path = malloc(n);
	int ret = 0;

	if (!path)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	snprintf(path, n, "%s/%s", base, rel);
	if (file_exists(path))
		ret = add_file(ids, path, what);
	free(path);
	return ret;
}

int sops_identities_load(struct age_identity_list *ids)
{
	const char *v, *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	int ret = 0;

	if ((v = getenv("SOPS_AGE_SSH_PRIVATE_KEY_FILE")) && *v &&
	    (ret = add_file(ids, v, "SOPS_AGE_SSH_PRIVATE_KEY_FILE")) < 0)
		return ret;
	/* Default ssh keys are a convenience: one that does not parse (a
	 * passphrase-protected key, say) is skipped, not fatal. */
	if (home && *home) {
		if (add_home_file(ids, home, ".ssh/id_ed25519", "ssh key") < 0)
			gs_error_clear();
		if (add_home_file(ids, home, ".ssh/id_rsa", "ssh key") < 0)
			gs_error_clear();
	}
	if ((v = getenv("SOPS_AGE_KEY")) && *v && (ret = add_key_words(ids, v)) < 0)
		return ret;
	if ((v = getenv("SOPS_AGE_KEY_FILE")) && *v &&
	    (ret = add_file(ids, v, "SOPS_AGE_KEY_FILE")) < 0)
		return ret;
	if ((v = getenv("SOPS_AGE_KEY_CMD")) && *v && (ret = run_key_cmd(ids, v)) < 0)
		return ret;
	/* the default keys.txt is read even when the variables are set */
	if (xdg && *xdg)
		ret = add_home_file(ids, xdg, "sops/age/keys.txt", "age key file");
	else if (home && *home)
		ret = add_home_file(ids, home, ".config/sops/age/keys.txt", "age key file");
	return ret;
}
