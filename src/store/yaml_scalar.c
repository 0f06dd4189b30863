/* YAML scalars: typing of plain scalars (yaml.v3 resolve.go; sops spec 6.1)
 * and writing strings so that they read back the same (yaml.v3
 * emitterc.go: yaml_emitter_analyze_scalar and the scalar writers). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/yaml_scalar.h"
#include "store_int.h"

/* ====================================================================
 * Typing
 * ==================================================================== */

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

/* Whether s is one of list's words, each followed by a space. The words
 * are one string, not a table of pointers: such a table is relocated at
 * start-up, and relro is a page fault of its own for every command
 * (tests/cli/startup.bats). */
static bool in_list(const char *s, size_t len, const char *list)
{
	for (const char *end; *list; list = end + 1) {
		end = strchr(list, ' ');
		if ((size_t)(end - list) == len && memcmp(list, s, len) == 0)
			return true;
	}
	return false;
}

enum yaml_resolved yaml_resolve_plain(const char *s, size_t len, int64_t *ival, double *fval)
{
	static const char nulls[] = "~ null Null NULL ";
	static const char trues[] = "true True TRUE ";
	static const char falses[] = "false False FALSE ";
	static const char nans[] = ".nan .NaN .NAN ";
	static const char pinfs[] = ".inf .Inf .INF +.inf +.Inf +.INF ";
	static const char ninfs[] = "-.inf -.Inf -.INF ";
	char buf[128];
	size_t n = 0;
	char c;

	if (len == 0)
		return YAML_RESOLVED_NULL;
	/* yaml.v3's resolve table: only these can start anything but a string */
	if (!strchr("~nNtTfF.+-0123456789", s[0]))
		return YAML_RESOLVED_STR;
	if (in_list(s, len, nulls))
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

bool yaml_float_spelling_kept(const char *s, size_t len)
{
	int64_t iv;
	double fv;

	/* the float syntax without '_' is what Go's ParseFloat reads as
	 * yaml.v3 does (both round correctly); .inf and .nan are not in it */
	return len && !memchr(s, '_', len) && yaml_float_syntax(s, len) &&
	       yaml_resolve_plain(s, len, &iv, &fv) == YAML_RESOLVED_FLOAT;
}

static bool is_old_bool(const char *s, size_t len)
{
	if (!len || !strchr("yYnNoO", s[0]))
		return false;
	static const char words[] = "y Y yes Yes YES n N no No NO on On ON off Off OFF ";

	return in_list(s, len, words);
}

/* yaml.v3 isBase60Float: [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)? */
static bool is_base60_float(const char *s, size_t len)
{
	size_t i = 0;
	int groups = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i >= len || !is_digit(s[i]))
		return false;
	while (i < len && (is_digit(s[i]) || s[i] == '_'))
		i++;
	while (i < len && s[i] == ':') {
		size_t d = ++i;

		if (i + 1 < len && s[i] >= '0' && s[i] <= '5' && is_digit(s[i + 1]))
			i += 2;
		else if (i < len && is_digit(s[i]))
			i += 1;
		if (i == d)
			return false;
		groups++;
	}
	if (!groups)
		return false;
	if (i < len && s[i] == '.')
		for (i++; i < len && (is_digit(s[i]) || s[i] == '_'); i++)
			;
	return i == len;
}

/* yaml.v3 encode.go stringv: a string is plain only when it resolves as a
 * string and is neither a YAML 1.1 boolean nor a base-60 number, which
 * YAML 1.1 readers (go-yaml v2 in kubectl and Argo CD, PyYAML) still
 * resolve as such */
bool yaml_str_retypes(const char *s, size_t len)
{
	int64_t iv;
	double fv;

	return yaml_resolve_plain(s, len, &iv, &fv) != YAML_RESOLVED_STR || is_old_bool(s, len) ||
	       is_base60_float(s, len);
}

/* ====================================================================
 * Analysis (yaml_emitter_analyze_scalar)
 * ==================================================================== */

