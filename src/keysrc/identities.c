/* age identities from the sops environment (spec 7.3; sops age/keysource.go
 * loadIdentities). All sources are combined; one that fails is noted and
 * the others are still tried, as sops does. Key text is read into secure
 * memory and wiped after parsing. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gitseal/alloc.h"
#include "gitseal/cmdline.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "gitseal/sops.h"

extern char **environ;

enum { KEY_TEXT_MAX = 1024 * 1024 };

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
		ret = age_identity_list_add_file_text(ids, (const char *)text.data, text.len, path);
	if (ret < 0)
		gs_error_prefix("%s '%s'", what, gs_shown_arg(path));
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

/* Runs a key command (no shell: its words, as sops's shlex split) with
 * SOPS_AGE_RECIPIENT set to the recipient whose key is wanted (sops
 * age/keysource.go getOutputFromCmd), its standard output into out. */
static int run_key_cmd(const char *var, const char *cmdline, const char *recipient, struct gs_buf *out)
{
	char **words = NULL, **env = NULL, *recipient_var = NULL;
	size_t nwords, nenv = 0;
	int pipefd[2] = { -1, -1 }, status = 0, ret;
	pid_t pid;

	if ((ret = cmdline_split(var, cmdline, 0, &words, &nwords)) < 0)
		goto out;
	while (environ[nenv])
		nenv++;
	env = gs_calloc(nenv + 2, sizeof(*env));
	if (!env || gs_asprintf(&recipient_var, "SOPS_AGE_RECIPIENT=%s", recipient ? recipient : "") < 0) {
		recipient_var = NULL;
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	nenv = 0;
	for (size_t i = 0; environ[i]; i++)
		if (strncmp(environ[i], "SOPS_AGE_RECIPIENT=", 19))
			env[nenv++] = environ[i];
	env[nenv] = recipient_var;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		ret = GS_FAIL(GS_ERR_IO, "%s: cannot create a pipe: %s", var, strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		ret = GS_FAIL(GS_ERR_IO, "%s: cannot fork: %s", var, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execvpe(words[0], words, env);
		_exit(127);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	for (;;) {
		ssize_t n;

		if ((ret = gs_buf_reserve(out, 4096)) < 0)
			break;
		n = read(pipefd[0], out->data + out->len, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		if (out->len > KEY_TEXT_MAX) {
			ret = GS_FAIL(GS_ERR_LIMIT, "%s: output too large", var);
			kill(pid, SIGTERM);
			break;
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret < 0)
		goto out;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		ret = GS_FAIL(GS_ERR_KEY, "%s '%s' failed (%s %d)", var, gs_shown(words[0]),
			      WIFEXITED(status) ? "exit status" : "signal",
			      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(recipient_var);
	free(env);
	free(words);
	return ret;
}

static int add_home_file(struct age_identity_list *ids, const char *base, const char *rel,
			 const char *what)
{
	size_t n = strlen(base) + strlen(rel) + 2;
	char *path = gs_malloc(n);
	int ret = 0;

	if (!path)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	snprintf(path, n, "%s/%s", base, rel);
	if (file_exists(path))
		ret = add_file(ids, path, what);
	free(path);
	return ret;
}

/* ---- Problems met on the way ----
 * sops tries every source and fails (128) only when no identity opens the
 * data key; what went wrong with a source is then part of the message
 * (age/keysource.go formatError). The notes are process-wide: identities
 * loaded once serve every thread of a bulk run. */
static pthread_mutex_t notes_lock = PTHREAD_MUTEX_INITIALIZER;
static char notes[1024];

static void notes_clear(void)
{
	pthread_mutex_lock(&notes_lock);
	notes[0] = '\0';
	pthread_mutex_unlock(&notes_lock);
}

/* Records the current error message as a note and clears it. */
static void note_error(void)
{
	size_t n;

	pthread_mutex_lock(&notes_lock);
	n = strlen(notes);
	if (!strstr(notes, gs_error_message()))
		snprintf(notes + n, sizeof(notes) - n, "%s%s", n ? "; " : "", gs_error_message());
	pthread_mutex_unlock(&notes_lock);
	gs_error_clear();
}

void sops_identities_problems(char *out, size_t cap)
{
	pthread_mutex_lock(&notes_lock);
	snprintf(out, cap, "%s", notes);
	pthread_mutex_unlock(&notes_lock);
}

/* A source that fails is noted, not fatal; out of memory is. */
static int keep_going(int ret)
{
	if (ret == GS_ERR_NOMEM)
		return ret;
	if (ret < 0)
		note_error();
	return 0;
}

/* The default keys.txt's path as sops finds it ($XDG_CONFIG_HOME/sops/age,
 * else $HOME/.config/sops/age), whether or not it exists; false when
 * neither variable is set or it does not fit in cap bytes. */
static bool default_age_key_file(char *path, size_t cap)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	int n;

	if (xdg && *xdg)
		n = snprintf(path, cap, "%s/sops/age/keys.txt", xdg);
	else if (home && *home)
		n = snprintf(path, cap, "%s/.config/sops/age/keys.txt", home);
	else
		return false;
	return n > 0 && (size_t)n < cap;
}

int sops_identities_load(struct age_identity_list *ids)
{
	const char *v, *home = getenv("HOME");
	char path[PATH_MAX];
	int ret = 0;

	notes_clear();
	if ((v = getenv("SOPS_AGE_SSH_PRIVATE_KEY_FILE")) && *v &&
	    (ret = keep_going(add_file(ids, v, "SOPS_AGE_SSH_PRIVATE_KEY_FILE"))) < 0)
		return ret;
	/* Default ssh keys are a convenience: one that does not parse (a
	 * PEM key protected by a passphrase, without its .pub) is skipped,
	 * not fatal. A protected key asks only when an entry is for it. */
	if (home && *home) {
		if (add_home_file(ids, home, ".ssh/id_ed25519", "ssh key") < 0)
			gs_error_clear();
		if (add_home_file(ids, home, ".ssh/id_rsa", "ssh key") < 0)
			gs_error_clear();
	}
	if ((v = getenv("SOPS_AGE_KEY")) && *v) {
		ret = add_key_words(ids, v);
		if (ret < 0 && ret != GS_ERR_NOMEM)
			gs_error_prefix("SOPS_AGE_KEY");
		if ((ret = keep_going(ret)) < 0)
			return ret;
	}
	if ((v = getenv("SOPS_AGE_KEY_FILE")) && *v &&
	    (ret = keep_going(add_file(ids, v, "SOPS_AGE_KEY_FILE"))) < 0)
		return ret;
	/* the default keys.txt is read even when the variables are set */
	if (default_age_key_file(path, sizeof(path)) && file_exists(path))
		ret = add_file(ids, path, "age key file");
	/* SOPS_AGE_KEY_CMD and SOPS_AGE_SSH_PRIVATE_KEY_CMD are run per
	 * recipient: sops_identities_for_recipient */
	return keep_going(ret);
}

/* ---- Key commands, per recipient ----
 * sops runs them for each age key it tries, with SOPS_AGE_RECIPIENT set,
 * so that a command can hand out the one key asked for. gitseal runs them
 * when the identities above did not open an entry, once per recipient per
 * process (a git filter or a bulk run handles many files), and keeps what
 * they gave. */
struct cmd_result {
	char *recipient;
	struct age_identity_list ids;
};

static pthread_mutex_t cmd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cmd_result *cmd_results;
static size_t cmd_result_count;

/* The identities that the command in the variable var prints. */
static int run_command(const char *var, const char *cmd, const char *recipient,
		       struct age_identity_list *ids)
{
	struct gs_buf out;
	int ret;

	gs_buf_init(&out, true);
	ret = run_key_cmd(var, cmd, recipient, &out);
	if (ret)
		goto out;
	ret = age_identity_list_add_text(ids, (const char *)out.data, out.len, var);
out:
	if (ret < 0 && ret != GS_ERR_NOMEM && !strstr(gs_error_message(), var))
		gs_error_prefix("%s", var);
	gs_buf_release(&out);
	return ret;
}

static int run_commands(const char *recipient, struct age_identity_list *ids)
{
	static const struct {
		const char *var;
	} commands[] = { { "SOPS_AGE_SSH_PRIVATE_KEY_CMD" }, { "SOPS_AGE_KEY_CMD" } };

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *cmd = getenv(commands[i].var);
		int ret;

		if (!cmd || !*cmd)
			continue;
		ret = keep_going(run_command(commands[i].var, cmd, recipient, ids));
		if (ret)
			return ret;
	}
	return 0;
}

bool sops_identities_have_commands(void)
{
	const char *a = getenv("SOPS_AGE_KEY_CMD"), *b = getenv("SOPS_AGE_SSH_PRIVATE_KEY_CMD");

	return (a && *a) || (b && *b);
}

const struct age_identity_list *sops_identities_for_recipient(const char *recipient)
{
	const struct age_identity_list *found = NULL;
	struct cmd_result *grown;

	if (!recipient || !sops_identities_have_commands())
		return NULL;
	pthread_mutex_lock(&cmd_lock);
	for (size_t i = 0; i < cmd_result_count && !found; i++)
		if (!strcmp(cmd_results[i].recipient, recipient))
			found = &cmd_results[i].ids;
	if (found)
		goto out;
	grown = gs_realloc(cmd_results, (cmd_result_count + 1) * sizeof(*grown));
	if (!grown)
		goto out;
	cmd_results = grown;
	memset(&cmd_results[cmd_result_count], 0, sizeof(*cmd_results));
	if (!(cmd_results[cmd_result_count].recipient = gs_strdup(recipient)))
		goto out;
	if (run_commands(recipient, &cmd_results[cmd_result_count].ids) < 0) {
		age_identity_list_release(&cmd_results[cmd_result_count].ids);
		free(cmd_results[cmd_result_count].recipient);
		goto out;
	}
	found = &cmd_results[cmd_result_count++].ids;
out:
	pthread_mutex_unlock(&cmd_lock);
	return found;
}

void sops_identities_forget(void)
{
	pthread_mutex_lock(&cmd_lock);
	for (size_t i = 0; i < cmd_result_count; i++) {
		age_identity_list_release(&cmd_results[i].ids);
		free(cmd_results[i].recipient);
	}
	free(cmd_results);
	cmd_results = NULL;
	cmd_result_count = 0;
	pthread_mutex_unlock(&cmd_lock);
}
