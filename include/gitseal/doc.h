/* The document model every store maps to: an ordered tree of maps, lists,
 * typed scalars and comments. It knows nothing of crypto or file formats.
 *
 * All strings and nodes of a document live in its secure arena (values are
 * plaintext secrets), freed and wiped together by doc_release(). Nodes keep
 * the byte span they came from in the source text, so a store can write a
 * changed document back by replacing only what changed (format
 * preservation). */
#ifndef GITSEAL_DOC_H
#define GITSEAL_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gitseal/secmem.h"

enum doc_kind { DOC_MAP, DOC_LIST, DOC_SCALAR, DOC_COMMENT };

/* Scalar types, as sops names them in ENC[...,type:...]. DOC_TIME comes
 * only from a type:time value (sops's Go time.Time): no store reads one,
 * each writes it as its text, and reads that back as a string. */
enum doc_type { DOC_STR, DOC_INT, DOC_FLOAT, DOC_BOOL, DOC_NULL, DOC_TIME };

enum doc_format { DOC_FORMAT_YAML, DOC_FORMAT_JSON, DOC_FORMAT_DOTENV, DOC_FORMAT_INI,
		  DOC_FORMAT_BINARY };

#define DOC_NO_POS ((size_t)-1)

/* The most nodes a loaded document may hold. A value costs a few hundred
 * bytes however short its text (node, entry, ciphertext, output), so
 * without a bound a hostile 256 MiB file of one-character values would
 * take gigabytes; 2^20 is far past any secrets file and keeps a document
 * within a few hundred MiB. */
enum { DOC_MAX_NODES = 1 << 20 };

/* A shared source (doc.share_source) holds string values from this many
 * bytes on; shorter ones are copied. The fuzz build (make fuzz) shares
 * from 8 bytes on, so its small inputs reach the shared values. */
#ifdef GITSEAL_FUZZING
enum { DOC_SHARE_MIN = 8 };
#else
enum { DOC_SHARE_MIN = 256 };
#endif

struct doc_span {
	size_t start; /* byte offset in doc.source; DOC_NO_POS when the node is new */
	size_t end;   /* exclusive */
};

struct doc_entry;

struct doc_node {
	enum doc_kind kind;
	/* Scalars and comments. text is the value in sops's plaintext form:
	 * str = its bytes; int = decimal, or as the file spelled it where
	 * Go's Atoi reads that as the same number ("+5", "007", "-0":
	 * store_int_spelling_kept); float = shortest positional
	 * ("1.5", "1000000000000000000000", "NaN", "+Inf"), or the JSON
	 * number or YAML float as the file spelled it ("1.0", "-2.5e3", "08",
	 * ".5": yaml_float_spelling_kept); bool = "true" or
	 * "false"; null = ""; time = RFC 3339 as Go's Time.MarshalText
	 * writes it ("2024-01-02T03:04:05.5Z": sops_time_value_canonical). A
	 * comment is its text without the leading '#'. */
	enum doc_type type;
	char *text;
	size_t len;
	/* A YAML tag that says more than the node's kind and type ("!!binary",
	 * "!local", in libyaml's resolved form "tag:yaml.org,2002:binary");
	 * NULL when there is none or when it only restates them ("!!str",
	 * "!!int", "!!map"...). Data: readers see a tagged value differently,
	 * so doc_equal compares tags; doc_scalar_set drops it, as sops does. */
	char *tag;
	int style;            /* the store's presentation (quote style...) */
	bool inline_comment;  /* a comment at the end of a value's line */
	bool dirty;           /* text changed since load: the store re-renders it */
	struct doc_span span; /* of the value, or the comment including '#' */
	/* The loading store's record of where the node came from (an index
	 * into its store_data, plus one); 0 for nodes made since. */
	size_t origin;
	/* Maps and lists. In a list every entry's key is NULL. In a map a
	 * comment item is an entry with key NULL and a DOC_COMMENT value. */
	struct doc_entry *entries;
	size_t count;
	size_t cap;
	bool flow;            /* written in flow style ({...} / [...]) */
};

struct doc_entry {
	char *key;
	size_t key_len;
	struct doc_span key_span;
	struct doc_node *value;
	/* The loading store's record of the entry (of the value it was loaded
	 * with, which may since have been replaced); 0 for entries made since. */
	size_t origin;
	bool removed;         /* dropped on output (e.g. the sops key on decrypt) */
};

