/* src/sops/walk.c: selectors share compiled regexes through a small
 * process-wide cache. More patterns than it holds, more live selectors
 * than it holds, threads, and a pattern that does not compile: every
 * selector matches as its own pattern says. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gitseal/error.h"
#include "gitseal/secmem.h"
#include "gitseal/store.h"
#include "../../src/sops/sops_int.h"

enum { PATTERNS = 20, LIVE = 12, THREADS = 4, ROUNDS = 300 };

enum { MAX_PATTERN = 200 };

/* Pattern i matches "key<i>" and nothing else of that form; made before
 * the tests (a selection outlives its selectors). */
static char patterns[MAX_PATTERN][32];

static void key_of(size_t i, char *buf, size_t cap)
{
	snprintf(buf, cap, "key%zu", i);
}

static void selector_for(struct sops_selector *s, size_t i)
{
	struct sops_selection sel = { .kind = SOPS_SEL_ENCRYPTED_REGEX, .value = patterns[i] };

	assert_int_equal(sops_selector_init(s, &sel), 0);
}

static void check_matches(const struct sops_selector *s, size_t i)
{
	char k[32];

	key_of(i, k, sizeof(k));
	assert_true(re2posix_match(s->re, k));
	key_of(i + 1, k, sizeof(k));
	assert_false(re2posix_match(s->re, k));
}

/* More patterns than the cache holds, in turns: entries are reused and
 * replaced, never mixed up. */
static void test_many_patterns(void **state)
{
	(void)state;
	for (size_t round = 0; round < 3; round++) {
		for (size_t i = 0; i < PATTERNS; i++) {
			struct sops_selector s;

			selector_for(&s, (i * 7 + round) % PATTERNS);
			check_matches(&s, (i * 7 + round) % PATTERNS);
			sops_selector_release(&s);
		}
	}
}

/* More selectors alive at once than the cache holds: the ones past it get
 * a regex of their own; an entry in use is never replaced. */
static void test_live_selectors(void **state)
{
	struct sops_selector s[LIVE];

	(void)state;
	for (size_t i = 0; i < LIVE; i++)
		selector_for(&s[i], 100 + i);
	for (size_t i = 0; i < LIVE; i++)
		check_matches(&s[i], 100 + i);
	/* two selectors of one pattern share it */
	struct sops_selector again;

	selector_for(&again, 100);
	assert_ptr_equal(again.re, s[0].re);
	sops_selector_release(&again);
	for (size_t i = 0; i < LIVE; i++)
		sops_selector_release(&s[i]);
	assert_null(s[0].re);
}

static void *thread_main(void *arg)
{
	size_t base = (size_t)(uintptr_t)arg;

	for (size_t r = 0; r < ROUNDS; r++) {
		struct sops_selector s;
		size_t i = (base + r) % 10;

		selector_for(&s, i);
		check_matches(&s, i);
		sops_selector_release(&s);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[THREADS];

	(void)state;
	for (size_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, (void *)(uintptr_t)(i * 3)), 0);
	for (size_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
}

/* A pattern that does not compile fails every time (nothing cached), and
 * the cache goes on serving the others. */
static void test_bad_pattern(void **state)
{
	struct sops_selection bad = { .kind = SOPS_SEL_UNENCRYPTED_REGEX, .value = "a(" };
	struct sops_selector s;

	(void)state;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sops_selector_init(&s, &bad), GS_ERR_CONFIG);
		assert_null(s.re);
		sops_selector_release(&s);
	}
	selector_for(&s, 7);
	check_matches(&s, 7);
	sops_selector_release(&s);
}

/* The walk's key path and comment levels grow with the depth (they start
 * small): a document nested past their first sizes, with a comment at
 * each level, gives every leaf its whole path as AAD, and selection by a
 * key far up the path. */
enum { DEEP = 100, MARKED = 70 };

struct deep_seen {
	size_t leaves, comments, selected;
	char deepest_aad[DEEP * 8];
	bool side_selected;
};

static int deep_leaf(void *ctx, struct sops_leaf *leaf)
{
	struct deep_seen *seen = ctx;

	if (leaf->is_comment) {
		seen->comments++;
		return 0;
	}
	seen->leaves++;
	seen->selected += leaf->selected;
	if (leaf->node->type == DOC_STR && !strcmp(leaf->node->text, "deepest")) {
		assert_true(leaf->aad_len < sizeof(seen->deepest_aad));
		memcpy(seen->deepest_aad, leaf->aad, leaf->aad_len);
	}
	if (leaf->node->type == DOC_STR && !strcmp(leaf->node->text, "side"))
		seen->side_selected = leaf->selected;
	return 0;
}

