#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gitseal/error.h"

static _Thread_local char message[1024];
static _Thread_local enum gs_err last_code;
static void (*warning_handler)(const char *message);

void gs_error_set(enum gs_err code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	last_code = code;
}

void gs_error_prefix(const char *fmt, ...)
{
	char old[sizeof(message)];
	size_t n;
	va_list ap;

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
}

void gs_warning_set_handler(void (*handler)(const char *message))
{
	warning_handler = handler;
}

void gs_warn(const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (!warning_handler)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	warning_handler(text);
}
