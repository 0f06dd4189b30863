#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "flags.h"
#include "gitseal/io.h"
#include "gitseal/store.h"
#include "sops_cli.h"

void sops_cli_init(struct sops_cli *c, const char *command)
{
	memset(c, 0, sizeof(*c));
	c->command = command;
	c->indent = 0;
}

void sops_cli_release(struct sops_cli *c)
{
	free(c->age);
	free(c->add_age);
	free(c->rm_age);
	free(c->vault);
	free(c->add_vault);
	free(c->rm_vault);
	free(c->pgp);
	free(c->add_pgp);
	free(c->rm_pgp);
	free((char *)c->foreign_flag);
	free(c->selection.value);
	memset(c, 0, sizeof(*c));
}

static int set_selection(struct sops_cli *c, enum sops_selection_kind kind, const char *value)
{
	free(c->selection.value);
	c->selection.value = strdup(value);
	if (!c->selection.value)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	c->selection.kind = kind;
	c->selection_flags++;
	return 0;
}

static int parse_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < INT_MIN || v > INT_MAX)
		return GS_FAIL(GS_ERR_USAGE, "invalid number '%s'", s);
	*out = (int)v;
	return 0;
}

/* sops's key flags of types gitseal cannot wrap for (cmd/sops/main.go). */
static const char *const foreign_key_flags[] = {
	"kms", "k", "gcp-kms", "azure-kv", "hckms", "aws-profile", "encryption-context",
	"add-kms", "rm-kms", "add-gcp-kms", "rm-gcp-kms", "add-azure-kv", "rm-azure-kv",
	"add-hckms", "rm-hckms",
};

static bool is_foreign_key_flag(const struct flag_iter *it)
{
	for (size_t i = 0; i < sizeof(foreign_key_flags) / sizeof(foreign_key_flags[0]); i++)
		if (flag_is(it, NULL, foreign_key_flags[i]))
			return true;
	return false;
}

static const struct {
	const char *flag;
	enum sops_selection_kind kind;
} selection_flags[] = {
	{ "unencrypted-suffix", SOPS_SEL_UNENCRYPTED_SUFFIX },
	{ "encrypted-suffix", SOPS_SEL_ENCRYPTED_SUFFIX },
	{ "unencrypted-regex", SOPS_SEL_UNENCRYPTED_REGEX },
	{ "encrypted-regex", SOPS_SEL_ENCRYPTED_REGEX },
	{ "unencrypted-comment-regex", SOPS_SEL_UNENCRYPTED_COMMENT_REGEX },
	{ "encrypted-comment-regex", SOPS_SEL_ENCRYPTED_COMMENT_REGEX },
};

