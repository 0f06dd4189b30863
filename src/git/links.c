/* Symbolic links under the filter's pattern (status.c, check.c): git
 * stores a link's text and runs no filter on it, nor on the file it
 * points to unless that file is under the pattern itself. A pull request
 * can make `secrets/payments.yaml` a link to a tracked file outside the
 * pattern (`../config/payments-template.yaml`) or outside the repository:
 * what the victim types into the secrets file goes there in clear. The
 * link's text is walked as the kernel walks it: a component that is
 * itself a link of the index is replaced by that link's text, or
 * `secrets/payments.yaml -> ../lib/up/../../secrets/x.yaml` with
 * `lib/up -> ../a/b/c` would read as a file under the pattern while the
 * kernel writes a/secrets/x.yaml. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitfilter_int.h"

enum { LINK_HOPS_MAX = 40 }; /* as the kernel's MAXSYMLINKS */

/* Appends word to the path out (o bytes long); false when it does not fit. */
static bool push_word(char *out, size_t size, size_t *o, const char *w, size_t n)
{
	if (*o + (*o ? 1 : 0) + n + 1 > size)
		return false;
	if (*o)
		out[(*o)++] = '/';
	memcpy(out + *o, w, n);
	*o += n;
	out[*o] = '\0';
	return true;
}

bool gitfilter_link_resolve(const char *dir, const char *target, size_t tlen, gitfilter_link_text_fn *link_text,
			    void *ctx, char *out, size_t size)
{
	char rest[PATH_MAX * 2], next[PATH_MAX * 2];
	struct gs_buf text;
	size_t o = 0, hops = 0;
	bool ok = false;
	int n = snprintf(rest, sizeof(rest), "%s%s%.*s", dir, *dir ? "/" : "", (int)tlen, target);

	if (n < 0 || (size_t)n >= sizeof(rest) || size < 2)
		return false;
	gs_buf_init(&text, false);
	out[0] = '\0';
	for (const char *s = rest; *s;) {
		const char *e = strchr(s, '/');
		size_t w = e ? (size_t)(e - s) : strlen(s), before = o;

		if (w == 2 && s[0] == '.' && s[1] == '.') {
			if (!o)
				goto out; /* above the top */
			while (o && out[o - 1] != '/')
				o--;
			if (o)
				o--;
			out[o] = '\0';
		} else if (w && !(w == 1 && s[0] == '.')) {
			if (!push_word(out, size, &o, s, w))
				goto out;
			gs_buf_reset(&text);
			if (link_text && link_text(ctx, out, &text)) {
				/* the kernel goes on from the link's directory with its text */
				if (++hops > LINK_HOPS_MAX || !text.len || text.data[0] == '/' ||
				    memchr(text.data, '\0', text.len))
					goto out;
				o = before;
				out[o] = '\0';
				n = snprintf(next, sizeof(next), "%.*s/%s", (int)text.len, (const char *)text.data,
					     e ? e + 1 : "");
				if (n < 0 || (size_t)n >= sizeof(next))
					goto out;
				memcpy(rest, next, (size_t)n + 1);
				s = rest;
				continue;
			}
		}
		s += w + (e ? 1 : 0);
	}
	ok = o > 0;
out:
	gs_buf_release(&text);
	return ok;
}

struct index_links {
	struct gitfilter *f;
	git_index *idx;
};

/* The text of the link of the index at path (stage 0), if there is one. */
static bool index_link_text(void *ctx, const char *path, struct gs_buf *text)
{
	const struct index_links *l = ctx;
	const git_index_entry *e = git_index_get_bypath(l->idx, path, 0);

	return e && (e->mode & 0170000) == 0120000 && gitrepo_read_blob(l->f, &e->id, text) == 0;
}

int gitfilter_link_where(struct gitfilter *f, git_index *idx, const git_index_entry *e, char *target, size_t size,
			 enum gitfilter_link *where)
{
	struct index_links links = { f, idx };
	struct gs_buf text;
	char dir[PATH_MAX];
	const char *slash = strrchr(e->path, '/');
	int ret;

	*where = GITFILTER_LINK_SEALED;
	target[0] = '\0';
	if ((e->mode & 0170000) != 0120000 || !gitrepo_filtered(f, e->path))
		return 0;
	gs_buf_init(&text, false);
	if ((ret = gitrepo_read_blob(f, &e->id, &text)))
		goto out;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - e->path) : 0, e->path);
	if (!text.len || memchr(text.data, '\0', text.len) || text.data[0] == '/' ||
	    !gitfilter_link_resolve(dir, (const char *)text.data, text.len, index_link_text, &links, target, size)) {
		/* absolute, above the top, or through an absolute link */
		snprintf(target, size, "%.*s", (int)text.len, text.len ? (const char *)text.data : "");
		*where = GITFILTER_LINK_OUTSIDE;
	} else if (!gitrepo_filtered(f, target)) {
		*where = GITFILTER_LINK_UNSEALED;
	}
out:
	gs_buf_release(&text);
	return ret;
}
