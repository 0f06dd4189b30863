/* The option tables of src/cmd/options.c: Go's flag syntax as sops parses
 * it (urfave/cli 1.22), flags before and after positional words, variables
 * bound to options, refusal of flags a command does not take, and the
 * usage text generated from the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitseal/error.h"
#include "../../src/cmd/options.h"

enum { T_IN_PLACE, T_OUTPUT, T_INDENT, T_AGE_LIST, T_CONFIG, T_VERBOSE, T_OTHER, T_COUNT };

static const struct opt table[T_COUNT] = {
	[T_IN_PLACE] = { "in-place", "i", OPT_BOOL, NULL, NULL, "write back to the file" },
	[T_OUTPUT] = { "output", NULL, OPT_STRING, "FILE", NULL, "write to FILE" },
	[T_INDENT] = { "indent", NULL, OPT_INT, "N", NULL, "indent by N" },
	[T_AGE_LIST] = { "age", "a", OPT_LIST, "R", "TEST_OPTIONS_AGE", "age recipients" },
	[T_CONFIG] = { "config", NULL, OPT_STRING, "PATH", "TEST_OPTIONS_CONFIG", "the config file" },
	[T_VERBOSE] = { "verbose", NULL, OPT_BOOL, NULL, NULL, "say more" },
	[T_OTHER] = { "other-command-flag", NULL, OPT_BOOL, NULL, NULL, "another command's" },
};

static const int command_ids[] = { T_IN_PLACE, T_OUTPUT, T_INDENT, T_AGE_LIST, OPT_END };
static const int global_ids[] = { T_CONFIG, T_VERBOSE, OPT_END };

struct parse {
	struct opt_parser p;
	struct opt_value values[T_COUNT];
	int ret;
};

/* Parses a NULL-terminated word list as the command "cmd". */
static void parse_words(struct parse *r, bool stop_at_word, const char *const *words)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = "cmd";
	while (*words)
		argv[argc++] = (char *)*words++;
	argv[argc] = NULL;
	memset(r, 0, sizeof(*r));
	r->p.table = table;
	r->p.table_len = T_COUNT;
	r->p.accepted = command_ids;
	r->p.also = global_ids;
	r->p.stop_at_word = stop_at_word;
	r->p.values = r->values;
	r->ret = opt_parse(&r->p, argc, argv, 1);
}

#define PARSE(r, ...) parse_words((r), false, (const char *const[]){ __VA_ARGS__, NULL })

static void test_go_flag_syntax(void **state)
{
	struct parse r;

	(void)state;
	PARSE(&r, "-i", "--output", "out.yaml", "-indent=4", "--config=c.yaml", "file.yaml");
	assert_int_equal(r.ret, 0);
	assert_true(r.values[T_IN_PLACE].on);
	assert_string_equal(r.values[T_OUTPUT].text, "out.yaml");
	assert_int_equal(r.values[T_INDENT].number, 4);
	assert_string_equal(r.values[T_CONFIG].text, "c.yaml");
	assert_int_equal(r.p.word_count, 1);
	assert_string_equal(r.p.words[0], "file.yaml");
	opt_parser_release(&r.p);

	/* a bool flag takes no word; =false turns it off; the value of a
	 * string flag may start with a dash */
	PARSE(&r, "--in-place", "file.yaml", "--in-place=false", "--output", "-");
	assert_int_equal(r.ret, 0);
	assert_false(r.values[T_IN_PLACE].on);
	assert_true(r.values[T_IN_PLACE].set);
	assert_string_equal(r.values[T_OUTPUT].text, "-");
	assert_int_equal(r.p.word_count, 1);
	opt_parser_release(&r.p);

	/* a string flag given twice: the last one counts; a list keeps all */
	PARSE(&r, "--output", "a", "--output", "b", "-a", "x", "--age=y", "f");
	assert_int_equal(r.ret, 0);
	assert_string_equal(r.values[T_OUTPUT].text, "b");
	assert_int_equal(r.values[T_AGE_LIST].count, 2);
	assert_string_equal(r.values[T_AGE_LIST].list[0], "x");
	assert_string_equal(r.values[T_AGE_LIST].list[1], "y");
	opt_parser_release(&r.p);
}

