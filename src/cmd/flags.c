#include <string.h>

#include "cmd.h"
#include "flags.h"

void flag_iter_init(struct flag_iter *it, int argc, char **argv)
{
	it->argc = argc;
	it->argv = argv;
	it->i = 1;
	it->name = NULL;
	it->inline_value = NULL;
	it->done = false;
}

bool flag_next(struct flag_iter *it)
{
	static _Thread_local char name[64];
	const char *arg, *eq;
	size_t n;

	if (it->done || it->i >= it->argc)
		return false;
	arg = it->argv[it->i];
	if (arg[0] != '-' || arg[1] == '\0') {
		it->done = true;
		return false;
	}
	if (!strcmp(arg, "--")) {
		it->i++;
		it->done = true;
		return false;
	}
	arg += arg[1] == '-' ? 2 : 1;
	eq = strchr(arg, '=');
	n = eq ? (size_t)(eq - arg) : strlen(arg);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, arg, n);
	name[n] = '\0';
	it->name = name;
	it->inline_value = eq ? eq + 1 : NULL;
	it->i++;
	return true;
}

bool flag_is(const struct flag_iter *it, const char *short_name, const char *long_name)
{
	return (short_name && !strcmp(it->name, short_name)) ||
	       (long_name && !strcmp(it->name, long_name));
}

const char *flag_value(struct flag_iter *it)
{
	if (it->inline_value)
		return it->inline_value;
	if (it->i >= it->argc) {
		gs_error_set(GS_ERR_USAGE, "flag needs an argument: -%s", it->name);
		return NULL;
	}
	return it->argv[it->i++];
}

bool flag_has_inline_value(const struct flag_iter *it)
{
	return it->inline_value != NULL;
}
