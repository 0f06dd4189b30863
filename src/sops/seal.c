/* The file pipeline, writing side: sealing (encrypt -> emit -> prove) and
 * the proven plaintext emission. To prove bytes is to load them again with
 * the store that will read them and compare the trees with doc_equal(),
 * the one oracle; sealed bytes are also decrypted with the data key in
 * hand first, so what is proven is what a reader will get. When the
 * file's own layout does not prove, the fresh layout (the one sops
 * writes) is tried; when that does not either, nothing is returned. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/store.h"
#include "sops_int.h"

/* ---- comparing as data ---- */

static bool format_has_comments(enum doc_format f)
{
	return f == DOC_FORMAT_YAML || f == DOC_FORMAT_DOTENV || f == DOC_FORMAT_INI;
}

/* dotenv and INI values are text: a converted value reads back as a string */
static bool format_has_types(enum doc_format f)
{
	return f != DOC_FORMAT_DOTENV && f != DOC_FORMAT_INI;
}

/* Only YAML has tags (!!binary, !local) */
static bool format_has_tags(enum doc_format f)
{
	return f == DOC_FORMAT_YAML;
}

/* A value as text: an int is written as sops writes it (a YAML spelling
 * such as "+5" as 5: the dotenv and INI stores, store_int_canonical). */
static int untype_scalar(struct doc *d, struct doc_node *n)
{
	char num[STORE_INT_TEXT_MAX];
	size_t len;
	int ret = 0;

	if (n->type == DOC_INT && (ret = store_int_canonical(n->text, n->len, num, &len)) == 0)
		ret = doc_scalar_set(d, n, DOC_STR, num, len);
	sodium_memzero(num, sizeof(num));
	n->type = DOC_STR;
	return ret;
}

/* What a comparison leaves out: what the output's store cannot hold. */
struct normal_form {
	bool drop_comments, drop_types, drop_tags;
	bool times_as_text; /* plaintext: every store reads a time back as its text */
};

/* Recursion is bounded by the stores' nesting limit (STORE_MAX_DEPTH). */
static int normalize_node(struct doc *d, struct doc_node *n, const struct normal_form *f)
{
	int ret = 0;

	if (n->kind == DOC_SCALAR && f->drop_types && (ret = untype_scalar(d, n)) < 0)
		return ret;
	if (n->kind == DOC_SCALAR && n->type == DOC_TIME && f->times_as_text)
		n->type = DOC_STR;
	if (f->drop_tags)
		n->tag = NULL;
	for (size_t i = 0; !ret && i < n->count; i++) {
		struct doc_entry *e = &n->entries[i];

		if (e->value->kind == DOC_COMMENT && f->drop_comments)
			e->removed = true;
		else
			ret = normalize_node(d, e->value, f);
	}
	return ret;
}

/* A copy of the nodes as a store of format can hold them. */
static int normalized_copy(struct doc *dst, const struct doc_node *const *roots, size_t count,
			   enum doc_format format, bool drop_types, bool times_as_text)
{
	const struct normal_form f = { .drop_comments = !format_has_comments(format), .drop_types = drop_types,
				       .drop_tags = !format_has_tags(format), .times_as_text = times_as_text };
	int ret = 0;

	for (size_t i = 0; !ret && i < count; i++) {
		struct doc_node *c = roots[i] ? doc_clone(dst, roots[i]) : NULL;

		if (roots[i] && !c)
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		if (c)
			ret = normalize_node(dst, c, &f);
		if (!ret)
			ret = doc_add_branch(dst, c);
	}
	return ret;
}

/* Whether got (loaded from the output) holds the data of want: 1, 0, or
 * GS_ERR_NOMEM when the comparison could not be made. Written in
 * another format than its own, want is compared as that format can hold
 * it: no comments in JSON, text values in dotenv and INI, tags in YAML
 * only. A plaintext holds a time as its text (a decrypted tree holds the
 * time again). */
