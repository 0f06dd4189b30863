/* INI store: go-ini parsing rules, byte-exact round trips, go-ini output,
 * the [sops] section in both layouts, and sops's format.enc.ini and
 * format-2.enc.ini decrypted with their data keys. */
#include "test_store_util.h"
#include "gitseal/io.h"
#include "../../src/sops/sops_int.h"
#include "shared_data.h"

static void hex_key(const char *hex, uint8_t key[SOPS_DATA_KEY_SIZE])
{
	for (size_t i = 0; i < SOPS_DATA_KEY_SIZE; i++) {
		unsigned b;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		key[i] = (uint8_t)b;
	}
}

static void load_fixture(const char *rel, struct doc *d)
{
	char path[1024];
	struct gs_buf text;

	shared_data_path(path, sizeof(path), "testdata/sops/%s", rel);
	gs_buf_init(&text, false);
	assert_int_equal(gs_read_file(path, &text, 1 << 20), 0);
	doc_init(d, DOC_FORMAT_INI);
	assert_int_equal(store_load(DOC_FORMAT_INI, text.data, text.len, d), 0);
	gs_buf_release(&text);
}

static struct doc_node *val(struct doc *d, const char *sec, const char *key)
{
	return find(find(d->branches[0], sec)->value, key)->value;
}

static const char *const identity_inputs[] = {
	"",
	"[foo]\nbar = baz\n",
	"; head\ntop = 1\n[a]\n# c1\n#c2\nk: v ; inline\n\n\n[b]\nx=\"q\"\ny = 'z'\nm = \"\"\"l1\nl2\"\"\"\n",
	"[s]\r\nk = v\r\n",
	"[s]\nk = `a;b`\nc = one \\\n  two\nlast=x",
};

static void test_identity(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(identity_inputs) / sizeof(identity_inputs[0]); i++) {
		struct doc d;
		struct gs_buf out;

		load_ok(DOC_FORMAT_INI, identity_inputs[i], &d);
		emit_ok(&d, DOC_FORMAT_INI, 0, &out);
		assert_text(&out, identity_inputs[i]);
		gs_buf_release(&out);
		doc_release(&d);
	}
}

static void test_parse_rules(void **state)
{
	struct doc d;
	struct doc_node *a;

	(void)state;
	load_ok(DOC_FORMAT_INI,
		"top = 1\n"
		"; section comment\n"
		"[a]\n"
		";; key comment\n"
		"; second line\n"
		"k1 : v1 # inline\n"
		"  k2=  \"quoted \"  \n"
		"k3 = 'single'\n"
		"k4 = `raw ; value`\n"
		"k5 = \"\"\"multi\n"
		"line\"\"\"\n"
		"k6 = cont \\\n"
		"   inued\n"
		"\"k 7\" = q\n"
		"k8 =\n"
		"- = auto\n"
		"url = http://x/#frag\n",
		&d);
	assert_string_equal(val(&d, "DEFAULT", "top")->text, "1");
	a = find(d.branches[0], "a")->value;
	assert_int_equal(a->entries[0].value->kind, DOC_COMMENT);
	assert_string_equal(a->entries[0].value->text, "section comment");
	assert_string_equal(a->entries[1].value->text, "key comment\n; second line");
	assert_string_equal(val(&d, "a", "k1")->text, "v1");
	assert_string_equal(a->entries[3].value->text, "inline");
	assert_true(a->entries[3].value->inline_comment);
	assert_string_equal(val(&d, "a", "k2")->text, "quoted ");
	assert_string_equal(val(&d, "a", "k3")->text, "single");
	assert_string_equal(val(&d, "a", "k4")->text, "raw ; value");
	assert_string_equal(val(&d, "a", "k5")->text, "multi\nline");
	/* go-ini keeps the blank before the backslash */
	assert_string_equal(val(&d, "a", "k6")->text, "cont inued");
	assert_string_equal(val(&d, "a", "k 7")->text, "q");
	assert_string_equal(val(&d, "a", "k8")->text, "");
	assert_string_equal(val(&d, "a", "#1")->text, "auto");
	/* go-ini: an inline comment starts at any '#' or ';' */
	assert_string_equal(val(&d, "a", "url")->text, "http://x/");
	doc_release(&d);
	/* non-unique sections are separate mappings */
	load_ok(DOC_FORMAT_INI, "[s]\na=1\n[s]\na=2\n", &d);
	assert_int_equal(d.branches[0]->count, 2);
	doc_release(&d);
	assert_int_equal(load_err(DOC_FORMAT_INI, "[s]\nnovalue\n"), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "invalid INI at line 2: no '=' or ':' after the key");
	assert_int_equal(load_err(DOC_FORMAT_INI, "[s\n"), GS_ERR_PARSE);
	assert_int_equal(load_err(DOC_FORMAT_INI, "[]\n"), GS_ERR_PARSE);
	assert_int_equal(load_err(DOC_FORMAT_INI, "[s]\n= v\n"), GS_ERR_PARSE);
	assert_int_equal(load_err(DOC_FORMAT_INI, "[s]\na=1\na=2\n"), GS_ERR_PARSE);
	assert_int_equal(load_err(DOC_FORMAT_INI, "[s]\nm = \"\"\"open\nnever closed\n"), GS_ERR_PARSE);
}