static void test_words_and_terminator(void **state)
{
	struct parse r;

	(void)state;
	/* '-' is a word; after '--' everything is a word; a negative number
	 * after the first word is data (set FILE PATH -1) */
	PARSE(&r, "-", "x", "-1", "--", "-i", "--output");
	assert_int_equal(r.ret, 0);
	assert_false(r.values[T_IN_PLACE].set);
	assert_int_equal(r.p.word_count, 5);
	assert_string_equal(r.p.words[0], "-");
	assert_string_equal(r.p.words[2], "-1");
	assert_string_equal(r.p.words[3], "-i");
	assert_string_equal(r.p.words[4], "--output");
	opt_parser_release(&r.p);
}

static void test_stop_at_word(void **state)
{
	struct parse r;

	(void)state;
	/* flags before a command: the parse stops at the command's name */
	parse_words(&r, true, (const char *const[]){ "--config", "c.yaml", "--verbose", "decrypt", "-i", NULL });
	assert_int_equal(r.ret, 0);
	assert_int_equal(r.p.next, 4);
	assert_int_equal(r.p.word_count, 0);
	assert_true(r.values[T_VERBOSE].on);
	assert_false(r.values[T_IN_PLACE].set);
	opt_parser_release(&r.p);

	parse_words(&r, true, (const char *const[]){ "--verbose", NULL });
	assert_int_equal(r.ret, 0);
	assert_int_equal(r.p.next, 2);
	opt_parser_release(&r.p);
}

static void test_errors(void **state)
{
	struct parse r;

	(void)state;
	PARSE(&r, "--bogus", "f");
	assert_int_equal(r.ret, GS_ERR_USAGE);
	assert_string_equal(gs_error_message(), "flag provided but not defined: -bogus");
	assert_int_equal(r.p.unknown, -1);
	opt_parser_release(&r.p);

	/* another command's flag: refused, and named as known to the table */
	PARSE(&r, "f", "--other-command-flag");
	assert_int_equal(r.ret, GS_ERR_USAGE);
	assert_int_equal(r.p.unknown, T_OTHER);
	opt_parser_release(&r.p);

	PARSE(&r, "f", "--output");
	assert_int_equal(r.ret, GS_ERR_USAGE);
	assert_string_equal(gs_error_message(), "flag needs an argument: -output");
	opt_parser_release(&r.p);

	PARSE(&r, "--indent", "four");
	assert_int_equal(r.ret, GS_ERR_USAGE);
	assert_string_equal(gs_error_message(), "invalid value \"four\" for flag -indent: parse error");
	opt_parser_release(&r.p);

	PARSE(&r, "-i=yes");
	assert_int_equal(r.ret, GS_ERR_USAGE);
	assert_string_equal(gs_error_message(), "invalid boolean value \"yes\" for -i: parse error");
	opt_parser_release(&r.p);

	PARSE(&r, "---output", "x");
	assert_int_equal(r.ret, GS_ERR_USAGE);
	assert_string_equal(gs_error_message(), "bad flag syntax: ---output");
	opt_parser_release(&r.p);

	PARSE(&r, "-h", "--bogus");
	assert_int_equal(r.ret, 0);
	assert_true(r.p.help);
	opt_parser_release(&r.p);

	/* every spelling opt_parse reads as help, and no other */
	for (const char *const *h = (const char *const[]){ "-h", "--h", "-help", "--help", "-h=1",
							   "--help=false", NULL }; *h; h++) {
		PARSE(&r, *h);
		assert_true(r.p.help && opt_is_help(*h));
		opt_parser_release(&r.p);
	}
	assert_false(opt_is_help("") || opt_is_help("-") || opt_is_help("--") || opt_is_help("h") ||
		     opt_is_help("-hx") || opt_is_help("---help") || opt_is_help("--helps=1"));
}