static int same_data(const struct doc *got, const struct doc *want, enum doc_format format, bool plain,
		     char *where, size_t where_size)
{
	struct doc n;
	int ret;

	/* the path is built only for a difference: naming every entry on the
	 * way costs as much as the comparison */
	if (want->format == format && doc_equal(got, want, NULL, 0))
		return 1;
	if (want->format == format && !plain)
		return doc_equal(got, want, where, where_size);
	doc_init(&n, format);
	ret = normalized_copy(&n, (const struct doc_node *const *)want->branches, want->count, format,
			      !format_has_types(format), plain);
	if (ret == 0)
		ret = doc_equal(got, &n, NULL, 0) || doc_equal(got, &n, where, where_size);
	doc_release(&n);
	return ret == GS_ERR_NOMEM || ret >= 0 ? ret : 0;
}

/* dotenv and INI hold the metadata flattened (sops's stores/flatten.go):
 * an empty list, such as a key group's `hc_vault: []`, leaves no line and
 * is absent when read back. Marks such entries removed; true when n holds
 * nothing else. Bounded by the metadata's fixed depth. */
static bool drop_empty(struct doc_node *n)
{
	bool empty = true;

	if (n->kind != DOC_MAP && n->kind != DOC_LIST)
		return false;
	for (size_t i = 0; i < n->count; i++) {
		struct doc_entry *e = &n->entries[i];

		if (!e->removed && drop_empty(e->value))
			e->removed = true;
		empty = empty && e->removed;
	}
	return empty;
}

/* The metadata entries as read back against the ones written: 1, 0, or
 * GS_ERR_NOMEM. Their values are compared as text: dotenv and INI hold
 * no types, and the metadata is read from its text anyway. */
static int same_metadata(const struct doc *got, const struct sops_undo *undo)
{
	struct doc a, b;
	int ret = undo->meta_count > 0;

	doc_init(&a, got->format);
	doc_init(&b, got->format);
	for (size_t i = 0; ret == 1 && i < undo->meta_count; i++) {
		const struct sops_undo_meta *m = &undo->meta[i];
		const struct doc_node *root = m->branch < got->count ? got->branches[m->branch] : NULL;
		const struct doc_entry *e = root && root->kind == DOC_MAP ? doc_map_find(root, SOPS_METADATA_KEY) : NULL;
		const struct doc_node *read[1] = { e ? e->value : NULL };
		const struct doc_node *written[1] = { m->root->entries[m->index].value };

		if (!e)
			ret = 0;
		else if ((ret = normalized_copy(&a, read, 1, got->format, true, false)) == 0 &&
			 (ret = normalized_copy(&b, written, 1, got->format, true, false)) == 0)
			ret = 1;
	}
	for (size_t i = 0; ret == 1 && !format_has_types(got->format) && i < b.count; i++)
		if (b.branches[i])
			drop_empty(b.branches[i]);
	if (ret == 1)
		ret = doc_equal(&a, &b, NULL, 0);
	doc_release(&a);
	doc_release(&b);
	return ret == GS_ERR_NOMEM || ret >= 0 ? ret : 0;
}

/* ---- emitting in a layout ---- */

/* The file's own layout patches its source; the fresh one ignores it. */
static int emit_layout(struct doc *d, enum doc_format format, int indent, bool fresh,
		       struct gs_buf *out)
{
	struct store_emit_opts eo = { .indent = indent };
	struct gs_buf source;
	int ret;

	if (!fresh)
		return store_emit(d, format, &eo, out);
	source = d->source;
	gs_buf_init(&d->source, true);
	ret = store_emit(d, format, &eo, out);
	d->source = source;
	return ret;
}

/* The test build can damage the output before it is proven, to show the
 * fallback (GITSEAL_TEST_CORRUPT=first: the first output of a write) and
 * the refusal (=all); GITSEAL_TEST_CORRUPT_ONLY=sealed|plain limits it to
 * encrypted or plaintext outputs. A ciphertext is changed at its first
 * data byte (GITSEAL_TEST_CORRUPT_AT=middle: the middle one, which the
 * reload of a large value does not hand to libyaml, yaml_elide.c), a
 * plaintext at its last letter or digit; GITSEAL_TEST_CORRUPT_MARK=TEXT
 * changes the byte after the first TEXT instead (a value left in clear,
 * which only the comparison of the trees can catch). Release builds
 * compile this out. */
