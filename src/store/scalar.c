/* Scalar helpers shared by the stores: the float printers sops's values
 * need (Go strconv formats), the int spellings that survive sops, and
 * UTF-8. How YAML types plain scalars is in yaml_scalar.c. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/secmem.h"
#include "gitseal/store.h"
#include "gitseal/yaml_scalar.h"
#include "store_int.h"

/* Go's strconv.Atoi on a 64-bit platform, the parse of sops's decrypt of
 * type:int (sops 3.13.2 aes/cipher.go:107): the fast path and
 * ParseInt(s, 10, 0) accept the same texts, an optional sign and decimal
 * digits (no '_': that is base 0 only), any number of leading zeros, in
 * int64 range. */
bool store_go_atoi(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	uint64_t v = 0, limit;

	if (len && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == len)
		return false;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (limit - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* yaml.v3 types a plain scalar with strconv.ParseInt(s without '_', 0, 64)
 * (resolve.go:191-192), where a leading '0' means octal: "010" is 8 to it
 * and 10 to Atoi; "0x1F", "0o17", "0b1", "1_000" are not Atoi's at all. A
 * spelling is kept where both read the same number: "+5", "007", "-0",
 * "00". A JSON integer always is (RFC 8259 has no leading zeros; sops's
 * JSON store reads "-0" with ParseInt(s, 10, 64) as 0). The MAC takes
 * strconv.Itoa of the int (sops.go:975 ToBytes), so it is sops's. */
bool store_int_spelling_kept(const char *s, size_t len)
{
	int64_t atoi_value, yaml_value;
	double unused;

	return store_go_atoi(s, len, &atoi_value) &&
	       yaml_resolve_plain(s, len, &yaml_value, &unused) == YAML_RESOLVED_INT &&
	       yaml_value == atoi_value;
}

int store_int_canonical(const char *s, size_t len, char out[STORE_INT_TEXT_MAX], size_t *out_len)
{
	int64_t v;
	int n;

	if (!store_go_atoi(s, len, &v))
		return GS_FAIL(GS_ERR_PARSE, "invalid int value");
	n = snprintf(out, STORE_INT_TEXT_MAX, "%" PRId64, v);
	*out_len = (size_t)n;
	return 0;
}

int store_append_int_canonical(struct gs_buf *out, const char *s, size_t len)
{
	char num[STORE_INT_TEXT_MAX];
	size_t n;
	int ret = store_int_canonical(s, len, num, &n);

	if (ret == 0)
		ret = store_put(out, num, n);
	sodium_memzero(num, sizeof(num));
	return ret;
}

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

bool store_json_can_write_float(const char *s, size_t len)
{
	double v;

	return float_from_text(s, len, &v) && isfinite(v);
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
	if (len == 0)
		return false;
	if (len >= sizeof(buf)) {
		/* a long positional text, as YAML reads one (fuzz_yaml: a
		 * 64-digit number was encrypted, then could not be decrypted) */
		struct gs_buf big;
		bool ok;

		gs_buf_init(&big, true);
		ok = gs_buf_append(&big, text, len) == 0 && gs_buf_append(&big, "", 1) == 0;
		errno = 0;
		if (ok) {
			*out = strtod((const char *)big.data, &end);
			ok = *end == 0 && !(errno == ERANGE && isinf(*out));
		}
		gs_buf_release(&big);
		return ok;
	}
	memcpy(buf, text, len);
	buf[len] = 0;
	errno = 0;
	*out = strtod(buf, &end);
	return *end == 0 && !(errno == ERANGE && isinf(*out));
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
