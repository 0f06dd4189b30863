/* src/k8s: stream splitting, the YAML emitter, the ciphertext index that
 * checks built resources against their verified sources, dotenv and the
 * KSOPS generator config. Trees are built by hand: no store or engine. */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitseal/secret_scan.h"
#include "../../src/k8s/k8s_int.h"

static struct doc_node *s(struct doc *d, const char *t)
{
	return doc_new_scalar(d, DOC_STR, t, strlen(t));
}

static void put(struct doc *d, struct doc_node *m, const char *k, struct doc_node *v)
{
	assert_non_null(doc_append(d, m, k, k ? strlen(k) : 0, v));
}

static void test_split(void **state)
{
	const char *t = "# head\n---\na: 1\n---\n# only a comment\n...\nb: |\n  x\n  ---not\n--- \nc: 2\n----x: 3\n--- {e: 5}\n";
	struct k8s_span *sp = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(k8s_stream_split(t, strlen(t), &sp, &n), 0);
	assert_int_equal(n, 4);
	/* a marker line's blank rest is not the document's; content after it is */
	assert_int_equal(sp[0].end - sp[0].start, strlen("a: 1\n"));
	assert_memory_equal(t + sp[0].start, "a: 1\n", sp[0].end - sp[0].start);
	assert_true(strstr(t + sp[1].start, "b: |") == t + sp[1].start);
	assert_int_equal(sp[1].end - sp[1].start, strlen("b: |\n  x\n  ---not\n"));
	assert_int_equal(sp[2].end - sp[2].start, strlen("c: 2\n----x: 3\n"));
	assert_memory_equal(t + sp[2].start, "c: 2\n----x: 3\n", sp[2].end - sp[2].start);
	assert_int_equal(sp[3].end - sp[3].start, strlen(" {e: 5}\n"));
	assert_memory_equal(t + sp[3].start, " {e: 5}\n", sp[3].end - sp[3].start);
	free(sp);
	assert_int_equal(k8s_stream_split("", 0, &sp, &n), 0);
	assert_int_equal(n, 0);
	free(sp);
}

static void test_emit(void **state)
{
	struct doc d;
	struct gs_buf out;
	struct doc_node *root, *meta, *l, *item, *empty;

	(void)state;
	doc_init(&d, DOC_FORMAT_YAML);
	gs_buf_init(&out, true);
	root = doc_new_map(&d);
	meta = doc_new_map(&d);
	l = doc_new_list(&d);
	item = doc_new_map(&d);
	empty = doc_new_map(&d);
	put(&d, root, "apiVersion", s(&d, "v1"));
	put(&d, meta, "name", s(&d, "x"));
	put(&d, root, "metadata", meta);
	put(&d, root, "port", doc_new_scalar(&d, DOC_INT, "80", 2));
	put(&d, root, "num", s(&d, "80"));
	put(&d, root, "yes", s(&d, "yes"));
	put(&d, root, "on", doc_new_scalar(&d, DOC_BOOL, "true", 4));
	put(&d, root, "q", s(&d, "a: b #c"));
	put(&d, root, "ctl", s(&d, "tab\there\x01"));
	put(&d, root, "multi", s(&d, "line1\nline2\n"));
	put(&d, root, "keep", s(&d, "x\n\n"));
	put(&d, root, "strip", s(&d, "x\ny"));
	put(&d, root, "empty", s(&d, ""));
	put(&d, root, "none", doc_new_scalar(&d, DOC_NULL, "", 0));
	put(&d, item, "k", s(&d, "v"));
	put(&d, item, "k2", s(&d, "-dash"));
	put(&d, l, NULL, item);
	put(&d, l, NULL, s(&d, "plain"));
	put(&d, root, "list", l);
	put(&d, root, "e", empty);
	put(&d, root, "a:b", s(&d, "c"));
	assert_int_equal(k8s_yaml_emit(root, &out), 0);
	assert_string_equal((char *)out.data,
			    "apiVersion: v1\n"
			    "metadata:\n  name: x\n"
			    "port: 80\n"
			    "num: \"80\"\n"
			    "\"yes\": \"yes\"\n"
			    "\"on\": true\n"
			    "q: 'a: b #c'\n"
			    "ctl: \"tab\\there\\x01\"\n"
			    "multi: |\n  line1\n  line2\n"
			    "keep: |+\n  x\n\n"
			    "strip: |-\n  x\n  y\n"
			    "empty: \"\"\n"
			    "none: null\n"
			    "list:\n- k: v\n  k2: -dash\n- plain\n"
			    "e: {}\n"
			    "a:b: c\n");
	gs_buf_release(&out);
	doc_release(&d);
}

#define ENC_A "ENC[AES256_GCM,data:AAAA,iv:aXY=,tag:dGFn,type:str]"
#define ENC_B "ENC[AES256_GCM,data:BBBB,iv:aXY=,tag:dGFn,type:int]"

