#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "options.h"

enum { NAME_MAX_LEN = 64, HELP_COLUMN = 34 };

bool opt_list_has(const int *ids, int id)
{
	for (; ids && *ids != OPT_END; ids++)
		if (*ids == id)
			return true;
	return false;
}

static bool names_match(const struct opt *o, const char *name)
{
	return !strcmp(o->name, name) || (o->alias && !strcmp(o->alias, name));
}

int opt_find(const struct opt *table, size_t table_len, const char *name)
{
	for (size_t i = 0; i < table_len; i++)
		if (names_match(&table[i], name))
			return (int)i;
	return -1;
}

/* The id of a flag the command takes, or -1. */
static int accepted_id(const struct opt_parser *p, const char *name)
{
	const int *lists[] = { p->accepted, p->also };

	for (size_t l = 0; l < 2; l++)
		for (const int *id = lists[l]; id && *id != OPT_END; id++)
			if (names_match(&p->table[*id], name))
				return *id;
	return -1;
}

/* strconv.ParseBool */
static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i]))
			return *out = true, 0;
		if (!strcmp(s, no[i]))
			return *out = false, 0;
	}
	return -1;
}

/* strconv.ParseInt(s, 0, 64), limited to an int */
static int parse_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || !*s || *end || v < INT_MIN || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* Stores one value of option id (text is an argv string or a variable's
 * value: both outlive the parse). */
static int set_value(struct opt_parser *p, int id, const char *text, const char *flag)
{
	const struct opt *o = &p->table[id];
	struct opt_value *v = &p->values[id];

	switch (o->kind) {
	case OPT_BOOL:
		if (parse_bool(text, &v->on) < 0)
			return GS_FAIL(GS_ERR_USAGE, "invalid boolean value \"%s\" for -%s: parse error",
				       gs_shown(text), flag);
		break;
	case OPT_INT:
		if (parse_int(text, &v->number) < 0)
			return GS_FAIL(GS_ERR_USAGE, "invalid value \"%s\" for flag -%s: parse error", gs_shown(text),
				       flag);
		v->text = text;
		break;
	case OPT_STRING:
		v->text = text;
		break;
	case OPT_OPTIONAL:
		v->on = true;
		v->text = text;
		break;
	case OPT_LIST:
		if (cmd_push_arg(&v->list, &v->count, text) < 0)
			return GS_ERR_NOMEM;
		break;
	}
	v->set = true;
	return 0;
}

/* A word that is data even though it starts with '-': a negative number
 * (a `set` value such as -1). */
static bool is_negative_number(const char *arg)
{
	return arg[0] == '-' && ((arg[1] >= '0' && arg[1] <= '9') || arg[1] == '.');
}

bool opt_is_help(const char *arg)
{
	const char *name;
	size_t n;

	if (arg[0] != '-')
		return false;
	name = arg + (arg[1] == '-' ? 2 : 1);
	n = strcspn(name, "=");
	return (n == 1 && name[0] == 'h') || (n == 4 && !strncmp(name, "help", 4));
}

/* One flag at argv[*i]: its name, its value (inline or the next word). */
static int parse_flag(struct opt_parser *p, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *name = arg + (arg[1] == '-' ? 2 : 1), *eq = strchr(name, '=');
	char buf[NAME_MAX_LEN];
	size_t n = eq ? (size_t)(eq - name) : strlen(name);
	int id;

	if (n == 0 || name[0] == '-' || n >= sizeof(buf))
		return GS_FAIL(GS_ERR_USAGE, "bad flag syntax: %s", arg);
	memcpy(buf, name, n);
	buf[n] = '\0';
	id = accepted_id(p, buf);
	if (id < 0 && opt_is_help(arg)) {
		p->help = true;
		return 0;
	}
	if (id < 0) {
		p->unknown = opt_find(p->table, p->table_len, buf);
		return GS_FAIL(GS_ERR_USAGE, "flag provided but not defined: -%s", buf);
	}
	if (p->table[id].kind == OPT_BOOL)
		return set_value(p, id, eq ? eq + 1 : "true", buf);
	if (p->table[id].kind == OPT_OPTIONAL)
		return set_value(p, id, eq ? eq + 1 : NULL, buf);
	if (eq)
		return set_value(p, id, eq + 1, buf);
	if (*i + 1 >= argc)
		return GS_FAIL(GS_ERR_USAGE, "flag needs an argument: -%s", buf);
	return set_value(p, id, argv[++*i], buf);
}

int opt_parse(struct opt_parser *p, int argc, char **argv, int first)
{
	bool flags_done = false;
	int ret;

	p->unknown = -1;
	p->next = argc;
	for (int i = first; i < argc; i++) {
		const char *arg = argv[i];
		bool word = flags_done || arg[0] != '-' || arg[1] == '\0' ||
			    (p->word_count > 0 && is_negative_number(arg));

		if (!word && !strcmp(arg, "--")) {
			flags_done = true;
			if (p->stop_at_word) {
				p->next = i + 1;
				return 0;
			}
			continue;
		}
		if (word && p->stop_at_word) {
			p->next = i;
			return 0;
		}
		if (word) {
			char **grown = gs_realloc(p->words, ((size_t)p->word_count + 1) * sizeof(*grown));

			if (!grown)
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			p->words = grown;
			p->words[p->word_count++] = argv[i];
			continue;
		}
		if ((ret = parse_flag(p, argc, argv, &i)) < 0)
			return ret;
		if (p->help)
			return 0;
	}
	return 0;
}

static int apply_env_list(struct opt_parser *p, const int *ids)
{
	int ret;

	for (; ids && *ids != OPT_END; ids++) {
		const struct opt *o = &p->table[*ids];
		const char *v;

		if (!o->env || p->values[*ids].set || !(v = getenv(o->env)) || !*v)
			continue;
		if ((ret = set_value(p, *ids, v, o->name)) < 0) {
			gs_error_prefix("%s", o->env);
			return ret;
		}
		p->values[*ids].from_env = true;
	}
	return 0;
}

int opt_apply_env(struct opt_parser *p)
{
	int ret = apply_env_list(p, p->accepted);

	if (ret)
		return ret;
	return apply_env_list(p, p->also);
}

void opt_parser_release(struct opt_parser *p)
{
	for (size_t i = 0; p->values && i < p->table_len; i++) {
		free(p->values[i].list);
		p->values[i].list = NULL;
		p->values[i].count = 0;
	}
	free(p->words);
	p->words = NULL;
	p->word_count = 0;
}

void opt_usage(FILE *f, const struct opt *table, const int *ids)
{
	for (; ids && *ids != OPT_END; ids++) {
		const struct opt *o = &table[*ids];
		int width;

		if (o->hidden)
			continue;
		if (o->alias)
			width = fprintf(f, "  %s%s, --%s", strlen(o->alias) == 1 ? "-" : "--", o->alias, o->name);
		else
			/* a short name alone (age-keygen's -pq, -y) is listed as Go spells it */
			width = fprintf(f, "  %s%s", strlen(o->name) <= 2 ? "-" : "    --", o->name);
		if (o->arg)
			width += fprintf(f, o->kind == OPT_OPTIONAL ? "[=%s]" : " %s", o->arg);
		if (width >= HELP_COLUMN - 1) {
			fputc('\n', f);
			width = 0;
		}
		fprintf(f, "%*s%s", HELP_COLUMN - width, "", o->help);
		if (o->env)
			fprintf(f, " [$%s]", o->env);
		fputc('\n', f);
	}
}
