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
#include "gitseal/alloc.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
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

/* $SOPS_EDITOR, $EDITOR, else vim, nano or vi as sops looks for them
 * (edit.go:315) - those only on a terminal: without one (a CI job) they
 * would wait for ever, so the command fails at once (201). */
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
	if (!isatty(STDIN_FILENO))
		return NULL;
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

	if (!editor && !isatty(STDIN_FILENO))
		return GS_FAIL(GS_ERR_GENERIC, "no editor: set SOPS_EDITOR or EDITOR (vim, nano and vi are "
			       "started only on a terminal)");
	if (!editor)
		return GS_FAIL(GS_ERR_GENERIC, "no editor found: set SOPS_EDITOR or EDITOR");
	pid = private_dir_fork(PRIVATE_CHILD_EDITOR);
	if (pid < 0)
		return GS_FAIL(GS_ERR_GENERIC, "cannot start the editor: %s", strerror(errno));
	if (pid == 0) {
		char script[4200];

		/* exec: the editor itself is the child that a signal goes on to
		 * (private_dir_fork); dash would fork it and die alone, leaving
		 * the editor running on the plaintext */
		snprintf(script, sizeof(script), "exec %s \"$1\"", editor);
		execl("/bin/sh", "sh", "-c", script, "sh", path, (char *)NULL);
		_exit(127);
	}
	if (private_dir_wait(pid, &status, true) < 0)
		return GS_FAIL(GS_ERR_GENERIC, "cannot wait for the editor: %s", strerror(errno));
	private_dir_reaped();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return GS_FAIL(GS_ERR_GENERIC, "the editor '%s' failed (status %d)", gs_shown(editor),
			       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

/* What the edited text must pass before it is sealed: 0, or an error the
 * user can fix in the editor. It may take the text over (store_load_buf). */
typedef int (*edit_check_fn)(void *ctx, struct gs_buf *edited);

static bool same_text(const struct gs_buf *a, const struct gs_buf *b)
{
	return a->len == b->len && !memcmp(a->data, b->data, a->len);
}

/* On a terminal, an edit that fails its check is not lost: the error, then
 * back to the editor on the text as the user left it once they press
 * Enter (sops does so for a file that does not parse). Without a terminal
 * (a script, CI) the command fails at once, as it would wait for ever. */
static bool back_to_editor(const struct sops_cli *c, int ret)
{
	char line[64];

	if (ret == GS_ERR_NOMEM || !isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
		return false;
	if (!strstr(gs_error_message(), gs_shown_arg(c->file)))
		gs_error_prefix("'%s'", gs_shown_arg(c->file));
	cmd_print_error();
	fputs("gitseal: press Enter to return to the editor, or Ctrl-C to give up this edit\n", stderr);
	gs_error_clear();
	if (!fgets(line, sizeof(line), stdin)) {
		gs_error_set(GS_ERR_GENERIC, "'%s': the edit was given up at the end of the input; nothing written",
			gs_shown_arg(c->file));
		return false;
	}
	return true;
}

/* Writes plaintext to the private directory and edits it until it is
 * left as it was (*unchanged) or passes check, which gets what was read
 * back. The directory is gone when this returns, whatever happened. */
static int edit_text(struct sops_cli *c, const struct gs_buf *plain, edit_check_fn check, void *ctx,
		     bool *unchanged)
{
	const char *file = c->file;
	struct private_dir dir;
	struct gs_buf edited;
	char *copy = gs_strdup(file);
	int ret;

	*unchanged = false;
	if (!copy)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	ret = private_dir_create(&dir, basename(copy));
	free(copy);
	if (ret)
		return ret;
	if ((ret = private_dir_write(&dir, plain->data, plain->len)) < 0)
		goto out;
	for (;;) {
		if ((ret = run_editor(dir.file)) < 0) {
			c->code = EXIT_SOPS_NO_EDITOR;
			goto out;
		}
		gs_buf_init(&edited, true);
		if ((ret = gs_read_file(dir.file, &edited, STORE_MAX_INPUT)) < 0) {
			gs_buf_release(&edited);
			goto out;
		}
		if (!(*unchanged = same_text(&edited, plain)))
			ret = check(ctx, &edited);
		gs_buf_release(&edited);
		if (ret == 0 || !back_to_editor(c, ret))
			goto out;
	}
out:
	private_dir_remove(&dir);
	return ret;
}

/* A new file's text must load in its format; it is kept for the seal. */
struct edit_new {
	struct sops_cli *c;
	struct gs_buf *text;
};

static int check_new(void *ctx, struct gs_buf *edited)
{
	struct edit_new *e = ctx;
	enum doc_format format = sops_cli_input_format(e->c);
	struct doc d;
	int ret;

	doc_init(&d, format);
	ret = store_load(format, edited->data, edited->len, &d);
	doc_release(&d);
	if (ret == 0 && gs_buf_append(e->text, edited->data, edited->len))
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return ret;
}

static int edit_new_file(struct sops_cli *c)
{
	struct sops_config *config = NULL;
	enum doc_format format = sops_cli_input_format(c);
	struct gs_buf plain, edited, out;
	bool k8s_default, unchanged;
	int ret;

	gs_buf_init(&plain, true);
	gs_buf_init(&edited, true);
	gs_buf_init(&out, false);
	if ((ret = gs_buf_append_str(&plain, format == DOC_FORMAT_JSON ? example_json : example_yaml)) < 0 ||
	    (ret = sops_cli_load_config(c, &config)) < 0 || (ret = cmd_check_new_file_place(c, config, c->file, false)) < 0)
		goto out;
	/* a key type gitseal cannot wrap for: asked before the editor runs */
	if ((ret = sops_cli_check_foreign_keys(c, true)) == GS_ERR_UNSUPPORTED_KEY &&
	    sops_cli_confirm_drop(c, c->file))
		ret = 0;
	/* a text that does not load is the edit's failure (1), as for an
	 * existing file; what encrypt refuses of a loaded one is its input's (2) */
	if (ret < 0 || (ret = edit_text(c, &plain, check_new, &(struct edit_new){ c, &edited }, &unchanged)) < 0)
		goto out;
	c->plaintext_input = true;
	/* sops writes nothing when the example was left as it was (edit.go:243) */
	if (unchanged) {
		c->code = EXIT_SOPS_NOT_MODIFIED;
		ret = GS_FAIL(GS_ERR_GENERIC, "file has not changed, exiting");
		goto out;
	}
	if ((ret = cmd_encrypt_text(c, config, &edited, &out, &k8s_default)) < 0 ||
	    (ret = cmd_check_new_file_place(c, config, c->file, true)) < 0 ||
	    (ret = gs_output_write(c->file, out.data, out.len, 0644)) < 0)
		goto out;
	sops_cli_verbose(c, "'%s': created", gs_shown_arg(c->file));
out:
	sops_config_free(config);
	gs_buf_release(&plain);
	gs_buf_release(&edited);
	gs_buf_release(&out);
	return ret;
}

/* JSON: the members of meta's object become the last members of plain's. */
static int join_json_objects(struct gs_buf *plain, const struct gs_buf *meta)
{
	const uint8_t *open_brace = memchr(meta->data, '{', meta->len), *close_brace = NULL;
	bool empty = true;

	for (size_t i = plain->len; i > 0 && !close_brace; i--)
		if (plain->data[i - 1] == '}')
			close_brace = &plain->data[i - 1];
	if (!close_brace || !open_brace)
		return GS_FAIL(GS_ERR_GENERIC, "cannot show the metadata");
	for (const uint8_t *p = plain->data; p < close_brace && empty; p++)
		empty = *p == '{' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
	plain->len = (size_t)(close_brace - plain->data);
	while (plain->len && strchr(" \t\r\n", plain->data[plain->len - 1]))
		plain->len--;
	if (gs_buf_append_str(plain, empty ? "" : ",") ||
	    gs_buf_append(plain, open_brace + 1, meta->len - (size_t)(open_brace + 1 - meta->data)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

/* -s (sops's --show-master-keys): the metadata follows the values in the
 * editor. YAML: a second block mapping after the first; JSON: one more
 * member of the object. */
static int append_metadata(const struct sops_session *s, struct gs_buf *plain)
{
	struct gs_buf meta;
	int ret;

	gs_buf_init(&meta, true);
	if ((ret = cmd_plain_emit(s->name, (struct doc *)&s->meta, s->format, 0, CMD_EMIT_VERIFIED, &meta)) < 0)
		goto out;
	if (s->format != DOC_FORMAT_YAML)
		ret = join_json_objects(plain, &meta);
	else if (gs_buf_append(plain, meta.data, meta.len))
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
out:
	gs_buf_release(&meta);
	return ret;
}

/* After -s: the metadata must come back as it was shown, then it is taken
 * out. Who can read a file changes only through rotate, updatekeys and
 * groups, which show the change (repository content never widens it). */
static int take_metadata_back(const struct sops_session *s, struct doc *changed)
{
	struct doc_entry *e = sops_metadata_entry(changed);
	struct doc back;
	char where[128] = "";
	bool same = false;

	if (!e)
		return GS_FAIL(GS_ERR_GENERIC, "the sops metadata shown by -s was removed: it is shown to be "
			       "read; change keys with rotate, updatekeys or groups");
	doc_init(&back, s->format);
	if (cmd_metadata_only(changed, s->format, &back) == 0)
		same = doc_equal(&back, &s->meta, where, sizeof(where));
	doc_release(&back);
	if (!same)
		return GS_FAIL(GS_ERR_GENERIC, "the sops metadata shown by -s was changed%s%s: it is shown to be "
			       "read; change keys with rotate, updatekeys or groups", where[0] ? " at " : "", where);
	e->removed = true;
	return 0;
}

/* The file changed while the editor was open (another writer went first):
 * the sealed, verified output is kept beside it rather than lost, so the
 * user can merge the two by hand; no plaintext reaches the disk. */
static int keep_lost_edit(const char *file, const struct gs_buf *out)
{
	static const char nothing[] = "; nothing written";
	char *kept = NULL, why[256], failed[1024];
	size_t n;
	int ret;

	if (!gs_changed_since_read(file))
		return GS_ERR_WRITE;
	/* the write's own words: changed since it was read, or leads elsewhere now */
	n = (size_t)snprintf(failed, sizeof(failed), "%s", gs_error_message());
	if (n < sizeof(failed) && n >= sizeof(nothing) - 1 && !strcmp(failed + n - (sizeof(nothing) - 1), nothing))
		failed[n - (sizeof(nothing) - 1)] = '\0';
	if ((ret = gs_write_beside(file, ".gitseal-edit-", out->data, out->len, &kept)) < 0) {
		snprintf(why, sizeof(why), "%s", gs_error_message());
		return GS_FAIL(GS_ERR_WRITE, "%s; nothing written, and the edit could not be kept beside it (%s)", failed,
			       why);
	}
	ret = GS_FAIL(GS_ERR_WRITE, "%s; your edit is kept sealed in '%s'", failed, gs_shown(kept));
	free(kept);
	return ret;
}

/* An existing file's edit: it loads, -s's metadata came back as shown, no
 * 'sops' key of its own, and nothing left in clear that the file did not
 * hold so (cmd_check_new_clear); loaded into e->changed. */
struct edit_existing {
	struct sops_session *s;
	struct sops_cli *c;
	bool show;
	struct doc *changed;
};

static int check_existing(void *ctx, struct gs_buf *edited)
{
	struct edit_existing *e = ctx;
	int ret;

	doc_release(e->changed);
	doc_init(e->changed, DOC_FORMAT_YAML);
	if ((ret = store_load_buf(e->s->format, edited, e->changed)) < 0 ||
	    (e->show && (ret = take_metadata_back(e->s, e->changed)) < 0))
		return ret;
	if (sops_doc_is_encrypted(e->changed))
		return GS_FAIL(GS_ERR_PARSE, "the edited file must not contain a 'sops' key");
	return cmd_check_new_clear(e->s, e->c, e->changed);
}

int cmd_edit(int argc, char **argv)
{
	struct sops_cli c;
	struct sops_session s;
	struct gs_buf plain, out;
	struct doc changed;
	struct edit_existing check;
	struct stat st;
	bool show, unchanged;
	int ret, code = EXIT_OK;

	gs_harden_process();
	sops_cli_init(&c, "edit");
	sops_session_init(&s);
	s.writes_back = true;
	gs_buf_init(&plain, true);
	gs_buf_init(&out, false);
	doc_init(&changed, DOC_FORMAT_YAML);
	if ((ret = sops_cli_parse(&c, argc, argv)) < 0)
		goto done;
	if (!c.file) {
		cmd_errorf("edit needs a file");
		code = EXIT_SOPS_NO_FILE;
		goto out;
	}
	sops_cli_one_file(&c);
	if (stat(c.file, &st) != 0 && errno == ENOENT) {
		ret = edit_new_file(&c);
		goto done;
	}
	show = c.show_master_keys && (sops_cli_input_format(&c) == DOC_FORMAT_YAML ||
				      sops_cli_input_format(&c) == DOC_FORMAT_JSON);
	if (c.show_master_keys && !show)
		cmd_warnf("'%s': -s shows the metadata of YAML and JSON files only", gs_shown_arg(c.file));
	s.keep_metadata = show;
	/* refused before the editor runs, not after the user's work */
	if ((ret = gs_check_replaceable(c.file)) < 0 || (ret = sops_session_open(&s, &c, true)) < 0 ||
	    (ret = cmd_plain_emit(c.file, s.plain, s.format, s.indent, CMD_EMIT_VERIFIED_DROP, &plain)) < 0 ||
	    (show && (ret = append_metadata(&s, &plain)) < 0))
		goto done;
	check = (struct edit_existing){ &s, &c, show, &changed };
	if ((ret = edit_text(&c, &plain, check_existing, &check, &unchanged)) < 0)
		goto done;
	if (unchanged) {
		cmd_errorf("'%s': file has not changed, exiting", gs_shown_arg(c.file));
		code = EXIT_SOPS_NOT_MODIFIED;
		goto out;
	}
	if ((ret = sops_session_seal(&s, &changed, NULL, 0, 0, false, &out)) < 0)
		goto done;
	if ((ret = gs_output_write(c.file, out.data, out.len, 0600)) == GS_ERR_WRITE)
		ret = keep_lost_edit(c.file, &out);
	else if (ret == 0)
		sops_cli_verbose(&c, "'%s': written", gs_shown_arg(c.file));
done:
	if (ret)
		code = sops_cli_fail(&c, ret);
out:
	doc_release(&changed);
	gs_buf_release(&plain);
	gs_buf_release(&out);
	sops_session_release(&s);
	sops_cli_release(&c);
	return code;
}
