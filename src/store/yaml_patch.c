/* A changed YAML document written back as edits over its tokens: what did
 * not change keeps its bytes. Each change is one of a few operations on a
 * map or list entry's tokens (yaml_int.h, struct ynode):
 *
 *   a value replaced   its text, or a new value written where it was; a
 *                      literal block's lines go after everything else on
 *                      the line (a comment stays on the header line);
 *   an entry cut       its lines, when they hold nothing else;
 *   entries added      lines after the entry before them;
 *   a list comment     becomes an item ("- ENC[...]") on a line of its own
 *                      at the list's dash column, and back (sops keeps a
 *                      comment in a list as a list element, spec 3.4);
 *   an alias           written out when what it names changed.
 *
 * A collection where a change fits none of these is written afresh in
 * its place (flow collections in flow style), so the worst case is local.
 * Edits never overlap (store_edits strict). */
#include <stdlib.h>
#include <string.h>

#include "gitseal/alloc.h"
#include "gitseal/error.h"
#include "gitseal/sops_format.h"
#include "gitseal/store.h"
#include "yaml_int.h"

#define YNONE_POS SIZE_MAX

enum {
	RERENDER = 1,    /* the collection is written afresh by its parent */
	ST_CHANGED = 1,  /* per record: something in its subtree changed */
	ST_TOUCHED = 2,  /* its text is cut or rewritten (an anchor there is gone) */
	ST_MOVED = 4,    /* a comment already written elsewhere (keep_comment_after) */
};

struct patcher {
	const struct yaml_syntax *syn;
	const struct ylex *lx;
	const uint8_t *src;
	size_t len;
	struct store_edits ed;
	struct yfresh fresh; /* writes into ed.pool */
	size_t block_step;   /* how far literal blocks are indented: the file's step */
	size_t data_step;    /* new block collections of data: the file's step */
	/* the last literal block written in place of a scalar: the source
	 * line it ends on (at), its indentation and chomping */
	struct {
		bool set, keep;
		size_t at, indent;
	} last_block;
	uint8_t *state;      /* per record */
	/* the value render() took by reference instead of writing it into
	 * the pool: a string written as it is (an ENC[...] value, however
	 * large, is not copied) */
	const struct doc_node *ref;
};

/* ---- tokens and records ---- */

static size_t tstart(const struct patcher *p, uint32_t i)
{
	return p->lx->v[i].start;
}

static size_t tend(const struct patcher *p, uint32_t i)
{
	return p->lx->v[i].end;
}

static uint8_t tkind(const struct patcher *p, uint32_t i)
{
	return i == YNONE ? 0xFF : p->lx->v[i].kind;
}

static uint32_t rec_index(const struct patcher *p, const struct ynode *r)
{
	return (uint32_t)(r - p->syn->v);
}

static const struct ynode *entry_rec(const struct patcher *p, const struct doc_entry *e)
{
	return e->origin && e->origin <= p->syn->n ? &p->syn->v[e->origin - 1] : NULL;
}

static bool first_on_line(const struct patcher *p, size_t pos)
{
	return ysrc_blank(p->lx, ysrc_line_start(p->lx, pos), pos);
}

/* Nothing but blanks from pos to the end of its line. */
static bool rest_blank(const struct patcher *p, size_t pos)
{
	return ysrc_blank(p->lx, pos, ysrc_line_end(p->lx, pos));
}

static void touch(struct patcher *p, const struct ynode *r)
{
	for (uint32_t i = rec_index(p, r); i < r->end_rec; i++)
		p->state[i] |= ST_TOUCHED;
}

/* ---- what changed ---- */

static bool comment_token(const struct patcher *p, const struct ynode *r)
{
	return tkind(p, r->body) == YT_COMMENT;
}

/* Whether the node is no longer what its record describes. */
static bool reshaped(const struct patcher *p, const struct doc_node *n, const struct ynode *r)
{
	if (n->kind == DOC_MAP || n->kind == DOC_LIST || (r->flags & YN_ALIAS))
		return r->kind != n->kind;
	return (n->kind == DOC_COMMENT) != comment_token(p, r) ||
	       (r->kind == DOC_MAP || r->kind == DOC_LIST);
}

static bool alias_stale(const struct patcher *p, const struct ynode *r);

/* Whether a map's or list's tag is another than it was loaded with (a
 * merge takes the side that changed it). */
static bool tag_changed(const struct doc_node *n, const struct ynode *r)
{
	if (n->kind != DOC_MAP && n->kind != DOC_LIST)
		return false;
	if (!n->tag || !r->tag)
		return n->tag != r->tag;
	return strcmp(n->tag, r->tag) != 0;
}

/* Marks every record whose subtree changed (bottom-up, once). */
static bool mark_changes(struct patcher *p, const struct doc_node *n, int depth)
{
	const struct ynode *r = ysyn_node(p->syn, n);
	bool changed = !r || n->dirty || reshaped(p, n, r) || tag_changed(n, r) || depth > STORE_MAX_DEPTH;

	for (size_t i = 0; i < n->count && depth <= STORE_MAX_DEPTH; i++) {
		const struct doc_entry *e = &n->entries[i];
		const struct ynode *er = entry_rec(p, e);

		if (e->removed) {
			/* cut: an anchor there is gone for the aliases after it */
			if (er)
				touch(p, er);
			changed |= er != NULL;
			continue;
		}
		if (!er || ysyn_node(p->syn, e->value) != er)
			changed = true;
		changed |= mark_changes(p, e->value, depth + 1);
	}
	/* an alias whose anchored node changed or goes is written out, also
	 * where nothing else around it changed (its anchor comes before it,
	 * so that node's state is known here) */
	if (r && r->target != YNONE && alias_stale(p, r))
		changed = true;
	if (r && changed)
		p->state[rec_index(p, r)] |= ST_CHANGED;
	return changed;
}

static bool changed(const struct patcher *p, const struct ynode *r)
{
	return p->state[rec_index(p, r)] & ST_CHANGED;
}

/* An alias is written out when what it names changed, was cut or
 * rewritten (the anchor gone); an alias of a key, whose entry may be
 * cut, whenever anything changes. */
static bool alias_stale(const struct patcher *p, const struct ynode *r)
{
	if (!(r->flags & YN_ALIAS) || (r->flags & YN_IN_COPY) != 0)
		return false;
	if (changed(p, r) || r->target == YNONE)
		return true;
	return (p->state[r->target] & (ST_CHANGED | ST_TOUCHED)) != 0;
}

/* ---- edits ---- */

static int edit(struct patcher *p, size_t start, size_t end, size_t mark)
{
	return store_edits_push(&p->ed, start, end, mark);
}

static int edit_text(struct patcher *p, size_t start, size_t end, const char *s, size_t n)
{
	size_t mark = p->ed.pool.len;

	if (gs_buf_append(&p->ed.pool, s, n))
		return GS_FAIL(GS_ERR_NOMEM, "out of memory");
	return edit(p, start, end, mark);
}

static int put(struct patcher *p, const char *s, size_t n)
{
	return store_put(&p->ed.pool, s, n);
}

static int put_spaces(struct patcher *p, size_t n)
{
	return store_put_spaces(&p->ed.pool, n);
}

/* A plain scalar in block context takes in the blank lines after it, tabs
 * and all, and the blanks before a comment on the next line; written
 * another way, cut, or followed by new lines or a comment, a tab there no
 * longer loads (fuzz_yaml). From *line on, the next line between tok and
 * the token after it whose leading blanks, [*line, *end), hold a tab. */
static bool next_tab_line(const struct patcher *p, uint32_t tok, size_t *line, size_t *end)
{
	size_t stop = tok + 1 < p->lx->n ? tstart(p, tok + 1) : p->len;

	for (; *line < stop && *line < p->len; *line = ysrc_next_line(p->lx, *line)) {
		size_t k = *line;
		bool tab = false;

		while (k < p->len && (p->src[k] == ' ' || p->src[k] == '\t'))
			tab |= p->src[k++] == '\t';
		if (tab) {
			*end = k;
			return true;
		}
	}
	return false;
}

/* Those lines lose their leading blanks. */
static int clear_tab_lines_after(struct patcher *p, uint32_t tok)
{
	size_t line = ysrc_next_line(p->lx, tend(p, tok)), end;
	int ret = 0;

	for (; !ret && next_tab_line(p, tok, &line, &end); line = ysrc_next_line(p->lx, line))
		ret = edit_text(p, line, end, "", 0);
	return ret;
}

static int clear_tab_lines(struct patcher *p, uint32_t tok)
{
	return tkind(p, tok) == YT_PLAIN ? clear_tab_lines_after(p, tok) : 0;
}

/* ---- where a value goes ---- */

/* The text of an entry's value and what surrounds it, in block context. */
struct slot {
	size_t ind_end;        /* after ':' or '-' */
	size_t at;             /* where a value on the indicator's line goes */
	size_t start, end;     /* the old value's text (properties excluded) */
	size_t body_start, body_end; /* an old block scalar's lines, or its line's end */
	bool header_comment;   /* a comment on an old block scalar's header line */
	bool own_line;         /* it starts a line below the indicator */
	size_t col;            /* then its column */
	size_t owner;          /* the column of the key or dash */
	size_t block_col;      /* an old block scalar's text: its column; 0 when none */
	bool up;               /* the new value goes on the indicator's line, the old lines go */
};

/* Properties stay where they are, except tags: a value set or encrypted
 * is what the caller gave, not what the tag said (sops drops them too). */
static int drop_tags(struct patcher *p, const struct ynode *r)
{
	int ret = 0;

	for (uint32_t t = r->first; t != YNONE && t < r->body && t <= r->last && !ret; t++) {
		size_t e = tend(p, t);

		if (tkind(p, t) != YT_TAG)
			continue;
		while (e < p->len && (p->src[e] == ' ' || p->src[e] == '\t'))
			e++;
		/* a comment keeps a blank before it (fuzz_yaml); a space, not
		 * a tab: a tag at the start of a line let libyaml pass over
		 * the tab after it, which at the start of a line it refuses
		 * (fuzz_yaml: "o:\r !\t#") */
		if (e < p->len && p->src[e] == '#') {
			bool tab = memchr(p->src + tend(p, t), '\t', e - tend(p, t)) != NULL;

			ret = tab ? edit_text(p, tstart(p, t), e, " ", 1)
				  : edit_text(p, tstart(p, t), tend(p, t), "", 0);
			continue;
		}
		ret = edit_text(p, tstart(p, t), e, "", 0);
	}
	return ret;
}

