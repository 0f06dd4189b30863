/* RE2 (sops's Go regexp) to POSIX ERE: see gitseal/re2posix.h for what is
 * translated and what is refused. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitseal/re2posix.h"
#include "gitseal/secmem.h"

/* The largest count RE2 takes in a counted repeat (maxRepeat in Go's
 * regexp/syntax); gitseal's own bound, REGEX_MAX_REPEAT, is lower. */
enum { RE2_MAX_REPEAT = 1000 };

/* The two letters outside ASCII that Unicode's simple case folding joins
 * to ASCII ones, in UTF-8 (unicode.SimpleFold in Go: K k U+212A, S s
 * U+017F); with (?i) RE2 matches them where a 'k' or 's' is taken. */
#define KELVIN "\xE2\x84\xAA"
#define LONG_S "\xC5\xBF"
enum { FOLDS_K = 1, FOLDS_S = 2 };

struct translator {
	const char *in; /* the RE2 pattern */
	size_t i;       /* the next byte of it */
	struct gs_buf out;
	bool in_bracket;
	bool after_quantifier;
	/* (?i): RE2 folds case by Unicode's simple folding, where the Kelvin
	 * sign folds to 'k' and the long s to 's'; glibc's REG_ICASE folds
	 * ASCII only. A bracket that folds to either is closed with them
	 * as alternatives: bracket_tail is what follows its ']'. */
	bool fold;
	const char *bracket_tail;
	unsigned long repeat_total;
	/* Counted repeats multiply through groups ("(a{1,100}){100}" is
	 * 10,000 copies for glibc, whose matching is not linear as RE2's):
	 * per open group, the most copies anything inside it makes; and what
	 * the group just closed makes, for a repeat that follows it. */
	unsigned long copies[REGEX_MAX_LEN + 1];
	size_t depth;
	unsigned long closed_copies; /* 0: the last atom was no group */
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
	return GS_FAIL(GS_ERR_CONFIG, "unsupported regular expression syntax in '%s'", t->in);
}

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

