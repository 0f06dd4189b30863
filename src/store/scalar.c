/* Scalar helpers shared by the YAML and JSON stores: the float printers
 * sops's values need (Go strconv formats), and yaml.v3's resolution of
 * plain scalars to types (spec 6.1). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "store_int.h"

/* sops 2.3: the smallest n for which "%.*e" reads back as the same double
 * gives the shortest round-trip digits. */
void float_shortest(double v, struct float_digits *fd)
{
	char buf[40];
	int exp10 = 0;

	memset(fd, 0, sizeof(*fd));
	fd->negative = signbit(v) != 0;
	if (v == 0) {
		fd->digits[0] = '0';
		fd->n = 1;
		fd->point = 1;
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, fabs(v));
		if (strtod(buf, NULL) == fabs(v) || prec == 17)
			break;
	}
	/* buf is "d.ddde[+-]XX" */
	for (const char *p = buf; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9' && fd->n < (int)sizeof(fd->digits) - 1)
			fd->digits[fd->n++] = *p;
	exp10 = atoi(strchr(buf, 'e') + 1);
	while (fd->n > 1 && fd->digits[fd->n - 1] == '0')
		fd->n--;
	fd->point = exp10 + 1;
}

static int special(double v, struct gs_buf *out, const char *nan, const char *pinf,
		   const char *ninf, bool *done)
{
	*done = true;
	if (isnan(v))
		return gs_buf_append_str(out, nan);
	if (isinf(v))
		return gs_buf_append_str(out, v > 0 ? pinf : ninf);
	*done = false;
	return 0;
}

/* digits with `frac` digits after the point, positional */
static int fmt_f(const struct float_digits *fd, struct gs_buf *out)
{
	int ret = 0;

	if (fd->negative)
		ret |= gs_buf_append(out, "-", 1);
	if (fd->point <= 0) {
		ret |= gs_buf_append(out, "0", 1);
		if (!(fd->n == 1 && fd->digits[0] == '0')) {
			ret |= gs_buf_append(out, ".", 1);
			for (int i = 0; i < -fd->point; i++)
				ret |= gs_buf_append(out, "0", 1);
			ret |= gs_buf_append(out, fd->digits, (size_t)fd->n);
		}
	} else {
		for (int i = 0; i < fd->point; i++)
			ret |= gs_buf_append(out, i < fd->n ? &fd->digits[i] : "0", 1);
		if (fd->n > fd->point) {
			ret |= gs_buf_append(out, ".", 1);
			ret |= gs_buf_append(out, fd->digits + fd->point, (size_t)(fd->n - fd->point));
		}
	}
	return ret ? GS_FAIL(GS_ERR_NOMEM, "out of memory") : 0;
}

static int fmt_e(const struct float_digits *fd, struct gs_buf *out, bool json)
{
	int exp = fd->point - 1;
	int ret = 0;

	if (fd->negative)
		ret |= gs_buf_append(out, "-", 1);
	ret |= gs_buf_append(out, fd->digits, 1);
	if (fd->n > 1) {
		ret |= gs_buf_append(out, ".", 1);
		ret |= gs_buf_append(out, fd->digits + 1, (size_t)(fd->n - 1));
	}
	/* Go writes at least two exponent digits; encoding/json trims e-0X */
	if (json && exp < 0 && exp > -10)
		ret |= gs_buf_printf(out, "e-%d", -exp);
	else
		ret |= gs_buf_printf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	return ret ? GS_FAIL(GS_ERR_NOMEM, "out of memory") : 0;
}

int float_format_positional(double v, struct gs_buf *out)
{
	struct float_digits fd;
	bool done;
	int ret = special(v, out, "NaN", "+Inf", "-Inf", &done);

	if (done)
		return ret ? GS_FAIL(GS_ERR_NOMEM, "out of memory") : 0;
	float_shortest(v, &fd);
	return fmt_f(&fd, out);
}

int float_format_go_g(double v, struct gs_buf *out)
{
	struct float_digits fd;
	bool done;
	int ret = special(v, out, ".nan", ".inf", "-.inf", &done);
	int exp;

	if (done)
		return ret ? GS_FAIL(GS_ERR_NOMEM, "out of memory") : 0;
	float_shortest(v, &fd);
	exp = fd.point - 1;
	/* Go 'g' with shortest precision switches to %e outside [-4, 6) */
	if (v != 0 && (exp < -4 || exp >= 6))
		return fmt_e(&fd, out, false);
	return fmt_f(&fd, out);
}