/* An encrypted source, its decryption, and a "built" resource as
 * kustomize would write it (renamed, labelled, keys re-ordered). */
static void build_source(struct doc *d, struct doc_node **enc, struct doc_node **dec)
{
	struct doc_node *e = doc_new_map(d), *p = doc_new_map(d);
	struct doc_node *ed = doc_new_map(d), *pd = doc_new_map(d), *sops = doc_new_map(d);
	struct doc_entry *se;

	put(d, ed, "password", s(d, ENC_A));
	put(d, ed, "port", s(d, ENC_B));
	put(d, e, "kind", s(d, "Secret"));
	put(d, e, "stringData", ed);
	put(d, sops, "mac", s(d, "ENC[mac]"));
	put(d, e, "sops", sops);
	put(d, pd, "password", s(d, "hunter2"));
	put(d, pd, "port", doc_new_scalar(d, DOC_INT, "5432", 4));
	put(d, p, "kind", s(d, "Secret"));
	put(d, p, "stringData", pd);
	se = doc_append(d, p, "sops", 4, doc_new_map(d));
	se->removed = true; /* as sops_decrypt_doc leaves it */
	*enc = e;
	*dec = p;
}

static void test_index_and_decrypt(void **state)
{
	struct doc d;
	struct doc_node *enc, *dec, *built, *sd, *meta, *ann, *sops;
	struct k8s_cipher_index ix;
	char bad[128];

	(void)state;
	doc_init(&d, DOC_FORMAT_YAML);
	build_source(&d, &enc, &dec);
	k8s_cipher_index_init(&ix);
	assert_int_equal(k8s_cipher_index_add(&ix, enc, dec), 0);
	assert_int_equal(ix.count, 2);

	built = doc_new_map(&d);
	meta = doc_new_map(&d);
	ann = doc_new_map(&d);
	sd = doc_new_map(&d);
	sops = doc_new_map(&d);
	put(&d, ann, K8S_ORIGIN_ANNOTATION, s(&d, "path: ../src/secret.yaml\n"));
	put(&d, meta, "annotations", ann);
	put(&d, meta, "name", s(&d, "pre-db"));
	put(&d, built, "kind", s(&d, "Secret"));
	put(&d, built, "metadata", meta);
	put(&d, sops, "mac", s(&d, "ENC[mac]"));
	put(&d, built, "sops", sops);
	put(&d, sd, "port", s(&d, ENC_B));
	put(&d, sd, "password", s(&d, ENC_A));
	put(&d, built, "stringData", sd);

	/* the origin annotation is the build's own: kept, never trusted */
	k8s_resource_strip_sops(built);
	assert_null(doc_map_find(built, "sops"));
	assert_non_null(doc_map_find(ann, K8S_ORIGIN_ANNOTATION));
	assert_int_equal(k8s_resource_decrypt(&d, built, &ix, bad, sizeof(bad)), 0);
	assert_string_equal(sd->entries[1].value->text, "hunter2");
	assert_int_equal(sd->entries[0].value->type, DOC_INT);
	assert_string_equal(sd->entries[0].value->text, "5432");

	/* a ciphertext moved to another key is refused, naming the key path */
	assert_int_equal(doc_scalar_set(&d, sd->entries[1].value, DOC_STR, ENC_B, strlen(ENC_B)), 0);
	assert_int_equal(k8s_resource_decrypt(&d, built, &ix, bad, sizeof(bad)), GS_ERR_MAC_MISMATCH);
	assert_string_equal(bad, "stringData:password");
	assert_null(strstr(gs_error_message(), "hunter2"));
	/* and so is a ciphertext that is not in the source at all */
	assert_int_equal(doc_scalar_set(&d, sd->entries[1].value, DOC_STR,
					"ENC[AES256_GCM,data:CCCC,iv:x,tag:y,type:str]", 45), 0);
	assert_int_equal(k8s_resource_decrypt(&d, built, &ix, bad, sizeof(bad)), GS_ERR_MAC_MISMATCH);
	/* the right ciphertext carrying a tag (outside every MAC) is refused */
	assert_int_equal(doc_scalar_set(&d, sd->entries[1].value, DOC_STR, ENC_A, strlen(ENC_A)), 0);
	assert_int_equal(doc_node_set_tag(&d, sd->entries[1].value, "tag:yaml.org,2002:binary"), 0);
	assert_int_equal(k8s_resource_decrypt(&d, built, &ix, bad, sizeof(bad)), GS_ERR_MAC_MISMATCH);
	assert_string_equal(bad, "stringData:password");
	assert_non_null(strstr(gs_error_message(), "carries a YAML tag"));
	k8s_cipher_index_release(&ix);
	doc_release(&d);
}