/* yaml.v3 is_printable: 4-byte sequences, C1 controls and the BOM are not */
static bool is_printable(const uint8_t *b, size_t n)
{
	if (n == 1)
		return b[0] == 0x0A || (b[0] >= 0x20 && b[0] <= 0x7E);
	if (n == 2)
		return b[0] > 0xC2 || (b[0] == 0xC2 && b[1] >= 0xA0);
	if (n == 3) {
		if (b[0] == 0xED)
			return b[1] < 0xA0;
		if (b[0] == 0xEF)
			return !(b[1] == 0xBB && b[2] == 0xBF) &&
			       !(b[1] == 0xBF && (b[2] == 0xBE || b[2] == 0xBF));
		return true;
	}
	return false;
}

/* A YAML 1.1 line break, as libyaml and yaml.v3 read them: CR, LF, NEL, LS, PS. */
static size_t break_at(const uint8_t *s, size_t len, size_t i)
{
	if (s[i] == '\n' || s[i] == '\r')
		return 1;
	if (i + 1 < len && s[i] == 0xC2 && s[i + 1] == 0x85)
		return 2;
	if (i + 2 < len && s[i] == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
		return 3;
	return 0;
}

static bool blank_at(const uint8_t *s, size_t len, size_t i)
{
	return i >= len || s[i] == ' ' || s[i] == '\t' || break_at(s, len, i);
}

struct analysis {
	bool block_ind, flow_ind, breaks, special, tabs, odd_break;
	bool leading_space, leading_break, trailing_space, trailing_break, break_space, space_break;
};

/* Indicators as yaml.v3 counts them: at the start, and inside the text. */
static void note_indicator(struct analysis *a, uint8_t c, bool first, bool preceded_ws, bool followed_ws)
{
	if (first) {
		if (strchr("#,[]{}&*!|>'\"%@`", c) && c) {
			a->flow_ind = a->block_ind = true;
		} else if (c == '?' || c == ':') {
			a->flow_ind = true;
			a->block_ind |= followed_ws;
		} else if (c == '-' && followed_ws) {
			a->flow_ind = a->block_ind = true;
		}
		return;
	}
	if (c && strchr(",?[]{}", c)) {
		a->flow_ind = true;
	} else if (c == ':') {
		a->flow_ind = true;
		a->block_ind |= followed_ws;
	} else if (c == '#' && preceded_ws) {
		a->flow_ind = a->block_ind = true;
	}
}

static void analyze(const uint8_t *s, size_t len, struct analysis *a)
{
	bool prev_space = false, prev_break = false, preceded_ws = true;

	memset(a, 0, sizeof(*a));
	if (len >= 3 && ((s[0] == '-' && s[1] == '-' && s[2] == '-') ||
			 (s[0] == '.' && s[1] == '.' && s[2] == '.')))
		a->flow_ind = a->block_ind = true;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n, brk;

		/* most bytes: printable ASCII that is no indicator past the start */
		if (i > 0 && s[i] > 0x20 && s[i] < 0x7F && s[i] != '#' && s[i] != ',' && s[i] != '?' &&
		    s[i] != '[' && s[i] != ']' && s[i] != '{' && s[i] != '}' && s[i] != ':') {
			prev_space = prev_break = preceded_ws = false;
			i++;
			continue;
		}
		n = s[i] < 0x80 ? 1 : utf8_decode(s + i, len - i, &cp);

		if (!n) {
			/* not UTF-8 */
			a->special = true;
			n = 1;
		}
		note_indicator(a, s[i], i == 0, preceded_ws, blank_at(s, len, i + n));
		brk = break_at(s, len, i);
		if (s[i] == '\t')
			a->tabs = true;
		else if (!brk && !is_printable(s + i, n))
			a->special = true;
		if (s[i] == ' ') {
			a->leading_space |= i == 0;
			a->trailing_space |= i + 1 == len;
			a->break_space |= prev_break;
			prev_space = true;
			prev_break = false;
		} else if (brk) {
			a->breaks = true;
			/* a literal block is written line by line at '\n' only */
			a->odd_break |= s[i] != '\n';
			a->leading_break |= i == 0;
			a->trailing_break |= i + n == len;
			a->space_break |= prev_space;
			prev_break = true;
			prev_space = false;
		} else {
			prev_space = prev_break = false;
		}
		preceded_ws = s[i] == ' ' || s[i] == '\t' || brk;
		i += n;
	}
}

