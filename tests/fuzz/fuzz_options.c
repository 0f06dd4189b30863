/* libFuzzer: the option parser (src/cmd/options.c) over sops's tables,
 * fed NUL-separated words as a command line: every command's flags, the
 * global flags before a command (stop at the first word), and the
 * variables bound to options. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "../../src/cmd/sops_options.h"

enum { MAX_WORDS = 64 };

static const char *const commands[] = {
	"encrypt", "decrypt", "edit", "set", "unset", "rotate", "updatekeys",
	"groups add", "groups delete", "filestatus", "exec-env", "exec-file",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct opt_value values[SO_COUNT];
	char *copy, *argv[MAX_WORDS + 2];
	const struct sops_command *c;
	struct opt_parser p;
	int argc = 1;

	if (size < 1)
		return 0;
	c = sops_command_find(commands[data[0] % (sizeof(commands) / sizeof(commands[0]))]);
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	argv[0] = "gitseal";
	for (char *w = copy; w < copy + size - 1 && argc <= MAX_WORDS; w += strlen(w) + 1)
		argv[argc++] = w;
	argv[argc] = NULL;

	memset(&p, 0, sizeof(p));
	memset(values, 0, sizeof(values));
	p.table = sops_options;
	p.table_len = SO_COUNT;
	p.accepted = data[0] & 0x80 ? sops_global_options : c->own;
	p.also = data[0] & 0x80 ? NULL : c->inherits;
	p.stop_at_word = data[0] & 0x80;
	p.values = values;
	if (opt_parse(&p, argc, argv, 1) == 0 && opt_apply_env(&p) == 0) {
		/* what the parse says must hold */
		if (p.stop_at_word && p.word_count)
			abort();
		for (int i = 0; i < p.word_count; i++)
			if (!p.words[i])
				abort();
	}
	opt_parser_release(&p);
	gs_error_clear();
	free(copy);
	return 0;
}