/* The spaces that start the line of pos. */
static size_t leading_spaces(const struct patcher *p, size_t pos)
{
	size_t at = ysrc_line_start(p->lx, pos), n = 0;

	while (at + n < pos && p->src[at + n] == ' ')
		n++;
	return n;
}

/* The column of a block scalar's text: its indentation indicator counted
 * from the owner's column, else its first line that holds more than
 * blanks (libyaml's rule); 0 when it has no such line or the column is
 * not past the owner's by one digit. */
static size_t block_text_col(const struct patcher *p, uint32_t header, size_t body_start, size_t body_end,
			     size_t owner)
{
	size_t col = 0;

	for (size_t i = tstart(p, header) + 1; i < tend(p, header) && !col; i++)
		if (p->src[i] >= '1' && p->src[i] <= '9')
			col = owner + (size_t)(p->src[i] - '0');
	for (size_t line = ysrc_next_line(p->lx, body_start); !col && line < body_end;
	     line = ysrc_next_line(p->lx, line)) {
		size_t k = 0;

		while (line + k < body_end && p->src[line + k] == ' ')
			k++;
		if (line + k < body_end && !ysrc_break_len(p->src, p->len, line + k))
			col = k;
	}
	return col > owner && col - owner <= 9 ? col : 0;
}

static bool slot_of(const struct patcher *p, const struct ynode *cr, const struct ynode *r,
		    struct slot *s)
{
	uint32_t text = r->body, props_end = YNONE;

	memset(s, 0, sizeof(*s));
	s->owner = cr->col;
	if (r->ind == YNONE)
		return false;
	s->ind_end = s->at = tend(p, r->ind);
	/* a value goes after its anchor, or where a tag (which goes) was */
	for (uint32_t t = r->first; t != YNONE && t <= r->last && t != text; t++) {
		if (tkind(p, t) == YT_ANCHOR)
			props_end = t;
		else if (tkind(p, t) == YT_TAG && props_end == YNONE && s->at == s->ind_end)
			s->at = tstart(p, t);
	}
	if (props_end != YNONE)
		s->at = tend(p, props_end);
	if (text == YNONE) {
		s->start = s->end = s->at;
		s->body_start = s->body_end = ysrc_line_end(p->lx, s->at);
		return true;
	}
	s->start = tstart(p, text);
	s->end = tend(p, r->last);
	s->body_start = s->body_end = ysrc_line_end(p->lx, s->end);
	/* a block scalar: its header, then its lines (a collection may end
	 * with one too: "? |" and its lines, fuzz_yaml) */
	if ((tkind(p, text) == YT_LITERAL || tkind(p, text) == YT_FOLDED) && tkind(p, r->last) == YT_BODY) {
		s->header_comment = tkind(p, r->last - 1) == YT_COMMENT;
		s->end = tend(p, text);
		s->body_start = tstart(p, r->last);
		s->body_end = tend(p, r->last);
		s->block_col = block_text_col(p, text, s->body_start, s->body_end, s->owner);
	}
	s->own_line = !ysrc_same_line(p->lx, s->at, s->start);
	s->col = s->own_line ? ysrc_column(p->lx, s->start) : 0;
	/* below its key but not deeper, only a block scalar sits: the new
	 * value moves up to the indicator's line (fuzz_yaml). Deeper counts
	 * in spaces: a tab is no indentation to the loader */
	s->up = s->own_line && (s->col <= s->owner || leading_spaces(p, s->start) <= s->owner);
	return true;
}

/* Where what was written from mark on breaks its first line. */
static size_t split_at_break(const struct patcher *p, size_t mark)
{
	const uint8_t *nl = p->ed.pool.len > mark ? memchr(p->ed.pool.data + mark, '\n', p->ed.pool.len - mark)
						  : NULL;

	return nl ? (size_t)(nl - p->ed.pool.data) : p->ed.pool.len;
}

static bool moves_up(const struct slot *s)
{
	return s->up;
}

/* Places the head pool[hm, bm) and the body pool[bm, pool end): the head
 * where the old value was, the body (a literal block's lines, a block
 * collection below its key) after everything else on that line. */
static int place(struct patcher *p, const struct slot *s, size_t hm, size_t bm)
{
	size_t be = p->ed.pool.len, line_end, head_at, gap;
	bool first;
	int ret;

	if (!moves_up(s)) {
		if (s->start == s->at && (bm > hm || p->ref) && s->at > 0 && p->src[s->at - 1] != ' ' &&
		    p->src[s->at - 1] != '\t' && (ret = edit_text(p, s->at, s->at, " ", 1)))
			return ret;
		ret = p->ref ? store_edits_push_text(&p->ed, s->start, s->end, (const uint8_t *)p->ref->text,
						     p->ref->len)
			     : store_edits_push_pool(&p->ed, s->start, s->end, hm, bm - hm);
		if (ret)
			return ret;
		if (be == bm && s->body_start == s->body_end)
			return 0;
		return store_edits_push_pool(&p->ed, s->body_start, s->body_end, bm, be - bm);
	}
	line_end = ysrc_line_end(p->lx, s->at);
	head_at = rest_blank(p, s->at) ? line_end : s->at; /* trailing blanks go */
	/* one blank between the indicator and the value ("- !!seq" keeps its
	 * own where the tag goes) */
	gap = (s->at > 0 && (p->src[s->at - 1] == ' ' || p->src[s->at - 1] == '\t')) || (bm == hm && !p->ref) ? 0 : 1;
	if ((ret = edit_text(p, s->at, head_at, " ", gap)) ||
	    (ret = store_edits_push_pool(&p->ed, head_at, head_at, hm, bm - hm)) ||
	    (ret = store_edits_push_pool(&p->ed, line_end, line_end, bm, be - bm)))
		return ret;
	/* its line goes with it when nothing else is on it; else the line
	 * break stays */
	first = first_on_line(p, s->start);
	return edit_text(p, first ? ysrc_line_start(p->lx, s->start) : s->start,
			 first && rest_blank(p, s->body_end) ? ysrc_next_line(p->lx, s->body_end) : s->body_end,
			 "", 0);
}

/* Drops the line break that ends what a fresh writer wrote. */
static void chop_break(struct patcher *p, size_t mark)
{
	if (p->ed.pool.len > mark && p->ed.pool.data[p->ed.pool.len - 1] == '\n')
		p->ed.pool.len--;
}

/* Whether a literal block with content at `indent` written before `at`
 * keeps its text: what follows must not read as more of it (a line as
 * deep as the text, blanks past the indentation, or under keep chomping
 * any blank line: fuzz_yaml). */
static bool lines_fit_until(const struct patcher *p, size_t line, size_t stop, size_t indent, bool keep)
{
	for (; line < stop; line = ysrc_next_line(p->lx, line)) {
		size_t k = 0, w = 0;

		while (line + k < p->len && p->src[line + k] == ' ')
			k++;
		for (w = k; line + w < p->len && (p->src[line + w] == ' ' || p->src[line + w] == '\t'); w++)
			;
		if (line + w < p->len && !ysrc_break_len(p->src, p->len, line + w))
			return k < indent;
		if (keep || w > indent)
			return false;
	}
	return true;
}

static bool lines_fit(const struct patcher *p, size_t line, size_t indent, bool keep)
{
	return lines_fit_until(p, line, p->len, indent, keep);
}

/* Whether the line break at pos is one a reader keeps in a block's text:
 * libyaml and yaml.v3 read a line or paragraph separator (U+2028, U+2029)
 * as a line break but copy it into the value, so a block whose last line
 * ends in one holds another value (fuzz_yaml). */
static bool break_kept_in_text(const struct patcher *p, size_t pos)
{
	return ysrc_break_len(p->src, p->len, pos) == 3;
}

static bool block_fits(const struct patcher *p, size_t at, size_t indent, bool keep)
{
	if (break_kept_in_text(p, ysrc_line_end(p->lx, at)))
		return false;
	return lines_fit(p, ysrc_next_line(p->lx, at), indent, keep);
}

/* A block written at the slot's place: moved up to the indicator's line,
 * it is followed by the blank lines before its old text, then by what
 * followed that text (its own lines go: fuzz_yaml). */
static bool slot_block_fits(const struct patcher *p, const struct slot *s, size_t indent, bool keep)
{
	if (moves_up(s) && (break_kept_in_text(p, ysrc_line_end(p->lx, s->at)) ||
			    !lines_fit_until(p, ysrc_next_line(p->lx, s->at), ysrc_line_start(p->lx, s->start),
					     indent, keep)))
		return false;
	return block_fits(p, s->body_end, indent, keep);
}

/* Whether the text written from mark on ends with a literal block (the
 * writer records the last one it wrote; a stripped one gets its line
 * break after that). */
static bool ends_in_block(const struct patcher *p, size_t mark)
{
	size_t len = p->ed.pool.len, end = p->fresh.block_end;

	return end > mark && (end == len || (end + 1 == len && p->ed.pool.data[end] == '\n'));
}

/* Text written afresh from mark on, ending in its line break, in place of
 * source text that ends at `end`. Its break is the one that ends the
 * source's line, but where a literal block ends the file, which then
 * needs its own (fuzz_yaml: the block lost its last line break). Sets *to
 * past the blanks after `end` (else they would join its last line, a
 * literal block's text there). RERENDER when what follows would read as
 * more of a literal block it ends with. */
static int fit_tail(struct patcher *p, size_t mark, size_t end, size_t *to)
{
	bool block = ends_in_block(p, mark);
	size_t e = end;

	while (e < p->len && (p->src[e] == ' ' || p->src[e] == '\t'))
		e++;
	*to = e;
	if (e >= p->len) {
		/* the file keeps its end (no line break), not the blanks: they
		 * would join a comment written last (fuzz_yaml) */
		if (!block)
			chop_break(p, mark);
		return 0;
	}
	if (!ysrc_break_len(p->src, p->len, e)) {
		/* a comment follows on the line: it would end a block's line */
		chop_break(p, mark);
		*to = end;
		return block ? RERENDER : 0;
	}
	chop_break(p, mark);
	return block && !block_fits(p, e, p->fresh.block_indent, p->fresh.block_keep) ? RERENDER : 0;
}

/* A block collection for a slot (after a tag, if any, at hm): where the
 * old value was when it had a line of its own; compact after a list's
 * dash ("- a: 1"); else on the lines below the indicator (the body).
 * Returns RERENDER when it cannot go there. */
