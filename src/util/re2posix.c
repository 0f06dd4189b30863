/* RE2 (sops's Go regexp) to POSIX ERE: see gitseal/re2posix.h for what is
 * translated and what is refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/re2posix.h"
#include "gitseal/secmem.h"
#include "gitseal/shown.h"

/* The largest count RE2 takes in a counted repeat (maxRepeat in Go's
 * regexp/syntax); gitseal's own bound, REGEX_MAX_REPEAT, is lower. */
enum { RE2_MAX_REPEAT = 1000 };

enum {
	RUNE_MAX = 0x10FFFF,
	/* Unicode's simple case folding joins two letters outside ASCII to
	 * ASCII ones (unicode.SimpleFold in Go: K k U+212A, S s U+017F); with
	 * (?i) RE2 matches them where a 'k' or 's' is taken */
	KELVIN_SIGN = 0x212A,
	LONG_S = 0x17F,
	/* a bracket's ranges: one per member at most, and what folding and
	 * negation add */
	RUNE_SET_MAX = 2 * REGEX_MAX_LEN + 8,
};
#define KELVIN_UTF8 "\xE2\x84\xAA"
#define LONG_S_UTF8 "\xC5\xBF"
/* what Go's regexp matches for a byte that starts no valid UTF-8 sequence */
#define REPLACEMENT_UTF8 "\xEF\xBF\xBD"

struct rune_range {
	uint32_t lo, hi;
};

/* A character class as RE2 reads it: ranges of runes, not bytes. */
struct rune_set {
	size_t n;
	struct rune_range r[RUNE_SET_MAX];
};

struct translator {
	const char *in; /* the RE2 pattern */
	size_t i;       /* the next byte of it */
	struct gs_buf out;
	bool after_quantifier;
	/* (?i): RE2 folds case by Unicode's simple folding, glibc's REG_ICASE
	 * ASCII only; the Kelvin sign and the long s are written out */
	bool fold;
	unsigned long repeat_total;
	/* Counted repeats multiply through groups ("(a{1,100}){100}" is
	 * 10,000 copies for glibc, whose matching is not linear as RE2's):
	 * per open group, the most copies anything inside it makes; and what
	 * the group just closed makes, for a repeat that follows it. */
	unsigned long copies[REGEX_MAX_LEN + 1];
	size_t depth;
	unsigned long closed_copies; /* 0: the last atom was no group */
	struct rune_set set, scratch;
};

static int emit(struct translator *t, const char *s)
{
	return gs_buf_append_str(&t->out, s);
}

static int emit_bytes(struct translator *t, const char *s, size_t n)
{
	return gs_buf_append(&t->out, s, n);
}

static int unsupported(const struct translator *t)
{
	return GS_FAIL(GS_ERR_CONFIG, "unsupported regular expression syntax in '%s'", gs_shown(t->in));
}

static int invalid(const struct translator *t)
{
	return GS_FAIL(GS_ERR_CONFIG, "invalid regular expression '%s'", gs_shown(t->in));
}

/* The length of the UTF-8 sequence at s (n bytes left) as Go's
 * utf8.DecodeRune reads it, or 0 for a byte it takes as RuneError alone:
 * no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_valid_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		lo = s[0] == 0xE0 ? 0xA0 : lo;
		hi = s[0] == 0xED ? 0x9F : hi;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		lo = s[0] == 0xF0 ? 0x90 : lo;
		hi = s[0] == 0xF4 ? 0x8F : hi;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if (s[k] < 0x80 || s[k] > 0xBF)
			return 0;
	return len;
}

/* The rune at *p (valid UTF-8: the pattern was checked), *p moved past it. */
static uint32_t utf8_decode(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;
	size_t len = utf8_valid_len(s, 4);
	uint32_t c = len == 1 ? s[0] : s[0] & (0x7F >> len);

	for (size_t k = 1; k < len; k++)
		c = c << 6 | (s[k] & 0x3F);
	*p += len;
	return c;
}

