/* Symbolic links under the filter's pattern (status.c, check.c): git
 * stores a link's text and runs no filter on it, nor on the file it
 * points to unless that file is under the pattern itself. A pull request
 * can make `secrets/payments.yaml` a link to a tracked file outside the
 * pattern (`../config/payments-template.yaml`) or outside the repository:
 * what the victim types into the secrets file goes there in clear. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "gitseal/error.h"
#include "gitfilter_int.h"

/* dir (the link's directory, "" at the top) joined with target and
 * cleaned by its words, into out; false when it climbs above the top. */
static bool resolve(const char *dir, const char *target, size_t tlen, char *out, size_t size)
{
	char joined[PATH_MAX * 2];
	size_t o = 0;
	int n = snprintf(joined, sizeof(joined), "%s%s%.*s", dir, *dir ? "/" : "", (int)tlen, target);

	if (n < 0 || (size_t)n >= sizeof(joined) || size < 2)
		return false;
	for (const char *s = joined; *s;) {
		const char *e = strchr(s, '/');
		size_t w = e ? (size_t)(e - s) : strlen(s);

		if (w == 2 && s[0] == '.' && s[1] == '.') {
			if (!o)
				return false;
			while (o && out[o - 1] != '/')
				o--;
			if (o)
				o--;
		} else if (w && !(w == 1 && s[0] == '.')) {
			if (o + (o ? 1 : 0) + w + 1 > size)
				return false;
			if (o)
				out[o++] = '/';
			memcpy(out + o, s, w);
			o += w;
		}
		s += w + (e ? 1 : 0);
	}
	out[o] = '\0';
	return o > 0;
}

int gitfilter_link_where(struct gitfilter *f, const git_index_entry *e, char *target, size_t size,
			 enum gitfilter_link *where)
{
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
	    !resolve(dir, (const char *)text.data, text.len, target, size)) {
		/* absolute, or above the top */
		snprintf(target, size, "%.*s", (int)text.len, text.len ? (const char *)text.data : "");
		*where = GITFILTER_LINK_OUTSIDE;
	} else if (!gitrepo_filtered(f, target)) {
		*where = GITFILTER_LINK_UNSEALED;
	}
out:
	gs_buf_release(&text);
	return ret;
}
