/* Conformance: the official YAML test suite and JSONTestSuite
 * (../shared/testdata, see their READMEs), through the real sops layer
 * in process with the demo age key.
 *
 * Every valid case the store accepts (a mapping root with string keys, as
 * sops requires) is encrypted and decrypted: the decrypted tree must equal
 * the input's (doc_equal; a tag on an encrypted value is dropped, as sops
 * drops it), and it counts as byte-exact when the bytes come back too.
 * Every invalid case must be refused with a one-line message and no
 * output. The counts are printed; docs/conformance.md keeps them. */
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

#include "gitseal/age.h"
#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/io.h"
#include "gitseal/sops.h"
#include "gitseal/store.h"

enum { MAX_REASONS = 32, MAX_CASE = 1 << 20 };

struct tally {
	const char *suite;
	int valid, accepted, byte_exact, tags_dropped, refused_valid;
	int invalid, refused_invalid, accepted_invalid;
	int either, either_accepted;
	int changed, unreadable, bad_refusal;
	struct {
		char reason[96];
		int count;
	} reasons[MAX_REASONS];
	int n_reasons;
};

static struct age_identity_list ids;
static char recipient[128];

static const char *shared_dir(void)
{
	const char *s = getenv("GITSEAL_SHARED");

	return s ? s : "../shared";
}

static bool read_all(const char *path, struct gs_buf *b)
{
	gs_buf_init(b, true);
	return gs_read_file(path, b, MAX_CASE) == 0;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* The message without the file name and the details after the last ':'
 * that name a line or a value: what kind of refusal it is. */
static void note_reason(struct tally *t, const char *msg)
{
	char r[96];
	const char *at = strstr(msg, ": ");

	snprintf(r, sizeof(r), "%s", at && strncmp(msg, "invalid YAML at line", 20) == 0 ? at + 2 : msg);
	for (int i = 0; i < t->n_reasons; i++) {
		if (strcmp(t->reasons[i].reason, r) == 0) {
			t->reasons[i].count++;
			return;
		}
	}
	if (t->n_reasons < MAX_REASONS) {
		snprintf(t->reasons[t->n_reasons].reason, sizeof(t->reasons[0].reason), "%s", r);
		t->reasons[t->n_reasons++].count = 1;
	}
}

/* Where the input has a tag and the decrypted node none, the value was
 * encrypted: its tag is gone by design (sops drops it too). */
static int forget_dropped_tags(struct doc_node *in, const struct doc_node *out, int depth)
{
	size_t i = 0, j = 0;
	int n = 0;

	if (in->tag && !out->tag && in->kind == DOC_SCALAR) {
		in->tag = NULL;
		n++;
	}
	for (;; i++, j++) {
		while (i < in->count && in->entries[i].removed)
			i++;
		while (j < out->count && out->entries[j].removed)
			j++;
		if (i >= in->count || j >= out->count || depth > 300)
			return n;
		if (in->entries[i].value->kind == out->entries[j].value->kind)
			n += forget_dropped_tags(in->entries[i].value, out->entries[j].value, depth + 1);
	}
}

static int encrypt(const struct gs_buf *in, enum doc_format f, struct gs_buf *out)
{
	const char *const recipients[] = { recipient };
	struct sops_file_encrypt_opts o;

	memset(&o, 0, sizeof(o));
	o.format = f;
	o.age_recipients = recipients;
	o.age_recipient_count = 1;
	gs_buf_init(out, true);
	return sops_file_encrypt(in->data, in->len, &o, out);
}

static void check_decrypted(struct tally *t, const char *name, const struct gs_buf *in,
			    const struct gs_buf *dec, enum doc_format f)
{
	struct doc want, got;
	char where[256];

	doc_init(&want, f);
	doc_init(&got, f);
	if (store_load(f, in->data, in->len, &want) || store_load(f, dec->data, dec->len, &got)) {
		printf("  %s: the decrypted output does not load: %s\n", name, gs_error_message());
		t->unreadable++;
	} else {
		for (size_t b = 0; b < want.count && b < got.count; b++)
			t->tags_dropped += forget_dropped_tags(want.branches[b], got.branches[b], 0);
		if (!doc_equal(&want, &got, where, sizeof(where))) {
			printf("  %s: decrypted data differs at %s\n", name, where);
			t->changed++;
		} else {
			t->byte_exact += dec->len == in->len && memcmp(dec->data, in->data, in->len) == 0;
		}
	}
	doc_release(&want);
	doc_release(&got);
}

/* A valid case: encrypted, decrypted, compared. */
static void run_valid(struct tally *t, const char *name, const struct gs_buf *in, enum doc_format f)
{
	struct gs_buf enc, dec;
	int ret;

	t->valid++;
	if ((ret = encrypt(in, f, &enc)) != 0) {
		t->refused_valid++;
		note_reason(t, gs_error_message());
		gs_buf_release(&enc);
		return;
	}
	t->accepted++;
	gs_buf_init(&dec, true);
	if (sops_file_decrypt(enc.data, enc.len, f, &ids, NULL, &dec) != 0) {
		printf("  %s: the encrypted output cannot be decrypted: %s\n", name, gs_error_message());
		t->unreadable++;
	} else {
		check_decrypted(t, name, in, &dec, f);
	}
	gs_buf_release(&enc);
	gs_buf_release(&dec);
}

/* An invalid case: refused, one line, nothing written. */
static void run_invalid(struct tally *t, const char *name, const struct gs_buf *in, enum doc_format f)
{
	struct gs_buf enc;

	t->invalid++;
	if (encrypt(in, f, &enc) == 0) {
		t->accepted_invalid++;
		printf("  %s: invalid, but accepted\n", name);
	} else if (enc.len != 0 || strchr(gs_error_message(), '\n') || !gs_error_message()[0]) {
		t->bad_refusal++;
		printf("  %s: refused without one line, or with output\n", name);
	} else {
		t->refused_invalid++;
	}
	gs_buf_release(&enc);
}

static void run_case(struct tally *t, const char *dir)
{
	char path[2048], err[2048];
	struct gs_buf in;

	if (snprintf(path, sizeof(path), "%s/in.yaml", dir) >= (int)sizeof(path) ||
	    snprintf(err, sizeof(err), "%s/error", dir) >= (int)sizeof(err))
		return;
	if (!read_all(path, &in)) {
		gs_buf_release(&in);
		return;
	}
	if (exists(err))
		run_invalid(t, dir + strlen(shared_dir()), &in, DOC_FORMAT_YAML);
	else
		run_valid(t, dir + strlen(shared_dir()), &in, DOC_FORMAT_YAML);
	gs_buf_release(&in);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* A case folder, or a folder of numbered sub-cases. */
static void walk_yaml(struct tally *t, const char *dir, int depth)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name);
	char path[2048];

	for (int i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) < (int)sizeof(path) &&
		    names[i]->d_name[0] != '.' && names[i]->d_type == DT_DIR && depth < 2) {
			char in[2100];

			if (snprintf(in, sizeof(in), "%s/in.yaml", path) < (int)sizeof(in) && exists(in))
				run_case(t, path);
			else
				walk_yaml(t, path, depth + 1);
		}
		free(names[i]);
	}
	free(n >= 0 ? names : NULL);
}

