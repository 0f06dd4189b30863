/* src/store/yaml_fast.c: libyaml's events for the shape gitseal writes.
 * Every text outside that shape is declined (libyaml reads it); every text
 * it takes gives libyaml's own list (yfast_compare), and yaml_load, which
 * uses it, the same verdict, message and tree as yaml_load_whole (libyaml
 * alone). Files gitseal wrote (tests/fuzz/corpus/fuzz_yaml_fast/gitseal_*)
 * and the Go sops wrote (../shared/testdata/sops-real) of that shape are
 * taken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <yaml.h>

#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/secmem.h"
#include "gitseal/store.h"

#include "../../src/store/yaml_int.h"

enum { MAX_FILE = 1 << 20 };

static int setup(void **state)
{
	(void)state;
	return gs_crypto_init();
}

/* 1 taken, 0 declined */
static int parse(const uint8_t *s, size_t len, const char *name)
{
	struct yfast_event *ev;
	size_t n;
	char why[512];
	int ret = yfast_parse(s, len, &ev, &n);

	assert_true(ret >= 0);
	if (ret == 1 && yfast_compare(s, len, ev, n, why, sizeof(why)) != 0)
		fail_msg("%s: %s", name, why);
	if (ret == 0)
		assert_true(!ev && !n);
	yfast_free(ev, n);
	return ret;
}

/* yaml_load (yaml_fast.c where it takes the text) against yaml_load_whole
 * (libyaml alone): the same verdict, message and tree */
static void same_load(const uint8_t *s, size_t len, const char *name)
{
	struct doc fast, whole;
	char msg[1024], where[256];
	int a, b;

	doc_init(&fast, DOC_FORMAT_YAML);
	doc_init(&whole, DOC_FORMAT_YAML);
	b = yaml_load_whole(s, len, &whole);
	snprintf(msg, sizeof(msg), "%s", b ? gs_error_message() : "");
	gs_error_clear();
	a = yaml_load(s, len, &fast);
	if (a != b || (a && strcmp(msg, gs_error_message()) != 0))
		fail_msg("%s: yaml_load %d (%s), yaml_load_whole %d (%s)", name, a, a ? gs_error_message() : "", b,
			 msg);
	gs_error_clear();
	if (!a && !doc_equal(&fast, &whole, where, sizeof(where)))
		fail_msg("%s: the trees differ at %s", name, where);
	doc_release(&fast);
	doc_release(&whole);
}

