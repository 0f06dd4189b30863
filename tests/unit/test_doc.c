/* doc_equal: the oracle of verified writes and of the store fuzzers. */
#include "test_store_util.h"

#include "gitseal/asan_poison.h"

#ifdef GS_ASAN
/* an outgrown array waits poisoned (doc.c): a pointer into it held
 * across a doc_append faults instead of reading the next map's entries */
#define ASSERT_SPARE_POISONED(p, yes) assert_int_equal(__asan_address_is_poisoned(p) != 0, (yes))
#else
#define ASSERT_SPARE_POISONED(p, yes) ((void)(p), (void)(yes))
#endif

static bool equal_json(const char *x, const char *y, char *where, size_t size)
{
	struct doc a, b;
	bool same;

	load_ok(DOC_FORMAT_JSON, x, &a);
	load_ok(DOC_FORMAT_JSON, y, &b);
	same = doc_equal(&a, &b, where, size);
	doc_release(&a);
	doc_release(&b);
	return same;
}

static void test_layout_does_not_count(void **state)
{
	char where[128] = "unset";

	(void)state;
	assert_true(equal_json("{\"a\": [1, {\"b\": \"x\"}]}", "{\n  \"a\":[1,{\"b\":\"x\"}]\n}", where,
			       sizeof(where)));
	assert_string_equal(where, "");
}

static void test_differences_name_their_path(void **state)
{
	char where[128];

	(void)state;
	assert_false(equal_json("{\"db\": {\"u\": \"1\"}}", "{\"db\": {\"u\": \"2\"}}", where,
				sizeof(where)));
	assert_string_equal(where, "doc 0: [\"db\"][\"u\"]");
	/* a type is data: "1" and 1 differ */
	assert_false(equal_json("{\"l\": [0, \"1\"]}", "{\"l\": [0, 1]}", where, sizeof(where)));
	assert_string_equal(where, "doc 0: [\"l\"][1]");
	/* key order is data */
	assert_false(equal_json("{\"a\": 1, \"b\": 2}", "{\"b\": 2, \"a\": 1}", where, sizeof(where)));
	assert_string_equal(where, "doc 0: [\"a\"]");
	/* a missing trailing entry */
	assert_false(equal_json("{\"a\": 1, \"b\": 2}", "{\"a\": 1}", where, sizeof(where)));
	assert_false(equal_json("{\"a\": {}}", "{\"a\": []}", NULL, 0));
	assert_false(equal_json("{\"a\": \"\"}", "{\"a\": null}", NULL, 0));
}

static bool equal_yaml(const char *x, const char *y)
{
	struct doc a, b;
	bool same;

	load_ok(DOC_FORMAT_YAML, x, &a);
	load_ok(DOC_FORMAT_YAML, y, &b);
	same = doc_equal(&a, &b, NULL, 0);
	doc_release(&a);
	doc_release(&b);
	return same;
}

/* A number is its value, as sops's MAC sees it: an int spelled "+5" or
 * "007" (kept as spelled) is 5 or 7; an int has no -0, a float has. */
static void test_numbers_by_value(void **state)
{
	(void)state;
	assert_true(equal_yaml("a: +5\nb: 007\nc: -0\nd: [01, -07]\n", "a: 5\nb: 7\nc: 0\nd: [1, -7]\n"));
	assert_true(equal_json("{\"a\": -0}", "{\"a\": 0}", NULL, 0));
	assert_false(equal_yaml("a: +5\n", "a: 6\n"));
	assert_false(equal_yaml("a: 007\n", "a: \"007\"\n"));
	assert_false(equal_yaml("a: 010\n", "a: 10\n")); /* 8 to yaml.v3 */
	assert_true(equal_yaml("a: 010\n", "a: 8\n"));
	assert_true(equal_yaml("a: +9223372036854775807\n", "a: 9223372036854775807\n"));
	assert_false(equal_yaml("a: 9223372036854775807\n", "a: -9223372036854775807\n"));
	assert_true(equal_yaml("a: 1.50\n", "a: 1.5\n"));
	assert_false(equal_json("{\"a\": -0.0}", "{\"a\": 0.0}", NULL, 0));
}

