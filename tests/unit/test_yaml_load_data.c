/* store_load_data (the proof's reload, yaml_load_data in
 * src/store/yaml_load.c) against store_load, the reader of record: for
 * every input, the same verdict (the same error code and message) and,
 * when both load, the same tree (doc_equal). The inputs: the YAML test
 * suite (../shared/testdata/yaml-test-suite), the sops fixtures
 * (../shared/testdata/sops), sealed outputs of gitseal, and one case for
 * each thing that makes the tree-only load give up. The tree-only path
 * must also be taken (no records kept) where it applies, or this would
 * only compare the full loader with itself. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/secmem.h"
#include "gitseal/store.h"

#include "../../src/store/yaml_int.h"

enum { MAX_CASE = 1 << 20 };

struct tally {
	int inputs, tree_path, refused;
	int cut_path; /* yaml_load read the text less runs of base64 */
};

static const char *shared_dir(void)
{
	const char *s = getenv("GITSEAL_SHARED");

	return s ? s : "../shared";
}

/* ---- yaml_load (runs of base64 left out of what libyaml reads where it
 * can, yaml_elide.c) against yaml_load_whole (every byte read) ---- */

static bool same_span(struct doc_span a, struct doc_span b)
{
	return a.start == b.start && a.end == b.end;
}

static void same_nodes(const struct doc_node *a, const struct doc_node *b, const char *name)
{
	if (a->kind != b->kind || a->type != b->type || a->len != b->len ||
	    (a->len && memcmp(a->text, b->text, a->len) != 0) || a->style != b->style ||
	    a->inline_comment != b->inline_comment || !same_span(a->span, b->span) || a->origin != b->origin ||
	    a->flow != b->flow || a->count != b->count || (!a->tag != !b->tag) ||
	    (a->tag && strcmp(a->tag, b->tag) != 0))
		fail_msg("%s: a node differs", name);
	for (size_t i = 0; i < a->count; i++) {
		const struct doc_entry *x = &a->entries[i], *y = &b->entries[i];

		if (x->key_len != y->key_len || (!x->key != !y->key) ||
		    (x->key && memcmp(x->key, y->key, x->key_len) != 0) || !same_span(x->key_span, y->key_span) ||
		    x->origin != y->origin || x->removed != y->removed)
			fail_msg("%s: an entry differs", name);
		same_nodes(x->value, y->value, name);
	}
}

/* Every string value changed: what the patcher writes through the records. */
static void set_strings(struct doc *d, struct doc_node *n)
{
	if (n->kind == DOC_MAP || n->kind == DOC_LIST) {
		for (size_t i = 0; i < n->count; i++)
			set_strings(d, n->entries[i].value);
		return;
	}
	if (n->kind == DOC_SCALAR && n->type == DOC_STR)
		assert_int_equal(doc_scalar_set(d, n, DOC_STR, "ENC[x]", 6), 0);
}

static void same_output(struct doc *a, struct doc *b, const char *name)
{
	struct store_emit_opts opts = { 0 };
	struct gs_buf x, y;
	int rx, ry;

	gs_buf_init(&x, true);
	gs_buf_init(&y, true);
	rx = store_emit(a, DOC_FORMAT_YAML, &opts, &x);
	gs_error_clear();
	ry = store_emit(b, DOC_FORMAT_YAML, &opts, &y);
	gs_error_clear();
	if (rx != ry || x.len != y.len || (x.len && memcmp(x.data, y.data, x.len) != 0))
		fail_msg("%s: the bytes written differ", name);
	gs_buf_release(&x);
	gs_buf_release(&y);
}

/* The same verdict and message, tree, tokens, records, and bytes written
 * as they are and with every string changed; true when the runs were
 * left out (yaml_syntax.read_cut). */