int float_format_go_json(double v, struct gs_buf *out)
{
	struct float_digits fd;
	double a = fabs(v);

	if (isnan(v) || isinf(v))
		return GS_FAIL(GS_ERR_PARSE, "cannot write a non-finite number in JSON");
	float_shortest(v, &fd);
	if (a != 0 && (a < 1e-6 || a >= 1e21))
		return fmt_e(&fd, out, true);
	return fmt_f(&fd, out);
}

bool float_from_text(const char *text, size_t len, double *out)
{
	char buf[64];
	char *end;

	if (len == 3 && memcmp(text, "NaN", 3) == 0) {
		*out = NAN;
		return true;
	}
	if (len == 4 && (memcmp(text, "+Inf", 4) == 0 || memcmp(text, "-Inf", 4) == 0)) {
		*out = text[0] == '+' ? INFINITY : -INFINITY;
		return true;
	}
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = 0;
	errno = 0;
	*out = strtod(buf, &end);
	return *end == 0 && !(errno == ERANGE && isinf(*out));
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Go strconv.ParseInt(s, 0, 64) / ParseUint(s, 0, 64), underscores already
 * removed. Returns 1 for an int64, 2 for a uint64 above int64, 0 if not an
 * integer. */
static int go_parse_int(const char *s, size_t len, int64_t *out)
{
	bool neg = false, sign = false;
	unsigned base = 10;
	uint64_t v = 0;
	size_t i = 0;

	if (i < len && (s[i] == '+' || s[i] == '-')) {
		neg = s[i] == '-';
		sign = true;
		i++;
	}
	if (i < len && s[i] == '0' && i + 1 < len) {
		char p = s[i + 1];

		if (p == 'x' || p == 'X') {
			base = 16;
			i += 2;
		} else if (p == 'o' || p == 'O') {
			base = 8;
			i += 2;
		} else if (p == 'b' || p == 'B') {
			base = 2;
			i += 2;
		} else {
			base = 8;
			i += 1;
		}
	}
	if (i >= len)
		return 0;
	for (; i < len; i++) {
		unsigned dv;
		char c = s[i];

		if (is_digit(c))
			dv = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			dv = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			dv = (unsigned)(c - 'A' + 10);
		else
			return 0;
		if (dv >= base)
			return 0;
		if (v > (UINT64_MAX - dv) / base)
			return 0;
		v = v * base + dv;
	}
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return 0;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
		return 1;
	}
	if (v > (uint64_t)INT64_MAX)
		return sign ? 0 : 2;
	*out = (int64_t)v;
	return 1;
}

/* yaml.v3: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool yaml_float_syntax(const char *s, size_t len)
{
	size_t i = 0, d;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i < len && s[i] == '.') {
		i++;
		for (d = i; i < len && is_digit(s[i]); i++)
			;
		if (i == d)
			return false;
	} else {
		for (d = i; i < len && is_digit(s[i]); i++)
			;
		if (i == d)
			return false;
		if (i < len && s[i] == '.')
			for (i++; i < len && is_digit(s[i]); i++)
				;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < len && is_digit(s[i]); i++)
			;
		if (i == d)
			return false;
	}
	return i == len;
}

static bool get_num(const char *s, size_t len, size_t *i, int min_digits, int max_digits, int *out)
{
	int n = 0, v = 0;

	while (*i < len && is_digit(s[*i]) && n < max_digits) {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		n++;
	}
	*out = v;
	return n >= min_digits;
}

static int days_in(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* yaml.v3 parseTimestamp: Go time.Parse with "2006-1-2T15:4:5.999999999Z07:00",
 * the same with 't', "2006-1-2 15:4:5.999999999" and "2006-1-2". */