/* Values replaced in place keep their quoting when it can hold them. */
static void test_patch(void **state)
{
	struct doc d, d2;
	struct gs_buf out;
	struct doc_node *s;

	(void)state;
	load_ok(DOC_FORMAT_INI, "[s]\n; c\na = \"x\"\nb = plain\nc = gone\nm = \"\"\"1\n2\"\"\"\n", &d);
	s = find(d.branches[0], "s")->value;
	assert_int_equal(doc_scalar_set(&d, find(s, "a")->value, DOC_STR, ENC_SAMPLE, strlen(ENC_SAMPLE)), 0);
	assert_int_equal(doc_scalar_set(&d, find(s, "b")->value, DOC_STR, "has ; semicolon", 15), 0);
	assert_int_equal(doc_scalar_set(&d, s->entries[0].value, DOC_STR, "ENC", 3), 0);
	assert_int_equal(doc_scalar_set(&d, find(s, "m")->value, DOC_STR, "one", 3), 0);
	find(s, "c")->removed = true;
	assert_non_null(doc_append(&d, s, "new", 3, doc_new_scalar(&d, DOC_STR, " sp", 3)));
	emit_ok(&d, DOC_FORMAT_INI, 0, &out);
	assert_text(&out, "[s]\n; ENC\na = \"" ENC_SAMPLE "\"\nb = `has ; semicolon`\n"
			  "m = \"\"\"one\"\"\"\nnew = \" sp\"\n");
	/* what was written reads back */
	load_ok(DOC_FORMAT_INI, (const char *)out.data, &d2);
	assert_string_equal(val(&d2, "s", "b")->text, "has ; semicolon");
	assert_string_equal(val(&d2, "s", "new")->text, " sp");
	assert_string_equal(val(&d2, "s", "a")->text, ENC_SAMPLE);
	gs_buf_release(&out);
	doc_release(&d2);
	doc_release(&d);
}

/* Appends a new entry to sec and moves it to index at. */
static void insert_at(struct doc *d, struct doc_node *sec, size_t at, const char *key, struct doc_node *v)
{
	struct doc_entry e;

	assert_non_null(doc_append(d, sec, key, key ? strlen(key) : 0, v));
	e = sec->entries[sec->count - 1];
	memmove(&sec->entries[at + 1], &sec->entries[at], (sec->count - 1 - at) * sizeof(e));
	sec->entries[at] = e;
}

/* New entries go where the tree has them: before the next line the file
 * keeps (a merge that adds a comment between two kept lines), apart from
 * the comments around them; a key not above the header. A new comment
 * takes the file's comment character ('#' after "# k"), ';' in a file
 * without comments. */
