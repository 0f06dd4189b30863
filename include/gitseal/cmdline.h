/* A command line from an environment variable split into words, as sops
 * splits SOPS_AGE_KEY_CMD (github.com/google/shlex Split, which sops's
 * age/keysource.go calls): words are separated by blanks (space, tab, CR,
 * LF); a backslash outside quotes takes the next character literally;
 * '...' is literal; inside "..." a backslash takes any next character
 * literally; quotes join onto the word around them, and "" is an empty
 * word; a '#' that starts a word comments out the rest of its line. No
 * expansion of variables, globs or ~: the words go to execvp as they are. */
#ifndef GITSEAL_CMDLINE_H
#define GITSEAL_CMDLINE_H

#include <stddef.h>

/* Splits line; what names it in messages ("SOPS_AGE_KEY_CMD"). On success
 * *argv is a NULL-terminated array of *argc >= 1 words with room for
 * spare more pointers before the NULL, all in one allocation: free(*argv)
 * releases it. GS_ERR_USAGE for an unterminated quote, a final backslash
 * or no word at all. */
int cmdline_split(const char *what, const char *line, size_t spare, char ***argv, size_t *argc)
	__attribute__((warn_unused_result));

#endif
