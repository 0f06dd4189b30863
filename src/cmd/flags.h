/* Go-flag-style option parsing shared by the commands: one or two dashes,
 * values as the next word or after '=', flags before positional words,
 * '--' ends the flags. */
#ifndef GITSEAL_CMD_FLAGS_H
#define GITSEAL_CMD_FLAGS_H

#include <stdbool.h>

struct flag_iter {
	int argc;
	char **argv;
	int i;
	const char *name;  /* the flag's name without dashes */
	const char *inline_value;
	bool done;
};

void flag_iter_init(struct flag_iter *it, int argc, char **argv);
/* Advances to the next flag; false at the first positional word or '--'.
 * it->i then indexes the first positional argument. */
bool flag_next(struct flag_iter *it);
bool flag_is(const struct flag_iter *it, const char *short_name, const char *long_name);
/* The flag's value (inline or the next word); NULL and an error message if missing. */
const char *flag_value(struct flag_iter *it);
/* Fails with a usage error when the flag was given a value with '='. */
bool flag_has_inline_value(const struct flag_iter *it);

#endif
