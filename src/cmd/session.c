#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "gitseal/alloc.h"
#include "gitseal/config.h"
#include "gitseal/error.h"
#include "gitseal/gitfilter.h"
#include "gitseal/io.h"
#include "gitseal/path.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "session.h"

void sops_session_init(struct sops_session *s)
{
	memset(s, 0, sizeof(*s));
	doc_init(&s->meta, DOC_FORMAT_YAML);
	gs_buf_init(&s->text, false);
}

int cmd_metadata_only(const struct doc *d, enum doc_format format, struct doc *out)
{
	const struct doc_entry *e = sops_metadata_entry(d);
	struct doc_node *root;

	doc_release(out);
	doc_init(out, format);
	if (!e)
		return GS_FAIL(GS_ERR_NO_METADATA, "sops metadata not found");
	root = doc_new_map(out);
	if (!root || !doc_append(out, root, SOPS_METADATA_KEY, SOPS_METADATA_KEY_LEN, doc_clone(out, e->value)) ||
	    doc_add_branch(out, root) < 0)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return 0;
}

/* Whether file lies in a clone whose own config sets gitseal's filter up
 * (the nearest .git directory's config): only for the hint below. */
static bool in_filtered_clone(const char *file)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	struct gs_buf config;
	bool yes = false;
	char *slash;

	if (!file || !realpath(file, dir) || !(slash = strrchr(dir, '/')))
		return false;
	slash[slash == dir] = '\0';
	if (!gs_path_find_up(dir, ".git/config"))
		return false;
	gs_buf_init(&config, false);
	snprintf(path, sizeof(path), "%s/.git/config", strcmp(dir, "/") ? dir : "");
	if (gs_read_file(path, &config, 1 << 20) == 0)
		yes = memmem(config.data, config.len, "[filter \"gitseal\"]", 18) != NULL;
	gs_error_clear();
	gs_buf_release(&config);
	return yes;
}

int cmd_repo_root(char root[static PATH_MAX])
{
	char cwd[PATH_MAX], *found = NULL, *slash;

	root[0] = '\0';
	/* "" would say no repository: nothing would lead outside it */
	if (!realpath(".", cwd))
		return GS_FAIL(GS_ERR_IO, "cannot read the current directory: %s", strerror(errno));
	strcpy(root, cwd);
	if (gs_path_find_up(root, ".git"))
		return 0;
	if (sops_config_find(cwd, &found) == 0 && found && (slash = strrchr(found, '/'))) {
		slash[slash == found] = '\0';
		if (!realpath(found, root))
			root[0] = '\0';
	}
	gs_error_clear();
	free(found);
	return 0;
}

bool cmd_leads_outside(const char *root, const char *path, char real[static PATH_MAX])
{
	return root[0] && realpath(path, real) && !gs_path_inside(root, real);
}

