/* The merge driver's second pass: a three-way merge of comments, over the
 * tree the data merge made (merge.c). Private to src/git/. */
#ifndef GITSEAL_MERGE_COMMENTS_H
#define GITSEAL_MERGE_COMMENTS_H

#include <stdbool.h>
#include <stddef.h>

#include <sodium.h>

#include "gitseal/doc.h"

struct comment_merge {
	struct doc *d;   /* the merged document, changed in place */
	int pick;        /* MERGE_PICK_*: what a place whose comments conflict takes */
	size_t conflicts;
	/* called with the name of each conflicting place ("the comment above
	 * db.password"): key names, never a value or a comment's text */
	void (*note)(void *ctx, const char *place);
	void *ctx;
	/* every place where ours and theirs differ is a conflict (base
	 * aside); with MERGE_PICK_BASE it takes a comment no version holds */
	bool unknown_where_differ;
	uint8_t hash_key[crypto_shorthash_KEYBYTES]; /* list items are told apart by a keyed hash */
};

void comment_merge_init(struct comment_merge *cm, struct doc *d, int pick);

/* Gives merged (one document of cm->d, after the data merge) the comments
 * of base, ours and theirs merged per place: a comment (or run of
 * comments) is placed by the key or list item that follows it, the end of
 * its collection, or for an end-of-line comment the item whose line it
 * ends. One side changed a place: that side's; both alike: that; both
 * differently, or changed where the other side deleted the item: a
 * conflict (counted, noted, and the place takes cm->pick's side). Any of
 * base, ours and theirs may be NULL. */
int comment_merge_node(struct comment_merge *cm, struct doc_node *merged, const struct doc_node *base,
		       const struct doc_node *ours, const struct doc_node *theirs)
	__attribute__((warn_unused_result));

/* The comments of a document the merged file does not keep (the base's,
 * which the side whose documents were taken changed or removed): every
 * place a side changed there conflicts, as above, and what the place
 * takes (cm->pick's side) goes to the top of host (a merged document), or
 * its end (at_end), so that each side of the markers shows its comments.
 * ours or theirs may be NULL. */
int comment_merge_gone(struct comment_merge *cm, struct doc_node *host, bool at_end, const struct doc_node *base,
		       const struct doc_node *ours, const struct doc_node *theirs) __attribute__((warn_unused_result));

/* Whether a and b hold the same comments at the same places (their data
 * being the same); the order of keys aside. inline_as_above: an
 * end-of-line comment and one on the line above its item count as the
 * same (in YAML both are placed by the item below). 1 if so, 0 if not,
 * GS_ERR_NOMEM (recorded). */
int comments_agree(const struct doc *a, const struct doc *b, bool inline_as_above);

#endif
