/* gitseal set / unset: change one value of a sops file in place. Unchanged
 * values keep their ciphertext (the reuse function), so the diff is the
 * changed line plus the mac and lastmodified lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "gitseal/sops_format.h"
#include "gitseal/store.h"
#include "session.h"
#include "treepath.h"

/* never the value itself: it is the secret */
#define NOT_JSON "the value is not valid JSON (a string takes its quotes: '\"text\"')"

/* Parses a JSON value through the JSON store: {"v": VALUE}. */
static int parse_json_value(struct doc *scratch, const uint8_t *text, size_t len, struct doc_node **out)
{
	struct gs_buf wrapped;
	struct doc_entry *e;
	int ret;

	gs_buf_init(&wrapped, true);
	if (gs_buf_append_str(&wrapped, "{\"v\": ") || gs_buf_append(&wrapped, text, len) ||
	    gs_buf_append_str(&wrapped, "}"))
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	else if (store_json_load(wrapped.data, wrapped.len, scratch) != 0)
		ret = GS_FAIL(GS_ERR_USAGE, NOT_JSON);
	else
		ret = 0;
	gs_buf_release(&wrapped);
	if (ret)
		return ret;
	e = doc_map_find(scratch->branches[0], "v");
	if (!e)
		return GS_FAIL(GS_ERR_USAGE, NOT_JSON);
	*out = e->value;
	return 0;
}

/* A map set over a map (a list over a list) goes into the node the file
 * was loaded with: its entries removed, the new ones appended. The store
 * then patches the file's own text; a node it did not load is new to it
 * (INI wrote a second section of the same name and left the old one,
 * which read back merged: MAC mismatch, the fresh layout written). */
