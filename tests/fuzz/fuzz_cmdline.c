/* The SOPS_AGE_KEY_CMD splitter (src/util/cmdline.c, google/shlex Split):
 * the input up to its first NUL byte is split; each word then quoted
 * ('...', a quote inside as '\'') and the words joined by blanks must split
 * back to the same words. The spare slots before the NULL are writable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/cmdline.h"
#include "gitseal/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t spare = size ? data[0] % 4 : 0, argc = 0, argc2 = 0, len = 0;
	char *line = malloc(size + 1), *joined, **argv = NULL, **argv2 = NULL;

	if (!line)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	if (cmdline_split("fuzz", line, spare, &argv, &argc) < 0) {
		gs_error_clear();
		free(line);
		return 0;
	}
	if (argc < 1 || argv[argc])
		abort();
	for (size_t i = 0; i < spare; i++)
		argv[argc + i] = line;
	for (size_t i = 0; i < argc; i++)
		len += 4 * strlen(argv[i]) + 3;
	joined = malloc(len + 1);
	if (!joined)
		abort();
	len = 0;
	for (size_t i = 0; i < argc; i++) {
		joined[len++] = '\'';
		for (const char *c = argv[i]; *c; c++) {
			if (*c == '\'') {
				memcpy(joined + len, "'\\''", 4);
				len += 4;
			} else {
				joined[len++] = *c;
			}
		}
		joined[len++] = '\'';
		joined[len++] = ' ';
	}
	joined[len] = '\0';
	if (cmdline_split("fuzz", joined, 0, &argv2, &argc2) < 0 || argc2 != argc)
		abort();
	for (size_t i = 0; i < argc; i++)
		if (strcmp(argv[i], argv2[i]) != 0)
			abort();
	free(argv);
	free(argv2);
	free(joined);
	free(line);
	return 0;
}