struct doc {
	struct gs_arena arena;
	enum doc_format format;
	struct doc_node **branches; /* YAML documents; one for other formats */
	size_t count;
	size_t cap;
	struct gs_buf source;       /* the text the document was loaded from */
	/* Set before a load by a caller that reads node texts by their
	 * length only (the encrypt pipeline): a large string value whose
	 * bytes are the source's then points into it (doc_new_scalar_at)
	 * instead of being copied, and source_shared is set. The source
	 * text then holds the tree and goes only with the document: a layout
	 * dropped (doc_drop_source) keeps it in held_source. */
	bool share_source;
	bool source_shared;
	struct gs_buf held_source;
	void *store_data;           /* private to the store that loaded it */
	void (*store_data_free)(void *);
	/* YAML: a collection that is new to the source keeps the flow style
	 * it has (a merge's value taken from another version's text); else
	 * new collections are written in block style, as sops writes them */
	bool keep_new_flow;
	size_t nodes;               /* made so far */
	size_t node_limit;          /* no node past this many; 0 = none */
	/* Entry arrays a map outgrew, by capacity (4 << i entries), for the
	 * next map that grows to that size (doc.c, grow_entries) */
	struct doc_entry *spare_entries[16];
};

void doc_init(struct doc *d, enum doc_format format);
void doc_release(struct doc *d);
/* True once the document has made node_limit nodes: every later doc_new_*
 * returns NULL. store_load() allows DOC_MAX_NODES more while it loads (or
 * node_limit more, when that was set smaller beforehand) and then reports
 * GS_ERR_LIMIT. */
bool doc_budget_spent(const struct doc *d);
/* Before a load of text: the arena's next block is sized for what the
 * load will make (an estimate from its length and lines), so that a large
 * document takes one or two mappings instead of growing block by block. */
void doc_expect_text(struct doc *d, const uint8_t *text, size_t len);

struct doc_node *doc_new_map(struct doc *d);
struct doc_node *doc_new_list(struct doc *d);
/* Copies text into the arena. */
struct doc_node *doc_new_scalar(struct doc *d, enum doc_type type, const char *text, size_t len);
struct doc_node *doc_new_comment(struct doc *d, const char *text, size_t len);
/* A string scalar whose text is source[start, start + len): pointing
 * into the source when the document shares it (share_source) and the
 * text is large, else copied. Its text is then not followed by a NUL. */
struct doc_node *doc_new_scalar_at(struct doc *d, enum doc_type type, size_t start, size_t len);
/* Drops the source text (the layout it gave): freed, or held while the
 * tree points into it. */
void doc_drop_source(struct doc *d);
int doc_add_branch(struct doc *d, struct doc_node *map) __attribute__((warn_unused_result));

/* Appends an entry (key copied into the arena; key NULL for list items and
 * comments). Returns the entry, or NULL when out of memory. */
struct doc_entry *doc_append(struct doc *d, struct doc_node *parent, const char *key,
			     size_t key_len, struct doc_node *value);

/* Replaces a scalar's value and marks it dirty; its tag goes (a value
 * set or encrypted is what the caller gave, not what the tag said). */
int doc_scalar_set(struct doc *d, struct doc_node *n, enum doc_type type, const char *text,
		   size_t len) __attribute__((warn_unused_result));

/* The first entry of map with this key that is not removed, or NULL. */
struct doc_entry *doc_map_find(const struct doc_node *map, const char *key);

/* Copies a tag into the arena (tag NULL: none). */
int doc_node_set_tag(struct doc *d, struct doc_node *n, const char *tag)
	__attribute__((warn_unused_result));

/* Deep copy of a node into another (or the same) document; spans and
 * origins dropped, tags kept. */
struct doc_node *doc_clone(struct doc *dst, const struct doc_node *n);

/* Compares two documents as data: the same number of documents, and in
 * each the same kinds, keys in the same order, scalar types and bytes
 * (a float's value, however spelled), tags, and comment texts. Layout (quote style, flow, spans, dirty marks) and removed
 * entries do not count. Returns true when equal; otherwise, when where is
 * not NULL, writes the path of the first difference in sops's form
 * (`doc 0: ["db"]["password"]`, no values) into where[where_size]. This is
 * the oracle of every verified write and of the store fuzzers. */
bool doc_equal(const struct doc *a, const struct doc *b, char *where, size_t where_size);
/* One step of such a path into buf[size] (NUL-terminated): ["key"] for a
 * map entry (its first 64 bytes, a control character escaped: a message
 * naming it stays one line), [index] for a list's. Returns its length. */
size_t doc_path_step(char *buf, size_t size, const struct doc_entry *e, size_t index);

const char *doc_type_name(enum doc_type t);
int doc_type_from_name(const char *name, size_t len, enum doc_type *out);

#endif