static void test_comments_count_and_removed_entries_do_not(void **state)
{
	struct doc a, b;
	char where[128];

	(void)state;
	load_ok(DOC_FORMAT_YAML, "a: 1 # one\nb: 2\n", &a);
	load_ok(DOC_FORMAT_YAML, "a: 1 # two\nb: 2\n", &b);
	assert_false(doc_equal(&a, &b, where, sizeof(where)));
	doc_release(&b);
	/* sops: a value's end-of-line comment is the entry before it */
	load_ok(DOC_FORMAT_YAML, "# one\na: 1\nb: 2\nc: 3\n", &b);
	assert_false(doc_equal(&a, &b, NULL, 0));
	doc_map_find(b.branches[0], "c")->removed = true;
	if (!doc_equal(&a, &b, where, sizeof(where)))
		fail_msg("differ at %s", where);
	doc_release(&a);
	doc_release(&b);
	load_ok(DOC_FORMAT_YAML, "a: 1\n---\na: 1\n", &a);
	load_ok(DOC_FORMAT_YAML, "a: 1\n", &b);
	assert_false(doc_equal(&a, &b, where, sizeof(where)));
	assert_non_null(strstr(where, "number of documents"));
	doc_release(&a);
	doc_release(&b);
}

/* A tag is data (a reader sees !!binary bytes, not a string); setting a
 * value drops its tag, cloning keeps it. */
static void test_tags_count(void **state)
{
	struct doc a, b;
	struct doc_node *va, *vb;
	char where[64];

	(void)state;
	load_ok(DOC_FORMAT_JSON, "{\"a\": \"aGk=\"}", &a);
	load_ok(DOC_FORMAT_JSON, "{\"a\": \"aGk=\"}", &b);
	va = a.branches[0]->entries[0].value;
	vb = b.branches[0]->entries[0].value;
	assert_int_equal(doc_node_set_tag(&b, vb, "tag:yaml.org,2002:binary"), 0);
	assert_false(doc_equal(&a, &b, where, sizeof(where)));
	assert_string_equal(where, "doc 0: [\"a\"]");
	assert_int_equal(doc_node_set_tag(&a, va, "tag:yaml.org,2002:binary"), 0);
	assert_true(doc_equal(&a, &b, NULL, 0));
	assert_int_equal(doc_node_set_tag(&a, va, "!local"), 0);
	assert_false(doc_equal(&a, &b, NULL, 0));
	/* a clone keeps the tag */
	vb = doc_clone(&b, va);
	assert_non_null(vb);
	assert_string_equal(vb->tag, "!local");
	/* a value set is what the caller gave: the tag goes */
	assert_int_equal(doc_scalar_set(&a, va, DOC_STR, "plain", 5), 0);
	assert_null(va->tag);
	doc_release(&a);
	doc_release(&b);
}

/* A long path is cut, never overflows. */
static void test_long_path_is_bounded(void **state)
{
	char where[16];

	(void)state;
	assert_false(equal_json("{\"aaaaaaaaaaaaaaaaaaaaaa\": {\"b\": 1}}",
				"{\"aaaaaaaaaaaaaaaaaaaaaa\": {\"b\": 2}}", where, sizeof(where)));
	assert_int_equal(strlen(where), sizeof(where) - 1);
}

/* A key in the path is the file's: its control bytes, C1 controls and
 * bidi controls shown escaped, as every name in a message. */
static void test_path_keys_are_shown_escaped(void **state)
{
	char where[128];

	(void)state;
	assert_false(equal_json("{\"a\\nb\\u0085c\\u202ed\": 1}", "{\"a\\nb\\u0085c\\u202ed\": 2}", where,
				sizeof(where)));
	assert_string_equal(where, "doc 0: [\"a\\x0ab\\xc2\\x85c\\xe2\\x80\\xaed\"]");
}

/* grow_entries: the arrays one map outgrew serve the next map, and every
 * entry keeps its key and value through the moves. */