static bool yaml_timestamp(const char *s, size_t len)
{
	size_t i = 0;
	int y, mo, d, h, mi, se;
	char sep;

	if (!get_num(s, len, &i, 4, 4, &y) || i >= len || s[i] != '-')
		return false;
	i++;
	if (!get_num(s, len, &i, 1, 2, &mo) || i >= len || s[i] != '-')
		return false;
	i++;
	if (!get_num(s, len, &i, 1, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo))
		return false;
	if (i == len)
		return true;
	sep = s[i++];
	if (sep != 'T' && sep != 't' && sep != ' ')
		return false;
	if (!get_num(s, len, &i, 1, 2, &h) || i >= len || s[i++] != ':' ||
	    !get_num(s, len, &i, 1, 2, &mi) || i >= len || s[i++] != ':' ||
	    !get_num(s, len, &i, 1, 2, &se) || h > 23 || mi > 59 || se > 59)
		return false;
	if (i < len && s[i] == '.') {
		size_t st = ++i;

		while (i < len && is_digit(s[i]))
			i++;
		if (i == st)
			return false;
	}
	if (sep == ' ')
		return i == len;
	if (i < len && s[i] == 'Z')
		return i + 1 == len;
	if (i < len && (s[i] == '+' || s[i] == '-')) {
		int zh, zm;

		i++;
		if (!get_num(s, len, &i, 2, 2, &zh) || i >= len || s[i++] != ':' ||
		    !get_num(s, len, &i, 2, 2, &zm))
			return false;
		return i == len;
	}
	return false;
}

static bool in_list(const char *s, size_t len, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == len && memcmp(*list, s, len) == 0)
			return true;
	return false;
}

enum yaml_resolved yaml_resolve_plain(const char *s, size_t len, int64_t *ival, double *fval)
{
	static const char *const nulls[] = { "~", "null", "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", NULL };
	static const char *const nans[] = { ".nan", ".NaN", ".NAN", NULL };
	static const char *const pinfs[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL };
	static const char *const ninfs[] = { "-.inf", "-.Inf", "-.INF", NULL };
	char buf[128];
	size_t n = 0;
	char c;

	if (len == 0 || in_list(s, len, nulls))
		return YAML_RESOLVED_NULL;
	if (in_list(s, len, trues) || in_list(s, len, falses)) {
		*ival = s[0] == 't' || s[0] == 'T';
		return YAML_RESOLVED_BOOL;
	}
	if (in_list(s, len, nans)) {
		*fval = NAN;
		return YAML_RESOLVED_FLOAT;
	}
	if (in_list(s, len, pinfs) || in_list(s, len, ninfs)) {
		*fval = s[0] == '-' ? -INFINITY : INFINITY;
		return YAML_RESOLVED_FLOAT;
	}
	c = s[0];
	if (!is_digit(c) && c != '+' && c != '-' && c != '.')
		return YAML_RESOLVED_STR;
	if (is_digit(c) && yaml_timestamp(s, len))
		return YAML_RESOLVED_TIMESTAMP;
	/* yaml.v3 removes every '_' before parsing a number */
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '_')
			continue;
		if (n >= sizeof(buf) - 1)
			return YAML_RESOLVED_STR;
		buf[n++] = s[i];
	}
	buf[n] = 0;
	if (c != '.') {
		int r = go_parse_int(buf, n, ival);

		if (r == 1)
			return YAML_RESOLVED_INT;
		if (r == 2)
			return YAML_RESOLVED_UINT;
	}
	if (yaml_float_syntax(buf, n)) {
		char *end;

		errno = 0;
		*fval = strtod(buf, &end);
		if (!(errno == ERANGE && isinf(*fval)))
			return YAML_RESOLVED_FLOAT;
	}
	return YAML_RESOLVED_STR;
}

size_t utf8_decode(const uint8_t *p, size_t avail, uint32_t *cp)
{
	uint32_t c;
	size_t n;

	if (avail == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xE0) == 0xC0) {
		c = p[0] & 0x1F;
		n = 2;
	} else if ((p[0] & 0xF0) == 0xE0) {
		c = p[0] & 0x0F;
		n = 3;
	} else if ((p[0] & 0xF8) == 0xF0) {
		c = p[0] & 0x07;
		n = 4;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

void utf8_encode(uint32_t cp, char out[4], size_t *n)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		*n = 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		*n = 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		*n = 3;
	} else {
		out[0] = (char)(0xF0 | (cp >> 18));
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[3] = (char)(0x80 | (cp & 0x3F));
		*n = 4;
	}
}