static size_t utf8_encode(uint32_t c, unsigned char b[4])
{
	if (c < 0x80) {
		b[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		b[0] = (unsigned char)(0xC0 | c >> 6);
		b[1] = (unsigned char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		b[0] = (unsigned char)(0xE0 | c >> 12);
		b[1] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
		b[2] = (unsigned char)(0x80 | (c & 0x3F));
		return 3;
	}
	b[0] = (unsigned char)(0xF0 | c >> 18);
	b[1] = (unsigned char)(0x80 | (c >> 12 & 0x3F));
	b[2] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
	b[3] = (unsigned char)(0x80 | (c & 0x3F));
	return 4;
}

/* ---- rune sets: the ranges from index from to the end of s ---- */

static int set_add(struct translator *t, struct rune_set *s, uint32_t lo, uint32_t hi)
{
	if (s->n == RUNE_SET_MAX)
		return unsupported(t);
	s->r[s->n++] = (struct rune_range){ lo, hi };
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct rune_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorted, overlapping and adjacent ranges merged. */
static void set_normalize(struct rune_set *s, size_t from)
{
	size_t n = from;

	qsort(s->r + from, s->n - from, sizeof(s->r[0]), range_cmp);
	for (size_t k = from; k < s->n; k++) {
		if (n > from && s->r[k].lo <= s->r[n - 1].hi + 1) {
			if (s->r[k].hi > s->r[n - 1].hi)
				s->r[n - 1].hi = s->r[k].hi;
		} else {
			s->r[n++] = s->r[k];
		}
	}
	s->n = n;
}

static bool set_has(const struct rune_set *s, size_t from, uint32_t c)
{
	for (size_t k = from; k < s->n; k++)
		if (s->r[k].lo <= c && c <= s->r[k].hi)
			return true;
	return false;
}

/* Adds each rune's simple case folds (Go's appendFoldedRange). Only ASCII
 * ranges are folded here: (?i) patterns are ASCII (re2posix_compile), and
 * RE2 folds a negated group before negating it. */
static int set_fold(struct translator *t, struct rune_set *s, size_t from)
{
	size_t n = s->n;
	int ret = 0;

	for (size_t k = from; k < n && !ret; k++) {
		uint32_t lo = s->r[k].lo, hi = s->r[k].hi;

		if (lo <= 'Z' && hi >= 'A')
			ret = set_add(t, s, (lo < 'A' ? 'A' : lo) + 32, (hi > 'Z' ? 'Z' : hi) + 32);
		if (!ret && lo <= 'z' && hi >= 'a')
			ret = set_add(t, s, (lo < 'a' ? 'a' : lo) - 32, (hi > 'z' ? 'z' : hi) - 32);
	}
	if (!ret && (set_has(s, from, 'k') || set_has(s, from, 'K')))
		ret = set_add(t, s, KELVIN_SIGN, KELVIN_SIGN);
	if (!ret && (set_has(s, from, 's') || set_has(s, from, 'S')))
		ret = set_add(t, s, LONG_S, LONG_S);
	set_normalize(s, from);
	return ret;
}

/* Every rune the normalized ranges from index from leave out. */
static int set_negate(struct translator *t, struct rune_set *s, size_t from)
{
	struct rune_set *tmp = &t->scratch;
	uint32_t next = 0;
	int ret = 0;

	tmp->n = 0;
	for (size_t k = from; k < s->n && !ret; k++) {
		if (s->r[k].lo > next)
			ret = set_add(t, tmp, next, s->r[k].lo - 1);
		next = s->r[k].hi + 1;
	}
	if (!ret && next <= RUNE_MAX)
		ret = set_add(t, tmp, next, RUNE_MAX);
	s->n = from;
	for (size_t k = 0; k < tmp->n && !ret; k++)
		ret = set_add(t, s, tmp->r[k].lo, tmp->r[k].hi);
	return ret;
}

/* A group of ranges (a Perl or POSIX class, a member, a range) added to
 * t->set as RE2's parser adds it: folded under (?i), then negated. */
static int add_group(struct translator *t, const struct rune_range *r, size_t n, bool negated)
{
	size_t from = t->set.n;
	int ret = 0;

	for (size_t k = 0; k < n && !ret; k++)
		ret = set_add(t, &t->set, r[k].lo, r[k].hi);
	set_normalize(&t->set, from);
	if (!ret && t->fold)
		ret = set_fold(t, &t->set, from);
	if (!ret && negated)
		ret = set_negate(t, &t->set, from);
	return ret;
}

/* ---- writing a set as POSIX ERE ---- */

/* A bracket's members from a byte table (1..255): ']' first, '-' first or
 * last, '^' never first, '[' never before '.', ':' or '=' (a collating
 * symbol or class to POSIX), '\' as itself (POSIX brackets have no
 * escapes). */
static int emit_bracket_members(struct translator *t, const bool in[256])
{
	static const char special[] = "]-[^";
	bool dash_first = in['-'] && !in[']'];
	int ret = 0;

	if (in[']'])
		ret = emit(t, "]");
	if (!ret && dash_first)
		ret = emit(t, "-");
	for (unsigned b = 1; b < 256 && !ret;) {
		unsigned e = b;
		char run[3];

		if (!in[b] || strchr(special, (int)b)) {
			b++;
			continue;
		}
		while (e + 1 < 256 && in[e + 1] && !strchr(special, (int)(e + 1)))
			e++;
		run[0] = (char)b;
		run[1] = '-';
		run[2] = (char)e;
		if (e == b)
			ret = emit_bytes(t, run, 1);
		else if (e == b + 1 && !(ret = emit_bytes(t, run, 1)))
			ret = emit_bytes(t, run + 2, 1);
		else if (e != b + 1)
			ret = emit_bytes(t, run, 3);
		b = e + 1;
	}
	if (!ret && in['['])
		ret = emit(t, "[");
	if (!ret && in['^'])
		ret = emit(t, "^");
	if (!ret && in['-'] && !dash_first)
		ret = emit(t, "-");
	return ret;
}

/* The ASCII runes of the set as one bracket. A set holding NUL (which a
 * pattern cannot write) is written negated, its bytes past ASCII too: the
 * subject is valid UTF-8 (re2posix_match_n), and those start or continue
 * a longer rune, which the alternatives take. */
static int emit_ascii(struct translator *t, const bool ascii[128])
{
	bool in[256] = { false };
	unsigned count = 0, only = 0;
	int ret;

	for (unsigned b = 1; b < 128; b++)
		if (ascii[b] != ascii[0])
			in[b] = true;
	if (ascii[0]) {
		for (unsigned b = 128; b < 256; b++)
			in[b] = true;
		if ((ret = emit(t, "[^")) || (ret = emit_bracket_members(t, in)))
			return ret;
		return emit(t, "]");
	}
	for (unsigned b = 1; b < 128; b++)
		if (in[b])
			count++, only = b;
	if (count == 1 && only == '^')
		return emit(t, "\\^"); /* "[^]" would be a negation */
	if ((ret = emit(t, "[")) || (ret = emit_bracket_members(t, in)))
		return ret;
	return emit(t, "]");
}

/* The runes lo..hi (both at least 0x80) as alternatives of UTF-8 byte
 * sequences, each byte a range, split so that each alternative is the
 * product of its bytes' ranges (as RE2's and Rust's UTF-8 compilers do).
 * The surrogates are in no valid UTF-8 subject, so taking them is harmless. */
static int emit_utf8_range(struct translator *t, uint32_t lo, uint32_t hi, bool *first);

static int emit_alternative(struct translator *t, const char *s, bool *first)
{
	int ret = *first ? 0 : emit(t, "|");

	*first = false;
	return ret ? ret : emit(t, s);
}

/* lo..mid, then mid+1..hi */
static int emit_utf8_split(struct translator *t, uint32_t lo, uint32_t mid, uint32_t hi, bool *first)
{
	int ret = emit_utf8_range(t, lo, mid, first);

	return ret ? ret : emit_utf8_range(t, mid + 1, hi, first);
}

static int emit_utf8_range(struct translator *t, uint32_t lo, uint32_t hi, bool *first)
{
	static const uint32_t length_ends[] = { 0x7FF, 0xFFFF };
	unsigned char a[4], b[4];
	size_t len;
	int ret;

	for (size_t k = 0; k < sizeof(length_ends) / sizeof(length_ends[0]); k++)
		if (lo <= length_ends[k] && hi > length_ends[k])
			return emit_utf8_split(t, lo, length_ends[k], hi, first);
	/* all runes of a length: any lead byte of it then continuation bytes
	 * (the subject is valid UTF-8: no overlong form or surrogate comes),
	 * one alternative where exact ranges take two or three */
	if (lo == 0x800 && hi == 0xFFFF)
		return emit_alternative(t, "[\xE0-\xEF][\x80-\xBF][\x80-\xBF]", first);
	if (lo == 0x10000 && hi == RUNE_MAX)
		return emit_alternative(t, "[\xF0-\xF4][\x80-\xBF][\x80-\xBF][\x80-\xBF]", first);
	for (unsigned k = 1; k < 4; k++) {
		uint32_t m = (1u << (6 * k)) - 1;

		if ((lo & ~m) == (hi & ~m))
			continue;
		if (lo & m)
			return emit_utf8_split(t, lo, lo | m, hi, first);
		if ((hi & m) != m)
			return emit_utf8_split(t, lo, (hi & ~m) - 1, hi, first);
	}
	len = utf8_encode(lo, a);
	utf8_encode(hi, b);
	if (!*first && (ret = emit(t, "|")))
		return ret;
	*first = false;
	for (size_t k = 0; k < len; k++) {
		char range[5] = { '[', (char)a[k], '-', (char)b[k], ']' };

		if ((ret = a[k] == b[k] ? emit_bytes(t, range + 1, 1) : emit_bytes(t, range, 5)))
			return ret;
	}
	return 0;
}

/* t->set (normalized) as one ERE atom that takes one rune. */
static int emit_set(struct translator *t)
{
	const struct rune_set *s = &t->set;
	bool ascii[128] = { false }, any_ascii = false, wide = false, first = true;
	int ret = 0;

	if (!s->n)
		return unsupported(t); /* a class of nothing: POSIX cannot say it */
	for (size_t k = 0; k < s->n; k++) {
		for (uint32_t c = s->r[k].lo; c <= s->r[k].hi && c < 128; c++)
			ascii[c] = any_ascii = true;
		if (s->r[k].hi >= 128)
			wide = true;
	}
	if (wide && (ret = emit(t, "(")))
		return ret;
	if (any_ascii) {
		if ((ret = emit_ascii(t, ascii)))
			return ret;
		first = false;
	}
	for (size_t k = 0; k < s->n && !ret; k++)
		if (s->r[k].hi >= 128)
			ret = emit_utf8_range(t, s->r[k].lo < 128 ? 128 : s->r[k].lo, s->r[k].hi, &first);
	return ret || !wide ? ret : emit(t, ")");
}

/* ---- the classes RE2 knows (ASCII, as RE2's POSIX and Perl classes) ---- */

/* the name inline: a table of pointers would be relocated in every process */
struct named_class {
	char name[8];
	size_t n;
	struct rune_range r[4];
};

static const struct named_class posix_classes[] = {
	{ "alnum", 3, { { '0', '9' }, { 'A', 'Z' }, { 'a', 'z' } } },
	{ "alpha", 2, { { 'A', 'Z' }, { 'a', 'z' } } },
	{ "ascii", 1, { { 0, 0x7F } } },
	{ "blank", 2, { { '\t', '\t' }, { ' ', ' ' } } },
	{ "cntrl", 2, { { 0, 0x1F }, { 0x7F, 0x7F } } },
	{ "digit", 1, { { '0', '9' } } },
	{ "graph", 1, { { '!', '~' } } },
	{ "lower", 1, { { 'a', 'z' } } },
	{ "print", 1, { { ' ', '~' } } },
	{ "punct", 4, { { '!', '/' }, { ':', '@' }, { '[', '`' }, { '{', '~' } } },
	{ "space", 2, { { '\t', '\r' }, { ' ', ' ' } } },
	{ "upper", 1, { { 'A', 'Z' } } },
	{ "word", 4, { { '0', '9' }, { 'A', 'Z' }, { '_', '_' }, { 'a', 'z' } } },
	{ "xdigit", 3, { { '0', '9' }, { 'A', 'F' }, { 'a', 'f' } } },
};

/* RE2's Perl classes: \s is [\t\n\f\r ], no \v (its [:space:] has \v) */
static const struct named_class perl_classes[] = {
	{ "d", 1, { { '0', '9' } } },
	{ "s", 3, { { '\t', '\n' }, { '\f', '\r' }, { ' ', ' ' } } },
	{ "w", 4, { { '0', '9' }, { 'A', 'Z' }, { '_', '_' }, { 'a', 'z' } } },
};

/* \d \s \w and their negations \D \S \W, added to t->set; 1 if e is none */
static int perl_class(struct translator *t, char e)
{
	char lower = (char)(e | 0x20);

	for (size_t k = 0; k < sizeof(perl_classes) / sizeof(perl_classes[0]); k++)
		if (perl_classes[k].name[0] == lower && (e == lower || e == (char)(lower - 32)))
			return add_group(t, perl_classes[k].r, perl_classes[k].n, e != lower);
	return 1;
}

/* "[:alpha:]" or "[:^alpha:]" at p, whose ":]" is at close. */
static int posix_class(struct translator *t, const char *p, const char *close)
{
	bool negated = p[2] == '^';
	const char *name = p + 2 + negated;
	size_t len = (size_t)(close - name);

	for (size_t k = 0; k < sizeof(posix_classes) / sizeof(posix_classes[0]); k++)
		if (strlen(posix_classes[k].name) == len && !strncmp(name, posix_classes[k].name, len))
			return add_group(t, posix_classes[k].r, posix_classes[k].n, negated);
	return invalid(t); /* Go: "invalid character class range" */
}

/* The control character of RE2's escapes \a \f \n \r \t \v, or 0. */
static char control_escape(char e)
{
	static const char from[] = "afnrtv", to[] = "\a\f\n\r\t\v";
	const char *at = strchr(from, e);

	return e && at ? to[at - from] : 0;
}

/* One bracket member at *p as Go's parseClassChar reads it. */
static int class_char(struct translator *t, const char **p, uint32_t *c)
{
	const char *s = *p;

	if (!*s)
		return invalid(t); /* Go: "missing closing ]" */
	if (*s != '\\') {
		*c = utf8_decode(p);
		return 0;
	}
	if (s[1] && control_escape(s[1])) {
		*c = (unsigned char)control_escape(s[1]);
	} else if (s[1] && (unsigned char)s[1] < 0x80 &&
		   !((s[1] >= 'a' && s[1] <= 'z') || (s[1] >= 'A' && s[1] <= 'Z') ||
		     (s[1] >= '0' && s[1] <= '9'))) {
		*c = (unsigned char)s[1]; /* escaped punctuation is itself */
	} else {
		return unsupported(t);
	}
	*p += 2;
	return 0;
}

/* A bracket, read as Go's parseClass reads it (members, ranges, POSIX and
 * Perl classes, each folded under (?i), then the whole negated after a
 * '^'), and written as one atom that takes one rune. */
static int bracket(struct translator *t)
{
	const char *p = t->in + t->i + 1, *close;
	bool negated = *p == '^';
	int ret = 0;

	t->set.n = 0;
	p += negated;
	for (bool first = true; !ret && (*p != ']' || first); first = false) {
		uint32_t lo, hi;

		if (p[0] == '[' && p[1] == ':' && (close = strstr(p + 2, ":]"))) {
			ret = posix_class(t, p, close);
			p = close + 2;
			continue;
		}
		if (p[0] == '\\' && p[1] && strchr("dswDSW", p[1])) {
			ret = perl_class(t, p[1]);
			p += 2;
			continue;
		}
		if ((ret = class_char(t, &p, &lo)))
			break;
		hi = lo;
		/* "[a-]" is 'a' and '-' */
		if (p[0] == '-' && p[1] && p[1] != ']') {
			p++;
			if ((ret = class_char(t, &p, &hi)))
				break;
			if (hi < lo)
				return GS_FAIL(GS_ERR_CONFIG,
					       "invalid character class range in regular expression '%s'",
					       gs_shown(t->in));
		}
		ret = add_group(t, &(struct rune_range){ lo, hi }, 1, false);
	}
	if (ret)
		return ret;
	t->i = (size_t)(p + 1 - t->in);
	set_normalize(&t->set, 0);
	if (negated && (ret = set_negate(t, &t->set, 0)))
		return ret;
	return emit_set(t);
}

/* ---- the rest of the syntax ---- */

/* A group opens ("(" or "(?:") or closes: the copies its repeats make. */
static void group_open(struct translator *t)
{
	t->copies[++t->depth] = 1;
	t->closed_copies = 0;
}

static void group_close(struct translator *t)
{
	if (!t->depth)
		return; /* unbalanced: regcomp says so */
	t->closed_copies = t->copies[t->depth--];
	if (t->closed_copies > t->copies[t->depth])
		t->copies[t->depth] = t->closed_copies;
}

/* "(?:" is a plain group; any other "(?" syntax is refused. */
static int group(struct translator *t)
{
	if (t->in[t->i + 2] != ':')
		return unsupported(t);
	t->i += 3;
	group_open(t);
	return emit(t, "(");
}

/* A count as Go's regexp/syntax reads one (parseInt): decimal digits
 * without a leading zero. The byte after it, or NULL when p holds none. */
static const char *repeat_count(const char *p)
{
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return NULL;
	while (*p >= '0' && *p <= '9')
		p++;
	return p;
}

/* The length of a counted repeat at p ("{2}", "{2,}", "{2,5}"), or 0 for
 * any other brace, which RE2 reads literally: a minimum is required and
 * no count has a leading zero ("{,5}", "{,}", "{01}", "{1, 2}", "{x}"). */
static size_t repeat_span(const char *p)
{
	const char *q = repeat_count(p + 1);

	if (q && *q == ',')
		q = q[1] == '}' ? q + 1 : repeat_count(q + 1);
	return q && *q == '}' ? (size_t)(q - p) + 1 : 0;
}

static bool is_quantifier(const char *p)
{
	return *p == '*' || *p == '+' || *p == '?' || (*p == '{' && repeat_span(p));
}

static int counted_repeat(struct translator *t, size_t span)
{
	const char *p = t->in + t->i;
	unsigned long lo, hi, made;
	char *end;

	lo = strtoul(p + 1, &end, 10);
	hi = *end == ',' && end[1] != '}' ? strtoul(end + 1, NULL, 10) : lo;
	/* Go's parser refuses these rather than reading them literally */
	if (lo > RE2_MAX_REPEAT || hi > RE2_MAX_REPEAT || hi < lo)
		return GS_FAIL(GS_ERR_CONFIG, "invalid repeat count in regular expression '%s'", gs_shown(t->in));
	t->repeat_total += hi;
	if (t->repeat_total > REGEX_MAX_REPEAT)
		return unsupported(t);
	/* hi is at most REGEX_MAX_REPEAT here, and so is closed_copies */
	made = hi * (t->closed_copies ? t->closed_copies : 1);
	if (made > REGEX_MAX_REPEAT)
		return unsupported(t);
	if (made > t->copies[t->depth])
		t->copies[t->depth] = made;
	t->i += span;
	return emit_bytes(t, p, span);
}

/* * + ? and counted repeats; a lazy '?' after them is dropped. */
static int quantifier(struct translator *t)
{
	size_t span = t->in[t->i] == '{' ? repeat_span(t->in + t->i) : 1;
	int ret;

	if (!span) {
		t->i++;
		t->after_quantifier = false;
		t->closed_copies = 0;
		return emit(t, "\\{");
	}
	/* "a**": RE2's "invalid nested repetition operator" */
	if (t->after_quantifier)
		return unsupported(t);
	if (t->in[t->i] == '{') {
		ret = counted_repeat(t, span);
	} else {
		ret = emit_bytes(t, t->in + t->i, 1);
		t->i++;
	}
	if (t->in[t->i] == '?')
		t->i++;
	t->after_quantifier = true;
	t->closed_copies = 0;
	return ret;
}

/* An anchor; grouped when a repeat follows: RE2 repeats it ("^*" takes
 * the empty string anywhere, "^+" is "^"), glibc refuses "^*". */
static int anchor(struct translator *t, char c)
{
	if (!is_quantifier(t->in + t->i))
		return emit_bytes(t, &c, 1);
	return emit(t, c == '^' ? "(^)" : "($)");
}

static int escape(struct translator *t)
{
	char e = t->in[t->i + 1], esc[2] = { '\\', e };

	if (!e)
		return unsupported(t);
	t->i += 2;
	if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
		t->set.n = 0;
		if (!perl_class(t, e))
			return emit_set(t);
		if (control_escape(e))
			return emit_bytes(t, &(char){ control_escape(e) }, 1);
		return e == 'A' ? anchor(t, '^') : e == 'z' ? anchor(t, '$') : unsupported(t);
	}
	if ((unsigned char)e >= 0x80)
		return unsupported(t); /* Go: "invalid escape sequence" */
	/* glibc reads a backslash before some punctuation as its own
	 * operator ("\<" and "\>" word boundaries, "\`" and "\'" the
	 * ends of the text), where RE2 reads the punctuation itself: only
	 * ERE's own operators keep the backslash */
	return strchr(".[]()*+?{}|^$\\", e) ? emit_bytes(t, esc, 2) : emit_bytes(t, &e, 1);
}

/* A literal rune outside ASCII: its bytes, grouped when a repeat follows
 * (RE2 repeats the rune, ERE would the last byte). */
static int wide_literal(struct translator *t)
{
	const char *p = t->in + t->i;
	bool grouped;
	int ret;

	utf8_decode(&p);
	grouped = is_quantifier(p);
	if ((grouped && (ret = emit(t, "("))) ||
	    (ret = emit_bytes(t, t->in + t->i, (size_t)(p - (t->in + t->i)))))
		return ret;
	t->i = (size_t)(p - t->in);
	return grouped ? emit(t, ")") : 0;
}

static int translate_one(struct translator *t)
{
	char c = t->in[t->i];
	int ret;

	if (c == '(' && t->in[t->i + 1] == '?')
		return group(t);
	if (c == '*' || c == '+' || c == '?' || c == '{')
		return quantifier(t);
	t->after_quantifier = false;
	if (c == '(')
		group_open(t);
	else if (c == ')')
		group_close(t);
	else
		t->closed_copies = 0;
	if (c == '[')
		return bracket(t);
	if (c == '\\')
		return escape(t);
	/* RE2's '.' is any rune but a newline (no (?s) is taken); glibc's,
	 * without REG_NEWLINE (which would make '^' and '$' match at lines
	 * too), is any byte */
	if (c == '.') {
		t->i++;
		t->set.n = 0;
		if ((ret = set_add(t, &t->set, 0, '\n' - 1)) ||
		    (ret = set_add(t, &t->set, '\n' + 1, RUNE_MAX)))
			return ret;
		return emit_set(t);
	}
	if ((unsigned char)c >= 0x80)
		return wide_literal(t);
	t->i++;
	if (c == '^' || c == '$')
		return anchor(t, c);
	if (t->fold && (c == 'k' || c == 'K'))
		return emit(t, "(k|" KELVIN_UTF8 ")");
	if (t->fold && (c == 's' || c == 'S'))
		return emit(t, "(s|" LONG_S_UTF8 ")");
	return emit_bytes(t, &c, 1);
}

static int translate(const char *pattern, bool fold, char **posix)
{
	struct translator *t;
	size_t len = strlen(pattern), k;
	int ret;

	*posix = NULL;
	if (len > REGEX_MAX_LEN)
		return GS_FAIL(GS_ERR_CONFIG, "regular expression too long");
	/* Go's regexp.Compile refuses a pattern that is not UTF-8 */
	for (size_t i = 0; i < len; i += k)
		if (!(k = utf8_valid_len((const unsigned char *)pattern + i, len - i)))
			return GS_FAIL(GS_ERR_CONFIG, "invalid UTF-8 in regular expression");
	t = gs_calloc(1, sizeof(*t));
	if (!t)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	t->in = pattern;
	t->copies[0] = 1;
	t->fold = fold;
	gs_buf_init(&t->out, false);
	/* the empty pattern is "" too */
	if ((ret = gs_buf_reserve(&t->out, len + 1)) || (ret = emit(t, "")))
		goto out;
	while (pattern[t->i])
		if ((ret = translate_one(t)))
			goto out;
	*posix = (char *)gs_buf_detach(&t->out, NULL);
out:
	gs_buf_release(&t->out);
	free(t);
	return ret;
}

int re2posix_translate(const char *pattern, char **posix)
{
	return translate(pattern, false, posix);
}

int re2posix_compile(regex_t *re, const char *pattern)
{
	int flags = REG_EXTENDED | REG_NOSUB;
	char *posix = NULL;
	int ret;

	if (strncmp(pattern, "(?i)", 4) == 0) {
		flags |= REG_ICASE;
		pattern += 4;
		/* RE2 folds all of Unicode (simple folding), glibc in the C
		 * locale ASCII only: a pattern's non-ASCII letters would match
		 * fewer keys than sops's */
		for (const char *p = pattern; *p; p++)
			if ((unsigned char)*p >= 0x80)
				return GS_FAIL(GS_ERR_CONFIG,
					       "unsupported regular expression '%s': (?i) is "
					       "supported for ASCII patterns only (RE2 folds "
					       "Unicode case)",
					       gs_shown(pattern - 4));
	}
	if ((ret = translate(pattern, flags & REG_ICASE, &posix)) < 0)
		return ret;
	if (regcomp(re, posix, flags) != 0)
		ret = GS_FAIL(GS_ERR_CONFIG, "invalid regular expression '%s'", gs_shown(pattern));
	free(posix);
	return ret;
}

/* A key may hold a NUL ("public\0password"): RE2 matches all of it, and
 * regexec would stop at the NUL ("^public$" would match). REG_STARTEND
 * (glibc, the BSDs) gives regexec the length. */
#ifndef REG_STARTEND
#error "regexec needs REG_STARTEND: keys may hold NUL bytes"
#endif
static int match_bytes(const regex_t *re, const char *s, size_t len)
{
	regmatch_t range[1] = { { .rm_so = 0, .rm_eo = (regoff_t)len } };

	return regexec(re, s, 1, range, REG_STARTEND) == 0;
}

int re2posix_match_n(const regex_t *re, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	struct gs_buf valid;
	size_t i, k;
	int ret;

	for (i = 0; i < len && (k = utf8_valid_len(u + i, len - i)); i += k)
		;
	if (i == len)
		return match_bytes(re, s, len);
	/* Go's regexp reads a byte that starts no valid sequence as one rune,
	 * U+FFFD, which '.' and a negated class take; the translated pattern
	 * takes whole valid sequences only. A comment may be secret. */
	gs_buf_init(&valid, true);
	ret = gs_buf_append(&valid, s, i);
	for (; i < len && !ret; i += k) {
		k = utf8_valid_len(u + i, len - i);
		ret = k ? gs_buf_append(&valid, s + i, k) : gs_buf_append_str(&valid, REPLACEMENT_UTF8);
		k += !k;
	}
	if (!ret)
		ret = match_bytes(re, (const char *)valid.data, valid.len);
	gs_buf_release(&valid);
	return ret;
}

int re2posix_match(const regex_t *re, const char *s)
{
	return re2posix_match_n(re, s, strlen(s));
}
