/* sops's top-level form, still used by many scripts (main.go:1885):
 *   gitseal -e [-i] FILE    encrypt       gitseal -d FILE   decrypt
 *   gitseal -r FILE         rotate        gitseal --set 'PATH VALUE' FILE
 *   gitseal [-i] FILE       edit (a missing FILE starts from an example)
 * The application's flags are parsed with sops's global table; those the
 * chosen command takes are handed to it as words it parses again, the
 * others are ignored, as sops ignores them in that mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "sops_options.h"

#include "gitseal/alloc.h"

struct legacy_mode {
	int flag;                       /* SO_DECRYPT, ...; -1: edit */
	const char *command;
	int (*fn)(int argc, char **argv);
};

static const struct legacy_mode modes[] = {
	{ SO_DECRYPT, "decrypt", cmd_decrypt },
	{ SO_ENCRYPT, "encrypt", cmd_encrypt },
	{ SO_ROTATE, "rotate", cmd_rotate },
	{ SO_SET, "set", cmd_set },
	{ -1, "edit", cmd_edit },
};

enum { MODE_COUNT = sizeof(modes) / sizeof(modes[0]) };

/* The mode the flags ask for; *given: how many of -d, -e, -r, --set. */
static const struct legacy_mode *pick_mode(const struct opt_value *v, int *given)
{
	const struct legacy_mode *m = &modes[MODE_COUNT - 1];

	*given = 0;
	for (size_t i = 0; i + 1 < MODE_COUNT; i++) {
		const struct opt_value *f = &v[modes[i].flag];

		if (f->set && (sops_options[modes[i].flag].kind != OPT_BOOL || f->on)) {
			(*given)++;
			m = &modes[i];
		}
	}
	return m;
}

/* Appends flag id with its values, as words; *spelled holds "--name" or
 * "--name=BOOL" for the lifetime of the call. */
static void push_flag(char **args, int *n, int id, const struct opt_value *v, char *spelled, size_t cap)
{
	const struct opt *o = &sops_options[id];

	if (o->kind == OPT_BOOL) {
		snprintf(spelled, cap, "--%s=%s", o->name, v->on ? "true" : "false");
		args[(*n)++] = spelled;
		return;
	}
	snprintf(spelled, cap, "--%s", o->name);
	for (size_t i = 0; o->kind == OPT_LIST && i < v->count; i++) {
		args[(*n)++] = spelled;
		args[(*n)++] = (char *)v->list[i];
	}
	if (o->kind != OPT_LIST) {
		args[(*n)++] = spelled;
		args[(*n)++] = (char *)v->text;
	}
}

/* --set 'PATH VALUE': split after the first "] " (main.go:2584). */
static int split_set(const char *set, char **path, const char **value)
{
	const char *cut = strstr(set, "] ");

	*path = NULL;
	if (!cut) {
		cmd_errorf("invalid --set format: '[\"key\"] VALUE-JSON'");
		return EXIT_SOPS_SET_FORMAT;
	}
	*value = cut + 2;
	if (!(*path = gs_strndup(set, (size_t)(cut + 1 - set)))) {
		cmd_errorf("out of memory");
		return EXIT_GENERIC;
	}
	return 0;
}

/* The command's words: its name, the flags it takes, FILE (and for --set
 * the path and value). */
static int run_mode(const struct legacy_mode *m, const struct opt_value *v, char **words, int word_count)
{
	const struct sops_command *spec = sops_command_find(m->command);
	char (*spelled)[80] = gs_calloc(SO_COUNT, sizeof(*spelled));
	char **args = NULL, *set_path = NULL;
	const char *set_value = NULL;
	int n = 0, code;
	size_t cap = 1;

	for (int id = 0; id < SO_COUNT; id++)
		cap += 2 * (v[id].count + 1);
	args = gs_calloc(cap + (size_t)word_count + 4, sizeof(*args));
	if (!spelled || !args) {
		cmd_errorf("out of memory");
		code = EXIT_GENERIC;
		goto out;
	}
	if (m->flag == SO_SET && (code = split_set(v[SO_SET].text, &set_path, &set_value)) != 0)
		goto out;
	args[n++] = (char *)m->command;
	for (int id = 0; id < SO_COUNT; id++)
		if (v[id].set && (opt_list_has(spec->own, id) || opt_list_has(spec->inherits, id)))
			push_flag(args, &n, id, &v[id], spelled[id], sizeof(spelled[id]));
	args[n++] = "--";
	if (word_count)
		args[n++] = words[0];
	if (set_path) {
		args[n++] = set_path;
		args[n++] = (char *)set_value;
	}
	for (int i = 1; i < word_count; i++)
		args[n++] = words[i];
	code = m->fn(n, args);
out:
	free(set_path);
	free(args);
	free(spelled);
	return code;
}

int cmd_legacy(int argc, char **argv)
{
	static struct opt_value values[SO_COUNT];
	struct opt_parser p = { .table = sops_options, .table_len = SO_COUNT, .accepted = sops_global_options,
				.values = values };
	const struct legacy_mode *m;
	int given, code;

	if (opt_parse(&p, argc, argv, 1) < 0) {
		cmd_print_error();
		code = EXIT_GENERIC;
		goto out;
	}
	m = pick_mode(values, &given);
	if (given > 1) {
		/* sops warns and keeps the last one's output, and says this will
		 * become an error (main.go:1938): gitseal makes it one */
		cmd_errorf("only one of --encrypt, --decrypt, --rotate and --set may be given");
		code = EXIT_SOPS_CONFLICT;
	} else if (!p.word_count) {
		cmd_errorf("no file specified");
		code = EXIT_SOPS_NO_FILE;
	} else {
		code = run_mode(m, values, p.words, p.word_count);
	}
out:
	opt_parser_release(&p);
	return code;
}
