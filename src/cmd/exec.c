/* gitseal exec-env / exec-file: run a command with the plaintext, never
 * writing it to disk (exec-file uses a FIFO in a private directory, or a
 * private 0600 file with --no-fifo). sops: cmd/sops/subcommand/exec. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "gitseal/alloc.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "cmd.h"
#include "private_dir.h"
#include "session.h"

extern char **environ;

/* The command's environment: the variables gitseal adds (the file's
 * values, --user's HOME/USER/LOGNAME), in secure memory, first, so that
 * they win over the inherited ones of the same name (sops appends them
 * after os.Environ(), and Go keeps the last). */
struct exec_env {
	char **vars;
	size_t count, owned;
};

static int env_add(struct exec_env *e, const char *name, size_t name_len, const char *value, size_t value_len)
{
	size_t len = name_len + 1 + value_len + 1;
	char *var = gs_secure_alloc(len);

	if (!var)
		return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
	memcpy(var, name, name_len);
	var[name_len] = '=';
	memcpy(var + name_len + 1, value, value_len);
	var[len - 1] = '\0';
	e->vars[e->count++] = var;
	e->owned = e->count;
	return 0;
}

static bool env_has(const struct exec_env *e, const char *var)
{
	size_t n = strcspn(var, "=");

	for (size_t i = 0; i < e->owned; i++)
		if (!strncmp(e->vars[i], var, n) && e->vars[i][n] == '=')
			return true;
	return false;
}

/* A variable holds no NUL byte: execve would end the name or the value
 * there (sops: Go's os/exec refuses such an entry with EINVAL). */
static int check_env_entry(const struct doc_entry *d)
{
	const char *key = gs_shown_n(d->key, d->key_len);

	if (d->value->kind != DOC_SCALAR)
		return GS_FAIL(GS_ERR_GENERIC, "cannot use complex value in environment; offending key %s", key);
	if (memchr(d->key, '=', d->key_len))
		return GS_FAIL(GS_ERR_GENERIC, "cannot use keys with '=' in environment: %s", key);
	if (memchr(d->key, '\0', d->key_len))
		return GS_FAIL(GS_ERR_GENERIC, "cannot use keys with a NUL byte in environment: %s", key);
	if (memchr(d->value->text, '\0', d->value->len))
		return GS_FAIL(GS_ERR_GENERIC, "cannot use values with a NUL byte in environment; offending key %s",
			       key);
	return 0;
}

/* NAME=value for every top-level leaf, as sops's exec-env does (main.go:254). */
static int env_add_values(struct exec_env *e, const struct doc_node *root)
{
	int ret = 0;

	for (size_t i = 0; !ret && root && i < root->count; i++) {
		const struct doc_entry *d = &root->entries[i];
		char num[STORE_INT_TEXT_MAX];
		const char *v = d->value->text;
		size_t len = d->value->len;

		if (!d->key || d->removed || d->value->kind == DOC_COMMENT)
			continue;
		if ((ret = check_env_entry(d)) < 0)
			return ret;
		if (d->value->type == DOC_BOOL) {
			v = strcmp(d->value->text, "true") ? "false" : "true";
			len = strlen(v);
		}
		/* an int as sops's ValToString writes it ("+5", "007" as 5, 7) */
		if (d->value->type == DOC_INT && (ret = store_int_canonical(v, len, num, &len)) == 0)
			v = num;
		if (ret == 0)
			ret = env_add(e, d->key, d->key_len, v, len);
		sodium_memzero(num, sizeof(num));
	}
	return ret;
}

static int env_build(struct exec_env *e, const struct doc_node *values, const struct passwd *user,
		     bool pristine)
{
	size_t inherited = 0;
	int ret = 0;

	while (!pristine && environ[inherited])
		inherited++;
	e->vars = gs_calloc(inherited + (values ? values->count : 0) + 4, sizeof(*e->vars));
	if (!e->vars)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (user && ((ret = env_add(e, "HOME", 4, user->pw_dir, strlen(user->pw_dir))) < 0 ||
		     (ret = env_add(e, "USER", 4, user->pw_name, strlen(user->pw_name))) < 0 ||
		     (ret = env_add(e, "LOGNAME", 7, user->pw_name, strlen(user->pw_name))) < 0))
		return ret;
	if (values && (ret = env_add_values(e, values)) < 0)
		return ret;
	for (size_t i = 0; i < inherited; i++)
		if (!env_has(e, environ[i]))
			e->vars[e->count++] = environ[i];
	return 0;
}

static void env_release(struct exec_env *e)
{
	for (size_t i = 0; i < e->owned; i++)
		gs_secure_free(e->vars[i]);
	free(e->vars);
	memset(e, 0, sizeof(*e));
}

/* --user (exec_unix.go SwitchUser): groups, group, then user, in this
 * process, before the command starts; only root can. */