static int render_block_here(struct patcher *p, const struct slot *s, const struct doc_node *v,
			     bool in_list, size_t hm, size_t *bm)
{
	size_t child = s->owner + (in_list ? 2 : p->fresh.step), to;
	bool block;
	int ret = 0;

	p->fresh.block_end = 0;

	if (!moves_up(s) && s->own_line) {
		/* the source indents its first line */
		child = s->col;
		if (v->tag) {
			p->ed.pool.len--;
			if ((ret = put(p, "\n", 1)) || (ret = put_spaces(p, child)))
				return ret;
		}
	} else if (in_list && !v->tag) {
		/* an old block scalar's lines go with it (place()) */
		if (!rest_blank(p, s->end) || (s->body_start != s->body_end && s->header_comment))
			return RERENDER;
		/* compact ("-  - a"): the entries line up with the first, where
		 * the old value started (fuzz_yaml) */
		if (s->start > s->at)
			child = ysrc_column(p->lx, s->start);
	} else {
		if (v->tag)
			p->ed.pool.len--; /* the space after it */
		*bm = p->ed.pool.len;
		if ((ret = put(p, "\n", 1)) || (ret = put_spaces(p, child)) ||
		    (ret = yfresh_block(&p->fresh, v, child)))
			return ret;
		return fit_tail(p, hm, s->body_end, &to);
	}
	if ((ret = yfresh_block(&p->fresh, v, child)))
		return ret;
	/* it goes in place of the old value: blanks after that stay */
	block = ends_in_block(p, hm);
	if (!(ret = fit_tail(p, hm, s->end, &to)) && block && to != s->end)
		ret = RERENDER;
	*bm = p->ed.pool.len;
	return ret;
}

/* Data written in block style takes the file's indentation step. */
static int render_block(struct patcher *p, const struct slot *s, const struct doc_node *v,
			bool in_list, size_t hm, size_t *bm)
{
	size_t step = p->fresh.step;
	int ret;

	p->fresh.step = p->data_step;
	ret = render_block_here(p, s, v, in_list, hm, bm);
	p->fresh.step = step;
	return ret;
}

/* An encrypted value (sops: aes/cipher.go encryptedValueRegex). */
static bool is_sealed(const struct doc_node *v)
{
	size_t n = sizeof(SOPS_ENC_AES256_GCM) - 1;

	return v->kind == DOC_SCALAR && v->type == DOC_STR && v->len > n && !memcmp(v->text, SOPS_ENC_AES256_GCM, n) &&
	       !memchr(v->text, '\n', v->len);
}

/* Writes v into the pool for the slot: the head from hm to *bm, the body
 * after it. */
static int render(struct patcher *p, const struct slot *s, const struct doc_node *v, bool in_list,
		  enum yaml_style prefer, bool as_flow, size_t *bm)
{
	size_t hm = p->ed.pool.len;
	int ret = 0;

	if (v->tag && (ret = yfresh_tag(&p->fresh, v->tag)))
		return ret;
	if (v->kind == DOC_SCALAR || v->kind == DOC_COMMENT) {
		size_t indent = s->owner + (in_list ? 2 : p->block_step);
		/* the body is followed by a line break, except at the end */
		bool final = !moves_up(s) && s->body_end >= p->len;
		size_t at = s->body_end; /* what follows the new text, but for blank lines */
		bool keep;

		if (!moves_up(s) && s->block_col && s->block_col != indent) {
			/* a block at a step of its own: the file's step is one
			 * number (a flat file's is its metadata's), so the
			 * block keeps its column, and sealed it is a block
			 * there ("|-" and the ENC[...] line), which decrypt
			 * gives back at that column (sops reads it as the
			 * same string) */
			indent = s->block_col;
			if (is_sealed(v) && !v->tag && slot_block_fits(p, s, indent, false)) {
				*bm = hm + 2;
				p->last_block.set = true;
				p->last_block.at = at;
				p->last_block.indent = indent;
				p->last_block.keep = false;
				return yaml_write_literal(&p->ed.pool, v->text, v->len, indent, indent - s->owner,
							  final);
			}
		}
		if (!moves_up(s) && yfresh_scalar_as_is(&p->fresh, v, false, indent, s->owner, prefer)) {
			p->ref = v;
			*bm = hm;
			p->last_block.set = false;
			return 0;
		}
		if ((ret = yfresh_scalar(&p->fresh, v, false, indent, s->owner, prefer, final)))
			return ret;
		*bm = split_at_break(p, hm);
		keep = memchr(p->ed.pool.data + hm, '+', *bm - hm) != NULL;
		p->last_block.set = !ret && *bm < p->ed.pool.len;
		if (p->last_block.set && !slot_block_fits(p, s, indent, keep)) {
			/* double quotes hold it on one line */
			p->ed.pool.len = hm;
			if (v->tag && (ret = yfresh_tag(&p->fresh, v->tag)))
				return ret;
			ret = yfresh_scalar(&p->fresh, v, false, indent, s->owner, YAML_STYLE_DOUBLE, final);
			*bm = p->ed.pool.len;
			p->last_block.set = false;
		}
		p->last_block.at = at;
		p->last_block.indent = indent;
		p->last_block.keep = keep;
		return ret;
	}
	/* comments alone in block style would leave a null (fuzz_yaml) */
	if (yfresh_is_empty(v) || as_flow || !yfresh_holds_items(v)) {
		ret = yfresh_is_empty(v) ? put(p, v->kind == DOC_MAP ? "{}" : "[]", 2)
					 : yfresh_flow_brackets(&p->fresh, v, s->owner + p->fresh.step);
		*bm = p->ed.pool.len;
		return ret;
	}
	return render_block(p, s, v, in_list, hm, bm);
}

/* Whether what was written from hm on is a plain scalar on one line. */
static bool wrote_plain(const struct patcher *p, size_t hm, size_t bm)
{
	return bm > hm && bm == p->ed.pool.len && !strchr("'\"|>{[!&*", p->ed.pool.data[hm]);
}

/* A comment line after where the new value goes and before the end of
 * the old one (its properties included): the value would come before
 * it, and the comment after its entry (fuzz_yaml; one on the line where
 * the value goes stays before the value's entry). */
static bool comment_passed(const struct patcher *p, const struct ynode *er, size_t where)
{
	for (uint32_t t = er->ind + 1; er->ind != YNONE && er->last != YNONE && t <= er->last; t++)
		if (tkind(p, t) == YT_COMMENT && tstart(p, t) > where &&
		    !ysrc_same_line(p->lx, where, tstart(p, t)))
			return true;
	return false;
}

/* An empty value's end-of-line comment after properties that end on a
 * later line than where the new value goes ("k: &x", then " !t # c"):
 * the comment would be left on a line of its own, after the entry in
 * the tree instead of before it (fuzz_yaml). */
static bool comment_left_behind(const struct patcher *p, const struct ynode *er, size_t where)
{
	uint32_t t = er->last + 1;

	return er->body == YNONE && er->last != YNONE && t < p->lx->n && tkind(p, t) == YT_COMMENT &&
	       ysrc_same_line(p->lx, tend(p, er->last), tstart(p, t)) &&
	       !ysrc_same_line(p->lx, where, tstart(p, t));
}

/* Comments of a collection written before its first token ("key:", a
 * comment line, then "[..."), or before its entry's ':' ("? key", a
 * comment line, ":", then "- x": fuzz_yaml): rewriting the collection
 * from that token on would leave them, and write them again inside it. */
static bool comments_before(const struct patcher *p, const struct doc_node *v, const struct ynode *er)
{
	for (size_t i = 0; (v->kind == DOC_MAP || v->kind == DOC_LIST) && i < v->count; i++) {
		const struct ynode *r = entry_rec(p, &v->entries[i]);

		if (r && comment_token(p, r) &&
		    ((er->body != YNONE && r->body < er->body) || (er->ind != YNONE && r->body < er->ind)))
			return true;
	}
	return false;
}

/* Whether a comment follows the entry's indicator on the line of at. */
static bool comment_on_line(const struct patcher *p, const struct ynode *er, size_t at)
{
	for (uint32_t t = er->ind + 1; er->ind != YNONE && t < p->lx->n && ysrc_same_line(p->lx, at, tstart(p, t)); t++)
		if (tkind(p, t) == YT_COMMENT)
			return true;
	return false;
}

/* Whether render() writes v after its indicator on one line (a
 * multi-line string may still become a literal block). */
/* A value new to this text that is written in flow style (a merge's,
 * from theirs' text): on one line, holding no comment. */
static bool new_flow(const struct patcher *p, const struct doc_node *v)
{
	return p->fresh.keep_new_flow && !ysyn_node(p->syn, v) && yfresh_stays_flow(&p->fresh, v);
}

static bool one_line_value(const struct patcher *p, const struct doc_node *v)
{
	return v->kind == DOC_SCALAR || v->kind == DOC_COMMENT || yfresh_is_empty(v) || !yfresh_holds_items(v) ||
	       new_flow(p, v);
}

static int write_comment(struct patcher *p, const struct doc_node *v);
static size_t back_over_blanks(const struct patcher *p, size_t pos);
static uint32_t entry_first(const struct ynode *r);

/* A comment after a flow collection (or an alias of a collection) on its
 * line is the entry after it in the tree (a collection has no line comment
 * of its own in sops's model); after a scalar or a block header written
 * there instead it would be read as that value's, before the entry: it
 * goes on a line of its own after the value, at the column of the
 * entries. */
static int keep_comment_after(struct patcher *p, const struct doc_node *c, const struct ynode *cr,
			      const struct ynode *er, const struct doc_node *v)
{
	uint32_t t = er->last + 1;
	const struct doc_node *comment = NULL;
	bool after = false;
	size_t mark, at;
	int ret;

	if (er->last == YNONE || t >= p->lx->n || tkind(p, t) != YT_COMMENT ||
	    !ysrc_same_line(p->lx, tend(p, er->last), tstart(p, t)))
		return 0;
	/* a collection written in flow style keeps it after itself */
	if ((v->kind == DOC_MAP || v->kind == DOC_LIST) && one_line_value(p, v))
		return 0;
	for (size_t j = 0; j < c->count && !comment; j++) {
		const struct ynode *r = entry_rec(p, &c->entries[j]);

		after |= r == er;
		if (after && r && r->body == t && !c->entries[j].removed && c->entries[j].value->kind == DOC_COMMENT) {
			comment = c->entries[j].value;
			p->state[rec_index(p, r)] |= ST_MOVED;
		}
	}
	if (!comment)
		return 0;
	if ((ret = edit_text(p, back_over_blanks(p, tstart(p, t)), tend(p, t), "", 0)))
		return ret;
	at = ysrc_line_end(p->lx, tend(p, t));
	mark = p->ed.pool.len;
	if ((ret = put(p, "\n", 1)) || (ret = put_spaces(p, cr->col)) || (ret = write_comment(p, comment)))
		return ret;
	return edit(p, at, at, mark);
}