static void test_corrupt(struct gs_buf *out, int made, bool sealed)
{
#ifdef GITSEAL_TEST_HOOKS
	static const char marker[] = SOPS_ENC_DATA;
	const char *how = getenv("GITSEAL_TEST_CORRUPT"), *only = getenv("GITSEAL_TEST_CORRUPT_ONLY");
	const char *mark = getenv("GITSEAL_TEST_CORRUPT_MARK");
	uint8_t *p;

	if (!how || (strcmp(how, "all") && (strcmp(how, "first") || made > 0)))
		return;
	if (only && strcmp(only, sealed ? "sealed" : "plain"))
		return;
	if (mark && *mark) {
		p = memmem(out->data, out->len, mark, strlen(mark));
		if (p && p + strlen(mark) < out->data + out->len) {
			p += strlen(mark);
			*p = *p == 'A' ? 'B' : 'A';
		}
		return;
	}
	p = memmem(out->data, out->len, marker, sizeof(marker) - 1);
	if (p && p + sizeof(marker) - 1 < out->data + out->len) {
		const char *at = getenv("GITSEAL_TEST_CORRUPT_AT");
		uint8_t *end;

		p += sizeof(marker) - 1;
		end = memchr(p, ',', (size_t)(out->data + out->len - p));
		if (at && !strcmp(at, "middle") && end)
			p += (end - p) / 2;
		*p = *p == 'A' ? 'B' : 'A';
		return;
	}
	for (size_t i = out->len; i-- > 0;) {
		if (isalnum(out->data[i])) {
			out->data[i] = out->data[i] == 'a' ? 'b' : 'a';
			return;
		}
	}
#else
	(void)out;
	(void)made;
	(void)sealed;
#endif
}

/* How one kind of output is made and proven. */
struct proof {
	/* sealing: puts the tree in its encrypted form to be emitted (NULL:
	 * the tree is emitted as it is) */
	int (*encrypt)(struct proof *p);
	/* 0 when out holds what was meant; else why not in why */
	int (*check)(struct proof *p, struct gs_buf *out, char *why, size_t why_size);
	struct doc *want;
	enum doc_format format;
	/* sealing */
	struct sops_file *file;
	const struct sops_seal_opts *opts;
	struct sops_undo undo;
	uint8_t *key;
	bool encrypted;          /* undo holds ciphertexts for the next emission */
	bool open_end;           /* sops_emit_opts.open_end, sops_seal_opts.open_end */
};

bool sops_text_ends_open(enum doc_format format, const uint8_t *text, size_t len)
{
	return (format == DOC_FORMAT_YAML || format == DOC_FORMAT_DOTENV || format == DOC_FORMAT_INI) && len &&
	       text[len - 1] != '\n';
}

size_t sops_text_line_end(const uint8_t *text, size_t len)
{
	if (!len || text[len - 1] != '\n')
		return 0;
	return len >= 2 && text[len - 2] == '\r' ? 2 : 1;
}

/* Once emitted, the ciphertexts are freed before the output is checked
 * (a large value is not held a third time); the metadata written stays
 * recorded for the check. The fresh layout is encrypted anew. */
static void after_emit(struct proof *p)
{
	if (p->encrypt) {
		sops_undo_drop_ciphertexts(&p->undo);
		p->encrypted = false;
	}
}

/* bench/sops_bench.sh builds a second binary with GITSEAL_BENCH_UNVERIFIED
 * to show what the proof costs; no other build has it. */
static int prove(struct proof *p, struct gs_buf *out, char *why, size_t why_size)
{
#ifdef GITSEAL_BENCH_UNVERIFIED
	(void)p, (void)out, (void)why, (void)why_size;
	return 0;
#else
	return p->check(p, out, why, why_size);
#endif
}

/* A failed proof is GS_ERR_VERIFY (the layout would not give back the
 * data); out of memory proves nothing either way and ends the write. */
static int proof_verdict(int ret)
{
	if (ret == GS_ERR_NOMEM)
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return ret ? GS_ERR_VERIFY : 0;
}

/* prove(), the output's last line break dropped first when open, and
 * kept where that does not prove. */
static int prove_open(struct proof *p, bool open, struct gs_buf *out, char *why, size_t why_size)
{
	size_t n = open ? sops_text_line_end(out->data, out->len) : 0;
	int ret;

	if (n) {
		out->len -= n;
		out->data[out->len] = '\0';
		if ((ret = prove(p, out, why, why_size)) == 0 || ret == GS_ERR_NOMEM)
			return ret;
		out->data[out->len] = n == 2 ? '\r' : '\n';
		out->len += n;
	}
	return prove(p, out, why, why_size);
}

