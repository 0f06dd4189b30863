/* The YAML store's private layers (src/store/yaml_*.c only).
 *
 * libyaml is the parser of record: it decides what is valid YAML, what
 * each scalar's value is and where each node's text lies. Under the
 * document tree sits a lossless syntax layer of our own:
 *
 *   yaml_lex.c    tokens with the exact byte span of every indicator,
 *                 property, scalar and comment (knows nothing of the tree);
 *   yaml_load.c   libyaml's events -> the doc tree, plus a record per node
 *                 of the tokens it came from (the side table in store_data);
 *   yaml_comments.c  where each comment goes in sops's model (spec 3.4);
 *   yaml_fresh.c  yaml.v3's layout, as sops writes a whole file;
 *   yaml_patch.c  a changed tree written as edits over token spans;
 *   yaml_fast.c   libyaml's events for the one shape gitseal writes,
 *                 without libyaml (a load's, never a proof's).
 *
 * Scalar typing and quoting are in gitseal/yaml_scalar.h. */
#ifndef GITSEAL_YAML_INT_H
#define GITSEAL_YAML_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gitseal/doc.h"
#include "gitseal/secmem.h"
#include "gitseal/yaml_scalar.h"
#include "store_int.h"

/* ---- yaml_lex.c: tokens ---- */

enum ytok_kind {
	YT_DOC_START,    /* "---" */
	YT_DASH,         /* "-" of a block sequence entry */
	YT_QUESTION,     /* "?" of an explicit key */
	YT_COLON,        /* ":" before a value */
	YT_COMMA,
	YT_SEQ_OPEN,     /* "[" */
	YT_SEQ_CLOSE,
	YT_MAP_OPEN,     /* "{" */
	YT_MAP_CLOSE,
	YT_ANCHOR,       /* "&name" */
	YT_TAG,          /* "!...", "!<...>" */
	YT_ALIAS,        /* "*name" */
	YT_PLAIN,        /* scalar text */
	YT_SINGLE,
	YT_DOUBLE,
	YT_LITERAL,      /* a block scalar's header ("|+2"), then YT_BODY */
	YT_FOLDED,       /* ">" ... */
	YT_BODY,         /* a block scalar's lines: from the header line's break to the
			  * end of its last line (keep chomping: of its last blank line) */
	YT_COMMENT,      /* "#" to the end of its line */
};

struct ytok {
	uint32_t start, end;
	uint8_t kind;
};

#define YNONE UINT32_MAX

struct ylex {
	const uint8_t *src;
	size_t len;
	size_t base;       /* after a byte-order mark at the start */
	struct ytok *v;
	size_t n, cap;
	size_t pos;        /* src[0, pos) is lexed */
	bool failed;       /* a byte it could not place: the layout is not to be patched */
	/* YAML that libyaml reads but the YAML 1.2 spec forbids (a comment
	 * glued to what precedes it...): the loader refuses it */
	const char *invalid;
	size_t invalid_pos;
};

void ylex_init(struct ylex *lx, const uint8_t *src, size_t len, size_t base);
void ylex_release(struct ylex *lx);
/* Tokens of src[pos, upto), which holds no scalar text. */
int ylex_gap(struct ylex *lx, size_t upto) __attribute__((warn_unused_result));
/* A scalar node that libyaml reports at [start, end): its properties, then
 * its text. Block scalars end where their last line does; parent_indent is
 * libyaml's indentation of the enclosing block collection (-1 at the top). */
int ylex_scalar(struct ylex *lx, size_t start, size_t end, enum ytok_kind style, long parent_indent)
	__attribute__((warn_unused_result));
int ylex_alias(struct ylex *lx, size_t start, size_t end) __attribute__((warn_unused_result));

/* Line structure, as libyaml reads it (CR, LF, CRLF, NEL, LS, PS). */
size_t ysrc_break_len(const uint8_t *s, size_t len, size_t i);
size_t ysrc_line_start(const struct ylex *lx, size_t pos);
bool ysrc_break_before(const struct ylex *lx, size_t pos);
size_t ysrc_line_end(const struct ylex *lx, size_t pos);  /* the position of the break, or len */
size_t ysrc_next_line(const struct ylex *lx, size_t pos); /* past the break ending pos's line */
size_t ysrc_column(const struct ylex *lx, size_t pos);    /* in characters */
bool ysrc_same_line(const struct ylex *lx, size_t a, size_t b);
/* Only spaces and tabs in src[a, b) */
bool ysrc_blank(const struct ylex *lx, size_t a, size_t b);