static void test_environment(void **state)
{
	struct parse r;

	(void)state;
	setenv("TEST_OPTIONS_CONFIG", "from-env.yaml", 1);
	setenv("TEST_OPTIONS_AGE", "age1a,age1b", 1);
	PARSE(&r, "f");
	assert_int_equal(r.ret, 0);
	assert_int_equal(opt_apply_env(&r.p), 0);
	assert_true(r.values[T_CONFIG].from_env);
	assert_string_equal(r.values[T_CONFIG].text, "from-env.yaml");
	assert_int_equal(r.values[T_AGE_LIST].count, 1);
	assert_string_equal(r.values[T_AGE_LIST].list[0], "age1a,age1b");
	opt_parser_release(&r.p);

	/* the flag beats its variable */
	PARSE(&r, "--config", "flag.yaml", "f");
	assert_int_equal(opt_apply_env(&r.p), 0);
	assert_false(r.values[T_CONFIG].from_env);
	assert_string_equal(r.values[T_CONFIG].text, "flag.yaml");
	opt_parser_release(&r.p);
	unsetenv("TEST_OPTIONS_CONFIG");
	unsetenv("TEST_OPTIONS_AGE");
}

static void test_usage_from_table(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	opt_usage(f, table, command_ids);
	fclose(f);
	assert_non_null(strstr(text, "  -i, --in-place "));
	assert_non_null(strstr(text, "      --output FILE "));
	assert_non_null(strstr(text, "  -a, --age R "));
	assert_non_null(strstr(text, "age recipients [$TEST_OPTIONS_AGE]\n"));
	assert_null(strstr(text, "--config"));
	/* one line per option */
	{
		int lines = 0;

		for (const char *p = text; *p; p++)
			lines += *p == '\n';
		assert_int_equal(lines, 4);
	}
	free(text);
}

/* OPT_OPTIONAL (render's --bind-namespace[=NS,...]): alone or with '=',
 * never the next word; the usage shows the value as optional. */
static void test_optional_value(void **state)
{
	static const struct opt opt_table[] = {
		{ "bind", NULL, OPT_OPTIONAL, "NS,...", NULL, "bind", false },
		{ "root", NULL, OPT_STRING, "DIR", NULL, "the root", false },
	};
	static const int ids[] = { 0, 1, OPT_END };
	struct opt_value values[2];
	struct opt_parser p;
	char *argv[] = { "cmd", "--bind", "dir", "--bind=a,b", "-bind", NULL };
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	memset(values, 0, sizeof(values));
	memset(&p, 0, sizeof(p));
	p.table = opt_table;
	p.table_len = 2;
	p.accepted = ids;
	p.values = values;
	assert_int_equal(opt_parse(&p, 3, argv, 1), 0);
	assert_true(values[0].set && values[0].on);
	assert_null(values[0].text);
	assert_int_equal(p.word_count, 1);
	assert_string_equal(p.words[0], "dir");
	opt_parser_release(&p);

	memset(values, 0, sizeof(values));
	assert_int_equal(opt_parse(&p, 4, argv, 1), 0);
	assert_true(values[0].on);
	assert_string_equal(values[0].text, "a,b");
	opt_parser_release(&p);

	/* given alone after a value: alone again */
	memset(values, 0, sizeof(values));
	assert_int_equal(opt_parse(&p, 5, argv, 1), 0);
	assert_true(values[0].on);
	assert_null(values[0].text);
	opt_parser_release(&p);

	f = open_memstream(&text, &len);
	assert_non_null(f);
	opt_usage(f, opt_table, ids);
	fclose(f);
	assert_non_null(strstr(text, "      --bind[=NS,...] "));
	assert_non_null(strstr(text, "      --root DIR "));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_flag_syntax),
		cmocka_unit_test(test_words_and_terminator),
		cmocka_unit_test(test_stop_at_word),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_usage_from_table),
		cmocka_unit_test(test_optional_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