static void test_index_paths_exact(void **state)
{
	struct doc d;
	struct doc_node *e = NULL, *p = NULL, *a1, *a2;
	struct k8s_cipher_index ix;

	(void)state;
	doc_init(&d, DOC_FORMAT_YAML);
	/* {"a:b": ENC} and {a: {b: ENC}} must not be the same path */
	e = doc_new_map(&d);
	p = doc_new_map(&d);
	put(&d, e, "a:b", s(&d, ENC_A));
	put(&d, p, "a:b", s(&d, "v"));
	k8s_cipher_index_init(&ix);
	assert_int_equal(k8s_cipher_index_add(&ix, e, p), 0);
	a1 = doc_new_map(&d);
	a2 = doc_new_map(&d);
	put(&d, a2, "b", s(&d, ENC_A));
	put(&d, a1, "a", a2);
	char bad[64];

	assert_int_equal(k8s_resource_decrypt(&d, a1, &ix, bad, sizeof(bad)), GS_ERR_MAC_MISMATCH);
	/* shapes that differ are an error, not a silent partial index */
	put(&d, p, "extra", s(&d, "x"));
	assert_int_equal(k8s_cipher_index_add(&ix, e, p), GS_ERR_PARSE);
	k8s_cipher_index_release(&ix);
	doc_release(&d);
}

/* env: [{name: A, value: ENC_A}], args: [p, ENC_B] as a source and as
 * built: a named element is bound by its name, another by its position. */
static struct doc_node *list_doc(struct doc *d, const char *first_env, const char *name, const char *value,
				 const char *arg0, const char *arg1)
{
	struct doc_node *root = doc_new_map(d), *env = doc_new_list(d), *args = doc_new_list(d);
	struct doc_node *var = doc_new_map(d);

	if (first_env) {
		struct doc_node *other = doc_new_map(d);

		put(d, other, "name", s(d, first_env));
		put(d, other, "value", s(d, "x"));
		put(d, env, NULL, other);
	}
	put(d, var, "name", s(d, name));
	put(d, var, "value", s(d, value));
	put(d, env, NULL, var);
	put(d, args, NULL, s(d, arg0));
	put(d, args, NULL, s(d, arg1));
	put(d, root, "env", env);
	put(d, root, "args", args);
	return root;
}

static void test_index_list_elements(void **state)
{
	struct doc d;
	struct k8s_cipher_index ix;
	char bad[64];

	(void)state;
	doc_init(&d, DOC_FORMAT_YAML);
	k8s_cipher_index_init(&ix);
	assert_int_equal(k8s_cipher_index_add(&ix, list_doc(&d, NULL, "A", ENC_A, "p", ENC_B),
					      list_doc(&d, NULL, "A", "hunter2", "p", "5432")), 0);
	/* an element merged in before: positions move, the name holds */
	assert_int_equal(k8s_resource_decrypt(&d, list_doc(&d, "X", "A", ENC_A, "p", ENC_B), &ix, bad,
					      sizeof(bad)), 0);
	/* the element holding it renamed */
	assert_int_equal(k8s_resource_decrypt(&d, list_doc(&d, NULL, "Z", ENC_A, "p", ENC_B), &ix, bad,
					      sizeof(bad)), GS_ERR_MAC_MISMATCH);
	assert_string_equal(bad, "env:[name=Z]:value");
	/* an element without a name moved */
	assert_int_equal(k8s_resource_decrypt(&d, list_doc(&d, NULL, "A", ENC_A, ENC_B, "p"), &ix, bad,
					      sizeof(bad)), GS_ERR_MAC_MISMATCH);
	assert_string_equal(bad, "args:[0]");
	k8s_cipher_index_release(&ix);
	doc_release(&d);
}

/* A v1 Secret or another resource: data {TOKEN}, stringData
 * {deeper: {inner}}, an annotation and a list of two. */
static struct doc_node *tracked_resource(struct doc *d, const char *api, const char *kind,
					 const char *data_value, const char *annotation)
{
	struct doc_node *root = doc_new_map(d), *meta = doc_new_map(d), *ann = doc_new_map(d);
	struct doc_node *data = doc_new_map(d), *list = doc_new_list(d);
	struct doc_node *string_data = doc_new_map(d), *deeper = doc_new_map(d);

	put(d, root, "apiVersion", s(d, api));
	put(d, root, "kind", s(d, kind));
	put(d, ann, "note", s(d, annotation));
	put(d, meta, "annotations", ann);
	put(d, meta, "name", s(d, "web"));
	put(d, root, "metadata", meta);
	put(d, data, "TOKEN", s(d, data_value));
	put(d, root, "data", data);
	put(d, list, NULL, s(d, "first"));
	put(d, list, NULL, s(d, "second"));
	put(d, root, "args", list);
	put(d, deeper, "inner", s(d, "pub"));
	put(d, string_data, "deeper", deeper);
	put(d, root, "stringData", string_data);
	return root;
}

