/* sops's type:time (spec 2.3): a Go time.Time as text. sops decrypts it
 * with Time.UnmarshalText and hashes and encrypts Time.MarshalText
 * (aes/cipher.go, sops.go ToBytes); both are RFC 3339 in Go's terms. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gitseal/error.h"
#include "sops_int.h"

struct go_time {
	int year, month, day, hour, minute, second;
	long nanosecond;
	int offset; /* seconds east of UTC */
};

static bool digit_at(const char *s, size_t len, size_t i)
{
	return i < len && s[i] >= '0' && s[i] <= '9';
}

/* Exactly n digits at *i, in [min, max]. */
static bool fixed_number(const char *s, size_t len, size_t *i, int n, int min, int max, int *out)
{
	int v = 0;

	for (int k = 0; k < n; k++) {
		if (!digit_at(s, len, *i))
			return false;
		v = v * 10 + (s[(*i)++] - '0');
	}
	*out = v;
	return v >= min && v <= max;
}

static int days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);

	return month == 2 && leap ? 29 : days[month - 1];
}

/* The date, 'T' and the clock. Go's fast path takes a two-digit hour;
 * its fallback, time.Parse with RFC3339, one or two digits. */
static bool parse_date_clock(const char *s, size_t len, size_t *i, struct go_time *t)
{
	int hour_digits;

	if (!fixed_number(s, len, i, 4, 0, 9999, &t->year) || *i >= len || s[(*i)++] != '-' ||
	    !fixed_number(s, len, i, 2, 1, 12, &t->month) || *i >= len || s[(*i)++] != '-' ||
	    !fixed_number(s, len, i, 2, 1, 31, &t->day) || t->day > days_in_month(t->year, t->month) ||
	    *i >= len || s[(*i)++] != 'T')
		return false;
	hour_digits = digit_at(s, len, *i + 1) ? 2 : 1;
	return fixed_number(s, len, i, hour_digits, 0, 23, &t->hour) && *i < len && s[(*i)++] == ':' &&
	       fixed_number(s, len, i, 2, 0, 59, &t->minute) && *i < len && s[(*i)++] == ':' &&
	       fixed_number(s, len, i, 2, 0, 59, &t->second);
}

/* A fraction of a second: '.' (or, in time.Parse, ',') and digits, of
 * which the first nine count (Go truncates the rest). */
static void parse_fraction(const char *s, size_t len, size_t *i, struct go_time *t)
{
	long scale = 100000000;

	t->nanosecond = 0;
	if (!(*i < len && (s[*i] == '.' || s[*i] == ',') && digit_at(s, len, *i + 1)))
		return;
	for ((*i)++; digit_at(s, len, *i); (*i)++, scale /= 10)
		t->nanosecond += scale * (s[*i] - '0');
}

/* "Z" or "+hh:mm" / "-hh:mm", and nothing after. time.Parse allows an
 * offset of up to 24 hours and 60 minutes; MarshalText refuses one of 24
 * hours or more (sops then fails to hash the value). */
static bool parse_zone(const char *s, size_t len, size_t i, struct go_time *t)
{
	size_t at_hours = i + 1, at_minutes = i + 4;
	int hours, minutes;

	t->offset = 0;
	if (i < len && s[i] == 'Z')
		return i + 1 == len;
	if (i + 6 != len || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':' ||
	    !fixed_number(s, len, &at_hours, 2, 0, 24, &hours) ||
	    !fixed_number(s, len, &at_minutes, 2, 0, 60, &minutes))
		return false;
	t->offset = (s[i] == '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
	return t->offset > -24 * 3600 && t->offset < 24 * 3600;
}

/* Time.MarshalText: the wall clock as read, the fraction without its
 * trailing zeros, "Z" for a zero offset. */
static size_t format_time(const struct go_time *t, char out[static SOPS_TIME_TEXT_MAX])
{
	int zone = (t->offset < 0 ? -t->offset : t->offset) / 60;
	int n = snprintf(out, SOPS_TIME_TEXT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d", t->year, t->month, t->day,
			 t->hour, t->minute, t->second);

	if (t->nanosecond) {
		char fraction[11];
		int digits = 9;

		snprintf(fraction, sizeof(fraction), ".%09ld", t->nanosecond);
		while (fraction[digits] == '0')
			digits--;
		n += snprintf(out + n, SOPS_TIME_TEXT_MAX - (size_t)n, "%.*s", digits + 1, fraction);
	}
	if (t->offset == 0)
		n += snprintf(out + n, SOPS_TIME_TEXT_MAX - (size_t)n, "Z");
	else
		n += snprintf(out + n, SOPS_TIME_TEXT_MAX - (size_t)n, "%c%02d:%02d", t->offset < 0 ? '-' : '+',
			      zone / 60, zone % 60);
	return (size_t)n;
}

int sops_time_value_canonical(const char *s, size_t len, char out[static SOPS_TIME_TEXT_MAX], size_t *out_len)
{
	struct go_time t;
	size_t i = 0;

	if (!parse_date_clock(s, len, &i, &t))
		return GS_FAIL(GS_ERR_PARSE, "not an RFC 3339 time");
	parse_fraction(s, len, &i, &t);
	if (!parse_zone(s, len, i, &t))
		return GS_FAIL(GS_ERR_PARSE, "not an RFC 3339 time");
	*out_len = format_time(&t, out);
	return 0;
}