static void test_patch_inserts_in_place(void **state)
{
	static const struct {
		const char *input;
		size_t at;          /* where in section s the new entry goes */
		const char *key;    /* NULL: a comment "new" */
		const char *want;
		bool section;       /* the comment is the section's, above its header */
	} cases[] = {
		{ "[s]\n# k\nuser = x2\npass = y\n", 2, NULL, "[s]\n# k\nuser = x2\n# new\npass = y\n", false },
		{ "[s]\n# k\nuser = x2\npass = y\n", 2, "mid", "[s]\n# k\nuser = x2\nmid = v\npass = y\n", false },
		/* after and before a comment: apart from it */
		{ "[s]\nuser = x\n# k\npass = y\n", 2, NULL, "[s]\nuser = x\n# k\n\n# new\npass = y\n", false },
		{ "[s]\nuser = x\n# k\npass = y\n", 1, NULL, "[s]\nuser = x\n# new\n\n# k\npass = y\n", false },
		/* before the first entry below the header */
		{ "[s]\nuser = x\n", 0, "first", "[s]\nfirst = v\nuser = x\n", false },
		/* before a section comment above the header: a comment goes there,
		 * a key below the header (then at the end: the section's order
		 * cannot hold it, the verified write falls back) */
		{ "[t]\n\n; sc\n[s]\nuser = x\n", 0, NULL, "[t]\n\n; new\n\n; sc\n[s]\nuser = x\n", false },
		/* before an end-of-line comment: after the section's last line */
		{ "[s]\nuser = x ; c\n", 1, "k", "[s]\nuser = x ; c\nk = v\n", false },
		/* after a line cut (key "gone" removed) that stood after a comment */
		{ "[s]\n# a\ngone = 1\npass = y\n", 2, NULL, "[s]\n# a\n\n# new\npass = y\n", false },
		/* a new section comment: above the header (issue 12) */
		{ "[t]\nk = 1\n\n[s]\nuser = x\n", 0, NULL, "[t]\nk = 1\n\n; new\n[s]\nuser = x\n", true },
		{ "[t]\nk = 1\n[s]\n", 0, NULL, "[t]\nk = 1\n; new\n[s]\n", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct doc d;
		struct gs_buf out;
		struct doc_node *s, *v;

		load_ok(DOC_FORMAT_INI, cases[i].input, &d);
		s = find(d.branches[0], "s")->value;
		v = cases[i].key ? doc_new_scalar(&d, DOC_STR, "v", 1) : doc_new_comment(&d, "new", 3);
		assert_non_null(v);
		v->style = cases[i].section ? 1 : v->style; /* ini.c's INI_SECTION_COMMENT */
		insert_at(&d, s, cases[i].at, cases[i].key, v);
		if (doc_map_find(s, "gone"))
			doc_map_find(s, "gone")->removed = true;
		emit_ok(&d, DOC_FORMAT_INI, 0, &out);
		assert_text(&out, cases[i].want);
		gs_buf_release(&out);
		doc_release(&d);
	}
}

/* Comments the reader would not give back where they were (fuzz_ini):
 * after a backquoted value the rest of the line is dropped, a header ends
 * at its last ']', the reader strips a comment's leading ';' / '#' and
 * spaces, and comments before a header belong to that section. The
 * patched layout refuses what it cannot keep (one line), the fresh one
 * moves such a comment to a line of its own where it stays in place. */
static void test_comments_kept_in_place(void **state)
{
	static const char *const texts[] = { "#", ";x", "\t\x01", "\r=" };
	struct store_emit_opts fresh = { .fresh = true };
	struct doc d, back;
	struct gs_buf out;
	struct doc_node *s;
	char where[128];

	(void)state;
	/* a value that must be backquoted, with a comment after it */
	load_ok(DOC_FORMAT_INI, "[s]\nb = plain ; note\nk = v\n", &d);
	s = find(d.branches[0], "s")->value;
	assert_int_equal(doc_scalar_set(&d, find(s, "b")->value, DOC_STR, "has ; semicolon", 15), 0);
	gs_buf_init(&out, true);
	assert_int_equal(store_emit(&d, DOC_FORMAT_INI, NULL, &out), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "the value of 'b' cannot be written before its comment in an INI file");
	assert_int_equal(store_emit(&d, DOC_FORMAT_INI, &fresh, &out), 0);
	assert_text(&out, "[s]\nb = `has ; semicolon`\n; note\nk = v\n");
	gs_buf_release(&out);
	doc_release(&d);
	/* text after a backquoted value, which the reader drops: a value
	 * holding '`' stays backquoted (the reader closes at the last '`' of
	 * the line, and the dropped text holds none); one with a '`' before
	 * a line break cannot be, and rewritten in triple quotes it would
	 * close inside that text */
	load_ok(DOC_FORMAT_INI, "[s]\nk = `a` x\"\"\"y\n", &d);
	s = find(d.branches[0], "s")->value;
	assert_string_equal(find(s, "k")->value->text, "a");
	assert_int_equal(doc_scalar_set(&d, find(s, "k")->value, DOC_STR, "b`c", 3), 0);
	emit_ok(&d, DOC_FORMAT_INI, 0, &out);
	assert_text(&out, "[s]\nk = `b`c` x\"\"\"y\n");
	load_ok(DOC_FORMAT_INI, (const char *)out.data, &back);
	assert_true(doc_equal(&d, &back, where, sizeof(where)));
	doc_release(&back);
	gs_buf_reset(&out);
	assert_int_equal(doc_scalar_set(&d, find(s, "k")->value, DOC_STR, "b`\nc", 4), 0);
	assert_int_equal(store_emit(&d, DOC_FORMAT_INI, NULL, &out), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(),
			    "the value of 'k' cannot be written before the text after it in an INI file");
	assert_int_equal(store_emit(&d, DOC_FORMAT_INI, &fresh, &out), 0);
	assert_text(&out, "[s]\nk = \"\"\"b`\nc\"\"\"\n");
	gs_buf_release(&out);
	doc_release(&d);
	/* an end-of-line comment after a value that ends on a later line,
	 * given the value's quote: the value would close inside it */
	load_ok(DOC_FORMAT_INI, "[s]\nk = \"\"\"l1\nl2\"\"\" ; c\n", &d);
	s = find(d.branches[0], "s")->value;
	assert_int_equal(doc_scalar_set(&d, s->entries[1].value, DOC_STR, "x\"\"\"y", 5), 0);
	gs_buf_init(&out, true);
	assert_int_equal(store_emit(&d, DOC_FORMAT_INI, NULL, &out), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "a comment at the end of a line cannot hold this text in an INI file");
	assert_int_equal(store_emit(&d, DOC_FORMAT_INI, &fresh, &out), 0);
	assert_text(&out, "[s]\nk = \"\"\"l1\nl2\"\"\"\n; x\"\"\"y\n");
	load_ok(DOC_FORMAT_INI, (const char *)out.data, &back);
	assert_true(doc_equal(&d, &back, where, sizeof(where)));
	doc_release(&back);
	gs_buf_release(&out);
	doc_release(&d);
	/* an end-of-line comment of a header, encrypted (it holds a ']'):
	 * on a line of its own it would decrypt there, so it is refused in
	 * both layouts; one that fits stays on the header's line in both */
	for (size_t k = 0; k < 2; k++) {
		const char *const srcs[] = { "[f] ; o\nk = v\n", "[a]\nk = v\n[f] #o\n" };

		load_ok(DOC_FORMAT_INI, srcs[k], &d);
		s = find(d.branches[0], "f")->value;
		assert_int_equal(doc_scalar_set(&d, s->entries[0].value, DOC_STR, ENC_SAMPLE, strlen(ENC_SAMPLE)), 0);
		for (int f = 0; f < 2; f++) {
			gs_buf_init(&out, true);
			assert_int_equal(store_emit(&d, DOC_FORMAT_INI, f ? &fresh : NULL, &out), GS_ERR_PARSE);
			assert_string_equal(gs_error_message(), "the comment at the end of section 'f''s header cannot "
								 "stay there encrypted in an INI file: put it on a line of its own");
			gs_buf_release(&out);
		}
		assert_int_equal(doc_scalar_set(&d, s->entries[0].value, DOC_STR, "o2", 2), 0);
		emit_ok(&d, DOC_FORMAT_INI, 0, &out);
		assert_text(&out, k ? "[a]\nk = v\n[f] #o2\n" : "[f] ; o2\nk = v\n");
		gs_buf_release(&out);
		gs_buf_init(&out, true);
		assert_int_equal(store_emit(&d, DOC_FORMAT_INI, &fresh, &out), 0);
		assert_text(&out, k ? "[a]\nk = v\n\n[f] # o2\n" : "[f] ; o2\nk = v\n");
		gs_buf_release(&out);
		doc_release(&d);
	}
	/* texts that start with a comment character or white space */
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		load_ok(DOC_FORMAT_INI, "[s]\nk = v ; c\n; own\nz = 1\n", &d);
		s = find(d.branches[0], "s")->value;
		assert_int_equal(doc_scalar_set(&d, s->entries[1].value, DOC_STR, texts[i], strlen(texts[i])), 0);
		assert_int_equal(doc_scalar_set(&d, s->entries[2].value, DOC_STR, texts[i], strlen(texts[i])), 0);
		for (int f = 0; f < 2; f++) {
			gs_buf_init(&out, true);
			assert_int_equal(store_emit(&d, DOC_FORMAT_INI, f ? &fresh : NULL, &out), 0);
			load_ok(DOC_FORMAT_INI, (const char *)out.data, &back);
			if (!doc_equal(&d, &back, where, sizeof(where)))
				fail_msg("text %zu, %s layout: differs at %s\n%s", i, f ? "fresh" : "patched", where,
					 (const char *)out.data);
			gs_buf_release(&out);
			doc_release(&back);
		}
		doc_release(&d);
	}
	/* a comment that stood before [sops] ends its section: with [sops]
	 * gone it would read as the next section's */
	load_ok(DOC_FORMAT_INI, ";y\n[sops]\nversion = 1\n[s]\nk = v\n", &d);
	find(d.branches[0], "sops")->removed = true;
	gs_buf_init(&out, true);
	assert_int_equal(store_emit(&d, DOC_FORMAT_INI, NULL, &out), GS_ERR_PARSE);
	assert_string_equal(gs_error_message(), "a comment at the end of section 'DEFAULT' cannot be written in an INI file");
	gs_buf_release(&out);
	doc_release(&d);
}