/* Emits d in its own layout, then in the fresh one, until one proves.
 * With drop_source the source text is freed after the first emission
 * (the fresh layout does not need it). why_fresh, when set, receives why
 * the fresh layout had to be written ("" when it did not). */
static int emit_proven(struct doc *d, int indent, bool drop_source, struct proof *p,
		       const char *what, char *why_fresh, struct gs_buf *out)
{
	bool own = p->format == d->format && d->source.data;
	/* the source does not end its last line: neither does the output,
	 * where that proves (a block's last line break may be its value's) */
	bool open = p->open_end && own && sops_text_ends_open(d->format, d->source.data, d->source.len);
	char why[SOPS_WHY_SIZE] = "", first[SOPS_WHY_SIZE] = "";
	int made = 0, ret = 0;

	if (why_fresh)
		why_fresh[0] = '\0';
	/* the own layout keeps the mark, and sops's JSON reader (Go's
	 * encoding/json) refuses a file that starts with one */
	if (p->encrypt && own && p->format == DOC_FORMAT_JSON && d->source.len >= 3 &&
	    !memcmp(d->source.data, "\xEF\xBB\xBF", 3))
		return GS_FAIL(GS_ERR_PARSE, "the JSON starts with a UTF-8 byte-order mark, and sops could not read it "
					     "encrypted: remove the mark");
	for (int fresh = !own; fresh < 2; fresh++) {
		gs_buf_reset(out);
		if (p->encrypt && (ret = p->encrypt(p)) < 0)
			goto out;
		ret = emit_layout(d, p->format, indent, fresh, out);
		after_emit(p);
		if (drop_source && !fresh)
			doc_drop_source(d);
		/* the store's own error: the tree has no form in this format; out
		 * of memory says nothing of the layout */
		if (ret < 0 && (fresh || ret == GS_ERR_NOMEM))
			goto out;
		if (ret < 0) {
			snprintf(first, sizeof(first), "the store cannot write it (%s)", gs_error_message());
			gs_error_clear();
			continue;
		}
		test_corrupt(out, made++, p->encrypt != NULL);
		if ((ret = prove_open(p, open, out, why, sizeof(why))) == 0 || ret == GS_ERR_NOMEM) {
			if (!ret && fresh && own && why_fresh)
				snprintf(why_fresh, SOPS_WHY_SIZE, "%s", first);
			goto out;
		}
		if (!fresh)
			snprintf(first, sizeof(first), "%s", why);
	}
	ret = GS_FAIL(GS_ERR_VERIFY, "%s would not give back the data given%s: %s; nothing written",
		      what, own ? ", in the file's layout nor in the fresh one" : "", why);
out:
	if (ret)
		gs_buf_reset(out);
	return ret;
}

/* The output is loaded in place: the document borrows its buffer (a large
 * output is not held twice) and gives it back before it is released. The
 * stores only read their source. Loaded to be compared and decrypted,
 * never patched: the tree alone (store_load_data). */
static int load_borrowed(struct doc *r, enum doc_format format, struct gs_buf *out)
{
	if (!out->data && gs_buf_reserve(out, 0))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	r->source = *out;
	gs_buf_init(out, out->secure);
	return store_load_data(format, r->source.data, r->source.len, r);
}

static void give_back(struct doc *r, struct gs_buf *out)
{
	if (r->source.data) {
		gs_buf_release(out);
		*out = r->source;
		gs_buf_init(&r->source, true);
	}
}

/* ---- plaintext ---- */

static int check_plain(struct proof *p, struct gs_buf *out, char *why, size_t why_size)
{
	char where[SOPS_WHY_SIZE];
	struct doc r;
	int ret;

	doc_init(&r, p->format);
	if ((ret = load_borrowed(&r, p->format, out)) < 0)
		snprintf(why, why_size, "it does not load again (%s)", gs_error_message());
	else if ((ret = same_data(&r, p->want, p->format, true, where, sizeof(where))) == 0)
		ret = GS_ERR_VERIFY, snprintf(why, why_size, "%s differs", where);
	else if (ret == 1)
		ret = 0;
	give_back(&r, out);
	doc_release(&r);
	gs_error_clear();
	return proof_verdict(ret);
}