static void test_declines(void **state)
{
	static const char *const cases[] = {
		"a: 1 # c\n",                /* comment */
		"# c\na: 1\n",               /* comment line */
		"a:\t1\n",                   /* tab */
		"a:\n\tb: 1\n",              /* tab indentation */
		"a: [1, 2]\n",               /* flow sequence */
		"a: {b: 1}\n",               /* flow map */
		"a: &x 1\nb: *x\n",          /* anchor, alias */
		"a: *x\n",                   /* alias */
		"a: !!str 1\n",              /* tag */
		"a: !local 1\n",             /* local tag */
		"a: 1\n\nb: 2\n",            /* blank line */
		"a: 1\n  \nb: 2\n",          /* line of spaces */
		"a:  1\n",                   /* value after two spaces */
		"a: 1 \n",                   /* trailing space */
		"a: 1\r\nb: 2\r\n",          /* CRLF */
		"a: 1\rb: 2\r",              /* CR */
		"\xef\xbb\xbf" "a: 1\n",     /* byte-order mark */
		"a:\n  b: 1\n   c: 2\n",     /* odd indentation */
		"a:\n  b: 1\n c: 2\n",       /* a key between two indentations */
		"a: 1\n b: 2\n",             /* a more indented line after a value */
		"a:\n- b: 1\n",              /* indentless sequence */
		"a:\n  -  b: 1\n",           /* two spaces after the dash */
		"a:\n  -\n    b: 1\n",       /* a dash alone */
		"a:\n  - |\n    x\n",        /* a block scalar as a list entry */
		"a:\n  - []\n",             /* "[]" as a list entry */
		"a:\n  - - x\n",            /* a list in a list */
		"a: [ ]\n",                 /* "[]" spelled otherwise */
		"a: [x]\n",                 /* a flow sequence with an entry */
		"a: []x\n",                 /* "[]" and more */
		"a: \"x\n",                  /* unterminated quote */
		"a: \"x\ny\"\n",             /* quoted over two lines */
		"a: \"x\\ty\"\n",            /* escape */
		"a: \"x\\\"y\"\n",           /* escaped quote */
		"a: 'x'\n",                  /* single-quoted */
		"---\na: 1\n",               /* document start */
		"a: 1\n...\n",               /* document end */
		"a: 1\n---\nb: 2\n",         /* two documents */
		"%YAML 1.2\n---\na: 1\n",    /* directive */
		"a: caf\xc3\xa9\n",          /* UTF-8 */
		"a: \xff\n",                 /* not UTF-8 */
		"a: x\x01y\n",               /* control character */
		"a: x\x7fy\n",               /* DEL */
		"a: 1",                      /* no final line break */
		"a: 1\nb",                   /* nor here */
		"",                          /* empty */
		"\n",                        /* a blank line alone */
		" a: 1\n",                   /* the root indented */
		"a:1\n",                     /* no space after ':' */
		"a : 1\n",                   /* space before ':' */
		"a:\n",                      /* an empty value */
		"a:\nb: 1\n",                /* an empty value, then a key */
		"a: \n",                     /* an empty value after a space */
		"a: b: c\n",                 /* ': ' inside a value */
		"a: b:\n",                   /* a value ending in ':' */
		"a: -1\n",                   /* '-' first (a negative number) */
		"a: - b\n",                  /* a sequence on a key's line */
		"a: ? b\n",                  /* '?' first */
		"a: >\n  x\n",               /* folded */
		"a: |+\n  x\n",              /* keep chomping */
		"a: |2\n  x\n",              /* explicit indentation */
		"a: |\n\n  x\n",             /* a block starting with a blank line */
		"a: |\n  x\n\nb: 1\n",       /* a blank line at a block's end */
		"a: |\n  x\n\n  y\n",        /* a short blank line in a block */
		"a: |\n  x\n    y\n",        /* a more indented block line */
		"a: |\n  x\n   \n  y\n",     /* a blank line longer than the indentation */
		"a: |\nb: 1\n",              /* an empty block */
		"a: |\n  x",                 /* a block without its final break */
		"\"a\": 1\n",                /* a quoted key */
		"-a: 1\n",                   /* a key starting with '-' */
		"/a: 1\n",                   /* a key starting with '/' */
		"a b: 1\n",                  /* a space in a key */
		"- a: 1\n",                  /* a list at the root */
	};
	static const char nul[] = "a: x\0y\n";
	char key[600], text[700];
	char *deep;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse((const uint8_t *)cases[i], strlen(cases[i]), cases[i]) != 0)
			fail_msg("taken: %s", cases[i]);
		same_load((const uint8_t *)cases[i], strlen(cases[i]), cases[i]);
	}
	assert_int_equal(parse((const uint8_t *)nul, sizeof(nul) - 1, "NUL"), 0);
	same_load((const uint8_t *)nul, sizeof(nul) - 1, "NUL");
	/* a duplicate key is taken: libyaml's events are the same, and the
	 * loader refuses it, with the same message either way */
	assert_int_equal(parse((const uint8_t *)"a: 1\na: 2\n", 10, "duplicate"), 1);
	same_load((const uint8_t *)"a: 1\na: 2\n", 10, "duplicate");
	/* a key longer than YFAST_KEY_MAX; libyaml refuses one over 1,024 */
	memset(key, 'k', 600);
	snprintf(text, sizeof(text), "%.600s: 1\n", key);
	assert_int_equal(parse((const uint8_t *)text, strlen(text), "long key"), 0);
	same_load((const uint8_t *)text, strlen(text), "long key");
	snprintf(text, sizeof(text), "%.500s: 1\n", key);
	assert_int_equal(parse((const uint8_t *)text, strlen(text), "key"), 1);
	/* nested deeper than the store takes: declined (the loader's error, from libyaml's events) */
	deep = malloc(300 * 300);
	assert_non_null(deep);
	for (int d = 0; d < 300; d++) {
		memset(deep + n, ' ', (size_t)d);
		n += (size_t)d;
		memcpy(deep + n, "k:\n", 3);
		n += 3;
	}
	n -= 1;
	memcpy(deep + n, " v\n", 3);
	n += 3;
	assert_int_equal(parse((const uint8_t *)deep, n, "deep"), 0);
	same_load((const uint8_t *)deep, n, "deep");
	free(deep);
}

/* Taken, and libyaml's events; the loads agree */
static void test_takes(void **state)
{
	static const char *const cases[] = {
		"a: 1\n",
		"a: b\nc: d\n",
		"a: \"\"\n",
		"a: \"x: y, [q] {z}\"\n",
		"a: x:y\n",
		"a: x  y\n",
		"a: http://h:8080/p?q=1&r=2\n",
		"a: ENC[AES256_GCM,data:mHeXsmQ=,iv:vUMpILz3xchORqkzDFvgwENY7EqIHHGJdEF6C8xqbFE=,"
		"tag:IroV7hykADvD0IUaq6kikA==,type:str]\n",
		"a: true\nb: null\nc: ~\nd: 1.5\ne: 0x1F\n",
		"a_b-c.d: 1\n",
		"metadata:\n  annotations:\n    jenkins.io/credentials-type: x\n",
		"a:\n  b:\n    c: 1\n  d: 2\ne: 3\n",
		"a: |\n  x\n  y\nb: 1\n",
		"a: |-\n  x\n  y\n",
		"a: |\n  x\n  \n  y\n",
		"a:\n  - b: 1\n    c: 2\n  - d: |\n      x\n",
		"a:\n    - b: 1\n      c:\n        - d: 2\n",
		"a:\n  - x\n  - \"y z\"\n  - ENC[x]\n  - a:b\n  - a b\n",
		"a:\n  - x\n  - b: 1\n",
		"kms: []\nb: 1\n",
		"sops:\n    kms: []\n    age:\n        - recipient: r\n",
		"sops:\n    age:\n        - recipient: age1x\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n"
		"            YWdl\n            -----END AGE ENCRYPTED FILE-----\n    lastmodified: \"2024-11-12T13:33:42Z\"\n"
		"    version: 3.9.0\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse((const uint8_t *)cases[i], strlen(cases[i]), cases[i]) != 1)
			fail_msg("declined: %s", cases[i]);
		same_load((const uint8_t *)cases[i], strlen(cases[i]), cases[i]);
	}
}