static bool same_as_whole(const uint8_t *text, size_t len, const char *name)
{
	struct doc cut, whole;
	char msg[1024];
	const struct yaml_syntax *a, *b;
	bool was_cut = false;
	int rc, rw;

	doc_init(&cut, DOC_FORMAT_YAML);
	doc_init(&whole, DOC_FORMAT_YAML);
	rw = yaml_load_whole(text, len, &whole);
	snprintf(msg, sizeof(msg), "%s", rw ? gs_error_message() : "");
	gs_error_clear();
	rc = yaml_load(text, len, &cut);
	if (rc != rw || (rc && strcmp(msg, gs_error_message()) != 0))
		fail_msg("%s: yaml_load %d (%s), yaml_load_whole %d (%s)", name, rc, rc ? gs_error_message() : "",
			 rw, msg);
	gs_error_clear();
	if (!rc) {
		a = yaml_syntax_of(&cut);
		b = yaml_syntax_of(&whole);
		assert_non_null(a);
		assert_non_null(b);
		if (cut.count != whole.count || a->n != b->n || a->lx.n != b->lx.n || a->trusted != b->trusted ||
		    a->step != b->step || a->lx.failed != b->lx.failed || b->read_cut)
			fail_msg("%s: the records differ", name);
		if (!yaml_records_equal(a, b))
			fail_msg("%s: the records differ", name);
		for (size_t i = 0; i < a->lx.n; i++)
			if (a->lx.v[i].start != b->lx.v[i].start || a->lx.v[i].end != b->lx.v[i].end ||
			    a->lx.v[i].kind != b->lx.v[i].kind)
				fail_msg("%s: token %zu differs", name, i);
		for (size_t i = 0; i < cut.count; i++)
			same_nodes(cut.branches[i], whole.branches[i], name);
		was_cut = a->read_cut;
		same_output(&cut, &whole, name);
		for (size_t i = 0; i < cut.count; i++) {
			set_strings(&cut, cut.branches[i]);
			set_strings(&whole, whole.branches[i]);
		}
		same_output(&cut, &whole, name);
	}
	doc_release(&cut);
	doc_release(&whole);
	return was_cut;
}

/* Loads text both ways and checks they agree; true when the tree-only
 * path was taken (the document keeps no records). */
static bool same_both_ways(const uint8_t *text, size_t len, const char *name, struct tally *t)
{
	struct doc full, data;
	char full_msg[1024], where[256];
	int a, b;
	bool tree;

	doc_init(&full, DOC_FORMAT_YAML);
	doc_init(&data, DOC_FORMAT_YAML);
	a = store_load(DOC_FORMAT_YAML, text, len, &full);
	snprintf(full_msg, sizeof(full_msg), "%s", a ? gs_error_message() : "");
	gs_error_clear();
	b = store_load_data(DOC_FORMAT_YAML, text, len, &data);
	if (a != b || (a && strcmp(full_msg, gs_error_message()) != 0))
		fail_msg("%s: store_load %d (%s), store_load_data %d (%s)", name, a, full_msg, b,
			 b ? gs_error_message() : "");
	gs_error_clear();
	if (!a && !doc_equal(&full, &data, where, sizeof(where)))
		fail_msg("%s: the trees differ at %s", name, where);
	tree = !b && data.store_data == NULL;
	t->inputs++;
	t->tree_path += tree;
	t->refused += a != 0;
	doc_release(&full);
	doc_release(&data);
	return tree;
}

static bool same_both_ways_str(const char *text, struct tally *t)
{
	return same_both_ways((const uint8_t *)text, strlen(text), text, t);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Every *.yaml / *.yml under dir (in.yaml and out.yaml in the suite). */
static void walk(const char *dir, struct tally *t, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d || depth > 6) {
		if (d)
			closedir(d);
		return;
	}
	while ((e = readdir(d))) {
		char path[4096];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(path, t, depth + 1);
		} else if (has_suffix(e->d_name, ".yaml") || has_suffix(e->d_name, ".yml")) {
			struct gs_buf b;

			gs_buf_init(&b, true);
			if (gs_read_file(path, &b, MAX_CASE) == 0) {
				same_both_ways(b.data, b.len, path, t);
				t->cut_path += same_as_whole(b.data, b.len, path);
			}
			gs_error_clear();
			gs_buf_release(&b);
		}
	}
	closedir(d);
}