int sops_plain_emit(struct doc *plain, enum doc_format format, const struct sops_emit_opts *o,
		    struct gs_buf *out)
{
	static const struct sops_emit_opts none;
	struct proof p = { .check = check_plain, .want = plain, .format = format };

	if (!o)
		o = &none;
	p.open_end = o->open_end;
	if (o->unverified) {
		struct store_emit_opts eo = { .indent = o->indent };

		if (o->fell_back)
			o->fell_back[0] = '\0';
		return store_emit(plain, format, &eo, out);
	}
	return emit_proven(plain, o->indent, o->drop_source, &p, "the output", o->fell_back, out);
}

/* A value printed on its own (decrypt --extract of a list) is in no
 * store's file format: it is proven inside one, as the value of the only
 * key of want's root. A difference is named from the value down (the
 * frame's key means nothing to the reader). The text stays the caller's. */
int sops_plain_prove_value(const struct doc *want, enum doc_format format, const char *name,
			   const char *before, struct gs_buf *text, const char *after)
{
	static const char frame_key[] = "doc 0: [\"k\"]";
	char where[SOPS_WHY_SIZE] = "";
	struct gs_buf framed;
	struct doc r;
	int ret;

	test_corrupt(text, 1, false);
	gs_buf_init(&framed, true);
	doc_init(&r, format);
	if (gs_buf_append_str(&framed, before) || gs_buf_append(&framed, text->data, text->len) ||
	    gs_buf_append_str(&framed, after)) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((ret = load_borrowed(&r, format, &framed)) == GS_ERR_NOMEM) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	} else if (ret < 0) {
		snprintf(where, sizeof(where), "%s", gs_error_message()); /* GS_FAIL writes over it */
		ret = GS_FAIL(GS_ERR_VERIFY, "the output would not give back the data given: it does not load "
			      "again (%s); nothing written", where);
	} else if ((ret = same_data(&r, want, format, true, where, sizeof(where))) == GS_ERR_NOMEM) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
	} else if (ret == 1) {
		ret = 0;
	} else {
		const char *rest = strncmp(where, frame_key, sizeof(frame_key) - 1) ? where
											: where + sizeof(frame_key) - 1;

		ret = GS_FAIL(GS_ERR_VERIFY, "the output would not give back the data given: %s%s differs; "
			      "nothing written", name, rest);
	}
	give_back(&r, &framed);
out:
	doc_release(&r);
	gs_buf_release(&framed);
	return ret;
}

/* ---- sealing ---- */

/* The path of the first float below n that JSON cannot hold (.inf, .nan),
 * written to path[len...]; false when there is none. Bounded by the
 * stores' nesting limit (STORE_MAX_DEPTH). */
static bool nonfinite_path(const struct doc_node *n, char *path, size_t size, size_t len)
{
	if (n->kind == DOC_SCALAR)
		return n->type == DOC_FLOAT && !store_json_can_write_float(n->text, n->len);
	for (size_t i = 0; i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (e->removed || e->value->kind == DOC_COMMENT)
			continue;
		if (nonfinite_path(e->value, path, size, len + doc_path_step(path + len, size - len, e, i)))
			return true;
	}
	path[len] = '\0';
	return false;
}

/* Sealed in another store than its own (encrypt --output-type), the file
 * must also decrypt in that store: its plaintext written as decrypt
 * writes it, and proven. Else a file would be sealed that decrypt then
 * refuses: JSON holds no .inf or .nan, dotenv reads a backslash and an n
 * back as a line break (red team 18). */
static int check_decrypts_as(struct doc *r, enum doc_format format, char *why, size_t why_size)
{
	struct proof pp = { .check = check_plain, .want = r, .format = format };
	char inner[SOPS_WHY_SIZE] = "";
	struct gs_buf plain;
	int ret;

	for (size_t i = 0; format == DOC_FORMAT_JSON && i < r->count; i++) {
		if (r->branches[i] && nonfinite_path(r->branches[i], inner, sizeof(inner), 0)) {
			snprintf(why, why_size, "doc %zu: %s is a number JSON cannot hold (an infinity or NaN)", i, inner);
			return GS_ERR_VERIFY;
		}
	}
	gs_buf_init(&plain, true);
	if ((ret = emit_layout(r, format, 0, true, &plain)) < 0 && ret != GS_ERR_NOMEM)
		snprintf(why, why_size, "decrypted, the store cannot write it (%s)", gs_error_message());
	else if (ret == 0 && (ret = check_plain(&pp, &plain, inner, sizeof(inner))) == GS_ERR_VERIFY)
		snprintf(why, why_size, "decrypted, it would not read back: %s", inner);
	gs_buf_release(&plain);
	return ret;
}