int sops_session_open(struct sops_session *s, const struct sops_cli *c, bool reseal)
{
	struct sops_open_opts o = { .ignore_mac = c->ignore_mac, .reseal = reseal, .ids = &s->ids,
				    .decryption_order = c->decryption_order };
	struct gs_buf text;
	struct doc d;
	int ret;

	s->name = c->file ? c->file : sops_cli_rule_path(c);
	s->format = o.format = sops_cli_input_format(c);
	/* ignored, it wrote the file's own format where another was asked for:
	 * `rotate --output-type json f.yaml >f.json` exited 0 with YAML in
	 * f.json, which decrypt then refused (red team 18) */
	if (s->writes_back && c->output_type && sops_cli_output_format(c) != s->format)
		return GS_FAIL(GS_ERR_USAGE, "%s writes the file in its own format, not '--output-type %s': "
			       "to convert it, decrypt it and encrypt that with --output-type", c->command, c->output_type);
	sops_cli_warm(c);
	gs_buf_init(&text, false);
	doc_init(&d, s->format);
	if ((ret = sops_cli_read_input(c, &text)) < 0)
		goto out;
	/* a write in place compares with the file as read here
	 * (cmd_check_new_clear): read again, it could have changed unseen */
	if (reseal && gs_buf_append(&s->text, text.data, text.len)) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((ret = store_load_buf(s->format, &text, &d)) < 0)
		goto out;
	/* said before any key is looked for */
	if (!sops_doc_is_encrypted(&d)) {
		if (in_filtered_clone(c->file))
			ret = GS_FAIL(GS_ERR_NO_METADATA, "sops metadata not found (this clone uses gitseal's git "
				      "filter: a file under it is plaintext in the work tree, edited as it is)");
		else
			ret = GS_FAIL(GS_ERR_NO_METADATA, "sops metadata not found");
		goto out;
	}
	if (s->keep_metadata && (ret = cmd_metadata_only(&d, s->format, &s->meta)) < 0)
		goto out;
	if ((ret = sops_identities_load(&s->ids)) < 0 || (ret = sops_file_open_doc(&d, &o, &s->file)) < 0)
		goto out;
	sops_cli_verbose(c, "'%s': data key recovered, MAC %s", gs_shown(s->name),
			 c->ignore_mac ? "not checked" : "checked");
	s->plain = sops_file_doc(s->file);
	s->keys = sops_file_keys(s->file);
	s->indent = cmd_indent(c, NULL, s->format);
	s->fresh_layout = c->values[SO_INDENT].set;
	if (s->fresh_layout)
		cmd_drop_layout(s->plain);
out:
	doc_release(&d);
	gs_buf_release(&text);
	return ret;
}

static void warn_fell_back(const char *name, const char *why)
{
	if (why[0])
		cmd_warnf("'%s': written in the fresh layout: the file's own would not give back the "
			  "same data (%s)", gs_shown(name), why);
}

/* Only a value holding a line break is written as a block. */
static bool holds_line_break(const struct doc_node *n)
{
	if (n->kind == DOC_SCALAR)
		return n->len && memchr(n->text, '\n', n->len);
	for (size_t i = 0; i < n->count; i++)
		if (!n->entries[i].removed && n->entries[i].value && holds_line_break(n->entries[i].value))
			return true;
	return false;
}

/* Whether a text's reader takes its indentation step from a block map
 * under a key (yaml_load), not from the sops metadata. */
static bool nests_map(struct gs_buf *text)
{
	struct doc d;
	bool nests = true;

	doc_init(&d, DOC_FORMAT_YAML);
	if (store_load_buf(DOC_FORMAT_YAML, text, &d) == 0)
		nests = store_yaml_nested_step(&d) != 0;
	doc_release(&d);
	gs_error_clear();
	return nests;
}

/* A flat file's blocks decrypt at the step of its metadata, which encrypt
 * and the git filter write at the blocks' step: written again at 4 (the
 * store's default), 2-space blocks came back at 4 after rotate, set,
 * updatekeys (red team 25 D1). The step of the plaintext as decrypt
 * writes it; 0 (the default) when that cannot be had. A sealed file
 * keeps the step its blocks decrypt at (its reader's, the metadata's
 * where no map nests in the data): those sealed on one line stay as
 * they are, and measured again from the first block (set to one line,
 * unset, or a map set in a list) the step was another (fidelity31). */
static int flat_block_step(const struct doc *plain)
{
	static const struct store_emit_opts eo;
	int sealed = store_yaml_nested_step(plain);
	struct gs_buf text;
	bool blocks = false;
	int step = 0;

	for (size_t i = 0; i < plain->count && !blocks; i++)
		blocks = plain->branches[i] && holds_line_break(plain->branches[i]);
	if (!blocks)
		return 0;
	gs_buf_init(&text, true);
	if (store_emit(plain, DOC_FORMAT_YAML, &eo, &text) == 0) {
		step = store_yaml_flat_block_step(&text);
		if (sealed >= 1 && sealed <= 9 && !nests_map(&text))
			step = sealed;
	}
	gs_error_clear();
	gs_buf_release(&text);
	return step;
}