static void test_shared_data(void **state)
{
	struct tally t = { 0 };
	char dir[2048];
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/testdata/yaml-test-suite", shared_dir());
	if (stat(dir, &st) != 0) {
		printf("skipped: conformance data not present\n");
		return;
	}
	walk(dir, &t, 0);
	snprintf(dir, sizeof(dir), "%s/testdata/sops", shared_dir());
	walk(dir, &t, 0);
	printf("yaml_load_data: %d inputs, tree-only path %d, refused %d (both ways alike); "
	       "yaml_load with runs left out %d (as reading every byte)\n", t.inputs, t.tree_path, t.refused,
	       t.cut_path);
	assert_true(t.inputs > 300);
	/* the suite has a comment in most cases; over a hundred have none */
	assert_true(t.tree_path > 100);
	assert_true(t.refused > 50);
	/* the sops fixtures: their ENC[...] values read less their base64 */
	assert_true(t.cut_path >= 5);
}

/* What the tree-only load cannot decide goes to the full loader: the
 * same refusal, the same tree. */
static void test_gives_up_alike(void **state)
{
	static const struct {
		const char *text;
		bool tree;    /* the tree-only path takes it */
		bool refused;
	} cases[] = {
		/* the lexer's refusals */
		{ "k: |\n   \n  text\n", false, true },
		{ "%YAML 1.1#x\n---\na: 1\n", false, true },
		{ "a: \"x\"#c\n", false, true },
		/* check_continuation's */
		{ "a:\n  b: \"x\ny\"\n", false, true },
		{ "a:\n  b: [1,\n2]\n", false, true },
		{ "a:\n  b: {c: 1,\nd: 2}\n", false, true },
		/* the same constructs, valid */
		{ "k: |\n  \n  text\n", false, false },
		{ "a:\n  b: \"x\n   y\"\n", false, false },
		{ "a:\n  b: [1,\n    2]\n", false, false },
		{ "a: !!str |\n  x\n", false, false },
		{ "%YAML 1.2\n---\na: 1\n", false, false },
		{ "a: 1#c\n", false, false },
		{ "a: 1 # c\n", false, false },
		{ "# c\na: 1\n", false, false },
		/* no syntax layer needed */
		{ "a: 1\n", true, false },
		{ "a: &x [1, {b: c}]\nb: *x\n", true, false },
		{ "a: \"x y\"\nb: 'z'\n", true, false },
		{ "k: |\n  text\n\n  more\nz: >-\n  folded\n  text\n", true, false },
		{ "---\n---\n", true, false },
		{ "a: !local v\nb: !!binary aGk=\nc: !!int 3\n", true, false },
		{ "&k key: v\nl:\n- 1\n- [2, 3]\n", true, false },
		{ "a: x\n...\n---\nb: y\n", true, false },
		{ "a: 99999999999999999999\n", true, false }, /* a float, as yaml.v3 */
		/* refused by the tree's own rules: tried, then the full loader's word */
		{ "a: 1\na: 2\n", false, true },
		{ "- 1\n", false, true },
		{ "a: *nope\n", false, true },
		{ "[a]: 1\n", false, true },
		{ "a: 1\n---\n- x\n", false, true },
		/* refused before the text is taken (fuzz_yaml_load_data) */
		{ "\xfe\xff\xff\xff?0\x03", false, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tally t = { 0 };

		if (same_both_ways_str(cases[i].text, &t) != cases[i].tree)
			fail_msg("the tree-only path %s %s", cases[i].tree ? "should take" : "took",
				 cases[i].text);
		if ((t.refused == 1) != cases[i].refused)
			fail_msg("%s: %s", cases[i].text, cases[i].refused ? "accepted" : "refused");
	}
}

/* A large input comes through the parser thread (yaml_events.c) in both
 * loaders, with an error far in. */
static void test_large_input(void **state)
{
	struct tally t = { 0 };
	struct gs_buf text;
	char chunk[256];

	(void)state;
	gs_buf_init(&text, false);
	for (int i = 0; i < 2000; i++) {
		snprintf(chunk, sizeof(chunk), "k%d:\n  a: &x%d v%d\n  b: *x%d\n  s: |\n    line %d\n  f: [1, {g: h%d}]\n",
			 i, i, i, i, i, i);
		assert_int_equal(gs_buf_append_str(&text, chunk), 0);
	}
	assert_true(text.len > 64 * 1024);
	assert_true(same_both_ways(text.data, text.len, "large", &t));
	assert_int_equal(gs_buf_append_str(&text, "k7: again\n"), 0);
	assert_false(same_both_ways(text.data, text.len, "large, a duplicate key at its end", &t));
	assert_int_equal(t.refused, 1);
	/* values the reader frees as soon as it reads them (yaml_events.c,
	 * LARGE_SCALAR), beside short ones the parser thread frees */
	gs_buf_reset(&text);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(gs_buf_printf(&text, "k%d: %d\nv%d: ", i, i, i), 0);
		for (int k = 0; k < 100; k++)
			assert_int_equal(gs_buf_printf(&text, "w%d-%d ", i, k), 0);
		assert_int_equal(gs_buf_append_str(&text, "end\n"), 0);
	}
	assert_true(text.len > 64 * 1024);
	assert_true(same_both_ways(text.data, text.len, "large values", &t));
	gs_buf_release(&text);
}