static const char *const track_msg = "holds a value decrypted for the build: only a v1 Secret's data "
				     "and stringData may (a value also meant to be public: keep it in "
				     "clear in the sops file)";

static void assert_tracked_at(struct gs_secret_set *set, const struct doc_node *root, const char *where)
{
	char want[512];

	snprintf(want, sizeof(want), "%s %s", where, track_msg);
	assert_int_equal(k8s_track_check(set, root), GS_ERR_CONFIG);
	assert_string_equal(gs_error_message(), want);
}

/* Values handed to kustomize may stay among a v1 Secret's data and
 * stringData values only; anywhere else the field is named, never the
 * value. */
static void test_track(void **state)
{
	const char *env = "\xef\xbb\xbf # c\n  A=quoted-\"x\" \r\nB\nC=tok-SECRET-999\nD=kept-clear\n";
	struct gs_secret_set *set;
	struct doc_node *root, *deeper, *cipher_env;
	struct doc d;

	(void)state;
	doc_init(&d, DOC_FORMAT_YAML);
	assert_int_equal(gs_secret_set_new(&set), 0);
	root = tracked_resource(&d, "v1", "Secret", "c2VjcmV0LXRva2Vu", "public");
	assert_int_equal(k8s_track_check(set, root), 0); /* nothing followed */
	/* only what was ciphertext in the sops file is followed */
	assert_int_equal(k8s_track_secret(set, root, tracked_resource(&d, "v1", "Secret", "public-in-clear",
								       "x")), 0);
	assert_int_equal(gs_secret_set_count(set), 0);
	assert_int_equal(k8s_track_secret(set, root, tracked_resource(&d, "v1", "Secret", "ENC[AES256_GCM,x]",
								       "x")), 0);
	/* kustomize's reading of env lines: A's quotes and blank kept, B
	 * none, D kept in clear by the sops file */
	cipher_env = doc_new_map(&d);
	put(&d, cipher_env, "A", s(&d, "ENC[AES256_GCM,a]"));
	put(&d, cipher_env, "C", s(&d, "ENC[AES256_GCM,c]"));
	put(&d, cipher_env, "D", s(&d, "kept-clear"));
	assert_int_equal(k8s_track_env_lines(set, env, strlen(env), cipher_env), 0);
	assert_int_equal(gs_secret_set_count(set), 3);
	assert_false(k8s_track_holds(set, "kept-clear"));
	assert_true(k8s_track_holds(set, "a quoted-\"x\" !"));
	assert_false(k8s_track_holds(set, "quoted-\"x\"!"));
	assert_true(k8s_track_holds(set, "[c2VjcmV0LXRva2Vu]"));
	assert_false(k8s_track_holds(set, "web"));
	assert_false(k8s_track_holds(set, NULL));
	assert_int_equal(k8s_track_check(set, root), 0);

	root = tracked_resource(&d, "v1", "Secret", "x", "tok-SECRET-999");
	assert_tracked_at(set, root, "'metadata:annotations:note'");
	/* in data, but of a ConfigMap, or of a Secret of another group */
	assert_tracked_at(set, tracked_resource(&d, "v1", "ConfigMap", "tok-SECRET-999", "x"), "'data:TOKEN'");
	assert_tracked_at(set, tracked_resource(&d, "exfil.example.com/v1", "Secret", "dG9rLVNFQ1JFVC05OTk=", "x"),
			  "'data:TOKEN'");
	/* a list element, a key, a map below stringData (no value of a Secret) */
	root = tracked_resource(&d, "v1", "Secret", "x", "x");
	root->entries[4].value->entries[1].value = s(&d, "quoted-\"x\" ");
	assert_tracked_at(set, root, "'args:[1]'");
	root = tracked_resource(&d, "v1", "Secret", "x", "x");
	root->entries[2].value->entries[0].value->entries[0].key = (char *)"tok-SECRET-999";
	root->entries[2].value->entries[0].value->entries[0].key_len = strlen("tok-SECRET-999");
	assert_tracked_at(set, root, "a key in 'metadata:annotations'");
	root = tracked_resource(&d, "v1", "Secret", "x", "x");
	deeper = root->entries[5].value->entries[0].value;
	deeper->entries[0].value = s(&d, "tok-SECRET-999");
	assert_tracked_at(set, root, "'stringData:deeper:inner'");
	gs_error_clear();
	gs_secret_set_free(set);
	doc_release(&d);
}