int sops_session_seal(struct sops_session *s, struct doc *doc, const struct sops_key_group *groups,
		      size_t group_count, int shamir_threshold, bool fresh_key, struct gs_buf *out)
{
	char why[SOPS_WHY_SIZE];
	struct sops_seal_opts o = {
		.groups = groups, .group_count = group_count, .shamir_threshold = shamir_threshold,
		.fresh_key = fresh_key, .drop_unsupported_keys = s->drop_unsupported_keys,
		/* set and edit: the file's own keys (sops keeps such an entry) */
		.keep_unnamed = !groups && !fresh_key, .indent = s->indent, .fell_back = why,
		.open_end = true,
	};
	int ret;

	if (s->fresh_layout)
		cmd_drop_layout(doc);
	else if (o.indent == SOPS_INDENT_DEFAULT && doc->format == DOC_FORMAT_YAML)
		o.indent = flat_block_step(doc);
	if ((ret = sops_file_seal(s->file, doc, &o, out)))
		return ret;
	warn_fell_back(s->name, why);
	return 0;
}

/* The clone set up by `gitseal git init` that a .sops.yaml gitseal found
 * (not one the user named: --config, SOPS_CONFIG) seals c's file in, and
 * *file, the path to ask it about (NULL: the current directory's); *repo
 * NULL when there is none. */
static int found_rule_clone(const struct sops_cli *c, const struct sops_config *config, struct gitfilter **repo,
			    const char **file)
{
	char dir[PATH_MAX], *slash;

	*repo = NULL;
	*file = c->file && strcmp(c->file, "-") ? c->file : NULL;
	if (!config || c->config_path || (getenv("SOPS_CONFIG") && *getenv("SOPS_CONFIG")))
		return 0;
	if ((size_t)snprintf(dir, sizeof(dir), "%s", *file ? *file : ".") >= sizeof(dir))
		return GS_FAIL(GS_ERR_LIMIT, "path too long");
	if (*file && (slash = strrchr(dir, '/')))
		slash[slash == dir] = '\0';
	else if (*file)
		strcpy(dir, ".");
	/* in a submodule of such a clone, that clone's (a pull request may
	 * have made the submodule, and its .sops.yaml) */
	if (gitfilter_open_configured(dir, repo) == 0 && *repo)
		return 0;
	gs_error_clear();
	gitfilter_free(*repo);
	*repo = NULL;
	/* a file outside such a clone (/dev/stdin, /tmp/x.yaml) is sealed by
	 * the rule found from the current directory: when that lies in one,
	 * checked as standard input is */
	if (*file && gitfilter_open_configured(".", repo) == 0 && *repo) {
		*file = NULL;
		return 0;
	}
	gs_error_clear();
	gitfilter_free(*repo);
	*repo = NULL;
	return 0;
}

/* Whether a found .sops.yaml's rule may say what stays in clear: in a
 * clone set up by `gitseal git init` it is repository content (a pull
 * request's deploy/.sops.yaml narrowing it beside the file's own rule in
 * the metadata), so only with the selection this clone accepted for the
 * file; otherwise the default is the reference. */
static bool found_selection_accepted(const struct sops_cli *c, const struct sops_config *config,
				     const struct sops_selection *sel)
{
	struct sops_key_summary keys = { .selection = *sel };
	struct gitfilter *repo;
	const char *file;
	bool yes;

	if (found_rule_clone(c, config, &repo, &file)) {
		gs_error_clear();
		return false;
	}
	if (!repo)
		return true;
	yes = !gitfilter_found_rule_accepted(repo, file ? file : ".", &keys, true, false);
	gs_error_clear();
	gitfilter_free(repo);
	return yes;
}

/* The selection encrypting the file afresh would use: .sops.yaml's rule
 * for it, else the default (a Kubernetes Secret's, or all but
 * _unencrypted keys). which names it for messages. */
static void fresh_selection(const struct sops_cli *c, const struct sops_config *config, const struct doc *plain,
			    struct sops_selection *out, char *which, size_t cap)
{
	const struct sops_rule *rule = NULL;