/* text with every '@' replaced by a run of base64 of `run` bytes (one
 * that yaml_elide.c leaves out of what libyaml reads from 64 KiB on) */
static void with_runs(struct gs_buf *out, const char *text, size_t run)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	gs_buf_reset(out);
	for (const char *p = text; *p; p++) {
		if (*p != '@') {
			assert_int_equal(gs_buf_append(out, p, 1), 0);
			continue;
		}
		for (size_t i = 0; i < run; i++)
			assert_int_equal(gs_buf_append(out, &b64[(i * 7 + i / 64) % 64], 1), 0);
	}
}

/* The tree-only path taken or not, and the input refused or not, as
 * expected (both loaders agreeing, same_both_ways). */
static void check_verdict(const struct gs_buf *text, const char *name, bool tree, bool refused)
{
	struct tally t = { 0 };

	if (same_both_ways(text->data, text->len, name, &t) != tree)
		fail_msg("the tree-only path %s %s", tree ? "should take" : "took", name);
	if ((t.refused == 1) != refused)
		fail_msg("%s: %s", name, refused ? "accepted" : "refused");
}

/* The proof's reload of a large encrypted value leaves most of its run
 * out of what libyaml reads, and takes the value from the text: the same
 * verdict and tree as the full loader however the run sits (a key, quotes,
 * lines, a tag...), and where it is taken, a byte changed in the part
 * libyaml did not read changes the value read. */
static void test_long_runs(void **state)
{
	static const struct {
		const char *text;
		bool tree;    /* read with the run left out */
		bool refused;
	} cases[] = {
		{ "a: ENC[AES256_GCM,data:@,iv:x,tag:y,type:str]\nb: 1\n", true, false },
		{ "a: @\nb: @\nc: [@, x]\nd: {e: @}\n", true, false },
		{ "a: x @ y\n", true, false },
		{ "l:\n- @\n- z\n", true, false },
		{ "a: @", true, false },
		/* given back to the full loader (quotes, a tag, an anchor: the
		 * tree-only path takes them without a run, so these show the
		 * runs were left out) */
		{ "@: v\n", false, true },
		{ "a: b\n@\n", false, true },
		{ "a:\n@\n", false, true },
		{ "a: @: v\n", false, true },
		{ "a: '@'\nb: \"@\"\n", false, false },
		{ "a: @\n  more\n", false, false },
		{ "a: |\n  @\n", true, false },
		{ "a: >\n  @\n", false, false },
		{ "a: !!str @\n", false, false },
		{ "a: &x @\nb: *x\n", false, false },
		{ "a: [x@]\n", true, false },
		{ "a: 1@\n", true, false },
		{ "a: 0x1@\n", true, false },
	};
	struct gs_buf text;
	struct doc one, two;

	(void)state;
	gs_buf_init(&text, false);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		with_runs(&text, cases[i].text, 100 * 1024);
		check_verdict(&text, cases[i].text, cases[i].tree, cases[i].refused);
		/* the full loader leaves the run out where the tree-only one does */
		if (same_as_whole(text.data, text.len, cases[i].text) != cases[i].tree)
			fail_msg("yaml_load %s the run in %s", cases[i].tree ? "read" : "left out", cases[i].text);
	}
	/* one byte changed in the middle of a run: read, and not the same */
	with_runs(&text, "a: ENC[AES256_GCM,data:@,iv:x,tag:y,type:str]\n", 1 << 20);
	doc_init(&one, DOC_FORMAT_YAML);
	doc_init(&two, DOC_FORMAT_YAML);
	assert_int_equal(store_load_data(DOC_FORMAT_YAML, text.data, text.len, &one), 0);
	text.data[text.len / 2] = text.data[text.len / 2] == 'A' ? 'B' : 'A';
	assert_int_equal(store_load_data(DOC_FORMAT_YAML, text.data, text.len, &two), 0);
	assert_null(two.store_data);
	assert_false(doc_equal(&one, &two, NULL, 0));
	assert_int_equal(two.branches[0]->entries[0].value->len, text.len - 4);
	assert_memory_equal(two.branches[0]->entries[0].value->text, text.data + 3, text.len - 4);
	doc_release(&one);
	doc_release(&two);
	gs_buf_release(&text);
}