static void test_dotenv(void **state)
{
	const char *t = "# c\nexport A=1\nB = two words # note\nC=\"x\\ny\"\nD='lit\\n'\n\nA=again\nE=\n";
	struct doc d;
	struct doc_node *m;

	(void)state;
	doc_init(&d, DOC_FORMAT_DOTENV);
	m = doc_new_map(&d);
	assert_int_equal(k8s_dotenv_parse(&d, m, t, strlen(t)), 0);
	assert_int_equal(m->count, 5);
	assert_string_equal(m->entries[0].key, "A");
	assert_string_equal(m->entries[0].value->text, "again");
	assert_string_equal(m->entries[1].value->text, "two words");
	assert_string_equal(m->entries[2].value->text, "x\ny");
	assert_string_equal(m->entries[3].value->text, "lit\\n");
	assert_string_equal(m->entries[4].value->text, "");
	assert_int_equal(k8s_dotenv_parse(&d, m, "NOEQUALS\n", 9), GS_ERR_PARSE);
	assert_null(strstr(gs_error_message(), "NOEQUALS"));
	assert_int_equal(k8s_dotenv_parse(&d, m, "X=\"open\n", 8), GS_ERR_PARSE);
	doc_release(&d);
}

static void test_generator_config(void **state)
{
	struct doc d;
	struct doc_node *cfg, *files, *sf, *item, *meta, *bf;
	struct k8s_generator g;
	char *key, *path;

	(void)state;
	doc_init(&d, DOC_FORMAT_YAML);
	cfg = doc_new_map(&d);
	files = doc_new_list(&d);
	sf = doc_new_list(&d);
	item = doc_new_map(&d);
	meta = doc_new_map(&d);
	bf = doc_new_list(&d);
	put(&d, cfg, "apiVersion", s(&d, "viaduct.ai/v1"));
	put(&d, cfg, "kind", s(&d, "ksops"));
	assert_true(k8s_generator_kind_ok(cfg));
	assert_int_equal(k8s_generator_parse(cfg, &g), GS_ERR_CONFIG);
	put(&d, files, NULL, s(&d, "./a.enc.yaml"));
	put(&d, files, NULL, s(&d, "b.enc.yaml"));
	put(&d, cfg, "files", files);
	put(&d, meta, "name", s(&d, "generated"));
	put(&d, item, "metadata", meta);
	put(&d, item, "type", s(&d, "Opaque"));
	put(&d, bf, NULL, s(&d, "cert=./tls.enc"));
	put(&d, item, "binaryFiles", bf);
	put(&d, sf, NULL, item);
	put(&d, cfg, "secretFrom", sf);
	assert_int_equal(k8s_generator_parse(cfg, &g), 0);
	assert_int_equal(g.files->count, 2);
	assert_int_equal(g.secret_from_count, 1);
	assert_string_equal(g.secret_from[0].type, "Opaque");
	assert_ptr_equal(g.secret_from[0].binary_files, bf);
	assert_null(g.secret_from[0].envs);
	k8s_generator_release(&g);

	put(&d, bf, NULL, doc_new_map(&d));
	assert_int_equal(k8s_generator_parse(cfg, &g), GS_ERR_CONFIG);

	assert_int_equal(k8s_file_key_path("dir/x.enc.yaml", &key, &path), 0);
	assert_string_equal(key, "x.enc.yaml");
	assert_string_equal(path, "dir/x.enc.yaml");
	free(key);
	free(path);
	assert_int_equal(k8s_file_key_path("k=dir/x", &key, &path), 0);
	assert_string_equal(key, "k");
	assert_string_equal(path, "dir/x");
	free(key);
	free(path);
	assert_int_equal(k8s_file_key_path("a=b=c", &key, &path), GS_ERR_CONFIG);

	cfg = doc_new_map(&d);
	put(&d, cfg, "apiVersion", s(&d, "gitseal.dev/v1"));
	put(&d, cfg, "kind", s(&d, "SecretGenerator"));
	assert_true(k8s_generator_kind_ok(cfg));
	cfg = doc_new_map(&d);
	put(&d, cfg, "apiVersion", s(&d, "v1"));
	put(&d, cfg, "kind", s(&d, "ksops"));
	assert_false(k8s_generator_kind_ok(cfg));
	doc_release(&d);
}