static void test_outgrown_entry_arrays_are_reused(void **state)
{
	struct doc d;
	struct doc_node *maps[3];
	struct doc_entry *four = NULL, *eight = NULL;
	char key[32], val[32];

	(void)state;
	doc_init(&d, DOC_FORMAT_YAML);
	for (int m = 0; m < 3; m++) {
		assert_non_null(maps[m] = doc_new_map(&d));
		for (int k = 0; k < 10; k++) {
			struct doc_node *v;

			snprintf(key, sizeof(key), "k%d", k);
			snprintf(val, sizeof(val), "v%d-%d", m, k);
			assert_non_null(v = doc_new_scalar(&d, DOC_STR, val, strlen(val)));
			assert_non_null(doc_append(&d, maps[m], key, strlen(key), v));
			if (m == 0 && k == 0)
				four = maps[0]->entries;
			if (m == 0 && k == 4)
				eight = maps[0]->entries;
			/* the next map takes the 4- and 8-entry arrays the last left */
			if (m > 0 && k == 0)
				assert_ptr_equal(maps[m]->entries, four);
			if (m > 0 && k == 4)
				assert_ptr_equal(maps[m]->entries, eight);
		}
		assert_int_equal(maps[m]->cap, 16);
		ASSERT_SPARE_POISONED(&four[3].value, true);
		ASSERT_SPARE_POISONED(&eight[0].key, true);
	}
	for (int m = 0; m < 3; m++)
		for (int k = 0; k < 10; k++) {
			snprintf(key, sizeof(key), "k%d", k);
			snprintf(val, sizeof(val), "v%d-%d", m, k);
			assert_memory_equal(maps[m]->entries[k].key, key, strlen(key) + 1);
			assert_int_equal(maps[m]->entries[k].value->len, strlen(val));
			assert_memory_equal(maps[m]->entries[k].value->text, val, strlen(val));
		}
	doc_release(&d);
}

/* merge_comments.c sizes entry arrays of its own (cap = what they hold):
 * one whose capacity grow() did not make (6) is never handed to another
 * map when its map grows; one of a doubling's size (8) is, from its spare
 * list, poisoned while it waits there. */
static void test_entry_arrays_sized_elsewhere(void **state)
{
	struct doc d;
	struct doc_node *host, *next, *v;
	struct doc_entry *six, *eight;

	(void)state;
	doc_init(&d, DOC_FORMAT_YAML);
	assert_non_null(host = doc_new_map(&d));
	assert_non_null(v = doc_new_scalar(&d, DOC_STR, "v", 1));
	assert_non_null(six = gs_arena_alloc(&d.arena, 6 * sizeof(*six)));
	memset(six, 0, 6 * sizeof(*six));
	host->entries = six;
	host->count = host->cap = 6;
	assert_non_null(doc_append(&d, host, "k", 1, v));
	assert_int_equal(host->cap, 12);
	for (size_t c = 0; c < sizeof(d.spare_entries) / sizeof(d.spare_entries[0]); c++)
		assert_ptr_not_equal(d.spare_entries[c], six);
	assert_non_null(next = doc_new_map(&d));
	assert_non_null(eight = gs_arena_alloc(&d.arena, 8 * sizeof(*eight)));
	memset(eight, 0, 8 * sizeof(*eight));
	next->entries = eight;
	next->count = next->cap = 8;
	assert_non_null(doc_append(&d, next, "k", 1, v));
	assert_ptr_equal(d.spare_entries[1], eight);
	ASSERT_SPARE_POISONED(&eight[7].removed, true);
	assert_non_null(host = doc_new_map(&d));
	for (int k = 0; k < 5; k++)
		assert_non_null(doc_append(&d, host, "k", 1, v));
	assert_ptr_equal(host->entries, eight);
	ASSERT_SPARE_POISONED(&eight[7].removed, false);
	doc_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_does_not_count),
		cmocka_unit_test(test_differences_name_their_path),
		cmocka_unit_test(test_numbers_by_value),
		cmocka_unit_test(test_comments_count_and_removed_entries_do_not),
		cmocka_unit_test(test_tags_count),
		cmocka_unit_test(test_long_path_is_bounded),
		cmocka_unit_test(test_path_keys_are_shown_escaped),
		cmocka_unit_test(test_outgrown_entry_arrays_are_reused),
		cmocka_unit_test(test_entry_arrays_sized_elsewhere),
	};

	if (gs_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