/* What the loader reads of the events, spelled out for one text: the
 * comparison with libyaml above is the test; this shows what it holds. */
static void test_events(void **state)
{
	static const char text[] = "k: v\nl: |-\n  x\n";
	struct yfast_event *ev;
	yaml_event_t e[10];
	size_t n;

	(void)state;
	assert_int_equal(yfast_parse((const uint8_t *)text, strlen(text), &ev, &n), 1);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++)
		yfast_event_get(&ev[i], &e[i]);
	assert_int_equal(e[2].type, YAML_MAPPING_START_EVENT);
	assert_int_equal(e[2].data.mapping_start.style, YAML_BLOCK_MAPPING_STYLE);
	assert_int_equal(e[3].type, YAML_SCALAR_EVENT);
	assert_int_equal(e[4].start_mark.index, 3);
	assert_int_equal(e[4].end_mark.index, 4);
	assert_true(e[4].data.scalar.plain_implicit);
	assert_int_equal(e[6].data.scalar.style, YAML_LITERAL_SCALAR_STYLE);
	assert_false(e[6].data.scalar.plain_implicit);
	assert_int_equal(e[6].data.scalar.length, 1);
	assert_memory_equal(e[6].data.scalar.value, "x", 1);
	assert_int_equal(e[7].type, YAML_MAPPING_END_EVENT);
	assert_int_equal(e[7].start_mark.index, strlen(text));
	assert_int_equal(e[9].type, YAML_STREAM_END_EVENT);
	yfast_free(ev, n);
}

static int file_taken(const char *path, bool must)
{
	struct gs_buf b;
	int ret;

	gs_buf_init(&b, false);
	if (gs_read_file(path, &b, MAX_FILE) != 0) {
		gs_error_clear();
		gs_buf_release(&b);
		if (must)
			fail_msg("cannot read %s", path);
		return -1;
	}
	ret = parse(b.data, b.len, path);
	same_load(b.data, b.len, path);
	gs_buf_release(&b);
	if (must && ret != 1)
		fail_msg("declined: %s", path);
	return ret;
}

/* What gitseal writes (encrypt with the demo key: a flat file, a
 * Kubernetes Secret with a literal block, lists of maps, a list of
 * scalars with a quoted one and "[]") is taken, the
 * metadata with it; so are the Go sops's files of that shape (3.9's
 * "kms: []" too); a PGP stanza's block holds a blank line, declined. */
static void test_written_files(void **state)
{
	static const char *const own[] = { "gitseal_a.enc.yaml", "gitseal_b.enc.yaml", "gitseal_c.enc.yaml",
					   "gitseal_d.enc.yaml", "gitseal_a.yaml",     "gitseal_b.yaml",
					   "gitseal_c.yaml",     "gitseal_d.yaml" };
	static const char *const sops[] = {
		"kc-algo-age/age.yaml",         /* kms: [] */
		"sso-02/02-test-secrets.yaml",   /* a list of maps in a list's map */
		"sso-01/01-test-secrets.yaml",   /* keys with '/' */
		"kc-algo-age-pq/age-pq.yaml",
		"sso-04-maconly/04-test-secrets-mac-only.yaml",
		"kc-global-secret/secret.yaml",
		"tfsops-basic-age1/basic.age1.yaml",
	};
	static const char *const sops_declined[] = {
		"nix-secrets-371/secrets.yaml", /* a blank line in a PGP block */
	};
	const char *shared = getenv("GITSEAL_SHARED");
	char path[4096];
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		snprintf(path, sizeof(path), "tests/fuzz/corpus/fuzz_yaml_fast/%s", own[i]);
		file_taken(path, true);
	}
	snprintf(path, sizeof(path), "%s/testdata/sops-real/cases", shared ? shared : "../shared");
	if (stat(path, &st) != 0) {
		printf("skipped: sops-real not present\n");
		return;
	}
	for (size_t i = 0; i < sizeof(sops) / sizeof(sops[0]); i++) {
		snprintf(path, sizeof(path), "%s/testdata/sops-real/cases/%s", shared ? shared : "../shared", sops[i]);
		file_taken(path, true);
	}
	for (size_t i = 0; i < sizeof(sops_declined) / sizeof(sops_declined[0]); i++) {
		snprintf(path, sizeof(path), "%s/testdata/sops-real/cases/%s", shared ? shared : "../shared",
			 sops_declined[i]);
		assert_int_equal(file_taken(path, false), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_declines),
		cmocka_unit_test(test_takes),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_written_files),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