/* ---- yaml_load.c: the tree and its records ---- */

enum {
	YN_FLOW = 1,        /* [...] or {...} (or a single pair inside [...]) */
	YN_INDENTLESS = 2,  /* a block list whose '-' sit at its key's column */
	YN_ALIAS = 4,       /* a copy made for an alias: the alias token */
	YN_INLINE = 8,      /* a comment after a value on its line */
	YN_EMPTY_ROOT = 16, /* a document with no content; lead is its "---" */
	YN_BRACKETS = 32,   /* a flow collection with its brackets (not a single pair) */
	YN_IN_COPY = 64,    /* inside a copy made for an alias */
};

/* What the loader records of each node it made; doc_node.origin is the
 * index + 1. Token indices; YNONE when there is none. */
struct ynode {
	uint32_t lead;      /* the entry's first token: '-', '?', the key's first, a comment */
	uint32_t key_last;  /* a map entry's key: its last token */
	uint32_t ind;       /* ':' of a map entry, '-' of a block list item */
	uint32_t first;     /* the node's first token, properties included */
	uint32_t body;      /* the scalar, alias, '[' or '{'; a block collection's first lead */
	uint32_t last;      /* the node's last token */
	uint32_t target;    /* alias copies: the record of the node named */
	uint32_t col;       /* block collections: the column of their entries */
	uint32_t end_rec;   /* the records of its subtree are [own index, end_rec) */
	uint8_t kind;       /* the doc kind it was loaded as */
	uint8_t flags;
	uint8_t style;      /* scalars: the token kind of their text */
	bool anchored;      /* defines an anchor */
	const char *tag;    /* collections: their node's tag as loaded (a changed one is patched) */
};

struct yaml_syntax {
	struct ylex lx;
	struct ynode *v;
	size_t n, cap;
	bool trusted;       /* every token accounted for: patching is safe */
	size_t step;        /* the indentation step the file uses; 0 when none is seen */
	bool read_cut;      /* libyaml read the text less runs of base64 (yaml_elide.c) */
};

/* Two loads' records are the same, field by field (a tag as a string: it
 * points into its own document's arena). */
bool yaml_records_equal(const struct yaml_syntax *a, const struct yaml_syntax *b);

/* The record of a node loaded from this syntax, or NULL. */
const struct ynode *ysyn_node(const struct yaml_syntax *syn, const struct doc_node *n);
/* The last token of an entry (its value's, else its ':' or key's). */
uint32_t ysyn_entry_last(const struct ynode *r);

/* d->store_data when the YAML store loaded d. */
const struct yaml_syntax *yaml_syntax_of(const struct doc *d);

/* Reads the text less runs of base64 where it can (yaml_elide.c), its
 * events from yaml_fast.c where the text has the shape gitseal writes: the
 * result the same as yaml_load_whole's. */
int yaml_load(const uint8_t *text, size_t len, struct doc *d) __attribute__((warn_unused_result));
/* libyaml reading every byte (never yaml_fast.c): the reader of record the
 * tests compare yaml_load with. */
int yaml_load_whole(const uint8_t *text, size_t len, struct doc *d) __attribute__((warn_unused_result));
/* The same tree and the same verdict, built from libyaml's events alone
 * where the text shows that the syntax layer could not change either (no
 * comment...); else yaml_load itself. The document has no records: it can
 * be compared and decrypted, not patched. For proofs (sops/seal.c): its
 * events are libyaml's, never yaml_fast.c's, so that a proof does not
 * share the parser of the load it checks. */
int yaml_load_data(const uint8_t *text, size_t len, struct doc *d) __attribute__((warn_unused_result));

/* ---- yaml_elide.c: base64 runs left out of what libyaml reads (for
 * yaml_load and yaml_load_data, on ASCII text without a byte-order
 * mark) ---- */