/* Whether a comment line lies between the entry's indicator line and its
 * value (a line of its own). */
static bool comment_lines_before_value(const struct patcher *p, const struct ynode *r)
{
	for (uint32_t t = r->ind + 1; r->ind != YNONE && r->body != YNONE && t < r->body; t++)
		if (tkind(p, t) == YT_COMMENT && !ysrc_same_line(p->lx, tstart(p, r->ind), tstart(p, t)))
			return true;
	return false;
}

/* And the other way: a comment entry before a scalar's entry would be
 * read after it, or inside it, once a collection is written in the
 * scalar's place: the scalar's end-of-line comment after "[]" ("a: [] #
 * c"), comment lines between the key and the value at the head of the
 * new collection (with the key's line comment, to keep their order). It
 * goes on a line of its own before the entry (*moved). */
static int keep_comment_before(struct patcher *p, const struct doc_node *c, const struct ynode *cr, size_t i,
			       const struct ynode *r, bool *moved)
{
	const struct doc_entry *owner = NULL;
	const struct ynode *or;
	uint32_t first, tok = r->body;
	size_t mark, at, from, to;
	bool line;
	int ret;

	*moved = false;
	for (size_t j = i + 1; j < c->count && !owner; j++)
		if (c->entries[j].value->kind != DOC_COMMENT)
			owner = &c->entries[j];
	or = owner ? entry_rec(p, owner) : NULL;
	if (!or || owner->removed || (or->flags & (YN_FLOW | YN_ALIAS)) || or->kind == DOC_MAP ||
	    or->kind == DOC_LIST || ysyn_node(p->syn, owner->value) == or ||
	    (owner->value->kind != DOC_MAP && owner->value->kind != DOC_LIST))
		return 0;
	first = entry_first(or);
	if (first == YNONE || or->ind == YNONE || !first_on_line(p, tstart(p, first)) || tok < first)
		return 0;
	if ((r->flags & YN_INLINE) && tok > or->body) {
		/* after a block collection it stays on the key's line */
		if (!one_line_value(p, owner->value) || !ysrc_same_line(p->lx, tstart(p, first), tstart(p, tok)))
			return 0;
	} else if (!(tok > or->ind && tok < or->body && comment_lines_before_value(p, or))) {
		return 0;
	}
	line = first_on_line(p, tstart(p, tok));
	from = line ? ysrc_line_start(p->lx, tstart(p, tok)) : back_over_blanks(p, tstart(p, tok));
	to = line ? ysrc_next_line(p->lx, tend(p, tok)) : tend(p, tok);
	if ((ret = edit_text(p, from, to, "", 0)))
		return ret;
	at = ysrc_line_start(p->lx, tstart(p, first));
	mark = p->ed.pool.len;
	if ((ret = put_spaces(p, cr->col)) || (ret = write_comment(p, c->entries[i].value)) ||
	    (ret = put(p, "\n", 1)))
		return ret;
	*moved = true;
	return edit(p, at, at, mark);
}

/* Whether a comment line right after the entry's old value is deeper
 * than its key: after a block collection written there, it would be read
 * as that collection's (fuzz_yaml: an alias written out as a list). */
static bool comment_below_value(const struct patcher *p, const struct ynode *er, size_t owner)
{
	uint32_t t = er->last + 1;

	return er->last != YNONE && t < p->lx->n && tkind(p, t) == YT_COMMENT &&
	       !ysrc_same_line(p->lx, tend(p, er->last), tstart(p, t)) &&
	       ysrc_column(p->lx, tstart(p, t)) > owner;
}

/* Whether a comment line lies between the entry's indicator and its old
 * value, an alias: before a block collection written there, it would be
 * read as the collection's (fuzz_yaml: an alias written out as a list;
 * other values move such comments above their key). */
static bool comment_above_alias(const struct patcher *p, const struct ynode *er)
{
	if (!(er->flags & YN_ALIAS))
		return false;
	for (uint32_t t = er->ind + 1; er->ind != YNONE && er->body != YNONE && t < er->body; t++)
		if (tkind(p, t) == YT_COMMENT)
			return true;
	return false;
}

/* A scalar on a line below its indicator, with an end-of-line comment
 * after it: moved up, its line goes from the value on, the comment with
 * it (fuzz_yaml).
 * The comment is an entry of its own in the tree. */
static bool moved_scalar_leaves_comment(const struct patcher *p, const struct slot *s, const struct ynode *er)
{
	uint32_t t = er->last + 1;

	return moves_up(s) && s->own_line && er->kind != DOC_MAP && er->kind != DOC_LIST && er->last != YNONE &&
	       t < p->lx->n && tkind(p, t) == YT_COMMENT && ysrc_same_line(p->lx, tend(p, er->last), tstart(p, t));
}

/* Writes v where the entry's value was (block context). */
static int write_value(struct patcher *p, const struct doc_node *c, const struct ynode *cr,
		       const struct ynode *er, const struct doc_node *v, enum yaml_style prefer)
{
	struct slot s;
	size_t hm, bm = 0;
	bool plain;
	int ret;

	if (!slot_of(p, cr, er, &s))
		return RERENDER;
	/* a block collection replaced by what is written on one line (a
	 * scalar, [] or {}): "key: value", as a fresh writer has it; but a
	 * comment on the key's line, before the entry in the tree, would
	 * follow a collection's bracket and be read after it: the value
	 * then stays below */
	if (s.own_line && (er->kind == DOC_MAP || er->kind == DOC_LIST) && !(er->flags & YN_FLOW) &&
	    !(er->flags & YN_ALIAS) && one_line_value(p, v) &&
	    (v->kind == DOC_SCALAR || v->kind == DOC_COMMENT || !comment_on_line(p, er, s.at)))
		s.up = true;
	/* a block map where a block list stood: a map's column sets the
	 * step the file's blocks decrypt at, a list's does not, so it goes
	 * below its key at the file's step (fidelity31) */
	if (s.own_line && !s.up && c->kind == DOC_MAP && v->kind == DOC_MAP && er->kind == DOC_LIST &&
	    !(er->flags & (YN_FLOW | YN_ALIAS)) && s.col != s.owner + p->data_step)
		s.up = true;
	if ((moves_up(&s) && s.header_comment) || moved_scalar_leaves_comment(p, &s, er) ||
	    comment_passed(p, er, moves_up(&s) ? s.at : s.start) || comment_left_behind(p, er, s.at) ||
	    comments_before(p, v, er) ||
	    (!one_line_value(p, v) && (comment_below_value(p, er, s.owner) || comment_above_alias(p, er))))
		return RERENDER;
	if ((ret = drop_tags(p, er)))
		return ret;
	hm = p->ed.pool.len;
	p->ref = NULL;
	/* a value new to this text (a merge's, from theirs) keeps its flow style */
	ret = render(p, &s, v, c->kind == DOC_LIST, prefer,
		     ((er->flags & YN_FLOW) && ysyn_node(p->syn, v) == er && !(er->flags & YN_ALIAS)) ||
			     new_flow(p, v),
		     &bm);
	if (ret)
		goto out;
	plain = p->ref || wrote_plain(p, hm, bm);
	if (bm == hm && !p->ref && !s.own_line) {
		/* nothing on the indicator's line: no blanks left there, those
		 * after the old value neither (after an indicator libyaml
		 * refuses a tab: fuzz_yaml, "? e" / ": ? w" and a tab) */
		s.start = s.at;
		if (rest_blank(p, s.end))
			s.end = ysrc_line_end(p->lx, s.end);
	}
	ret = place(p, &s, hm, bm);
	p->ref = NULL;
	if (ret || (ret = keep_comment_after(p, c, cr, er, v)))
		goto out;
	if (!plain)
		ret = clear_tab_lines(p, er->last);
out:
	p->ref = NULL;
	touch(p, er);
	return ret;
}

/* ---- comments ---- */

static int write_comment(struct patcher *p, const struct doc_node *v)
{
	int ret = put(p, "#", 1);

	return ret ? ret : yfresh_comment_text(&p->fresh, v);
}

static int replace_comment(struct patcher *p, const struct ynode *r, const struct doc_node *v)
{
	size_t mark = p->ed.pool.len;
	int ret = write_comment(p, v);

	return ret ? ret : edit(p, tstart(p, r->body), tend(p, r->body), mark);
}

/* Blanks before pos on its line. */
static size_t back_over_blanks(const struct patcher *p, size_t pos)
{
	while (pos > 0 && (p->src[pos - 1] == ' ' || p->src[pos - 1] == '\t'))
		pos--;
	return pos;
}

/* The loaded list item after entry i, in the model's order. */
static const struct ynode *next_item(const struct patcher *p, const struct doc_node *c, size_t i)
{
	for (size_t j = i + 1; j < c->count; j++) {
		const struct ynode *r = entry_rec(p, &c->entries[j]);

		if (r && !c->entries[j].removed && !comment_token(p, r))
			return r;
	}
	return NULL;
}

/* Whether a live comment entry of c has its token inside [first, last]. */
static bool holds_other_comment(const struct patcher *p, const struct doc_node *c, uint32_t first,
				uint32_t last)
{
	for (size_t j = 0; j < c->count; j++) {
		const struct ynode *r = entry_rec(p, &c->entries[j]);

		if (r && !c->entries[j].removed && c->entries[j].value->kind == DOC_COMMENT &&
		    comment_token(p, r) && r->body >= first && r->body <= last)
			return true;
	}
	return false;
}

/* A collection's changed tag written in place, the rest of its text
 * kept (so that a merge's sides differ only on that line): over its old
 * tag, cut with the blanks before it, or put after at (the ':' of its
 * entry or the document's "---") when it had none. RERENDER otherwise
 * (written afresh). */
