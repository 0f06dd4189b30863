/* sops tree paths: '["key"][0]["other"]' (spec 12.4). */
#ifndef GITSEAL_CMD_TREEPATH_H
#define GITSEAL_CMD_TREEPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "gitseal/doc.h"

struct tree_step {
	bool is_index;
	char *key;      /* malloc'd, for map steps */
	size_t key_len;
	size_t index;
};

struct tree_path {
	struct tree_step *steps;
	size_t count;
};

int tree_path_parse(const char *text, struct tree_path *out) __attribute__((warn_unused_result));
void tree_path_release(struct tree_path *p);

/* The entry the path names, or NULL. A list index counts non-comment items. */
struct doc_entry *tree_path_find(struct doc_node *root, const struct tree_path *p,
				 struct doc_node **parent_out);

#endif
