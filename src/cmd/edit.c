/* gitseal edit: decrypt into a private 0700 directory, run the editor,
 * re-encrypt through the reuse function so only changed values change. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "gitseal/io.h"
#include "gitseal/store.h"
#include "private_dir.h"
#include "session.h"

static const char example_yaml[] =
	"hello: Welcome to gitseal! Edit this file as you please!\n"
	"example_key: example_value\n"
	"# Example comment\n"
	"example_array:\n"
	"    - example_value1\n"
	"    - example_value2\n"
	"example_number: 1234.56789\n"
	"example_booleans:\n"
	"    - true\n"
	"    - false\n";

static const char example_json[] =
	"{\n\t\"hello\": \"Welcome to gitseal! Edit this file as you please!\",\n"
	"\t\"example_key\": \"example_value\",\n\t\"example_array\": [\n"
	"\t\t\"example_value1\",\n\t\t\"example_value2\"\n\t],\n"
	"\t\"example_number\": 1234.56789,\n\t\"example_booleans\": [\n\t\ttrue,\n\t\tfalse\n\t]\n}\n";

static const char *find_editor(void)
{
	static const char *const fallbacks[] = { "vim", "nano", "vi" };
	static char found[64];
	const char *e = getenv("SOPS_EDITOR");

	if (e && *e)
		return e;
	e = getenv("EDITOR");
	if (e && *e)
		return e;
	for (size_t i = 0; i < sizeof(fallbacks) / sizeof(fallbacks[0]); i++) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", fallbacks[i]);
		if (system(cmd) == 0) {
			snprintf(found, sizeof(found), "%s", fallbacks[i]);
			return found;
		}
	}
	return NULL;
}

/* Runs the editor on path; the editor string may carry arguments. */
static int run_editor(const char *path)
{
	const char *editor = find_editor();
	pid_t pid;
	int status;

	if (!editor)
		return GS_FAIL(GS_ERR_GENERIC, "no editor found: set SOPS_EDITOR or EDITOR");
	pid = fork();
	if (pid < 0)
		return GS_FAIL(GS_ERR_GENERIC, "cannot start the editor: %s", strerror(errno));
	if (pid == 0) {
		char script[4200];

		snprintf(script, sizeof(script), "%s \"$1\"", editor);
		execl("/bin/sh", "sh", "-c", script, "sh", path, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return GS_FAIL(GS_ERR_GENERIC, "cannot wait for the editor: %s", strerror(errno));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return GS_FAIL(GS_ERR_GENERIC, "the editor '%s' failed (status %d)", editor,
			       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

/* Writes plaintext to the private directory, edits it, reads it back. The
 * directory is gone when this returns, whatever happened. */
static int edit_text(const char *file, const struct gs_buf *plain, struct gs_buf *edited)
{
	struct private_dir dir;
	char *copy = strdup(file);
	int ret;

	if (!copy)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	ret = private_dir_create(&dir, basename(copy));
	free(copy);
	if (ret)
		return ret;
	ret = private_dir_write(&dir, plain->data, plain->len);
	if (!ret)
		ret = run_editor(dir.file);
	if (!ret)
		ret = gs_read_file(dir.file, edited, STORE_MAX_INPUT);
	private_dir_remove(&dir);
	return ret;
}

static int edit_new_file(struct sops_cli *c)
{
	struct sops_config *config = NULL;
	enum doc_format format = sops_cli_input_format(c);
	struct gs_buf plain, edited, out;
	bool k8s_default;
	int ret;

	gs_buf_init(&plain, true);
	gs_buf_init(&edited, true);
	gs_buf_init(&out, false);
	if ((ret = gs_buf_append_str(&plain, format == DOC_FORMAT_JSON ? example_json : example_yaml)) < 0 ||
	    (ret = sops_cli_load_config(c, &config)) < 0)
		goto out;
	/* a key type gitseal cannot wrap for: asked before the editor runs */
	if ((ret = sops_cli_check_foreign_keys(c, true)) == GS_ERR_UNSUPPORTED_KEY &&
	    sops_cli_confirm_drop(c, c->file))
		ret = 0;
	if (ret < 0 || (ret = edit_text(c->file, &plain, &edited)) < 0 ||
	    (ret = cmd_encrypt_text(c, config, &edited, &out, &k8s_default)) < 0)
		goto out;
	ret = gs_output_write(c->file, out.data, out.len, 0644);
out:
	sops_config_free(config);
	gs_buf_release(&plain);
	gs_buf_release(&edited);
	gs_buf_release(&out);
	return ret;
}

int cmd_edit(int argc, char **argv)
{
	struct sops_cli c;
	struct sops_session s;
	struct gs_buf plain, edited, out;
	struct doc changed;
	struct stat st;
	int ret, code = EXIT_OK;

	gs_harden_process();
	sops_cli_init(&c, "edit");
	sops_session_init(&s);
	gs_buf_init(&plain, true);
	gs_buf_init(&edited, true);
	gs_buf_init(&out, false);
	doc_init(&changed, DOC_FORMAT_YAML);
	ret = sops_cli_parse(&c, argc, argv);
	if (!ret && !c.file) {
		cmd_errorf("edit needs a file");
		code = EXIT_SOPS_NO_FILE;
		goto out;
	}
	if (!ret && stat(c.file, &st) != 0 && errno == ENOENT) {
		ret = edit_new_file(&c);
		goto done;
	}
	if (!ret)
		ret = sops_session_open(&s, &c, true);
	if (!ret)
		ret = cmd_plain_emit(c.file, s.plain, s.format, 0, CMD_EMIT_VERIFIED_DROP, &plain);
	if (!ret)
		ret = edit_text(c.file, &plain, &edited);
	if (ret == GS_ERR_GENERIC && strstr(gs_error_message(), "editor")) {
		cmd_print_error();
		code = EXIT_SOPS_NO_EDITOR;
		goto out;
	}
	if (!ret && edited.len == plain.len && !memcmp(edited.data, plain.data, plain.len)) {
		cmd_errorf("'%s': file has not changed, exiting", c.file);
		code = EXIT_SOPS_NOT_MODIFIED;
		goto out;
	}
	if (!ret)
		ret = store_load_buf(s.format, &edited, &changed);
	if (!ret && sops_doc_is_encrypted(&changed))
		ret = GS_FAIL(GS_ERR_PARSE, "the edited file must not contain a 'sops' key");
	if (!ret)
		ret = sops_session_seal(&s, &changed, NULL, 0, 0, false, &out);
	if (!ret)
		ret = gs_output_write(c.file, out.data, out.len, 0600);
done:
	if (ret)
		code = sops_cli_fail(&c, ret);
out:
	doc_release(&changed);
	gs_buf_release(&plain);
	gs_buf_release(&edited);
	gs_buf_release(&out);
	sops_session_release(&s);
	sops_cli_release(&c);
	return code;
}