struct ycut {
	size_t at, len; /* the bytes left out: src[at, at + len) */
	size_t vat;     /* where they were in what libyaml reads */
	bool taken;     /* inside a value taken from the text, or a comment (ycuts_take) */
};

struct ycuts {
	const uint8_t *src;
	size_t len, vlen; /* the text's length, and what libyaml reads of it */
	struct ycut *v;
	size_t n, cap;
	size_t pos, next; /* the reader's place */
	size_t covered;   /* cuts inside a value the loader took from the text */
	size_t hint;      /* the last answer of a search (yaml_elide.c cuts_before) */
};

void ycuts_init(struct ycuts *c, const uint8_t *src, size_t len);
void ycuts_release(struct ycuts *c);
/* Finds the runs to leave out (none: c->n is 0). */
int ycuts_find(struct ycuts *c) __attribute__((warn_unused_result));
/* A libyaml read handler (yaml_parser_set_input) over the text less the cuts. */
int ycuts_read(void *data, unsigned char *buffer, size_t size, size_t *size_read);
/* A position libyaml reports, in the text. */
size_t ycuts_real(struct ycuts *c, size_t v);
/* How many cuts lie inside src[start, end). */
size_t ycuts_within(struct ycuts *c, size_t start, size_t end);
/* Marks the cuts inside src[start, end) taken; how many were not yet. */
size_t ycuts_take(struct ycuts *c, size_t start, size_t end);
/* Whether value[0, len) is src[start, end) less the cuts in it. */
bool ycuts_value_is_text(struct ycuts *c, const char *value, size_t len, size_t start, size_t end);
/* A literal block scalar at src[start, end) with cuts in it, value[0, len)
 * what libyaml read of it: 0 with its whole value in out when that is
 * provably what libyaml would give reading every byte, 1 when not (the
 * caller reads the whole text), negative out of memory. */
int ycuts_literal_value(struct ycuts *c, const char *value, size_t len, size_t start, size_t end,
			struct gs_buf *out) __attribute__((warn_unused_result));

/* ---- yaml_events.c: libyaml's events, on a thread of their own for a
 * large input (the loader's work runs beside the parser's) ---- */

struct yaml_parser_s;
struct yaml_event_s;
struct yaml_events;

/* *out reads parser's events (input_len: the bytes it reads); stop it
 * even when this fails. */
int yaml_events_start(struct yaml_events **out, struct yaml_parser_s *parser, size_t input_len)
	__attribute__((warn_unused_result));
/* libyaml's next event, handed to yaml_events_done once read; false
 * where yaml_parser_parse fails (the parser's problem then set). */
bool yaml_events_next(struct yaml_events *e, struct yaml_event_s *ev) __attribute__((warn_unused_result));
/* The reader is done with ev, the last event yaml_events_next gave
 * (deleted now, or by the parser thread when it takes the block back). */
void yaml_events_done(struct yaml_events *e, struct yaml_event_s *ev);
/* Ends the parsing, the events not read deleted (before the parser is). */
void yaml_events_stop(struct yaml_events *e);

/* ---- yaml_fast.c: libyaml's events for the shape gitseal writes, for
 * yaml_load (never for a proof's reload, yaml_load_data) ---- */

/* Whether yfast_parse may take the text (a quick look; it may still
 * decline it). */
bool yfast_may_take(const uint8_t *s, size_t len);
/* An event of yfast_parse's, in 24 bytes where libyaml's takes 104: the
 * list of a 10,000-value file is 0.8 MB, not 3.4 MB of pages a load
 * faults in (docs/development.md, "The idle second"). yfast_event_get
 * gives the libyaml event it stands for. */
struct yfast_event {
	const uint8_t *value; /* a scalar's: into the text, or its own (a block scalar) */
	uint32_t start, end;  /* the marks' index */
	uint32_t length;      /* a scalar's value's */
	uint8_t type;         /* yaml_event_type_t */
	uint8_t style;        /* a scalar's, a mapping's or a sequence's style */
};

/* 1: *events[0, *n) stand for the events libyaml gives for s[0, len)
 * (free them with yfast_free); 0: not the shape it reads, nothing made;
 * negative: out of memory. */