static int replace_entries(struct doc *d, struct doc_node *node, const struct doc_node *value)
{
	for (size_t i = 0; i < node->count; i++)
		node->entries[i].removed = true;
	for (size_t i = 0; i < value->count; i++) {
		const struct doc_entry *e = &value->entries[i];
		struct doc_node *copy = doc_clone(d, e->value);

		if (!copy || !doc_append(d, node, e->key, e->key_len, copy))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* Puts value at path, creating maps on the way. */
static int set_path(struct doc *d, const struct tree_path *path, const struct doc_node *value)
{
	struct doc_node *node = d->branches[0];
	struct doc_node *copy;

	for (size_t i = 0; i < path->count; i++) {
		const struct tree_step *s = &path->steps[i];
		struct tree_path one = { (struct tree_step *)s, 1 };
		struct doc_entry *e = tree_path_find(node, &one, NULL);
		bool last = i + 1 == path->count;

		if (!e) {
			struct doc_node *child;

			if (s->is_index && node->kind != DOC_LIST)
				return GS_FAIL(GS_ERR_GENERIC, "component [%zu] is not a list", s->index);
			if (!s->is_index && node->kind != DOC_MAP)
				return GS_FAIL(GS_ERR_GENERIC, "component [\"%s\"] is not in a map", gs_shown(s->key));
			child = last ? doc_clone(d, value) : doc_new_map(d);
			if (!child || !doc_append(d, node, s->is_index ? NULL : s->key, s->key_len, child))
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			node = child;
			continue;
		}
		if (!last) {
			node = e->value;
			continue;
		}
		if (e->value->kind == DOC_SCALAR && value->kind == DOC_SCALAR)
			return doc_scalar_set(d, e->value, value->type, value->text, value->len);
		if ((e->value->kind == DOC_MAP || e->value->kind == DOC_LIST) && e->value->kind == value->kind &&
		    !value->tag && !e->value->tag)
			return replace_entries(d, e->value, value);
		copy = doc_clone(d, value);
		if (!copy)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		e->value = copy;
	}
	return 0;
}


/* dotenv and INI hold text only: a number or a boolean set there is its
 * text, as the file gives it back (set as typed, decrypt refused it). */
static void as_store_text(struct doc_node *value, enum doc_format format)
{
	if (value->kind == DOC_SCALAR && value->type != DOC_NULL &&
	    (format == DOC_FORMAT_DOTENV || format == DOC_FORMAT_INI))
		value->type = DOC_STR;
}

/* The data set must come back from the file's own store as decrypt will
 * write it: not every text has a form there (a backslash before an n in
 * dotenv reads back as a line break). Checked before anything is sealed. */
static int prove_decryptable(struct sops_session *s, const struct tree_path *path)
{
	static const char reserved[] = SOPS_DOTENV_PREFIX;
	const struct tree_step *top = path->count ? &path->steps[0] : NULL;
	char why[1024];
	struct gs_buf text;
	int ret;

	/* the file keeps its metadata in the top-level key "sops" (in dotenv
	 * the sops_* keys): a value there would be read back as metadata */
	if (s->format == DOC_FORMAT_DOTENV && top && !top->is_index &&
	    top->key_len >= sizeof(reserved) - 1 && !memcmp(top->key, reserved, sizeof(reserved) - 1))
		return GS_FAIL(GS_ERR_VERIFY, "set: a dotenv key may not begin with '%s' (sops keeps its "
					      "metadata there); nothing written", gs_shown(reserved));
	if (s->format != DOC_FORMAT_DOTENV && top && !top->is_index &&
	    top->key_len == strlen(SOPS_METADATA_KEY) && !memcmp(top->key, SOPS_METADATA_KEY, top->key_len))
		return GS_FAIL(GS_ERR_VERIFY, "set: the top-level key '%s' is where sops keeps its metadata; "
					      "nothing written", SOPS_METADATA_KEY);
	gs_buf_init(&text, true);
	ret = sops_plain_emit(s->plain, s->format, NULL, &text);
	gs_buf_release(&text);
	if (ret != GS_ERR_VERIFY)
		return ret;
	snprintf(why, sizeof(why), "%s", gs_error_message());
	return GS_FAIL(GS_ERR_VERIFY, "set: the file's format cannot give this value back as given (%s)", why);
}

/* The words of `set FILE PATH VALUE` / `unset FILE PATH` as sops counts
 * them (main.go:1488-1497, 1616): exactly so many, else 100. */
static int check_words(const struct sops_cli *c, bool is_set, int *code)
{
	int want = is_set && !c->value_stdin ? 3 : 2;

	if (is_set && c->value_file && c->value_stdin) {
		*code = EXIT_GENERIC;
		return GS_FAIL(GS_ERR_USAGE, "cannot use both --value-file and --value-stdin");
	}
	if (c->word_count == want && c->file)
		return 0;
	*code = EXIT_SOPS_NO_FILE;
	return GS_FAIL(GS_ERR_USAGE, "%s", !is_set ? "usage: gitseal unset FILE '[\"key\"]'"
				   : c->value_stdin ? "usage: gitseal set --value-stdin FILE '[\"key\"]' < VALUE-JSON"
				   : "usage: gitseal set FILE '[\"key\"]' VALUE-JSON (--value-file: a file holding it)");
}

/* The value of set: the word itself, the file it names (--value-file),
 * or standard input (--value-stdin). */
static int read_value(const struct sops_cli *c, const char *word, struct gs_buf *text)
{
	if (c->value_stdin)
		return gs_read_file("-", text, STORE_MAX_INPUT);
	if (c->value_file)
		return gs_read_file(word, text, STORE_MAX_INPUT);
	return gs_buf_append_str(text, word);
}

static int run(struct sops_cli *c, bool is_set, const char *path_text, const char *value_word, int *code)
{
	struct sops_session s;
	struct tree_path path = { 0 };
	struct doc scratch;
	struct doc_node *value = NULL;
	struct gs_buf value_text, out;
	bool changed = true;
	int ret;

	sops_session_init(&s);
	s.writes_back = true;
	doc_init(&scratch, DOC_FORMAT_JSON);
	gs_buf_init(&value_text, true);
	gs_buf_init(&out, false);
	ret = tree_path_parse(path_text, &path);
	if (ret) {
		*code = EXIT_SOPS_SET_FORMAT;
		goto out;
	}
	if (is_set) {
		/* a value file that cannot be read: toExitError, 1 (main.go:1530) */
		if ((ret = read_value(c, value_word, &value_text)) < 0) {
			*code = EXIT_GENERIC;
			goto out;
		}
		if ((ret = parse_json_value(&scratch, value_text.data, value_text.len, &value)) < 0) {
			*code = EXIT_SOPS_SET_FORMAT;
			goto out;
		}
	}
	ret = sops_session_open(&s, c, true);
	if (ret)
		goto out;
	if (is_set) {
		as_store_text(value, s.format);
		if (!(ret = set_path(s.plain, &path, value)))
			ret = prove_decryptable(&s, &path);
	} else {
		struct doc_entry *e = s.plain->count ? tree_path_find(s.plain->branches[0], &path, NULL) : NULL;

		if (e)
			e->removed = true;
		else if (c->idempotent)
			changed = false;
		else
			ret = GS_FAIL(GS_ERR_GENERIC, "component %s not found", gs_shown(path_text));
	}
	if (ret || !changed)
		goto out;
	/* unset too where the file's rule reads comments: the comment before
	 * the removed key then stands before the next one (elsewhere what a
	 * value's rule says does not change when another key goes) */
	if (((!is_set && s.keys->selection.kind != SOPS_SEL_UNENCRYPTED_COMMENT_REGEX) ||
	     (ret = cmd_check_new_clear(&s, c, s.plain)) == 0) &&
	    (ret = sops_session_seal(&s, s.plain, NULL, 0, 0, false, &out)) == 0)
		ret = gs_output_write(c->file, out.data, out.len, 0600);
out:
	tree_path_release(&path);
	doc_release(&scratch);
	gs_buf_release(&value_text);
	gs_buf_release(&out);
	sops_session_release(&s);
	return ret;
}

static int run_command(int argc, char **argv, bool is_set)
{
	struct sops_cli c;
	int ret, code = -1;

	gs_harden_process();
	sops_cli_init(&c, is_set ? "set" : "unset");
	if ((ret = sops_cli_parse(&c, argc, argv)) == 0 && (ret = check_words(&c, is_set, &code)) == 0)
		ret = run(&c, is_set, c.rest[0], is_set && !c.value_stdin ? c.rest[1] : NULL, &code);
	if (ret && code < 0)
		code = sops_cli_fail(&c, ret);
	else if (ret)
		cmd_print_error();
	sops_cli_release(&c);
	return ret ? code : EXIT_OK;
}

int cmd_set(int argc, char **argv)
{
	return run_command(argc, argv, true);
}

int cmd_unset(int argc, char **argv)
{
	return run_command(argc, argv, false);
}