int sops_cli_parse(struct sops_cli *c, int argc, char **argv)
{
	struct flag_iter it;
	const char *v;
	int ret = 0;

	flag_iter_init(&it, argc, argv);
	for (;;) {
		while (!ret && flag_next(&it)) {
			bool matched = false;

#define VALUE() ((v = flag_value(&it)) != NULL ? 0 : GS_ERR_USAGE)
			for (size_t i = 0; i < sizeof(selection_flags) / sizeof(selection_flags[0]); i++) {
				if (flag_is(&it, NULL, selection_flags[i].flag)) {
					matched = true;
					ret = VALUE();
					if (!ret)
						ret = set_selection(c, selection_flags[i].kind, v);
				}
			}
			if (matched)
				continue;
			if (flag_is(&it, "h", "help")) {
				printf("usage: gitseal %s [flags] FILE ...\n"
				       "The flags, environment variables and exit codes are sops's "
				       "(see README.md and docs/exit-codes.md).\n", c->command);
				exit(EXIT_OK);
			} else if (flag_is(&it, "i", "in-place")) {
				c->in_place = true;
			} else if (flag_is(&it, NULL, "output")) {
				if (!(ret = VALUE()))
					c->output = v;
			} else if (flag_is(&it, NULL, "input-type")) {
				if (!(ret = VALUE()))
					c->input_type = v;
			} else if (flag_is(&it, NULL, "output-type")) {
				if (!(ret = VALUE()))
					c->output_type = v;
			} else if (flag_is(&it, NULL, "filename-override")) {
				if (!(ret = VALUE()))
					c->filename_override = v;
			} else if (flag_is(&it, NULL, "config")) {
				if (!(ret = VALUE()))
					c->config_path = v;
			} else if (flag_is(&it, "a", "age")) {
				if (!(ret = VALUE()))
					ret = cmd_push_arg(&c->age, &c->age_count, v);
			} else if (flag_is(&it, NULL, "add-age")) {
				if (!(ret = VALUE()))
					ret = cmd_push_arg(&c->add_age, &c->add_age_count, v);
			} else if (flag_is(&it, NULL, "rm-age")) {
				if (!(ret = VALUE()))
					ret = cmd_push_arg(&c->rm_age, &c->rm_age_count, v);
			} else if (flag_is(&it, NULL, "hc-vault-transit")) {
				if (!(ret = VALUE()))
					ret = cmd_push_arg(&c->vault, &c->vault_count, v);
			} else if (flag_is(&it, NULL, "add-hc-vault-transit")) {
				if (!(ret = VALUE()))
					ret = cmd_push_arg(&c->add_vault, &c->add_vault_count, v);
			} else if (flag_is(&it, NULL, "rm-hc-vault-transit")) {
				if (!(ret = VALUE()))
					ret = cmd_push_arg(&c->rm_vault, &c->rm_vault_count, v);
			} else if (flag_is(&it, "p", "pgp")) {
				if (!(ret = VALUE()))
					ret = cmd_push_arg(&c->pgp, &c->pgp_count, v);
			} else if (flag_is(&it, NULL, "add-pgp")) {
				if (!(ret = VALUE()))
					ret = cmd_push_arg(&c->add_pgp, &c->add_pgp_count, v);
			} else if (flag_is(&it, NULL, "rm-pgp")) {
				if (!(ret = VALUE()))
					ret = cmd_push_arg(&c->rm_pgp, &c->rm_pgp_count, v);
			} else if (flag_is(&it, NULL, "drop-unsupported-keys")) {
				c->drop_unsupported_keys = true;
			} else if (is_foreign_key_flag(&it)) {
				/* recorded, refused by the commands that take keys */
				if (!c->foreign_flag && !(c->foreign_flag = strdup(it.name)))
					ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
				if (!ret)
					ret = VALUE();
			} else if (flag_is(&it, NULL, "file")) {
				if (!(ret = VALUE()))
					c->group_file = v;
			} else if (flag_is(&it, "r", "recursive")) {
				c->recursive = true;
			} else if (flag_is(&it, NULL, "mac-only-encrypted")) {
				c->selection.mac_only_encrypted = true;
			} else if (flag_is(&it, NULL, "indent")) {
				if (!(ret = VALUE()))
					ret = parse_int(v, &c->indent);
			} else if (flag_is(&it, NULL, "shamir-secret-sharing-threshold")) {
				if (!(ret = VALUE()))
					ret = parse_int(v, &c->shamir_threshold);
			} else if (flag_is(&it, NULL, "extract")) {
				if (!(ret = VALUE()))
					c->extract = v;
			} else if (flag_is(&it, NULL, "ignore-mac")) {
				c->ignore_mac = true;
			} else if (flag_is(&it, NULL, "idempotent")) {
				c->idempotent = true;
			} else if (flag_is(&it, "y", "yes")) {
				c->yes = true;
			} else if (flag_is(&it, NULL, "value-file")) {
				c->value_file = "";
				if (!(ret = VALUE()))
					c->value_file = v;
			} else if (flag_is(&it, NULL, "value-stdin")) {
				c->value_stdin = true;
			} else if (flag_is(&it, NULL, "pristine")) {
				c->pristine = true;
			} else if (flag_is(&it, NULL, "no-fifo")) {
				c->no_fifo = true;
			} else if (flag_is(&it, NULL, "filename")) {
				if (!(ret = VALUE()))
					c->exec_filename = v;
			} else if (flag_is(&it, NULL, "verbose")) {
				c->verbose = true;
			} else if (flag_is(&it, NULL, "enable-local-keyservice") ||
				   flag_is(&it, NULL, "disable-version-check")) {
				/* accepted for compatibility; gitseal has no key service or update check */
			} else {
				ret = GS_FAIL(GS_ERR_USAGE, "flag provided but not defined: -%s", it.name);
			}
#undef VALUE
		}
		if (ret)
			return ret;
		if (it.i >= argc)
			break;
		/* A positional word; sops accepts flags after it too. */
		if (!c->file && !c->rest_count) {
			c->file = argv[it.i];
			c->rest = &argv[it.i + 1];
		} else {
			c->rest_count++;
		}
		it.i++;
		it.done = false;
	}
	if (c->file && !strcmp(c->file, "-"))
		c->file = NULL;
	if (c->in_place && c->output)
		return GS_FAIL(GS_ERR_CONFLICT, "--in-place and --output are mutually exclusive");
	if (c->in_place && !c->file && !c->group_file)
		return GS_FAIL(GS_ERR_CONFLICT, "--in-place needs a file, not standard input");
	if (c->selection_flags > 1)
		return GS_FAIL(GS_ERR_CONFLICT, "only one of the encrypted/unencrypted suffix and regex options may be given");
	return 0;
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
	if (c->output_type)
		return store_format_for_path(c->output_type);
	return sops_cli_input_format(c);
}

int sops_cli_read_input(const struct sops_cli *c, struct gs_buf *out)
{
	return gs_read_file(c->file ? c->file : "-", out, STORE_MAX_INPUT);
}

int sops_cli_load_config(const struct sops_cli *c, struct sops_config **out)
{
	const char *explicit_path = c->config_path ? c->config_path : getenv("SOPS_CONFIG");
	char cwd[PATH_MAX], *found = NULL;
	int ret;

	*out = NULL;
	if (explicit_path && *explicit_path)
		return sops_config_load(explicit_path, out);
	if (!getcwd(cwd, sizeof(cwd)))
		return GS_FAIL(GS_ERR_IO, "cannot read the current directory: %s", strerror(errno));
	ret = sops_config_find(cwd, &found);
	if (!ret && found)
		ret = sops_config_load(found, out);
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
			grown = realloc(*out, (*count + 2) * sizeof(**out));
			if (!grown)
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			*out = grown;
			grown[*count] = strndup(s, (size_t)(e - s));
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
	fprintf(stderr, "gitseal: '%s': %s\n", file ? file : "-", gs_error_message());
	if (c->yes) {
		fprintf(stderr, "gitseal: '%s': going on without them (--drop-unsupported-keys -y)\n",
			file ? file : "-");
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
	const char *name = c->file ? c->file : (c->filename_override ? c->filename_override : NULL);
	int code = cmd_sops_exit_code(err);

	if (name && err != GS_ERR_USAGE && err != GS_ERR_CONFLICT && !strstr(gs_error_message(), name))
		gs_error_prefix("'%s'", name);
	cmd_print_error();
	return code;
}