static void test_emit_scalars_and_tags(void **state)
{
	static const char *const quoted[] = { "12", "-1.5e3", "0x1F", "0o17", "1_000", "1:20", ".5",
					      "2024-01-01", "TRUE", "~", "Null" };
	static const char *const plain[] = { "1f2d1e2e67df", "1.2.3", "v1", "0xZZ", "e5", "-x", "a-b" };
	struct doc d;
	struct gs_buf out;

	(void)state;
	doc_init(&d, DOC_FORMAT_YAML);
	gs_buf_init(&out, true);
	for (size_t i = 0; i < sizeof(quoted) / sizeof(quoted[0]); i++) {
		struct doc_node *m = doc_new_map(&d);

		put(&d, m, "k", s(&d, quoted[i]));
		gs_buf_reset(&out);
		assert_int_equal(k8s_yaml_emit_verified(m, &out), 0);
		if (!strchr((char *)out.data, '"'))
			fail_msg("not quoted: %s", (char *)out.data);
	}
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		struct doc_node *m = doc_new_map(&d);

		put(&d, m, "k", s(&d, plain[i]));
		gs_buf_reset(&out);
		assert_int_equal(k8s_yaml_emit_verified(m, &out), 0);
		if (strchr((char *)out.data, '"'))
			fail_msg("quoted: %s", (char *)out.data);
	}
	/* tags are data: written, and read back by the store (doc_equal
	 * compares them) */
	struct doc_node *m = doc_new_map(&d), *b = s(&d, "aGVsbG8="), *l = doc_new_map(&d);
	struct doc_node *tl = doc_new_list(&d), *tm = doc_new_map(&d);

	assert_int_equal(doc_node_set_tag(&d, b, "tag:yaml.org,2002:binary"), 0);
	assert_int_equal(doc_node_set_tag(&d, l, "!local"), 0);
	assert_int_equal(doc_node_set_tag(&d, tm, "!item"), 0);
	put(&d, l, "a", s(&d, "b"));
	put(&d, tm, "c", s(&d, "d"));
	put(&d, tl, NULL, tm);
	put(&d, m, "blob", b);
	put(&d, m, "map", l);
	put(&d, m, "list", tl);
	gs_buf_reset(&out);
	assert_int_equal(k8s_yaml_emit_verified(m, &out), 0);
	assert_string_equal((char *)out.data,
			    "blob: !!binary aGVsbG8=\nmap: !local\n  a: b\nlist:\n- !item\n  c: d\n");
	gs_buf_release(&out);
	doc_release(&d);
}

/* Multi-line strings as literal blocks wherever they sit (an indentation
 * indicator when they start with a space), keys past 128 bytes as
 * explicit keys, floats that read back as floats: each proven. */
static void test_emit_blocks_keys_floats(void **state)
{
	static const char *const texts[] = { "a\nb\n", " lead\nx\n", "\nfirst break\n", "x\n\n\n",
					     "trail \nx", "tab\tin\nline\n", "no end\nbreak" };
	char key[200];
	struct doc d;
	struct gs_buf out;

	(void)state;
	doc_init(&d, DOC_FORMAT_YAML);
	gs_buf_init(&out, true);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct doc_node *m = doc_new_map(&d), *l = doc_new_list(&d), *inner = doc_new_map(&d);

		put(&d, m, "k", s(&d, texts[i]));
		put(&d, l, NULL, s(&d, texts[i]));
		put(&d, inner, "k", s(&d, texts[i]));
		put(&d, l, NULL, inner);
		put(&d, m, "l", l);
		gs_buf_reset(&out);
		if (k8s_yaml_emit_verified(m, &out))
			fail_msg("text %zu: %s", i, gs_error_message());
	}
	gs_buf_reset(&out);
	{
		struct doc_node *m = doc_new_map(&d);

		put(&d, m, "k", s(&d, "a\nb\n"));
		assert_int_equal(k8s_yaml_emit_verified(m, &out), 0);
		assert_string_equal((char *)out.data, "k: |\n  a\n  b\n");
	}
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	{
		struct doc_node *m = doc_new_map(&d);

		put(&d, m, key, s(&d, "v"));
		put(&d, m, "f", doc_new_scalar(&d, DOC_FLOAT, "3", 1));
		put(&d, m, "g", doc_new_scalar(&d, DOC_FLOAT, "1.5", 3));
		put(&d, m, "n", doc_new_scalar(&d, DOC_FLOAT, "-Inf", 4));
		gs_buf_reset(&out);
		assert_int_equal(k8s_yaml_emit_verified(m, &out), 0);
		assert_non_null(strstr((char *)out.data, "? kkk"));
		assert_non_null(strstr((char *)out.data, "\n: v\nf: 3.0\ng: 1.5\n\"n\": -.inf\n"));
	}
	gs_buf_release(&out);
	doc_release(&d);
}

/* A failed proof leaves the output as it was. */
static void test_emit_verified_keeps_nothing_unproven(void **state)
{
	struct doc d;
	struct gs_buf out;
	struct doc_node *m;

	(void)state;
	doc_init(&d, DOC_FORMAT_YAML);
	gs_buf_init(&out, true);
	assert_int_equal(gs_buf_append_str(&out, "kept\n"), 0);
	m = doc_new_map(&d);
	/* an int whose text is no number reads back as a string */
	put(&d, m, "a", s(&d, "x"));
	put(&d, m, "b", doc_new_scalar(&d, DOC_INT, "abc", 3));
	assert_int_not_equal(k8s_yaml_emit_verified(m, &out), 0);
	assert_int_equal(out.len, 5);
	assert_string_equal((char *)out.data, "kept\n");
	gs_buf_release(&out);
	doc_release(&d);
}