static void test_walk_deep(void **state)
{
	char *text = malloc(DEEP * (2 * DEEP + 32)), *p = text, want[DEEP * 8], *w = want;
	struct sops_selection sel = { .kind = SOPS_SEL_ENCRYPTED_REGEX, .value = patterns[MARKED] };
	struct sops_selector s;
	struct deep_seen seen = { 0 };
	struct doc d;

	(void)state;
	assert_int_equal(gs_crypto_init(), 0);
	assert_non_null(text);
	for (int i = 0; i < DEEP; i++) {
		p += sprintf(p, "%*s# level %d\n", 2 * i, "", i);
		if (i == 60)
			p += sprintf(p, "%*sside: side\n", 2 * i, "");
		p += sprintf(p, "%*skey%d:%s\n", 2 * i, "", i, i == DEEP - 1 ? " deepest" : "");
		w += sprintf(w, "key%d:", i);
	}
	doc_init(&d, DOC_FORMAT_YAML);
	assert_int_equal(store_load(DOC_FORMAT_YAML, (const uint8_t *)text, strlen(text), &d), 0);
	assert_int_equal(sops_selector_init(&s, &sel), 0);
	assert_int_equal(sops_walk(&d, &s, deep_leaf, &seen), 0);
	assert_int_equal(seen.leaves, 2);
	assert_int_equal(seen.comments, DEEP);
	assert_string_equal(seen.deepest_aad, want);
	/* key70 is on the deepest leaf's path, not on the side leaf's */
	assert_int_equal(seen.selected, 1);
	assert_false(seen.side_selected);
	sops_selector_release(&s);
	doc_release(&d);
	free(text);
}

/* Each leaf's AAD is its map keys from the root, each followed by ':'
 * (a top-level comment's is ":"), also where the walk comes back up from
 * a deeper map to a list's item or a comment, and from one key to its
 * sibling (the walk keeps the path's AAD and appends a leaf's last key). */
struct aad_seen {
	size_t count;
	char got[16][64];
};

static int aad_leaf(void *ctx, struct sops_leaf *leaf)
{
	struct aad_seen *seen = ctx;

	assert_true(seen->count < 16 && leaf->aad_len < 40);
	snprintf(seen->got[seen->count++], 64, "%s=%.*s", leaf->node->text, (int)leaf->aad_len, leaf->aad);
	assert_int_equal(leaf->aad[leaf->aad_len], '\0');
	return 0;
}

static void test_walk_aad_after_nested(void **state)
{
	static const char text[] = "# top\n"
				   "a:\n"
				   "    b:\n"
				   "        c: one\n"
				   "    d: two\n"
				   "    l:\n"
				   "        - e:\n"
				   "            g: three\n"
				   "        - four\n"
				   "        # in l\n"
				   "        - five\n"
				   "    # after l\n"
				   "    bb: six\n"
				   "f: seven\n";
	static const char *const want[] = {
		" top=:", "one=a:b:c:", "two=a:d:", "three=a:l:e:g:", "four=a:l:", " in l=a:l:", "five=a:l:",
		" after l=a:", "six=a:bb:", "seven=f:",
	};
	struct sops_selector s;
	struct aad_seen seen = { 0 };
	struct doc d;

	(void)state;
	assert_int_equal(gs_crypto_init(), 0);
	doc_init(&d, DOC_FORMAT_YAML);
	assert_int_equal(store_load(DOC_FORMAT_YAML, (const uint8_t *)text, strlen(text), &d), 0);
	assert_int_equal(sops_selector_init(&s, NULL), 0);
	assert_int_equal(sops_walk(&d, &s, aad_leaf, &seen), 0);
	assert_int_equal(seen.count, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < seen.count; i++)
		assert_string_equal(seen.got[i], want[i]);
	sops_selector_release(&s);
	doc_release(&d);
}

int main(void)
{
	for (size_t i = 0; i < MAX_PATTERN; i++)
		snprintf(patterns[i], sizeof(patterns[i]), "^key%zu$", i);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_patterns),
		cmocka_unit_test(test_live_selectors),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_bad_pattern),
		cmocka_unit_test(test_walk_deep),
		cmocka_unit_test(test_walk_aad_after_nested),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
