/* Stores: bytes <-> document tree, one file per format under src/store/.
 *
 * load() keeps the source text and every node's span in the document, so
 * emit() of a loaded document writes the source back with only what
 * changed replaced: dirty scalars re-rendered in place, removed entries cut
 * out, new entries (no span) rendered and appended at the end of their
 * map. A document with no source (or of another format) is emitted fresh,
 * in the layout sops itself writes. */
#ifndef GITSEAL_STORE_H
#define GITSEAL_STORE_H

#include "gitseal/doc.h"
#include "gitseal/sops_format.h"

enum {
	STORE_MAX_INPUT = 256 * 1024 * 1024, /* bytes */
	/* from this size a YAML load parses on the kept worker thread */
	STORE_THREADED_MIN_INPUT = 64 * 1024,
	STORE_MAX_DEPTH = 256,               /* nesting of maps and lists */
	JSON_NUMBER_MAX = 512,               /* bytes of one JSON number, and one more */
	STORE_INT_TEXT_MAX = 24,             /* an int64 in decimal, its sign and a NUL */
};

struct store_emit_opts {
	int indent; /* as gitseal/sops_format.h counts it: 0 the default, n spaces, or none */
	bool fresh; /* the layout sops writes, whatever the source's */
};

/* Takes ownership of nothing; copies text into d->source. */
int store_load(enum doc_format format, const uint8_t *text, size_t len, struct doc *d)
	__attribute__((warn_unused_result));
/* The same tree and verdict, for a document only compared and decrypted
 * (a proof): the YAML store then skips its syntax layer where the text
 * shows it changes nothing (yaml_load_data); the document cannot be
 * patched. */
int store_load_data(enum doc_format format, const uint8_t *text, size_t len, struct doc *d)
	__attribute__((warn_unused_result));
/* The same, the document taking over text (left empty): no second copy
 * of a large input. */
int store_load_buf(enum doc_format format, struct gs_buf *text, struct doc *d)
	__attribute__((warn_unused_result));
/* Appends the document's text to out (a secure buffer for plaintext). */
int store_emit(const struct doc *d, enum doc_format format, const struct store_emit_opts *opts,
	       struct gs_buf *out) __attribute__((warn_unused_result));

/* The step of a YAML text's block scalars where no nested map sets one
 * (1-9), else 0: the indentation its sops metadata is written with, so that
 * the blocks come back with theirs (a reader takes the step of block
 * scalars from the first block map under a key; lists set none). */
int store_yaml_flat_block_step(const struct gs_buf *text);
/* The indentation step a loaded YAML document's nested block maps set
 * (the first one's), 0 when it has none. */
int store_yaml_nested_step(const struct doc *d);
int store_yaml_load(const uint8_t *text, size_t len, struct doc *d) __attribute__((warn_unused_result));
int store_yaml_load_data(const uint8_t *text, size_t len, struct doc *d) __attribute__((warn_unused_result));
int store_yaml_emit(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out)
	__attribute__((warn_unused_result));
int store_json_load(const uint8_t *text, size_t len, struct doc *d) __attribute__((warn_unused_result));
int store_json_emit(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out)
	__attribute__((warn_unused_result));
/* Whether a float's text is a JSON number (RFC 8259 6) that a JSON
 * reader takes for a float: a fraction or an exponent, or an integer past
 * int64 ("1.0", "-2.5e3", "1e-7"; not "7", "NaN", "+Inf"). Such a text is
 * written and encrypted as it is; Go's ParseFloat (sops) and parseFloat
 * (sops-age) read it as the same number. */
bool store_json_float_text(const char *s, size_t len);
/* Whether Go's encoding/json can write a float's text (sops's JSON store,
 * and the fresh JSON layout): not NaN or an infinity, whatever the
 * spelling (".inf", "+Inf", "NaN"). */
bool store_json_can_write_float(const char *s, size_t len);
/* Ints. A DOC_INT's text is the number as the file spelled it where sops
 * decrypts that spelling to the same number (store_int_spelling_kept:
 * "+5", "007", "-0"), else sops's decimal form; either way the text is
 * one that Go's strconv.Atoi reads (store_go_atoi). A store whose syntax
 * has no such spelling (JSON, dotenv, INI) writes store_int_canonical. */
bool store_go_atoi(const char *s, size_t len, int64_t *out);
bool store_int_spelling_kept(const char *s, size_t len);
int store_int_canonical(const char *s, size_t len, char out[STORE_INT_TEXT_MAX], size_t *out_len)
	__attribute__((warn_unused_result));
/* The same, appended to out (a secure buffer: a value is plaintext). */
int store_append_int_canonical(struct gs_buf *out, const char *s, size_t len)
	__attribute__((warn_unused_result));
/* dotenv: the sops metadata is read from and written as sops_* keys. */
int store_dotenv_load(const uint8_t *text, size_t len, struct doc *d) __attribute__((warn_unused_result));
int store_dotenv_emit(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out)
	__attribute__((warn_unused_result));
/* INI: sections are top-level maps; the metadata is a final [sops] section. */
int store_ini_load(const uint8_t *text, size_t len, struct doc *d) __attribute__((warn_unused_result));
int store_ini_emit(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out)
	__attribute__((warn_unused_result));
/* binary: a plaintext file is the single string `data`; JSON with a
 * top-level sops mapping loads as the encrypted form, and a document with
 * a sops entry is written as JSON, one without as the raw bytes of data. */
int store_binary_load(const uint8_t *text, size_t len, struct doc *d) __attribute__((warn_unused_result));
int store_binary_emit(const struct doc *d, const struct store_emit_opts *opts, struct gs_buf *out)
	__attribute__((warn_unused_result));

/* Format from a file name as sops chooses it (.yaml/.yml, .json, .env,
 * .ini, else binary); from a --input-type word (yaml|json|dotenv|ini|binary). */
enum doc_format store_format_for_path(const char *path);
int store_format_from_name(const char *name, enum doc_format *out) __attribute__((warn_unused_result));

#endif