	memset(out, 0, sizeof(*out));
	snprintf(which, cap, "encrypting the file afresh");
	if (config && sops_config_match(config, sops_cli_rule_path(c), &rule) == 0) {
		if (!found_selection_accepted(c, config, &rule->selection)) {
			snprintf(which, cap, "encrypting the file afresh (the rule of '%s' encrypts less than the "
				 "one this clone accepted)", gs_shown(config->path));
		} else {
			snprintf(which, cap, ".sops.yaml's creation rule for it");
			if (rule->selection.kind != SOPS_SEL_NONE) {
				*out = rule->selection;
				return;
			}
		}
	}
	gs_error_clear();
	if (sops_config_is_k8s_secret(plain)) {
		out->kind = SOPS_SEL_ENCRYPTED_REGEX;
		out->value = (char *)GITSEAL_K8S_SECRET_REGEX;
	}
}

int cmd_check_new_clear(struct sops_session *s, const struct sops_cli *c, struct doc *doc)
{
	struct sops_config *config = NULL;
	struct sops_selection wider;
	struct doc before, *kept = &before;
	char where[256], which[PATH_MAX + 96];
	int ret;

	if (c->keep_file_rule)
		return 0;
	doc_init(&before, s->format);
	/* a .sops.yaml that cannot be used leaves the default as reference */
	if (sops_cli_load_config(c, &config) < 0)
		gs_error_clear();
	fresh_selection(c, config, doc, &wider, which, sizeof(which));
	/* the version opened says which values are in clear already; read
	 * again, the file would not be seen to change before it is replaced */
	if ((ret = store_load_data(s->format, s->text.data, s->text.len, &before)) < 0)
		goto out;
	ret = sops_doc_check_narrowed(doc, &s->keys->selection, &wider, &kept, 1, where, sizeof(where));
	if (ret == GS_ERR_DECRYPT_VALUE && wider.kind == SOPS_SEL_UNENCRYPTED_COMMENT_REGEX &&
	    s->keys->selection.kind == wider.kind && !strcmp(c->command, "unset")) {
		gs_error_clear();
		ret = GS_FAIL(GS_ERR_GENERIC, "'%s' would be in clear by the comment before the key removed (the "
			      "rule's unencrypted_comment_regex): remove both with 'gitseal edit'", gs_shown(where));
	} else if (ret == GS_ERR_DECRYPT_VALUE && wider.kind == SOPS_SEL_UNENCRYPTED_COMMENT_REGEX &&
		   s->keys->selection.kind == wider.kind) {
		gs_error_clear();
		ret = GS_FAIL(GS_ERR_GENERIC, "'%s' would be in clear by a comment before it (the rule's "
			      "unencrypted_comment_regex; comments are outside the MAC): --keep-file-rule to write it so",
			      gs_shown(where));
	} else if (ret == GS_ERR_DECRYPT_VALUE) {
		gs_error_clear();
		ret = GS_FAIL(GS_ERR_GENERIC, "'%s' would be in clear by the file's own rule (in its metadata, outside "
			      "the MAC), but %s encrypts it (--keep-file-rule to write it so)", gs_shown(where), which);
	}
out:
	doc_release(&before);
	sops_config_free(config);
	return ret;
}

void sops_session_release(struct sops_session *s)
{
	sops_file_free(s->file);
	age_identity_list_release(&s->ids);
	doc_release(&s->meta);
	gs_buf_release(&s->text);
	memset(s, 0, sizeof(*s));
}

void cmd_drop_layout(struct doc *d)
{
	doc_drop_source(d);
}

int cmd_plain_emit(const char *name, struct doc *plain, enum doc_format format, int indent,
		   enum cmd_emit how, struct gs_buf *out)
{
	char why[SOPS_WHY_SIZE];
	struct sops_emit_opts o = { .indent = indent, .drop_source = how == CMD_EMIT_VERIFIED_DROP,
				    .fell_back = why, .open_end = true };
	int ret = sops_plain_emit(plain, format, &o, out);

	if (ret)
		return ret;
	warn_fell_back(name ? name : "-", why);
	return 0;
}

/* What to do about a found rule this clone did not accept: in a
 * submodule with no filter of its own (config's repository is not repo's),
 * no updatekeys of this clone reads the submodule's .sops.yaml; its own
 * record, made by `gitseal git init` there, does. */
