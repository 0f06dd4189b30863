#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/shown.h"
#include "treepath.h"

int tree_path_parse(const char *text, struct tree_path *out)
{
	const char *p = text;

	memset(out, 0, sizeof(*out));
	if (!*p)
		return GS_FAIL(GS_ERR_TREE_PATH, "empty tree path");
	while (*p) {
		struct tree_step step = { 0 }, *grown;
		const char *end;

		if (*p != '[')
			goto bad;
		p++;
		if (*p == '"' || *p == '\'') {
			char quote = *p++;

			end = strchr(p, quote);
			if (!end || end[1] != ']')
				goto bad;
			step.key = gs_strndup(p, (size_t)(end - p));
			if (!step.key)
				return GS_FAIL(GS_ERR_NOMEM, "out of memory");
			step.key_len = (size_t)(end - p);
			p = end + 2;
		} else {
			size_t v = 0;

			if (*p < '0' || *p > '9')
				goto bad;
			while (*p >= '0' && *p <= '9') {
				if (v > (SIZE_MAX - 9) / 10)
					goto bad;
				v = v * 10 + (size_t)(*p++ - '0');
			}
			if (*p++ != ']')
				goto bad;
			step.is_index = true;
			step.index = v;
		}
		grown = gs_realloc(out->steps, (out->count + 1) * sizeof(*grown));
		if (!grown) {
			free(step.key);
			tree_path_release(out);
			return GS_FAIL(GS_ERR_NOMEM, "out of memory");
		}
		out->steps = grown;
		out->steps[out->count++] = step;
	}
	return 0;
bad:
	tree_path_release(out);
	return GS_FAIL(GS_ERR_TREE_PATH, "invalid tree path '%s' (expected e.g. '[\"key\"][0]')", gs_shown(text));
}

void tree_path_release(struct tree_path *p)
{
	for (size_t i = 0; i < p->count; i++)
		free(p->steps[i].key);
	free(p->steps);
	memset(p, 0, sizeof(*p));
}

static struct doc_entry *step_into(struct doc_node *node, const struct tree_step *s)
{
	size_t seen = 0;

	if (s->is_index && node->kind == DOC_LIST) {
		for (size_t i = 0; i < node->count; i++) {
			struct doc_entry *e = &node->entries[i];

			if (e->removed || e->value->kind == DOC_COMMENT)
				continue;
			if (seen++ == s->index)
				return e;
		}
		return NULL;
	}
	if (!s->is_index && node->kind == DOC_MAP) {
		for (size_t i = 0; i < node->count; i++) {
			struct doc_entry *e = &node->entries[i];

			if (e->key && !e->removed && e->key_len == s->key_len &&
			    memcmp(e->key, s->key, s->key_len) == 0)
				return e;
		}
	}
	return NULL;
}

struct doc_entry *tree_path_find(struct doc_node *root, const struct tree_path *p,
				 struct doc_node **parent_out)
{
	struct doc_node *node = root;
	struct doc_entry *e = NULL;

	for (size_t i = 0; i < p->count; i++) {
		if (!node)
			return NULL;
		if (parent_out)
			*parent_out = node;
		e = step_into(node, &p->steps[i]);
		if (!e)
			return NULL;
		node = e->value;
	}
	return e;
}