static int check_sealed(struct proof *p, struct gs_buf *out, char *why, size_t why_size)
{
	char where[SOPS_WHY_SIZE];
	struct doc r;
	int ret;

	doc_init(&r, p->format);
	if ((ret = load_borrowed(&r, p->format, out)) < 0) {
		snprintf(why, why_size, "it does not load again (%s)", gs_error_message());
	} else if ((ret = same_metadata(&r, &p->undo)) <= 0) {
		ret = ret ? ret : GS_ERR_VERIFY;
		snprintf(why, why_size, "its sops metadata differs");
	} else if ((ret = sops_decrypt_doc_with_key(&r, p->key, NULL)) < 0) {
		snprintf(why, why_size, "it does not decrypt (%s)", gs_error_message());
	} else if ((ret = same_data(&r, p->want, p->format, false, where, sizeof(where))) <= 0) {
		ret = ret ? ret : GS_ERR_VERIFY;
		snprintf(why, why_size, "%s differs", where);
	} else if (p->want->format != p->format && (ret = check_decrypts_as(&r, p->format, why, why_size)) < 0) {
		/* why says it */
	} else {
		ret = 0;
	}
	give_back(&r, out);
	doc_release(&r);
	gs_error_clear();
	return proof_verdict(ret);
}

/* Encrypts the tree for the file's keys (again for a second layout: a new
 * data key for a new file, new IVs for changed values) and shows it
 * encrypted. */
static int seal_encrypt(struct proof *p)
{
	const struct sops_seal_opts *o = p->opts;
	struct sops_file *f = p->file;
	struct sops_encrypt_opts eo = { 0 };
	int ret;

	if (p->encrypted) {
		sops_undo_show(&p->undo, true);
		return 0;
	}
	sops_undo_release(&p->undo);
	sops_undo_init(&p->undo);
	eo.groups = o->groups ? o->groups : f->keys.groups;
	eo.group_count = o->groups ? o->group_count : f->keys.group_count;
	eo.shamir_threshold = o->groups ? o->shamir_threshold : f->keys.shamir_threshold;
	/* an opened file writes a threshold only for several groups (as sops) */
	if (f->opened && eo.group_count < 2)
		eo.shamir_threshold = 0;
	eo.selection = f->keys.selection;
	eo.new_data_key = o->fresh_key;
	eo.drop_unsupported_keys = o->drop_unsupported_keys;
	eo.keep_unnamed = o->keep_unnamed && !o->groups;
	ret = sops_encrypt_doc_reusing(p->want, &eo, f->opened ? &f->prev.meta : &f->previous_meta,
				       f->have_prev ? &f->prev : NULL, p->key, &p->undo);
	p->encrypted = ret == 0;
	return ret;
}

int sops_file_seal(struct sops_file *f, struct doc *plain, const struct sops_seal_opts *o,
		   struct gs_buf *out)
{
	static const struct sops_seal_opts none;
	struct proof p = { .encrypt = seal_encrypt, .check = check_sealed, .want = plain, .file = f };
	int ret;

	sops_undo_init(&p.undo);
	p.opts = o ? o : &none;
	p.format = p.opts->convert ? p.opts->output_format : f->format;
	p.open_end = p.opts->open_end;
	if (!(p.key = gs_secure_alloc(SOPS_DATA_KEY_SIZE))) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* encrypted first: a refusal (keys, selection) comes before any output */
	if ((ret = seal_encrypt(&p)) == 0)
		ret = emit_proven(plain, p.opts->indent, p.opts->drop_source, &p, "the encrypted output",
				  p.opts->fell_back, out);
	if (!ret && p.opts->key_id)
		sops_data_key_id(p.key, p.opts->key_id);
out:
	sops_undo_release(&p.undo);
	gs_secure_free(p.key);
	return ret;
}