/* The cuts yaml_elide.c finds in text (what libyaml would not read). */
static size_t cuts_in(const struct gs_buf *text)
{
	struct ycuts c;
	size_t n;

	ycuts_init(&c, text->data, text->len);
	assert_int_equal(ycuts_find(&c), 0);
	n = c.n;
	ycuts_release(&c);
	return n;
}

/* text with its '@' as runs of 40 bytes: cuts cuts found in it, and the
 * verdict as expected (check_verdict). */
static void check_runs(struct gs_buf *text, const char *with_at, size_t cuts, bool tree, bool refused)
{
	with_runs(text, with_at, 40);
	if (cuts_in(text) != cuts)
		fail_msg("%zu cuts in %s, not %zu", cuts_in(text), with_at, cuts);
	check_verdict(text, with_at, tree, refused);
}

/* The data, iv and tag fields of every ENC[...] value: a shorter run
 * right after a ':' is left out too. Wherever such a run sits, the same
 * verdict and tree as the full loader; the cuts are where they should be
 * (after a ':', 16 bytes or more) and nowhere else; a byte changed in a
 * part libyaml did not read changes the value read. */
static void test_field_runs(void **state)
{
	static const struct {
		const char *text;
		size_t cuts;  /* runs after ':' of 40 bytes ('@') */
		bool tree;    /* the tree-only path takes it */
		bool refused;
	} cases[] = {
		{ "a: ENC[AES256_GCM,data:@,iv:@,tag:@,type:str]\nb: 1\n", 3, true, false },
		{ "a: x:@\nb:\n  c: y:@:@\nl:\n- z:@\n", 4, true, false },
		{ "a: x:@\r\nb: y\r\n", 1, true, false },
		{ "a: x:@ and more:@\n", 2, true, false },
		{ "a: x:@\n...\n---\nb: y:@\n", 2, true, false },
		{ "a: [x:@, y]\nb: {c: d:@}\n", 2, true, false },
		/* not after ':', or too short: read as they are */
		{ "a: @\nb: x:0123456789abcde\n", 0, true, false },
		{ "a: >\n  @\n  @\n", 2, false, false },
		/* a cut where the loader cannot take the value from the text:
		 * the whole text read again, the same answer */
		{ "k:@: v\n", 1, false, false },
		{ "a: 1\n# c:@\n", 1, false, false },
		{ "a: 1 # c:@\n", 1, false, false },
		{ "a: &x:@ v\nb: *x:@\n", 2, false, true },
		{ "a: !t:@ v\n", 1, false, false },
		{ "a: 'x:@'\nb: \"y:@\"\n", 2, false, false },
		{ "a: x:@\n  y:@\n", 2, false, false },
		{ "a: |\n  x:@\n", 1, true, false },
		{ "a: >\n  x:@\n", 1, false, false },
		{ "? x:@\n: v\n", 1, false, false },
		{ "a: !!str x:@\n", 1, false, false },
		{ "a:@\n", 1, false, true },
		{ "a: x:@\na: y\n", 1, false, true },
		{ "a: x:@: v\n", 1, false, true },
	};
	struct gs_buf text;
	struct doc one, two;

	(void)state;
	gs_buf_init(&text, false);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_runs(&text, cases[i].text, cases[i].cuts, cases[i].tree, cases[i].refused);
		/* the full loader leaves them out where the tree-only one does
		 * (and in comments: test_full_loader_runs) */
		if (!same_as_whole(text.data, text.len, cases[i].text) && cases[i].tree && cases[i].cuts)
			fail_msg("yaml_load read the runs in %s", cases[i].text);
	}
	/* one byte changed in a part left out: read, and not the same */
	with_runs(&text, "a: ENC[AES256_GCM,data:@,iv:x,tag:y,type:str]\n", 40);
	doc_init(&one, DOC_FORMAT_YAML);
	doc_init(&two, DOC_FORMAT_YAML);
	assert_int_equal(store_load_data(DOC_FORMAT_YAML, text.data, text.len, &one), 0);
	text.data[30] = text.data[30] == 'A' ? 'B' : 'A';
	assert_int_equal(store_load_data(DOC_FORMAT_YAML, text.data, text.len, &two), 0);
	assert_null(two.store_data);
	assert_false(doc_equal(&one, &two, NULL, 0));
	assert_memory_equal(two.branches[0]->entries[0].value->text, text.data + 3, text.len - 4);
	doc_release(&one);
	doc_release(&two);
	gs_buf_release(&text);
}