void yaml_str_fit(const char *text, size_t len, struct yaml_str_fit *fit)
{
	struct analysis a;
	bool plain;

	memset(fit, 0, sizeof(*fit));
	if (len == 0) {
		/* "" reads as null when plain */
		fit->single = fit->retypes = true;
		return;
	}
	analyze((const uint8_t *)text, len, &a);
	fit->multiline = a.breaks;
	fit->retypes = yaml_str_retypes(text, len);
	plain = !(a.leading_space || a.leading_break || a.trailing_space || a.trailing_break ||
		  a.break_space || a.space_break || a.tabs || a.special || a.breaks || fit->retypes);
	fit->plain_block = plain && !a.block_ind;
	fit->plain_flow = plain && !a.flow_ind;
	fit->single = !(a.break_space || a.space_break || a.tabs || a.special || a.breaks);
	fit->literal = a.breaks && !(a.trailing_space || a.space_break || a.special || a.odd_break);
}

/* ====================================================================
 * Writers
 * ==================================================================== */

static int put(struct gs_buf *out, const void *s, size_t n)
{
	return store_put(out, s, n);
}

static const char *escape_of(uint32_t cp)
{
	switch (cp) {
	case 0: return "\\0";
	case 7: return "\\a";
	case 8: return "\\b";
	case 9: return "\\t";
	case 10: return "\\n";
	case 11: return "\\v";
	case 12: return "\\f";
	case 13: return "\\r";
	case 27: return "\\e";
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case 0x85: return "\\N";
	case 0xA0: return "\\_";
	case 0x2028: return "\\L";
	case 0x2029: return "\\P";
	default: return NULL;
	}
}

static int write_escape(struct gs_buf *out, uint32_t cp)
{
	const char *e = escape_of(cp);

	if (e)
		return put(out, e, strlen(e));
	if (cp <= 0xFF)
		return gs_buf_printf(out, "\\x%02X", (unsigned)cp);
	if (cp <= 0xFFFF)
		return gs_buf_printf(out, "\\u%04X", (unsigned)cp);
	return gs_buf_printf(out, "\\U%08X", (unsigned)cp);
}

int yaml_write_double(struct gs_buf *out, const char *text, size_t len)
{
	const uint8_t *s = (const uint8_t *)text;
	size_t run = 0; /* bytes written as they are, not yet copied */
	int ret = put(out, "\"", 1);

	if (ret)
		return ret;
	for (size_t i = 0; i < len;) {
		uint32_t cp = s[i];
		size_t n = s[i] < 0x80 ? 1 : utf8_decode(s + i, len - i, &cp);

		/* line separators are printable but break a line: written raw in
		 * a key, the key no longer loads (fuzz_yaml) */
		if (n && is_printable(s + i, n) && cp != '\n' && cp != '"' && cp != '\\' &&
		    cp != 0x2028 && cp != 0x2029) {
			run += n;
			i += n;
			continue;
		}
		if ((ret = put(out, s + i - run, run)) || (ret = write_escape(out, n ? cp : s[i])))
			return ret;
		run = 0;
		i += n ? n : 1;
	}
	if ((ret = put(out, s + len - run, run)))
		return ret;
	return put(out, "\"", 1);
}

int yaml_write_single(struct gs_buf *out, const char *s, size_t len)
{
	size_t run = 0;
	int ret = put(out, "'", 1);

	if (ret)
		return ret;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\'') {
			run++;
			continue;
		}
		/* a quote is written twice */
		if ((ret = put(out, s + i - run, run + 1)) || (ret = put(out, "'", 1)))
			return ret;
		run = 0;
	}
	if ((ret = put(out, s + len - run, run)))
		return ret;
	return put(out, "'", 1);
}