static int counted_repeat(struct translator *t, size_t span)
{
	const char *p = t->in + t->i;
	unsigned long lo, hi, made;
	char *end;

	lo = strtoul(p + 1, &end, 10);
	hi = *end == ',' && end[1] != '}' ? strtoul(end + 1, NULL, 10) : lo;
	/* Go's parser refuses these rather than reading them literally */
	if (lo > RE2_MAX_REPEAT || hi > RE2_MAX_REPEAT || hi < lo)
		return GS_FAIL(GS_ERR_CONFIG, "invalid repeat count in regular expression '%s'", t->in);
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

static unsigned range_folds(unsigned char lo, unsigned char hi)
{
	unsigned m = 0;

	if ((lo <= 'k' && 'k' <= hi) || (lo <= 'K' && 'K' <= hi))
		m |= FOLDS_K;
	if ((lo <= 's' && 's' <= hi) || (lo <= 'S' && 'S' <= hi))
		m |= FOLDS_S;
	return m;
}

/* Which of 'k' and 's' (either case) the bracket whose members start at p
 * holds: members, ranges, "[:name:]" classes and \w. Read as
 * translate_one reads them; what it refuses may be counted either way. */
static unsigned bracket_folds(const char *p)
{
	static const char *const no_letters[] = { "digit", "space", "blank", "punct", "cntrl" };
	unsigned m = 0;
	const char *close;
	int lo;

	for (bool first = true; *p && (first || *p != ']'); first = false) {
		if (p[0] == '[' && p[1] == ':' && (close = strstr(p + 2, ":]"))) {
			bool letters = true;

			for (size_t k = 0; k < sizeof(no_letters) / sizeof(no_letters[0]); k++)
				if ((size_t)(close - p - 2) == strlen(no_letters[k]) &&
				    !strncmp(p + 2, no_letters[k], strlen(no_letters[k])))
					letters = false;
			if (letters)
				m |= FOLDS_K | FOLDS_S;
			p = close + 2;
			continue;
		}
		if (p[0] == '\\' && p[1]) {
			/* \w holds both; \d \s \n \t no letter; punctuation itself */
			if (p[1] == 'w')
				m |= FOLDS_K | FOLDS_S;
			lo = (p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z') ? -1
											      : (unsigned char)p[1];
			p += 2;
		} else {
			lo = (unsigned char)*p++;
		}
		if (lo < 0)
			continue;
		if (p[0] == '-' && p[1] && p[1] != ']') {
			p += p[1] == '\\' && p[2] ? 2 : 1;
			m |= range_folds((unsigned char)lo, (unsigned char)*p++);
		} else {
			m |= range_folds((unsigned char)lo, (unsigned char)lo);
		}
	}
	return m;
}

/* With (?i), a bracket holding 'k' or 's' becomes a group with their
 * folds as alternatives; a negated one would have to leave the multibyte
 * folds out, which bytewise POSIX matching cannot say. */
static int bracket_fold(struct translator *t)
{
	bool negated = t->in[t->i + 1] == '^';
	unsigned m = bracket_folds(t->in + t->i + 1 + negated);

	t->bracket_tail = NULL;
	if (!m)
		return 0;
	if (negated)
		return GS_FAIL(GS_ERR_CONFIG,
			       "unsupported regular expression '%s': with (?i), a negated bracket "
			       "holding 'k' or 's' also excludes their Unicode case folds in RE2",
			       t->in);
	t->bracket_tail = m == FOLDS_K ? "|" KELVIN ")" :
			  m == FOLDS_S ? "|" LONG_S ")" : "|" KELVIN "|" LONG_S ")";
	return emit(t, "(");
}

/* "[", "[^", and a ']' right after them, which is a member. */
static int bracket_open(struct translator *t)
{
	int ret;

	if (t->fold && (ret = bracket_fold(t)))
		return ret;
	if ((ret = emit(t, "[")))
		return ret;
	t->in_bracket = true;
	t->i++;
	if (t->in[t->i] == '^') {
		if ((ret = emit(t, "^")))
			return ret;
		t->i++;
	}
	if (t->in[t->i] == ']') {
		if ((ret = emit(t, "]")))
			return ret;
		t->i++;
	}
	return 0;
}

/* "[:alpha:]" inside a bracket, copied as it is. */
static int class_name(struct translator *t)
{
	const char *close = strstr(t->in + t->i + 2, ":]");
	size_t n;

	if (!close)
		return unsupported(t);
	n = (size_t)(close + 2 - (t->in + t->i));
	t->i += n;
	return emit_bytes(t, t->in + t->i - n, n);
}

/* RE2's Perl classes and escapes, as POSIX writes them; NULL for what
 * POSIX cannot say there (a negated class inside a bracket). */
static const char *perl_escape(char e, bool in_bracket)
{
	switch (e) {
	case 'd': return in_bracket ? "0-9" : "[0-9]";
	/* RE2's \s is [\t\n\f\r ], no \v (its [:space:] has \v) */
	case 's': return in_bracket ? "\t\n\f\r " : "[\t\n\f\r ]";
	case 'w': return in_bracket ? "[:alnum:]_" : "[[:alnum:]_]";
	case 'D': return in_bracket ? NULL : "[^0-9]";
	case 'S': return in_bracket ? NULL : "[^\t\n\f\r ]";
	case 'W': return in_bracket ? NULL : "[^[:alnum:]_]";
	case 'A': return in_bracket ? NULL : "^";
	case 'z': return in_bracket ? NULL : "$";
	case 'n': return "\n";
	case 't': return "\t";
	default: return NULL;
	}
}

static int escape(struct translator *t)
{
	char e = t->in[t->i + 1], esc[2] = { '\\', e };
	const char *rep;

	if (!e)
		return unsupported(t);
	t->i += 2;
	if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
		/* (?i): RE2 folds \w to hold both folds, and \W to hold neither */
		if (t->fold && !t->in_bracket && e == 'w')
			return emit(t, "([[:alnum:]_]|" KELVIN "|" LONG_S ")");
		if (t->fold && !t->in_bracket && e == 'W')
			return GS_FAIL(GS_ERR_CONFIG,
				       "unsupported regular expression '%s': with (?i), RE2's \\W "
				       "also excludes the Unicode case folds of 'k' and 's'",
				       t->in);
		rep = perl_escape(e, t->in_bracket);
		return rep ? emit(t, rep) : unsupported(t);
	}
	/* glibc reads a backslash before some punctuation as its own
	 * operator ("\<" and "\>" word boundaries, "\`" and "\'" the
	 * ends of the text), where RE2 reads the punctuation itself: only
	 * ERE's own operators keep the backslash */
	if (!t->in_bracket)
		return strchr(".[]()*+?{}|^$\\", e) ? emit_bytes(t, esc, 2) : emit_bytes(t, &e, 1);
	/* POSIX brackets take '\' literally: the punctuation stands alone,
	 * unless it would change the bracket's meaning. */
	if (e == ']' || e == '^' || e == '-' || e == '[')
		return unsupported(t);
	return emit_bytes(t, &e, 1);
}

static int translate_one(struct translator *t)
{
	char c = t->in[t->i];
	int ret;

	if (!t->in_bracket && c == '(' && t->in[t->i + 1] == '?')
		return group(t);
	if (!t->in_bracket && (c == '*' || c == '+' || c == '?' || c == '{'))
		return quantifier(t);
	t->after_quantifier = false;
	if (!t->in_bracket && c == '(')
		group_open(t);
	else if (!t->in_bracket && c == ')')
		group_close(t);
	else
		t->closed_copies = 0;
	if (c == '[' && !t->in_bracket)
		return bracket_open(t);
	if (c == '[' && t->in_bracket && t->in[t->i + 1] == ':')
		return class_name(t);
	if (c == '\\')
		return escape(t);
	/* RE2's '.' is any character but a newline (no (?s) is taken);
	 * glibc's, without REG_NEWLINE (which would make '^' and '$' match
	 * at lines too), is any */
	if (c == '.' && !t->in_bracket) {
		t->i++;
		return emit(t, "[^\n]");
	}
	/* a '[' member before '.' or '=' (or an escape, which may give
	 * either) opens a POSIX collating symbol or equivalence class
	 * ("[[.a.]]"), where RE2 reads the members '[', '.', ... */
	if (c == '[' && t->in_bracket &&
	    (t->in[t->i + 1] == '.' || t->in[t->i + 1] == '=' || t->in[t->i + 1] == '\\'))
		return unsupported(t);
	if (c == ']' && t->in_bracket) {
		t->in_bracket = false;
		t->i++;
		if ((ret = emit(t, "]")) || !t->bracket_tail)
			return ret;
		ret = emit(t, t->bracket_tail);
		t->bracket_tail = NULL;
		return ret;
	}
	t->i++;
	if (t->fold && !t->in_bracket && (c == 'k' || c == 'K'))
		return emit(t, "(k|" KELVIN ")");
	if (t->fold && !t->in_bracket && (c == 's' || c == 'S'))
		return emit(t, "(s|" LONG_S ")");
	return emit_bytes(t, &c, 1);
}

static int translate(const char *pattern, bool fold, char **posix)
{
	struct translator t = { .in = pattern, .copies = { 1 }, .fold = fold };
	int ret;

	*posix = NULL;
	if (strlen(pattern) > REGEX_MAX_LEN)
		return GS_FAIL(GS_ERR_CONFIG, "regular expression too long");
	gs_buf_init(&t.out, false);
	/* the empty pattern is "" too */
	if ((ret = gs_buf_reserve(&t.out, strlen(pattern) + 1)) || (ret = emit(&t, "")))
		goto fail;
	while (pattern[t.i]) {
		ret = translate_one(&t);
		if (ret)
			goto fail;
	}
	*posix = (char *)gs_buf_detach(&t.out, NULL);
	return 0;
fail:
	gs_buf_release(&t.out);
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
					       pattern - 4);
	}
	if ((ret = translate(pattern, flags & REG_ICASE, &posix)) < 0)
		return ret;
	if (regcomp(re, posix, flags) != 0)
		ret = GS_FAIL(GS_ERR_CONFIG, "invalid regular expression '%s'", pattern);
	free(posix);
	return ret;
}

bool re2posix_match(const regex_t *re, const char *s)
{
	return regexec(re, s, 0, NULL, 0) == 0;
}

/* A key may hold a NUL ("public\0password"): RE2 matches all of it, and
 * regexec would stop at the NUL ("^public$" would match). REG_STARTEND
 * (glibc, the BSDs) gives regexec the length. */
#ifndef REG_STARTEND
#error "regexec needs REG_STARTEND: keys may hold NUL bytes"
#endif
bool re2posix_match_n(const regex_t *re, const char *s, size_t len)
{
	regmatch_t range[1] = { { .rm_so = 0, .rm_eo = (regoff_t)len } };

	return regexec(re, s, 1, range, REG_STARTEND) == 0;
}
