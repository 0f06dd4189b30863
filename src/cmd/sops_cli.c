#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "gitseal/alloc.h"
#include "gitseal/io.h"
#include "gitseal/shown.h"
#include "gitseal/store.h"
#include "sops_cli.h"

void sops_cli_init(struct sops_cli *c, const char *command)
{
	memset(c, 0, sizeof(*c));
	c->command = command;
}

void sops_cli_release(struct sops_cli *c)
{
	for (size_t i = 0; i < SO_COUNT; i++)
		free(c->values[i].list);
	free(c->words);
	free(c->selection.value);
	memset(c, 0, sizeof(*c));
}

void sops_cli_verbose(const struct sops_cli *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->verbose)
		return;
	fputs("gitseal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *text_of(const struct sops_cli *c, int id)
{
	return c->values[id].set ? c->values[id].text : NULL;
}

/* The values of a list flag (OPT_LIST) or of a string flag, as a list. */
static void list_of(const struct sops_cli *c, int id, const char ***list, size_t *count)
{
	const struct opt_value *v = &c->values[id];

	*list = v->set ? v->list : NULL;
	*count = v->set ? v->count : 0;
}

/* A global flag given before the command: sops reads it only when the
 * command does not declare it and looks it up (urfave/cli's lineage); a
 * flag the command declares, or does not read, is ignored there. */
static int merge_globals(struct sops_cli *c)
{
	const struct opt_value *g = sops_globals();

	for (int id = 0; g && id < SO_COUNT; id++) {
		struct opt_value *v = &c->values[id];

		if (!g[id].set || id == SO_VERSION)
			continue;
		if (!opt_list_has(c->spec->inherits, id)) {
			cmd_warnf("%s%s before '%s' is ignored, as sops ignores it: put it after '%s'",
				  sops_options[id].name[1] ? "--" : "-", sops_options[id].name, gs_shown(c->command),
				  gs_shown(c->command));
			continue;
		}
		if (v->set)
			continue;
		*v = g[id];
		if (g[id].list) {
			v->list = gs_malloc(g[id].count * sizeof(*v->list));
			if (!v->list)
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			memcpy(v->list, g[id].list, g[id].count * sizeof(*v->list));
		}
	}
	return 0;
}

static const struct {
	int id;
	enum sops_selection_kind kind;
} selection_options[] = {
	{ SO_UNENCRYPTED_SUFFIX, SOPS_SEL_UNENCRYPTED_SUFFIX },
	{ SO_ENCRYPTED_SUFFIX, SOPS_SEL_ENCRYPTED_SUFFIX },
	{ SO_UNENCRYPTED_REGEX, SOPS_SEL_UNENCRYPTED_REGEX },
	{ SO_ENCRYPTED_REGEX, SOPS_SEL_ENCRYPTED_REGEX },
	{ SO_UNENCRYPTED_COMMENT_REGEX, SOPS_SEL_UNENCRYPTED_COMMENT_REGEX },
	{ SO_ENCRYPTED_COMMENT_REGEX, SOPS_SEL_ENCRYPTED_COMMENT_REGEX },
};

/* sops's key flags of types gitseal cannot wrap for (cmd/sops/main.go);
 * their variables are looked at by sops_cli_check_foreign_keys. */
static const int foreign_options[] = {
	SO_KMS, SO_GCP_KMS, SO_AZURE_KV, SO_HCKMS, SO_AWS_PROFILE, SO_ENCRYPTION_CONTEXT,
	SO_GROUP_KMS, SO_GROUP_GCP_KMS, SO_GROUP_AZURE_KV, SO_GROUP_HCKMS,
	SO_ADD_KMS, SO_RM_KMS, SO_ADD_GCP_KMS, SO_RM_GCP_KMS, SO_ADD_AZURE_KV, SO_RM_AZURE_KV,
	SO_ADD_HCKMS, SO_RM_HCKMS,
};

static int take_selection(struct sops_cli *c)
{
	for (size_t i = 0; i < sizeof(selection_options) / sizeof(selection_options[0]); i++) {
		const char *v = text_of(c, selection_options[i].id);

		if (!v)
			continue;
		free(c->selection.value);
		if (!(c->selection.value = gs_strdup(v)))
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		c->selection.kind = selection_options[i].kind;
		c->selection_flags++;
	}
	c->selection.mac_only_encrypted = c->values[SO_MAC_ONLY_ENCRYPTED].on;
	if (c->selection_flags > 1)
		return GS_FAIL(GS_ERR_CONFLICT,
			       "only one of the encrypted/unencrypted suffix and regex options may be given");
	return 0;
}

static void take_keys(struct sops_cli *c)
{
	bool group = !strcmp(c->command, "groups add");

	list_of(c, group ? SO_GROUP_AGE : SO_AGE, &c->age, &c->age_count);
	list_of(c, group ? SO_GROUP_PGP : SO_PGP, &c->pgp, &c->pgp_count);
	list_of(c, group ? SO_GROUP_HC_VAULT_TRANSIT : SO_HC_VAULT_TRANSIT, &c->vault, &c->vault_count);
	list_of(c, SO_ADD_AGE, &c->add_age, &c->add_age_count);
	list_of(c, SO_RM_AGE, &c->rm_age, &c->rm_age_count);
	list_of(c, SO_ADD_PGP, &c->add_pgp, &c->add_pgp_count);
	list_of(c, SO_RM_PGP, &c->rm_pgp, &c->rm_pgp_count);
	list_of(c, SO_ADD_HC_VAULT_TRANSIT, &c->add_vault, &c->add_vault_count);
	list_of(c, SO_RM_HC_VAULT_TRANSIT, &c->rm_vault, &c->rm_vault_count);
	for (size_t i = 0; i < sizeof(foreign_options) / sizeof(foreign_options[0]); i++) {
		const struct opt_value *v = &c->values[foreign_options[i]];

		if (v->set && !v->from_env && !c->foreign_flag)
			c->foreign_flag = sops_options[foreign_options[i]].name;
	}
	c->shamir_threshold = c->values[SO_SHAMIR_THRESHOLD].number;
	c->drop_unsupported_keys = c->values[SO_DROP_UNSUPPORTED_KEYS].on;
}

static void take_flags(struct sops_cli *c)
{
	const struct opt_value *v = c->values;

	c->in_place = v[SO_IN_PLACE].on;
	c->output = text_of(c, SO_OUTPUT);
	c->input_type = text_of(c, SO_INPUT_TYPE);
	c->output_type = text_of(c, SO_OUTPUT_TYPE);
	c->filename_override = text_of(c, SO_FILENAME_OVERRIDE);
	c->config_path = text_of(c, SO_CONFIG);
	c->indent = v[SO_INDENT].number;
	c->extract = text_of(c, SO_EXTRACT);
	c->ignore_mac = v[SO_IGNORE_MAC].on;
	c->idempotent = v[SO_IDEMPOTENT].on;
	c->yes = v[SO_YES].on;
	c->group_file = text_of(c, SO_GROUP_FILE);
	c->recursive = v[SO_RECURSIVE].on;
	c->value_file = v[SO_VALUE_FILE].on;
	c->value_stdin = v[SO_VALUE_STDIN].on;
	c->pristine = v[SO_PRISTINE].on;
	c->allow_unencrypted_env = v[SO_ALLOW_UNENCRYPTED_ENV].on;
	c->keep_file_rule = v[SO_KEEP_FILE_RULE].on;
	c->no_fifo = v[SO_NO_FIFO].on;
	c->exec_filename = text_of(c, SO_FILENAME);
	c->background = v[SO_BACKGROUND].on;
	c->same_process = v[SO_SAME_PROCESS].on;
	c->user = text_of(c, SO_USER);
	c->show_master_keys = v[SO_SHOW_MASTER_KEYS].on;
	c->verbose = v[SO_VERBOSE].on;
}

/* sops's decryptionOrder (main.go:2607): a type named twice is an error
 * of its own (112). */
static int take_decryption_order(struct sops_cli *c)
{
	const char *order = text_of(c, SO_DECRYPTION_ORDER);

	if (!order || !*order)
		return 0;
	for (const char *p = order; *p;) {
		size_t len = strcspn(p, ",");

		for (const char *q = p + len + (p[len] == ','); *q;) {
			size_t qlen = strcspn(q, ",");

			if (qlen == len && !strncmp(p, q, len)) {
				c->code = EXIT_SOPS_DUPLICATE_KEY_TYPE;
				return GS_FAIL(GS_ERR_USAGE, "duplicate decryption key type: %.*s", (int)len, p);
			}
			q += qlen + (q[qlen] == ',');
		}
		p += len + (p[len] == ',');
	}
	c->decryption_order = order;
	return 0;
}

/* Positional words: FILE (or - for standard input), then the rest. */
static void take_words(struct sops_cli *c)
{
	c->file = c->word_count ? c->words[0] : NULL;
	c->rest = c->word_count ? &c->words[1] : NULL;
	c->rest_count = c->word_count ? c->word_count - 1 : 0;
	if (c->file && !strcmp(c->file, "-"))
		c->file = NULL;
}

static int check_conflicts(struct sops_cli *c)
{
	if (c->values[SO_KEYSERVICE].set)
		return GS_FAIL(GS_ERR_GENERIC, "%s: gitseal has no remote key service; its keys are local only",
			       c->values[SO_KEYSERVICE].from_env ? "SOPS_KEYSERVICE" : "--keyservice");
	if (c->indent > SOPS_INDENT_MAX)
		return GS_FAIL(GS_ERR_USAGE, "--indent must be at most %d", SOPS_INDENT_MAX);
	if (c->in_place && c->output)
		return GS_FAIL(GS_ERR_CONFLICT, "cannot operate on both --output and --in-place");
	if (c->in_place && !c->file && !c->group_file)
		return GS_FAIL(GS_ERR_CONFLICT, "cannot use --in-place when reading from stdin");
	return 0;
}

int sops_cli_parse(struct sops_cli *c, int argc, char **argv)
{
	struct opt_parser p = { .table = sops_options, .table_len = SO_COUNT, .values = c->values };
	int ret;

	c->spec = sops_command_find(c->command);
	if (!c->spec)
		return GS_FAIL(GS_ERR_GENERIC, "no option table for '%s'", gs_shown(c->command));
	p.accepted = c->spec->own;
	p.also = c->spec->inherits;
	ret = opt_parse(&p, argc, argv, 1);
	c->words = p.words;
	c->word_count = p.word_count;
	if (ret < 0)
		return ret;
	if (p.help) {
		sops_command_usage(stdout, c->spec);
		exit(EXIT_OK);
	}
	if ((ret = merge_globals(c)) < 0 || (ret = opt_apply_env(&p)) < 0)
		return ret;
	take_words(c);
	take_flags(c);
	take_keys(c);
	if ((ret = take_selection(c)) < 0 || (ret = take_decryption_order(c)) < 0)
		return ret;
	return check_conflicts(c);
}

void sops_cli_one_file(const struct sops_cli *c)
{
	if (c->word_count > 1)
		cmd_warnf("more than one positional argument: only the first one, '%s', is used",
			  gs_shown(c->words[0]));
}

int sops_cli_require_file(struct sops_cli *c)
{
	static const int key_changes[] = { SO_ADD_AGE, SO_RM_AGE, SO_ADD_PGP, SO_RM_PGP, SO_ADD_HC_VAULT_TRANSIT,
					   SO_RM_HC_VAULT_TRANSIT, SO_ADD_KMS, SO_RM_KMS, SO_ADD_GCP_KMS,
					   SO_RM_GCP_KMS, SO_ADD_AZURE_KV, SO_RM_AZURE_KV, SO_ADD_HCKMS,
					   SO_RM_HCKMS, OPT_END };
	struct stat st;

	if (!c->file || stat(c->file, &st) == 0 || errno != ENOENT)
		return 0;
	for (const int *id = key_changes; *id != OPT_END; id++) {
		if (c->values[*id].set) {
			c->code = EXIT_SOPS_KEYS_OF_MISSING_FILE;
			return GS_FAIL(GS_ERR_NOT_FOUND, "cannot add or remove keys on non-existent file '%s', "
				       "use the 'edit' command instead", gs_shown_arg(c->file));
		}
	}
	c->code = EXIT_SOPS_NO_FILE;
	return GS_FAIL(GS_ERR_NOT_FOUND, "cannot operate on non-existent file '%s'", gs_shown_arg(c->file));
}

const char *sops_cli_rule_path(const struct sops_cli *c)
{
	return c->filename_override ? c->filename_override : c->file;
}

enum doc_format sops_cli_input_format(const struct sops_cli *c)
{
	enum doc_format f;

	if (c->input_type && store_format_from_name(c->input_type, &f) == 0)
		return f;
	return store_format_for_path(sops_cli_rule_path(c) ? sops_cli_rule_path(c) : "");
}

enum doc_format sops_cli_output_format(const struct sops_cli *c)
{
	enum doc_format f;

	if (c->output_type && store_format_from_name(c->output_type, &f) == 0)
		return f;
	/* sops: without a known --output-type, the file name's format
	 * (FormatForPathOrString), whatever --input-type says; a name that
	 * gives none (binary) takes the input's format, where sops's binary
	 * store could not write the document */
	if (sops_cli_rule_path(c) && (f = store_format_for_path(sops_cli_rule_path(c))) != DOC_FORMAT_BINARY)
		return f;
	return sops_cli_input_format(c);
}

void sops_cli_warm(const struct sops_cli *c)
{
	bool from_stdin = !c->file || strcmp(c->file, "-") == 0;
	struct stat st;

	if ((from_stdin ? fstat(STDIN_FILENO, &st) : stat(c->file, &st)) != 0 || !S_ISREG(st.st_mode))
		st.st_size = 0;
	sops_crypto_warm((size_t)st.st_size);
}

int sops_cli_read_input(const struct sops_cli *c, struct gs_buf *out)
{
	return gs_read_file(c->file ? c->file : "-", out, STORE_MAX_INPUT);
}

/* A .sops.yaml found by looking up from the current directory may sit in
 * a directory others can write (/tmp, a home made by someone else): it
 * decides whom files are encrypted for, so as git's safe.directory it must
 * be the user's own or root's. An explicit --config or SOPS_CONFIG is the
 * user's choice. */
static int check_config_owner(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 || st.st_uid == geteuid() || st.st_uid == 0)
		return 0;
	return GS_FAIL(GS_ERR_CONFIG, "'%s' is owned by someone else (uid %lu), not by you or root: a .sops.yaml "
		       "above the current directory decides whom files are encrypted for (--config or "
		       "SOPS_CONFIG to use it)", gs_shown(path), (unsigned long)st.st_uid);
}

