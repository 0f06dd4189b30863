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

int sops_cli_age_recipients(const struct sops_cli *c, char ***out, size_t *count)
{
	const char *env = getenv("SOPS_AGE_RECIPIENTS");
	int ret = 0;

	*out = NULL;
	*count = 0;
	for (size_t i = 0; !ret && i < c->age_count; i++)
		ret = split_into(c->age[i], out, count);
	if (!ret && !c->age_count && env)
		ret = split_into(env, out, count);
	if (ret) {
		sops_cli_free_strings(*out, *count);
		*out = NULL;
		*count = 0;
	}
	return ret;
}

int sops_cli_vault_uris(const struct sops_cli *c, char ***out, size_t *count)
{
	const char *env = getenv("SOPS_VAULT_URIS");
	int ret = 0;

	*out = NULL;
	*count = 0;
	for (size_t i = 0; !ret && i < c->vault_count; i++)
		ret = split_into(c->vault[i], out, count);
	if (!ret && !c->vault_count && env)
		ret = split_into(env, out, count);
	if (ret) {
		sops_cli_free_strings(*out, *count);
		*out = NULL;
		*count = 0;
	}
	return ret;
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
