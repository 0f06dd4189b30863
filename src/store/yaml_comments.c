/* Where a YAML comment goes in sops's model (spec 3.4; sops stores/yaml
 * over yaml.v3): every comment line is an entry of the map or list around
 * it. A value's end-of-line comment goes before that value's entry; a
 * key's own line comment before its entry; the comments between a key and
 * the map or list that is its value become that container's first
 * entries; at the end of a block, comments less indented than its entries
 * belong to an outer one. */
#include <stdlib.h>
#include <string.h>

#include "gitseal/array.h"
#include "gitseal/error.h"
#include "yaml_int.h"

static int list_push(struct ycomment_list *c, uint32_t tok)
{
	int ret = GS_ARRAY_GROW(c->v, c->n, c->cap, 8);

	if (ret)
		return ret;
	c->v[c->n++] = tok;
	return 0;
}

void ycomments_release(struct yloader *l)
{
	free(l->carry.v);
	free(l->found.v);
	memset(&l->carry, 0, sizeof(l->carry));
	memset(&l->found, 0, sizeof(l->found));
}

static int add_comment(struct yloader *l, struct yframe *f, uint32_t tok, bool inline_c)
{
	const struct ytok *t = &l->lx->v[tok];
	struct doc_node *n = doc_new_comment(l->d, (const char *)l->src + t->start + 1,
					     t->end - t->start - 1);
	struct doc_node *parent = f->node;
	struct doc_entry *e;
	struct ynode *r;

	if (!n || !(e = doc_append(l->d, parent, NULL, 0, n)) || !(r = yload_new_record(l, n)))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	n->inline_comment = inline_c;
	e->origin = n->origin;
	r->lead = r->first = r->body = r->last = tok;
	r->flags = inline_c ? YN_INLINE : 0;
	if (inline_c && parent->count >= 2) {
		/* sops 3.4: a value's end-of-line comment goes before its entry */
		struct doc_entry tmp = parent->entries[parent->count - 1];

		parent->entries[parent->count - 1] = parent->entries[parent->count - 2];
		parent->entries[parent->count - 2] = tmp;
	}
	yload_extend(l, f, tok);
	r = yload_rec(l, f->rec);
	if (f->block && (r->body == YNONE || tok < r->body)) {
		/* a block collection starts with its first entry, comments too */
		r->body = tok;
		if (r->first == YNONE || tok < r->first)
			r->first = tok;
	}
	return 0;
}

int ycomments_add_inline(struct yloader *l, struct yframe *f, uint32_t tok)
{
	if (tok + 1 > l->ctok)
		l->ctok = tok + 1;
	return add_comment(l, f, tok, true);
}

int ycomments_flush(struct yloader *l, struct yframe *f)
{
	int ret = 0;

	for (size_t i = 0; i < l->carry.n && !ret; i++)
		ret = add_comment(l, f, l->carry.v[i], false);
	l->carry.n = 0;
	return ret;
}

static bool full_line(const struct yloader *l, uint32_t tok)
{
	size_t start = l->lx->v[tok].start;

	return ysrc_blank(l->lx, ysrc_line_start(l->lx, start), start);
}

/* At the end of a block: a comment less indented than its entries, and
 * every one after it, is the outer block's (carried). */
static int place_at_block_end(struct yloader *l, struct yframe *f, const struct ycomment_list *all,
			      size_t i)
{
	bool deferring = false;
	int ret = 0;

	for (; i < all->n && !ret; i++) {
		uint32_t tok = all->v[i];
		bool whole = full_line(l, tok);

		if (!deferring && f->col_known && whole &&
		    ysrc_column(l->lx, l->lx->v[tok].start) < f->col)
			deferring = true;
		if (!f->col_known && whole && l->depth > 1)
			deferring = true;
		ret = deferring ? list_push(&l->carry, tok) : add_comment(l, f, tok, false);
	}
	return ret;
}

static int place(struct yloader *l, struct yframe *f, const struct ycomment_list *all,
		 enum yplace what)
{
	size_t i = 0;
	int ret = 0;

	if (!f) {
		for (; i < all->n && !ret; i++)
			ret = list_push(&l->carry, all->v[i]);
		return ret;
	}
	if (l->last_was_value && l->last_value_parent == f->node &&
	    ysrc_same_line(l->lx, l->last_value_end, l->lx->v[all->v[0]].start)) {
		if ((ret = add_comment(l, f, all->v[0], true)))
			return ret;
		i = 1;
	}
	if (f->node->kind == DOC_MAP && f->have_key) {
		/* the key's own line comment goes before the entry */
		for (; i < all->n && ysrc_same_line(l->lx, f->key_end, l->lx->v[all->v[i]].start); i++)
			if ((ret = add_comment(l, f, all->v[i], false)))
				return ret;
		/* head comments of the nested container's first entry */
		if (what == YPLACE_CONTAINER_START) {
			for (; i < all->n && !ret; i++)
				ret = list_push(&l->carry, all->v[i]);
			return ret;
		}
	}
	if (what == YPLACE_CONTAINER_START && l->item_dash != YNONE) {
		/* after a list item's '-': the first entries of the container it
		 * holds (so "- # c" then "  a: 1" keeps the comment with "a") */
		for (; i < all->n && all->v[i] < l->item_dash && !ret; i++)
			ret = add_comment(l, f, all->v[i], false);
		for (; i < all->n && !ret; i++)
			ret = list_push(&l->carry, all->v[i]);
		return ret;
	}
	if (what == YPLACE_BLOCK_END && f->block)
		return place_at_block_end(l, f, all, i);
	for (; i < all->n && !ret; i++)
		ret = add_comment(l, f, all->v[i], false);
	return ret;
}

int ycomments_place(struct yloader *l, size_t upto, enum yplace what)
{
	struct ycomment_list *all = &l->found;
	int ret = 0;

	all->n = 0;
	/* the carried comments come first: they precede this gap */
	for (size_t k = 0; k < l->carry.n && !ret; k++)
		ret = list_push(all, l->carry.v[k]);
	for (size_t k = l->ctok; k < upto && k < l->lx->n && !ret; k++)
		if (l->lx->v[k].kind == YT_COMMENT)
			ret = list_push(all, (uint32_t)k);
	if (upto > l->ctok)
		l->ctok = upto;
	l->carry.n = 0;
	if (ret || !all->n)
		return ret;
	return place(l, yload_top(l), all, what);
}