/* sops (config.LookupConfigFile, >= 3.10) reads .sops.yaml only, and warns
 * of the first .sops.yml on the way up from the current directory to the
 * .sops.yaml it found (found NULL: to the root). */
static void warn_misnamed_config(const char *cwd, const char *found)
{
	char dir[PATH_MAX], stop[PATH_MAX], cand[PATH_MAX + sizeof("/.sops.yml")];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", cwd);
	if (found)
		snprintf(stop, sizeof(stop), "%.*s", (int)(strrchr(found, '/') - found), found);
	for (;;) {
		char *slash = strrchr(dir, '/');

		if (found && !strcmp(dir, *stop ? stop : "/"))
			return;
		snprintf(cand, sizeof(cand), "%s/.sops.yml", strcmp(dir, "/") ? dir : "");
		if (lstat(cand, &st) == 0) {
			cmd_warnf("ignoring '%s': the config file must be named .sops.yaml%s%s%s", gs_shown(cand),
				  found ? " (using '" : "", found ? gs_shown(found) : "", found ? "')" : "");
			return;
		}
		if (!slash || !strcmp(dir, "/"))
			return;
		slash[slash == dir] = '\0';
	}
}

int sops_cli_load_config(const struct sops_cli *c, struct sops_config **out)
{
	const char *explicit_path = c->config_path ? c->config_path : getenv("SOPS_CONFIG");
	char cwd[PATH_MAX], *found = NULL;
	int ret;

	*out = NULL;
	if (explicit_path && *explicit_path) {
		sops_cli_verbose(c, "config '%s'", gs_shown(explicit_path));
		ret = sops_config_load(explicit_path, out);
		/* sops: a config that cannot be read is a generic error (1:
		 * loadConfigFile through toExitError), not an unreadable input (2) */
		if (ret == GS_ERR_IO || ret == GS_ERR_NOT_FOUND || ret == GS_ERR_LIMIT) {
			gs_error_prefix("config");
			ret = GS_ERR_CONFIG;
		}
		return ret;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return GS_FAIL(GS_ERR_IO, "cannot read the current directory: %s", strerror(errno));
	ret = sops_config_find(cwd, &found);
	if (!ret)
		warn_misnamed_config(cwd, found);
	if (!ret && found)
		ret = check_config_owner(found);
	if (!ret && found) {
		sops_cli_verbose(c, "config '%s'", gs_shown(found));
		ret = sops_config_load(found, out);
	}
	free(found);
	return ret;
}

static int split_into(const char *list, char ***out, size_t *count)
{
	const char *p = list;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *s = p, *e = p + n;
		char **grown;

		while (s < e && (*s == ' ' || *s == '\t' || *s == '\n'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
			e--;
		if (e > s) {
			grown = gs_realloc(*out, (*count + 2) * sizeof(**out));
			if (!grown)
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			*out = grown;
			grown[*count] = gs_strndup(s, (size_t)(e - s));
			if (!grown[*count])
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			grown[++*count] = NULL;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* The values of a repeatable key flag, else its environment variable
 * (sops binds one to each key flag), split on commas. */
static int flag_or_env(const char *const *values, size_t n, const char *var, char ***out, size_t *count)
{
	const char *env = getenv(var);
	int ret = 0;

	*out = NULL;
	*count = 0;
	for (size_t i = 0; !ret && i < n; i++)
		ret = split_into(values[i], out, count);
	if (!ret && !n && env)
		ret = split_into(env, out, count);
	if (ret) {
		sops_cli_free_strings(*out, *count);
		*out = NULL;
		*count = 0;
	}
	return ret;
}

int sops_cli_age_recipients(const struct sops_cli *c, char ***out, size_t *count)
{
	return flag_or_env(c->age, c->age_count, "SOPS_AGE_RECIPIENTS", out, count);
}

int sops_cli_vault_uris(const struct sops_cli *c, char ***out, size_t *count)
{
	return flag_or_env(c->vault, c->vault_count, "SOPS_VAULT_URIS", out, count);
}

int sops_cli_pgp_fingerprints(const struct sops_cli *c, char ***out, size_t *count)
{
	return flag_or_env(c->pgp, c->pgp_count, "SOPS_PGP_FP", out, count);
}

int sops_cli_check_foreign_keys(const struct sops_cli *c, bool env)
{
	/* the variables sops binds to its key flags (cmd/sops/main.go) */
	static const struct {
		const char *var, *type;
	} vars[] = {
		{ "SOPS_KMS_ARN", "kms" },
		{ "SOPS_GCP_KMS_IDS", "gcp_kms" },
		{ "SOPS_AZURE_KEYVAULT_URLS", "azure_kv" },
		{ "SOPS_HUAWEICLOUD_KMS_IDS", "hckms" },
	};

	if (c->foreign_flag)
		return GS_FAIL(GS_ERR_UNSUPPORTED_KEY, "--%s: gitseal cannot encrypt for %s keys "
				"(--drop-unsupported-keys goes on without them)",
			       c->foreign_flag, strstr(c->foreign_flag, "gcp") ? "gcp_kms"
					       : strstr(c->foreign_flag, "azure")    ? "azure_kv"
					       : strstr(c->foreign_flag, "hckms")    ? "hckms"
										     : "kms");
	for (size_t i = 0; env && i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i].var);

		if (v && *v)
			return GS_FAIL(GS_ERR_UNSUPPORTED_KEY, "%s is set: gitseal cannot encrypt for %s keys "
					"(unset it, or --drop-unsupported-keys goes on without them)",
				       vars[i].var, vars[i].type);
	}
	return 0;
}

bool sops_cli_confirm_drop(const struct sops_cli *c, const char *file)
{
	char answer[16];

	if (!c->drop_unsupported_keys)
		return false;
	fprintf(stderr, "gitseal: '%s': %s\n", gs_shown_arg(file ? file : "-"), gs_error_message());
	if (c->yes) {
		fprintf(stderr, "gitseal: '%s': going on without them (--drop-unsupported-keys -y)\n",
			gs_shown_arg(file ? file : "-"));
		return true;
	}
	fprintf(stderr, "Drop them? Whoever decrypts through them loses access. (y/n): ");
	if (!isatty(STDIN_FILENO) || !fgets(answer, sizeof(answer), stdin))
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

int sops_cli_split(const char *const *values, size_t n, char ***out, size_t *count)
{
	int ret = 0;

	*out = NULL;
	*count = 0;
	for (size_t i = 0; !ret && i < n; i++)
		ret = split_into(values[i], out, count);
	if (ret) {
		sops_cli_free_strings(*out, *count);
		*out = NULL;
		*count = 0;
	}
	return ret;
}

void sops_cli_free_strings(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

int sops_cli_write(const struct sops_cli *c, const uint8_t *data, size_t len)
{
	if (c->in_place)
		return gs_output_write(c->file, data, len, 0600);
	if (c->output)
		return gs_output_write(c->output, data, len, 0600);
	if (len && fwrite(data, 1, len, stdout) != len)
		return GS_FAIL(GS_ERR_WRITE, "cannot write to standard output: %s", strerror(errno));
	if (fflush(stdout) != 0)
		return GS_FAIL(GS_ERR_WRITE, "cannot write to standard output: %s", strerror(errno));
	return 0;
}

int sops_cli_fail(const struct sops_cli *c, int err)
{
	/* groups add/delete: the file is --file; a positional word is the index */
	const char *name = c->group_file ? c->group_file : c->file ? c->file : c->filename_override;
	int code = c->code ? c->code : cmd_sops_exit_code(err);

	/* sops: a plaintext that does not parse cannot be read (2, encrypt.go:110);
	 * an encrypted file that does not is a generic error (LoadEncryptedFile) */
	if (!c->code && err == GS_ERR_PARSE && !c->plaintext_input)
		code = EXIT_GENERIC;

	if (name && err != GS_ERR_USAGE && err != GS_ERR_CONFLICT && !strstr(gs_error_message(), gs_shown_arg(name)))
		gs_error_prefix("'%s'", gs_shown_arg(name));
	cmd_print_error();
	return code;
}
