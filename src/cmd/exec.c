/* gitseal exec-env / exec-file: run a command with the plaintext, never
 * writing it to disk (exec-file uses a FIFO in a private directory, or a
 * private 0600 file with --no-fifo). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "private_dir.h"
#include "session.h"

extern char **environ;

static int wait_child(pid_t pid, int *code)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return GS_FAIL(GS_ERR_GENERIC, "cannot wait for the command: %s", strerror(errno));
	}
	*code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}

static int spawn_shell(const char *command, char **envp, pid_t *pid)
{
	*pid = fork();
	if (*pid < 0)
		return GS_FAIL(GS_ERR_GENERIC, "cannot start the command: %s", strerror(errno));
	if (*pid == 0) {
		char *argv[] = { "sh", "-c", (char *)command, NULL };

		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	return 0;
}

/* NAME=value for every top-level leaf, as sops's exec-env does. */
static int build_env(struct sops_session *s, bool pristine, char ***out, size_t *count)
{
	struct doc_node *root = s->plain->count ? s->plain->branches[0] : NULL;
	size_t n = 0, inherited = 0;
	char **env;

	if (!pristine)
		while (environ[inherited])
			inherited++;
	env = calloc(inherited + (root ? root->count : 0) + 1, sizeof(*env));
	if (!env)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < inherited; i++)
		env[n++] = environ[i];
	*out = env;
	*count = n;
	for (size_t i = 0; root && i < root->count; i++) {
		struct doc_entry *e = &root->entries[i];
		size_t len;

		if (!e->key || e->removed || e->value->kind == DOC_COMMENT)
			continue;
		if (e->value->kind != DOC_SCALAR)
			return GS_FAIL(GS_ERR_GENERIC, "cannot use the non-scalar value '%s' as an environment variable", e->key);
		len = e->key_len + 1 + e->value->len + 1;
		env[n] = gs_secure_alloc(len);
		if (!env[n])
			return GS_FAIL(GS_ERR_NOMEM, "out of secure memory");
		snprintf(env[n], len, "%s=%s", e->key,
			 e->value->type == DOC_BOOL ? (strcmp(e->value->text, "true") ? "false" : "true") : e->value->text);
		*count = ++n;
	}
	return 0;
}

static void free_env(char **env, size_t count, bool pristine)
{
	size_t inherited = 0;

	if (!env)
		return;
	if (!pristine)
		while (environ[inherited])
			inherited++;
	for (size_t i = inherited; i < count; i++)
		gs_secure_free(env[i]);
	free(env);
}

/* Writes data into the FIFO once the command opens it; gives up when the
 * command exits without reading. */
static int feed_fifo(const char *fifo, pid_t child, const uint8_t *data, size_t len)
{
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	size_t done = 0;
	int fd;

	for (;;) {
		fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno != ENXIO)
			return GS_FAIL(GS_ERR_IO, "cannot open the FIFO: %s", strerror(errno));
		if (waitpid(child, NULL, WNOHANG) == child)
			return GS_FAIL(GS_ERR_GENERIC, "the command exited without reading the file");
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

static int run_exec(int argc, char **argv, bool file_mode)
{
	struct sops_cli c;
	struct sops_session s;
	struct private_dir dir = { 0 };
	struct gs_buf plain;
	char **env = NULL, *command = NULL;
	size_t env_count = 0;
	pid_t pid;
	int ret, code = EXIT_OK;

	gs_harden_process();
	sops_cli_init(&c, file_mode ? "exec-file" : "exec-env");
	sops_session_init(&s);
	gs_buf_init(&plain, true);
	ret = sops_cli_parse(&c, argc, argv);
	if (!ret && (!c.file || c.rest_count < 1)) {
		cmd_errorf("usage: gitseal %s FILE COMMAND", c.command);
		code = EXIT_SOPS_NO_FILE;
		goto out;
	}
	if (!ret)
		ret = sops_session_open(&s, &c, false);
	if (ret)
		goto fail;
	if (!file_mode) {
		ret = build_env(&s, c.pristine, &env, &env_count);
		if (!ret)
			ret = spawn_shell(c.rest[0], env, &pid);
		if (!ret)
			ret = wait_child(pid, &code);
		goto fail;
	}
	ret = cmd_plain_emit(c.file, s.plain, c.output_type ? sops_cli_output_format(&c) : s.format, 0,
			     CMD_EMIT_VERIFIED_DROP, &plain);
	if (!ret)
		ret = private_dir_create(&dir, c.exec_filename ? c.exec_filename : "tmp-file");
	if (ret)
		goto fail;
	if (c.no_fifo)
		ret = private_dir_write(&dir, plain.data, plain.len);
	else if (mkfifo(dir.file, 0600) != 0)
		ret = GS_FAIL(GS_ERR_IO, "cannot create a FIFO: %s", strerror(errno));
	if (!ret && !(command = substitute(c.rest[0], dir.file)))
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	if (!ret)
		ret = spawn_shell(command, environ, &pid);
	if (!ret && !c.no_fifo)
		ret = feed_fifo(dir.file, pid, plain.data, plain.len);
	if (!ret)
		ret = wait_child(pid, &code);
fail:
	if (ret)
		code = sops_cli_fail(&c, ret);
out:
	private_dir_remove(&dir);
	free(command);
	free_env(env, env_count, c.pristine);
	gs_buf_release(&plain);
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
