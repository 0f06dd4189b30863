#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"

#include "gitseal/alloc.h"

void cmd_print_error(void)
{
	fprintf(stderr, "gitseal: error: %s\n", gs_error_message());
}

void cmd_errorf(const char *fmt, ...)
{
	va_list ap;

#ifdef GITSEAL_TEST_HOOKS
	gs_test_note_raised(__builtin_return_address(0));
#endif
	fputs("gitseal: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cmd_warnf(const char *fmt, ...)
{
	va_list ap;

#ifdef GITSEAL_TEST_HOOKS
	gs_test_note_raised(__builtin_return_address(0));
#endif
	fputs("gitseal: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cmd_age_exit_code(int err)
{
	switch (err) {
	case GS_OK: return EXIT_OK;
	/* age: a usage error is 1, as every error it has no code for */
	case GS_ERR_USAGE: return EXIT_GENERIC;
	case GS_ERR_AGE_ARMOR: return EXIT_AGE_ARMOR;
	case GS_ERR_AGE_HEADER: return EXIT_AGE_HEADER;
	case GS_ERR_AGE_NO_MATCH: return EXIT_AGE_NO_MATCH;
	case GS_ERR_AGE_HMAC: return EXIT_AGE_HMAC;
	case GS_ERR_AGE_PAYLOAD: return EXIT_AGE_PAYLOAD;
	case GS_ERR_KEY: case GS_ERR_PARSE: return EXIT_AGE_KEY;
	default: return EXIT_GENERIC;
	}
}

int cmd_sops_exit_code(int err)
{
	switch (err) {
	case GS_OK: return EXIT_OK;
	/* sops: a usage error is a generic one (urfave/cli, then log.Fatal) */
	case GS_ERR_USAGE: return EXIT_GENERIC;
	case GS_ERR_IO: case GS_ERR_NOT_FOUND: case GS_ERR_PARSE: case GS_ERR_LIMIT:
		return EXIT_SOPS_READ_INPUT;
	case GS_ERR_WRITE: return EXIT_SOPS_WRITE_OUTPUT;
	case GS_ERR_VERIFY: return EXIT_SOPS_DUMP_TREE;
	case GS_ERR_CONFLICT: return EXIT_SOPS_CONFLICT;
	case GS_ERR_ENCRYPT: return EXIT_SOPS_ENCRYPT_TREE;
	case GS_ERR_DECRYPT_VALUE: return EXIT_SOPS_DECRYPT_TREE;
	case GS_ERR_MAC_MISMATCH: return EXIT_SOPS_MAC_MISMATCH;
	case GS_ERR_TREE_PATH: return EXIT_SOPS_TREE_PATH;
	case GS_ERR_EMPTY_INPUT: return EXIT_SOPS_NEED_DOCUMENT;
	case GS_ERR_NO_DATA_KEY: return EXIT_SOPS_NO_KEY;
	case GS_ERR_ALREADY_ENCRYPTED: return EXIT_SOPS_ALREADY_ENCRYPTED;
	default: return EXIT_GENERIC;
	}
}

int cmd_push_arg(const char ***list, size_t *count, const char *value)
{
	const char **p = gs_realloc(*list, (*count + 1) * sizeof(**list));

	if (!p)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	p[(*count)++] = value;
	*list = p;
	return 0;
}