static void walk_json(struct tally *t, const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name);

	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char path[2048];
		struct gs_buf in;

		bool is_case = strlen(name) > 5 && name[1] == '_' &&
			       snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path);

		if (is_case && read_all(path, &in)) {
			if (name[0] == 'y') {
				run_valid(t, name, &in, DOC_FORMAT_JSON);
			} else if (name[0] == 'n') {
				run_invalid(t, name, &in, DOC_FORMAT_JSON);
			} else {
				struct gs_buf enc;

				/* implementation-defined: either way, but what is
				 * accepted must come back */
				t->either++;
				if (encrypt(&in, DOC_FORMAT_JSON, &enc) == 0) {
					t->either_accepted++;
					gs_buf_release(&enc);
					run_valid(t, name, &in, DOC_FORMAT_JSON);
					t->valid--;
				} else {
					gs_buf_release(&enc);
				}
			}
		}
		if (is_case)
			gs_buf_release(&in);
		free(names[i]);
	}
	free(n >= 0 ? names : NULL);
}

static void report(const struct tally *t)
{
	printf("%s: valid %d: accepted %d (byte-exact %d, tags dropped by encryption %d), refused %d\n",
	       t->suite, t->valid, t->accepted, t->byte_exact, t->tags_dropped, t->refused_valid);
	for (int i = 0; i < t->n_reasons; i++)
		printf("  refused valid, %d: %s\n", t->reasons[i].count, t->reasons[i].reason);
	printf("%s: invalid %d: refused %d, accepted %d\n", t->suite, t->invalid, t->refused_invalid,
	       t->accepted_invalid);
	if (t->either)
		printf("%s: implementation-defined %d: accepted %d\n", t->suite, t->either,
		       t->either_accepted);
	printf("%s: changed values %d, unreadable outputs %d, bad refusals %d\n", t->suite, t->changed,
	       t->unreadable, t->bad_refusal);
}

static bool have_data(const char *sub)
{
	char path[2048];

	snprintf(path, sizeof(path), "%s/testdata/%s", shared_dir(), sub);
	return exists(path);
}

static void test_yaml_test_suite(void **state)
{
	struct tally t = { .suite = "yaml-test-suite" };
	char dir[2048];

	(void)state;
	if (!have_data("yaml-test-suite")) {
		printf("skipped: conformance data not present\n");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/testdata/yaml-test-suite", shared_dir());
	walk_yaml(&t, dir, 0);
	report(&t);
	assert_true(t.valid > 0);
	assert_int_equal(t.changed, 0);
	assert_int_equal(t.unreadable, 0);
	assert_int_equal(t.bad_refusal, 0);
	assert_int_equal(t.accepted_invalid, 0);
}

static void test_json_test_suite(void **state)
{
	struct tally t = { .suite = "JSONTestSuite" };
	char dir[2048];

	(void)state;
	if (!have_data("json-test-suite")) {
		printf("skipped: conformance data not present\n");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/testdata/json-test-suite/test_parsing", shared_dir());
	walk_json(&t, dir);
	report(&t);
	assert_true(t.valid > 0);
	assert_int_equal(t.changed, 0);
	assert_int_equal(t.unreadable, 0);
	assert_int_equal(t.bad_refusal, 0);
	assert_int_equal(t.accepted_invalid, 0);
}

static int setup(void **state)
{
	struct gs_buf key;

	(void)state;
	if (gs_crypto_init() || !read_all("keys/demo-age-key.txt", &key) ||
	    age_identity_list_add_text(&ids, (char *)key.data, key.len, "demo") ||
	    age_identity_recipient_string(ids.items[0], recipient, sizeof(recipient)))
		return -1;
	gs_buf_release(&key);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	age_identity_list_release(&ids);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_test_suite),
		cmocka_unit_test(test_json_test_suite),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
