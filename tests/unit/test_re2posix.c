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

static void test_translated(void **state)
{
	static const struct {
		const char *re2, *posix;
	} cases[] = {
		{ "", "" },
		{ "a.b", "a[^\n]b" }, /* RE2's '.' is no newline */
		{ "a\\.b", "a\\.b" },
		/* punctuation RE2 reads as itself, which glibc's backslash would
		 * make an operator (word boundaries, the ends of the text) */
		{ "\\<a\\>", "<a>" },
		{ "\\`a\\'", "`a'" },
		{ "\\/\\-\\#\\_", "/-#_" },
		{ "\\(\\)\\|\\^\\$\\\\", "\\(\\)\\|\\^\\$\\\\" },
		{ "\\d+\\D", "[0-9]+[^0-9]" },
		/* RE2's \\s has no \\v; its [:space:] has */
		{ "\\s\\S\\w\\W", "[\t\n\f\r ][^\t\n\f\r ][[:alnum:]_][^[:alnum:]_]" },
		{ "[[:space:]]", "[[:space:]]" },
		{ "[\\w.]+", "[[:alnum:]_.]+" },
		{ "[[]", "[[]" },
		{ "[\\d\\s]", "[0-9\t\n\f\r ]" },
		{ "[\\.\\/]", "[./]" },
		{ "(?:ab)+", "(ab)+" },
		{ "a*?b+?c??", "a*b+c?" },
		{ "\\Aab\\z", "^ab$" },
		{ "v\\d{2,3}x{$", "v[0-9]{2,3}x\\{$" },
		{ "a{2}b{1,}", "a{2}b{1,}" },
		{ "(a{2}){3}(b{4}){5}", "(a{2}){3}(b{4}){5}" }, /* nested within the bound */
		{ "((a){16}){16}", "((a){16}){16}" },
		{ "(a){100}\\(b{2}\\){100}", "(a){100}\\(b{2}\\){100}" }, /* escaped: no group */
		{ "[[:alpha:]]", "[[:alpha:]]" },
		{ "[]a]", "[]a]" },
		{ "[^]a]", "[^]a]" },
		{ "\\n\\t", "\n\t" },
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
		"[\\D]",
		"[\\]]",
		"[\\-]",
		"[[:alpha]",
		"[[.a.]]", /* POSIX collating symbols: RE2 reads '[', '.', 'a' */
		"[[=a=]]",
		"[[\\.]",
		"a\\",
		"\\1",
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
	/* what bytewise matching cannot say is refused */
	assert_int_equal(re2posix_compile(&re, "(?i)^[^k]+$"), GS_ERR_CONFIG);
	assert_int_equal(re2posix_compile(&re, "(?i)^[^a-z]+$"), GS_ERR_CONFIG);
	assert_int_equal(re2posix_compile(&re, "(?i)\\W"), GS_ERR_CONFIG);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_translated),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_invalid_repeat),
		cmocka_unit_test(test_matching),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