static void unaccepted_hint(const struct sops_config *config, struct gitfilter *repo, char *hint, size_t cap)
{
	struct gitfilter *own = NULL;
	char rel[PATH_MAX];
	const char *sub;
	size_t n;

	snprintf(hint, cap, "'gitseal updatekeys' shows and accepts them; --config or --age to choose");
	if (!config->dir || gitfilter_open(config->dir, &own) != 0) {
		gs_error_clear();
		return;
	}
	if (!(sub = gitfilter_workdir(own))) {
		gitfilter_free(own);
		return;
	}
	n = strlen(gitfilter_workdir(repo));
	if (strcmp(sub, gitfilter_workdir(repo)) && !strncmp(sub, gitfilter_workdir(repo), n) &&
	    snprintf(rel, sizeof(rel), "%s", sub + n) < (int)sizeof(rel)) {
		rel[strlen(rel) - 1] = '\0'; /* its final '/' */
		snprintf(hint, cap, "'%s' is a submodule this clone's record does not cover: --config names its "
			 ".sops.yaml, or 'gitseal git init' in it shows them and records them there", gs_shown(rel));
	}
	gitfilter_free(own);
}

/* In a clone set up by `gitseal git init`, a .sops.yaml that gitseal
 * found (not one the user named) is repository content: a pull request
 * may have put one in a subdirectory, or added a recipient to the root's.
 * As `git add` does, the keys its rule gives a new file must be ones this
 * clone accepted (`gitseal updatekeys` shows and accepts them); keys the
 * user named (--age, SOPS_AGE_RECIPIENTS, --config) are the user's own.
 * Keys named so (keys_given) replace the rule's keys only: what it leaves
 * in clear still comes from the found rule, as in sops, and is checked. */
static int check_found_rule(const struct sops_cli *c, const struct sops_config *config,
			    const struct sops_key_summary *keys, bool keys_given)
{
	const char *file;
	struct gitfilter *repo = NULL;
	struct gs_buf list;
	int ret = found_rule_clone(c, config, &repo, &file);

	if (ret || !repo)
		return ret;
	gs_buf_init(&list, false);
	for (size_t g = 0; !ret && !keys_given && g < keys->group_count; g++)
		for (size_t i = 0; !ret && i < sops_key_group_size(&keys->groups[g]); i++) {
			const char *key = sops_key_group_key(&keys->groups[g], i);
			bool yes = false;

			if (!(ret = gitfilter_recipient_accepted(repo, file ? file : ".", key, &yes)) && !yes)
				ret = gs_buf_printf(&list, "%s+%s", list.len ? ", " : "", gs_shown(key));
		}
	if (!ret && list.len) {
		char hint[PATH_MAX + 160];

		unaccepted_hint(config, repo, hint, sizeof(hint));
		ret = GS_FAIL(GS_ERR_GENERIC, "the creation rule of '%s' names recipients this clone has not "
			      "accepted: %s; the file would be readable by them (%s)", gs_shown(config->path),
			      (const char *)list.data, hint);
	}
	/* what it leaves in clear and how many groups must come together are
	 * the rule's too (a selection or threshold flag is the user's own) */
	if (!ret && gitfilter_found_rule_accepted(repo, file ? file : ".", keys, !c->selection_flags,
						  !keys_given && !c->shamir_threshold) == GS_ERR_CONFIG) {
		char why[512];

		snprintf(why, sizeof(why), "%s", gs_error_message());
		ret = GS_FAIL(GS_ERR_GENERIC, "the creation rule of '%s': %s (--config, or a selection or "
			      "threshold flag, to choose)", gs_shown(config->path), why);
	}
	gs_buf_release(&list);
	gitfilter_free(repo);
	return ret;
}

/* A rule of a found .sops.yaml (repository content: a pull request's
 * change) whose selection encrypts none of the file's values would have it
 * written in clear, sops's metadata and all; a selection flag, --config
 * and SOPS_CONFIG are the user's own choice. */