/* Fresh output from another format: go-ini's layout. */
static void test_fresh(void **state)
{
	struct doc d;
	struct gs_buf out;

	(void)state;
	load_ok(DOC_FORMAT_YAML,
		"DEFAULT:\n    d: 1\nsec:\n    # about k\n    k: v\n    longer_key: \"a\\nb\"\n    h: 'x#y'\n"
		"    t: true\nempty: {}\n",
		&d);
	emit_ok(&d, DOC_FORMAT_INI, 0, &out);
	/* a comment before the first key that is not a section comment (read
	 * above an INI header) stays below the header */
	assert_text(&out, "d = 1\n\n[sec]\n; about k\nk          = v\nlonger_key = \"\"\"a\nb\"\"\"\n"
			  "h          = `x#y`\nt          = true\n\n[empty]\n");
	gs_buf_release(&out);
	doc_release(&d);
}

static const char *const enc_ini = "getsops-sops/functional-tests/res/format.enc.ini";
static const char *const enc_ini2 = "getsops-sops/functional-tests/res/format-2.enc.ini";

static void check_fixture(const char *rel, const char *hexkey)
{
	struct doc d;
	struct gs_buf out;
	uint8_t key[SOPS_DATA_KEY_SIZE];
	struct doc_node *meta, *pgp;

	hex_key(hexkey, key);
	load_fixture(rel, &d);
	meta = find(d.branches[0], "sops")->value;
	pgp = find(meta, "pgp")->value->entries[0].value;
	assert_string_equal(find(pgp, "fp")->value->text, "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4");
	/* both layouts give the armor with real newlines */
	assert_non_null(strstr(find(pgp, "enc")->value->text, "-----BEGIN PGP MESSAGE-----\n\nwcBM"));
	assert_non_null(strstr(find(pgp, "enc")->value->text, "\n-----END PGP MESSAGE-----"));
	assert_int_equal(sops_decrypt_doc_with_key(&d, key, NULL), 0);
	assert_string_equal(val(&d, "foo", "bar")->text, "baz");
	emit_ok(&d, DOC_FORMAT_INI, 0, &out);
	assert_text(&out, "[foo]\nbar = baz\n");
	gs_buf_release(&out);
	doc_release(&d);
	/* a wrong key fails the MAC or the value */
	key[31] ^= 0x80;
	load_fixture(rel, &d);
	assert_true(sops_decrypt_doc_with_key(&d, key, NULL) < 0);
	doc_release(&d);
}