static int switch_user(const char *name, struct passwd *out, char *buf, size_t cap)
{
	struct passwd *pw = NULL;

	if (getpwnam_r(name, out, buf, cap, &pw) != 0 || !pw)
		return GS_FAIL(GS_ERR_GENERIC, "--user: unknown user '%s'", gs_shown(name));
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
		return GS_FAIL(GS_ERR_GENERIC, "--user '%s': cannot switch to that user: %s", gs_shown(name),
			       strerror(errno));
	return 0;
}

static int status_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int wait_child(pid_t pid, int *code)
{
	int status;

	if (private_dir_wait(pid, &status, true) < 0)
		return GS_FAIL(GS_ERR_GENERIC, "cannot wait for the command: %s", strerror(errno));
	*code = status_code(status);
	return 0;
}

/* The command in a process group of its own, with the terminal
 * (private_dir_fork); --background's, which outlives this process, as
 * sops starts it. */
static int spawn_shell(const char *command, char **envp, bool background, pid_t *pid)
{
	*pid = background ? fork() : private_dir_fork(PRIVATE_CHILD_COMMAND);
	if (*pid < 0)
		return GS_FAIL(GS_ERR_GENERIC, "cannot start the command: %s", strerror(errno));
	if (*pid == 0) {
		char *argv[] = { "sh", "-c", (char *)command, NULL };

		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	return 0;
}

/* Writes data into the FIFO once the command opens it. A command that
 * exits without opening it is not an error: its status is the answer
 * (*exited, *code), as sops returns the command's own status. */
static int feed_fifo(const char *fifo, pid_t child, const uint8_t *data, size_t len, bool *exited, int *code)
{
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	size_t done = 0;
	int fd, status;

	*exited = false;
	for (;;) {
		fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno != ENXIO)
			return GS_FAIL(GS_ERR_WRITE, "cannot open the FIFO: %s", strerror(errno));
		if (private_dir_wait(child, &status, false) == child) {
			*exited = true;
			*code = status_code(status);
			return 0;
		}
		nanosleep(&pause, NULL);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	return 0;
}

static char *substitute(const char *command, const char *path)
{
	struct gs_buf b;
	const char *p = command, *hit;

	gs_buf_init(&b, false);
	while ((hit = strstr(p, "{}"))) {
		if (gs_buf_append(&b, p, (size_t)(hit - p)) || gs_buf_append_str(&b, path))
			goto fail;
		p = hit + 2;
	}
	if (gs_buf_append_str(&b, p))
		goto fail;
	return (char *)gs_buf_detach(&b, NULL);
fail:
	gs_buf_release(&b);
	return NULL;
}

/* exec.go:78: --filename must name a file inside the private directory. */
static int check_filename(const char *name)
{
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return GS_FAIL(GS_ERR_GENERIC, "--filename '%s' is not a local path: give a file name, "
			       "it is made in a private directory", gs_shown(name));
	return 0;
}

/* The sops flags that go together (main.go:213, 244). */
static int check_exec_line(struct sops_cli *c, bool file_mode)
{
	if (c->word_count != 2 || !c->file) {
		c->code = EXIT_GENERIC;
		/* sops says "missing file to decrypt" for all three */
		if (c->word_count > 2)
			return GS_FAIL(GS_ERR_USAGE, "the command is one argument: gitseal %s FILE 'COMMAND ARGS...'",
				       c->command);
		return GS_FAIL(GS_ERR_USAGE, "missing %s: gitseal %s FILE COMMAND",
			       c->word_count ? "command to run" : "file to decrypt", c->command);
	}
	if (c->same_process && c->background) {
		c->code = EXIT_SOPS_CONFLICT;
		return GS_FAIL(GS_ERR_CONFLICT, "the --same-process flag cannot be used with --background");
	}
	if (c->background)
		cmd_warnf("%s's --background option is deprecated in sops", c->command);
	return file_mode && c->exec_filename ? check_filename(c->exec_filename) : 0;
}

/* A value in clear (unselected, empty or null) has a name no MAC binds
 * (the MAC covers values, in order, not keys; under mac_only_encrypted not
 * even the value): whoever edits the file could rename it or add it as
 * BASH_ENV, LD_PRELOAD or PATH. Only on the user's word. */
static int check_names_bound(const struct sops_cli *c, struct sops_session *s)
{
	const struct doc_node *root = s->plain->count ? s->plain->branches[0] : NULL;
	char where[256] = "";
	int ret = 0;

	if (c->allow_unencrypted_env || !root)
		return 0;
	for (size_t i = 0; i < root->count && !where[0]; i++) {
		const struct doc_entry *d = &root->entries[i];

		if (d->key && !d->removed && d->value->kind == DOC_SCALAR && d->value->type == DOC_NULL)
			snprintf(where, sizeof(where), "%.*s", (int)d->key_len, d->key);
	}
	if (!where[0] && (ret = sops_doc_find_clear(s->plain, &s->keys->selection, where, sizeof(where))) <= 0)
		return ret;
	return GS_FAIL(GS_ERR_GENERIC,
		       "'%s' is a value in clear, and the MAC does not cover its name: whoever "
		       "can edit the file chooses that variable (--allow-unencrypted-env to export it)",
		       gs_shown(where));
}

static int run_env(struct sops_cli *c, struct sops_session *s, const struct passwd *user, int *code)
{
	struct exec_env env = { 0 };
	pid_t pid;
	int ret;

	if ((ret = check_names_bound(c, s)) < 0 ||
	    (ret = env_build(&env, s->plain->count ? s->plain->branches[0] : NULL, user, c->pristine)) < 0)
		goto out;
	if (c->same_process) {
		char *argv[] = { "sh", "-c", c->rest[0], NULL };

		fflush(NULL);
		execve("/bin/sh", argv, env.vars);
		ret = GS_FAIL(GS_ERR_GENERIC, "cannot run the command: %s", strerror(errno));
		goto out;
	}
	if ((ret = spawn_shell(c->rest[0], env.vars, c->background, &pid)) < 0)
		goto out;
	if (!c->background)
		ret = wait_child(pid, code);
out:
	env_release(&env);
	/* what the command left ends; a signal caught meanwhile ends this
	 * process now */
	private_dir_finish();
	return ret;
}

/* The plaintext's place in the private directory: a FIFO the command
 * reads (fed once it runs), or with --no-fifo a file written now. */
static int make_plaintext_file(const struct sops_cli *c, struct private_dir *dir, const struct gs_buf *plain)
{
	if (c->no_fifo)
		return private_dir_write(dir, plain->data, plain->len);
	if (mkfifo(dir->file, 0600) != 0)
		return GS_FAIL(GS_ERR_WRITE, "cannot create a FIFO: %s", strerror(errno));
	return 0;
}

static int run_file(struct sops_cli *c, struct sops_session *s, const struct passwd *user, int *code)
{
	struct private_dir dir = { 0 };
	struct exec_env env = { 0 };
	struct gs_buf plain;
	enum doc_format format = c->output_type ? sops_cli_output_format(c) : s->format;
	char *command = NULL;
	bool exited = false;
	pid_t pid;
	int ret;

	gs_buf_init(&plain, true);
	if ((ret = cmd_plain_emit(c->file, s->plain, format, cmd_indent(c, NULL, format), CMD_EMIT_VERIFIED_DROP,
				  &plain)) < 0 ||
	    (ret = env_build(&env, NULL, user, false)) < 0 ||
	    (ret = private_dir_create(&dir, c->exec_filename ? c->exec_filename : "tmp-file")) < 0 ||
	    (ret = make_plaintext_file(c, &dir, &plain)) < 0)
		goto out;
	if (!(command = substitute(c->rest[0], dir.file))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* --background: a detached process feeds the command and removes the
	 * directory when the command is done; gitseal itself exits 0 */
	if (c->background) {
		pid_t keeper = fork();

		if (keeper < 0) {
			ret = GS_FAIL(GS_ERR_GENERIC, "cannot start the command: %s", strerror(errno));
			goto out;
		}
		if (keeper > 0) {
			memset(&dir, 0, sizeof(dir));
			goto out;
		}
		setsid();
	}
	if ((ret = spawn_shell(command, env.vars, false, &pid)) < 0 ||
	    (!c->no_fifo && (ret = feed_fifo(dir.file, pid, plain.data, plain.len, &exited, code)) < 0))
		goto out;
	if (!exited)
		ret = wait_child(pid, code);
	private_dir_reaped();
out:
	private_dir_remove(&dir);
	free(command);
	env_release(&env);
	gs_buf_release(&plain);
	return ret;
}

static int run_exec(int argc, char **argv, bool file_mode)
{
	struct sops_cli c;
	struct sops_session s;
	struct passwd pw, *user = NULL;
	char pwbuf[4096];
	int ret, code = EXIT_OK;

	gs_harden_process();
	sops_cli_init(&c, file_mode ? "exec-file" : "exec-env");
	sops_session_init(&s);
	if ((ret = sops_cli_parse(&c, argc, argv)) < 0 || (ret = check_exec_line(&c, file_mode)) < 0 ||
	    (ret = sops_session_open(&s, &c, false)) < 0)
		goto out;
	/* sops switches user once the file is decrypted (exec.go:61) */
	if (c.user) {
		if ((ret = switch_user(c.user, &pw, pwbuf, sizeof(pwbuf))) < 0)
			goto out;
		user = &pw;
	}
	ret = file_mode ? run_file(&c, &s, user, &code) : run_env(&c, &s, user, &code);
out:
	if (ret)
		code = sops_cli_fail(&c, ret);
	sops_session_release(&s);
	sops_cli_release(&c);
	return code;
}

int cmd_exec_env(int argc, char **argv)
{
	return run_exec(argc, argv, false);
}

int cmd_exec_file(int argc, char **argv)
{
	return run_exec(argc, argv, true);
}
