/* gitseal/shown.h: a name in a one-line message: control bytes, C1
 * controls and broken UTF-8 as \xNN, the rest as it is, cut past the cap;
 * a secret key given as a file name not shown; text keeps its lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitseal/alloc.h"
#include "gitseal/secmem.h"
#include "gitseal/shown.h"

static void test_plain_names_unchanged(void **state)
{
	const char *plain = "apps/prod/secrets.yaml", *utf8 = "d\xc3\xa9j\xc3\xa0/\xe2\x82\xac/\xf0\x9f\x94\x91.env";

	(void)state;
	/* no copy: the name itself */
	assert_ptr_equal(gs_shown(plain), plain);
	assert_ptr_equal(gs_shown(utf8), utf8);
	assert_string_equal(gs_shown(""), "");
	/* a message naming an optional name (stdin has none) */
	assert_string_equal(gs_shown(NULL), "(null)");
	assert_string_equal(gs_shown_arg(NULL), "(null)");
	assert_string_equal(gs_shown("it's \"quoted\" \\x41"), "it's \"quoted\" \\x41");
}

static void test_control_bytes_escaped(void **state)
{
	(void)state;
	/* a newline would forge a second message line; ESC repaints the terminal */
	assert_string_equal(gs_shown("a\nerror: forged"), "a\\x0aerror: forged");
	assert_string_equal(gs_shown("x\x1b[2J\x1b[1Ay"), "x\\x1b[2J\\x1b[1Ay");
	assert_string_equal(gs_shown("\t\r\x7f"), "\\x09\\x0d\\x7f");
	/* C1 controls (U+0080..U+009F, CSI is U+009B) */
	assert_string_equal(gs_shown("a\xc2\x9b" "2Jb\xc2\xa0"), "a\\xc2\\x9b2Jb\xc2\xa0");
	/* broken UTF-8: a lone continuation, a cut sequence, overlong, surrogate, past U+10FFFF */
	assert_string_equal(gs_shown("\x80"), "\\x80");
	assert_string_equal(gs_shown("\xe2\x82"), "\\xe2\\x82");
	assert_string_equal(gs_shown("\xc0\xaf"), "\\xc0\\xaf");
	assert_string_equal(gs_shown("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	assert_string_equal(gs_shown("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
}

/* Characters that show nothing but reorder, hide or break what follows:
 * "x" U+202E "lmay.terces" reads as "xsecret.yaml" in a browser. */
static void test_invisible_escaped(void **state)
{
	struct gs_buf b;

	(void)state;
	assert_string_equal(gs_shown("x\xe2\x80\xaelmay.terces"), "x\\xe2\\x80\\xaelmay.terces");
	/* U+2028, U+2029, U+200B, U+200F, U+2066, U+2069, U+2060, U+061C, U+FEFF */
	assert_string_equal(gs_shown("\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\x8b\xe2\x80\x8f"),
			    "\\xe2\\x80\\xa8\\xe2\\x80\\xa9\\xe2\\x80\\x8b\\xe2\\x80\\x8f");
	assert_string_equal(gs_shown("\xe2\x81\xa6\xe2\x81\xa9\xe2\x81\xa0\xd8\x9c\xef\xbb\xbf"),
			    "\\xe2\\x81\\xa6\\xe2\\x81\\xa9\\xe2\\x81\\xa0\\xd8\\x9c\\xef\\xbb\\xbf");
	assert_string_equal(gs_shown_n("a\xe2\x80\xae", 4), "a\\xe2\\x80\\xae");
	/* their neighbours are shown: U+2010 (a hyphen), U+202F, U+2065 (unassigned), U+061B, Hebrew */
	assert_string_equal(gs_shown("\xe2\x80\x90\xe2\x80\xaf\xe2\x81\xa5\xd8\x9b\xd7\x90"),
			    "\xe2\x80\x90\xe2\x80\xaf\xe2\x81\xa5\xd8\x9b\xd7\x90");
	gs_buf_init(&b, false);
	assert_int_equal(gs_shown_append(&b, "a\xe2\x80\xa8"), 0);
	assert_int_equal(gs_buf_append(&b, "", 1), 0);
	assert_string_equal((const char *)b.data, "a\\xe2\\x80\\xa8");
	gs_buf_release(&b);
	/* text (textconv's values) keeps them: right-to-left scripts hold them */
	gs_buf_init(&b, false);
	assert_int_equal(gs_shown_append_text(&b, (const uint8_t *)"\xd7\x90\xe2\x80\x8f", 5), 0);
	assert_int_equal(gs_buf_append(&b, "", 1), 0);
	assert_string_equal((const char *)b.data, "\xd7\x90\xe2\x80\x8f");
	gs_buf_release(&b);
}

static void test_ring_of_four(void **state)
{
	const char *a, *b, *c, *d;

	(void)state;
	a = gs_shown("1\n");
	b = gs_shown("2\n");
	c = gs_shown("3\n");
	d = gs_shown("4\n");
	/* four names in one message stay apart */
	assert_string_equal(a, "1\\x0a");
	assert_string_equal(b, "2\\x0a");
	assert_string_equal(c, "3\\x0a");
	assert_string_equal(d, "4\\x0a");
}

static void test_length_cap(void **state)
{
	enum { LONG = 64 * 1024 };
	char *s = gs_malloc(LONG + 1);
	const char *shown;

	(void)state;
	assert_non_null(s);
	memset(s, 'a', LONG);
	s[LONG] = '\0';
	shown = gs_shown(s);
	assert_true(strlen(shown) < 4 * 4096 + 4);
	assert_string_equal(shown + strlen(shown) - 4, "a...");
	/* escapes count toward the cap too */
	memset(s, '\n', LONG);
	shown = gs_shown(s);
	assert_true(strlen(shown) < 4 * 4096 + 4);
	assert_string_equal(shown + strlen(shown) - 7, "\\x0a...");
	free(s);
}

static void test_bounded(void **state)
{
	static const char key[] = { 'k', '\0', 'e', '\n', 'y', '\xe2', '\x82', '\xac', 'z' };

	(void)state;
	/* what "%.*s" would take, a NUL byte among it shown; a character cut at the end is broken */
	assert_string_equal(gs_shown_n(key, 8), "k\\x00e\\x0ay\xe2\x82\xac");
	assert_string_equal(gs_shown_n(key, 7), "k\\x00e\\x0ay\\xe2\\x82");
	assert_string_equal(gs_shown_n("plain", 3), "pla");
	assert_string_equal(gs_shown_n("", 0), "");
}

static void test_secret_key_arg_hidden(void **state)
{
	(void)state;
	assert_string_equal(gs_shown_arg("AGE-SECRET-KEY-1QQQQ"), "(a secret key given as a file name: not shown)");
	assert_string_equal(gs_shown_arg("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl"),
			    "(a secret key given as a file name: not shown)");
	assert_string_equal(gs_shown_arg("keys/age.txt"), "keys/age.txt");
	assert_string_equal(gs_shown_arg("keys/\x1b]0;x\x07.txt"), "keys/\\x1b]0;x\\x07.txt");
}

static void test_append(void **state)
{
	struct gs_buf out;
	static const uint8_t text[] = "a: 1\n\tb: \x1b[31mred\r\n\xff";

	(void)state;
	gs_buf_init(&out, false);
	/* no cap when appended */
	assert_int_equal(gs_shown_append(&out, "x\ny"), 0);
	assert_int_equal(gs_buf_append(&out, "", 1), 0);
	assert_string_equal((const char *)out.data, "x\\x0ay");
	gs_buf_release(&out);
	gs_buf_init(&out, false);
	/* text: line ends and tabs kept, a carriage return is not */
	assert_int_equal(gs_shown_append_text(&out, text, sizeof(text) - 1), 0);
	assert_int_equal(gs_buf_append(&out, "", 1), 0);
	assert_string_equal((const char *)out.data, "a: 1\n\tb: \\x1b[31mred\\x0d\n\\xff");
	gs_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_names_unchanged), cmocka_unit_test(test_control_bytes_escaped),
		cmocka_unit_test(test_ring_of_four),          cmocka_unit_test(test_length_cap),
		cmocka_unit_test(test_secret_key_arg_hidden), cmocka_unit_test(test_append),
		cmocka_unit_test(test_bounded),               cmocka_unit_test(test_invisible_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