/* The lines of an age stanza's armor in a "|" block scalar: a run that
 * starts a line's text is left out too, and the value taken from the
 * text where the block has the shape ycuts_literal_value takes; any other
 * block is read again whole. The same verdict and tree as the full loader,
 * the same records and tokens as reading every byte; a byte changed in a
 * part libyaml did not read changes the value read. */
static void test_literal_runs(void **state)
{
	static const struct {
		const char *text;
		size_t cuts;  /* runs of 40 bytes ('@') left out */
		bool tree;    /* the value taken from the text */
	} cases[] = {
		{ "enc: |\n    -----BEGIN AGE ENCRYPTED FILE-----\n    @\n    @==\n    -----END AGE ENCRYPTED "
		  "FILE-----\nrecipient: r\n", 2, true },
		{ "sops:\n    age:\n        - enc: |\n            @\n            @\n          recipient: r\n"
		  "    mac: ENC[AES256_GCM,data:@,iv:@,tag:@,type:str]\n", 5, true },
		{ "a: |\n  @\tx @\n  x:@\n", 2, true },
		{ "l:\n- |\n  @\n- |\n  @\n", 2, true },
		{ "a: |-\n  @\n  @\nb: 1\n", 2, true },
		{ "a: |\n  @\n\nb: 1\n", 1, true },
		{ "a: |-\n  @\n\n\nb: 1\n", 1, true },
		{ "a: |\n  @\n\n\n  @\n\n", 2, true },
		/* other blocks: read again whole, the same answer */
		{ "a: |+\n  @\n", 1, false },
		{ "a: |+\n  @\n\nb: 1\n", 1, false },
		{ "a: |\n  @\n  \n  @\n", 2, false },
		{ "a: |\n  @\n \nb: 1\n", 1, false },
		{ "a: |2\n  @\n", 1, false },
		{ "a: | \n  @\n", 1, false },
		{ "a: |\n  @\n   @\n", 2, false },
		{ "a: |\n\n  @\n", 1, false },
		{ "a: |\r\n  @\r\n", 1, false },
		{ "a: |\n  @\r  x\n", 1, false },
		{ "a: |\n  @", 1, false },
		{ "a: &x |\n  @\nb: *x\n", 1, false },
		{ "a: !!str |\n  @\n", 1, false },
		{ "a: !t |\n  @\n", 1, false },
		{ "? |\n  @\n: v\n", 1, false },
		{ "a: >\n  @\n", 1, false },
		{ "a: x\n  @\n", 1, false },
		{ "l:\n- @\n", 0, true },
	};
	struct gs_buf text;
	struct doc one, two;
	size_t at;

	(void)state;
	gs_buf_init(&text, false);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_runs(&text, cases[i].text, cases[i].cuts, cases[i].tree, false);
		if (same_as_whole(text.data, text.len, cases[i].text) != (cases[i].tree && cases[i].cuts))
			fail_msg("yaml_load %s the runs in %s", cases[i].tree ? "read" : "left out", cases[i].text);
	}
	/* one byte changed in a part left out: read, and not the same */
	with_runs(&text, "a: |\n  @\n", 40);
	doc_init(&one, DOC_FORMAT_YAML);
	doc_init(&two, DOC_FORMAT_YAML);
	assert_int_equal(store_load_data(DOC_FORMAT_YAML, text.data, text.len, &one), 0);
	at = 5 + 2 + 20;
	text.data[at] = text.data[at] == 'A' ? 'B' : 'A';
	assert_int_equal(store_load_data(DOC_FORMAT_YAML, text.data, text.len, &two), 0);
	assert_null(two.store_data);
	assert_false(doc_equal(&one, &two, NULL, 0));
	assert_int_equal(two.branches[0]->entries[0].value->len, 41);
	assert_memory_equal(two.branches[0]->entries[0].value->text, text.data + 7, 41);
	doc_release(&one);
	doc_release(&two);
	gs_buf_release(&text);
}

