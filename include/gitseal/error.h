/* Error codes and the per-thread error message.
 *
 * Library code never prints and never exits: it returns 0 or a negative
 * gs_err and records a one-line message with gs_error_set(). Only main.c and
 * src/cmd/ print the message and pick the exit code. */
#ifndef GITSEAL_ERROR_H
#define GITSEAL_ERROR_H

#include <stddef.h>

enum gs_err {
	GS_OK = 0,
	GS_ERR_GENERIC = -1,
	GS_ERR_USAGE = -2,
	GS_ERR_IO = -3,
	GS_ERR_NOMEM = -4,
	GS_ERR_LIMIT = -5,          /* input too large or too deeply nested */
	GS_ERR_PARSE = -6,          /* malformed input (a store, a config, a key) */
	/* age layer, one per category of the community test kit */
	GS_ERR_AGE_ARMOR = -10,
	GS_ERR_AGE_HEADER = -11,
	GS_ERR_AGE_NO_MATCH = -12,
	GS_ERR_AGE_HMAC = -13,
	GS_ERR_AGE_PAYLOAD = -14,
	GS_ERR_KEY = -15,           /* a recipient or identity that cannot be used */
	/* sops layer */
	GS_ERR_NO_METADATA = -20,
	GS_ERR_ALREADY_ENCRYPTED = -21,
	GS_ERR_DECRYPT_VALUE = -22, /* a value failed to authenticate or convert */
	GS_ERR_MAC_MISMATCH = -23,
	GS_ERR_NO_DATA_KEY = -24,   /* no master key could unwrap the data key */
	GS_ERR_CONFIG = -25,
	GS_ERR_NO_RULE = -26,
	GS_ERR_CONFLICT = -27,      /* conflicting options */
	GS_ERR_TREE_PATH = -28,
	GS_ERR_EMPTY_INPUT = -29,
	GS_ERR_ENCRYPT = -30,
	GS_ERR_NOT_FOUND = -31,
	GS_ERR_WRITE = -32,         /* the output could not be written */
	GS_ERR_UNSUPPORTED_KEY = -33, /* a key entry gitseal cannot wrap for would be lost */
	GS_ERR_VERIFY = -34,        /* the output would not load back as the same data */
};

/* printf-style; the message must never contain a secret or a plaintext value. */
void gs_error_set(enum gs_err code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefixes the current message with "PREFIX: " (for adding a file name
 * as an error travels up). */
void gs_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

const char *gs_error_message(void);
enum gs_err gs_error_code(void);
void gs_error_clear(void);

/* Marks the current error as one of a kind a caller up the stack treats
 * apart, kind being the address of a static of the module that decides
 * it: gs_error_prefix keeps the mark, gs_error_set and gs_error_clear
 * drop it. gs_error_kind: the mark, NULL when none. The message is for
 * people; a caller never tells errors apart by its text. */
void gs_error_mark(const void *kind);
const void *gs_error_kind(void);

/* Warnings: something the user should know that does not stop the work
 * (an identity line of an unknown type, skipped). Library code calls
 * gs_warn; the front end installs the handler that prints (main.c); with
 * none installed, warnings are dropped. The message never holds a secret. */
void gs_warning_set_handler(void (*handler)(const char *message));
void gs_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Convenience: sets the message and returns code. */
#ifdef GITSEAL_TEST_HOOKS
/* The test build: the call sites that raised an error or a warning, each
 * once (src/util/error.c); gs_test_note_raised adds one. */
void gs_test_note_raised(const void *where);
size_t gs_test_raised(const void **out, size_t max);
#endif

#define GS_FAIL(code, ...) (gs_error_set((code), __VA_ARGS__), (code))

#endif