int yfast_parse(const uint8_t *s, size_t len, struct yfast_event **events, size_t *n)
	__attribute__((warn_unused_result));
void yfast_free(struct yfast_event *ev, size_t n);
/* The libyaml event c stands for; a scalar's value is c's (not a copy). */
void yfast_event_get(const struct yfast_event *c, struct yaml_event_s *e);
/* libyaml's events for s[0, len) against ev[0, n): 0 the same, 1 not
 * (why says where), negative out of memory. For the tests and the test
 * build's GITSEAL_TEST_YFAST_CHECK. */
int yfast_compare(const uint8_t *s, size_t len, const struct yfast_event *ev, size_t n, char *why,
		  size_t why_size) __attribute__((warn_unused_result));

/* ---- shared by yaml_load.c and yaml_comments.c ---- */

struct yaml_event_s;

/* token indices of comments waiting for their place */
struct ycomment_list {
	uint32_t *v;
	size_t n, cap;
};

struct yframe {
	struct doc_node *node;
	uint32_t rec;            /* its record */
	bool block;
	bool col_known;
	size_t col;              /* block: the column of its keys or dashes */
	bool have_key;           /* a map's key is waiting for its value */
	char *key;
	size_t key_len;
	uint32_t key_first, key_last;
	size_t key_end;          /* where the pending key's text ends */
	uint32_t entry_from;     /* tokens from here on belong to the entry being read */
	size_t flow_start;       /* tree_only: where a flow collection starts */
	struct store_keyset keys;
};

struct yanchor {
	char *name;
	struct doc_node *node;
};

struct yloader {
	struct doc *d;
	struct yaml_syntax *syn;
	struct ylex *lx;
	const uint8_t *src;
	size_t len;
	/* libyaml's marks count characters; these convert them to bytes */
	size_t base, cur_char, cur_byte;
	bool ascii;
	struct yframe *stack;
	int depth;
	size_t ctok;             /* comment tokens before this index are placed */
	struct ycomment_list carry, found;
	/* the last value read: an end-of-line comment after it is its own */
	struct doc_node *last_value_parent;
	size_t last_value_end;
	bool last_was_value;
	struct doc_node *root;
	uint32_t doc_start;      /* the "---" token of the current document */
	uint32_t item_dash;      /* a container starting as a list item: its '-' */
	bool open_ended;         /* the last document ended without "..." */
	struct yanchor *anchors;
	size_t n_anchors, cap_anchors;
	long budget;
	bool tree_only;          /* yaml_load_data: no tokens, no records */
	struct ycuts cuts;       /* tree_only: what libyaml does not read */
};

enum yplace { YPLACE_NODE, YPLACE_CONTAINER_START, YPLACE_BLOCK_END, YPLACE_OTHER };

/* yaml_load.c */
struct yframe *yload_top(struct yloader *l);
/* A record for a node just made (NULL when out of memory). */
struct ynode *yload_new_record(struct yloader *l, struct doc_node *n);
struct ynode *yload_rec(struct yloader *l, uint32_t i);
void yload_extend(struct yloader *l, struct yframe *f, uint32_t tok);

/* yaml_comments.c: places the comments lexed before token index upto. */
int ycomments_place(struct yloader *l, size_t upto, enum yplace what)
	__attribute__((warn_unused_result));
/* Adds the comments waiting since a key or a document start to f. */
int ycomments_flush(struct yloader *l, struct yframe *f) __attribute__((warn_unused_result));
/* A comment on a block scalar's header line: the value's own. */
int ycomments_add_inline(struct yloader *l, struct yframe *f, uint32_t tok)
	__attribute__((warn_unused_result));
void ycomments_release(struct yloader *l);

/* ---- yaml_fresh.c: yaml.v3's layout ---- */

struct yfresh {
	struct gs_buf *out;
	size_t step;          /* indentation step */
	/* the root's sops entry, written as sops writes it when the data
	 * takes the file's own step (0: step) */
	size_t meta_step;
	bool keep_positional; /* floats as sops's text where it reads back as a float */
	bool keep_new_flow;   /* struct doc's: a collection new to syn keeps its flow style */
	/* when patching: the records, whose scalars keep the quoting they had */
	const struct yaml_syntax *syn;
	/* the last literal block written: where it ends in out, the column of
	 * its text, keep chomping ("|+"); what follows it must not read as
	 * more of its text */
	size_t block_end, block_indent;
	bool block_keep;
};

