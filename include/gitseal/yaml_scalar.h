/* YAML scalars: how a plain scalar resolves to a type (YAML 1.2 core
 * schema as yaml.v3 reads it; sops spec 6.1) and how a string is written
 * so that a reader gets the same string back (yaml.v3's emitter rules).
 * Shared by the YAML store and the Kubernetes manifest writer. */
#ifndef GITSEAL_YAML_SCALAR_H
#define GITSEAL_YAML_SCALAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gitseal/secmem.h"

/* How a YAML 1.2 (yaml.v3) plain scalar resolves. */
enum yaml_resolved {
	YAML_RESOLVED_STR,
	YAML_RESOLVED_NULL,
	YAML_RESOLVED_BOOL,
	YAML_RESOLVED_INT,
	YAML_RESOLVED_UINT,   /* above int64: sops cannot walk it */
	YAML_RESOLVED_FLOAT,
	YAML_RESOLVED_TIMESTAMP,
};

/* Resolves a plain scalar. For BOOL and INT, *ival is set; for FLOAT, *fval. */
enum yaml_resolved yaml_resolve_plain(const char *s, size_t len, int64_t *ival, double *fval);

/* Whether a float is encrypted and written back as the file spelled it:
 * sops decrypts a float with Go's strconv.ParseFloat, so a spelling is
 * kept only where that reads the value yaml.v3 reads from the plain
 * scalar ("08", "1.50", "1e3", ".5" yes; ".inf", "1_0.5" no). */
bool yaml_float_spelling_kept(const char *s, size_t len);

/* Whether a string written plain would read back as something else: a
 * YAML 1.2 type, or a YAML 1.1 boolean or base-60 number that older
 * readers still resolve (yaml.v3 quotes these too). */
bool yaml_str_retypes(const char *s, size_t len);

/* The ways a string may be written and read back as the same string
 * (yaml.v3 yaml_emitter_analyze_scalar; a double-quoted string always can). */
struct yaml_str_fit {
	bool multiline;   /* holds a line break */
	bool plain_block; /* plain, in block context */
	bool plain_flow;  /* plain, inside [...] or {...} */
	bool single;      /* single-quoted, on one line */
	bool literal;     /* a literal block ("|") */
	bool retypes;     /* plain, it would read as another type (yaml_str_retypes: yaml.v3 then double-quotes) */
};

void yaml_str_fit(const char *s, size_t len, struct yaml_str_fit *fit);

enum yaml_style { YAML_STYLE_ANY, YAML_STYLE_PLAIN, YAML_STYLE_SINGLE, YAML_STYLE_DOUBLE,
		  YAML_STYLE_LITERAL, YAML_STYLE_FOLDED };

/* Where a string is written decides what it may look like. */
struct yaml_str_place {
	bool flow;             /* inside [...] or {...}: no block, flow-plain rules */
	bool key;              /* a mapping key: one line */
	size_t block_indent;   /* a literal block's content column; 0: no block here */
	size_t parent_indent;  /* the column its indentation indicator counts from */
	bool final_break;      /* a literal block ends with its last line break
				* (else what follows in the file supplies it) */
	enum yaml_style prefer; /* the style the text had, kept when it fits */
};

/* Writes a string as yaml.v3 does: plain when it reads back as the same
 * string under YAML 1.2 and 1.1 alike, else single-quoted, else
 * double-quoted, and multi-line text as a literal block where the place
 * allows one; a preferred style is kept when the text allows it (a
 * preferred plain style only where yaml.v3 would write it plain). */
int yaml_write_str(struct gs_buf *out, const char *s, size_t len, const struct yaml_str_place *place)
	__attribute__((warn_unused_result));
/* Whether yaml_write_str would write the string as it is (plain). */
bool yaml_str_written_plain(const char *s, size_t len, const struct yaml_str_place *place);
/* Each style on its own; the caller checked with yaml_str_fit. Double
 * quotes hold any UTF-8 text (bytes that are not UTF-8 are written as \x
 * escapes, which read back as characters: no YAML string holds them). */
int yaml_write_double(struct gs_buf *out, const char *s, size_t len)
	__attribute__((warn_unused_result));
int yaml_write_single(struct gs_buf *out, const char *s, size_t len)
	__attribute__((warn_unused_result));
/* "|" with its chomping indicator (and `indicator`, the content column
 * less the parent's, when the text starts with a space or a line break),
 * then each line at `indent` spaces. */
int yaml_write_literal(struct gs_buf *out, const char *s, size_t len, size_t indent, size_t indicator,
		       bool final_break) __attribute__((warn_unused_result));


#endif