static void test_path_clean(void **state)
{
	char out[64];
	char *j;

	(void)state;
	assert_int_equal(k8s_path_clean("a/./b//../c", out, sizeof(out)), 0);
	assert_string_equal(out, "a/c");
	assert_int_equal(k8s_path_clean("a/..", out, sizeof(out)), 0);
	assert_string_equal(out, ".");
	assert_int_equal(k8s_path_clean("a/../..", out, sizeof(out)), GS_ERR_USAGE);
	assert_int_equal(k8s_path_clean("/etc/passwd", out, sizeof(out)), GS_ERR_USAGE);
	assert_int_equal(k8s_path_clean("./a//b/.", out, sizeof(out)), 0);
	assert_string_equal(out, "a/b");
	assert_int_equal(k8s_path_clean("a/b/c", out, 5), GS_ERR_LIMIT);
	assert_int_equal(k8s_path_clean("a/b/c", out, 6), 0);
	assert_string_equal(out, "a/b/c");
	j = k8s_rel_join("overlays/prod", "../../base");
	assert_string_equal(j, "base");
	free(j);
	assert_null(k8s_rel_join("overlays/prod", "../../../x"));
	assert_non_null(strstr(gs_error_message(), "leads outside the root"));
	assert_null(k8s_rel_join(".", "/abs"));
	assert_non_null(strstr(gs_error_message(), "absolute paths are not allowed"));
}

/* The root: --root, the nearest .git, Argo CD's _cmp_server/<uuid>, or
 * what ARGOCD_APP_SOURCE_PATH leaves; reads never leave it. */
static void test_root(void **state)
{
	char tmpl[] = "/tmp/test_k8s.XXXXXX", p[1024], *rel = NULL;
	struct k8s_root r;
	struct gs_buf b;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(p, sizeof(p), "mkdir -p %s/repo/.git %s/repo/apps/x %s/_cmp_server/1234/apps/y "
			       "%s/plain/a/b && echo hi >%s/repo/apps/x/f && ln -s ../../../repo/apps/x/f "
			       "%s/_cmp_server/1234/apps/y/link", tmpl, tmpl, tmpl, tmpl, tmpl, tmpl);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/repo/apps/x", tmpl);
	assert_int_equal(k8s_root_open_for(p, NULL, &r, &rel), 0);
	assert_string_equal(rel, "apps/x");
	assert_non_null(strstr(r.path, "/repo"));
	gs_buf_init(&b, false);
	assert_int_equal(k8s_root_read(&r, "apps/x/f", &b, 100), 0);
	assert_string_equal((char *)b.data, "hi\n");
	k8s_root_release(&r);
	free(rel);
	/* Argo CD's checkout: the link leads outside it */
	snprintf(p, sizeof(p), "%s/_cmp_server/1234/apps/y", tmpl);
	assert_int_equal(k8s_root_open_for(p, NULL, &r, &rel), 0);
	assert_string_equal(rel, "apps/y");
	if (k8s_root_open(&r, "apps/y/link", O_RDONLY, &fd) != GS_ERR_USAGE)
		fail_msg("%s", gs_error_message());
	assert_non_null(strstr(gs_error_message(), "leads outside the root"));
	k8s_root_release(&r);
	free(rel);
	/* no marker: ARGOCD_APP_SOURCE_PATH, else the directory itself */
	snprintf(p, sizeof(p), "%s/plain/a/b", tmpl);
	setenv("ARGOCD_APP_SOURCE_PATH", "a/b", 1);
	assert_int_equal(k8s_root_open_for(p, NULL, &r, &rel), 0);
	assert_string_equal(rel, "a/b");
	k8s_root_release(&r);
	free(rel);
	unsetenv("ARGOCD_APP_SOURCE_PATH");
	assert_int_equal(k8s_root_open_for(p, NULL, &r, &rel), 0);
	assert_string_equal(rel, ".");
	k8s_root_release(&r);
	free(rel);
	/* --root must contain the directory */
	snprintf(p, sizeof(p), "%s/plain", tmpl);
	if (k8s_root_open_for(p, "/usr", &r, &rel) != GS_ERR_USAGE)
		fail_msg("%s", gs_error_message());
	gs_buf_release(&b);
	snprintf(p, sizeof(p), "rm -rf %s", tmpl);
	assert_int_equal(system(p), 0);
}

/* ---- prefetch ---- */

enum { PF_ITEMS = 200, PF_AHEAD = 4, PF_STOP_AT = 37 };

struct pf_ctx {
	_Atomic int prepared[PF_ITEMS];
	_Atomic size_t consumed;
	_Atomic int too_far;     /* an item prepared `ahead` or more past the one in use */
	_Atomic int off_thread;  /* items prepared on another thread */
	pthread_t caller;
	bool wait_for_other;
	size_t order[PF_ITEMS];
	size_t stop_at;
};

