/* The table of sops's flags (src/cmd/sops_options.c): each command's flags
 * are well formed and no two of them share a name or an alias, the global
 * flags neither; and the examples of sops's own command lines parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitseal/error.h"
#include "../../src/cmd/sops_options.h"

static const char *const command_names[] = {
	"encrypt", "decrypt", "edit", "set", "unset", "rotate", "updatekeys",
	"groups add", "groups delete", "filestatus", "exec-env", "exec-file",
};

/* No two ids of the lists share a name or an alias. */
static void assert_no_clash(const char *what, const int *a, const int *b)
{
	const int *lists[] = { a, b };
	const char *names[2 * SO_COUNT];
	size_t n = 0;

	for (size_t l = 0; l < 2; l++) {
		for (const int *id = lists[l]; id && *id != OPT_END; id++) {
			const struct opt *o;

			assert_true(*id >= 0 && *id < SO_COUNT);
			o = &sops_options[*id];
			assert_non_null(o->name);
			assert_non_null(o->help);
			/* a flag that takes a value names it in the usage text */
			assert_true((o->kind == OPT_BOOL) == (o->arg == NULL));
			names[n++] = o->name;
			if (o->alias)
				names[n++] = o->alias;
		}
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (!strcmp(names[i], names[j]))
				fail_msg("%s: two flags are named -%s", what, names[i]);
}

static void test_tables_well_formed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(command_names) / sizeof(command_names[0]); i++) {
		const struct sops_command *c = sops_command_find(command_names[i]);

		assert_non_null(c);
		assert_no_clash(c->name, c->own, c->inherits);
	}
	assert_no_clash("global", sops_global_options, NULL);
	assert_null(sops_command_find("publish"));
}

/* Parses words as the arguments of command name. */
static int parse_as(const char *name, const char *const *words, struct opt_value *values,
		    struct opt_parser *p)
{
	const struct sops_command *c = sops_command_find(name);
	char *argv[16];
	int argc = 0;

	argv[argc++] = (char *)name;
	while (*words)
		argv[argc++] = (char *)*words++;
	memset(p, 0, sizeof(*p));
	memset(values, 0, SO_COUNT * sizeof(*values));
	p->table = sops_options;
	p->table_len = SO_COUNT;
	p->accepted = c->own;
	p->also = c->inherits;
	p->values = values;
	return opt_parse(p, argc, argv, 1);
}

static void test_sops_command_lines(void **state)
{
	struct opt_value v[SO_COUNT];
	struct opt_parser p;

	(void)state;
	/* sops set --value-file FILE INDEX VALUEFILE: a bool flag
	 * (cmd/sops/main.go, set's Flags) */
	assert_int_equal(parse_as("set", (const char *const[]){ "--value-file", "f.yaml", "[\"a\"]", "v.json", NULL },
				  v, &p), 0);
	assert_true(v[SO_VALUE_FILE].on);
	assert_int_equal(p.word_count, 3);
	opt_parser_release(&p);

	/* groups add -f FILE --age A --age B: repeatable, no variable */
	assert_int_equal(parse_as("groups add", (const char *const[]){ "-f", "x.yaml", "--age", "a", "--age", "b", NULL },
				  v, &p), 0);
	assert_string_equal(v[SO_GROUP_FILE].text, "x.yaml");
	assert_int_equal(v[SO_GROUP_AGE].count, 2);
	opt_parser_release(&p);

	/* decrypt does not take --age: refused, and known as a flag of others */
	assert_int_equal(parse_as("decrypt", (const char *const[]){ "--age", "a", "f", NULL }, v, &p), GS_ERR_USAGE);
	assert_true(p.unknown >= 0);
	opt_parser_release(&p);

	/* a global flag sops reads for the command is also taken after it */
	assert_int_equal(parse_as("decrypt", (const char *const[]){ "f", "--config", "c.yaml", "--indent", "2", NULL },
				  v, &p), 0);
	assert_string_equal(v[SO_CONFIG].text, "c.yaml");
	assert_int_equal(v[SO_INDENT].number, 2);
	opt_parser_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_well_formed),
		cmocka_unit_test(test_sops_command_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