int yaml_write_literal(struct gs_buf *out, const char *text, size_t len, size_t indent,
		       size_t indicator, bool final_break)
{
	const uint8_t *s = (const uint8_t *)text;
	const char *chomp = "";
	int ret;

	if (len == 0 || s[len - 1] != '\n')
		chomp = "-";
	else if (len == 1 || s[len - 2] == '\n')
		chomp = "+";
	if ((ret = put(out, "|", 1)) ||
	    /* a first line that starts with a blank, a tab too (libyaml cannot
	     * find the indentation past a tab: fuzz_yaml), or is empty */
	    (len && (s[0] == ' ' || s[0] == '\t' || break_at(s, len, 0)) &&
	     (ret = gs_buf_printf(out, "%zu", indicator))) ||
	    (ret = put(out, chomp, strlen(chomp))) || (ret = put(out, "\n", 1)))
		return ret;
	if (!final_break && len && s[len - 1] == '\n')
		len--;
	for (size_t i = 0; i < len;) {
		const uint8_t *nl = memchr(s + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - s) : len;

		if (end > i &&
		    ((ret = store_put_spaces(out, indent)) || (ret = put(out, s + i, end - i))))
			return ret;
		if (nl && (ret = put(out, "\n", 1)))
			return ret;
		i = end + 1;
	}
	return 0;
}

/* The style for a string here: the preferred one when the text fits it,
 * else yaml.v3's order. */
static enum yaml_style choose(const struct yaml_str_fit *f, const struct yaml_str_place *p,
			      bool block_ok)
{
	bool plain = p->flow ? f->plain_flow : f->plain_block;

	switch (p->prefer) {
	case YAML_STYLE_DOUBLE:
		return YAML_STYLE_DOUBLE;
	case YAML_STYLE_SINGLE:
		if (f->single)
			return YAML_STYLE_SINGLE;
		break;
	case YAML_STYLE_PLAIN:
		/* never a string a YAML 1.1 reader takes for another type,
		 * though it was plain ("yes", "y", "1:30"): yaml.v3 quotes
		 * those, so sops writes them quoted, and quoted they load as
		 * the same string in sops, gitseal and a YAML 1.1 reader
		 * (go-yaml v2 in kubectl, PyYAML) alike. Only a text this
		 * value loaded from and kept unchanged stays as it was
		 * (yaml_fresh.c unchanged_text): a sealed value does not hold
		 * its spelling, so a decrypted one is written this way. */
		if (plain)
			return YAML_STYLE_PLAIN;
		break;
	default:
		break;
	}
	if (f->multiline)
		return block_ok && f->literal ? YAML_STYLE_LITERAL : YAML_STYLE_DOUBLE;
	if (f->retypes)
		return YAML_STYLE_DOUBLE;
	if (plain)
		return YAML_STYLE_PLAIN;
	return f->single ? YAML_STYLE_SINGLE : YAML_STYLE_DOUBLE;
}

static enum yaml_style style_for(const char *s, size_t len, const struct yaml_str_place *p)
{
	struct yaml_str_fit fit;
	/* an indentation indicator is one digit (fuzz_yaml: "|10" does not load) */
	bool block_ok = !p->flow && !p->key && p->block_indent > p->parent_indent &&
			p->block_indent - p->parent_indent <= 9;

	yaml_str_fit(s, len, &fit);
	return choose(&fit, p, block_ok);
}

bool yaml_str_written_plain(const char *s, size_t len, const struct yaml_str_place *p)
{
	return style_for(s, len, p) == YAML_STYLE_PLAIN;
}

int yaml_write_str(struct gs_buf *out, const char *s, size_t len, const struct yaml_str_place *p)
{
	switch (style_for(s, len, p)) {
	case YAML_STYLE_PLAIN:
		return put(out, s, len);
	case YAML_STYLE_SINGLE:
		return yaml_write_single(out, s, len);
	case YAML_STYLE_LITERAL:
		return yaml_write_literal(out, s, len, p->block_indent,
					  p->block_indent - p->parent_indent, p->final_break);
	default:
		return yaml_write_double(out, s, len);
	}
}
