/* A conflict, sealed. git stores the merge driver's output as a blob, and
 * puts it in the AUTO_MERGE tree, even when the merge conflicts: with the
 * markers in plaintext, every secret of the file would sit in .git/objects
 * and survive `git gc`. So the driver seals the marked text, and the smudge
 * filter shows it in the work tree. The sealed form is a sops JSON file of
 * one value, which any sops opens:
 *   {"gitseal_conflict": "ENC[AES256_GCM,...]", "sops": {...}} */
#include <string.h>

#include <sodium.h>

#include "gitseal/error.h"
#include "gitseal/store.h"
#include "gitfilter_int.h"

#define CONFLICT_KEY "gitseal_conflict"

/* git's default conflict-marker-size, which the merge driver writes */
enum { CONFLICT_MARKER_SIZE = 7 };

static const uint8_t *skip_blanks(const uint8_t *p, const uint8_t *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

bool gitseal_conflict_is(const uint8_t *data, size_t len)
{
	static const char key[] = "\"" CONFLICT_KEY "\"";
	const uint8_t *end = data + len, *p = skip_blanks(data, end);

	if (p == end || *p != '{')
		return false;
	p = skip_blanks(p + 1, end);
	return (size_t)(end - p) >= sizeof(key) - 1 && !memcmp(p, key, sizeof(key) - 1);
}

bool gitseal_conflict_marker_line(const uint8_t *line, size_t n, char c)
{
	size_t i = 0;

	while (i < n && i < CONFLICT_MARKER_SIZE && line[i] == (uint8_t)c)
		i++;
	if (i < CONFLICT_MARKER_SIZE)
		return false;
	if (c == '=')
		return n == i || (n == i + 1 && line[i] == '\n');
	return n == i || line[i] == ' ' || line[i] == '\n';
}

bool gitseal_conflict_marked(const uint8_t *text, size_t len)
{
	static const char order[] = "<=>";
	size_t next = 0;

	for (const uint8_t *p = text, *end = text + len; p < end && next < sizeof(order) - 1;) {
		const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol + 1 - p) : (size_t)(end - p);

		if (gitseal_conflict_marker_line(p, n, order[next]))
			next++;
		p += n;
	}
	return next == sizeof(order) - 1;
}

bool gitseal_conflict_same(struct gitfilter *f, const struct gs_buf *sealed, const uint8_t *text, size_t len)
{
	struct gs_buf marked;
	bool same;

	/* the sealed bytes themselves: a clone without the key shows them */
	if (sealed->len == len && !memcmp(sealed->data, text, len))
		return true;
	/* sealed here from these bytes, by a clone that cannot open it */
	if (gittrust_sealed_here(f, sealed, text, len))
		return true;
	gs_buf_init(&marked, true);
	same = gitseal_conflict_open(f, sealed->data, sealed->len, &marked) == 0 && marked.len == len &&
	       !sodium_memcmp(marked.data, text, len);
	gs_error_clear();
	gs_buf_release(&marked);
	return same;
}

/* Whether the sealed version in blob (of format) is for the same key
 * groups as the sealed conflict. */
static bool same_groups(enum doc_format format, const struct gs_buf *blob, const struct gs_buf *sealed)
{
	struct sops_key_summary a, b;
	struct doc da, db;
	bool same = false;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (gitseal_load_sealed(format, blob->data, blob->len, &da) == 1 &&
	    gitseal_load_sealed(DOC_FORMAT_JSON, sealed->data, sealed->len, &db) == 1 && !sops_doc_keys(&da, &a) &&
	    !sops_doc_keys(&db, &b))
		same = gitseal_keys_equal_groups(&a, &b);
	gs_error_clear();
	sops_key_summary_release(&a);
	sops_key_summary_release(&b);
	doc_release(&da);
	doc_release(&db);
	return same;
}

int gitseal_conflict_behind(struct gitfilter *f, const char *path, const struct gs_buf *sealed, struct gs_buf *out,
			    bool *found)
{
	int ret = gitrepo_head_blob(f, path, out, found);

	if (!ret && *found && !same_groups(store_format_for_path(path), out, sealed)) {
		gs_buf_reset(out);
		*found = false;
	}
	return ret;
}

int gitseal_conflict_seal(struct gitfilter *f, const char *path, const struct sops_key_summary *keys,
			  const struct gs_buf *marked, struct gs_buf *out)
{
	struct sops_key_summary all = *keys;
	struct doc d;
	struct doc_node *root, *text;
	int ret;

	/* the one value is sealed whatever the file's rule leaves in clear */
	memset(&all.selection, 0, sizeof(all.selection));
	doc_init(&d, DOC_FORMAT_JSON);
	root = doc_new_map(&d);
	text = doc_new_scalar(&d, DOC_STR, (const char *)marked->data, marked->len);
	if (!root || !text || !doc_append(&d, root, CONFLICT_KEY, strlen(CONFLICT_KEY), text)) {
		ret = GS_FAIL(GS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((ret = doc_add_branch(&d, root)))
		goto out;
	ret = gitseal_seal(f, path, &d, &all, NULL, GITSEAL_KEY_FRESH, out);
out:
	doc_release(&d);
	return ret;
}

int gitseal_conflict_open(struct gitfilter *f, const uint8_t *data, size_t len, struct gs_buf *marked)
{
	struct doc d, p;
	const struct doc_entry *e = NULL;
	uint8_t id[GITSEAL_KEY_ID_SIZE];
	int ret;

	doc_init(&p, DOC_FORMAT_JSON);
	if ((ret = gitseal_load_sealed(DOC_FORMAT_JSON, data, len, &d)) <= 0)
		return ret ? ret : GS_FAIL(GS_ERR_PARSE, "a damaged conflict: not a sops file");
	if ((ret = gitseal_open_doc(f, &d, &p, id)))
		goto out;
	if (!p.count || !(e = doc_map_find(p.branches[0], CONFLICT_KEY)) || e->value->kind != DOC_SCALAR ||
	    e->value->type != DOC_STR) {
		ret = GS_FAIL(GS_ERR_PARSE, "a damaged conflict: no " CONFLICT_KEY " value");
		goto out;
	}
	ret = gs_buf_append(marked, e->value->text, e->value->len);
out:
	doc_release(&d);
	doc_release(&p);
	return ret;
}
