/* Plaintext followed through a kustomize build. A build that decrypted
 * generator sources or patches, or ran KSOPS, hands kustomize plaintext,
 * and kustomize's own features (a JSON patch changing a generated Secret's
 * kind or copying a value into its annotations, replacements, vars) can
 * carry it into any field of any resource. render knows every value it
 * decrypted for the build; after the build each must lie only in the
 * values of a built core v1 Secret's data or stringData, which Argo CD
 * masks and etcd keeps as a Secret.
 *
 * The built documents are searched as render reads them: scalars decoded,
 * so YAML and JSON quoting, escapes and folding hide nothing; keys and
 * comments are searched too. Each value is looked for as it is and as its
 * base64, also wrapped over lines as kustomize writes long base64
 * (gitseal/secret_scan.h). Not seen: values shorter than
 * GS_SECRET_MIN_LEN, and a part of a value (replacements with delimiter
 * and index options copy one). */
#include <stdio.h>
#include <string.h>

#include "gitseal/secret_scan.h"
#include "k8s_int.h"

static bool is_v1_secret(const struct doc_node *root)
{
	const char *api = k8s_map_str(root, "apiVersion"), *kind = k8s_map_str(root, "kind");

	return api && kind && !strcmp(api, "v1") && !strcmp(kind, "Secret");
}

/* A top-level entry whose map holds a Secret's values. */
static bool values_entry(const struct doc_entry *e)
{
	return e->key && e->value->kind == DOC_MAP &&
	       ((e->key_len == 4 && !memcmp(e->key, "data", 4)) ||
		(e->key_len == 10 && !memcmp(e->key, "stringData", 10)));
}

int k8s_track_secret(struct gs_secret_set *s, const struct doc_node *root)
{
	int ret = 0;

	if (!root || root->kind != DOC_MAP || !is_v1_secret(root))
		return 0;
	for (size_t i = 0; !ret && i < root->count; i++) {
		const struct doc_node *values = root->entries[i].removed || !values_entry(&root->entries[i])
							? NULL : root->entries[i].value;

		for (size_t k = 0; values && !ret && k < values->count; k++) {
			const struct doc_entry *e = &values->entries[k];

			if (!e->removed && e->key && e->value->kind == DOC_SCALAR)
				ret = gs_secret_set_add(s, (const uint8_t *)e->value->text, e->value->len);
		}
	}
	return ret;
}

/* kustomize's env files (api/kv KeyValuesFromLine): lines split at '\n'
 * with a '\r' before it dropped, a byte order mark dropped from the first,
 * leading blanks trimmed, blank and '#' lines skipped, the value all that
 * follows the first '=' (quotes and trailing blanks kept). */
int k8s_track_env_lines(struct gs_secret_set *s, const char *text, size_t len)
{
	size_t at = len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;
	int ret = 0;

	while (!ret && at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len, stop = end;
		const char *eq;

		if (stop > at && text[stop - 1] == '\r')
			stop--;
		while (at < stop && strchr(" \t\v\f\r", text[at]))
			at++;
		eq = at < stop && text[at] != '#' ? memchr(text + at, '=', stop - at) : NULL;
		if (eq)
			ret = gs_secret_set_add(s, (const uint8_t *)eq + 1, (size_t)(text + stop - eq - 1));
		at = end + 1;
	}
	return ret;
}

struct track_walk {
	struct gs_secret_set *set;
	struct gs_buf path; /* "key:key:[2]:key", of keys searched already */
};

/* where: "'path'", "a key in 'path'" or "a comment in 'path'". */
static int search(struct track_walk *w, const char *text, size_t len, const char *in)
{
	bool found;
	int ret = gs_secret_set_find(w->set, text, len, &found);

	if (ret || !found)
		return ret;
	if (in && !w->path.len)
		return GS_FAIL(GS_ERR_CONFIG, "%s the resource's top level holds a value decrypted for "
					      "the build: only a v1 Secret's data and stringData may",
			       in);
	return GS_FAIL(GS_ERR_CONFIG, "%s%s'%.400s' holds a value decrypted for the build: only a v1 "
				      "Secret's data and stringData may",
		       in ? in : "", in ? " " : "", (const char *)w->path.data);
}

static int segment_push(struct gs_buf *path, const struct doc_entry *e, size_t pos)
{
	int ret = path->len ? gs_buf_append(path, ":", 1) : 0;

	if (ret)
		return ret;
	return e->key ? gs_buf_append(path, e->key, e->key_len) : gs_buf_printf(path, "[%zu]", pos);
}

static int walk(struct track_walk *w, const struct doc_node *n, bool secret, bool masked, int depth);

/* One entry of a map or list, its key searched before it names a path.
 * secret: the entry is at the top of a v1 Secret; masked: its value is
 * one of that Secret's values, where decrypted values belong. */
static int walk_entry(struct track_walk *w, const struct doc_entry *e, size_t pos, bool secret,
		      bool masked, int depth)
{
	size_t mark = w->path.len;
	int ret = 0;

	if (e->value->kind == DOC_COMMENT)
		return search(w, e->value->text, e->value->len, "a comment in");
	if (e->key && (ret = search(w, e->key, e->key_len, "a key in")))
		return ret;
	if ((ret = segment_push(&w->path, e, pos)))
		return ret;
	if (!masked || e->value->kind != DOC_SCALAR)
		ret = walk(w, e->value, false, secret && values_entry(e), depth + 1);
	w->path.len = mark;
	w->path.data[mark] = '\0';
	return ret;
}

static int walk(struct track_walk *w, const struct doc_node *n, bool secret, bool masked, int depth)
{
	int ret = 0;

	if (depth > K8S_MAX_DEPTH)
		return GS_FAIL(GS_ERR_LIMIT, "document nested too deeply");
	if (n->kind == DOC_SCALAR)
		return search(w, n->text, n->len, NULL);
	if (n->kind != DOC_MAP && n->kind != DOC_LIST)
		return 0;
	for (size_t i = 0, pos = 0; !ret && i < n->count; i++) {
		const struct doc_entry *e = &n->entries[i];

		if (e->removed)
			continue;
		ret = walk_entry(w, e, pos, secret, masked, depth);
		pos += e->value->kind != DOC_COMMENT;
	}
	return ret;
}

int k8s_track_check(struct gs_secret_set *s, const struct doc_node *root)
{
	struct track_walk w = { .set = s };
	int ret;

	if (!gs_secret_set_count(s))
		return 0;
	gs_buf_init(&w.path, false);
	ret = gs_buf_reserve(&w.path, 64);
	if (!ret)
		ret = walk(&w, root, root->kind == DOC_MAP && is_v1_secret(root), false, 0);
	gs_buf_release(&w.path);
	return ret;
}

bool k8s_track_holds(struct gs_secret_set *s, const char *text)
{
	bool found = false;

	/* a failed search withholds the text all the same */
	return text && (gs_secret_set_find(s, text, strlen(text), &found) || found);
}