/* The quoting a scalar of this token kind had, to keep. */
enum yaml_style yfresh_style_of(uint8_t kind, bool flow);

/* A whole document. */
int yfresh_document(struct yfresh *f, const struct doc_node *root) __attribute__((warn_unused_result));
/* A key and its ':' at column col (the caller wrote the indentation). */
int yfresh_key(struct yfresh *f, const char *key, size_t len, size_t col)
	__attribute__((warn_unused_result));
/* A block map entry's key and its ':' at column col: as the source spelled
 * it when the entry was loaded with it (unchanged bytes stay), else as
 * yfresh_key writes it. */
int yfresh_entry_key(struct yfresh *f, const struct doc_entry *e, size_t col)
	__attribute__((warn_unused_result));
/* A value after "key:" or "-" (written by the caller, without the space):
 * col is the column of the key or the dash; in_list for a list item;
 * line_comment (or NULL) at the end of its first line. Ends with a line
 * break. */
int yfresh_value(struct yfresh *f, const struct doc_node *v, size_t col, bool in_list,
		 const struct doc_node *line_comment) __attribute__((warn_unused_result));
/* The entry whose line the comment at map's entry i ends when written
 * ("key: value # c"): an end-of-line comment of one line before a
 * scalar's entry; else NULL (the comment takes a line of its own above). */
const struct doc_entry *yfresh_line_comment_owner(const struct doc_node *map, size_t i);
/* A map or list whose first entry starts at the current position, the
 * rest at column col. Ends with a line break. */
int yfresh_block(struct yfresh *f, const struct doc_node *n, size_t col) __attribute__((warn_unused_result));
/* A node in flow style; line_indent is where continuation lines start
 * (comments each take a line of their own). */
int yfresh_flow(struct yfresh *f, const struct doc_node *n, size_t line_indent)
	__attribute__((warn_unused_result));
/* A collection in flow style without its tag: "[", its entries, "]". */
int yfresh_flow_brackets(struct yfresh *f, const struct doc_node *n, size_t line_indent)
	__attribute__((warn_unused_result));
/* A scalar on one line or as a literal block with content at block_indent
 * (parent: the column its indicator counts from); flow: inside [...]. */
int yfresh_scalar(struct yfresh *f, const struct doc_node *n, bool flow, size_t block_indent,
		  size_t parent, enum yaml_style prefer, bool final_break) __attribute__((warn_unused_result));
/* Whether yfresh_scalar would write the node's text as it is (a plain
 * string, no tag): a patcher then takes the text by reference. */
bool yfresh_scalar_as_is(const struct yfresh *f, const struct doc_node *n, bool flow, size_t block_indent,
			 size_t parent, enum yaml_style prefer);
/* A tag in its short form ("!!binary", "!local", "!<...>"), then a space. */
int yfresh_tag(struct yfresh *f, const char *tag) __attribute__((warn_unused_result));
bool yfresh_is_empty(const struct doc_node *n);
/* Whether a collection holds a live entry other than a comment. */
bool yfresh_holds_items(const struct doc_node *n);
/* Whether a collection is written in flow style: one the source (or,
 * with keep_new_flow, another version of the file) wrote so, holding no
 * comment, where the file's layout is kept. */
bool yfresh_stays_flow(const struct yfresh *f, const struct doc_node *v);
/* A comment's text, its line breaks written as spaces. */
int yfresh_comment_text(struct yfresh *f, const struct doc_node *c) __attribute__((warn_unused_result));

/* ---- yaml_patch.c ---- */

/* The source with every change since load written in place. Fails with
 * GS_ERR_GENERIC when a change cannot be placed (the caller then writes
 * the document afresh). */
int yaml_patch(const struct doc *d, const struct yaml_syntax *syn, size_t step, struct gs_buf *out)
	__attribute__((warn_unused_result));

#endif