static int check_rule_seals(const struct sops_cli *c, const struct sops_config *config, struct doc *plain,
			    const struct sops_selection *sel)
{
	const char *named = getenv("SOPS_CONFIG");
	size_t sealed, values;
	int ret;

	if (!config || c->config_path || (named && *named) || c->selection_flags || sel->kind == SOPS_SEL_NONE)
		return 0;
	if ((ret = sops_doc_count_sealed(plain, sel, &sealed, &values)) < 0 || sealed || !values)
		return ret;
	return GS_FAIL(GS_ERR_GENERIC, "the creation rule of '%s' (%s '%s') encrypts none of the file's %zu "
		       "value%s: %s would be written in clear; nothing written (a selection flag such as "
		       "--encrypted-regex, or --config, to choose)", gs_shown(config->path), sops_selection_key(sel->kind),
		       gs_shown(sel->value ? sel->value : ""), values, values == 1 ? "" : "s",
		       values == 1 ? "it" : "each");
}

/* Whether a new file's keys would come from a .sops.yaml gitseal found
 * (repository content) rather than from the user: key flags or their
 * variables, --config, SOPS_CONFIG. */
static bool keys_from_found_rule(const struct sops_cli *c, const struct sops_config *config)
{
	const char *named = getenv("SOPS_CONFIG");
	char **keys[3] = { NULL, NULL, NULL };
	size_t counts[3] = { 0, 0, 0 };
	bool found;

	if (!config || c->config_path || (named && *named))
		return false;
	/* a list that cannot be read gives no keys: the rule's, as the
	 * command itself will find (it fails there, not here) */
	(void)(sops_cli_age_recipients(c, &keys[0], &counts[0]) || sops_cli_vault_uris(c, &keys[1], &counts[1]) ||
	       sops_cli_pgp_fingerprints(c, &keys[2], &counts[2]));
	gs_error_clear();
	found = !counts[0] && !counts[1] && !counts[2];
	sops_cli_free_strings(keys[0], counts[0]);
	sops_cli_free_strings(keys[1], counts[1]);
	sops_cli_free_strings(keys[2], counts[2]);
	return found;
}

int cmd_check_new_file_place(const struct sops_cli *c, const struct sops_config *config, const char *written,
			     bool announce)
{
	char root[PATH_MAX], real[PATH_MAX], meant[PATH_MAX];
	bool through_link, rule;

	int ret;

	if (!written)
		return 0;
	if ((ret = cmd_repo_root(root)))
		return ret;
	if (!root[0] || !gs_write_lands(written, real) || gs_path_inside(root, real))
		return 0;
	/* typed inside, lands outside: a symbolic link on the way */
	through_link = gs_path_absolute(written, meant) == 0 && gs_path_inside(root, meant);
	rule = keys_from_found_rule(c, config);
	if (through_link && rule && !announce)
		return GS_FAIL(GS_ERR_GENERIC, "'%s' leads outside the repository '%s', to '%s': the creation rule "
			       "of '%s' chooses recipients for the repository's files, not for it; nothing written "
			       "(name the keys, e.g. --age, or the real path)", gs_shown(written), gs_shown(root),
			       gs_shown(real), gs_shown(config->path));
	if (!announce)
		return 0;
	if (through_link)
		cmd_warnf("'%s' leads outside the repository '%s', to '%s': written there", gs_shown(written),
			  gs_shown(root), gs_shown(real));
	else if (rule && written == c->file) /* --output typed: the rule is the input's, a file of the repository's */
		cmd_warnf("'%s' lies outside the repository '%s': the creation rule of '%s' is applied to it only "
			  "because it was named", gs_shown(written), gs_shown(root), gs_shown(config->path));
	return 0;
}

int cmd_new_file_keys(const struct sops_cli *c, const struct sops_config *config,
		      struct doc *plain, struct sops_key_summary *out, bool *k8s_default)
{
	struct sops_key_flags flags = { .shamir_threshold = c->shamir_threshold,
					.selection = c->selection };
	char **age = NULL, **vault = NULL, **pgp = NULL;
	size_t age_count = 0, vault_count = 0, pgp_count = 0;
	int ret;

