/* Command-line options declared once, in a table (git's parse_options,
 * curl's option table): each option has its names, the kind of its value,
 * the environment variable bound to it and a help line. A command lists
 * which options of the table it takes; the parser and the usage text both
 * come from that list, so a flag a command does not take is refused and
 * every flag it takes is documented.
 *
 * The syntax is Go's flag package as sops parses it (urfave/cli 1.22):
 * one or two dashes, the value as the next word or after '=', a bool flag
 * takes no word (--flag=false turns it off), '--' ends the flags, '-' is a
 * word. Unlike Go's parser, flags may also follow positional words (urfave
 * moves a command's known flags in front of them). */
#ifndef GITSEAL_CMD_OPTIONS_H
#define GITSEAL_CMD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum opt_kind {
	OPT_BOOL,
	OPT_STRING, /* given twice: the last one counts (Go's flag package) */
	OPT_INT,
	OPT_LIST,   /* repeatable: every value, in order */
	OPT_OPTIONAL, /* alone (on) or with "=VALUE" (on, text); never takes the next word
		       * (git's PARSE_OPT_OPTARG; Go's flag package has no such flag) */
};

struct opt {
	const char *name;  /* long name, without dashes */
	const char *alias; /* another name ("i" for -i), or NULL */
	enum opt_kind kind;
	const char *arg;   /* the value's name in the usage text ("FILE"); NULL for OPT_BOOL;
			    * OPT_OPTIONAL prints it as "[=ARG]" */
	const char *env;   /* variable giving the value when the flag is absent, or NULL */
	const char *help;  /* one line, lowercase */
	bool hidden;       /* taken (to be refused with a reason, or for old scripts) but not
			    * listed by the usage text */
};

struct opt_value {
	bool set;          /* given on the command line, or by its variable */
	bool from_env;
	bool on;           /* OPT_BOOL, OPT_OPTIONAL */
	const char *text;  /* OPT_STRING, OPT_INT and OPT_OPTIONAL: the last value as given
			    * (OPT_OPTIONAL: NULL when given alone) */
	int number;        /* OPT_INT */
	const char **list; /* OPT_LIST: every value (malloc'd array of argv strings) */
	size_t count;
};

/* The end of an id list. */
enum { OPT_END = -1 };

/* One parse: table is indexed by the caller's option ids; accepted (and
 * also, when not NULL: the global options) list the ids the command takes,
 * each list ending with OPT_END. values has an entry per table row. */
struct opt_parser {
	const struct opt *table;
	size_t table_len;
	const int *accepted;
	const int *also;
	bool stop_at_word;   /* stop at the first positional word (flags before a command) */
	struct opt_value *values;
	char **words;        /* positional words, in order (malloc'd array of argv strings) */
	int word_count;
	int next;            /* with stop_at_word: the index of the word that stopped the parse */
	bool help;           /* -h or --help was given: the caller prints the usage */
	int unknown;         /* after a parse error on an undeclared flag: its id in the table,
			      * or -1 (not in the table at all) */
};

/* Parses argv[first..argc) into p->values and p->words. Errors (usage,
 * GS_ERR_USAGE, with Go's messages: "flag provided but not defined: -x",
 * "flag needs an argument: -x", "invalid value ... for flag -x") leave
 * what was parsed so far. Variables bound to options are not read here:
 * see opt_apply_env. */
int opt_parse(struct opt_parser *p, int argc, char **argv, int first)
	__attribute__((warn_unused_result));
/* Gives every accepted option that was not given the value of its
 * variable, when that is set (urfave's EnvVar). */
int opt_apply_env(struct opt_parser *p) __attribute__((warn_unused_result));
/* Frees the lists and words (not the values array itself). */
void opt_parser_release(struct opt_parser *p);

/* Whether arg is a flag opt_parse reads as -h/--help where no option of
 * that name is accepted: -h, --help, -help, and any of them with "=VALUE"
 * (Go's flag package). */
bool opt_is_help(const char *arg);
/* Whether id is in the OPT_END-terminated list. */
bool opt_list_has(const int *ids, int id);
/* The table row of the option named name (either name), or -1. */
int opt_find(const struct opt *table, size_t table_len, const char *name);

/* Prints the options of ids, one a line: "  -i, --in-place   help [$VAR]". */
void opt_usage(FILE *f, const struct opt *table, const int *ids);

#endif