/* The full loader (yaml_load: decrypt's first load, with its tokens and
 * records) leaves the data, iv and tag of ENC[...] values out of what
 * libyaml reads wherever they sit in a plain value on one line without
 * properties, whatever else the file holds (comments, quotes, block
 * scalars, anchors elsewhere...), with the same result as reading every
 * byte; else it reads every byte. */
static void test_full_loader_runs(void **state)
{
	static const struct {
		const char *text;
		bool cut; /* yaml_load leaves the runs out */
	} cases[] = {
		{ "# head\na: ENC[AES256_GCM,data:@,iv:@,tag:@,type:str] # tail\nb: |\n  text\n", true },
		{ "a: x:@\nb: 'q'\nc: \"r\"\n", true },
		{ "a:\n  b: \"x\n   y\"\nc: x:@\n", true },
		{ "a: &k v\nb: x:@\nc: *k\n", true },
		{ "%YAML 1.2\n---\na: x:@\n", true },
		{ "l:\n- x:@\n-   y:@   # c\n- [z:@]\n", true },
		{ "a: x:@\nsops:\n    mac: ENC[AES256_GCM,data:@,iv:@,tag:@,type:str]\n", true },
		/* in a comment: libyaml skips it, the lexer gives it */
		{ "a: x:@\n# c:@\n", true },
		{ "# c:@ d:@\na: 1 # e:@\nb: [x, # f:@\n  y]\nc: |  # g\n  t\n", true },
		{ "%TAG !e! tag:e.com,2000: # h:@\n---\na: !e!x v\n", true },
		/* the whole text read */
		{ "a: &k x:@\nb: *k\n", false },
		{ "a: !!str x:@\n", false },
		{ "a: !t:@ [x]\nb: !u:@ {c: d}\n", false }, /* a collection's tag */
		{ "a: x:@ # c\nb: !t:@ [1] # d:@\n", false }, /* and a collection's tag */
		{ "a: x:@\nc: |  # g:@\n  t\n", false },     /* inside a block scalar's span */
		{ "%TAG !e! tag:e.com,2000:@\n---\na: !e!x v\n", false }, /* a directive */
		{ "k:@: v\n", false },
		{ "a: 'x:@'\n", false },
		{ "a: x:@\n  y\n", false },
		{ "a: x:@\nb: [1,\n2]\n", false },     /* refused: check_continuation */
		{ "a: x:@\na: 1\n", false },           /* refused: a duplicate key */
		{ "a: x:@\nb: \"x\"#c\n", false },    /* refused by the lexer */
		{ "a: x:@\n- b\n", false },            /* refused by libyaml */
	};
	struct gs_buf text;

	(void)state;
	gs_buf_init(&text, false);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		with_runs(&text, cases[i].text, 40);
		if (same_as_whole(text.data, text.len, cases[i].text) != cases[i].cut)
			fail_msg("yaml_load %s the runs in %s", cases[i].cut ? "read" : "left out", cases[i].text);
		with_runs(&text, cases[i].text, 100 * 1024);
		if (same_as_whole(text.data, text.len, cases[i].text) != cases[i].cut)
			fail_msg("yaml_load %s the long runs in %s", cases[i].cut ? "read" : "left out", cases[i].text);
	}
	gs_buf_release(&text);
}

static int setup(void **state)
{
	(void)state;
	return gs_crypto_init() ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gives_up_alike),
		cmocka_unit_test(test_large_input),
		cmocka_unit_test(test_shared_data),
		cmocka_unit_test(test_long_runs),
		cmocka_unit_test(test_field_runs),
		cmocka_unit_test(test_literal_runs),
		cmocka_unit_test(test_full_loader_runs),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