static void pf_prepare(void *ctx, size_t item)
{
	struct pf_ctx *c = ctx;

	if (item >= c->consumed + PF_AHEAD)
		c->too_far++;
	if (!pthread_equal(pthread_self(), c->caller))
		c->off_thread++;
	/* with a second CPU the caller's first item waits (up to 2 s) for the
	 * other thread to take one: a loaded machine may be slow to run it */
	for (int i = 0; c->wait_for_other && !c->off_thread && i < 2000; i++)
		usleep(1000);
	usleep(100 + (item % 3) * 100);
	c->prepared[item]++;
}

static int pf_consume(void *ctx, size_t item)
{
	struct pf_ctx *c = ctx;

	assert_int_equal(c->prepared[item], 1); /* prepared, once, before it is used */
	assert_true(pthread_equal(pthread_self(), c->caller));
	c->order[c->consumed] = item;
	c->consumed++;
	return item == c->stop_at ? GS_ERR_VERIFY : 0;
}

static void test_prefetch(void **state)
{
	static const struct k8s_prefetch_ops ops = { pf_prepare, pf_consume };
	static struct pf_ctx c;
	size_t prepared = 0;
	cpu_set_t cpus;

	(void)state;
	/* every item prepared once and consumed in order, on the caller's thread */
	memset(&c, 0, sizeof(c));
	c.caller = pthread_self();
	c.stop_at = SIZE_MAX;
	c.wait_for_other = !sched_getaffinity(0, sizeof(cpus), &cpus) && CPU_COUNT(&cpus) >= 2;
	assert_int_equal(k8s_prefetch_run(PF_ITEMS, PF_AHEAD, &ops, &c), 0);
	assert_int_equal(c.consumed, PF_ITEMS);
	for (size_t i = 0; i < PF_ITEMS; i++) {
		assert_int_equal(c.order[i], i);
		assert_int_equal(c.prepared[i], 1);
	}
	assert_int_equal(c.too_far, 0);
	if (c.wait_for_other)
		assert_true(c.off_thread > 0);
	/* a failing consume stops the run: its code back, nothing consumed after
	 * it, nothing prepared beyond the window */
	memset(&c, 0, sizeof(c));
	c.caller = pthread_self();
	c.stop_at = PF_STOP_AT;
	assert_int_equal(k8s_prefetch_run(PF_ITEMS, PF_AHEAD, &ops, &c), GS_ERR_VERIFY);
	assert_int_equal(c.consumed, PF_STOP_AT + 1);
	for (size_t i = 0; i < PF_ITEMS; i++) {
		assert_true(c.prepared[i] <= 1);
		prepared += (size_t)c.prepared[i];
		if (c.prepared[i])
			assert_true(i < PF_STOP_AT + PF_AHEAD);
	}
	assert_true(prepared >= PF_STOP_AT + 1);
	assert_int_equal(c.too_far, 0);
	/* one item and none: no thread, the same contract */
	memset(&c, 0, sizeof(c));
	c.caller = pthread_self();
	c.stop_at = SIZE_MAX;
	assert_int_equal(k8s_prefetch_run(1, PF_AHEAD, &ops, &c), 0);
	assert_int_equal(c.consumed, 1);
	assert_int_equal(c.off_thread, 0);
	assert_int_equal(k8s_prefetch_run(0, PF_AHEAD, &ops, &c), 0);
	assert_int_equal(c.consumed, 1);
}

/* kustomize's name hash suffix: '-' and 10 characters of its encoding
 * of hex (0 1 3 a e written g h k m t). */
static void test_name_hash_base(void **state)
{
	(void)state;
	assert_int_equal(k8s_name_hash_base("gen-24g4ckt4m9"), 3);
	assert_int_equal(k8s_name_hash_base("p-gen-x-24g4ckt4m9"), 7);
	assert_int_equal(k8s_name_hash_base("-bcdfghkmt2"), 0);    /* nothing before it */
	assert_int_equal(k8s_name_hash_base("gen-24g4ckt4m"), 0);
	assert_int_equal(k8s_name_hash_base("gen-24g4ckt4m0"), 0); /* 0 is written g */
	assert_int_equal(k8s_name_hash_base("gen-24g4cKt4m9"), 0);
	assert_int_equal(k8s_name_hash_base("gen_24g4ckt4m9"), 0);
	assert_int_equal(k8s_name_hash_base("db-credentials"), 0);
	assert_int_equal(k8s_name_hash_base(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_emit),
		cmocka_unit_test(test_index_and_decrypt),
		cmocka_unit_test(test_index_paths_exact),
		cmocka_unit_test(test_index_list_elements),
		cmocka_unit_test(test_track),
		cmocka_unit_test(test_dotenv),
		cmocka_unit_test(test_generator_config),
		cmocka_unit_test(test_emit_scalars_and_tags),
		cmocka_unit_test(test_emit_blocks_keys_floats),
		cmocka_unit_test(test_emit_verified_keeps_nothing_unproven),
		cmocka_unit_test(test_path_clean),
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_prefetch),
		cmocka_unit_test(test_name_hash_base),
	};

	if (gs_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