static void test_fixtures(void **state)
{
	(void)state;
	check_fixture(enc_ini, "ce46fd76883106d55913ff2207e160bbeac65a71d6e1cf84c510614bed6f8ccd");
	check_fixture(enc_ini2, "200b251d35608cb3451d26d95d0f6c4580575d8f61d908b6d224fc488c65263f");
}

/* The metadata written back in the current layout: aligned, newlines
 * as \n, after one blank line. */
static void test_metadata_layout(void **state)
{
	struct doc d;
	struct gs_buf out, src;
	struct doc_node *meta;
	char path[1024];

	(void)state;
	load_fixture(enc_ini, &d);
	/* unchanged: byte for byte */
	emit_ok(&d, DOC_FORMAT_INI, 0, &out);
	shared_data_path(path, sizeof(path), "testdata/sops/%s", enc_ini);
	gs_buf_init(&src, false);
	assert_int_equal(gs_read_file(path, &src, 1 << 20), 0);
	assert_int_equal(out.len, src.len);
	assert_memory_equal(out.data, src.data, src.len);
	gs_buf_release(&out);
	doc_release(&d);
	/* format-2 (""" form) rewritten: the escaped form of format.enc.ini */
	load_fixture(enc_ini2, &d);
	meta = find(d.branches[0], "sops")->value;
	find(d.branches[0], "sops")->removed = true;
	assert_non_null(doc_append(&d, d.branches[0], "sops", 4, doc_clone(&d, meta)));
	emit_ok(&d, DOC_FORMAT_INI, 0, &out);
	assert_non_null(strstr((const char *)out.data,
			       "\n\n[sops]\nlastmodified                = 2026-05-22T20:15:23Z\n"));
	assert_non_null(strstr((const char *)out.data,
			       "pgp__list_0__map_enc        = -----BEGIN PGP MESSAGE-----\\n\\nwcBM"));
	assert_null(strstr((const char *)out.data, "\"\"\""));
	gs_buf_release(&out);
	gs_buf_release(&src);
	doc_release(&d);
}