static int retag(struct patcher *p, const struct doc_node *n, const struct ynode *r, uint32_t at)
{
	size_t mark = p->ed.pool.len, start;
	uint32_t t = r->first;
	int ret;

	while (t != YNONE && t <= r->last &&
	       (tkind(p, t) == YT_ANCHOR || tkind(p, t) == YT_COMMENT || tkind(p, t) == YT_DOC_START))
		t++;
	if (t == YNONE || t > r->last || tkind(p, t) != YT_TAG) {
		/* none before: after at, on its line */
		if (!n->tag || (tkind(p, at) != YT_COLON && tkind(p, at) != YT_DOC_START))
			return RERENDER;
		if ((ret = put(p, " ", 1)) || (ret = yfresh_tag(&p->fresh, n->tag)))
			return ret;
		p->ed.pool.len--; /* yfresh_tag's space */
		return edit(p, tend(p, at), tend(p, at), mark);
	}
	start = tstart(p, t);
	if (!n->tag) {
		/* a tag that starts its line would leave a line of blanks */
		if (first_on_line(p, start))
			return RERENDER;
		while (start > 0 && (p->src[start - 1] == ' ' || p->src[start - 1] == '\t'))
			start--;
		return edit(p, start, tend(p, t), mark);
	}
	if ((ret = yfresh_tag(&p->fresh, n->tag)))
		return ret;
	p->ed.pool.len--; /* yfresh_tag's space: the old text's blanks stay */
	return edit(p, start, tend(p, t), mark);
}

/* "- " and the value, on one line (else RERENDER). */
static int write_item(struct patcher *p, const struct doc_node *v, size_t d)
{
	size_t mark = p->ed.pool.len;
	int ret = put(p, "- ", 2);

	if (ret || (ret = yfresh_scalar(&p->fresh, v, false, d + 2, d, YAML_STYLE_ANY, false)))
		return ret;
	return memchr(p->ed.pool.data + mark, '\n', p->ed.pool.len - mark) ? RERENDER : 0;
}

/* sops keeps an encrypted comment in a list as an item: it goes on a line
 * of its own with "- " at the list's dash column, before the item that
 * follows it in the list (whose '-' may come before the comment: "- x # c"
 * or "-", the comment, then the value). */
static int comment_to_item(struct patcher *p, const struct doc_node *c, const struct ynode *cr,
			   size_t i, const struct ynode *er)
{
	uint32_t tok = er->body;
	const struct ynode *next = next_item(p, c, i);
	size_t start = tstart(p, tok), mark, d = cr->col;
	bool own_line = first_on_line(p, start);
	int ret;

	/* the list's own properties after it ("# c", then "!t", then "- x"),
	 * or the ':' of its entry ("? k", "# c", ":", "- x"): an item put
	 * there would come before them (fuzz_yaml) */
	for (uint32_t t = tok + 1; t < p->lx->n && tkind(p, t) != YT_DASH; t++)
		if (tkind(p, t) == YT_TAG || tkind(p, t) == YT_ANCHOR || tkind(p, t) == YT_COLON)
			return RERENDER;
		else if (tkind(p, t) != YT_COMMENT)
			break;
	if (next && next->lead != YNONE && tstart(p, next->lead) < start) {
		/* other comments between that '-' and this one would move */
		if (holds_other_comment(p, c, next->lead, tok - 1))
			return RERENDER;
		mark = p->ed.pool.len;
		if ((ret = write_item(p, c->entries[i].value, d)) || (ret = put(p, "\n", 1)) ||
		    (ret = put_spaces(p, d)) || (ret = edit(p, tstart(p, next->lead), tstart(p, next->lead), mark)))
			return ret;
		if (own_line)
			return edit_text(p, ysrc_line_start(p->lx, start), ysrc_next_line(p->lx, start), "", 0);
		return edit_text(p, back_over_blanks(p, start), tend(p, tok), "", 0);
	}
	if (own_line) {
		mark = p->ed.pool.len;
		if ((ret = put_spaces(p, d)) || (ret = write_item(p, c->entries[i].value, d)))
			return ret;
		return edit(p, ysrc_line_start(p->lx, start), tend(p, tok), mark);
	}
	if ((ret = edit_text(p, back_over_blanks(p, start), tend(p, tok), "", 0)))
		return ret;
	mark = p->ed.pool.len;
	if ((ret = put(p, "\n", 1)) || (ret = put_spaces(p, d)) || (ret = write_item(p, c->entries[i].value, d)))
		return ret;
	return edit(p, ysrc_line_end(p->lx, tend(p, tok)), ysrc_line_end(p->lx, tend(p, tok)), mark);
}

/* And back: a list item that decrypts to a comment is written as one. */
static int item_to_comment(struct patcher *p, const struct ynode *er, const struct doc_node *v)
{
	uint32_t last = er->last;
	size_t mark = p->ed.pool.len;
	int ret;

	if (er->lead == YNONE || tkind(p, er->lead) != YT_DASH || !first_on_line(p, tstart(p, er->lead)) ||
	    last == YNONE || !rest_blank(p, tend(p, last)))
		return RERENDER;
	if ((ret = write_comment(p, v)) || (ret = edit(p, tstart(p, er->lead), tend(p, last), mark)))
		return ret;
	touch(p, er);
	return clear_tab_lines(p, last);
}

/* ---- end-of-line comments ---- */

/* The record of the loaded scalar whose line the new comment at entry i
 * of map c ends ("key: value # c", where the loader reads it back before
 * that entry), or NULL. The value is plain or quoted on its key's line,
 * with no comment left after it; a block scalar, a value of several lines
 * or a collection keeps the comment on a line of its own above its key
 * (the same place in the tree). */
static const struct ynode *line_comment_target(const struct patcher *p, const struct doc_node *c, size_t i)
{
	const struct doc_entry *owner;
	const struct ynode *r;
	size_t line, end;
	uint32_t t;

	if (c->kind != DOC_MAP || c->entries[i].removed || entry_rec(p, &c->entries[i]) ||
	    !(owner = yfresh_line_comment_owner(c, i)) || !(r = entry_rec(p, owner)))
		return NULL;
	t = r->body;
	if (r->kind != DOC_SCALAR || (r->flags & (YN_FLOW | YN_ALIAS | YN_IN_COPY)) || r->ind == YNONE ||
	    t == YNONE || r->last != t ||
	    (tkind(p, t) != YT_PLAIN && tkind(p, t) != YT_SINGLE && tkind(p, t) != YT_DOUBLE) ||
	    !ysrc_same_line(p->lx, tstart(p, r->ind), tend(p, t)))
		return NULL;
	/* the old end-of-line comment must go (its entry cut) */
	if (t + 1 < p->lx->n && tkind(p, t + 1) == YT_COMMENT &&
	    ysrc_same_line(p->lx, tend(p, t), tstart(p, t + 1)) && holds_other_comment(p, c, t + 1, t + 1))
		return NULL;
	/* tabs in the blank lines a plain value takes in: its edits clear them */
	line = ysrc_next_line(p->lx, tend(p, t));
	return tkind(p, t) == YT_PLAIN && next_tab_line(p, t, &line, &end) ? NULL : r;
}

/* The comment after the value: in place of the blanks that end its line,
 * or before the old comment, whose cut starts there too (at one place an
 * insertion comes first). A value written anew takes [start, end of its
 * text), a literal block's lines go after the line: both around it. */
static int put_line_comment(struct patcher *p, const struct doc_node *comment, const struct ynode *r)
{
	size_t mark = p->ed.pool.len, at = tend(p, r->body);
	int ret;

	if ((ret = put(p, " ", 1)) || (ret = write_comment(p, comment)))
		return ret;
	return edit(p, at, rest_blank(p, at) ? ysrc_line_end(p->lx, at) : at, mark);
}

/* A comment after something on its line. */
static bool ends_a_line(const struct patcher *p, const struct ynode *er)
{
	return comment_token(p, er) && entry_first(er) == er->body && ysyn_entry_last(er) == er->body &&
	       !first_on_line(p, tstart(p, er->body));
}

/* Such a comment removed: it goes with the blanks before it (no " #"
 * left), the line stays. */
static int cut_line_comment(struct patcher *p, const struct ynode *er)
{
	size_t start = tstart(p, er->body);

	touch(p, er);
	return edit_text(p, back_over_blanks(p, start), tend(p, er->body), "", 0);
}

/* ---- entries cut and added (block) ---- */

static uint32_t entry_first(const struct ynode *r)
{
	if (r->lead != YNONE)
		return r->lead;
	return r->first != YNONE ? r->first : r->ind;
}

/* Whether what follows a cut that ends at `end` would become the text of
 * a block scalar ending just before the cut (fuzz_yaml): a line deeper
 * than the block's own line, or with keep chomping a blank line. A line
 * of blanks alone counts too when it is deeper (libyaml reads blanks past
 * the indentation as text, even on a last line with no break: fuzz_yaml,
 * regress_block_blank_tail); the content indentation is not known here,
 * so any blank line deeper than the block's own line is taken as text.
 * The block's own line is its header's, or the collection's column when
 * that is less (a header on a line of its own below its key is deeper
 * than the key whose indentation the block's text is measured from:
 * fuzz_yaml, "mK:" / "     |" / "sops:" / " # c", sops cut). */
static bool block_would_grow(const struct patcher *p, uint32_t first, size_t end, size_t owner_col)
{
	uint32_t body = first - 1, header;
	size_t ls, col, line;
	bool keep;

	if (first == 0 || tkind(p, body) != YT_BODY)
		return false;
	header = body - 1 - (tkind(p, body - 1) == YT_COMMENT);
	keep = memchr(p->src + tstart(p, header), '+', tend(p, header) - tstart(p, header)) != NULL;
	ls = ysrc_line_start(p->lx, tstart(p, header));
	for (col = 0; col < owner_col && ls + col < p->len && p->src[ls + col] == ' '; col++)
		;
	for (line = end; line < p->len; line = ysrc_next_line(p->lx, line)) {
		size_t k = 0;

		while (line + k < p->len && (p->src[line + k] == ' ' || p->src[line + k] == '\t'))
			k++;
		if (line + k < p->len && !ysrc_break_len(p->src, p->len, line + k))
			return k > col;
		if (keep || k > col)
			return true;
	}
	return false;
}

/* Whether, once the entry at i is cut, a comment line after it would
 * follow a block map or list of the entry before it, and be read as that
 * collection's (fuzz_yaml: an indentless list took it), or follow an
 * explicit key with no ':' ("? o"), and be read as before its value,
 * which comes before the entry (fuzz_yaml). */
