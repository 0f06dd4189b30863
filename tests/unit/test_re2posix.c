/* gitseal/re2posix.h: sops's RE2 patterns as POSIX ERE, what is
 * translated, what is refused, and how the compiled patterns match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitseal/error.h"
#include "gitseal/re2posix.h"

/* What '.', a negated class and \\D \\S \\W take beyond ASCII: one whole
 * rune of 2, 3 or 4 bytes (the subject is valid UTF-8 when matched). */
#define WIDE "[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf][\x80-\xbf]|" \
	     "[\xf0-\xf4][\x80-\xbf][\x80-\xbf][\x80-\xbf]"

static void test_translated(void **state)
{
	static const struct {
		const char *re2, *posix;
	} cases[] = {
		{ "", "" },
		{ "a.b", "a([^\n\x80-\xff]|" WIDE ")b" }, /* RE2's '.' is a rune, no newline */
		{ "a\\.b", "a\\.b" },
		/* punctuation RE2 reads as itself, which glibc's backslash would
		 * make an operator (word boundaries, the ends of the text) */
		{ "\\<a\\>", "<a>" },
		{ "\\`a\\'", "`a'" },
		{ "\\/\\-\\#\\_", "/-#_" },
		{ "\\(\\)\\|\\^\\$\\\\", "\\(\\)\\|\\^\\$\\\\" },
		{ "\\d+\\D", "[0-9]+([^0-9\x80-\xff]|" WIDE ")" },
		/* RE2's \\s has no \\v; its [:space:] has */
		{ "\\s\\S\\w\\W", "[\t\n\f\r ]([^\t\n\f\r \x80-\xff]|" WIDE ")[0-9A-Z_a-z]([^0-9A-Z_a-z\x80-\xff]|" WIDE ")" },
		{ "[[:space:]]", "[\t-\r ]" },
		{ "[\\w.]+", "[.0-9A-Z_a-z]+" },
		{ "[[]", "[[]" },
		{ "[\\d\\s]", "[\t\n\f\r 0-9]" },
		{ "[\\.\\/]", "[./]" },
		{ "(?:ab)+", "(ab)+" },
		{ "a*?b+?c??", "a*b+c?" },
		{ "\\Aab\\z", "^ab$" },
		{ "v\\d{2,3}x{$", "v[0-9]{2,3}x\\{$" },
		{ "a{2}b{1,}", "a{2}b{1,}" },
		{ "(a{2}){3}(b{4}){5}", "(a{2}){3}(b{4}){5}" }, /* nested within the bound */
		{ "((a){16}){16}", "((a){16}){16}" },
		{ "(a){100}\\(b{2}\\){100}", "(a){100}\\(b{2}\\){100}" }, /* escaped: no group */
		{ "[[:alpha:]]", "[A-Za-z]" },
		{ "[]a]", "[]a]" },
		{ "[^]a]", "([^]a\x80-\xff]|" WIDE ")" }, /* RE2's negated class takes '\\n' */
		/* a bracket is written afresh from its runes: ']' first, '-' first
		 * or last, '^' and '[' never where POSIX reads them otherwise */
		{ "[\\D]", "([^0-9\x80-\xff]|" WIDE ")" },
		{ "[\\]]", "[]]" },
		{ "[\\-]", "[-]" },
		{ "[a-]", "[-a]" },
		{ "[]a-]", "[]a-]" },
		{ "[\\^]", "\\^" },
		{ "[\\^-]", "[-^]" },
		{ "[[.a.]]", "[.a[]]" }, /* RE2 reads '[' '.' 'a' '.', then a ']' */
		{ "[[=a=]]", "[=a[]]" },
		{ "[[\\.]", "[.[]" },
		{ "[[:alpha]", "[:ahlp[]" }, /* no ":]": '[' ':' 'a' 'l' 'p' 'h' 'a' */
		{ "[[:^digit:]x]", "([^0-9\x80-\xff]|" WIDE ")" },
		{ "[a-c\\n]", "[\na-c]" },
		/* runes outside ASCII: whole UTF-8 sequences */
		{ "[\xc3\xa4\xc3\xb6-\xc3\xbc]", "(\xc3\xa4|\xc3[\xb6-\xbc])" },
		{ "[a\xe2\x82\xac]", "([a]|\xe2\x82\xac)" },
		{ "[\xc3\xbf-\xc4\x81]", "(\xc3\xbf|\xc4[\x80-\x81])" },
		{ "[\xdf\xbf-\xe0\xa0\x80]", "(\xdf\xbf|\xe0\xa0\x80)" },
		{ "[^\xc3\xa4]", "([^\x80-\xff]|\xc2[\x80-\xbf]|\xc3[\x80-\xa3]|\xc3[\xa5-\xbf]|[\xc4-\xdf][\x80-\xbf]|"
				  "[\xe0-\xef][\x80-\xbf][\x80-\xbf]|[\xf0-\xf4][\x80-\xbf][\x80-\xbf][\x80-\xbf])" },
		{ "p\xc3\xa4+", "p(\xc3\xa4)+" }, /* RE2 repeats the rune, not its last byte */
		{ "\xc3\xa4{2}\xc3\xb6", "(\xc3\xa4){2}\xc3\xb6" },
		{ "\xc3\xa4{,2}", "\xc3\xa4\\{,2}" },
		{ "\\n\\t", "\n\t" },
		{ "\\r\\f\\v\\a", "\r\f\v\a" }, /* RE2's control escapes */
		{ "[\\t-\\r]", "[\t-\r]" },
		{ "^(data|stringData)$", "^(data|stringData)$" },
		/* Go's regexp/syntax parseRepeat: a count needs a minimum and no
		 * leading zero, and a closing brace right after; any other '{'
		 * is a literal */
		{ "a{2}", "a{2}" },
		{ "a{2,}", "a{2,}" },
		{ "a{2,3}", "a{2,3}" },
		{ "a{0}", "a{0}" },
		{ "a{0,10}?", "a{0,10}" },
		{ "a{,1}", "a\\{,1}" },
		{ "a{,}", "a\\{,}" },
		{ "{,1}", "\\{,1}" },
		{ "a{01}", "a\\{01}" },
		{ "a{00}", "a\\{00}" },
		{ "a{1,01}", "a\\{1,01}" },
		{ "a{1, 2}", "a\\{1, 2}" },
		{ "a{ 1}", "a\\{ 1}" },
		{ "a{1,2,3}", "a\\{1,2,3}" },
		{ "a{-1}", "a\\{-1}" },
		{ "a{+1}", "a\\{+1}" },
		{ "a{}", "a\\{}" },
		{ "{", "\\{" },
		{ "a{", "a\\{" },
		{ "a{2", "a\\{2" },
		{ "a{2,", "a\\{2," },
		{ "a{x}", "a\\{x}" },
		{ "a*{,1}", "a*\\{,1}" }, /* a literal after a repeat: no nesting */
		{ "(a{200}){,9}", "(a{200})\\{,9}" },
		{ "^pass{01}word$", "^pass\\{01}word$" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *posix = NULL;

		assert_int_equal(re2posix_translate(cases[i].re2, &posix), 0);
		assert_string_equal(posix, cases[i].posix);
		free(posix);
	}
}

static void test_refused(void **state)
{
	static const char *const cases[] = {
		"a++",       /* nested repetition: RE2 refuses it too */
		"a*{2}",
		"a{200}b{100}", /* more counted repetitions than REGEX_MAX_REPEAT */
		"a{1000}",      /* RE2's limit, over gitseal's */
		"(a{1,100}){100}b", /* nested: 10,000 copies for glibc */
		"(?:(?:x{2}){20}){10}",
		"((a){20}b){20}",
		"\\bword",
		"\\p{L}",
		"(?P<n>a)",
		"(?s)a",
		"a\\",
		"\\1",
		"\\x41",    /* escapes RE2 takes that are not translated */
		"[\\x41]",
		"[\\e]",      /* no escape in RE2 either */
		"[^\\D\\d]", /* a class of nothing */
	};
	char long_pattern[REGEX_MAX_LEN + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *posix = (char *)cases;

		assert_int_equal(re2posix_translate(cases[i], &posix), GS_ERR_CONFIG);
		assert_null(posix);
		assert_non_null(strstr(gs_error_message(), "unsupported regular expression syntax"));
	}
	memset(long_pattern, 'a', sizeof(long_pattern) - 1);
	long_pattern[sizeof(long_pattern) - 1] = '\0';
	assert_int_equal(re2posix_translate(long_pattern, &(char *){ NULL }), GS_ERR_CONFIG);
	assert_string_equal(gs_error_message(), "regular expression too long");
}

/* What RE2 refuses as a repeat (Go: "invalid repeat count"), refused
 * here too rather than read as a literal. */
static void test_invalid_repeat(void **state)
{
	static const char *const cases[] = {
		"a{1,0}", "a{3,2}", "a{1001}", "a{1001,}", "a{2,1001}", "a{99999999999999999999}",
		"a{0,18446744073709551617}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *posix = (char *)cases;
		char want[128];

		assert_int_equal(re2posix_translate(cases[i], &posix), GS_ERR_CONFIG);
		assert_null(posix);
		snprintf(want, sizeof(want), "invalid repeat count in regular expression '%s'", cases[i]);
		assert_string_equal(gs_error_message(), want);
	}
}

static bool matches(const char *pattern, const char *s)
{
	regex_t re;
	bool yes;

	assert_int_equal(re2posix_compile(&re, pattern), 0);
	yes = re2posix_match(&re, s);
	regfree(&re);
	return yes;
}

static void test_matching(void **state)
{
	regex_t re;

	(void)state;
	/* unanchored, as Go's MatchString */
	assert_true(matches("dev", "config/dev/app.yaml"));
	assert_true(matches("^(data|stringData)$", "stringData"));
	assert_false(matches("^(data|stringData)$", "metadata"));
	assert_true(matches("(?i)^a.*?[\\w.]+\\.YAML$", "Abc/x.y.yaml"));
	assert_false(matches("(?i)^a.*?[\\w.]+\\.YAML$", "b.yaml"));
	assert_true(matches("secrets/\\d+/.*", "secrets/42/db.yaml"));
	assert_false(matches("secrets/\\d+/.*", "secrets/x/db.yaml"));
	assert_true(matches("\\.dev\\.yaml$", "a.dev.yaml"));
	assert_false(matches("\\.dev\\.yaml$", "a_dev.yaml"));
	/* a brace RE2 reads literally matches itself only */
	assert_false(matches("^(sandbox/){,1}.*\\.yaml$", "prod/db.yaml"));
	assert_true(matches("^(sandbox/){,1}.*\\.yaml$", "sandbox/{,1}db.yaml"));
	assert_false(matches("^(description|pass{01}word)$", "password"));
	assert_true(matches("^(description|pass{01}word)$", "pass{01}word"));
	assert_false(matches("^pass{,}word$", "password"));
	assert_true(matches("^a{2}$", "aa"));
	/* RE2 repeats an anchor (glibc refused "^*"): "^*" and "$*" take the
	 * empty string anywhere, "^+" and "^{2}" are the anchor */
	assert_true(matches("^*password", "xpassword"));
	assert_true(matches("password$*", "password_x"));
	assert_true(matches("\\A*password", "xpassword"));
	assert_true(matches("x|^?password", "a_password"));
	assert_true(matches("^+password", "password"));
	assert_false(matches("^+password", "xpassword"));
	assert_false(matches("^{2}password", "xpassword"));
	assert_false(matches("password\\z+", "password_x"));
	/* RE2's '.' does not match a newline; a negated class does */
	assert_false(matches("^public.*$", "public\npassword"));
	assert_true(matches("^public.*$", "public_x"));
	assert_true(matches("^a[^b]c$", "a\nc"));
	/* "\\>" is a '>' in RE2, not glibc's end of a word */
	assert_false(matches("^(public|token\\>)", "token"));
	assert_true(matches("^(public|token\\>)", "token>"));
	assert_false(matches("\\`token", "token"));
	/* RE2's \\s is no vertical tab; [[:space:]] is */
	assert_false(matches("^a\\sb$", "a\vb"));
	assert_true(matches("^a\\sb$", "a\fb"));
	assert_false(matches("^a[\\s]b$", "a\vb"));
	assert_true(matches("^a\\Sb$", "a\vb"));
	assert_true(matches("^a[[:space:]]b$", "a\vb"));
	/* (?i) folds as RE2's simple folding: the Kelvin sign (U+212A) is a
	 * 'k', the long s (U+017F) an 's' */
	assert_true(matches("(?i)^token$", "to\xE2\x84\xAA" "en"));
	assert_true(matches("(?i)^pass$", "pa\xC5\xBF\xC5\xBF"));
	assert_true(matches("(?i)^pa[rs]{2}$", "paS\xC5\xBF"));
	assert_true(matches("(?i)^[a-z]+$", "\xE2\x84\xAA" "ey"));
	assert_true(matches("(?i)^[[:alpha:]]+$", "\xE2\x84\xAA" "ey"));
	assert_true(matches("(?i)^\\w+$", "\xC5\xBF" "ecret"));
	assert_false(matches("(?i)^[a-j]+$", "\xE2\x84\xAA"));
	assert_false(matches("^token$", "to\xE2\x84\xAA" "en"));
	assert_true(matches("(?i)^TOKEN$", "token"));
	/* RE2 folds a negated class, then negates it: the folds are left
	 * out too (Go's parseClass and appendGroup) */
	assert_false(matches("(?i)^[^k]+$", "\xE2\x84\xAA"));
	assert_false(matches("(?i)^[^k]+$", "K"));
	assert_true(matches("(?i)^[^k]+$", "x\xC5\xBF"));
	assert_false(matches("(?i)^[^a-z]+$", "\xC5\xBF"));
	assert_true(matches("(?i)^[^a-z]+$", "\xC3\xA4"));
	assert_false(matches("(?i)^\\W$", "\xE2\x84\xAA"));
	assert_true(matches("(?i)^\\W$", "\xC3\xA4"));
	assert_false(matches("(?i)^[\\W]$", "k"));
	assert_false(matches("(?i)^[[:^alpha:]]$", "\xC5\xBF"));
	assert_true(matches("^[[:^alpha:]]$", "\xC5\xBF"));
	/* what bytewise matching cannot say is refused */
	assert_int_equal(re2posix_compile(&re, "(?i)\xC5\x9F" "ecret"), GS_ERR_CONFIG);
	assert_true(matches("(?i)^[^0-9]+$", "key"));
	assert_true(matches("\xC5\x9F" "ecret", "\xC5\x9F" "ecret"));
	/* a key's NUL is a byte of it, as in RE2 */
	assert_int_equal(re2posix_compile(&re, "^public$"), 0);
	assert_false(re2posix_match_n(&re, "public\0password", 15));
	assert_true(re2posix_match_n(&re, "public\0password", 6));
	regfree(&re);
	assert_int_equal(re2posix_compile(&re, "^public.password$"), 0);
	assert_true(re2posix_match_n(&re, "public\0password", 15));
	regfree(&re);
	/* the case-insensitive flag is the pattern's first four bytes only */
	assert_int_equal(re2posix_compile(&re, "a(?i)b"), GS_ERR_CONFIG);
	assert_int_equal(re2posix_compile(&re, "("), GS_ERR_CONFIG);
	assert_string_equal(gs_error_message(), "invalid regular expression '('");
}

/* RE2 matches runes: '.', classes and repeats take whole UTF-8 sequences,
 * and a byte that starts no valid sequence is one rune, U+FFFD (Go's
 * regexp since 1.18: "invalid UTF-8 bytes are the same as U+FFFD"). */
static void test_runes(void **state)
{
	regex_t re;

	(void)state;
	/* "pässwörd": 8 runes in 10 bytes */
	assert_true(matches("^.{1,8}$", "p\xC3\xA4ssw\xC3\xB6rd"));
	assert_false(matches("^.{9,10}$", "p\xC3\xA4ssw\xC3\xB6rd"));
	assert_true(matches("^[^a]{8}$", "p\xC3\xA4ssw\xC3\xB6rd"));
	assert_true(matches("^\\W\\S\\D$", "\xC3\xA4\xE2\x82\xAC\xF0\x9F\x98\x80"));
	assert_true(matches("^.$", "\xE2\x82\xAC"));
	assert_true(matches("^.$", "\xF0\x9F\x98\x80"));
	assert_false(matches("^.$", "\xC3\xA4" "b"));
	assert_false(matches("^[^a]{2}$", "\xC3\xA4"));
	/* a literal rune, alone or in a bracket, is its whole sequence */
	assert_true(matches("^\xC3\xA4+$", "\xC3\xA4\xC3\xA4"));
	assert_false(matches("^\xC3\xA4+$", "\xC3\xA4\xA4"));
	assert_true(matches("^[\xC3\xA4\xC3\xB6]$", "\xC3\xB6"));
	assert_false(matches("^x[\xC3\xA4\xC3\xB6]", "x\xC3\xA3"));
	assert_true(matches("^[\xC3\xA0-\xC3\xBF]+$", "\xC3\xB6\xC3\xBC"));
	assert_false(matches("^[\xC3\xA0-\xC3\xBF]$", "\xC4\x80"));
	assert_true(matches("^[^\xC3\xA4]$", "\xC3\xB6"));
	assert_false(matches("^[^\xC3\xA4]$", "\xC3\xA4"));
	/* no match starts inside a rune: "\xA4b" is not a rune then 'b' */
	assert_false(matches("[^\xC3\xA4]b", "\xC3\xA4" "b"));
	assert_true(matches("\\Wb", "\xC3\xA4" "b")); /* ä is no word rune */
	/* invalid bytes: each one rune, U+FFFD */
	assert_true(matches("^.$", "\xFF"));
	assert_true(matches("^..$", "\xC3" "a"));         /* a lead byte without its tail */
	assert_true(matches("^..$", "\xE2\x82"));         /* cut short: two runes */
	assert_true(matches("^...$", "\xED\xA0\x80"));    /* a surrogate */
	assert_true(matches("^..$", "\xC0\x80"));         /* an overlong NUL */
	assert_true(matches("^.{5}$", "\xF4\x90\x80\x80" "a")); /* past U+10FFFF */
	assert_true(matches("^a\xEF\xBF\xBD$", "a\xFF"));
	assert_false(matches("^a[^\xEF\xBF\xBD]$", "a\x80"));
	assert_true(matches("^a.b$", "a\x80" "b"));
	/* a key holding a NUL and an invalid byte */
	assert_int_equal(re2posix_compile(&re, "^.{3}$"), 0);
	assert_int_equal(re2posix_match_n(&re, "\0\xFF\xC3\xA4", 4), 1);
	assert_int_equal(re2posix_match_n(&re, "\0\xFF\xC3", 3), 1);
	assert_int_equal(re2posix_match_n(&re, "\0\xC3\xA4", 3), 0);
	regfree(&re);
	/* Go refuses a pattern that is not UTF-8, and a class range backwards */
	assert_int_equal(re2posix_compile(&re, "^\xC3$"), GS_ERR_CONFIG);
	assert_string_equal(gs_error_message(), "invalid UTF-8 in regular expression");
	assert_int_equal(re2posix_compile(&re, "[b-a]"), GS_ERR_CONFIG);
	assert_string_equal(gs_error_message(),
			    "invalid character class range in regular expression '[b-a]'");
	assert_int_equal(re2posix_compile(&re, "[[:foo:]]"), GS_ERR_CONFIG);
	assert_string_equal(gs_error_message(), "invalid regular expression '[[:foo:]]'");
	assert_int_equal(re2posix_compile(&re, "[a"), GS_ERR_CONFIG);
	assert_string_equal(gs_error_message(), "invalid regular expression '[a'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_translated),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_invalid_repeat),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_runes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