static int setup(void **state)
{
	(void)state;
	return gs_crypto_init();
}

/* fuzz_ini: a UTF-16 mark was skipped, so a key starting with the same
 * bytes did not survive a round trip. Such input is refused now. */
static void test_utf16_refused(void **state)
{
	(void)state;
	assert_int_equal(load_err(DOC_FORMAT_INI, "\xff\xfe\xff\xfe=\xff\xff!\x97(\xff 256_"), GS_ERR_PARSE);
	assert_int_equal(load_err(DOC_FORMAT_INI, "\xfe\xff[s]\na = b\n"), GS_ERR_PARSE);
	assert_int_equal(load_err(DOC_FORMAT_INI, "\xef\xbb\xbf[s]\na = b\n"), 0);
}

/* fuzz_ini: a key that starts with those bytes is quoted when written, so
 * the file it lands in does not start like a UTF-16 one. */
static void test_key_with_bom_bytes(void **state)
{
	struct gs_buf out;
	struct doc d, again;

	(void)state;
	load_ok(DOC_FORMAT_INI, "\"\xfe\xff\xffTd\" = v\n", &d);
	gs_buf_release(&d.source); /* fresh layout */
	emit_ok(&d, DOC_FORMAT_INI, 0, &out);
	assert_int_equal(out.data[0], '`');
	load_ok(DOC_FORMAT_INI, (const char *)out.data, &again);
	doc_release(&again);
	gs_buf_release(&out);
	doc_release(&d);
}

/* fuzz_ini: two comments apart in the file stay two in the fresh layout
 * (comment lines that follow each other read back as one comment), within
 * a section and across a section header. */
static void test_fresh_comments_stay_apart(void **state)
{
	static const char *const inputs[] = { ";\n\n;", "; a\n\n# b\nk = v\n", "; a\n[s]\n; b\n\n; c\nk = v\n" };
	static const char *const fresh[] = { "; \n\n; \n", "; a\n\n; b\nk = v\n",
						 "; a\n[s]\n; b\n\n; c\nk = v\n" };

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct gs_buf out;
		struct doc d, again;

		load_ok(DOC_FORMAT_INI, inputs[i], &d);
		gs_buf_release(&d.source); /* fresh layout */
		emit_ok(&d, DOC_FORMAT_INI, 0, &out);
		assert_text(&out, fresh[i]);
		load_ok(DOC_FORMAT_INI, (const char *)out.data, &again);
		assert_true(doc_equal(&d, &again, NULL, 0));
		doc_release(&again);
		gs_buf_release(&out);
		doc_release(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_parse_rules),
		cmocka_unit_test(test_patch),
		cmocka_unit_test(test_patch_inserts_in_place),
		cmocka_unit_test(test_fresh),
		cmocka_unit_test(test_comments_kept_in_place),
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_metadata_layout),
		cmocka_unit_test(test_utf16_refused),
		cmocka_unit_test(test_key_with_bom_bytes),
		cmocka_unit_test(test_fresh_comments_stay_apart),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
