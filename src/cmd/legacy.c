/* sops's top-level form, still used by many scripts:
 *   gitseal -e [-i] FILE    encrypt       gitseal -d FILE   decrypt
 *   gitseal -r FILE         rotate        gitseal [-i] FILE edit
 * The mode flag is removed and the remaining words go to the command. */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

int cmd_legacy(int argc, char **argv)
{
	int (*fn)(int, char **) = NULL;
	const char *name = NULL;
	char **args;
	int n = 1, code;

	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args) {
		cmd_errorf("out of memory");
		return EXIT_GENERIC;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-e") || !strcmp(a, "--encrypt")) {
			fn = cmd_encrypt;
			name = "encrypt";
		} else if (!strcmp(a, "-d") || !strcmp(a, "--decrypt")) {
			fn = cmd_decrypt;
			name = "decrypt";
		} else if (!strcmp(a, "-r") || !strcmp(a, "--rotate")) {
			fn = cmd_rotate;
			name = "rotate";
		} else {
			args[n++] = argv[i];
		}
	}
	if (!fn) {
		fn = cmd_edit;
		name = "edit";
	}
	args[0] = (char *)name;
	code = fn(n, args);
	free(args);
	return code;
}