static bool comment_would_move(const struct patcher *p, const struct doc_node *c, size_t i,
			       uint32_t last)
{
	const struct ynode *prev = NULL;

	if (last + 1 >= p->lx->n || tkind(p, last + 1) != YT_COMMENT)
		return false;
	for (size_t j = i; j-- > 0 && !prev;)
		if (!c->entries[j].removed && c->entries[j].value->kind != DOC_COMMENT)
			prev = entry_rec(p, &c->entries[j]);
	return prev && (((prev->kind == DOC_MAP || prev->kind == DOC_LIST) && !(prev->flags & YN_FLOW)) ||
			(c->kind == DOC_MAP && prev->ind == YNONE));
}

/* Whether the lines after a cut that ends at `end` would become the text
 * of a literal block written just before it, with only blank lines
 * between them (fuzz_yaml, regress_new_block_blank_tail). */
static bool new_block_would_grow(const struct patcher *p, uint32_t first, size_t end)
{
	size_t from, to = ysrc_line_start(p->lx, tstart(p, first));

	if (!p->last_block.set)
		return false;
	from = ysrc_next_line(p->lx, p->last_block.at);
	if (from > to)
		return false;
	for (size_t i = from; i < to; i++)
		if (p->src[i] != ' ' && p->src[i] != '\t' && !ysrc_break_len(p->src, p->len, i))
			return false;
	return !lines_fit(p, end, p->last_block.indent, p->last_block.keep);
}

/* Whether, once entry i is cut, comment lines before it less indented
 * than the entries would end the block, and be read as the outer one's
 * (rule-1 harness: "base:\n# c\n  user: u\n# c\n  pass: p", pass cut). */
static bool comment_would_leave(const struct patcher *p, const struct doc_node *c, const struct ynode *cr,
				size_t i, uint32_t first)
{
	for (size_t j = i + 1; j < c->count; j++)
		if (!c->entries[j].removed && c->entries[j].value->kind != DOC_COMMENT)
			return false;
	for (uint32_t t = first; t-- > 0 && tkind(p, t) == YT_COMMENT;)
		if (first_on_line(p, tstart(p, t)) && ysrc_column(p->lx, tstart(p, t)) < cr->col)
			return true;
	return false;
}

/* A removed entry: its lines go, when they hold nothing else. */
static int cut_block_entry(struct patcher *p, const struct doc_node *c, const struct ynode *cr, size_t i,
			   const struct ynode *er)
{
	uint32_t first = entry_first(er), last = ysyn_entry_last(er);
	size_t end;
	int ret;

	if (ends_a_line(p, er))
		return cut_line_comment(p, er);
	if (first == YNONE || !first_on_line(p, tstart(p, first)))
		return RERENDER;
	end = ysrc_line_end(p->lx, tend(p, last));
	if ((last + 1 < p->lx->n && tstart(p, last + 1) < end) || holds_other_comment(p, c, first, last) ||
	    block_would_grow(p, first, ysrc_next_line(p->lx, end), cr->col) ||
	    new_block_would_grow(p, first, ysrc_next_line(p->lx, end)) || comment_would_move(p, c, i, last) ||
	    comment_would_leave(p, c, cr, i, first))
		return RERENDER;
	ret = edit_text(p, ysrc_line_start(p->lx, tstart(p, first)), ysrc_next_line(p->lx, end), "", 0);
	touch(p, er);
	return ret ? ret : clear_tab_lines(p, last);
}

static int write_entry_here(struct patcher *p, const struct doc_node *c, const struct doc_entry *e,
			    size_t col, const struct doc_node *line_comment)
{
	int ret = put_spaces(p, col);

	if (ret)
		return ret;
	if (e->value->kind == DOC_COMMENT) {
		if (!(ret = write_comment(p, e->value)))
			ret = put(p, "\n", 1);
		return ret;
	}
	if (c->kind == DOC_MAP) {
		if ((ret = yfresh_entry_key(&p->fresh, e, col)))
			return ret;
	} else if ((ret = put(p, "-", 1))) {
		return ret;
	}
	return yfresh_value(&p->fresh, e->value, col, c->kind == DOC_LIST, line_comment);
}

/* A new entry of data takes the file's indentation step; the sops entry
 * at the root is written as sops writes it (the step asked for). */
static int write_new_entry(struct patcher *p, const struct doc_node *c, const struct doc_entry *e,
			   size_t col, const struct doc_node *line_comment)
{
	bool metadata = col == 0 && c->kind == DOC_MAP && e->key && e->key_len == strlen(SOPS_METADATA_KEY) &&
			memcmp(e->key, SOPS_METADATA_KEY, e->key_len) == 0;
	size_t step = p->fresh.step;
	int ret;

	if (!metadata)
		p->fresh.step = p->data_step;
	ret = write_entry_here(p, c, e, col, line_comment);
	p->fresh.step = step;
	return ret;
}

/* Where new entries go: after the line of the loaded entry before them,
 * or before the first one, or after an empty document's "---". */
static int insert_position(const struct patcher *p, const struct doc_node *c, const struct ynode *cr,
			   const struct ynode *after, size_t *pos)
{
	if (after) {
		*pos = ysrc_next_line(p->lx, tend(p, ysyn_entry_last(after)));
		/* comments before a document's "---" are its first entries */
		if ((cr->flags & YN_EMPTY_ROOT || cr->lead != YNONE) && cr->lead != YNONE &&
		    !(cr->flags & YN_IN_COPY) && tkind(p, cr->lead) == YT_DOC_START &&
		    *pos <= tstart(p, cr->lead))
			*pos = ysrc_next_line(p->lx, tend(p, cr->lead));
		return 0;
	}
	for (size_t j = 0; j < c->count; j++) {
		const struct ynode *r = entry_rec(p, &c->entries[j]);
		uint32_t first = r ? entry_first(r) : YNONE;

		/* an end-of-line comment cut leaves its line, the key's after it */
		if (!r || (c->entries[j].removed && ends_a_line(p, r)))
			continue;
		if (first == YNONE || !first_on_line(p, tstart(p, first)))
			return RERENDER;
		*pos = ysrc_line_start(p->lx, tstart(p, first));
		return 0;
	}
	if ((cr->flags & YN_EMPTY_ROOT) && cr->lead != YNONE && cr->first == YNONE) {
		*pos = ysrc_next_line(p->lx, tend(p, cr->lead));
		return 0;
	}
	return RERENDER;
}

/* Whether the text ends in the last line of a block scalar, with no line
 * break, under clip or keep chomping: a break written after it would be
 * its text's (fuzz_yaml: "? |" / " t", the metadata appended after it). */
static bool ends_in_open_block(const struct patcher *p)
{
	uint32_t t, header;

	if (p->lx->n < 2)
		return false;
	t = (uint32_t)p->lx->n - 1;
	if (tkind(p, t) != YT_BODY || tend(p, t) < ysrc_line_start(p->lx, p->len))
		return false;
	header = t - 1 - (tkind(p, t - 1) == YT_COMMENT);
	return !memchr(p->src + tstart(p, header), '-', tend(p, header) - tstart(p, header));
}

/* Whether the open block that ends the text (ends_in_open_block) is a
 * value of c's written again on one line (every ENC[...] value): no text
 * of it is left to take in the break written after it. */
static bool open_block_rewritten(const struct patcher *p, const struct doc_node *c)
{
	uint32_t t = (uint32_t)p->lx->n - 1;
	const struct doc_node *n = c;

	while (n && (n->kind == DOC_MAP || n->kind == DOC_LIST)) {
		const struct doc_node *in = NULL;

		for (size_t i = n->count; i-- > 0 && !in;) {
			const struct doc_node *v = n->entries[i].value;
			const struct ynode *r = v ? ysyn_node(p->syn, v) : NULL;

			if (r && r->last == t)
				in = v;
		}
		n = in;
	}
	return n && n->kind == DOC_SCALAR && n->dirty && !memchr(n->text, '\n', n->len);
}

/* after_cut: the entry after is removed, its lines with it: the text
 * before pos then ends in a line break (fuzz_yaml: "a:" / "|+" / "sops:",
 * the last entry written again at the end; a break added for its line
 * was a blank line that the keep block above took in) */
static int insert_block(struct patcher *p, const struct doc_node *c, const struct ynode *cr,
			const struct ynode *after, bool after_cut, size_t from, size_t to)
{
	const struct doc_node *lc = NULL;
	size_t pos, mark;
	int ret = insert_position(p, c, cr, after, &pos);

	if (ret)
		return ret;
	mark = p->ed.pool.len;
	p->fresh.block_end = 0;
	/* a last line with no line break */
	if (pos >= p->len && !after_cut && !ysrc_break_before(p->lx, p->len)) {
		if (ends_in_open_block(p) && !open_block_rewritten(p, c))
			return RERENDER;
		ret = put(p, "\n", 1);
	}
	for (size_t i = from; i < to && !ret; i++) {
		const struct doc_entry *owner;

		if (c->entries[i].removed)
			continue;
		owner = c->kind == DOC_MAP ? yfresh_line_comment_owner(c, i) : NULL;
		/* a new value's end-of-line comment goes on its line */
		if (owner && owner < c->entries + to) {
			lc = c->entries[i].value;
			continue;
		}
		ret = write_new_entry(p, c, &c->entries[i], cr->col, lc);
		lc = NULL;
	}
	if (ret)
		return ret;
	/* the lines after them must not read as more of a literal block */
	if (ends_in_block(p, mark) && !lines_fit(p, pos, p->fresh.block_indent, p->fresh.block_keep))
		return RERENDER;
	if ((ret = edit(p, pos, pos, mark)))
		return ret;
	return after ? clear_tab_lines(p, ysyn_entry_last(after)) : 0;
}

/* ---- flow collections ---- */

/* Whether a comment token lies in [from, to]. */
static bool holds_comment_token(const struct patcher *p, uint32_t from, uint32_t to)
{
	for (uint32_t t = from; t <= to && t < p->lx->n; t++)
		if (tkind(p, t) == YT_COMMENT)
			return true;
	return false;
}

/* A value inside [...] or {...}: its text replaced (properties but tags
 * kept), or written after a ':' that had none. */
static int write_flow_value(struct patcher *p, const struct ynode *er, const struct doc_node *v,
			    enum yaml_style prefer, size_t line_indent)
{
	size_t mark, start, end;
	bool pair = er->kind == DOC_MAP && (er->flags & YN_FLOW) && !(er->flags & YN_BRACKETS);
	int ret;