	*k8s_default = false;
	if ((ret = sops_cli_age_recipients(c, &age, &age_count)) < 0 ||
	    (ret = sops_cli_vault_uris(c, &vault, &vault_count)) < 0 ||
	    (ret = sops_cli_pgp_fingerprints(c, &pgp, &pgp_count)) < 0)
		goto out;
	flags.age = (const char *const *)age;
	flags.age_count = age_count;
	flags.vault = (const char *const *)vault;
	flags.vault_count = vault_count;
	flags.pgp = (const char *const *)pgp;
	flags.pgp_count = pgp_count;
	if ((ret = sops_keys_resolve(config, sops_cli_rule_path(c), &flags, out)) < 0 ||
	    (ret = check_found_rule(c, config, out, age_count || vault_count || pgp_count)) < 0 ||
	    (ret = check_rule_seals(c, config, plain, &out->selection)) < 0)
		goto out;
	if (out->selection.kind == SOPS_SEL_NONE && sops_config_is_k8s_secret(plain)) {
		out->selection.kind = SOPS_SEL_ENCRYPTED_REGEX;
		*k8s_default = true;
		if (!(out->selection.value = gs_strdup(GITSEAL_K8S_SECRET_REGEX)))
			ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	}
out:
	sops_cli_free_strings(age, age_count);
	sops_cli_free_strings(vault, vault_count);
	sops_cli_free_strings(pgp, pgp_count);
	return ret;
}

int cmd_indent(const struct sops_cli *c, const struct sops_config *config, enum doc_format format)
{
	/* sops: --indent replaces the output stores' settings (main.go outputStore) */
	if (c->values[SO_INDENT].set)
		return sops_indent_from_sops(c->indent, format == DOC_FORMAT_JSON);
	if (config && format == DOC_FORMAT_JSON)
		return config->json_indent;
	if (config && format == DOC_FORMAT_YAML)
		return config->yaml_indent;
	return SOPS_INDENT_DEFAULT;
}

int cmd_encrypt_text(const struct sops_cli *c, const struct sops_config *config,
		     struct gs_buf *text, struct gs_buf *out, bool *k8s_default)
{
	enum doc_format format = sops_cli_input_format(c), out_format = sops_cli_output_format(c);
	char why[SOPS_WHY_SIZE];
	struct sops_seal_opts so = {
		.convert = out_format != format, .output_format = out_format,
		.indent = cmd_indent(c, config, out_format), .drop_source = true, .fell_back = why,
		.open_end = true,
	};
	struct sops_key_summary keys = { 0 };
	struct sops_file *f = NULL;
	struct doc d;
	int ret;

	*k8s_default = false;
	/* no step asked for: a flat file's metadata takes its blocks' step,
	 * which decrypt then gives them back with (docs/git.md) */
	if (so.indent == SOPS_INDENT_DEFAULT && format == DOC_FORMAT_YAML && out_format == DOC_FORMAT_YAML)
		so.indent = store_yaml_flat_block_step(text);
	doc_init(&d, format);
	/* what encrypt reads of the tree it reads by length: a large value
	 * stays in the input text, not copied */
	d.share_source = true;
	if ((ret = store_load_buf(format, text, &d)) < 0)
		goto out;
	if (c->values[SO_INDENT].set)
		cmd_drop_layout(&d);
	if ((ret = sops_doc_check_plain(&d)) < 0)
		goto out;
	if ((ret = cmd_new_file_keys(c, config, &d, &keys, k8s_default)) < 0)
		goto out;
	if ((ret = sops_file_create(format, &keys, NULL, NULL, &f)) < 0)
		goto out;
	ret = sops_file_seal(f, &d, &so, out);
	/* the tree is left as it was: sealed again without those keys */
	if (ret == GS_ERR_UNSUPPORTED_KEY && sops_cli_confirm_drop(c, sops_cli_rule_path(c))) {
		so.drop_unsupported_keys = true;
		ret = sops_file_seal(f, &d, &so, out);
	}
	if (ret == 0)
		warn_fell_back(sops_cli_rule_path(c), why);
out:
	sops_file_free(f);
	sops_key_summary_release(&keys);
	doc_release(&d);
	return ret;
}
