#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gitseal/error.h"

#ifdef GITSEAL_TEST_HOOKS
#include <pthread.h>

/* The test build: where errors and warnings were raised, each call site
 * once (its return address; the test build is linked without PIE, so a
 * site has the same address in every process). Part of the signature by
 * which make check's suites choose the processes LeakSanitizer checks
 * (src/main.c): two runs of a command that fail in different places are
 * two paths. */
static const void *raised[64];
static size_t nraised;
static pthread_mutex_t raised_lock = PTHREAD_MUTEX_INITIALIZER;

void gs_test_note_raised(const void *where)
{
	size_t i;

	pthread_mutex_lock(&raised_lock);
	for (i = 0; i < nraised && raised[i] != where; i++)
		;
	if (i == nraised && nraised < sizeof(raised) / sizeof(raised[0]))
		raised[nraised++] = where;
	pthread_mutex_unlock(&raised_lock);
}

size_t gs_test_raised(const void **out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&raised_lock);
	n = nraised < max ? nraised : max;
	for (size_t i = 0; i < n; i++)
		out[i] = raised[i];
	pthread_mutex_unlock(&raised_lock);
	return n;
}
#define NOTE_RAISED() gs_test_note_raised(__builtin_return_address(0))
#else
#define NOTE_RAISED() ((void)0)
#endif

static _Thread_local char message[1024];
static _Thread_local enum gs_err last_code;
static _Thread_local const void *last_kind;
static void (*warning_handler)(const char *message);

void gs_error_set(enum gs_err code, const char *fmt, ...)
{
	va_list ap;

	NOTE_RAISED();
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	last_code = code;
	last_kind = NULL;
}

void gs_error_prefix(const char *fmt, ...)
{
	char old[sizeof(message)];
	size_t n;
	va_list ap;

	NOTE_RAISED();
	memcpy(old, message, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	n = strlen(message);
	if (n + 2 < sizeof(message)) {
		memcpy(message + n, ": ", 2);
		n += 2;
		memcpy(message + n, old, sizeof(message) - n - 1);
		message[sizeof(message) - 1] = '\0';
	}
}

const char *gs_error_message(void)
{
	return message[0] ? message : "unknown error";
}

enum gs_err gs_error_code(void)
{
	return last_code;
}

void gs_error_clear(void)
{
	message[0] = '\0';
	last_code = GS_OK;
	last_kind = NULL;
}

void gs_error_mark(const void *kind)
{
	last_kind = kind;
}

const void *gs_error_kind(void)
{
	return last_kind;
}

void gs_warning_set_handler(void (*handler)(const char *message))
{
	warning_handler = handler;
}

void gs_warn(const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	NOTE_RAISED();
	if (!warning_handler)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	warning_handler(text);
}
