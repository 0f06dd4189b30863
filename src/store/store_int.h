/* Private helpers shared by the stores (src/store/ and its tests/fuzzers). */
#ifndef GITSEAL_STORE_INT_H
#define GITSEAL_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gitseal/doc.h"
#include "gitseal/error.h"
#include "gitseal/secmem.h"
#include "gitseal/yaml_scalar.h"

struct store_emit_opts;

/* Shortest round-trip digits of a finite double: digits[0..n) with the
 * decimal point after `point` digits (point may be <= 0 or > n). */
struct float_digits {
	char digits[24];
	int n;
	int point;
	bool negative;
};

void float_shortest(double v, struct float_digits *fd);
/* Positional text as sops writes a float value (Go FormatFloat 'f', -1):
 * "1000000000000000000000", "0.00000015", "NaN", "+Inf", "-Inf". */
int float_format_positional(double v, struct gs_buf *out) __attribute__((warn_unused_result));
/* Go strconv.FormatFloat(v, 'g', -1, 64), as yaml.v3 writes floats. */
int float_format_go_g(double v, struct gs_buf *out) __attribute__((warn_unused_result));
/* Go encoding/json float formatting ('f' in [1e-6, 1e21), else 'e'). */
int float_format_go_json(double v, struct gs_buf *out) __attribute__((warn_unused_result));

/* A doc float text ("1.5", "NaN", "+Inf") back to a double. */
bool float_from_text(const char *text, size_t len, double *out);

/* UTF-8 helpers. Returns the length of the valid sequence at p, or 0. */
size_t utf8_decode(const uint8_t *p, size_t avail, uint32_t *cp);
void utf8_encode(uint32_t cp, char out[4], size_t *n);



/* Duplicate-key check of a map being loaded, linear in the map's size.
 * The set follows the map's entries (appended only) by index. */
struct store_keyset {
	size_t *slots;     /* entry index + 1; 0 is empty */
	size_t nslots;     /* a power of two, or 0 while the map is small */
	size_t used;
	size_t synced;     /* entries[0..synced) are in the table */
	unsigned char hash_key[16];
};

void store_keyset_init(struct store_keyset *s);
void store_keyset_release(struct store_keyset *s);
/* 1 when map has an entry with this key, 0 when not, or a negative gs_err. */
int store_keyset_has(struct store_keyset *s, const struct doc_node *map, const char *key, size_t len)
	__attribute__((warn_unused_result));

/* Patch-mode output: a list of replacements of source byte ranges. The
 * replacement texts (plaintext) live in one secure pool. */
struct store_edit {
	size_t start, end;       /* source range replaced (start == end: insert) */
	size_t text_off, text_len;
	const uint8_t *text;     /* the new text when not in the pool */
	size_t seq;              /* insertion order, to keep ties stable */
};

struct store_edits {
	struct store_edit *v;
	size_t n, cap;
	struct gs_buf pool;
	/* edits that overlap are an error (else one inside a range already
	 * cut, a removed entry's contents, is dropped with it) */
	bool strict;
};

void store_edits_init(struct store_edits *e);
void store_edits_release(struct store_edits *e);
/* As store_edits_push, with text that outlives the edits (a node's text)
 * instead of the pool's. */
int store_edits_push_text(struct store_edits *e, size_t start, size_t end, const uint8_t *text,
			  size_t len) __attribute__((warn_unused_result));
/* The same, the text between open and close (quotes, or "") put in the
 * pool: a quoted value whose text needs no escape is not copied. */
int store_edits_push_wrapped(struct store_edits *e, size_t start, size_t end, const char *open,
			     const uint8_t *text, size_t len, const char *close)
	__attribute__((warn_unused_result));
/* Records an edit whose text is pool[mark, pool.len). */
int store_edits_push(struct store_edits *e, size_t start, size_t end, size_t mark)
	__attribute__((warn_unused_result));
/* An edit whose text is pool[off, off + len). */
int store_edits_push_pool(struct store_edits *e, size_t start, size_t end, size_t off, size_t len)
	__attribute__((warn_unused_result));
/* GS_ERR_GENERIC when strict and two edits overlap. */
int store_edits_apply(struct store_edits *e, const uint8_t *src, size_t len, struct gs_buf *out)
	__attribute__((warn_unused_result));
/* ---- flatten.c: sops metadata flattened into one level (spec 5.7, 5.8;
 * sops stores/flatten.go) ---- */

/* Called for every leaf of a flattened map, depth first in entry order:
 * key is prefix + path ("age__list_0__map_enc"), valid during the call. */
typedef int (*store_flat_fn)(void *ctx, const char *key, size_t key_len,
			     const struct doc_node *value);
int store_flatten(const struct doc_node *map, const char *prefix, store_flat_fn fn, void *ctx)
	__attribute__((warn_unused_result));

/* One flattened item as read: key without the prefix, value a scalar. */
struct store_flat_item {
	const char *key;
	size_t key_len;
	struct doc_node *value;
};

/* Rebuilds the tree: map keys sorted bytewise, lists complete from 0. */
int store_unflatten(struct doc *d, const struct store_flat_item *items, size_t n,
		    struct doc_node **out) __attribute__((warn_unused_result));

/* Line ranges of the metadata a dotenv/INI document was loaded with
 * (d->store_data), cut when the loaded sops entry does not survive. */
struct store_meta_ranges {
	struct doc_span *v;
	size_t n, cap;
};

int store_meta_ranges_add(struct doc *d, size_t start, size_t end) __attribute__((warn_unused_result));

/* A flat store's writer (dotenv, INI). A document loaded from its own
 * format is written by patching its source: patch adds the edits of the
 * loaded entries, the lines of a metadata entry that changed are cut, and
 * put_rest writes after them what the source lacks (only_new: entries
 * added, the metadata unless kept as loaded; first: nothing came before).
 * Any other document is put_rest(out, root, false, false, true). */
struct store_flat_writer {
	enum doc_format format;
	int (*patch)(const struct doc *d, const struct doc_node *root, struct store_edits *ed);
	int (*put_rest)(struct gs_buf *out, const struct doc *d, const struct doc_node *root, bool only_new, bool kept,
			bool first);
};
int store_flat_emit(const struct doc *d, const struct store_flat_writer *w, const struct store_emit_opts *opts,
		    struct gs_buf *out) __attribute__((warn_unused_result));

/* Makes text the document's source: kept as it is when store_load_buf
 * handed it over (text is d->source.data), else copied. Every store's
 * load starts here: an input over STORE_MAX_INPUT is refused. */
int store_take_source(struct doc *d, const uint8_t *text, size_t len) __attribute__((warn_unused_result));

/* Output helpers shared by the stores: append, failing with a message. */
static inline int store_put(struct gs_buf *out, const void *s, size_t n)
{
	return gs_buf_append(out, s, n) ? GS_FAIL(GS_ERR_NOMEM, "out of memory") : 0;
}
int store_put_spaces(struct gs_buf *out, size_t n) __attribute__((warn_unused_result));
/* tail after what was written to out since start, on a line of its own. */
int store_put_tail(struct gs_buf *out, size_t start, const struct gs_buf *tail)
	__attribute__((warn_unused_result));

#endif