	if (pair) {
		/* a single pair ("[k: v]") is replaced whole, key and all: it
		 * starts where its one entry does */
		uint32_t first = rec_index(p, er) + 1 < er->end_rec ? entry_first(er + 1) : YNONE;

		/* "[? k : v]": its '?' too */
		if (first != YNONE && first > 0 && tkind(p, first - 1) == YT_QUESTION)
			first--;
		if (first == YNONE || er->last == YNONE || holds_comment_token(p, first, er->last))
			return RERENDER;
		start = tstart(p, first);
		end = tend(p, er->last);
	} else if (er->body == YNONE) {
		/* comments after an empty value's ':' come before it in the tree:
		 * a value written there would come before them (fuzz_yaml) */
		if (er->ind == YNONE || (er->first != YNONE && er->first != er->body) ||
		    (er->ind + 1 < p->lx->n && tkind(p, er->ind + 1) == YT_COMMENT))
			return RERENDER;
		start = end = tend(p, er->ind);
	} else {
		start = tstart(p, er->body);
		end = tend(p, er->last);
	}
	/* a pair's tags are inside what is replaced */
	if (!pair && (ret = drop_tags(p, er)))
		return ret;
	mark = p->ed.pool.len;
	touch(p, er);
	if ((er->body == YNONE && !pair && (ret = put(p, " ", 1))) ||
	    (v->tag && (ret = yfresh_tag(&p->fresh, v->tag))))
		return ret;
	if (v->kind == DOC_SCALAR || v->kind == DOC_COMMENT)
		ret = yfresh_scalar(&p->fresh, v, true, 0, 0, prefer, false);
	else /* its tag is written: once (fuzz_yaml) */
		ret = yfresh_flow_brackets(&p->fresh, v, line_indent);
	return ret ? ret : edit(p, start, end, mark);
}

/* A removed entry with its separator: the comma before it when an entry
 * stays before it and none stays or comes after it, else the comma after
 * it (if any), so that cuts of neighbours never overlap and no comma is
 * left dangling. *at receives where the cut starts (new entries after it
 * go there). */
static int cut_flow_entry(struct patcher *p, const struct ynode *er, bool live_before, bool live_after,
			  size_t *at)
{
	uint32_t first = entry_first(er), last = ysyn_entry_last(er);
	size_t start, end;

	if (first == YNONE || holds_comment_token(p, first, last))
		return RERENDER;
	start = tstart(p, first);
	end = tend(p, last);
	if (live_before && !live_after && first > 0 && tkind(p, first - 1) == YT_COMMA) {
		start = tstart(p, first - 1);
	} else if (tkind(p, last + 1) == YT_COMMA) {
		end = tend(p, last + 1);
		while (end < p->len && (p->src[end] == ' ' || p->src[end] == '\t'))
			end++;
	}
	*at = start;
	touch(p, er);
	return edit_text(p, start, end, "", 0);
}

/* An entry written into a flow collection: ", " unless it is the first,
 * a map's key and ": ", the value. */
static int put_flow_entry(struct patcher *p, const struct doc_node *c, const struct doc_entry *e,
			  bool comma, size_t line_indent)
{
	int ret;

	if (comma && (ret = put(p, ", ", 2)))
		return ret;
	if (c->kind == DOC_MAP) {
		struct doc_node key = { .kind = DOC_SCALAR, .type = DOC_STR, .text = e->key,
					.len = e->key_len };

		if ((ret = yfresh_scalar(&p->fresh, &key, true, 0, 0, YAML_STYLE_ANY, false)) ||
		    (ret = put(p, ": ", 2)))
			return ret;
	}
	return yfresh_flow(&p->fresh, e->value, line_indent);
}

/* Whether a comment comes, in the tree, between the last live entry and
 * the new ones: they go after that entry (or the bracket), so before the
 * comment. The loader puts a comment below a key with no value before its
 * entry (fuzz_yaml: "{sops" / "#" / "}", the entry written again). */
static bool comment_before_new(const struct doc_node *c, size_t from)
{
	for (size_t i = from; i-- > 0;)
		if (!c->entries[i].removed)
			return c->entries[i].value->kind == DOC_COMMENT;
	return false;
}

/* New entries at the end of a flow collection, before its bracket: after
 * the last live entry, or where the loaded entries after it were cut
 * (cut_at, YNONE_POS when the last loaded entry stays). */
static int append_flow(struct patcher *p, const struct doc_node *c, const struct ynode *cr,
		       const struct ynode *last_live, size_t cut_at, size_t from, size_t line_indent)
{
	size_t pos, mark = p->ed.pool.len;
	bool comma = last_live != NULL;
	int ret = 0;

	if (!(cr->flags & YN_BRACKETS) || comment_before_new(c, from))
		return RERENDER;
	pos = tend(p, cr->body);
	if (last_live) {
		uint32_t t = ysyn_entry_last(last_live);

		pos = tend(p, t);
		if (tkind(p, t + 1) == YT_COMMENT)
			return RERENDER;
		if (tkind(p, t + 1) == YT_COMMA) {
			/* a trailing comma stays */
			pos = tend(p, t + 1);
			comma = false;
			if (cut_at == YNONE_POS)
				ret = put(p, " ", 1);
		} else if (tkind(p, t) == YT_COLON && cut_at == YNONE_POS) {
			/* an empty value: libyaml refuses "a:," in a flow
			 * collection (fuzz_yaml: "{ sops: [3], !!! 0B?: }") */
			ret = put(p, " ", 1);
		}
	}
	if (cut_at != YNONE_POS)
		pos = cut_at;
	for (size_t i = from; i < c->count && !ret; i++) {
		const struct doc_entry *e = &c->entries[i];

		if (e->removed)
			continue;
		if (e->value->kind == DOC_COMMENT)
			return RERENDER;
		ret = put_flow_entry(p, c, e, comma, line_indent);
		comma = true;
	}
	return ret ? ret : edit(p, pos, pos, mark);
}

static int patch_flow(struct patcher *p, const struct doc_node *c, const struct ynode *cr,
		      size_t line_indent);

/* Whether an entry after i stays or is added. */
static bool live_after(const struct doc_node *c, size_t i)
{
	for (size_t j = i + 1; j < c->count; j++)
		if (!c->entries[j].removed)
			return true;
	return false;
}

static int patch_flow_entry(struct patcher *p, const struct doc_entry *e, const struct ynode *er,
			    size_t line_indent)
{
	const struct doc_node *v = e->value;
	const struct ynode *vr = ysyn_node(p->syn, v);
	int ret;

	if (vr != er || alias_stale(p, er) || (er->flags & YN_ALIAS))
		return (er->flags & YN_ALIAS) && !alias_stale(p, er) && vr == er
			       ? 0 : write_flow_value(p, er, v, YAML_STYLE_ANY, line_indent);
	if (reshaped(p, v, er))
		return RERENDER;
	if (v->kind == DOC_COMMENT)
		return v->dirty ? replace_comment(p, er, v) : 0;
	if (v->kind == DOC_SCALAR)
		return v->dirty ? write_flow_value(p, er, v, yfresh_style_of(er->style, true), line_indent) : 0;
	/* a single pair ("[k: v]") left with no entry would leave nothing */
	if (!(er->flags & YN_BRACKETS) && !yfresh_holds_items(v))
		return write_flow_value(p, er, v, YAML_STYLE_ANY, line_indent);
	ret = patch_flow(p, v, er, line_indent);
	/* written afresh from its bracket on, it would hold again the
	 * comments before the bracket (fuzz_yaml: "{K:" / "#" / "{s}}") */
	if (ret == RERENDER && !comments_before(p, v, er))
		ret = write_flow_value(p, er, v, YAML_STYLE_ANY, line_indent);
	return ret;
}

/* Whether an entry from i on that was loaded stays. */
static bool loaded_after(const struct patcher *p, const struct doc_node *c, size_t i)
{
	for (size_t j = i; j < c->count; j++)
		if (entry_rec(p, &c->entries[j]) && !c->entries[j].removed)
			return true;
	return false;
}

/* Whether an entry of data comes, in the tree, after a comment that
 * follows the flow collection's closing bracket: written inside the
 * brackets it would come before that comment (fuzz_yaml: "{ sops : ,\n}  #",
 * its metadata written again at the end). */
static bool entry_after_bracket_comment(const struct patcher *p, const struct doc_node *c, const struct ynode *cr)
{
	uint32_t close = cr->last;
	bool seen = false;

	/* the record runs to the comments after the bracket */
	while (close != YNONE && close > cr->first && tkind(p, close) == YT_COMMENT)
		close--;
	for (size_t j = 0; j < c->count && close != YNONE; j++) {
		const struct ynode *r = entry_rec(p, &c->entries[j]);

		if (c->entries[j].removed)
			continue;
		if (c->entries[j].value->kind == DOC_COMMENT)
			seen |= r && r->first != YNONE && r->first > close;
		else if (seen)
			return true;
	}
	return false;
}

/* Returns RERENDER when the collection is to be written afresh. */
static int patch_flow(struct patcher *p, const struct doc_node *c, const struct ynode *cr,
		      size_t line_indent)
{
	size_t n0 = p->ed.n, pool0 = p->ed.pool.len, cut_at = YNONE_POS;
	const struct ynode *last_live = NULL;
	int ret = 0;

	for (size_t i = 0; i < c->count && !ret; i++) {
		const struct doc_entry *e = &c->entries[i];
		const struct ynode *er = entry_rec(p, e);

		if (!er) {
			if (e->removed)
				continue;
			/* new entries only at the end */
			ret = loaded_after(p, c, i) || entry_after_bracket_comment(p, c, cr)
				      ? RERENDER
				      : append_flow(p, c, cr, last_live, cut_at, i, line_indent);
			break;
		}
		if (e->removed) {
			ret = cut_flow_entry(p, er, last_live != NULL, live_after(c, i), &cut_at);
			continue;
		}
		/* new entries go after the last value, not after a comment
		 * (which runs to the end of its line, or follows the bracket) */
		if (e->value->kind != DOC_COMMENT) {
			cut_at = YNONE_POS;
			last_live = er;
		}
		if (ysyn_node(p->syn, e->value) != er || changed(p, er) || alias_stale(p, er))
			ret = patch_flow_entry(p, e, er, line_indent);
	}
	if (ret == RERENDER) {
		p->ed.n = n0;
		p->ed.pool.len = pool0;
	}
	return ret;
}

/* ---- block collections ---- */

static int patch_block(struct patcher *p, const struct doc_node *c, const struct ynode *cr);

static int patch_block_entry(struct patcher *p, const struct doc_node *c, const struct ynode *cr,
			     size_t i, const struct ynode *er)
{
	const struct doc_node *v = c->entries[i].value;
	size_t n0, pool0;
	int ret;

	if (ysyn_node(p->syn, v) != er || (er->flags & YN_ALIAS) ||
	    ((v->kind == DOC_MAP || v->kind == DOC_LIST) && reshaped(p, v, er)))
		return (er->flags & YN_ALIAS) && !alias_stale(p, er) && ysyn_node(p->syn, v) == er
			       ? 0 : write_value(p, c, cr, er, v, YAML_STYLE_ANY);
	if (v->kind == DOC_COMMENT) {
		if (!comment_token(p, er))
			/* a block list of comments alone would be a null */
			return c->kind == DOC_LIST && yfresh_holds_items(c) ? item_to_comment(p, er, v)
									    : RERENDER;
		return v->dirty ? replace_comment(p, er, v) : 0;
	}
	if (v->kind == DOC_SCALAR) {
		if (comment_token(p, er))
			return c->kind == DOC_LIST ? comment_to_item(p, c, cr, i, er) : RERENDER;
		return v->dirty ? write_value(p, c, cr, er, v, yfresh_style_of(er->style, false)) : 0;
	}
	/* a block collection left with no item would read as a null: "[]" */
	if (!(er->flags & YN_FLOW) && !yfresh_holds_items(v))
		return write_value(p, c, cr, er, v, YAML_STYLE_ANY);
	n0 = p->ed.n;
	pool0 = p->ed.pool.len;
	if (!tag_changed(v, er) || !(ret = retag(p, v, er, er->ind)))
		ret = (er->flags & YN_FLOW) ? patch_flow(p, v, er, cr->col + p->fresh.step) : patch_block(p, v, er);
	if (ret == RERENDER) {
		/* the new tag too is written with the value */
		p->ed.n = n0;
		p->ed.pool.len = pool0;
		ret = write_value(p, c, cr, er, v, YAML_STYLE_ANY);
	}
	return ret;
}

/* Returns RERENDER when the collection is to be written afresh. */
static int patch_block(struct patcher *p, const struct doc_node *c, const struct ynode *cr)
{
	size_t n0 = p->ed.n, pool0 = p->ed.pool.len;
	const struct ynode *prev = NULL; /* the loaded entry before that ends last */
	bool prev_cut = false, moved;
	int ret = 0;

	for (size_t i = 0; i < c->count && !ret; i++) {
		const struct doc_entry *e = &c->entries[i];
		const struct ynode *er = entry_rec(p, e);

		if (!er) {
			const struct ynode *owner = line_comment_target(p, c, i);
			size_t j = i;

			if (owner) {
				ret = put_line_comment(p, e->value, owner);
				continue;
			}
			while (j < c->count && !entry_rec(p, &c->entries[j]) && !line_comment_target(p, c, j))
				j++;
			ret = insert_block(p, c, cr, prev, prev_cut, i, j);
			i = j - 1;
			continue;
		}
		/* new entries go after everything before them in the tree, which
		 * is not always the entry just before (an empty value's comments
		 * come first in the tree, last in the text: fuzz_yaml); not after
		 * an end-of-line comment cut, which leaves its line (that of the
		 * value after it in the tree) */
		if ((!prev || ysyn_entry_last(er) > ysyn_entry_last(prev)) && !(e->removed && ends_a_line(p, er))) {
			prev = er;
			prev_cut = e->removed;
		}
		if (e->removed)
			ret = cut_block_entry(p, c, cr, i, er);
		else if (p->state[rec_index(p, er)] & ST_MOVED)
			continue;
		else if (e->value->kind == DOC_COMMENT && ((ret = keep_comment_before(p, c, cr, i, er, &moved)) || moved))
			continue;
		else if (ysyn_node(p->syn, e->value) != er || changed(p, er) || alias_stale(p, er))
			ret = patch_block_entry(p, c, cr, i, er);
	}
	if (ret == RERENDER) {
		p->ed.n = n0;
		p->ed.pool.len = pool0;
	}
	return ret;
}

/* ---- documents ---- */

/* Whether a comment of the root's own entries sits before the text that
 * a rewrite replaces: written again inside it, it would be there twice
 * (fuzz_yaml: "#" above "{(}", whose entry has no ':' to write after). */
static bool comment_before_root(const struct patcher *p, const struct doc_node *root,
				const struct ynode *r)
{
	for (size_t i = 0; i < root->count; i++) {
		const struct ynode *er = entry_rec(p, &root->entries[i]);

		if (root->entries[i].value->kind == DOC_COMMENT && er && er->first != YNONE &&
		    er->first < r->first)
			return true;
	}
	return false;
}

/* A document root that cannot be patched is written afresh in place
 * when it starts a line; else the whole file is. A block map left with no
 * entries would leave no document at all without its "---": "{}". */
static int rewrite_root(struct patcher *p, const struct doc_node *root, const struct ynode *r)
{
	size_t mark = p->ed.pool.len, start, end;
	int ret;

	p->fresh.block_end = 0;

	if (r->first == YNONE || r->last == YNONE || (r->flags & YN_EMPTY_ROOT) ||
	    !first_on_line(p, tstart(p, r->first)) || root->tag ||
	    (r->lead != YNONE && r->first < r->lead) || /* comments before its "---" */
	    comment_before_root(p, root, r) || ((r->flags & YN_FLOW) && entry_after_bracket_comment(p, root, r)))
		return RERENDER;
	/* a block root is written from column 0: the blanks before its first
	 * token (a property, as in " !\nm: 1") go with it */
	start = tstart(p, r->first);
	if (!(r->flags & YN_FLOW))
		start = ysrc_line_start(p->lx, start);
	/* the data in the file's own step, the metadata as sops writes it */
	p->fresh.meta_step = p->fresh.step;
	p->fresh.step = p->data_step;
	if (r->flags & YN_FLOW)
		ret = yfresh_flow(&p->fresh, root, p->fresh.step);
	else if (!yfresh_holds_items(root))
		ret = yfresh_document(&p->fresh, root);
	else
		ret = yfresh_block(&p->fresh, root, 0);
	p->fresh.step = p->fresh.meta_step;
	p->fresh.meta_step = 0;
	end = tend(p, r->last);
	touch(p, r);
	if (ret || (!(r->flags & YN_FLOW) && (ret = fit_tail(p, mark, end, &end))) ||
	    (ret = edit(p, start, end, mark)))
		return ret;
	/* what it wrote may end with a plain scalar, whatever the old text
	 * ended with (fuzz_yaml) */
	return r->flags & YN_FLOW ? 0 : clear_tab_lines_after(p, r->last);
}

/* Whether an alias left in the text names a node that changed or whose
 * anchor the edits took away (a collection written afresh drops the
 * anchors in it): the document is then written afresh, aliases expanded. */
static bool alias_left_stale(const struct patcher *p, const struct ynode *root)
{
	for (uint32_t i = rec_index(p, root); i < root->end_rec; i++)
		if (!(p->state[i] & ST_TOUCHED) && alias_stale(p, &p->syn->v[i]))
			return true;
	return false;
}

/* Whether a tag or anchor comes before the root's first entry, comments
 * or not between them: left with no entry after it, the document would
 * be a null, not a map (fuzz_yaml: "---", "!", "sops:" decrypted; and
 * "--- #", "!", "sops:", where the comment is the root's first token,
 * and comments before its "---" too). */
static bool root_properties(const struct patcher *p, const struct ynode *r)
{
	for (uint32_t t = r->first; t != YNONE && t <= r->last; t++) {
		if (tkind(p, t) == YT_TAG || tkind(p, t) == YT_ANCHOR)
			return true;
		if (tkind(p, t) != YT_COMMENT && tkind(p, t) != YT_DOC_START)
			return false;
	}
	return false;
}

static int patch_root(struct patcher *p, const struct doc_node *root)
{
	const struct ynode *r = ysyn_node(p->syn, root);
	size_t n0 = p->ed.n, pool0 = p->ed.pool.len;
	int ret;

	if (!r)
		return RERENDER;
	if (!changed(p, r))
		return 0;
	if ((r->flags & YN_EMPTY_ROOT) && r->first != YNONE)
		return RERENDER; /* properties on an empty document */
	if (r->flags & YN_FLOW)
		ret = patch_flow(p, root, r, p->fresh.step);
	else if (!yfresh_holds_items(root) &&
		 ((r->lead == YNONE && !(r->flags & YN_EMPTY_ROOT)) || root_properties(p, r)))
		ret = RERENDER;
	else if (!tag_changed(root, r) || !(ret = retag(p, root, r, r->lead)))
		ret = patch_block(p, root, r);
	if (!ret && alias_left_stale(p, r))
		ret = RERENDER;
	if (ret == RERENDER) {
		p->ed.n = n0;
		p->ed.pool.len = pool0;
		ret = rewrite_root(p, root, r);
	}
	return ret;
}

int yaml_patch(const struct doc *d, const struct yaml_syntax *syn, size_t step, struct gs_buf *out)
{
	struct patcher p;
	int ret = 0;

	if (!syn->trusted)
		return GS_FAIL(GS_ERR_GENERIC, "the layout of this YAML file cannot be kept");
	memset(&p, 0, sizeof(p));
	p.syn = syn;
	p.lx = &syn->lx;
	p.src = d->source.data;
	p.len = d->source.len;
	store_edits_init(&p.ed);
	p.ed.strict = true;
	p.fresh.out = &p.ed.pool;
	p.fresh.step = step;
	p.fresh.keep_positional = true;
	p.fresh.keep_new_flow = d->keep_new_flow;
	p.fresh.syn = syn;
	/* an indentation indicator is one digit (fuzz_yaml: "|10" does not
	 * load): past 9, blocks step in by 2 */
	p.data_step = syn->step ? syn->step : step;
	p.block_step = p.data_step;
	if (p.block_step > 9)
		p.block_step = 2;
	p.state = gs_calloc(syn->n + 1, 1);
	if (!p.state) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t b = 0; b < d->count; b++)
		mark_changes(&p, d->branches[b], 0);
	for (size_t b = 0; b < d->count && !ret; b++)
		ret = patch_root(&p, d->branches[b]);
	if (ret == RERENDER)
		ret = GS_FAIL(GS_ERR_GENERIC, "the layout of this YAML file cannot be kept");
	if (ret)
		goto out;
	ret = store_edits_apply(&p.ed, p.src, p.len, out);
out:
	free(p.state);
	store_edits_release(&p.ed);
	return ret;
}
